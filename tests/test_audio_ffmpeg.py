"""Files that are not WAVs, decoded by a real ffmpeg: formats, not-audio files, killing and reaping the process."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
from audio_helpers import (
    assert_chunk_sizes,
    collect,
    encode_with_ffmpeg,
    needs_ffmpeg,
    peak_hz,
    samples16,
    usage_error,
    write,
)

from gladia_cli.audio.files import FormatRequest, open_audio_file

# ---------------------------------------------------------------------------------------------------------------
# Not audio


@needs_ffmpeg
def test_random_bytes_with_ffmpeg_is_not_audio(tmp_path: Path) -> None:
    path = write(tmp_path, "noise.mp3", np.random.default_rng(4).integers(0, 256, 65536, dtype=np.uint8).tobytes())
    message = usage_error(path)
    assert str(path) in message and "not an audio file" in message


@needs_ffmpeg
def test_text_file_with_ffmpeg_but_no_ffprobe_fails_at_open(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_which = shutil.which
    monkeypatch.setattr(shutil, "which", lambda name: None if name == "ffprobe" else real_which(name))
    path = write(tmp_path, "notes.txt", b"just some words\n" * 50)
    message = usage_error(path)
    assert str(path) in message and "not an audio file" in message


# ---------------------------------------------------------------------------------------------------------------
# Decoding


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
    monkeypatch.setattr(shutil, "which", lambda name: None if name == "ffprobe" else real_which(name))
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


@needs_ffmpeg
def test_ffmpeg_file_at_a_rate_gladia_does_not_take_goes_to_16k_keeping_channels(tmp_path: Path) -> None:
    path = tmp_path / "odd.flac"
    tone = "sine=frequency=440:duration=0.5:sample_rate=22050"
    cmd = ["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", tone]
    subprocess.run([*cmd, "-ac", "2", str(path)], check=True, capture_output=True)
    with open_audio_file(path, FormatRequest()) as source:
        assert (source.format.sample_rate, source.format.channels) == (16000, 2)
        assert len(b"".join(source.chunks())) == pytest.approx(8000 * 4, abs=4 * 160)
