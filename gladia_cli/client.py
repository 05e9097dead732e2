"""The library's front door: a `Client` for Gladia's API and the sources a live session reads.

The command line is this module's first client: its runners call the same methods a Python program does, so the key,
URL and region are found the same way, options are checked by the same rules as the flags, and the audio sent is
checked against the format it declares.

    with Client() as client:
        result = client.transcribe("talk.wav", languages=["en"])
        print(render(result, "srt"))
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gladia_cli.audio.format import BUFFER_SECONDS, AudioSource, PcmFormat
from gladia_cli.errors import UsageError
from gladia_cli.live import defaults as live_defaults
from gladia_cli.live.connection import ReconnectPolicy
from gladia_cli.output.output_format import OutputFormat
from gladia_cli.output.result import Result
from gladia_cli.settings import Settings

if TYPE_CHECKING:
    from gladia_cli.api import GladiaApi
    from gladia_cli.audio.push import PushSource
    from gladia_cli.jobs import JobClient
    from gladia_cli.live.body import LiveOptions
    from gladia_cli.live.stream import LiveStream

ProgressCallback = Callable[[dict[str, Any]], None]  # each poll of a job still queued or processing
UploadCallback = Callable[[int, int], None]  # bytes of the file sent, of its size


def _lists(options: dict[str, Any], *names: str) -> dict[str, Any]:
    """`languages="en,fr"` and `["en", "fr"]` mean the same, as `--lang en,fr` and `--lang en --lang fr` do."""
    from gladia_cli.body import language_list, split_list

    out = dict(options)
    for name in names:
        value = out.get(name)
        if value is None:
            continue
        values = [value] if isinstance(value, str) else list(value)
        out[name] = language_list(values) if name in ("languages", "translate") else split_list(values)
    return out


def _unknown(options: dict[str, Any], known: list[str] | tuple[str, ...], what: str) -> None:
    extra = sorted(set(options) - set(known))
    if extra:
        raise UsageError(f"unknown {what} option(s): {', '.join(extra)}", hint="known: " + ", ".join(sorted(known)))


def prerecorded_body(config: dict[str, Any] | None = None, **options: Any) -> dict[str, Any]:
    """The POST /v2/pre-recorded body from options named like the flags over `config` (the `--config` JSON),
    checked as the command line checks it."""
    import inspect

    from gladia_cli.prerecorded.body import build_prerecorded_body

    # The builder's own keywords (the flags' names), and `summary_type` beside `summarize` as on the command line.
    known = [name for name in inspect.signature(build_prerecorded_body).parameters if name not in ("audio_url", "base")]
    _unknown(options, [*known, "summary_type"], "transcription")
    options = _lists(options, "languages", "translate", "vocabulary", "subtitles")
    summarize, summary_type = options.pop("summarize", False), options.pop("summary_type", None)
    options["summarize"] = summary_type if summary_type is not None else ("general" if summarize else None)
    return build_prerecorded_body(base=config, **options)


def live_options(config: dict[str, Any] | None = None, **options: Any) -> LiveOptions:
    """What a live session is asked for, from options named like the flags over `config`; the body is built once
    the source's format is known (`Client.live`)."""
    from gladia_cli.live.body import LiveOptions

    known = [f.name for f in dataclasses.fields(LiveOptions) if f.name not in ("base", "partials_default")]
    _unknown(options, known, "live")
    return LiveOptions(base=dict(config or {}), **_lists(options, "languages", "translate", "vocabulary"))


# --- sources ---------------------------------------------------------------------------------------------------------


def microphone(
    device: str | list[str] | None = None,
    *,
    sample_rate: int | None = None,
    channels: int = 1,
    bit_depth: int = 16,
    encoding: str = "wav/pcm",
    chunk_ms: int = live_defaults.CHUNK_MS,
    buffer_seconds: float = BUFFER_SECONDS,
    names: list[str] | None = None,
) -> AudioSource:
    """An input recording from now (what is said while the session is created is kept): the default one, one by
    name or index as `gladia devices` lists them, or several (a list) as the channels of one session."""
    from gladia_cli.audio.inputs import open_microphones

    specs: list[str | None] = [device] if device is None or isinstance(device, str) else list(device)
    fmt = PcmFormat(
        sample_rate=sample_rate or 16000,
        channels=len(specs) if len(specs) > 1 else channels,
        bit_depth=bit_depth,
        encoding=encoding,
    ).validate()
    source, _, _ = open_microphones(
        specs, fmt, chunk_ms=chunk_ms, buffer_seconds=buffer_seconds, rate_fallback=sample_rate is None, names=names
    )
    return source


