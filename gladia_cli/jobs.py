"""Gladia's pre-recorded API: upload, create, poll, list, delete, audio download (the body: `prerecorded_config`).

Library only: nothing here prints. Heavy imports stay inside functions so `gladia --help` stays fast.
"""

from __future__ import annotations

import builtins
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import parse_qs, quote, urlsplit

from gladia_cli.body import is_url
from gladia_cli.errors import ApiError, NetworkError, UsageError
from gladia_cli.output.job_json import JOB_STATUSES
from gladia_cli.prerecorded.body import validate_prerecorded_body

if TYPE_CHECKING:
    import requests

    from gladia_cli.api import GladiaApi
    from gladia_cli.audio.upload import UploadPlan

KINDS = ("pre-recorded", "live")
PENDING_STATUSES = ("queued", "processing")
MAX_UPLOAD_BYTES = 1000 * 1000 * 1000  # §5.7: 1000 MB per file
UPLOAD_TIMEOUT = 300.0  # §1.5, the SDK's upload_file timeout
CREATE_TIMEOUT = 60.0
DELETE_TIMEOUT = 60.0
FILE_TIMEOUT = 300.0
WAIT_TIMEOUT = 7200.0  # §1.5 polling deadline
UPLOAD_BLOCK = 64 * 1024


# --------------------------------------------------------------------------------------------------------------------
# Streamed multipart upload
# --------------------------------------------------------------------------------------------------------------------


def _quoted(value: str) -> str:
    """A filename safe inside a Content-Disposition quoted-string (browsers escape the same way); a name that is not
    valid UTF-8 on disk (undecodable bytes, held as surrogates) is sent with U+FFFD in their place."""
    value = os.fsencode(value).decode("utf-8", "replace")
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
        import secrets  # here, not at the top: `gladia --help` reads this module's list of job statuses

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


def check_audio_file(path: Path) -> str | None:
    """Fail before any network call on what cannot be uploaded; return what to say before the upload (a file
    uploaded unrecognised, or converted because Gladia does not take its format)."""
    return plan_file_upload(path).note


def plan_file_upload(path: Path) -> UploadPlan:
    """The checks of `check_audio_file`, and whether the file is uploaded as it is."""
    try:
        st = path.stat()
    except FileNotFoundError:
        raise UsageError(f"no such file: {path}", hint="check the path") from None
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc.__class__.__name__}") from None
    if path.is_dir():
        raise UsageError(f"{path} is a directory, not an audio file", hint="give the path of an audio file")
    if not stat.S_ISREG(st.st_mode):  # a FIFO or /dev/zero: no size to declare, and no end
        raise UsageError(
            f"{path} is not a regular file (a pipe or a device cannot be uploaded)",
            hint="save it to a file first, or stream it with `gladia transcribe - --realtime`",
        )
    if st.st_size == 0:
        raise UsageError(f"{path} is empty", hint="give a file that contains audio")
    if st.st_size > MAX_UPLOAD_BYTES:
        raise UsageError(
            f"{path} is larger than Gladia's 1000 MB limit ({st.st_size / 1e6:.0f} MB)", hint="split it into parts"
        )
    if not os.access(path, os.R_OK):
        raise UsageError(f"cannot read {path}: permission denied", hint="check the file's permissions")
    from gladia_cli.audio.upload import plan_upload

    return plan_upload(path)


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


@dataclass(frozen=True)
class ListFilters:
    """What `GET /v2/{kind}` may be asked to keep. Sent as both SDKs send it: `status[]` repeated and
    `custom_metadata[key]=value` (Gladia's docs page shows the metadata as JSON in the query; the SDKs win).
    `after`/`before` are aware datetimes: jobs created in [after, before)."""

    statuses: tuple[str, ...] = ()
    after: datetime | None = None
    before: datetime | None = None
    metadata: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        for status in self.statuses:
            if status not in JOB_STATUSES:
                raise UsageError(f"unknown job status {status!r}", hint=f"use {', '.join(JOB_STATUSES)}")

    def query(self) -> dict[str, Any]:
        params: dict[str, Any] = {}
        if self.statuses:
            params["status[]"] = list(self.statuses)
        if self.after is not None:
            params["after_date"] = self.after.isoformat()
        if self.before is not None:
            params["before_date"] = self.before.isoformat()
        for key, value in self.metadata:
            params[f"custom_metadata[{key}]"] = value
        return params

    def keeps(self, job: dict[str, Any]) -> bool:
        if self.statuses and job.get("status") not in self.statuses:
            return False
        if self.after is not None or self.before is not None:
            created = _moment(job.get("created_at"))
            if created is None:
                return False
            if (self.after is not None and created < self.after) or (
                self.before is not None and created >= self.before
            ):
                return False
        meta = job.get("custom_metadata")
        return all(isinstance(meta, dict) and str(meta.get(k)) == v for k, v in self.metadata)


