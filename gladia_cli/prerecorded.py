"""Gladia's pre-recorded API: body building and validation, upload, create, poll, list, delete, audio download.

Library only: nothing here prints. Heavy imports stay inside functions so `gladia --help` stays fast.
"""

from __future__ import annotations

import builtins
import json
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from gladia_cli.errors import ApiError, NetworkError, UsageError
from gladia_cli.session_config import (
    LANGUAGES,
    MAX_METADATA_CHARS,
    SUMMARY_TYPES,
    TRANSLATION_LANGUAGES,
    TRANSLATION_MODELS,
    check_enum,
    check_language,
    check_range,
    nested,
)

if TYPE_CHECKING:
    import requests

    from gladia_cli.api import GladiaApi

KINDS = ("pre-recorded", "live")
SUBTITLE_FORMATS = ("srt", "vtt")
SUBTITLE_STYLES = ("default", "compliance")
PII_TEXT_TYPES = ("MARKER", "MASK")
CALLBACK_METHODS = ("POST", "PUT")
PENDING_STATUSES = ("queued", "processing")
MAX_UPLOAD_BYTES = 1000 * 1000 * 1000  # §5.7: 1000 MB per file
UPLOAD_TIMEOUT = 300.0  # §1.5, the SDK's upload_file timeout
CREATE_TIMEOUT = 60.0
DELETE_TIMEOUT = 60.0
FILE_TIMEOUT = 300.0
WAIT_TIMEOUT = 7200.0  # §1.5 polling deadline
UPLOAD_BLOCK = 64 * 1024

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
# A --config written for `gladia listen` puts these in sections pre-recorded does not have: say so, not ignore them.
LIVE_ONLY_SECTIONS = ("realtime_processing", "post_processing", "messages_config", "pre_processing")
# Legacy or unofficial keys the API silently ignores (§8 items 14 and 18): the user meant something else.
LEGACY_KEYS = {
    "detect_language": "language_config.languages",
    "enable_code_switching": "language_config.code_switching",
    "num_of_speakers": "diarization_config.number_of_speakers",
}


def is_url(source: str | Path) -> bool:
    """An http(s) URL goes to Gladia as is (it fetches it, YouTube links included); anything else is a file."""
    return isinstance(source, str) and source.lower().startswith(("http://", "https://"))


# --------------------------------------------------------------------------------------------------------------------
# The POST /v2/pre-recorded body
# --------------------------------------------------------------------------------------------------------------------


