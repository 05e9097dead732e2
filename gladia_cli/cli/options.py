"""Every flag and argument of the command line, declared once: its names, help, choices and Tab completion.

The checks between flags live with the requests they build (`live/request`, `prerecorded/request`, `jobs`); the
commands in `cli` only list these. No `from __future__ import annotations`: Typer reads these annotations, and as
strings they would cost `gladia --help` measurable start-up time.
"""

from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer

from gladia_cli.body import CALLBACK_METHODS, TRANSLATION_MODELS
from gladia_cli.live import defaults as live_defaults
from gladia_cli.live.steering import COMMANDS as steering_commands
from gladia_cli.output.job_json import JOB_STATUSES
from gladia_cli.output.output_format import OutputFormat
from gladia_cli.version import __version__

# --- choices --------------------------------------------------------------------------------------------------------


# Every format (listen, transcribe); a finished result has no message stream (no jsonl); a merged recovery is no
# API object (no json-full). The subsets follow from the formats' own properties, so a new format needs no edit here.
Output = OutputFormat
ResultOutput = Enum(  # type: ignore[misc]
    "ResultOutput", {f.name: f.value for f in OutputFormat if not f.live_only}, type=str
)

RecoverOutput = Enum(  # type: ignore[misc]
    "RecoverOutput", {f.name: f.value for f in OutputFormat if not (f.live_only or f.api_object)}, type=str
)
RESULT_TEXT = ResultOutput(OutputFormat.text.value)  # the defaults, as members of the subsets
RECOVER_TEXT = RecoverOutput(OutputFormat.text.value)


class Kind(str, Enum):
    live = "live"
    pre_recorded = "pre-recorded"


class OnFailure(str, Enum):
    exit = "exit"
    recover = "recover"


CtlAction = Enum("CtlAction", {name: name for name in steering_commands}, type=str)  # type: ignore[misc]


class Shell(str, Enum):
    bash = "bash"
    zsh = "zsh"
    fish = "fish"


# --- help panels: the options of the long commands, grouped as a person looks for them -----------------------------

AUDIO = "Audio input"
LANGUAGE = "Language and model"
ADDONS = "Add-ons"
OUTPUT = "Output"
OVERWRITE_HELP = "Overwrite an existing output file (refused otherwise: nothing is overwritten unasked)."
CONNECTION = "Connection and reliability"
STEERING = "Steering a running recording"
SERVER = "Key and server"

# --- examples at the end of the long commands' help (Typer's epilog; a blank line keeps each on its own line) -------

LISTEN_EXAMPLES = """Examples:

  gladia listen -l en,fr

  gladia listen --translate de -o srt --output-file talk.srt

  gladia listen -d 2 --record meeting.wav --summarize

  gladia --profile meeting listen    (saved defaults: gladia config)"""

TRANSCRIBE_EXAMPLES = """Examples:

  gladia transcribe interview.mp3 -l en

  gladia transcribe call.wav --speakers 2 -o srt > call.srt

  gladia transcribe *.m4a --output-dir out/ -o vtt

  gladia transcribe talk.wav --realtime --speed 0"""

RESULT_EXAMPLES = """Examples:

  gladia list -n 5    (the recent jobs and their ids)

  gladia result 45463597-20b7-4af7-b3b3-f5fb778203ab --wait

  gladia result 45463597-20b7-4af7-b3b3-f5fb778203ab -o srt > talk.srt"""

# --- callbacks: completion (imported only when a Tab press asks) and value rewrites ---------------------------------


def _complete_languages(incomplete: str) -> list[tuple[str, str]]:
    from gladia_cli.cli.completion import complete_languages

    return complete_languages(incomplete)


def _complete_targets(incomplete: str) -> list[tuple[str, str]]:
    from gladia_cli.cli.completion import complete_languages

    return complete_languages(incomplete, translation=True)


def _choices(option: str) -> Any:
    def complete(incomplete: str) -> list[tuple[str, str]]:
        from gladia_cli.cli.completion import complete_choice

        return complete_choice(option, incomplete)

    return complete


