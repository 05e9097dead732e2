"""The command layer: parse flags, call the library, print. No protocol or audio logic lives here.

No `from __future__ import annotations`: Typer would then evaluate every annotation as a string, which costs
`gladia --help` measurable start-up time.
"""

import contextlib
import math
import os
import sys
from collections.abc import Iterator
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from gladia_cli import __version__
from gladia_cli.errors import Aborted, ApiError, ExitCode, GladiaError, UsageError

app = typer.Typer(
    name="gladia",
    help="Live and file transcription with Gladia's speech-to-text API.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _complete_languages(incomplete: str) -> list[tuple[str, str]]:
    from gladia_cli.completion import complete_languages

    return complete_languages(incomplete)


def _complete_targets(incomplete: str) -> list[tuple[str, str]]:
    from gladia_cli.completion import complete_languages

    return complete_languages(incomplete, translation=True)


def _choices(option: str) -> Any:
    def complete(incomplete: str) -> list[tuple[str, str]]:
        from gladia_cli.completion import complete_choice

        return complete_choice(option, incomplete)

    return complete


def _complete_devices(incomplete: str) -> list[tuple[str, str]]:
    from gladia_cli.completion import complete_device

    return complete_device(incomplete)


class Output(str, Enum):
    text = "text"
    json = "json"
    json_full = "json-full"
    srt = "srt"
    vtt = "vtt"
    jsonl = "jsonl"


class ResultOutput(str, Enum):
    """A finished result has no message stream, so no jsonl."""

    text = "text"
    json = "json"
    json_full = "json-full"
    srt = "srt"
    vtt = "vtt"


# --- shared options -------------------------------------------------------------------------------------------------

ApiKey = Annotated[
    str | None,
    typer.Option(
        "--api-key",
        "--gladia-key",
        help="Gladia API key (default: $GLADIA_API_KEY, then the key saved by `gladia auth set`, then ~/.gladia).",
        show_default=False,
    ),
]
ApiUrl = Annotated[
    str | None, typer.Option("--api-url", help="API base URL (default: $GLADIA_API_URL or https://api.gladia.io).")
]
Region = Annotated[str | None, typer.Option("--region", help="eu-west or us-west (default: $GLADIA_REGION).")]
Lang = Annotated[
    list[str] | None,
    typer.Option(
        "--lang",
        "-l",
        "--language",
        help="Language code(s): repeat or comma list (e.g. en,fr).",
        autocompletion=_complete_languages,
    ),
]
CodeSwitching = Annotated[
    bool | None,
    typer.Option("--code-switching/--no-code-switching", "--cs", help="Re-detect the language per utterance."),
]
Model = Annotated[
    str | None,
    typer.Option(
        "--model",
        help="Model: solaria-1 (live and files) or solaria-3 (files: one of en/fr/de/es/it).",
        autocompletion=_choices("--model"),
    ),
]
Endpointing = Annotated[
    float | None, typer.Option("--endpointing", help="Silence (s) that ends an utterance, 0.01-10.")
]
SampleRate = Annotated[
    int | None,
    typer.Option(
        "--sample-rate",
        help="8000, 16000, 32000, 44100 or 48000 (default: 16000 for the microphone; the file's own rate).",
    ),
]
Channels = Annotated[
    int | None, typer.Option("--channels", help="1-8 (default: 1 for the microphone; the file's own).")
]
BitDepth = Annotated[
    int | None,
    typer.Option("--bit-depth", help="16, 24 or 32 (default: 16; the file's own); 8 with wav/alaw or wav/ulaw."),
]
Encoding = Annotated[
    str | None,
    typer.Option(
        "--encoding",
        help="wav/pcm (default), or wav/alaw / wav/ulaw: 8-bit G.711, half the data of 16-bit PCM.",
        autocompletion=_choices("--encoding"),
    ),
]
Partials = Annotated[
    bool | None, typer.Option("--partials/--no-partials", help="Show partial transcripts (default: on at a terminal).")
]
Translate = Annotated[
    list[str] | None,
    typer.Option("--translate", help="Translate into these languages (e.g. fr,de).", autocompletion=_complete_targets),
]
Vocabulary = Annotated[list[str] | None, typer.Option("--vocabulary", help="Words to favour (e.g. Gladia,Solaria).")]
Summarize = Annotated[
    bool,
    typer.Option("--summarize", help="Ask for a summary after the session (`--summarize concise` also sets its type)."),
]
SummaryType = Annotated[
    str | None,
    typer.Option(
        "--summary-type",
        help="general, bullet_points or concise (implies --summarize).",
        autocompletion=_choices("--summary-type"),
    ),
]
ConfigFile = Annotated[
    Path | None, typer.Option("--config", help="JSON file with any other POST /v2/live field; flags win.")
]
ChunkMs = Annotated[int, typer.Option("--chunk-ms", help="Audio per WebSocket frame, in ms (10-1000).")]
OutputOpt = Annotated[
    Output,
    typer.Option(
        "--output",
        "-o",
        help="text (one utterance a line), json (the transcription), json-full (the whole API object), srt, vtt,"
        " or jsonl (live: every server message as it arrives).",
    ),
]
Duration = Annotated[float | None, typer.Option("--duration", help="Stop after this many seconds of audio.")]
Record = Annotated[
    Path | None, typer.Option("--record", help="Also save the audio sent to this new WAV file (valid even if killed).")
]
OutputFile = Annotated[
    Path | None, typer.Option("--output-file", help="Append the output to this file as it arrives (flushed per line).")
]
TranscribeOutputFile = Annotated[
    Path | None,
    typer.Option(
        "--output-file",
        help="With --realtime: append each final as it arrives (flushed per line). Otherwise: write the result to"
        " this file, replacing it once complete.",
    ),
]
ResultOutputFile = Annotated[
    Path | None, typer.Option("--output-file", help="Write the output to this file, replacing it once complete.")
]
ReconnectAttempts = Annotated[
    int, typer.Option("--reconnect-attempts", help="Reconnection attempts after the connection drops (0 = none).")
]
ReconnectTimeout = Annotated[float, typer.Option("--reconnect-timeout", help="Give up reconnecting after this many s.")]
BufferSeconds = Annotated[
    float, typer.Option("--buffer-seconds", help="Audio kept while disconnected; beyond it the oldest is dropped.")
]
FinishTimeout = Annotated[
    float, typer.Option("--finish-timeout", help="Seconds to wait for post-processing after stop.")
]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"gladia {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks for errors.")] = False,
) -> None:
    """Live and file transcription with Gladia's speech-to-text API."""


