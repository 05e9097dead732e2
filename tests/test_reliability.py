"""Reliability: the CLI against a loopback Gladia that drops, refuses, closes, delays, replays and goes silent.

Every streamed run is checked the same way: the exit code, no final printed twice, and that Gladia got every byte
of the source exactly once and in order once resends are de-duplicated (`session.dedup_audio()`, see emulator.py).
The audio is random noise so that a resent overlap can only match one offset.

Most runs use a server slightly slower than the client (`message_delay`): the client has then sent everything before
an ack comes back, so which acks it saw before a fault, and hence what it resends, does not depend on thread timing.
Runs without it once hit two client bugs at random; those bugs have their own deterministic tests.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import wave
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
import requests
from cli_runner import Result, invoke, one_line_error
from emulator import GladiaEmulator
from emulator import LiveSession as EmulatedSession
from sources import CHUNK, FMT, RATE, BytesSource

from gladia_cli.api import GladiaApi
from gladia_cli.errors import ExitCode, NetworkError
from gladia_cli.live.events import Ended, Notice, Transcript
from gladia_cli.live.session import LiveSession, ReconnectPolicy
from gladia_cli.settings import Settings

KEY = "gk-reliability-7f3e9c1d5b-do-not-print"
FINALS = ["Hello world.", "This is the Gladia emulator.", "Goodbye."]
SLOW = 0.02  # message_delay that makes the client always ahead of the acks


# --- helpers ----------------------------------------------------------------------------------------------------------


def noise_wav(path: Path, seconds: float, seed: int = 0) -> tuple[Path, bytes]:
    """A mono 16 kHz 16-bit WAV of random noise; returns (path, its PCM bytes)."""
    samples = np.random.default_rng(seed).integers(-20000, 20000, int(seconds * RATE), dtype=np.int16)
    pcm = samples.astype("<i2").tobytes()
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(pcm)
    return path, pcm


def sha256(data: bytes | bytearray) -> str:
    return hashlib.sha256(bytes(data)).hexdigest()


def checked(result: Result) -> Result:
    """What holds for every run: the key is never printed, nor a traceback, nor a final twice."""
    assert KEY not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    finals = [line for line in result.stdout.splitlines() if line]
    assert len(finals) == len(set(finals)), f"a final was printed twice: {finals}"
    return result


def stream(capsys, wav: Path, *extra: str) -> Result:
    return checked(invoke(capsys, "transcribe", str(wav), "--realtime", "--speed", "0", *extra))


def assert_exact(session: EmulatedSession, pcm: bytes) -> None:
    """Every byte of the source reached Gladia exactly once, in order, after resends were de-duplicated; and no
    reconnection resent audio Gladia had acknowledged (the server would hold that stretch twice)."""
    assert b"".join(session.connection_streams) == bytes(session.audio)
    logical = session.dedup_audio()
    assert len(logical) == len(pcm), f"got {len(logical)} bytes of {len(pcm)} ({session.injected_faults})"
    assert sha256(logical) == sha256(pcm)
    assert sha256(session.logical_audio) == sha256(pcm)
    assert session.resend_mismatches == 0
    assert session.resent_after_ack == 0, (
        f"resent {session.resent_after_ack} acknowledged bytes (resends from {session.resend_offsets})"
    )


def wait_for(predicate: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


@pytest.fixture
def emu(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[GladiaEmulator]:
    """A started emulator that only accepts KEY, and the environment of a CLI run against it."""
    emulator = GladiaEmulator(api_keys={KEY}).start()
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("GLADIA_API_KEY", KEY)
    monkeypatch.setenv("GLADIA_API_URL", emulator.base_url)
    monkeypatch.delenv("GLADIA_REGION", raising=False)
    monkeypatch.delenv("GLADIA_DEBUG", raising=False)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    try:
        yield emulator
    finally:
        emulator.stop()
    assert not emulator.errors, emulator.errors


# --- the emulator's own fault knobs -----------------------------------------------------------------------------------


def test_dedup_audio_removes_resent_overlaps_and_detects_gaps() -> None:
    rng = np.random.default_rng(1)
    audio = rng.bytes(40000)
    session = EmulatedSession(id="s", token="t", url="u", config={}, settings=None, created_at="")  # type: ignore[arg-type]
    session.connection_streams = [bytearray(audio[:20000]), bytearray(audio[12800:30000]), bytearray(audio[30000:])]
    assert session.dedup_audio() == audio
    session.connection_streams = [bytearray(audio[:20000]), bytearray(audio[19990:])]  # a 10-byte overlap
    assert session.dedup_audio() == audio
    session.connection_streams = [bytearray(audio[:20000]), bytearray(audio[23200:])]  # a gap: audio lost
    assert len(session.dedup_audio()) == len(audio) - 3200
    corrupt = bytearray(audio[12800:30000])
    corrupt[5000] ^= 0xFF
    session.connection_streams = [bytearray(audio[:20000]), corrupt]  # the resent overlap differs
    with pytest.raises(AssertionError, match="differs"):
        session.dedup_audio()


def test_knobs_drop_close_and_refuse_at_the_protocol_level(emu: GladiaEmulator) -> None:
    import websocket

    emu.drop_after_bytes = [2 * CHUNK]
    emu.close_after_bytes = [(100 * CHUNK, 1011), (CHUNK, 1011)]  # one entry per connection, like drop_after_bytes
    emu.refuse_after_fault = 1
    created = requests.post(f"{emu.base_url}/v2/live", json={}, headers={"x-gladia-key": KEY}, timeout=5).json()
    session = emu.sessions[created["id"]]

    ws = websocket.create_connection(created["url"], timeout=5)
    ws.send_binary(b"\1" * CHUNK)
    assert json.loads(ws.recv())["data"]["byte_range"] == [0, CHUNK]
    ws.send_binary(b"\2" * CHUNK)  # crosses 2 chunks: aborted without an ack nor a close frame
    with pytest.raises((websocket.WebSocketConnectionClosedException, ConnectionError)):
        ws.recv()
    ws.close()

    with pytest.raises(websocket.WebSocketBadStatusException) as refused:  # refuse_after_fault
        websocket.create_connection(created["url"], timeout=5)
    assert refused.value.status_code == 503

    ws = websocket.create_connection(created["url"], timeout=5)  # close_after_bytes is popped by this connection
    ws.send_binary(b"\3" * CHUNK)
    opcode, data = ws.recv_data(control_frame=True)
    assert (opcode, int.from_bytes(data[:2], "big")) == (websocket.ABNF.OPCODE_CLOSE, 1011)
    ws.close()
    assert session.connections == 2 and session.refused_handshakes == 1
    assert [len(s) for s in session.connection_streams] == [2 * CHUNK, CHUNK]
    assert session.injected_faults == [
        f"connection 1: dropped after {2 * CHUNK} bytes",
        f"connection 2: closed 1011 after {CHUNK} bytes",
    ]
    assert emu.refuse_connections == 1  # the close added one more refusal


# --- 1-3: drops and retryable closes ----------------------------------------------------------------------------------


@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    ("knob", "faults"),
    [
        pytest.param("drop_after_bytes", [40000], id="drop-once"),
        pytest.param("close_after_bytes", [(40000, 1011)], id="close-1011"),
        pytest.param("close_after_bytes", [(40000, 4000)], id="close-4000"),
        pytest.param("drop_after_bytes", [12000, 12000, 12000], id="three-drops"),
        pytest.param("close_after_bytes", [(20000, 1011), (6400, 1011), (20000, 4500)], id="three-closes"),
    ],
)
@pytest.mark.slow  # seconds of its own: out of the inner loop
def test_connection_faults_resume_with_every_byte_once(
    emu: GladiaEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str], knob: str, faults: list
) -> None:
    wav, pcm = noise_wav(tmp_path / "n.wav", 3.5)
    emu.message_delay = SLOW
    setattr(emu, knob, list(faults))
    result = stream(capsys, wav)
    assert result.code == 0, result.stderr
    assert result.stdout.splitlines() == FINALS
    session = emu.only_session()
    assert session.connections == len(faults) + 1
    assert len(session.injected_faults) == len(faults)
    assert_exact(session, pcm)
    # stop_recording reached Gladia once: it is only resent on connections where it was not acknowledged.
    assert session.stop_count == 1
    assert result.stderr.count("reconnected; resending") == len(faults)


@pytest.mark.parametrize("run", range(4))
@pytest.mark.parametrize(
    ("knob", "faults"),
    [
        pytest.param("drop_after_bytes", [12000, 12000, 12000], id="three-drops"),
        pytest.param("close_after_bytes", [(20000, 1011), (6400, 1011)], id="two-closes"),
    ],
)
def test_connection_faults_with_a_fast_server(
    emu: GladiaEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str], knob: str, faults: list, run: int
) -> None:
    """No message_delay: acks race the resends, the case that once lost audio and finals at random."""
    wav, pcm = noise_wav(tmp_path / "n.wav", 3.5)
    setattr(emu, knob, list(faults))
    result = stream(capsys, wav)
    assert result.code == 0, result.stderr
    assert result.stdout.splitlines() == FINALS
    assert_exact(emu.only_session(), pcm)


# --- 4: refused reconnections -----------------------------------------------------------------------------------------


@pytest.mark.timeout(30)
def test_refused_reconnections_are_retried(
    emu: GladiaEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wav, pcm = noise_wav(tmp_path / "r.wav", 3.0)
    emu.message_delay = SLOW
    emu.drop_after_bytes = [30000]
    emu.refuse_after_fault = 2
    result = stream(capsys, wav, "--reconnect-attempts", "4")
    assert result.code == 0, result.stderr
    assert result.stdout.splitlines() == FINALS
    session = emu.only_session()
    assert (session.connections, session.refused_handshakes) == (2, 2)
    assert "Gladia is unavailable (it answered 503)" in result.stderr
    assert_exact(session, pcm)


@pytest.mark.timeout(30)
def test_reconnection_refused_more_than_the_attempts_is_exit_4(
    emu: GladiaEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wav, pcm = noise_wav(tmp_path / "r.wav", 3.0)
    emu.message_delay = SLOW
    emu.drop_after_bytes = [30000]
    emu.refuse_after_fault = 5
    started = time.monotonic()
    result = stream(capsys, wav, "--reconnect-attempts", "2")
    assert time.monotonic() - started < 15
    assert result.code == ExitCode.NETWORK, result.stderr
    session = emu.only_session()
    assert session.refused_handshakes == 2  # --reconnect-attempts 2: two reconnection attempts, no more
    error = one_line_error(result)
    assert session.id in error
    assert (
        "cannot reopen the live connection after 2 reconnection attempts: Gladia is unavailable (it answered 503)"
        in error
    )
    assert "reconnection attempt 2/2" in result.stderr and "3/" not in result.stderr
    match = re.search(r"(\d+\.\d) s of audio were not acknowledged by Gladia", result.stderr)
    assert match, result.stderr
    # It held what Gladia had not acknowledged: at least what it never received.
    assert float(match.group(1)) >= (len(pcm) - len(session.audio)) / FMT.bytes_per_second - 0.05


@pytest.mark.timeout(30)
def test_reconnect_attempts_0_gives_up_at_once_without_reconnecting(
    emu: GladiaEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wav, _ = noise_wav(tmp_path / "r.wav", 3.0)
    emu.message_delay = SLOW
    emu.drop_after_bytes = [30000]
    emu.refuse_after_fault = 5
    result = stream(capsys, wav, "--reconnect-attempts", "0")
    assert result.code == ExitCode.NETWORK, result.stderr
    session = emu.only_session()
    assert (session.connections, session.refused_handshakes) == (1, 0)
    assert "; reconnecting" not in result.stderr and "reconnection attempt" not in result.stderr
    error = one_line_error(result)
    assert "not reconnecting (--reconnect-attempts 0)" in error
    assert session.id in error


@pytest.mark.timeout(30)
def test_reconnection_attempts_are_numbered_out_of_the_flag_value(
    emu: GladiaEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The default 10 shows n/10 (not n/11), and the attempt that succeeds is within them."""
    wav, pcm = noise_wav(tmp_path / "r.wav", 3.0)
    emu.message_delay = SLOW
    emu.drop_after_bytes = [30000]
    emu.refuse_after_fault = 2
    result = stream(capsys, wav)
    assert result.code == 0, result.stderr
    assert emu.only_session().refused_handshakes == 2
    assert "reconnection attempt 2/10" in result.stderr and "reconnection attempt 3/10" in result.stderr
    assert "/11" not in result.stderr
    assert_exact(emu.only_session(), pcm)


