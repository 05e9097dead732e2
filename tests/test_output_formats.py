"""Output formats: text, JSON and subtitles, with the subtitles checked by real parsers (srt, webvtt-py).

The property tests generate transcripts (monotonic word timings, words of 1-15 letters and now and then a word longer
than a line) and check what players rely on: numbering, sorted non-overlapping cues, line limits, and that no word
is lost, added or reordered.
"""

from __future__ import annotations

import html
import itertools
import json
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
import srt
import webvtt
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gladia_cli.output import job_json, subtitles
from gladia_cli.output import transcript as formats

SRT_TIMING = re.compile(r"^\d{2,}:\d{2}:\d{2},\d{3} --> \d{2,}:\d{2}:\d{2},\d{3}$")
VTT_TIMING = re.compile(r"^\d{2,}:\d{2}:\d{2}\.\d{3} --> \d{2,}:\d{2}:\d{2}\.\d{3}$")
LABEL = re.compile(r"^(\[ch\d+\] )?(Speaker \d+: )?")


# -- building API objects --


def word(text: str, start: float, end: float) -> dict[str, Any]:
    return {"word": f" {text}", "start": start, "end": end, "confidence": 0.9}


def utterance(
    words: list[dict[str, Any]],
    *,
    channel: int = 0,
    speaker: int | None = None,
    language: str = "en",
    text: str | None = None,
    start: float | None = None,
    end: float | None = None,
) -> dict[str, Any]:
    u: dict[str, Any] = {
        "start": words[0]["start"] if start is None else start,
        "end": words[-1]["end"] if end is None else end,
        "confidence": 0.9,
        "channel": channel,
        "words": words,
        "text": text if text is not None else "".join(w["word"] for w in words),
        "language": language,
    }
    if speaker is not None:
        u["speaker"] = speaker
    return u


def job(
    utterances: list[dict[str, Any]],
    *,
    audio_duration: float | None = None,
    languages: list[str] | None = None,
    kind: str = "pre-recorded",
) -> dict[str, Any]:
    metadata: dict[str, Any] = {"number_of_distinct_channels": len({u["channel"] for u in utterances}) or 1}
    if audio_duration is not None:
        metadata["audio_duration"] = audio_duration
    transcription = {
        "full_transcript": " ".join(u["text"].strip() for u in utterances),
        "languages": languages if languages is not None else sorted({u["language"] for u in utterances}),
        "utterances": utterances,
    }
    return {
        "id": "45463597-20b7-4af7-b3b3-f5fb778203ab",
        "status": "done",
        "kind": kind,
        "result": {"metadata": metadata, "transcription": transcription},
    }


def spoken(text: str, start: float, per_word: float = 0.3) -> list[dict[str, Any]]:
    """Words of ``text`` back to back, ``per_word`` seconds each."""
    return [word(w, start + i * per_word, start + (i + 1) * per_word) for i, w in enumerate(text.split())]


# -- reading subtitles back with real parsers --


@dataclass
class ParsedCue:
    start: float
    end: float
    lines: list[str]  # display text: SRT as is, WebVTT unescaped and without the voice tag
    voice: str | None


def seconds(delta: timedelta) -> float:
    return delta.total_seconds()


def parse_srt(text: str) -> list[ParsedCue]:
    """srt.parse, plus what it tolerates but we promise: numbering from 1 and the exact timing line format."""
    subtitles = list(srt.parse(text))
    assert [s.index for s in subtitles] == list(range(1, len(subtitles) + 1))
    timing_lines = [line for line in text.splitlines() if "-->" in line]
    assert len(timing_lines) == len(subtitles), "a '-->' inside cue text"
    assert all(SRT_TIMING.match(line) for line in timing_lines)
    return [ParsedCue(seconds(s.start), seconds(s.end), s.content.split("\n"), None) for s in subtitles]


def parse_vtt(text: str) -> list[ParsedCue]:
    assert text.startswith("WEBVTT\n")
    captions = webvtt.from_string(text).captions
    timing_lines = [line for line in text.splitlines() if "-->" in line]
    assert len(timing_lines) == len(captions), "a '-->' inside cue text"
    assert all(VTT_TIMING.match(line) for line in timing_lines)
    cues = []
    for c in captions:
        raw = c.raw_text
        payload = re.sub(r"^<v [^>]*>", "", raw)
        assert "<" not in payload and ">" not in payload, f"unescaped markup in {raw!r}"
        assert not re.search(r"&(?!amp;|lt;|gt;)", payload), f"unescaped & in {raw!r}"
        lines = [html.unescape(line) for line in payload.split("\n")]
        # webvtt-py's start_in_seconds drops the milliseconds; read the exact times from its timestamps.
        cues.append(ParsedCue(_vtt_seconds(c.start), _vtt_seconds(c.end), lines, c.voice))
    return cues


