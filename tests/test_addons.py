"""Add-ons end to end (issue 11): flags that ask for them, what they show, and a failed add-on said once on stderr."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_runner import invoke, one_line_error
from emulator import GladiaEmulator
from wavs import write_wav

from gladia_cli.errors import ExitCode

FINALS = ["Hello world.", "This is the Gladia emulator.", "Goodbye."]


def realtime(capsys: pytest.CaptureFixture[str], wav: Path, *flags: str):  # type: ignore[no-untyped-def]
    return invoke(capsys, "transcribe", str(wav), "--realtime", "--speed", "0", *flags)


def stderr_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


@pytest.fixture
def wav(tmp_path: Path) -> Path:
    path, _ = write_wav(tmp_path / "talk.wav", 3.0)
    return path


# --- live ---------------------------------------------------------------------------------------------------------


def test_live_ner_and_sentiment_lines_follow_their_utterance(api_env: GladiaEmulator, wav: Path, capsys) -> None:
    result = realtime(capsys, wav, "--ner", "--sentiment")
    assert result.code == 0, result.stderr
    rt = api_env.init_requests[0].body["realtime_processing"]
    assert rt["named_entity_recognition"] is True and rt["sentiment_analysis"] is True
    lines = result.stdout.splitlines()
    gladia = lines.index("This is the Gladia emulator.")
    assert lines[gladia + 1 : gladia + 3] == ["  [entities] Gladia (ORGANIZATION)", "  [sentiment] neutral (neutral)"]
    assert [line for line in lines if not line.startswith("  ")] == FINALS


def test_chapterize_is_deprecated_with_one_notice_and_not_sent(api_env: GladiaEmulator, wav: Path, capsys) -> None:
    """Gladia's 2026 schema marks live chapters "ignored" and the file field is gone: the flag still runs, says so."""
    result = realtime(capsys, wav, "--chapterize")
    assert result.code == 0, result.stderr
    assert "chapterization" not in api_env.init_requests[0].body.get("post_processing", {})
    notices = [line for line in stderr_lines(result.stderr) if "chapter" in line]
    assert notices == [
        "gladia: --chapterize is ignored: Gladia no longer makes chapters (its API dropped them in 2026)"
    ]
    assert result.stdout.splitlines() == FINALS


def test_live_chapterization_in_config_is_sent_with_a_warning(
    api_env: GladiaEmulator, wav: Path, tmp_path: Path, capsys
) -> None:
    config = tmp_path / "c.json"
    config.write_text('{"post_processing": {"chapterization": true}}')
    result = realtime(capsys, wav, "--config", str(config))
    assert result.code == 0, result.stderr
    assert api_env.init_requests[0].body["post_processing"]["chapterization"] is True  # in the schema, ignored
    assert any("post_processing.chapterization is ignored by Gladia" in line for line in stderr_lines(result.stderr))
    assert "Chapters:" not in result.stdout


@pytest.mark.parametrize(
    "field", ["chapterization", "name_consistency", "moderation", "structured_data_extraction", "context_prompt"]
)
def test_fields_gladia_removed_are_refused_for_files(
    api_env: GladiaEmulator, wav: Path, tmp_path: Path, capsys, field: str
) -> None:
    config = tmp_path / "c.json"
    config.write_text(f'{{"{field}": true}}')
    result = invoke(capsys, "transcribe", str(wav), "--config", str(config))
    assert result.code == ExitCode.USAGE
    line = one_line_error(result)
    assert f"{field} is no longer a Gladia option" in line and f"remove {field}" in line
    assert not api_env.prerecorded.uploads


def test_the_emulator_refuses_removed_fields_as_gladia_does(api_env: GladiaEmulator) -> None:
    import requests

    answer = requests.post(
        f"{api_env.base_url}/v2/pre-recorded",
        json={"audio_url": "http://127.0.0.1:1/a.wav", "chapterization": True},
        headers={"x-gladia-key": "test-key"},
        timeout=10,
    )
    assert answer.status_code in (400, 422) and "property chapterization should not exist" in answer.text


@pytest.mark.parametrize(
    ("flags", "addon", "line"),
    [
        (("--translate", "fr"), "translation", "translation failed: no model for fr"),
        (("--summarize",), "summarization", "summary failed: no model for fr"),
        (("--ner",), "named_entity_recognition", "named entity recognition failed: no model for fr"),
        (("--sentiment",), "sentiment_analysis", "sentiment analysis failed: no model for fr"),
    ],
)
def test_a_failed_live_addon_is_said_once_with_gladias_message(
    api_env: GladiaEmulator, wav: Path, capsys, flags: tuple[str, ...], addon: str, line: str
) -> None:
    api_env.addon_failures = {addon: "no model for fr"}
    result = realtime(capsys, wav, *flags)
    assert result.code == 0, result.stderr
    assert result.stdout.splitlines()[: len(FINALS)] == FINALS
    said = [each for each in stderr_lines(result.stderr) if "failed" in each]
    assert said == [f"gladia: {line}"], result.stderr  # once, though every utterance's message carried it


