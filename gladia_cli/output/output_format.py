"""What a command writes on stdout (`-o`): the output formats and the rules the commands share about them.

Its own module, free of the renderers, so the command line's declarations read it without importing them.
"""

from __future__ import annotations

from enum import Enum


class OutputFormat(str, Enum):
    """What a command writes on stdout (`-o`). Its properties are the rules the commands share, so no caller
    compares names."""

    text = "text"
    json = "json"
    json_full = "json-full"
    srt = "srt"
    vtt = "vtt"
    md = "md"  # meeting notes: front matter, timestamped lines, summary and chapters (output/notes.py)
    jsonl = "jsonl"  # the live message stream, one JSON object a line: no finished result has it

    @property
    def live_only(self) -> bool:
        return self is OutputFormat.jsonl

    @property
    def subtitles(self) -> bool:
        return self in (OutputFormat.srt, OutputFormat.vtt)

    @property
    def api_object(self) -> bool:
        """The job exactly as Gladia returned it, errors included: nothing of ours to add or refuse."""
        return self is OutputFormat.json_full

    @property
    def whole_result(self) -> bool:
        """Made from the finished result (not line by line as finals come): a live session waits for it."""
        return self in (OutputFormat.json, OutputFormat.json_full, OutputFormat.srt, OutputFormat.vtt, OutputFormat.md)

    @property
    def extension(self) -> str:
        return {"text": "txt", "json-full": "json"}.get(self.value, self.value)


FORMATS = tuple(f.value for f in OutputFormat if not f.live_only)  # what `render` makes of a finished job