def _complete_devices(incomplete: str) -> list[tuple[str, str]]:
    from gladia_cli.cli.completion import complete_device

    return complete_device(incomplete)


def _stdout_if_dash(path: Path | None) -> Path | None:
    """`--output-file -` means stdout, where the output goes anyway: no file named "-"."""
    return None if path is not None and Path(path) == Path("-") else path


def _version(value: bool) -> None:
    if value:
        typer.echo(f"gladia {__version__}")
        raise typer.Exit()


# --- the root -------------------------------------------------------------------------------------------------------

Version = Annotated[
    bool, typer.Option("--version", "-V", callback=_version, is_eager=True, metavar="", help="Show the version.")
]
Debug = Annotated[bool, typer.Option("--debug", metavar="", help="Show tracebacks for errors.")]
Profile = Annotated[
    str | None,
    typer.Option(
        "--profile",
        metavar="NAME",
        help="Use the saved defaults of profile NAME in config.toml (default: $GLADIA_PROFILE); also accepted"
        " after the command.",
        show_default=False,
    ),
]

# --- the key and the server (every command that talks to Gladia) ----------------------------------------------------

ApiKey = Annotated[
    str | None,
    typer.Option(
        "--api-key",
        "--gladia-key",
        rich_help_panel=SERVER,
        metavar="KEY",
        help="Gladia API key (default: $GLADIA_API_KEY, then the key saved by `gladia auth set`, then ~/.gladia).",
        show_default=False,
    ),
]
ApiUrl = Annotated[
    str | None,
    typer.Option(
        "--api-url",
        rich_help_panel=SERVER,
        metavar="URL",
        help="API base URL (default: $GLADIA_API_URL or https://api.gladia.io).",
    ),
]
Region = Annotated[
    str | None,
    typer.Option(
        "--region", rich_help_panel=SERVER, metavar="REGION", help="eu-west or us-west (default: $GLADIA_REGION)."
    ),
]

# --- what to transcribe and how (listen and transcribe) -------------------------------------------------------------

Lang = Annotated[
    list[str] | None,
    typer.Option(
        "--lang",
        "-l",
        "--language",
        rich_help_panel=LANGUAGE,
        metavar="LANGS",
        help="Language code(s): repeat or comma list (e.g. en,fr).",
        autocompletion=_complete_languages,
    ),
]
CodeSwitching = Annotated[
    bool | None,
    typer.Option(
        "--code-switching/--no-code-switching",
        rich_help_panel=LANGUAGE,
        metavar="",
        help="Re-detect the language per utterance.",
    ),
]
Model = Annotated[
    str | None,
    typer.Option(
        "--model",
        rich_help_panel=LANGUAGE,
        metavar="NAME",
        help="Model: solaria-1 (live and files), solaria-3 (files in en, fr, de, es or it) or solaria-fusion (files).",
        autocompletion=_choices("--model"),
    ),
]
Endpointing = Annotated[
    float | None,
    typer.Option(
        "--endpointing",
        rich_help_panel=LANGUAGE,
        metavar="SECONDS",
        help="Silence (s) that ends an utterance, 0.01-10.",
    ),
]


def _sample_rate(default: str) -> Any:
    return Annotated[
        int | None,
        typer.Option(
            "--sample-rate",
            rich_help_panel=AUDIO,
            metavar="HZ",
            help=f"8000, 16000, 32000, 44100 or 48000 (default: {default}).",
        ),
    ]


def _channels(default: str) -> Any:
    return Annotated[
        int | None, typer.Option("--channels", rich_help_panel=AUDIO, metavar="N", help=f"1-8 (default: {default}).")
    ]


def _bit_depth(default: str, eight: str) -> Any:
    return Annotated[
        int | None,
        typer.Option(
            "--bit-depth",
            rich_help_panel=AUDIO,
            metavar="BITS",
            help=f"16, 24 or 32 (default: {default}); 8 for {eight}.",
        ),
    ]


