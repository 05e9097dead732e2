"""Gladia's live messages decoded: a text frame -> a typed result, a close frame -> (code, reason), a close code ->
retry or the error to raise. Pure functions (and one small de-duplicating filter): testable without a socket.

The shapes are those of the API reference (`gladia-api.md` §3.3, §3.5): every server frame is a JSON object with
`type`, `data` and, on the two ack types only, `acknowledged`. Unknown types and keys are passed through untouched.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from gladia_cli.errors import ApiError, AuthError, GladiaError, NetworkError
from gladia_cli.live.events import AddonFailed, Entities, Sentiments, Speech, Transcript, Translation
from gladia_cli.output.job_json import ADDON_NAMES, channel_value, error_message, seconds_value
from gladia_cli.strict_json import load_json

# Messages that only come once the recording is over (the lifecycle order of the API reference, §3.4): even with
# acknowledgments off, they tell that Gladia got the stop and is post-processing.
POST_PROCESSING_TYPES = frozenset(
    {
        "end_recording",
        "post_transcript",
        "post_summarization",
        "post_chapterization",
        "post_final_transcript",
        "end_session",
    }
)


@dataclass(frozen=True)
class AudioAck:
    """An `audio_chunk` ack: `byte_range` as Gladia sent it (session-global; see `acked_until` for its end)."""

    start: int
    end: int


@dataclass(frozen=True)
class StopAck:
    """Gladia took `stop_recording`; post-processing follows."""

    left_to_process: float | None


@dataclass(frozen=True)
class Refusal:
    """An ack with `acknowledged: false`: what was refused and Gladia's reason."""

    kind: str
    message: str
    status: int | None = None

    @property
    def stop_already_taken(self) -> bool:
        """A repeated stop refused because the recording is already stopped: the stop is done, not lost.

        The AsyncAPI example carries `{"status_code": 409, "exception": "ConflictError", "message": "Recording already
        stopped"}`; the OpenAPI schema and the SDKs know the `message` only. Either one is enough.
        """
        return self.kind == "stop_recording" and (self.status == 409 or "already stopped" in self.message.lower())


@dataclass(frozen=True)
class FinalResult:
    """`post_final_transcript`: the whole session's result, as `GET /v2/live/{id}` would give it."""

    result: dict[str, Any]


@dataclass(frozen=True)
class Summary:
    text: str


@dataclass(frozen=True)
class ServerError:
    """A message other than an ack that carries an `error` (an add-on that failed): worth saying, not fatal."""

    kind: str
    message: str


@dataclass(frozen=True)
class Unreadable:
    """A text frame that is not a JSON object: ignored, but said."""

    reason: str


# The live message types of the add-ons, by the add-on's name in a result (`formats.ADDON_NAMES` says it to a person).
ADDON_MESSAGES = {
    "translation": "translation",
    "named_entity_recognition": "named_entity_recognition",
    "sentiment_analysis": "sentiment_analysis",
    "post_summarization": "summarization",
    "post_chapterization": "chapterization",
}

Content = (
    Transcript
    | Translation
    | Speech
    | Entities
    | Sentiments
    | AddonFailed
    | AudioAck
    | StopAck
    | Refusal
    | FinalResult
    | Summary
    | ServerError
)


@dataclass(frozen=True)
class Decoded:
    """One server message: the raw dict (passed through), whether it is an ack, and what it means to the client."""

    message: dict[str, Any]
    is_ack: bool
    post_processing: bool  # the message proves Gladia took the stop
    content: Content | None


def decode_text(data: bytes | str) -> Decoded | Unreadable:
    """Never raises: whatever a server sends is a decoded message or an `Unreadable` (said once per reason), so the
    receiver thread cannot be killed by a message."""
    try:
        message = load_json(data)
    except ValueError:
        return Unreadable("ignored a message from the server that is not JSON")
    if not isinstance(message, dict):
        return Unreadable("ignored a message from the server that is not a JSON object")
    kind = message.get("type")
    try:
        return _decode(message)
    except Exception:  # a shape no decoder foresaw: a notice, never a dead thread
        shown = kind if isinstance(kind, str) and len(kind) <= 40 else "unknown"
        return Unreadable(f"ignored a malformed {shown!r} message from the server")