def audio_file(
    path: str | Path,
    speed: float = 1.0,
    *,
    chunk_ms: int | None = None,
    sample_rate: int | None = None,
    channels: int | None = None,
    bit_depth: int | None = None,
    encoding: str | None = None,
) -> AudioSource:
    """A file streamed as if live, paced at `speed` (1: real time; 0: as fast as Gladia takes it). The file decides
    what the format arguments leave open; WAV passes through untouched when Gladia takes it as it is."""
    from gladia_cli.audio.files import FormatRequest, open_audio_file

    if not speed >= 0:
        raise UsageError(f"speed must be 0 (as fast as possible) or more, got {speed}")
    chunk = chunk_ms or (live_defaults.UNPACED_CHUNK_MS if speed == 0 else live_defaults.CHUNK_MS)
    asked = FormatRequest(sample_rate=sample_rate, channels=channels, bit_depth=bit_depth, encoding=encoding)
    return open_audio_file(Path(path), asked, chunk, speed=speed)


def pcm_source(
    sample_rate: int = 16000,
    channels: int = 1,
    bit_depth: int = 16,
    encoding: str = "wav/pcm",
    *,
    chunk_ms: int = live_defaults.CHUNK_MS,
) -> PushSource:
    """Raw audio the caller pushes (`.push(data)`, then `.end()`), in the format declared here."""
    from gladia_cli.audio.push import PushSource

    return PushSource(PcmFormat(sample_rate, channels, bit_depth, encoding), chunk_ms)


# --- the client ------------------------------------------------------------------------------------------------------


