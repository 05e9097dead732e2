"""A live run as the person asked for it, every flag checked before a device, a file or the network is touched.

`microphone_request` (`gladia listen`) and `file_request` (`gladia transcribe --realtime`) take the raw flag values;
`live.run.run_request` then opens the source and runs. Each value comes from the flag, then the `--config` file, then
the default (`first`); the order of the checks is the order the person reads the errors in, so it is kept as is.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gladia_cli.audio.devices import SYSTEM_AUDIO
from gladia_cli.audio.files import FormatRequest
from gladia_cli.audio.format import MAX_CHANNELS, PcmFormat
from gladia_cli.body import is_url, language_list, load_config_file, parse_pairs, spelling_dictionary, split_list
from gladia_cli.cli.flags import BodyFlags
from gladia_cli.console.terminal import is_tty, notice
from gladia_cli.errors import UsageError
from gladia_cli.live import defaults
from gladia_cli.live.body import LiveOptions, build_body
from gladia_cli.live.connection import ReconnectPolicy
from gladia_cli.output.job_json import parse_channel_names
from gladia_cli.output.output_format import OutputFormat

MAX_SECONDS = 365 * 24 * 3600.0


@dataclass(frozen=True)
class Microphone:
    """`gladia listen`: the format is the flags' (the sound card records whatever it is told)."""

    format: PcmFormat
    device: str | None
    rate_fallback: bool = False  # no rate was asked for: a device that refuses 16 kHz records at its own
    # Several inputs (`--device A --device B`, `--system-audio`) are channels of one session: see audio/inputs.py.
    devices: tuple[str, ...] = ()
    system_audio: bool = False


@dataclass(frozen=True)
class Stdin:
    """`gladia transcribe - --realtime`: a WAV stream decides its format; raw PCM needs all four format flags."""

    format: FormatRequest


@dataclass(frozen=True)
class AudioFile:
    """`gladia transcribe --realtime`: the file decides what the flags left open."""

    path: Path
    format: FormatRequest
    speed: float


@dataclass(frozen=True)
class LiveRequest:
    """Everything a live run needs; `options` become the POST /v2/live body once the source's format is known."""

    source: Microphone | AudioFile | Stdin
    options: LiveOptions
    output: str
    chunk_ms: int
    duration: float | None
    finish_timeout: float | None  # the ceiling of the wait for post-processing; None: by what Gladia says is left
    record: Path | None
    output_file: Path | None
    policy: ReconnectPolicy
    buffer_seconds: float
    session_limit: float = defaults.SESSION_LIMIT  # the recording goes on in a new Gladia session after this long
    journal_max_bytes: int = 0  # 0: no audio journal (a file can be read again)
    on_failure: str = "exit"
    channel_names: list[str] | None = None  # `--channel-names`; several inputs default to their devices' names
    force: bool = False  # --output-file and --record may overwrite an existing file
    start_paused: bool = False  # nothing recorded until resumed
    stop_after_silence: float | None = None  # end as one Ctrl-C after this long without speech
    price_per_hour: float | None = None  # the person's own price, for the running cost
    notes: Path | None = None  # a directory: Markdown notes written as the recording goes
    title: str | None = None
    timestamps: bool = False  # [hh:mm:ss] before each text line


def first(*values: Any) -> Any:
    """The first value given: a flag, then --config, then the default (0 is a value, not "not given")."""
    return next((v for v in values if v is not None), None)


def check_common(
    chunk_ms: int,
    duration: float | None,
    finish_timeout: float | None,
    reconnect_attempts: int,
    reconnect_timeout: float,
    buffer_seconds: float,
    session_limit: float = defaults.SESSION_LIMIT,
) -> None:
    """The live flags that need no file, device or network to be checked."""
    seconds = {  # --session-limit has its own range, which also refuses nan and inf
        "--duration": duration,
        "--finish-timeout": finish_timeout,
        "--reconnect-timeout": reconnect_timeout,
        "--buffer-seconds": buffer_seconds,
    }
    for flag, value in seconds.items():
        if value is not None and not math.isfinite(value):
            raise UsageError(f"{flag} must be a finite number of seconds, got {value}")
        if value is not None and value > MAX_SECONDS:  # beyond it, waits overflow the platform's timeout type
            raise UsageError(f"{flag} must be at most {MAX_SECONDS:g} seconds (a year), got {value:g}")
    if not 10 <= chunk_ms <= 1000:
        raise UsageError(f"--chunk-ms must be from 10 to 1000, got {chunk_ms}")
    if duration is not None and duration <= 0:
        raise UsageError(f"--duration must be more than 0 seconds, got {duration:g}")
    if not 1 <= session_limit <= defaults.MAX_SESSION_SECONDS:
        raise UsageError(
            f"--session-limit must be from 1 to {defaults.MAX_SESSION_SECONDS:g} s, got {session_limit:g}",
            hint="Gladia ends a live session after 3 hours",
        )
    if finish_timeout is not None and finish_timeout <= 0:
        raise UsageError(f"--finish-timeout must be more than 0 seconds, got {finish_timeout:g}")
    if reconnect_attempts < 0:
        raise UsageError(f"--reconnect-attempts must be 0 or more, got {reconnect_attempts}")
    if reconnect_timeout < 0:
        raise UsageError(f"--reconnect-timeout must be 0 or more seconds, got {reconnect_timeout:g}")
    if buffer_seconds <= 0:
        raise UsageError(f"--buffer-seconds must be more than 0, got {buffer_seconds:g}")


