"""Output formats for a finished job: transcript text, JSON and subtitles (SRT, WebVTT).

Pure functions over the API's JSON (a live or pre-recorded job, or just its ``result``), so every command that
prints or saves a transcript shapes it the same way. Text and JSON are shaped for pipes (no colour, one record a
line); subtitles follow the usual readability rules (line length, lines per cue, minimum display time).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

FORMATS = ("text", "json", "json-full", "srt", "vtt")

DEFAULT_MAX_CHARS = 42  # the common broadcast/Netflix limit for Latin scripts
DEFAULT_MAX_LINES = 2
MIN_CUE_SECONDS = 0.5  # shorter cues flash by before anyone can read them
PAUSE_SPLIT_MS = 1500  # a silence this long inside an utterance starts a new cue, so text never shows early
MAX_SECONDS = 1e7  # the longest time taken from a result (~115 days): past it a value is treated as no time at all


def _encoder(pretty: bool) -> json.JSONEncoder:
    """Pretty for a person at a terminal, compact (one line) for a pipe."""
    if pretty:
        return json.JSONEncoder(indent=2, ensure_ascii=False)
    return json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def dump_json(data: Any, *, pretty: bool) -> str:
    return _encoder(pretty).encode(data)


def _not_json(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def load_json(data: bytes | str) -> Any:
    """JSON from outside (a WebSocket message, an HTTP body), strictly: NaN and Infinity, which Python would take
    and no formatter could write back, are ValueError, and so is nesting too deep to parse (RecursionError)."""
    try:
        return json.loads(data, parse_constant=_not_json)
    except RecursionError:
        raise ValueError("JSON nested too deep") from None


def utterance_line(
    text: str,
    *,
    channel: int | None = None,
    language: str | None = None,
    speaker: int | None = None,
    channel_name: str | None = None,
) -> str:
    """One final utterance as a line of text; channel, language and speaker only when they tell something.

    ``speaker`` is the API's 0-based index, shown as is: `Speaker 0`, like Gladia's official CLI prints it. A
    channel's name (`--channel-names`) replaces its number: `me: …`.
    """
    prefix = ""
    if channel_name:
        prefix += f"{channel_name}: "
    elif channel is not None:
        prefix += f"[ch{channel}] "
    if language:
        prefix += f"[{language}] "
    if speaker is not None:
        prefix += f"Speaker {speaker}: "
    return prefix + " ".join(text.split())


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


def transcript_lines(job: dict[str, Any], channel_names: list[str] | None = None) -> list[str]:
    """The transcript of a finished job, one utterance a line (falls back to full_transcript).

    Prefixes appear only when they distinguish lines: the channel with several channels (declared or heard, as the
    live view does), the language with several languages (code switching), the speaker with diarization.
    Translations follow their utterance as `  [fr] ...` lines, as they do live; one that cannot be matched to an
    utterance comes after the transcript, whole.
    """
    transcription = _transcription(job)
    if transcription is None:
        return []
    utterances = _utterances(transcription)
    translations = _translations(job)
    if utterances:
        multichannel = len({channel_of(u) for u in utterances}) > 1 or _declared_channels(job) > 1
        multilingual = len(_languages(transcription, utterances)) > 1
        paired: list[set[Any]] = [set() for _ in translations]
        lines = []
        for u in _by_start(utterances):
            text = str(u.get("text") or "").strip()
            if not text:
                continue
            language = u.get("language")
            lines.append(
                utterance_line(
                    text,
                    channel=channel_of(u) if multichannel else None,
                    language=language if multilingual and isinstance(language, str) else None,
                    speaker=_speaker(u),
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
    return _ms(u.get("start")), _ms(u.get("end")), channel_of(u)


def _translations(job: dict[str, Any]) -> list[tuple[str, dict[tuple[int | None, int | None, Any], str], str]]:
    """(target language, translated text by utterance key, whole translated text) per target of the add-on."""
    addon = _result(job).get("translation")
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


def _declared_channels(job: dict[str, Any]) -> int:
    params = job.get("request_params")
    channels = params.get("channels") if isinstance(params, dict) else None
    return channels if isinstance(channels, int) and not isinstance(channels, bool) else 1


def summary_text(job: dict[str, Any]) -> str | None:
    """The summarization add-on's text, if it ran and produced something."""
    result = _result(job)
    summarization = result.get("summarization")
    if isinstance(summarization, dict) and isinstance(summarization.get("results"), str):
        return summarization["results"].strip() or None
    return None


