"""CPU of recording two inputs kept in step (audio/multi.py) beside one input, at 1x, through the virtual PulseAudio.

    python bench/multi_capture.py [--seconds 20] [--runs 3]

Each run is a fresh process (PortAudio scans once per process) that records for `--seconds` from the test suite's
private PulseAudio: one input (`virtmic`), then two (`virtmic` + `virtmic2`, each with a tone looping into it),
consuming chunks and reading the level meters as the live session would. CPU is the process's user+system time
(every thread: PortAudio's, the pulse plugin's, the readers, the interleaving, the meters) from 3 s after start()
to the end, as a share of one core; the first 3 s (opening, first imports, lining the inputs up) are a one-off,
reported apart as CPU time. For two inputs it also
reports the inputs' remaining offset (start estimates, audio/multi.py) and the corrections made. A 60 s soak:
`--seconds 60 --runs 1`. Prints a markdown section (paste it into bench/results.md).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import wave
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

CHILD = r"""
import json, sys, threading, time
seconds, mode = float(sys.argv[1]), sys.argv[2]
from gladia_cli.audio.format import PcmFormat
from gladia_cli.audio.devices import resolve_input as resolve
if mode == "one":
    from gladia_cli.audio.capture import MicrophoneSource
    source = MicrophoneSource(PcmFormat(), resolve("virtmic"))
else:
    from gladia_cli.audio.multi import open_inputs
    source = open_inputs([resolve("virtmic"), resolve("virtmic2")], PcmFormat(channels=2), ["a", "b"])
source.check()
source.start()
t0, cpu0 = time.monotonic(), time.process_time()
stop = threading.Event()
def meters():  # the live view reads the levels ten times a second
    while not stop.wait(0.1):
        source.levels()
reader = threading.Thread(target=meters)
reader.start()
sent = 0
worst = 0.0
warm = None
for chunk in source.chunks():
    sent += len(chunk)
    now = time.monotonic()
    if warm is None and now - t0 >= 3:
        warm = (now, time.process_time())
    if mode == "two" and now - t0 > 3:
        worst = max(worst, max(abs(o) for o in source.offsets()))
    if now - t0 >= seconds:
        end = (now, time.process_time())
        source.close()
        break
stop.set()
reader.join()
print(json.dumps({
    "cpu": (end[1] - warm[1]) / (end[0] - warm[0]),
    "start_cpu": warm[1] - cpu0,
    "seconds": sent / source.format.bytes_per_second,
    "worst_offset": worst,
    "notes": source.capture_notes() if mode == "two" else [],
}))
"""


def _tone(path: Path, freq: float) -> Path:
    import numpy as np

    t = np.arange(48000 * 2) / 48000
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(48000)
        w.writeframes((0.3 * np.sin(2 * np.pi * freq * t) * 32767).astype("<i2").tobytes())
    return path


def layer_cost(seconds: float = 100.0) -> float:
    """The MultiSource layer alone (reader threads, mono, alignment, interleaving), in % of a core at 1x: two
    in-process inputs hand over `seconds` of 100 ms chunks as fast as it takes them."""
    import threading
    import time

    import numpy as np

    from gladia_cli.audio.format import PcmFormat
    from gladia_cli.audio.multi import MultiSource

    class Ready:
        can_wait = False
        overflows = 0
        dropped_seconds = 0.0
        buffered_seconds = 0.0
        format = PcmFormat()

        def __init__(self) -> None:
            self.closed = threading.Event()

        def check(self) -> None: ...

        def start(self) -> None: ...

        def chunks(self):  # type: ignore[no-untyped-def]
            block = (np.random.default_rng(0).standard_normal(1600) * 3000).astype("<i2").tobytes()
            for _ in range(int(seconds * 10)):
                if self.closed.is_set():
                    return
                yield block

        def close(self) -> None:
            self.closed.set()

    source = MultiSource([Ready(), Ready()], PcmFormat(channels=2), ["a", "b"])  # type: ignore[list-item]
    cpu0 = time.process_time()
    audio = sum(len(chunk) for chunk in source.chunks()) / source.format.bytes_per_second
    return (time.process_time() - cpu0) / audio * 100


def main() -> None:
    from virtual_mic import SINK, SINK2, VirtualMic

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    results: dict[str, list[dict]] = {"one": [], "two": []}
    with VirtualMic() as mic, tempfile.TemporaryDirectory() as tmp:
        mic.play(_tone(Path(tmp) / "a.wav", 440), loop=True, sink=SINK)
        mic.play(_tone(Path(tmp) / "b.wav", 1000), loop=True, sink=SINK2)
        env = {**os.environ, **mic.env, "PYTHONPATH": str(ROOT)}
        for _ in range(args.runs):
            for mode in ("one", "two"):
                done = subprocess.run(
                    [sys.executable, "-c", CHILD, str(args.seconds), mode],
                    env=env,
                    capture_output=True,
                    text=True,
                    timeout=args.seconds + 60,
                    check=True,
                )
                results[mode].append(json.loads(done.stdout.strip().splitlines()[-1]))
    load = os.getloadavg()[0]
    print("## 10. Several inputs kept in step (bench/multi_capture.py)\n")
    print(
        f"{args.runs} fresh processes per setting, {args.seconds:g} s at 1x each, 16 kHz 16-bit, 100 ms chunks, through"
        f" the test suite's private PulseAudio (each input a remap source with a tone looping into it); load average"
        f" {load:.1f} on {os.cpu_count()} cores, the level meters read ten times a second as the live view reads them."
        " CPU at 1x: the whole process (every thread) as a share of one core from 3 s after start() to the end; the"
        " first 3 s (opening the streams, first imports, lining the inputs up) are given apart, as CPU time."
        " Goal for two inputs: under 2 %.\n"
    )
    print(
        "| inputs | CPU at 1x, of one core (median, max) | CPU of the first 3 s (median) | audio recorded"
        " | worst offset after 3 s | corrections |"
    )
    print("| --- | --- | --- | --- | --- | --- |")
    for mode, label in (("one", "1 (`virtmic`)"), ("two", "2 (`virtmic` + `virtmic2`)")):
        runs = results[mode]
        cpus = [r["cpu"] * 100 for r in runs]
        offset = max(r["worst_offset"] for r in runs) * 1000 if mode == "two" else None
        notes = f"{len([n for r in runs for n in r['notes']])} inputs trimmed over {len(runs)} runs"
        print(
            f"| {label} | {statistics.median(cpus):.2f} %, {max(cpus):.2f} %"
            f" | {statistics.median(r['start_cpu'] for r in runs) * 1000:.0f} ms"
            f" | {min(r['seconds'] for r in runs):.1f} s"
            f" | {'-' if offset is None else f'{offset:.1f} ms'} | {notes if mode == 'two' else '-'} |"
        )
    print(
        f"\nThe several-input layer alone (audio/multi.py: readers, mono, alignment, interleaving, no sound card):"
        f" {layer_cost():.2f} % of a core at 1x."
    )


if __name__ == "__main__":
    main()