# --- helpers --------------------------------------------------------------------------------------------------------


def _options(
    lang: list[str] | None,
    code_switching: bool | None,
    model: str | None,
    endpointing: float | None,
    partials: bool | None,
    translate: list[str] | None,
    vocabulary: list[str] | None,
    summarize: bool,
    summary_type: str | None,
    config: Path | None,
    output: Output,
) -> Any:
    from gladia_cli.live.config import LiveOptions, language_list, load_config_file, split_list
    from gladia_cli.terminal import is_tty

    if partials and not is_tty(sys.stderr) and output != Output.jsonl:
        _warn("partials are shown in the live view on a terminal; with stderr redirected, use -o jsonl to get them")
    return LiveOptions(
        languages=language_list(lang),
        code_switching=code_switching,
        model=model,
        endpointing=endpointing,
        partials=partials,
        partials_default=is_tty(sys.stderr) or output == Output.jsonl,
        translate=language_list(translate),
        vocabulary=split_list(vocabulary),
        summarize=summarize,
        summary_type=summary_type,
        base=load_config_file(config),
    )


def _first(*values: Any) -> Any:
    """The first value given: a flag, then --config, then the default (0 is a value, not "not given")."""
    return next((v for v in values if v is not None), None)


MAX_SECONDS = 365 * 24 * 3600.0


