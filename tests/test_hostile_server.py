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
    # Only checked, never connected to; loopback all the same.
    with pytest.raises(ApiError, match="cleartext ws://"):
        check_live_url("ws://127.0.0.1:8/v2/live?token=x", "https://127.0.0.1:9")
    check_live_url("wss://127.0.0.1:8/v2/live?token=x", "https://127.0.0.1:9")
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


@pytest.mark.slow  # seconds of its own: out of the inner loop
def test_a_trickling_answer_meets_a_total_deadline(api_env: GladiaEmulator, monkeypatch: pytest.MonkeyPatch, capsys):
    """One byte every 0.2 s keeps each read under the per-read timeout forever; the whole answer has a deadline."""
    import time

    from cli_runner import invoke

    from gladia_cli import api

    monkeypatch.setattr(api, "TOTAL_DEADLINE", 2.0)
    api_env.http_trickle_seconds = 0.2
    started = time.monotonic()
    result = invoke(capsys, "result", "5ce0aa73-1572-4172-870b-b28442a46077")
    assert time.monotonic() - started < 15  # one try, not retried: it would trickle again
    assert result.code == ExitCode.NETWORK, result.stderr
    assert "did not finish answering within 2 s" in result.stderr


def test_a_huge_answer_is_refused_unread(api_env: GladiaEmulator, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    from cli_runner import invoke

    from gladia_cli import api

    monkeypatch.setattr(api, "MAX_BODY_BYTES", 1024 * 1024)
    api_env.http_body_bytes = 5 * 1024 * 1024
    result = invoke(capsys, "list")
    assert result.code == ExitCode.API, result.stderr
    assert "larger than 1 MB" in result.stderr


def test_a_body_that_is_not_json_in_any_way_is_one_line() -> None:
    """NaN, Infinity and deep nesting: `requests`' .json() takes the first two and dies of the third."""
    import requests

    from gladia_cli.api import GladiaApi
    from gladia_cli.settings import Settings

    client = GladiaApi(Settings("test-key", "http://127.0.0.1:9", None, "test"))
    for body in (b'{"a": NaN}', b'{"a": -Infinity}', b"[" * 100_000 + b"]" * 100_000, b"\xff\xfe"):
        response = requests.Response()
        response._content = body
        response.status_code = 200
        with pytest.raises(ApiError, match="not JSON"):
            client.parse_json(response)


@pytest.mark.slow  # seconds of its own: out of the inner loop
def test_one_ctrl_c_meets_the_finish_timeout_when_nothing_is_acknowledged(emulator: GladiaEmulator, tmp_path: Path):
    """A stdin source that never closes, a server that never acknowledges and then drops the link and refuses to
    take it back: the stop cannot even be sent, and --finish-timeout is still the ceiling (it was 55-125 s)."""
    import signal
    import time

    emulator.drop_acks_every = 1
    emulator.close_after_bytes = [(16000, 1011)]  # retryable: the client reconnects...
    emulator.refuse_after_fault = 10_000  # ...and is refused, for as long as --reconnect-timeout lets it try
    env = {
        **os.environ,
        "HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "GLADIA_API_KEY": "test-key",
        "GLADIA_API_URL": emulator.base_url,
    }
    flags = ["--encoding", "wav/pcm", "--sample-rate", "16000", "--bit-depth", "16", "--channels", "1"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "gladia_cli", "transcribe", "-", "--realtime", *flags, "--finish-timeout", "3"],
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdin is not None
    proc.stdin.write(b"\x01\x00" * 16000)  # one second of audio, and the pipe stays open
    proc.stdin.flush()
    deadline = time.monotonic() + 30
    while not (emulator.sessions and any(s.audio for s in emulator.sessions.values())):
        assert time.monotonic() < deadline, "no audio reached the emulator"
        time.sleep(0.05)
    stopped = time.monotonic()
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    took = time.monotonic() - stopped
    text = err.decode()
    assert proc.returncode == ExitCode.NETWORK, text
    assert "did not finish within 3 s" in text and "Traceback" not in text
    assert took < 20, f"{took:.1f} s after one Ctrl-C with --finish-timeout 3"


def test_ids_that_would_change_the_path_are_refused(api_env: GladiaEmulator, capsys) -> None:
    from cli_runner import invoke

    for bad in ("..", ".", "a/b", "%2e%2e", "x?y=1", "a\nb", "[/]"):
        result = invoke(capsys, "delete", "--yes", bad)
        assert result.code == ExitCode.USAGE and "invalid job id" in result.stderr, (bad, result.stderr)
    assert not [r for r in api_env.http_requests if r[0] == "DELETE"]


def test_a_session_id_with_a_trailing_newline_is_no_journal_id(tmp_path: Path) -> None:
    from gladia_cli.errors import UsageError
    from gladia_cli.live import journal as jr

    with pytest.raises(UsageError):
        jr.check_session_id("abc\n")


def test_one_bad_journal_is_listed_as_unreadable_and_spares_the_others(tmp_path: Path) -> None:
    import json

    from sources import FMT

    from gladia_cli.cli.recover import journal_rows
    from gladia_cli.live import journal as jr

    good = jr.JournalWriter("good", FMT, max_bytes=1 << 20, root=tmp_path)
    good.write(b"\0\0" * 1600)
    good.close()
    for name, meta in (("zero-rate", {"sample_rate": 0}), ("bad-acked", {"acked": "x"})):
        writer = jr.JournalWriter(name, FMT, max_bytes=1 << 20, root=tmp_path)
        writer.close()
        path = tmp_path / name / jr.META
        data = json.loads(path.read_text())
        if "sample_rate" in meta:
            data["format"]["sample_rate"] = 0
        else:
            data.update(meta)
        path.write_text(json.dumps(data))
    rows = journal_rows(tmp_path)
    assert [r[0] for r in rows] == ["bad-acked", "zero-rate", "good"]
    assert all("unreadable meta.json" in r[4] for r in rows[:2]) and rows[2][4] == "kept"
    with pytest.raises(Exception, match=r"unreadable meta\.json"):
        jr.find("zero-rate", tmp_path)


def test_a_fifo_or_device_is_not_called_empty_for_upload(tmp_path: Path) -> None:
    from gladia_cli.errors import UsageError
    from gladia_cli.jobs import check_audio_file

    fifo = tmp_path / "pipe.wav"
    os.mkfifo(fifo)
    for path in (fifo, Path("/dev/zero")):
        with pytest.raises(UsageError, match="not a regular file"):
            check_audio_file(path)


def test_a_file_name_that_is_not_utf8_uploads(api_env: GladiaEmulator, tmp_path: Path, capsys) -> None:
    from cli_runner import invoke

    api_env.prerecorded.polls_before_done = 0
    wav, _ = write_wav(tmp_path / "a.wav", 0.5)
    odd = Path(os.fsdecode(bytes(tmp_path) + b"/caf\xe9.wav"))  # Latin-1 bytes: no UTF-8 name
    os.rename(wav, odd)
    result = invoke(capsys, "transcribe", str(odd))
    assert result.code == 0, result.stderr
    assert "quick brown fox" in result.stdout


def _live_session(emulator: GladiaEmulator, seconds: float = 1.0, interval: float = 0.0):  # type: ignore[no-untyped-def]
    from sources import FMT, BytesSource

    from gladia_cli.api import GladiaApi
    from gladia_cli.live.connection import ReconnectPolicy
    from gladia_cli.live.session import LiveSession
    from gladia_cli.settings import Settings

    api = GladiaApi(Settings("test-key", emulator.base_url, None, "test"))
    created = api.init_live({"encoding": "wav/pcm", "sample_rate": 16000, "bit_depth": 16, "channels": 1})
    api.close()
    return LiveSession(
        session_id=created["id"],
        url=created["url"],
        source=BytesSource(b"\1\0" * int(16000 * seconds), interval=interval),
        fmt=FMT,
        policy=ReconnectPolicy(max_attempts=2, max_seconds=5),
    )


def _events_until_end(session) -> list:  # type: ignore[no-untyped-def]
    from gladia_cli.live.events import Ended

    session.start()
    events = []
    while not isinstance(event := session.events.get(timeout=60), Ended):
        events.append(event)
    session.join()
    return [*events, event]


def test_pings_are_answered_and_never_shown(emulator: GladiaEmulator) -> None:
    from gladia_cli.live.events import Ended, Notice

    emulator.pings_on_open = 3
    events = _events_until_end(_live_session(emulator, interval=0.05))  # paced: the pings come mid-stream
    assert not [e for e in events if isinstance(e, Notice) and "binary" in e.text]
    assert emulator.errors == []
    assert isinstance(events[-1], Ended) and events[-1].error is None


def test_a_message_over_the_bound_is_refused_before_it_is_read(emulator: GladiaEmulator, monkeypatch) -> None:
    from gladia_cli.live import connection
    from gladia_cli.live.events import Notice

    monkeypatch.setattr(connection, "MAX_MESSAGE_BYTES", 1024 * 1024)
    emulator.raw_text_frames = ['{"type": "transcript", "data": "' + "x" * (4 * 1024 * 1024) + '"}']
    events = _events_until_end(_live_session(emulator))
    notices = [e.text for e in events if isinstance(e, Notice)]
    assert any("refused a message from the server larger than" in text for text in notices), notices