# `listen` records the microphone; `transcribe` reads a file: each help says what its own default is.
SampleRate = _sample_rate("16000")
Channels = _channels("1")
BitDepth = _bit_depth("16", "A-law or mu-law")
FileSampleRate = _sample_rate("the file's own when Gladia takes it, else 16000")
FileChannels = _channels("the file's own; 1 mixes down, 2 takes surround to stereo")
FileBitDepth = _bit_depth("the file's own, else 16", "A-law, mu-law, or 8-bit PCM on stdin")
Encoding = Annotated[
    str | None,
    typer.Option(
        "--encoding",
        rich_help_panel=AUDIO,
        metavar="NAME",
        help="wav/pcm (default), or wav/alaw / wav/ulaw: 8-bit G.711, half the data of 16-bit PCM.",
        autocompletion=_choices("--encoding"),
    ),
]
Partials = Annotated[
    bool | None,
    typer.Option(
        "--partials/--no-partials",
        rich_help_panel=OUTPUT,
        metavar="",
        help="Show partial transcripts (default: on at a terminal).",
    ),
]
Translate = Annotated[
    list[str] | None,
    typer.Option(
        "--translate",
        rich_help_panel=ADDONS,
        metavar="LANGS",
        help="Translate into these languages (e.g. fr,de).",
        autocompletion=_complete_targets,
    ),
]
Vocabulary = Annotated[
    list[str] | None,
    typer.Option(
        "--vocabulary", rich_help_panel=ADDONS, metavar="WORDS", help="Words to favour (e.g. Gladia,Solaria)."
    ),
]
# Value lists of the new options, from the lists the library checks against.
TranslationModel = Enum(  # type: ignore[misc]
    "TranslationModel", {m: m for m in TRANSLATION_MODELS}, type=str
)
PiiStyle = Enum("PiiStyle", {"marker": "marker", "mask": "mask"}, type=str)  # type: ignore[misc]
CallbackMethod = Enum("CallbackMethod", {m: m for m in CALLBACK_METHODS}, type=str)  # type: ignore[misc]