def _vtt_seconds(stamp: str) -> float:
    h, m, s = stamp.split(":")
    return int(h) * 3600 + int(m) * 60 + float(s)


def strip_label(line: str) -> str:
    return LABEL.sub("", line, count=1)


def check_cues(
    cues: list[ParsedCue],
    *,
    max_chars: int,
    max_lines: int,
    audio_end: float | None,
    min_seconds: float = subtitles.MIN_CUE_SECONDS,
) -> None:
    """What a player needs: sorted, non-overlapping, readable cues within the line limits."""
    for cue in cues:
        assert cue.end > cue.start
        assert cue.end - cue.start >= min_seconds - 1e-9 or (
            audio_end is not None and cue.end >= audio_end - 0.001
        )  # ms rounding
        assert 1 <= len(cue.lines) <= max_lines
        for line in cue.lines:
            assert line.strip() == line and line
            # Decision: a word longer than a line is never cut; it overflows a line of its own (after the label).
            assert len(line) <= max_chars or " " not in strip_label(line), (line, max_chars)
    for before, after in itertools.pairwise(cues):
        assert before.start <= after.start
        assert before.end <= after.start + 1e-9


def cue_words(cues: list[ParsedCue]) -> list[str]:
    return " ".join(strip_label(" ".join(c.lines)) for c in cues).split()


# -- hypothesis strategies --

letters = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=15)
long_words = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=61, max_size=90)  # > any max_chars we draw
word_texts = st.one_of(letters, letters, letters, letters, letters, letters, letters, letters, letters, long_words)


@st.composite
def transcripts(draw: st.DrawFn, *, channels: int = 1) -> dict[str, Any]:
    """Utterances with monotonic timings per channel; channels overlap freely in time."""
    diarized = draw(st.booleans())
    utterances = []
    for channel in range(channels):
        t = draw(st.floats(0, 5))
        for _ in range(draw(st.integers(0 if channels == 1 else 1, 6))):
            t += draw(st.floats(0, 3))
            words = []
            for text in draw(st.lists(word_texts, min_size=1, max_size=25)):
                t += draw(st.floats(0, 2.0))  # sometimes longer than the pause that splits a cue
                duration = draw(st.floats(0.01, 1.0))
                words.append(word(text, t, t + duration))
                t += duration
            speaker = draw(st.integers(0, 3)) if diarized else None
            utterances.append(utterance(words, channel=channel, speaker=speaker))
    end = max((u["end"] for u in utterances), default=0.0)
    audio = draw(st.one_of(st.none(), st.floats(0, 2).map(lambda extra: end + extra)))
    return job(utterances, audio_duration=audio)


def all_words(j: dict[str, Any], channel: int | None = None) -> list[str]:
    return [
        w["word"].strip()
        for u in j["result"]["transcription"]["utterances"]
        if channel is None or u["channel"] == channel
        for w in u["words"]
    ]


def audio_end_of(j: dict[str, Any]) -> float | None:
    return j["result"]["metadata"].get("audio_duration")


limits = st.tuples(st.integers(10, 60), st.integers(1, 3))
property_settings = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# -- property tests --


@property_settings
@given(transcripts(), limits)
def test_srt_invariants(j: dict[str, Any], limit: tuple[int, int]) -> None:
    max_chars, max_lines = limit
    out = formats.render(j, "srt", pretty=False, max_chars=max_chars, max_lines=max_lines)
    cues = parse_srt(out)
    check_cues(cues, max_chars=max_chars, max_lines=max_lines, audio_end=audio_end_of(j))
    assert cue_words(cues) == all_words(j)
    if not cues:
        assert out == ""


@property_settings
@given(transcripts(), limits)
def test_vtt_invariants(j: dict[str, Any], limit: tuple[int, int]) -> None:
    max_chars, max_lines = limit
    out = formats.render(j, "vtt", pretty=False, max_chars=max_chars, max_lines=max_lines)
    cues = parse_vtt(out)
    check_cues(cues, max_chars=max_chars, max_lines=max_lines, audio_end=audio_end_of(j))
    assert cue_words(cues) == all_words(j)
    speakers = {u.get("speaker") for u in j["result"]["transcription"]["utterances"]}
    if speakers != {None}:
        assert all(c.voice and c.voice.startswith("Speaker ") for c in cues)
    if not cues:
        assert out == "WEBVTT\n"


