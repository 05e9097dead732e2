"""Microphone capture against a real PortAudio stack (virtual PulseAudio mic), the no-device case, and the buffer."""

from __future__ import annotations

import dataclasses
import json
import os
import struct
import subprocess
import sys
import threading
import time
import wave
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from gladia_cli.audio.capture import MicrophoneSource, _ChunkBuffer
from gladia_cli.audio.format import PcmFormat
from gladia_cli.audio.portaudio import InputDevice, list_portaudio_inputs, portaudio_device
from gladia_cli.errors import UsageError

if __package__:  # tests/ imported as a package
    from .virtual_mic import VirtualMic, virtual_mic
else:  # rootdir-relative import of tests/ (no __init__.py)
    from virtual_mic import VirtualMic, virtual_mic

__all__ = ["virtual_mic"]  # the fixture is used by name, not referenced

REPO = Path(__file__).resolve().parents[1]
TONE_HZ = 440.0


# ---------------------------------------------------------------------------------------------------------------
# Helpers


def write_tone(path: Path, *, hz: float = TONE_HZ, seconds: float = 3.0, rate: int = 48000) -> Path:
    """A mono 16-bit sine at half scale, long enough that the loop's restart gaps are rare."""
    t = np.arange(int(seconds * rate)) / rate
    samples = (0.5 * 32767 * np.sin(2 * np.pi * hz * t)).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.tobytes())
    return path


def decode(data: bytes, fmt: PcmFormat) -> np.ndarray:
    """PCM bytes to float samples in [-1, 1), shape (frames, channels)."""
    if fmt.bit_depth == 16:
        ints = np.frombuffer(data, "<i2").astype(np.float64) / 2**15
    elif fmt.bit_depth == 24:
        raw = np.frombuffer(data, np.uint8).reshape(-1, 3).astype(np.int32)
        value = raw[:, 0] | (raw[:, 1] << 8) | (raw[:, 2] << 16)
        value = np.where(value >= 2**23, value - 2**24, value)
        ints = value.astype(np.float64) / 2**23
    else:
        ints = np.frombuffer(data, "<i4").astype(np.float64) / 2**31
    return ints.reshape(-1, fmt.channels)


def rms(samples: np.ndarray) -> float:
    return float(np.sqrt(np.mean(samples**2)))


def peak_hz(mono: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(mono * np.hanning(len(mono))))
    return float(np.argmax(spectrum) * rate / len(mono))


def capture_tone(fmt: PcmFormat, device: InputDevice, *, seconds: float = 0.6, chunk_ms: int = 100) -> dict:
    """Record until the tone is heard, then `seconds` more; close() from another thread and drain."""
    source = MicrophoneSource(fmt, device, chunk_ms=chunk_ms)
    source.check()
    size = fmt.chunk_bytes(chunk_ms)
    heard: list[bytes] = []
    all_chunks: list[bytes] = []
    deadline = time.monotonic() + 5.0
    wanted = round(seconds * 1000 / chunk_ms)
    break_at = time.monotonic()
    gen = source.chunks()
    for chunk in gen:
        all_chunks.append(chunk)
        if heard or rms(decode(chunk, fmt)) > 0.05:
            heard.append(chunk)
        if len(heard) >= wanted or time.monotonic() > deadline:
            break_at = time.monotonic()
            threading.Thread(target=source.close).start()
            break
    tail = list(gen)  # what was captured before close() stopped the stream
    ended_after = time.monotonic() - break_at
    return {
        "source": source,
        "size": size,
        "heard": heard,
        "chunks": all_chunks + tail,
        "tail": tail,
        "ended_after": ended_after,
    }


# ---------------------------------------------------------------------------------------------------------------
# With the virtual microphone