def reconnect_policy(reconnect_attempts: int, reconnect_timeout: float) -> ReconnectPolicy:
    """`--reconnect-attempts N` is N tries after the first opening."""
    return ReconnectPolicy(max_attempts=reconnect_attempts + 1, max_seconds=reconnect_timeout)


def live_options(body: BodyFlags, output: str) -> LiveOptions:
    """The body's fields from the flags and `--config`; partials default to on where the live view shows them."""
    stream = OutputFormat(output) is OutputFormat.jsonl  # the messages themselves, partials included
    if body.partials and not is_tty(sys.stderr) and not stream:
        notice("partials are shown in the live view on a terminal; with stderr redirected, use -o jsonl to get them")
    return LiveOptions(
        languages=language_list(body.lang),
        code_switching=body.code_switching,
        model=body.model,
        endpointing=body.endpointing,
        partials=body.partials,
        partials_default=is_tty(sys.stderr) or stream,
        translate=language_list(body.translate),
        vocabulary=split_list(body.vocabulary),
        summarize=body.summarize,
        summary_type=body.summary_type,
        ner=body.ner,
        sentiment=body.sentiment,
        metadata=dict(parse_pairs(body.metadata, "--metadata", "--metadata call=42")),
        spelling=spelling_dictionary(parse_pairs(body.spelling, "--spelling", "--spelling sequel=SQL")),
        translation_model=body.translation_model,
        translation_context=body.translation_context,
        informal=body.informal,
        max_utterance=body.max_utterance,
        speech_threshold=body.speech_threshold,
        audio_enhancer=body.audio_enhancer,
        base=load_config_file(body.config),
    )


def microphone_request(
    body: BodyFlags,
    *,
    sample_rate: int | None,
    channels: int | None,
    bit_depth: int | None,
    encoding: str | None,
    device: list[str] | str | None,
    duration: float | None,
    chunk_ms: int,
    output: str,
    finish_timeout: float | None,
    record: Path | None,
    output_file: Path | None,
    reconnect_attempts: int,
    reconnect_timeout: float,
    buffer_seconds: float,
    session_limit: float = defaults.SESSION_LIMIT,
    no_journal: bool = False,
    journal_max_mb: int = defaults.JOURNAL_MAX_MB,
    on_failure: str = "exit",
    system_audio: bool = False,
    channel_names: list[str] | str | None = None,
    force: bool = False,
    start_paused: bool = False,
    stop_after_silence: float | None = None,
    price_per_hour: float | None = None,
    notes: Path | None = None,
    title: str | None = None,
    timestamps: bool = False,
) -> LiveRequest:
    """`gladia listen`: the format is 16 kHz mono 16-bit PCM unless the flags or `--config` say otherwise."""
    check_common(
        chunk_ms, duration, finish_timeout, reconnect_attempts, reconnect_timeout, buffer_seconds, session_limit
    )
    if stop_after_silence is not None and not (0 < stop_after_silence < MAX_SECONDS):
        raise UsageError(f"--stop-after-silence must be a positive number of seconds, got {stop_after_silence:g}")
    if price_per_hour is not None and not (0 <= price_per_hour < math.inf):
        raise UsageError(f"--price-per-hour must be a price of 0 or more, got {price_per_hour:g}")
    if notes is not None and not notes.is_dir():
        raise UsageError(f"--notes {notes} is not a directory", hint=f"create it first: mkdir -p {notes}")
    if title is not None and notes is None:
        raise UsageError("--title names the notes", hint="add --notes DIR")
    if journal_max_mb < 1:
        raise UsageError(f"--journal-max-mb must be at least 1, got {journal_max_mb}")
    if no_journal and on_failure == "recover":
        raise UsageError("--on-failure recover needs the audio journal", hint="drop --no-journal")
    devices, channels, names = check_inputs(device, system_audio, channels, channel_names)
    options = live_options(body, output)
    default = PcmFormat()
    encoding = first(encoding, options.format_field("encoding"), default.encoding)
    fmt = PcmFormat(
        sample_rate=first(sample_rate, options.format_field("sample_rate"), default.sample_rate),
        channels=first(channels, options.format_field("channels"), default.channels),
        bit_depth=first(
            bit_depth, options.format_field("bit_depth"), default.bit_depth if encoding == "wav/pcm" else 8
        ),
        encoding=encoding,
    ).validate()
    build_body(options, fmt)  # every flag checked before the device is touched
    return LiveRequest(
        source=Microphone(
            fmt,
            devices[0] if len(devices) == 1 else None,
            devices=devices,
            system_audio=system_audio,
            rate_fallback=first(sample_rate, options.format_field("sample_rate")) is None,
        ),
        options=options,
        output=output,
        chunk_ms=chunk_ms,
        duration=duration,
        finish_timeout=finish_timeout,
        record=record,
        output_file=output_file,
        policy=reconnect_policy(reconnect_attempts, reconnect_timeout),
        buffer_seconds=buffer_seconds,
        session_limit=session_limit,
        journal_max_bytes=0 if no_journal else journal_max_mb * 1024 * 1024,
        on_failure=on_failure,
        channel_names=names,
        force=force,
        start_paused=start_paused,
        stop_after_silence=stop_after_silence,
        price_per_hour=price_per_hour,
        notes=notes,
        title=title,
        timestamps=timestamps,
    )


