"""Transcribing the whole call, for real: system audio (a PulseAudio monitor), several inputs as the channels of one
session (kept in step), channel names in every output, and audio on stdin; against the emulator and the private
PulseAudio of virtual_mic.py."""

from __future__ import annotations

import itertools
import json
import os
import pty
import shutil
import struct
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest
from cli_runner import Result, one_line_error, run
from emulator import GladiaEmulator
from virtual_mic import SINK, SINK2, VirtualMic, virtual_mic

from gladia_cli.errors import ExitCode

__all__ = ["virtual_mic"]  # the fixture is used by name

CALL_SINK = "callsink"  # a stereo output whose left and right are two separate sources: one clock, a known offset (0)


def _env(mic: VirtualMic | None, emulator: GladiaEmulator, tmp_path: Path) -> dict[str, str]:
    return {
        **(mic.env if mic else {}),
        "GLADIA_API_KEY": "test-key",
        "GLADIA_API_URL": emulator.base_url,
        "HOME": str(tmp_path),
    }


def _write(path: Path, samples: np.ndarray, rate: int) -> Path:
    """float samples (frames x channels) as a 16-bit WAV."""
    frames = samples.reshape(len(samples), -1)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(frames.shape[1])
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((np.clip(frames, -1, 1) * 32767).astype("<i2").tobytes())
    return path


def _bursts(freq: float, seconds: float, rate: int = 48000, period: float = 1.0, on: float = 0.25) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return 0.5 * np.sin(2 * np.pi * freq * t) * ((t % period) < on)


