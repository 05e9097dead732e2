"""Microphone capture timing and level-meter cost, through the test suite's virtual PulseAudio mic.

    python bench/capture_latency.py [--runs 5] [--seconds 5]

For each PortAudio input latency ('low', 'high'), in fresh processes (PortAudio's first stream in a process is the
one a user gets): time from process start (spawn) and from MicrophoneSource.start() to the first captured block;
how late blocks are (ADC time to callback, callback to chunks() handing it out) in steady state; and whether the
audio of a tone played 0.2 s after start() all arrives. Then the level meter's CPU cost at 10 updates/s.
Prints a markdown section (paste it into bench/results.md).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

CHILD = r"""
import json, sys, threading, time
spawned = float(sys.argv[1]); latency = sys.argv[2]; seconds = float(sys.argv[3])
from gladia_cli.audio.capture import MicrophoneSource
from gladia_cli.audio.portaudio import portaudio_device
from gladia_cli.audio.format import PcmFormat
imported = time.time()
src = MicrophoneSource(PcmFormat(), portaudio_device(None), latency=latency)
arrivals = []
original = src._callback
def callback(indata, frames, time_info, status):
    arrivals.append((time.monotonic(), time_info.currentTime - time_info.inputBufferAdcTime))
    original(indata, frames, time_info, status)
src._callback = callback
t0_wall, t0 = time.time(), time.monotonic()
src.start()
print("READY", flush=True)
pulled = []
for chunk in src.chunks():
    pulled.append((time.monotonic(), chunk))
    if pulled[-1][0] - t0 >= seconds:
        src.close()
first = arrivals[0][0]
print(json.dumps({
    "spawn_to_first": (t0_wall - spawned) + (first - t0),
    "imports": imported - spawned,
    "start_to_first": first - t0,
    "adc_to_callback": [a[1] for a in arrivals[5:]],
    "callback_to_pulled": [p[0] - a[0] for a, p in zip(arrivals[5:], pulled[5:])],
    "pcm": b"".join(c for _, c in pulled).hex(),
}))
"""


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def tone_wav(path: Path, hz: float = 1000.0, seconds: float = 1.0, rate: int = 48000) -> Path:
    import numpy as np

    t = np.arange(int(seconds * rate)) / rate
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((0.5 * 32767 * np.sin(2 * np.pi * hz * t)).astype("<i2").tobytes())
    return path


def tone_seconds(pcm: bytes, hz: float = 1000.0, rate: int = 16000) -> float:
    import numpy as np

    mono = np.frombuffer(pcm, "<i2").astype(np.float64) / 32768
    size = rate // 50
    frames = mono[: len(mono) // size * size].reshape(-1, size)
    amp = np.abs(frames @ np.exp(-2j * np.pi * hz * np.arange(size) / rate)) * 2 / size
    return float((amp > 0.25).sum() * 0.02)


def capture_runs(mic: object, runs: int, seconds: float, wav: Path) -> dict[str, dict[str, list[float]]]:
    env = dict(os.environ, **mic.env, PYTHONPATH=str(ROOT))  # type: ignore[attr-defined]
    out: dict[str, dict[str, list[float]]] = {}
    for _ in range(runs):
        for latency in ("low", "high"):
            proc = subprocess.Popen(
                [sys.executable, "-c", CHILD, repr(time.time()), latency, str(seconds)],
                env=env,
                stdout=subprocess.PIPE,
                text=True,
            )
            assert proc.stdout is not None
            proc.stdout.readline()  # READY: start() returned
            time.sleep(0.2)
            mic.play(wav)  # type: ignore[attr-defined]
            result = json.loads(proc.stdout.readline())
            proc.wait(timeout=30)
            row = out.setdefault(latency, {})
            for key in ("spawn_to_first", "start_to_first", "imports"):
                row.setdefault(key, []).append(result[key])
            row.setdefault("adc_to_callback", []).extend(result["adc_to_callback"])
            row.setdefault("callback_to_pulled", []).extend(result["callback_to_pulled"])
            row.setdefault("tone_s", []).append(tone_seconds(bytes.fromhex(result["pcm"])))
    return out


def meter_cost(seconds: float = 60.0) -> tuple[float, float]:
    """CPU seconds per audio second of LevelMeter.feed (100 ms blocks) + snapshot() at 10/s, as % of one core."""
    import numpy as np

    from gladia_cli.audio.level import LevelMeter

    rng = np.random.default_rng(1)
    block = (rng.standard_normal(1600) * 3000).astype("<i2").tobytes()
    results = []
    for channels, blk in ((1, block), (2, block + block)):
        meter = LevelMeter(channels, 16000)
        n = int(seconds * 10)
        started = time.process_time()
        for _ in range(n):
            meter.feed(blk)
            meter.snapshot()
        results.append((time.process_time() - started) / seconds * 100)
    return results[0], results[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    from virtual_mic import VirtualMic

    with tempfile.TemporaryDirectory() as tmp, VirtualMic() as mic:
        wav = tone_wav(Path(tmp) / "tone.wav")
        runs = capture_runs(mic, args.runs, args.seconds, wav)
    mono, stereo = meter_cost()
    ms = 1000
    lines = [
        "## Microphone capture (bench/capture_latency.py)",
        "",
        f"{args.runs} fresh processes per setting, 16 kHz mono, 100 ms blocks, PortAudio ALSA `default` device over "
        "the test suite's private PulseAudio (virtual mic); a 1.0 s 1 kHz tone played 0.2 s after `start()` returned.",
        "",
        "| input latency | spawn → first block (median, max) | start() → first block (median, max) | "
        "ADC → callback p50 / p99 | callback → chunks() p50 / p99 | tone received (of 1.0 s, min) |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for latency, row in runs.items():
        spawn, start = row["spawn_to_first"], row["start_to_first"]
        lines.append(
            f"| {latency} | {statistics.median(spawn) * ms:.0f} ms, {max(spawn) * ms:.0f} ms"
            f" | {statistics.median(start) * ms:.0f} ms, {max(start) * ms:.0f} ms"
            f" | {pct(row['adc_to_callback'], 0.5) * ms:.1f} / {pct(row['adc_to_callback'], 0.99) * ms:.1f} ms"
            f" | {pct(row['callback_to_pulled'], 0.5) * ms:.2f} / {pct(row['callback_to_pulled'], 0.99) * ms:.2f} ms"
            f" | {min(row['tone_s']):.2f} s |"
        )
    lines += [
        "",
        f"Level meter (`LevelMeter.feed` on each 100 ms block + `snapshot()`, i.e. 10 updates/s): {mono:.3f} % of a "
        f"core mono, {stereo:.3f} % stereo (goal: under 0.5 %).",
        "",
    ]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
