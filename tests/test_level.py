"""The level meter on real PCM (tones, silence, clipped sines, 24/32-bit, stereo) and on the virtual mic."""

from __future__ import annotations

import threading
import time
import wave
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from gladia_cli.audio.capture import MicrophoneSource
from gladia_cli.audio.format import PcmFormat
from gladia_cli.audio.level import FLOOR_DBFS, LevelMeter
from gladia_cli.audio.portaudio import portaudio_device

if __package__:
    from .virtual_mic import VirtualMic, virtual_mic
else:
    from virtual_mic import VirtualMic, virtual_mic

__all__ = ["virtual_mic"]

RATE = 16000


def sine(amplitude: float, seconds: float = 0.1, hz: float = 440.0, channels: int = 1, depth: int = 16) -> bytes:
    """A sine at `amplitude` of full scale (above 1: clipped at full scale), as little-endian PCM."""
    t = np.arange(int(seconds * RATE)) / RATE
    full = 2 ** (depth - 1)
    wave_ = np.clip(np.rint(amplitude * full * np.sin(2 * np.pi * hz * t)), -full, full - 1).astype(np.int64)
    frames = np.repeat(wave_[:, None], channels, axis=1)
    if depth == 16:
        return frames.astype("<i2").tobytes()
    if depth == 32:
        return frames.astype("<i4").tobytes()
    return frames.astype("<i4").view(np.uint8).reshape(-1, 4)[:, :3].tobytes()


def silence(seconds: float, channels: int = 1) -> bytes:
    return bytes(int(seconds * RATE) * 2 * channels)


def feed(meter: LevelMeter, data: bytes, block_seconds: float = 0.1) -> None:
    step = int(block_seconds * RATE) * meter.channels * meter.bit_depth // 8
    for offset in range(0, len(data), step):
        meter.feed(data[offset : offset + step])


@pytest.mark.parametrize("depth", [16, 24, 32])
def test_half_scale_sine_reads_minus_6_dbfs(depth: int) -> None:
    meter = LevelMeter(1, RATE, depth)
    feed(meter, sine(0.5, 1.0, depth=depth))
    snap = meter.snapshot()
    assert snap.peak_dbfs[0] == pytest.approx(-6.02, abs=0.05)
    assert snap.hold_dbfs[0] == pytest.approx(-6.02, abs=0.05)
    assert snap.clipping == (False,)
    assert snap.clipped_samples == 0
    assert not snap.silent
    assert snap.seconds == pytest.approx(1.0)


def test_digital_silence_is_the_floor() -> None:
    meter = LevelMeter(1, RATE)
    meter.feed(silence(0.1))
    assert meter.snapshot().peak_dbfs == (FLOOR_DBFS,)


def test_peak_hold_holds_then_decays() -> None:
    meter = LevelMeter(1, RATE, hold_seconds=1.0, decay_db_per_second=20.0)
    feed(meter, sine(1.0, 0.1))  # ~0 dBFS
    feed(meter, sine(0.01, 0.9))  # -40 dBFS, within the hold time
    snap = meter.snapshot()
    assert snap.peak_dbfs[0] == pytest.approx(-40, abs=0.1)
    assert snap.hold_dbfs[0] == pytest.approx(0, abs=0.1)
    feed(meter, sine(0.01, 1.0))  # the peak was at 0.1 s: now 0.9 s past its hold, 18 dB lower
    assert meter.snapshot().hold_dbfs[0] == pytest.approx(-18, abs=0.1)
    feed(meter, sine(0.01, 2.0))  # decays down to the current level, not below
    assert meter.snapshot().hold_dbfs[0] == pytest.approx(-40, abs=0.1)


def test_clipped_sine_is_clipping_per_channel_and_clears() -> None:
    meter = LevelMeter(2, RATE, clip_hold_seconds=2.0)
    left = np.frombuffer(sine(1.5, 0.5), "<i2")  # overdriven: flat tops at full scale
    right = np.frombuffer(sine(0.3, 0.5), "<i2")
    meter.feed(np.stack([left, right], axis=1).astype("<i2").tobytes())
    snap = meter.snapshot()
    assert snap.clipping == (True, False)
    assert snap.clipped_samples > 0.3 * len(left)
    assert snap.peak_dbfs[0] == pytest.approx(0.0, abs=0.01)
    feed(meter, sine(0.3, 2.5, channels=2))
    assert meter.snapshot().clipping == (False, False)
    assert meter.snapshot().clipped_samples == snap.clipped_samples  # a count since start


