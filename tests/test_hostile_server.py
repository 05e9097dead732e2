"""A hostile Gladia on 127.0.0.1: every bad answer ends in one line or a notice, never a hang or a dead thread.

The emulator is told to misbehave the way a compromised proxy, a misconfigured --api-url or a malicious result
would; the real CLI runs against it as a child process, so a hang is a timeout and a traceback is visible.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from emulator import GladiaEmulator
from wavs import write_wav

from gladia_cli.api import check_live_url
from gladia_cli.errors import ApiError, ExitCode


def _run(emulator: GladiaEmulator, tmp_path: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "GLADIA_API_KEY": "test-key",
        "GLADIA_API_URL": emulator.base_url,
    }
    return subprocess.run(
        [sys.executable, "-m", "gladia_cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def _one_error_line(proc: subprocess.CompletedProcess) -> str:
    assert "Traceback" not in proc.stderr, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("gladia: error:")]
    assert len(errors) == 1, proc.stderr
    return errors[0]


@pytest.mark.parametrize("url", ["http://127.0.0.1:1/v2/live?token={token}", "", "file:///etc/passwd", "ws://[::1"])
def test_a_websocket_url_the_client_cannot_use_is_one_line(emulator: GladiaEmulator, tmp_path: Path, url: str):
    emulator.live_url = url
    wav, _ = write_wav(tmp_path / "a.wav", 1.0)
    proc = _run(emulator, tmp_path, "transcribe", str(wav), "--realtime", "--speed", "0")
    assert proc.returncode == ExitCode.API, proc.stderr
    assert "no valid WebSocket url" in _one_error_line(proc)


def test_a_cleartext_websocket_under_https_is_refused() -> None:
    with pytest.raises(ApiError, match="cleartext ws://"):
        check_live_url("ws://api.example/v2/live?token=x", "https://api.gladia.io")
    check_live_url("wss://api.example/v2/live?token=x", "https://api.gladia.io")
    check_live_url("ws://127.0.0.1:8/v2/live?token=x", "http://127.0.0.1:9")  # plain http asked for it already


def test_a_dying_worker_thread_ends_the_run_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever kills the sender or the connection thread, the session ends with an error instead of a hang."""
    from sources import FMT, BytesSource

    from gladia_cli.live.connection import ReconnectPolicy
    from gladia_cli.live.events import Ended
    from gladia_cli.live.session import LiveSession

    def broken(self: LiveSession) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(LiveSession, "_connection", broken)
    session = LiveSession(
        session_id="s",
        url="ws://127.0.0.1:1/none",
        source=BytesSource(b"\0" * 32000),
        fmt=FMT,
        policy=ReconnectPolicy(max_attempts=1, max_seconds=1),
        emit_messages=False,
    )
    session.start()
    while not isinstance(event := session.events.get(timeout=20), Ended):
        pass
    session.join()
    assert event.error is not None and "connection thread failed" in event.error.message