def _check_common(
    chunk_ms: int,
    duration: float | None,
    finish_timeout: float,
    reconnect_attempts: int,
    reconnect_timeout: float,
    buffer_seconds: float,
) -> None:
    """The live flags that need no file, device or network to be checked."""
    seconds = {
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
    if finish_timeout <= 0:
        raise UsageError(f"--finish-timeout must be more than 0 seconds, got {finish_timeout:g}")
    if reconnect_attempts < 0:
        raise UsageError(f"--reconnect-attempts must be 0 or more, got {reconnect_attempts}")
    if reconnect_timeout < 0:
        raise UsageError(f"--reconnect-timeout must be 0 or more seconds, got {reconnect_timeout:g}")
    if buffer_seconds <= 0:
        raise UsageError(f"--buffer-seconds must be more than 0, got {buffer_seconds:g}")


def _run(settings: Any, options: Any, source: Any, output: Output, label: str, **run_options: Any) -> None:
    from gladia_cli.live.config import build_body
    from gladia_cli.live.run import LiveRun, run_live
    from gladia_cli.live.session import ReconnectPolicy

    attempts = run_options.pop("reconnect_attempts")
    timeout = run_options.pop("reconnect_timeout")
    body = build_body(options, source.format)
    show_acks = bool(options.base.get("messages_config", {}).get("receive_acknowledgments"))
    run = LiveRun(
        body=body,
        output=output.value,
        show_acks=show_acks,
        source_label=label,
        policy=ReconnectPolicy(max_attempts=attempts + 1, max_seconds=timeout),
        **run_options,
    )
    raise typer.Exit(run_live(settings, run, source))


# --- commands -------------------------------------------------------------------------------------------------------


@app.command()
def listen(
    lang: Lang = None,
    code_switching: CodeSwitching = None,
    model: Model = None,
    endpointing: Endpointing = None,
    sample_rate: SampleRate = None,
    channels: Channels = None,
    bit_depth: BitDepth = None,
    encoding: Encoding = None,
    partials: Partials = None,
    translate: Translate = None,
    vocabulary: Vocabulary = None,
    summarize: Summarize = False,
    summary_type: SummaryType = None,
    config: ConfigFile = None,
    device: Annotated[
        str | None,
        typer.Option(
            "--device",
            "-d",
            help="Input device name or index (see `gladia devices`).",
            autocompletion=_complete_devices,
        ),
    ] = None,
    duration: Duration = None,
    chunk_ms: ChunkMs = 100,
    output: OutputOpt = Output.text,
    finish_timeout: FinishTimeout = 300.0,
    record: Record = None,
    output_file: OutputFile = None,
    reconnect_attempts: ReconnectAttempts = 10,
    reconnect_timeout: ReconnectTimeout = 120.0,
    buffer_seconds: BufferSeconds = 300.0,
    api_key: ApiKey = None,
    api_url: ApiUrl = None,
    region: Region = None,
) -> None:
    """Transcribe the microphone live. Ctrl-C stops and prints the final result; Ctrl-C twice aborts."""
    output_file = _stdout_if_dash(output_file)
    from gladia_cli import settings as settings_mod
    from gladia_cli.audio.capture import MicrophoneSource, resolve_device
    from gladia_cli.audio.format import PcmFormat
    from gladia_cli.live.config import build_body

    _check_common(chunk_ms, duration, finish_timeout, reconnect_attempts, reconnect_timeout, buffer_seconds)
    options = _options(
        lang,
        code_switching,
        model,
        endpointing,
        partials,
        translate,
        vocabulary,
        summarize,
        summary_type,
        config,
        output,
    )
    encoding = _first(encoding, options.format_field("encoding"), "wav/pcm")
    fmt = PcmFormat(
        sample_rate=_first(sample_rate, options.format_field("sample_rate"), 16000),
        channels=_first(channels, options.format_field("channels"), 1),
        bit_depth=_first(bit_depth, options.format_field("bit_depth"), 16 if encoding == "wav/pcm" else 8),
        encoding=encoding,
    ).validate()
    build_body(options, fmt)  # every flag checked before the device is touched
    settings = settings_mod.load(api_key, api_url, region)
    mic = MicrophoneSource(fmt, resolve_device(device), chunk_ms=chunk_ms, max_buffer_seconds=buffer_seconds)
    mic.check()
    _run(
        settings,
        options,
        mic,
        output,
        f"from {mic.device.name}",
        duration=duration,
        finish_timeout=finish_timeout,
        record=record,
        output_file=output_file,
        reconnect_attempts=reconnect_attempts,
        reconnect_timeout=reconnect_timeout,
        buffer_seconds=buffer_seconds,
    )


@app.command()
def transcribe(
    inputs: Annotated[
        list[str],
        typer.Argument(
            metavar="FILE|URL...",
            help="Audio or video files, or http(s) URLs (pre-recorded); one file with --realtime.",
            show_default=False,
        ),
    ],
    realtime: Annotated[bool, typer.Option("--realtime", help="Stream the file through the live API.")] = False,
    speed: Annotated[
        float | None,
        typer.Option("--speed", help="With --realtime: 1 = real time (default), 0 = as fast as possible."),
    ] = None,
    lang: Lang = None,
    code_switching: CodeSwitching = None,
    model: Model = None,
    endpointing: Endpointing = None,
    diarize: Annotated[bool, typer.Option("--diarize", help="Label speakers (pre-recorded).")] = False,
    speakers: Annotated[
        int | None, typer.Option("--speakers", help="Expected number of speakers (implies --diarize).")
    ] = None,
    min_speakers: Annotated[int | None, typer.Option("--min-speakers", help="At least this many speakers.")] = None,
    max_speakers: Annotated[int | None, typer.Option("--max-speakers", help="At most this many speakers.")] = None,
    sample_rate: SampleRate = None,
    channels: Channels = None,
    bit_depth: BitDepth = None,
    encoding: Encoding = None,
    partials: Partials = None,
    translate: Translate = None,
    vocabulary: Vocabulary = None,
    summarize: Summarize = False,
    summary_type: SummaryType = None,
    config: ConfigFile = None,
    duration: Duration = None,
    chunk_ms: Annotated[
        int | None,
        typer.Option(
            "--chunk-ms", help="Audio per WebSocket frame, in ms (10-1000) (default: 100; 1000 at --speed 0)."
        ),
    ] = None,
    output: OutputOpt = Output.text,
    output_file: TranscribeOutputFile = None,
    output_dir: Annotated[
        Path | None, typer.Option("--output-dir", help="Write one output per input here (pre-recorded).")
    ] = None,
    jobs: Annotated[
        int | None, typer.Option("--jobs", "-j", help="Inputs transcribed at once (pre-recorded) (default: 4).")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Redo inputs whose output already exists.")] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Progress lines on stderr even when it is not a terminal.")
    ] = False,
    finish_timeout: Annotated[
        float | None,
        typer.Option("--finish-timeout", help="Seconds to wait for post-processing after stop (default: 300)."),
    ] = None,
    record: Record = None,
    reconnect_attempts: Annotated[
        int | None,
        typer.Option(
            "--reconnect-attempts", help="Reconnection attempts after the connection drops (0 = none) (default: 10)."
        ),
    ] = None,
    reconnect_timeout: Annotated[
        float | None, typer.Option("--reconnect-timeout", help="Give up reconnecting after this many s (default: 120).")
    ] = None,
    buffer_seconds: Annotated[
        float | None, typer.Option("--buffer-seconds", help="Audio kept while disconnected (default: 300).")
    ] = None,
    api_key: ApiKey = None,
    api_url: ApiUrl = None,
    region: Region = None,
) -> None:
    """Transcribe files or URLs with Gladia's pre-recorded API; with --realtime, stream one file live at --speed."""
    output_file = _stdout_if_dash(output_file)
    from gladia_cli import settings as settings_mod

    if jobs is not None and jobs < 1:
        raise UsageError(f"--jobs must be at least 1, got {jobs}")
    for item in inputs:
        _check_input(item)
    if not realtime:
        live_only = {
            "--speed": speed is not None,
            "--encoding": encoding is not None,
            "--chunk-ms": chunk_ms is not None,
            "--finish-timeout": finish_timeout is not None,
            "--reconnect-attempts": reconnect_attempts is not None,
            "--reconnect-timeout": reconnect_timeout is not None,
            "--buffer-seconds": buffer_seconds is not None,
            "--endpointing": endpointing is not None,
            "--partials": partials is not None,
            "--record": record is not None,
            "--duration": duration is not None,
            "--sample-rate": sample_rate is not None,
            "--channels": channels is not None,
            "--bit-depth": bit_depth is not None,
            "-o jsonl": output == Output.jsonl,
        }
        given = [name for name, present in live_only.items() if present]
        if given:
            raise UsageError(f"{given[0]} applies to live transcription only", hint="add --realtime")
        _transcribe_prerecorded(
            inputs,
            lang,
            code_switching,
            diarize,
            speakers,
            min_speakers,
            max_speakers,
            translate,
            vocabulary,
            summarize,
            summary_type,
            config,
            output,
            output_file,
            output_dir,
            _first(jobs, 4),
            force,
            lambda: settings_mod.load(api_key, api_url, region),
            model,
            verbose,
        )
        return

    if len(inputs) != 1:
        raise UsageError(
            "--realtime streams one file at a time", hint="run one `gladia transcribe --realtime` per file"
        )
    prerecorded_only = {
        "--diarize": diarize or speakers is not None or min_speakers is not None or max_speakers is not None,
        "--output-dir": output_dir is not None,
        "--force": force,
        "--jobs": jobs is not None,
    }
    given = [name for name, present in prerecorded_only.items() if present]
    if given:
        raise UsageError(f"{given[0]} applies to pre-recorded transcription only", hint="drop --realtime")
    from gladia_cli.audio.files import FormatRequest, open_audio_file
    from gladia_cli.prerecorded.client import is_url

    if is_url(inputs[0]):
        raise UsageError("--realtime needs a local file", hint="drop --realtime to transcribe a URL")
    file = Path(inputs[0])
    speed = _first(speed, 1.0)
    finish_timeout = _first(finish_timeout, 300.0)
    reconnect_attempts = _first(reconnect_attempts, 10)
    reconnect_timeout = _first(reconnect_timeout, 120.0)
    buffer_seconds = _first(buffer_seconds, 300.0)
    # Unpaced, 100 ms frames only cost per-frame overhead on both ends: send 1 s frames unless told otherwise.
    chunk_ms = _first(chunk_ms, 1000 if speed == 0 else 100)
    _check_common(chunk_ms, duration, finish_timeout, reconnect_attempts, reconnect_timeout, buffer_seconds)
    if not speed >= 0 or math.isinf(speed):  # `not >=` also catches nan
        raise UsageError(f"--speed must be 0 (as fast as possible) or a finite factor, got {speed:g}")
    options = _options(
        lang,
        code_switching,
        model,
        endpointing,
        partials,
        translate,
        vocabulary,
        summarize,
        summary_type,
        config,
        output,
    )
    request = FormatRequest(
        sample_rate=_first(sample_rate, options.format_field("sample_rate")),
        channels=_first(channels, options.format_field("channels")),
        bit_depth=_first(bit_depth, options.format_field("bit_depth")),
        encoding=_first(encoding, options.format_field("encoding")),
    )
    source = open_audio_file(file, request, chunk_ms, speed=speed)
    settings = settings_mod.load(api_key, api_url, region)
    if getattr(source, "truncated", False):
        _warn(f"{file} ends before its header says it should; streaming the {source.duration or 0:.1f} s it holds")
    _run(
        settings,
        options,
        source,
        output,
        f"from {file.name}",
        duration=duration,
        finish_timeout=finish_timeout,
        record=record,
        output_file=output_file,
        reconnect_attempts=reconnect_attempts,
        reconnect_timeout=reconnect_timeout,
        buffer_seconds=buffer_seconds,
    )