@pytest.mark.slow  # seconds of its own: out of the inner loop
@property_settings
@given(transcripts(channels=2), limits, st.sampled_from(["srt", "vtt"]))
def test_multichannel_overlapping_speech_stays_sorted_and_apart(
    j: dict[str, Any], limit: tuple[int, int], fmt: str
) -> None:
    max_chars, max_lines = limit
    out = formats.render(j, fmt, pretty=False, max_chars=max_chars, max_lines=max_lines)
    cues = parse_srt(out) if fmt == "srt" else parse_vtt(out)
    check_cues(cues, max_chars=max_chars, max_lines=max_lines, audio_end=audio_end_of(j))
    for channel in (0, 1):
        mine = [c for c in cues if c.lines[0].startswith(f"[ch{channel}] ")]
        assert cue_words(mine) == all_words(j, channel)
    assert len(cue_words(cues)) == len(all_words(j))


@property_settings
@given(transcripts(), limits)
def test_text_holds_every_utterance(j: dict[str, Any], limit: tuple[int, int]) -> None:
    out = formats.render(j, "text", pretty=False, max_chars=limit[0], max_lines=limit[1])
    lines = out.splitlines()
    assert len(lines) == len(j["result"]["transcription"]["utterances"])
    assert " ".join(strip_label(line) for line in lines).split() == all_words(j)
    assert out == "" or out.endswith("\n")


# -- subtitles, by example --


def test_srt_of_the_reference_example() -> None:
    # 43 characters: one more than a line holds, so two balanced lines.
    j = job([utterance(spoken("Split infinity in a time when less is more.", 0.21))], audio_duration=4.14)
    assert formats.render(j, "srt", pretty=False) == (
        "1\n00:00:00,210 --> 00:00:02,910\nSplit infinity in a\ntime when less is more.\n"
    )


def test_vtt_has_a_header_and_blank_lines() -> None:
    j = job([utterance(spoken("Hello world.", 0.2)), utterance(spoken("Goodbye.", 3.0))])
    assert formats.render(j, "vtt", pretty=False) == (
        "WEBVTT\n\n00:00:00.200 --> 00:00:00.800\nHello world.\n\n00:00:03.000 --> 00:00:03.500\nGoodbye.\n"
    )


def test_long_utterance_splits_at_words_with_each_cue_timed_by_its_own_words() -> None:
    text = " ".join(f"word{i:02d}" for i in range(40))  # 40 words of 6 letters: 279 characters
    words = spoken(text, 10.0, per_word=0.4)
    j = job([utterance(words)])
    cues = parse_srt(formats.render(j, "srt", pretty=False))
    check_cues(cues, max_chars=42, max_lines=2, audio_end=None)
    assert len(cues) > 3
    assert cue_words(cues) == text.split()
    index = 0
    for cue in cues:
        n = len(" ".join(cue.lines).split())
        assert cue.start == pytest.approx(words[index]["start"])
        assert cue.end == pytest.approx(words[index + n - 1]["end"])
        index += n


def test_lines_of_a_cue_are_balanced() -> None:
    j = job([utterance(spoken("one two three four five six seven eight nine ten eleven", 0.0))])
    [cue] = parse_srt(formats.render(j, "srt", pretty=False))
    assert len(cue.lines) == 2
    assert abs(len(cue.lines[0]) - len(cue.lines[1])) <= 6


def test_max_chars_and_max_lines_options() -> None:
    j = job([utterance(spoken("aaaa bbbb cccc dddd eeee ffff gggg", 0.0, per_word=1.0))])
    cues = parse_srt(formats.render(j, "srt", pretty=False, max_chars=9, max_lines=1))
    # Seven words, two a cue at most: four cues, spread evenly rather than leaving a stub.
    assert [c.lines for c in cues] == [["aaaa"], ["bbbb cccc"], ["dddd eeee"], ["ffff gggg"]]
    with pytest.raises(ValueError):
        formats.render(j, "srt", pretty=False, max_chars=0)
    with pytest.raises(ValueError):
        formats.render(j, "vtt", pretty=False, max_lines=0)


