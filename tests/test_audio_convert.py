"""Sample conversion: WAVs Gladia does not take as they are, the int24 packing and the streaming resampler."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from audio_helpers import assert_chunk_sizes, collect, pcm16, peak_hz, samples16, tone, wav_bytes, write

from gladia_cli.audio import convert
from gladia_cli.audio.files import FormatRequest, open_audio_file
from gladia_cli.audio.resample import Resampler

# ---------------------------------------------------------------------------------------------------------------
# WAV conversion


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
    out = convert.unpack_int24(b"".join(collect(source)))
    assert out.tolist() == (data.astype(np.int32) * 256).tolist()


def test_conversion_output_does_not_depend_on_chunk_size(tmp_path: Path) -> None:
    """The stateful converter makes block boundaries invisible: 7 ms and 250 ms chunks give the same bytes."""
    frames = (np.stack([tone(440, 0.7, 44100), tone(660, 0.7, 44100)], axis=1) * 2**23).astype(np.int32)
    path = write(
        tmp_path,
        "s24.wav",
        wav_bytes(convert.pack_int24(frames.reshape(-1)), channels=2, rate=44100, bits=24, extensible=True),
    )
    request = FormatRequest(sample_rate=16000, channels=1, bit_depth=16)
    small = b"".join(collect(open_audio_file(path, request, chunk_ms=7)))
    large = b"".join(collect(open_audio_file(path, request, chunk_ms=250)))
    assert small == large
    assert abs(len(small) // 2 - 11200) <= 2


def test_int24_pack_unpack_roundtrip() -> None:
    values = np.random.default_rng(2).integers(-(2**23), 2**23, size=10_000).astype(np.int32)
    packed = convert.pack_int24(values)
    assert len(packed) == 30_000
    assert np.array_equal(convert.unpack_int24(packed), values)
    assert convert.pack_int24(np.array([-1, 1], dtype=np.int32)) == b"\xff\xff\xff\x01\x00\x00"


# ---------------------------------------------------------------------------------------------------------------
# Resampler


def test_streaming_resampler_equals_one_shot() -> None:
    """Block boundaries are invisible: any split gives the same samples as one block, and all of them."""
    rng = np.random.default_rng(3)
    signal = np.stack([tone(440, 1.0, 44100), tone(1234, 1.0, 44100)], axis=1)
    for in_rate, out_rate in [(44100, 16000), (22050, 16000), (16000, 48000), (8000, 44100)]:
        whole = Resampler(in_rate, out_rate, 2)
        reference = np.concatenate([whole.process(signal), whole.flush()])
        streaming = Resampler(in_rate, out_rate, 2)
        parts, start = [], 0
        while start < len(signal):
            size = int(rng.integers(1, 3000))
            parts.append(streaming.process(signal[start : start + size]))
            start += size
        parts.append(streaming.flush())
        blockwise = np.concatenate(parts)
        assert len(reference) == -(-len(signal) * out_rate // in_rate)
        assert np.array_equal(blockwise, reference)


def test_resampled_tone_keeps_its_frequency_and_level() -> None:
    resampler = Resampler(44100, 16000, 1)
    signal = tone(440, 1.0, 44100)[:, None]
    out = np.concatenate([resampler.process(signal), resampler.flush()])[:, 0]
    assert len(out) == 16000
    assert peak_hz(out, 16000) == pytest.approx(440, abs=1)
    expected = tone(440, 1.0, 16000)
    inner = slice(800, -800)  # away from the filter's start and end
    assert np.max(np.abs(out[inner] - expected[inner])) < 2e-3  # the pass band's ripple


def test_what_lies_above_the_new_nyquist_frequency_is_removed_not_folded() -> None:
    """Linear interpolation folded a 10 kHz tone to 6 kHz at 16 kHz; a band-limited resampler removes it."""
    resampler = Resampler(48000, 16000, 1)
    signal = (tone(1000, 1.0, 48000) + tone(10000, 1.0, 48000))[:, None]
    out = np.concatenate([resampler.process(signal), resampler.flush()])[:, 0]
    spectrum = np.abs(np.fft.rfft(out[1000:-1000] * np.hanning(len(out) - 2000)))
    hz = np.fft.rfftfreq(len(out) - 2000, 1 / 16000)
    wanted = spectrum[np.abs(hz - 1000) < 20].max()
    folded = spectrum[np.abs(hz - 6000) < 20].max()
    assert 20 * np.log10(folded / wanted) < -55