def _transcribe_prerecorded(
    inputs: list[str],
    lang: list[str] | None,
    code_switching: bool | None,
    diarize: bool,
    speakers: int | None,
    min_speakers: int | None,
    max_speakers: int | None,
    translate: list[str] | None,
    vocabulary: list[str] | None,
    summarize: bool,
    summary_type: str | None,
    config: Path | None,
    output: Output,
    output_file: Path | None,
    output_dir: Path | None,
    jobs: int,
    force: bool,
    load_settings: Any,
    model: str | None = None,
    verbose: bool = False,
) -> None:
    from gladia_cli.live.config import language_list, load_config_file, split_list
    from gladia_cli.prerecorded.client import check_audio_file, is_url
    from gladia_cli.prerecorded.config import build_prerecorded_body
    from gladia_cli.prerecorded.run import transcribe_many, transcribe_one

    body = build_prerecorded_body(
        languages=language_list(lang),
        code_switching=code_switching,
        diarize=diarize,
        speakers=speakers,
        min_speakers=min_speakers,
        max_speakers=max_speakers,
        translate=language_list(translate),
        summarize=summary_type if summary_type is not None else ("general" if summarize else None),
        vocabulary=split_list(vocabulary),
        model=model,
        base=load_config_file(config),
    )
    if output_file is not None and output_dir is not None:
        raise UsageError("--output-file and --output-dir cannot be combined", hint="use one or the other")
    if output_dir is not None and output_dir.exists() and not output_dir.is_dir():
        raise UsageError(f"--output-dir {output_dir} is a file, not a directory", hint="give a directory")
    if output_file is not None:
        _check_writable(output_file)
    if len(inputs) == 1 and output_dir is None:
        if not is_url(inputs[0]):
            check_audio_file(Path(inputs[0]))  # the file's own problem first, before the key's
        settings = load_settings()
        raise typer.Exit(
            transcribe_one(settings, inputs[0], body, output.value, output_file=output_file, verbose=verbose)
        )
    if output_file is not None:
        raise UsageError("--output-file takes one input", hint="use --output-dir for several")
    settings = load_settings()
    raise typer.Exit(
        transcribe_many(settings, inputs, body, output.value, output_dir=output_dir, jobs=jobs, force=force)
    )


