"""The live path end to end: the real CLI against the loopback Gladia emulator, asserting on what it received."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cli_runner import invoke, one_line_error, run
from emulator import GladiaEmulator
from wavs import sha256, write_wav

from gladia_cli.errors import ExitCode

EMULATOR_FINALS = ["Hello world.", "This is the Gladia emulator.", "Goodbye."]


def env_for(emulator: GladiaEmulator, home: Path, **extra: str) -> dict[str, str]:
    return {
        "GLADIA_API_KEY": "test-key",
        "GLADIA_API_URL": emulator.base_url,
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        **extra,
    }


# --- the happy path ------------------------------------------------------------------------------------------------


def test_realtime_file_sends_exact_pcm_and_prints_finals(api_env: GladiaEmulator, tmp_path: Path, capsys) -> None:
    wav, pcm = write_wav(tmp_path / "a.wav", 3.0)
    result = invoke(capsys, "transcribe", str(wav), "--realtime", "--speed", "0", "-l", "en", "--chunk-ms", "100")
    assert result.code == 0, result.stderr
    assert result.stdout.splitlines() == EMULATOR_FINALS
    session = api_env.only_session()
    assert sha256(session.audio) == sha256(pcm)
    assert session.binary_frames > 0 and session.base64_frames == 0
    assert session.stop_count == 1
    body = api_env.init_requests[0].body
    assert body["encoding"] == "wav/pcm"
    assert (body["sample_rate"], body["bit_depth"], body["channels"]) == (16000, 16, 1)
    assert body["language_config"]["languages"] == ["en"]
    assert body["messages_config"]["receive_acknowledgments"] is True
    assert api_env.init_requests[0].headers["x-gladia-key"] == "test-key"
    # ~100 ms frames: 3 s of audio is about 30 of them.
    assert 28 <= session.binary_frames <= 32


def test_unpaced_streaming_sends_one_second_frames(api_env: GladiaEmulator, tmp_path: Path, capsys) -> None:
    wav, pcm = write_wav(tmp_path / "a.wav", 3.5)
    assert invoke(capsys, "transcribe", str(wav), "--realtime", "--speed", "0").code == 0
    session = api_env.only_session()
    assert session.binary_frames == 4  # 1 s, 1 s, 1 s, 0.5 s
    assert sha256(session.audio) == sha256(pcm)


def test_frames_are_whole_samples_even_when_large(api_env: GladiaEmulator, tmp_path: Path, capsys) -> None:
    # 48 kHz, 6 channels, 16-bit: 1 s is 576,000 bytes, above the 512 KiB frame cap; a split must not cut a sample.
    wav, pcm = write_wav(tmp_path / "six.wav", 1.0, rate=48000, channels=6)
    assert invoke(capsys, "transcribe", str(wav), "--realtime", "--speed", "0").code == 0
    session = api_env.only_session()
    assert session.binary_frames == 2
    assert all(size % 12 == 0 for size in session.frame_sizes), session.frame_sizes
    assert sha256(session.audio) == sha256(pcm)


@pytest.mark.parametrize(("rate", "channels", "bits"), [(44100, 2, 24), (48000, 1, 32), (8000, 3, 16)])
def test_file_format_is_declared_as_it_is(
    api_env: GladiaEmulator, tmp_path: Path, capsys, rate: int, channels: int, bits: int
) -> None:
    wav, pcm = write_wav(tmp_path / "b.wav", 1.0, rate=rate, channels=channels, bit_depth=bits)
    result = invoke(capsys, "transcribe", str(wav), "--realtime", "--speed", "0")
    assert result.code == 0, result.stderr
    body = api_env.init_requests[0].body
    assert (body["sample_rate"], body["channels"], body["bit_depth"]) == (rate, channels, bits)
    assert sha256(api_env.only_session().audio) == sha256(pcm)


def _g711_wav(path: Path, tag: int, rate: int, payload: bytes) -> Path:
    import struct

    fmt = struct.pack("<HHIIHH", tag, 1, rate, rate, 1, 8)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(payload)) + payload
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    return path


@pytest.mark.parametrize(("tag", "encoding"), [(6, "wav/alaw"), (7, "wav/ulaw")])
def test_telephony_wav_is_declared_and_sent_as_is(
    api_env: GladiaEmulator, tmp_path: Path, capsys, tag: int, encoding: str
) -> None:
    payload = os.urandom(8000 * 2)
    wav = _g711_wav(tmp_path / "call.wav", tag, 8000, payload)
    result = invoke(capsys, "transcribe", str(wav), "--realtime", "--speed", "0")
    assert result.code == 0, result.stderr
    body = api_env.init_requests[0].body
    assert (body["encoding"], body["bit_depth"], body["sample_rate"], body["channels"]) == (encoding, 8, 8000, 1)
    assert bytes(api_env.only_session().audio) == payload


def test_unsupported_rate_is_converted_and_declared(api_env: GladiaEmulator, tmp_path: Path, capsys) -> None:
    wav, _ = write_wav(tmp_path / "c.wav", 2.0, rate=22050)
    result = invoke(capsys, "transcribe", str(wav), "--realtime", "--speed", "0")
    assert result.code == 0, result.stderr
    body = api_env.init_requests[0].body
    assert (body["sample_rate"], body["bit_depth"], body["channels"]) == (16000, 16, 1)
    received = len(api_env.only_session().audio)
    assert received % 2 == 0
    assert abs(received / 2 - 32000) <= 2


def test_duration_sends_exactly_that_much_audio(api_env: GladiaEmulator, tmp_path: Path, capsys) -> None:
    wav, pcm = write_wav(tmp_path / "d.wav", 3.0)
    result = invoke(capsys, "transcribe", str(wav), "--realtime", "--speed", "0", "--duration", "1.25")
    assert result.code == 0, result.stderr
    session = api_env.only_session()
    assert bytes(session.audio) == pcm[: 20000 * 2]
    assert session.stop_count == 1


@pytest.mark.slow  # seconds of its own: out of the inner loop
def test_json_full_output_equals_the_get_result(api_env: GladiaEmulator, tmp_path: Path, capsys) -> None:
    api_env.result_processing_polls = 2  # the job is still processing right after the socket closes
    wav, _ = write_wav(tmp_path / "e.wav", 2.0)
    result = invoke(capsys, "transcribe", str(wav), "--realtime", "--speed", "0", "-o", "json-full")
    assert result.code == 0, result.stderr
    printed = json.loads(result.stdout)
    assert printed["status"] == "done"
    session_id = api_env.only_session().id
    fetched = invoke(capsys, "result", session_id, "--json")
    assert fetched.code == 0
    assert len(fetched.stdout.strip().splitlines()) == 1  # compact when piped
    assert json.loads(fetched.stdout) == printed
    texts = [u["text"].strip() for u in printed["result"]["transcription"]["utterances"]]
    assert texts == EMULATOR_FINALS
    # -o json is the transcription alone
    again = invoke(capsys, "result", session_id, "-o", "json")
    assert json.loads(again.stdout) == printed["result"]["transcription"]


@pytest.mark.parametrize("fmt", ["srt", "vtt"])
def test_live_subtitles_come_from_the_final_result(api_env: GladiaEmulator, tmp_path: Path, capsys, fmt: str) -> None:
    wav, _ = write_wav(tmp_path / "s.wav", 2.0)
    result = invoke(capsys, "transcribe", str(wav), "--realtime", "--speed", "0", "-o", fmt)
    assert result.code == 0, result.stderr
    assert "Hello world." in result.stdout
    assert "-->" in result.stdout
    assert result.stdout.startswith("WEBVTT" if fmt == "vtt" else "1\n")


def test_jsonl_prints_every_message_but_hidden_acks(api_env: GladiaEmulator, tmp_path: Path, capsys) -> None:
    wav, _ = write_wav(tmp_path / "f.wav", 2.0)
    result = invoke(capsys, "transcribe", str(wav), "--realtime", "--speed", "0", "-o", "jsonl")
    assert result.code == 0, result.stderr
    messages = [json.loads(line) for line in result.stdout.splitlines()]
    sent = [m for m in api_env.only_session().server_messages if "acknowledged" not in m]
    assert messages == sent
    assert any(m["type"] == "transcript" and not m["data"]["is_final"] for m in messages)
    assert messages[-1]["type"] in ("post_final_transcript", "end_session")


def test_result_command_prints_transcript_text(api_env: GladiaEmulator, tmp_path: Path, capsys) -> None:
    wav, _ = write_wav(tmp_path / "g.wav", 1.0)
    assert invoke(capsys, "transcribe", str(wav), "--realtime", "--speed", "0").code == 0
    result = invoke(capsys, "result", api_env.only_session().id)
    assert result.code == 0
    assert result.stdout.splitlines() == EMULATOR_FINALS


def test_unknown_server_messages_and_bad_json_are_ignored(api_env: GladiaEmulator, tmp_path: Path, capsys) -> None:
    api_env.extra_messages = [{"type": "brand_new_feature", "data": {"x": 1}}, {"no_type": True}]
    api_env.raw_text_frames = ["{not json", "[1, 2]"]
    wav, _ = write_wav(tmp_path / "h.wav", 1.0)
    result = invoke(capsys, "transcribe", str(wav), "--realtime", "--speed", "0")
    assert result.code == 0, result.stderr
    assert result.stdout.splitlines() == EMULATOR_FINALS
    assert "not JSON" in result.stderr


def test_config_file_fields_are_sent_and_flags_override(api_env: GladiaEmulator, tmp_path: Path, capsys) -> None:
    config = tmp_path / "config.json"
    config.write_text(
        json.dumps(
            {
                "endpointing": 0.5,
                "maximum_duration_without_endpointing": 30,
                "custom_metadata": {"who": "test"},
                "model": "solaria-1",
            }
        )
    )
    wav, _ = write_wav(tmp_path / "i.wav", 1.0)
    result = invoke(
        capsys,
        "transcribe",
        str(wav),
        "--realtime",
        "--speed",
        "0",
        "--config",
        str(config),
        "--endpointing",
        "0.2",
        "--translate",
        "fr,de",
        "--vocabulary",
        "Gladia,Solaria",
        "--summarize",
        "concise",
    )
    assert result.code == 0, result.stderr
    body = api_env.init_requests[0].body
    assert body["post_processing"]["summarization_config"] == {"type": "concise"}
    assert body["endpointing"] == 0.2
    assert body["maximum_duration_without_endpointing"] == 30
    assert body["custom_metadata"] == {"who": "test"}
    assert body["realtime_processing"]["translation_config"]["target_languages"] == ["fr", "de"]
    assert body["realtime_processing"]["custom_vocabulary_config"]["vocabulary"] == ["Gladia", "Solaria"]
    assert body["post_processing"]["summarization"] is True
    assert "  [fr] " in result.stdout  # translations follow their utterance


def test_region_is_sent_as_query(api_env: GladiaEmulator, tmp_path: Path, capsys) -> None:
    wav, _ = write_wav(tmp_path / "j.wav", 1.0)
    assert invoke(capsys, "transcribe", str(wav), "--realtime", "--speed", "0", "--region", "us-west").code == 0
    assert api_env.init_requests[0].query == {"region": "us-west"}


def test_saved_key_file_of_the_official_cli(api_env: GladiaEmulator, tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.delenv("GLADIA_API_KEY")
    (Path(os.environ["HOME"]) / ".gladia").write_text("test-key\n")
    wav, _ = write_wav(tmp_path / "k.wav", 1.0)
    assert invoke(capsys, "transcribe", str(wav), "--realtime", "--speed", "0").code == 0


# --- bad input and errors ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--sample-rate", "22050"], "sample rate"),
        (["--channels", "9"], "channel"),
        (["--bit-depth", "12"], "12"),
        (["--endpointing", "20"], "endpointing"),
        (["-l", "en,xx"], "'xx'"),
        (["--translate", "zz"], "'zz'"),
        (["--model", ""], "model must be a name"),
        (["--summary-type", "haiku"], "summary type"),
        (["--encoding", "mp3"], "encoding"),
        (["--chunk-ms", "0"], "--chunk-ms"),
        (["--duration", "-1"], "--duration"),
        (["--speed", "-2"], "--speed"),
        (["--region", "mars"], "region"),
        (["--no-such-flag"], "--no-such-flag"),
        (["--sample-rate", "abc"], "--sample-rate"),
    ],
)
def test_bad_flags_are_one_line_exit_2_before_any_request(
    api_env: GladiaEmulator, tmp_path: Path, capsys, args: list[str], needle: str
) -> None:
    wav, _ = write_wav(tmp_path / "l.wav", 0.5)
    result = invoke(capsys, "transcribe", str(wav), "--realtime", *args)
    assert result.code == ExitCode.USAGE, result.stderr
    assert needle in one_line_error(result)
    assert api_env.http_requests == []


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "JSON object"),
        ('{"endpointing": 99}', "endpointing"),
        ('{"language_config": {"languages": ["en", "klingon"]}}', "klingon"),
    ],
)
def test_bad_config_file(api_env: GladiaEmulator, tmp_path: Path, capsys, content: str, needle: str) -> None:
    config = tmp_path / "bad.json"
    config.write_text(content)
    wav, _ = write_wav(tmp_path / "m.wav", 0.5)
    result = invoke(capsys, "transcribe", str(wav), "--realtime", "--config", str(config))
    assert result.code == ExitCode.USAGE
    assert needle in one_line_error(result)
    assert api_env.http_requests == []


def test_missing_config_file(api_env: GladiaEmulator, tmp_path: Path, capsys) -> None:
    wav, _ = write_wav(tmp_path / "n.wav", 0.5)
    result = invoke(capsys, "transcribe", str(wav), "--realtime", "--config", str(tmp_path / "nope.json"))
    assert result.code == ExitCode.USAGE
    assert "nope.json" in one_line_error(result)


@pytest.mark.parametrize("kind", ["missing", "empty", "text", "directory", "random"])
def test_bad_files(api_env: GladiaEmulator, tmp_path: Path, capsys, kind: str) -> None:
    path = tmp_path / f"{kind}.wav"
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "text":
        path.write_text("this is not audio at all\n" * 50)
    elif kind == "directory":
        path.mkdir()
    elif kind == "random":
        # Seeded: some random byte strings happen to look like an MP3 frame to ffprobe.
        path.write_bytes(random.Random(4096).randbytes(4096))
    result = invoke(capsys, "transcribe", str(path), "--realtime")
    assert result.code == ExitCode.USAGE, result.stderr
    assert path.name in one_line_error(result)
    assert api_env.http_requests == []


def test_no_key_is_exit_3(api_env: GladiaEmulator, tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.delenv("GLADIA_API_KEY")
    wav, _ = write_wav(tmp_path / "o.wav", 0.5)
    result = invoke(capsys, "transcribe", str(wav), "--realtime")
    assert result.code == ExitCode.AUTH
    line = one_line_error(result)
    assert "GLADIA_API_KEY" in line and "--api-key" in line
    assert api_env.http_requests == []


def test_rejected_key_is_exit_3_and_never_printed(api_env: GladiaEmulator, tmp_path: Path, capsys) -> None:
    secret = "sk-super-secret-4242"
    wav, _ = write_wav(tmp_path / "p.wav", 0.5)
    result = invoke(capsys, "transcribe", str(wav), "--realtime", "--api-key", secret)
    assert result.code == ExitCode.AUTH
    assert "401" in one_line_error(result)
    assert secret not in result.stdout + result.stderr
    debug = invoke(capsys, "--debug", "transcribe", str(wav), "--realtime", "--api-key", secret)
    assert debug.code == ExitCode.AUTH
    assert secret not in debug.stdout + debug.stderr


def test_422_shows_gladias_message_exit_5(api_env: GladiaEmulator, tmp_path: Path, capsys) -> None:
    # A field our local checks leave to Gladia: the emulator validates it like the API does.
    config = tmp_path / "c.json"
    config.write_text(json.dumps({"pre_processing": {"audio_enhancer": "yes please"}}))
    wav, _ = write_wav(tmp_path / "q.wav", 0.5)
    result = invoke(capsys, "transcribe", str(wav), "--realtime", "--config", str(config))
    assert result.code == ExitCode.API, result.stderr
    line = one_line_error(result)
    assert "422" in line and "audio_enhancer" in line


def test_server_errors_are_retried_then_succeed(api_env: GladiaEmulator, tmp_path: Path, capsys) -> None:
    api_env.init_failures = [429, 503]
    wav, _ = write_wav(tmp_path / "r.wav", 0.5)
    result = invoke(capsys, "transcribe", str(wav), "--realtime", "--speed", "0")
    assert result.code == 0, result.stderr
    assert [r.status for r in api_env.init_requests] == [429, 503, 201]


@pytest.mark.slow  # seconds of its own: out of the inner loop
def test_unreachable_api_is_exit_4(tmp_path: Path, capsys, monkeypatch) -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("GLADIA_API_KEY", "test-key")
    monkeypatch.setenv("HOME", str(tmp_path))
    wav, _ = write_wav(tmp_path / "s.wav", 0.5)
    result = invoke(capsys, "transcribe", str(wav), "--realtime", "--api-url", f"http://127.0.0.1:{port}")
    assert result.code == ExitCode.NETWORK
    assert "cannot reach" in one_line_error(result)


def test_unknown_session_result_is_exit_5(api_env: GladiaEmulator, capsys) -> None:
    result = invoke(capsys, "result", "00000000-0000-0000-0000-000000000000")
    assert result.code == ExitCode.API
    assert "no such job" in one_line_error(result)


def test_live_only_flags_without_realtime_say_what_to_do(api_env: GladiaEmulator, tmp_path: Path, capsys) -> None:
    wav, _ = write_wav(tmp_path / "t.wav", 0.5)
    result = invoke(capsys, "transcribe", str(wav), "--endpointing", "0.3")
    assert result.code == ExitCode.USAGE
    assert "--realtime" in one_line_error(result)
    assert api_env.http_requests == []


# --- a real process: signals, exit codes, stream separation ---------------------------------------------------------


def test_subprocess_run_is_pipe_clean(emulator: GladiaEmulator, tmp_path: Path) -> None:
    wav, pcm = write_wav(tmp_path / "u.wav", 2.0)
    result = run("transcribe", str(wav), "--realtime", "--speed", "0", env=env_for(emulator, tmp_path))
    assert result.code == 0, result.stderr
    assert result.stdout.splitlines() == EMULATOR_FINALS
    assert "\x1b[" not in result.stdout + result.stderr
    assert sha256(emulator.only_session().audio) == sha256(pcm)


def _start(args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "gladia_cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env={**os.environ, **env},
    )


def test_ctrl_c_stops_gracefully_and_keeps_the_results(emulator: GladiaEmulator, tmp_path: Path) -> None:
    emulator.post_processing_delay = 0.5
    wav, pcm = write_wav(tmp_path / "v.wav", 30.0)
    proc = _start(["transcribe", str(wav), "--realtime", "--speed", "1"], env_for(emulator, tmp_path))
    assert emulator.wait_until(lambda: any(len(s.audio) >= 16000 for s in emulator.sessions.values()), timeout=15)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    session = emulator.only_session()
    assert session.stop_count == 1
    assert 0 < len(session.audio) < len(pcm)
    assert bytes(session.audio) == pcm[: len(session.audio)]  # a prefix: nothing reordered or lost
    assert out.splitlines() == EMULATOR_FINALS  # the finals that arrived after the stop are printed too


def test_second_ctrl_c_aborts_with_130_and_the_session_id(emulator: GladiaEmulator, tmp_path: Path) -> None:
    emulator.post_processing_delay = 30  # post-processing that would take far too long
    wav, _ = write_wav(tmp_path / "w.wav", 30.0)
    proc = _start(["transcribe", str(wav), "--realtime", "--speed", "1"], env_for(emulator, tmp_path))
    assert emulator.wait_until(lambda: any(len(s.audio) >= 16000 for s in emulator.sessions.values()), timeout=15)
    proc.send_signal(signal.SIGINT)
    assert emulator.wait_until(lambda: emulator.only_session().stop_count == 1, timeout=10)
    time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=10)
    assert proc.returncode == ExitCode.ABORTED, err
    session_id = emulator.only_session().id
    assert session_id in one_line_error_text(err)
    assert "Traceback" not in err


def one_line_error_text(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.startswith("gladia: error:")]
    assert len(lines) == 1, stderr
    return lines[0]


def test_help_and_version_do_not_import_heavy_modules() -> None:
    code = (
        "import sys\n"
        "from gladia_cli.cli.main import main\n"
        "for args in (['--help'], ['--version'], ['listen', '--help'], ['transcribe', '--help']):\n"
        "    try:\n"
        "        main(args)\n"
        "    except SystemExit:\n"
        "        pass\n"
        "heavy = {'numpy', 'sounddevice', 'requests', 'websocket', 'aiohttp'} & set(sys.modules)\n"
        "print(sorted(heavy))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert proc.stdout.strip().splitlines()[-1] == "[]", proc.stdout + proc.stderr


def test_version() -> None:
    from gladia_cli import __version__

    for flag in ("--version", "-V"):
        result = run(flag)
        assert result.code == 0
        assert result.stdout.strip() == f"gladia {__version__}"


def test_partials_asked_for_without_a_terminal_say_where_to_find_them(
    api_env: GladiaEmulator, tmp_path: Path, capsys
) -> None:
    wav, _ = write_wav(tmp_path / "p.wav", 1.0)
    result = invoke(capsys, "transcribe", str(wav), "--realtime", "--speed", "0", "--partials")
    assert result.code == 0, result.stderr
    assert api_env.init_requests[0].body["messages_config"]["receive_partial_transcripts"] is True
    assert "use -o jsonl" in result.stderr and result.stdout.splitlines() == EMULATOR_FINALS


def test_language_codes_are_case_insensitive_and_counted_once(api_env: GladiaEmulator, tmp_path: Path, capsys) -> None:
    wav, _ = write_wav(tmp_path / "l.wav", 0.5)
    args = ["-l", "EN", "-l", "fr,en", "--translate", "DE,de"]
    result = invoke(capsys, "transcribe", str(wav), "--realtime", "--speed", "0", *args)
    assert result.code == 0, result.stderr
    body = api_env.init_requests[0].body
    assert body["language_config"]["languages"] == ["en", "fr"]
    assert body["realtime_processing"]["translation_config"]["target_languages"] == ["de"]


def test_a_record_file_is_not_left_empty_when_the_session_is_refused(
    api_env: GladiaEmulator, tmp_path: Path, capsys
) -> None:
    """A refused session records nothing: no 44-byte WAV stays behind to block the retry with the same --record."""
    wav, pcm = write_wav(tmp_path / "a.wav", 1.0)
    kept = tmp_path / "kept.wav"
    refused = invoke(
        capsys, "transcribe", str(wav), "--realtime", "--speed", "0", "--model", "x", "--record", str(kept)
    )
    assert refused.code == ExitCode.API, refused.stderr
    assert not kept.exists()
    again = invoke(capsys, "transcribe", str(wav), "--realtime", "--speed", "0", "--record", str(kept))
    assert again.code == 0, again.stderr
    assert kept.read_bytes()[44:] == pcm


def test_the_client_names_itself_with_the_package_version(api_env: GladiaEmulator, tmp_path: Path, capsys) -> None:
    """`x-gladia-version: gladia-cli/<version>`: one form (the Go CLI's `cli/` is Gladia's own CLI's), the version
    read from the one place the build reads it too (gladia_cli/version.py)."""
    from importlib.metadata import version

    from gladia_cli.version import __version__

    wav, _ = write_wav(tmp_path / "v.wav", 0.5)
    result = invoke(capsys, "transcribe", str(wav), "--realtime", "--speed", "0")
    assert result.code == 0, result.stderr
    assert api_env.init_requests[0].headers["x-gladia-version"] == f"gladia-cli/{__version__}"
    if os.environ.get("CI"):  # installed there: the distribution's metadata says the same
        assert version("gladia") == __version__


def test_8_bit_pcm_on_stdin_is_sent_as_declared(api_env: GladiaEmulator) -> None:
    """The schema allows 8-bit PCM and so does the help of --bit-depth: raw 8-bit PCM on stdin goes as it is."""
    import subprocess
    import sys

    pcm = bytes(range(256)) * 63  # about 1 s at 16 kHz, 8-bit mono
    flags = ["--encoding", "wav/pcm", "--bit-depth", "8", "--sample-rate", "16000", "--channels", "1"]
    proc = subprocess.run(
        [sys.executable, "-m", "gladia_cli", "transcribe", "-", "--realtime", *flags],
        input=pcm,
        capture_output=True,
        timeout=60,
        env=dict(os.environ),
    )
    assert proc.returncode == 0, proc.stderr.decode()
    assert api_env.init_requests[0].body["bit_depth"] == 8
    assert bytes(api_env.only_session().audio) == pcm


@pytest.mark.parametrize(("fmt", "first", "second"), [("srt", "[me] ", "[them] "), ("vtt", "<v me>", "<v them>")])
def test_live_subtitles_carry_the_channel_names(
    api_env: GladiaEmulator, tmp_path: Path, capsys, fmt: str, first: str, second: str
) -> None:
    """`--channel-names me,them -o srt|vtt` labels the cues written live, as `gladia result` labels them (the
    README's `--channel-names host,guest -o srt > talk.srt`); in the output file too."""
    api_env.spread_channels = True
    wav, _ = write_wav(tmp_path / "call.wav", 2.0, channels=2)
    out = tmp_path / f"talk.{fmt}"
    result = invoke(
        capsys, "transcribe", str(wav), "--realtime", "--speed", "0", "--channel-names", "me,them", "-o", fmt,
        "--output-file", str(out),
    )  # fmt: skip
    assert result.code == 0, result.stderr
    for text in (result.stdout, out.read_text()):
        assert f"{first}Hello world." in text, text  # the emulator says utterance i on channel i % 2
        assert f"{second}This is the Gladia emulator." in text, text
        assert "[ch0]" not in text and "[ch1]" not in text
