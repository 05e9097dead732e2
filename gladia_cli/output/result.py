"""A job as typed values, for Python callers: what `Client.transcribe`, `Client.result` and a live stream return.

Built from Gladia's JSON by the same defensive readers the output formats use; `job` keeps the object as Gladia sent
it, so `render(result, "json-full")` and anything the types leave out stay reachable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gladia_cli.output import job_json


@dataclass(frozen=True)
class Utterance:
    text: str
    start: float | None
    end: float | None
    channel: int
    speaker: int | None = None
    language: str | None = None


@dataclass(frozen=True)
class Result:
    """One job of either kind: its id, kind and status, the utterances in time order, and what the add-ons made."""

    id: str
    kind: str  # "pre-recorded" or "live"
    status: str  # "queued", "processing", "done" or "error"
    utterances: tuple[Utterance, ...] = ()
    languages: tuple[str, ...] = ()
    summary: str | None = None
    chapters: tuple[dict[str, Any], ...] = ()
    error_code: int | None = None
    job: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def text(self) -> str:
        """The transcript as one string, an utterance a line."""
        return "\n".join(u.text for u in self.utterances)

    @classmethod
    def from_job(cls, job: dict[str, Any], kind: str | None = None) -> Result:
        transcription = job_json.transcription_of(job)
        utterances = job_json.by_start(job_json.utterances_of(transcription)) if transcription else []
        typed = tuple(
            Utterance(
                text=str(u.get("text") or "").strip(),
                start=job_json.seconds_value(u.get("start")),
                end=job_json.seconds_value(u.get("end")),
                channel=job_json.channel_of(u),
                speaker=job_json.speaker_of(u),
                language=u.get("language") if isinstance(u.get("language"), str) else None,
            )
            for u in utterances
            if str(u.get("text") or "").strip()
        )
        code = job.get("error_code")
        return cls(
            id=str(job.get("id") or ""),
            kind=str(kind or job.get("kind") or "pre-recorded"),
            status=str(job.get("status") or ""),
            utterances=typed,
            languages=tuple(sorted(job_json.languages_of(transcription, utterances))) if transcription else (),
            summary=job_json.summary_text(job),
            chapters=tuple(job_json.chapters(job)),
            error_code=code if isinstance(code, int) and not isinstance(code, bool) else None,
            job=job,
        )
