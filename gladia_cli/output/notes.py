"""Meeting notes in Markdown: YAML front matter (title, start, duration, the Gladia session ids, languages, inputs
and channel names, model), one line per final `[hh:mm:ss] name: text`, bookmarks and pauses where they happened,
and the summary and chapters at the end when there are any.

`NotesFile` writes them as a recording goes (`gladia listen --notes DIR`): the whole file is replaced atomically
after every line, so it is valid Markdown with valid front matter at any moment, even after `kill -9`.
`job_notes` makes the same notes from a finished session (`gladia result ID -o md`). Text from outside (transcripts,
ids, names) is data: control characters are shown, not written, each item stays on its line, and front matter values
are quoted JSON strings (valid YAML that no value can break out of).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from gladia_cli.output import job_json
from gladia_cli.output.clock import chapter_lines, timestamp
from gladia_cli.safe_text import neutralise, redact

FIRST_WORDS = 6  # words of the first final that name a file without --title
_SLUG = re.compile(r"[^\w-]+")


@dataclass
class NotesMeta:
    title: str | None = None
    start: datetime | None = None  # aware, local
    duration: float = 0.0  # seconds of audio recorded
    session_ids: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    inputs: list[str] = field(default_factory=list)
    channel_names: list[str] | None = None
    model: str | None = None


@dataclass(frozen=True)
class Entry:
    at: float  # seconds on the recording's clock (the transcript's)
    kind: str  # "final" | "bookmark" | "pause"
    text: str
    name: str | None = None  # the channel's name (finals)
    seconds: float | None = None  # a pause's length, when it ended


def _clean(text: str) -> str:
    return neutralise(redact(" ".join(str(text).split())), keep_newlines=False)


def _yaml(value: Any) -> str:
    if isinstance(value, str):
        return json.dumps(_clean(value), ensure_ascii=False)
    if isinstance(value, list):
        return "[" + ", ".join(_yaml(v) for v in value) + "]"
    if value is None:
        return "null"
    return json.dumps(value)


def entry_line(entry: Entry) -> str:
    when = f"[{timestamp(entry.at)}]"
    if entry.kind == "bookmark":
        note = f": {_clean(entry.text)}" if entry.text.strip() else ""
        return f"- {when} **bookmark**{note}"
    if entry.kind == "pause":
        length = f" for {entry.seconds:.0f} s" if entry.seconds is not None else ""
        return f"- {when} *paused{length}*"
    name = f"**{_clean(entry.name)}**: " if entry.name else ""
    return f"- {when} {name}{_clean(entry.text)}"


def notes_markdown(
    meta: NotesMeta, entries: list[Entry], *, summary: str | None = None, chapters: list[str] | None = None
) -> str:
    return "".join(notes_lines(meta, entries, summary=summary, chapters=chapters))


def notes_lines(
    meta: NotesMeta, entries: list[Entry], *, summary: str | None = None, chapters: list[str] | None = None
) -> Iterator[str]:
    """The notes line by line (each with its newline), so a large result is written as it is made."""
    front = {
        "title": meta.title or "",
        "start": meta.start.isoformat(timespec="seconds") if meta.start else None,
        "duration": timestamp(meta.duration),
        "sessions": meta.session_ids,
        "languages": meta.languages,
        "inputs": meta.inputs,
        "channels": meta.channel_names or [],
        "model": meta.model,
    }
    head = ["---", *(f"{key}: {_yaml(value)}" for key, value in front.items()), "---", ""]
    head += [f"# {_clean(meta.title)}" if meta.title else "# Transcript", ""]
    for line in head:
        yield line + "\n"
    for entry in sorted(entries, key=lambda e: e.at):
        yield entry_line(entry) + "\n"
    if summary:
        for line in ["", "## Summary", "", *(_clean(line) for line in summary.splitlines() if line.strip())]:
            yield line + "\n"
    if chapters:
        for line in ["", "## Chapters", "", *(f"- {_clean(line)}" for line in chapters)]:
            yield line + "\n"


def slug(text: str, limit: int = 60) -> str:
    """A file-name part from outside text: word characters and dashes only, never a path or a dot file."""
    words = _SLUG.sub("-", " ".join(text.split()[:FIRST_WORDS]).casefold()).strip("-_")
    return words[:limit].rstrip("-_")


class NotesFile:
    """One recording's notes in `directory`, rewritten whole (atomically) at every change."""

    def __init__(self, directory: Path, meta: NotesMeta) -> None:
        self.directory = directory
        self.meta = meta
        self.entries: list[Entry] = []
        self.summary: str | None = None
        self.chapters: list[str] = []
        start = meta.start or datetime.now().astimezone()
        self.meta = replace(meta, start=start)
        self._stem = start.strftime("%Y-%m-%d-%H%M")
        self._named = bool(meta.title and slug(meta.title))
        self.path = self._free(self._stem + (f"-{slug(meta.title)}" if self._named and meta.title else ""))
        self.write()

    def _free(self, stem: str) -> Path:
        path = self.directory / f"{stem}.md"
        n = 2
        while path.exists() and getattr(self, "path", None) != path:
            path = self.directory / f"{stem}-{n}.md"
            n += 1
        return path

    def final(self, at: float, text: str, name: str | None) -> None:
        if not text.strip():
            return
        self.entries.append(Entry(at, "final", text, name))
        if not self._named and slug(text):
            self._named = True  # named from the first words, once they are known: the file and its title
            self.meta = replace(self.meta, title=" ".join(_clean(text).split()[:FIRST_WORDS]).rstrip(".,;:!?"))
            old, self.path = self.path, self._free(f"{self._stem}-{slug(text)}")
            self.write()
            old.unlink(missing_ok=True)
            return
        self.write()

    def mark(self, at: float, kind: str, text: str = "", seconds: float | None = None) -> None:
        self.entries.append(Entry(at, kind, text, seconds=seconds))
        self.write()

    def update(self, **changes: Any) -> None:
        self.meta = replace(self.meta, **changes)
        self.write()

    def write(self) -> None:
        from gladia_cli.output.files import write_text

        write_text(self.path, notes_markdown(self.meta, self.entries, summary=self.summary, chapters=self.chapters))