def band_windows(mono: np.ndarray, rate: int, hz: float, window_s: float = 0.02) -> np.ndarray:
    """Per-window amplitude of the `hz` component (a one-bin DFT), to find where a tone is in a recording."""
    size = int(rate * window_s)
    frames = mono[: len(mono) // size * size].reshape(-1, size)
    probe = np.exp(-2j * np.pi * hz * np.arange(size) / rate)
    return np.abs(frames @ probe) * 2 / size


def test_start_before_the_session_keeps_the_first_words(virtual_mic: VirtualMic, tmp_path: Path) -> None:
    """start(), a tone 0.2 s later, 1.5 s before anyone pulls (a slow POST /v2/live): all of the tone is pulled.

    1000 Hz, apart from the 440 Hz loop other tests in this module may leave playing; checked by energy in that band,
    window by window, not by timing.
    """
    hz, tone_s = 1000.0, 1.0
    wav = write_tone(tmp_path / "tone1k.wav", hz=hz, seconds=tone_s)
    fmt = PcmFormat()
    source = MicrophoneSource(fmt, portaudio_device(None))
    source.start()
    time.sleep(0.2)
    player = virtual_mic.play(wav)
    time.sleep(1.5)  # the session being created
    assert source.buffered_seconds > 1.0  # captured meanwhile, nothing pulled yet
    player.wait(timeout=10)
    time.sleep(0.3)
    pulled: list[bytes] = []
    for chunk in source.chunks():
        pulled.append(chunk)
        if sum(map(len, pulled)) >= fmt.bytes_per_second * 2.5:
            source.close()
    samples = decode(b"".join(pulled), fmt)[:, 0]
    amplitude = band_windows(samples, fmt.sample_rate, hz)
    loud = amplitude > 0.25  # the tone is a 0.5-amplitude sine; silence and the 440 Hz loop read ~0
    heard_s = int(loud.sum()) * 0.02
    assert heard_s >= tone_s - 0.06, f"only {heard_s:.2f} s of the {tone_s} s tone were pulled"
    assert heard_s <= tone_s + 0.06
    onset = int(np.argmax(loud)) * 0.02
    assert onset >= 0.1  # the tone began after capture did: the audio before it was kept too
    assert source.dropped_seconds == 0
    assert source.first_block_at is not None and source.started_at is not None


def test_start_fails_before_any_session_on_a_missing_device(virtual_mic: VirtualMic) -> None:
    gone = dataclasses.replace(portaudio_device(None), index=4242)
    with pytest.raises(UsageError):
        MicrophoneSource(PcmFormat(), gone).start()


def test_start_is_idempotent_and_chunks_reuses_the_stream(virtual_mic: VirtualMic) -> None:
    source = MicrophoneSource(PcmFormat(), portaudio_device(None))
    source.start()
    stream = source._stream
    source.start()
    assert source._stream is stream
    gen = source.chunks()
    assert len(next(gen)) == 3200
    assert source._stream is stream
    source.close()
    list(gen)


class _RefusingSounddevice:
    """The real sounddevice, except that the device refuses some sample rates, as ALSA hardware does.

    PulseAudio's ALSA plugin (the virtual mic) resamples and so accepts any rate; a plugin that pins one rate
    (share/dsnoop) needs hardware and hangs or aborts over PulseAudio. The refusal is the one PortAudio gives.
    """

    def __init__(self, refused: set[int]) -> None:
        import sounddevice

        self._sd = sounddevice
        self.refused = refused

    def __getattr__(self, name: str) -> object:
        return getattr(self._sd, name)

    def _check_rate(self, samplerate: float | None) -> None:
        if samplerate is not None and round(samplerate) in self.refused:
            raise self._sd.PortAudioError("Invalid sample rate", -9997)

    def check_input_settings(self, **kwargs: object) -> None:
        self._check_rate(kwargs.get("samplerate"))  # type: ignore[arg-type]
        self._sd.check_input_settings(**kwargs)

    def RawInputStream(self, **kwargs: object) -> object:
        self._check_rate(kwargs.get("samplerate"))  # type: ignore[arg-type]
        return self._sd.RawInputStream(**kwargs)


@pytest.fixture
def refuses_16k(monkeypatch: pytest.MonkeyPatch, virtual_mic: VirtualMic) -> _RefusingSounddevice:
    from gladia_cli.audio import capture

    fake = _RefusingSounddevice({16000})
    monkeypatch.setattr(capture, "sounddevice", lambda: fake)
    return fake


def pull(source: MicrophoneSource, seconds: float) -> bytes:
    pulled: list[bytes] = []
    for chunk in source.chunks():
        pulled.append(chunk)
        if sum(map(len, pulled)) >= source.format.bytes_per_second * seconds:
            source.close()
    return b"".join(pulled)


@pytest.fixture(scope="module")
def tone_playing(virtual_mic: VirtualMic, tmp_path_factory: pytest.TempPathFactory) -> Iterator[VirtualMic]:
    """440 Hz looped into the virtual mic for the capture tests of this module."""
    wav = write_tone(tmp_path_factory.mktemp("tone") / "tone440.wav")
    player = virtual_mic.play(wav, loop=True)
    yield virtual_mic
    player.terminate()
    player.wait(timeout=5)


def test_lists_virtual_devices_with_default(virtual_mic: VirtualMic) -> None:
    devices = list_portaudio_inputs()
    assert devices, virtual_mic.sources()
    assert all(d.max_input_channels > 0 for d in devices)
    assert [d.is_default for d in devices].count(True) == 1
    assert {"pulse", "default"} <= {d.name for d in devices}


def test_resolve_device(virtual_mic: VirtualMic) -> None:
    default = portaudio_device(None)
    assert default.is_default
    pulse = portaudio_device("pulse")
    assert pulse.name == "pulse"
    assert portaudio_device("PULSE") == pulse
    assert portaudio_device(str(pulse.index)) == pulse
    assert portaudio_device("defau") == default  # unique substring


@pytest.mark.parametrize("spec", ["nope", "999"])
def test_resolve_unknown_device(virtual_mic: VirtualMic, spec: str) -> None:
    with pytest.raises(UsageError) as info:
        portaudio_device(spec)
    assert spec in str(info.value)
    assert "gladia devices" in str(info.value)


def test_resolve_ambiguous_lists_candidates(virtual_mic: VirtualMic) -> None:
    with pytest.raises(UsageError) as info:
        portaudio_device("u")  # "pulse" and "default", same host API
    message = str(info.value)
    assert "'pulse'" in message
    assert "'default'" in message


def test_capture_16k_mono_hears_the_tone(tone_playing: VirtualMic) -> None:
    fmt = PcmFormat(sample_rate=16000, channels=1, bit_depth=16)
    result = capture_tone(fmt, portaudio_device(None))
    size = result["size"]
    assert size == 3200
    chunks = result["chunks"]
    assert all(len(c) == size for c in chunks[:-1])
    assert 0 < len(chunks[-1]) <= size
    assert len(chunks[-1]) % fmt.frame_bytes == 0
    assert len(result["heard"]) >= 6, "the tone never reached the mic"
    samples = decode(b"".join(result["heard"]), fmt)[:, 0]
    assert rms(samples) > 0.2  # half-scale sine: ~0.35; silence: 0
    assert abs(peak_hz(samples, fmt.sample_rate) - TONE_HZ) < 5
    assert result["ended_after"] < 1.0
    assert result["source"].dropped_seconds == 0


@pytest.mark.parametrize(
    "fmt",
    [
        PcmFormat(sample_rate=48000, channels=2, bit_depth=16),
        PcmFormat(sample_rate=16000, channels=1, bit_depth=24),
        PcmFormat(sample_rate=44100, channels=1, bit_depth=32),
    ],
    ids=str,
)
def test_capture_other_formats(tone_playing: VirtualMic, fmt: PcmFormat) -> None:
    result = capture_tone(fmt, portaudio_device("pulse"), seconds=0.4)
    assert all(len(c) == result["size"] for c in result["chunks"][:-1])
    assert len(result["heard"]) >= 4, "the tone never reached the mic"
    samples = decode(b"".join(result["heard"]), fmt)
    for channel in range(fmt.channels):
        assert rms(samples[:, channel]) > 0.2
        assert abs(peak_hz(samples[:, channel], fmt.sample_rate) - TONE_HZ) < 5


def test_breaking_out_of_chunks_stops_the_stream(virtual_mic: VirtualMic) -> None:
    source = MicrophoneSource(PcmFormat(), portaudio_device(None))
    gen = source.chunks()
    assert len(next(gen)) == 3200
    started = time.monotonic()
    gen.close()  # GeneratorExit at the yield: the stream must still be stopped
    assert time.monotonic() - started < 1.0
    assert source._stream is None
    source.close()
    source.close()  # idempotent


def test_close_before_iterating_yields_nothing(virtual_mic: VirtualMic) -> None:
    source = MicrophoneSource(PcmFormat(), portaudio_device(None))
    source.close()
    assert list(source.chunks()) == []


def test_close_from_consumer_thread(virtual_mic: VirtualMic) -> None:
    """Like a signal handler running in the consuming thread: close() must not deadlock, chunks() must end."""
    source = MicrophoneSource(PcmFormat(), portaudio_device(None), chunk_ms=50)
    started = None
    for count, _ in enumerate(source.chunks(), start=1):
        if count == 3:
            started = time.monotonic()
            source.close()
    assert started is not None
    assert time.monotonic() - started < 1.0


def test_stream_dying_under_us_is_a_usage_error(virtual_mic: VirtualMic) -> None:
    """PortAudio ending the stream by itself (device unplugged, server gone) must not look like a clean close."""
    source = MicrophoneSource(PcmFormat(), portaudio_device(None), chunk_ms=50)
    gen = source.chunks()
    next(gen)
    source._stream.stop()  # what PortAudio does when the device goes away: the finished callback fires
    with pytest.raises(UsageError, match="stopped delivering audio"):
        for _ in gen:
            pass


def test_env_lets_a_child_process_record(virtual_mic: VirtualMic) -> None:
    """`mic.env` alone (no inherited pulse variables) is what a CLI subprocess needs."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PULSE_") and k != "XDG_RUNTIME_DIR"}
    env.update(virtual_mic.env, PYTHONPATH=str(REPO))
    code = (
        "from gladia_cli.audio.capture import MicrophoneSource\n"
        "from gladia_cli.audio.portaudio import portaudio_device\n"
        "from gladia_cli.audio.format import PcmFormat\n"
        "d = portaudio_device(None)\n"
        "s = MicrophoneSource(PcmFormat(), d)\n"
        "for i, c in enumerate(s.chunks()):\n"
        "    if i == 1: s.close()\n"
        "print(d.name)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "default"


def test_check_refuses_too_many_channels(virtual_mic: VirtualMic) -> None:
    mono_only = dataclasses.replace(portaudio_device(None), max_input_channels=1)
    source = MicrophoneSource(PcmFormat(sample_rate=44100, channels=2), mono_only)
    with pytest.raises(UsageError) as info:
        source.check()
    message = str(info.value)
    assert "cannot record 44100 Hz stereo 16-bit" in message
    assert "`channels` 1" in message  # the library names the keyword; the command line shows --channels


def test_vanished_device_is_a_usage_error(virtual_mic: VirtualMic) -> None:
    gone = dataclasses.replace(portaudio_device(None), index=4242)
    source = MicrophoneSource(PcmFormat(), gone)
    with pytest.raises(UsageError):
        source.check()
    with pytest.raises(UsageError) as info:
        list(MicrophoneSource(PcmFormat(), gone).chunks())
    assert "cannot open device" in str(info.value)


def test_mic_refuses_formats_it_cannot_produce() -> None:
    device = InputDevice(0, "x", "ALSA", 2, 44100.0, True)
    with pytest.raises(UsageError, match="`bit_depth` 16"):
        MicrophoneSource(PcmFormat(bit_depth=8), device)
    with pytest.raises(UsageError, match="`bit_depth` 16"):
        MicrophoneSource(PcmFormat(bit_depth=16, encoding="wav/ulaw"), device)
    MicrophoneSource(PcmFormat(bit_depth=8, encoding="wav/ulaw"), device)  # recorded as 16-bit, encoded per block


# ---------------------------------------------------------------------------------------------------------------
# Without any device (a subprocess, so this process's PortAudio is left alone)

NO_DEVICE_SCRIPT = r"""
import json
from gladia_cli.audio.capture import MicrophoneSource
from gladia_cli.audio.portaudio import InputDevice, list_portaudio_inputs, portaudio_device
from gladia_cli.audio.format import PcmFormat
from gladia_cli.errors import UsageError

out = {"devices": list_portaudio_inputs()}
try:
    portaudio_device(None)
except UsageError as e:
    out["resolve"] = [e.message, e.hint]
try:
    list(MicrophoneSource(PcmFormat(), InputDevice(0, "ghost", "ALSA", 1, 16000.0, True)).chunks())
except UsageError as e:
    out["open"] = str(e)
print(json.dumps(out))
"""


def test_no_input_device(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PULSE_") and k != "XDG_RUNTIME_DIR"}
    empty = tmp_path / "runtime"
    empty.mkdir(mode=0o700)
    env.update(
        XDG_RUNTIME_DIR=str(empty),
        PULSE_SERVER="unix:/nonexistent",
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")])),
    )
    proc = subprocess.run(
        [sys.executable, "-c", NO_DEVICE_SCRIPT], env=env, capture_output=True, text=True, timeout=30, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    out = json.loads(proc.stdout)
    assert out["devices"] == []
    assert out["resolve"] == ["no input device found", "see `gladia devices`"]
    assert "cannot open device 'ghost'" in out["open"]


def test_import_does_not_load_portaudio_or_numpy() -> None:
    code = "import sys, gladia_cli.audio.capture; print('sounddevice' in sys.modules, 'numpy' in sys.modules)"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=30)
    assert proc.stdout.split() == ["False", "False"], proc.stderr


# ---------------------------------------------------------------------------------------------------------------
# The bounded buffer, without PortAudio


def counter(i: int, size: int = 8) -> bytes:
    return struct.pack("<Q", i) + bytes(size - 8)


def counters(data: bytes, size: int = 8) -> list[int]:
    return [struct.unpack_from("<Q", data, offset)[0] for offset in range(0, len(data), size)]


def test_buffer_takes_exact_sizes_across_pieces() -> None:
    buf = _ChunkBuffer(max_bytes=1000)
    for piece in (b"abcde", b"fghij", b"klmno"):
        buf.put(piece)
    assert buf.take(4, timeout=0) == b"abcd"
    assert buf.take(4, timeout=0) == b"efgh"
    assert buf.take(4, timeout=0) == b"ijkl"
    assert buf.take(4, timeout=0) is None  # 3 bytes left, not closed
    buf.close()
    assert buf.take(4, timeout=0) == b"mno"
    assert buf.take(4, timeout=0) == b""
    buf.put(b"late")  # after the end: ignored
    assert buf.take(4, timeout=0) == b""


def test_buffer_timeout_and_interrupt() -> None:
    buf = _ChunkBuffer(max_bytes=100)
    started = time.monotonic()
    assert buf.take(4, timeout=0.05) is None
    assert time.monotonic() - started >= 0.04
    threading.Timer(0.05, buf.interrupt).start()
    started = time.monotonic()
    assert buf.take(4, timeout=5) is None
    assert time.monotonic() - started < 2


def test_buffer_wakes_consumer_on_put() -> None:
    buf = _ChunkBuffer(max_bytes=100)
    threading.Timer(0.05, buf.put, args=(b"12345678",)).start()
    assert buf.take(8, timeout=5) == b"12345678"


def test_buffer_drops_oldest_when_consumer_stalls() -> None:
    size, keep, total = 8, 10, 1000
    buf = _ChunkBuffer(max_bytes=keep * size)
    producer = threading.Thread(target=lambda: [buf.put(counter(i)) for i in range(total)])
    producer.start()
    producer.join(timeout=10)
    assert buf.buffered_bytes == keep * size
    assert buf.dropped_bytes == (total - keep) * size
    buf.close()
    kept = []
    while chunk := buf.take(size * 3, timeout=0):
        kept += counters(chunk)
    assert kept == list(range(total - keep, total))  # the newest audio, in order


def test_buffer_under_concurrency_loses_nothing_but_counted_drops() -> None:
    size, total = 8, 20000
    buf = _ChunkBuffer(max_bytes=50 * size)
    received: list[int] = []
    peak = 0

    def produce() -> None:
        for i in range(total):
            buf.put(counter(i))
            if i % 500 == 0:
                time.sleep(0.001)
        buf.close()

    producer = threading.Thread(target=produce)
    producer.start()
    n = 0
    while chunk := buf.take(size * 4, timeout=5):
        peak = max(peak, buf.buffered_bytes)
        received += counters(chunk)
        n += 1
        if n % 100 == 0:
            time.sleep(0.002)  # a consumer that sometimes stalls
    producer.join(timeout=10)
    assert peak <= 50 * size
    assert received == sorted(set(received))  # in order, no duplicates
    assert len(received) * size + buf.dropped_bytes == total * size
    assert received[-1] == total - 1  # the newest audio always survives


class _Status:
    def __init__(self, overflow: bool) -> None:
        self.input_overflow = overflow

    def __bool__(self) -> bool:
        return self.input_overflow


def test_callback_counts_overflows_and_dropped_seconds() -> None:
    """Feed MicrophoneSource's callback directly: 1 s of 16 kHz mono into a 0.5 s buffer."""
    fmt = PcmFormat()
    source = MicrophoneSource(fmt, InputDevice(0, "x", "ALSA", 1, 16000.0, True), max_buffer_seconds=0.5)
    block = memoryview(bytes(fmt.chunk_bytes(100)))
    for i in range(10):
        source._callback(block, 1600, None, _Status(overflow=i in (3, 7)))
    assert source.overflows == 2
    assert source.dropped_seconds == pytest.approx(0.5)
    assert source._buffer.buffered_bytes == fmt.bytes_per_second // 2


# ---------------------------------------------------------------------------------------------------------------
# A device that cannot record 16 kHz (after the tone tests: they share the looping 440 Hz)


def test_no_rate_asked_records_at_the_device_rate(tone_playing: VirtualMic, refuses_16k: object) -> None:
    device = dataclasses.replace(portaudio_device(None), default_samplerate=48000.0)
    source = MicrophoneSource(PcmFormat(), device, rate_fallback=True)
    source.start()
    assert source.format == PcmFormat(sample_rate=48000)  # what POST /v2/live must declare
    assert source.format_note is not None and "16000" in source.format_note and "48000" in source.format_note
    data = pull(source, 1.5)
    samples = decode(data, source.format)[:, 0]
    assert abs(peak_hz(samples[-48000:], 48000) - TONE_HZ) < 5
    assert source.format.chunk_bytes(100) == 9600


def test_device_rate_gladia_does_not_take_is_resampled(tone_playing: VirtualMic, refuses_16k: object) -> None:
    device = dataclasses.replace(portaudio_device(None), default_samplerate=22050.0)
    source = MicrophoneSource(PcmFormat(), device, rate_fallback=True)
    source.check()
    assert source.format == PcmFormat()  # still declared as 16 kHz
    assert source.capture_format.sample_rate == 22050
    assert source.format_note is not None and "resampled to 16000" in source.format_note
    chunks = []
    for chunk in source.chunks():
        chunks.append(chunk)
        if len(chunks) == 15:
            source.close()
    assert all(len(c) == 3200 for c in chunks[:-1])
    samples = decode(b"".join(chunks), PcmFormat())[:, 0]
    assert abs(peak_hz(samples[-16000:], 16000) - TONE_HZ) < 5
    assert rms(samples[-16000:]) > 0.2


def test_an_explicit_rate_the_device_refuses_is_still_an_error(refuses_16k: object) -> None:
    device = dataclasses.replace(portaudio_device(None), default_samplerate=48000.0)
    with pytest.raises(UsageError, match="cannot record 16000 Hz") as info:
        MicrophoneSource(PcmFormat(), device).start()
    assert "`sample_rate` 48000" in str(info.value)


def test_no_fallback_when_the_device_refuses_its_own_rate_too(refuses_16k: _RefusingSounddevice) -> None:
    refuses_16k.refused.add(48000)
    device = dataclasses.replace(portaudio_device(None), default_samplerate=48000.0)
    with pytest.raises(UsageError, match="cannot record 16000 Hz"):
        MicrophoneSource(PcmFormat(), device, rate_fallback=True).start()
