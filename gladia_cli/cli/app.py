"""The commands: each lists its flags (declared in `options`), builds one request, calls one library entry, prints.

The rules between flags live with the requests they build (`live/request`, `prerecorded/request`, `jobs`); the
process around the commands (argv, SIGTERM, errors to exit codes) in `process`. No `from __future__ import
annotations`: Typer would then evaluate every annotation as a string, which costs `gladia --help` measurable
start-up time.
"""

import functools
import sys
from collections.abc import Callable, Sequence
from enum import Enum
from typing import TYPE_CHECKING, Any

import typer

from gladia_cli.cli.options import (
    LISTEN_EXAMPLES,
    RECOVER_TEXT,
    RESULT_EXAMPLES,
    RESULT_TEXT,
    TRANSCRIBE_EXAMPLES,
    ApiKey,
    ApiUrl,
    AudioEnhancer,
    AudioJobId,
    AudioPath,
    Before,
    BitDepth,
    BufferSeconds,
    CallbackMethodOpt,
    CallbackUrl,
    ChannelNames,
    Channels,
    Chapterize,
    ChunkMs,
    ClearAll,
    CodeSwitching,
    ConfigFile,
    ConfigKey,
    ConfigValues,
    CtlActionArg,
    CtlFollow,
    CtlJson,
    CtlSession,
    CtlText,
    Debug,
    DeleteJobId,
    Device,
    Diarize,
    Discard,
    DoctorDevice,
    DoctorJson,
    Duration,
    Encoding,
    Endpointing,
    FileBitDepth,
    FileChannels,
    FileSampleRate,
    FinishTimeout,
    Informal,
    Inputs,
    Jobs,
    JournalMaxMb,
    Keep,
    Key,
    KindOpt,
    Lang,
    Limit,
    ListJson,
    MaxSpeakers,
    MaxUtterance,
    Metadata,
    MetadataFilter,
    MinSpeakers,
    Model,
    Ner,
    NoJournal,
    NotesDir,
    OnFailure,
    OnFailureOpt,
    Output,
    OutputDir,
    OutputFile,
    OutputOpt,
    Overwrite,
    Partials,
    PiiStyleOpt,
    PricePerHour,
    Profile,
    Prompt,
    Realtime,
    RealtimeBufferSeconds,
    RealtimeChunkMs,
    RealtimeFinishTimeout,
    RealtimeReconnectAttempts,
    RealtimeReconnectTimeout,
    RealtimeSessionLimit,
    ReconnectAttempts,
    ReconnectTimeout,
    Record,
    RecoverJobId,
    RecoverOutputOpt,
    RedactPii,
    Redo,
    Region,
    ResultChannelNames,
    ResultJobId,
    ResultJson,
    ResultOutputFile,
    ResultOutputOpt,
    SampleRate,
    Sentiment,
    SessionLimit,
    ShellArg,
    Since,
    Speakers,
    SpeechThreshold,
    Speed,
    Spelling,
    StartPaused,
    StatusFilter,
    StopAfterSilence,
    Summarize,
    SummaryType,
    SystemAudio,
    Timestamps,
    Title,
    TranscribeConfigFile,
    TranscribeOutputFile,
    Translate,
    Translation,
    TranslationContext,
    TranslationModelOpt,
    Verbose,
    Version,
    Vocabulary,
    Wait,
    Yes,
)
from gladia_cli.console.terminal import is_tty, notice, shown
from gladia_cli.live import defaults as live_defaults
from gladia_cli.output.output_format import OutputFormat

if TYPE_CHECKING:
    from gladia_cli.cli.flags import BodyFlags
    from gladia_cli.settings import Settings