def chapters(job: dict[str, Any]) -> list[dict[str, Any]]:
    """The chapterization add-on's chapters. The post_chapterization message's `results` is a list (AsyncAPI);
    a result's add-on may hold it bare or as `{"chapters": [...]}`: both are read."""
    addon = _result(job).get("chapterization")
    results = addon.get("results") if isinstance(addon, dict) else None
    if isinstance(results, dict):
        results = results.get("chapters")
    return [c for c in results if isinstance(c, dict)] if isinstance(results, list) else []


MAX_CHANNEL = 255  # Gladia takes at most 8 channels; a larger number is no channel of ours


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


def _clock(value: Any) -> str:
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
        lines.append(f"[{_clock(chapter.get('start'))}-{_clock(chapter.get('end'))}] {title}".rstrip())
    return lines


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
    result = _result(job)
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


def render(
    job: dict[str, Any],
    fmt: str,
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
    fmt: str,
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
    if fmt == "text":
        for line in transcript_lines(job, channel_names):
            yield line + "\n"
        summary = summary_text(job)
        if summary:
            yield "\n" + summary + "\n"
        found = chapters(job)
        if found:
            yield "\nChapters:\n"
            for line in chapter_lines(found):
                yield line + "\n"
    elif fmt in ("json", "json-full"):
        data = named_transcription(job, channel_names) if fmt == "json" else job
        yield from _json_chunks(data, pretty=pretty)
        yield "\n"
    elif fmt == "srt":
        yield from srt_chunks(job, max_chars=max_chars, max_lines=max_lines, channel_names=channel_names)
    else:
        yield from vtt_chunks(job, max_chars=max_chars, max_lines=max_lines, channel_names=channel_names)


def _json_chunks(data: Any, *, pretty: bool) -> Iterator[str]:
    """`dump_json`'s text in pieces (the encoder's own), joined into blocks of about 64 KiB."""
    block: list[str] = []
    size = 0
    for piece in _encoder(pretty).iterencode(data):
        block.append(piece)
        size += len(piece)
        if size >= 65536:
            yield "".join(block)
            block, size = [], 0
    if block:
        yield "".join(block)


def named_transcription(job: dict[str, Any], channel_names: list[str] | None) -> dict[str, Any] | None:
    """The transcription, each utterance with a `channel_name` field when names were given (a copy)."""
    transcription = _transcription(job)
    if transcription is None or not channel_names:
        return transcription
    named = dict(transcription)
    named["utterances"] = [
        {**u, "channel_name": channel_name(channel_of(u), channel_names)} for u in _utterances(transcription)
    ]
    return named


# -- subtitles --


@dataclass(frozen=True)
class Cue:
    """One subtitle: times in whole milliseconds, display lines, and the speaker's name for a WebVTT voice tag."""

    start_ms: int
    end_ms: int
    lines: tuple[str, ...]
    voice: str | None = None


def to_srt(
    job: dict[str, Any],
    *,
    max_chars: int = DEFAULT_MAX_CHARS,
    max_lines: int = DEFAULT_MAX_LINES,
    channel_names: list[str] | None = None,
) -> str:
    """SubRip: numbered cues, comma before milliseconds, the speaker label inside the text; empty for no speech."""
    return "".join(srt_chunks(job, max_chars=max_chars, max_lines=max_lines, channel_names=channel_names))


def srt_chunks(
    job: dict[str, Any],
    *,
    max_chars: int = DEFAULT_MAX_CHARS,
    max_lines: int = DEFAULT_MAX_LINES,
    channel_names: list[str] | None = None,
) -> Iterator[str]:
    cues = build_cues(job, "srt", max_chars=max_chars, max_lines=max_lines, channel_names=channel_names)
    for number, cue in enumerate(cues, start=1):
        times = f"{_timestamp(cue.start_ms, ',')} --> {_timestamp(cue.end_ms, ',')}"
        yield ("\n" if number > 1 else "") + f"{number}\n{times}\n" + "\n".join(cue.lines) + "\n"


def to_vtt(
    job: dict[str, Any],
    *,
    max_chars: int = DEFAULT_MAX_CHARS,
    max_lines: int = DEFAULT_MAX_LINES,
    channel_names: list[str] | None = None,
) -> str:
    """WebVTT: the header, then cues; speakers as voice tags, ``& < >`` escaped; just the header for no speech."""
    return "".join(vtt_chunks(job, max_chars=max_chars, max_lines=max_lines, channel_names=channel_names))


def vtt_chunks(
    job: dict[str, Any],
    *,
    max_chars: int = DEFAULT_MAX_CHARS,
    max_lines: int = DEFAULT_MAX_LINES,
    channel_names: list[str] | None = None,
) -> Iterator[str]:
    yield "WEBVTT\n"
    for cue in build_cues(job, "vtt", max_chars=max_chars, max_lines=max_lines, channel_names=channel_names):
        lines = [_vtt_escape(line) for line in cue.lines]
        if cue.voice:
            lines[0] = f"<v {_vtt_escape(cue.voice)}>{lines[0]}"
        times = f"{_timestamp(cue.start_ms, '.')} --> {_timestamp(cue.end_ms, '.')}"
        yield "\n" + f"{times}\n" + "\n".join(lines) + "\n"


def build_cues(
    job: dict[str, Any],
    fmt: str = "srt",
    *,
    max_chars: int = DEFAULT_MAX_CHARS,
    max_lines: int = DEFAULT_MAX_LINES,
    min_seconds: float = MIN_CUE_SECONDS,
    channel_names: list[str] | None = None,
) -> list[Cue]:
    """Cues from the utterances' word timings, sorted, non-overlapping, each line within ``max_chars``.

    A word longer than ``max_chars`` is never cut: it gets a line of its own and overflows it (cutting would change
    the text, break search and copy-paste, and players wrap long lines anyway). In SRT the speaker label
    ``Speaker N: `` is part of the text and counts towards the first line; in WebVTT it is a voice tag and does
    not. With several channels every cue starts with ``[chN] ``; with ``channel_names``, SRT cues start with
    ``[name] `` and WebVTT cues carry the name as their voice (``<v me>``, ``<v me, Speaker 0>`` with diarization).
    """
    if fmt not in ("srt", "vtt"):
        raise ValueError(f"subtitles are srt or vtt, not {fmt!r}")
    if max_chars < 1 or max_lines < 1:
        raise ValueError("max_chars and max_lines must be at least 1")
    transcription = _transcription(job)
    utterances = _utterances(transcription) if transcription is not None else []
    multichannel = len({channel_of(u) for u in utterances}) > 1
    raw: list[Cue] = []
    for u in utterances:
        speaker = _speaker(u)
        voice = f"Speaker {speaker}" if speaker is not None else None
        name = channel_name(channel_of(u), channel_names)
        label = f"[ch{channel_of(u)}] " if multichannel and not name else ""
        if name and fmt == "srt":
            label = f"[{_srt_safe(name)}] "
        if voice and fmt == "srt":
            label += f"{voice}: "
        if name and fmt == "vtt":
            voice = f"{name}, {voice}" if voice else name
        tokens = _utterance_tokens(u)
        if fmt == "srt":  # WebVTT escapes ">" instead
            tokens = [_Token(_srt_safe(t.text), t.start, t.end) for t in tokens]
        for segment in _split_at_pauses(tokens):
            for cue_tokens, n_lines in _split_cues(segment, len(label), max_chars, max_lines):
                lines = [
                    " ".join(t.text for t in line) for line in _balance(cue_tokens, n_lines, len(label), max_chars)
                ]
                lines[0] = label + lines[0]
                start = min(t.start for t in cue_tokens)
                end = max(t.end for t in cue_tokens)
                raw.append(Cue(start, end, tuple(lines), voice if fmt == "vtt" else None))
    return _retime(raw, _audio_end_ms(job), round(min_seconds * 1000))


@dataclass(frozen=True)
class _Token:
    text: str
    start: int
    end: int


def _utterance_tokens(u: dict[str, Any]) -> list[_Token]:
    """Words with their own timings; without usable words, the text spread over the utterance by character count."""
    u_start = _ms(u.get("start"))
    u_end = _ms(u.get("end"))
    tokens: list[_Token] = []
    words = u.get("words")
    if isinstance(words, list):
        previous_end = u_start or 0
        for w in words:
            if not isinstance(w, dict) or not isinstance(w.get("word"), str):
                continue
            start = _ms(w.get("start"))
            start = previous_end if start is None else start
            end = _ms(w.get("end"))
            end = start if end is None or end < start else end
            # A "word" with inner spaces (numbers, some languages) still wraps at those spaces.
            tokens.extend(_Token(part, start, end) for part in w["word"].split())
            previous_end = end
    if tokens:
        return tokens
    parts = str(u.get("text") or "").split()
    if not parts:
        return []
    start = u_start if u_start is not None else 0
    end = max(u_end if u_end is not None else start, start)
    total = sum(len(p) + 1 for p in parts)
    out, offset = [], 0
    for part in parts:
        # Interpolate so that a long utterance split into several cues gets plausible times for each.
        t0 = start + (end - start) * offset // total
        offset += len(part) + 1
        t1 = start + (end - start) * offset // total
        out.append(_Token(part, t0, t1))
    return out


def _srt_safe(word: str) -> str:
    """``-->`` marks a timing line in SRT; a shorter arrow keeps the meaning without breaking the cue."""
    while "-->" in word:
        word = word.replace("-->", "->")
    return word


def _split_at_pauses(tokens: list[_Token]) -> list[list[_Token]]:
    segments: list[list[_Token]] = []
    for token in tokens:
        if segments and token.start - segments[-1][-1].end < PAUSE_SPLIT_MS:
            segments[-1].append(token)
        else:
            segments.append([token])
    return segments


def _lines_needed(sizes: list[int], label: int, max_chars: int, limit: int) -> int:
    """Lines a greedy wrap of words of these sizes takes (stopping once past ``limit``); a long word overflows alone."""
    n_lines, width = 0, 0
    for size in sizes:
        if n_lines and width + 1 + size <= max_chars:
            width += 1 + size
        else:
            n_lines += 1
            width = (label if n_lines == 1 else 0) + size
            if n_lines > limit:
                break
    return n_lines


def _split_cues(tokens: list[_Token], label: int, max_chars: int, max_lines: int) -> list[tuple[list[_Token], int]]:
    """Words into cues of at most ``max_lines`` lines: the fewest cues, then the most even sizes.

    Filling cues greedily leaves a stub at the end (a lone word flashing by); spreading the words evenly over the
    same number of cues reads better. Returns (words, lines) per cue.
    """
    m = len(tokens)
    sizes = [len(t.text) for t in tokens]
    # reach[i]: one cue starting at word i holds words i..reach[i]-1 (at least one word, however long).
    reach = []
    for i in range(m):
        n_lines, width, j = 0, 0, i
        while j < m:  # the same greedy wrap as _lines_needed, one word at a time
            if n_lines and width + 1 + sizes[j] <= max_chars:
                width += 1 + sizes[j]
            elif n_lines < max_lines:
                n_lines += 1
                width = (label if n_lines == 1 else 0) + sizes[j]
            else:
                break
            j += 1
        reach.append(j)
    prefix = [0]
    for size in sizes:
        prefix.append(prefix[-1] + size)
    widest = max((r - i for i, r in enumerate(reach)), default=1)
    # best[j]: (cues, sum of squared cue lengths) for words[:j]; adding a cue is a translation, so prefixes compose.
    best: list[tuple[float, float]] = [(0, 0)] + [(math.inf, math.inf)] * m
    back = [0] * (m + 1)
    for j in range(1, m + 1):
        for i in range(max(0, j - widest), j):
            if reach[i] < j or best[i][0] == math.inf:
                continue
            length = prefix[j] - prefix[i] + (j - i - 1)
            candidate = (best[i][0] + 1, best[i][1] + length * length)
            if candidate < best[j]:
                best[j], back[j] = candidate, i
    cues: list[tuple[list[_Token], int]] = []
    j = m
    while j > 0:
        i = back[j]
        cues.append((tokens[i:j], _lines_needed(sizes[i:j], label, max_chars, max_lines)))
        j = i
    return cues[::-1]


def _balance(tokens: list[_Token], n_lines: int, label: int, max_chars: int) -> list[list[_Token]]:
    """Split a cue's words into ``n_lines`` lines of similar length (least sum of squared widths).

    The greedy fill leaves a long first line and a stub; balanced lines are easier to read. A line may exceed
    ``max_chars`` only when it holds a single word.
    """
    sizes = [len(t.text) for t in tokens]
    m = len(tokens)
    prefix = [0]
    for size in sizes:
        prefix.append(prefix[-1] + size)

    def width(i: int, j: int) -> int:
        return (label if i == 0 else 0) + prefix[j] - prefix[i] + (j - i - 1)

    inf = math.inf
    # best[k][j]: least cost of putting tokens[:j] on k lines; back[k][j]: where the k-th line starts.
    best = [[inf] * (m + 1) for _ in range(n_lines + 1)]
    back = [[0] * (m + 1) for _ in range(n_lines + 1)]
    best[0][0] = 0
    for k in range(1, n_lines + 1):
        for j in range(k, m + 1):
            for i in range(k - 1, j):
                if best[k - 1][i] == inf:
                    continue
                w = width(i, j)
                if w > max_chars and j - i > 1:
                    continue
                cost = best[k - 1][i] + w * w
                if cost < best[k][j]:
                    best[k][j], back[k][j] = cost, i
    if best[n_lines][m] == inf:  # cannot happen (the greedy fill is a witness), but never lose words
        return [tokens]
    lines: list[list[_Token]] = []
    j = m
    for k in range(n_lines, 0, -1):
        i = back[k][j]
        lines.append(tokens[i:j])
        j = i
    return lines[::-1]


def _retime(cues: list[Cue], audio_end: int | None, min_ms: int) -> list[Cue]:
    """Sort by time; stretch short cues to ``min_ms`` (not past the audio's end); never overlap.

    A cue ends at the latest when the next one starts, unless that would make it shorter than ``min_ms``: then the
    next cue starts a little late instead. Overlaps only come from simultaneous speech on several channels.
    """
    ordered = sorted(cues, key=lambda c: (c.start_ms, c.end_ms))
    out: list[Cue] = []
    previous_end = 0
    for index, cue in enumerate(ordered):
        start = max(cue.start_ms, previous_end)
        floor = start + max(min_ms, 1)
        if audio_end is not None:
            floor = min(floor, max(audio_end, start + 1))
        end = max(cue.end_ms, floor)
        if index + 1 < len(ordered):
            next_start = ordered[index + 1].start_ms
            if end > next_start:
                end = max(next_start, floor)
        out.append(Cue(start, end, cue.lines, cue.voice))
        previous_end = end
    return out


def _timestamp(ms: int, separator: str) -> str:
    """``HH:MM:SS,mmm`` (SRT) or ``HH:MM:SS.mmm`` (WebVTT); hours grow past two digits if they must."""
    seconds, millis = divmod(max(ms, 0), 1000)
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours:02d}:{minutes:02d}:{seconds:02d}{separator}{millis:03d}"