def _decode(message: dict[str, Any]) -> Decoded:
    is_ack = "acknowledged" in message
    kind = message.get("type")
    body = message.get("data")
    payload: dict[str, Any] = body if isinstance(body, dict) else {}
    post_processing = kind in POST_PROCESSING_TYPES and not is_ack
    content: Content | None
    failure = error_message(message.get("error")) if kind in ADDON_MESSAGES and not is_ack else None
    if is_ack:
        content = _ack(str(kind), message, payload)
    elif failure is not None:
        content = AddonFailed(ADDON_NAMES[ADDON_MESSAGES[str(kind)]], failure)
    elif kind == "transcript":
        content = _transcript(payload)
    elif kind == "translation":
        content = _translation(payload)
    elif kind == "named_entity_recognition":
        content = _entities(payload)
    elif kind == "sentiment_analysis":
        content = _sentiments(payload)
    elif kind in ("speech_start", "speech_end"):
        content = _speech(kind == "speech_start", payload)
    elif kind == "post_final_transcript":
        content = FinalResult(payload)
    elif kind == "post_summarization":
        results = payload.get("results")
        content = Summary(results.strip()) if isinstance(results, str) and results.strip() else None
    else:
        content = None  # lifecycle, NER, sentiment, unknown types: passed through only
    if content is None and not is_ack:
        text = _error_text(message.get("error"))
        if text is not None:
            content = ServerError(str(kind), text)
    return Decoded(message, is_ack, post_processing, content)


def _error_text(error: Any) -> str | None:
    """An `error` object read as add-on errors are (`formats.error_message`); only an object counts here."""
    return (error_message(error) or "no reason given") if isinstance(error, dict) else None


def _ack(kind: str, message: dict[str, Any], payload: dict[str, Any]) -> Content | None:
    if not message.get("acknowledged"):
        error = message.get("error")
        text = _error_text(error) or "no reason given"
        status = error.get("status_code") if isinstance(error, dict) else None
        return Refusal(kind, text, status if isinstance(status, int) and not isinstance(status, bool) else None)
    if kind == "audio_chunk":
        byte_range = payload.get("byte_range")
        if not (isinstance(byte_range, list) and len(byte_range) == 2):
            return None
        start, end = (_count(v) for v in byte_range)
        if start is None or end is None:
            return None
        return AudioAck(start, end)
    if kind == "stop_recording":
        return StopAck(seconds_value(payload.get("recording_left_to_process")))
    return None


def _transcript(payload: dict[str, Any]) -> Transcript | None:
    utterance = payload.get("utterance")
    if not isinstance(utterance, dict):
        return None

    def num(name: str) -> float | None:
        return seconds_value(utterance.get(name))

    language = utterance.get("language")
    return Transcript(
        utterance_id=str(payload.get("id", "")),
        channel=channel_value(utterance.get("channel")),
        text=str(utterance.get("text") or "").strip(),
        is_final=bool(payload.get("is_final", True)),
        start=num("start"),
        end=num("end"),
        language=language if isinstance(language, str) else None,
        utterance=utterance,
    )


def _speech(speaking: bool, payload: dict[str, Any]) -> Speech:
    """`speech_start` / `speech_end`: `data.time` (seconds into the audio) and `data.channel`, both optional here."""
    time, channel = payload.get("time"), payload.get("channel")
    return Speech(speaking=speaking, time=seconds_value(time), channel=channel_value(channel))


MAX_BYTES = 2**53  # an offset beyond any session (and beyond a float's exact integers)