app = typer.Typer(
    name="gladia",
    help="Live and file transcription with Gladia's speech-to-text API.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def _root(ctx: typer.Context, version: Version = False, debug: Debug = False, profile: Profile = None) -> None:
    """Live and file transcription with Gladia's speech-to-text API."""
    from gladia_cli.cli import defaults as profiles
    from gladia_cli.cli import typer_seam

    if ctx.invoked_subcommand in profiles.COMMANDS:
        # Saved defaults, applied only where no flag was typed.
        typer_seam.set_default_map(ctx, profiles.saved_defaults(ctx, profile))


# --- glue -----------------------------------------------------------------------------------------------------------


def _flags(parameters: dict[str, Any]) -> "tuple[BodyFlags, dict[str, Any]]":
    """A command's parameters (its `locals()` before anything else) as its request constructor takes them: the
    body's flags together, the others by name, the constructor's keyword parameters being the flags' (a flag added
    on one side only fails on the first run), choices as plain strings. The key, URL and region are not the
    request's: they go to `_settings`."""
    from gladia_cli.cli.flags import BodyFlags

    return BodyFlags.split(
        {
            name: value.value if isinstance(value, Enum) else value
            for name, value in parameters.items()
            if name not in ("api_key", "api_url", "region")
        }
    )


def _settings(api_key: str | None, api_url: str | None, region: str | None = None) -> "Callable[[], Settings]":
    """The settings, loaded when the library's turn comes: after the checks that need no key."""
    from gladia_cli import settings

    return functools.partial(settings.load, api_key, api_url, region)


def _print_table(columns: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> None:
    from rich.console import Console
    from rich.table import Table

    from gladia_cli.console.terminal import plain_text

    table = Table(box=None)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*(plain_text(cell) for cell in row))  # ids and names from Gladia: never markup
    Console().print(table)


# --- transcription --------------------------------------------------------------------------------------------------


@app.command(epilog=LISTEN_EXAMPLES)
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
    ner: Ner = False,
    sentiment: Sentiment = False,
    chapterize: Chapterize = False,
    metadata: Metadata = None,
    spelling: Spelling = None,
    translation_model: TranslationModelOpt = None,
    translation_context: TranslationContext = None,
    informal: Informal = None,
    max_utterance: MaxUtterance = None,
    speech_threshold: SpeechThreshold = None,
    audio_enhancer: AudioEnhancer = None,
    config: ConfigFile = None,
    device: Device = None,
    system_audio: SystemAudio = False,
    channel_names: ChannelNames = None,
    duration: Duration = None,
    chunk_ms: ChunkMs = live_defaults.CHUNK_MS,
    output: OutputOpt = Output.text,
    finish_timeout: FinishTimeout = None,
    record: Record = None,
    output_file: OutputFile = None,
    force: Overwrite = False,
    reconnect_attempts: ReconnectAttempts = live_defaults.RECONNECT_ATTEMPTS,
    reconnect_timeout: ReconnectTimeout = live_defaults.RECONNECT_TIMEOUT,
    buffer_seconds: BufferSeconds = live_defaults.BUFFER_SECONDS,
    session_limit: SessionLimit = live_defaults.SESSION_LIMIT,
    no_journal: NoJournal = False,
    journal_max_mb: JournalMaxMb = live_defaults.JOURNAL_MAX_MB,
    on_failure: OnFailureOpt = OnFailure.exit,
    start_paused: StartPaused = False,
    stop_after_silence: StopAfterSilence = None,
    price_per_hour: PricePerHour = None,
    notes: NotesDir = None,
    title: Title = None,
    timestamps: Timestamps = False,
    api_key: ApiKey = None,
    api_url: ApiUrl = None,
    region: Region = None,
) -> None:
    """Transcribe the microphone, several inputs or the system audio live; Ctrl-C ends with the result, twice aborts."""
    body, flags = _flags(locals())
    from gladia_cli.cli import live_run as run
    from gladia_cli.cli.live_request import microphone_request

    raise typer.Exit(run.run_request(microphone_request(body, **flags), _settings(api_key, api_url, region)))


