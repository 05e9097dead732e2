"""What steering adds to a live run at 1x: the keys' reader, the control socket, and the owner's tick.

    python bench/steering.py [--seconds 20]

A fresh process runs, for `--seconds`, exactly what `gladia listen` runs beside the session when a person can steer
it: a `KeyReader` on a pseudo-terminal (its thread waits on the terminal ten times a second), a `ControlServer`
(its accept loop, and a `gladia ctl status --follow` process connected, which gets a line a second), and the
owner's tick ten times a second (`Steering.status()`, the session part published to the server). The source is a
real `MicrophoneSource` object, not started (its counters are what the tick reads). CPU is the process's
user+system time from one second after everything started to the end (the per-second cost; starting them is a
one-off of a few milliseconds), as a share of one core, beside the same process idle (what a process pays for
being alive). Prints a markdown section (paste it into bench/results.md).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = r"""
import json, os, pty, socket, sys, tempfile, threading, time
seconds, mode = float(sys.argv[1]), sys.argv[2]
os.environ["XDG_RUNTIME_DIR"] = tempfile.mkdtemp()
from gladia_cli.audio.capture import MicrophoneSource
from gladia_cli.audio.format import PcmFormat
from gladia_cli.audio.portaudio import InputDevice
from gladia_cli.console.keys import KeyReader
from gladia_cli.live import control
from gladia_cli.live.steering import Steering
source = MicrophoneSource(PcmFormat(), InputDevice(0, "bench", "ALSA", 1, 16000.0, True))
steering = Steering(source, price_per_hour=0.61)
t0 = time.monotonic()
steady = None  # (wall, cpu) once everything is set up and has run for a second: the per-second cost from there
if mode == "steered":
    master, slave = pty.openpty()
    keys = KeyReader(steering, lambda text: None, lambda text: None, os.fdopen(slave, "r"))
    keys.start()
    server = control.ControlServer(steering)
    path = server.start()
    import subprocess
    # `gladia ctl status --follow`, as a status bar runs it: its own process, so its CPU is not counted here.
    follower = subprocess.Popen([sys.executable, "-m", "gladia_cli", "ctl", "status", "--follow", "--json"],
                                stdout=subprocess.PIPE, text=True)
    sent = 0.0
    while time.monotonic() - t0 < seconds:
        time.sleep(0.1)
        sent += 0.1
        if steady is None and time.monotonic() - t0 >= 1.0:
            steady = (time.monotonic(), time.process_time())
        steering.status()
        server.publish({"session_id": "bench", "state": "streaming", "seconds_sent": round(sent, 1)})
    end = (time.monotonic(), time.process_time())
    server.close()
    keys.close()
    lines = follower.communicate(timeout=10)[0].splitlines()
else:
    while time.monotonic() - t0 < seconds:
        time.sleep(0.1)
        if steady is None and time.monotonic() - t0 >= 1.0:
            steady = (time.monotonic(), time.process_time())
    end = (time.monotonic(), time.process_time())
wall, cpu = end[0] - steady[0], end[1] - steady[1]
print(json.dumps({"cpu": cpu / wall, "lines": len(lines) if mode == "steered" else 0}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    results: dict[str, list[dict]] = {"idle": [], "steered": []}
    for _ in range(args.runs):
        for mode in results:
            done = subprocess.run(
                [sys.executable, "-c", CHILD, str(args.seconds), mode],
                env=env,
                capture_output=True,
                text=True,
                check=True,
                timeout=args.seconds + 60,
            )
            results[mode].append(json.loads(done.stdout.strip().splitlines()[-1]))
    idle = statistics.median(r["cpu"] for r in results["idle"]) * 100
    steered = statistics.median(r["cpu"] for r in results["steered"]) * 100
    lines = statistics.median(r["lines"] for r in results["steered"])
    print("## 13. Steering a running recording (bench/steering.py)\n")
    print(
        f"{args.runs} fresh processes per row, {args.seconds:g} s each; load average {os.getloadavg()[0]:.1f} on"
        f" {os.cpu_count()} cores. CPU of one core, median.\n"
    )
    print("| process | CPU of one core | follow lines received |")
    print("| --- | --- | --- |")
    print(f"| idle (sleeping ten times a second) | {idle:.3f} % | - |")
    print(f"| keys on a pty + control socket + a `--follow` client + the tick | {steered:.3f} % | {lines:.0f} |")
    print(f"\nWhat steering adds: {steered - idle:.3f} % of a core at 1x.")


if __name__ == "__main__":
    main()
