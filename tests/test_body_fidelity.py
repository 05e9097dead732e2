"""The request bodies against Gladia's published schemas (issue 11): open lists, metadata length, vocabulary merge.

Each body the library builds here with known values also passes the emulator's validator, which follows the schema:
what we let through, Gladia takes.
"""

from __future__ import annotations

import json
import re

import pytest

if __package__:
    from .emulator import validate_live_request
    from .emulator_prerecorded import validate_prerecorded_request
else:
    from emulator import validate_live_request
    from emulator_prerecorded import validate_prerecorded_request

from gladia_cli.audio.format import PcmFormat
from gladia_cli.body import metadata_length
from gladia_cli.errors import UsageError
from gladia_cli.live.body import LiveOptions, build_body, unknown_values
from gladia_cli.prerecorded.body import build_prerecorded_body, unknown_prerecorded_values

FMT = PcmFormat(sample_rate=16000, channels=1, bit_depth=16, encoding="wav/pcm")


def live(**kwargs: object) -> dict:
    body = build_body(LiveOptions(**kwargs), FMT)  # type: ignore[arg-type]
    if not unknown_values(body):
        assert validate_live_request(body) == []
    return body


def pre(**kwargs: object) -> dict:
    body = build_prerecorded_body("https://x.test/a.wav", **kwargs)  # type: ignore[arg-type]
    if not unknown_prerecorded_values(body):
        assert validate_prerecorded_request(body) == []
    return body


@pytest.mark.parametrize("model", ["solaria-1", "solaria-3", "solaria-fusion"])
def test_prerecorded_models_of_the_schema_are_known(model: str) -> None:
    body = pre(model=model, languages=["en"])
    assert body["model"] == model
    assert unknown_prerecorded_values(body) == []


def test_batch_translation_model_is_known_in_both_apis() -> None:
    body = live(translate=["fr"], base={"realtime_processing": {"translation_config": {"model": "batch"}}})
    assert body["realtime_processing"]["translation_config"]["model"] == "batch"
    assert unknown_values(body) == []
    prerec = pre(translate=["fr"], base={"translation_config": {"model": "batch"}})
    assert unknown_prerecorded_values(prerec) == []


def test_an_unknown_model_is_sent_with_a_warning_not_refused() -> None:
    body = live(model="solaria-2")
    assert body["model"] == "solaria-2"
    (warning,) = unknown_values(body)
    assert "solaria-2" in warning and "solaria-1" in warning and "sending it" in warning
    other = pre(model="solaria-9")
    assert [w for w in unknown_prerecorded_values(other) if "solaria-9" in w]
    tr = live(translate=["fr"], base={"realtime_processing": {"translation_config": {"model": "turbo"}}})
    assert ["translation model 'turbo'" in w for w in unknown_values(tr)] == [True]


@pytest.mark.parametrize("model", ["", "  ", 3, None, ["solaria-1"]])
def test_a_model_that_is_not_a_name_is_still_refused(model: object) -> None:
    with pytest.raises(UsageError, match="model must be a name"):
        live(base={"model": model})
    with pytest.raises(UsageError, match="model must be a name"):
        pre(base={"model": model})


def test_metadata_is_measured_as_compact_utf8_json() -> None:
    metadata = {"note": "é" * 1_900}  # 1,911 characters as Gladia counts; 11,400+ in Python's default dump
    assert metadata_length(metadata) == len('{"note":""}') + 1_900
    assert live(base={"custom_metadata": metadata})["custom_metadata"] == metadata
    assert pre(base={"custom_metadata": metadata})
    too_long = {"note": "é" * 1_990}
    with pytest.raises(UsageError, match="longer than 2000"):
        live(base={"custom_metadata": too_long})


def test_vocabulary_flag_merges_with_the_config_entries_and_default_intensity() -> None:
    config = {
        "custom_vocabulary_config": {
            "default_intensity": 0.3,
            "vocabulary": [{"value": "Gladia", "intensity": 0.9, "pronunciations": ["gladya"]}, "Solaria"],
        }
    }
    body = live(vocabulary=["Gladia", "Rich"], base={"realtime_processing": config})
    merged = body["realtime_processing"]["custom_vocabulary_config"]
    assert merged["default_intensity"] == 0.3
    assert merged["vocabulary"] == [
        {"value": "Gladia", "intensity": 0.9, "pronunciations": ["gladya"]},
        "Solaria",
        "Rich",
    ]
    assert body["realtime_processing"]["custom_vocabulary"] is True
    prerec = pre(vocabulary=["Gladia", "Rich"], base=json.loads(json.dumps(config)))
    assert prerec["custom_vocabulary_config"] == merged


