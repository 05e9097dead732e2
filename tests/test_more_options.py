"""Gladia's features reachable without writing JSON (issue 21): each new flag seen at the emulator in the body Gladia
documents, refused in one line out of the schema's bounds, saved by `gladia config`, and in help and completion."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_runner import invoke, one_line_error
from emulator import GladiaEmulator
from wavs import write_wav

from gladia_cli.errors import ExitCode


@pytest.fixture
def wav(tmp_path: Path) -> Path:
    path, _ = write_wav(tmp_path / "a.wav", 1.0)
    return path


def test_file_options_reach_gladia_as_its_schema_says(api_env: GladiaEmulator, wav: Path, capsys) -> None:
    api_env.prerecorded.polls_before_done = 0
    result = invoke(
        capsys,
        "transcribe",
        str(wav),
        "--metadata", "call=42", "--metadata", "team=support",
        "--spelling", "sequel=SQL", "--spelling", "gladya=Gladia",
        "--translate", "fr", "--translation-model", "enhanced", "--translation-context", "a support call", "--informal",
        "--prompt", "Who called?", "--prompt", "What was decided?",
        "--redact-pii", "GDPR,email_address", "--pii-style", "mask",
        "--callback-url", "http://127.0.0.1:9/hook", "--callback-method", "PUT",
    )  # fmt: skip
    assert result.code == 0, result.stderr  # the emulator validates the body as Gladia's schema does
    body = api_env.prerecorded.created_bodies()[0]
    assert body["custom_metadata"] == {"call": "42", "team": "support"}
    assert body["custom_spelling"] is True
    assert body["custom_spelling_config"] == {"spelling_dictionary": {"SQL": ["sequel"], "Gladia": ["gladya"]}}
    translation = body["translation_config"]
    assert translation["model"] == "enhanced" and translation["context"] == "a support call"
    assert translation["context_adaptation"] is True and translation["informal"] is True
    assert body["audio_to_llm"] is True
    assert body["audio_to_llm_config"]["prompts"] == ["Who called?", "What was decided?"]
    assert body["pii_redaction"] is True
    assert body["pii_redaction_config"] == {"entity_types": ["GDPR", "EMAIL_ADDRESS"], "processed_text_type": "MASK"}
    assert body["callback"] is True and body["callback_config"] == {"url": "http://127.0.0.1:9/hook", "method": "PUT"}
    assert result.stdout.count("Q: ") == 2  # the answers printed after the transcript


def test_live_options_reach_gladia_as_its_schema_says(api_env: GladiaEmulator, wav: Path, capsys) -> None:
    result = invoke(
        capsys,
        "transcribe", str(wav), "--realtime", "--speed", "0",
        "--metadata", "call=42", "--spelling", "sequel=SQL",
        "--max-utterance", "5", "--speech-threshold", "0.8", "--audio-enhancer",
        "--translate", "de", "--translation-model", "base", "--formal",
    )  # fmt: skip
    assert result.code == 0, result.stderr
    body = api_env.init_requests[0].body
    assert body["custom_metadata"] == {"call": "42"}
    assert body["maximum_duration_without_endpointing"] == 5
    assert body["pre_processing"] == {"speech_threshold": 0.8, "audio_enhancer": True}
    rt = body["realtime_processing"]
    assert rt["custom_spelling"] is True and rt["custom_spelling_config"]["spelling_dictionary"] == {"SQL": ["sequel"]}
    assert rt["translation_config"]["model"] == "base" and rt["translation_config"]["informal"] is False


@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (("--realtime", "--max-utterance", "2"), ("maximum_duration_without_endpointing", "5 to 60")),
        (("--realtime", "--speech-threshold", "2"), ("speech_threshold", "0 to 1")),
        (("--metadata", "novalue"), ("--metadata takes KEY=VALUE", "--metadata call=42")),
        (("--spelling", "sequel="), ("nothing to write instead",)),
        (("--translation-context", "x"), ("translation options need target languages", "add --translate")),
        (("--translation-model", "huge", "--translate", "fr"), ("--translation-model", "huge")),
        (("--realtime", "--prompt", "Who?"), ("--prompt applies to pre-recorded transcription only",)),
        (("--realtime", "--callback-url", "http://127.0.0.1:9/x"), ("--callback-url applies to pre-recorded",)),
        (("--max-utterance", "5"), ("--max-utterance applies to live transcription only", "add --realtime")),
        (("--callback-url", "ftp://x"), ("callback_config.url must be an http(s) URL",)),
        (("--pii-style", "blur"), ("--pii-style", "blur")),
    ],
)
def test_out_of_bounds_is_one_line_before_any_request(
    api_env: GladiaEmulator, wav: Path, capsys, args: tuple[str, ...], needles: tuple[str, ...]
) -> None:
    result = invoke(capsys, "transcribe", str(wav), *args)
    assert result.code == ExitCode.USAGE, result.stderr
    line = one_line_error(result)
    for needle in needles:
        assert needle in line, line
    assert not api_env.prerecorded.uploads and not api_env.init_requests


def test_the_new_options_are_saved_completed_and_shown(api_env: GladiaEmulator, wav: Path, capsys) -> None:
    saved = invoke(capsys, "config", "set", "max-utterance", "5")
    assert saved.code == 0, saved.stderr
    result = invoke(capsys, "transcribe", str(wav), "--realtime", "--speed", "0")
    assert result.code == 0, result.stderr
    assert api_env.init_requests[0].body["maximum_duration_without_endpointing"] == 5
    api_env.prerecorded.polls_before_done = 0
    assert invoke(capsys, "transcribe", str(wav)).code == 0  # a live-only default does not reach a file
    scripts = {s: (Path(__file__).parent.parent / "completions" / f"gladia.{s}").read_text() for s in ("bash", "fish")}
    for name in ("--translation-model", "--pii-style", "--max-utterance", "--prompt", "--spelling"):
        assert all(name in text for text in scripts.values()), name
    assert "enhanced" in scripts["bash"] and "mask" in scripts["bash"]
    helped = invoke(capsys, "listen", "--help").stdout
    assert "--max-utterance" in helped and "--prompt" not in helped


def test_list_filters_are_sent_as_the_sdks_send_them_and_kept_either_way(
    api_env: GladiaEmulator, wav: Path, capsys
) -> None:
    """`status[]` and `custom_metadata[key]=value` as both SDKs send them (the docs page shows the metadata as JSON:
    the emulator reads both), dates as after_date/before_date; what comes back is checked again locally."""
    api_env.prerecorded.polls_before_done = 0
    tagged = invoke(capsys, "transcribe", str(wav), "--metadata", "call=42", "-o", "json-full")
    plain = invoke(capsys, "transcribe", str(wav), "-o", "json-full")
    assert tagged.code == plain.code == 0
    tagged_id = json.loads(tagged.stdout)["id"]
    listed = invoke(capsys, "list", "--kind", "pre-recorded", "--metadata", "call=42", "--status", "done", "--json")
    assert listed.code == 0, listed.stderr
    assert [job["id"] for job in json.loads(listed.stdout)] == [tagged_id]
    query = api_env.prerecorded.list_queries[-1]
    assert query.getall("status[]") == ["done"] and query.get("custom_metadata[call]") == "42"
    future = invoke(capsys, "list", "--since", "2999-01-01", "--json")
    assert future.code == 0 and json.loads(future.stdout) == []
    bad = invoke(capsys, "list", "--since", "yesterday")
    assert bad.code == ExitCode.USAGE and "--since takes a date or a time" in one_line_error(bad)
    with __import__("gladia_cli").Client() as client:
        assert [r.id for r in client.jobs("pre-recorded", metadata={"call": 42})] == [tagged_id]
