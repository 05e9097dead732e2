#!/usr/bin/env python3
"""The gladia benchmark: start-up, throughput against the official SDK, real-time pacing and memory, in one command.

    python bench/run.py            # full run (~5 min on 2 cores), writes bench/results.md
    python bench/run.py --quick    # tiny inputs, for a smoke test (add --no-sdk to skip the SDK venv)

Everything talks to a loopback server started here (bench/server.py, 127.0.0.1 only). Each measured command is a
child process reaped with os.wait4, so its CPU time and peak RSS are its own. See bench/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import itertools
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import sysconfig
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))

from server import FINAL_TEXT, BenchServer, SessionStats  # noqa: E402
from wavgen import write_wav  # noqa: E402

DROP_NOTICE = b"buffer full: dropped"
HEAVY_MODULES = ("numpy", "sounddevice", "requests", "websocket", "aiohttp")
CHUNK_BYTES = 3200  # 100 ms of 16 kHz mono 16-bit: the CLI's default --chunk-ms, and what the SDK script sends
BYTES_PER_SECOND = 32000
SDK_PACKAGE = "gladiaio-sdk"
PROFILER_PACKAGE = "py-spy"

# Targets from the issue.
HELP_RATIO_MAX = 1.15
VERSION_RATIO_MAX = 1.5
SPEED0_MIN_X = 1000.0
SDK_RATIO_MIN = 5.0
RSS_FLAT_TOLERANCE = 0.10
RSS_MAX_MB = 100.0
PACING_P99_MAX_MS = 5.0
CPU_MAX_PERCENT = 2.0


def log(text: str) -> None:
    sys.stderr.write(f"[bench {time.strftime('%H:%M:%S')}] {text}\n")
    sys.stderr.flush()


# --------------------------------------------------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------------------------------------------------


@dataclass
class Config:
    quick: bool
    sdk: bool
    profile: bool
    runs: int
    repeats: int  # gladia runs of the 10 min and 1 h files, and SDK runs of the 10 min file (median taken)
    short_seconds: float
    long_seconds: float
    memory_seconds: float
    pacing_seconds: float
    workdir: Path
    output: Path
    venv: Path
    timeout: float
    launcher: str = "auto"

    @property
    def mode(self) -> str:
        return "quick" if self.quick else "full"


def parse_args(argv: Sequence[str] | None) -> Config:
    parser = argparse.ArgumentParser(description="Benchmark gladia against a loopback Gladia server.")
    parser.add_argument("--quick", action="store_true", help="tiny inputs: 5/10/15 s files, 20 s of pacing, 3 runs")
    parser.add_argument("--no-sdk", action="store_true", help="skip the official SDK (no venv, no pip install)")
    parser.add_argument(
        "--profile",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="profile the 1 h --speed 0 run with py-spy from the bench venv (default: on in a full run with the SDK)",
    )
    parser.add_argument("--runs", type=int, help="start-up runs per command (default 20; 3 with --quick)")
    parser.add_argument("--pacing-seconds", type=float, help="audio streamed at --speed 1 (default 180; 20 quick)")
    parser.add_argument("--output", type=Path, default=BENCH / "results.md", help="markdown file to write")
    parser.add_argument(
        "--workdir", type=Path, default=Path("/tmp/gladia-bench"), help="WAV files and logs (default /tmp)"
    )
    parser.add_argument("--venv", type=Path, default=BENCH / ".venv", help="venv for the SDK and the profiler")
    parser.add_argument(
        "--launcher",
        choices=("auto", "script", "module"),
        default="auto",
        help="how to start gladia: the console script if installed (auto), or `python -m gladia_cli` (module)",
    )
    args = parser.parse_args(argv)
    quick = bool(args.quick)
    sdk = not args.no_sdk
    runs = args.runs if args.runs is not None else (3 if quick else 20)
    if runs < 1:
        parser.error("--runs must be at least 1")
    return Config(
        quick=quick,
        sdk=sdk,
        profile=args.profile if args.profile is not None else (sdk and not quick),
        runs=runs,
        repeats=1 if quick else 3,
        short_seconds=5 if quick else 600,
        long_seconds=10 if quick else 3600,
        memory_seconds=15 if quick else 7200,
        pacing_seconds=args.pacing_seconds if args.pacing_seconds is not None else (20 if quick else 180),
        workdir=args.workdir,
        output=args.output,
        venv=args.venv,
        timeout=120 if quick else 900,
        launcher=args.launcher,
    )


def duration_label(seconds: float) -> str:
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{seconds / 3600:g} h"
    if seconds >= 60 and seconds % 60 == 0:
        return f"{seconds / 60:g} min"
    return f"{seconds:g} s"


# --------------------------------------------------------------------------------------------------------------------
# Running one measured child
# --------------------------------------------------------------------------------------------------------------------

CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


def _proc_sample(pid: int) -> tuple[float, int] | None:
    """(CPU seconds, RSS in KiB) of a live process, from /proc."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        with open(f"/proc/{pid}/statm", "rb") as f:
            rss_pages = int(f.read().split()[1])
    except (OSError, IndexError, ValueError):
        return None
    return (int(fields[11]) + int(fields[12])) / CLK_TCK, rss_pages * PAGE_KB


@dataclass
class Measured:
    """One child process: its own rusage (from wait4), /proc samples, and what the server saw of its session."""

    label: str
    cmd: list[str]
    exit_code: int
    wall: float
    cpu: float
    peak_rss_mb: float
    started: float  # perf_counter at spawn
    timed_out: bool = False
    stdout: str = ""
    stderr: str = ""
    samples: list[tuple[float, float, int]] = field(default_factory=list)  # (perf_counter, cpu s, rss KiB)
    session: SessionStats | None = None
    drop_notices: int = 0  # gladia's "buffer full: dropped ..." lines on stderr

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.timed_out

    @property
    def audio_seconds(self) -> float:
        return self.session.audio_seconds if self.session else 0.0

    @property
    def x_realtime(self) -> float:
        return self.audio_seconds / self.wall if self.wall > 0 else 0.0

    @property
    def first_frame_after(self) -> float | None:
        s = self.session
        return s.first_arrival - self.started if s and s.first_arrival is not None else None

    @property
    def stream_seconds(self) -> float | None:
        s = self.session
        if s is None or s.first_arrival is None or s.last_arrival is None:
            return None
        return s.last_arrival - s.first_arrival

    @property
    def after_last_frame(self) -> float | None:
        s = self.session
        return self.started + self.wall - s.last_arrival if s and s.last_arrival is not None else None

    def phases(self) -> list[float | None]:
        """Seconds between: spawn, session created, WebSocket open, first frame, last frame, stop, close, exit."""
        s = self.session
        if s is None:
            return []
        marks = [self.started, s.created or None, s.ws_open, s.first_arrival, s.last_arrival, s.stop_at, s.closed]
        marks.append(self.started + self.wall)
        return [b - a if a is not None and b is not None else None for a, b in itertools.pairwise(marks)]


