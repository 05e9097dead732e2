"""Pre-recorded routes for the Gladia emulator (gladia-api.md §5, §5.6, §7 items 20-25, Appendix C).

Kept apart from `emulator.py` so both can be edited at once. `install_prerecorded(emulator, app)` adds the routes to
the emulator's aiohttp app (they then go through its middleware: key check, 401 envelope, error recording);
`FullGladiaEmulator` does the same without touching `emulator.py`, by routing in its middleware override.

- `POST /v2/upload`: multipart field `audio` -> 200 `{audio_url, audio_metadata}` (duration and channels from a WAV
  header when it is one); JSON `{audio_url}` imports a remote file; anything else -> 400.
- `POST /v2/pre-recorded` (and the deprecated `POST /v2/transcription`): validated per §5.2 (400 with
  `validation_errors`), 201 `{id, result_url}` with `result_url` at `/v2/transcription/{id}`.
- `GET /v2/pre-recorded/{id}` and `GET /v2/transcription/{id}` (which also serves live ids): each poll walks
  `queued` -> `processing` -> `done` | `error` (knob `polls_before_done`).
- `GET /v2/pre-recorded` (and `/v2/transcription`, both kinds): pages `{first, current, next, items}`.
- `DELETE …/{id}`: 403 until terminal, 202, then 404. `GET …/{id}/file`: the uploaded bytes, octet-stream.

Knobs on `emulator.prerecorded` (a `PreRecordedState`): `polls_before_done`, `fail_next`, `fail_ids`,
`fail_filenames`, `rate_limit_next`, `create_errors`, `max_page_size`, `next_link_path`, `addon_failures`,
`utterances`.
Everything received is recorded there too.
"""

from __future__ import annotations

import copy
import functools
import json
import math
import struct
import threading
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import unquote, urlsplit

from aiohttp import BodyPartReader, web
from emulator_filters import filter_listed

if __package__:
    from .emulator import (
        LANGUAGES,
        SUMMARY_TYPES,
        TRANSLATION_LANGUAGES,
        TRANSLATION_MODELS,
        GladiaEmulator,
        _Validator,
        error_envelope,
        fail_addons,
        make_utterance,
        now_iso,
    )
else:
    from emulator import (
        LANGUAGES,
        SUMMARY_TYPES,
        TRANSLATION_LANGUAGES,
        TRANSLATION_MODELS,
        GladiaEmulator,
        _Validator,
        error_envelope,
        fail_addons,
        make_utterance,
        now_iso,
    )

DEFAULT_SCRIPT = [
    "Split infinity in a time when less is more.",
    "The quick brown fox jumps over the lazy dog.",
    "Thank you for listening.",
]
DEFAULT_URL_DURATION = 4.145782  # an imported URL's audio is never fetched: pretend it is split_infinity.wav

BOOLEAN_FIELDS = (
    "diarization",
    "subtitles",
    "translation",
    "summarization",
    "named_entity_recognition",
    "sentiment_analysis",
    "custom_vocabulary",
    "custom_spelling",
    "audio_to_llm",
    "pii_redaction",
    "sentences",
    "punctuation_enhanced",
    "callback",
)
# The 2026 schema (the SDK's "fitting new openapi", 645f7df) removed these: Gladia's validation refuses them.
REMOVED_FIELDS = (
    "chapterization",
    "chapterization_config",
    "name_consistency",
    "display_mode",
    "moderation",
    "structured_data_extraction",
    "structured_data_extraction_config",
    "context_prompt",
    "detect_language",
    "enable_code_switching",
)
SUBTITLE_FORMATS = ("srt", "vtt")
SUBTITLE_STYLES = ("default", "compliance")
TERMINAL = ("done", "error")

Handler = Callable[[web.Request, Mapping[str, str]], Awaitable[web.StreamResponse]]


# --------------------------------------------------------------------------------------------------------------------
# Validation of the POST /v2/pre-recorded body (§5.2); unknown keys are ignored
# --------------------------------------------------------------------------------------------------------------------


def _is_url(value: Any) -> bool:
    return isinstance(value, str) and value.lower().startswith(("http://", "https://")) and len(value) > 8


