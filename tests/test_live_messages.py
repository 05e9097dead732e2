"""Decoding of Gladia's live messages, without a socket: messages shaped as Gladia publishes them (the API reference
§3.3, asyncapi.yaml, the official SDKs), and the close-code rules (§3.5)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from gladia_cli.errors import ApiError, AuthError, NetworkError
from gladia_cli.live.events import AddonFailed, Entities, Sentiments, Transcript, Translation
from gladia_cli.live.messages import (
    AckEnds,
    AudioAck,
    Decoded,
    FinalResult,
    FinalsFilter,
    Refusal,
    ServerError,
    StopAck,
    Summary,
    Unreadable,
    close_error,
    decode_text,
    is_retryable,
    parse_close,
)

SID = "45463597-20b7-4af7-b3b3-f5fb778203ab"


def frame(type_: str, data: Any, **extra: Any) -> bytes:
    message = {"session_id": SID, "created_at": "2024-10-10T14:35:28.387Z", "type": type_, **extra, "data": data}
    return json.dumps(message).encode()


def decoded(data: bytes | str) -> Decoded:
    result = decode_text(data)
    assert isinstance(result, Decoded), result
    return result


UTTERANCE = {
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


def test_a_final_transcript() -> None:
    d = decoded(frame("transcript", {"id": "00_00000000", "is_final": True, "utterance": UTTERANCE}))
    assert not d.is_ack and not d.post_processing
    assert d.content == Transcript("00_00000000", 0, "Hello world.", True, 0.188, 1.284, "en")
    assert d.message["type"] == "transcript"  # the raw message, for --output jsonl


def test_a_partial_and_a_lenient_transcript() -> None:
    partial = decoded(frame("transcript", {"id": "01_00000003", "is_final": False, "utterance": UTTERANCE}))
    assert isinstance(partial.content, Transcript) and not partial.content.is_final
    # The quickstart's multi-channel examples leave out is_final, words, confidence: a final on channel 1.
    bare = decoded(frame("transcript", {"id": "01_00000000", "utterance": {"text": " Hi", "channel": 1}}))
    assert bare.content == Transcript("01_00000000", 1, "Hi", True, None, None, None)
    assert decoded(frame("transcript", None)).content is None  # `data` may be null


def test_a_translation() -> None:
    data = {
        "utterance_id": "00_00000000",
        "utterance": UTTERANCE,
        "original_language": "en",
        "target_language": "fr",
        "translated_utterance": {**UTTERANCE, "text": " Bonjour le monde.", "language": "fr"},
    }
    assert decoded(frame("translation", data, error=None)).content == Translation(
        "00_00000000", "fr", "Bonjour le monde."
    )


def test_an_addon_that_failed_is_said_by_its_name() -> None:
    d = decoded(frame("translation", None, error={"message": "no  model\n for xx"}))
    assert d.content == AddonFailed("translation", "no model for xx")
    summary = decoded(frame("post_summarization", None, error={"message": "LLM unavailable"}))
    assert summary.content == AddonFailed("summary", "LLM unavailable")
    assert summary.post_processing  # still proof that Gladia took the stop
    assert decoded(frame("sentiment_analysis", {"results": []}, error=None)).content is None


def test_another_message_with_an_error_is_a_server_error() -> None:
    d = decoded(frame("end_session", None, error={"message": "storage failed"}))
    assert d.content == ServerError("end_session", "storage failed")


def test_entities_and_sentiments_of_an_utterance() -> None:
    ner = {
        "utterance_id": "00_3",
        "results": [{"entity_type": "NAME_GIVEN", "text": " Sasha ", "start": 7.6, "end": 8.0}, {"text": ""}],
    }
    assert decoded(frame("named_entity_recognition", ner, error=None)).content == Entities(
        "00_3", (("Sasha", "NAME_GIVEN"),)
    )
    mood = {"utterance_id": "00_4", "results": [{"sentiment": "positive", "emotion": "positive_surprise"}]}
    assert decoded(frame("sentiment_analysis", mood, error=None)).content == Sentiments(
        "00_4", (("positive", "positive_surprise"),)
    )


def test_an_audio_ack_keeps_its_byte_range_as_sent() -> None:
    sdk = decoded(
        frame("audio_chunk", {"byte_range": [3200, 6400], "time_range": [0.1, 0.2]}, acknowledged=True, error=None)
    )
    assert sdk.is_ack and sdk.content == AudioAck(3200, 6400)
    asyncapi = decoded(frame("audio_chunk", {"byte_range": [0, 4095], "time_range": [0.0, 0.256]}, acknowledged=True))
    assert asyncapi.content == AudioAck(0, 4095)
    assert decoded(frame("audio_chunk", {"byte_range": "0-4095"}, acknowledged=True)).content is None


def test_a_refused_audio_chunk() -> None:
    error = {"message": "Invalid audio chunk: data.chunk must be base64-encoded audio"}
    d = decoded(frame("audio_chunk", None, acknowledged=False, error=error))
    assert d.is_ack
    assert d.content == Refusal("audio_chunk", error["message"])
    assert isinstance(d.content, Refusal) and not d.content.stop_already_taken


def test_the_stop_ack() -> None:
    data = {"recording_duration": 344.45, "recording_left_to_process": 11.23}
    d = decoded(frame("stop_recording", data, acknowledged=True, error=None))
    assert d.is_ack and d.content == StopAck(11.23)
    assert decoded(frame("stop_recording", {}, acknowledged=True)).content == StopAck(None)  # AsyncAPI: data {}


def test_a_repeated_stop_refused_as_already_stopped_means_the_stop_was_taken() -> None:
    # asyncapi.yaml, StopRecordingAckMessage example
    asyncapi = {"status_code": 409, "exception": "ConflictError", "message": "Recording already stopped"}
    d = decoded(frame("stop_recording", {}, acknowledged=False, error=asyncapi))
    assert d.content == Refusal("stop_recording", "Recording already stopped", 409)
    assert isinstance(d.content, Refusal) and d.content.stop_already_taken
    # The OpenAPI schema's error has a message only.
    plain = decoded(frame("stop_recording", None, acknowledged=False, error={"message": "Recording already stopped"}))
    assert isinstance(plain.content, Refusal) and plain.content.stop_already_taken
    other = decoded(frame("stop_recording", None, acknowledged=False, error={"message": "Session not found"}))
    assert isinstance(other.content, Refusal) and not other.content.stop_already_taken
    nothing = decoded(frame("stop_recording", None, acknowledged=False, error=None))
    assert nothing.content == Refusal("stop_recording", "no reason given")


@pytest.mark.parametrize(
    "kind", ["end_recording", "post_transcript", "post_summarization", "post_chapterization", "end_session"]
)
def test_post_processing_markers(kind: str) -> None:
    assert decoded(frame(kind, {"recording_duration": 3.0})).post_processing
    assert not decoded(frame("start_recording", None)).post_processing
    assert not decoded(frame("speech_start", {"time": 0.12, "channel": 0})).post_processing


def test_final_result_and_summary() -> None:
    result = {
        "metadata": {"audio_duration": 344.45, "number_of_distinct_channels": 1},
        "transcription": {"full_transcript": "Hello world.", "languages": ["en"], "utterances": []},
    }
    d = decoded(frame("post_final_transcript", result))
    assert d.post_processing and d.content == FinalResult(result)
    summary = decoded(frame("post_summarization", {"results": " The speaker greets. "}, error=None))
    assert summary.content == Summary("The speaker greets.")
    assert decoded(frame("post_summarization", {"results": "  "}, error=None)).content is None


def test_unreadable_frames() -> None:
    assert isinstance(decode_text(b"not json"), Unreadable)
    assert isinstance(decode_text(b"[1, 2]"), Unreadable)
    unknown = decoded(frame("something_new", {"x": 1}))  # unknown types are passed through
    assert unknown.content is None and unknown.message["type"] == "something_new"


def test_finals_filter_lets_each_final_through_once() -> None:
    finals = FinalsFilter()
    partial = Transcript("00_1", 0, "Hel", False, 0.1, 0.5, "en")
    final = Transcript("00_1", 0, "Hello", True, 0.1, 0.9, "en")
    assert finals.fresh(partial) and finals.fresh(final)
    assert not finals.fresh(final)  # replayed with its id
    assert not finals.fresh(partial)  # a stale partial of a final utterance
    assert not finals.fresh(Transcript("00_1-r2", 0, "Hello", True, 0.1, 0.9, "en"))  # replayed with a new id
    assert finals.fresh(Transcript("00_1", 1, "Hello", True, 0.1, 0.9, "en"))  # the other channel


def test_close_frames() -> None:
    assert parse_close((1000).to_bytes(2, "big") + b"session ended") == (1000, "session ended")
    assert parse_close(b"") == (None, "")


@pytest.mark.parametrize(
    ("code", "retry"),
    [
        (None, True),
        (1000, False),
        (1001, False),
        (1006, True),
        (1009, True),
        (1011, True),
        (4000, True),
        (4400, False),
        (4401, False),
        (4499, False),
        (4500, True),
    ],
)
def test_which_closes_are_retried(code: int | None, retry: bool) -> None:
    assert is_retryable(code) is retry


def test_close_errors() -> None:
    assert isinstance(close_error(4401, "invalid token"), AuthError)
    assert isinstance(close_error(4404, "session already ended"), ApiError)
    assert "went away" in close_error(1001, "").message and isinstance(close_error(1001, ""), NetworkError)
    assert close_error(1011, "boom").message == "the live connection was lost (code 1011: boom)"


def test_ack_ends_half_open_as_the_sdks_read_them() -> None:
    ends = AckEnds(2)  # 16-bit mono
    assert ends.end(AudioAck(3200, 6400)) == 6400
    assert ends.inclusive is False
    assert ends.end(AudioAck(6400, 9600)) == 9600


def test_ack_ends_inclusive_as_asyncapi_writes_them() -> None:
    ends = AckEnds(2)
    assert ends.end(AudioAck(0, 4095)) == 4096  # asyncapi.yaml's example: the first 4096 bytes
    assert ends.inclusive is True
    assert AckEnds(6).end(AudioAck(0, 5)) == 6  # 24-bit stereo: one sample frame
    assert AckEnds(4).end(AudioAck(0, 4)) == 4


def test_ack_ends_trust_no_more_than_whole_samples() -> None:
    assert AckEnds(4).end(AudioAck(0, 6)) == 4


def test_one_byte_frames_learn_the_convention_from_the_first_ack_or_two_in_a_row() -> None:
    first = AckEnds(1)  # 8-bit mono: every offset is a whole sample
    assert first.end(AudioAck(0, 3199), first_frame=3200) == 3200
    assert first.inclusive is True
    assert first.end(AudioAck(6400, 9599)) == 9600  # later acks, even non-contiguous ones, follow
    half_open = AckEnds(1)
    assert half_open.end(AudioAck(0, 3200), first_frame=3200) == 3200
    assert half_open.end(AudioAck(3200, 6400)) == 6400 and half_open.inclusive is False
    resumed = AckEnds(1)  # attached mid-session: the first ack seen says nothing, the next one does
    assert resumed.end(AudioAck(6400, 9599)) == 9599  # the SDKs' reading until learnt: at worst one byte resent
    assert resumed.end(AudioAck(9600, 12799)) == 12800 and resumed.inclusive is True
