"""A bad-input sweep: every command, run for real with input it must refuse, against the loopback Gladia emulator.

The contract asserted for each refusal (README, "Exit codes"): exactly one `gladia: error:` line on stderr that says
what was wrong and what to do, the documented exit code, no traceback, no hang, and no request at all when the
mistake can be seen locally. No run in this file may print an API key: every output is checked as it comes, and all
of them once more at the end.

Every case here was once a contract violation or guards against one: a zero read as "not given", live-only flags
silently ignored, non-audio uploaded, an empty key or id sent, a key echoed in an error line.
"""

from __future__ import annotations

import os
import socket
import struct
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cli_runner import Result, invoke, one_line_error, run
from emulator import GladiaEmulator
from virtual_mic import VirtualMic, virtual_mic
from wavs import write_wav

from gladia_cli.errors import ExitCode

__all__ = ["virtual_mic"]  # the fixture is used by name

SECRET = "sk-sweep-SECRET-7e3f"  # the key the emulator accepts in this file
WRONG_KEY = "sk-sweep-WRONG-0000"  # a key it rejects (401)
KEYS = (SECRET, WRONG_KEY)
UNKNOWN_ID = "00000000-0000-0000-0000-000000000000"
UNICODE_NAME = "mon enregistrement ☃ été.wav"
EMULATOR_FINALS = ["Hello world.", "This is the Gladia emulator.", "Goodbye."]

# stdout + stderr of every run in this file; checked for keys once more by the last test.
OUTPUTS: list[str] = []

pytestmark = pytest.mark.timeout(60)


def named(rows: list[Any]) -> list[Any]:
    """Parametrize rows (plain tuples or pytest.param) named after their first value, e.g. `--sample-rate 0`."""
    out = []
    for row in rows:
        values, marks = (row.values, row.marks) if hasattr(row, "marks") else (row, ())
        first = values[0]
        words = first if isinstance(first, tuple) else (first,)
        name = " ".join(word if word.strip() else repr(word) for word in words).replace(UNKNOWN_ID, "ID")
        out.append(pytest.param(*values, marks=marks, id=name))
    return out


# --------------------------------------------------------------------------------------------------------------------
# Running the CLI and checking the contract
# --------------------------------------------------------------------------------------------------------------------


def _check_output(result: Result) -> Result:
    """What holds for every run, success or failure: no traceback, no key."""
    text = result.stdout + result.stderr
    OUTPUTS.append(text)
    assert "Traceback" not in text, text
    for key in KEYS:
        assert key not in text, f"the API key {key[:8]}… was printed"
    return result


def gladia(capsys: pytest.CaptureFixture[str], *args: str) -> Result:
    """`gladia ARGS` in this process."""
    return _check_output(invoke(capsys, *args))


def gladia_process(*args: str, env: dict[str, str] | None = None, timeout: float = 30) -> Result:
    """`gladia ARGS` as a child process (stdin is /dev/null, so never a terminal)."""
    return _check_output(run(*args, env=env, timeout=timeout))


def assert_error(result: Result, code: int, *needles: str, alone: bool = True) -> str:
    """The error contract; `alone`: the error line is all of stderr (else other lines may be `gladia:` notices)."""
    assert result.code == code, f"exit {result.code}, expected {code}; stderr: {result.stderr!r}"
    line = one_line_error(result)
    lines = [each for each in result.stderr.splitlines() if each.strip()]
    if alone:
        assert lines == [line], f"stderr should be the error line alone: {result.stderr!r}"
    else:
        assert all(each.startswith("gladia:") for each in lines), f"stray stderr output: {result.stderr!r}"
    for needle in needles:
        assert needle in line, f"{needle!r} not in {line!r}"
    return line


def assert_no_request(emulator: GladiaEmulator) -> None:
    assert emulator.http_requests == [], f"a local mistake reached the API: {emulator.http_requests}"
    assert emulator.init_requests == []


@pytest.fixture
def emu(api_env: GladiaEmulator, monkeypatch: pytest.MonkeyPatch) -> GladiaEmulator:
    """The emulator accepting only SECRET, which is also $GLADIA_API_KEY; pre-recorded jobs are done at once."""
    monkeypatch.setenv("GLADIA_API_KEY", SECRET)
    api_env.api_keys = {SECRET}
    api_env.prerecorded.polls_before_done = 0
    return api_env


@pytest.fixture
def mic(virtual_mic: VirtualMic, emu: GladiaEmulator) -> GladiaEmulator:
    """For `listen`: the virtual microphone is the default input device of this process."""
    return emu


@pytest.fixture
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """No backoff sleeps between retries: the attempts still happen, the test just does not wait for them."""
    monkeypatch.setattr("gladia_cli.api._backoff", lambda attempt, retry_after: 0.0)


def closed_port_url() -> str:
    with socket.socket() as s:  # bound, never listening, closed: connections to it are refused
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


# --------------------------------------------------------------------------------------------------------------------
# Input files
# --------------------------------------------------------------------------------------------------------------------


