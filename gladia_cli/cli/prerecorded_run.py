"""Pre-recorded transcription from the command line: one input to stdout, or many to files, with progress on stderr.

`Client` talks to Gladia and `batch` schedules; this module decides what the person sees.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from gladia_cli.cli.jobs import write_output
from gladia_cli.cli.prerecorded_request import PrerecordedRequest
from gladia_cli.client import Client
from gladia_cli.console.live_view import BatchProgress, JobProgress
from gladia_cli.console.terminal import error, is_tty, notice, stderr_console
from gladia_cli.errors import Aborted, ExitCode, GladiaError
from gladia_cli.output import job_json
from gladia_cli.output import transcript as formats
from gladia_cli.output.output_format import OutputFormat
from gladia_cli.settings import Settings


def run_request(request: PrerecordedRequest, load_settings: Callable[[], Settings]) -> int:
    """Load the key (every flag and input is checked by now), run, and return the exit code."""
    settings = load_settings()
    if request.single:
        return transcribe_one(
            settings,
            request.inputs[0],
            request.body,
            request.output,
            output_file=request.output_file,
            verbose=request.verbose,
        )
    return transcribe_many(
        settings,
        list(request.inputs),
        request.body,
        request.output,
        output_dir=request.output_dir,
        jobs=request.jobs,
        force=request.force,
        verbose=request.verbose,
    )


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
    created_id: list[str] = []
    name = source if len(source) < 60 else "…" + source[-57:]
    with Client(settings=settings) as client, JobProgress(name, verbose=verbose) as status:
        try:
            job = client.transcribe(
                source,
                body=body,
                on_upload=status.upload,
                on_created=lambda created: created_id.append(created["id"]),
                on_progress=status.update,
            ).job
        except KeyboardInterrupt:
            if created_id:
                raise Aborted(
                    "aborted", hint=f"the job goes on: `gladia result {created_id[0]} --wait` fetches it"
                ) from None
            raise
    write_output(formats.render_chunks(job, fmt, pretty=is_tty(sys.stdout) and output_file is None), output_file)
    for line in job_json.addon_errors(job):
        notice(line)
    if job.get("id"):  # as a live session ends: the id, to fetch it again in another format
        notice(f"job {job['id']}: `gladia result {job['id']}` fetches it again")
    return 0


def transcribe_many(
    settings: Settings,
    sources: list[str],
    body: dict[str, Any],
    fmt: str,
    *,
    output_dir: Path | None,
    jobs: int,
    force: bool,
    verbose: bool = False,
) -> int:
    """Run the batch with a status line of what runs; a summary table on stderr; exit 0 only when nothing failed."""
    from gladia_cli.batch import BATCH_MAX_ATTEMPTS, BatchResult, run_batch, write_text_atomic

    local = threading.local()
    clients: list[Client] = []
    clients_lock = threading.Lock()
    cancel = threading.Event()
    progress = BatchProgress(len(sources), verbose=verbose)

    def client() -> Client:
        # requests sessions are not guaranteed thread-safe: one client per worker thread.
        if not hasattr(local, "client"):
            local.client = Client(settings=settings, max_attempts=BATCH_MAX_ATTEMPTS)
            with clients_lock:
                clients.append(local.client)
        return local.client

    created: list[tuple[str, str]] = []  # (input, job id), so an interrupted batch can say where its jobs are
    started: set[str] = set()

    def one(source: str) -> dict[str, Any]:
        if cancel.is_set():
            raise GladiaError("cancelled")
        with clients_lock:
            started.add(source)
        progress.running(source, "starting")

        def remember(job: dict[str, Any]) -> None:
            with clients_lock:
                created.append((source, str(job.get("id"))))
            progress.running(source, "created")

        def uploading(sent: int, total: int) -> None:
            percent = sent * 100 // max(total, 1)
            progress.running(source, f"uploading {percent}%", step=f"uploading {percent // 25}")

        def polled(job: dict[str, Any]) -> None:
            if cancel.is_set():
                raise GladiaError("cancelled")
            progress.running(source, str(job.get("status", "waiting")))

        return client().transcribe(source, body=body, on_created=remember, on_upload=uploading, on_progress=polled).job

    def write(source: str, job: dict[str, Any], path: Path) -> None:
        write_text_atomic(path, formats.render(job, fmt, pretty=True))
        for line in job_json.addon_errors(job):
            notice(f"{source}: {line}")

    finished: list[BatchResult] = []

    def report(result: BatchResult) -> None:
        finished.append(result)
        progress.finished(result.input)
        mark = {"ok": "ok", "skipped": "skipped", "failed": "FAILED"}[result.status]
        detail = f" -> {result.output}" if result.status == "ok" else f" ({result.reason})"
        notice(f"{mark} {result.input}{detail}")  # sys.stderr now: above the status line while it is drawn

    try:
        with progress:
            results = run_batch(
                sources,
                jobs=jobs,
                output_dir=output_dir,
                fmt_ext=OutputFormat(fmt).extension,
                force=force,
                transcribe_one=one,
                write_output=write,
                on_result=report,
                cancel=cancel,
            )
    except KeyboardInterrupt:
        # Worker threads may sit in an upload or a poll for minutes, and the interpreter would wait for them at
        # exit: report what is known, say where the running jobs are and what never started, and leave now.
        err = sys.stderr
        if finished:
            _summary(finished, err)
        done = {r.input for r in finished}
        with clients_lock:
            jobs_made, began = list(created), set(started)
        for source, job_id in jobs_made:
            if source not in done:
                notice(f"{source} is still being transcribed: `gladia result {job_id} --wait`", err)
        never = [s for s in dict.fromkeys(sources) if s not in done and s not in began]
        if never:
            notice(f"not started ({len(never)}): {', '.join(never)}", err)
        error("aborted", err)
        sys.stdout.flush()
        os._exit(int(ExitCode.ABORTED))
    finally:
        for each in clients:
            each.close()
    _summary(results, sys.stderr)
    failed = sum(r.status == "failed" for r in results)
    return int(ExitCode.BATCH_FAILED) if failed else 0


def _summary(results: list[Any], err: IO[str]) -> None:
    counts = {s: sum(r.status == s for r in results) for s in ("ok", "skipped", "failed")}
    if is_tty(err):
        from rich.table import Table

        table = Table(title="gladia transcribe", title_justify="left")
        for column in ("input", "result", "output / reason"):
            table.add_column(column)
        from rich.text import Text

        from gladia_cli.console.terminal import plain_text

        style = {"ok": "green", "skipped": "dim", "failed": "red"}
        for r in results:
            detail = str(r.output) if r.status == "ok" else r.reason
            # File names and Gladia's reasons are outside text: never markup, never a control sequence.
            table.add_row(plain_text(r.input), Text(r.status, style=style[r.status]), plain_text(detail))
        stderr_console().print(table)
    notice(f"{counts['ok']} ok, {counts['skipped']} skipped, {counts['failed']} failed", err)