@app.command()
def result(
    job_id: Annotated[
        str, typer.Argument(metavar="ID", help="A live session or pre-recorded job id.", show_default=False)
    ],
    output: Annotated[
        ResultOutput,
        typer.Option(
            "--output",
            "-o",
            help="text (one utterance a line), json (the transcription), json-full (the whole API object), srt, vtt.",
        ),
    ] = ResultOutput.text,
    json_out: Annotated[bool, typer.Option("--json", help="The API's JSON unchanged (same as -o json-full).")] = False,
    wait: Annotated[bool, typer.Option("--wait", help="Poll until the job is done, with progress.")] = False,
    output_file: ResultOutputFile = None,
    api_key: ApiKey = None,
    api_url: ApiUrl = None,
) -> None:
    """Fetch the result of a live session or a pre-recorded job."""
    output_file = _stdout_if_dash(output_file)
    from gladia_cli import formats
    from gladia_cli import settings as settings_mod
    from gladia_cli.prerecorded.run import fetch_any
    from gladia_cli.terminal import is_tty

    fmt = "json-full" if json_out else output.value
    job_id = _job_id(job_id)
    if output_file is not None:
        _check_writable(output_file)
    settings = settings_mod.load(api_key, api_url, None)
    job = fetch_any(settings, job_id, wait=wait)
    status = job.get("status")
    if fmt != "json-full" and status == "error":
        raise ApiError(
            f"job {job_id} failed on Gladia's side (error code {job.get('error_code')})",
            hint=f"`gladia result {job_id} --json` shows the whole job",
        )
    text = formats.render(job, fmt, pretty=is_tty(sys.stdout) and output_file is None)
    if fmt != "json-full" and status != "done":
        if not formats.transcript_lines(job):
            # Nothing to show yet (a queued job): an empty file and exit 0 would look like a silent recording.
            raise ApiError(f"job {job_id} is {status}: no transcript yet", hint=f"`gladia result {job_id} --wait`")
        _warn(f"job {job_id} is {status}; the transcript may be incomplete (use --wait)")
    from gladia_cli.prerecorded.run import write_output

    write_output(text, output_file)


