"""Readers of a job's JSON as Gladia returns it (a live or pre-recorded job, or just its `result`): defensive,
since it comes from outside, and shared by every output format and by the live path.
"""

from __future__ import annotations

import copy
import math
from typing import Any

JOB_STATUSES = ("queued", "processing", "done", "error")  # a job's `status`, either kind
MAX_SECONDS = 1e7  # the longest time taken from a result (~115 days): past it a value is treated as no time at all

MAX_CHANNEL = 255  # Gladia takes at most 8 channels; a larger number is no channel of ours

ADDON_NAMES = {
    "translation": "translation",
    "summarization": "summary",
    "named_entity_recognition": "named entity recognition",
    "sentiment_analysis": "sentiment analysis",
    "chapterization": "chapters",
    "moderation": "moderation",
    "name_consistency": "name consistency",
    "structured_data_extraction": "structured data extraction",
    "audio_to_llm": "audio to LLM",
    "diarization": "diarization",
    "display_mode": "display mode",
}


def declared_channels(job: dict[str, Any]) -> int:
    params = job.get("request_params")
    channels = params.get("channels") if isinstance(params, dict) else None
    return channels if isinstance(channels, int) and not isinstance(channels, bool) else 1


def summary_text(job: dict[str, Any]) -> str | None:
    """The summarization add-on's text, if it ran and produced something."""
    result = result_of(job)
    summarization = result.get("summarization")
    if isinstance(summarization, dict) and isinstance(summarization.get("results"), str):
        return summarization["results"].strip() or None
    return None


def chapters(job: dict[str, Any]) -> list[dict[str, Any]]:
    """The chapterization add-on's chapters. The post_chapterization message's `results` is a list (AsyncAPI);
    a result's add-on may hold it bare or as `{"chapters": [...]}`: both are read."""
    addon = result_of(job).get("chapterization")
    results = addon.get("results") if isinstance(addon, dict) else None
    if isinstance(results, dict):
        results = results.get("chapters")
    return [c for c in results if isinstance(c, dict)] if isinstance(results, list) else []


def channel_value(value: Any) -> int:
    """A channel number from Gladia's JSON, 0 when it is none (a list, a dict, NaN, 1e308, negative, 1.5...)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return 0
    return int(value) if 0 <= value <= MAX_CHANNEL and value == int(value) else 0


def channel_of(utterance: dict[str, Any]) -> int:
    return channel_value(utterance.get("channel"))


def seconds_value(value: Any) -> float | None:
    """A time in seconds from Gladia's JSON, or None when it is none: a bool, NaN, ±inf, or beyond MAX_SECONDS
    (1e308 overflowed every formatter; no real audio is longer than a hundred days)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value) if -MAX_SECONDS <= value <= MAX_SECONDS else None


def error_message(error: Any) -> str | None:
    """Gladia's words from an add-on's or ack's `error` (`{"message": …}`, or a bare string); None if no error."""
    if not error:
        return None
    if isinstance(error, dict):
        text = error.get("message") or error.get("exception") or error.get("status_code")
        return " ".join(str(text).split()) if text else "no reason given"
    return " ".join(str(error).split())


def addon_errors(job: dict[str, Any]) -> list[str]:
    """One line per add-on that failed in a result: an add-on asked for and failed must not look like "nothing to
    say" (its `error` is set and its results are null). A translation fails per target language."""
    result = result_of(job)
    lines = []
    for key, name in ADDON_NAMES.items():
        addon = result.get(key)
        if not isinstance(addon, dict):
            continue
        reason = error_message(addon.get("error"))
        if reason is not None:
            lines.append(f"{name} failed: {reason}")
        elif key == "translation" and isinstance(addon.get("results"), list):
            for entry in addon["results"]:
                reason = error_message(entry.get("error")) if isinstance(entry, dict) else None
                if reason is not None:
                    languages = entry.get("languages")
                    target = languages[0] if isinstance(languages, list) and languages else "?"
                    lines.append(f"translation into {target} failed: {reason}")
    return lines