def test_a_failed_addon_is_said_with_json_output_too(api_env: GladiaEmulator, wav: Path, capsys) -> None:
    api_env.addon_failures = {"summarization": "LLM unavailable"}
    result = realtime(capsys, wav, "--summarize", "-o", "json-full")
    assert result.code == 0, result.stderr
    assert "gladia: summary failed: LLM unavailable" in stderr_lines(result.stderr)


def test_an_unknown_live_model_is_sent_with_a_warning_and_gladia_decides(
    api_env: GladiaEmulator, wav: Path, capsys
) -> None:
    result = realtime(capsys, wav, "--model", "solaria-9")
    assert api_env.init_requests[0].body["model"] == "solaria-9"  # sent, not refused locally
    warning = stderr_lines(result.stderr)[0]
    assert warning.startswith("gladia: model 'solaria-9' is not one this version knows") and "sending it" in warning
    assert result.code == ExitCode.API  # the emulator, like Gladia today, answers 422
    assert "solaria-1" in one_line_error(result)


def test_a_known_new_translation_model_passes_without_warning(
    api_env: GladiaEmulator, wav: Path, tmp_path: Path, capsys
) -> None:
    config = tmp_path / "c.json"
    config.write_text('{"realtime_processing": {"translation_config": {"model": "batch"}}}')
    result = realtime(capsys, wav, "--translate", "fr", "--config", str(config))
    assert result.code == 0, result.stderr
    assert "not one this version knows" not in result.stderr
    assert api_env.init_requests[0].body["realtime_processing"]["translation_config"]["model"] == "batch"


# --- pre-recorded and result ----------------------------------------------------------------------------------------


@pytest.mark.slow  # seconds of its own: out of the inner loop
def test_prerecorded_addon_failure_is_said_and_result_says_it_again(api_env: GladiaEmulator, wav: Path, capsys) -> None:
    api_env.prerecorded.addon_failures = {"summarization": "LLM unavailable"}
    result = invoke(capsys, "transcribe", str(wav), "--summarize")
    assert result.code == 0, result.stderr
    assert "gladia: summary failed: LLM unavailable" in stderr_lines(result.stderr)
    (job_id,) = list(api_env.prerecorded.jobs)
    again = invoke(capsys, "result", job_id)
    assert again.code == 0, again.stderr
    assert stderr_lines(again.stderr) == ["gladia: summary failed: LLM unavailable"]


@pytest.mark.slow  # seconds of its own: out of the inner loop
def test_solaria_fusion_is_accepted_for_files(api_env: GladiaEmulator, wav: Path, capsys) -> None:
    result = invoke(capsys, "transcribe", str(wav), "--model", "solaria-fusion")
    assert result.code == 0, result.stderr
    assert [line for line in result.stderr.splitlines() if "fetches it again" not in line] == []  # no warning
    assert api_env.prerecorded.created_bodies()[0]["model"] == "solaria-fusion"


@pytest.mark.parametrize("model", ["solaria-3", "solaria-fusion"])
def test_a_file_only_model_is_refused_for_a_live_session_before_any_request(
    api_env: GladiaEmulator, wav: Path, capsys, model: str
) -> None:
    result = realtime(capsys, wav, "--model", model)
    assert result.code == ExitCode.USAGE
    assert "for files (pre-recorded), not live" in one_line_error(result)
    assert api_env.init_requests == []


def test_file_addons_are_shown_in_text_and_json_as_live_does(
    api_env: GladiaEmulator, wav: Path, tmp_path: Path, capsys
) -> None:
    """--ner, --sentiment and audio_to_llm (by --config) for a file: their results after the transcript, and in
    `-o json` beside the transcription, not only in json-full."""
    api_env.prerecorded.polls_before_done = 0
    api_env.prerecorded.utterances = list(FINALS)
    config = tmp_path / "llm.json"
    config.write_text('{"audio_to_llm": true, "audio_to_llm_config": {"prompts": ["Who spoke?"]}}')
    result = invoke(capsys, "transcribe", str(wav), "--ner", "--sentiment", "--config", str(config))
    assert result.code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[: len(FINALS)] == FINALS
    tail = lines[len(FINALS) :]
    assert tail[:3] == ["", "Named entities:", "  [00:01] Gladia (ORGANIZATION)"], tail
    assert "Sentiment: neutral" in tail
    assert tail[-2:] == ["Q: Who spoke?", "A: 3 utterances; the first: Hello world."]
    as_json = invoke(capsys, "transcribe", str(wav), "--ner", "--sentiment", "--config", str(config), "-o", "json")
    data = json.loads(as_json.stdout)
    assert [u["text"].strip() for u in data["utterances"]] == FINALS
    assert data["named_entities"][0]["text"] == "Gladia" and data["sentiment"] == "neutral"
    assert data["answers"] == [{"prompt": "Who spoke?", "response": "3 utterances; the first: Hello world."}]


def test_the_readers_take_both_shapes_of_a_sentiment_result() -> None:
    from gladia_cli.output.transcript import render

    listed = {
        "result": {
            "transcription": {"utterances": []},
            "sentiment_analysis": {"results": [{"sentiment": "positive", "emotion": "elation", "text": "Great!"}]},
        }
    }
    assert render(listed, "text", pretty=False).splitlines()[-2:] == ["Sentiment:", "  positive (elation): Great!"]
