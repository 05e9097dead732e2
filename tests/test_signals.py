"""SIGTERM (`timeout`, systemd, `docker stop`) ends a live session like Ctrl-C: a clean stop first, an abort second.

Each test runs the real CLI as a child process against the loopback emulator and signals it mid-stream.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import wave
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

import numpy as np
import pytest
from cli_runner import Result, one_line_error
from emulator import GladiaEmulator

from gladia_cli.cli.live_run import _Interrupts
from gladia_cli.errors import ExitCode

KEY = "gk-signals-3b8e1f0a9c-do-not-print"
FINALS = ["Hello world.", "This is the Gladia emulator.", "Goodbye."]
RATE = 16000


def noise_wav(path: Path, seconds: float) -> Path:
    samples = np.random.default_rng(0).integers(-20000, 20000, int(seconds * RATE), dtype=np.int16)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(samples.astype("<i2").tobytes())
    return path


@pytest.fixture
def emu() -> Iterator[GladiaEmulator]:
    emulator = GladiaEmulator(api_keys={KEY}).start()
    try:
        yield emulator
    finally:
        emulator.stop()
    assert not emulator.errors, emulator.errors


def start_cli(emu: GladiaEmulator, home: Path, *args: str, prefix: list[str] | None = None) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "GLADIA_API_KEY": KEY,
        "GLADIA_API_URL": emu.base_url,
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
    }
    env.pop("GLADIA_DEBUG", None)
    env.pop("GLADIA_REGION", None)
    return subprocess.Popen(
        [*(prefix or []), sys.executable, "-m", "gladia_cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env=env,
    )


def streaming_for_a_second(emu: GladiaEmulator, tmp_path: Path) -> subprocess.Popen[str]:
    """`transcribe --realtime --speed 1` of a 30 s file, once Gladia has received about a second of it."""
    wav = noise_wav(tmp_path / "s.wav", 30.0)
    proc = start_cli(emu, tmp_path, "transcribe", str(wav), "--realtime", "--speed", "1")
    if not emu.wait_until(lambda: any(len(s.audio) >= RATE * 2 for s in list(emu.sessions.values())), timeout=15):
        proc.kill()
        pytest.fail(f"no audio reached the emulator within 15 s: {proc.communicate()[1]}")
    return proc


def finish(proc: subprocess.Popen[str], timeout: float) -> Result:
    try:
        out, err = proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert KEY not in out + err
    assert "Traceback" not in err, err
    return Result(proc.returncode, out, err)


@pytest.mark.slow  # seconds of its own: out of the inner loop
@pytest.mark.timeout(60)
def test_sigterm_stops_gracefully_sends_stop_recording_and_prints_the_finals(
    emu: GladiaEmulator, tmp_path: Path
) -> None:
    emu.post_processing_delay = 0.5
    proc = streaming_for_a_second(emu, tmp_path)
    proc.send_signal(signal.SIGTERM)
    result = finish(proc, 30)
    assert result.code == 0, result.stderr
    session = emu.only_session()
    assert session.stop_count == 1
    assert 0 < len(session.audio) < 30 * RATE * 2  # stopped early: not the whole file
    assert result.stdout.splitlines() == FINALS  # finals that came after the stop are printed too
    assert "SIGTERM" in result.stderr
    assert session.id in result.stderr


@pytest.mark.slow  # seconds of its own: out of the inner loop
@pytest.mark.timeout(60)
@pytest.mark.parametrize("second", [signal.SIGTERM, signal.SIGINT], ids=["sigterm", "sigint"])
def test_a_second_signal_after_sigterm_aborts_with_130_and_the_session_id(
    emu: GladiaEmulator, tmp_path: Path, second: signal.Signals
) -> None:
    emu.post_processing_delay = 30  # post-processing that would take far too long
    proc = streaming_for_a_second(emu, tmp_path)
    proc.send_signal(signal.SIGTERM)
    assert emu.wait_until(lambda: emu.only_session().stop_count == 1, timeout=10)
    time.sleep(_Interrupts.ECHO_SECONDS + 0.2)  # a repeat sooner is taken for `timeout`'s echo of the first
    proc.send_signal(second)
    result = finish(proc, 15)
    assert result.code == ExitCode.ABORTED, result.stderr
    assert emu.only_session().id in one_line_error(result)


@pytest.mark.slow  # seconds of its own: out of the inner loop
@pytest.mark.timeout(60)
@pytest.mark.skipif(shutil.which("timeout") is None, reason="needs coreutils timeout")
def test_coreutils_timeout_ends_the_session_cleanly(emu: GladiaEmulator, tmp_path: Path) -> None:
    """`timeout` signals the child and then its whole process group: that double SIGTERM must not abort."""
    emu.post_processing_delay = 0.5
    wav = noise_wav(tmp_path / "t.wav", 30.0)
    args = ["transcribe", str(wav), "--realtime", "--speed", "1"]
    proc = start_cli(emu, tmp_path, *args, prefix=["timeout", "--preserve-status", "2"])
    result = finish(proc, 40)
    assert result.code == 0, result.stderr  # --preserve-status: the CLI's own exit code
    session = emu.only_session()
    assert session.stop_count == 1
    assert result.stdout.splitlines() == FINALS
    assert "aborted" not in result.stderr


@pytest.mark.slow  # seconds of its own: out of the inner loop
@pytest.mark.timeout(60)
def test_sigterm_repeated_at_once_is_one_stop_not_an_abort(emu: GladiaEmulator, tmp_path: Path) -> None:
    emu.post_processing_delay = 0.5
    proc = streaming_for_a_second(emu, tmp_path)
    proc.send_signal(signal.SIGTERM)
    proc.send_signal(signal.SIGTERM)
    result = finish(proc, 30)
    assert result.code == 0, result.stderr
    assert emu.only_session().stop_count == 1
    assert result.stdout.splitlines() == FINALS


@pytest.mark.slow  # seconds of its own: out of the inner loop
@pytest.mark.timeout(60)
def test_sigint_then_sigterm_aborts_too(emu: GladiaEmulator, tmp_path: Path) -> None:
    emu.post_processing_delay = 30
    proc = streaming_for_a_second(emu, tmp_path)
    proc.send_signal(signal.SIGINT)
    assert emu.wait_until(lambda: emu.only_session().stop_count == 1, timeout=10)
    time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    result = finish(proc, 15)
    assert result.code == ExitCode.ABORTED, result.stderr
    assert emu.only_session().id in one_line_error(result)
    assert "SIGTERM" not in result.stderr  # the graceful stop came from Ctrl-C: no SIGTERM notice


def test_interrupts_count_both_signals_and_restore_the_previous_handlers() -> None:
    seen: list[int] = []

    def mine(signum: int, frame: FrameType | None) -> None:
        seen.append(signum)

    before = {s: signal.signal(s, mine) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        with _Interrupts() as interrupts:
            signal.raise_signal(signal.SIGTERM)
            signal.raise_signal(signal.SIGTERM)  # at once: the echo of the first (as from `timeout`), not counted
            assert (interrupts.count, interrupts.first) == (1, signal.SIGTERM)
            signal.raise_signal(signal.SIGINT)  # a Ctrl-C is never an echo
            assert interrupts.count == 2
        assert signal.getsignal(signal.SIGINT) is mine and signal.getsignal(signal.SIGTERM) is mine
        signal.raise_signal(signal.SIGTERM)
        assert seen == [signal.SIGTERM]
    finally:
        for signum, handler in before.items():
            signal.signal(signum, handler)


def test_interrupts_off_the_main_thread_install_nothing() -> None:
    before = signal.getsignal(signal.SIGTERM)
    installed: list[object] = []

    def run() -> None:
        with _Interrupts():
            installed.append(signal.getsignal(signal.SIGTERM))

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(5)
    assert installed == [before] and signal.getsignal(signal.SIGTERM) is before


@pytest.mark.parametrize("inputs", [1, 2])
def test_sigterm_while_pre_recorded_jobs_run_says_where_they_are(
    emu: GladiaEmulator, tmp_path: Path, inputs: int
) -> None:
    """Outside a live session SIGTERM unwinds like Ctrl-C: the running jobs' ids, exit 130, no temporary file."""
    emu.prerecorded.polls_before_done = 10_000
    wavs = [str(noise_wav(tmp_path / f"{n}.wav", 0.5)) for n in range(inputs)]
    outputs = ["--output-dir", str(tmp_path / "out")] if inputs > 1 else []
    proc = start_cli(emu, tmp_path, "transcribe", *wavs, *outputs)
    if not emu.wait_until(lambda: len(emu.prerecorded.created_bodies()) == inputs, timeout=15):
        proc.kill()
        pytest.fail(f"the jobs were not created: {proc.communicate()[1]}")
    time.sleep(0.3)  # polling
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == ExitCode.ABORTED, err
    assert out == "" and "Traceback" not in err and "gladia: error: aborted" in err
    for job in emu.prerecorded.jobs.values():
        assert f"gladia result {job.id} --wait" in err
    assert not list(tmp_path.rglob("*.part"))