def _vtt_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# -- reading the API's JSON leniently --


def _result(job: dict[str, Any]) -> dict[str, Any]:
    """The ``result`` object of a job, or the object itself when it already is a result."""
    result = job.get("result")
    return result if isinstance(result, dict) else job


def _transcription(job: dict[str, Any]) -> dict[str, Any] | None:
    transcription = _result(job).get("transcription")
    return transcription if isinstance(transcription, dict) else None


def _utterances(transcription: dict[str, Any]) -> list[dict[str, Any]]:
    utterances = transcription.get("utterances")
    return [u for u in utterances if isinstance(u, dict)] if isinstance(utterances, list) else []


def _by_start(utterances: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Stable sort by start time: channels may be listed one after the other, people read in time order."""
    return sorted(utterances, key=lambda u: _ms(u.get("start")) or 0)


def _languages(transcription: dict[str, Any], utterances: list[dict[str, Any]]) -> set[str]:
    languages = {u["language"] for u in utterances if isinstance(u.get("language"), str) and u["language"]}
    listed = transcription.get("languages")
    if isinstance(listed, list):
        languages.update(code for code in listed if isinstance(code, str) and code)
    return languages


def _speaker(u: dict[str, Any]) -> int | None:
    speaker = u.get("speaker")
    return speaker if isinstance(speaker, int) and not isinstance(speaker, bool) and speaker >= 0 else None


def _ms(value: Any) -> int | None:
    """Seconds from the API as whole milliseconds (what both subtitle formats show); None when not a time."""
    seconds = seconds_value(value)
    return None if seconds is None else max(0, round(seconds * 1000))


def _audio_end_ms(job: dict[str, Any]) -> int | None:
    """The audio's duration, from the result's metadata or the job's file; cues are not stretched past it."""
    for holder in (_result(job).get("metadata"), job.get("file")):
        if isinstance(holder, dict):
            duration = _ms(holder.get("audio_duration"))
            if duration:
                return duration
    return None