def wav_with(tag: int, channels: int, rate: int, bits: int, *, fmt_body: bytes | None = None) -> bytes:
    """A RIFF/WAVE file with the given fmt fields (or raw fmt bytes) and 0.1 s of zeros."""
    block = channels * ((bits + 7) // 8)
    fmt = fmt_body if fmt_body is not None else struct.pack("<HHIIHH", tag, channels, rate, rate * block, block, bits)
    data = bytes(3200)
    return (
        b"RIFF"
        + struct.pack("<I", 4 + 8 + len(fmt) + 8 + len(data))
        + b"WAVE"
        + b"fmt "
        + struct.pack("<I", len(fmt))
        + fmt
        + b"data"
        + struct.pack("<I", len(data))
        + data
    )


def _good_wav(tmp: Path) -> bytes:
    path, _ = write_wav(tmp / "good-source.wav", 1.0)
    return path.read_bytes()


def _write(name: str, content: bytes | str) -> Callable[[Path], Path]:
    def make(tmp: Path) -> Path:
        path = tmp / name
        if isinstance(content, str):
            path.write_text(content, encoding="utf-8")
        else:
            path.write_bytes(content)
        return path

    return make


def _directory(tmp: Path) -> Path:
    path = tmp / "folder.wav"
    path.mkdir()
    return path


def _header_only(tmp: Path) -> Path:
    path = tmp / "header-only.wav"
    path.write_bytes(_good_wav(tmp)[:44])  # a data chunk that promises 1 s and holds nothing
    return path


def _partial_riff(tmp: Path) -> Path:
    path = tmp / "partial-header.wav"
    path.write_bytes(_good_wav(tmp)[:20])  # RIFF, WAVE and half a fmt chunk header
    return path


BAD_FILES: dict[str, Callable[[Path], Path]] = {
    "missing": lambda tmp: tmp / "missing.wav",
    "directory": _directory,
    "empty": _write("empty.wav", b""),
    "header-only": _header_only,
    "partial-riff-header": _partial_riff,
    "garbage-fmt": _write("garbage-fmt.wav", wav_with(0, 0, 0, 0, fmt_body=b"\xde\xad\xbe\xef" * 4)),
    "int72-pcm": _write("int72.wav", wav_with(1, 1, 16000, 72)),
    "adpcm": _write("adpcm.wav", wav_with(2, 1, 8000, 4)),
    "text": _write("notes.wav", "this is not audio at all\n" * 40),
    "random": _write("noise.bin", bytes(range(256)) * 16),
    "png": _write("picture.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64)),
    "unicode-name-text": _write("notes é ☃ 2.wav", "still not audio\n" * 40),
}


# --------------------------------------------------------------------------------------------------------------------
# Files: transcribe --realtime (checked locally, before the session)
# --------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "needles"),
    named(
        [
            ("missing", ("no such file", "missing.wav", "check the path")),
            ("directory", ("is a folder", "give one file of it")),
            ("empty", ("is empty", "give a file that contains audio")),
            ("header-only", ("no audio samples", "give a file that contains audio")),
            ("partial-riff-header", ("not a valid WAV file", "re-export it")),
            ("garbage-fmt", ("not a valid WAV file", "unknown audio format", "re-export it")),
            ("int72-pcm", ("72-bit integer samples", "convert it first")),
            ("adpcm", ("ADPCM", "convert it first")),
            ("text", ("not an audio file", "give a WAV")),
            ("random", ("not an audio file", "give a WAV")),
            ("png", ("not an audio file", "give a file that contains audio")),
            ("unicode-name-text", ("notes é ☃ 2.wav", "not an audio file")),
        ]
    ),
)
def test_realtime_bad_file(
    emu: GladiaEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str, needles: tuple[str, ...]
) -> None:
    path = BAD_FILES[kind](tmp_path)
    result = gladia(capsys, "transcribe", str(path), "--realtime", "--speed", "0")
    assert_error(result, ExitCode.USAGE, *needles)
    assert_no_request(emu)


# --------------------------------------------------------------------------------------------------------------------
# Files: transcribe (pre-recorded)
# --------------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "needles"),
    named(
        [
            ("missing", ("no such file", "missing.wav")),
            ("directory", ("is a folder with no audio or video file in it",)),
            ("empty", ("is empty",)),
            pytest.param("header-only", ("audio",)),
            pytest.param("partial-riff-header", ("WAV",)),
            pytest.param("garbage-fmt", ("WAV",)),
            pytest.param("text", ("not an audio file",)),
            pytest.param("random", ("not an audio file",)),
            pytest.param("png", ("not an audio file",)),
        ]
    ),
)
def test_prerecorded_bad_file(
    emu: GladiaEmulator,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    fast_retries: None,
    kind: str,
    needles: tuple[str, ...],
) -> None:
    path = BAD_FILES[kind](tmp_path)
    result = gladia(capsys, "transcribe", str(path))
    assert_error(result, ExitCode.USAGE, *needles)
    assert_no_request(emu)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file: an unreadable file cannot be made")
@pytest.mark.parametrize("realtime", [True, False], ids=["realtime", "pre-recorded"])
def test_unreadable_file(
    emu: GladiaEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str], realtime: bool
) -> None:
    wav, _ = write_wav(tmp_path / "locked.wav", 0.5)
    wav.chmod(0)
    result = gladia(capsys, "transcribe", str(wav), *(["--realtime"] if realtime else []))
    assert_error(result, ExitCode.USAGE, "locked.wav", "permission denied")
    assert_no_request(emu)