@pytest.mark.timeout(30)
def test_one_reconnection_attempt_is_said_in_the_singular(
    emu: GladiaEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wav, _ = noise_wav(tmp_path / "r.wav", 3.0)
    emu.message_delay = SLOW
    emu.drop_after_bytes = [30000]
    emu.refuse_after_fault = 5
    result = stream(capsys, wav, "--reconnect-attempts", "1")
    assert result.code == ExitCode.NETWORK, result.stderr
    assert emu.only_session().refused_handshakes == 1
    error = one_line_error(result)
    assert error.count("after 1 reconnection attempt:") == 1, error
    assert "attempts" not in error


@pytest.mark.slow  # seconds of its own: out of the inner loop
@pytest.mark.timeout(30)
def test_giving_up_on_the_reconnect_timeout_says_so(
    emu: GladiaEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wav, _ = noise_wav(tmp_path / "r.wav", 3.0)
    emu.message_delay = SLOW
    emu.drop_after_bytes = [30000]
    emu.refuse_after_fault = 1000
    started = time.monotonic()
    result = stream(capsys, wav, "--reconnect-attempts", "50", "--reconnect-timeout", "1.5")
    assert time.monotonic() - started < 15
    assert result.code == ExitCode.NETWORK, result.stderr
    error = one_line_error(result)
    match = re.search(r"after (\d+) reconnection attempts? in \d+ s \(--reconnect-timeout\)", error)
    assert match, error
    assert 1 <= int(match.group(1)) < 50
    assert int(match.group(1)) == emu.only_session().refused_handshakes


@pytest.mark.timeout(30)
def test_first_connection_refused_counts_its_own_try_and_the_retries(
    emu: GladiaEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wav, _ = noise_wav(tmp_path / "r.wav", 1.0)
    emu.refuse_connections = 100
    result = stream(capsys, wav, "--reconnect-attempts", "2")
    assert result.code == ExitCode.NETWORK, result.stderr
    assert emu.only_session().refused_handshakes == 3  # the first try and its 2 retries
    assert "retry 2/2" in result.stderr and "3/" not in result.stderr
    assert (
        "cannot open the live connection after 3 attempts: Gladia is unavailable (it answered 503)"
        in one_line_error(result)
    )


@pytest.mark.timeout(30)
def test_a_silent_server_is_reported_as_not_acknowledging_not_as_not_receiving(
    emu: GladiaEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Gladia got every byte but said nothing: the client cannot know it was received, only that it was not acked."""
    import functools

    import gladia_cli.cli.live_request

    monkeypatch.setattr(
        gladia_cli.cli.live_request, "ReconnectPolicy", functools.partial(ReconnectPolicy, ack_timeout=0.5)
    )
    wav, pcm = noise_wav(tmp_path / "q.wav", 2.0)
    emu.silent = True
    result = stream(capsys, wav, "--reconnect-attempts", "1", "--finish-timeout", "30")
    assert result.code == ExitCode.NETWORK, result.stderr
    assert "accepted 2 connections but never answered" in one_line_error(result)
    assert "2.0 s of audio were not acknowledged by Gladia (they may not have reached it)" in result.stderr
    assert "never reached" not in result.stderr
    assert emu.only_session().connection_streams[0] == pcm  # it did reach Gladia


# --- 5: fatal closes --------------------------------------------------------------------------------------------------


@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    ("code", "exit_code"),
    [
        (4400, ExitCode.API),
        (4401, ExitCode.AUTH),
        (4403, ExitCode.AUTH),
        (4499, ExitCode.API),
        (1001, ExitCode.NETWORK),
    ],
)
def test_fatal_close_is_not_retried(
    emu: GladiaEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str], code: int, exit_code: int
) -> None:
    wav, _ = noise_wav(tmp_path / "f.wav", 2.0)
    emu.close_after_bytes = [(CHUNK * 3, code)]
    result = stream(capsys, wav)
    assert result.code == exit_code, result.stderr
    session = emu.only_session()
    assert session.connections == 1
    error = one_line_error(result)
    assert f"code {code}" in error
    assert session.id in error  # every fatal close, not just 1001: `gladia result ID` may still have the result
    assert "reconnect" not in result.stderr


# --- 6: slow and missing acks -----------------------------------------------------------------------------------------


@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    "knobs",
    [
        pytest.param({"ack_delay": 0.3}, id="acks-delayed"),
        pytest.param({"drop_acks_every": 3}, id="every-3rd-ack-missing"),
        pytest.param({"drop_acks_every": 3, "drop_after_bytes": [30000], "message_delay": SLOW}, id="missing+drop"),
        pytest.param({"ack_delay": 0.2, "drop_after_bytes": [30000, 30000]}, id="delayed+drops"),
    ],
)
def test_late_or_missing_acks(
    emu: GladiaEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str], knobs: dict
) -> None:
    wav, pcm = noise_wav(tmp_path / "a.wav", 3.0)
    for name, value in knobs.items():
        setattr(emu, name, value)
    result = stream(capsys, wav)
    assert result.code == 0, result.stderr
    assert result.stdout.splitlines() == FINALS
    assert_exact(emu.only_session(), pcm)


# --- 7: replayed finals -----------------------------------------------------------------------------------------------


@pytest.mark.timeout(30)
@pytest.mark.parametrize("knob", ["resend_finals_on_reconnect", "reid_finals_on_reconnect"])
def test_finals_replayed_after_a_reconnect_are_printed_once(
    emu: GladiaEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str], knob
) -> None:
    wav, pcm = noise_wav(tmp_path / "p.wav", 3.5)
    emu.message_delay = SLOW
    emu.drop_after_bytes = [75000, 9600]  # after two utterances; then again, to replay twice
    setattr(emu, knob, True)
    result = stream(capsys, wav)
    assert result.code == 0, result.stderr
    assert result.stdout.splitlines() == FINALS
    session = emu.only_session()
    sent = [m["data"]["id"] for m in session.messages_of_type("transcript") if m["data"]["is_final"]]
    assert len(sent) == 3 + 2 * 2  # two finals, replayed on each of the two reconnections
    assert len(set(sent)) == (7 if knob == "reid_finals_on_reconnect" else 3)
    assert_exact(session, pcm)


@pytest.mark.timeout(30)
def test_jsonl_after_a_drop_has_each_final_once_per_message(
    emu: GladiaEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wav, pcm = noise_wav(tmp_path / "j.wav", 3.0)
    emu.message_delay = SLOW
    emu.drop_after_bytes = [40000]
    result = stream(capsys, wav, "-o", "jsonl")
    assert result.code == 0, result.stderr
    finals = [json.loads(line) for line in result.stdout.splitlines()]
    ids = [m["data"]["id"] for m in finals if m.get("type") == "transcript" and m["data"].get("is_final")]
    assert len(ids) == len(set(ids)) == 3
    assert_exact(emu.only_session(), pcm)


# --- 8: POST /v2/live failures ----------------------------------------------------------------------------------------


@pytest.mark.timeout(30)
def test_init_429_then_500_is_retried(emu: GladiaEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    wav, pcm = noise_wav(tmp_path / "i.wav", 1.5)
    emu.init_failures = [429, 500]
    result = stream(capsys, wav)
    assert result.code == 0, result.stderr
    assert [r.status for r in emu.init_requests] == [429, 500, 201]
    assert_exact(emu.only_session(), pcm)


@pytest.mark.timeout(30)
def test_init_500_after_creating_is_retried_once_and_a_refused_slot_says_why(
    emu: GladiaEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A 500 may come after Gladia created the session: one more try at most; when the plan's one slot is then
    taken by the first attempt's session, the line says so and how to end it."""
    wav, _ = noise_wav(tmp_path / "i.wav", 1.0)
    emu.create_then_fail = 1
    emu.max_concurrent_sessions = 1
    result = stream(capsys, wav)
    assert result.code == ExitCode.API
    assert [r.status for r in emu.init_requests] == [500, 429]
    line = one_line_error(result)
    assert "Gladia refused the session (429" in line and "a first attempt answered 500" in line
    assert "gladia list --kind live" in line and "gladia delete ID" in line


@pytest.mark.timeout(30)
def test_init_5xx_that_may_have_created_a_session_is_not_retried_twice(
    emu: GladiaEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wav, _ = noise_wav(tmp_path / "i.wav", 1.0)
    emu.init_failures = [502, 504]
    result = stream(capsys, wav)
    assert result.code == ExitCode.API
    assert [r.status for r in emu.init_requests] == [502, 504]
    emu.init_failures = [408]
    again = stream(capsys, wav)
    assert again.code == 0, again.stderr
    assert [r.status for r in emu.init_requests][2:] == [408, 201]


@pytest.mark.slow  # seconds of its own: out of the inner loop
@pytest.mark.timeout(30)
def test_init_429_forever_is_exit_5_with_a_rate_limit_line(
    emu: GladiaEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wav, _ = noise_wav(tmp_path / "i.wav", 1.0)
    emu.init_failures = [429] * 10
    result = stream(capsys, wav)
    assert result.code == ExitCode.API
    assert "rate limit" in one_line_error(result)
    assert 1 < len(emu.init_requests) < 10
    assert not emu.sessions


@pytest.mark.timeout(30)
def test_init_422_is_not_retried(emu: GladiaEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    wav, _ = noise_wav(tmp_path / "i.wav", 1.0)
    emu.init_failures = [422, 201]
    result = stream(capsys, wav)
    assert result.code == ExitCode.API
    assert "422" in one_line_error(result)
    assert len(emu.init_requests) == 1


# --- 9-10: slow, silent and hanging servers ---------------------------------------------------------------------------


@pytest.mark.timeout(30)
def test_slow_server(emu: GladiaEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    wav, pcm = noise_wav(tmp_path / "s.wav", 2.0)
    emu.message_delay = 0.05
    result = stream(capsys, wav)
    assert result.code == 0, result.stderr
    assert result.stdout.splitlines() == FINALS
    assert_exact(emu.only_session(), pcm)


@pytest.mark.timeout(30)
def test_silent_server_ends_at_the_finish_timeout(
    emu: GladiaEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wav, pcm = noise_wav(tmp_path / "q.wav", 1.0)
    emu.silent = True
    started = time.monotonic()
    result = stream(capsys, wav, "--finish-timeout", "1")
    assert time.monotonic() - started < 10
    assert result.code == ExitCode.NETWORK
    assert "did not finish within 1 s" in one_line_error(result)
    session = emu.only_session()
    assert session.server_messages == []
    assert bytes(session.audio) == pcm


def run_library_session(emu: GladiaEmulator, source: BytesSource, policy: ReconnectPolicy, limit: float) -> list:
    """Create a session with plain `requests`, run a LiveSession on it; every event until Ended or `limit` s."""
    created = requests.post(f"{emu.base_url}/v2/live", json={}, headers={"x-gladia-key": KEY}, timeout=5).json()
    session = LiveSession(session_id=created["id"], url=created["url"], source=source, fmt=FMT, policy=policy)
    session.start()
    events: list = []
    deadline = time.monotonic() + limit
    try:
        while time.monotonic() < deadline:
            try:
                event = session.events.get(timeout=0.1)
            except Exception:
                continue
            events.append(event)
            if isinstance(event, Ended):
                break
    finally:
        session.abort()
        session.join(0.5)  # a hung session must not slow the suite down
    return events


@pytest.mark.slow  # seconds of its own: out of the inner loop
@pytest.mark.timeout(30)
def test_ack_timeout_reconnects_to_a_server_that_stopped_answering(emu: GladiaEmulator) -> None:
    emu.silent = True
    policy = ReconnectPolicy(ack_timeout=0.5, max_attempts=3, max_seconds=5, base_delay=0.05)
    pcm = np.random.default_rng(6).bytes(CHUNK * 40)
    source = BytesSource(pcm, interval=0.05)  # 4 s of audio at twice real time
    created = requests.post(f"{emu.base_url}/v2/live", json={}, headers={"x-gladia-key": KEY}, timeout=5).json()
    session = LiveSession(session_id=created["id"], url=created["url"], source=source, fmt=FMT, policy=policy)
    events: list = []
    session.start()
    try:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not any(isinstance(e, Ended) for e in events):
            try:
                events.append(session.events.get(timeout=0.05))
            except Exception:
                continue
            gave_up = any(isinstance(e, Notice) and "Gladia sent nothing for" in e.text for e in events)
            if gave_up and emu.sessions and emu.only_session().connections >= 2:
                # Gladia answers again, on the new connection: acks on the one left behind would never arrive.
                emu.silent = False
    finally:
        session.abort()
        session.join(0.5)  # a hung session must not slow the suite down
    notices = [e.text for e in events if isinstance(e, Notice)]
    assert any("Gladia sent nothing for" in n for n in notices), notices
    emulated = emu.only_session()
    assert emulated.connections >= 2, f"never reconnected after the ack timeout: {notices}"
    ended = [e for e in events if isinstance(e, Ended)]
    assert ended and ended[0].error is None
    assert_exact(emulated, pcm)


@pytest.mark.timeout(30)
def test_silent_server_ends_the_library_session_with_a_network_error(emu: GladiaEmulator) -> None:
    emu.silent = True
    policy = ReconnectPolicy(ack_timeout=0.5, max_attempts=2, max_seconds=2, base_delay=0.05)
    events = run_library_session(emu, BytesSource(np.random.default_rng(3).bytes(CHUNK * 20)), policy, 4)
    ended = [e for e in events if isinstance(e, Ended)]
    assert ended, "no Ended within 4 s: the session hangs on a silent server"
    assert isinstance(ended[0].error, NetworkError)


@pytest.mark.timeout(30)
def test_silent_server_while_streaming_is_given_up_after_the_attempts(emu: GladiaEmulator) -> None:
    emu.silent = True
    policy = ReconnectPolicy(ack_timeout=0.3, max_attempts=2, max_seconds=1, base_delay=0.05)
    source = BytesSource(np.random.default_rng(4).bytes(CHUNK * 200), interval=0.05)  # 20 s of audio, 2x real time
    events = run_library_session(emu, source, policy, 3)
    ended = [e for e in events if isinstance(e, Ended)]
    assert ended, f"no Ended within 3 s ({emu.only_session().connections} connections to a server that never answers)"
    assert isinstance(ended[0].error, NetworkError)


@pytest.mark.slow  # seconds of its own: out of the inner loop
@pytest.mark.timeout(30)
def test_rest_call_to_a_hanging_server_times_out_with_a_network_error(emu: GladiaEmulator) -> None:
    emu.http_hang_seconds = 3
    settings = Settings(api_key=KEY, api_url=emu.base_url, region=None, key_source="test")
    api = GladiaApi(settings, sleep=lambda _: None)
    started = time.monotonic()
    with pytest.raises(NetworkError, match=r"did not answer within 0\.5 s") as caught:
        api.request("GET", "/v2/live", timeout=0.5)
    assert time.monotonic() - started < 2.5 + 0.5
    assert KEY not in str(caught.value)
    with pytest.raises(NetworkError):  # creation is not retried on a timeout: it may have happened
        api.request("POST", "/v2/live", json={}, timeout=0.5, idempotent=False)
    api.close()
    assert emu.wait_until(lambda: len(emu.init_requests) == 1, timeout=5)


@pytest.mark.slow  # seconds of its own: out of the inner loop
@pytest.mark.timeout(30)
def test_result_command_on_a_hanging_server_is_exit_4(
    emu: GladiaEmulator, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    emu.http_hang_seconds = 3
    defaults = dict(GladiaApi.request.__kwdefaults__ or {}, timeout=0.3)  # the real 10 s would make this slow
    monkeypatch.setattr(GladiaApi.request, "__kwdefaults__", defaults)
    started = time.monotonic()
    result = checked(invoke(capsys, "result", "00000000-0000-0000-0000-000000000000"))
    assert time.monotonic() - started < 8
    assert result.code == ExitCode.NETWORK
    assert "did not answer" in one_line_error(result)


# --- 11-12: what a killed process leaves behind -----------------------------------------------------------------------


def env_for(emu: GladiaEmulator, home: Path) -> dict[str, str]:
    return {
        **os.environ,
        "GLADIA_API_KEY": KEY,
        "GLADIA_API_URL": emu.base_url,
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
    }


def start_cli(args: list[str], emu: GladiaEmulator, home: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "gladia_cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env=env_for(emu, home),
    )


@pytest.mark.timeout(30)
@pytest.mark.parametrize("output", ["text", "jsonl"])
def test_output_file_is_refused_when_it_exists_and_replaced_with_force(
    emu: GladiaEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str], output: str
) -> None:
    """One rule for every output: an existing file is never appended to (two SRTs in one file) nor overwritten
    unasked; --force replaces it."""
    wav, _ = noise_wav(tmp_path / "o.wav", 2.0)
    target = tmp_path / "out" / "finals.txt"
    target.parent.mkdir()
    first = stream(capsys, wav, "-o", output, "--output-file", str(target))
    assert first.code == 0, first.stderr
    kept = target.read_text(encoding="utf-8")
    sessions = len(emu.init_requests)
    again = stream(capsys, wav, "-o", output, "--output-file", str(target))
    assert again.code == 2 and "already exists; add --force" in again.stderr
    assert len(emu.init_requests) == sessions  # refused before any session
    assert target.read_text(encoding="utf-8") == kept
    forced = stream(capsys, wav, "-o", output, "--output-file", str(target), "--force")
    assert forced.code == 0, forced.stderr
    lines = target.read_text(encoding="utf-8").splitlines()
    assert lines == forced.stdout.splitlines()
    if output == "text":
        assert lines == FINALS
    else:
        finals = [json.loads(line) for line in lines if '"is_final": true' in line or '"is_final":true' in line]
        assert len(finals) == 3


@pytest.mark.timeout(40)
def test_killed_process_leaves_the_finals_so_far_in_the_output_file(emu: GladiaEmulator, tmp_path: Path) -> None:
    wav, _ = noise_wav(tmp_path / "k.wav", 20.0)
    target = tmp_path / "finals.txt"
    proc = start_cli(
        ["transcribe", str(wav), "--realtime", "--speed", "1", "--output-file", str(target)], emu, tmp_path
    )
    try:
        assert wait_for(lambda: target.exists() and target.read_text().count("\n") >= 1, 15), "no final within 15 s"
        proc.send_signal(signal.SIGKILL)
        out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    assert KEY not in out + err
    text = target.read_text(encoding="utf-8")
    assert text.endswith("\n")
    lines = text.splitlines()
    assert 1 <= len(lines) <= 3 and lines == FINALS[: len(lines)]


@pytest.mark.slow  # seconds of its own: out of the inner loop
@pytest.mark.timeout(40)
def test_killed_process_leaves_a_valid_record_wav(emu: GladiaEmulator, tmp_path: Path) -> None:
    wav, pcm = noise_wav(tmp_path / "k.wav", 20.0)
    record = tmp_path / "rec.wav"
    proc = start_cli(["transcribe", str(wav), "--realtime", "--speed", "1", "--record", str(record)], emu, tmp_path)
    try:
        assert wait_for(lambda: any(len(s.audio) >= 1.5 * RATE * 2 for s in list(emu.sessions.values())), 15)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    size = record.stat().st_size
    raw = record.read_bytes()
    riff_size = int.from_bytes(raw[4:8], "little")
    data_size = int.from_bytes(raw[40:44], "little")
    assert raw[:4] == b"RIFF" and raw[36:40] == b"data"
    # Sizes are rewritten after each chunk: a kill between the data and the header loses at most one chunk's count.
    assert data_size <= size - 44 <= data_size + CHUNK
    assert riff_size == data_size + 36
    with wave.open(str(record), "rb") as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, RATE)
        frames = w.readframes(w.getnframes())
    assert len(frames) >= 1.5 * RATE * 2
    assert frames == pcm[: len(frames)]


def test_record_to_an_existing_file_is_a_usage_error_before_any_request(
    emu: GladiaEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wav, _ = noise_wav(tmp_path / "e.wav", 1.0)
    existing = tmp_path / "exists.wav"
    existing.write_bytes(b"precious")
    result = stream(capsys, wav, "--record", str(existing))
    assert result.code == ExitCode.USAGE
    assert "already exists" in one_line_error(result)
    assert existing.read_bytes() == b"precious"
    assert emu.http_requests == [] and not emu.init_requests


# --- 13: bounded memory while disconnected ----------------------------------------------------------------------------


@pytest.mark.timeout(30)
def test_a_file_waits_for_gladia_instead_of_dropping_audio(
    emu: GladiaEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A file, unlike a microphone, can wait: while Gladia cannot be reached nothing is dropped, memory stays bound."""
    wav, _ = noise_wav(tmp_path / "b.wav", 5.0)
    emu.drop_after_bytes = [CHUNK * 3]
    emu.refuse_after_fault = 1000
    args = ("--buffer-seconds", "1", "--reconnect-attempts", "3", "--reconnect-timeout", "2")
    started = time.monotonic()
    result = stream(capsys, wav, *args)
    assert time.monotonic() - started < 15
    assert result.code == ExitCode.NETWORK, result.stderr
    assert "dropped" not in result.stderr
    assert emu.only_session().id in one_line_error(result)
    # What Gladia never acknowledged is reported, and it is at most the buffer.
    match = re.search(r"(\d+\.\d) s of audio were not acknowledged by Gladia", result.stderr)
    assert match and 0 < float(match.group(1)) <= 1.0


def test_speed_0_delivers_every_byte_of_a_file_longer_than_the_buffer(
    emu: GladiaEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Reading a file is faster than sending it: the buffer's bound must make the reader wait, never drop."""
    wav, pcm = noise_wav(tmp_path / "long.wav", 8.0)
    emu.ack_delay = 0.01
    result = stream(capsys, wav, "--buffer-seconds", "1")
    assert result.code == 0, result.stderr
    assert "dropped" not in result.stderr
    assert bytes(emu.only_session().audio) == pcm


@pytest.mark.timeout(30)
def test_audio_buffer_holds_at_most_its_bound_while_disconnected(emu: GladiaEmulator) -> None:
    emu.refuse_connections = 1000  # never connected at all
    policy = ReconnectPolicy(max_attempts=3, max_seconds=2, base_delay=0.2)
    source = BytesSource(np.random.default_rng(5).bytes(5 * FMT.bytes_per_second), interval=0.002)
    created = requests.post(f"{emu.base_url}/v2/live", json={}, headers={"x-gladia-key": KEY}, timeout=5).json()
    session = LiveSession(
        session_id=created["id"], url=created["url"], source=source, fmt=FMT, policy=policy, buffer_seconds=1
    )
    bound = FMT.bytes_per_second  # buffer_seconds=1
    held: list[int] = []
    events: list = []
    session.start()
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not any(isinstance(e, Ended) for e in events):
            held.append(session._buffer.held_bytes)
            while not session.events.empty():
                events.append(session.events.get())
            time.sleep(0.005)
    finally:
        session.abort()
        session.join(0.5)  # a hung session must not slow the suite down
    assert max(held) <= bound
    assert max(held) >= bound - CHUNK  # it did fill up
    assert any(isinstance(e, Notice) and "dropped the oldest" in e.text for e in events)
    ended = [e for e in events if isinstance(e, Ended)]
    assert ended and isinstance(ended[0].error, NetworkError)
    assert emu.only_session().connections == 0


# --- the API key is never shown ---------------------------------------------------------------------------------------


@pytest.mark.slow  # seconds of its own: out of the inner loop
@pytest.mark.timeout(40)
def test_api_key_is_never_printed_even_with_debug(
    emu: GladiaEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch
) -> None:
    monkeypatch.delenv("GLADIA_API_KEY")
    wav, _ = noise_wav(tmp_path / "key.wav", 1.0)
    runs: list[Result] = []
    key = ("--api-key", KEY)
    emu.init_failures = [429] * 10
    runs.append(stream(capsys, wav, *key))
    emu.init_failures = [401]
    runs.append(stream(capsys, wav, *key))
    emu.init_failures = []
    emu.close_after_bytes = [(CHUNK, 4401)]
    runs.append(stream(capsys, wav, *key))
    emu.drop_after_bytes = [CHUNK]
    emu.refuse_after_fault = 10
    runs.append(stream(capsys, wav, *key, "--reconnect-attempts", "1", "-o", "jsonl"))
    emu.refuse_after_fault = emu.refuse_connections = 0
    emu.close_after_bytes = [(CHUNK, 1001)]
    runs.append(invoke(capsys, "--debug", "transcribe", str(wav), "--realtime", "--speed", "0", *key))  # traceback
    runs.append(checked(invoke(capsys, "result", "nope", *key)))
    assert [r.code for r in runs] == [5, 3, 3, 4, 4, 5]
    tokens = [s.token for s in emu.sessions.values()]
    for run in runs:
        assert KEY not in run.stdout + run.stderr
        assert not any(token in run.stdout + run.stderr for token in tokens)  # the WebSocket url is a credential


# --- bugs found: deterministic reproductions --------------------------------------------------------------------------


@pytest.mark.timeout(30)
def test_acks_after_a_resend_do_not_make_the_client_forget_unsent_audio(
    emu: GladiaEmulator, tmp_path: Path, capsys
) -> None:
    wav, pcm = noise_wav(tmp_path / "skew.wav", 1.5)
    emu.message_delay = 0.05  # the client has sent everything before an ack comes back: no timing dependence
    emu.drop_acks_every = 4  # the 4th ack is lost: the client resends 2 frames Gladia already has
    emu.close_after_bytes = [(5 * CHUNK, 1011), (3 * CHUNK, 1011)]
    result = stream(capsys, wav)
    assert result.code == 0, result.stderr
    session = emu.only_session()
    assert session.connections == 3
    assert_exact(session, pcm)


class ResetSocket:
    """Just enough of websocket-client's WebSocket for one connection that Gladia resets.

    Gladia's last messages (a final) have arrived in the socket when the reset happens. The sender notices the reset
    first (its send fails); the receiver reads a moment later. Like the real class, `shutdown()` closes the socket:
    a `recv` after it raises, whatever the kernel still held for us.
    """

    def __init__(self, messages: list[dict]) -> None:
        self._frames = [json.dumps(m).encode() for m in messages]
        self._send_failed = threading.Event()
        self._shut = threading.Event()

    def settimeout(self, timeout: float | None) -> None:
        pass

    def send_bytes(self, data: bytes) -> None:
        self._send_failed.set()
        raise ConnectionResetError(104, "Connection reset by peer")

    def send(self, data: str) -> None:
        self.send_bytes(data.encode())

    def send_close(self, *args: object, **kwargs: object) -> None:
        pass

    def recv_data_frame(self, control_frame: bool = False) -> tuple[int, object]:
        import websocket

        self._send_failed.wait(5)
        self._shut.wait(0.3)  # the receiver is a moment behind the sender
        if self._shut.is_set():
            raise websocket.WebSocketConnectionClosedException("socket is already closed.")
        if not self._frames:
            raise ConnectionResetError(104, "Connection reset by peer")
        return websocket.ABNF.OPCODE_TEXT, websocket.ABNF(opcode=websocket.ABNF.OPCODE_TEXT, data=self._frames.pop(0))

    def shutdown(self) -> None:
        self._shut.set()


@pytest.mark.timeout(30)
def test_a_final_delivered_before_a_reset_is_not_thrown_away(monkeypatch: pytest.MonkeyPatch) -> None:
    import websocket

    final = {
        "type": "transcript",
        "session_id": "s",
        "created_at": "2026-01-01T00:00:00.000Z",
        "data": {
            "id": "00_00000000",
            "is_final": True,
            "utterance": {"text": " Hello world.", "start": 0.1, "end": 0.9, "channel": 0, "language": "en"},
        },
    }
    sockets = [ResetSocket([final])]

    def create_connection(url: str, **kwargs: object) -> ResetSocket:
        if sockets:
            return sockets.pop(0)
        raise ConnectionRefusedError(111, "Connection refused")  # the reconnection fails: the session ends

    monkeypatch.setattr(websocket, "create_connection", create_connection)
    policy = ReconnectPolicy(max_attempts=1, max_seconds=1)
    source = BytesSource(np.random.default_rng(7).bytes(CHUNK * 5))
    session = LiveSession(session_id="s", url="ws://127.0.0.1:9/x", source=source, fmt=FMT, policy=policy)
    session.start()
    events: list = []
    try:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not any(isinstance(e, Ended) for e in events):
            try:
                events.append(session.events.get(timeout=0.05))
            except Exception:
                continue
    finally:
        session.abort()
        session.join(0.5)  # a hung session must not slow the suite down
    assert any(isinstance(e, Ended) for e in events)
    texts = [e.text for e in events if isinstance(e, Transcript) and e.is_final]
    assert texts == ["Hello world."]


def test_a_final_lost_in_a_reconnection_is_recovered_from_the_result(
    emu: GladiaEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wav, pcm = noise_wav(tmp_path / "n.wav", 3.5)
    emu.message_delay = SLOW
    emu.drop_after_bytes = [20000]
    emu.lost_finals = {1}  # the server says it, the client never hears it
    result = stream(capsys, wav)
    assert result.code == 0, result.stderr
    assert sorted(result.stdout.splitlines()) == sorted(FINALS)  # each once, the lost one recovered
    assert "did not arrive during a reconnection" in result.stderr
    assert_exact(emu.only_session(), pcm)


def test_no_recovery_lookup_without_a_reconnection(
    emu: GladiaEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wav, _ = noise_wav(tmp_path / "n.wav", 2.0)
    result = stream(capsys, wav)
    assert result.code == 0
    assert ("GET", f"/v2/live/{emu.only_session().id}") not in emu.http_requests


# --- protocol fidelity: acks and stops as Gladia's sources describe them ----------------------------------------------


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    ("knob", "faults"),
    [
        pytest.param("drop_after_bytes", [40000, 40000], id="two-drops"),
        pytest.param("close_after_bytes", [(40000, 1011), (40000, 1011)], id="two-closes"),
    ],
)
def test_inclusive_byte_ranges_resume_at_the_exact_byte(
    emu: GladiaEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str], knob: str, faults: list
) -> None:
    """asyncapi.yaml's byte_range [0, 4095] is inclusive: read as the SDKs' exclusive end, every resume resent a
    byte Gladia had acknowledged (and split the sample it belongs to)."""
    wav, pcm = noise_wav(tmp_path / "i.wav", 3.5)  # sent in 1 s frames: one ack per connection before its fault
    emu.message_delay = SLOW
    emu.inclusive_acks = True
    setattr(emu, knob, list(faults))
    result = stream(capsys, wav)
    assert result.code == 0, result.stderr
    assert result.stdout.splitlines() == FINALS
    session = emu.only_session()
    assert session.connections == len(faults) + 1
    assert_exact(session, pcm)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("inclusive", [False, True], ids=["half-open", "inclusive"])
def test_acks_skipped_after_a_reconnection_are_covered_by_later_ones(
    emu: GladiaEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str], inclusive: bool
) -> None:
    """Gladia does not acknowledge the first resent frames but does acknowledge later ones: their byte_range end is
    the authority. A skew learnt from "the first ack on the connection" made the client resend acknowledged audio."""
    wav, pcm = noise_wav(tmp_path / "k.wav", 6.0)  # sent in 1 s frames of 32000 bytes
    emu.message_delay = SLOW
    emu.inclusive_acks = inclusive
    emu.skip_first_acks_on_reconnect = 2
    # 1: frame 1 acknowledged, closed on frame 2. 2: resends from 32000; frames 2 and 3 not acknowledged, frame 4
    # is ([96000, 128000)); closed on frame 5. 3: must resend from 128000, not from 64000.
    emu.close_after_bytes = [(40000, 1011), (120000, 1011)]
    result = stream(capsys, wav)
    assert result.code == 0, result.stderr
    assert result.stdout.splitlines() == FINALS
    session = emu.only_session()
    assert session.connections == 3 and session.acks_skipped == 4
    assert session.resend_offsets == [32000, 128000]
    assert_exact(session, pcm)


@pytest.mark.timeout(60)
def test_one_byte_frames_learn_the_convention_of_the_byte_ranges(emu: GladiaEmulator) -> None:
    """8-bit mono (A-law): every offset is a whole sample, so the end's parity cannot tell an inclusive range."""
    from gladia_cli.audio.format import PcmFormat

    fmt = PcmFormat(sample_rate=8000, channels=1, bit_depth=8, encoding="wav/alaw")
    body = {"encoding": "wav/alaw", "bit_depth": 8, "sample_rate": 8000}
    for inclusive in (True, False):
        emu.inclusive_acks = inclusive
        emu.message_delay = SLOW
        emu.drop_after_bytes = [9000, 9000]
        audio = np.random.default_rng(11).bytes(CHUNK * 8)
        created = requests.post(f"{emu.base_url}/v2/live", json=body, headers={"x-gladia-key": KEY}, timeout=5).json()
        policy = ReconnectPolicy(base_delay=0.05)
        live = LiveSession(
            session_id=created["id"], url=created["url"], source=BytesSource(audio), fmt=fmt, policy=policy
        )
        events = _run(live, 20)
        ended = [e for e in events if isinstance(e, Ended)]
        assert ended and ended[0].error is None, events
        session = emu.sessions[created["id"]]
        assert session.connections == 3
        assert_exact(session, audio)


def _run(live: LiveSession, limit: float) -> list:
    """Run a library session to its end (or `limit` s); every event."""
    events: list = []
    live.start()
    deadline = time.monotonic() + limit
    try:
        while time.monotonic() < deadline and not any(isinstance(e, Ended) for e in events):
            try:
                events.append(live.events.get(timeout=0.05))
            except Exception:
                continue
    finally:
        live.abort()
        live.join(0.5)
    return events


def _library_session(emu: GladiaEmulator, audio: bytes, policy: ReconnectPolicy, limit: float = 20) -> list:
    created = requests.post(f"{emu.base_url}/v2/live", json={}, headers={"x-gladia-key": KEY}, timeout=5).json()
    live = LiveSession(
        session_id=created["id"], url=created["url"], source=BytesSource(audio, interval=0.01), fmt=FMT, policy=policy
    )
    return _run(live, limit)


QUICK = ReconnectPolicy(ack_timeout=0.5, base_delay=0.05, max_delay=0.1)


@pytest.mark.slow  # seconds of its own: out of the inner loop
@pytest.mark.timeout(60)
@pytest.mark.parametrize("asyncapi", [False, True], ids=["openapi-refusal", "asyncapi-refusal"])
def test_a_stop_refused_as_already_stopped_is_taken_not_resent_forever(emu: GladiaEmulator, asyncapi: bool) -> None:
    """The link drops after Gladia took the stop but before its ack; the stop resent on the new connection is refused
    409 "Recording already stopped". That is the stop done: quiet post-processing is not a dead link."""
    emu.drop_at_stop = 1
    emu.asyncapi_refusals = asyncapi
    emu.post_processing_delay = 2.0  # four ack timeouts of silence
    audio = np.random.default_rng(12).bytes(CHUNK * 10)
    events = _library_session(emu, audio, QUICK)
    notices = [e.text for e in events if isinstance(e, Notice)]
    ended = [e for e in events if isinstance(e, Ended)]
    assert ended and ended[0].error is None, notices
    assert ended[0].final_result is not None
    session = emu.only_session()
    assert (session.connections, session.stop_count) == (2, 2), notices
    assert not any("sent nothing" in n or "did not acknowledge" in n for n in notices), notices
    assert_exact(session, audio)


@pytest.mark.slow  # seconds of its own: out of the inner loop
@pytest.mark.timeout(60)
def test_a_drop_while_gladia_post_processes_reconnects_once_and_resends_nothing(emu: GladiaEmulator) -> None:
    emu.drops_in_post_processing = 1
    emu.post_processing_delay = 1.5  # silence after the reconnection: three ack timeouts
    audio = np.random.default_rng(13).bytes(CHUNK * 10)
    events = _library_session(emu, audio, QUICK)
    notices = [e.text for e in events if isinstance(e, Notice)]
    ended = [e for e in events if isinstance(e, Ended)]
    assert ended and ended[0].error is None, notices
    assert ended[0].final_result is not None
    session = emu.only_session()
    assert (session.connections, session.stop_count) == (2, 1), notices
    assert len(session.connection_streams[1]) == 0  # no audio resent after the stop was taken
    assert_exact(session, audio)


@pytest.mark.timeout(60)
def test_a_second_drop_while_gladia_post_processes_ends_the_session(emu: GladiaEmulator) -> None:
    emu.drops_in_post_processing = 2
    emu.post_processing_delay = 1.0
    events = _library_session(emu, np.random.default_rng(14).bytes(CHUNK * 10), QUICK)
    ended = [e for e in events if isinstance(e, Ended)]
    assert ended and isinstance(ended[0].error, NetworkError)
    assert "post-processing" in ended[0].error.message
    session = emu.only_session()
    assert (session.connections, session.stop_count) == (2, 1)
    assert len(session.connection_streams[1]) == 0


@pytest.mark.timeout(60)
def test_any_other_refused_ack_is_said_with_gladias_message(emu: GladiaEmulator) -> None:
    refusal = {"type": "stop_recording", "acknowledged": False, "data": None, "error": {"message": "Session is busy"}}
    emu.extra_messages = [refusal]
    events = _library_session(emu, np.random.default_rng(15).bytes(CHUNK * 5), QUICK)
    notices = [e.text for e in events if isinstance(e, Notice)]
    assert "Gladia did not acknowledge stop_recording: Session is busy" in notices
    ended = [e for e in events if isinstance(e, Ended)]
    assert ended and ended[0].error is None


@pytest.mark.timeout(60)
@pytest.mark.parametrize("lost", [{"post_summarization"}, {"post_summarization", "post_final_transcript"}])
def test_a_summary_lost_with_the_link_comes_from_the_sessions_job(
    emu: GladiaEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str], lost: set[str]
) -> None:
    """The link drops where post_summarization (and post_final_transcript) would have come: after the reconnection
    the runner fetches GET /v2/live/:id and prints the summary from it, as if the message had arrived."""
    wav, _ = noise_wav(tmp_path / "s.wav", 2.0)
    emu.drop_instead_of = lost
    result = stream(capsys, wav, "--summarize")
    assert result.code == 0, result.stderr
    session = emu.only_session()
    assert session.connections == 2
    assert not any(m.get("type") in lost for m in session.server_messages)  # never sent: lost with the link
    summary = session.result["summarization"]["results"]
    lines = result.stdout.splitlines()
    assert lines[-1] == summary.strip() and lines[-2] == "Summary:" and lines[-3] == ""
    assert lines.count(summary.strip()) == 1


@pytest.mark.timeout(60)
def test_the_wait_for_post_processing_follows_what_gladia_says_is_left(
    emu: GladiaEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """recording_left_to_process in the stop ack sets the wait when no --finish-timeout is given (here beyond a
    shortened floor); --finish-timeout stays the ceiling, and its error says what Gladia had said."""
    from gladia_cli.live import defaults

    wav, _ = noise_wav(tmp_path / "p.wav", 1.0)
    emu.left_to_process = 2.0
    emu.post_processing_delay = 2.0
    monkeypatch.setattr(defaults, "FINISH_TIMEOUT", 0.5)  # the floor: 2 x 2 s + 60 s wins over it
    waited = stream(capsys, wav)
    assert waited.code == 0, waited.stderr
    capped = stream(capsys, wav, "--finish-timeout", "0.5")
    assert capped.code == ExitCode.NETWORK
    line = one_line_error(capped)
    assert "did not finish within 0.5 s of the stop" in line and "it said 2 s of audio were left to process" in line


def test_the_status_says_how_much_gladia_has_left_to_process() -> None:
    from gladia_cli.console.live_view import status_line
    from gladia_cli.live.events import Progress, State

    line, _ = status_line(State.FINISHING, Progress(12.0, 12.0, post_processing=True, left_to_process=8.4))
    assert line.startswith("● finishing: waiting for Gladia's post-processing of 8 s of audio")


@pytest.mark.timeout(60)
def test_a_quiet_post_processing_is_kept_awake_with_pings(emu: GladiaEmulator) -> None:
    """Gladia says nothing while it post-processes: each quiet socket timeout sends a keep-alive ping (as Gladia's
    Python SDK does every 20 s), answered, and the session ends normally on the same connection."""
    emu.post_processing_delay = 2.0
    events = _library_session(emu, np.random.default_rng(21).bytes(CHUNK * 5), QUICK)
    ended = [e for e in events if isinstance(e, Ended)]
    assert ended and ended[0].error is None
    session = emu.only_session()
    assert session.connections == 1 and session.client_pings >= 2