# SDK 2.2.1 `PreRecordedV2TranscriptionModel` (the published OpenAPI schema has no `model`; the official CLI sends it).
PRERECORDED_MODELS = ("solaria-1", "solaria-3", "solaria-fusion")


def validate_prerecorded_request(body: dict) -> list[str]:
    """Readable errors, each naming the offending field; an empty list means the body is acceptable."""
    v = _Validator()
    url = body.get("audio_url")
    if url is None:
        v.errors.append("audio_url is required")
    elif not _is_url(url):
        v.fail("audio_url", "must be a URL address", url)
    for name in BOOLEAN_FIELDS:
        v.boolean(body, name, name)
    v.errors += [f"property {name} should not exist" for name in REMOVED_FIELDS if name in body]
    v.enum(body, "model", "model", PRERECORDED_MODELS)

    lang = v.obj(body, "language_config", "language_config")
    if lang is not None:
        v.codes(lang, "languages", "language_config.languages", LANGUAGES)
        v.boolean(lang, "code_switching", "language_config.code_switching")

    dia = v.obj(body, "diarization_config", "diarization_config")
    if dia is not None:
        v.number(dia, "number_of_speakers", "diarization_config.number_of_speakers", 1, math.inf, integer=True)
        v.number(dia, "min_speakers", "diarization_config.min_speakers", 0, math.inf, integer=True)
        v.number(dia, "max_speakers", "diarization_config.max_speakers", 0, math.inf, integer=True)

    sub = v.obj(body, "subtitles_config", "subtitles_config")
    if sub is not None:
        formats = sub.get("formats")
        if formats is not None:
            if not isinstance(formats, list) or not formats:
                v.fail("subtitles_config.formats", "must be a non-empty array", formats)
            else:
                for i, fmt in enumerate(formats):
                    if fmt not in SUBTITLE_FORMATS:
                        v.fail(f"subtitles_config.formats[{i}]", "must be one of the following values: srt, vtt", fmt)
        v.number(sub, "minimum_duration", "subtitles_config.minimum_duration", 0, math.inf)
        v.number(sub, "maximum_duration", "subtitles_config.maximum_duration", 1, 30)
        v.number(
            sub, "maximum_characters_per_row", "subtitles_config.maximum_characters_per_row", 1, math.inf, integer=True
        )
        v.number(sub, "maximum_rows_per_caption", "subtitles_config.maximum_rows_per_caption", 1, 5, integer=True)
        v.enum(sub, "style", "subtitles_config.style", SUBTITLE_STYLES)

    translation = v.obj(body, "translation_config", "translation_config")
    if translation is not None:
        v.codes(
            translation, "target_languages", "translation_config.target_languages", TRANSLATION_LANGUAGES, required=True
        )
        v.enum(translation, "model", "translation_config.model", TRANSLATION_MODELS)
        for flag in ("match_original_utterances", "lipsync", "context_adaptation", "informal"):
            v.boolean(translation, flag, f"translation_config.{flag}")
        v.string(translation, "context", "translation_config.context")
    elif body.get("translation") is True:
        v.errors.append("translation_config is required when translation is true")

    summary = v.obj(body, "summarization_config", "summarization_config")
    if summary is not None:
        v.enum(summary, "type", "summarization_config.type", SUMMARY_TYPES)

    vocab = v.obj(body, "custom_vocabulary_config", "custom_vocabulary_config")
    if vocab is not None:
        v.number(vocab, "default_intensity", "custom_vocabulary_config.default_intensity", 0, 1)
        items = vocab.get("vocabulary")
        if items is None:
            v.errors.append("custom_vocabulary_config.vocabulary is required")
        elif not isinstance(items, list):
            v.fail("custom_vocabulary_config.vocabulary", "must be an array", items)
        else:
            for i, item in enumerate(items):
                path = f"custom_vocabulary_config.vocabulary[{i}]"
                if isinstance(item, str):
                    continue
                if not isinstance(item, dict) or not isinstance(item.get("value"), str):
                    v.fail(path, "must be a string or an object with a string value", item)
                    continue
                v.number(item, "intensity", f"{path}.intensity", 0, 1)
                v.enum(item, "language", f"{path}.language", sorted(LANGUAGES))

    spelling = v.obj(body, "custom_spelling_config", "custom_spelling_config")
    if spelling is not None:
        dictionary = spelling.get("spelling_dictionary")
        if not isinstance(dictionary, dict):
            v.fail("custom_spelling_config.spelling_dictionary", "must be an object", dictionary)
        else:
            for key, variants in dictionary.items():
                v.string_list(variants, f"custom_spelling_config.spelling_dictionary.{key}")

    llm = v.obj(body, "audio_to_llm_config", "audio_to_llm_config")
    if llm is not None:
        prompts = llm.get("prompts")
        if not isinstance(prompts, list) or not prompts:
            v.fail("audio_to_llm_config.prompts", "must contain at least 1 element", prompts)

    pii = v.obj(body, "pii_redaction_config", "pii_redaction_config")
    if pii is not None:
        v.enum(pii, "processed_text_type", "pii_redaction_config.processed_text_type", ("MARKER", "MASK"))

    metadata = body.get("custom_metadata")
    if metadata is not None:
        if not isinstance(metadata, dict):
            v.fail("custom_metadata", "must be an object", metadata)
        elif len(json.dumps(metadata, separators=(",", ":"), ensure_ascii=False)) > 2000:
            v.errors.append("custom_metadata must not exceed 2000 characters when stringified")

    callback = v.obj(body, "callback_config", "callback_config")
    if callback is not None:
        if not _is_url(callback.get("url")):
            v.fail("callback_config.url", "must be a URL address", callback.get("url"))
        v.enum(callback, "method", "callback_config.method", ("POST", "PUT"))
    v.string(body, "callback_url", "callback_url")
    return v.errors


