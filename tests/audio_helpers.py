"""What the audio file tests share: WAVs built by hand (every header field under control), tones, chunk checks."""

from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest

from gladia_cli.audio.files import FormatRequest, open_audio_file
from gladia_cli.audio.filesource import FileSource
from gladia_cli.errors import UsageError

GUID_TAIL = b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"
HAVE_FFMPEG = shutil.which("ffmpeg") is not None and shutil.which("ffprobe") is not None
needs_ffmpeg = pytest.mark.skipif(not HAVE_FFMPEG, reason="ffmpeg/ffprobe not installed")


def chunk(chunk_id: bytes, body: bytes, declared: int | None = None) -> bytes:
    size = len(body) if declared is None else declared
    return struct.pack("<4sI", chunk_id, size) + body + (b"\x00" if len(body) % 2 else b"")


def fmt_body(
    *,
    tag: int = 1,
    channels: int = 1,
    rate: int = 16000,
    bits: int = 16,
    extensible: bool = False,
    sub: int = 1,
    mask: int | None = None,
    order: str = "<",
) -> bytes:
    """A fmt chunk's body; EXTENSIBLE names the first `channels` speakers unless `mask` says otherwise."""
    align = channels * ((bits + 7) // 8)
    body = struct.pack(f"{order}HHIIHH", 0xFFFE if extensible else tag, channels, rate, rate * align, align, bits)
    if extensible:
        if mask is None:
            mask = (1 << channels) - 1 if channels < 32 else 0
        body += struct.pack(f"{order}HHI", 22, bits, mask) + struct.pack("<H", sub)
        body += GUID_TAIL
    return body


def rifx_bytes(data: bytes, **fmt: int | bool) -> bytes:
    """A big-endian WAV (RIFX), as `sox -B` writes it: every size and header field big-endian, and the samples."""
    fmt_chunk = struct.pack(">4sI", b"fmt ", 16) + fmt_body(order=">", **fmt)  # type: ignore[arg-type]
    body = b"WAVE" + fmt_chunk + struct.pack(">4sI", b"data", len(data)) + data + (b"\x00" if len(data) % 2 else b"")
    return b"RIFX" + struct.pack(">I", len(body)) + body


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


def collect(source: FileSource) -> list[bytes]:
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


def samples16(chunks: list[bytes], channels: int = 1) -> np.ndarray:
    return np.frombuffer(b"".join(chunks), dtype="<i2").reshape(-1, channels)


def encode_with_ffmpeg(tmp_path: Path, ext: str, codec_args: list[str], seconds: float = 1.0) -> Path:
    path = tmp_path / f"tone.{ext}"
    cmd = ["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}"]
    result = subprocess.run([*cmd, "-ac", "2", *codec_args, str(path)], capture_output=True, check=False)
    if result.returncode != 0:
        pytest.skip(f"this ffmpeg cannot encode {ext}: {result.stderr.decode(errors='replace').strip()}")
    return path
