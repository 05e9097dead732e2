"""Jobs already on Gladia, live sessions and pre-recorded jobs alike: fetch a result, list, delete, download the audio,
and write a finished job's output (which `transcribe` shares).

Each entry takes `load_settings` and calls it once the flags are checked, so a bad flag is reported before a missing
key and nothing reaches the network for a command that cannot succeed.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from gladia_cli.api import SESSION_ID
from gladia_cli.client import Client
from gladia_cli.console.terminal import is_tty, notice
from gladia_cli.errors import Aborted, ApiError, UsageError
from gladia_cli.jobs import ListFilters
from gladia_cli.output import job_json
from gladia_cli.output import transcript as formats
from gladia_cli.output.output_format import OutputFormat
from gladia_cli.settings import Settings

LoadSettings = Callable[[], Settings]


# --- flags every job command shares ---------------------------------------------------------------------------------


def check_job_id(value: str) -> str:
    """Gladia's ids are UUIDs; anything else that could change the path (`..`, `/`, `?`, `%2e`) never reaches a URL:
    `delete ..` once sent DELETE /v2/ and said it was deleted."""
    job_id = value.strip()
    if SESSION_ID.fullmatch(job_id) is None:
        raise UsageError(f"invalid job id {value!r}", hint="`gladia list` shows recent ids")
    return job_id


def check_output_file(path: Path, *, force: bool = False, flag: str = "--output-file") -> None:
    """Before any upload or session: an output that cannot be written must not cost a transcription, and an existing
    file is never overwritten unasked (the one rule of every output: --force overwrites)."""
    from gladia_cli.output.files import write_problem

    problem = write_problem(path)
    if problem:
        hints = {"directory not found": "create it first", "it is a directory": "give a file name"}
        hint = next((h for start, h in hints.items() if problem.startswith(start)), None)
        raise UsageError(f"cannot write {flag} {path}: {problem}", hint=hint)
    refuse_existing(path, force=force, flag=flag)


def refuse_existing(path: Path, *, force: bool, flag: str) -> None:
    """An existing regular file is refused unless --force (a FIFO or /dev/null is written through, not replaced)."""
    if not force and path.is_file():
        raise UsageError(f"{flag} {path} already exists", hint="add --force to overwrite it, or choose another name")


def write_output(text: str | Iterable[str], output_file: Path | None) -> None:
    """stdout, or the whole text written atomically to `output_file` (never a half-written transcript). Pieces
    (`formats.render_chunks`) are written as they come: a large result is never held whole twice."""
    from gladia_cli.console.terminal import shown
    from gladia_cli.safe_text import redact

    chunks = [text] if isinstance(text, str) else text
    if output_file is None:
        for chunk in chunks:
            sys.stdout.write(shown(chunk, sys.stdout))
        sys.stdout.flush()
        return
    from gladia_cli.output.files import write_chunks

    try:
        write_chunks(output_file, (redact(chunk) for chunk in chunks))
    except OSError as exc:
        raise UsageError(f"cannot write {output_file}: {exc.strerror or exc}") from None


# --- gladia result --------------------------------------------------------------------------------------------------


def show_result(
    job_ids: list[str],
    fmt: str,
    *,
    wait: bool,
    output_file: Path | None,
    load_settings: LoadSettings,
    channel_names: list[str] | None = None,
    force: bool = False,
) -> None:
    """`gladia result ID...`: the job in `fmt`, to stdout or `output_file`; the sessions of one recording (a live
    recording longer than Gladia's session limit) joined on one clock."""
    ids = [check_job_id(job_id) for job_id in job_ids]
    twice = next((job_id for k, job_id in enumerate(ids) if job_id in ids[:k]), None)
    if twice is not None:
        raise UsageError(f"{twice} is given twice", hint="give each session of the recording once, in order")
    if output_file is not None:
        check_output_file(output_file, force=force)
    settings = load_settings()
    jobs = [fetch_any(settings, job_id, wait=wait) for job_id in ids]
    if len(jobs) > 1 and any(job.get("kind") not in (None, "live") for job in jobs):
        raise UsageError("only live sessions are joined", hint="give one pre-recorded job id at a time")
    job, job_id = job_json.chained_jobs(jobs), ids[0]
    pretty = is_tty(sys.stdout) and output_file is None
    write_output(result_text(job, job_id, fmt, pretty=pretty, channel_names=channel_names), output_file)
    for line in job_json.addon_errors(job):
        notice(line)


def result_text(
    job: dict[str, Any], job_id: str, fmt: str, *, pretty: bool, channel_names: list[str] | None = None
) -> Iterator[str]:
    """The job rendered in `fmt`, in pieces; json-full shows any job as it is, the other formats need a transcript
    (checked here, before the first piece)."""
    fmt = OutputFormat(fmt)
    status = job.get("status")
    if not fmt.api_object and status == "error":
        raise ApiError(
            f"job {job_id} failed on Gladia's side (error code {job.get('error_code')})",
            hint=f"`gladia result {job_id} --json` shows the whole job",
        )
    if not fmt.api_object and status != "done":
        if not formats.transcript_lines(job):
            # Nothing to show yet (a queued job): an empty file and exit 0 would look like a silent recording.
            raise ApiError(f"job {job_id} is {status}: no transcript yet", hint=f"`gladia result {job_id} --wait`")
        notice(f"job {job_id} is {status}; the transcript may be incomplete (use --wait)")
    return formats.render_chunks(job, fmt, pretty=pretty, channel_names=channel_names)


def fetch_any(
    settings: Settings, job_id: str, *, wait: bool, on_poll: Callable[[dict[str, Any]], None] | None = None
) -> dict[str, Any]:
    """A live or a pre-recorded job; with `wait`, until it is done."""
    from gladia_cli.console.live_view import JobProgress

    with Client(settings=settings) as client:
        if not wait:
            return client.result(job_id).job
        with JobProgress(f"job {job_id}") as status:
            return client.result(job_id, wait=True, on_progress=status.update).job


# --- gladia list ----------------------------------------------------------------------------------------------------


def recent(
    kind: str | None, limit: int, load_settings: LoadSettings, filters: ListFilters | None = None
) -> list[dict[str, Any]]:
    """`gladia list`: the newest `limit` jobs, of one `kind` or both, kept by `filters`."""
    if limit < 1:
        raise UsageError(f"--limit must be at least 1, got {limit}")
    return list_recent(load_settings(), kind, limit, filters)


def list_recent(
    settings: Settings, kind: str | None, limit: int, filters: ListFilters | None = None
) -> list[dict[str, Any]]:
    f = filters or ListFilters()
    with Client(settings=settings) as client:
        found = client.jobs(
            kind, limit, status=list(f.statuses), since=f.after, before=f.before, metadata=dict(f.metadata)
        )
        return [job.job for job in found]


def _date(value: str | None, flag: str) -> datetime | None:
    """A day (YYYY-MM-DD: its local midnight) or a time (ISO 8601; local unless it says its zone)."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"{flag} takes a date or a time, got {value!r}", hint=f"e.g. {flag} 2026-12-01") from None
    return moment.astimezone() if moment.tzinfo is None else moment


def list_filters(statuses: list[str], since: str | None, before: str | None, metadata: list[str] | None) -> ListFilters:
    from gladia_cli.body import parse_pairs

    after, until = _date(since, "--since"), _date(before, "--before")
    if after is not None and until is not None and after >= until:
        raise UsageError("--since must come before --before")
    pairs = parse_pairs(metadata, "--metadata", "--metadata call=42")
    return ListFilters(tuple(statuses), after, until, tuple(pairs.items()))


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


JOB_COLUMNS = ("id", "kind", "status", "created", "duration", "file")


def job_row(job: dict[str, Any]) -> tuple[str, str, str, str, str, str]:
    """id, kind, status, created (local time, to the second), duration, file: one line of `gladia list` (the
    file last, so scripts that cut the first columns keep working)."""
    created = local_time(job.get("created_at"))
    duration = None
    file = job.get("file")
    if isinstance(file, dict):
        duration = file.get("audio_duration")
    result = job.get("result")
    if duration is None and isinstance(result, dict) and isinstance(result.get("metadata"), dict):
        duration = result["metadata"].get("audio_duration")
    shown = f"{duration:.1f} s" if isinstance(duration, (int, float)) else "-"
    status = str(job.get("status", ""))
    return (str(job.get("id", "")), str(job.get("kind", "")), status, created, shown, job_file_name(job))


def job_file_name(job: dict[str, Any]) -> str:
    """What was transcribed, as a person recognises it: the uploaded file's name, else the URL's last part."""
    file = job.get("file")
    name = file.get("filename") if isinstance(file, dict) else None
    if not isinstance(name, str) or not name:
        params = job.get("request_params")
        url = params.get("audio_url") if isinstance(params, dict) else None
        if isinstance(url, str) and url and "/v2/upload" not in url:  # Gladia's own upload URL names nothing
            name = url.rstrip("/").rsplit("/", 1)[-1] or url
    return name if isinstance(name, str) and name else "-"


# --- gladia delete --------------------------------------------------------------------------------------------------


def delete(job_id: str, *, confirm: Callable[[str], bool] | None, load_settings: LoadSettings) -> None:
    """`gladia delete ID`: asks `confirm` first unless it is None (--yes); a question needs a person to answer it."""
    job_id = check_job_id(job_id)
    settings = load_settings()
    if confirm is not None:
        if not (sys.stdin is not None and sys.stdin.isatty()):
            raise UsageError("refusing to delete without confirmation", hint="add --yes")
        if not confirm(f"Delete job {job_id} and all its data?"):
            raise Aborted(f"job {job_id} not deleted (the confirmation was declined)")
    kind = delete_job(settings, job_id)
    notice(f"deleted {kind} job {job_id}")


def delete_job(settings: Settings, job_id: str) -> str:
    """Find the job's kind, then delete it; returns the kind."""
    with Client(settings=settings) as client:
        return client.delete(job_id)


# --- gladia audio ---------------------------------------------------------------------------------------------------


def save_audio(job_id: str, output_path: Path, *, force: bool, load_settings: LoadSettings) -> None:
    """`gladia audio ID -O PATH`; `-O -` is stdout (`gladia audio ID -O - | ffplay -`), never a terminal."""
    job_id = check_job_id(job_id)
    to_stdout = output_path == Path("-")
    if to_stdout:
        if is_tty(sys.stdout):
            raise UsageError("refusing to write audio to the terminal", hint="redirect it: -O - > file.wav")
        output_path = Path(f"/dev/fd/{sys.stdout.fileno()}")  # written through our own descriptor (outfile)
    if not to_stdout:
        refuse_existing(output_path, force=force, flag="--output-file")
    settings = load_settings()
    size = download_audio(settings, job_id, output_path)
    notice(f"saved {size / 1e6:.1f} MB to {'stdout' if to_stdout else output_path}")


def download_audio(settings: Settings, job_id: str, dest: Path) -> int:
    with Client(settings=settings) as client:
        return client.download_audio(job_id, dest)