# --------------------------------------------------------------------------------------------------------------------
# Recorded state
# --------------------------------------------------------------------------------------------------------------------


@dataclass(repr=False)
class UploadedFile:
    """One `POST /v2/upload` that succeeded (multipart, or a JSON import when `data` is None)."""

    id: str
    filename: str
    extension: str
    size: int
    audio_duration: float
    number_of_channels: int
    audio_url: str
    data: bytes | None  # exactly the bytes of the `audio` part
    source: str | None = None  # the imported URL
    field_names: list[str] = field(default_factory=list)  # every multipart field received, in order
    part_content_type: str | None = None
    content_length: int | None = None  # of the whole request (None when it came chunked)
    chunked: bool = False

    def __repr__(self) -> str:
        return f"UploadedFile(id={self.id!r}, filename={self.filename!r}, size={self.size})"


@dataclass(repr=False)
class PreRecordedJob:
    """A job created by `POST /v2/pre-recorded`; its status advances one step per GET."""

    id: str
    request_id: str
    created_at: str
    body: dict
    upload: UploadedFile | None
    filename: str | None
    audio_duration: float
    number_of_channels: int
    will_fail: bool = False
    status: str = "queued"
    polls: int = 0
    completed_at: str | None = None
    error_code: int | None = None
    deleted: bool = False
    result: dict | None = None

    def __repr__(self) -> str:
        return f"PreRecordedJob(id={self.id!r}, status={self.status!r}, polls={self.polls}, deleted={self.deleted})"