def _pactl(mic: VirtualMic, *args: str) -> str:
    done = subprocess.run(["pactl", *args], env=mic._child_env(), capture_output=True, text=True, timeout=10)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def call_sources(virtual_mic: VirtualMic):
    """A stereo sink whose left channel is source `call_left` and right channel `call_right`."""
    modules = [
        _pactl(virtual_mic, "load-module", "module-null-sink", f"sink_name={CALL_SINK}", "channels=2").strip(),
        *(
            _pactl(
                virtual_mic,
                "load-module",
                "module-remap-source",
                f"master={CALL_SINK}.monitor",
                f"source_name=call_{side}",
                "channels=1",
                f"master_channel_map=front-{side}",
                "channel_map=mono",
                "remix=no",
            ).strip()
            for side in ("left", "right")
        ),
    ]
    keepalive = subprocess.Popen(
        ["parec", f"--device={CALL_SINK}.monitor", "--latency-msec=20", "--raw"],
        env=virtual_mic._child_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    yield virtual_mic
    keepalive.terminate()
    keepalive.wait(timeout=5)
    for module in reversed(modules):
        subprocess.run(["pactl", "unload-module", module], env=virtual_mic._child_env(), timeout=10, check=False)


def _spectrum(samples: np.ndarray, rate: int, bands: int = 40, top: float = 4000.0) -> np.ndarray:
    """The average magnitude spectrum in `bands` bands up to `top` Hz, unit length: what was said, not how loud."""
    size = 1024
    frames = [samples[i : i + size] for i in range(0, len(samples) - size, size // 2)]
    power = np.mean([np.abs(np.fft.rfft(f * np.hanning(size))) for f in frames], axis=0)
    freqs = np.fft.rfftfreq(size, 1 / rate)
    edges = np.linspace(0, top, bands + 1)
    banded = np.array([power[(freqs >= lo) & (freqs < hi)].sum() for lo, hi in itertools.pairwise(edges)])
    return banded / np.linalg.norm(banded)


def _columns(audio: bytes, channels: int) -> np.ndarray:
    return np.frombuffer(audio, "<i2").reshape(-1, channels).T.astype(np.float64) / 32768.0


def _tone_level(signal: np.ndarray, freq: float, rate: int) -> float:
    """The share of the signal's power within 30 Hz of `freq`."""
    power = np.abs(np.fft.rfft(signal * np.hanning(len(signal)))) ** 2
    freqs = np.fft.rfftfreq(len(signal), 1 / rate)
    return float(power[np.abs(freqs - freq) < 30].sum() / max(power.sum(), 1e-12))


# -- system audio -------------------------------------------------------------------------------------------------


def test_devices_lists_what_the_computer_plays(virtual_mic: VirtualMic, tmp_path: Path) -> None:
    result = run("devices", env={**virtual_mic.env, "HOME": str(tmp_path)})
    assert result.code == 0, result.stderr
    rows = [line.split("\t") for line in result.stdout.splitlines()]
    monitors = {row[2]: row for row in rows if row[-1] == "PulseAudio monitor"}
    assert f"{SINK}.monitor" in monitors and f"{SINK2}.monitor" in monitors, result.stdout
    assert monitors[f"{SINK}.monitor"][0] == "-"  # recorded by name, not by a PortAudio index
    assert any(row[2] == "virtmic2" and row[-1] == "PulseAudio" for row in rows), result.stdout


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="needs espeak-ng for speech")
def test_system_audio_captures_what_is_played(
    virtual_mic: VirtualMic, emulator: GladiaEmulator, tmp_path: Path
) -> None:
    speech = tmp_path / "speech.wav"
    text = "The quarterly numbers look good, and the launch is on track for next week."
    subprocess.run(["espeak-ng", "-w", str(speech), text], check=True, capture_output=True, timeout=30)
    virtual_mic.play(speech, loop=True)  # into the default output, virtmic_sink
    try:
        result = run("listen", "--system-audio", "--duration", "4", env=_env(virtual_mic, emulator, tmp_path))
    finally:
        virtual_mic.stop_playing()
    assert result.code == 0, result.stderr
    received = np.frombuffer(bytes(emulator.only_session().audio), "<i2").astype(np.float64) / 32768.0
    assert len(received) == 4 * 16000
    assert np.sqrt(np.mean(received[8000:] ** 2)) > 0.01  # not silence
    with wave.open(str(speech)) as w:
        rate = w.getframerate()
        played = np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(np.float64) / 32768.0
    similarity = float(_spectrum(received[8000:], 16000) @ _spectrum(played, rate))
    assert similarity > 0.9, similarity


def test_device_matches_a_monitor_by_name(virtual_mic: VirtualMic, emulator: GladiaEmulator, tmp_path: Path) -> None:
    tone = _write(tmp_path / "t.wav", 0.5 * np.sin(2 * np.pi * 700 * np.arange(48000) / 48000), 48000)
    virtual_mic.play(tone, loop=True, sink=SINK2)
    try:
        result = run("listen", "-d", f"{SINK2}.monitor", "--duration", "2", env=_env(virtual_mic, emulator, tmp_path))
    finally:
        virtual_mic.stop_playing()
    assert result.code == 0, result.stderr
    received = _columns(bytes(emulator.only_session().audio), 1)[0][8000:]
    assert _tone_level(received, 700, 16000) > 0.5


# -- several inputs -----------------------------------------------------------------------------------------------


def _onsets(signal: np.ndarray, rate: int) -> np.ndarray:
    """The envelope (10 ms RMS) of a channel, for finding where its bursts start."""
    hop = rate // 100
    usable = len(signal) // hop * hop
    return np.sqrt(np.mean(signal[:usable].reshape(-1, hop) ** 2, axis=1))


def _lag_seconds(a: np.ndarray, b: np.ndarray, rate: int) -> float:
    """How much later b's bursts are than a's, from the envelopes' cross-correlation within ±0.5 s."""
    ea, eb = _onsets(a, rate), _onsets(b, rate)
    ea, eb = (ea - ea.mean()) / ea.std(), (eb - eb.mean()) / eb.std()
    lags = range(-50, 51)
    scores = [float(np.dot(ea[max(0, -k) : len(ea) - max(0, k)], eb[max(0, k) : len(eb) - max(0, -k)])) for k in lags]
    return lags[int(np.argmax(scores))] / 100


def test_two_inputs_are_two_channels_in_step(
    call_sources: VirtualMic, emulator: GladiaEmulator, tmp_path: Path
) -> None:
    emulator.spread_channels = True
    left, right = _bursts(440, 4.0), _bursts(1000, 4.0)
    call = _write(tmp_path / "call.wav", np.stack([left, right], axis=1), 48000)
    call_sources.play(call, loop=True, sink=CALL_SINK)
    try:
        args = ["listen", "--device", "call_left", "--device", "call_right", "--duration", "8"]
        result = run(*args, env=_env(call_sources, emulator, tmp_path))
    finally:
        call_sources.stop_playing()
    assert result.code == 0, result.stderr
    body = emulator.init_requests[0].body
    assert (body["channels"], body["sample_rate"]) == (2, 16000)
    ch0, ch1 = _columns(bytes(emulator.only_session().audio), 2)
    assert len(ch0) == 8 * 16000
    ch0, ch1 = ch0[16000:], ch1[16000:]  # past the start, where the inputs are brought in step
    assert _tone_level(ch0, 440, 16000) > 0.5 and _tone_level(ch0, 1000, 16000) < 0.01
    assert _tone_level(ch1, 1000, 16000) > 0.5 and _tone_level(ch1, 440, 16000) < 0.01
    lag = _lag_seconds(ch0, ch1, 16000)
    assert abs(lag) <= 0.1, lag  # in step within one chunk (100 ms); measured here: see bench/results.md
    # Default names: the devices'. The emulator says utterance i on channel i % 2.
    lines = result.stdout.splitlines()
    assert lines[:2] == ["call_left: Hello world.", "call_right: This is the Gladia emulator."], lines

    session_id = emulator.only_session().id
    env = _env(None, emulator, tmp_path)
    srt = run("result", session_id, "-o", "srt", "--channel-names", "me,them", env=env)
    assert srt.code == 0, srt.stderr
    assert "[me] Hello world." in srt.stdout and "[them] This is the Gladia emulator." in srt.stdout, srt.stdout
    vtt = run("result", session_id, "-o", "vtt", "--channel-names", "me,them", env=env)
    assert "<v me>Hello world." in vtt.stdout, vtt.stdout
    as_json = json.loads(run("result", session_id, "-o", "json", "--channel-names", "me,them", env=env).stdout)
    assert [(u["channel"], u["channel_name"]) for u in as_json["utterances"]][:2] == [(0, "me"), (1, "them")]
    plain = run("result", session_id, env=env)
    assert plain.stdout.splitlines()[:2] == ["[ch0] Hello world.", "[ch1] This is the Gladia emulator."]


def test_channel_names_label_the_live_output(
    call_sources: VirtualMic, emulator: GladiaEmulator, tmp_path: Path
) -> None:
    emulator.spread_channels = True
    record = tmp_path / "call.wav"
    args = ["listen", "-d", "call_left", "--system-audio", "--channel-names", "me,them", "--duration", "2"]
    result = run(*args, "-o", "jsonl", "--record", str(record), env=_env(call_sources, emulator, tmp_path))
    assert result.code == 0, result.stderr
    finals = [
        json.loads(line)["data"]["utterance"]
        for line in result.stdout.splitlines()
        if '"is_final":true' in line.replace(" ", "")
    ]
    assert [(u["channel"], u["channel_name"]) for u in finals][:2] == [(0, "me"), (1, "them")], finals
    with wave.open(str(record)) as w:  # --record keeps every channel
        assert (w.getnchannels(), w.getframerate()) == (2, 16000)
        assert w.getnframes() * 4 == len(emulator.only_session().audio)


def test_too_many_names_and_conflicting_channels_are_refused(virtual_mic: VirtualMic, tmp_path: Path) -> None:
    env = {
        **virtual_mic.env,
        "HOME": str(tmp_path),
        "GLADIA_API_KEY": "test-key",
        "GLADIA_API_URL": "http://127.0.0.1:9",
    }
    names = run("listen", "-d", "virtmic", "-d", "virtmic2", "--channel-names", "a,b,c", env=env)
    assert names.code == ExitCode.USAGE and "3 names for 2 channel(s)" in one_line_error(names)
    channels = run("listen", "-d", "virtmic", "-d", "virtmic2", "--channels", "1", env=env)
    assert channels.code == ExitCode.USAGE and "--channels 1" in one_line_error(channels)


# -- stdin --------------------------------------------------------------------------------------------------------


def _pipe(data: bytes, *args: str, env: dict[str, str]) -> Result:
    proc = subprocess.run(
        [sys.executable, "-m", "gladia_cli", "transcribe", "-", "--realtime", *args],
        input=data,
        capture_output=True,
        env={**os.environ, **env},
        timeout=60,
    )
    return Result(proc.returncode, proc.stdout.decode(), proc.stderr.decode())


def _pcm(seconds: float, rate: int = 16000, channels: int = 1) -> bytes:
    t = np.arange(int(seconds * rate)) / rate
    signal = np.stack([0.3 * np.sin(2 * np.pi * (300 + 200 * c) * t) for c in range(channels)], axis=1)
    return (signal * 32767).astype("<i2").tobytes()


def test_raw_pcm_on_stdin_reaches_the_server_byte_for_byte(emulator: GladiaEmulator, tmp_path: Path) -> None:
    pcm = _pcm(2.5)
    flags = ["--encoding", "wav/pcm", "--sample-rate", "16000", "--bit-depth", "16", "--channels", "1"]
    result = _pipe(pcm, *flags, env=_env(None, emulator, tmp_path))
    assert result.code == 0, result.stderr
    session = emulator.only_session()
    assert bytes(session.audio) == pcm
    assert session.stop_count == 1
    assert result.stdout.splitlines()[0] == "Hello world."


@pytest.mark.parametrize("size", [0, 0xFFFFFFFF, None])
def test_a_streamed_wav_on_stdin_reaches_the_server_byte_for_byte(
    emulator: GladiaEmulator, tmp_path: Path, size: int | None
) -> None:
    pcm = _pcm(1.5, rate=8000, channels=2)
    data_size = len(pcm) if size is None else size
    fmt = struct.pack("<HHIIHH", 1, 2, 8000, 8000 * 4, 4, 16)
    header = b"RIFF" + struct.pack("<I", 0xFFFFFFFF) + b"WAVE" + b"fmt " + struct.pack("<I", 16) + fmt
    header += b"LIST" + struct.pack("<I", 4) + b"INFO"  # a chunk before the data is skipped
    result = _pipe(header + b"data" + struct.pack("<I", data_size) + pcm, env=_env(None, emulator, tmp_path))
    assert result.code == 0, result.stderr
    body = emulator.init_requests[0].body
    assert (body["sample_rate"], body["channels"], body["bit_depth"]) == (8000, 2, 16)
    assert bytes(emulator.only_session().audio) == pcm


def test_raw_stdin_without_format_flags_is_one_line_exit_2(emulator: GladiaEmulator, tmp_path: Path) -> None:
    result = _pipe(_pcm(0.5), "--sample-rate", "16000", env=_env(None, emulator, tmp_path))
    assert result.code == ExitCode.USAGE
    line = one_line_error(result)
    assert "--encoding" in line and "--bit-depth" in line and "--channels" in line, line
    assert not emulator.init_requests  # refused before any session


def test_a_big_endian_wav_on_stdin_is_refused_never_sent_swapped(emulator: GladiaEmulator, tmp_path: Path) -> None:
    from audio_helpers import rifx_bytes

    result = _pipe(rifx_bytes(struct.pack(">800h", *range(800))), env=_env(None, emulator, tmp_path))
    assert result.code == ExitCode.USAGE
    assert "big-endian (RIFX)" in one_line_error(result)
    assert not emulator.init_requests


def test_stdin_terminal_and_speed_are_refused(emulator: GladiaEmulator, tmp_path: Path) -> None:
    leader, follower = pty.openpty()
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "gladia_cli", "transcribe", "-", "--realtime"],
            stdin=follower,
            capture_output=True,
            text=True,
            env={**os.environ, **_env(None, emulator, tmp_path)},
            timeout=30,
        )
    finally:
        os.close(follower)
        os.close(leader)
    result = Result(proc.returncode, proc.stdout, proc.stderr)
    assert result.code == ExitCode.USAGE and "stdin is a terminal" in one_line_error(result)
    speed = _pipe(_pcm(0.2), "--speed", "2", env=_env(None, emulator, tmp_path))
    assert speed.code == ExitCode.USAGE and "--speed" in one_line_error(speed)