Metadata = Annotated[
    list[str] | None,
    typer.Option(
        "--metadata",
        rich_help_panel=ADDONS,
        metavar="KEY=VALUE",
        help="custom_metadata kept with the job, repeatable (`gladia list --metadata` finds it).",
    ),
]
Spelling = Annotated[
    list[str] | None,
    typer.Option(
        "--spelling", rich_help_panel=ADDONS, metavar="FROM=TO", help="Write TO where FROM is heard, e.g. sequel=SQL."
    ),
]
TranslationModelOpt = Annotated[
    TranslationModel | None,
    typer.Option(
        "--translation-model", rich_help_panel=ADDONS, metavar="MODEL", help="Translation model.", case_sensitive=False
    ),
]
TranslationContext = Annotated[
    str | None,
    typer.Option(
        "--translation-context", rich_help_panel=ADDONS, metavar="TEXT", help="What the talk is about, for translation."
    ),
]
Informal = Annotated[
    bool | None,
    typer.Option(
        "--informal/--formal",
        rich_help_panel=ADDONS,
        metavar="",
        show_default=False,
        help="Translate in the informal (or formal) register.",
    ),
]
MaxUtterance = Annotated[
    float | None,
    typer.Option(
        "--max-utterance",
        rich_help_panel=LANGUAGE,
        metavar="SECONDS",
        help="End an utterance after this long without a pause, 5-60 (5 suits subtitles).",
    ),
]
SpeechThreshold = Annotated[
    float | None,
    typer.Option(
        "--speech-threshold",
        rich_help_panel=LANGUAGE,
        metavar="0-1",
        help="How sure Gladia must be that it hears speech (default 0.6; higher is stricter).",
    ),
]
AudioEnhancer = Annotated[
    bool | None,
    typer.Option(
        "--audio-enhancer/--no-audio-enhancer",
        rich_help_panel=LANGUAGE,
        metavar="",
        show_default=False,
        help="Clean up noisy audio before transcribing it.",
    ),
]
Prompt = Annotated[
    list[str] | None,
    typer.Option(
        "--prompt", rich_help_panel=ADDONS, metavar="TEXT", help="Ask an LLM about the file, repeatable (audio to LLM)."
    ),
]
RedactPii = Annotated[
    list[str] | None,
    typer.Option(
        "--redact-pii",
        rich_help_panel=ADDONS,
        metavar="TYPES",
        help="Redact personal data of these types or presets, e.g. GDPR, or NAME,AGE.",
    ),
]
PiiStyleOpt = Annotated[
    PiiStyle | None,
    typer.Option(
        "--pii-style",
        rich_help_panel=ADDONS,
        metavar="STYLE",
        help="marker ([NAME]) or mask (****).",
        case_sensitive=False,
    ),
]
CallbackUrl = Annotated[
    str | None,
    typer.Option(
        "--callback-url",
        rich_help_panel=OUTPUT,
        metavar="URL",
        help="Gladia POSTs the result there too (zero-data-retention accounts get it no other way).",
    ),
]
CallbackMethodOpt = Annotated[
    CallbackMethod | None,
    typer.Option(
        "--callback-method",
        rich_help_panel=OUTPUT,
        metavar="METHOD",
        help="POST (default) or PUT.",
        case_sensitive=False,
    ),
]
Summarize = Annotated[
    bool,
    typer.Option(
        "--summarize",
        rich_help_panel=ADDONS,
        metavar="",
        help="Ask for a summary after the session (`--summarize concise` also sets its type).",
    ),
]
SummaryType = Annotated[
    str | None,
    typer.Option(
        "--summary-type",
        rich_help_panel=ADDONS,
        metavar="TYPE",
        help="general, bullet_points or concise (implies --summarize).",
        autocompletion=_choices("--summary-type"),
    ),
]
Ner = Annotated[
    bool,
    typer.Option(
        "--ner/--no-ner",
        rich_help_panel=ADDONS,
        metavar="",
        show_default=False,
        help="Named entities of each utterance (people, places, dates...).",
    ),
]
Sentiment = Annotated[
    bool,
    typer.Option(
        "--sentiment/--no-sentiment",
        rich_help_panel=ADDONS,
        metavar="",
        show_default=False,
        help="Sentiment and emotion of each utterance.",
    ),
]
Chapterize = Annotated[
    bool,
    typer.Option(
        "--chapterize/--no-chapterize",
        rich_help_panel=ADDONS,
        metavar="",
        show_default=False,
        hidden=True,  # accepted, with a notice, so scripts written for it keep running
        help="Deprecated: Gladia no longer makes chapters; ignored.",
    ),
]


def _config_file(fields: str) -> Any:
    return Annotated[
        Path | None,
        typer.Option("--config", rich_help_panel=ADDONS, metavar="FILE", help=f"JSON file with {fields}; flags win."),
    ]


ConfigFile = _config_file("any other POST /v2/live field")
TranscribeConfigFile = _config_file("any other field of POST /v2/pre-recorded (of /v2/live with --realtime)")
OutputOpt = Annotated[
    Output,
    typer.Option(
        "--output",
        "-o",
        rich_help_panel=OUTPUT,
        metavar="FORMAT",
        help="text (one utterance a line), json (the transcription), json-full (the whole API object), srt, vtt,"
        " md (notes: front matter, timestamped lines, summary), or jsonl (live: every server message as it arrives).",
        case_sensitive=False,
    ),
]
Duration = Annotated[
    float | None,
    typer.Option("--duration", rich_help_panel=AUDIO, metavar="SECONDS", help="Stop after this many seconds of audio."),
]
Record = Annotated[
    Path | None,
    typer.Option(
        "--record",
        rich_help_panel=AUDIO,
        metavar="FILE",
        help="Also save the audio sent to this new WAV file (valid even if killed).",
    ),
]