def build_prerecorded_body(
    audio_url: str | None = None,
    *,
    languages: list[str] | None = None,
    code_switching: bool | None = None,
    diarize: bool = False,
    speakers: int | None = None,
    min_speakers: int | None = None,
    max_speakers: int | None = None,
    translate: list[str] | None = None,
    summarize: str | None = None,
    vocabulary: list[str] | None = None,
    subtitles: list[str] | None = None,
    model: str | None = None,
    base: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Merge --config (`base`) and flags (which win) into a body checked against §5.2 before any network call.

    `audio_url` may be left out when the source is a file still to upload: `PreRecordedClient.transcribe` fills it.
    Any speaker count turns diarization on; `summarize` is the summary type; `subtitles` lists formats.
    """
    body: dict[str, Any] = json.loads(json.dumps(base or {}))  # deep copy, and proof it is plain JSON
    if audio_url is not None:
        body["audio_url"] = audio_url
    if languages or code_switching is not None:
        lang = nested(body, "language_config")
        if languages:
            lang["languages"] = list(languages)
        if code_switching is not None:
            lang["code_switching"] = code_switching
    counts = {"number_of_speakers": speakers, "min_speakers": min_speakers, "max_speakers": max_speakers}
    if diarize or any(v is not None for v in counts.values()):
        body["diarization"] = True
        given = {k: v for k, v in counts.items() if v is not None}
        if given:
            nested(body, "diarization_config").update(given)
    if translate:
        body["translation"] = True
        nested(body, "translation_config")["target_languages"] = list(dict.fromkeys(translate))
    if summarize is not None:
        body["summarization"] = True
        nested(body, "summarization_config")["type"] = summarize
    if vocabulary:
        body["custom_vocabulary"] = True
        # Keep a default_intensity the config may set; the words come from the flag.
        nested(body, "custom_vocabulary_config")["vocabulary"] = list(vocabulary)
    if model is not None:
        body["model"] = model
    if subtitles:
        body["subtitles"] = True
        nested(body, "subtitles_config")["formats"] = list(dict.fromkeys(subtitles))
    validate_prerecorded_body(body)
    return body


def _check_int(value: Any, name: str, low: int, high: int | None = None) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None and value > high):
        bound = f"from {low} to {high}" if high is not None else f"of at least {low}"
        raise UsageError(f"{name} must be a whole number {bound}, got {value!r}")


def _check_object(body: dict[str, Any], name: str) -> dict[str, Any] | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise UsageError(f"{name} must be a JSON object, got {value!r}")
    return value


def _check_http_url(value: Any, name: str) -> None:
    if not isinstance(value, str) or not is_url(value):
        raise UsageError(f"{name} must be an http(s) URL, got {value!r}")


PRERECORDED_MODELS = ("solaria-1", "solaria-3")
SOLARIA_3_LANGUAGES = ("en", "fr", "de", "es", "it")


def _check_model(body: dict[str, Any]) -> None:
    """`model` is not in the published schema, but Gladia's official CLI sends it (solaria-3 for a few languages)."""
    check_enum(body["model"], "model", PRERECORDED_MODELS)
    if body["model"] != "solaria-3":
        return
    config = body.get("language_config")
    lang: dict[str, Any] = config if isinstance(config, dict) else {}
    languages = lang.get("languages") or []
    if len(languages) > 1 or any(code not in SOLARIA_3_LANGUAGES for code in languages):
        raise UsageError(
            "solaria-3 takes at most one language, among en, fr, de, es, it", hint="use --model solaria-1 otherwise"
        )
    if lang.get("code_switching"):
        raise UsageError("solaria-3 does not do code switching", hint="use --model solaria-1 for mixed languages")


def validate_prerecorded_body(body: dict[str, Any]) -> None:
    """Check what Gladia's schema bounds (§5.2), so a typo costs one line instead of a 400 round trip."""
    for section in LIVE_ONLY_SECTIONS:
        if section in body:
            raise UsageError(
                f"{section} is a live-only setting",
                hint="for a file, put its keys (translation, custom_vocabulary, summarization...) at the top level",
            )
    for key, instead in LEGACY_KEYS.items():
        if key in body:
            raise UsageError(f"{key} is not a Gladia v2 option", hint=f"use {instead}")
    if "audio_url" in body:
        _check_http_url(body["audio_url"], "audio_url")
    if "model" in body:
        _check_model(body)
    for name in BOOLEAN_FIELDS:
        if name in body and not isinstance(body[name], bool):
            hint = "put the words in custom_vocabulary_config.vocabulary" if name == "custom_vocabulary" else None
            raise UsageError(f"{name} must be true or false, got {body[name]!r}", hint=hint)

    lang = _check_object(body, "language_config")
    if lang is not None:
        codes = lang.get("languages", [])
        if not isinstance(codes, list):
            raise UsageError("language_config.languages must be a list of language codes")
        for code in codes:
            check_language(code, "--lang", LANGUAGES)
        if not isinstance(lang.get("code_switching", False), bool):
            raise UsageError("language_config.code_switching must be true or false")

    dia = _check_object(body, "diarization_config")
    if dia is not None:
        if "number_of_speakers" in dia:
            _check_int(dia["number_of_speakers"], "number of speakers", 1)
        for key in ("min_speakers", "max_speakers"):
            if key in dia:
                _check_int(dia[key], key.replace("_", " "), 0)
        low, high, exact = dia.get("min_speakers"), dia.get("max_speakers"), dia.get("number_of_speakers")
        if low is not None and high is not None and low > high:
            raise UsageError(f"min speakers ({low}) is more than max speakers ({high})")
        if exact is not None and ((low is not None and exact < low) or (high is not None and exact > high)):
            raise UsageError(f"number of speakers ({exact}) is outside min/max speakers ({low}..{high})")

    sub = _check_object(body, "subtitles_config")
    if sub is not None:
        formats = sub.get("formats", ["srt"])
        if not isinstance(formats, list) or not formats:
            raise UsageError("subtitles need at least one format", hint="use srt or vtt")
        for fmt in formats:
            check_enum(fmt, "subtitle format", SUBTITLE_FORMATS)
        minimum = sub.get("minimum_duration", 0)
        if isinstance(minimum, bool) or not isinstance(minimum, (int, float)) or minimum < 0:
            raise UsageError(f"subtitles_config.minimum_duration must be a number of at least 0, got {minimum!r}")
        if "maximum_duration" in sub:
            check_range(sub["maximum_duration"], "subtitles_config.maximum_duration", 1, 30)
        if "maximum_characters_per_row" in sub:
            _check_int(sub["maximum_characters_per_row"], "subtitles_config.maximum_characters_per_row", 1)
        if "maximum_rows_per_caption" in sub:
            _check_int(sub["maximum_rows_per_caption"], "subtitles_config.maximum_rows_per_caption", 1, 5)
        if "style" in sub:
            check_enum(sub["style"], "subtitles_config.style", SUBTITLE_STYLES)

    tcfg = _check_object(body, "translation_config")
    if body.get("translation") and tcfg is None:
        raise UsageError("translation needs target languages", hint="use --translate fr,de")
    if tcfg is not None:
        targets = tcfg.get("target_languages")
        if not isinstance(targets, list) or not targets:
            raise UsageError("translation needs at least one target language", hint="use --translate fr,de")
        for code in targets:
            check_language(code, "--translate", TRANSLATION_LANGUAGES)
        if "model" in tcfg:
            check_enum(tcfg["model"], "translation_config.model", TRANSLATION_MODELS)

    scfg = _check_object(body, "summarization_config")
    if scfg is not None:
        check_enum(scfg.get("type", "general"), "summary type", SUMMARY_TYPES)

    vcfg = _check_object(body, "custom_vocabulary_config")
    if body.get("custom_vocabulary") and vcfg is None:
        raise UsageError("custom vocabulary needs words", hint="use --vocabulary w1,w2")
    if vcfg is not None:
        vocab = vcfg.get("vocabulary")
        if not isinstance(vocab, list) or not vocab:
            raise UsageError("custom vocabulary must list at least one word", hint="use --vocabulary w1,w2")
        for item in vocab:
            ok = (isinstance(item, str) and item.strip()) or (
                isinstance(item, dict) and isinstance(item.get("value"), str) and item["value"].strip()
            )
            if not ok:
                raise UsageError(f"invalid vocabulary entry {item!r}", hint='use a word or {"value": "word"}')
            if isinstance(item, dict):
                if "intensity" in item:
                    check_range(item["intensity"], "vocabulary intensity", 0, 1)
                if "language" in item:
                    check_language(item["language"], "custom_vocabulary_config", LANGUAGES)
        if "default_intensity" in vcfg:
            check_range(vcfg["default_intensity"], "custom_vocabulary_config.default_intensity", 0, 1)

    spell = _check_object(body, "custom_spelling_config")
    if spell is not None:
        dictionary = spell.get("spelling_dictionary")
        if not isinstance(dictionary, dict) or not all(
            isinstance(v, list) and all(isinstance(s, str) for s in v) for v in dictionary.values()
        ):
            raise UsageError(
                'custom_spelling_config.spelling_dictionary must map words to lists, like {"SQL": ["sequel"]}'
            )

    llm = _check_object(body, "audio_to_llm_config")
    if llm is not None:
        prompts = llm.get("prompts")
        if not isinstance(prompts, list) or not prompts:
            raise UsageError("audio_to_llm_config.prompts must list at least one prompt")

    pii = _check_object(body, "pii_redaction_config")
    if pii is not None and "processed_text_type" in pii:
        check_enum(pii["processed_text_type"], "pii_redaction_config.processed_text_type", PII_TEXT_TYPES)

    callback = _check_object(body, "callback_config")
    if body.get("callback") and callback is None:
        raise UsageError("callback needs callback_config.url")
    if callback is not None:
        _check_http_url(callback.get("url"), "callback_config.url")
        if "method" in callback:
            check_enum(callback["method"], "callback_config.method", CALLBACK_METHODS)

    if "custom_metadata" in body:
        if not isinstance(body["custom_metadata"], dict):
            raise UsageError("custom_metadata must be a JSON object")
        if len(json.dumps(body["custom_metadata"])) > MAX_METADATA_CHARS:
            raise UsageError(f"custom_metadata is longer than {MAX_METADATA_CHARS} characters")


# --------------------------------------------------------------------------------------------------------------------
# Streamed multipart upload
# --------------------------------------------------------------------------------------------------------------------


def _quoted(value: str) -> str:
    """A filename safe inside a Content-Disposition quoted-string (browsers escape the same way)."""
    return value.replace("\\", "\\\\").replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


class MultipartFileBody:
    """A multipart/form-data body with one file part, read from disk block by block, never whole into memory.

    requests streams any object with `read()` and `__len__` with a Content-Length (no chunked encoding, which
    some proxies refuse); `seek(0)` lets `GladiaApi.request` rewind it before a retry.
    """

    def __init__(
        self,
        path: Path,
        *,
        field: str = "audio",
        filename: str | None = None,
        content_type: str = "application/octet-stream",
        on_progress: Callable[[int, int], None] | None = None,
    ) -> None:
        self.boundary = "gladia-" + secrets.token_hex(16)
        name = _quoted(filename if filename is not None else path.name)
        self._head = (
            f"--{self.boundary}\r\n"
            f'Content-Disposition: form-data; name="{field}"; filename="{name}"\r\n'
            f"Content-Type: {content_type}\r\n\r\n"
        ).encode()
        self._tail = f"\r\n--{self.boundary}--\r\n".encode()
        self._file: IO[bytes] = open(path, "rb")  # noqa: SIM115 - closed by close()
        self.file_size = os.fstat(self._file.fileno()).st_size  # fixed now: a growing file is cut here
        self._length = len(self._head) + self.file_size + len(self._tail)
        self._pos = 0
        self._on_progress = on_progress

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    def __len__(self) -> int:
        return self._length

    def __iter__(self) -> Any:
        while block := self.read(UPLOAD_BLOCK):
            yield block

    def seek(self, offset: int, whence: int = 0) -> int:
        if offset != 0 or whence != 0:
            raise ValueError("the upload body can only be rewound to its start")
        self._pos = 0
        self._file.seek(0)
        return 0

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            size = self._length - self._pos
        out = bytearray()
        head, file_end = len(self._head), len(self._head) + self.file_size
        while len(out) < size and self._pos < self._length:
            want = size - len(out)
            if self._pos < head:
                chunk = self._head[self._pos : self._pos + want]
            elif self._pos < file_end:
                chunk = self._file.read(min(want, file_end - self._pos))
                if not chunk:
                    raise UsageError(f"{self._file.name} shrank while it was being uploaded")
            else:
                start = self._pos - file_end
                chunk = self._tail[start : start + want]
            out += chunk
            self._pos += len(chunk)
            if head <= self._pos <= file_end and self._on_progress is not None and chunk:
                self._on_progress(self._pos - head, self.file_size)
        return bytes(out)

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> MultipartFileBody:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def check_audio_file(path: Path) -> int:
    """Fail before any network call on what cannot be uploaded; return the size."""
    try:
        st = path.stat()
    except FileNotFoundError:
        raise UsageError(f"no such file: {path}", hint="check the path") from None
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc.__class__.__name__}") from None
    if path.is_dir():
        raise UsageError(f"{path} is a directory, not an audio file", hint="give the path of an audio file")
    if st.st_size == 0:
        raise UsageError(f"{path} is empty", hint="give a file that contains audio")
    if st.st_size > MAX_UPLOAD_BYTES:
        raise UsageError(
            f"{path} is larger than Gladia's 1000 MB limit ({st.st_size / 1e6:.0f} MB)", hint="split it into parts"
        )
    if not os.access(path, os.R_OK):
        raise UsageError(f"cannot read {path}: permission denied", hint="check the file's permissions")
    from gladia_cli.audio.files import check_uploadable

    check_uploadable(path)
    return st.st_size


