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
from emulator import GladiaEmulator
from wavs import write_wav

from gladia_cli import __version__

if __package__:  # tests/ imported as a package
    from .virtual_mic import VirtualMic, virtual_mic
else:  # rootdir-relative import of tests/ (no __init__.py)
    from virtual_mic import VirtualMic, virtual_mic

__all__ = ["virtual_mic"]  # the fixture is used by name, not referenced

ROOT = Path(__file__).resolve().parent.parent


def sh(
    *cmd: str | Path, cwd: Path, timeout: float = 180, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = env or {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    proc = subprocess.run(
        [str(c) for c in cmd], capture_output=True, text=True, cwd=cwd, env=env, timeout=timeout, check=False
    )
    assert proc.returncode == 0, f"{' '.join(map(str, cmd))}:\n{proc.stdout}\n{proc.stderr}"
    return proc


@pytest.mark.packaging
@pytest.mark.timeout(300)
def test_wheel_installs_into_a_fresh_venv_and_runs(
    tmp_path: Path, emulator: GladiaEmulator, virtual_mic: VirtualMic
) -> None:
    """A newcomer's first five minutes: install, `gladia --help`, `gladia listen --help`, then `gladia doctor` in a
    clean HOME with a key, the loopback Gladia and a microphone: every check ok."""
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
    assert "Usage: gladia listen" in sh(gladia, "listen", "--help", cwd=elsewhere).stdout

    home = tmp_path / "home"  # nothing saved yet: no config, no key file
    home.mkdir()
    wav, _ = write_wav(tmp_path / "tone.wav", 2.0)
    virtual_mic.play(wav, loop=True)
    clean = {
        "PATH": f"{venv / 'bin'}:/usr/bin:/bin",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "GLADIA_API_KEY": "test-key",
        "GLADIA_API_URL": emulator.base_url,
        **virtual_mic.env,
    }
    try:
        report = sh(gladia, "doctor", cwd=elsewhere, env=clean, timeout=60).stdout  # exit 0 asserted by sh
    finally:
        virtual_mic.stop_playing()
    assert "FAIL" not in report, report
    for name in ("python", "packages", "portaudio", "input devices", "listen", "api key", "gladia api"):
        assert any(line.startswith(f"ok   {name} ") for line in report.splitlines()), report