def test_no_stub_cue_at_the_end_of_an_utterance() -> None:
    text = "This utterance has no word timings at all, so its text is wrapped over its own time span."
    cues = parse_srt(formats.render(job([utterance(spoken(text, 0.0))]), "srt", pretty=False))
    assert len(cues) == 2  # 90 characters: not 84 + a lone "span."
    assert min(len(" ".join(c.lines)) for c in cues) > 30


def test_a_word_longer_than_a_line_overflows_alone() -> None:
    url = "https://example.com/" + "x" * 50
    j = job([utterance(spoken(f"see {url} now", 0.0))])
    [cue] = parse_srt(formats.render(j, "srt", pretty=False, max_chars=20, max_lines=3))
    assert cue.lines == ["see", url, "now"]


def test_long_pause_inside_an_utterance_starts_a_new_cue() -> None:
    words = [word("Hello", 0.0, 0.5), word("again", 5.0, 5.6)]
    cues = parse_srt(formats.render(job([utterance(words)]), "srt", pretty=False))
    assert [(c.start, c.end, c.lines) for c in cues] == [(0.0, 0.5, ["Hello"]), (5.0, 5.6, ["again"])]


def test_timestamps_past_one_hour() -> None:
    j = job([utterance([word("late", 3725.5, 3726.25)]), utterance([word("later", 363599.0, 363600.0)])])
    srt_out = formats.render(j, "srt", pretty=False)
    assert "01:02:05,500 --> 01:02:06,250" in srt_out
    assert "100:59:59,000 --> 101:00:00,000" in srt_out
    assert "01:02:05.500 --> 01:02:06.250" in formats.render(j, "vtt", pretty=False)
    assert parse_srt(srt_out)[0].start == 3725.5


def test_short_cues_last_half_a_second_but_not_past_the_audio() -> None:
    j = job([utterance([word("Yes.", 1.0, 1.1)]), utterance([word("No.", 3.0, 3.2)])], audio_duration=3.3)
    cues = parse_srt(formats.render(j, "srt", pretty=False))
    assert [(c.start, c.end) for c in cues] == [(1.0, 1.5), (3.0, 3.3)]


def test_a_short_cue_pushes_the_next_one_rather_than_flash() -> None:
    j = job([utterance([word("Yes.", 1.0, 1.1)], speaker=0), utterance(spoken("Are you sure?", 1.2), speaker=1)])
    cues = parse_srt(formats.render(j, "srt", pretty=False))
    assert [(c.start, c.end) for c in cues] == [(1.0, 1.5), (1.5, 2.1)]


def test_overlapping_cues_are_clamped_to_the_next_start() -> None:
    j = job(
        [
            utterance(spoken("first channel speaks for a while", 0.0), channel=0),
            utterance(spoken("second interrupts", 1.0), channel=1),
        ]
    )
    cues = parse_srt(formats.render(j, "srt", pretty=False))
    assert [(c.start, c.end) for c in cues] == [(0.0, 1.0), (1.0, 1.6)]
    assert [c.lines for c in cues] == [["[ch0] first channel speaks for a while"], ["[ch1] second interrupts"]]


def test_cues_are_sorted_even_when_utterances_are_not() -> None:
    j = job([utterance(spoken("later", 5.0)), utterance(spoken("sooner", 1.0))])
    assert [c.lines for c in parse_vtt(formats.render(j, "vtt", pretty=False))] == [["sooner"], ["later"]]


def test_speaker_labels() -> None:
    j = job([utterance(spoken("Hi there.", 0.0), speaker=0), utterance(spoken("Hello.", 1.0), speaker=1)])
    assert [c.lines for c in parse_srt(formats.render(j, "srt", pretty=False))] == [
        ["Speaker 0: Hi there."],
        ["Speaker 1: Hello."],
    ]
    vtt_out = formats.render(j, "vtt", pretty=False)
    assert "<v Speaker 0>Hi there.\n" in vtt_out
    assert [(c.voice, c.lines) for c in parse_vtt(vtt_out)] == [("Speaker 0", ["Hi there."]), ("Speaker 1", ["Hello."])]


def test_srt_label_counts_towards_the_line_length() -> None:
    j = job([utterance(spoken("aaaa bbbb cccc", 0.0), speaker=10)])  # "Speaker 10: " is 12 characters
    [cue] = parse_srt(formats.render(j, "srt", pretty=False, max_chars=20))
    assert cue.lines == ["Speaker 10: aaaa", "bbbb cccc"]
    [vtt_cue] = parse_vtt(formats.render(j, "vtt", pretty=False, max_chars=20))
    assert vtt_cue.lines == ["aaaa bbbb cccc"]