# --- listen: the microphone and the live session's own defaults -----------------------------------------------------

Device = Annotated[
    list[str] | None,
    typer.Option(
        "--device",
        "-d",
        rich_help_panel=AUDIO,
        metavar="DEVICE",
        help="Input device name or index (see `gladia devices`); repeat it to record each as its own channel.",
        autocompletion=_complete_devices,
    ),
]
SystemAudio = Annotated[
    bool,
    typer.Option(
        "--system-audio/--no-system-audio",
        rich_help_panel=AUDIO,
        metavar="",
        show_default=False,
        help="Record what the computer plays (the default output's monitor); with --device, as the last channel.",
    ),
]
ChannelNames = Annotated[
    str | None,
    typer.Option(
        "--channel-names",
        rich_help_panel=OUTPUT,
        metavar="NAMES",
        help="Label each channel's utterances, e.g. me,them (default: the inputs' names).",
    ),
]
DoctorDevice = Annotated[
    str | None,
    typer.Option(
        "--device",
        "-d",
        metavar="DEVICE",
        help="Input device to listen to (default: the default input).",
        autocompletion=_complete_devices,
    ),
]
DoctorJson = Annotated[bool, typer.Option("--json", help="One JSON object {ok, checks: [{name, ok, detail, fix}]}.")]
ChunkMs = Annotated[
    int,
    typer.Option(
        "--chunk-ms", rich_help_panel=CONNECTION, metavar="MS", help="Audio per WebSocket frame, in ms (10-1000)."
    ),
]
OutputFile = Annotated[
    Path | None,
    typer.Option(
        "--output-file",
        rich_help_panel=OUTPUT,
        metavar="FILE",
        help="Also write the output to this file as it arrives (flushed per line).",
        callback=_stdout_if_dash,
    ),
]
ReconnectAttempts = Annotated[
    int,
    typer.Option(
        "--reconnect-attempts",
        rich_help_panel=CONNECTION,
        metavar="N",
        help="Reconnection attempts after the connection drops (0 = none).",
    ),
]
ReconnectTimeout = Annotated[
    float,
    typer.Option(
        "--reconnect-timeout",
        rich_help_panel=CONNECTION,
        metavar="SECONDS",
        help="Give up reconnecting after this many s.",
    ),
]
BufferSeconds = Annotated[
    float,
    typer.Option(
        "--buffer-seconds",
        rich_help_panel=CONNECTION,
        metavar="SECONDS",
        help="Audio kept while disconnected; beyond it the oldest is dropped.",
    ),
]
SessionLimit = Annotated[
    float,
    typer.Option(
        "--session-limit",
        rich_help_panel=CONNECTION,
        metavar="SECONDS",
        help="Go on in a new Gladia session after this long (Gladia ends one after 3 h).",
    ),
]
NoJournal = Annotated[
    bool,
    typer.Option(
        "--no-journal",
        rich_help_panel=CONNECTION,
        metavar="",
        help="Keep no local journal of the audio (nothing to `gladia recover`).",
    ),
]
JournalMaxMb = Annotated[
    int,
    typer.Option(
        "--journal-max-mb",
        rich_help_panel=CONNECTION,
        metavar="MB",
        help="Bound of the audio journal; the oldest acknowledged audio goes first.",
    ),
]
OnFailureOpt = Annotated[
    OnFailure,
    typer.Option(
        "--on-failure",
        rich_help_panel=CONNECTION,
        metavar="exit|recover",
        help="When the session cannot go on: exit 4, or recover the rest from the journal.",
        case_sensitive=False,
    ),
]
FinishTimeout = Annotated[
    float | None,
    typer.Option(
        "--finish-timeout",
        rich_help_panel=CONNECTION,
        metavar="SECONDS",
        help="At most this long for post-processing after stop (default: by what Gladia says is left).",
    ),
]

# --- transcribe: files and URLs; live flags are None unless given, so the pre-recorded mode can refuse them ---------

