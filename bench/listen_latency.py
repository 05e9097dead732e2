"""`gladia listen` end to end: process start -> the microphone's first block, and block captured -> frame sent.

    python bench/listen_latency.py [--runs 5] [--seconds 6] [--create-delay 0.5]

Each run is a fresh `gladia listen --duration N` process (the real command, through `gladia_cli.cli.main.main`)
recording the test suite's virtual PulseAudio microphone and streaming to the loopback emulator, whose POST /v2/live
answers after `--create-delay` seconds (a network round trip). The child stamps PortAudio's callbacks and the
WebSocket sends (by wrapping `MicrophoneSource._callback` and `Connection.send_audio`, nothing else), then maps each
block to the frame that carried its last byte. Blocks captured while the session was being created wait for the
socket by design: they are reported apart from the steady state. Prints a markdown section (paste it into
bench/results.md).
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
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

CHILD = r"""
import atexit, json, sys, time
spawned_wall = float(sys.argv[1]); out = sys.argv[2]; seconds = sys.argv[3]
t0_wall, t0 = time.time(), time.monotonic()
from gladia_cli.audio import capture
from gladia_cli.live import connection
blocks, sends = [], []
original_callback = capture.MicrophoneSource._callback
def callback(self, indata, frames, time_info, status):
    blocks.append((time.monotonic(), len(bytes(indata))))
    original_callback(self, indata, frames, time_info, status)
capture.MicrophoneSource._callback = callback
original_send = connection.Connection.send_audio
def send_audio(self, frame):
    original_send(self, frame)
    sends.append((time.monotonic(), len(frame)))
connection.Connection.send_audio = send_audio
def dump():
    with open(out, "w") as f:
        json.dump({"spawn_offset": t0_wall - spawned_wall, "t0": t0, "blocks": blocks, "sends": sends}, f)
atexit.register(dump)
from gladia_cli.cli.main import main
main(["listen", "--duration", seconds])
"""


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def block_to_send(data: dict) -> tuple[float, list[float], list[float]]:
    """(process start -> first block, latencies of blocks captured before the first send, the rest's)."""
    t0, blocks, sends = data["t0"], data["blocks"], data["sends"]
    first_block = data["spawn_offset"] + blocks[0][0] - t0
    ends, total = [], 0
    for at, size in sends:
        total += size
        ends.append((total, at))
    first_send = sends[0][0]
    waiting, steady = [], []
    captured, j = 0, 0
    for at, size in blocks:
        captured += size
        while j < len(ends) and ends[j][0] < captured:
            j += 1
        if j == len(ends):
            break  # after --duration: never sent
        (waiting if at < first_send else steady).append(ends[j][1] - at)
    return first_block, waiting, steady


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--create-delay", type=float, default=0.5)
    args = parser.parse_args()
    from emulator import GladiaEmulator
    from virtual_mic import VirtualMic

    firsts: list[float] = []
    waiting: list[float] = []
    steady: list[float] = []
    with tempfile.TemporaryDirectory() as tmp, VirtualMic() as mic, GladiaEmulator() as emu:
        emu.http_hang_seconds = args.create_delay
        env = dict(
            os.environ,
            **mic.env,
            PYTHONPATH=str(ROOT),
            GLADIA_API_KEY="test-key",
            GLADIA_API_URL=emu.base_url,
            HOME=tmp,
        )
        for run in range(args.runs):
            out = Path(tmp) / f"run{run}.json"
            subprocess.run(
                [sys.executable, "-c", CHILD, repr(time.time()), str(out), f"{args.seconds:g}"],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                check=True,
                timeout=120,
            )
            first, before, after = block_to_send(json.loads(out.read_text()))
            firsts.append(first)
            waiting += before
            steady += after
    ms = 1000
    lines = [
        "## 8. `gladia listen` end to end (bench/listen_latency.py)",
        "",
        f"{args.runs} fresh `gladia listen --duration {args.seconds:g}` processes, 16 kHz mono, 100 ms blocks, the "
        f"virtual mic, the loopback emulator answering POST /v2/live after {args.create_delay:g} s.",
        "",
        "| process start → first block (median, max) | block → frame sent, steady p50 / p99 (n) "
        "| block → frame sent, captured while connecting: max (n) |",
        "| --- | --- | --- |",
        f"| {statistics.median(firsts) * ms:.0f} ms, {max(firsts) * ms:.0f} ms"
        f" | {pct(steady, 0.5) * ms:.2f} / {pct(steady, 0.99) * ms:.2f} ms ({len(steady)})"
        f" | {max(waiting, default=0) * ms:.0f} ms ({len(waiting)}) |",
        "",
    ]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
