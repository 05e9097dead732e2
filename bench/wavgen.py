"""Long 16 kHz mono 16-bit WAV files for the benchmark, written streaming: memory stays flat whatever the length.

The signal is a 10 s block (three tones plus pseudo-random noise, fixed seed) repeated; the header is written
first with the final sizes, so the file is valid as soon as it is complete. A file that already has the expected
size is reused.
"""

from __future__ import annotations

import math
import random
import struct
import sys
from array import array
from pathlib import Path

RATE = 16000
BLOCK_SECONDS = 10


def _block(rate: int, seconds: int) -> bytes:
    rng = random.Random(20240601)
    samples = array("h")
    tones = (220.0, 440.0, 1375.0)
    for n in range(rate * seconds):
        t = n / rate
        value = sum(math.sin(2 * math.pi * f * t) for f in tones) / len(tones) * 0.35 + rng.uniform(-0.1, 0.1)
        samples.append(int(value * 32767))
    if sys.byteorder != "little":
        samples.byteswap()
    return samples.tobytes()


def wav_header(data_bytes: int, rate: int = RATE, channels: int = 1, bit_depth: int = 16) -> bytes:
    block_align = channels * bit_depth // 8
    fmt = struct.pack("<HHIIHH", 1, channels, rate, rate * block_align, block_align, bit_depth)
    return (
        b"RIFF"
        + struct.pack("<I", 4 + 8 + len(fmt) + 8 + data_bytes)
        + b"WAVE"
        + b"fmt "
        + struct.pack("<I", len(fmt))
        + fmt
        + b"data"
        + struct.pack("<I", data_bytes)
    )


def write_wav(path: Path, seconds: float, rate: int = RATE) -> Path:
    """Write `seconds` of 16-bit mono audio to `path` (reused if already there with the right size)."""
    data_bytes = int(seconds * rate) * 2
    header = wav_header(data_bytes, rate)
    if path.is_file() and path.stat().st_size == len(header) + data_bytes:
        with path.open("rb") as f:
            if f.read(len(header)) == header:
                return path
    path.parent.mkdir(parents=True, exist_ok=True)
    block = _block(rate, BLOCK_SECONDS)
    tmp = path.with_suffix(".partial")
    with tmp.open("wb") as f:
        f.write(header)
        left = data_bytes
        while left > 0:
            piece = block[:left] if left < len(block) else block
            f.write(piece)
            left -= len(piece)
    tmp.replace(path)
    return path


def main(argv: list[str]) -> None:
    if len(argv) != 2:
        raise SystemExit("usage: python bench/wavgen.py PATH SECONDS")
    write_wav(Path(argv[0]), float(argv[1]))


if __name__ == "__main__":
    main(sys.argv[1:])
