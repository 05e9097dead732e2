"""Finish the transcript of a live session that could not go on, from its local audio journal.

Gladia has what it acknowledged (`GET /v2/live/ID`); the journal has the rest. That rest is cut from the journal
(exactly the bytes after the last acknowledged one), transcribed with the pre-recorded API, shifted onto the
session's clock (by the acknowledged seconds) and put after the live result. Nothing is printed: warnings and
progress go to the callbacks.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gladia_cli.errors import ApiError, GladiaError
from gladia_cli.live.journal import Journal, check_session_id
from gladia_cli.output import job_json

if TYPE_CHECKING:
    from gladia_cli.client import Client

CUT_NAME = "unacknowledged.wav"  # not a segment name: a journal's reader never takes it for audio of the session


@dataclass
class Recovered:
    """The merged job (live result, then the recovered part), and the recovered utterances on the session's clock."""

    job: dict[str, Any]
    recovered: list[dict[str, Any]]
    live_found: bool
    live_gone: bool = False  # Gladia no longer knows the session (404): no later run can find its live part


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
    new = [job_json.shifted_utterance(u, offset) for u in _utterances(recovered)]
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


def _live_result(client: Client, session_id: str, warn: Callable[[str], None]) -> tuple[dict[str, Any] | None, bool]:
    """What Gladia made of the acknowledged part, if it is there now, and whether the session is gone for good
    (404); a warning (never an error) when it is not there."""
    from gladia_cli.api import GladiaApi

    api = GladiaApi(client.settings, max_attempts=2)
    try:
        job = api.get_live(session_id)
    except GladiaError as exc:
        if getattr(exc, "status", None) == 404:
            warn(f"Gladia no longer holds session {session_id} (404): the recovered part is all there is")
            return None, True
        warn(f"the live result of {session_id} could not be fetched ({exc.message}); showing the recovered part alone")
        return None, False
    finally:
        api.close()
    if job.get("status") != "done" or not _utterances(job):
        status = job.get("status")
        state = "is empty" if status == "done" else f"is not ready ({status})"
        warn(
            f"the live result of {session_id} {state}; showing the recovered part alone"
            + ("" if status == "done" else f" (`gladia result {session_id}` has the rest later)")
        )
        return None, False
    return job, False


def _transcribe_cut(
    client: Client,
    journal: Journal,
    on_upload: Callable[[int, int], None] | None,
    on_progress: Callable[[dict[str, Any]], None] | None,
    start: int,
) -> dict[str, Any] | None:
    """Upload exactly the audio from `start` (what Gladia does not hold) as a WAV and transcribe it; None when
    there is none."""
    if journal.end - start < journal.fmt.frame_bytes:
        return None
    cut = journal.directory / CUT_NAME
    journal.cut(cut, start)
    body: dict[str, Any] = {}
    language_config = journal.meta.get("language_config")
    if isinstance(language_config, dict) and language_config:
        body["language_config"] = language_config
    try:
        return client.transcribe(cut, body=body, on_upload=on_upload, on_progress=on_progress).job
    finally:
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


def recover(
    client: Client,
    journal: Journal,
    warn: Callable[[str], None],
    *,
    on_upload: Callable[[int, int], None] | None = None,
    on_progress: Callable[[dict[str, Any]], None] | None = None,
) -> Recovered:
    """Transcribe what Gladia did not acknowledge and merge it after the live result; the journal is not touched.
    `warn` gets what the person should know (audio dropped from the journal, a live result not there yet)."""
    if journal.lost_bytes:
        warn(
            f"{journal.fmt.seconds(journal.lost_bytes):.1f} s of unacknowledged audio were dropped from the journal "
            "to keep it within its size bound"
        )
    live, gone = _live_result(client, journal.session_id, warn)
    start = held_by_gladia(journal, live)
    recovered = _transcribe_cut(client, journal, on_upload, on_progress, start)
    if recovered is not None:
        _check_recovered(recovered, journal)
    merged = merge(live, recovered, journal.fmt.seconds(start), journal.session_id)
    merged = _on_the_recording(client, journal, merged, warn)
    return dataclasses.replace(merged, live_gone=gone)


def chain_of(journal: Journal) -> tuple[float, list[tuple[str, float]]]:
    """Where the journal's session starts in its recording, and the sessions before it with where each starts
    (a recording longer than Gladia's session limit went to several, in order)."""
    chain = journal.meta.get("recording")
    if not isinstance(chain, dict):
        return 0.0, []
    own = job_json.seconds_value(chain.get("offset_seconds")) or 0.0
    earlier = []
    for entry in chain.get("earlier") or []:
        if not isinstance(entry, dict) or not isinstance(entry.get("session_id"), str):
            continue
        try:
            session_id = check_session_id(entry["session_id"])
        except GladiaError:
            continue  # the file is ours, but a name that is no session id is never sent anywhere
        earlier.append((session_id, job_json.seconds_value(entry.get("offset_seconds")) or 0.0))
    return own, earlier


def _on_the_recording(client: Client, journal: Journal, merged: Recovered, warn: Callable[[str], None]) -> Recovered:
    """A session that continued a recording: the sessions before it come first, each on the recording's clock."""
    own, earlier = chain_of(journal)
    if not earlier:
        return merged
    parts: list[tuple[dict[str, Any], float]] = []
    for session_id, offset in earlier:
        job, _ = _live_result(client, session_id, warn)
        if job is not None:
            parts.append((job, offset))
    parts.append((merged.job, own))
    job = job_json.joined_jobs(parts)
    job["sessions"] = [session_id for session_id, _ in earlier] + [journal.session_id]
    recovered = [job_json.shifted_utterance(u, own) for u in merged.recovered]
    return dataclasses.replace(merged, job=job, recovered=recovered)


def held_by_gladia(journal: Journal, live: dict[str, Any] | None) -> int:
    """Where the audio Gladia does not hold begins, in journal bytes: its acknowledgements may lag behind what it
    received and transcribed, so the live result's own extent counts too (the audio duration it reports, else the
    end of its last utterance). Recovering from there transcribes nothing twice, and the merged text never overlaps."""
    held = journal.recover_from
    if live is not None:
        result = live.get("result")
        meta = result.get("metadata") if isinstance(result, dict) else None
        duration = meta.get("audio_duration") if isinstance(meta, dict) else None
        ends = [u.get("end") for u in _utterances(live)]
        # The audio it received says what it holds; the text's end stands in only when the duration is missing.
        candidates = [duration] if isinstance(duration, (int, float)) and duration > 0 else ends
        seconds = [v for v in candidates if isinstance(v, (int, float)) and not isinstance(v, bool)]
        if seconds:
            frame = journal.fmt.frame_bytes
            live_end = int(max(seconds) * journal.fmt.bytes_per_second) // frame * frame
            held = max(held, min(live_end, journal.end))
    return held
