"""`gladia listen` for real: PortAudio capture from a virtual PulseAudio microphone, streamed to the emulator."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from cli_runner import one_line_error, run
from emulator import GladiaEmulator
from virtual_mic import VirtualMic, virtual_mic
from wavs import write_wav

from gladia_cli.audio import g711
from gladia_cli.audio.files import FormatRequest, open_audio_file
from gladia_cli.errors import ExitCode

__all__ = ["virtual_mic"]  # the fixture is used by name

FINALS = ["Hello world.", "This is the Gladia emulator.", "Goodbye."]


def _env(mic: VirtualMic, emulator: GladiaEmulator, tmp_path: Path) -> dict[str, str]:
    return {
        **mic.env,
        "GLADIA_API_KEY": "test-key",
        "GLADIA_API_URL": emulator.base_url,
        "HOME": str(tmp_path),
    }


def _rms(pcm: bytes, dtype: str = "<i2") -> float:
    samples = np.frombuffer(pcm, dtype=dtype).astype(np.float64)
    return float(np.sqrt(np.mean(samples**2))) if samples.size else 0.0


@pytest.fixture
def tone_playing(virtual_mic: VirtualMic, tmp_path: Path):
    wav, _ = write_wav(tmp_path / "tone.wav", 2.0, rate=48000, channels=2)
    virtual_mic.play(wav, loop=True)
    yield virtual_mic
    virtual_mic.stop_playing()


def test_listen_streams_non_silent_audio_of_the_declared_format(
    tone_playing: VirtualMic, emulator: GladiaEmulator, tmp_path: Path
) -> None:
    result = run("listen", "--duration", "3", "-l", "en", env=_env(tone_playing, emulator, tmp_path))
    assert result.code == 0, result.stderr
    assert result.stdout.splitlines() == FINALS
    body = emulator.init_requests[0].body
    assert (body["encoding"], body["sample_rate"], body["channels"], body["bit_depth"]) == ("wav/pcm", 16000, 1, 16)
    session = emulator.only_session()
    assert len(session.audio) == 3 * 16000 * 2  # --duration counts audio, to the frame
    assert session.stop_count == 1
    assert _rms(bytes(session.audio[16000:])) > 1000  # the tone, not silence


def test_listen_48k_stereo(tone_playing: VirtualMic, emulator: GladiaEmulator, tmp_path: Path) -> None:
    args = ["listen", "--duration", "1", "--sample-rate", "48000", "--channels", "2"]
    result = run(*args, env=_env(tone_playing, emulator, tmp_path))
    assert result.code == 0, result.stderr
    body = emulator.init_requests[0].body
    assert (body["sample_rate"], body["channels"]) == (48000, 2)
    audio = bytes(emulator.only_session().audio)
    assert len(audio) == 48000 * 4
    left, right = np.frombuffer(audio, "<i2").reshape(-1, 2).T
    assert _rms(left.tobytes()) > 1000 and _rms(right.tobytes()) > 1000


@pytest.mark.parametrize("kind", ["alaw", "ulaw"])
def test_listen_g711_encodes_the_capture(
    tone_playing: VirtualMic, emulator: GladiaEmulator, tmp_path: Path, kind: str
) -> None:
    record = tmp_path / "mic.wav"
    args = ["listen", "--duration", "2", "--encoding", f"wav/{kind}", "--sample-rate", "8000", "--record", str(record)]
    result = run(*args, env=_env(tone_playing, emulator, tmp_path))
    assert result.code == 0, result.stderr
    body = emulator.init_requests[0].body
    assert (body["encoding"], body["sample_rate"], body["channels"], body["bit_depth"]) == (f"wav/{kind}", 8000, 1, 8)
    audio = bytes(emulator.only_session().audio)
    assert len(audio) == 2 * 8000  # one byte a sample
    assert _rms(g711.decode(audio[8000:], kind)) > 1000  # the tone, encoded, not silence or noise
    with open_audio_file(record, FormatRequest()) as copy:  # --record keeps what was sent, labelled as such
        assert copy.format.encoding == f"wav/{kind}" and b"".join(copy.chunks()) == audio


def test_ctrl_c_sends_everything_captured(tone_playing: VirtualMic, emulator: GladiaEmulator, tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "gladia_cli", "listen"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env={**os.environ, **_env(tone_playing, emulator, tmp_path)},
    )
    assert emulator.wait_until(lambda: any(len(s.audio) >= 32000 for s in emulator.sessions.values()), timeout=20)
    proc.send_signal(signal.SIGINT)
    try:
        out, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        pytest.fail(f"gladia listen did not end after Ctrl-C; stderr: {err!r}; emulator: {emulator.sessions!r}")
    assert proc.returncode == 0, err
    session = emulator.only_session()
    assert session.stop_count == 1
    assert len(session.audio) >= 32000 and len(session.audio) % 2 == 0
    assert out.splitlines() == FINALS


def test_devices_lists_the_virtual_mic(virtual_mic: VirtualMic, tmp_path: Path) -> None:
    result = run("devices", env={**virtual_mic.env, "HOME": str(tmp_path)})
    assert result.code == 0, result.stderr
    rows = [line.split("\t") for line in result.stdout.splitlines()]
    assert any(row[1] == "*" for row in rows)
    assert any(row[2] in ("pulse", "default") for row in rows)


def test_unknown_device_is_exit_2(virtual_mic: VirtualMic, emulator: GladiaEmulator, tmp_path: Path) -> None:
    result = run("listen", "--device", "no-such-mic", env=_env(virtual_mic, emulator, tmp_path))
    assert result.code == ExitCode.USAGE
    assert "gladia devices" in one_line_error(result)
    assert emulator.http_requests == []


def test_no_input_device_at_all(emulator: GladiaEmulator, tmp_path: Path) -> None:
    runtime = tmp_path / "runtime"
    runtime.mkdir()
    env = {
        "XDG_RUNTIME_DIR": str(runtime),
        "PULSE_SERVER": "unix:/nonexistent",
        "HOME": str(tmp_path),
        "GLADIA_API_KEY": "test-key",
        "GLADIA_API_URL": emulator.base_url,
    }
    result = run("listen", env=env)
    assert result.code == ExitCode.USAGE
    line = one_line_error(result)
    assert "no input device found" in line and "no sound server is running" in line
    assert "-1" not in line  # not PortAudio's "Error querying device -1"
    assert emulator.http_requests == []
    devices = run("devices", env=env)
    assert devices.code == ExitCode.USAGE
    assert "no input device found" in one_line_error(devices)
