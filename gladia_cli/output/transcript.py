"""The output formats of a finished job: transcript text, JSON and subtitles, whole or in pieces.

Pure functions over the API's JSON (a live or pre-recorded job, or just its ``result``), so every command that
prints or saves a transcript shapes it the same way. Text and JSON are shaped for pipes (no colour, one record a
line); subtitles are `output.subtitles`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from gladia_cli.output.clock import chapter_lines as chapter_lines
from gladia_cli.output.clock import clock, timestamp
from gladia_cli.output.job_json import (
    addon_findings,
    by_start,
    channel_name,
    channel_of,
    chapters,
    declared_channels,
    entities,
    languages_of,
    llm_answers,
    ms_of,
    named_transcription,
    result_of,
    sentiments,
    speaker_of,
    summary_text,
    transcription_of,
    utterances_of,
)
from gladia_cli.output.notes import notes_chunks
from gladia_cli.output.output_format import FORMATS, OutputFormat
from gladia_cli.output.subtitles import DEFAULT_MAX_CHARS, DEFAULT_MAX_LINES, srt_chunks, vtt_chunks
from gladia_cli.strict_json import json_chunks


def utterance_line(
    text: str,
    *,
    channel: int | None = None,
    language: str | None = None,
    speaker: int | None = None,
    channel_name: str | None = None,
    at: float | None = None,
) -> str:
    """One final utterance as a line of text; channel, language and speaker only when they tell something.

    ``speaker`` is the API's 0-based index, shown as is: `Speaker 0`, like Gladia's official CLI prints it. A
    channel's name (`--channel-names`) replaces its number: `me: …`.
    """
    prefix = f"[{timestamp(at)}] " if at is not None else ""  # --timestamps
    if channel_name:
        prefix += f"{channel_name}: "
    elif channel is not None:
        prefix += f"[ch{channel}] "
    if language:
        prefix += f"[{language}] "
    if speaker is not None:
        prefix += f"Speaker {speaker}: "
    return prefix + " ".join(text.split())


def transcript_lines(job: dict[str, Any], channel_names: list[str] | None = None) -> list[str]:
    """The transcript of a finished job, one utterance a line (falls back to full_transcript).

    Prefixes appear only when they distinguish lines: the channel with several channels (declared or heard, as the
    live view does), the language with several languages (code switching), the speaker with diarization.
    Translations follow their utterance as `  [fr] ...` lines, as they do live; one that cannot be matched to an
    utterance comes after the transcript, whole.
    """
    transcription = transcription_of(job)
    if transcription is None:
        return []
    utterances = utterances_of(transcription)
    translations = _translations(job)
    if utterances:
        multichannel = len({channel_of(u) for u in utterances}) > 1 or declared_channels(job) > 1
        multilingual = len(languages_of(transcription, utterances)) > 1
        paired: list[set[Any]] = [set() for _ in translations]
        lines = []
        for u in by_start(utterances):
            text = str(u.get("text") or "").strip()
            if not text:
                continue
            language = u.get("language")
            lines.append(
                utterance_line(
                    text,
                    channel=channel_of(u) if multichannel else None,
                    language=language if multilingual and isinstance(language, str) else None,
                    speaker=speaker_of(u),
                    channel_name=channel_name(channel_of(u), channel_names),
                )
            )
            for index, (target, by_time, _) in enumerate(translations):
                key = _utterance_key(u)
                if by_time.get(key):
                    paired[index].add(key)
                    lines.append(f"  [{target}] {by_time[key]}")
        for index, (target, by_time, full_text) in enumerate(translations):
            if not paired[index]:
                lines += [f"[{target}] {full_text}"] if full_text else []
            else:  # the few that found no utterance are still shown, never dropped
                lines += [f"[{target}] {text}" for key, text in by_time.items() if key not in paired[index] and text]
        return lines
    full = transcription.get("full_transcript")
    lines = [full.strip()] if isinstance(full, str) and full.strip() else []
    return lines + [f"[{target}] {text}" for target, _, text in translations if text]


def _utterance_key(u: dict[str, Any]) -> tuple[int | None, int | None, Any]:
    """A translated utterance keeps its original's times and channel: that is how the two are paired."""
    return ms_of(u.get("start")), ms_of(u.get("end")), channel_of(u)


