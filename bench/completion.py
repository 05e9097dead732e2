#!/usr/bin/env python3
"""How long a Tab press takes: `gladia listen --lang f<Tab>` in bash, zsh and fish, beside `python -c pass`.

    python bench/completion.py            # writes the "Shell completion" section of bench/results.md
    python bench/completion.py --print    # only prints it

A Tab runs inside the shell that is already open, so each shell is started twice, once completing once and once
completing N+1 times; the difference divided by N is the cost of one Tab, without the shell's own start-up.
zsh's completion builtins (compadd, _describe, compset) only work inside a completion widget, so here they are
stubbed: the zsh figure is the script's own work, and zsh adds its menu drawing on top, as for any completer.
Run it after bench/run.py, which rewrites results.md.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
SCRIPTS = ROOT / "completions"
WORDS = ("gladia", "listen", "--lang", "f")
GOAL_MS = 20.0
SECTION = "## 6. Shell completion"

BASH_PROBE = """source {script}
COMP_WORDS=(gladia listen --lang f); COMP_CWORD=3
for ((n = 0; n < {count}; n++)); do _gladia_completion gladia f --lang; done
[[ ${{COMPREPLY[*]}} == *fr* ]] || exit 3
"""
ZSH_PROBE = """compdef() {{ :; }}; compset() {{ :; }}
_describe() {{ reply=(${{(P)${{@[-1]}}}}); }}
source {script}
words=(gladia listen --lang f); CURRENT=4
for ((n = 0; n < {count}; n++)); do _gladia_completion; done
[[ ${{reply[*]}} == *fr:French* ]] || exit 3
"""
FISH_PROBE = """source {script}
for n in (string split ' ' -- {counts})
    set -g out (complete -C 'gladia listen --lang f')
end
string match -q 'fr*' -- $out; or exit 3
"""


def timed(cmd: list[str], env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=env, timeout=120)
    return time.perf_counter() - start


def per_tab(shell: str, probe: str, repeat: int, count: int) -> float:
    """Milliseconds per completion: (a shell completing count+1 times - one completing once) / count."""
    script = SCRIPTS / f"gladia.{shell}"
    flags = {"bash": ["--norc", "-c"], "zsh": ["-f", "-c"], "fish": ["--no-config", "-c"]}[shell]

    def run(n: int) -> float:
        text = probe.format(script=script, count=n, counts=" ".join(["x"] * n))
        return timed([shell, *flags, text])

    once = statistics.median(run(1) for _ in range(repeat))
    many = statistics.median(run(count + 1) for _ in range(repeat))
    return (many - once) / count * 1000


def measure(repeat: int, count: int) -> list[tuple[str, float | None, str]]:
    rows: list[tuple[str, float | None, str]] = []
    python = statistics.median(timed([sys.executable, "-c", "pass"]) for _ in range(repeat)) * 1000
    rows.append(("`python -c pass` (the floor of any completer written in Python)", python, ""))
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "_GLADIA_COMPLETE": "complete_bash",
        "COMP_WORDS": " ".join(WORDS),
        "COMP_CWORD": "3",
    }
    typer = statistics.median(timed([sys.executable, "-m", "gladia_cli"], env=env) for _ in range(repeat)) * 1000
    rows.append(("before: Typer's protocol (`gladia` answers each Tab)", typer, ""))
    probes = {"bash": BASH_PROBE, "zsh": ZSH_PROBE, "fish": FISH_PROBE}
    for shell, probe in probes.items():
        if shutil.which(shell) is None:
            rows.append((f"{shell}: completions/gladia.{shell}", None, "not installed"))
            continue
        ms = per_tab(shell, probe, repeat, count)
        rows.append((f"{shell}: completions/gladia.{shell}", ms, "ok" if ms < GOAL_MS else "over the goal"))
    return rows


def report(rows: list[tuple[str, float | None, str]], repeat: int, count: int) -> str:
    lines = [
        SECTION,
        "",
        f"`gladia listen --lang f<Tab>` (goal: under {GOAL_MS:g} ms for fixed values, so under `python -c pass`).",
        f"Load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores. Median of {repeat} runs; a shell's"
        f" figure is the cost of one Tab inside a running shell ({count} completions, shell start-up subtracted;"
        " zsh's completion builtins stubbed). `python bench/completion.py`.",
        "",
        "| What | ms per Tab | Goal |",
        "| --- | ---: | --- |",
    ]
    for name, ms, verdict in rows:
        lines.append(f"| {name} | {'-' if ms is None else f'{ms:.2f}'} | {verdict} |")
    return "\n".join(lines) + "\n"


def write_section(path: Path, section: str) -> None:
    """Replace the section in results.md (or append it), leaving the rest as bench/run.py wrote it."""
    text = path.read_text("utf-8") if path.exists() else ""
    if SECTION in text:
        before, after = text.split(SECTION, 1)
        rest = after.split("\n## ", 1)
        text = before + section + ("\n## " + rest[1] if len(rest) > 1 else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text, "utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--count", type=int, default=100, help="completions per shell run")
    parser.add_argument("--print", action="store_true", help="print the section instead of writing results.md")
    parser.add_argument("--output", type=Path, default=BENCH / "results.md")
    args = parser.parse_args()
    section = report(measure(args.repeat, args.count), args.repeat, args.count)
    if args.print:
        sys.stdout.write(section)
    else:
        write_section(args.output, section)
        sys.stdout.write(section)


if __name__ == "__main__":
    main()
