"""What the largest answer gladia accepts costs to show: time and peak memory of `gladia result` at the body bound.

    python bench/large_result.py            # each output format at the bound (64 MB of JSON); about a minute
    python bench/large_result.py --quick    # a tenth of it

A hostile or broken server could once send a result of 10^6 utterances (1.7-1.8 GB to render as text or SRT). The
client now refuses any body over `api.MAX_BODY_BYTES` unread, so this measures the worst it still takes: the
smallest possible utterances (the most of them per byte) filling the bound, parsed, rendered and written piece by
piece as `gladia result --output-file` writes it, in a child process per format, so each peak RSS is its own.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gladia_cli import api  # noqa: E402
from gladia_cli.cli.jobs import write_output  # noqa: E402
from gladia_cli.output import transcript as formats  # noqa: E402

RSS_GOAL_MB = 1024  # under a GiB at the bound, whatever the format


def body_at(size: int) -> bytes:
    """A done job whose JSON is about `size` bytes of minimal utterances."""
    one = {"text": " w", "start": 0.0, "end": 0.4, "channel": 0, "language": "en", "words": []}

    def job_of(count: int) -> bytes:
        utterances = [{**one, "text": f" w{i}", "start": i * 0.5, "end": i * 0.5 + 0.4} for i in range(count)]
        return json.dumps(
            {"id": "x", "status": "done", "result": {"transcription": {"utterances": utterances}}}
        ).encode()

    sample = job_of(1000)
    body = job_of(int(size / len(sample) * 1000 * 0.99))
    while len(body) > size:  # just under the bound: the largest answer still read
        body = job_of(int(len(json.loads(body)["result"]["transcription"]["utterances"]) * 0.98))
    return body


def child(path: str, fmt: str) -> None:
    """Parse, then write as `gladia result` does: the pieces of `formats.render_chunks` to a file as they come."""
    body = Path(path).read_bytes()
    started = time.monotonic()
    job = json.loads(body)
    del body
    written = [0]

    def counted() -> Iterator[str]:
        for chunk in formats.render_chunks(job, fmt, pretty=False):
            written[0] += len(chunk)
            yield chunk

    write_output(counted(), Path(os.devnull))
    took = time.monotonic() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": took, "rss_mb": peak, "out_mb": written[0] / 1e6}))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--child", nargs=2, metavar=("PATH", "FORMAT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    size = api.MAX_BODY_BYTES // (10 if args.quick else 1)
    path = Path(os.environ.get("TMPDIR", "/tmp")) / "gladia-bench-large-result.json"
    path.write_bytes(body_at(size))
    megabytes = path.stat().st_size / 1e6
    count = len(json.loads(path.read_bytes())["result"]["transcription"]["utterances"])
    rows = []
    for fmt in ("text", "json", "srt", "vtt"):
        out = subprocess.run(
            [sys.executable, __file__, "--child", str(path), fmt], capture_output=True, text=True, check=True
        )
        m = json.loads(out.stdout)
        verdict = "PASS" if m["rss_mb"] < RSS_GOAL_MB else "FAIL"
        rows.append(f"| `-o {fmt}` | {m['seconds']:.1f} s | {m['rss_mb']:.0f} MB | {m['out_mb']:.1f} MB | {verdict} |")
    path.unlink()
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print("## 11. The largest result accepted (bench/large_result.py)\n")
    print(
        f"`python bench/large_result.py`: {megabytes:.0f} MB of JSON "
        f"({count:,} minimal utterances: about the most a body under `api.MAX_BODY_BYTES` can hold), parsed, rendered "
        "and written piece by piece to a file, in a child process per format. A larger body is refused unread.\n"
    )
    print("| Format | Parse + render | Peak RSS | Output | Goal < 1 GiB |")
    print("|---|---|---|---|---|")
    print("\n".join(rows))
    print(f"\nLoad average {load} on {os.cpu_count()} cores, {time.strftime('%Y-%m-%d')}.")


if __name__ == "__main__":
    main()
