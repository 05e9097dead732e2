"""Installed as users install CLIs (`pipx install .`, `uv tool install .`): a wheel, a fresh venv, the console script.

The wheel is built from a copy of the sources (nothing written into the checkout) and installed with its
dependencies through pip's configured index, as pipx and uv do; then `gladia` runs from the venv's bin/ in a
directory where the checkout is not importable, so it is the installed package that answers. ~30-50 s.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from gladia_cli import __version__

ROOT = Path(__file__).resolve().parent.parent


def sh(*cmd: str | Path, cwd: Path, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    proc = subprocess.run(
        [str(c) for c in cmd], capture_output=True, text=True, cwd=cwd, env=env, timeout=timeout, check=False
    )
    assert proc.returncode == 0, f"{' '.join(map(str, cmd))}:\n{proc.stdout}\n{proc.stderr}"
    return proc


@pytest.mark.timeout(300)
def test_wheel_installs_into_a_fresh_venv_and_runs(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    shutil.copy(ROOT / "pyproject.toml", src)
    shutil.copy(ROOT / "README.md", src)
    shutil.copytree(ROOT / "gladia_cli", src / "gladia_cli", ignore=shutil.ignore_patterns("__pycache__"))
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    sh(*pip, "wheel", ".", "--no-deps", "-w", tmp_path / "dist", cwd=src)
    wheels = list((tmp_path / "dist").glob("gladia-*.whl"))
    assert len(wheels) == 1, wheels

    venv = tmp_path / "venv"
    sh(sys.executable, "-m", "venv", "--without-pip", venv, cwd=tmp_path)  # pip below installs into it (--python)
    python = venv / "bin" / "python"
    sh(*pip, "--python", python, "install", wheels[0], cwd=tmp_path)

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    gladia = venv / "bin" / "gladia"
    assert sh(gladia, "--version", cwd=elsewhere).stdout.strip() == f"gladia {__version__}"
    help_text = sh(gladia, "--help", cwd=elsewhere).stdout
    assert all(word in help_text for word in ("listen", "transcribe", "doctor", "completion"))
    where = sh(python, "-c", "import gladia_cli; print(gladia_cli.__file__)", cwd=elsewhere).stdout
    assert Path(where.strip()).is_relative_to(venv), where  # the installed copy, not the checkout
    assert sh(gladia, "completion", "bash", cwd=elsewhere).stdout == (ROOT / "completions" / "gladia.bash").read_text()