class PreRecordedState:
    """What the pre-recorded routes received, and the knobs that shape their answers."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.uploads: list[UploadedFile] = []
        self.list_queries: list[Any] = []  # each list request's query (a MultiDict), in order
        self.jobs: dict[str, PreRecordedJob] = {}  # insertion order = creation order
        self.create_requests: list[tuple[int, Any]] = []  # (status answered, JSON body) of each create
        self.rate_limited = 0  # 429s answered by `rate_limit_next`
        # knobs
        self.polls_before_done = 2  # GETs answered queued/processing before the job is terminal
        self.fail_next = 0  # the next N jobs created end in `error` (error_code 500)
        self.fail_ids: set[str] = set()  # these jobs end in `error` (checked when they finish)
        self.fail_filenames: set[str] = set()  # jobs whose file (upload name or URL basename) is one of these fail
        self.rate_limit_next = 0  # the next N POSTs (upload, create) answer 429 with Retry-After: 0
        self.create_errors: list[int] = []  # the next creates answer these statuses, in order, creating nothing
        self.max_page_size = 100  # list pages hold at most this many items whatever `limit` asks
        # A done job's `result` replaced by this (a malformed or hostile result: "garbage", None, ...) when set.
        self.result_replacement: list[Any] = []  # [] means Gladia's normal result; [x] means x
        # The path `next` links name. None: the route asked. Gladia's docs show `/v2/transcription` (the all-kinds
        # route) in the `next` of GET /v2/pre-recorded and GET /v2/live: a client must stay on the kind it lists.
        self.next_link_path: str | None = None
        self.addon_failures: dict[str, str] = {}  # add-on name -> Gladia's message: that add-on fails in results
        self.utterances: list[str] = list(DEFAULT_SCRIPT)

    def only_job(self) -> PreRecordedJob:
        with self.lock:
            jobs = list(self.jobs.values())
        assert len(jobs) == 1, f"expected exactly one pre-recorded job, got {jobs!r}"
        return jobs[0]

    def created_bodies(self) -> list[Any]:
        """Bodies of the creates that were accepted (201)."""
        return [body for status, body in list(self.create_requests) if status == 201]


# --------------------------------------------------------------------------------------------------------------------
# Audio and transcript helpers
# --------------------------------------------------------------------------------------------------------------------


def wav_info(data: bytes) -> tuple[float, int] | None:
    """(duration in seconds, channels) from a RIFF/WAVE header, or None if `data` is not a WAV."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return None
    pos, channels, byte_rate = 12, None, None
    while pos + 8 <= len(data):
        chunk_id, size = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        body = pos + 8
        if chunk_id == b"fmt " and size >= 16 and body + 12 <= len(data):
            _, channels, _, byte_rate = struct.unpack("<HHII", data[body : body + 12])
        elif chunk_id == b"data":
            if not channels or not byte_rate:
                return None
            available = min(size, len(data) - body)  # a cut-off recording promises more than it holds
            return available / byte_rate, channels
        pos = body + size + (size & 1)
    return None


def _r(value: float) -> float:
    return round(value, 3)


def _timestamp(seconds: float, sep: str) -> str:
    ms = round(seconds * 1000)
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def subtitles(fmt: str, utterances: list[dict]) -> str:
    """SRT or VTT captions, one per utterance."""
    if fmt == "vtt":
        cues = [
            f"{_timestamp(u['start'], '.')} --> {_timestamp(u['end'], '.')}\n{u['text'].strip()}\n" for u in utterances
        ]
        return "WEBVTT\n\n" + "\n".join(cues)
    cues = [
        f"{i}\n{_timestamp(u['start'], ',')} --> {_timestamp(u['end'], ',')}\n{u['text'].strip()}\n"
        for i, u in enumerate(utterances, 1)
    ]
    return "\n".join(cues)


def _addon(results: Any, *, is_empty: bool = False) -> dict:
    return {"success": True, "is_empty": is_empty, "exec_time": 0.1, "error": None, "results": results}


def _summary(kind: str, texts: list[str]) -> str:
    if kind == "bullet_points":
        return "\n".join(f"- {t}" for t in texts)
    if kind == "concise":
        return texts[0] if texts else ""
    return "Summary: " + " ".join(texts)