Inputs = Annotated[
    list[str],
    typer.Argument(
        metavar="FILE|URL...",
        help="Audio or video files, or http(s) URLs (pre-recorded); one file with --realtime, or - for stdin.",
        show_default=False,
    ),
]
Realtime = Annotated[
    bool,
    typer.Option(
        "--realtime/--no-realtime",
        rich_help_panel=AUDIO,
        metavar="",
        show_default=False,
        help="Stream the file through the live API.",
    ),
]
Speed = Annotated[
    float | None,
    typer.Option(
        "--speed",
        rich_help_panel=AUDIO,
        metavar="FACTOR",
        help="With --realtime: 1 = real time (default), 0 = as fast as possible.",
    ),
]
Diarize = Annotated[
    bool,
    typer.Option(
        "--diarize/--no-diarize",
        rich_help_panel=ADDONS,
        metavar="",
        show_default=False,
        help="Label speakers (pre-recorded).",
    ),
]
Speakers = Annotated[
    int | None,
    typer.Option(
        "--speakers", rich_help_panel=ADDONS, metavar="N", help="Expected number of speakers (implies --diarize)."
    ),
]
MinSpeakers = Annotated[
    int | None, typer.Option("--min-speakers", rich_help_panel=ADDONS, metavar="N", help="At least this many speakers.")
]
MaxSpeakers = Annotated[
    int | None, typer.Option("--max-speakers", rich_help_panel=ADDONS, metavar="N", help="At most this many speakers.")
]
RealtimeChunkMs = Annotated[
    int | None,
    typer.Option(
        "--chunk-ms",
        rich_help_panel=CONNECTION,
        metavar="MS",
        help=(
            f"Audio per WebSocket frame, in ms (10-1000) (default: {live_defaults.CHUNK_MS};"
            f" {live_defaults.UNPACED_CHUNK_MS} at --speed 0)."
        ),
    ),
]
TranscribeOutputFile = Annotated[
    Path | None,
    typer.Option(
        "--output-file",
        rich_help_panel=OUTPUT,
        metavar="FILE",
        help="With --realtime: write each final as it arrives (flushed per line). Otherwise: write the result to"
        " this file, replacing it once complete.",
        callback=_stdout_if_dash,
    ),
]
OutputDir = Annotated[
    Path | None,
    typer.Option(
        "--output-dir", rich_help_panel=OUTPUT, metavar="DIR", help="Write one output per input here (pre-recorded)."
    ),
]
Jobs = Annotated[
    int | None,
    typer.Option(
        "--jobs",
        "-j",
        rich_help_panel=OUTPUT,
        metavar="N",
        help="Inputs transcribed at once (pre-recorded) (default: 4).",
    ),
]
Redo = Annotated[
    bool,
    typer.Option(
        "--force",
        rich_help_panel=OUTPUT,
        metavar="",
        help="Overwrite existing outputs (--output-file, --record; in --output-dir, redo inputs already done).",
    ),
]
Verbose = Annotated[
    bool,
    typer.Option(
        "--verbose",
        "-v",
        rich_help_panel=OUTPUT,
        metavar="",
        help="Progress lines on stderr even when it is not a terminal.",
    ),
]
RealtimeFinishTimeout = Annotated[
    float | None,
    typer.Option(
        "--finish-timeout",
        rich_help_panel=CONNECTION,
        metavar="SECONDS",
        help="At most this long for post-processing after stop (default: by what Gladia says is left).",
    ),
]
RealtimeReconnectAttempts = Annotated[
    int | None,
    typer.Option(
        "--reconnect-attempts",
        rich_help_panel=CONNECTION,
        metavar="N",
        help=(
            "Reconnection attempts after the connection drops (0 = none)"
            f" (default: {live_defaults.RECONNECT_ATTEMPTS})."
        ),
    ),
]
RealtimeReconnectTimeout = Annotated[
    float | None,
    typer.Option(
        "--reconnect-timeout",
        rich_help_panel=CONNECTION,
        metavar="SECONDS",
        help=f"Give up reconnecting after this many s (default: {live_defaults.RECONNECT_TIMEOUT:g}).",
    ),
]
RealtimeBufferSeconds = Annotated[
    float | None,
    typer.Option(
        "--buffer-seconds",
        rich_help_panel=CONNECTION,
        metavar="SECONDS",
        help=f"Audio kept while disconnected (default: {live_defaults.BUFFER_SECONDS:g}).",
    ),
]
RealtimeSessionLimit = Annotated[
    float | None,
    typer.Option(
        "--session-limit",
        rich_help_panel=CONNECTION,
        metavar="SECONDS",
        help=f"Go on in a new Gladia session after this long (default: {live_defaults.SESSION_LIMIT:g}).",
    ),
]