def file_request(
    file: str,
    body: BodyFlags,
    *,
    speed: float | None,
    sample_rate: int | None,
    channels: int | None,
    bit_depth: int | None,
    encoding: str | None,
    duration: float | None,
    chunk_ms: int | None,
    output: str,
    finish_timeout: float | None,
    record: Path | None,
    output_file: Path | None,
    reconnect_attempts: int | None,
    reconnect_timeout: float | None,
    buffer_seconds: float | None,
    session_limit: float | None = None,
    channel_names: list[str] | str | None = None,
    force: bool = False,
) -> LiveRequest:
    """`gladia transcribe --realtime FILE`: paced at `speed` (1 = real time); the live flags' defaults apply here,
    since `transcribe` leaves them None to refuse them without --realtime."""
    if is_url(file):
        raise UsageError("--realtime needs a local file", hint="drop --realtime to transcribe a URL")
    if file == "-" and speed is not None:
        raise UsageError("--speed does not apply to stdin", hint="audio on stdin is sent as it arrives")
    speed = first(speed, defaults.SPEED)
    reconnect_attempts = first(reconnect_attempts, defaults.RECONNECT_ATTEMPTS)
    reconnect_timeout = first(reconnect_timeout, defaults.RECONNECT_TIMEOUT)
    buffer_seconds = first(buffer_seconds, defaults.BUFFER_SECONDS)
    session_limit = first(session_limit, defaults.SESSION_LIMIT)
    chunk_ms = first(chunk_ms, defaults.UNPACED_CHUNK_MS if speed == 0 else defaults.CHUNK_MS)
    check_common(
        chunk_ms, duration, finish_timeout, reconnect_attempts, reconnect_timeout, buffer_seconds, session_limit
    )
    if not speed >= 0 or math.isinf(speed):  # `not >=` also catches nan
        raise UsageError(f"--speed must be 0 (as fast as possible) or a finite factor, got {speed:g}")
    options = live_options(body, output)
    asked = FormatRequest(
        sample_rate=first(sample_rate, options.format_field("sample_rate")),
        channels=first(channels, options.format_field("channels")),
        bit_depth=first(bit_depth, options.format_field("bit_depth")),
        encoding=first(encoding, options.format_field("encoding")),
    )
    return LiveRequest(
        source=Stdin(asked) if file == "-" else AudioFile(Path(file), asked, speed),
        options=options,
        output=output,
        chunk_ms=chunk_ms,
        duration=duration,
        finish_timeout=finish_timeout,
        record=record,
        output_file=output_file,
        policy=reconnect_policy(reconnect_attempts, reconnect_timeout),
        buffer_seconds=buffer_seconds,
        session_limit=session_limit,
        channel_names=check_names(channel_names, asked.channels),
        force=force,
    )


def check_names(value: list[str] | str | None, channels: int | None) -> list[str] | None:
    """`--channel-names` as a list: no empty name, no more names than channels (fewer leave the rest numbered)."""
    names = parse_channel_names(value)
    if names is None:
        return None
    if any(not name for name in names):
        raise UsageError("--channel-names has an empty name", hint="give one name per channel: --channel-names me,them")
    if channels is not None and len(names) > channels:
        raise UsageError(
            f"--channel-names gives {len(names)} names for {channels} channel(s)", hint="give one name per channel"
        )
    return names


def check_inputs(
    device: list[str] | str | None,
    system_audio: bool,
    channels: int | None,
    channel_names: list[str] | str | None,
) -> tuple[tuple[str, ...], int | None, list[str] | None]:
    """The inputs in channel order (the system audio last), the channel count, and the names; nothing opened."""
    specs = [device] if isinstance(device, str) else list(device or [])
    inputs = tuple(specs) + ((SYSTEM_AUDIO,) if system_audio else ())
    if len(inputs) > MAX_CHANNELS:
        raise UsageError(f"{len(inputs)} inputs, but a session takes at most {MAX_CHANNELS} channels")
    if len(inputs) > 1:
        if channels is not None and channels != len(inputs):
            raise UsageError(
                f"--channels {channels} does not match the {len(inputs)} inputs (one channel each)",
                hint="drop --channels",
            )
        channels = len(inputs)
    return inputs, channels, check_names(channel_names, channels if channels is not None else 1)
