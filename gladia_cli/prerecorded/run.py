"""Pre-recorded transcription from the command line: one input to stdout, or many to files, with progress on stderr.

The `prerecorded` module talks to Gladia and `batch` schedules; this module decides what the person sees.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from gladia_cli import formats
from gladia_cli.errors import Aborted, ExitCode, GladiaError, UsageError
from gladia_cli.render import JobProgress
from gladia_cli.settings import Settings
from gladia_cli.terminal import is_tty, stderr_console

EXTENSIONS = {"text": "txt", "json": "json", "json-full": "json", "srt": "srt", "vtt": "vtt"}


def _client(settings: Settings, max_attempts: int = 4) -> Any:
    from gladia_cli.api import GladiaApi
    from gladia_cli.prerecorded.client import PreRecordedClient

    return PreRecordedClient(GladiaApi(settings, max_attempts=max_attempts))


def transcribe_one(
    settings: Settings,
    source: str,
    body: dict[str, Any],
    fmt: str,
    *,
    output_file: Path | None = None,
    verbose: bool = False,
) -> int:
    """Upload (unless a URL), create, poll with a spinner, print the transcript in `fmt`."""
    client = _client(settings)
    created_id: list[str] = []
    name = source if len(source) < 60 else "…" + source[-57:]
    try:
        with JobProgress(name, verbose=verbose) as status:
            try:
                job = client.transcribe(
                    source,
                    body,
                    on_upload_progress=status.upload,
                    on_created=lambda created: created_id.append(created["id"]),
                    on_poll=status.update,
                )
            except KeyboardInterrupt:
                if created_id:
                    raise Aborted(
                        "aborted", hint=f"the job goes on: `gladia result {created_id[0]} --wait` fetches it"
                    ) from None
                raise
    finally:
        client.api.close()
    text = formats.render(job, fmt, pretty=is_tty(sys.stdout) and output_file is None)
    write_output(text, output_file)
    return 0


def write_output(text: str, output_file: Path | None) -> None:
    """stdout, or the whole text written atomically to `output_file` (never a half-written transcript)."""
    if output_file is None:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    from gladia_cli.prerecorded.batch import write_text_atomic

    try:
        write_text_atomic(output_file, text)
    except OSError as exc:
        raise UsageError(f"cannot write {output_file}: {exc.strerror or exc}") from None


def transcribe_many(
    settings: Settings,
    sources: list[str],
    body: dict[str, Any],
    fmt: str,
    *,
    output_dir: Path | None,
    jobs: int,
    force: bool,
) -> int:
    """Run the batch; a summary table on stderr; exit 0 only when nothing failed."""
    from gladia_cli.prerecorded.batch import BATCH_MAX_ATTEMPTS, BatchResult, run_batch, write_text_atomic

    local = threading.local()
    clients: list[Any] = []
    clients_lock = threading.Lock()
    cancel = threading.Event()

    def client() -> Any:
        # requests sessions are not guaranteed thread-safe: one client per worker thread.
        if not hasattr(local, "client"):
            local.client = _client(settings, BATCH_MAX_ATTEMPTS)
            with clients_lock:
                clients.append(local.client)
        return local.client

    def on_poll(job: dict[str, Any]) -> None:
        if cancel.is_set():
            raise GladiaError("cancelled")

    created: list[tuple[str, str]] = []  # (input, job id), so an interrupted batch can say where its jobs are

    def one(source: str) -> dict[str, Any]:
        if cancel.is_set():
            raise GladiaError("cancelled")

        def remember(job: dict[str, Any]) -> None:
            with clients_lock:
                created.append((source, str(job.get("id"))))

        job: dict[str, Any] = client().transcribe(source, body, on_created=remember, on_poll=on_poll)
        return job

    def write(source: str, job: dict[str, Any], path: Path) -> None:
        write_text_atomic(path, formats.render(job, fmt, pretty=True))

    err = sys.stderr

    finished: list[BatchResult] = []

    def report(result: BatchResult) -> None:
        finished.append(result)
        mark = {"ok": "ok", "skipped": "skipped", "failed": "FAILED"}[result.status]
        detail = f" -> {result.output}" if result.status == "ok" else f" ({result.reason})"
        err.write(f"gladia: {mark} {result.input}{detail}\n")
        err.flush()

    try:
        results = run_batch(
            sources,
            jobs=jobs,
            output_dir=output_dir,
            fmt_ext=EXTENSIONS[fmt],
            force=force,
            transcribe_one=one,
            write_output=write,
            on_result=report,
            cancel=cancel,
        )
    except KeyboardInterrupt:
        # Worker threads may sit in an upload or a poll for minutes, and the interpreter would wait for them at
        # exit: report what is known, say where the running jobs are, and leave now.
        _summary(finished, err)
        done = {r.input for r in finished}
        for source, job_id in created:
            if source not in done:
                err.write(f"gladia: {source} is still being transcribed: `gladia result {job_id} --wait`\n")
        err.write("gladia: error: aborted\n")
        err.flush()
        sys.stdout.flush()
        os._exit(int(ExitCode.ABORTED))
    finally:
        for each in clients:
            each.api.close()
    _summary(results, err)
    failed = sum(r.status == "failed" for r in results)
    return int(ExitCode.BATCH_FAILED) if failed else 0


def _summary(results: list[Any], err: IO[str]) -> None:
    counts = {s: sum(r.status == s for r in results) for s in ("ok", "skipped", "failed")}
    if is_tty(err):
        from rich.table import Table

        table = Table(title="gladia transcribe", title_justify="left")
        for column in ("input", "result", "output / reason"):
            table.add_column(column)
        style = {"ok": "green", "skipped": "dim", "failed": "red"}
        for r in results:
            table.add_row(r.input, f"[{style[r.status]}]{r.status}[/]", str(r.output) if r.status == "ok" else r.reason)
        stderr_console().print(table)
    err.write(f"gladia: {counts['ok']} ok, {counts['skipped']} skipped, {counts['failed']} failed\n")
    err.flush()


def fetch_any(
    settings: Settings, job_id: str, *, wait: bool, on_poll: Callable[[dict[str, Any]], None] | None = None
) -> dict[str, Any]:
    """`gladia result ID`: a live or a pre-recorded job; with `wait`, until it is done."""
    client = _client(settings)
    try:
        job: dict[str, Any] = client.get_any(job_id)
        if not wait or job.get("status") in ("done", "error"):
            return job
        with JobProgress(f"job {job_id}") as status:
            if job.get("kind") == "live":
                return client.api.wait_live(job_id, on_poll=status.update)
            return client.wait(job_id, on_poll=status.update)
    finally:
        client.api.close()


def list_recent(settings: Settings, kind: str | None, limit: int) -> list[dict[str, Any]]:
    client = _client(settings)
    try:
        jobs: list[dict[str, Any]] = client.list(kind, limit)
        return jobs
    finally:
        client.api.close()


def delete_job(settings: Settings, job_id: str) -> str:
    """Find the job's kind, then delete it; returns the kind."""
    client = _client(settings)
    try:
        kind = str(client.get_any(job_id).get("kind") or "pre-recorded")
        client.delete(job_id, kind)
        return kind
    finally:
        client.api.close()


def download_audio(settings: Settings, job_id: str, dest: Path) -> int:
    client = _client(settings)
    try:
        size: int = client.download_audio(job_id, None, dest)
        return size
    finally:
        client.api.close()


def local_time(iso: Any) -> str:
    """An API timestamp (ISO 8601, UTC) in the user's time zone, as people read clocks; unparseable: as given."""
    from datetime import datetime, timezone

    text = str(iso or "")
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text[:19].replace("T", " ")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def job_row(job: dict[str, Any]) -> tuple[str, str, str, str, str]:
    """id, kind, status, created (local time, to the second), duration: one line of `gladia list`."""
    created = local_time(job.get("created_at"))
    duration = None
    file = job.get("file")
    if isinstance(file, dict):
        duration = file.get("audio_duration")
    result = job.get("result")
    if duration is None and isinstance(result, dict) and isinstance(result.get("metadata"), dict):
        duration = result["metadata"].get("audio_duration")
    shown = f"{duration:.1f} s" if isinstance(duration, (int, float)) else "-"
    return (str(job.get("id", "")), str(job.get("kind", "")), str(job.get("status", "")), created, shown)