def build_result(job: PreRecordedJob, script: list[str]) -> dict:
    """The PreRecordedResult (§6.4) for a job: the script spread over the audio, plus the add-ons it asked for."""
    body = job.body
    languages = (body.get("language_config") or {}).get("languages") or []
    language = languages[0] if languages else "en"
    duration = job.audio_duration if job.audio_duration > 0 else float(len(script))
    step = duration / max(len(script), 1)
    utterances = [
        make_utterance(text, i * step + 0.05 * step, (i + 1) * step - 0.05 * step, language)
        for i, text in enumerate(script)
    ]
    if body.get("diarization") is True:
        dia = body.get("diarization_config") or {}
        speakers = dia.get("number_of_speakers") or dia.get("max_speakers") or 2
        for i, utterance in enumerate(utterances):
            utterance["speaker"] = i % max(int(speakers), 1)
    texts = [u["text"].strip() for u in utterances]
    formats = (body.get("subtitles_config") or {}).get("formats") or ["srt"]
    transcription: dict[str, Any] = {
        "full_transcript": " ".join(texts),
        "languages": [language],
        "utterances": utterances,
    }
    if body.get("subtitles") is True:
        transcription["subtitles"] = [{"format": f, "subtitles": subtitles(f, utterances)} for f in formats]
    if body.get("sentences") is True:
        transcription["sentences"] = [_addon(texts, is_empty=not texts)]
    result: dict[str, Any] = {
        "metadata": {
            "audio_duration": _r(duration),
            "number_of_distinct_channels": job.number_of_channels,
            "billing_time": _r(duration * job.number_of_channels),
            "transcription_time": _r(duration / 4 + 0.5),
        },
        "transcription": transcription,
    }
    if body.get("translation") is True:
        translations = []
        for target in (body.get("translation_config") or {}).get("target_languages") or []:
            translated = [
                make_utterance(f"[{target}] {u['text'].strip()}", u["start"], u["end"], target) for u in utterances
            ]
            entry: dict[str, Any] = {
                "error": None,
                "full_transcript": " ".join(t["text"].strip() for t in translated),
                "languages": [target],
                "utterances": translated,
            }
            if body.get("subtitles") is True:
                entry["subtitles"] = [{"format": f, "subtitles": subtitles(f, translated)} for f in formats]
            translations.append(entry)
        result["translation"] = _addon(translations)
    if body.get("summarization") is True:
        kind = (body.get("summarization_config") or {}).get("type") or "general"
        result["summarization"] = _addon(_summary(kind, texts), is_empty=not texts)
    if body.get("named_entity_recognition") is True:
        # Capitalised words past a sentence's first are "entities", timed as their utterance (a loose stand-in).
        found = [
            {"entity_type": "ORGANIZATION", "text": word.strip(".,!?"), "start": u["start"], "end": u["end"]}
            for u in utterances
            for word in u["text"].split()[1:]
            if word[:1].isupper()
        ]
        result["named_entity_recognition"] = _addon(found, is_empty=not found)
    if body.get("sentiment_analysis") is True:
        result["sentiment_analysis"] = _addon("neutral")  # a string, as Gladia's schema and SDK type it
    if body.get("audio_to_llm") is True:
        prompts = (body.get("audio_to_llm_config") or {}).get("prompts") or []
        answers = [
            {"prompt": p, "response": f"{len(texts)} utterances; the first: {texts[0] if texts else ''}"}
            for p in prompts
        ]
        result["audio_to_llm"] = _addon([_addon(a) for a in answers], is_empty=not answers)
    return result


# --------------------------------------------------------------------------------------------------------------------
# Routes
# --------------------------------------------------------------------------------------------------------------------


def _error(status: int, message: str, request: web.Request, validation_errors: list[str] | None = None) -> web.Response:
    body = error_envelope(status, message, request.path, validation_errors)
    headers = {"x-aipi-call-id": body["request_id"]}
    if status == 429:
        headers["Retry-After"] = "0"
    return web.json_response(body, status=status, headers=headers)


def _basename(url: str) -> str:
    return unquote(PurePosixPath(urlsplit(url).path).name) or "audio"