def run_measured(
    label: str,
    cmd: list[str],
    *,
    env: dict[str, str],
    workdir: Path,
    timeout: float,
    server: BenchServer | None = None,
    sample_every: float = 0.25,
) -> Measured:
    """Run `cmd` to completion; its rusage comes from os.wait4, so it is this child's alone."""
    slug = "".join(c if c.isalnum() else "-" for c in label).strip("-")
    out_path, err_path = workdir / f"{slug}.stdout", workdir / f"{slug}.stderr"
    before = set(server.sessions) if server else set()
    with out_path.open("wb") as out, err_path.open("wb") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env)
        done = threading.Event()
        samples: list[tuple[float, float, int]] = []
        timed_out = threading.Event()

        def watch() -> None:
            deadline = started + timeout
            while not done.wait(sample_every):
                sample = _proc_sample(proc.pid)
                if sample is not None:
                    samples.append((time.perf_counter(), sample[0], sample[1]))
                if time.perf_counter() > deadline:
                    timed_out.set()
                    with contextlib.suppress(ProcessLookupError):
                        proc.kill()
                    return

        watcher = threading.Thread(target=watch, name="bench-watch", daemon=True)
        watcher.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        done.set()
        watcher.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
    with err_path.open("rb") as f:
        drop_notices = sum(1 for line in f if DROP_NOTICE in line)
    session = None
    if server is not None:
        new = [sid for sid in server.sessions if sid not in before]
        session = server.sessions[new[-1]] if new else None
    return Measured(
        label=label,
        cmd=cmd,
        exit_code=proc.returncode,
        wall=wall,
        cpu=usage.ru_utime + usage.ru_stime,
        peak_rss_mb=usage.ru_maxrss / 1024,
        started=started,
        timed_out=timed_out.is_set(),
        stdout=out_path.read_text("utf-8", "replace")[-20000:],
        stderr=err_path.read_text("utf-8", "replace")[-200000:],
        samples=samples,
        session=session,
        drop_notices=drop_notices,
    )


# --------------------------------------------------------------------------------------------------------------------
# Environment, launcher, SDK venv
# --------------------------------------------------------------------------------------------------------------------


def child_env(cfg: Config, base_url: str = "") -> dict[str, str]:
    """Isolated from the user's Gladia config; bytecode cache on, in a private prefix (nothing written in the repo)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GLADIA_")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(cfg.workdir / "pycache")
    home = cfg.workdir / "home"
    home.mkdir(parents=True, exist_ok=True)
    env.update({"HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"), "NO_COLOR": "1", "TERM": "dumb"})
    env["GLADIA_API_KEY"] = "bench-key"
    if base_url:
        env["GLADIA_API_URL"] = base_url
    return env


@dataclass
class Launcher:
    style: str  # "console script" or "python -m"
    argv: list[str]
    note: str = ""

    def floor_app(self) -> list[str]:
        """The minimal Typer app started the same way as gladia."""
        if self.style == "console script":
            return [sys.executable, str(BENCH / "minimal_typer_app.py")]
        return [sys.executable, "-m", "minimal_typer_app"]

    def python_prefix(self) -> list[str]:
        """What runs the launcher's Python code under an interpreter flag (-X importtime, runpy)."""
        if self.style == "console script":
            return [self.argv[0]]
        return ["-m", "gladia_cli"]


def find_launcher(choice: str = "auto") -> Launcher:
    """The `gladia` console script if installed, else `python -m gladia_cli`.

    A version manager's shim on PATH (pyenv) is a shell script that re-resolves the interpreter on every call; the
    real console script beside this interpreter is what it ends up running, so that is the one timed.
    """
    if choice == "module":
        return Launcher("python -m", [sys.executable, "-m", "gladia_cli"], "chosen with --launcher module")
    here = Path(sysconfig.get_path("scripts")) / "gladia"
    on_path = shutil.which("gladia")
    note = ""
    if on_path and Path(on_path).resolve() != here.resolve():
        note = f"`gladia` on PATH is {on_path}; the script it resolves to, {here}, is timed"
    if here.is_file() and os.access(here, os.X_OK) and _is_python_script(here):
        return Launcher("console script", [str(here)], note)
    if on_path and _is_python_script(Path(on_path)):
        return Launcher("console script", [on_path])
    return Launcher("python -m", [sys.executable, "-m", "gladia_cli"], "no `gladia` console script found")


def _is_python_script(path: Path) -> bool:
    try:
        with path.open("rb") as f:
            first = f.readline()
    except OSError:
        return False
    return first.startswith(b"#!") and b"python" in first