def test_batch_with_a_missing_file_fails_it_and_goes_on(
    emu: GladiaEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good, _ = write_wav(tmp_path / "good.wav", 0.5)
    missing = tmp_path / "missing.wav"
    result = gladia(capsys, "transcribe", str(good), str(missing), "--output-dir", str(tmp_path / "out"))
    assert result.code == ExitCode.BATCH_FAILED, result.stderr
    failed = [line for line in result.stderr.splitlines() if "FAILED" in line]
    assert len(failed) == 1 and "missing.wav" in failed[0], result.stderr
    assert "1 ok, 0 skipped, 1 failed" in result.stderr
    assert (tmp_path / "out" / "good.txt").exists()
    assert [path for method, path in emu.http_requests if method == "POST" and path == "/v2/upload"] == ["/v2/upload"]


# --------------------------------------------------------------------------------------------------------------------
# Files the CLI must accept: a cut-off recording (with a warning), a name with spaces and non-ASCII letters
# --------------------------------------------------------------------------------------------------------------------


def test_realtime_cut_off_wav_is_streamed_with_a_warning(
    emu: GladiaEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    full, pcm = write_wav(tmp_path / "full.wav", 1.0)
    cut = tmp_path / "cut.wav"
    cut.write_bytes(full.read_bytes()[: 44 + 8000])  # the header still promises 32000 bytes
    result = gladia(capsys, "transcribe", str(cut), "--realtime", "--speed", "0")
    assert result.code == 0, result.stderr
    assert "gladia: error:" not in result.stderr
    assert "ends before its header says it should" in result.stderr
    assert result.stdout.splitlines() == EMULATOR_FINALS
    assert bytes(emu.only_session().audio) == pcm[:8000]


def test_realtime_file_name_with_spaces_and_unicode(
    emu: GladiaEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wav, pcm = write_wav(tmp_path / UNICODE_NAME, 1.0)
    result = gladia(capsys, "transcribe", str(wav), "--realtime", "--speed", "0")
    assert result.code == 0, result.stderr
    assert result.stdout.splitlines() == EMULATOR_FINALS
    assert bytes(emu.only_session().audio) == pcm


def test_prerecorded_file_name_with_spaces_and_unicode(
    emu: GladiaEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wav, _ = write_wav(tmp_path / UNICODE_NAME, 1.0)
    result = gladia(capsys, "transcribe", str(wav))
    assert result.code == 0, result.stderr
    assert result.stdout.strip()
    assert [upload.filename for upload in emu.prerecorded.uploads] == [UNICODE_NAME]


def test_missing_file_with_a_unicode_name_is_named_intact(
    emu: GladiaEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / f"missing {UNICODE_NAME}"
    assert_error(gladia(capsys, "transcribe", str(path)), ExitCode.USAGE, str(path))
    assert_error(gladia(capsys, "transcribe", str(path), "--realtime"), ExitCode.USAGE, str(path))
    assert_no_request(emu)


# --------------------------------------------------------------------------------------------------------------------
# Flags: every one checked locally (exit 2, no request)
# --------------------------------------------------------------------------------------------------------------------


@pytest.fixture
def paths(tmp_path: Path) -> dict[str, str]:
    """Files the flag cases refer to as {name} in their arguments."""
    wav, _ = write_wav(tmp_path / "speech.wav", 0.5)
    configs = {
        "bad_json": "{not json",
        "array_json": "[1, 2]",
        "live_range_json": '{"endpointing": 99}',
        "pre_range_json": '{"diarization_config": {"number_of_speakers": 0}}',
    }
    out = {"wav": str(wav), "tmp": str(tmp_path), "missing_dir_file": str(tmp_path / "no-such-dir" / "out.txt")}
    for name, text in configs.items():
        path = tmp_path / f"{name}.json"
        path.write_text(text)
        out[name] = str(path)
    return out


def _expand(items: tuple[str, ...], paths: dict[str, str]) -> list[str]:
    return [item.format(**paths) for item in items]


# (flags, words the error line must hold) shared by listen and transcribe --realtime
LIVE_FLAG_CASES: list[Any] = [
    (("--sample-rate", "12345"), ("unsupported sample rate 12345", "16000")),
    (("--bit-depth", "12"), ("unsupported bit depth 12", "use one of")),
    (("--channels", "9"), ("channel count 9", "1 to 8")),
    (("--encoding", "mp3"), ("encoding 'mp3'", "wav/pcm")),
    (("--lang", "xx"), ("unknown language code 'xx'", "gladia languages")),
    (("--translate", "xx"), ("unknown language code 'xx'", "gladia languages")),
    (("--config", "{bad_json}"), ("not valid JSON", "line 1")),
    (("--config", "{array_json}"), ("must hold a JSON object",)),
    (("--config", "{live_range_json}"), ("endpointing", "0.01 to 10", "99")),
    (("--config", "{tmp}/nope.json"), ("config file not found", "nope.json")),
    (("--chunk-ms", "0"), ("--chunk-ms", "10 to 1000")),
    (("--duration", "-1"), ("--duration", "more than 0")),
    (("--session-limit", "10801"), ("--session-limit must be from 1 to 10800 s", "ends a live session after 3 hours")),
    (("--endpointing", "0"), ("endpointing", "0.01 to 10")),
    (("--model", ""), ("model must be a name",)),
    (("--summary-type", "nope"), ("summary type", "bullet_points")),
    (("--reconnect-attempts", "-1"), ("--reconnect-attempts", "0 or more")),
    (("--output-file", "{missing_dir_file}"), ("cannot write --output-file", "No such file or directory")),
    (("--sample-rate", "abc"), ("--sample-rate", "whole number")),
    (("--api-url", "notaurl"), ("invalid API URL", "use e.g. https://")),
    (("--region", "mars"), ("unknown region 'mars'", "eu-west")),
    pytest.param(("--sample-rate", "0"), ("sample rate 0",)),
    pytest.param(("--channels", "0"), ("channel count 0",)),
    pytest.param(("--finish-timeout", "-1"), ("--finish-timeout",)),
    pytest.param(("--duration", "inf"), ("--duration must be a finite number of seconds", "inf")),
    pytest.param(("--duration", "nan"), ("--duration must be a finite number of seconds", "nan")),
    pytest.param(("--buffer-seconds", "inf"), ("--buffer-seconds must be a finite",)),
    pytest.param(("--finish-timeout", "nan"), ("--finish-timeout must be a finite",)),
    pytest.param(("--reconnect-timeout", "inf"), ("--reconnect-timeout must be a finite",)),
    pytest.param(("--finish-timeout", "1e300"), ("--finish-timeout", "at most")),
]


@pytest.mark.parametrize(("flags", "needles"), named(LIVE_FLAG_CASES))
def test_listen_bad_flag(
    mic: GladiaEmulator,
    paths: dict[str, str],
    capsys: pytest.CaptureFixture[str],
    flags: tuple[str, ...],
    needles: tuple[str, ...],
) -> None:
    result = gladia(capsys, "listen", "--duration", "1", *_expand(flags, paths))
    assert_error(result, ExitCode.USAGE, *_expand(needles, paths))
    assert_no_request(mic)


@pytest.mark.parametrize(
    ("flags", "needles"),
    named(
        [
            (("--device", "nope"), ("no input device matches 'nope'", "gladia devices")),
            (("--device", "999"), ("no input device with index 999", "gladia devices")),
            (("--device", ""), ("device name is empty", "gladia devices")),
            (("--bit-depth", "8"), ("16, 24 or 32-bit", "--bit-depth 16")),
            pytest.param(("--buffer-seconds", "0"), ("--buffer-seconds", "more than 0")),
            pytest.param(("--encoding", "wav/alaw", "--bit-depth", "16"), ("wav/alaw needs --bit-depth 8",)),
            pytest.param(("--encoding", "opus"), ("unsupported encoding 'opus'", "wav/pcm, wav/alaw, wav/ulaw")),
        ]
    ),
)
def test_listen_bad_device_or_format(
    mic: GladiaEmulator, capsys: pytest.CaptureFixture[str], flags: tuple[str, ...], needles: tuple[str, ...]
) -> None:
    result = gladia(capsys, "listen", "--duration", "1", *flags)
    assert_error(result, ExitCode.USAGE, *needles)
    assert_no_request(mic)


@pytest.mark.parametrize(
    ("flags", "needles"),
    named(
        [
            *LIVE_FLAG_CASES,
            (("--speed", "-1"), ("--speed", "0 (as fast as possible) or a finite factor")),
            (("--speed", "nan"), ("--speed", "finite factor", "nan")),
            (("--speed", "inf"), ("--speed", "finite factor", "inf")),
            (("--buffer-seconds", "0"), ("--buffer-seconds", "more than 0")),
            (("--bit-depth", "8"), ("--bit-depth 8", "16, 24 or 32")),
            (("--encoding", "wav/ulaw", "--bit-depth", "16"), ("wav/ulaw needs --bit-depth 8",)),
            (("--encoding", "opus"), ("unsupported encoding 'opus'", "wav/pcm, wav/alaw, wav/ulaw")),
            (("--record", "{wav}"), ("already exists", "choose another name")),
            (("--record", "{missing_dir_file}"), ("cannot create --record file",)),
            (("--diarize",), ("--diarize", "drop --realtime")),
            pytest.param(("--jobs", "0"), ("--jobs",)),
        ]
    ),
)
def test_realtime_bad_flag(
    emu: GladiaEmulator,
    paths: dict[str, str],
    capsys: pytest.CaptureFixture[str],
    flags: tuple[str, ...],
    needles: tuple[str, ...],
) -> None:
    result = gladia(capsys, "transcribe", paths["wav"], "--realtime", "--speed", "0", *_expand(flags, paths))
    assert_error(result, ExitCode.USAGE, *_expand(needles, paths))
    assert_no_request(emu)


@pytest.mark.parametrize(
    ("flags", "needles"),
    named(
        [
            (("--lang", "xx"), ("unknown language code 'xx'", "gladia languages")),
            (("--translate", "xx"), ("unknown language code 'xx'", "gladia languages")),
            (("--config", "{bad_json}"), ("not valid JSON", "line 1")),
            (("--config", "{array_json}"), ("must hold a JSON object",)),
            (("--config", "{pre_range_json}"), ("number of speakers", "at least 1", "got 0")),
            (("--speakers", "0"), ("number of speakers", "at least 1")),
            (("--jobs", "0"), ("--jobs", "at least 1")),
            (("--duration", "-1"), ("--duration", "add --realtime")),
            (("--sample-rate", "16000"), ("--sample-rate", "add --realtime")),
            (("-o", "jsonl"), ("jsonl", "add --realtime")),
            (("--summary-type", "nope"), ("summary type", "bullet_points")),
            (("--api-url", "notaurl"), ("invalid API URL", "use e.g. https://")),
            (("--region", "eu-west"), ("--region applies to live transcription only", "add --realtime")),
            pytest.param(("--chunk-ms", "0"), ("--chunk-ms",)),
            pytest.param(("--speed", "-1"), ("--speed",)),
            pytest.param(("--encoding", "mp3"), ("encoding",)),
            pytest.param(("--output-file", "{missing_dir_file}"), ("no-such-dir",)),
            pytest.param(("--output-file", "x.txt", "--output-dir", "out"), ("cannot be combined",)),
            pytest.param(("--output-dir", "{wav}"), ("is a file, not a directory",)),
        ]
    ),
)
def test_prerecorded_bad_flag(
    emu: GladiaEmulator,
    paths: dict[str, str],
    capsys: pytest.CaptureFixture[str],
    flags: tuple[str, ...],
    needles: tuple[str, ...],
) -> None:
    result = gladia(capsys, "transcribe", paths["wav"], *_expand(flags, paths))
    assert_error(result, ExitCode.USAGE, *_expand(needles, paths))
    assert_no_request(emu)


@pytest.mark.parametrize(
    ("args", "needles"),
    named(
        [
            (("transcribe",), ("Missing argument", "gladia transcribe --help")),
            (("transcribe", "{wav}", "{wav}", "--realtime"), ("one file at a time",)),
            (("transcribe", "https://example.com/a.mp3", "--realtime"), ("needs a local file", "drop --realtime")),
            pytest.param(("transcribe", "ftp://example.com/a.mp3"), ("ftp://example.com/a.mp3", "http")),
            (("result", UNKNOWN_ID, "-o", "jsonl"), ("jsonl", "json-full")),
            (("result", UNKNOWN_ID, "--api-url", "notaurl"), ("invalid API URL",)),
            (("list", "--limit", "0"), ("--limit", "at least 1")),
            (("list", "--limit", "-3"), ("--limit", "at least 1")),
            (("list", "--kind", "nope"), ("--kind", "live")),
            (("list", "--api-url", "notaurl"), ("invalid API URL",)),
            (("delete", UNKNOWN_ID), ("without confirmation", "--yes")),
            (("delete", UNKNOWN_ID, "--yes", "--api-url", "notaurl"), ("invalid API URL",)),
            (("audio", UNKNOWN_ID), ("Missing option", "--output")),
            (("audio", UNKNOWN_ID, "-O", "{missing_dir_file}"), ("directory not found", "no-such-dir")),
            (("audio", UNKNOWN_ID, "-O", "{wav}"), ("already exists", "--force")),
            (("audio", UNKNOWN_ID, "-O", "{tmp}"), ("is a directory", "give a file name")),
            (("audio", UNKNOWN_ID, "-O", "{tmp}/a.wav", "--api-url", "notaurl"), ("invalid API URL",)),
            (("devices", "extra"), ("unexpected extra argument", "gladia devices --help")),
            (("languages", "--bogus"), ("No such option", "--bogus", "gladia languages --help")),
            (("completion", "powershell"), ("powershell", "bash")),
            pytest.param(("completion",), ("Missing argument", "bash")),
            (("frobnicate",), ("No such command 'frobnicate'", "gladia --help")),
            (("--debugg", "list"), ("No such option", "--debugg", "--debug")),
            (("auth", "nope"), ("No such command 'nope'", "gladia auth --help")),
            (("auth", "set", ""), ("API key is empty",)),
            (("auth", "set", "two words"), ("spaces", "paste the key alone")),
            (("auth", "clear", "--bogus"), ("No such option", "--bogus")),
            pytest.param(("result", ""), ("id",)),
            pytest.param(("delete", "", "--yes"), ("id",)),
            pytest.param(("audio", "", "-O", "{tmp}/a.wav"), ("id",)),
        ]
    ),
)
def test_other_commands_bad_input(
    emu: GladiaEmulator,
    paths: dict[str, str],
    capsys: pytest.CaptureFixture[str],
    args: tuple[str, ...],
    needles: tuple[str, ...],
) -> None:
    result = gladia(capsys, *_expand(args, paths))
    assert_error(result, ExitCode.USAGE, *_expand(needles, paths))
    assert_no_request(emu)


def test_auth_set_into_an_unusable_config_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(blocker))
    assert_error(gladia(capsys, "auth", "set", SECRET), ExitCode.USAGE, "cannot save the key", "Not a directory")


def test_no_key_anywhere_is_exit_3(
    emu: GladiaEmulator, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("GLADIA_API_KEY")
    for args in (("auth", "status"), ("list",), ("result", UNKNOWN_ID), ("delete", UNKNOWN_ID, "--yes")):
        assert_error(gladia(capsys, *args), ExitCode.AUTH, "no API key", "gladia auth set")
    assert_no_request(emu)


@pytest.mark.parametrize(
    ("args", "key"),
    [
        pytest.param(("transcribe", "{wav}", "--realtime", "--speed", "0"), "", id="realtime"),
        pytest.param(("transcribe", "{wav}", "--realtime", "--speed", "0"), "  ", id="realtime-blank"),
        pytest.param(("transcribe", "{wav}"), "", id="pre-recorded"),
        pytest.param(("list",), "", id="list"),
        pytest.param(("result", UNKNOWN_ID), "", id="result"),
        pytest.param(("auth", "status"), "", id="auth status"),
    ],
)
def test_empty_api_key_flag_is_refused(
    emu: GladiaEmulator, paths: dict[str, str], capsys: pytest.CaptureFixture[str], args: tuple[str, ...], key: str
) -> None:
    """`--api-key "$UNSET_VARIABLE"` must not silently use another key, nor send an empty one."""
    result = gladia(capsys, *_expand(args, paths), "--api-key", key)
    assert result.code in (ExitCode.USAGE, ExitCode.AUTH), result.stderr
    assert_error(result, result.code, "API key is empty")
    assert_no_request(emu)


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(("auth", "status", SECRET), id="auth status KEY"),
        pytest.param(("list", SECRET), id="list KEY"),
        pytest.param(("transcribe", SECRET), id="transcribe KEY"),
    ],
)
def test_key_in_the_wrong_place_is_not_echoed(
    emu: GladiaEmulator, capsys: pytest.CaptureFixture[str], args: tuple[str, ...]
) -> None:
    """The configured key typed where an argument goes (e.g. `auth status KEY` for `auth set KEY`)."""
    result = invoke(capsys, *args)  # not through _check_output: this case alone is allowed to fail on the key
    assert result.code == ExitCode.USAGE, result.stderr
    one_line_error(result)
    assert SECRET not in result.stdout + result.stderr, "the configured API key was printed"


# --------------------------------------------------------------------------------------------------------------------
# Network and API errors
# --------------------------------------------------------------------------------------------------------------------

NETWORK_COMMANDS: list[Any] = [
    pytest.param(("transcribe", "{wav}", "--realtime", "--speed", "0"), id="transcribe --realtime"),
    pytest.param(("transcribe", "{wav}"), id="transcribe"),
    pytest.param(("result", UNKNOWN_ID), id="result"),
    pytest.param(("list",), id="list"),
    pytest.param(("delete", UNKNOWN_ID, "--yes"), id="delete"),
    pytest.param(("audio", UNKNOWN_ID, "-O", "{tmp}/saved.wav"), id="audio"),
]


@pytest.mark.parametrize("args", NETWORK_COMMANDS)
def test_unreachable_api_is_exit_4(
    paths: dict[str, str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    fast_retries: None,
    args: tuple[str, ...],
) -> None:
    monkeypatch.setenv("GLADIA_API_KEY", SECRET)
    monkeypatch.setenv("HOME", paths["tmp"])
    url = closed_port_url()
    result = gladia(capsys, *_expand(args, paths), "--api-url", url)
    assert_error(result, ExitCode.NETWORK, f"cannot reach {url}", "--api-url")


def test_listen_unreachable_api_is_exit_4(
    mic: GladiaEmulator, capsys: pytest.CaptureFixture[str], fast_retries: None
) -> None:
    url = closed_port_url()
    result = gladia(capsys, "listen", "--duration", "1", "--api-url", url)
    assert_error(result, ExitCode.NETWORK, f"cannot reach {url}", "--api-url")


@pytest.mark.parametrize("args", NETWORK_COMMANDS)
def test_rejected_key_is_exit_3(
    emu: GladiaEmulator, paths: dict[str, str], capsys: pytest.CaptureFixture[str], args: tuple[str, ...]
) -> None:
    result = gladia(capsys, *_expand(args, paths), "--api-key", WRONG_KEY)
    assert_error(result, ExitCode.AUTH, "refused the API key", "401", "--api-key")
    assert len(emu.http_requests) == 1  # a 401 is never retried


def test_listen_rejected_key_is_exit_3(mic: GladiaEmulator, capsys: pytest.CaptureFixture[str]) -> None:
    result = gladia(capsys, "listen", "--duration", "1", "--api-key", WRONG_KEY)
    assert_error(result, ExitCode.AUTH, "refused the API key", "401")


def test_403_is_exit_3(emu: GladiaEmulator, paths: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    emu.init_failures = [403]  # the emulator itself only answers 401 to a bad key; this knob answers anything
    result = gladia(capsys, "transcribe", paths["wav"], "--realtime", "--speed", "0")
    assert_error(result, ExitCode.AUTH, "refused access", "403")


def test_live_422_shows_gladias_message(
    emu: GladiaEmulator, tmp_path: Path, paths: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "enhancer.json"
    config.write_text('{"pre_processing": {"audio_enhancer": "yes please"}}')  # left to Gladia to validate
    result = gladia(capsys, "transcribe", paths["wav"], "--realtime", "--speed", "0", "--config", str(config))
    assert_error(result, ExitCode.API, "422", "pre_processing.audio_enhancer must be a boolean")
    assert [request.status for request in emu.init_requests] == [422]  # never retried


def test_listen_422_shows_gladias_message(
    mic: GladiaEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "enhancer.json"
    config.write_text('{"pre_processing": {"audio_enhancer": "yes please"}}')
    result = gladia(capsys, "listen", "--duration", "1", "--config", str(config))
    assert_error(result, ExitCode.API, "422", "audio_enhancer")


def test_prerecorded_400_shows_gladias_message(
    emu: GladiaEmulator, tmp_path: Path, paths: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "callback.json"
    config.write_text('{"callback_url": 5}')  # not checked locally; Gladia's validation says what is wrong
    result = gladia(capsys, "transcribe", paths["wav"], "--config", str(config))
    assert_error(result, ExitCode.API, "400", "callback_url must be a string")


@pytest.mark.slow  # seconds of its own: out of the inner loop
def test_live_429_storm_is_exit_5_quickly(
    emu: GladiaEmulator, paths: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    emu.init_failures = [429] * 50
    started = time.monotonic()
    result = gladia(capsys, "transcribe", paths["wav"], "--realtime", "--speed", "0")
    assert time.monotonic() - started < 15
    assert_error(result, ExitCode.API, "rate limiting", "429", "wait a moment and retry")
    assert 1 < len(emu.init_requests) < 50  # retried, then given up


def test_prerecorded_429_storm_is_exit_5_quickly(
    emu: GladiaEmulator, paths: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    emu.prerecorded.rate_limit_next = 200
    started = time.monotonic()
    result = gladia(capsys, "transcribe", paths["wav"])
    assert time.monotonic() - started < 15
    assert_error(result, ExitCode.API, "rate limiting", "429", "wait a moment and retry")


def test_batch_429_storm_is_exit_6_with_the_reason(
    emu: GladiaEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from gladia_cli import batch

    # A batch waits out about 40 s of 429s with its default 10 attempts; 3 keep this test short, same reporting.
    monkeypatch.setattr(batch, "BATCH_MAX_ATTEMPTS", 3)
    emu.prerecorded.rate_limit_next = 1000
    inputs = [str(write_wav(tmp_path / f"{name}.wav", 0.3)[0]) for name in ("a", "b")]
    started = time.monotonic()
    result = gladia(capsys, "transcribe", *inputs, "--output-dir", str(tmp_path / "out"))
    assert time.monotonic() - started < 30
    assert result.code == ExitCode.BATCH_FAILED, result.stderr
    failed = [line for line in result.stderr.splitlines() if "FAILED" in line]
    assert len(failed) == 2 and all("429" in line for line in failed), result.stderr
    assert "0 ok, 0 skipped, 2 failed" in result.stderr


@pytest.mark.slow  # seconds of its own: out of the inner loop
def test_live_500_storm_is_exit_5(
    emu: GladiaEmulator, paths: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    emu.init_failures = [500] * 50
    started = time.monotonic()
    result = gladia(capsys, "transcribe", paths["wav"], "--realtime", "--speed", "0")
    assert time.monotonic() - started < 20
    assert_error(result, ExitCode.API, "500")
    assert 1 < len(emu.init_requests) < 50


@pytest.mark.parametrize(
    ("args", "needles"),
    named(
        [
            (("result", UNKNOWN_ID), ("no such job", UNKNOWN_ID, "gladia list")),
            (("delete", UNKNOWN_ID, "--yes"), ("no such job", UNKNOWN_ID, "gladia list")),
            (("audio", UNKNOWN_ID, "-O", "{tmp}/saved.wav"), ("no audio for job", UNKNOWN_ID, "unknown job")),
        ]
    ),
)
def test_unknown_id_is_exit_5(
    emu: GladiaEmulator,
    paths: dict[str, str],
    capsys: pytest.CaptureFixture[str],
    args: tuple[str, ...],
    needles: tuple[str, ...],
) -> None:
    result = gladia(capsys, *_expand(args, paths))
    assert_error(result, ExitCode.API, *needles)
    assert not (Path(paths["tmp"]) / "saved.wav").exists()


def test_malformed_and_unknown_websocket_messages_are_ignored(
    emu: GladiaEmulator, paths: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    emu.extra_messages = [{"type": "brand_new_feature", "data": {"x": 1}}, {"no_type": True}]
    emu.raw_text_frames = [
        "{not json",
        "[1, 2]",
        "null",
        '{"type": "transcript", "data": null}',
        '{"type": "transcript", "data": {"is_final": true, "utterance": "oops"}}',
    ]
    result = gladia(capsys, "transcribe", paths["wav"], "--realtime", "--speed", "0")
    assert result.code == 0, result.stderr
    assert result.stdout.splitlines() == EMULATOR_FINALS
    assert "gladia: error:" not in result.stderr
    assert all(line.startswith("gladia:") for line in result.stderr.splitlines() if line.strip())


def test_listen_ignores_malformed_websocket_messages(mic: GladiaEmulator, capsys: pytest.CaptureFixture[str]) -> None:
    mic.extra_messages = [{"type": "brand_new_feature", "data": {"x": 1}}]
    mic.raw_text_frames = ["{not json", "[1, 2]"]
    result = gladia(capsys, "listen", "--duration", "1")
    assert result.code == 0, result.stderr
    assert result.stdout.splitlines() == EMULATOR_FINALS
    assert "gladia: error:" not in result.stderr


@pytest.mark.slow  # seconds of its own: out of the inner loop
@pytest.mark.timeout(40)
def test_live_init_that_never_answers_is_exit_4(
    emu: GladiaEmulator, paths: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    emu.http_hang_seconds = 60
    started = time.monotonic()
    result = gladia(capsys, "transcribe", paths["wav"], "--realtime", "--speed", "0")
    elapsed = time.monotonic() - started
    assert elapsed < 20, f"took {elapsed:.1f} s"
    assert_error(result, ExitCode.NETWORK, "did not answer within")
    assert len(emu.http_requests) == 1  # creating a session is not retried after a timeout: it may exist


@pytest.mark.slow  # seconds of its own: out of the inner loop
def test_rest_call_that_never_answers_is_exit_4(
    emu: GladiaEmulator, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from gladia_cli.api import GladiaApi

    # The per-request timeout (10 s) is cut to 0.5 s so the retries fit in the test; their count is unchanged.
    monkeypatch.setitem(GladiaApi.request.__kwdefaults__, "timeout", 0.5)
    emu.http_hang_seconds = 60
    started = time.monotonic()
    result = gladia(capsys, "list")
    assert time.monotonic() - started < 15
    assert_error(result, ExitCode.NETWORK, "did not answer within")


@pytest.mark.slow  # seconds of its own: out of the inner loop
@pytest.mark.parametrize("command", [("list",), ("result", UNKNOWN_ID)])
def test_ctrl_c_during_a_hung_request_says_aborted(
    emu: GladiaEmulator, tmp_path: Path, command: tuple[str, ...]
) -> None:
    import signal
    import subprocess
    import sys

    emu.http_hang_seconds = 60
    env = {**os.environ, "GLADIA_API_KEY": "test-key", "GLADIA_API_URL": emu.base_url, "HOME": str(tmp_path)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "gladia_cli", *command],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 20
    while not emu.http_requests and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=20)
    assert_error(_check_output(Result(proc.returncode, out, err)), ExitCode.ABORTED, "aborted")


def test_websocket_that_never_answers_is_exit_4(
    emu: GladiaEmulator, paths: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    emu.silent = True  # accepts the audio, never acknowledges, never finishes
    started = time.monotonic()
    result = gladia(capsys, "transcribe", paths["wav"], "--realtime", "--speed", "0", "--finish-timeout", "1")
    assert time.monotonic() - started < 15
    line = assert_error(result, ExitCode.NETWORK, "did not finish within 1 s", "gladia result", alone=False)
    assert emu.only_session().id in line


# --------------------------------------------------------------------------------------------------------------------
# The real process: same exit codes, one line, no traceback
# --------------------------------------------------------------------------------------------------------------------


def test_process_missing_file(emu: GladiaEmulator, tmp_path: Path) -> None:
    result = gladia_process("transcribe", str(tmp_path / UNICODE_NAME), "--realtime")
    assert_error(result, ExitCode.USAGE, "no such file", UNICODE_NAME)
    assert_no_request(emu)


@pytest.mark.slow  # seconds of its own: out of the inner loop
def test_process_unreachable_api_within_bounded_time(emu: GladiaEmulator, tmp_path: Path) -> None:
    started = time.monotonic()
    result = gladia_process("list", "--api-url", closed_port_url(), timeout=30)
    assert time.monotonic() - started < 20
    assert_error(result, ExitCode.NETWORK, "cannot reach")


def test_process_rejected_key(emu: GladiaEmulator) -> None:
    result = gladia_process("result", UNKNOWN_ID, env={"GLADIA_API_KEY": WRONG_KEY})
    assert_error(result, ExitCode.AUTH, "refused the API key", "401")


def test_process_delete_without_yes_when_stdin_is_not_a_terminal(emu: GladiaEmulator) -> None:
    result = gladia_process("delete", UNKNOWN_ID)
    assert_error(result, ExitCode.USAGE, "without confirmation", "--yes")
    assert_no_request(emu)


def test_process_auth_set_with_empty_stdin(emu: GladiaEmulator) -> None:
    result = gladia_process("auth", "set")
    assert_error(result, ExitCode.USAGE, "API key is empty")


def test_process_completion_for_an_unknown_shell(emu: GladiaEmulator) -> None:
    result = gladia_process("completion", "powershell")
    assert_error(result, ExitCode.USAGE, "powershell", "bash")


def test_process_listen_unknown_device(virtual_mic: VirtualMic, emu: GladiaEmulator) -> None:
    result = gladia_process("listen", "--device", "nope", env=virtual_mic.env)
    assert_error(result, ExitCode.USAGE, "no input device matches 'nope'", "gladia devices")
    assert_no_request(emu)


def test_process_devices_without_any_audio_server(tmp_path: Path) -> None:
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    env = {"XDG_RUNTIME_DIR": str(runtime), "PULSE_SERVER": f"unix:{runtime}/no-such-socket", "HOME": str(tmp_path)}
    result = gladia_process("devices", env=env)
    if result.code == 0:
        pytest.skip("this machine has a real input device")
    assert_error(result, ExitCode.USAGE, "no input device found", "PulseAudio")


# --------------------------------------------------------------------------------------------------------------------
# Last: no run printed a key
# --------------------------------------------------------------------------------------------------------------------


def test_zz_no_run_in_this_file_printed_an_api_key() -> None:
    if not OUTPUTS:
        pytest.skip("no run was recorded (this test was run alone)")
    leaked = [text for text in OUTPUTS if any(key in text for key in KEYS)]
    assert leaked == [], f"{len(leaked)} of {len(OUTPUTS)} runs printed a key"


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_stdout_on_a_full_disk_says_so(tmp_path: Path) -> None:
    import subprocess
    import sys

    with open("/dev/full", "w") as full:
        proc = subprocess.run(
            [sys.executable, "-m", "gladia_cli", "languages"],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=30,
        )
    assert proc.returncode == ExitCode.UNEXPECTED
    assert "No space left on device" in one_line_error(Result(proc.returncode, "", proc.stderr))


def test_a_terminal_on_stdin_is_refused_as_audio(emu: GladiaEmulator) -> None:
    """`gladia transcribe - --realtime` typed at a prompt: a terminal holds no audio (checked by the command)."""
    import pty
    import subprocess
    import sys

    main, secondary = pty.openpty()
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "gladia_cli", "transcribe", "-", "--realtime"],
            stdin=secondary,
            capture_output=True,
            text=True,
            timeout=60,
            env=dict(os.environ),
        )
    finally:
        os.close(secondary)
        os.close(main)
    assert proc.returncode == ExitCode.USAGE, proc.stderr
    line = one_line_error(Result(proc.returncode, proc.stdout, proc.stderr))
    assert "stdin is a terminal, not audio" in line and "pipe audio in" in line
    assert_no_request(emu)


# ---------------------------------------------------------------------------------------------------------------
# A refused value in our words, whatever Typer converts values with (pydantic since 0.2x, click before)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("listen", "-o", "xml"), "'xml' is not one of text, json, json-full, srt, vtt, md, jsonl"),
        (("listen", "--duration", "abc"), "Invalid value for '--duration': 'abc' is not a number"),
        (("listen", "--chunk-ms", "x"), "Invalid value for '--chunk-ms': 'x' is not a whole number"),
        (("list", "--kind", "foo"), "'foo' is not one of live, pre-recorded"),
        (("config", "set", "output", "xml"), "invalid value for output: 'xml' is not one of text, json"),
    ],
)
def test_a_refused_value_reads_as_our_own_line(
    api_env: GladiaEmulator, capsys: pytest.CaptureFixture[str], args: tuple[str, ...], expected: str
) -> None:
    result = invoke(capsys, *args)
    assert result.code == ExitCode.USAGE
    line = one_line_error(result)
    assert expected in line, line
    for internals in ("Value error", "Input should", "valid float", "valid integer", "'.;", ".;", "..", "'text'"):
        assert internals not in line, line


def test_choices_are_taken_in_any_case(
    api_env: GladiaEmulator, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    api_env.prerecorded.polls_before_done = 0
    wav, _ = write_wav(tmp_path / "a.wav", 1.0)
    result = invoke(capsys, "transcribe", str(wav), "-o", "SRT")
    assert result.code == 0, result.stderr
    assert result.stdout.startswith("1\n00:00:")
    listed = invoke(capsys, "list", "--kind", "Pre-Recorded")
    assert listed.code == 0, listed.stderr


# ---------------------------------------------------------------------------------------------------------------
# An error blames what is wrong, and names where it came from


def test_an_unreachable_url_names_where_the_url_came_from(capsys: pytest.CaptureFixture[str], monkeypatch) -> None:
    monkeypatch.setenv("GLADIA_API_KEY", "test-key")
    monkeypatch.setenv("GLADIA_API_URL", "http://127.0.0.1:9")
    result = invoke(capsys, "list")
    assert result.code == ExitCode.NETWORK
    assert "the URL given by GLADIA_API_URL" in one_line_error(result)
    flagged = invoke(capsys, "list", "--api-url", "http://127.0.0.1:9")
    assert "the URL given by --api-url" in one_line_error(flagged)


def test_a_url_that_is_not_gladias_api_says_so_once(
    emulator: GladiaEmulator, capsys: pytest.CaptureFixture[str], monkeypatch
) -> None:
    monkeypatch.setenv("GLADIA_API_KEY", "test-key")
    monkeypatch.setenv("GLADIA_API_URL", emulator.base_url + "/not-the-api")
    result = invoke(capsys, "list")
    assert result.code == ExitCode.API
    line = one_line_error(result)
    assert "answered 404 (Not found" in line and "404: 404" not in line, line
    assert "is it Gladia's API? check the URL given by GLADIA_API_URL" in line


def test_without_a_sound_server_every_command_says_that_and_not_what_is_installed(tmp_path: Path) -> None:
    """No PulseAudio answering (its socket names nothing): `devices`, `listen` and `--system-audio` say the server
    is not running, in the same words, instead of advising to install packages that are there."""
    import shutil

    if shutil.which("pactl") is None:
        pytest.skip("pactl is not installed")  # then the advice to install it is the right one
    env = {
        "PULSE_SERVER": f"unix:{tmp_path / 'no-such-socket'}",
        "XDG_RUNTIME_DIR": str(tmp_path),
        "HOME": str(tmp_path),
        "GLADIA_API_KEY": "test-key",
    }
    listed = run("devices", env=env)
    if listed.code == 0:
        pytest.skip("PortAudio lists inputs without PulseAudio here (a sound card)")
    said = {one_line_error(listed)}
    for args in (
        ("listen", "--duration", "1"),
        ("listen", "-d", "mic", "--duration", "1"),
        ("listen", "--system-audio"),
    ):
        result = run(*args, env=env)
        assert result.code == ExitCode.USAGE, result.stderr
        said.add(one_line_error(result))
    for line in said:
        assert "no sound server is running" in line, line
        assert "apt install pulseaudio-utils" not in line, line
