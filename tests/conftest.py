"""Shared fixtures. The Gladia emulator lives in `emulator.py`; see its docstring for what it speaks."""

from __future__ import annotations

import os
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


@pytest.fixture(autouse=True)
def no_request_beyond_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test ever reaches Gladia's servers: without a URL of the test's own, requests go to a loopback port that
    nothing listens on (a test that needs the default URL unsets it knowingly)."""
    if "GLADIA_API_URL" not in os.environ:
        monkeypatch.setenv("GLADIA_API_URL", "http://127.0.0.1:9")


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


# --------------------------------------------------------------------------------------------------------------------
# Markers: what each test needs, so `pytest -m "not slow"` is a fast inner loop (the README's command runs them all)
# --------------------------------------------------------------------------------------------------------------------

# A test is marked by the fixtures it uses (their whole closure: `tone` brings `virtual_mic`), so a new test gets its
# marks without anyone remembering them.
_BY_FIXTURE = {
    "virtual_mic": "pulse",
    "tmux": "tmux",
    "emulator": "emulator",
    "emu": "emulator",
    "api_env": "emulator",
}
_SLOW_KINDS = frozenset({"pulse", "tmux", "packaging"})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        for fixture, marker in _BY_FIXTURE.items():
            if fixture in names:
                item.add_marker(marker)
        if any(item.get_closest_marker(kind) for kind in _SLOW_KINDS):
            item.add_marker("slow")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    """Under CI a test skipped for a missing tool (ffmpeg, tmux, zsh...) fails: `.ci/run` installs them all, so such
    a skip means the install is broken, and a green run would hide it."""
    outcome = yield
    report = outcome.get_result()
    if not (os.environ.get("CI") and report.skipped and isinstance(report.longrepr, tuple)):
        return
    reason = str(report.longrepr[2])
    if any(words in reason for words in ("not installed", "is needed", "needs espeak-ng", "needs coreutils")):
        report.outcome = "failed"
        report.longrepr = f"skipped under CI, where .ci/run installs every tool: {reason}"