@app.command(epilog=TRANSCRIBE_EXAMPLES)
def transcribe(
    inputs: Inputs,
    realtime: Realtime = False,
    speed: Speed = None,
    lang: Lang = None,
    code_switching: CodeSwitching = None,
    model: Model = None,
    endpointing: Endpointing = None,
    diarize: Diarize = False,
    speakers: Speakers = None,
    min_speakers: MinSpeakers = None,
    max_speakers: MaxSpeakers = None,
    prompt: Prompt = None,
    redact_pii: RedactPii = None,
    pii_style: PiiStyleOpt = None,
    callback_url: CallbackUrl = None,
    callback_method: CallbackMethodOpt = None,
    sample_rate: FileSampleRate = None,
    channels: FileChannels = None,
    bit_depth: FileBitDepth = None,
    encoding: Encoding = None,
    partials: Partials = None,
    translate: Translate = None,
    vocabulary: Vocabulary = None,
    summarize: Summarize = False,
    summary_type: SummaryType = None,
    ner: Ner = False,
    sentiment: Sentiment = False,
    chapterize: Chapterize = False,
    metadata: Metadata = None,
    spelling: Spelling = None,
    translation_model: TranslationModelOpt = None,
    translation_context: TranslationContext = None,
    informal: Informal = None,
    max_utterance: MaxUtterance = None,
    speech_threshold: SpeechThreshold = None,
    audio_enhancer: AudioEnhancer = None,
    config: TranscribeConfigFile = None,
    duration: Duration = None,
    chunk_ms: RealtimeChunkMs = None,
    output: OutputOpt = Output.text,
    output_file: TranscribeOutputFile = None,
    output_dir: OutputDir = None,
    jobs: Jobs = None,
    force: Redo = False,
    verbose: Verbose = False,
    finish_timeout: RealtimeFinishTimeout = None,
    record: Record = None,
    reconnect_attempts: RealtimeReconnectAttempts = None,
    reconnect_timeout: RealtimeReconnectTimeout = None,
    buffer_seconds: RealtimeBufferSeconds = None,
    session_limit: RealtimeSessionLimit = None,
    channel_names: ChannelNames = None,
    api_key: ApiKey = None,
    api_url: ApiUrl = None,
    region: Region = None,
) -> None:
    """Transcribe files or URLs with Gladia's pre-recorded API; with --realtime, stream one file live at --speed."""
    body, flags = _flags(locals())
    from gladia_cli.cli.prerecorded_request import PrerecordedRequest, transcribe_request

    request = transcribe_request(body, **flags, region=region)
    load_settings = _settings(api_key, api_url, region)
    if isinstance(request, PrerecordedRequest):
        from gladia_cli.cli import prerecorded_run

        raise typer.Exit(prerecorded_run.run_request(request, load_settings))
    from gladia_cli.cli import live_run

    raise typer.Exit(live_run.run_request(request, load_settings))


# --- jobs -----------------------------------------------------------------------------------------------------------


@app.command(epilog=RESULT_EXAMPLES)
def result(
    job_ids: ResultJobId,
    output: ResultOutputOpt = RESULT_TEXT,
    json_out: ResultJson = False,
    wait: Wait = False,
    output_file: ResultOutputFile = None,
    force: Overwrite = False,
    channel_names: ResultChannelNames = None,
    api_key: ApiKey = None,
    api_url: ApiUrl = None,
) -> None:
    """Fetch the result of a live session or a pre-recorded job."""
    from gladia_cli.cli.jobs import show_result
    from gladia_cli.output.job_json import parse_channel_names

    fmt = OutputFormat.json_full if json_out else OutputFormat(output)
    load_settings = _settings(api_key, api_url)
    names = parse_channel_names(channel_names)
    show_result(
        job_ids, fmt, wait=wait, output_file=output_file, force=force, load_settings=load_settings, channel_names=names
    )


@app.command()
def recover(
    session_id: RecoverJobId = None,
    output: RecoverOutputOpt = RECOVER_TEXT,
    keep: Keep = False,
    discard: Discard = False,
    output_file: ResultOutputFile = None,
    force: Overwrite = False,
    api_key: ApiKey = None,
    api_url: ApiUrl = None,
) -> None:
    """Finish the transcript of a live session that could not go on, from its local audio journal."""
    from gladia_cli.cli import recover as recovery

    if session_id is None:
        rows = recovery.journal_rows()
        if not rows:
            notice(f"no kept journals in {recovery.journals_dir()}")
        elif not is_tty(sys.stdout):
            for row in rows:
                typer.echo(shown("\t".join(row), sys.stdout))
        else:
            _print_table(recovery.JOURNAL_COLUMNS, rows)
        return
    load_settings = _settings(api_key, api_url)
    raise typer.Exit(
        recovery.run_recover(
            load_settings,
            session_id,
            OutputFormat(output),
            keep=keep,
            output_file=output_file,
            force=force,
            discard=discard,
        )
    )