class _Routes:
    """The handlers, bound to one emulator; `table()` lists (method, path, handler)."""

    def __init__(self, emulator: GladiaEmulator, state: PreRecordedState) -> None:
        self.emulator = emulator
        self.state = state

    def table(self) -> list[tuple[str, str, Handler]]:
        routes: list[tuple[str, str, Handler]] = []
        for path in ("/v2/upload", "/v2/upload/"):
            routes.append(("POST", path, self.upload))
        for prefix in ("/v2/pre-recorded", "/v2/transcription"):
            for path in (prefix, prefix + "/"):
                routes.append(("POST", path, self.create))
                routes.append(("GET", path, functools.partial(self.list_jobs, prefix=prefix)))
            routes.append(
                ("GET", prefix + "/{id}", functools.partial(self.get_job, unified=prefix == "/v2/transcription"))
            )
            routes.append(
                ("DELETE", prefix + "/{id}", functools.partial(self.delete_job, unified=prefix == "/v2/transcription"))
            )
            routes.append(("GET", prefix + "/{id}/file", self.file))
        return routes

    @property
    def base_url(self) -> str:
        return self.emulator.base_url

    async def _rate_limited(self, request: web.Request) -> web.Response | None:
        with self.state.lock:
            if self.state.rate_limit_next <= 0:
                return None
            self.state.rate_limit_next -= 1
            self.state.rate_limited += 1
        async for _ in request.content.iter_chunked(1 << 16):
            pass  # drain the body, so the client sees the 429 and not a reset connection
        return _error(429, "Too many requests", request)

    # ---------------------------------------------------------------- upload

    async def upload(self, request: web.Request, params: Mapping[str, str]) -> web.StreamResponse:
        limited = await self._rate_limited(request)
        if limited is not None:
            return limited
        if request.content_type == "application/json":
            return await self._import_url(request)
        if request.content_type != "multipart/form-data" or "boundary=" not in request.headers.get("Content-Type", ""):
            return _error(400, "Content-Type is missing Multipart Boundary.", request)
        names: list[str] = []
        audio: tuple[str, str | None, bytes] | None = None
        try:
            reader = await request.multipart()
            while True:
                part = await reader.next()
                if part is None:
                    break
                if not isinstance(part, BodyPartReader):
                    names.append("(nested multipart)")
                    continue
                names.append(part.name or "")
                data = bytearray()
                while chunk := await part.read_chunk(1 << 16):
                    data += chunk
                if part.name == "audio" and part.filename is not None and audio is None:
                    audio = (part.filename, part.headers.get("Content-Type"), bytes(data))
        except (ValueError, AssertionError, RuntimeError) as exc:
            return _error(400, "Malformed multipart body", request, [str(exc)])
        if audio is None:
            return _error(
                400, "Invalid parameter", request, ["audio must be a file sent in a multipart field named audio"]
            )
        filename, part_type, data = audio
        info = wav_info(data)
        duration, channels = info if info is not None else (len(data) / 32000, 1)  # (inferred) 16 kHz 16-bit mono
        file_id = str(uuid.uuid4())
        upload = UploadedFile(
            id=file_id,
            filename=filename,
            extension=PurePosixPath(filename).suffix.lstrip(".").lower(),
            size=len(data),
            audio_duration=_r(duration),
            number_of_channels=channels,
            audio_url=f"{self.base_url}/file/{file_id}",
            data=data,
            field_names=names,
            part_content_type=part_type,
            content_length=request.content_length,
            chunked="chunked" in request.headers.get("Transfer-Encoding", "").lower(),
        )
        with self.state.lock:
            self.state.uploads.append(upload)
        return web.json_response(self._upload_answer(upload))

    async def _import_url(self, request: web.Request) -> web.StreamResponse:
        try:
            body = json.loads(await request.read())
        except ValueError:
            return _error(400, "Invalid JSON body", request, ["body must be a valid JSON object"])
        url = body.get("audio_url") if isinstance(body, dict) else None
        if not _is_url(url):
            return _error(400, "Invalid parameter", request, ["audio_url must be a URL address"])
        file_id = str(uuid.uuid4())
        name = _basename(url)
        upload = UploadedFile(
            id=file_id,
            filename=name,
            extension=PurePosixPath(name).suffix.lstrip(".").lower(),
            size=0,
            audio_duration=DEFAULT_URL_DURATION,
            number_of_channels=1,
            audio_url=f"{self.base_url}/file/{file_id}",
            data=None,
            source=url,
        )
        with self.state.lock:
            self.state.uploads.append(upload)
        return web.json_response(self._upload_answer(upload))

    @staticmethod
    def _upload_answer(upload: UploadedFile) -> dict:
        metadata: dict[str, Any] = {
            "id": upload.id,
            "filename": upload.filename,
            "extension": upload.extension,
            "size": upload.size,
            "audio_duration": upload.audio_duration,
            "number_of_channels": upload.number_of_channels,
        }
        if upload.source is not None:
            metadata["source"] = upload.source
        return {"audio_url": upload.audio_url, "audio_metadata": metadata}

    # ---------------------------------------------------------------- jobs

    async def create(self, request: web.Request, params: Mapping[str, str]) -> web.StreamResponse:
        limited = await self._rate_limited(request)
        if limited is not None:
            return limited
        raw = await request.read()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        with self.state.lock:
            injected = self.state.create_errors.pop(0) if self.state.create_errors else None
        if injected is not None:
            self.state.create_requests.append((injected, body))
            return _error(injected, "Injected failure", request)
        if not isinstance(body, dict):
            self.state.create_requests.append((400, body))
            return _error(400, "Invalid JSON body", request, ["body must be a JSON object"])
        errors = validate_prerecorded_request(body)
        upload: UploadedFile | None = None
        url = body.get("audio_url")
        if not errors and isinstance(url, str) and url.startswith(f"{self.base_url}/file/"):
            with self.state.lock:
                upload = next((u for u in self.state.uploads if u.audio_url == url), None)
            if upload is None:
                errors.append("audio_url does not point at an uploaded file")
        if errors:
            self.state.create_requests.append((400, body))
            return _error(400, "Invalid parameter", request, errors)
        filename = upload.filename if upload is not None else _basename(url)
        job_id = str(uuid.uuid4())
        with self.state.lock:
            will_fail = filename in self.state.fail_filenames or url in self.state.fail_filenames
            if self.state.fail_next > 0:
                self.state.fail_next -= 1
                will_fail = True
            self.state.jobs[job_id] = PreRecordedJob(
                id=job_id,
                request_id="G-" + job_id[:8],
                created_at=now_iso(),
                body=copy.deepcopy(body),
                upload=upload,
                filename=filename,
                audio_duration=upload.audio_duration if upload is not None else DEFAULT_URL_DURATION,
                number_of_channels=upload.number_of_channels if upload is not None else 1,
                will_fail=will_fail,
            )
            self.state.create_requests.append((201, body))
        return web.json_response({"id": job_id, "result_url": f"{self.base_url}/v2/transcription/{job_id}"}, status=201)

    def _find(self, job_id: str) -> PreRecordedJob | None:
        job = self.state.jobs.get(job_id)
        return None if job is None or job.deleted else job

    def _advance(self, job: PreRecordedJob) -> None:
        """One poll: queued ... processing, then done or error after `polls_before_done` polls."""
        with self.state.lock:
            if job.status in TERMINAL:
                return
            job.polls += 1
            wait = self.state.polls_before_done
            if job.polls <= wait:
                job.status = "processing" if job.polls == wait else "queued"
                return
            job.completed_at = now_iso()
            if job.will_fail or job.id in self.state.fail_ids:
                job.status, job.error_code = "error", 500
            elif self.state.result_replacement:
                job.status, job.result = "done", copy.deepcopy(self.state.result_replacement[0])
            else:
                job.status, job.result = (
                    "done",
                    fail_addons(build_result(job, list(self.state.utterances)), dict(self.state.addon_failures)),
                )

    def job_json(self, job: PreRecordedJob) -> dict:
        request_params = {k: v for k, v in job.body.items() if k != "custom_metadata"}
        upload = job.upload
        return {
            "id": job.id,
            "request_id": job.request_id,
            "version": 2,
            "status": job.status,
            "created_at": job.created_at,
            "completed_at": job.completed_at,
            "custom_metadata": job.body.get("custom_metadata"),
            "error_code": job.error_code,
            "post_session_metadata": {},
            "kind": "pre-recorded",
            "file": {
                "id": upload.id if upload is not None else None,
                "filename": job.filename,
                "source": None if upload is not None else job.body.get("audio_url"),
                "audio_duration": job.audio_duration,
                "number_of_channels": job.number_of_channels,
            },
            "request_params": request_params,
            "result": copy.deepcopy(job.result) if job.status == "done" else None,  # may be replaced (hostile)
        }

    def _live(self, job_id: str) -> Any:
        """The live emulator's session for /v2/transcription, if it has one (not deleted)."""
        session = self.emulator.sessions.get(job_id)
        return None if session is None or getattr(session, "deleted", False) else session

    async def get_job(self, request: web.Request, params: Mapping[str, str], *, unified: bool) -> web.StreamResponse:
        job = self._find(params["id"])
        if job is not None:
            self._advance(job)
            return web.json_response(self.job_json(job))
        if unified and (session := self._live(params["id"])) is not None:
            return web.json_response(self.emulator._job(session, count_poll=True))
        return _error(404, "Not found", request)

    async def delete_job(self, request: web.Request, params: Mapping[str, str], *, unified: bool) -> web.StreamResponse:
        job = self._find(params["id"])
        if job is not None:
            with self.state.lock:
                if job.status not in TERMINAL:
                    return _error(403, "Only done or errored jobs can be deleted", request)
                job.deleted = True
            return web.Response(status=202)
        if unified and (session := self._live(params["id"])) is not None:
            if not session.ended:
                return _error(403, "Only done or errored live jobs can be deleted", request)
            session.deleted = True
            return web.Response(status=202)
        return _error(404, "Not found", request)

    async def file(self, request: web.Request, params: Mapping[str, str]) -> web.StreamResponse:
        job = self._find(params["id"])
        if job is None or job.upload is None or job.upload.data is None:
            return _error(404, "Not found", request)
        return web.Response(body=job.upload.data, content_type="application/octet-stream")

    async def list_jobs(self, request: web.Request, params: Mapping[str, str], *, prefix: str) -> web.StreamResponse:
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
            return _error(400, "Invalid parameter", request, ["offset must be >= 0 and limit >= 1"])
        self.state.list_queries.append(request.query.copy())
        limit = min(limit, self.state.max_page_size)
        kinds = set(request.query.getall("kind", [])) or {"pre-recorded", "live"}
        with self.state.lock:
            jobs = [self.job_json(j) for j in reversed(self.state.jobs.values()) if not j.deleted]
        if prefix == "/v2/transcription":
            jobs = [j for j in jobs if "pre-recorded" in kinds]
            if "live" in kinds:
                with self.emulator._lock:
                    sessions = [s for s in self.emulator.sessions.values() if not s.deleted]
                jobs += [self.emulator._job(s, count_poll=False) for s in sessions]
                jobs.sort(key=lambda j: j["created_at"], reverse=True)
        jobs = filter_listed(jobs, request.query)

        def page(start: int) -> str:
            return f"{self.base_url}{self.state.next_link_path or prefix}?offset={start}&limit={limit}"

        return web.json_response(
            {
                "first": page(0),
                "current": page(offset),
                "next": page(offset + limit) if offset + limit < len(jobs) else None,
                "items": jobs[offset : offset + limit],
            }
        )


