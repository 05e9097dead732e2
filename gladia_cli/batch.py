"""Many files (or URLs) at once: N concurrent jobs, deterministic output names, skip what is done, no fail-fast.

Library only: the CLI owns printing (through `on_result`) and what a transcript file looks like (`write_output`).
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import unquote, urlsplit

from gladia_cli.body import is_url
from gladia_cli.errors import GladiaError, UsageError
from gladia_cli.output import files as outfile

# A batch makes 2 POSTs per input, N at a time: enough attempts that a burst of 429s is waited out, not fatal.
# Build the batch's client with it: GladiaApi(settings, max_attempts=BATCH_MAX_ATTEMPTS).
BATCH_MAX_ATTEMPTS = 10
MAX_STEM = 100
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class BatchResult(NamedTuple):
    input: str
    status: str  # "ok" | "skipped" | "failed"
    reason: str | None  # why it was skipped or failed; None when ok
    output: Path | None  # where the transcript is (or would have been)


def _safe(text: str) -> str:
    return _UNSAFE.sub("_", text).strip("._-")[:MAX_STEM]


def output_stem(source: str) -> str:
    """The file name stem for an input: the file's stem, or for a URL a safe name from its path.

    A URL with a query (YouTube's watch?v=…, signed links) gets a short hash of the whole URL, so two such links
    do not both become `watch`.
    """
    if not is_url(source):
        return Path(source).stem or "audio"
    parts = urlsplit(source)
    last = unquote(parts.path.rstrip("/").rsplit("/", 1)[-1])
    stem = _safe(Path(last).stem if last else "") or _safe(parts.hostname or "") or "audio"
    if parts.query:
        stem = f"{stem[: MAX_STEM - 9]}-{hashlib.sha256(source.encode()).hexdigest()[:8]}"
    return stem


def plan_outputs(inputs: list[str], output_dir: Path | None, ext: str) -> list[Path]:
    """One output path per input, decided from the input list alone (not from what exists on disk).

    So re-running the same batch maps every input to the same file, and skip-existing works. Clashing names get
    `-2`, `-3`… in input order (a/x.wav -> x.txt, b/x.wav -> x-2.txt), compared case-insensitively for macOS and
    Windows; an output never lands on one of the inputs. `output_dir=None`: next to a file, in the cwd for a URL.
    """
    ext = ext.lstrip(".")
    taken = {os.path.abspath(s).casefold() for s in inputs if not is_url(s)}
    planned: list[Path] = []
    by_source: dict[str, Path] = {}
    for source in inputs:
        if source in by_source:  # the same input twice is one job, with one output
            planned.append(by_source[source])
            continue
        default_dir = Path.cwd() if is_url(source) else Path(source).parent
        folder = output_dir if output_dir is not None else default_dir
        stem = output_stem(source)
        candidate, n = folder / f"{stem}.{ext}", 1
        while os.path.abspath(candidate).casefold() in taken:
            n += 1
            candidate = folder / f"{stem}-{n}.{ext}"
        taken.add(os.path.abspath(candidate).casefold())
        planned.append(candidate)
        by_source[source] = candidate
    return planned


def write_text_atomic(path: Path, text: str) -> None:
    """For `write_output` callbacks: a temp file renamed over `path`, so a crash never leaves half a transcript
    (which skip-existing would then mistake for a finished one). Symlinks, FIFOs and devices: see `outfile`."""
    outfile.write_text(path, text)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, GladiaError):
        return str(exc)
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _run_one(
    source: str,
    output: Path,
    transcribe_one: Callable[[str], dict[str, Any]],
    write_output: Callable[[str, dict[str, Any], Path], None],
    cancel: threading.Event,
) -> BatchResult:
    if cancel.is_set():
        return BatchResult(source, "failed", "cancelled", output)
    try:
        job = transcribe_one(source)
    except Exception as exc:
        return BatchResult(source, "failed", _describe(exc), output)
    existed = os.path.lexists(output)  # a dangling symlink is not ours to remove either
    try:
        write_output(source, job, output)
    except Exception as exc:
        if not existed:
            output.unlink(missing_ok=True)  # no half-written file for the next run to skip
        return BatchResult(source, "failed", f"cannot write {output}: {_describe(exc)}", output)
    return BatchResult(source, "ok", None, output)


def run_batch(
    inputs: list[str],
    *,
    jobs: int,
    output_dir: Path | None,
    fmt_ext: str,
    force: bool,
    transcribe_one: Callable[[str], dict[str, Any]],
    write_output: Callable[[str, dict[str, Any], Path], None],
    on_result: Callable[[BatchResult], None] | None = None,
    cancel: threading.Event | None = None,
) -> list[BatchResult]:
    """Transcribe every input, `jobs` at a time; one result per input, in input order.

    An input whose output exists is skipped unless `force`; an input listed twice is done once. A failure
    (exception from `transcribe_one` or `write_output`) is recorded and the others go on. `on_result` is called
    from this thread as each one finishes. On Ctrl-C, queued inputs are dropped and `cancel` is set: make
    `transcribe_one` watch it (e.g. from its `on_poll`) so running jobs stop too. `transcribe_one` runs in worker
    threads: give each thread its own client (requests sessions are not guaranteed thread-safe).
    """
    from concurrent.futures import Future, ThreadPoolExecutor, as_completed

    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise UsageError(f"`jobs` must be a whole number of at least 1, got {jobs!r}")
    ext = fmt_ext.lstrip(".")
    if not ext or "/" in ext or os.sep in ext:
        raise UsageError(f"invalid output extension {fmt_ext!r}")
    if output_dir is not None:
        try:
            output_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"cannot create {output_dir}: {exc.strerror or type(exc).__name__}") from None
    cancel = cancel if cancel is not None else threading.Event()
    outputs = plan_outputs(inputs, output_dir, ext)
    results: list[BatchResult | None] = [None] * len(inputs)
    first_index: dict[str, int] = {}
    todo: list[int] = []
    for i, source in enumerate(inputs):
        if source in first_index:
            reason = f"listed twice (same as input {first_index[source] + 1})"
            results[i] = BatchResult(source, "skipped", reason, outputs[i])
        elif outfile.exists(outputs[i]) and not force:
            results[i] = BatchResult(source, "skipped", f"{outputs[i]} exists (`force` to redo)", outputs[i])
        else:
            todo.append(i)
        first_index.setdefault(source, i)
    if on_result is not None:
        for done in results:
            if done is not None:
                on_result(done)

    if todo:
        pool = ThreadPoolExecutor(max_workers=min(jobs, len(todo)), thread_name_prefix="gladia-batch")
        futures: dict[Future[BatchResult], int] = {
            pool.submit(_run_one, inputs[i], outputs[i], transcribe_one, write_output, cancel): i for i in todo
        }
        try:
            for future in as_completed(futures):
                result = future.result()  # _run_one catches every Exception itself
                results[futures[future]] = result
                if on_result is not None:
                    on_result(result)
        except BaseException:
            cancel.set()
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown(wait=True)
    return [r for r in results if r is not None]