class Client:
    """Gladia's API with one key. The key, URL and region are found as the command line finds them (argument, then
    GLADIA_API_KEY / GLADIA_API_URL / GLADIA_REGION, then the saved key); a context manager that closes its
    connections."""

    def __init__(
        self,
        api_key: str | None = None,
        api_url: str | None = None,
        region: str | None = None,
        *,
        settings: Settings | None = None,
        max_attempts: int = 4,
    ) -> None:
        from gladia_cli import settings as settings_module

        self.settings = settings or settings_module.load(api_key, api_url, region)
        self.max_attempts = max_attempts
        self._api: GladiaApi | None = None

    @property
    def api(self) -> GladiaApi:
        if self._api is None:
            from gladia_cli.api import GladiaApi

            self._api = GladiaApi(self.settings, max_attempts=self.max_attempts)
        return self._api

    @property
    def job_client(self) -> JobClient:
        from gladia_cli.jobs import JobClient

        return JobClient(self.api)

    def close(self) -> None:
        if self._api is not None:
            self._api.close()
            self._api = None

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- pre-recorded --

    def transcribe(
        self,
        path_or_url: str | Path,
        *,
        config: dict[str, Any] | None = None,
        body: dict[str, Any] | None = None,
        on_progress: ProgressCallback | None = None,
        on_upload: UploadCallback | None = None,
        on_created: Callable[[dict[str, Any]], None] | None = None,
        **options: Any,
    ) -> Result:
        """Upload a file (or hand Gladia a URL), transcribe it, wait until done. `options` are named like the flags
        (`languages`, `diarize`, `translate`, `summarize`...) over `config`; `body` is a request already built by
        `prerecorded_body`. Raises TranscriptionFailed when Gladia reports the job failed."""
        if body is not None and (options or config):
            raise UsageError("give either body or options, not both")
        request = body if body is not None else prerecorded_body(config, **options)
        job = self.job_client.transcribe(
            path_or_url, request, on_upload_progress=on_upload, on_created=on_created, on_poll=on_progress
        )
        return Result.from_job(job, kind="pre-recorded")

    # -- live --

    def live(
        self,
        source: AudioSource,
        *,
        config: dict[str, Any] | None = None,
        options: LiveOptions | None = None,
        duration: float | None = None,
        reconnect_attempts: int = live_defaults.RECONNECT_ATTEMPTS,
        reconnect_timeout: float = live_defaults.RECONNECT_TIMEOUT,
        policy: ReconnectPolicy | None = None,
        buffer_seconds: float = BUFFER_SECONDS,
        messages: bool = False,
        acknowledgements: bool = False,
        session_limit: float = live_defaults.SESSION_LIMIT,
        **flags: Any,
    ) -> LiveStream:
        """A live session reading `source`: use it as a context manager and iterate it for events. The body is built
        from `flags` (named like the command line's) over `config`, for the source's format, and checked before any
        request; `options` is the same already assembled; `policy` (the backoff in full) overrides the two reconnect
        numbers; after `session_limit` seconds the recording goes on in a new Gladia session. `warnings` on the
        stream lists values sent though not known to this version (Gladia is the judge)."""
        from gladia_cli.live.body import build_body, unknown_values
        from gladia_cli.live.stream import LiveStream

        if options is not None and (flags or config):
            raise UsageError("give either options or keyword options, not both")
        if reconnect_attempts < 0:
            raise UsageError(f"reconnect_attempts must be 0 or more, got {reconnect_attempts}")
        wanted = options if options is not None else live_options(config, **flags)
        body = build_body(wanted, source.format)
        stream = LiveStream(
            self.api,
            source,
            body,
            duration=duration,
            policy=policy or ReconnectPolicy(max_attempts=reconnect_attempts + 1, max_seconds=reconnect_timeout),
            buffer_seconds=buffer_seconds,
            emit_messages=messages,
            emit_acks=acknowledgements,
            session_limit=session_limit,
        )
        stream.warnings = unknown_values(body)
        return stream

    # -- jobs of both kinds --

    def result(self, job_id: str, *, wait: bool = False, on_progress: ProgressCallback | None = None) -> Result:
        """A live session's or a pre-recorded job's result (its `kind` says which); with `wait`, once done."""
        jobs = self.job_client
        job = jobs.get_any(job_id)
        if wait and job.get("status") not in ("done", "error"):
            if job.get("kind") == "live":
                job = {**self.api.wait_live(job_id, on_poll=on_progress), "kind": "live"}
            else:
                job = {**jobs.wait(job_id, on_poll=on_progress), "kind": "pre-recorded"}
        return Result.from_job(job)

    def jobs(
        self,
        kind: str | None = None,
        limit: int = 20,
        *,
        status: str | list[str] | None = None,
        since: datetime | None = None,
        before: datetime | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> list[Result]:
        """The `limit` most recent jobs, of one kind ("live", "pre-recorded") or both, newest first; `status`
        ("done", ...), created in [`since`, `before`), with `metadata` among their custom_metadata."""
        from gladia_cli.jobs import ListFilters

        statuses = [status] if isinstance(status, str) else list(status or [])
        filters = ListFilters(
            tuple(statuses),
            _aware(since),
            _aware(before),
            tuple((str(k), str(v)) for k, v in (metadata or {}).items()),
        )
        return [Result.from_job(job) for job in self.job_client.list(kind, limit, filters)]

    def delete(self, job_id: str) -> str:
        """Delete a finished job and all its data; returns its kind."""
        jobs = self.job_client
        kind = str(jobs.get_any(job_id).get("kind") or "pre-recorded")
        jobs.delete(job_id, kind)
        return kind

    def download_audio(self, job_id: str, path: str | Path) -> int:
        """The job's audio as Gladia kept it, written to `path` whole or not at all; returns the bytes written."""
        return self.job_client.download_audio(job_id, None, Path(path))


def _aware(moment: datetime | None) -> datetime | None:
    """A naive datetime is the caller's local time, as a person means it."""
    return moment.astimezone() if moment is not None and moment.tzinfo is None else moment


def render(result: Result | dict[str, Any], fmt: OutputFormat | str = "text", **options: Any) -> str:
    """A result as `-o FMT` prints it: text, json, json-full, srt or vtt. `options`: `pretty`, `max_chars`,
    `max_lines`, `channel_names`."""
    from gladia_cli.output.transcript import render as render_job

    job = result.job if isinstance(result, Result) else result
    return render_job(job, fmt, pretty=options.pop("pretty", False), **options)