def ensure_venv(cfg: Config, packages: list[str]) -> tuple[Path | None, str]:
    """A venv of its own for the SDK and py-spy (never the project's environment); (python, note or error)."""
    python = cfg.venv / "bin" / "python"
    try:
        if not python.exists():
            log(f"creating {cfg.venv}")
            subprocess.run([sys.executable, "-m", "venv", str(cfg.venv)], check=True, capture_output=True, timeout=300)
        missing = []
        if SDK_PACKAGE in packages:
            probe = subprocess.run([str(python), "-c", "import gladiaio_sdk"], capture_output=True, timeout=60)
            if probe.returncode:
                missing.append(SDK_PACKAGE)
        if PROFILER_PACKAGE in packages and not (cfg.venv / "bin" / "py-spy").exists():
            missing.append(PROFILER_PACKAGE)
        if missing:
            log(f"pip install {' '.join(missing)} into {cfg.venv}")
            proc = subprocess.run(
                [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", *missing],
                capture_output=True,
                text=True,
                timeout=600,
            )
            if proc.returncode:
                tail = " ".join((proc.stderr or proc.stdout).strip().splitlines()[-3:])
                return None, f"`pip install {' '.join(missing)}` failed in {cfg.venv}: {tail}"
    except (OSError, subprocess.SubprocessError) as exc:
        return None, f"could not prepare {cfg.venv}: {type(exc).__name__}: {exc}"
    return python, ""


def package_version(python: Path, distribution: str) -> str:
    code = f"from importlib.metadata import version; print(version({distribution!r}))"
    proc = subprocess.run([str(python), "-c", code], capture_output=True, text=True, timeout=60)
    return proc.stdout.strip() or "?"


# --------------------------------------------------------------------------------------------------------------------
# 1. Start-up
# --------------------------------------------------------------------------------------------------------------------


@dataclass
class Timing:
    label: str
    cmd: list[str]
    times: list[float] = field(default_factory=list)
    failures: int = 0

    @property
    def median(self) -> float:
        return statistics.median(self.times) if self.times else float("nan")

    @property
    def best(self) -> float:
        return min(self.times) if self.times else float("nan")


def time_commands(commands: list[Timing], runs: int, env: dict[str, str], cwd: Path) -> None:
    """One warm-up each (fills the bytecode cache), then `runs` rounds, interleaved so drift hits all alike."""
    for rnd in range(runs + 1):
        for timing in commands:
            started = time.perf_counter()
            proc = subprocess.run(
                timing.cmd,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                env=env,
                cwd=cwd,
            )
            elapsed = time.perf_counter() - started
            if proc.returncode != 0:
                timing.failures += 1
            elif rnd > 0:
                timing.times.append(elapsed)


@dataclass
class StartupResult:
    launcher: Launcher
    timings: dict[str, Timing]
    heavy: dict[str, list[str]]  # command -> heavy modules found in sys.modules
    imports: dict[str, list[tuple[str, float]]]  # command -> [(top-level package, import ms)]
    import_totals: dict[str, float]


_MODULES_PROBE = """
import atexit, runpy, sys
def _report():
    sys.stderr.write("\\nBENCH-MODULES " + " ".join(sorted(sys.modules)) + "\\n")
atexit.register(_report)
mode, target, *args = sys.argv[1:]
sys.argv = ["gladia", *args]
if mode == "script":
    runpy.run_path(target, run_name="__main__")
else:
    runpy.run_module(target, run_name="__main__", alter_sys=True)
"""


def heavy_modules_after(launcher: Launcher, args: list[str], env: dict[str, str]) -> list[str]:
    """Run the real entry point with `args` and list the heavy modules left in sys.modules at exit."""
    if launcher.style == "console script":
        probe = [sys.executable, "-c", _MODULES_PROBE, "script", launcher.argv[0], *args]
    else:
        probe = [sys.executable, "-c", _MODULES_PROBE, "module", "gladia_cli", *args]
    proc = subprocess.run(probe, capture_output=True, text=True, env=env, timeout=60)
    line = next((ln for ln in proc.stderr.splitlines() if ln.startswith("BENCH-MODULES ")), None)
    if line is None:
        return [f"(probe failed: exit {proc.returncode})"]
    loaded = line.split()[1:]
    return sorted({m.split(".")[0] for m in loaded if m.split(".")[0] in HEAVY_MODULES})


def import_profile(
    cmd: list[str], env: dict[str, str], cwd: Path, runs: int = 3
) -> tuple[list[tuple[str, float]], float]:
    """`python -X importtime`: ms of import time (self, summed) per top-level package, median of runs; and total."""
    per_run = [_import_times(cmd, env, cwd) for _ in range(runs)]
    packages = {name for times in per_run for name in times}
    medians = Counter({name: statistics.median(times.get(name, 0.0) for times in per_run) for name in packages})
    top = medians.most_common(6)
    if "gladia_cli" in medians and all(name != "gladia_cli" for name, _ in top):
        top.append(("gladia_cli", medians["gladia_cli"]))
    return top, statistics.median(sum(times.values()) for times in per_run)


def _import_times(cmd: list[str], env: dict[str, str], cwd: Path) -> dict[str, float]:
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=cwd, timeout=60)
    per_package: Counter[str] = Counter()
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "imported package" in line:
            continue
        parts = line.split("|", 2)
        if len(parts) != 3:
            continue
        with contextlib.suppress(ValueError):
            per_package[parts[2].strip().split(".")[0]] += int(parts[0].rsplit(":", 1)[1]) / 1000
    return dict(per_package)


def bench_startup(cfg: Config, env: dict[str, str]) -> StartupResult:
    launcher = find_launcher(cfg.launcher)
    if cfg.launcher == "script" and launcher.style != "console script":
        raise SystemExit("bench: --launcher script: no `gladia` console script is installed")
    floor_env = dict(env)
    if launcher.style == "python -m":
        floor_env["PYTHONPATH"] = str(BENCH)
    commands = [
        Timing("gladia --help", [*launcher.argv, "--help"]),
        Timing("gladia --version", [*launcher.argv, "--version"]),
        Timing("minimal Typer app --help", [*launcher.floor_app(), "--help"]),
        Timing('python -c "import typer"', [sys.executable, "-c", "import typer"]),
        Timing('python -c "pass"', [sys.executable, "-c", "pass"]),
    ]
    if launcher.style == "console script":
        commands.append(Timing("python -m gladia_cli --help", [sys.executable, "-m", "gladia_cli", "--help"]))
    log(f"start-up: {len(commands)} commands x {cfg.runs} runs ({launcher.style})")
    time_commands(commands, cfg.runs, floor_env, ROOT)
    heavy = {
        "gladia --help": heavy_modules_after(launcher, ["--help"], env),
        "gladia --version": heavy_modules_after(launcher, ["--version"], env),
    }
    imports: dict[str, list[tuple[str, float]]] = {}
    totals: dict[str, float] = {}
    for label, cmd in (
        ("gladia --help", [sys.executable, "-X", "importtime", *launcher.python_prefix(), "--help"]),
        ("minimal Typer app --help", [sys.executable, "-X", "importtime", *launcher.floor_app()[1:], "--help"]),
    ):
        imports[label], totals[label] = import_profile(cmd, floor_env, ROOT)
    return StartupResult(launcher, {t.label: t for t in commands}, heavy, imports, totals)


