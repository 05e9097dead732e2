"""`gladia doctor` against the emulator and the PulseAudio virtual microphone: all ok, then each failure it names."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_runner import Result, invoke
from emulator import GladiaEmulator
from wavs import write_wav

from gladia_cli.cli import doctor
from gladia_cli.cli.doctor import Check, Options

if __package__:  # tests/ imported as a package
    from .virtual_mic import VirtualMic, virtual_mic
else:  # rootdir-relative import of tests/ (no __init__.py)
    from virtual_mic import VirtualMic, virtual_mic

__all__ = ["virtual_mic"]  # the fixture is used by name, not referenced

NAMES = [
    "python",
    "packages",
    "portaudio",
    "input devices",
    "listen",
    "ffmpeg",
    "ffprobe",
    "api key",
    "gladia api",
    "region",
]


@pytest.fixture
def tone(virtual_mic: VirtualMic, tmp_path: Path) -> Iterator[VirtualMic]:
    """A 440 Hz tone (peak about -8 dBFS) looped into the virtual mic while the test runs."""
    wav, _ = write_wav(tmp_path / "tone.wav", 2.0)
    virtual_mic.play(wav, loop=True)
    time.sleep(0.3)  # paplay connected and the source carries the tone before the listen starts
    try:
        yield virtual_mic
    finally:
        virtual_mic.stop_playing()


def lines(result: Result) -> dict[str, str]:
    """{check name: its line} from the plain (not a terminal) report."""
    out = {}
    for text in result.stdout.splitlines():
        if text.startswith(("ok   ", "FAIL ")):
            name = next(n for n in NAMES if text[5:].startswith(n + " "))
            out[name] = text
    return out


def failed(result: Result) -> set[str]:
    return {name for name, text in lines(result).items() if text.startswith("FAIL")}


def closed_port_url() -> str:
    with socket.socket() as s:  # bound, never listening, closed: connections to it are refused
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_all_checks_pass(api_env: GladiaEmulator, tone: VirtualMic, capsys) -> None:
    result = invoke(capsys, "doctor")
    assert result.code == 0, result.stdout
    assert list(lines(result)) == NAMES, result.stdout
    assert not failed(result), result.stdout
    assert result.stderr == ""
    listen = lines(result)["listen"]
    assert "dBFS" in listen and "silent" not in listen
    assert "test-key" not in result.stdout
    assert "from GLADIA_API_KEY" in lines(result)["api key"]
    assert ("GET", "/v2/live") in api_env.http_requests


def test_json_for_scripts(api_env: GladiaEmulator, tone: VirtualMic, capsys) -> None:
    result = invoke(capsys, "doctor", "--json", "--region", "eu-west")
    assert result.code == 0, result.stdout
    data = json.loads(result.stdout)
    assert data["ok"] is True
    assert [c["name"] for c in data["checks"]] == NAMES
    assert all(set(c) == {"name", "ok", "detail", "fix"} for c in data["checks"])
    region = next(c for c in data["checks"] if c["name"] == "region")
    assert "eu-west" in region["detail"] and "--region" in region["detail"]


def test_no_key(api_env: GladiaEmulator, tone: VirtualMic, capsys, monkeypatch) -> None:
    monkeypatch.delenv("GLADIA_API_KEY")
    result = invoke(capsys, "doctor")
    assert result.code == 1
    assert failed(result) == {"api key"}, result.stdout
    assert "fix:" in result.stdout and "gladia auth set" in result.stdout
    assert "reachable" in lines(result)["gladia api"]


def test_refused_key_is_masked(api_env: GladiaEmulator, tone: VirtualMic, capsys, monkeypatch) -> None:
    monkeypatch.setenv("GLADIA_API_KEY", "wrong-key-0123456789")
    result = invoke(capsys, "doctor", "--json")
    assert result.code == 1
    checks = {c["name"]: c for c in json.loads(result.stdout)["checks"]}
    assert not checks["gladia api"]["ok"] and "401" in checks["gladia api"]["detail"]
    assert checks["gladia api"]["fix"]
    assert "wrong-key-0123456789" not in result.stdout + result.stderr
    assert "wron" in checks["api key"]["detail"]  # masked: enough to tell keys apart


def test_silent_device(api_env: GladiaEmulator, virtual_mic: VirtualMic, capsys) -> None:
    virtual_mic.stop_playing()
    result = invoke(capsys, "doctor", "--device", "pulse")
    assert result.code == 1
    assert failed(result) == {"listen"}, result.stdout
    assert "silent" in lines(result)["listen"] and "'pulse'" in lines(result)["listen"]
    assert "unmute" in result.stdout


def test_unreachable_url(api_env: GladiaEmulator, tone: VirtualMic, capsys) -> None:
    url = closed_port_url()
    result = invoke(capsys, "doctor", "--api-url", url)
    assert result.code == 1
    assert failed(result) == {"gladia api"}, result.stdout
    assert url in lines(result)["gladia api"]
    assert "Traceback" not in result.stdout + result.stderr


def test_unknown_device_and_bad_region_fail_their_own_line(api_env: GladiaEmulator, virtual_mic: VirtualMic, capsys):
    result = invoke(capsys, "doctor", "--device", "no-such-microphone", "--region", "mars")
    assert result.code == 1
    assert failed(result) == {"listen", "region"}, result.stdout
    assert "gladia devices" in result.stdout and "eu-west" in result.stdout


def test_a_crashing_check_does_not_stop_the_others(monkeypatch) -> None:
    def broken(_: Options) -> Check:
        raise RuntimeError("boom")

    def fine(_: Options) -> Check:
        return Check("fine", True, "ok")

    monkeypatch.setattr(doctor, "LOCAL_CHECKS", (("broken", broken), ("fine", fine)))
    monkeypatch.setattr(doctor, "NETWORK_CHECKS", (("also broken", broken),))
    checks = list(doctor.run(Options()))
    assert [(c.name, c.ok) for c in checks] == [("broken", False), ("fine", True), ("also broken", False)]
    assert "RuntimeError" in checks[0].detail and checks[0].fix


def test_marks_at_a_terminal_and_in_a_pipe() -> None:
    bad = Check("ffmpeg", False, "not on PATH", "install it")
    assert doctor.line(Check("python", True, "3.11"), symbols=True).startswith("✓ python ")
    assert doctor.line(bad, symbols=True).splitlines()[0].startswith("✗ ffmpeg ")
    plain = doctor.line(bad, symbols=False)
    assert (
        plain.isascii()
        and plain.startswith("FAIL ffmpeg ")
        and plain.splitlines()[1].split() == ["fix:", "install", "it"]
    )
