"""A loopback emulator of Gladia's v2 live API, for the test suite.

One `aiohttp.web.Application` serves the REST routes and the live WebSocket on one 127.0.0.1 port. It runs in its
own event loop in a background daemon thread, so synchronous tests (and the CLI, in-process or in a subprocess) can
talk to it. It follows the team's Gladia API reference, `gladia-api.md` (sections 1.6, 2, 3, 4, 7, 8, App. C):

- `POST /v2/live[?region=]` validates the body and answers 201 `{id, created_at, url}`;
- the WebSocket at `url` acknowledges audio with half-open, session-global byte ranges, plays a scripted transcript
  (one utterance per `seconds_per_utterance` seconds of audio received), and on `stop_recording` sends the remaining
  finals, the post-processing messages and closes with 1000;
- `GET /v2/live/{id}` walks `processing` -> `done`, `GET /v2/live/{id}/file` returns the audio as a WAV,
  `DELETE /v2/live/{id}` and `GET /v2/live` behave as documented.

Everything it receives and sends is recorded for assertions. It never prints.

Fault injection: knobs on the `GladiaEmulator`, set before (or during) a run; each applies to what happens next.

- `init_failures: list[int]` -- statuses answered (in order, one per request) to the next `POST /v2/live`s.
- `create_then_fail: int` -- the next N `POST /v2/live`s create their session (it holds a slot) and answer 500, as a
  proxy may after Gladia acted; `max_concurrent_sessions: int | None` -- with that many sessions created and not
  ended, `POST /v2/live` answers 429 (the Free plan has one).
- `drop_after_bytes: list[int]` -- one entry per WebSocket connection, popped when a connection is accepted: once
  that connection has received at least N audio bytes, the TCP connection is aborted (`transport.abort()`: no close
  frame; the client's unread frames make it a reset) without acknowledging the frame that crossed N. That frame was
  received: it is in `session.audio`, as on a server that read it just before the network failed. Before aborting,
  the emulator waits (at most 1 s) until its kernel has delivered what it already sent, so that which messages the
  client got before a drop is deterministic; anything the client then misses is the client's doing.
- `close_after_bytes: list[tuple[int, int]]` -- same, but `(N, code)` closes properly with `code` (1011 retryable,
  4400 fatal, 1001 "going away"...). A connection may pop an entry from both lists; the first threshold met wins.
- `refuse_connections: int` -- the next K WebSocket handshakes are answered HTTP 503 instead of the upgrade.
- `refuse_after_fault: int` -- each injected drop or close adds this to `refuse_connections`, so that the
  *reconnections* after a fault are refused (the first connection is not).
- `ack_delay: float` -- each `audio_chunk` ack is sent this many seconds late (from a background task, in order, on
  the connection the audio came on; lost if that connection is gone by then).
- `drop_acks_every: int` -- every Nth ack of a session is never sent (0 = never skip).
- `resend_finals_on_reconnect: bool` -- when a session's second or later connection opens, every final already sent
  is sent again (same `data.id`), as a server replaying its messages would.
- `reid_finals_on_reconnect: bool` -- the same, but each replayed final gets a new `data.id` (same text and timing):
  only de-duplication by timing can hide it.
- `message_delay: float` -- a slow server: every message is sent this many seconds late (the sender waits).
- `ack_byte_end: int | None` -- every ack claims this `byte_range` end, far beyond what was sent when hostile.
- `inclusive_acks: bool` -- acks give `byte_range` as asyncapi.yaml's text and example do, `[start, end]` inclusive
  (`[0, 4095]` for the first 4096 bytes), instead of the half-open `[start, end)` both official SDKs read.
- `skip_first_acks_on_reconnect: int` -- on every connection after the first, the first N audio acks are never sent
  (later ones are): the client must take a later ack's `byte_range` end as the authority.
- `drop_at_stop: int` -- the next N `stop_recording`s are taken (the first one stops the recording and starts the
  post-processing) but the connection is then dropped before any answer: the stop ack is lost, and the client's
  resent stop is refused 409 "Recording already stopped".
- `asyncapi_refusals: bool` -- a repeated stop is refused in asyncapi.yaml's shape: `"data": {}` and
  `"error": {"status_code": 409, "exception": "ConflictError", "message": ...}` (default: the OpenAPI shape,
  `"data": null`, `"error": {"message": ...}`).
- `drops_in_post_processing: int` -- after the stop, while it post-processes, the emulator drops the session's
  connection this many times (the first at once, each later one as soon as the client has reconnected).
- `drop_instead_of: set[str]` -- when the first post-processing message of one of these types is due, the connection
  is dropped instead (the message is lost with the link, as on a real network); the others of the set are lost in the
  same outage, the rest go to the reconnection.
- `silent: bool` -- accept the WebSocket and receive audio, but never send any message, and never close on our
  own (even after `stop_recording`); a client's close frame is still answered.
- `legacy_chapters: bool` -- `post_processing.chapterization` makes chapters (`post_chapterization`) as before 2026;
  off by default: Gladia's newest schema marks the field "ignored" and sends none.
- `http_hang_seconds: float` -- every REST handler sleeps this long before answering.
- `http_trickle_seconds: float` -- every REST answer trickles a byte this often, forever; `http_body_bytes: int` --
  every REST answer is a body this large.
- `echo_key: bool` -- a 401 names the refused key in full; `hostile_error_text: str` -- appended to every REST
  error message (OSC 52, `ESC[2J`, Rich markup...).
- `left_to_process: float` -- what the stop acknowledgement says is left (`recording_left_to_process`).
- `result_processing_polls`, `post_processing_delay`, `extra_messages`, `raw_text_frames`, `addon_failures` -- see
  their comments.

Resends and `session.audio`: `session.audio` is the raw concatenation of every audio byte recorded, in arrival order,
resends included; `session.connection_streams` holds the same bytes split per connection
(`b"".join(connection_streams) == audio`).

Byte offsets in acks are session-global, as both official SDKs read them: a connection's audio is numbered from where
it starts in the session's audio, not after what was received. The emulator finds where a reconnection's resend
starts (the same content matching as `dedup_audio`, below; on an ambiguous match, the candidate nearest to what it
had acknowledged), lays the resend over what it holds (`session.logical_audio`: each byte once; an overlap that
differs is counted in `resend_mismatches`) and acknowledges in that numbering. `acked_until` is the end of the
highest ack it actually sent; `resent_after_ack` counts the bytes a reconnection resent although an ack had
confirmed them: a faithful client keeps it at 0. `session.dedup_audio()` rebuilds the logical stream
the client meant to send: a reconnecting client starts each new connection by resending from the last offset it saw
acknowledged, A <= what the server had received; A is found as the unique offset where the connection's first bytes
occur in the logical stream so far (use noisy audio in tests so that the match is unique), the overlap is checked to
be byte-identical, and only the bytes beyond it are appended. A resend that starts *beyond* the logical stream (audio
lost in between) cannot be matched and is appended as is, so a checksum of the result then fails, as it should.
Audio received after `stop_recording` is ignored and is in neither.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import contextvars
import copy
import fcntl
import json
import math
import secrets
import struct
import termios
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http import HTTPStatus
from typing import Any

from aiohttp import WSMsgType, web
from aiohttp.http_websocket import WebSocketError
from emulator_filters import filter_listed

WS_PATH = "/v2/live/ws"
MAX_FRAME_BYTES = 1024 * 1024  # frames strictly larger than this are refused with close code 1009

DEFAULT_UTTERANCES = ["Hello world.", "This is the Gladia emulator.", "Goodbye."]

ENCODINGS = ("wav/pcm", "wav/alaw", "wav/ulaw")
BIT_DEPTHS = (8, 16, 24, 32)
SAMPLE_RATES = (8000, 16000, 32000, 44100, 48000)
MODELS = ("solaria-1",)
REGIONS = ("us-west", "eu-west")
SUMMARY_TYPES = ("general", "bullet_points", "concise")
TRANSLATION_MODELS = ("base", "enhanced", "batch")  # SDK 2.2.1: LiveV2TranslationModel
WAV_FORMAT_TAGS = {"wav/pcm": 1, "wav/alaw": 6, "wav/ulaw": 7}

_LANGUAGE_CODES = """
af am ar as az ba be bg bn bo br bs ca cs cy da de el en es et eu fa fi fo fr gl gu ha haw he hi hr ht hu hy id is it
ja jw ka kk km kn ko la lb ln lo lt lv mg mi mk ml mn mr ms mt my ne nl nn no oc pa pl ps pt ro ru sa sd si sk sl sn so
sq sr su sv sw ta te tg th tk tl tr tt uk ur uz vi yi yo zh
"""
LANGUAGES = frozenset(_LANGUAGE_CODES.split())  # Appendix A, 99 codes
TRANSLATION_LANGUAGES = LANGUAGES | {"wo"}

MESSAGE_FLAGS = (
    "receive_partial_transcripts",
    "receive_final_transcripts",
    "receive_speech_events",
    "receive_pre_processing_events",
    "receive_realtime_processing_events",
    "receive_post_processing_events",
    "receive_acknowledgments",
    "receive_errors",
    "receive_lifecycle_events",
)
REALTIME_FLAGS = (
    "custom_vocabulary",
    "custom_spelling",
    "translation",
    "named_entity_recognition",
    "sentiment_analysis",
)

# Effective values of the top-level format fields when the request leaves them out (§2.1); echoed in request_params.
TOP_LEVEL_DEFAULTS: dict[str, Any] = {
    "encoding": "wav/pcm",
    "bit_depth": 16,
    "sample_rate": 16000,
    "channels": 1,
    "model": "solaria-1",
    "endpointing": 0.05,
    "maximum_duration_without_endpointing": 5,
    "callback": False,
}


# --------------------------------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------------------------------


def _entities(utterance: dict) -> list[dict]:
    """A stand-in for NER: every capitalised word but the first is an entity (the spec's shape, not its skill)."""
    found = []
    for word in utterance.get("words") or []:
        text = word["word"].strip().strip(".,!?")
        if text[:1].isupper() and word is not utterance["words"][0]:
            found.append({"entity_type": "ORGANIZATION", "text": text, "start": word["start"], "end": word["end"]})
    return found


def fail_addons(result: dict, failures: dict[str, str]) -> dict:
    """The add-ons named in `failures` failed: the wrapper of the result schema with `error` set, `results` null."""
    for name, message in failures.items():
        if name in result:
            error = {"status_code": 500, "exception": "AddonError", "message": message}
            result[name] = {"success": False, "is_empty": True, "exec_time": 0.1, "error": error, "results": None}
    return result


def now_iso() -> str:
    """UTC now as ISO-8601 with milliseconds and a Z, like every Gladia timestamp."""
    now = datetime.now(timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def new_request_id() -> str:
    return "G-" + secrets.token_hex(4)


def error_envelope(status: int, message: str, path: str, validation_errors: list[str] | None = None) -> dict:
    """The §1.6 error body shared by every route (note the camelCase `statusCode`)."""
    body: dict[str, Any] = {
        "timestamp": now_iso(),
        "path": path,
        "request_id": new_request_id(),
        "statusCode": status,
        "message": message,
    }
    if validation_errors is not None:
        body["validation_errors"] = list(validation_errors)
    return body


def wav_bytes(audio: bytes, *, encoding: str, sample_rate: int, channels: int, bit_depth: int) -> bytes:
    """`audio` behind a canonical 44-byte RIFF/WAVE header."""
    block_align = channels * bit_depth // 8
    tag = WAV_FORMAT_TAGS.get(encoding, 1)
    fmt = struct.pack("<HHIIHH", tag, channels, sample_rate, sample_rate * block_align, block_align, bit_depth)
    return (
        b"RIFF"
        + struct.pack("<I", 4 + 8 + len(fmt) + 8 + len(audio))
        + b"WAVE"
        + b"fmt "
        + struct.pack("<I", len(fmt))
        + fmt
        + b"data"
        + struct.pack("<I", len(audio))
        + bytes(audio)
    )


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _is_integer(value: Any) -> bool:
    return _is_number(value) and float(value).is_integer()


def _fmt(value: Any) -> str:
    try:
        text = json.dumps(value)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


# --------------------------------------------------------------------------------------------------------------------
# Validation of the POST /v2/live body (§2.1 to 2.7, §7.3); unknown keys are ignored
# --------------------------------------------------------------------------------------------------------------------


class _Validator:
    def __init__(self) -> None:
        self.errors: list[str] = []

    def fail(self, path: str, what: str, value: Any) -> None:
        self.errors.append(f"{path} {what} (got {_fmt(value)})")

    def obj(self, parent: dict, key: str, path: str) -> dict | None:
        value = parent.get(key)
        if value is None:
            return None
        if not isinstance(value, dict):
            self.fail(path, "must be an object", value)
            return None
        return value

    def boolean(self, parent: dict, key: str, path: str) -> None:
        value = parent.get(key)
        if value is not None and not isinstance(value, bool):
            self.fail(path, "must be a boolean", value)

    def string(self, parent: dict, key: str, path: str) -> None:
        value = parent.get(key)
        if value is not None and not isinstance(value, str):
            self.fail(path, "must be a string", value)

    def enum(self, parent: dict, key: str, path: str, allowed: Iterable[Any]) -> None:
        value = parent.get(key)
        if value is None:
            return
        allowed = tuple(allowed)
        numeric = all(_is_number(a) for a in allowed)
        ok = (_is_number(value) and value in allowed) if numeric else (isinstance(value, str) and value in allowed)
        if not ok:
            self.fail(path, "must be one of the following values: " + ", ".join(str(a) for a in allowed), value)

    def number(self, parent: dict, key: str, path: str, low: float, high: float, *, integer: bool = False) -> None:
        value = parent.get(key)
        if value is None:
            return
        valid = _is_integer(value) if integer else _is_number(value)
        if not valid or not low <= value <= high:
            kind = "an integer" if integer else "a number"
            self.fail(path, f"must be {kind} between {low:g} and {high:g}", value)

    def codes(self, parent: dict, key: str, path: str, allowed: frozenset[str], *, required: bool = False) -> None:
        value = parent.get(key)
        if value is None:
            if required:
                self.errors.append(f"{path} is required")
            return
        if not isinstance(value, list):
            self.fail(path, "must be an array of language codes", value)
            return
        if required and not value:
            self.errors.append(f"{path} must contain at least 1 language code")
        for i, code in enumerate(value):
            if not isinstance(code, str) or code not in allowed:
                self.fail(f"{path}[{i}]", "must be a supported language code", code)

    def string_list(self, value: Any, path: str) -> None:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail(path, "must be an array of strings", value)


def validate_live_request(body: dict) -> list[str]:
    """Readable errors, each naming the offending field; an empty list means the body is acceptable."""
    v = _Validator()
    v.enum(body, "encoding", "encoding", ENCODINGS)
    v.enum(body, "bit_depth", "bit_depth", BIT_DEPTHS)
    v.enum(body, "sample_rate", "sample_rate", SAMPLE_RATES)
    v.number(body, "channels", "channels", 1, 8, integer=True)
    v.enum(body, "model", "model", MODELS)
    v.number(body, "endpointing", "endpointing", 0.01, 10)
    v.number(body, "maximum_duration_without_endpointing", "maximum_duration_without_endpointing", 5, 60)
    v.boolean(body, "callback", "callback")

    encoding = body.get("encoding")
    if encoding in ("wav/alaw", "wav/ulaw"):
        bit_depth = body.get("bit_depth", TOP_LEVEL_DEFAULTS["bit_depth"])
        if bit_depth != 8 or isinstance(bit_depth, bool):
            v.fail("bit_depth", f"must be 8 with encoding {encoding}", bit_depth)

    metadata = body.get("custom_metadata")
    if metadata is not None:
        if not isinstance(metadata, dict):
            v.fail("custom_metadata", "must be an object", metadata)
        else:
            size = len(json.dumps(metadata, separators=(",", ":"), ensure_ascii=False))
            if size > 2000:
                v.errors.append(f"custom_metadata must not exceed 2000 characters when stringified (got {size})")

    language_config = v.obj(body, "language_config", "language_config")
    if language_config is not None:
        v.codes(language_config, "languages", "language_config.languages", LANGUAGES)
        v.boolean(language_config, "code_switching", "language_config.code_switching")

    pre = v.obj(body, "pre_processing", "pre_processing")
    if pre is not None:
        v.boolean(pre, "audio_enhancer", "pre_processing.audio_enhancer")
        v.number(pre, "speech_threshold", "pre_processing.speech_threshold", 0, 1)

    realtime = v.obj(body, "realtime_processing", "realtime_processing")
    if realtime is not None:
        _validate_realtime(v, realtime)

    post = v.obj(body, "post_processing", "post_processing")
    if post is not None:
        v.boolean(post, "summarization", "post_processing.summarization")
        v.boolean(post, "chapterization", "post_processing.chapterization")
        summary = v.obj(post, "summarization_config", "post_processing.summarization_config")
        if summary is not None:
            v.enum(summary, "type", "post_processing.summarization_config.type", SUMMARY_TYPES)

    messages = v.obj(body, "messages_config", "messages_config")
    if messages is not None:
        for flag in MESSAGE_FLAGS:
            v.boolean(messages, flag, f"messages_config.{flag}")

    callback = v.obj(body, "callback_config", "callback_config")
    if callback is None and body.get("callback") is True:
        v.errors.append("callback_config.url is required when callback is true")
    if callback is not None:
        if "url" not in callback:
            v.errors.append("callback_config.url is required")
        v.string(callback, "url", "callback_config.url")
        url = callback.get("url")
        if isinstance(url, str) and not url.lower().startswith(("http://", "https://")):
            v.fail("callback_config.url", "must be a URL address", url)
        for flag in MESSAGE_FLAGS:
            v.boolean(callback, flag, f"callback_config.{flag}")
    return v.errors


def _validate_realtime(v: _Validator, realtime: dict) -> None:
    for flag in REALTIME_FLAGS:
        v.boolean(realtime, flag, f"realtime_processing.{flag}")

    vocab = v.obj(realtime, "custom_vocabulary_config", "realtime_processing.custom_vocabulary_config")
    if vocab is not None:
        path = "realtime_processing.custom_vocabulary_config"
        v.number(vocab, "default_intensity", f"{path}.default_intensity", 0, 1)
        items = vocab.get("vocabulary")
        if items is None:
            v.errors.append(f"{path}.vocabulary is required")
        elif not isinstance(items, list):
            v.fail(f"{path}.vocabulary", "must be an array", items)
        else:
            for i, item in enumerate(items):
                item_path = f"{path}.vocabulary[{i}]"
                if isinstance(item, str):
                    continue
                if not isinstance(item, dict) or not isinstance(item.get("value"), str):
                    v.fail(item_path, "must be a string or an object with a string value", item)
                    continue
                v.number(item, "intensity", f"{item_path}.intensity", 0, 1)
                if item.get("pronunciations") is not None:
                    v.string_list(item["pronunciations"], f"{item_path}.pronunciations")
                v.enum(item, "language", f"{item_path}.language", sorted(LANGUAGES))

    spelling = v.obj(realtime, "custom_spelling_config", "realtime_processing.custom_spelling_config")
    if spelling is None and realtime.get("custom_spelling") is True:
        v.errors.append("realtime_processing.custom_spelling_config is required when custom_spelling is true")
    if spelling is not None:
        path = "realtime_processing.custom_spelling_config.spelling_dictionary"
        dictionary = spelling.get("spelling_dictionary")
        if dictionary is None:
            v.errors.append(f"{path} is required")
        elif not isinstance(dictionary, dict):
            v.fail(path, "must be an object", dictionary)
        else:
            for key, variants in dictionary.items():
                v.string_list(variants, f"{path}.{key}")

    translation = v.obj(realtime, "translation_config", "realtime_processing.translation_config")
    if translation is not None:
        path = "realtime_processing.translation_config"
        v.codes(translation, "target_languages", f"{path}.target_languages", TRANSLATION_LANGUAGES, required=True)
        v.enum(translation, "model", f"{path}.model", TRANSLATION_MODELS)
        for flag in ("match_original_utterances", "lipsync", "context_adaptation", "informal"):
            v.boolean(translation, flag, f"{path}.{flag}")
        v.string(translation, "context", f"{path}.context")


# --------------------------------------------------------------------------------------------------------------------
# Session settings derived from a validated body
# --------------------------------------------------------------------------------------------------------------------


def _flag(section: Any, name: str, default: bool) -> bool:
    value = section.get(name) if isinstance(section, dict) else None
    return value if isinstance(value, bool) else default


@dataclass(frozen=True)
class SessionSettings:
    encoding: str
    bit_depth: int
    sample_rate: int
    channels: int
    language: str
    partials: bool
    finals: bool
    speech_events: bool
    realtime_events: bool
    post_events: bool
    acks: bool
    lifecycle: bool
    translation_targets: tuple[str, ...]
    named_entity_recognition: bool
    sentiment_analysis: bool
    summarization: bool
    summary_type: str
    chapterization: bool

    @property
    def bytes_per_second(self) -> float:
        return self.sample_rate * self.channels * self.bit_depth / 8

    @classmethod
    def from_config(cls, config: dict) -> SessionSettings:
        messages = config.get("messages_config")
        languages = (config.get("language_config") or {}).get("languages") or []
        realtime = config.get("realtime_processing") or {}
        post = config.get("post_processing") or {}
        targets: tuple[str, ...] = ()
        if realtime.get("translation") is True:
            targets = tuple((realtime.get("translation_config") or {}).get("target_languages") or ())
        return cls(
            encoding=config.get("encoding") or TOP_LEVEL_DEFAULTS["encoding"],
            bit_depth=int(config.get("bit_depth") or TOP_LEVEL_DEFAULTS["bit_depth"]),
            sample_rate=int(config.get("sample_rate") or TOP_LEVEL_DEFAULTS["sample_rate"]),
            channels=int(config.get("channels") or TOP_LEVEL_DEFAULTS["channels"]),
            language=languages[0] if languages else "en",
            partials=_flag(messages, "receive_partial_transcripts", False),
            finals=_flag(messages, "receive_final_transcripts", True),
            speech_events=_flag(messages, "receive_speech_events", True),
            realtime_events=_flag(messages, "receive_realtime_processing_events", True),
            post_events=_flag(messages, "receive_post_processing_events", True),
            acks=_flag(messages, "receive_acknowledgments", True),
            lifecycle=_flag(messages, "receive_lifecycle_events", False),
            translation_targets=targets,
            named_entity_recognition=realtime.get("named_entity_recognition") is True,
            sentiment_analysis=realtime.get("sentiment_analysis") is True,
            summarization=post.get("summarization") is True,
            summary_type=(post.get("summarization_config") or {}).get("type") or "general",
            chapterization=post.get("chapterization") is True,
        )


# --------------------------------------------------------------------------------------------------------------------
# Recorded state
# --------------------------------------------------------------------------------------------------------------------


@dataclass(repr=False)
class InitRequest:
    """One `POST /v2/live` as received, and what it was answered."""

    query: dict[str, str]
    body: Any  # parsed JSON (any JSON value), or None when the body was not JSON
    headers: dict[str, str]  # lower-case keys
    status: int = 0
    raw_body: bytes = b""
    response: Any = None  # the JSON answered
    session_id: str | None = None

    def __repr__(self) -> str:
        return f"InitRequest(status={self.status}, query={self.query!r}, body={_fmt(self.body)})"


@dataclass(repr=False)
class LiveSession:
    """A live session created by `POST /v2/live`: its config and everything exchanged on its WebSocket(s)."""

    id: str
    token: str
    url: str
    config: dict
    settings: SessionSettings
    created_at: str
    region: str | None = None
    audio: bytearray = field(default_factory=bytearray)
    binary_frames: int = 0
    frame_sizes: list[int] = field(default_factory=list)  # bytes of audio in each frame, in order
    logical_audio: bytearray = field(default_factory=bytearray)  # each byte once, by its session offset
    acked_until: int = 0  # exclusive end of the highest audio ack sent
    resent_after_ack: int = 0  # bytes resent on a reconnection that an ack had already confirmed
    client_pings: int = 0  # keep-alive pings the client sent
    resend_offsets: list[int] = field(default_factory=list)  # where each reconnection's audio started
    resend_mismatches: int = 0  # resent overlaps that differ from what the session holds
    base64_frames: int = 0
    ignored_audio_frames: int = 0  # audio received after stop_recording: neither recorded nor acknowledged
    client_messages: list[dict] = field(default_factory=list)
    server_messages: list[dict] = field(default_factory=list)
    raw_frames_sent: list[str] = field(default_factory=list)
    stop_count: int = 0
    connections: int = 0  # WebSocket connections accepted (refused handshakes are not counted)
    connection_streams: list[bytearray] = field(default_factory=list)  # audio recorded per accepted connection
    refused_handshakes: int = 0  # handshakes answered 503 by `refuse_connections`
    injected_faults: list[str] = field(default_factory=list)  # e.g. "drop after 9600 bytes", "close 1011 after ..."
    acks_due: int = 0  # acks the session would have sent (counts the ones `drop_acks_every` skipped)
    acks_skipped: int = 0
    close_code: int | None = None  # last close code the emulator initiated (not its echo of a client close)
    client_close_codes: list[int | None] = field(default_factory=list)  # client-ended connections; None = dropped
    stopped: bool = False
    capped: bool = False  # ended by `session_cap_seconds`, not by the client
    ended: bool = False
    ended_at: str | None = None
    deleted: bool = False
    result: dict | None = None  # LiveResult without `messages`, set when the session ends
    file_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    request_id: str = ""
    next_utterance: int = 0
    recording_started: bool = False
    polls_after_end: int = 0
    ws: web.WebSocketResponse | None = field(default=None, compare=False)
    send_lock: asyncio.Lock | None = field(default=None, compare=False)
    finish_task: asyncio.Task | None = field(default=None, compare=False)

    def __repr__(self) -> str:
        return (
            f"LiveSession(id={self.id!r}, audio={len(self.audio)} bytes, connections={self.connections}, "
            f"stop_count={self.stop_count}, ended={self.ended}, close_code={self.close_code}, "
            f"server_messages={len(self.server_messages)})"
        )

    @property
    def audio_seconds(self) -> float:
        return len(self.audio) / self.settings.bytes_per_second

    def dedup_audio(self, *, probe: int = 64, min_overlap: int = 4) -> bytes:
        """The logical audio stream: `connection_streams` joined with each reconnection's resent overlap removed.

        Each connection after the first is assumed to start with a resend from some offset A <= the logical length
        so far. A is where the stream's first `probe` bytes occur in the logical stream (they must occur once only:
        use noisy audio), or else the longest tail of the logical stream (at least `min_overlap` bytes) the stream
        starts with, or else the logical length (nothing resent). The whole overlap is checked byte for byte.
        """
        logical = bytearray()
        for index, stream in enumerate(list(self.connection_streams)):
            if not stream:
                continue
            start = _resend_offset(logical, bytes(stream), probe=probe, min_overlap=min_overlap)
            overlap = min(len(logical) - start, len(stream))
            if logical[start : start + overlap] != stream[:overlap]:
                raise AssertionError(f"connection {index + 1}: its resend from offset {start} differs from the audio")
            logical += stream[overlap:]
        return bytes(logical)

    def messages_of_type(self, type_: str) -> list[dict]:
        return [m for m in list(self.server_messages) if m.get("type") == type_]

    def final_texts(self) -> list[str]:
        """Texts of the final `transcript` messages sent, stripped, in order."""
        return [
            str(((m.get("data") or {}).get("utterance") or {}).get("text", "")).strip()
            for m in self.messages_of_type("transcript")
            if isinstance(m.get("data"), dict) and m["data"].get("is_final") is True
        ]

    def partial_texts(self) -> list[str]:
        return [
            str(((m.get("data") or {}).get("utterance") or {}).get("text", "")).strip()
            for m in self.messages_of_type("transcript")
            if isinstance(m.get("data"), dict) and m["data"].get("is_final") is False
        ]


def _resend_offset(logical: bytearray, stream: bytes, *, probe: int, min_overlap: int) -> int:
    """Where in `logical` a new connection's `stream` starts resending (see `LiveSession.dedup_audio`)."""
    head = stream[: max(probe, 1)]
    found = logical.find(head)
    if found != -1:
        if logical.find(head, found + 1) != -1:
            raise AssertionError(
                f"a resend of {len(head)} bytes matches more than one offset: use noisy audio to de-duplicate"
            )
        return found
    # The overlap may be shorter than the probe: the stream starts with a short tail of the logical stream.
    for size in range(min(len(head), len(logical)) - 1, min_overlap - 1, -1):
        if logical.endswith(stream[:size]):
            return len(logical) - size
    return len(logical)


def _resume_offset(logical: bytearray, stream: bytes, *, near: int, probe: int = 64, min_overlap: int = 4) -> int:
    """Where a reconnection's first bytes start in `logical`, for numbering; never raises (unlike `_resend_offset`).

    Audio that matches in several places (silence, a repeated test pattern) may as well be new audio: it is placed
    at the candidate nearest to `near` (what was acknowledged), the end of `logical` being one of them.
    """
    head = stream[: max(probe, 1)]
    found: list[int] = []
    at = logical.find(head)
    while at != -1 and len(found) < 1000:
        found.append(at)
        at = logical.find(head, at + 1)
    if len(found) == 1:
        return found[0]
    if found:
        return min([*found, len(logical)], key=lambda offset: abs(offset - near))
    for size in range(min(len(head), len(logical)) - 1, min_overlap - 1, -1):
        if logical.endswith(stream[:size]):
            return len(logical) - size
    return len(logical)


@dataclass
class _Connection:
    """One accepted WebSocket of a session, with the faults planned for it."""

    number: int  # 1 for the session's first connection
    ws: web.WebSocketResponse
    transport: asyncio.BaseTransport | None
    stream: bytearray
    drop_after: int | None = None
    close_after: tuple[int, int] | None = None
    received: int = 0
    alive: bool = True
    offset: int | None = None  # session offset of the next byte received on this connection
    acks_due: int = 0


# --------------------------------------------------------------------------------------------------------------------
# Scripted transcript content
# --------------------------------------------------------------------------------------------------------------------


def _r(value: float) -> float:
    return round(value, 3)


def make_utterance(text: str, start: float, end: float, language: str, *, confidence: float = 0.97) -> dict:
    """An Utterance (§6.1): leading-space text and words, words spread evenly over [start, end]."""
    words_text = text.split()
    words = []
    step = (end - start) / max(len(words_text), 1)
    for k, word in enumerate(words_text):
        w_start = start + k * step
        words.append(
            {
                "word": " " + word,
                "start": _r(w_start),
                "end": _r(w_start + step * 0.9),
                "confidence": round(0.9 + 0.01 * (k % 9), 2),
            }
        )
    return {
        "start": _r(start),
        "end": _r(end),
        "confidence": confidence,
        "channel": 0,
        "words": words,
        "text": (" " + " ".join(words_text)) if words_text else "",
        "language": language,
    }


# --------------------------------------------------------------------------------------------------------------------
# The emulator
# --------------------------------------------------------------------------------------------------------------------

# The POST /v2/live being handled: recorded by the middleware (even when it answers 401), completed by the handler.
_current_init: contextvars.ContextVar[InitRequest | None] = contextvars.ContextVar("current_init", default=None)


class GladiaEmulator:
    """Fake Gladia on 127.0.0.1; `start()` it, point the client at `base_url`, assert on what it recorded."""

    def __init__(
        self,
        *,
        api_keys: Iterable[str] = frozenset({"test-key"}),
        utterances: list[str] | None = None,
        seconds_per_utterance: float = 1.0,
    ) -> None:
        self.api_keys: set[str] = set(api_keys)
        self.utterances: list[str] = list(DEFAULT_UTTERANCES if utterances is None else utterances)
        self.seconds_per_utterance = seconds_per_utterance
        self.base_url = ""
        self.port = 0

        # recording
        self.init_requests: list[InitRequest] = []
        self.sessions: dict[str, LiveSession] = {}
        self.http_requests: list[tuple[str, str]] = []
        self.errors: list[str] = []  # internal emulator errors (tracebacks); should stay empty

        # knobs
        self.init_failures: list[int] = []
        self.create_then_fail = 0
        self.max_concurrent_sessions: int | None = None
        self.result_processing_polls = 0
        self.extra_messages: list[dict] = []
        self.raw_text_frames: list[str] = []
        self.pings_on_open = 0  # ping frames sent when a connection opens (the client must answer, and say nothing)
        self.post_processing_delay = 0.0
        self.left_to_process = 0.0  # the stop ack's recording_left_to_process: seconds of audio still to process
        self.lost_finals: set[int] = set()  # utterance indices whose final never goes out (lost in a drop)
        # Multichannel sessions: utterance i is heard on channel i % channels (as Gladia labels each utterance
        # with the channel it was said on), instead of every utterance on channel 0.
        self.spread_channels = False
        # add-on name (translation, named_entity_recognition, sentiment_analysis, summarization, chapterization) ->
        # Gladia's message: that add-on fails, as the spec shows it (`data: null, error: {message}` in its live
        # messages, `success: false, error: {...}, results: null` in the result).
        self.addon_failures: dict[str, str] = {}
        # fault injection (see the module docstring)
        self.drop_after_bytes: list[int] = []
        self.close_after_bytes: list[tuple[int, int]] = []
        self.refuse_connections = 0
        self.refuse_after_fault = 0
        self.ack_delay = 0.0
        self.drop_acks_every = 0
        self.resend_finals_on_reconnect = False
        self.reid_finals_on_reconnect = False
        self.message_delay = 0.0
        self.inclusive_acks = False
        self.ack_byte_end: int | None = None  # every ack claims this byte_range end (a hostile or broken server)
        self.skip_first_acks_on_reconnect = 0
        self.drop_at_stop = 0
        self.asyncapi_refusals = False
        self.drops_in_post_processing = 0
        self.drop_instead_of: set[str] = set()
        self.silent = False
        # Chapters as Gladia made them before 2026; its newest schema marks the field "ignored" and sends none.
        self.legacy_chapters = False
        self.http_hang_seconds = 0.0
        # Gladia ends a live session after 3 hours (its close code is not documented): after this many seconds from
        # its creation, the emulator ends it as if it had taken a stop (audio after it is neither recorded nor
        # acknowledged; the finals, post-processing messages and end_session follow; close 1000), or, with
        # `cap_abrupt`, closes 1000 at once and says nothing more.
        self.session_cap_seconds: float | None = None
        self.cap_abrupt = False
        self.finals_within_audio = False  # a session's transcript covers the audio it received, not the whole script
        self.next_session_ids: list[str] = []  # ids POST /v2/live hands out first, in order (a hostile server's)
        self.ended_handshake_status = 0  # answer a connection to an ended session with this HTTP status (else 4404)
        self.live_url: str | None = None  # POST /v2/live answers this url ("{token}" filled in) instead of its own
        self.http_trickle_seconds = 0.0  # every REST answer trickles one byte this often, never ending
        self.http_body_bytes = 0  # every REST answer is a body of this many bytes (a hostile, huge answer)
        self.echo_key = False  # a 401 says which key it refused, in full (a careless or hostile server)
        self.hostile_error_text = ""  # appended to every REST error message (escape sequences, markup...)
        self.refused_handshakes = 0

        self._tokens: dict[str, str] = {}
        self._lock = threading.RLock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._open_sockets: set[web.WebSocketResponse] = set()
        self._background: set[asyncio.Task] = set()
        self._connections: dict[web.WebSocketResponse, _Connection] = {}  # every accepted WebSocket, by socket

    # ---------------------------------------------------------------- lifecycle (called from the test thread)

    def start(self) -> GladiaEmulator:
        if self._thread is not None:
            return self
        ready = threading.Event()
        failure: list[BaseException] = []
        loop = asyncio.new_event_loop()
        self._loop = loop

        def run() -> None:
            asyncio.set_event_loop(loop)
            loop.set_exception_handler(self._on_loop_exception)
            try:
                loop.run_until_complete(self._serve())
            except BaseException as exc:
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.close()

        self._thread = threading.Thread(target=run, name="gladia-emulator", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("Gladia emulator did not start within 10 s")
        if failure:
            self._thread = None
            raise RuntimeError("Gladia emulator failed to start") from failure[0]
        return self

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        if loop.is_running():
            try:
                asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(timeout=10)
            except Exception:
                self.errors.append("shutdown: " + traceback.format_exc())
            loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        self._thread = None
        self._loop = None

    def __enter__(self) -> GladiaEmulator:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # ---------------------------------------------------------------- assertions helpers

    def only_session(self) -> LiveSession:
        with self._lock:
            sessions = list(self.sessions.values())
        assert len(sessions) == 1, f"expected exactly one live session, got {len(sessions)}: {sessions!r}"
        return sessions[0]

    def wait_until(self, predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
        """Poll `predicate` until true or `timeout` seconds passed; for state the server updates asynchronously."""
        deadline = time.monotonic() + timeout
        while True:
            if predicate():
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.01)

    # ---------------------------------------------------------------- server setup (emulator thread)

    async def _serve(self) -> None:
        app = web.Application(middlewares=[self._middleware], client_max_size=4 * 1024 * 1024)
        app.router.add_get(WS_PATH, self._ws_handler)  # before /v2/live/{id}
        for path in ("/v2/live", "/v2/live/"):
            app.router.add_post(path, self._init_handler)
            app.router.add_get(path, self._list_handler)
        app.router.add_get("/v2/live/{id}", self._get_handler)
        app.router.add_delete("/v2/live/{id}", self._delete_handler)
        app.router.add_get("/v2/live/{id}/file", self._file_handler)
        __import__("emulator_prerecorded").install_prerecorded(self, app)  # the pre-recorded routes
        runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self._runner = runner
        self.port = int(runner.addresses[0][1])
        self.base_url = f"http://127.0.0.1:{self.port}"

    async def _shutdown(self) -> None:
        with self._lock:
            sessions = list(self.sessions.values())
        for session in sessions:
            if session.finish_task is not None and not session.finish_task.done():
                session.finish_task.cancel()
        for task in list(self._background):
            task.cancel()
        closes = [ws.close(code=1001, message=b"emulator stopping") for ws in list(self._open_sockets)]
        if closes:
            await asyncio.wait_for(asyncio.gather(*closes, return_exceptions=True), timeout=3)
        if self._runner is not None:
            await self._runner.cleanup()

    def _on_loop_exception(self, loop: asyncio.AbstractEventLoop, context: dict) -> None:
        exc = context.get("exception")
        if isinstance(exc, (ConnectionError, asyncio.CancelledError)):
            return
        self.errors.append(f"event loop: {context.get('message')}: {exc!r}")

    def _record_error(self, where: str) -> None:
        self.errors.append(f"{where}: {traceback.format_exc()}")

    # ---------------------------------------------------------------- HTTP

    def _error(
        self, status: int, message: str, request: web.Request, validation_errors: list[str] | None = None
    ) -> web.Response:
        body = error_envelope(status, message + self.hostile_error_text, request.path, validation_errors)
        headers = {"x-aipi-call-id": body["request_id"]}
        if status == 429:
            headers["Retry-After"] = "0"
        return web.json_response(body, status=status, headers=headers)

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if request.path == WS_PATH and request.headers.get("upgrade", "").lower() == "websocket":
            return await handler(request)  # the WebSocket carries its own token; not a REST request
        self.http_requests.append((request.method, request.path))
        init: InitRequest | None = None
        try:
            if request.method == "POST" and request.path.rstrip("/") == "/v2/live":
                raw = await request.read()
                try:
                    parsed = json.loads(raw.decode("utf-8")) if raw else None
                except (UnicodeDecodeError, ValueError):
                    parsed = None
                init = InitRequest(
                    query=dict(request.query),
                    body=parsed,
                    headers={k.lower(): v for k, v in request.headers.items()},
                    raw_body=raw,
                )
                self.init_requests.append(init)
                _current_init.set(init)
            if self.http_hang_seconds > 0:
                await asyncio.sleep(self.http_hang_seconds)  # the client has usually given up by now
            if self.http_trickle_seconds > 0:
                return await self._trickle(request)
            if self.http_body_bytes:
                return web.Response(body=b" " * self.http_body_bytes, content_type="application/json")
            key = request.headers.get("x-gladia-key")
            if key is None or key not in self.api_keys:
                refused = f"invalid key {key}" if self.echo_key else "gladia key not found"
                response: web.StreamResponse = self._error(401, refused, request)
            else:
                response = await handler(request)
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            message = {404: "Not found", 413: "payload too large"}.get(exc.status, exc.reason)
            response = self._error(exc.status, message, request)
        except Exception:
            self._record_error(f"{request.method} {request.path}")
            response = self._error(500, "Internal emulator error", request)
        if init is not None:
            init.status = response.status
            if isinstance(response, web.Response) and response.body is not None:
                try:
                    init.response = json.loads(bytes(response.body))  # type: ignore[arg-type]
                except (TypeError, ValueError):
                    init.response = None
        return response

    async def _trickle(self, request: web.Request) -> web.StreamResponse:
        """A 200 whose JSON body comes one byte every `http_trickle_seconds`, for as long as the client listens."""
        response = web.StreamResponse(status=200, headers={"Content-Type": "application/json"})
        await response.prepare(request)
        with contextlib.suppress(ConnectionError, asyncio.CancelledError):
            await response.write(b"{")
            for _ in range(100_000):
                await asyncio.sleep(self.http_trickle_seconds)
                await response.write(b" ")
        return response

    async def _init_handler(self, request: web.Request) -> web.StreamResponse:
        init = _current_init.get()
        assert init is not None
        if self.init_failures:
            status = self.init_failures.pop(0)
            try:
                message = HTTPStatus(status).phrase
            except ValueError:
                message = "Error"
            return self._error(status, message, request)

        region = request.query.get("region")
        if region is not None and region not in REGIONS:
            errors = [f"region must be one of the following values: {', '.join(REGIONS)} (got {_fmt(region)})"]
            return self._error(422, "Invalid parameter", request, errors)

        raw = init.raw_body
        if init.body is None and raw.strip() != b"null":
            return self._error(400, "Invalid JSON body", request, ["body must be a valid JSON object"])
        if not isinstance(init.body, dict):
            return self._error(400, "Invalid JSON body", request, ["body must be a JSON object"])
        config: dict = init.body
        errors = validate_live_request(config)
        if errors:
            return self._error(422, "Invalid parameter", request, errors)

        if self.max_concurrent_sessions is not None:
            with self._lock:
                held = sum(not s.ended for s in self.sessions.values())
            if held >= self.max_concurrent_sessions:
                return self._error(429, "Too Many Requests", request, ["concurrent session limit reached"])

        session_id = self.next_session_ids.pop(0) if self.next_session_ids else str(uuid.uuid4())
        token = str(uuid.uuid4())
        url = f"ws://127.0.0.1:{self.port}{WS_PATH}?token={token}"
        session = LiveSession(
            id=session_id,
            token=token,
            url=url,
            config=copy.deepcopy(config),
            settings=SessionSettings.from_config(config),
            created_at=now_iso(),
            region=region,
            request_id="G-" + session_id[:8],
            send_lock=asyncio.Lock(),
        )
        with self._lock:
            self.sessions[session_id] = session
            self._tokens[token] = session_id
        init.session_id = session_id
        if self.session_cap_seconds is not None:
            self._spawn(self._cap(session, self.session_cap_seconds))
        if self.create_then_fail > 0:
            self.create_then_fail -= 1
            return self._error(500, "Internal Server Error", request)
        if self.live_url is not None:  # a hostile or broken answer: "http://…", "", "ws://[::1", a cleartext ws://
            url = self.live_url.replace("{token}", token)
        return web.json_response({"id": session_id, "created_at": session.created_at, "url": url}, status=201)

    def _find(self, request: web.Request) -> LiveSession | None:
        session = self.sessions.get(request.match_info.get("id", ""))
        return None if session is None or session.deleted else session

    def _job(self, session: LiveSession, *, count_poll: bool) -> dict:
        status = "processing"
        if session.ended:
            if count_poll:
                session.polls_after_end += 1
            if not count_poll or session.polls_after_end > self.result_processing_polls:
                status = "done"
        done = status == "done" and session.result is not None
        request_params = dict(TOP_LEVEL_DEFAULTS)
        request_params.update({k: v for k, v in session.config.items() if k != "custom_metadata"})
        result = None
        if done:
            assert session.result is not None
            result = copy.deepcopy(session.result)
            result["messages"] = [json.dumps(m) for m in session.server_messages]
        return {
            "id": session.id,
            "request_id": session.request_id,
            "version": 2,
            "status": status,
            "created_at": session.created_at,
            "completed_at": session.ended_at if done else None,
            "custom_metadata": session.config.get("custom_metadata"),
            "error_code": None,
            "post_session_metadata": {},
            "kind": "live",
            "file": {
                "id": session.file_id,
                "filename": None,
                "source": None,
                "audio_duration": _r(session.audio_seconds),
                "number_of_channels": session.settings.channels,
            }
            if done
            else None,
            "request_params": request_params,
            "result": result,
        }

    async def _get_handler(self, request: web.Request) -> web.StreamResponse:
        session = self._find(request)
        if session is None:
            return self._error(404, "Not found", request)
        return web.json_response(self._job(session, count_poll=True))

    async def _delete_handler(self, request: web.Request) -> web.StreamResponse:
        session = self._find(request)
        if session is None:
            return self._error(404, "Not found", request)
        if not session.ended:
            return self._error(403, "Only done or errored live jobs can be deleted", request)
        session.deleted = True
        return web.Response(status=202)

    async def _file_handler(self, request: web.Request) -> web.StreamResponse:
        session = self._find(request)
        if session is None:
            return self._error(404, "Not found", request)
        s = session.settings
        body = wav_bytes(
            bytes(session.audio),
            encoding=s.encoding,
            sample_rate=s.sample_rate,
            channels=s.channels,
            bit_depth=s.bit_depth,
        )
        return web.Response(body=body, content_type="application/octet-stream")

    async def _list_handler(self, request: web.Request) -> web.StreamResponse:
        def int_param(name: str, default: int, low: int) -> int | None:
            raw = request.query.get(name)
            if raw is None:
                return default
            try:
                value = int(raw)
            except ValueError:
                return None
            return value if value >= low else None

        offset, limit = int_param("offset", 0, 0), int_param("limit", 20, 1)
        if offset is None or limit is None:
            return self._error(422, "Invalid parameter", request, ["offset must be >= 0 and limit >= 1"])
        with self._lock:
            sessions = [s for s in self.sessions.values() if not s.deleted]
        jobs = filter_listed([self._job(s, count_poll=False) for s in reversed(sessions)], request.query)

        def page(start: int) -> str:
            return f"{self.base_url}/v2/live?offset={start}&limit={limit}"

        return web.json_response(
            {
                "first": page(0),
                "current": page(offset),
                "next": page(offset + limit) if offset + limit < len(jobs) else None,
                "items": jobs[offset : offset + limit],
            }
        )

    # ---------------------------------------------------------------- WebSocket

    async def _ws_handler(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(
            max_msg_size=64 * MAX_FRAME_BYTES,
            autoclose=False,
            autoping=False,  # the client's pings are counted (client_pings), then answered
            compress=False,
            timeout=2.0,
            heartbeat=None,
        )
        if not ws.can_prepare(request).ok:
            return self._error(400, "WebSocket upgrade expected", request)
        session_id = self._tokens.get(request.query.get("token", ""))
        session = self.sessions.get(session_id) if session_id else None
        if self.refuse_connections > 0:
            self.refuse_connections -= 1
            self.refused_handshakes += 1
            if session is not None:
                session.refused_handshakes += 1
            return self._error(503, "Service Unavailable", request)
        if session is not None and (session.ended or session.deleted) and self.ended_handshake_status:
            return self._error(self.ended_handshake_status, "session already ended", request)
        await ws.prepare(request)
        self._open_sockets.add(ws)
        try:
            if session is None:
                await ws.close(code=4401, message=b"invalid token")
                return ws
            session.connections += 1
            conn = _Connection(number=session.connections, ws=ws, transport=request.transport, stream=bytearray())
            session.connection_streams.append(conn.stream)
            self._connections[ws] = conn
            if session.ended or session.deleted:
                session.close_code = 4404
                await ws.close(code=4404, message=b"session already ended")
                return ws
            if self.drop_after_bytes:
                conn.drop_after = self.drop_after_bytes.pop(0)
            if self.close_after_bytes:
                conn.close_after = self.close_after_bytes.pop(0)
            previous, session.ws = session.ws, ws
            if previous is not None and not previous.closed:
                # The client opened a new connection while the old one still looked alive to us: the new one wins.
                session.close_code = 4409
                task = asyncio.get_running_loop().create_task(previous.close(code=4409, message=b"replaced"))
                self._background.add(task)
                task.add_done_callback(self._background.discard)
            await self._on_open(session, conn)
            await self._receive_loop(session, conn)
        except Exception:
            self._record_error("websocket")
            if not ws.closed:
                await ws.close(code=1011, message=b"internal emulator error")
        finally:
            conn_done = self._connections.get(ws)
            if conn_done is not None:
                conn_done.alive = False
            self._open_sockets.discard(ws)
        return ws

    async def _on_open(self, session: LiveSession, conn: _Connection) -> None:
        ws = conn.ws
        for _ in range(self.pings_on_open):  # as Gladia's Python SDK's websockets does every 20 s
            async with session.send_lock:  # a frame of its own: never interleaved with a message being sent
                await ws.ping(b"keepalive")
        for message in list(self.extra_messages):
            await self._send(session, copy.deepcopy(message), ws=ws)
        for frame in list(self.raw_text_frames):
            if not ws.closed and not self.silent:
                session.raw_frames_sent.append(frame)
                await ws.send_str(frame)
        if conn.number > 1 and (self.resend_finals_on_reconnect or self.reid_finals_on_reconnect):
            await self._replay_finals(session, conn)

    async def _replay_finals(self, session: LiveSession, conn: _Connection) -> None:
        """Send again every final sent so far (one per utterance timing), with its id or with a new one."""
        seen: set[tuple[Any, Any, Any]] = set()
        for old in list(session.server_messages):
            data = old.get("data")
            if old.get("type") != "transcript" or not isinstance(data, dict) or data.get("is_final") is not True:
                continue
            utterance = data.get("utterance") or {}
            timing = (utterance.get("channel"), utterance.get("start"), utterance.get("end"))
            if timing in seen:
                continue
            seen.add(timing)
            data = copy.deepcopy(data)
            if self.reid_finals_on_reconnect:
                data["id"] = f"{data.get('id')}-r{conn.number}"
            await self._send(session, self._message(session, "transcript", data), ws=conn.ws)

    async def _receive_loop(self, session: LiveSession, conn: _Connection) -> None:
        ws = conn.ws
        try:
            while True:
                msg = await ws.receive()
                if msg.type == WSMsgType.BINARY:
                    data: bytes = msg.data
                    if len(data) > MAX_FRAME_BYTES:
                        await self._close(session, ws, 1009, "frame too big")
                        return
                    if not await self._on_audio(session, conn, data, binary=True):
                        return
                elif msg.type == WSMsgType.TEXT:
                    text: str = msg.data
                    if len(text) > MAX_FRAME_BYTES // 4 and len(text.encode("utf-8")) > MAX_FRAME_BYTES:
                        await self._close(session, ws, 1009, "frame too big")
                        return
                    if not await self._on_text(session, conn, text):
                        return
                elif msg.type == WSMsgType.CLOSE:
                    code = msg.data if isinstance(msg.data, int) else None
                    session.client_close_codes.append(code)
                    if code == 1000 and not session.stopped:
                        self._end_without_stop(session)
                    await ws.close(code=1000)  # the reply to the client's close frame
                    return
                elif msg.type == WSMsgType.ERROR:
                    if isinstance(msg.data, WebSocketError):
                        session.close_code = msg.data.code  # aiohttp already closed with it (e.g. 1009, 1002)
                    else:
                        session.client_close_codes.append(None)
                    return
                elif msg.type == WSMsgType.CLOSED:
                    session.client_close_codes.append(None)  # dropped without a close frame
                    return
                elif msg.type == WSMsgType.PING:
                    session.client_pings += 1
                    with contextlib.suppress(Exception):
                        await ws.pong(msg.data)
                elif msg.type == WSMsgType.PONG:
                    continue  # the client's answer to our keep-alive ping
                else:  # CLOSING: we closed it from another task
                    return
        finally:
            if session.ws is ws:
                session.ws = None

    async def _close(self, session: LiveSession, ws: web.WebSocketResponse, code: int, reason: str) -> None:
        session.close_code = code
        await ws.close(code=code, message=reason.encode())

    async def _send(self, session: LiveSession, message: dict, *, ws: web.WebSocketResponse | None = None) -> bool:
        """Send one JSON message on the session's current connection and record it; dropped if none is open."""
        if self.silent:
            return False
        if self.message_delay > 0:
            await asyncio.sleep(self.message_delay)
        assert session.send_lock is not None
        async with session.send_lock:
            target = ws or session.ws
            if target is None or target.closed:
                return False
            conn = self._connections.get(target)
            if conn is not None and not conn.alive:
                return False  # aborted by an injected drop: nothing reaches the client any more
            session.server_messages.append(message)
            # If the peer just went away the message still counts as sent, as it would on a real network.
            with contextlib.suppress(Exception):
                await target.send_str(json.dumps(message))
            return True

    async def _send_ack(
        self, session: LiveSession, ack: dict, ws: web.WebSocketResponse, end: int, delay: float = 0.0
    ) -> None:
        """Send an audio ack (maybe late); `end` is its exclusive end, remembered once the ack is out."""
        if delay > 0:
            await asyncio.sleep(delay)
        current = session.ws is ws  # an ack on a connection the client has left behind never reaches it
        if await self._send(session, ack, ws=ws) and current:
            session.acked_until = max(session.acked_until, end)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def _message(self, session: LiveSession, type_: str, data: Any, **extra: Any) -> dict:
        message: dict[str, Any] = {"session_id": session.id, "created_at": now_iso(), "type": type_}
        message.update(extra)
        message["data"] = data
        return message

    # ---------------------------------------------------------------- client frames

    async def _on_text(self, session: LiveSession, conn: _Connection, text: str) -> bool:
        """Handle one text frame; False when the connection is gone (an injected fault)."""
        try:
            message = json.loads(text)
        except ValueError:
            return True  # not JSON: ignored
        if not isinstance(message, dict):
            return True
        session.client_messages.append(message)
        kind = message.get("type")
        if kind == "audio_chunk":
            data = message.get("data")
            chunk = data.get("chunk") if isinstance(data, dict) else None
            try:
                if not isinstance(chunk, str):
                    raise ValueError("missing data.chunk")
                audio = base64.b64decode(chunk, validate=True)
            except (ValueError, binascii.Error):
                if session.settings.acks and not session.stopped:
                    error = {"message": "Invalid audio chunk: data.chunk must be base64-encoded audio"}
                    nack = self._message(session, "audio_chunk", None, acknowledged=False, error=error)
                    await self._send(session, nack, ws=conn.ws)
                return True
            return await self._on_audio(session, conn, audio, binary=False)
        if kind == "stop_recording":
            return await self._on_stop(session, conn)
        return True

    async def _on_audio(self, session: LiveSession, conn: _Connection, audio: bytes, *, binary: bool) -> bool:
        """Record, acknowledge and transcribe one audio frame; False when an injected fault ended the connection."""
        if session.stopped or session.ended:
            session.ignored_audio_frames += 1
            return True
        s = session.settings
        if not session.recording_started:
            session.recording_started = True
            if s.lifecycle:
                await self._send(session, self._message(session, "start_recording", None))
        session.audio += audio
        session.frame_sizes.append(len(audio))
        conn.stream += audio
        conn.received += len(audio)
        start = self._place(session, conn, audio)
        end = start + len(audio)
        if binary:
            session.binary_frames += 1
        else:
            session.base64_frames += 1
        if await self._inject_fault(session, conn):
            return False
        if s.acks:
            bps = s.bytes_per_second
            claimed = end if self.ack_byte_end is None else self.ack_byte_end
            byte_range = [start, claimed - 1] if self.inclusive_acks else [start, claimed]
            data = {"byte_range": byte_range, "time_range": [start / bps, end / bps]}
            ack = self._message(session, "audio_chunk", data, acknowledged=True, error=None)
            await self._ack(session, conn, ack, end)
        seconds = session.audio_seconds
        while (
            session.next_utterance < len(self.utterances)
            and seconds + 1e-9 >= (session.next_utterance + 1) * self.seconds_per_utterance
            and not session.stopped
        ):
            await self._emit_utterance(session, session.next_utterance, partials=s.partials)
        return True

    def _place(self, session: LiveSession, conn: _Connection, audio: bytes) -> int:
        """The session offset of `audio`, the next frame on `conn`; lays it over what the session holds."""
        logical = session.logical_audio
        if conn.offset is None:
            conn.offset = _resume_offset(logical, audio, near=session.acked_until) if conn.number > 1 else len(logical)
            if conn.number > 1:
                session.resend_offsets.append(conn.offset)
                session.resent_after_ack += max(0, session.acked_until - conn.offset)
        start = conn.offset
        overlap = max(0, min(len(logical) - start, len(audio)))
        if logical[start : start + overlap] != audio[:overlap]:
            session.resend_mismatches += 1
        logical += audio[overlap:]
        conn.offset = start + len(audio)
        return start

    async def _inject_fault(self, session: LiveSession, conn: _Connection) -> bool:
        """Apply the drop or close planned for this connection once its threshold is met; True if one happened."""
        if conn.drop_after is not None and conn.received >= conn.drop_after:
            await self._drop(session, conn, f"dropped after {conn.received} bytes")
            return True
        if conn.close_after is not None and conn.received >= conn.close_after[0]:
            code = conn.close_after[1]
            session.injected_faults.append(f"connection {conn.number}: closed {code} after {conn.received} bytes")
            self.refuse_connections += self.refuse_after_fault
            conn.alive = False
            if session.ws is conn.ws:
                session.ws = None
            await self._close(session, conn.ws, code, f"injected close {code}")
            return True
        return False

    async def _drop(self, session: LiveSession, conn: _Connection, what: str) -> None:
        """Abort the TCP connection: no close frame; what the client sends from now on is lost."""
        session.injected_faults.append(f"connection {conn.number}: {what}")
        self.refuse_connections += self.refuse_after_fault
        conn.alive = False
        if session.ws is conn.ws:
            session.ws = None
        if conn.transport is not None:
            await self._flushed(conn.transport)
            conn.transport.abort()

    @staticmethod
    async def _flushed(transport: asyncio.BaseTransport, timeout: float = 1.0) -> None:
        """Wait (bounded) until the kernel has delivered what we sent: a drop then loses nothing already sent.

        Without this, a reset discards whatever still sits in our kernel send queue, and which messages reach the
        client before a drop would depend on timing. The client's unread frames still make the close a reset.
        """
        sock = transport.get_extra_info("socket")
        if sock is None or not hasattr(termios, "TIOCOUTQ"):
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                pending = struct.unpack("i", fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, b"\0\0\0\0"))[0]
            except OSError:
                return
            if pending == 0:
                return
            await asyncio.sleep(0.001)

    async def _ack(self, session: LiveSession, conn: _Connection, ack: dict, end: int) -> None:
        session.acks_due += 1
        conn.acks_due += 1
        if (self.drop_acks_every > 0 and session.acks_due % self.drop_acks_every == 0) or (
            conn.number > 1 and conn.acks_due <= self.skip_first_acks_on_reconnect
        ):
            session.acks_skipped += 1
            return
        if self.ack_delay > 0:
            self._spawn(self._send_ack(session, ack, conn.ws, end, self.ack_delay))
        else:
            await self._send_ack(session, ack, conn.ws, end)

    async def _on_stop(self, session: LiveSession, conn: _Connection) -> bool:
        """Take (or refuse) a stop; False when an injected fault ended the connection."""
        session.stop_count += 1
        s = session.settings
        if session.stopped:
            if s.acks:
                error: dict[str, Any] = {"message": "Recording already stopped"}
                data: dict | None = None
                if self.asyncapi_refusals:
                    error = {"status_code": 409, "exception": "ConflictError", **error}
                    data = {}
                nack = self._message(session, "stop_recording", data, acknowledged=False, error=error)
                await self._send(session, nack)
            return True
        session.stopped = True
        if self.silent:
            return True  # a server that never answers never finishes either
        session.finish_task = asyncio.get_running_loop().create_task(self._finish(session))
        if self.drop_at_stop > 0:
            self.drop_at_stop -= 1
            await self._drop(session, conn, "dropped after the stop, before its ack")
            return False
        if s.acks:
            data = {"recording_duration": _r(session.audio_seconds), "recording_left_to_process": self.left_to_process}
            ack = self._message(session, "stop_recording", data, acknowledged=True, error=None)
            await self._send(session, ack)
        return True

    # ---------------------------------------------------------------- transcript script

    def _utterance(self, session: LiveSession, index: int) -> dict:
        spu = self.seconds_per_utterance
        start, end = index * spu + 0.1 * spu, (index + 1) * spu - 0.05 * spu
        utterance = make_utterance(self.utterances[index], start, end, session.settings.language)
        if self.spread_channels:
            utterance["channel"] = index % session.settings.channels
        return utterance

    async def _emit_utterance(self, session: LiveSession, index: int, *, partials: bool) -> None:
        session.next_utterance = max(session.next_utterance, index + 1)
        s = session.settings
        utterance = self._utterance(session, index)
        uid = f"{utterance['channel']:02d}_{index:08d}"
        if s.speech_events:
            data = {"time": utterance["start"], "channel": utterance["channel"]}
            await self._send(session, self._message(session, "speech_start", data))
        if partials:
            words = utterance["text"].split()
            cuts = sorted({max(1, (len(words) + 1) // 2), len(words)}) if words else [0]
            for cut in cuts:
                spans = [dict(w, confidence=0.8) for w in utterance["words"][:cut]]
                partial = dict(
                    utterance,
                    end=spans[-1]["end"] if spans else utterance["start"],
                    confidence=0.8,
                    words=spans,
                    text="".join(w["word"] for w in spans),
                )
                data = {"id": uid, "is_final": False, "utterance": partial}
                await self._send(session, self._message(session, "transcript", data))
        if s.speech_events:
            data = {"time": utterance["end"], "channel": utterance["channel"]}
            await self._send(session, self._message(session, "speech_end", data))
        if s.finals and index not in self.lost_finals:
            data = {"id": uid, "is_final": True, "utterance": utterance}
            await self._send(session, self._message(session, "transcript", data))
        if not s.realtime_events:
            return
        for target in s.translation_targets:
            translated = make_utterance(
                f"[{target}] {utterance['text'].strip()}", utterance["start"], utterance["end"], target
            )
            data = {
                "utterance_id": uid,
                "utterance": utterance,
                "original_language": s.language,
                "target_language": target,
                "translated_utterance": translated,
            }
            await self._send(session, self._addon_message(session, "translation", data))
        if s.named_entity_recognition:
            data = {"utterance_id": uid, "utterance": utterance, "results": _entities(utterance)}
            await self._send(session, self._addon_message(session, "named_entity_recognition", data))
        if s.sentiment_analysis:
            sentiment = {
                "sentiment": "neutral",
                "emotion": "neutral",
                "text": utterance["text"].strip(),
                "start": utterance["start"],
                "end": utterance["end"],
                "channel": 0,
            }
            data = {"utterance_id": uid, "utterance": utterance, "results": [sentiment]}
            await self._send(session, self._addon_message(session, "sentiment_analysis", data))

    def _addon_message(self, session: LiveSession, kind: str, data: dict, addon: str | None = None) -> dict:
        """An add-on's message, or its failure as the spec shows it (data null, error set)."""
        failure = self.addon_failures.get(addon or kind)
        if failure is not None:
            return self._message(session, kind, None, error={"message": failure})
        return self._message(session, kind, data, error=None)

    def _build_result(self, session: LiveSession) -> dict:
        """The LiveResult (§6.5) without `messages`: what post_final_transcript carries and GET returns."""
        s = session.settings
        utterances = [self._utterance(session, i) for i in range(self._script_count(session))]
        texts = [u["text"].strip() for u in utterances if u["text"].strip()]
        full = " ".join(texts)
        duration = _r(session.audio_seconds)
        result: dict[str, Any] = {
            "metadata": {
                "audio_duration": duration,
                "number_of_distinct_channels": s.channels,
                "billing_time": _r(duration * s.channels),
                "transcription_time": _r(duration + 0.25),
            },
            "transcription": {"full_transcript": full, "languages": [s.language], "utterances": utterances},
        }

        def addon(results: Any, is_empty: bool = False) -> dict:
            return {"success": True, "is_empty": is_empty, "exec_time": 0.1, "error": None, "results": results}

        if s.translation_targets:
            translations = []
            for target in s.translation_targets:
                translated = [
                    make_utterance(f"[{target}] {u['text'].strip()}", u["start"], u["end"], target) for u in utterances
                ]
                translations.append(
                    {
                        "error": None,
                        "full_transcript": " ".join(t["text"].strip() for t in translated),
                        "languages": [target],
                        "utterances": translated,
                    }
                )
            result["translation"] = addon(translations)
        if s.summarization:
            result["summarization"] = addon(self._summary(s.summary_type, texts), is_empty=not texts)
        if s.named_entity_recognition:
            result["named_entity_recognition"] = addon([], is_empty=True)
        if s.sentiment_analysis:
            result["sentiment_analysis"] = addon("neutral")
        if s.chapterization and self.legacy_chapters:
            result["chapterization"] = addon({"chapters": self._chapters(utterances, full)})
        return fail_addons(result, self.addon_failures)

    @staticmethod
    def _summary(kind: str, texts: list[str]) -> str:
        if kind == "bullet_points":
            return "\n".join(f"- {t}" for t in texts)
        if kind == "concise":
            return texts[0] if texts else ""
        return "Summary: " + " ".join(texts)

    @staticmethod
    def _chapters(utterances: list[dict], full: str) -> list[dict]:
        if not utterances:
            return []
        return [
            {
                "headline": utterances[0]["text"].strip(),
                "gist": utterances[0]["text"].strip(),
                "keywords": [],
                "start": utterances[0]["start"],
                "end": utterances[-1]["end"],
                "text": full,
                "summary": full,
                "sentences": [
                    {"sentence": u["text"].strip(), "start": u["start"], "end": u["end"], "words": u["words"]}
                    for u in utterances
                ],
            }
        ]

    async def _post_send(self, session: LiveSession, message: dict) -> None:
        """A post-processing message, or (`drop_instead_of`) a dropped link that loses it; the next one waits for the
        client's reconnection."""
        if message.get("type") not in self.drop_instead_of:
            if self.drop_instead_of:
                await self._live_connection(session, timeout=5.0)  # the reconnection after a drop, if any
            await self._send(session, message)
            return
        if getattr(session, "_post_lost", False):
            return  # sent into the same outage: lost too, no second drop
        session._post_lost = True  # type: ignore[attr-defined]
        conn = await self._live_connection(session, timeout=5.0)
        if conn is not None:
            await self._drop(session, conn, f"dropped instead of sending {message.get('type')}")

    async def _finish(self, session: LiveSession) -> None:
        """After stop_recording: remaining finals, post-processing messages, end, close 1000."""
        try:
            await asyncio.sleep(0)  # the stop's ack goes out first
            for _ in range(self.drops_in_post_processing):
                conn = await self._live_connection(session, timeout=5.0)
                if conn is not None:
                    await self._drop(session, conn, "dropped while post-processing")
            if self.post_processing_delay > 0:
                await asyncio.sleep(self.post_processing_delay)
            s = session.settings
            while session.next_utterance < self._script_count(session):
                await self._emit_utterance(session, session.next_utterance, partials=False)
            if s.lifecycle:
                data = {"recording_duration": _r(session.audio_seconds)}
                await self._send(session, self._message(session, "end_recording", data))
            result = self._build_result(session)
            if s.post_events:
                transcription = copy.deepcopy(result["transcription"])
                await self._post_send(session, self._message(session, "post_transcript", transcription))
                if s.summarization:
                    data = {"results": result["summarization"]["results"]}
                    message = self._addon_message(session, "post_summarization", data, "summarization")
                    await self._post_send(session, message)
                if s.chapterization and self.legacy_chapters:
                    chapters = result["chapterization"]["results"]
                    data = {"results": chapters["chapters"] if chapters else None}
                    message = self._addon_message(session, "post_chapterization", data, "chapterization")
                    await self._send(session, message)
                await self._post_send(session, self._message(session, "post_final_transcript", copy.deepcopy(result)))
            if s.lifecycle:
                await self._send(session, self._message(session, "end_session", None))
            self._mark_ended(session, result)
            ws = session.ws
            if ws is not None and not ws.closed:
                await self._close(session, ws, 1000, "session ended")
        except asyncio.CancelledError:
            raise
        except Exception:
            self._record_error(f"finishing session {session.id}")

    async def _live_connection(self, session: LiveSession, timeout: float) -> _Connection | None:
        """The session's open connection, waiting (bounded) for the client to reconnect if it has none."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ws = session.ws
            conn = self._connections.get(ws) if ws is not None else None
            if conn is not None and conn.alive and not ws.closed:
                return conn
            await asyncio.sleep(0.01)
        return None

    async def _cap(self, session: LiveSession, seconds: float) -> None:
        """The session's time is up: Gladia ends it, whatever the client is doing."""
        await asyncio.sleep(seconds)
        if session.stopped or session.ended:
            return
        session.capped = True
        session.stopped = True
        if self.cap_abrupt:
            self._mark_ended(session, self._build_result(session))
            ws = session.ws
            if ws is not None and not ws.closed:
                await self._close(session, ws, 1000, "session duration limit reached")
            return
        session.finish_task = asyncio.get_running_loop().create_task(self._finish(session))

    def _script_count(self, session: LiveSession) -> int:
        """How many of the scripted utterances the session's transcript holds."""
        if not self.finals_within_audio:
            return len(self.utterances)
        return min(len(self.utterances), int(session.audio_seconds / self.seconds_per_utterance + 1e-9))

    def _end_without_stop(self, session: LiveSession) -> None:
        """The client closed with 1000 instead of stop_recording: the recording ends, nothing more is sent."""
        session.stopped = True
        self._mark_ended(session, self._build_result(session))

    def _mark_ended(self, session: LiveSession, result: dict) -> None:
        if session.ended:
            return
        session.result = result
        session.ended_at = now_iso()
        session.ended = True
