"""Audio file input: WAV parsing, passthrough, conversion, ffmpeg decoding, pacing and every user mistake."""

from __future__ import annotations

import hashlib
import os
import shutil
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from gladia_cli.audio import files
from gladia_cli.audio.files import FormatRequest, LinearResampler, open_audio_file
from gladia_cli.errors import UsageError

GUID_TAIL = b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"
HAVE_FFMPEG = shutil.which("ffmpeg") is not None and shutil.which("ffprobe") is not None
needs_ffmpeg = pytest.mark.skipif(not HAVE_FFMPEG, reason="ffmpeg/ffprobe not installed")


# ---------------------------------------------------------------------------------------------------------------
# Helpers


def chunk(chunk_id: bytes, body: bytes, declared: int | None = None) -> bytes:
    size = len(body) if declared is None else declared
    return struct.pack("<4sI", chunk_id, size) + body + (b"\x00" if len(body) % 2 else b"")


def fmt_body(
    *, tag: int = 1, channels: int = 1, rate: int = 16000, bits: int = 16, extensible: bool = False, sub: int = 1
) -> bytes:
    align = channels * ((bits + 7) // 8)
    body = struct.pack("<HHIIHH", 0xFFFE if extensible else tag, channels, rate, rate * align, align, bits)
    if extensible:
        body += struct.pack("<HHI", 22, bits, (1 << channels) - 1 if channels < 32 else 0) + struct.pack("<H", sub)
        body += GUID_TAIL
    return body


def wav_bytes(
    data: bytes,
    *,
    extra: bytes = b"",
    data_size: int | None = None,
    riff: bytes = b"RIFF",
    pre: bytes = b"",
    **fmt: int | bool,
) -> bytes:
    """A WAV file built by hand, so tests control every header field (EXTENSIBLE, float, bogus sizes...)."""
    body = b"WAVE" + pre + chunk(b"fmt ", fmt_body(**fmt)) + extra  # type: ignore[arg-type]
    body += struct.pack("<4sI", b"data", len(data) if data_size is None else data_size) + data
    if len(data) % 2:
        body += b"\x00"
    return riff + struct.pack("<I", len(body) if riff == b"RIFF" else 0xFFFFFFFF) + body


def write(tmp_path: Path, name: str, content: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


def tone(freq: float, seconds: float, rate: int, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(round(seconds * rate)) / rate
    return amplitude * np.sin(2 * np.pi * freq * t)


def pcm16(x: np.ndarray) -> bytes:
    return np.round(x * 32767).astype("<i2").tobytes()


def collect(source: files.FileSource) -> list[bytes]:
    try:
        return list(source.chunks())
    finally:
        source.close()


def peak_hz(samples: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.fft.rfftfreq(len(samples), 1 / rate)[np.argmax(spectrum)])


def assert_chunk_sizes(chunks: list[bytes], size: int) -> None:
    assert chunks, "no audio"
    assert all(len(c) == size for c in chunks[:-1])
    assert 0 < len(chunks[-1]) <= size


def usage_error(path: Path, request: FormatRequest | None = None, **kwargs: float) -> str:
    with pytest.raises(UsageError) as info:
        open_audio_file(path, request or FormatRequest(), **kwargs)  # type: ignore[arg-type]
    message = str(info.value)
    assert "\n" not in message
    return message


# ---------------------------------------------------------------------------------------------------------------
# WAV passthrough


def test_16bit_mono_passthrough_is_byte_exact(tmp_path: Path) -> None:
    data = pcm16(tone(440, 1.03, 16000))
    path = write(tmp_path, "a.wav", wav_bytes(data))
    source = open_audio_file(path, FormatRequest(), chunk_ms=100)
    assert source.format.as_config() == {"encoding": "wav/pcm", "sample_rate": 16000, "bit_depth": 16, "channels": 1}
    assert not source.converted and not source.truncated
    assert source.duration == pytest.approx(1.03)
    assert source.source_description == "WAV 16-bit 16000 Hz mono"
    chunks = collect(source)
    assert_chunk_sizes(chunks, 3200)
    assert hashlib.sha256(b"".join(chunks)).digest() == hashlib.sha256(data).digest()


def test_24bit_stereo_extensible_passthrough(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    data = rng.integers(0, 256, size=44100 * 6 // 2, dtype=np.uint8).tobytes()  # 0.5 s, 6-byte frames
    path = write(tmp_path, "b.wav", wav_bytes(data, channels=2, rate=44100, bits=24, extensible=True))
    source = open_audio_file(path, FormatRequest(), chunk_ms=100)
    assert (source.format.bit_depth, source.format.channels, source.format.sample_rate) == (24, 2, 44100)
    assert not source.converted
    assert source.source_description == "WAV 24-bit 44100 Hz stereo"
    chunks = collect(source)
    assert_chunk_sizes(chunks, 4410 * 6)
    assert hashlib.sha256(b"".join(chunks)).digest() == hashlib.sha256(data).digest()


def test_32bit_pcm_passthrough(tmp_path: Path) -> None:
    data = (tone(300, 0.25, 48000) * 2**31).astype("<i4").tobytes()
    path = write(tmp_path, "c.wav", wav_bytes(data, rate=48000, bits=32))
    source = open_audio_file(path, FormatRequest(), chunk_ms=20)
    assert source.format.bit_depth == 32 and not source.converted
    chunks = collect(source)
    assert_chunk_sizes(chunks, 960 * 4)
    assert b"".join(chunks) == data


def test_stdlib_wave_file_passthrough(tmp_path: Path) -> None:
    import wave

    data = pcm16(tone(200, 0.3, 8000))
    path = tmp_path / "stdlib.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(data)
    assert b"".join(collect(open_audio_file(path, FormatRequest()))) == data


def test_rf64_with_ds64_size(tmp_path: Path) -> None:
    data = pcm16(tone(440, 0.2, 16000))
    ds64 = chunk(b"ds64", struct.pack("<QQQI", 0, len(data), len(data) // 2, 0))
    path = write(tmp_path, "rf.wav", wav_bytes(data, riff=b"RF64", pre=ds64, data_size=0xFFFFFFFF))
    source = open_audio_file(path, FormatRequest())
    assert not source.truncated
    assert b"".join(collect(source)) == data


# ---------------------------------------------------------------------------------------------------------------
# WAV conversion


def samples16(chunks: list[bytes], channels: int = 1) -> np.ndarray:
    return np.frombuffer(b"".join(chunks), dtype="<i2").reshape(-1, channels)


def test_8bit_unsigned_becomes_16bit_signed(tmp_path: Path) -> None:
    data = bytes([128, 255, 0, 192, 64] * 1000)
    path = write(tmp_path, "u8.wav", wav_bytes(data, bits=8, rate=8000))
    source = open_audio_file(path, FormatRequest(), chunk_ms=100)
    assert source.converted and source.format.bit_depth == 16 and source.format.sample_rate == 8000
    chunks = collect(source)
    assert_chunk_sizes(chunks, 1600)
    assert samples16(chunks)[:5, 0].tolist() == [0, 127 * 256, -32768, 64 * 256, -64 * 256]
    assert len(b"".join(chunks)) == 2 * len(data)


def test_float32_becomes_16bit_with_clipping(tmp_path: Path) -> None:
    values = np.array([0.0, 0.5, -0.5, 1.5, -1.5, np.nan] * 100, dtype="<f4")
    path = write(tmp_path, "f32.wav", wav_bytes(values.tobytes(), tag=3, bits=32))
    source = open_audio_file(path, FormatRequest())
    assert source.converted and source.format.bit_depth == 16
    assert source.source_description == "WAV 32-bit float 16000 Hz mono"
    out = samples16(collect(source))[:, 0]
    assert out[:6].tolist() == [0, 16384, -16384, 32767, -32768, 0]
    assert len(out) == len(values)


def test_float64_extensible_becomes_16bit(tmp_path: Path) -> None:
    values = np.array([0.25, -0.25] * 100, dtype="<f8")
    path = write(tmp_path, "f64.wav", wav_bytes(values.tobytes(), bits=64, extensible=True, sub=3))
    out = samples16(collect(open_audio_file(path, FormatRequest())))[:, 0]
    assert out[:2].tolist() == [8192, -8192]


def test_22050_is_resampled_to_16000(tmp_path: Path) -> None:
    path = write(tmp_path, "22k.wav", wav_bytes(pcm16(tone(1000, 1.0, 22050)), rate=22050))
    source = open_audio_file(path, FormatRequest(), chunk_ms=100)
    assert source.converted and source.format.sample_rate == 16000
    chunks = collect(source)
    assert_chunk_sizes(chunks, 3200)
    out = samples16(chunks)[:, 0]
    assert abs(len(out) - 16000) <= 2
    assert peak_hz(out.astype(float), 16000) == pytest.approx(1000, abs=2)


@pytest.mark.parametrize("rate", [11025, 96000])
def test_other_unsupported_rates_go_to_16000(tmp_path: Path, rate: int) -> None:
    path = write(tmp_path, "r.wav", wav_bytes(pcm16(tone(500, 0.5, rate)), rate=rate))
    source = open_audio_file(path, FormatRequest())
    out = samples16(collect(source))[:, 0]
    assert source.format.sample_rate == 16000
    assert abs(len(out) - 8000) <= 2
    assert peak_hz(out.astype(float), 16000) == pytest.approx(500, abs=3)


def test_44100_stereo_downmixed_to_mono_on_request(tmp_path: Path) -> None:
    frames = np.tile(np.array([[1000, 3000], [-2000, 0]], dtype="<i2"), (22050, 1))
    path = write(tmp_path, "st.wav", wav_bytes(frames.tobytes(), channels=2, rate=44100))
    source = open_audio_file(path, FormatRequest(channels=1), chunk_ms=100)
    assert source.converted and source.format.channels == 1 and source.format.sample_rate == 44100
    chunks = collect(source)
    assert_chunk_sizes(chunks, 4410 * 2)
    assert samples16(chunks)[:4, 0].tolist() == [2000, -1000, 2000, -1000]
    assert len(b"".join(chunks)) == 44100 * 2


def test_mono_upmixed_on_request(tmp_path: Path) -> None:
    data = np.array([100, -200, 300], dtype="<i2")
    path = write(tmp_path, "m.wav", wav_bytes(data.tobytes()))
    out = samples16(collect(open_audio_file(path, FormatRequest(channels=3))), channels=3)
    assert out.tolist() == [[100] * 3, [-200] * 3, [300] * 3]


def test_requested_48000_upsamples(tmp_path: Path) -> None:
    path = write(tmp_path, "up.wav", wav_bytes(pcm16(tone(440, 0.5, 16000))))
    source = open_audio_file(path, FormatRequest(sample_rate=48000), chunk_ms=50)
    assert source.converted and source.format.sample_rate == 48000
    chunks = collect(source)
    assert_chunk_sizes(chunks, 2400 * 2)
    out = samples16(chunks)[:, 0]
    assert abs(len(out) - 24000) <= 3
    assert peak_hz(out.astype(float), 48000) == pytest.approx(440, abs=3)


def test_requested_24bit_from_16bit_is_exact(tmp_path: Path) -> None:
    data = np.array([1, -1, 32767, -32768, 0], dtype="<i2")
    path = write(tmp_path, "d.wav", wav_bytes(data.tobytes()))
    source = open_audio_file(path, FormatRequest(bit_depth=24))
    assert source.converted and source.format.bit_depth == 24
    out = files.unpack_int24(b"".join(collect(source)))
    assert out.tolist() == (data.astype(np.int32) * 256).tolist()


def test_conversion_output_does_not_depend_on_chunk_size(tmp_path: Path) -> None:
    """The stateful converter makes block boundaries invisible: 7 ms and 250 ms chunks give the same bytes."""
    frames = (np.stack([tone(440, 0.7, 44100), tone(660, 0.7, 44100)], axis=1) * 2**23).astype(np.int32)
    path = write(
        tmp_path,
        "s24.wav",
        wav_bytes(files.pack_int24(frames.reshape(-1)), channels=2, rate=44100, bits=24, extensible=True),
    )
    request = FormatRequest(sample_rate=16000, channels=1, bit_depth=16)
    small = b"".join(collect(open_audio_file(path, request, chunk_ms=7)))
    large = b"".join(collect(open_audio_file(path, request, chunk_ms=250)))
    assert small == large
    assert abs(len(small) // 2 - 11200) <= 2


def test_int24_pack_unpack_roundtrip() -> None:
    values = np.random.default_rng(2).integers(-(2**23), 2**23, size=10_000).astype(np.int32)
    packed = files.pack_int24(values)
    assert len(packed) == 30_000
    assert np.array_equal(files.unpack_int24(packed), values)
    assert files.pack_int24(np.array([-1, 1], dtype=np.int32)) == b"\xff\xff\xff\x01\x00\x00"


# ---------------------------------------------------------------------------------------------------------------
# Resampler


def test_streaming_resampler_equals_one_shot() -> None:
    rng = np.random.default_rng(3)
    signal = np.stack([tone(440, 1.0, 44100), tone(1234, 1.0, 44100)], axis=1)
    for in_rate, out_rate in [(44100, 16000), (22050, 16000), (16000, 48000), (8000, 44100)]:
        whole = LinearResampler(in_rate, out_rate)
        reference = np.concatenate([whole.process(signal), whole.flush()])
        streaming = LinearResampler(in_rate, out_rate)
        parts, start = [], 0
        while start < len(signal):
            size = int(rng.integers(1, 3000))
            parts.append(streaming.process(signal[start : start + size]))
            start += size
        parts.append(streaming.flush())
        blockwise = np.concatenate(parts)
        assert blockwise.shape == reference.shape
        assert len(reference) == -(-len(signal) * out_rate // in_rate)
        # Within 1 LSB at 16 bits (in practice identical).
        assert np.max(np.abs(np.rint(blockwise * 32767) - np.rint(reference * 32767))) <= 1
        # And it is plain linear interpolation of the whole signal.
        t = np.arange(len(reference)) * in_rate / out_rate
        expected = np.interp(t, np.arange(len(signal)), signal[:, 0])
        assert np.allclose(reference[:, 0], expected, atol=1e-9)


def test_resampled_tone_keeps_its_frequency() -> None:
    resampler = LinearResampler(44100, 16000)
    signal = tone(440, 1.0, 44100)[:, None]
    out = np.concatenate([resampler.process(signal), resampler.flush()])[:, 0]
    assert len(out) == 16000
    assert peak_hz(out, 16000) == pytest.approx(440, abs=1)


# ---------------------------------------------------------------------------------------------------------------
# Damaged but playable WAVs


@pytest.mark.parametrize("declared", [10_000_000, 0, 0xFFFFFFFF])
def test_data_chunk_running_past_eof_plays_what_is_there(tmp_path: Path, declared: int) -> None:
    data = pcm16(tone(440, 0.3, 16000)) + b"\x07"  # killed recorder: half a frame at the end
    path = write(tmp_path, "cut.wav", wav_bytes(data, data_size=declared)[:-1])  # no pad byte either
    source = open_audio_file(path, FormatRequest())
    assert source.truncated and not source.converted
    assert source.duration == pytest.approx(0.3)
    assert b"".join(collect(source)) == data[:-1]


def test_odd_data_size_drops_partial_frame(tmp_path: Path) -> None:
    data = np.arange(500, dtype="<i2").tobytes() + b"\x01\x02\x03"  # 2 stereo frames... plus 3 stray bytes
    path = write(tmp_path, "odd.wav", wav_bytes(data, channels=2) + chunk(b"LIST", b"INFOtrailing"))
    source = open_audio_file(path, FormatRequest())
    assert not source.truncated
    assert b"".join(collect(source)) == data[:1000]


def test_list_chunk_before_data_is_skipped(tmp_path: Path) -> None:
    data = pcm16(tone(440, 0.2, 16000))
    extra = chunk(b"LIST", b"INFOISFT\x05\x00\x00\x00gl\x00ad") + chunk(b"fact", b"\x00" * 4) + chunk(b"_PMX", b"x")
    path = write(tmp_path, "list.wav", wav_bytes(data, extra=extra))
    assert b"".join(collect(open_audio_file(path, FormatRequest()))) == data


def test_missing_pad_byte_after_odd_chunk_is_tolerated(tmp_path: Path) -> None:
    data = pcm16(tone(440, 0.1, 16000))
    extra = struct.pack("<4sI", b"LIST", 5) + b"INFOx"  # odd size, writer forgot the pad byte
    path = write(tmp_path, "nopad.wav", wav_bytes(data, extra=extra))
    assert b"".join(collect(open_audio_file(path, FormatRequest()))) == data


# ---------------------------------------------------------------------------------------------------------------
# User mistakes: one clear line naming the file


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.wav"
    assert f"no such file: {path}" in usage_error(path)


def test_directory(tmp_path: Path) -> None:
    assert "is a directory" in usage_error(tmp_path)


def test_empty_file(tmp_path: Path) -> None:
    path = write(tmp_path, "empty.wav", b"")
    message = usage_error(path)
    assert str(path) in message and "empty" in message


def test_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, "secret.wav", wav_bytes(b"\x00\x00" * 10))

    def denied(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(files, "open", denied, raising=False)  # tests run as root, where chmod 000 is no barrier
    message = usage_error(path)
    assert str(path) in message and "permission denied" in message


@pytest.mark.skipif(sys.platform == "win32" or os.geteuid() == 0, reason="root ignores file permissions")
def test_unreadable_file_chmod(tmp_path: Path) -> None:
    path = write(tmp_path, "secret.wav", wav_bytes(b"\x00\x00" * 10))
    path.chmod(0)
    assert "permission denied" in usage_error(path)


def test_text_file_without_ffmpeg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(files.shutil, "which", lambda name: None)
    path = write(tmp_path, "notes.wav", b"hello, this is not audio\n")  # the extension lies; magic bytes decide
    message = usage_error(path)
    assert str(path) in message and "not a WAV file" in message and "ffmpeg is not installed" in message


@needs_ffmpeg
def test_random_bytes_with_ffmpeg_is_not_audio(tmp_path: Path) -> None:
    path = write(tmp_path, "noise.mp3", np.random.default_rng(4).integers(0, 256, 65536, dtype=np.uint8).tobytes())
    message = usage_error(path)
    assert str(path) in message and "not an audio file" in message


@needs_ffmpeg
def test_text_file_with_ffmpeg_but_no_ffprobe_fails_at_open(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_which = shutil.which
    monkeypatch.setattr(files.shutil, "which", lambda name: None if name == "ffprobe" else real_which(name))
    path = write(tmp_path, "notes.txt", b"just some words\n" * 50)
    message = usage_error(path)
    assert str(path) in message and "not an audio file" in message


def test_corrupted_fmt_chunk(tmp_path: Path) -> None:
    garbage = bytes(np.random.default_rng(5).integers(0, 256, 16, dtype=np.uint8))
    path = write(tmp_path, "bad.wav", b"RIFF" + struct.pack("<I", 1000) + b"WAVE" + chunk(b"fmt ", garbage) + b"x" * 50)
    message = usage_error(path)
    assert str(path) in message and "WAV" in message


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"RIFF\x10\x00\x00\x00WAVEfm", "no fmt chunk"),
        (b"RIFF\x10\x00\x00\x00WAVE" + chunk(b"fmt ", fmt_body()), "no data chunk"),
        (b"RIFF\x10\x00\x00\x00WAVE" + struct.pack("<4sI", b"fmt ", 2) + b"ab", "invalid size"),
        (b"RIFF\x10\x00\x00\x00WAVE" + chunk(b"fmt ", fmt_body(channels=0)), "0 channels"),
        (wav_bytes(b""), "no audio"),
        (wav_bytes(b"\x00" * 100)[:30], "cut off inside its header (30 bytes"),  # `head -c 30 a.wav`
    ],
)
def test_truncated_or_inconsistent_headers(tmp_path: Path, content: bytes, expected: str) -> None:
    path = write(tmp_path, "t.wav", content)
    message = usage_error(path)
    assert str(path) in message and expected in message


def test_twelve_channels_rejected_unless_downmixed(tmp_path: Path) -> None:
    data = np.tile(np.arange(12, dtype="<i2") * 100, 160).tobytes()
    path = write(tmp_path, "12ch.wav", wav_bytes(data, channels=12, extensible=True))
    message = usage_error(path)
    assert f"{path} has 12 channels; Gladia accepts at most 8" in message
    out = samples16(collect(open_audio_file(path, FormatRequest(channels=1))))[:, 0]
    assert out.tolist() == [550] * 160


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        ({"bits": 64}, "64-bit integer"),
        ({"bits": 64, "extensible": True}, "64-bit integer"),
        ({"tag": 2, "bits": 4}, "ADPCM"),
        ({"tag": 3, "bits": 16}, "16-bit float"),
        ({"extensible": True, "sub": 0x55, "bits": 16}, "MP3"),
    ],
)
def test_unsupported_sample_formats_suggest_ffmpeg(tmp_path: Path, fmt: dict[str, int | bool], expected: str) -> None:
    path = write(tmp_path, "u.wav", wav_bytes(b"\x00" * 800, **fmt))
    message = usage_error(path)
    assert str(path) in message and expected in message and "ffmpeg" in message


@pytest.mark.parametrize(
    ("request_", "expected"),
    [
        (FormatRequest(sample_rate=22050), "unsupported sample rate 22050"),
        (FormatRequest(bit_depth=8), "--bit-depth 8"),
        (FormatRequest(bit_depth=12), "unsupported bit depth 12"),
        (FormatRequest(channels=9), "unsupported channel count 9"),
        (FormatRequest(channels=2), "from 4 to 2 channels"),
    ],
)
def test_bad_requests(tmp_path: Path, request_: FormatRequest, expected: str) -> None:
    path = write(tmp_path, "q.wav", wav_bytes(b"\x00" * 800, channels=4))
    assert expected in usage_error(path, request_)


def test_importing_does_not_import_numpy() -> None:
    code = "import sys, gladia_cli.audio.files; assert 'numpy' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parent.parent)


# ---------------------------------------------------------------------------------------------------------------
# ffmpeg


def encode_with_ffmpeg(tmp_path: Path, ext: str, codec_args: list[str], seconds: float = 1.0) -> Path:
    path = tmp_path / f"tone.{ext}"
    cmd = ["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}"]
    result = subprocess.run([*cmd, "-ac", "2", *codec_args, str(path)], capture_output=True, check=False)
    if result.returncode != 0:
        pytest.skip(f"this ffmpeg cannot encode {ext}: {result.stderr.decode(errors='replace').strip()}")
    return path


@needs_ffmpeg
@pytest.mark.parametrize(
    ("ext", "codec_args"), [("mp3", ["-c:a", "libmp3lame"]), ("ogg", ["-c:a", "libvorbis"]), ("flac", [])]
)
def test_compressed_files_decode_via_ffmpeg(tmp_path: Path, ext: str, codec_args: list[str]) -> None:
    path = encode_with_ffmpeg(tmp_path, ext, codec_args)
    source = open_audio_file(path, FormatRequest(), chunk_ms=100)
    assert source.converted and not source.truncated
    # The file's own rate and channels, as for a WAV: a stereo recording keeps both sides.
    assert source.format.as_config() == {"encoding": "wav/pcm", "sample_rate": 44100, "bit_depth": 16, "channels": 2}
    assert "via ffmpeg" in source.source_description
    assert source.duration == pytest.approx(1.0, abs=0.1)
    chunks = collect(source)
    assert_chunk_sizes(chunks, 4410 * 4)
    out = samples16(chunks, channels=2)
    assert abs(len(out) - 44100) < 4410
    assert peak_hz(out[:, 0].astype(float), 44100) == pytest.approx(440, abs=3)
    assert np.array_equal(out[:, 0], out[:, 1])
    assert source._proc is not None and source._proc.returncode == 0  # type: ignore[attr-defined]


@needs_ffmpeg
def test_ffmpeg_honours_requested_format(tmp_path: Path) -> None:
    path = encode_with_ffmpeg(tmp_path, "flac", [], seconds=0.5)
    source = open_audio_file(path, FormatRequest(sample_rate=48000, channels=2, bit_depth=24), chunk_ms=100)
    chunks = collect(source)
    assert_chunk_sizes(chunks, 4800 * 6)
    assert len(b"".join(chunks)) == 24000 * 6


@needs_ffmpeg
def test_ffmpeg_without_ffprobe_reads_first_chunk_at_open(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = encode_with_ffmpeg(tmp_path, "flac", [], seconds=0.5)
    real_which = shutil.which
    monkeypatch.setattr(files.shutil, "which", lambda name: None if name == "ffprobe" else real_which(name))
    source = open_audio_file(path, FormatRequest())
    assert source.duration is None and source.source_description == "flac via ffmpeg"
    assert len(b"".join(collect(source))) == 8000 * 2


@needs_ffmpeg
def test_close_kills_ffmpeg(tmp_path: Path) -> None:
    path = encode_with_ffmpeg(tmp_path, "flac", [], seconds=5)
    source = open_audio_file(path, FormatRequest(), chunk_ms=10)
    stream = source.chunks()
    next(stream)
    proc = source._proc  # type: ignore[attr-defined]
    source.close()
    assert list(stream) == []
    assert proc.poll() is not None and proc.stdout.closed


@needs_ffmpeg
def test_abandoned_stream_reaps_ffmpeg_quickly(tmp_path: Path) -> None:
    path = encode_with_ffmpeg(tmp_path, "flac", [], seconds=30)
    source = open_audio_file(path, FormatRequest(), chunk_ms=10)
    stream = source.chunks()
    next(stream)
    started = time.monotonic()
    stream.close()  # consumer stopped without calling close(): the pipe is full, ffmpeg must be killed, not awaited
    assert time.monotonic() - started < 1.0
    assert source._proc.poll() is not None  # type: ignore[attr-defined]


# ---------------------------------------------------------------------------------------------------------------
# Pacing


def test_pacing_slows_playback(tmp_path: Path) -> None:
    path = write(tmp_path, "p.wav", wav_bytes(pcm16(tone(440, 1.0, 16000))))
    started = time.monotonic()
    fast = collect(open_audio_file(path, FormatRequest(), chunk_ms=100, speed=0))
    fast_elapsed = time.monotonic() - started
    started = time.monotonic()
    paced = collect(open_audio_file(path, FormatRequest(), chunk_ms=100, speed=10))
    paced_elapsed = time.monotonic() - started
    assert fast == paced
    assert paced_elapsed > 0.05  # nominally 0.09 s: 9 chunk intervals of 10 ms
    assert paced_elapsed > fast_elapsed


def test_close_interrupts_paced_playback(tmp_path: Path) -> None:
    path = write(tmp_path, "long.wav", wav_bytes(pcm16(tone(440, 5.0, 16000))))
    source = open_audio_file(path, FormatRequest(), chunk_ms=1000, speed=1)
    received: list[bytes] = []
    closed_at: list[float] = []

    got_first = threading.Event()

    def consume() -> None:
        for chunk in source.chunks():
            received.append(chunk)
            got_first.set()

    worker = threading.Thread(target=consume)
    worker.start()
    assert got_first.wait(10)  # chunk 1 is out; chunk 2 is not due before t0 + 1 s
    time.sleep(0.1)  # into the pacing wait (the close must interrupt it; before it, close works anyway)
    closed_at.append(time.monotonic())
    source.close()
    worker.join(timeout=2)
    assert not worker.is_alive()
    assert time.monotonic() - closed_at[0] < 0.5
    assert len(received) == 1


def test_negative_speed_rejected(tmp_path: Path) -> None:
    path = write(tmp_path, "s.wav", wav_bytes(b"\x00\x00" * 100))
    assert "--speed" in usage_error(path, speed=-1)


@needs_ffmpeg
def test_ffmpeg_file_at_a_rate_gladia_does_not_take_goes_to_16k_keeping_channels(tmp_path: Path) -> None:
    path = tmp_path / "odd.flac"
    tone = "sine=frequency=440:duration=0.5:sample_rate=22050"
    cmd = ["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", tone]
    subprocess.run([*cmd, "-ac", "2", str(path)], check=True, capture_output=True)
    with open_audio_file(path, FormatRequest()) as source:
        assert (source.format.sample_rate, source.format.channels) == (16000, 2)
        assert len(b"".join(source.chunks())) == pytest.approx(8000 * 4, abs=4 * 160)