def _translations(job: dict[str, Any]) -> list[tuple[str, dict[tuple[int | None, int | None, Any], str], str]]:
    """(target language, translated text by utterance key, whole translated text) per target of the add-on."""
    addon = result_of(job).get("translation")
    results = addon.get("results") if isinstance(addon, dict) else None
    out = []
    for entry in results if isinstance(results, list) else []:
        if not isinstance(entry, dict) or entry.get("error"):
            continue
        languages = entry.get("languages")
        target = languages[0] if isinstance(languages, list) and languages and isinstance(languages[0], str) else "?"
        by_time = {
            _utterance_key(u): " ".join(str(u.get("text") or "").split())
            for u in entry.get("utterances") or []
            if isinstance(u, dict)
        }
        full = entry.get("full_transcript")
        out.append((target, by_time, " ".join(full.split()) if isinstance(full, str) else ""))
    return out


def _with_findings(transcription: dict[str, Any] | None, job: dict[str, Any]) -> dict[str, Any] | None:
    """`-o json`: the transcription, with what the add-ons found beside its own keys (summary, named_entities,
    sentiment, answers), so a file's add-ons are not only in json-full."""
    findings = addon_findings(job)
    if not findings:
        return transcription
    return {**(transcription or {}), **findings}


def addon_lines(job: dict[str, Any]) -> list[str]:
    """What a file's add-ons found, after the transcript (live shows entities and sentiments under each final):
    the named entities, the sentiment, and audio-to-LLM's answers, each a titled block."""
    lines: list[str] = []
    found = entities(job)
    if found:
        lines += ["", "Named entities:"]
        lines += [
            f"  [{clock(e.get('start'))}] {one_line(e['text'])} ({one_line(str(e.get('entity_type') or '?'))})"
            for e in found
        ]
    feeling = sentiments(job)
    if isinstance(feeling, str):
        lines += ["", f"Sentiment: {one_line(feeling)}"]
    elif feeling:
        lines += ["", "Sentiment:"]
        for s in feeling:
            emotion = f" ({one_line(str(s['emotion']))})" if s.get("emotion") else ""
            said = f": {one_line(str(s['text']))}" if s.get("text") else ""
            lines.append(f"  {one_line(s['sentiment'])}{emotion}{said}")
    for prompt, response in llm_answers(job):
        lines += [
            "",
            f"Q: {one_line(prompt)}",
            *(f"A: {line}" if i == 0 else f"   {line}" for i, line in enumerate(response.strip().splitlines() or [""])),
        ]
    return lines


def one_line(text: str) -> str:
    return " ".join(text.split())


def render(
    job: dict[str, Any],
    fmt: OutputFormat | str,
    *,
    pretty: bool,
    max_chars: int = DEFAULT_MAX_CHARS,
    max_lines: int = DEFAULT_MAX_LINES,
    channel_names: list[str] | None = None,
) -> str:
    """The whole output for ``fmt``, ready to write as is: it ends with a newline unless it is empty.

    ``pretty`` only affects the JSON formats; ``max_chars``/``max_lines`` only the subtitle formats. With
    ``channel_names``, utterances are labelled by name (text, subtitles) or get a ``channel_name`` field (json;
    json-full stays the API's object unchanged).
    """
    return "".join(
        render_chunks(job, fmt, pretty=pretty, max_chars=max_chars, max_lines=max_lines, channel_names=channel_names)
    )


def render_chunks(
    job: dict[str, Any],
    fmt: OutputFormat | str,
    *,
    pretty: bool,
    max_chars: int = DEFAULT_MAX_CHARS,
    max_lines: int = DEFAULT_MAX_LINES,
    channel_names: list[str] | None = None,
) -> Iterator[str]:
    """`render`'s output piece by piece (lines, cues, JSON fragments), so a large result is written as it is made,
    never held whole a second time beside the job it comes from."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown output format {fmt!r} (expected one of: {', '.join(FORMATS)})")
    fmt = OutputFormat(fmt)
    if fmt is OutputFormat.text:
        for line in transcript_lines(job, channel_names):
            yield line + "\n"
        summary = summary_text(job)
        if summary:
            yield "\nSummary:\n" + summary + "\n"
        found = chapters(job)
        if found:
            yield "\nChapters:\n"
            for line in chapter_lines(found):
                yield line + "\n"
        for line in addon_lines(job):
            yield line + "\n"
    elif fmt in (OutputFormat.json, OutputFormat.json_full):
        data = job if fmt.api_object else _with_findings(named_transcription(job, channel_names), job)
        yield from json_chunks(data, pretty=pretty)
        yield "\n"
    elif fmt is OutputFormat.md:
        yield from notes_chunks(job, channel_names)
    elif fmt is OutputFormat.srt:
        yield from srt_chunks(job, max_chars=max_chars, max_lines=max_lines, channel_names=channel_names)
    else:
        yield from vtt_chunks(job, max_chars=max_chars, max_lines=max_lines, channel_names=channel_names)