def test_vtt_escapes_markup_and_never_writes_an_arrow_in_text() -> None:
    j = job([utterance(spoken("a<b & c>d x-->y", 0.0))])
    vtt_out = formats.render(j, "vtt", pretty=False)
    assert "a&lt;b &amp; c&gt;d x--&gt;y" in vtt_out
    assert parse_vtt(vtt_out)[0].lines == ["a<b & c>d x-->y"]
    srt_out = formats.render(j, "srt", pretty=False)
    assert "a<b & c>d x->y" in srt_out  # SRT escapes nothing; only the arrow is shortened
    parse_srt(srt_out)


def test_utterances_without_words_use_their_own_timing() -> None:
    text = "This utterance has no word timings at all, so its text is wrapped over its own time span."
    j = job([utterance([], text=text, start=2.0, end=8.0)])
    cues = parse_srt(formats.render(j, "srt", pretty=False))
    check_cues(cues, max_chars=42, max_lines=2, audio_end=None)
    assert cue_words(cues) == text.split()
    assert cues[0].start == 2.0 and cues[-1].end == 8.0
    assert len(cues) == 2


def test_empty_results() -> None:
    empties: list[dict[str, Any]] = [job([]), {"status": "error", "error_code": 500, "result": None}, {"metadata": {}}]
    for j in empties:
        assert formats.render(j, "srt", pretty=False) == ""
        assert formats.render(j, "vtt", pretty=False) == "WEBVTT\n"
        assert formats.render(j, "text", pretty=False) == ""
        assert parse_vtt(formats.render(j, "vtt", pretty=False)) == []


# -- text --


def test_text_plain() -> None:
    j = job([utterance(spoken("Hello world.", 0.0)), utterance(spoken("Goodbye.", 2.0))])
    assert formats.render(j, "text", pretty=False) == "Hello world.\nGoodbye.\n"
    assert formats.transcript_lines(j) == ["Hello world.", "Goodbye."]


def test_text_diarized() -> None:
    j = job([utterance(spoken("Hi.", 0.0), speaker=0), utterance(spoken("Hello.", 1.0), speaker=1)])
    assert formats.render(j, "text", pretty=False) == "Speaker 0: Hi.\nSpeaker 1: Hello.\n"


def test_text_multichannel_in_time_order() -> None:
    j = job([utterance(spoken("Left late.", 3.0), channel=0), utterance(spoken("Right early.", 1.0), channel=1)])
    assert formats.render(j, "text", pretty=False) == "[ch1] Right early.\n[ch0] Left late.\n"


def test_text_code_switching() -> None:
    j = job([utterance(spoken("Hello.", 0.0), language="en"), utterance(spoken("Bonjour.", 1.0), language="fr")])
    assert formats.render(j, "text", pretty=False) == "[en] Hello.\n[fr] Bonjour.\n"
    one = job([utterance(spoken("Hello.", 0.0))], languages=["en"])
    assert formats.render(one, "text", pretty=False) == "Hello.\n"


def test_text_all_prefixes_together() -> None:
    j = job(
        [
            utterance(spoken("Hello.", 0.0), channel=0, speaker=0, language="en"),
            utterance(spoken("Salut.", 1.0), channel=1, speaker=1, language="fr"),
        ]
    )
    assert formats.render(j, "text", pretty=False) == "[ch0] [en] Speaker 0: Hello.\n[ch1] [fr] Speaker 1: Salut.\n"


def test_text_falls_back_to_full_transcript() -> None:
    j = {"result": {"transcription": {"full_transcript": " Just this. ", "languages": ["en"], "utterances": []}}}
    assert formats.render(j, "text", pretty=False) == "Just this.\n"


def test_text_of_the_reference_live_job() -> None:
    live: dict[str, Any] = {
        "id": "45463597-20b7-4af7-b3b3-f5fb778203ab",
        "status": "done",
        "kind": "live",
        "result": {
            "metadata": {"audio_duration": 344.45, "number_of_distinct_channels": 1},
            "transcription": {
                "full_transcript": "Hello world.",
                "languages": ["en"],
                "utterances": [
                    {
                        "start": 0.188,
                        "end": 1.284,
                        "confidence": 0.97,
                        "channel": 0,
                        "words": [
                            {"word": " Hello", "start": 0.188, "end": 0.735, "confidence": 0.98},
                            {"word": " world.", "start": 0.736, "end": 1.284, "confidence": 0.96},
                        ],
                        "text": " Hello world.",
                        "language": "en",
                    }
                ],
            },
            "messages": ["{}"],
        },
    }
    assert formats.render(live, "text", pretty=False) == "Hello world.\n"
    assert formats.render(live["result"], "text", pretty=False) == "Hello world.\n"
    assert formats.render(live, "srt", pretty=False) == "1\n00:00:00,188 --> 00:00:01,284\nHello world.\n"