def _adapt(handler: Handler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def route(request: web.Request) -> web.StreamResponse:
        return await handler(request, request.match_info)

    return route


def install_prerecorded(emulator: GladiaEmulator, app: web.Application) -> None:
    """Add the pre-recorded routes to `app` (before it starts); state goes to `emulator.prerecorded`."""
    state = getattr(emulator, "prerecorded", None)
    if not isinstance(state, PreRecordedState):
        state = PreRecordedState()
        emulator.prerecorded = state  # type: ignore[attr-defined]
    for method, path, handler in _Routes(emulator, state).table():
        app.router.add_route(method, path, _adapt(handler))


class FullGladiaEmulator(GladiaEmulator):
    """The live emulator plus the pre-recorded routes, without editing `emulator.py`.

    `_serve` builds and freezes its app in one go, so the routes cannot be added to it afterwards; instead this
    class's middleware (the app calls `self._middleware`) resolves them on a router of its own and hands the match
    to the parent middleware, which keeps doing the key check, the 401 envelope and error recording.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.prerecorded = PreRecordedState()
        self._prerecorded_router = web.UrlDispatcher()
        self._prerecorded_handlers: dict[str, Handler] = {}
        for i, (method, path, handler) in enumerate(_Routes(self, self.prerecorded).table()):
            name = f"prerecorded_{i}"
            self._prerecorded_handlers[name] = handler
            self._prerecorded_router.add_route(method, path, _adapt(handler), name=name)

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        match = await self._prerecorded_router.resolve(request)
        if match.http_exception is None and match.route.name in self._prerecorded_handlers:
            handler = functools.partial(self._prerecorded_handlers[match.route.name], params=dict(match))
        return await super()._middleware(request, handler)