@pytest.mark.parametrize(
    ("entry", "needle"),
    [({"value": "x", "intensity": 2}, "intensity"), ({"value": "x", "language": "xx"}, "'xx'"), ({"v": 1}, "entry")],
)
def test_live_vocabulary_entries_are_checked_like_prerecorded_ones(entry: dict, needle: str) -> None:
    base = {"realtime_processing": {"custom_vocabulary": True, "custom_vocabulary_config": {"vocabulary": [entry]}}}
    with pytest.raises(UsageError, match=needle):
        live(base=base)


def test_addon_errors_name_each_failed_addon_with_gladias_message() -> None:
    from gladia_cli.output.job_json import addon_errors

    failed = {"status_code": 500, "exception": "AddonError", "message": "LLM  unavailable\n"}
    job = {
        "result": {
            "transcription": {"full_transcript": "hi", "utterances": []},
            "summarization": {"success": False, "is_empty": True, "error": failed, "results": None},
            "named_entity_recognition": {"success": True, "is_empty": True, "error": None, "results": []},
            "translation": {
                "success": True,
                "error": None,
                "results": [
                    {"error": None, "languages": ["fr"], "full_transcript": "salut", "utterances": []},
                    {"error": {"message": "no model for xx"}, "languages": ["de"], "utterances": []},
                ],
            },
            "chapterization": {"success": False, "error": "timed out", "results": None},
        }
    }
    assert addon_errors(job) == [
        "translation into de failed: no model for xx",
        "summary failed: LLM unavailable",
        "chapters failed: timed out",
    ]
    assert addon_errors({"result": {"transcription": {}}}) == []


def test_addon_flags_ask_for_the_addons_in_both_bodies() -> None:
    body = live(ner=True, sentiment=True)
    assert body["realtime_processing"]["named_entity_recognition"] is True
    assert body["realtime_processing"]["sentiment_analysis"] is True
    assert "chapterization" not in body.get("post_processing", {})  # gone from Gladia's API: never asked for
    prerec = pre(ner=True, sentiment=True)
    assert (prerec["named_entity_recognition"], prerec["sentiment_analysis"]) == (True, True)
    assert "chapterization" not in prerec


@pytest.mark.parametrize("wrapped", [False, True])
def test_chapters_follow_the_transcript_in_text_output(wrapped: bool) -> None:
    from gladia_cli.output.transcript import render

    found = [
        {"headline": "Greetings", "start": 0.2, "end": 10.5},
        {"gist": "Plans  for\nQ2", "start": 65, "end": 3725.9},
    ]
    job = {
        "result": {
            "transcription": {"full_transcript": "Hello.", "utterances": [{"text": "Hello.", "start": 0, "end": 1}]},
            "chapterization": {"success": True, "error": None, "results": {"chapters": found} if wrapped else found},
        }
    }
    assert render(job, "text", pretty=False) == (
        "Hello.\n\nChapters:\n[00:00-00:10] Greetings\n[01:05-1:02:05] Plans for Q2\n"
    )


@pytest.mark.parametrize(
    ("config", "line"),
    [
        ({"diarization": True}, "diarization is a pre-recorded (file) setting"),
        ({"translation": True}, "for a live session, use realtime_processing.translation"),
        ({"custom_metadata": "notobject"}, "custom_metadata must be a JSON object"),
        ({"callback": True}, "callback needs callback_config.url"),
        ({"callback": True, "callback_config": {"url": "ftp://x"}}, "callback_config.url must be an http(s) URL"),
        ({"realtime_processing": {"custom_spelling": True}}, "custom_spelling_config.spelling_dictionary"),
    ],
)
def test_the_live_body_is_checked_as_strictly_as_the_file_one(config: dict, line: str) -> None:
    """What the issue sent as is: refused in one line before any request; Gladia's schema refuses it too."""
    from gladia_cli.errors import UsageError

    with pytest.raises(UsageError, match=re.escape(line)):
        build_body(LiveOptions(base=config), FMT)
    if "diarization" not in config and "translation" not in config:  # the emulator ignores unknown top-level keys
        assert validate_live_request({**config}) != []


def test_a_valid_live_callback_and_spelling_pass() -> None:
    body = live(
        base={
            "callback": True,
            "callback_config": {"url": "https://127.0.0.1:9/hooks/gladia"},
            "custom_metadata": {"call": "42"},
            "realtime_processing": {
                "custom_spelling": True,
                "custom_spelling_config": {"spelling_dictionary": {"SQL": ["sequel"]}},
            },
        }
    )
    assert body["callback_config"]["url"] == "https://127.0.0.1:9/hooks/gladia"
