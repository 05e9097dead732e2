"""Running the real CLI: in-process (through `gladia_cli.cli.main.main`) and as a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass

import pytest

from gladia_cli.cli.main import main


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str


def invoke(capsys: pytest.CaptureFixture[str], *args: str) -> Result:
    """Run `gladia ARGS` in this process, through the same entry point as the console script."""
    capsys.readouterr()
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    out, err = capsys.readouterr()
    return Result(code, out, err)


def run(*args: str, env: dict[str, str] | None = None, timeout: float = 60) -> Result:
    """Run `python -m gladia_cli ARGS` as a child process with `env` added to this environment."""
    full_env = {**os.environ, **(env or {})}
    proc = subprocess.run(
        [sys.executable, "-m", "gladia_cli", *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


def one_line_error(result: Result) -> str:
    """The error contract: exactly one non-empty stderr line starting with 'gladia: error:', no traceback."""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    errors = [line for line in lines if line.startswith("gladia: error:")]
    assert "Traceback" not in result.stderr, result.stderr
    assert len(errors) == 1, result.stderr
    return errors[0]