def job_notes(job: dict[str, Any], channel_names: list[str] | None = None) -> str:
    """The notes of a finished session or job, from its result (`gladia result ID -o md`)."""
    return "".join(notes_chunks(job, channel_names))


def notes_chunks(job: dict[str, Any], channel_names: list[str] | None = None) -> Iterator[str]:
    """`job_notes` line by line."""
    result = job.get("result") if isinstance(job.get("result"), dict) else {}
    transcription = result.get("transcription") if isinstance(result, dict) else None
    utterances = transcription.get("utterances") if isinstance(transcription, dict) else None
    entries = []
    languages: list[str] = []
    for u in utterances if isinstance(utterances, list) else []:
        if not isinstance(u, dict) or not str(u.get("text") or "").strip():
            continue
        at = job_json.seconds_value(u.get("start")) or 0.0
        name = job_json.channel_name(job_json.channel_of(u), channel_names)
        entries.append(Entry(at, "final", str(u["text"]), name))
        language = u.get("language")
        if isinstance(language, str) and language not in languages:
            languages.append(language)
    metadata = result.get("metadata") if isinstance(result, dict) else None
    duration = job_json.seconds_value(metadata.get("audio_duration")) if isinstance(metadata, dict) else None
    created = job.get("created_at")
    start = None
    if isinstance(created, str):
        try:
            start = datetime.fromisoformat(created.replace("Z", "+00:00"))
        except ValueError:
            start = None
    request = job.get("request_params") if isinstance(job.get("request_params"), dict) else {}
    model = request.get("model") if isinstance(request, dict) else None
    meta = NotesMeta(
        start=start,
        duration=duration or 0.0,
        session_ids=_session_ids(job),
        languages=languages,
        channel_names=channel_names,
        model=model if isinstance(model, str) else None,
    )
    found = job_json.chapters(job)
    yield from notes_lines(meta, entries, summary=job_json.summary_text(job), chapters=chapter_lines(found))


def _session_ids(job: dict[str, Any]) -> list[str]:
    """The job's id, or every session of a recording that took several (`job_json.joined_jobs`)."""
    listed = job.get("sessions")
    if isinstance(listed, list) and listed:
        return [str(x) for x in listed]
    return [str(job.get("id"))] if job.get("id") else []
