"""Facts about the command line's flags that more than one command reads."""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from gladia_cli.output.output_format import OutputFormat

# `gladia transcribe` refuses the other mode's flags, the first of them in this order; a saved default of one mode
# applies only in that mode, so a default meant for `listen` (endpointing = 0.3) does not break a file's
# transcription. Names as typed, without the dashes.
REALTIME_ONLY = (
    "speed",
    "encoding",
    "chunk-ms",
    "finish-timeout",
    "reconnect-attempts",
    "reconnect-timeout",
    "buffer-seconds",
    "session-limit",
    "endpointing",
    "partials",
    "record",
    "duration",
    "sample-rate",
    "channels",
    "bit-depth",
    "channel-names",
    "region",  # a query parameter of POST /v2/live alone: Gladia's other routes have none
    "max-utterance",
    "speech-threshold",
    "audio-enhancer",
)
PRERECORDED_ONLY = (
    "diarize",
    "speakers",
    "min-speakers",
    "max-speakers",
    "prompt",
    "redact-pii",
    "pii-style",
    "callback-url",
    "callback-method",
    "output-dir",
    "jobs",
)
REALTIME_ONLY_VALUES = {"output": OutputFormat.jsonl.value}  # a message stream exists only live

# The official CLI's spellings that the declarations leave out, mapped by main() before Typer parses (completion
# offers them too): `--code-switching,--cs` beside `--no-code-switching` is wider than an 80-column help has room for
# (the names were cut to "--code-switchin…").
SHORT_ALIASES = {"--cs": "--code-switching"}


@dataclass(frozen=True)
class BodyFlags:
    """The flags that shape the request body, the same on `listen` and `transcribe` (either mode): built once from
    a command's flags, so the request constructors do not each re-list them."""

    lang: list[str] | None
    code_switching: bool | None
    model: str | None
    endpointing: float | None
    partials: bool | None
    translate: list[str] | None
    vocabulary: list[str] | None
    summarize: bool
    summary_type: str | None
    ner: bool
    sentiment: bool
    chapterize: bool
    metadata: list[str] | None
    spelling: list[str] | None
    translation_model: str | None
    translation_context: str | None
    informal: bool | None
    max_utterance: float | None  # live only
    speech_threshold: float | None  # live only
    audio_enhancer: bool | None  # live only
    config: Path | None

    def __post_init__(self) -> None:
        if self.chapterize:
            from gladia_cli.body import CHAPTERS_GONE
            from gladia_cli.console.terminal import notice

            notice(f"--chapterize is ignored: {CHAPTERS_GONE}")

    @classmethod
    def split(cls, flags: dict[str, Any]) -> tuple[BodyFlags, dict[str, Any]]:
        """A command's flags as (the body's, the rest): every field must be there (no default hides a missing one)."""
        names = {f.name for f in fields(cls)}
        body = cls(**{name: value for name, value in flags.items() if name in names})
        return body, {name: value for name, value in flags.items() if name not in names}


# The library names a setting as its Python keyword, in backticks (`bit_depth` 8 is only for A-law and mu-law); the
# command line shows the flag that sets it. Only these names are rewritten: `gladia devices` stays a command.
FIELD_FLAGS = {
    "languages": "--lang",
    "translate": "--translate",
    "vocabulary": "--vocabulary",
    "model": "--model",
    "sample_rate": "--sample-rate",
    "channels": "--channels",
    "bit_depth": "--bit-depth",
    "encoding": "--encoding",
    "speed": "--speed",
    "device": "--device",
    "record": "--record",
    "no_journal": "--no-journal",
    "reconnect_attempts": "--reconnect-attempts",
    "reconnect_timeout": "--reconnect-timeout",
    "api_key": "--api-key",
    "api_url": "--api-url",
    "jobs": "--jobs",
    "force": "--force",
}
_FIELD = re.compile(r"`([a-z_]+)`")


def as_flags(text: str) -> str:
    """The library's words with each setting it names shown as the flag that sets it."""
    return _FIELD.sub(lambda m: FIELD_FLAGS.get(m[1], m[0]), text)
