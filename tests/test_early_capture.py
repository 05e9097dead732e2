"""`gladia listen` records before its command line is read (audio/early.py, cli/early_listen.py): the guess made
from argv and config.toml, the real PortAudio stream handed to the run when it is the one asked for and closed
when not, and stderr still the process's own for any error."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_runner import one_line_error, run
from emulator import GladiaEmulator
from virtual_mic import VirtualMic, virtual_mic

from gladia_cli.audio import early, inputs
from gladia_cli.audio.format import BUFFER_SECONDS, PcmFormat
from gladia_cli.cli import early_listen
from gladia_cli.live import defaults

__all__ = ["virtual_mic"]

DEFAULT = early.Guess(None, PcmFormat(), defaults.CHUNK_MS, defaults.BUFFER_SECONDS)


@pytest.fixture
def config_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    monkeypatch.delenv("GLADIA_PROFILE", raising=False)
    (tmp_path / "gladia").mkdir()
    return tmp_path / "gladia" / "config.toml"


def guess(*args: str) -> early.Guess | None:
    words = early_listen._listen_args(list(args))
    return None if words is None else early_listen._guess(words, early_listen._profile(list(args)))


@pytest.mark.usefixtures("config_home")
def test_the_guess_is_the_default_input_or_the_one_device_typed() -> None:
    assert guess("listen", "--lang", "en", "--translate", "fr") == DEFAULT
    assert guess("listen", "-d", "virtmic") == early.Guess("virtmic", PcmFormat(), 100, BUFFER_SECONDS)
    assert guess("--profile", "work", "listen", "--device=2") == early.Guess("2", PcmFormat(), 100, BUFFER_SECONDS)
    assert guess("--debug", "listen", "--chunk-ms", "50") == DEFAULT  # not the input's: the run compares


@pytest.mark.usefixtures("config_home")
@pytest.mark.parametrize(
    "args",
    [
        ("listen", "--sample-rate", "48000"),
        ("listen", "--channels=2"),
        ("listen", "--bit-depth", "24"),
        ("listen", "--encoding", "wav/ulaw"),
        ("listen", "--config", "body.json"),
        ("listen", "--system-audio"),
        ("listen", "-d", "a", "-d", "b"),
        ("transcribe", "listen"),
        ("auth", "listen"),
        ("--version", "listen"),
    ],
)
def test_no_guess_when_the_input_or_its_format_is_not_the_default(args: tuple[str, ...]) -> None:
    assert guess(*args) is None


def test_saved_defaults_are_part_of_the_guess(config_home: Path) -> None:
    config_home.write_text('device = "virtmic"\n[profile.hd]\nsample-rate = 48000\n')
    assert guess("listen") == early.Guess("virtmic", PcmFormat(), 100, BUFFER_SECONDS)
    assert guess("listen", "-d", "pulse").spec == "pulse"  # a typed flag wins, as in the run
    assert guess("--profile", "hd", "listen") is None
    config_home.write_text('device = ["a", "b"]\n')
    assert guess("listen") is None


def test_help_starts_nothing(config_home: Path) -> None:
    for args in (["listen", "--help"], ["listen", "-h"], ["devices"]):
        early_listen.start(args)
        assert early._pending is None


@pytest.fixture
def cleared() -> Iterator[None]:
    early.cancel()
    yield
    early.cancel()


def _recording_streams(mic: VirtualMic) -> int:
    """What PulseAudio sees: one source-output per PortAudio stream recording through it (the virtual mic's own
    remaps and keep-alive recorders aside)."""
    out = subprocess.run(
        ["pactl", "list", "source-outputs"], env={**os.environ, **mic.env}, capture_output=True, text=True
    ).stdout
    blocks = out.split("Source Output #")[1:]
    return len([b for b in blocks if "protocol-native" in b and 'application.name = "parec"' not in b])


@pytest.mark.usefixtures("cleared")
def test_the_run_takes_the_microphone_recording_since_the_early_start(virtual_mic: VirtualMic) -> None:
    early.begin(lambda: DEFAULT)
    early.settle()
    asked_at = time.monotonic()
    source, _, _ = inputs.open_microphones([None], PcmFormat(), chunk_ms=100, buffer_seconds=BUFFER_SECONDS)
    try:
        started_at = getattr(source, "started_at", None)
        assert started_at is not None and started_at < asked_at  # recording before the run asked for it
        assert early._pending is None
        chunks = source.chunks()
        assert len(next(chunks)) == PcmFormat().chunk_bytes(100)  # the early stream's audio, handed out by the run
        assert _recording_streams(virtual_mic) == 1
    finally:
        source.close()


@pytest.mark.usefixtures("cleared")
def test_a_wrong_guess_is_closed_and_the_asked_input_opened(virtual_mic: VirtualMic) -> None:
    early.begin(lambda: DEFAULT)
    early.settle()
    assert _recording_streams(virtual_mic) == 1
    asked_at = time.monotonic()
    stereo = PcmFormat(channels=2)
    source, _, _ = inputs.open_microphones([None], stereo, chunk_ms=100, buffer_seconds=BUFFER_SECONDS)
    try:
        started_at = getattr(source, "started_at", None)
        assert started_at is not None and started_at >= asked_at
        assert source.format == stereo
        assert _recording_streams(virtual_mic) == 1  # the guess no longer records
    finally:
        source.close()


@pytest.mark.usefixtures("cleared")
def test_an_early_start_no_run_takes_stops_recording(virtual_mic: VirtualMic) -> None:
    early.begin(lambda: DEFAULT)
    early.settle()
    assert _recording_streams(virtual_mic) == 1
    early.cancel()
    assert _recording_streams(virtual_mic) == 0


@pytest.mark.usefixtures("cleared")
def test_a_failed_guess_leaves_the_error_to_the_run(virtual_mic: VirtualMic) -> None:
    early.begin(lambda: early.Guess("no-such-input", PcmFormat(), 100, BUFFER_SECONDS))
    early.settle()
    with pytest.raises(Exception, match="no-such-input"):
        inputs.open_microphones(["no-such-input"], PcmFormat(), chunk_ms=100, buffer_seconds=BUFFER_SECONDS)


def test_a_refused_flag_is_said_in_full_while_recording_starts_early(
    virtual_mic: VirtualMic, emulator: GladiaEmulator, tmp_path: Path
) -> None:
    """PortAudio's initialisation silences fd 2 for a moment: the error must not be written into that moment."""
    env = {**virtual_mic.env, "GLADIA_API_KEY": "test-key", "GLADIA_API_URL": emulator.base_url, "HOME": str(tmp_path)}
    for args in (("listen", "--bogus"), ("listen", "--duration", "abc"), ("listen", "--chunk-ms", "0")):
        result = run(*args, env=env)
        assert result.code == 2, result.stderr
        one_line_error(result)
    assert emulator.init_requests == []
