"""Output formats for stdout: transcript text and JSON, shaped for pipes (no colour, one record per line)."""

from __future__ import annotations

import json
from typing import Any


def dump_json(data: Any, *, pretty: bool) -> str:
    """Pretty for a person at a terminal, compact (one line) for a pipe."""
    if pretty:
        return json.dumps(data, indent=2, ensure_ascii=False)
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def utterance_line(text: str, *, channel: int | None = None, language: str | None = None) -> str:
    """One final utterance as a line of text; the channel and language only when they tell something."""
    prefix = ""
    if channel is not None:
        prefix += f"[ch{channel}] "
    if language:
        prefix += f"[{language}] "
    return prefix + " ".join(text.split())


def transcript_lines(job: dict[str, Any]) -> list[str]:
    """The transcript of a finished job, one utterance a line (falls back to full_transcript)."""
    result = job.get("result") if isinstance(job.get("result"), dict) else job
    transcription = result.get("transcription") if isinstance(result, dict) else None
    if not isinstance(transcription, dict):
        return []
    utterances = transcription.get("utterances")
    if isinstance(utterances, list) and utterances:
        channels = {u.get("channel", 0) for u in utterances if isinstance(u, dict)}
        multi = len(channels) > 1
        lines = []
        for u in utterances:
            if not isinstance(u, dict):
                continue
            text = str(u.get("text") or "").strip()
            if text:
                lines.append(utterance_line(text, channel=u.get("channel", 0) if multi else None))
        return lines
    full = transcription.get("full_transcript")
    return [full.strip()] if isinstance(full, str) and full.strip() else []


def summary_text(job: dict[str, Any]) -> str | None:
    result = job.get("result") if isinstance(job.get("result"), dict) else job
    summarization = result.get("summarization") if isinstance(result, dict) else None
    if isinstance(summarization, dict) and isinstance(summarization.get("results"), str):
        return summarization["results"].strip() or None
    return None