# --- jobs: result, list, delete, audio ------------------------------------------------------------------------------

ResultJobId = Annotated[
    list[str],
    typer.Argument(
        metavar="ID...",
        help="A live session or pre-recorded job id; several live sessions (one long recording) are joined.",
        show_default=False,
    ),
]
ResultOutputOpt = Annotated[
    ResultOutput,
    typer.Option(
        "--output",
        "-o",
        rich_help_panel=OUTPUT,
        metavar="FORMAT",
        help="text (one utterance a line), json (the transcription), json-full (the whole API object), srt, vtt.",
        case_sensitive=False,
    ),
]
ResultJson = Annotated[
    bool,
    typer.Option("--json", rich_help_panel=OUTPUT, metavar="", help="The API's JSON unchanged (same as -o json-full)."),
]
Wait = Annotated[
    bool, typer.Option("--wait", rich_help_panel=OUTPUT, metavar="", help="Poll until the job is done, with progress.")
]
ResultChannelNames = Annotated[
    str | None,
    typer.Option(
        "--channel-names",
        rich_help_panel=OUTPUT,
        metavar="NAMES",
        help="Label each channel's utterances, e.g. me,them.",
    ),
]
ResultOutputFile = Annotated[
    Path | None,
    typer.Option(
        "--output-file",
        rich_help_panel=OUTPUT,
        metavar="FILE",
        help="Write the output to this file, replacing it once complete.",
        callback=_stdout_if_dash,
    ),
]
KindOpt = Annotated[
    Kind | None,
    typer.Option("--kind", metavar="KIND", help="Only live sessions or only pre-recorded jobs.", case_sensitive=False),
]
Limit = Annotated[int, typer.Option("--limit", "-n", metavar="N", help="How many, newest first.")]
ListJson = Annotated[bool, typer.Option("--json", help="The jobs as a JSON array.")]
JobStatus = Enum("JobStatus", {s: s for s in JOB_STATUSES}, type=str)  # type: ignore[misc]
StatusFilter = Annotated[
    list[JobStatus] | None,
    typer.Option("--status", metavar="STATUS", help="Only jobs in this state (repeatable).", case_sensitive=False),
]
Since = Annotated[
    str | None, typer.Option("--since", metavar="DATE", help="Only jobs created since (YYYY-MM-DD, or a time).")
]
Before = Annotated[str | None, typer.Option("--before", metavar="DATE", help="Only jobs created before.")]
MetadataFilter = Annotated[
    list[str] | None,
    typer.Option("--metadata", metavar="KEY=VALUE", help="Only jobs whose custom_metadata has it (repeatable)."),
]
DeleteJobId = Annotated[str, typer.Argument(metavar="ID", help="The job to delete, with its audio and transcript.")]
Yes = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]
AudioJobId = Annotated[str, typer.Argument(metavar="ID", help="A live session or pre-recorded job id.")]
AudioPath = Annotated[
    Path, typer.Option("--output-file", "-O", metavar="FILE", help="Where to save the audio (- for stdout).")
]
Overwrite = Annotated[bool, typer.Option("--force", rich_help_panel=OUTPUT, metavar="", help=OVERWRITE_HELP)]

