"""WAV files: passthrough byte for byte, damaged but playable recordings, and broken or unsupported headers."""

from __future__ import annotations

import hashlib
import struct
from pathlib import Path

import numpy as np
import pytest
from audio_helpers import assert_chunk_sizes, chunk, collect, fmt_body, pcm16, tone, usage_error, wav_bytes, write

from gladia_cli.audio.files import FormatRequest, open_audio_file

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
# Damaged but playable WAVs


@pytest.mark.parametrize("declared", [10_000_000, 0, 0xFFFFFFFF])
def test_data_chunk_running_past_eof_plays_what_is_there(tmp_path: Path, declared: int) -> None:
    """A size past the end is a file cut short (said); 0 and 0xFFFFFFFF are a streamed header, whose data runs to
    the end of the file as it says: nothing is missing, so nothing is said."""
    data = pcm16(tone(440, 0.3, 16000)) + b"\x07"  # killed recorder: half a frame at the end
    path = write(tmp_path, "cut.wav", wav_bytes(data, data_size=declared)[:-1])  # no pad byte either
    source = open_audio_file(path, FormatRequest())
    assert source.truncated == (declared == 10_000_000) and not source.converted
    assert source.duration == pytest.approx(0.3)
    assert b"".join(collect(source)) == data[:-1]


def test_an_empty_data_chunk_before_another_chunk_holds_no_audio(tmp_path: Path) -> None:
    """A data chunk of size 0 followed by a LIST chunk is empty: the LIST bytes are no audio."""
    path = write(
        tmp_path, "empty.wav", wav_bytes(b"", extra=b"") + chunk(b"LIST", b"INFOISFT\x0e\x00\x00\x00Lavf58.76.100\x00")
    )
    assert "contains no audio samples" in usage_error(path)


def test_an_empty_data_chunk_then_the_real_one(tmp_path: Path) -> None:
    data = pcm16(tone(440, 0.1, 16000))
    path = write(tmp_path, "two.wav", wav_bytes(data, extra=chunk(b"data", b"") + chunk(b"LIST", b"INFO")))
    source = open_audio_file(path, FormatRequest())
    assert b"".join(collect(source)) == data


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
# Broken or unsupported WAVs: one clear line naming the file


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


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        ({"bits": 72}, "72-bit integer"),
        ({"tag": 2, "bits": 4}, "ADPCM"),
        ({"tag": 3, "bits": 16}, "16-bit float"),
        ({"extensible": True, "sub": 0x55, "bits": 16}, "MP3"),
    ],
)
def test_unsupported_sample_formats_suggest_ffmpeg(tmp_path: Path, fmt: dict[str, int | bool], expected: str) -> None:
    path = write(tmp_path, "u.wav", wav_bytes(b"\x00" * 800, **fmt))
    message = usage_error(path)
    assert str(path) in message and expected in message and "ffmpeg" in message