def _ignoring_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@pytest.mark.slow  # seconds of its own: out of the inner loop
@pytest.mark.parametrize("command", [("list",), ("result", "5ce0aa73-1572-4172-870b-b28442a46077")])
def test_sigint_aborts_even_when_inherited_ignored(emu: GladiaEmulator, tmp_path: Path, command: tuple[str, ...]):
    """A shell without job control starts `gladia … &` with SIGINT ignored, and Python leaves it so: `kill -INT`
    from a script (or a CI harness that runs the suite that way) then waited out a hung request. Ctrl-C is Ctrl-C."""
    emu.http_hang_seconds = 60
    env = {**os.environ, "GLADIA_API_KEY": "test-key", "GLADIA_API_URL": emu.base_url, "HOME": str(tmp_path)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "gladia_cli", *command],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_ignoring_sigint,
    )
    deadline = time.monotonic() + 30
    while not emu.http_requests and time.monotonic() < deadline:
        time.sleep(0.05)
    assert emu.http_requests, "the request never reached the emulator"
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == ExitCode.ABORTED, err
    assert "aborted" in one_line_error(Result(proc.returncode, out, err))


def test_main_restores_an_ignored_sigint() -> None:
    """In-process callers (tests, scripts) get their SIGINT disposition back."""
    from gladia_cli.cli.main import main

    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with pytest.raises(SystemExit):
            main(["--version"])
        assert signal.getsignal(signal.SIGINT) == signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)