# --------------------------------------------------------------------------------------------------------------------
# The client
# --------------------------------------------------------------------------------------------------------------------


class TranscriptionFailed(ApiError):
    """The job ended with status `error`: Gladia's `error_code` is kept (also as `status`) for the caller."""

    def __init__(self, job: dict[str, Any]) -> None:
        self.job = job
        self.job_id = str(job.get("id", "?"))
        code = job.get("error_code")
        self.error_code = code if isinstance(code, int) and not isinstance(code, bool) else None
        shown = self.error_code if self.error_code is not None else "unknown"
        super().__init__(f"transcription {self.job_id} failed (error code {shown})", status=self.error_code)


def _check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise UsageError(f"job kind must be one of {', '.join(KINDS)}, got {kind!r}")
    return kind


def _job_path(kind: str, job_id: str) -> str:
    return f"/v2/{_check_kind(kind)}/{quote(job_id, safe='')}"


class PreRecordedClient:
    """The pre-recorded flow (§5) on top of a `GladiaApi`, plus what `list`/`delete`/`result` need for both kinds.

    For batches, build the `GladiaApi` with more attempts (`batch.BATCH_MAX_ATTEMPTS`) so a 429 storm is waited out.
    """

    def __init__(self, api: GladiaApi) -> None:
        self.api = api

    # ---------------------------------------------------------------- upload and create

    def upload(self, path: Path, on_progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
        """POST /v2/upload (multipart field `audio`, streamed); returns `{audio_url, audio_metadata}`.

        `on_progress(sent, total)` counts file bytes; it starts again from 0 if a retry re-sends the file.
        Not retried on timeout: after 300 s another try would most likely time out too.
        """
        path = Path(path)
        check_audio_file(path)
        try:
            body = MultipartFileBody(path, on_progress=on_progress)
        except OSError as exc:
            raise UsageError(f"cannot read {path}: {exc.strerror or exc.__class__.__name__}") from None
        with body:
            response = self.api.request(
                "POST",
                "/v2/upload",
                data=body,
                headers={"Content-Type": body.content_type},
                timeout=UPLOAD_TIMEOUT,
                idempotent=False,
            )
        data = self.api.parse_json(response)
        if not isinstance(data.get("audio_url"), str):
            raise ApiError("Gladia's answer to the upload has no audio_url")
        return data

    def audio_url(self, source: str | Path, on_progress: Callable[[int, int], None] | None = None) -> str:
        """A URL is passed through untouched (Gladia fetches it); a local file is uploaded first."""
        if is_url(source):
            return str(source)
        return str(self.upload(Path(source), on_progress)["audio_url"])

    def create(self, body: dict[str, Any]) -> dict[str, Any]:
        """POST /v2/pre-recorded -> `{id, result_url}`. Not idempotent: a timeout is not retried (it may exist)."""
        data = self.api.parse_json(
            self.api.request("POST", "/v2/pre-recorded", json=body, timeout=CREATE_TIMEOUT, idempotent=False)
        )
        if not isinstance(data.get("id"), str):
            raise ApiError("Gladia's answer to POST /v2/pre-recorded has no job id")
        return data

    # ---------------------------------------------------------------- results

    def _get(self, kind: str, job_id: str) -> dict[str, Any] | None:
        """The job, or None on 404 (so callers can say which kind they looked for)."""
        response = self.api.request("GET", _job_path(kind, job_id), accept=(404,))
        if response.status_code == 404:
            return None
        return self.api.parse_json(response)

    def get(self, job_id: str) -> dict[str, Any]:
        job = self._get("pre-recorded", job_id)
        if job is None:
            raise ApiError(f"no such job {job_id!r}", hint="check the id (`gladia list` shows recent ones)", status=404)
        return job

    def get_any(self, job_id: str) -> dict[str, Any]:
        """A job of either kind (`gladia result ID`): pre-recorded first, then live; its `kind` says which."""
        for kind in KINDS:
            job = self._get(kind, job_id)
            if job is not None:
                job.setdefault("kind", kind)
                return job
        raise ApiError(f"no such job {job_id!r}", hint="check the id (`gladia list` shows recent ones)", status=404)

    def wait(
        self,
        job_id: str,
        *,
        timeout: float = WAIT_TIMEOUT,
        interval: float = 2.0,
        on_poll: Callable[[dict[str, Any]], None] | None = None,
    ) -> dict[str, Any]:
        """Poll queued -> processing -> done; `error` raises TranscriptionFailed with Gladia's error_code."""
        job = self.api.poll(
            lambda: self.get(job_id),
            label=f"job {job_id}",
            resume=f"fetch it later with `gladia result {job_id} --wait`",
            timeout=timeout,
            interval=interval,
            on_poll=on_poll,
        )
        if job.get("status") == "error":
            raise TranscriptionFailed(job)
        return job

    def transcribe(
        self,
        source: str | Path,
        body: dict[str, Any] | None = None,
        *,
        on_upload_progress: Callable[[int, int], None] | None = None,
        on_created: Callable[[dict[str, Any]], None] | None = None,
        on_poll: Callable[[dict[str, Any]], None] | None = None,
        timeout: float = WAIT_TIMEOUT,
        interval: float = 2.0,
    ) -> dict[str, Any]:
        """Upload (unless `source` is a URL), create with `body` (from build_prerecorded_body), wait for done.

        `on_created` gets `{id, result_url}` as soon as the job exists, so an interrupted wait can be resumed.
        """
        request = dict(body or {})
        request.pop("audio_url", None)
        validate_prerecorded_body(request)  # before a possibly long upload (which checks the file first)
        request["audio_url"] = self.audio_url(source, on_upload_progress)
        created = self.create(request)
        if on_created is not None:
            on_created(created)
        return self.wait(created["id"], timeout=timeout, interval=interval, on_poll=on_poll)

    # ---------------------------------------------------------------- job management, both kinds

    def delete(self, job_id: str, kind: str = "pre-recorded") -> None:
        """DELETE a finished job and all its data (202). 403: still running. 404: unknown or already deleted."""
        response = self.api.request("DELETE", _job_path(kind, job_id), timeout=DELETE_TIMEOUT, accept=(403, 404))
        if response.status_code == 403:
            raise ApiError(
                f"job {job_id} is still processing and cannot be deleted yet",
                hint="wait until it is done (`gladia result ID --wait`)",
                status=403,
            )
        if response.status_code == 404:
            raise ApiError(f"no such job {job_id!r} (unknown or already deleted)", status=404)

    def download_audio(self, job_id: str, kind: str | None, dest: Path) -> int:
        """GET …/file streamed to `dest` through a temp file renamed at the end; returns the bytes written.

        `kind=None` tries pre-recorded, then live. Nothing is left at `dest` (or beside it) if it fails.
        """
        dest = Path(dest)
        if dest.is_dir():
            raise UsageError(f"{dest} is a directory; give a file name")
        if not dest.parent.is_dir():
            raise UsageError(f"directory not found: {dest.parent}")
        for each in (kind,) if kind is not None else KINDS:
            response = self.api.request(
                "GET", _job_path(each, job_id) + "/file", timeout=FILE_TIMEOUT, stream=True, accept=(404,)
            )
            try:
                if response.status_code == 404:
                    continue
                return _save_stream(response, dest)
            finally:
                response.close()
        raise ApiError(f"no audio for job {job_id!r} (unknown job, deleted, or audio not kept)", status=404)

    def _relative(self, url: str) -> str:
        """`next` links are absolute; follow them on our own API URL so the key never goes to another host."""
        base = self.api.settings.api_url
        if url.startswith(base + "/"):
            return url[len(base) :]
        parts = urlsplit(url)
        return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")

    def _list_kind(self, kind: str, limit: int) -> builtins.list[dict[str, Any]]:
        path: str | None = f"/v2/{_check_kind(kind)}"
        params: dict[str, str] | None = {"offset": "0", "limit": str(min(limit, 100))}
        seen: set[str] = set()
        out: builtins.list[dict[str, Any]] = []
        while path is not None and len(out) < limit:
            page = self.api.parse_json(self.api.request("GET", path, params=params))
            items = page.get("items")
            if not isinstance(items, builtins.list):
                raise ApiError(f"Gladia's list of {kind} jobs has no items")
            out.extend(item for item in items if isinstance(item, dict))
            link = page.get("next")
            path, params = (self._relative(link), None) if isinstance(link, str) and link else (None, None)
            if path is not None:
                if path in seen or not items:
                    break  # a server repeating itself must not loop us forever
                seen.add(path)
        for item in out:
            item.setdefault("kind", kind)
        return out[:limit]

    def list(self, kind: str | None = None, limit: int = 20) -> builtins.list[dict[str, Any]]:
        """The `limit` most recent jobs of one kind or both (merged), newest first, following `next` links."""
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise UsageError(f"limit must be a whole number of at least 1, got {limit!r}")
        jobs: builtins.list[dict[str, Any]] = []
        for each in (kind,) if kind is not None else KINDS:
            jobs.extend(self._list_kind(each, limit))
        jobs.sort(key=lambda job: str(job.get("created_at") or ""), reverse=True)
        return jobs[:limit]


def _save_stream(response: requests.Response, dest: Path) -> int:
    """Write a streamed body beside `dest`, then rename: `dest` is either the old file or the whole new one.

    `outfile.replace_file` follows a symlink and writes a FIFO or device straight through, keeping modes."""
    import requests

    from gladia_cli import outfile

    written = 0
    with outfile.replace_file(dest) as out:
        try:
            for chunk in response.iter_content(chunk_size=UPLOAD_BLOCK):
                out.write(chunk)
                written += len(chunk)
        except requests.exceptions.RequestException as exc:
            raise NetworkError(f"the download was interrupted ({type(exc).__name__})") from None
    return written
