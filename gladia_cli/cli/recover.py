"""`gladia recover`: finish the transcript of a live session that could not go on, from its local audio journal.

Gladia has what it acknowledged (`GET /v2/live/ID`); the journal has the rest. That rest is cut from the journal
(exactly the bytes after the last acknowledged one), transcribed with the pre-recorded API, shifted onto the
session's clock (by the acknowledged seconds) and put after the live result.
"""

from __future__ import annotations

import contextlib
import copy
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gladia_cli.console.terminal import is_tty, notice
from gladia_cli.errors import ApiError, GladiaError, UsageError
from gladia_cli.live.journal import Journal, find, journals_dir, list_journals, unreadable_journals
from gladia_cli.output import transcript as formats
from gladia_cli.settings import Settings

__all__ = ["JOURNAL_COLUMNS", "journal_rows", "journals_dir", "merge", "recover", "run_recover"]

CUT_NAME = "unacknowledged.wav"  # not a segment name: a journal's reader never takes it for audio of the session


@dataclass
class Recovered:
    """The merged job (live result, then the recovered part), and the recovered utterances on the session's clock."""

    job: dict[str, Any]
    recovered: list[dict[str, Any]]
    live_found: bool


JOURNAL_COLUMNS = ("id", "created", "duration", "not acknowledged", "state")


def journal_rows(root: Path | None = None) -> list[tuple[str, str, str, str, str]]:
    """id, created (local time), duration, seconds not acknowledged, state: one line of `gladia recover`."""
    from gladia_cli.cli.jobs import local_time

    rows = []
    for bad in unreadable_journals(root):
        rows.append((bad.directory.name, "?", "?", "?", f"{bad.reason}: see {bad.directory}"))
    for journal in list_journals(root):
        state = "in use" if journal.in_use else "kept"
        rows.append(
            (
                journal.session_id,
                local_time(journal.created_at),
                f"{journal.seconds:.1f} s",
                f"{journal.unacknowledged_seconds:.1f} s",
                state,
            )
        )
    return rows


def _shifted(utterance: dict[str, Any], offset: float) -> dict[str, Any]:
    """An utterance of the recovered part on the session's clock: it starts `offset` seconds into the session."""
    u = copy.deepcopy(utterance)
    for holder in [u, *(w for w in u.get("words") or [] if isinstance(w, dict))]:
        for key in ("start", "end"):
            value = formats.seconds_value(holder.get(key))
            if value is not None:
                holder[key] = round(value + offset, 3)
    return u


def _utterance_list(job: Any) -> list[Any] | None:
    """`result.transcription.utterances` as Gladia sent it, or None when that is not a list (missing, malformed)."""
    result = job.get("result") if isinstance(job, dict) else None
    transcription = result.get("transcription") if isinstance(result, dict) else None
    utterances = transcription.get("utterances") if isinstance(transcription, dict) else None
    return utterances if isinstance(utterances, list) else None


def _utterances(job: dict[str, Any] | None) -> list[dict[str, Any]]:
    return [u for u in _utterance_list(job) or [] if isinstance(u, dict)]


def merge(live: dict[str, Any] | None, recovered: dict[str, Any] | None, offset: float, session_id: str) -> Recovered:
    """One job in the shape `formats.render` reads: the live utterances, then the recovered ones shifted by `offset`.

    Only the transcription is merged: add-ons (summary, translation) described the live part alone.
    """
    live_utterances = _utterances(live)
    new = [_shifted(u, offset) for u in _utterances(recovered)]
    utterances = live_utterances + new
    languages: list[str] = []
    for u in utterances:
        language = u.get("language")
        if isinstance(language, str) and language and language not in languages:
            languages.append(language)
    recovered_result = recovered.get("result") if isinstance(recovered, dict) else None
    recovered_meta = recovered_result.get("metadata") if isinstance(recovered_result, dict) else None
    duration = recovered_meta.get("audio_duration") if isinstance(recovered_meta, dict) else None
    job: dict[str, Any] = {
        "id": session_id,
        "kind": "live",
        "status": "done",
        "request_params": (live or {}).get("request_params") or {},
        "result": {
            "metadata": {
                "audio_duration": round(offset + (duration if isinstance(duration, (int, float)) else 0.0), 3)
            },
            "transcription": {
                "full_transcript": " ".join(str(u.get("text") or "").strip() for u in utterances).strip(),
                "languages": languages,
                "utterances": utterances,
            },
        },
    }
    return Recovered(job, new, bool(live_utterances))


def _live_result(settings: Settings, session_id: str, warn: Callable[[str], None]) -> dict[str, Any] | None:
    """What Gladia made of the acknowledged part, if it is there now; a warning (never an error) otherwise."""
    from gladia_cli.api import GladiaApi

    api = GladiaApi(settings, max_attempts=2)
    try:
        job = api.get_live(session_id)
    except GladiaError as exc:
        warn(f"the live result of {session_id} could not be fetched ({exc.message}); showing the recovered part alone")
        return None
    finally:
        api.close()
    if job.get("status") != "done" or not _utterances(job):
        status = job.get("status")
        state = "is empty" if status == "done" else f"is not ready ({status})"
        warn(
            f"the live result of {session_id} {state}; showing the recovered part alone"
            + ("" if status == "done" else f" (`gladia result {session_id}` has the rest later)")
        )
        return None
    return job