def _check_input(item: str) -> None:
    """A URL must be http(s); anything else with a scheme is a typo, not a file name."""
    import re

    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", item) and not item.lower().startswith(("http://", "https://")):
        raise UsageError(f"unsupported URL {item!r}", hint="give a local file or an http(s):// URL")


def _stdout_if_dash(path: Path | None) -> Path | None:
    """`--output-file -` means stdout, where the output goes anyway: no file named "-"."""
    return None if path == Path("-") else path


def _check_writable(path: Path) -> None:
    """Before any upload or session: an output that cannot be written must not cost a transcription."""
    from gladia_cli.outfile import write_problem

    problem = write_problem(path)
    if problem:
        hints = {"directory not found": "create it first", "it is a directory": "give a file name"}
        hint = next((h for start, h in hints.items() if problem.startswith(start)), None)
        raise UsageError(f"cannot write --output-file {path}: {problem}", hint=hint)


def _job_id(value: str) -> str:
    job_id = value.strip()
    if not job_id or "/" in job_id:
        raise UsageError(f"invalid job id {value!r}", hint="`gladia list` shows recent ids")
    return job_id


class Kind(str, Enum):
    live = "live"
    pre_recorded = "pre-recorded"


@app.command("list")
def list_jobs(
    kind: Annotated[Kind | None, typer.Option("--kind", help="Only live sessions or only pre-recorded jobs.")] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", help="How many, newest first.")] = 20,
    json_out: Annotated[bool, typer.Option("--json", help="The jobs as a JSON array.")] = False,
    api_key: ApiKey = None,
    api_url: ApiUrl = None,
) -> None:
    """List recent jobs: id, kind, status, created, duration."""
    from gladia_cli import formats
    from gladia_cli import settings as settings_mod
    from gladia_cli.prerecorded.run import job_row, list_recent
    from gladia_cli.terminal import is_tty

    if limit < 1:
        raise UsageError(f"--limit must be at least 1, got {limit}")
    settings = settings_mod.load(api_key, api_url, None)
    jobs = list_recent(settings, kind.value if kind else None, limit)
    if json_out:
        typer.echo(formats.dump_json(jobs, pretty=is_tty(sys.stdout)))
        return
    rows = [job_row(job) for job in jobs]
    if not is_tty(sys.stdout):
        for row in rows:
            typer.echo("\t".join(row))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(box=None)
    for column in ("id", "kind", "status", "created", "duration"):
        table.add_column(column)
    for row in rows:
        table.add_row(*row)
    Console().print(table)