@app.command("list")
def list_jobs(
    kind: KindOpt = None,
    limit: Limit = 20,
    status: StatusFilter = None,
    since: Since = None,
    before: Before = None,
    metadata: MetadataFilter = None,
    json_out: ListJson = False,
    api_key: ApiKey = None,
    api_url: ApiUrl = None,
) -> None:
    """List recent jobs: id, kind, status, created, duration, file."""
    from gladia_cli import strict_json
    from gladia_cli.cli.jobs import JOB_COLUMNS, job_row, list_filters, recent

    filters = list_filters([s.value for s in status or []], since, before, metadata)
    jobs = recent(kind.value if kind else None, limit, _settings(api_key, api_url), filters)
    if json_out:
        typer.echo(strict_json.dump_json(jobs, pretty=is_tty(sys.stdout)))
    elif not is_tty(sys.stdout):
        for job in jobs:
            typer.echo(shown("\t".join(job_row(job)), sys.stdout))  # ids and names from Gladia
    else:
        _print_table(JOB_COLUMNS, [job_row(job) for job in jobs])


@app.command()
def delete(job_id: DeleteJobId, yes: Yes = False, api_key: ApiKey = None, api_url: ApiUrl = None) -> None:
    """Delete a job and all its data (asks first at a terminal)."""
    from gladia_cli.cli import jobs

    def confirm(question: str) -> bool:
        return typer.confirm(question, default=False, err=True)

    jobs.delete(job_id, confirm=None if yes else confirm, load_settings=_settings(api_key, api_url))


@app.command()
def audio(
    job_id: AudioJobId, output_path: AudioPath, force: Overwrite = False, api_key: ApiKey = None, api_url: ApiUrl = None
) -> None:
    """Download the audio Gladia kept for a job (live sessions: as a WAV)."""
    from gladia_cli.cli.jobs import save_audio

    save_audio(job_id, output_path, force=force, load_settings=_settings(api_key, api_url))


@app.command()
def ctl(
    action: CtlActionArg,
    words: CtlText = None,
    session: CtlSession = None,
    as_json: CtlJson = False,
    follow: CtlFollow = False,
) -> None:
    """Steer a running `gladia listen` from elsewhere (a hotkey, a status bar): pause, mute, bookmark, stop, status."""
    from gladia_cli.cli import ctl as control

    control.run(action.value, list(words or []), session=session, as_json=as_json, follow=follow)


# --- the machine and the API's lists --------------------------------------------------------------------------------


@app.command()
def devices() -> None:
    """List audio input devices, and what the computer plays (PulseAudio monitors); the default is marked with *."""
    from gladia_cli.audio.devices import list_inputs, no_input_error
    from gladia_cli.audio.pulse import system_audio_help

    found = list_inputs()
    if not found:
        raise no_input_error()
    rows = [
        (
            "*" if d.is_default else "",
            "-" if d.pulse_source else str(d.index),  # recorded by name, through the pulse device
            d.name,
            str(d.max_input_channels),
            f"{d.default_samplerate:g}",
            d.hostapi,
        )
        for d in found
    ]
    if not is_tty(sys.stdout):
        for mark, index, *rest in rows:  # piped: the index first, as scripts have always read it
            typer.echo("\t".join([index, mark, *rest]))
        return
    _print_table(("", "index", "name", "channels", "default rate", "host API"), rows)
    if not any(d.hostapi == "PulseAudio monitor" for d in found):
        notice(f"no system audio input listed: {system_audio_help()}")


@app.command()
def languages(translation: Translation = False) -> None:
    """List the language codes Gladia accepts for --lang (or --translate)."""
    from gladia_cli import languages as langs

    for code in langs.TRANSLATION if translation else langs.TRANSCRIPTION:
        typer.echo(f"{code}\t{langs.name(code)}")


# --- the key --------------------------------------------------------------------------------------------------------

auth_app = typer.Typer(help="Save, show or remove the API key.", no_args_is_help=True)
app.add_typer(auth_app, name="auth")


@auth_app.command("set")
def auth_set(key: Key = None, api_url: ApiUrl = None) -> None:
    """Save the API key (mode 0600 in the config directory), checked with Gladia first. Without KEY: a hidden
    prompt, or stdin when piped."""
    from gladia_cli.cli.doctor import check_new_key

    if key is None:
        if sys.stdin is not None and sys.stdin.isatty():
            import getpass

            key = getpass.getpass("Gladia API key (input hidden): ")
        else:
            key = sys.stdin.readline() if sys.stdin is not None else ""
    check_new_key(key, api_url)


@auth_app.command("status")
def auth_status(api_key: ApiKey = None) -> None:
    """Show which key would be used and where it comes from (masked)."""
    from gladia_cli import settings

    key, source = settings.resolve_key(api_key)
    typer.echo(f"key: {settings.mask(key)}")
    typer.echo(f"from: {source}")