def test_utterance_line_and_summary() -> None:
    assert formats.utterance_line("  a \n b ") == "a b"
    assert formats.utterance_line("x", channel=2, language="de", speaker=0) == "[ch2] [de] Speaker 0: x"
    assert job_json.summary_text({"result": {"summarization": {"results": " Short. "}}}) == "Short."
    assert job_json.summary_text({"result": {"summarization": {"results": None}}}) is None
    assert job_json.summary_text({"result": None}) is None


# -- JSON --


def test_json_is_the_transcription_object() -> None:
    j = job([utterance(spoken("Hello world.", 0.0), speaker=0)])
    compact = formats.render(j, "json", pretty=False)
    assert compact.endswith("\n") and compact.count("\n") == 1
    assert json.loads(compact) == j["result"]["transcription"]
    assert set(json.loads(compact)) == {"full_transcript", "languages", "utterances"}
    pretty = formats.render(j, "json", pretty=True)
    assert pretty.startswith("{\n  ") and json.loads(pretty) == j["result"]["transcription"]
    assert json.loads(formats.render(j["result"], "json", pretty=False)) == j["result"]["transcription"]
    assert json.loads(formats.render({"status": "error", "result": None}, "json", pretty=False)) is None


def test_json_full_is_the_whole_object_unchanged() -> None:
    j = job([utterance(spoken("Héllo wörld.", 0.0))])
    out = formats.render(j, "json-full", pretty=False)
    assert json.loads(out) == j
    assert "Héllo" in out  # not \u-escaped
    assert json.loads(formats.render(j, "json-full", pretty=True)) == j


def test_unknown_format() -> None:
    assert formats.FORMATS == ("text", "json", "json-full", "srt", "vtt", "md")
    with pytest.raises(ValueError, match="unknown output format"):
        formats.render(job([]), "ass", pretty=False)


# -- text: translations, summary, channels --


def test_text_puts_translations_under_their_utterance_and_the_summary_last() -> None:
    first = utterance(spoken("Hello there.", 0.0))
    second = utterance(spoken("Good morning.", 2.0))
    j = job([second, first])  # listed out of order: printed by time
    fr = [
        {**first, "text": " Bonjour. ", "language": "fr"},
        {**second, "text": "Bonjour\n le matin.", "language": "fr"},
        {**utterance(spoken("Extra.", 9.0)), "text": "En plus.", "language": "fr"},  # pairs with nothing
    ]
    de_unpaired = {"error": None, "full_transcript": "Hallo. Guten Morgen.", "languages": ["de"], "utterances": []}
    j["result"]["translation"] = {
        "success": True,
        "results": [
            {"error": None, "full_transcript": "Bonjour. Bonjour le matin.", "languages": ["fr"], "utterances": fr},
            de_unpaired,
            {"error": {"message": "failed"}, "full_transcript": "", "languages": ["es"], "utterances": []},
        ],
    }
    j["result"]["summarization"] = {"success": True, "results": "A greeting, twice.\n"}
    assert formats.render(j, "text", pretty=False).splitlines() == [
        "Hello there.",
        "  [fr] Bonjour.",
        "Good morning.",
        "  [fr] Bonjour le matin.",
        "[fr] En plus.",  # unpaired, yet not dropped
        "[de] Hallo. Guten Morgen.",  # no utterances to pair with: whole, after the transcript
        "",
        "Summary:",
        "A greeting, twice.",
    ]


def test_text_labels_channels_of_a_multichannel_session_like_the_live_view() -> None:
    """A stereo stream where only one channel spoke: `listen > a.txt` and `result ID > b.txt` must match."""
    j = job([utterance(spoken("Only left.", 0.0))], kind="live")
    assert formats.transcript_lines(j) == ["Only left."]
    j["request_params"] = {"channels": 2, "sample_rate": 16000}
    assert formats.transcript_lines(j) == [formats.utterance_line("Only left.", channel=0)] == ["[ch0] Only left."]
