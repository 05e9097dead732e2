"""Times as a person reads them: `[hh:mm:ss]` on the recording's clock, and chapters' time ranges."""

from __future__ import annotations

import math
from typing import Any

from gladia_cli.output.job_json import seconds_value


def timestamp(seconds: float) -> str:
    """[hh:mm:ss] on the recording's clock: the notes' and `--timestamps`' mark."""
    if not math.isfinite(seconds):
        return "--:--:--"  # a time a result could not give
    whole = max(0, int(seconds))
    return f"{whole // 3600:02d}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def clock(value: Any) -> str:
    """A time from a result (seconds, maybe not a number) as m:ss or h:mm:ss; "?" when it is none."""
    seconds = seconds_value(value)
    if seconds is None:
        return "?"
    whole = max(0, int(seconds))
    hours, rest = divmod(whole, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60:02d}:{rest % 60:02d}"


def chapter_lines(found: list[dict[str, Any]]) -> list[str]:
    """One line a chapter: its time range and headline (the gist when there is no headline)."""
    lines = []
    for chapter in found:
        title = " ".join(str(chapter.get("headline") or chapter.get("gist") or "").split())
        lines.append(f"[{clock(chapter.get('start'))}-{clock(chapter.get('end'))}] {title}".rstrip())
    return lines
