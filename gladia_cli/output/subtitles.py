"""Subtitles (SRT, WebVTT) from a finished job's word timings, under the usual readability rules: line length,
lines per cue, minimum display time, a new cue at a long pause.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from gladia_cli.output.job_json import (
    audio_end_ms,
    channel_name,
    channel_of,
    ms_of,
    speaker_of,
    transcription_of,
    utterances_of,
)

DEFAULT_MAX_CHARS = 42  # the common broadcast/Netflix limit for Latin scripts

DEFAULT_MAX_LINES = 2

MIN_CUE_SECONDS = 0.5  # shorter cues flash by before anyone can read them

PAUSE_SPLIT_MS = 1500  # a silence this long inside an utterance starts a new cue, so text never shows early


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
    transcription = transcription_of(job)
    utterances = utterances_of(transcription) if transcription is not None else []
    multichannel = len({channel_of(u) for u in utterances}) > 1
    raw: list[Cue] = []
    for u in utterances:
        speaker = speaker_of(u)
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
    return _retime(raw, audio_end_ms(job), round(min_seconds * 1000))


@dataclass(frozen=True)
class _Token:
    text: str
    start: int
    end: int


def _utterance_tokens(u: dict[str, Any]) -> list[_Token]:
    """Words with their own timings; without usable words, the text spread over the utterance by character count."""
    u_start = ms_of(u.get("start"))
    u_end = ms_of(u.get("end"))
    tokens: list[_Token] = []
    words = u.get("words")
    if isinstance(words, list):
        previous_end = u_start or 0
        for w in words:
            if not isinstance(w, dict) or not isinstance(w.get("word"), str):
                continue
            start = ms_of(w.get("start"))
            start = previous_end if start is None else start
            end = ms_of(w.get("end"))
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