# --------------------------------------------------------------------------------------------------------------------
# 2-5. Streaming
# --------------------------------------------------------------------------------------------------------------------


def cli_stream(
    cfg: Config, launcher: Launcher, server: BenchServer, wav: Path, speed: float, label: str, *extra: str
) -> Measured:
    cmd = [*launcher.argv, "transcribe", str(wav), "--realtime", "--speed", f"{speed:g}", *extra]
    m = run_measured(
        label, cmd, env=child_env(cfg, server.base_url), workdir=cfg.workdir, timeout=cfg.timeout, server=server
    )
    _check_stream(m, wav, expect_text=True)
    return m


def sdk_stream(cfg: Config, python: Path, server: BenchServer, wav: Path, label: str) -> Measured:
    cmd = [str(python), str(BENCH / "sdk_stream.py"), str(wav), "--api-url", server.base_url]
    cmd += ["--chunk-bytes", str(CHUNK_BYTES), "--timeout", str(cfg.timeout)]
    m = run_measured(label, cmd, env=child_env(cfg), workdir=cfg.workdir, timeout=cfg.timeout, server=server)
    _check_stream(m, wav, expect_text=False)
    return m


def _check_stream(m: Measured, wav: Path, *, expect_text: bool) -> None:
    expected = (wav.stat().st_size - 44) / BYTES_PER_SECOND
    status = "ok" if m.ok else ("timed out" if m.timed_out else f"exit {m.exit_code}")
    log(
        f"{m.label}: {status}, {m.wall:.2f} s wall, {m.audio_seconds:.1f}/{expected:.1f} s of audio received, "
        f"{m.x_realtime:.0f}x real time, {m.cpu:.2f} CPU s, {m.peak_rss_mb:.1f} MB peak RSS"
    )
    if not m.ok:
        tail = (m.stderr.strip().splitlines() or ["(no stderr)"])[-3:]
        log("  stderr: " + " | ".join(tail))
    if m.ok and expect_text and FINAL_TEXT not in m.stdout:
        log(f"  warning: the final transcript was not printed (stdout: {m.stdout[-200:]!r})")


def expected_seconds(wav: Path) -> float:
    return (wav.stat().st_size - 44) / BYTES_PER_SECOND


@dataclass
class Pacing:
    frames: int
    p50: float
    p99: float
    max: float
    first: float  # the first frame's own lateness (it waits for the WebSocket handshake)
    late_over_5ms: int
    cpu_whole: float  # % of a core over the whole command
    cpu_steady: float | None  # % of a core between 1 s after the first frame and the last frame
    measured: Measured


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def pacing_figures(m: Measured) -> Pacing | None:
    """Lateness of each frame against the k x 100 ms schedule, in ms.

    Times are relative to the first frame, but the schedule is anchored on the frame that came most on time: the
    file's clock starts before the WebSocket handshake ends, so the first frames wait for the connection and then
    go out together, and anchoring on the first would make every later frame look early by the handshake time.
    """
    s = m.session
    if s is None or not s.arrivals:
        return None
    t0 = s.arrivals[0]
    offsets = []  # arrival relative to the first frame, minus the frame's place in the audio
    start = 0
    for arrival, end in zip(s.arrivals, s.ends, strict=True):
        offsets.append((arrival - t0 - start / s.bytes_per_second) * 1000)
        start = end
    anchor = min(offsets)
    deviations = [x - anchor for x in offsets]
    cpu_steady = None
    if s.first_arrival is not None and s.last_arrival is not None:
        window = [x for x in m.samples if s.first_arrival + 1.0 <= x[0] <= s.last_arrival]
        if len(window) >= 2 and window[-1][0] - window[0][0] > 1.0:
            cpu_steady = (window[-1][1] - window[0][1]) / (window[-1][0] - window[0][0]) * 100
    return Pacing(
        frames=len(deviations),
        p50=percentile(deviations, 50),
        p99=percentile(deviations, 99),
        max=max(deviations),
        first=deviations[0],
        late_over_5ms=sum(1 for d in deviations if d > PACING_P99_MAX_MS),
        cpu_whole=m.cpu / m.wall * 100 if m.wall else float("nan"),
        cpu_steady=cpu_steady,
        measured=m,
    )


def rss_curve(m: Measured) -> list[tuple[int, float]]:
    """RSS (MB) sampled at 25/50/75/100 % of the streaming time."""
    s = m.session
    if s is None or s.first_arrival is None or s.last_arrival is None or not m.samples:
        return []
    span = s.last_arrival - s.first_arrival
    curve = []
    for pct in (25, 50, 75, 100):
        at = s.first_arrival + span * pct / 100
        before = [x for x in m.samples if x[0] <= at]
        if before:
            curve.append((pct, before[-1][2] / 1024))
    return curve


# --------------------------------------------------------------------------------------------------------------------
# Profiling (py-spy from the bench venv)
# --------------------------------------------------------------------------------------------------------------------


@dataclass
class Profile:
    label: str
    samples: int
    threads: list[tuple[str, float]]
    inclusive: list[tuple[str, float]]
    self_time: list[tuple[str, float]]


