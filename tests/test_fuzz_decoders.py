"""Property-based fuzzing of every decoder of server data: whatever Gladia (or a hostile proxy) sends, decoding
gives a value or an `Unreadable`, and rendering gives text; nothing raises, so no thread dies of a message."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gladia_cli.live.messages import Decoded, Unreadable, decode_text
from gladia_cli.output import transcript as formats

TYPES = [
    "transcript",
    "translation",
    "named_entity_recognition",
    "sentiment_analysis",
    "speech_start",
    "speech_end",
    "audio_chunk",
    "stop_recording",
    "post_transcript",
    "post_final_transcript",
    "post_summarization",
    "post_chapterization",
    "start_session",
    "end_session",
    "error",
    "something_new",
]
NASTY_NUMBERS = st.sampled_from([math.nan, math.inf, -math.inf, 1e308, -1e308, 2**64, -1, 0.5, True, 10**30])
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), NASTY_NUMBERS, st.text(max_size=20))
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=5)),
    max_leaves=25,
)
FIELDS = ["utterance", "id", "is_final", "channel", "start", "end", "text", "language", "byte_range", "results",
          "translated_utterance", "utterance_id", "target_language", "time", "recording_left_to_process", "words",
          "chapters", "summarization", "transcription", "utterances"]  # fmt: skip


def _payload() -> st.SearchStrategy[dict[str, Any]]:
    return st.dictionaries(st.sampled_from(FIELDS), VALUES, max_size=6)


MESSAGES = st.fixed_dictionaries(
    {"type": st.sampled_from(TYPES), "data": st.one_of(_payload(), VALUES)},
    optional={
        "acknowledged": st.one_of(st.booleans(), VALUES),
        "error": st.one_of(st.none(), VALUES, st.fixed_dictionaries({"message": VALUES, "status_code": VALUES})),
        "session_id": VALUES,
    },
)
# A transcript-shaped utterance whose every field may be nasty.
UTTERANCE = st.fixed_dictionaries(
    {},
    optional={
        "text": VALUES,
        "start": st.one_of(NASTY_NUMBERS, VALUES),
        "end": st.one_of(NASTY_NUMBERS, VALUES),
        "channel": st.one_of(NASTY_NUMBERS, VALUES),
        "speaker": VALUES,
        "language": VALUES,
        "words": VALUES,
    },
)


def _dumps(message: Any) -> str:
    return json.dumps(message, allow_nan=True)  # NaN/Infinity as a careless server writes them


@pytest.mark.slow  # seconds of its own: out of the inner loop
@settings(max_examples=400, deadline=None)
@given(MESSAGES)
def test_any_message_decodes_or_is_unreadable(message: dict[str, Any]) -> None:
    decoded = decode_text(_dumps(message))
    assert isinstance(decoded, (Decoded, Unreadable))


@settings(max_examples=200, deadline=None)
@given(UTTERANCE, st.booleans())
def test_transcripts_with_nasty_numbers(utterance: dict[str, Any], final: bool) -> None:
    decoded = decode_text(
        _dumps({"type": "transcript", "data": {"id": "u", "is_final": final, "utterance": utterance}})
    )
    assert isinstance(decoded, (Decoded, Unreadable))
    content = getattr(decoded, "content", None)
    if content is not None:
        assert 0 <= content.channel <= 255
        for value in (content.start, content.end):
            assert value is None or math.isfinite(value)


def test_non_json_constants_and_deep_nesting_are_unreadable() -> None:
    for text in ('{"type": "transcript", "data": NaN}', '{"x": Infinity}', "[" * 100_000 + "]" * 100_000):
        assert isinstance(decode_text(text), Unreadable)
    assert isinstance(decode_text(b"\xff\xfe not utf-8"), Unreadable)


@settings(max_examples=150, deadline=None)
@given(st.lists(UTTERANCE, max_size=5), st.sampled_from(list(formats.FORMATS)), VALUES)
def test_any_result_renders_in_every_format(utterances: list[Any], fmt: str, chapters: Any) -> None:
    job = {
        "id": "j",
        "status": "done",
        "result": {
            "metadata": {"audio_duration": 1e308},
            "transcription": {"utterances": utterances, "full_transcript": "x"},
            "chapterization": {"success": True, "results": chapters},
            "translation": {"results": chapters},
        },
    }
    assert isinstance(formats.render(job, fmt, pretty=False), str)


def test_a_large_result_is_rendered_in_pieces_that_join_to_the_whole() -> None:
    """`gladia result` writes `render_chunks` as they come: many pieces, never one string of the whole output."""
    utterances = [{"text": f" w{i}", "start": i * 0.5, "end": i * 0.5 + 0.4, "channel": 0} for i in range(3000)]
    job = {"id": "x", "status": "done", "result": {"transcription": {"utterances": utterances}}}
    for fmt in formats.FORMATS:
        pieces = list(formats.render_chunks(job, fmt, pretty=False))
        assert "".join(pieces) == formats.render(job, fmt, pretty=False)
        assert len(pieces) > 1 and max(len(p) for p in pieces) < 70_000, fmt