def _count(value: Any) -> int | None:
    """A byte offset, or None when it is none."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return int(value) if 0 <= value <= MAX_BYTES else None


def _translation(payload: dict[str, Any]) -> Translation | None:
    translated = payload.get("translated_utterance") or {}
    text = str(translated.get("text") or "").strip() if isinstance(translated, dict) else ""
    if not text:
        return None
    return Translation(str(payload.get("utterance_id", "")), str(payload.get("target_language", "")), text)


def _results(payload: dict[str, Any]) -> list[dict[str, Any]]:
    results = payload.get("results")
    return [r for r in results if isinstance(r, dict)] if isinstance(results, list) else []


def _entities(payload: dict[str, Any]) -> Entities | None:
    found = tuple(
        (" ".join(str(r.get("text") or "").split()), str(r.get("entity_type") or "?")) for r in _results(payload)
    )
    found = tuple(pair for pair in found if pair[0])
    return Entities(str(payload.get("utterance_id", "")), found) if found else None


def _sentiments(payload: dict[str, Any]) -> Sentiments | None:
    found = tuple((str(r.get("sentiment") or "?"), str(r.get("emotion") or "")) for r in _results(payload))
    return Sentiments(str(payload.get("utterance_id", "")), found) if found else None


class AckEnds:
    """Where Gladia's audio ends according to an ack: an exclusive session offset, whichever convention the ack uses.

    The sources disagree. asyncapi.yaml's text calls `byte_range` inclusive and its example acknowledges the first
    4096 bytes as [0, 4095]; both official SDKs read `byte_range[1]` as the exclusive count of bytes received (and
    OpenAPI's example [1024, 2048] fits that). Either way the end is the authority, whichever frame the ack answers.
    Ranges cover whole samples, so with frames of 2 bytes or more an inclusive end is recognisable: end + 1 is a
    multiple of the frame size, and end is not. With 1-byte frames (8-bit mono: A-law, mu-law, 8-bit PCM) every
    offset is whole, so the convention is learnt instead: from the session's first ack, which covers the first frame
    sent from offset 0, or from two acks in a row (an inclusive one starts at the previous end + 1). Until then the
    SDKs' reading holds: if it is wrong, one byte is resent, none lost.
    """

    def __init__(self, frame_bytes: int) -> None:
        self.frame_bytes = max(1, frame_bytes)
        self.inclusive: bool | None = None  # learnt from the acks
        self._previous: int | None = None  # the previous ack's end, as sent

    def end(self, ack: AudioAck, *, first_frame: int = 0) -> int:
        """The exclusive end of `ack`; `first_frame` is the size of the first frame the session sent."""
        size = self.frame_bytes
        previous, self._previous = self._previous, ack.end
        if size > 1:
            if (ack.end + 1) % size == 0:
                self.inclusive = True
                return ack.end + 1
            if ack.end % size == 0:
                self.inclusive = False
                return ack.end
            return ack.end - ack.end % size  # not whole samples: trust the whole samples it covers, no more
        if self.inclusive is None:
            if ack.start == 0 and first_frame and ack.end in (first_frame - 1, first_frame):
                self.inclusive = ack.end == first_frame - 1
            elif previous is not None and ack.start in (previous, previous + 1):
                self.inclusive = ack.start == previous + 1
        return ack.end + 1 if self.inclusive else ack.end


class FinalsFilter:
    """After a resume the server may send an utterance again: let each final through once, by id and by timing."""

    def __init__(self) -> None:
        self._ids: set[tuple[int, str]] = set()
        self._times: set[tuple[int, float, float]] = set()

    def fresh(self, t: Transcript) -> bool:
        key = (t.channel, t.utterance_id)
        if not t.is_final:
            return key not in self._ids  # a stale partial of an utterance already final is dropped
        timing = (t.channel, round(t.start, 2), round(t.end, 2)) if t.start is not None and t.end is not None else None
        if key in self._ids or (timing is not None and timing in self._times):
            return False
        self._ids.add(key)
        if timing is not None:
            self._times.add(timing)
        return True


# --- close frames and codes -------------------------------------------------------------------------------------------


def parse_close(frame_data: bytes) -> tuple[int | None, str]:
    if len(frame_data) < 2:
        return None, ""
    return int.from_bytes(frame_data[:2], "big"), frame_data[2:].decode("utf-8", "replace")


def is_retryable(code: int | None) -> bool:
    """Gladia's rule: 1000 is the end; 1001 and 4400-4499 mean do not retry; anything else may be resumed."""
    if code is None:
        return True
    return code not in (1000, 1001) and not 4400 <= code <= 4499


def close_error(code: int | None, reason: str) -> GladiaError:
    """The error (and exit code) for a close that ends the session without a result."""
    detail = f"code {code}" + (f": {reason}" if reason else "")
    if code in (4401, 4403):
        return AuthError(f"Gladia refused the live connection ({detail})")
    if code is not None and 4400 <= code <= 4499:
        return ApiError(f"Gladia ended the session ({detail})")
    if code == 1001:
        return NetworkError(f"Gladia went away ({detail})")
    return NetworkError(f"the live connection was lost ({detail})")
