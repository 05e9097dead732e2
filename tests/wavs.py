"""Real WAV files for the tests, written with numpy and the stdlib `wave` module."""

from __future__ import annotations

import hashlib
import wave
from pathlib import Path

import numpy as np


def tone(
    seconds: float, rate: int = 16000, channels: int = 1, freq: float = 440.0, amplitude: float = 0.4
) -> np.ndarray:
    """A float signal in [-1, 1], shape (frames, channels); each channel a slightly different pitch."""
    t = np.arange(int(seconds * rate)) / rate
    return np.stack([amplitude * np.sin(2 * np.pi * (freq + 110 * c) * t) for c in range(channels)], axis=1)


def to_pcm(signal: np.ndarray, bit_depth: int) -> bytes:
    if bit_depth == 16:
        return (signal * 32767).astype("<i2").tobytes()
    if bit_depth == 32:
        return (signal * 2147483647).astype("<i4").tobytes()
    if bit_depth == 24:
        ints = (signal * 8388607).astype("<i4").reshape(-1)
        return ints.view(np.uint8).reshape(-1, 4)[:, :3].tobytes()
    raise ValueError(bit_depth)


def write_wav(
    path: Path, seconds: float = 2.0, *, rate: int = 16000, channels: int = 1, bit_depth: int = 16
) -> tuple[Path, bytes]:
    """Write a tone WAV; return (path, the PCM bytes of its data chunk)."""
    pcm = to_pcm(tone(seconds, rate, channels), bit_depth)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(bit_depth // 8)
        w.setframerate(rate)
        w.writeframes(pcm)
    return path, pcm


def sha256(data: bytes | bytearray) -> str:
    return hashlib.sha256(bytes(data)).hexdigest()
