"""Facts about the command line's flags that more than one command reads."""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

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
    config: Path | None

    @classmethod
    def split(cls, flags: dict[str, Any]) -> tuple[BodyFlags, dict[str, Any]]:
        """A command's flags as (the body's, the rest): every field must be there (no default hides a missing one)."""
        names = {f.name for f in fields(cls)}
        body = cls(**{name: value for name, value in flags.items() if name in names})
        return body, {name: value for name, value in flags.items() if name not in names}