RecoverJobId = Annotated[
    str | None, typer.Argument(metavar="ID", help="The session to finish; omit it to list the kept journals.")
]
RecoverOutputOpt = Annotated[
    RecoverOutput,
    typer.Option(
        "--output", "-o", metavar="FORMAT", help="text, json (the transcription), srt or vtt.", case_sensitive=False
    ),
]
Keep = Annotated[bool, typer.Option("--keep", metavar="", help="Keep the journal after a successful recovery.")]
Discard = Annotated[
    bool, typer.Option("--discard", metavar="", help="Delete the journal without recovering anything from it.")
]


# --- config: saved defaults and profiles ---------------------------------------------------------------------------

ConfigKey = Annotated[
    str, typer.Argument(metavar="KEY", help="A long option without dashes: lang, output, sample-rate, api-url...")
]
ConfigValues = Annotated[
    list[str], typer.Argument(metavar="VALUE", help="The value; several for options that repeat (lang en fr).")
]

# --- languages, auth, completion ------------------------------------------------------------------------------------

Translation = Annotated[bool, typer.Option("--translation", help="List translation targets instead.")]
Key = Annotated[str | None, typer.Argument(help="The key; omit it to be prompted (hidden) or to read it from stdin.")]
ClearAll = Annotated[bool, typer.Option("--all", help="Also remove ~/.gladia, the official Gladia CLI's key file.")]
ShellArg = Annotated[Shell, typer.Argument(help="bash, zsh or fish.", case_sensitive=False)]

# --- listen: steering a running recording ---------------------------------------------------------------------------

StartPaused = Annotated[
    bool,
    typer.Option(
        "--start-paused",
        rich_help_panel=STEERING,
        metavar="",
        help="Record nothing until resumed (space, `gladia ctl toggle` or SIGUSR1): push-to-talk with a hotkey.",
    ),
]
StopAfterSilence = Annotated[
    float | None,
    typer.Option(
        "--stop-after-silence",
        rich_help_panel=STEERING,
        metavar="SECONDS",
        help="End the session, as one Ctrl-C would, after this long without speech.",
    ),
]
PricePerHour = Annotated[
    float | None,
    typer.Option(
        "--price-per-hour",
        rich_help_panel=STEERING,
        metavar="PRICE",
        help="Your price per billed hour, to show what the session costs as it runs (save it with `gladia config set"
        " price-per-hour 0.61`); no price is built in.",
    ),
]

# --- ctl ------------------------------------------------------------------------------------------------------------

CtlActionArg = Annotated[
    CtlAction,
    typer.Argument(
        metavar="ACTION", help="pause, resume, toggle, mute NAME, unmute NAME, bookmark [TEXT], stop, status."
    ),
]
CtlText = Annotated[
    list[str] | None,
    typer.Argument(metavar="[NAME|TEXT]", help="The input to (un)mute (a name or its number), or a bookmark's note."),
]
CtlSession = Annotated[
    str | None,
    typer.Option("--session", metavar="ID", help="The recording to steer when several run (its session id or pid)."),
]
CtlJson = Annotated[bool, typer.Option("--json", metavar="", help="status: as JSON, one object per line.")]
CtlFollow = Annotated[
    bool, typer.Option("--follow", "-f", metavar="", help="status: a new line at every change, until the end.")
]
NotesDir = Annotated[
    Path | None,
    typer.Option(
        "--notes",
        rich_help_panel=OUTPUT,
        metavar="DIR",
        help="Write Markdown notes of the recording in DIR as it goes (one file per recording, valid even if killed).",
    ),
]
Title = Annotated[
    str | None,
    typer.Option("--title", rich_help_panel=OUTPUT, metavar="TEXT", help="The notes' title and file name."),
]
Timestamps = Annotated[
    bool,
    typer.Option("--timestamps", rich_help_panel=OUTPUT, metavar="", help="Start each text line with [hh:mm:ss]."),
]