@auth_app.command("clear")
def auth_clear(all_files: ClearAll = False) -> None:
    """Remove the saved key."""
    from gladia_cli import settings

    removed = settings.clear_keys(include_official=all_files)
    for path in removed:
        notice(f"removed {path}")
    if not removed:
        notice("no saved key to remove")
    official = settings.official_cli_key_file()
    if not all_files and official.exists():
        notice(f"{official} (the official CLI's key file) still holds a key; `gladia auth clear --all` removes it")


# --- saved defaults and profiles --------------------------------------------------------------------------------------

config_app = typer.Typer(
    help="Saved defaults and profiles (config.toml beside the saved key). --profile NAME (before or after the"
    " command, or $GLADIA_PROFILE) picks that profile's values over the top-level ones.",
    no_args_is_help=True,
)
app.add_typer(config_app, name="config")


def _root_context(ctx: typer.Context) -> typer.Context:
    from gladia_cli.cli import typer_seam

    return typer_seam.root_context(ctx)  # type: ignore[no-any-return]


def _profile_flag(ctx: typer.Context) -> str | None:
    """The root's --profile as typed: what set/unset write to ($GLADIA_PROFILE only picks what is read)."""
    value = _root_context(ctx).params.get("profile")
    return value if isinstance(value, str) else None


@config_app.command("set")
def config_set(ctx: typer.Context, key: ConfigKey, values: ConfigValues) -> None:
    """Save a default, checked as the option itself checks it: `gladia config set lang fr --profile meeting`."""
    from gladia_cli.cli import defaults as profiles

    profile = _profile_flag(ctx) or None
    path, name, value, commands = profiles.set_value(_root_context(ctx), key, values, profile)
    where = f"[profile.{profile}]" if profile else "the defaults"
    notice(f"{name} = {profiles.toml_value(value)} in {where} of {path} (for {', '.join(commands)})")


@config_app.command("get")
def config_get(ctx: typer.Context, key: ConfigKey) -> None:
    """Print the saved value in effect for KEY (exit 1 when none is saved)."""
    from gladia_cli.cli import defaults as profiles

    profile, source = profiles.active_profile(_profile_flag(ctx))
    entry = profiles.effective(_root_context(ctx), key, profile, source)
    if entry is None:
        notice(f"{key} is not saved; the command's own default applies")
        raise typer.Exit(1)
    typer.echo(profiles.plain(entry.value))


@config_app.command("list")
def config_list(ctx: typer.Context) -> None:
    """Show the saved values in effect, each with where it comes from (the defaults or the profile)."""
    from gladia_cli.cli import defaults as profiles

    profile, source = profiles.active_profile(_profile_flag(ctx))
    config, found = profiles.entries(_root_context(ctx), profile, source)
    if not found:
        notice(f"nothing saved in {config.path}" + (f" for profile {profile}" if profile else ""))
    for line in profiles.list_lines(config, found, profile):
        typer.echo(shown(line, sys.stdout))  # an api-url's password is masked


@config_app.command("unset")
def config_unset(ctx: typer.Context, key: ConfigKey) -> None:
    """Remove a saved value (from the profile with --profile); a profile left empty is removed."""
    from gladia_cli.cli import defaults as profiles

    path, removed = profiles.unset_value(_root_context(ctx), key, _profile_flag(ctx) or None)
    notice(f"removed {key} from {path}" if removed else f"{key} is not saved in {path}")


@config_app.command("path")
def config_path() -> None:
    """Print where the file is (it may not exist yet)."""
    from gladia_cli.cli import defaults as profiles

    typer.echo(str(profiles.config_file()))


@app.command()
def completion(shell: ShellArg) -> None:
    """Print the completion script: `gladia completion bash > ~/.local/share/bash-completion/completions/gladia`."""
    from gladia_cli.cli.completion import script
    from gladia_cli.cli.typer_seam import command_tree

    typer.echo(script(shell.value, command_tree(app)))


@app.command()
def doctor(
    device: DoctorDevice = None,
    json_out: DoctorJson = False,
    api_key: ApiKey = None,
    api_url: ApiUrl = None,
    region: Region = None,
) -> None:
    """Check the setup in one go (Python, PortAudio, microphone level, ffmpeg, key, Gladia); exit 1 if any fails."""
    from gladia_cli.cli.doctor import Options, report

    raise typer.Exit(report(Options(device, api_key, api_url, region), json_out=json_out))


__all__ = ["app"]