def result_of(job: dict[str, Any]) -> dict[str, Any]:
    """The ``result`` object of a job, or the object itself when it already is a result."""
    result = job.get("result")
    return result if isinstance(result, dict) else job


def transcription_of(job: dict[str, Any]) -> dict[str, Any] | None:
    transcription = result_of(job).get("transcription")
    return transcription if isinstance(transcription, dict) else None


def utterances_of(transcription: dict[str, Any]) -> list[dict[str, Any]]:
    utterances = transcription.get("utterances")
    return [u for u in utterances if isinstance(u, dict)] if isinstance(utterances, list) else []


def by_start(utterances: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Stable sort by start time: channels may be listed one after the other, people read in time order."""
    return sorted(utterances, key=lambda u: ms_of(u.get("start")) or 0)


def languages_of(transcription: dict[str, Any], utterances: list[dict[str, Any]]) -> set[str]:
    languages = {u["language"] for u in utterances if isinstance(u.get("language"), str) and u["language"]}
    listed = transcription.get("languages")
    if isinstance(listed, list):
        languages.update(code for code in listed if isinstance(code, str) and code)
    return languages


def speaker_of(u: dict[str, Any]) -> int | None:
    speaker = u.get("speaker")
    return speaker if isinstance(speaker, int) and not isinstance(speaker, bool) and speaker >= 0 else None


def ms_of(value: Any) -> int | None:
    """Seconds from the API as whole milliseconds (what both subtitle formats show); None when not a time."""
    seconds = seconds_value(value)
    return None if seconds is None else max(0, round(seconds * 1000))


def audio_end_ms(job: dict[str, Any]) -> int | None:
    """The audio's duration, from the result's metadata or the job's file; cues are not stretched past it."""
    for holder in (result_of(job).get("metadata"), job.get("file")):
        if isinstance(holder, dict):
            duration = ms_of(holder.get("audio_duration"))
            if duration:
                return duration
    return None


def channel_name(channel: Any, names: list[str] | None) -> str | None:
    """The name `--channel-names` gave this channel; a channel beyond the names keeps its number (`ch2`)."""
    if not names:
        return None
    if isinstance(channel, int) and not isinstance(channel, bool) and 0 <= channel < len(names):
        return names[channel]
    return f"ch{channel}"


def parse_channel_names(value: str | list[str] | None) -> list[str] | None:
    """`me,them` (or the flag repeated) as a list; None when not given. Empty names are refused by the caller."""
    if value is None:
        return None
    items = value if isinstance(value, list) else [value]
    names = [part.strip() for item in items for part in item.split(",")]
    return names or None


def named_transcription(job: dict[str, Any], channel_names: list[str] | None) -> dict[str, Any] | None:
    """The transcription, each utterance with a `channel_name` field when names were given (a copy)."""
    transcription = transcription_of(job)
    if transcription is None or not channel_names:
        return transcription
    named = dict(transcription)
    named["utterances"] = [
        {**u, "channel_name": channel_name(channel_of(u), channel_names)} for u in utterances_of(transcription)
    ]
    return named


def _addon_results(job: dict[str, Any], name: str) -> Any:
    addon = result_of(job).get(name)
    return addon.get("results") if isinstance(addon, dict) else None


def entities(job: dict[str, Any]) -> list[dict[str, Any]]:
    """Named entities of a file's result (`named_entity_recognition`): `{entity_type, text, start, end}` each."""
    found = _addon_results(job, "named_entity_recognition")
    return (
        [e for e in found if isinstance(e, dict) and isinstance(e.get("text"), str)] if isinstance(found, list) else []
    )


def sentiments(job: dict[str, Any]) -> list[dict[str, Any]] | str | None:
    """A file's sentiment analysis: a string in Gladia's schema and SDK, a list of `{sentiment, emotion, text}` in
    its docs; both are read (a blank string is none)."""
    found = _addon_results(job, "sentiment_analysis")
    if isinstance(found, str):
        return found.strip() or None
    if isinstance(found, list):
        return [s for s in found if isinstance(s, dict) and isinstance(s.get("sentiment"), str)] or None
    return None


def llm_answers(job: dict[str, Any]) -> list[tuple[str, str]]:
    """Audio-to-LLM's answers, `(prompt, response)` each: `results` holds one wrapper per prompt, each with its
    own `results` `{prompt, response}`; a bare `{prompt, response}` is read too."""
    found = _addon_results(job, "audio_to_llm")
    answers = []
    for item in found if isinstance(found, list) else []:
        inner = item.get("results") if isinstance(item, dict) and isinstance(item.get("results"), dict) else item
        if isinstance(inner, dict) and isinstance(inner.get("response"), str):
            answers.append((str(inner.get("prompt") or ""), inner["response"]))
    return answers


def addon_findings(job: dict[str, Any]) -> dict[str, Any]:
    """What a file's add-ons found, by name, for `-o json`: only those that found something."""
    found: dict[str, Any] = {}
    summary = summary_text(job)
    if summary:
        found["summary"] = summary
    if entities(job):
        found["named_entities"] = entities(job)
    if sentiments(job) is not None:
        found["sentiment"] = sentiments(job)
    if llm_answers(job):
        found["answers"] = [{"prompt": p, "response": r} for p, r in llm_answers(job)]
    return found


def shifted_utterance(utterance: dict[str, Any], offset: float) -> dict[str, Any]:
    """A copy of `utterance` (and its words) `offset` seconds later: a session's clock put on the recording's."""
    u = copy.deepcopy(utterance)
    for holder in [u, *(w for w in u.get("words") or [] if isinstance(w, dict))]:
        for key in ("start", "end"):
            value = seconds_value(holder.get(key))
            if value is not None:
                holder[key] = round(value + offset, 3)
    return u


def joined_jobs(parts: list[tuple[dict[str, Any], float]]) -> dict[str, Any]:
    """The jobs of the Gladia sessions one recording was sent in, each with where it starts on the recording's
    clock, as one job every output format reads: utterances in order on one clock, one transcript, the audio
    durations added up, the summaries one after another. The first session's id and request stand for the whole;
    `sessions` lists every id, in order."""
    if len(parts) == 1 and not parts[0][1]:
        return parts[0][0]
    utterances: list[dict[str, Any]] = []
    languages: list[str] = []
    summaries: list[str] = []
    duration = 0.0
    failed = None
    for job, offset in parts:
        if job.get("status") == "error" and failed is None:
            failed = job
        transcription = transcription_of(job) or {}
        for u in utterances_of(transcription):
            utterances.append(shifted_utterance(u, offset))
        for code in sorted(languages_of(transcription, utterances_of(transcription))):
            if code not in languages:
                languages.append(code)
        meta = result_of(job).get("metadata")
        seconds = seconds_value(meta.get("audio_duration")) if isinstance(meta, dict) else None
        duration = max(duration, offset + (seconds or 0.0))
        summary = summary_text(job)
        if summary:
            summaries.append(summary)
    first = parts[0][0]
    result: dict[str, Any] = {
        "metadata": {"audio_duration": round(duration, 3)},
        "transcription": {
            "full_transcript": " ".join(str(u.get("text") or "").strip() for u in utterances).strip(),
            "languages": languages,
            "utterances": utterances,
        },
    }
    if summaries:
        result["summarization"] = {"success": True, "is_empty": False, "results": "\n\n".join(summaries)}
    return {
        "id": first.get("id"),
        "kind": first.get("kind", "live"),
        "status": (failed or first).get("status", "done"),
        "error_code": (failed or {}).get("error_code"),
        "sessions": [job.get("id") for job, _ in parts],
        "request_params": first.get("request_params") or {},
        "result": result,
    }


def chained_jobs(jobs: list[dict[str, Any]]) -> dict[str, Any]:
    """The sessions of one recording, in order, joined: each starts where the audio of those before it ends (the
    recording's audio is sent once, in order, so their durations add up to its clock)."""
    parts, offset = [], 0.0
    for job in jobs:
        parts.append((job, offset))
        meta = result_of(job).get("metadata")
        offset += (seconds_value(meta.get("audio_duration")) if isinstance(meta, dict) else None) or 0.0
    return joined_jobs(parts)
