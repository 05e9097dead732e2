"""`gladia transcribe` as the person asked for it: which mode the flags belong to, and a pre-recorded run's request,
every flag and input checked before the key is needed or anything is uploaded.

`transcribe_request` tells the two modes apart: without --realtime, a `PrerecordedRequest` for `prerecorded.run`;
with it, a `LiveRequest` for `live.run`. A flag of the other mode is refused, not ignored.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gladia_cli.body import is_url, language_list, load_config_file, parse_pairs, spelling_dictionary, split_list
from gladia_cli.cli.flags import PRERECORDED_ONLY, REALTIME_ONLY, REALTIME_ONLY_VALUES, BodyFlags
from gladia_cli.cli.jobs import check_output_file
from gladia_cli.console.terminal import notice
from gladia_cli.errors import UsageError
from gladia_cli.jobs import check_audio_file
from gladia_cli.prerecorded.body import build_prerecorded_body, unknown_prerecorded_values

if TYPE_CHECKING:
    from gladia_cli.cli.live_request import LiveRequest

DEFAULT_JOBS = 4


@dataclass(frozen=True)
class PrerecordedRequest:
    """Files or URLs for /v2/pre-recorded with one validated `body`; one input goes to stdout or `output_file`,
    several (or any with `output_dir`) to one file each."""

    inputs: tuple[str, ...]
    body: dict[str, Any]
    output: str
    output_file: Path | None
    output_dir: Path | None
    jobs: int
    force: bool
    verbose: bool

    @property
    def single(self) -> bool:
        return len(self.inputs) == 1 and self.output_dir is None


def transcribe_request(
    body: BodyFlags,
    *,
    inputs: list[str],
    realtime: bool,
    speed: float | None,
    diarize: bool,
    speakers: int | None,
    min_speakers: int | None,
    max_speakers: int | None,
    prompt: list[str] | None,
    redact_pii: list[str] | None,
    pii_style: str | None,
    callback_url: str | None,
    callback_method: str | None,
    sample_rate: int | None,
    channels: int | None,
    bit_depth: int | None,
    encoding: str | None,
    duration: float | None,
    chunk_ms: int | None,
    output: str,
    output_file: Path | None,
    output_dir: Path | None,
    jobs: int | None,
    force: bool,
    verbose: bool,
    finish_timeout: float | None,
    record: Path | None,
    reconnect_attempts: int | None,
    reconnect_timeout: float | None,
    buffer_seconds: float | None,
    session_limit: float | None = None,
    channel_names: list[str] | None = None,
    region: str | None = None,
) -> PrerecordedRequest | LiveRequest:
    """The request of the mode --realtime picks; the flags that concern both are checked first."""
    # The parameters are the flags: which of them were given, by flag name (flags.REALTIME_ONLY names them so).
    given = {name.replace("_", "-"): value for name, value in locals().items() if name != "body"}
    given.update((f.name.replace("_", "-"), getattr(body, f.name)) for f in dataclasses.fields(body))
    if jobs is not None and jobs < 1:
        raise UsageError(f"--jobs must be at least 1, got {jobs}")
    for item in inputs:
        check_input(item)
    inputs = expand_folders(inputs, realtime=realtime)
    if not realtime:
        if "-" in inputs:
            raise UsageError("- (audio on stdin) is streamed live only", hint="add --realtime")
        _refuse_other_mode("live transcription only", "add --realtime", REALTIME_ONLY, given)
        return prerecorded_request(
            inputs,
            body,
            diarize=diarize,
            speakers=speakers,
            min_speakers=min_speakers,
            max_speakers=max_speakers,
            prompt=prompt,
            redact_pii=redact_pii,
            pii_style=pii_style,
            callback_url=callback_url,
            callback_method=callback_method,
            output=output,
            output_file=output_file,
            output_dir=output_dir,
            jobs=jobs if jobs is not None else DEFAULT_JOBS,
            force=force,
            verbose=verbose,
        )
    if len(inputs) != 1:
        raise UsageError(
            "--realtime streams one file at a time", hint="run one `gladia transcribe --realtime` per file"
        )
    _refuse_other_mode("pre-recorded transcription only", "drop --realtime", PRERECORDED_ONLY, given)
    from gladia_cli.cli.live_request import file_request

    return file_request(
        inputs[0],
        body,
        speed=speed,
        sample_rate=sample_rate,
        channels=channels,
        bit_depth=bit_depth,
        encoding=encoding,
        duration=duration,
        chunk_ms=chunk_ms,
        output=output,
        finish_timeout=finish_timeout,
        record=record,
        output_file=output_file,
        reconnect_attempts=reconnect_attempts,
        reconnect_timeout=reconnect_timeout,
        buffer_seconds=buffer_seconds,
        session_limit=session_limit,
        channel_names=channel_names,
        force=force,
    )


def _refuse_other_mode(mode: str, hint: str, names: tuple[str, ...], given: dict[str, Any]) -> None:
    """The first flag (in `names`' order) given that belongs to the other mode; then a value of the other mode."""
    for name in names:
        value = given.get(name)
        if value is not None and value is not False:  # 0 is a value given (`--chunk-ms 0`), not "not given"
            raise UsageError(f"--{name} applies to {mode}", hint=hint)
    if mode.startswith("live"):
        for name, value in REALTIME_ONLY_VALUES.items():
            if given.get(name) == value:
                raise UsageError(f"-o {value} applies to {mode}", hint=hint)


def expand_folders(inputs: list[str], *, realtime: bool) -> list[str]:
    """A folder stands for the audio and video files in it (by their extension, in name order, not its
    subfolders); one that holds none, or any folder with --realtime, is a usage error (exit 2), not a failed batch."""
    from gladia_cli.audio.upload import MEDIA_SUFFIXES

    expanded: list[str] = []
    for item in inputs:
        folder = Path(item)
        if is_url(item) or item == "-" or not folder.is_dir():
            expanded.append(item)
            continue
        if realtime:
            raise UsageError(f"{item} is a folder; --realtime streams one file", hint="give one file of it")
        found = sorted(
            str(child)
            for child in folder.iterdir()
            if child.is_file() and not child.name.startswith(".") and child.suffix.lower() in MEDIA_SUFFIXES
        )
        if not found:
            raise UsageError(
                f"{item} is a folder with no audio or video file in it",
                hint="give files (e.g. recordings/*.m4a) or a folder holding .wav, .mp3, .m4a, .flac... files",
            )
        expanded.extend(found)
    return expanded


def check_input(item: str) -> None:
    """A URL must be http(s); anything else with a scheme is a typo, not a file name."""
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", item) and not item.lower().startswith(("http://", "https://")):
        raise UsageError(f"unsupported URL {item!r}", hint="give a local file or an http(s):// URL")


def prerecorded_request(
    inputs: list[str],
    body: BodyFlags,
    *,
    diarize: bool,
    speakers: int | None,
    min_speakers: int | None,
    max_speakers: int | None,
    output: str,
    output_file: Path | None,
    output_dir: Path | None,
    jobs: int,
    force: bool,
    verbose: bool,
    prompt: list[str] | None = None,
    redact_pii: list[str] | None = None,
    pii_style: str | None = None,
    callback_url: str | None = None,
    callback_method: str | None = None,
) -> PrerecordedRequest:
    """The body, then where the output goes; one local file is checked here, its own problem before the key's."""
    fields = build_prerecorded_body(
        languages=language_list(body.lang),
        code_switching=body.code_switching,
        diarize=diarize,
        speakers=speakers,
        min_speakers=min_speakers,
        max_speakers=max_speakers,
        translate=language_list(body.translate),
        summarize=body.summary_type if body.summary_type is not None else ("general" if body.summarize else None),
        vocabulary=split_list(body.vocabulary),
        model=body.model,
        ner=body.ner,
        sentiment=body.sentiment,
        metadata=dict(parse_pairs(body.metadata, "--metadata", "--metadata call=42")),
        spelling=spelling_dictionary(parse_pairs(body.spelling, "--spelling", "--spelling sequel=SQL")),
        translation_model=body.translation_model,
        translation_context=body.translation_context,
        informal=body.informal,
        prompts=[p for p in prompt or [] if p.strip()] or None,
        redact_pii=split_list(redact_pii) or None,
        pii_style=pii_style,
        callback_url=callback_url,
        callback_method=callback_method,
        base=load_config_file(body.config),
    )
    for warning in unknown_prerecorded_values(fields):
        notice(warning)
    if output_file is not None and output_dir is not None:
        raise UsageError("--output-file and --output-dir cannot be combined", hint="use one or the other")
    if output_dir is not None and output_dir.exists() and not output_dir.is_dir():
        raise UsageError(f"--output-dir {output_dir} is a file, not a directory", hint="give a directory")
    if output_file is not None:
        check_output_file(output_file, force=force)
    request = PrerecordedRequest(tuple(inputs), fields, output, output_file, output_dir, jobs, force, verbose)
    if request.single:
        unrecognised = None if is_url(inputs[0]) else check_audio_file(Path(inputs[0]))
        if unrecognised:
            notice(unrecognised)
    elif output_file is not None:
        raise UsageError("--output-file takes one input", hint="use --output-dir for several")
    return request