def test_negative_full_scale_does_not_overflow() -> None:
    meter = LevelMeter(1, RATE)
    meter.feed(np.full(160, -32768, "<i2").tobytes())
    snap = meter.snapshot()
    assert snap.peak_dbfs[0] == pytest.approx(0.0, abs=0.01)
    assert snap.clipping == (True,)


def test_silence_is_said_early_at_start_and_later_after_speech() -> None:
    meter = LevelMeter(1, RATE, first_silence_seconds=3.0, silence_seconds=10.0)
    feed(meter, silence(2.9))
    assert not meter.snapshot().silent
    feed(meter, silence(0.2))
    assert meter.snapshot().silent
    feed(meter, sine(0.1, 0.1))  # sound returns: cleared at once
    snap = meter.snapshot()
    assert not snap.silent and snap.silent_seconds == 0
    feed(meter, sine(0.0005, 9.0))  # -72 dBFS hiss is silence too, but after speech it takes 10 s
    assert not meter.snapshot().silent
    feed(meter, silence(1.1))
    snap = meter.snapshot()
    assert snap.silent
    assert snap.silent_seconds == pytest.approx(10.1, abs=0.01)


def test_quiet_speech_above_minus_60_is_not_silence() -> None:
    meter = LevelMeter(1, RATE)
    feed(meter, sine(0.002, 5.0))  # -54 dBFS
    assert not meter.snapshot().silent


def test_no_blocks_at_all() -> None:
    meter = LevelMeter(1, RATE, stall_seconds=0.2, first_block_seconds=0.4)
    assert not meter.snapshot().no_blocks  # not started: nothing to judge
    meter.start()
    time.sleep(0.3)
    assert not meter.snapshot().no_blocks  # a device that has not delivered its first block yet is starting
    time.sleep(0.2)
    assert meter.snapshot().no_blocks
    meter.note_block()
    assert not meter.snapshot().no_blocks
    time.sleep(0.3)
    assert meter.snapshot().no_blocks  # it delivered, then stopped on its own: unplugged
    meter.stop()
    assert not meter.snapshot().no_blocks  # stopped on purpose (Ctrl-C, --duration): no sign of anything


@pytest.mark.slow  # seconds of its own: out of the inner loop
def test_snapshots_from_another_thread_are_consistent() -> None:
    meter = LevelMeter(2, RATE)
    loud, quiet = sine(0.5, 0.1, channels=2), sine(0.01, 0.1, channels=2)
    stop = threading.Event()
    seen: list[tuple[float, ...]] = []

    def render() -> None:
        while not stop.is_set():
            seen.append(meter.snapshot().peak_dbfs)

    reader = threading.Thread(target=render)
    reader.start()
    for i in range(2000):
        meter.feed(loud if i % 2 else quiet)
    stop.set()
    reader.join(timeout=5)
    assert seen
    assert all(a == b for a, b in seen)  # never half of one block and half of another


def write_tone(path: Path, seconds: float = 3.0) -> Path:
    t = np.arange(int(seconds * 48000)) / 48000
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(48000)
        w.writeframes((0.5 * 32767 * np.sin(2 * np.pi * 440 * t)).astype("<i2").tobytes())
    return path


@pytest.fixture
def quiet_mic(virtual_mic: VirtualMic) -> Iterator[VirtualMic]:
    virtual_mic.stop_playing()
    yield virtual_mic
    virtual_mic.stop_playing()


def test_microphone_levels_follow_the_virtual_mic(quiet_mic: VirtualMic, tmp_path: Path) -> None:
    source = MicrophoneSource(PcmFormat(), portaudio_device(None))
    assert source.levels() is not None
    source.start()
    gen = source.chunks()
    for _ in range(35):  # 3.5 s of nothing played: digital silence
        next(gen)
    snap = source.levels()
    assert snap is not None
    assert snap.silent and snap.peak_dbfs == (FLOOR_DBFS,)
    assert not snap.no_blocks
    quiet_mic.play(write_tone(tmp_path / "tone.wav"), loop=True)
    for _ in range(60):
        next(gen)
        snap = source.levels()
        assert snap is not None
        if snap.peak_dbfs[0] > -10:
            break
    assert snap.peak_dbfs[0] == pytest.approx(-6.0, abs=1.0)
    assert not snap.silent
    assert snap.clipping == (False,)
    source.close()
    list(gen)