def profile_cli(cfg: Config, py_spy: Path, launcher: Launcher, server: BenchServer, wav: Path) -> Profile | None:
    """Sample only stacks holding the GIL: for a GIL-bound program that is where the time goes."""
    raw = cfg.workdir / "profile.raw"
    target = [sys.executable, *launcher.python_prefix()] if launcher.style == "console script" else launcher.argv
    cmd = [str(py_spy), "record", "--gil", "--threads", "--rate", "250", "--format", "raw", "--output", str(raw)]
    cmd += ["--", *target, "transcribe", str(wav), "--realtime", "--speed", "0"]
    label = f"profile {duration_label(expected_seconds(wav))}"
    m = run_measured(
        label, cmd, env=child_env(cfg, server.base_url), workdir=cfg.workdir, timeout=cfg.timeout, server=server
    )
    if not raw.exists() or not m.ok:
        log(f"profiling failed (exit {m.exit_code}): {m.stderr.strip()[-300:]}")
        return None
    threads: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    self_time: Counter[str] = Counter()
    total = 0
    for line in raw.read_text("utf-8", "replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = stack.split(";")
        thread = frames[0].split(":", 1)[1].strip() if ":" in frames[0] else ""
        threads[thread or "MainThread"] += n
        names = [_frame_name(f) for f in frames[1:]]
        if names:
            self_time[_frame_name(frames[-1], line_no=True)] += n
        for name in set(names):
            if "gladia_cli/" in name or "websocket/" in name or "rich/" in name or "importlib" in name:
                inclusive[name] += n
    if not total:
        return None

    def share(counter: Counter[str], k: int) -> list[tuple[str, float]]:
        return [(name, n / total * 100) for name, n in counter.most_common(k)]

    return Profile(label, total, share(threads, 8), share(inclusive, 16), share(self_time, 12))


def _frame_name(frame: str, *, line_no: bool = False) -> str:
    """'LiveSession._send (gladia_cli/live/session.py:323)' -> the same without ':323' unless line_no."""
    if line_no or " (" not in frame:
        return frame
    func, _, where = frame.partition(" (")
    return f"{func} ({where.rsplit(':', 1)[0].rstrip(')')})"


# --------------------------------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------------------------------


def cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def git_commit() -> str:
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        proc = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT)
        if proc.returncode == 0:
            dirty = subprocess.run(["git", "status", "--porcelain"], capture_output=True, text=True, cwd=ROOT)
            return proc.stdout.strip() + (" + uncommitted changes" if dirty.stdout.strip() else "")
    return "unknown"


