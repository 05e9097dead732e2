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
import atexit, importlib.abc, json, sys, time
spawned_wall = float(sys.argv[1]); out = sys.argv[2]; seconds = sys.argv[3]
t0_wall, t0 = time.time(), time.monotonic()
blocks, sends, started = [], [], []

def patch_capture(capture):
    original_open = capture.MicrophoneSource._open
    def _open(self, sd):
        original_open(self, sd)
        if self._stream is not None and not started:
            started.append(time.monotonic())
    capture.MicrophoneSource._open = _open
    original_callback = capture.MicrophoneSource._callback
    def callback(self, indata, frames, time_info, status):
        blocks.append((time.monotonic(), len(bytes(indata))))
        original_callback(self, indata, frames, time_info, status)
    capture.MicrophoneSource._callback = callback

def patch_connection(connection):
    original_send = connection.Connection.send_audio
    def send_audio(self, frame):
        original_send(self, frame)
        sends.append((time.monotonic(), len(frame)))
    connection.Connection.send_audio = send_audio

PATCHES = {"gladia_cli.audio.capture": patch_capture, "gladia_cli.live.connection": patch_connection}

class Patcher(importlib.abc.MetaPathFinder):
    # Patch each module as it is first imported, where the command imports it: importing them here, up front,
    # would add their import time before the command's own start.
    def find_spec(self, name, path, target=None):
        if name not in PATCHES:
            return None
        sys.meta_path.remove(self)
        try:
            spec = importlib.util.find_spec(name)
        finally:
            sys.meta_path.insert(0, self)
        exec_module = spec.loader.exec_module
        def patched(module):
            exec_module(module)
            PATCHES[name](module)
        spec.loader.exec_module = patched
        return spec

import importlib.util
sys.meta_path.insert(0, Patcher())
def dump():
    with open(out, "w") as f:
        json.dump({"spawn_offset": t0_wall - spawned_wall, "t0": t0, "started": started, "blocks": blocks,
                   "sends": sends}, f)
atexit.register(dump)
from gladia_cli.cli.main import main
command = ["listen", "--duration", seconds]
if sys.argv[4] == "early":
    sys.argv = ["gladia", *command]
    main()  # as the console script calls it: the command line is the process's own, recording starts early
else:
    main(command)  # as a program embedding it calls it: the device opens when the run asks (no early start)
"""


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def block_to_send(data: dict) -> tuple[float, float, list[float], list[float]]:
    """(process start -> recording, -> first block, latencies of blocks captured before the first send, the
    rest's)."""
    t0, blocks, sends = data["t0"], data["blocks"], data["sends"]
    recording = data["spawn_offset"] + data["started"][0] - t0
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
    return recording, first_block, waiting, steady


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--create-delay", type=float, default=0.5)
    args = parser.parse_args()
    from emulator import GladiaEmulator
    from virtual_mic import VirtualMic

    rows = []
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
        env.pop("PYTHONDONTWRITEBYTECODE", None)  # a user's install has its bytecode cached: so does this

        def run(mode: str, out: Path) -> dict:
            subprocess.run(
                [sys.executable, "-c", CHILD, repr(time.time()), str(out), f"{args.seconds:g}", mode],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                check=True,
                timeout=120,
            )
            return json.loads(out.read_text())

        run("early", Path(tmp) / "warm-up.json")  # writes the bytecode caches; not counted
        for mode, label in (("late", "main(argv) in-process: no early start"), ("early", "the console script")):
            recordings: list[float] = []
            firsts: list[float] = []
            waiting: list[float] = []
            steady: list[float] = []
            for k in range(args.runs):
                recording, first, before, after = block_to_send(run(mode, Path(tmp) / f"{mode}{k}.json"))
                recordings.append(recording)
                firsts.append(first)
                waiting += before
                steady += after
            ms = 1000
            rows.append(
                f"| {label} | {statistics.median(recordings) * ms:.0f} ms, {max(recordings) * ms:.0f} ms"
                f" | {statistics.median(firsts) * ms:.0f} ms, {max(firsts) * ms:.0f} ms"
                f" | {pct(steady, 0.5) * ms:.2f} / {pct(steady, 0.99) * ms:.2f} ms ({len(steady)})"
                f" | {max(waiting, default=0) * ms:.0f} ms ({len(waiting)}) |"
            )
    lines = [
        "## 9. `gladia listen` end to end (bench/listen_latency.py)",
        "",
        f"{args.runs} fresh `gladia listen --duration {args.seconds:g}` processes per row, 16 kHz mono, 100 ms "
        f"blocks, the virtual mic, the loopback emulator answering POST /v2/live after {args.create_delay:g} s. "
        "Recording: PortAudio's stream started (its first sample is captured then); first block: the first "
        "100 ms block delivered by PortAudio's callback.",
        "",
        "| entry | process start → recording (median, max) | → first block (median, max) "
        "| block → frame sent, steady p50 / p99 (n) | block → frame sent, captured while connecting: max (n) |",
        "| --- | --- | --- | --- | --- |",
        *rows,
        "",
    ]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