def _moment(value: Any) -> datetime | None:
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise UsageError(f"job kind must be one of {', '.join(KINDS)}, got {kind!r}")
    return kind


def _job_path(kind: str, job_id: str) -> str:
    return f"/v2/{_check_kind(kind)}/{quote(job_id, safe='')}"


class JobClient:
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
        from gladia_cli.audio.upload import file_to_upload

        path = Path(path)
        plan = plan_file_upload(path)
        with file_to_upload(path, plan) as sent:
            try:
                body = MultipartFileBody(sent, on_progress=on_progress)
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
        """POST /v2/pre-recorded -> `{id, result_url}`. Billed and not idempotent: neither a timeout nor a 500/502/504
        (a proxy may answer so after Gladia created the job) is retried; 429 and 503 (nothing was done) are."""
        from gladia_cli.api import NOT_PROCESSED_STATUSES

        try:
            response = self.api.request(
                "POST",
                "/v2/pre-recorded",
                json=body,
                timeout=CREATE_TIMEOUT,
                idempotent=False,
                retry=NOT_PROCESSED_STATUSES,
            )
        except ApiError as exc:
            if exc.status is not None and exc.status >= 500 and exc.status not in NOT_PROCESSED_STATUSES:
                raise ApiError(
                    f"{exc.message}; the job may have been created anyway",
                    hint="`gladia list --kind pre-recorded` shows recent jobs; not retried, so it is not billed twice",
                    status=exc.status,
                ) from None
            raise
        data = self.api.parse_json(response)
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

    def _list_kind(self, kind: str, limit: int, filters: ListFilters) -> builtins.list[dict[str, Any]]:
        """Pages of one kind. Only the query of a `next` link is followed, on this kind's own route and our own API
        URL: Gladia's docs show `next` naming /v2/transcription (all kinds), and the key must never go elsewhere."""
        path = f"/v2/{_check_kind(kind)}"
        params: dict[str, Any] = {"offset": "0", "limit": str(min(limit, 100)), **filters.query()}
        seen: set[str] = set()
        out: builtins.list[dict[str, Any]] = []
        while len(out) < limit:
            page = self.api.parse_json(self.api.request("GET", path, params=params))
            items = page.get("items")
            if not isinstance(items, builtins.list):
                raise ApiError(f"Gladia's list of {kind} jobs has no items")
            out.extend(item for item in items if isinstance(item, dict) and filters.keeps(item))
            link = page.get("next")
            if not isinstance(link, str) or not link or not items:
                break
            query = urlsplit(link).query
            if query in seen:
                break  # a server repeating itself must not loop us forever
            seen.add(query)
            params = parse_qs(query, keep_blank_values=True)
        for item in out:
            item.setdefault("kind", kind)
        return out[:limit]

    def list(
        self, kind: str | None = None, limit: int = 20, filters: ListFilters | None = None
    ) -> builtins.list[dict[str, Any]]:
        """The `limit` most recent jobs of one kind or both (merged), newest first, following `next` links; with
        `filters`, those Gladia is asked for, checked again here (a server that ignores a filter changes nothing)."""
        filters = filters or ListFilters()
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise UsageError(f"limit must be a whole number of at least 1, got {limit!r}")
        jobs: builtins.list[dict[str, Any]] = []
        for each in (kind,) if kind is not None else KINDS:
            jobs.extend(self._list_kind(each, limit, filters))
        jobs.sort(key=lambda job: str(job.get("created_at") or ""), reverse=True)
        return jobs[:limit]


def _save_stream(response: requests.Response, dest: Path) -> int:
    """Write a streamed body beside `dest`, then rename: `dest` is either the old file or the whole new one.

    `outfile.replace_file` follows a symlink (the user's own) and writes a FIFO or device straight through, keeping
    modes; a new file is 0600, the audio being the user's recorded speech."""
    import requests

    from gladia_cli.output import files as outfile

    written = 0
    with outfile.replace_file(dest, private=True) as out:
        try:
            for chunk in response.iter_content(chunk_size=UPLOAD_BLOCK):
                out.write(chunk)
                written += len(chunk)
        except requests.exceptions.RequestException as exc:
            raise NetworkError(f"the download was interrupted ({type(exc).__name__})") from None
    return written