@pytest.mark.parametrize(("data", "needle"), [(b"", "no audio on stdin"), (b"\x01\x02\x03", "not one whole sample")])
def test_empty_or_partial_stdin_is_refused_before_any_session(
    emulator: GladiaEmulator, tmp_path: Path, data: bytes, needle: str
) -> None:
    raw = ["--encoding", "wav/pcm", "--sample-rate", "16000", "--bit-depth", "16", "--channels", "2"]
    result = _pipe(data, *raw, env=_env(None, emulator, tmp_path))
    assert result.code == ExitCode.USAGE
    assert needle in one_line_error(result)
    assert not emulator.init_requests


def test_stdin_without_realtime_says_to_add_it(emulator: GladiaEmulator, tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "gladia_cli", "transcribe", "-"],
        input=b"",
        capture_output=True,
        env={**os.environ, **_env(None, emulator, tmp_path)},
        timeout=30,
    )
    result = Result(proc.returncode, proc.stdout.decode(), proc.stderr.decode())
    assert result.code == ExitCode.USAGE and "add --realtime" in one_line_error(result)


def test_the_same_device_twice_is_refused_before_any_session(
    call_sources: VirtualMic, emulator: GladiaEmulator, tmp_path: Path
) -> None:
    """`-d mic -d mic` would make the second channel a copy of the first: refused in one line, exit 2."""
    args = ["listen", "--device", "call_left", "--device", "call_left", "--duration", "1"]
    result = run(*args, env=_env(call_sources, emulator, tmp_path))
    assert result.code == ExitCode.USAGE
    line = one_line_error(result)
    assert "input 2 ('call_left') is the same device as input 1" in line, line
    assert not emulator.init_requests
