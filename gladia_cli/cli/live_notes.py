"""`gladia listen --notes DIR`: the run's events and steering fed to the notes file (output/notes.py) as they come,
on the owner's thread."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from gladia_cli.errors import UsageError
from gladia_cli.live.events import Ended, Event, Transcript
from gladia_cli.live.steering import Mark, SteeringStatus
from gladia_cli.output import job_json
from gladia_cli.output.clock import chapter_lines
from gladia_cli.output.notes import Entry, NotesFile, NotesMeta

DURATION_EVERY = 30.0  # seconds between two rewrites that only move the duration


class LiveNotes:
    def __init__(
        self,
        directory: Path,
        *,
        title: str | None,
        session_id: str,
        body: dict[str, Any],
        inputs: list[str],
        channel_names: list[str] | None,
    ) -> None:
        languages = body.get("language_config", {}).get("languages") or []
        meta = NotesMeta(
            title=title,
            session_ids=[session_id],
            languages=[str(x) for x in languages],
            inputs=inputs,
            channel_names=channel_names,
            model=str(body["model"]) if body.get("model") else None,
        )
        try:
            self.file = NotesFile(directory, meta)
        except OSError as exc:
            raise UsageError(f"cannot write notes in {directory}: {exc.strerror or exc}") from None
        self._names = channel_names
        self._entry_of: list[int] = []  # each steering mark's place among the entries (appended in order)
        self._written_at = time.monotonic()

    @property
    def path(self) -> Path:
        return self.file.path

    def on_event(self, event: Event) -> None:
        if isinstance(event, Transcript) and event.is_final and event.text.strip():
            name = job_json.channel_name(event.channel, self._names)
            self.file.final(event.start or 0.0, event.text, name)
            self._written_at = time.monotonic()

    def sessions(self, session_ids: list[str]) -> None:
        """Every Gladia session the recording went to: a new one is in the front matter at once."""
        if session_ids != self.file.meta.session_ids:
            self.file.meta.session_ids = list(session_ids)
            self.file.write()

    def on_status(self, status: SteeringStatus) -> None:
        """New bookmarks and pauses, a bookmark's note (typed after its key) and a pause's length once resumed."""
        changed = False
        for k, mark in enumerate(status.marks):
            entry = _entry(mark)
            if k == len(self._entry_of):
                self.file.entries.append(entry)
                self._entry_of.append(len(self.file.entries) - 1)
                changed = True
            elif self.file.entries[self._entry_of[k]] != entry:
                self.file.entries[self._entry_of[k]] = entry
                changed = True
        now = time.monotonic()
        if changed or now - self._written_at >= DURATION_EVERY:
            self.file.meta.duration = status.recorded_seconds
            self.file.write()
            self._written_at = now

    def finish(self, ended: Ended | None, status: SteeringStatus | None) -> None:
        """The end: the duration, and the summary and chapters when Gladia made them."""
        if status is not None:
            self.on_status(status)
            self.file.meta.duration = status.recorded_seconds
        if ended is not None:
            final = ended.final_result
            self.file.summary = ended.summary or (job_json.summary_text(final) if final else None)
            self.file.chapters = chapter_lines(job_json.chapters(final)) if final else []
        self.file.write()


def _entry(mark: Mark) -> Entry:
    return Entry(mark.at, mark.kind, mark.text, seconds=mark.seconds)
