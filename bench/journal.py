"""What the audio journal costs the live session: CPU per second of audio at 1x, and memory over a long session.

    python bench/journal.py                 # about 40 s; prints a markdown section (bench/results.md, section 8)
    python bench/journal.py --quick         # a few seconds

Measured on the journal alone (gladia_cli/live/journal.py), the way the producer thread drives it: one 100 ms chunk
of 16 kHz mono 16-bit audio per write, an ack after each (Gladia acknowledging as it goes), the bound small enough
that segments rotate and are deleted throughout. No network: the session's own cost is bench/run.py's business.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gladia_cli.audio.format import PcmFormat
from gladia_cli.live.journal import JournalWriter

FMT = PcmFormat()
CHUNK = FMT.chunk_bytes(100)
CPU_GOAL_PERCENT = 0.3


def burst(seconds_of_audio: float, root: Path, max_bytes: int) -> tuple[float, int, int]:
    """Write as fast as possible: (thread CPU seconds, peak traced memory, bytes held at the end)."""
    chunk = os.urandom(CHUNK)
    writer = JournalWriter("bench-burst", FMT, max_bytes=max_bytes, root=root)
    n = int(seconds_of_audio * 10)
    tracemalloc.start()
    start = time.thread_time()
    for _ in range(n):
        writer.write(chunk)
        writer.acknowledged(writer.captured - CHUNK)
    cpu = time.thread_time() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    held = writer.held_bytes
    writer.discard()
    return cpu, peak, held


def paced(seconds: float, root: Path) -> float:
    """Write at 1x (a chunk every 100 ms, as a microphone delivers them): % of a core, from the thread's CPU time
    spent in the journal's calls (cold caches included; the pacing loop's own wake-ups are not the journal's)."""
    chunk = os.urandom(CHUNK)
    writer = JournalWriter("bench-paced", FMT, root=root)
    cpu, start = 0.0, time.monotonic()
    for k in range(int(seconds * 10)):
        time.sleep(max(0.0, start + k * 0.1 - time.monotonic()))
        before = time.thread_time()
        writer.write(chunk)
        writer.acknowledged(writer.captured - CHUNK)
        cpu += time.thread_time() - before
    wall = time.monotonic() - start
    writer.discard()
    return 100.0 * cpu / wall


def label(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:g} h"
    return f"{seconds / 60:g} min" if seconds >= 60 and seconds % 60 == 0 else f"{seconds:g} s"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    long_s, paced_s = (600.0, 5.0) if args.quick else (7200.0, 30.0)
    with tempfile.TemporaryDirectory(prefix="gladia-journal-bench-") as tmp:
        root = Path(tmp)
        bound = 16 * 1024 * 1024
        _, short_peak, _ = burst(long_s / 12, root, bound)
        long_cpu, long_peak, held = burst(long_s, root, bound)
        percent = paced(paced_s, root)
    per_second_us = 1e6 * long_cpu / long_s
    burst_percent = 100.0 * long_cpu / long_s
    ok = percent < CPU_GOAL_PERCENT and burst_percent < CPU_GOAL_PERCENT
    flat = long_peak <= short_peak * 1.1 + 64 * 1024
    print("## 8. Audio journal")
    print()
    print(
        "`python bench/journal.py`: the journal alone, driven as the producer thread drives it (a 100 ms chunk of "
        "16 kHz mono 16-bit audio per write, an ack after each, a 16 MiB bound so segments rotate and are deleted)."
    )
    print()
    print("| Target | Measured | Goal | Result |")
    print("|---|---|---|---|")
    print(
        f"| CPU at 1x ({paced_s:g} s paced) | {percent:.3f} % of a core | < {CPU_GOAL_PERCENT} % | "
        f"{'PASS' if percent < CPU_GOAL_PERCENT else '**MISS**'} |"
    )
    print(
        f"| CPU per second of audio ({label(long_s)} as fast as possible) | {per_second_us:.0f} us "
        f"= {burst_percent:.3f} % of a core at 1x | < {CPU_GOAL_PERCENT} % | {'PASS' if ok else '**MISS**'} |"
    )
    print(
        f"| Peak Python memory, {label(long_s / 12)} vs {label(long_s)} | {short_peak / 1024:.0f} KiB -> "
        f"{long_peak / 1024:.0f} KiB | flat | {'PASS' if flat else '**MISS**'} |"
    )
    print(
        f"| Journal on disk at the end (bound 16 MiB) | {held / 1048576:.1f} MiB | <= 16 MiB | "
        f"{'PASS' if held <= bound else '**MISS**'} |"
    )
    return 0 if ok and flat else 1


if __name__ == "__main__":
    raise SystemExit(main())
