"""Shared fixtures. The Gladia emulator lives in `emulator.py`; see its docstring for what it speaks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

if __package__:  # tests/ imported as a package
    from .emulator import GladiaEmulator
else:  # rootdir-relative import of tests/ (no __init__.py)
    from emulator import GladiaEmulator


# --------------------------------------------------------------------------------------------------------------------
# Gladia emulator
# --------------------------------------------------------------------------------------------------------------------


@pytest.fixture
def emulator() -> Iterator[GladiaEmulator]:
    """A started loopback Gladia (`emulator.base_url`), stopped after the test. Accepts the key `test-key`."""
    emu = GladiaEmulator().start()
    try:
        yield emu
    finally:
        emu.stop()


@pytest.fixture
def api_env(emulator: GladiaEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> GladiaEmulator:
    """Environment of a CLI run against the emulator, isolated from the real user's config (~/.gladia, XDG dirs)."""
    home = tmp_path / "home"
    config = tmp_path / "xdg-config"
    home.mkdir()
    config.mkdir()
    monkeypatch.setenv("GLADIA_API_KEY", "test-key")
    monkeypatch.setenv("GLADIA_API_URL", emulator.base_url)
    monkeypatch.delenv("GLADIA_REGION", raising=False)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config))
    return emulator
