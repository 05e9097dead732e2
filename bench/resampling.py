#!/usr/bin/env python3
"""How faithfully files are converted: SNR of what gladia would send, of ffmpeg's own conversion and of the linear
interpolation gladia used before, each against soundfile's decoding + scipy's resample_poly; and the conversion's
CPU at 1x (the share of one core that converting audio as fast as it plays takes).

    python bench/resampling.py   # a Markdown section for bench/results.md (needs sox, ffmpeg, scipy, soundfile)

The rows are the issue's: a 96 kHz 24-bit file with speech and a chirp to 45 kHz, pink noise at 48 kHz, speech at
22.05 kHz, A-law at 8 kHz, 8-bit at 11.025 kHz. SNR in brackets: of the error below 3.8 kHz, where speech is.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from math import gcd
from pathlib import Path

import numpy as np
import soundfile
from scipy import signal

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gladia_cli.audio import convert  # noqa: E402
from gladia_cli.audio.files import FormatRequest, open_audio_file  # noqa: E402
from gladia_cli.audio.format import PcmFormat  # noqa: E402


def speechlike(rate: int, seconds: float) -> np.ndarray:
    rng = np.random.default_rng(7)
    t = np.arange(int(rate * seconds)) / rate
    pitch = 140 + 30 * np.sin(2 * np.pi * 0.7 * t)
    phase = 2 * np.pi * np.cumsum(pitch) / rate
    voiced = sum(np.sin(k * phase) / k for k in range(1, 40) if 140 * k < rate / 2)
    return 0.2 * voiced * (0.5 + 0.5 * np.sin(2 * np.pi * 3 * t) ** 2) + 0.01 * rng.standard_normal(len(t))


def make(kind: str, tmp: Path) -> Path:
    path = tmp / f"{kind}.wav"
    if kind == "chirp96":
        t = np.arange(96000 * 4) / 96000
        soundfile.write(str(path), speechlike(96000, 4) + 0.1 * signal.chirp(t, 20, t[-1], 45000), 96000, "PCM_24")
    elif kind == "noise48":
        subprocess.run(
            ["sox", "-n", "-r", "48000", "-b", "16", str(path), "synth", "4", "pinknoise", "vol", "0.3"], check=True
        )
    elif kind == "speech22":
        soundfile.write(str(path), speechlike(22050, 4), 22050, "PCM_16")
    else:
        rate, args = (8000, ["-e", "a-law"]) if kind == "alaw8" else (11025, ["-b", "8", "-e", "unsigned-integer"])
        plain = tmp / f"{kind}-plain.wav"
        soundfile.write(str(plain), speechlike(rate, 4), rate, "PCM_16")
        subprocess.run(["sox", str(plain), *args, str(path)], check=True)
    return path


def snr(got: np.ndarray, ref: np.ndarray, rate: int, below: float | None = None) -> float:
    n = min(len(got), len(ref))
    got, ref = got[:n], ref[:n]
    err = got - ref
    if below:
        sos = signal.butter(8, below, fs=rate, output="sos")
        err, ref = signal.sosfiltfilt(sos, err, axis=0), signal.sosfiltfilt(sos, ref, axis=0)
    inner = slice(rate // 10, n - rate // 10)
    return float(10 * np.log10(np.sum(ref[inner] ** 2) / np.sum(err[inner] ** 2)))


def gladia(path: Path, rate: int) -> np.ndarray:
    source = open_audio_file(path, FormatRequest(sample_rate=rate, encoding="wav/pcm", bit_depth=16))
    raw = b"".join(source.chunks())
    return convert.decode_samples(raw, "int", 2, source.format.channels)


def ffmpeg(path: Path, rate: int, channels: int) -> np.ndarray:
    out = subprocess.run(["ffmpeg", "-v", "error", "-i", str(path), "-ar", str(rate), "-f", "f64le", "-"],
                         capture_output=True, check=True).stdout  # fmt: skip
    return np.frombuffer(out, "<f8").reshape(-1, channels)


def linear(audio: np.ndarray, file_rate: int, rate: int) -> np.ndarray:
    """The resampler gladia had before: linear interpolation, no low-pass."""
    n = -(-len(audio) * rate // file_rate)
    t = np.arange(n) * file_rate / rate
    return np.stack([np.interp(t, np.arange(len(audio)), audio[:, c]) for c in range(audio.shape[1])], axis=1)


def cpu_at_1x(file_rate: int, rate: int, channels: int, seconds: float = 60.0) -> float:
    """Percent of one core to convert `seconds` of audio, 100 ms at a time, as a paced stream does."""
    converter = convert.Converter(kind="int", width=2, channels=channels, sample_rate=file_rate,
                                  out=PcmFormat(sample_rate=rate, channels=1, bit_depth=16))  # fmt: skip
    block = (np.random.default_rng(1).uniform(-0.5, 0.5, (file_rate // 10, channels)) * 32767).astype("<i2").tobytes()
    start = time.process_time()
    for _ in range(int(seconds * 10)):
        converter.process(block)
    return 100 * (time.process_time() - start) / seconds


def main() -> None:
    rows = [("chirp96", 16000, "96 kHz 24-bit, speech + chirp -> 16 kHz"), ("chirp96", 48000, "same -> 48 kHz"),
            ("noise48", 16000, "pink noise 48 -> 16 kHz"), ("speech22", 8000, "22.05 kHz speech -> 8 kHz"),
            ("alaw8", 16000, "A-law 8 -> 16 kHz"), ("u8_11k", 16000, "8-bit 11.025 -> 16 kHz")]  # fmt: skip
    print("## 12. File conversion fidelity (bench/resampling.py)\n")
    print("SNR in dB against soundfile + scipy's resample_poly (in brackets: of the error below 3.8 kHz).\n")
    print("| input -> target | linear (before) | ffmpeg | gladia |")
    print("|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for kind, rate, label in rows:
            path = make(kind, Path(tmp))
            audio, file_rate = soundfile.read(str(path), dtype="float64", always_2d=True)
            g = gcd(file_rate, rate)
            ref = signal.resample_poly(audio, rate // g, file_rate // g, axis=0)
            cells = []
            for got in (linear(audio, file_rate, rate), ffmpeg(path, rate, audio.shape[1]), gladia(path, rate)):
                cells.append(f"{snr(got, ref, rate):.1f} ({snr(got, ref, rate, 3800):.1f})")
            print(f"| {label} | {' | '.join(cells)} |")
    print("\nCPU of the conversion at 1x, 100 ms blocks (% of one core):\n")
    print("| conversion | CPU |")
    print("|---|---|")
    for file_rate, rate, channels, label in [(16000, 16000, 2, "16 kHz stereo -> mono (downmix only)"),
                                             (44100, 16000, 1, "44.1 -> 16 kHz mono"),
                                             (48000, 16000, 2, "48 kHz stereo -> 16 kHz mono"),
                                             (96000, 16000, 6, "96 kHz 5.1 -> 16 kHz mono")]:  # fmt: skip
        print(f"| {label} | {cpu_at_1x(file_rate, rate, channels):.2f} % |")


if __name__ == "__main__":
    main()