@app.command()
def delete(
    job_id: Annotated[str, typer.Argument(metavar="ID", help="The job to delete, with its audio and transcript.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    api_key: ApiKey = None,
    api_url: ApiUrl = None,
) -> None:
    """Delete a job and all its data (asks first at a terminal)."""
    from gladia_cli import settings as settings_mod
    from gladia_cli.prerecorded.run import delete_job

    job_id = _job_id(job_id)
    settings = settings_mod.load(api_key, api_url, None)
    if not yes:
        if not (sys.stdin is not None and sys.stdin.isatty()):
            raise UsageError("refusing to delete without confirmation", hint="add --yes")
        if not typer.confirm(f"Delete job {job_id} and all its data?", default=False, err=True):
            raise Aborted(f"job {job_id} not deleted (the confirmation was declined)")
    kind = delete_job(settings, job_id)
    _info(f"deleted {kind} job {job_id}")


@app.command()
def audio(
    job_id: Annotated[str, typer.Argument(metavar="ID", help="A live session or pre-recorded job id.")],
    output_path: Annotated[Path, typer.Option("--output", "-O", help="Where to save the audio.")],
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
    api_key: ApiKey = None,
    api_url: ApiUrl = None,
) -> None:
    """Download the audio Gladia kept for a job (live sessions: as a WAV)."""
    from gladia_cli import settings as settings_mod
    from gladia_cli.prerecorded.run import download_audio

    job_id = _job_id(job_id)
    to_stdout = output_path == Path("-")  # the Unix convention: `gladia audio ID -O - | ffplay -`
    if to_stdout:
        from gladia_cli.terminal import is_tty

        if is_tty(sys.stdout):
            raise UsageError("refusing to write audio to the terminal", hint="redirect it: -O - > file.wav")
        output_path = Path(f"/dev/fd/{sys.stdout.fileno()}")  # written through our own descriptor (outfile)
    if output_path.is_file() and not force:  # a FIFO, /dev/null or /dev/stdout is written through, not replaced
        raise UsageError(f"{output_path} already exists", hint="add --force to overwrite it")
    settings = settings_mod.load(api_key, api_url, None)
    size = download_audio(settings, job_id, output_path)
    _info(f"saved {size / 1e6:.1f} MB to {'stdout' if to_stdout else output_path}")


@app.command()
def devices() -> None:
    """List audio input devices; the default is marked with *."""
    from gladia_cli.audio.capture import list_input_devices
    from gladia_cli.terminal import is_tty

    found = list_input_devices()
    if not found:
        raise UsageError("no input device found", hint="connect a microphone, or check that PulseAudio/ALSA is running")
    if not is_tty(sys.stdout):
        for d in found:
            mark = "*" if d.is_default else ""
            typer.echo(f"{d.index}\t{mark}\t{d.name}\t{d.max_input_channels}\t{d.default_samplerate:g}\t{d.hostapi}")
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(box=None)
    for column in ("", "index", "name", "channels", "default rate", "host API"):
        table.add_column(column)
    for d in found:
        table.add_row(
            "*" if d.is_default else "",
            str(d.index),
            d.name,
            str(d.max_input_channels),
            f"{d.default_samplerate:g}",
            d.hostapi,
        )
    Console().print(table)


@app.command()
def languages(
    translation: Annotated[bool, typer.Option("--translation", help="List translation targets instead.")] = False,
) -> None:
    """List the language codes Gladia accepts for --lang (or --translate)."""
    from gladia_cli import languages as langs

    for code in langs.TRANSLATION if translation else langs.TRANSCRIPTION:
        typer.echo(f"{code}\t{langs.name(code)}")


auth_app = typer.Typer(help="Save, show or remove the API key.", no_args_is_help=True)
app.add_typer(auth_app, name="auth")


@auth_app.command("set")
def auth_set(
    key: Annotated[
        str | None, typer.Argument(help="The key; omit it to be prompted (hidden) or to read it from stdin.")
    ] = None,
) -> None:
    """Save the API key (mode 0600 in the config directory). Without KEY: a hidden prompt, or stdin when piped."""
    from gladia_cli import settings as settings_mod

    if key is None:
        if sys.stdin is not None and sys.stdin.isatty():
            import getpass

            key = getpass.getpass("Gladia API key (input hidden): ")
        else:
            key = sys.stdin.readline() if sys.stdin is not None else ""
    path = settings_mod.save_key(key)
    _info(f"saved the key {settings_mod.mask(key.strip())} in {path}")


@auth_app.command("status")
def auth_status(
    api_key: ApiKey = None,
) -> None:
    """Show which key would be used and where it comes from (masked)."""
    from gladia_cli import settings as settings_mod

    key, source = settings_mod.resolve_key(api_key)
    typer.echo(f"key: {settings_mod.mask(key)}")
    typer.echo(f"from: {source}")


@auth_app.command("clear")
def auth_clear(
    all_files: Annotated[
        bool, typer.Option("--all", help="Also remove ~/.gladia, the official Gladia CLI's key file.")
    ] = False,
) -> None:
    """Remove the saved key."""
    from gladia_cli import settings as settings_mod

    removed = settings_mod.clear_keys(include_official=all_files)
    for path in removed:
        _info(f"removed {path}")
    if not removed:
        _info("no saved key to remove")
    official = settings_mod.official_cli_key_file()
    if not all_files and official.exists():
        _info(f"{official} (the official CLI's key file) still holds a key; `gladia auth clear --all` removes it")


class Shell(str, Enum):
    bash = "bash"
    zsh = "zsh"
    fish = "fish"


@app.command()
def completion(shell: Annotated[Shell, typer.Argument(help="bash, zsh or fish.")]) -> None:
    """Print the completion script: `gladia completion bash > ~/.local/share/bash-completion/completions/gladia`."""
    from gladia_cli.completion import script

    typer.echo(script(shell.value))


@app.command()
def doctor(
    device: Annotated[
        str | None,
        typer.Option(
            "--device",
            "-d",
            help="Input device to listen to (default: the default input).",
            autocompletion=_complete_devices,
        ),
    ] = None,
    json_out: Annotated[
        bool, typer.Option("--json", help="One JSON object {ok, checks: [{name, ok, detail, fix}]}.")
    ] = False,
    api_key: ApiKey = None,
    api_url: ApiUrl = None,
    region: Region = None,
) -> None:
    """Check the setup in one go (Python, PortAudio, microphone level, ffmpeg, key, Gladia); exit 1 if any fails."""
    from gladia_cli.doctor import Options, report

    raise typer.Exit(report(Options(device, api_key, api_url, region), json_out=json_out))


# --- entry point ----------------------------------------------------------------------------------------------------


def _info(text: str) -> None:
    from gladia_cli.terminal import notice

    notice(text)


_warn = _info


def _fail(message: str, code: int, args: list[str] | None = None) -> NoReturn:
    """One line, whatever the message held, and never a key (a key typed as an argument ends up in messages)."""
    from gladia_cli.settings import known_keys, mask
    from gladia_cli.terminal import error

    for key in known_keys(args or []):
        message = message.replace(key, mask(key))
    error(message)
    raise SystemExit(code)


def _looks_like_summary_type(word: str, types: tuple[str, ...]) -> bool:
    """One of the types, or a bare word that is no file (`bullet-points`, `bogus`): a typo of a type, which must be
    refused as one, not become a second input that silently turns the run into a batch."""
    import re

    if word in types:
        return True
    return bool(re.fullmatch(r"[A-Za-z][A-Za-z_-]*", word)) and not os.path.exists(word)


def _summary_type_argv(args: list[str]) -> list[str]:
    """Accept the issue's and official CLI's `--summarize [TYPE]` spelling next to `--summary-type TYPE`.

    Click options cannot take an optional value without swallowing a following file name, so the type is split
    off here: one of the three types, or a bare word that is no file (refused later as a mistyped type). A file
    named `concise` needs `./concise`.
    """
    if not any(arg.startswith("--summarize") for arg in args):
        return args  # the common case stays free of session_config's import
    from gladia_cli.live.config import SUMMARY_TYPES

    out: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            return out + args[i:]
        if arg.startswith("--summarize="):
            kind = arg.split("=", 1)[1]
            out += ["--summarize", "--summary-type", kind] if kind else ["--summarize"]
        elif arg == "--summarize" and i + 1 < len(args) and _looks_like_summary_type(args[i + 1], SUMMARY_TYPES):
            out += ["--summarize", "--summary-type", args[i + 1]]
            i += 1
        else:
            out.append(arg)
        i += 1
    return out


@contextlib.contextmanager
def _terminate_like_ctrl_c() -> Iterator[None]:
    """SIGTERM (timeout, systemd, docker stop) unwinds like Ctrl-C, so temporary files go and job ids are printed;
    a live session installs its own handlers on top (first SIGTERM = a clean stop) and restores this one.
    The previous handler is back when the command ends (main() may be called in-process, e.g. by tests)."""
    import signal
    import threading

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    if threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGTERM) != signal.SIG_DFL:
        yield
        return
    signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def main(argv: list[str] | None = None) -> None:
    """Every error ends as one line on stderr and a documented exit code; --debug adds the traceback."""
    args = _summary_type_argv(sys.argv[1:] if argv is None else argv)
    if "_GLADIA_COMPLETE" in os.environ:
        from gladia_cli.completion import enable

        enable()
    with _terminate_like_ctrl_c():
        _run_app(args, debug="--debug" in args or bool(os.environ.get("GLADIA_DEBUG")))


def _run_app(args: list[str], *, debug: bool) -> NoReturn:
    # Newer Typer vendors its own click: take the exception classes from wherever Typer's come from.
    click = sys.modules[typer.BadParameter.__module__]

    try:
        code = app(args=args, prog_name="gladia", standalone_mode=False)
    except GladiaError as exc:
        if debug:
            import traceback

            traceback.print_exc()
        _fail(str(exc), int(exc.exit_code), args)
    except click.NoArgsIsHelpError as exc:
        sys.stderr.write(exc.ctx.get_help() + "\n" if exc.ctx else "")
        raise SystemExit(ExitCode.USAGE) from None
    except click.UsageError as exc:
        command = exc.ctx.command_path if exc.ctx else "gladia"
        _fail(f"{exc.format_message()} (see `{command} --help`)", ExitCode.USAGE, args)
    except typer.Abort:
        _fail("aborted", ExitCode.ABORTED)
    except KeyboardInterrupt:
        _fail("aborted", ExitCode.ABORTED)
    except click.ClickException as exc:
        _fail(exc.format_message(), ExitCode.USAGE, args)
    except BrokenPipeError:
        # The reader of stdout went away (e.g. `| head`): not an error worth a traceback.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise SystemExit(ExitCode.OK) from None
    except OSError as exc:
        # The system refused something we did not foresee (a full disk under stdout, a vanished directory): say
        # what, not "unexpected OSError".
        if debug:
            raise
        where = f" ({exc.filename})" if exc.filename else " (writing the output?)"
        _fail(f"{exc.strerror or exc}{where}; run again with --debug for details", ExitCode.UNEXPECTED, args)
    except Exception as exc:
        if debug:
            raise
        _fail(f"unexpected {type(exc).__name__}; run again with --debug and report it", ExitCode.UNEXPECTED)
    if code == ExitCode.ABORTED:
        # Typer turns a Ctrl-C outside our own handlers (e.g. in a hung HTTP call) into a bare exit code 130.
        _fail("aborted", ExitCode.ABORTED)
    raise SystemExit(code if isinstance(code, int) else 0)