def fmt_s(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("PASS" if ok else "**MISS**")


@dataclass
class Results:
    cfg: Config
    started: datetime.datetime
    elapsed: float = 0.0
    startup: StartupResult | None = None
    cli: dict[str, Measured] = field(default_factory=dict)  # "short", "long", "memory"
    cli_same: dict[str, Measured] = field(default_factory=dict)  # gladia with the SDK's 100 ms frames
    sdk: dict[str, Measured] = field(default_factory=dict)
    cli_runs: dict[str, list[Measured]] = field(default_factory=dict)  # every run; `cli` holds the median one
    sdk_runs: dict[str, list[Measured]] = field(default_factory=dict)
    pacing: Pacing | None = None
    profile: Profile | None = None
    sdk_note: str = ""
    sdk_version: str = ""
    wav_seconds: dict[str, float] = field(default_factory=dict)
    wav_paths: dict[str, Path] = field(default_factory=dict)
    generation_seconds: float = 0.0
    load_before: tuple[float, float, float] = (0.0, 0.0, 0.0)
    load_after: tuple[float, float, float] = (0.0, 0.0, 0.0)

    def wav_seconds_for(self, m: Measured) -> float:
        """Seconds of audio in the file that run streamed."""
        for key, measured in self.cli.items():
            if measured is m:
                return self.wav_seconds[key]
        return m.audio_seconds


def summary_rows(r: Results) -> list[tuple[str, str, str, str]]:
    rows: list[tuple[str, str, str, str]] = []
    st = r.startup
    if st is not None:
        t = st.timings
        helps, minimal = t["gladia --help"].median, t["minimal Typer app --help"].median
        version, typer_import = t["gladia --version"].median, t['python -c "import typer"'].median
        rows.append(
            (
                "Start-up: `gladia --help`",
                f"{fmt_s(helps)} = {helps / minimal:.2f}x minimal Typer app ({fmt_s(minimal)})",
                f"<= {HELP_RATIO_MAX}x",
                verdict(helps / minimal <= HELP_RATIO_MAX),
            )
        )
        rows.append(
            (
                "Start-up: `gladia --version`",
                f"{fmt_s(version)} = {version / typer_import:.2f}x `import typer` ({fmt_s(typer_import)})",
                f"<= {VERSION_RATIO_MAX}x",
                verdict(version / typer_import <= VERSION_RATIO_MAX),
            )
        )
        found = sorted({m for mods in st.heavy.values() for m in mods})
        rows.append(
            (
                "Heavy modules after `--help`/`--version`",
                ", ".join(found) if found else "none of " + ", ".join(HEAVY_MODULES),
                "none",
                verdict(not found),
            )
        )
    for key in ("short", "long"):
        m = r.cli.get(key)
        if m is None:
            continue
        label = duration_label(r.wav_seconds[key])
        rows.append(
            (
                f"Throughput `--speed 0`, {label}",
                f"{m.x_realtime:,.0f}x real time ({fmt_s(m.wall)})" + ("" if m.ok else f" (exit {m.exit_code})"),
                f">= {SPEED0_MIN_X:,.0f}x",
                verdict(m.ok and m.x_realtime >= SPEED0_MIN_X),
            )
        )
    for key in ("short", "long"):
        m = r.cli_same.get(key) or r.cli.get(key)
        if m is None:
            continue
        label = duration_label(r.wav_seconds[key]) + ", same 100 ms frames"
        s = r.sdk.get(key)
        if s is None or not s.ok or not s.x_realtime:
            rows.append(
                (f"gladia / SDK throughput, {label}", r.sdk_note or "SDK run failed", f">= {SDK_RATIO_MIN}x", "n/a")
            )
            continue
        ratio = m.x_realtime / s.x_realtime
        rows.append(
            (
                f"gladia / SDK throughput, {label}",
                f"{ratio:.2f}x ({m.x_realtime:,.0f}x vs {s.x_realtime:,.0f}x real time)",
                f">= {SDK_RATIO_MIN}x",
                verdict(m.ok and ratio >= SDK_RATIO_MIN),
            )
        )
    delivered = [(duration_label(r.wav_seconds[k]), r.cli[k]) for k in ("short", "long", "memory") if k in r.cli]
    if delivered:
        lost = [
            f"{label}: {m.audio_seconds:.1f}/{r.wav_seconds_for(m):.1f} s"
            for label, m in delivered
            if m.audio_seconds + 0.05 < r.wav_seconds_for(m)
        ]
        rows.append(
            (
                "All audio delivered at `--speed 0`",
                "; ".join(lost) + " received" if lost else "yes, every byte",
                "100 %",
                verdict(not lost and all(m.ok for _, m in delivered)),
            )
        )
    short, memory = r.cli.get("short"), r.cli.get("memory")
    if short is not None and memory is not None:
        growth = memory.peak_rss_mb / short.peak_rss_mb - 1
        ok = abs(growth) <= RSS_FLAT_TOLERANCE and max(short.peak_rss_mb, memory.peak_rss_mb) < RSS_MAX_MB
        rows.append(
            (
                f"Peak RSS {duration_label(r.wav_seconds['short'])} vs {duration_label(r.wav_seconds['memory'])}",
                f"{short.peak_rss_mb:.1f} MB -> {memory.peak_rss_mb:.1f} MB ({growth:+.1%})",
                f"flat (+/-{RSS_FLAT_TOLERANCE:.0%}), < {RSS_MAX_MB:.0f} MB",
                verdict(ok),
            )
        )
    p = r.pacing
    if p is not None:
        rows.append(
            (
                f"Pacing at `--speed 1` ({duration_label(r.cfg.pacing_seconds)}), p99 deviation",
                f"{p.p99:.2f} ms (p50 {p.p50:.2f}, max {p.max:.2f})",
                f"< {PACING_P99_MAX_MS:g} ms",
                verdict(p.measured.ok and p.p99 < PACING_P99_MAX_MS),
            )
        )
        cpu = p.cpu_steady if p.cpu_steady is not None else p.cpu_whole
        rows.append(
            (
                "CPU at `--speed 1`",
                f"{cpu:.2f} % of a core (whole command incl. start-up: {p.cpu_whole:.2f} %)",
                f"< {CPU_MAX_PERCENT:g} %",
                verdict(p.measured.ok and cpu < CPU_MAX_PERCENT),
            )
        )
    return rows


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return out


def stream_row(client: str, m: Measured, expected: float) -> list[str]:
    return [
        client,
        "ok" if m.ok else ("timed out" if m.timed_out else f"exit {m.exit_code}"),
        f"{m.audio_seconds:,.1f} / {expected:,.0f}",
        f"{m.wall:.2f}",
        f"{m.x_realtime:,.0f}x",
        f"{m.cpu:.2f}",
        f"{m.peak_rss_mb:.1f}",
        fmt_s(m.first_frame_after),
        f"{(m.audio_seconds / m.stream_seconds):,.0f}x" if m.stream_seconds else "-",
        fmt_s(m.after_last_frame),
    ]


STREAM_HEADER = [
    "client",
    "exit",
    "audio received / sent (s)",
    "wall (s)",
    "x real time",
    "CPU user+sys (s)",
    "peak RSS (MB)",
    "1st frame after",
    "x RT while streaming",
    "last frame -> exit",
]


PHASES = [
    "spawn -> session created",
    "-> WebSocket open",
    "-> 1st frame",
    "-> last frame",
    "-> stop_recording",
    "-> close 1000",
    "-> exit",
]


def render(r: Results) -> str:
    cfg = r.cfg
    lines = [
        "# gladia benchmark results",
        "",
        f"Generated by `python bench/run.py{' --quick' if cfg.quick else ''}{'' if cfg.sdk else ' --no-sdk'}` "
        f"on {r.started:%Y-%m-%d %H:%M} UTC in {r.elapsed:.0f} s ({cfg.mode} run). See bench/README.md.",
        "",
        f"- Machine: {cpu_model()}, {os.cpu_count()} cores, "
        f"{platform.system()} {platform.release()}, load average before the run "
        f"{r.load_before[0]:.2f} / {r.load_before[1]:.2f} / {r.load_before[2]:.2f} (after: "
        f"{r.load_after[0]:.2f} / {r.load_after[1]:.2f} / {r.load_after[2]:.2f})",
        f"- Python {platform.python_version()} ({sys.executable}); gladia at commit {git_commit()}",
    ]
    st = r.startup
    if st is not None:
        lines.append(f"- Launcher: {st.launcher.style} `{shlex.join(st.launcher.argv)}`")
        if st.launcher.note:
            lines.append(f"  ({st.launcher.note})")
    lines.append(f"- Official SDK: {SDK_PACKAGE} {r.sdk_version}" if r.sdk_version else f"- Official SDK: {r.sdk_note}")
    lines.append(
        f"- Audio: 16 kHz mono 16-bit WAV (tones + noise) in {cfg.workdir}, generated in {r.generation_seconds:.1f} s; "
        f"frames of {CHUNK_BYTES} bytes (100 ms)"
    )
    lines += ["", "## Summary", ""]
    lines += table(["Target", "Measured", "Goal", "Result"], summary_rows(r))

    if st is not None:
        lines += ["", "## 1. Start-up", ""]
        lines.append(
            f"Wall time of each command as a subprocess, median of {cfg.runs} runs after one warm-up, interleaved. "
            "The floors are started the same way as gladia."
        )
        lines.append("")
        rows = [
            [
                f"`{t.label}`",
                fmt_s(t.median),
                fmt_s(t.best),
                str(len(t.times)) + (f" ({t.failures} failed)" if t.failures else ""),
            ]
            for t in st.timings.values()
        ]
        lines += table(["command", "median", "best", "runs"], rows)
        lines += ["", "Heavy modules in `sys.modules` when the real entry point exits:", ""]
        lines += table(
            ["command", *HEAVY_MODULES],
            [[f"`{cmd}`", *("loaded" if h in mods else "no" for h in HEAVY_MODULES)] for cmd, mods in st.heavy.items()],
        )
        lines += [
            "",
            "Import time by top-level package (`python -X importtime`: self time of its modules, median of 3 runs):",
            "",
        ]
        for label, packages in st.imports.items():
            parts = ", ".join(f"{name} {ms:.0f} ms" for name, ms in packages)
            lines.append(f"- `{label}`: {st.import_totals[label]:.0f} ms in all: {parts}")

    lines += ["", "## 2-3. Throughput at `--speed 0`: gladia vs the official SDK", ""]
    lines.append(
        "Same WAV, same loopback server (acks on). gladia runs twice: with its default frames at `--speed 0` (1 s of "
        "audio each) and with the SDK's 3200-byte (100 ms) frames, the comparison the ratio uses. x real time = "
        "audio seconds the server "
        "received / wall seconds of the whole command (start-up included). CPU and peak RSS are the child's own "
        "(`os.wait4`). 'x RT while streaming' counts only first to last frame at the server."
    )
    if cfg.repeats > 1:
        lines.append(
            f"Each row is the run of median wall time among {cfg.repeats} (gladia: 10 min and 1 h; SDK: 10 min); "
            "every run is listed below the tables."
        )
    lines.append("")
    rows = []
    for key in ("short", "long", "memory"):
        expected = r.wav_seconds.get(key, 0.0)
        if key in r.cli:
            rows.append([duration_label(expected), *stream_row("gladia (1 s frames)", r.cli[key], expected)])
        if key in r.cli_same:
            rows.append([duration_label(expected), *stream_row("gladia (100 ms frames)", r.cli_same[key], expected)])
        if key in r.sdk:
            rows.append([duration_label(expected), *stream_row(f"SDK {r.sdk_version}", r.sdk[key], expected)])
    lines += table(["audio", *STREAM_HEADER], rows)
    lines += ["", "Where the wall time goes (timestamps at the server, same clock):", ""]
    rows = []
    for key in ("short", "long", "memory"):
        for client, runs in (("gladia", r.cli), (f"SDK {r.sdk_version}", r.sdk)):
            m = runs.get(key)
            if m is not None and m.phases():
                rows.append([duration_label(r.wav_seconds[key]), client, *(fmt_s(x) for x in m.phases())])
    lines += table(["audio", "client", *PHASES], rows)
    every = []
    for key in ("short", "long", "memory"):
        for client, runs in (("gladia", r.cli_runs.get(key, [])), ("SDK", r.sdk_runs.get(key, []))):
            if len(runs) > 1:
                each = ", ".join(
                    f"{m.wall:.2f} s ({m.x_realtime:,.0f}x, {m.audio_seconds:,.0f} s received"
                    + (f", {m.drop_notices:,} drop notices" if m.drop_notices else "")
                    + ")"
                    for m in runs
                )
                every.append(f"- {duration_label(r.wav_seconds[key])}, {client}: {each}")
    if every:
        lines += ["", "Every run:", "", *every]
    if r.sdk_note:
        lines += ["", f"SDK: {r.sdk_note}"]
    notices = {k: m.drop_notices for k, m in r.cli.items()}
    if any(notices.values()):
        lines += [
            "",
            "gladia printed `buffer full: dropped the oldest ...` notices at `--speed 0`: "
            + ", ".join(f"{duration_label(r.wav_seconds[k])}: {n:,}" for k, n in notices.items() if n),
        ]

    lines += ["", "## 4. Real-time pacing at `--speed 1`", ""]
    p = r.pacing
    if p is None:
        lines.append("Not measured (no frames arrived).")
    else:
        lines.append(
            "Arrival time of each binary frame at the server, relative to the first, minus its place in the audio "
            "(k x 100 ms): how late each frame is beyond the chunk schedule. The schedule is anchored on the frame "
            "that came most on time (the first frames wait for the WebSocket handshake while the file's clock already "
            "runs). CPU (steady) is the child's CPU time from /proc between 1 s after the first frame and the last one."
        )
        lines.append("")
        lines += table(
            ["audio", "frames", "p50", "p99", "max", "1st frame", "> 5 ms late", "CPU % (steady)", "CPU % (whole cmd)"],
            [
                [
                    duration_label(cfg.pacing_seconds),
                    str(p.frames),
                    f"{p.p50:.2f} ms",
                    f"{p.p99:.2f} ms",
                    f"{p.max:.2f} ms",
                    f"{p.first:.2f} ms",
                    str(p.late_over_5ms),
                    f"{p.cpu_steady:.2f}" if p.cpu_steady is not None else "-",
                    f"{p.cpu_whole:.2f}",
                ]
            ],
        )

    lines += ["", "## 5. Memory at `--speed 0`", ""]
    rows = []
    for key in ("short", "long", "memory"):
        m = r.cli.get(key)
        if m is None:
            continue
        curve = ", ".join(f"{pct} %: {mb:.1f}" for pct, mb in rss_curve(m)) or "-"
        rows.append([duration_label(r.wav_seconds[key]), f"{m.peak_rss_mb:.1f}", curve])
    lines += table(["audio", "peak RSS (MB)", "RSS (MB) sampled at % of the streaming"], rows)

    lines += ["", "## What limits it", ""]
    lines += limits(r)
    findings = BENCH / "findings.md"
    if findings.exists() and not cfg.quick:
        lines += ["", findings.read_text("utf-8").strip()]
    return "\n".join(lines) + "\n"


def limits(r: Results) -> list[str]:
    """The measured evidence for each missed target; the analysis itself is in bench/findings.md."""
    out: list[str] = []
    st = r.startup
    if st is not None:
        helps = st.import_totals.get("gladia --help", 0.0)
        floor = st.import_totals.get("minimal Typer app --help", 0.0)
        out.append(
            f"- Start-up imports: `gladia --help` imports for {helps:.0f} ms, the minimal Typer app for {floor:.0f} ms "
            "(see the import table above)."
        )
    short = r.cli.get("short")
    if short is not None and short.first_frame_after is not None:
        out.append(
            f"- Fixed costs per command: first frame reaches the server {fmt_s(short.first_frame_after)} after spawn; "
            f"exit comes {fmt_s(short.after_last_frame)} after the last frame. On the "
            f"{duration_label(r.wav_seconds['short'])} file that is "
            f"{(short.first_frame_after + (short.after_last_frame or 0)) / short.wall:.0%} of the wall time; "
            f"1000x real time would need the whole command to take {r.wav_seconds['short'] / SPEED0_MIN_X:.2f} s."
        )
    for key, m in r.cli.items():
        n = m.drop_notices
        if n:
            out.append(
                f"- {duration_label(r.wav_seconds[key])} at `--speed 0`: {n:,} `buffer full` notices on stderr and "
                f"{r.wav_seconds[key] - m.audio_seconds:,.1f} s of audio never sent."
            )
    prof = r.profile
    if prof is not None:
        out += [
            "",
            f"Profile ({prof.label} at `--speed 0`, py-spy, {prof.samples} samples of stacks holding the GIL):",
            "",
        ]
        out.append("- by thread: " + ", ".join(f"{name} {pct:.0f} %" for name, pct in prof.threads))
        out += ["", "Inclusive share (gladia_cli, websocket-client, rich, imports):", ""]
        out += table(["function", "% of GIL samples"], [[f"`{n}`", f"{p:.1f}"] for n, p in prof.inclusive])
        out += ["", "Self time (leaf frames):", ""]
        out += table(["function", "% of GIL samples"], [[f"`{n}`", f"{p:.1f}"] for n, p in prof.self_time])
    return out


# --------------------------------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------------------------------


def median_by_wall(runs: list[Measured]) -> Measured:
    """The run of median wall time among those that succeeded (the first failure if none did)."""
    ok = sorted((m for m in runs if m.ok), key=lambda m: m.wall)
    return ok[len(ok) // 2] if ok else runs[0]


def run(cfg: Config) -> Results:
    began = time.perf_counter()
    r = Results(cfg=cfg, started=datetime.datetime.now(datetime.timezone.utc), load_before=os.getloadavg())
    cfg.workdir.mkdir(parents=True, exist_ok=True)

    python: Path | None = None
    py_spy: Path | None = None
    if cfg.sdk or cfg.profile:
        packages = ([SDK_PACKAGE] if cfg.sdk else []) + ([PROFILER_PACKAGE] if cfg.profile else [])
        python, problem = ensure_venv(cfg, packages)
        if python is None:
            r.sdk_note = f"not run: {problem}"
        else:
            if cfg.sdk:
                r.sdk_version = package_version(python, SDK_PACKAGE)
            if cfg.profile:
                py_spy = cfg.venv / "bin" / "py-spy"
    if not cfg.sdk:
        r.sdk_note = "skipped (--no-sdk)"

    r.startup = bench_startup(cfg, child_env(cfg))
    launcher = r.startup.launcher

    t = time.perf_counter()
    for key, seconds in (
        ("short", cfg.short_seconds),
        ("long", cfg.long_seconds),
        ("memory", cfg.memory_seconds),
        ("pacing", cfg.pacing_seconds),
    ):
        r.wav_paths[key] = write_wav(cfg.workdir / f"audio-{seconds:g}s.wav", seconds)
        r.wav_seconds[key] = expected_seconds(r.wav_paths[key])
    r.generation_seconds = time.perf_counter() - t
    log(f"WAV files ready in {r.generation_seconds:.1f} s")

    with BenchServer() as server:
        # One untimed run each: compiles the streaming modules into the bytecode cache, as any earlier use would.
        warm = write_wav(cfg.workdir / "audio-1s.wav", 1)
        cli_stream(cfg, launcher, server, warm, 0, "warm-up gladia")
        if python is not None and cfg.sdk:
            sdk_stream(cfg, python, server, warm, "warm-up SDK")
        for key in ("short", "long", "memory"):
            label = duration_label(r.wav_seconds[key])
            wav = r.wav_paths[key]
            cli_count = cfg.repeats if key != "memory" else 1
            sdk_count = (cfg.repeats if key == "short" else 1) if key != "memory" else 0
            cli_runs, sdk_runs = r.cli_runs.setdefault(key, []), r.sdk_runs.setdefault(key, [])
            for i in range(max(cli_count, sdk_count)):
                suffix = f" #{i + 1}" if max(cli_count, sdk_count) > 1 else ""
                if i < cli_count:
                    cli_runs.append(cli_stream(cfg, launcher, server, wav, 0, f"gladia {label}{suffix}"))
                if i < sdk_count and python is not None and cfg.sdk:
                    sdk_runs.append(sdk_stream(cfg, python, server, wav, f"SDK {label}{suffix}"))
            r.cli[key] = median_by_wall(cli_runs)
            if sdk_runs:
                r.sdk[key] = median_by_wall(sdk_runs)
            if key != "memory":
                # The comparison: the same frame size as the SDK (gladia's default at --speed 0 is 1 s).
                # As many runs as the SDK's, median by wall time: one sample of a ~1 s run is mostly noise.
                same_runs = [
                    cli_stream(
                        cfg, launcher, server, wav, 0, f"gladia {label}, 100 ms frames{suffix}", "--chunk-ms", "100"
                    )
                    for suffix in ([f" #{i + 1}" for i in range(sdk_count)] if sdk_count > 1 else [""])
                ]
                r.cli_same[key] = median_by_wall(same_runs)
        log(f"pacing: {duration_label(cfg.pacing_seconds)} at --speed 1")
        paced = cli_stream(cfg, launcher, server, r.wav_paths["pacing"], 1, f"gladia pacing {cfg.pacing_seconds:g}s")
        r.pacing = pacing_figures(paced)
        if py_spy is not None and py_spy.exists():
            log("profiling the long --speed 0 run with py-spy")
            r.profile = profile_cli(cfg, py_spy, launcher, server, r.wav_paths["long"])
    r.elapsed = time.perf_counter() - began
    r.load_after = os.getloadavg()
    return r


def main(argv: Sequence[str] | None = None) -> int:
    cfg = parse_args(argv)
    results = run(cfg)
    report = render(results)
    cfg.output.parent.mkdir(parents=True, exist_ok=True)
    cfg.output.write_text(report, "utf-8")
    sys.stdout.write(report)
    log(f"done in {results.elapsed:.0f} s; wrote {cfg.output}")
    failed = [m.label for runs in results.cli_runs.values() for m in runs if not m.ok]
    if results.pacing is None or not results.pacing.measured.ok:
        failed.append("pacing")
    if failed:
        log("gladia failed in: " + ", ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