def _transcribe_cut(settings: Settings, journal: Journal) -> dict[str, Any] | None:
    """Upload exactly the unacknowledged audio as a WAV and transcribe it; None when there is none."""
    from gladia_cli.cli.jobs import open_client
    from gladia_cli.console.live_view import JobProgress

    if journal.end - journal.recover_from < journal.fmt.frame_bytes:
        return None
    cut = journal.directory / CUT_NAME
    journal.cut(cut)
    body: dict[str, Any] = {}
    language_config = journal.meta.get("language_config")
    if isinstance(language_config, dict) and language_config:
        body["language_config"] = language_config
    client = open_client(settings)
    try:
        with JobProgress(f"transcribing {journal.unacknowledged_seconds:.1f} s not acknowledged") as progress:
            job: dict[str, Any] = client.transcribe(
                cut, body, on_upload_progress=progress.upload, on_poll=progress.update
            )
        return job
    finally:
        client.api.close()
        with contextlib.suppress(OSError):
            cut.unlink()


def _check_recovered(job: Any, journal: Journal) -> None:
    """The recovered part must have been read before anything is merged, and so before the journal may go: a
    result without its utterances (malformed, or `null`) is an error that keeps the journal for another try."""
    if _utterance_list(job) is None:
        raise ApiError(
            f"Gladia's result for the recovered part of {journal.session_id} has no utterances; "
            f"the journal is kept in {journal.directory}",
            hint=f"run `gladia recover {journal.session_id}` again later",
        )


def recover(settings: Settings, journal: Journal, warn: Callable[[str], None] = notice) -> Recovered:
    """Transcribe what Gladia did not acknowledge and merge it after the live result; the journal is not touched."""
    if journal.lost_bytes:
        warn(
            f"{journal.fmt.seconds(journal.lost_bytes):.1f} s of unacknowledged audio were dropped from the journal "
            "to keep it within its size bound"
        )
    recovered = _transcribe_cut(settings, journal)
    if recovered is not None:
        _check_recovered(recovered, journal)
    live = _live_result(settings, journal.session_id, warn)
    return merge(live, recovered, journal.acked_seconds, journal.session_id)


def run_recover(
    load_settings: Callable[[], Settings],
    session_id: str,
    output: str,
    *,
    keep: bool = False,
    output_file: Path | None = None,
    root: Path | None = None,
) -> int:
    """`gladia recover ID`: print the merged transcript in `output`; delete the journal unless `keep`.

    Everything local is checked before the key is loaded or anything is uploaded."""
    from gladia_cli.cli.jobs import check_output_file, write_output

    if output == "json-full":
        raise UsageError("-o json-full does not apply to a merged transcript", hint="use -o json")
    if output_file is not None:
        check_output_file(output_file)
    journal = find(session_id.strip(), root)
    if journal.in_use:
        raise UsageError(
            f"the journal of {session_id} is in use by process {journal.pid}",
            hint="the session is still running; recover it once that process has ended",
        )
    if not journal.segments:
        raise UsageError(
            f"the journal of {session_id} holds no audio", hint=f"`gladia result {session_id}` has what Gladia got"
        )
    merged = recover(load_settings(), journal)
    write_output(
        formats.render_chunks(merged.job, output, pretty=is_tty(sys.stdout) and output_file is None), output_file
    )
    if keep or not merged.live_found:
        # Without the live result nothing was merged: the journal is what lets a later run do it.
        why = "" if keep else f"; `gladia recover {session_id}` again merges it once the live result is ready"
        notice(f"kept the journal in {journal.directory}{why}")
    else:
        journal.remove()
    return 0


def kept_notice(session_id: str, directory: Path, seconds: float) -> tuple[str, str]:
    """The end message of a session that cannot go on, and the hint of its error: where the audio is, what next."""
    return (
        f"{seconds:.1f} s of audio were not acknowledged by Gladia (they may not have reached it); "
        f"they are kept in {directory}",
        f"`gladia recover {session_id}` transcribes them and merges them with what Gladia got "
        f"(`gladia result {session_id}`)",
    )


def recover_at_once(settings: Settings, directory: Path, output: str, write: Callable[[str], None]) -> None:
    """`--on-failure recover`: finish the transcript now. The live finals are on screen already, so text (and jsonl)
    get only the recovered part; the whole-session formats get the merged transcript. Deletes the journal when done.
    """
    from gladia_cli.live.journal import load

    journal = load(directory)
    if not isinstance(journal, Journal):
        raise UsageError(f"the journal in {directory} cannot be read")
    notice(f"recovering {journal.unacknowledged_seconds:.1f} s that Gladia did not acknowledge (--on-failure recover)")
    merged = recover(settings, journal)
    if output in ("text", "jsonl"):
        part = merge(None, None, 0.0, journal.session_id)
        part.job["result"]["transcription"]["utterances"] = merged.recovered
        if output == "jsonl":
            transcription = part.job["result"]["transcription"]
            write(formats.dump_json({"type": "recovered_transcript", "data": transcription}, pretty=False))
        else:
            for line in formats.transcript_lines(part.job):
                write(line)
    else:
        text = formats.render(merged.job, output, pretty=False)
        if text:
            write(text.removesuffix("\n"))
    journal.remove()
