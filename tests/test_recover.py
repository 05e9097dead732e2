"""`gladia recover` (cli/recover.py, recovery.py): a live session that cannot go on, finished from its audio journal.

Against the full emulator (live + pre-recorded routes): what the pre-recorded upload holds is compared byte for byte
with what the live emulator received, and the merged transcript with both scripts.
"""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
import wave
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from cli_runner import one_line_error, run
from emulator_prerecorded import DEFAULT_SCRIPT, FullGladiaEmulator
from sources import FMT, BytesSource
from virtual_mic import VirtualMic, virtual_mic
from wavs import write_wav

from gladia_cli.api import GladiaApi
from gladia_cli.cli.recover import journal_rows
from gladia_cli.client import Client
from gladia_cli.errors import ExitCode, UsageError
from gladia_cli.live import journal as jr
from gladia_cli.live.connection import ReconnectPolicy
from gladia_cli.live.events import Ended
from gladia_cli.live.journal import JournalWriter
from gladia_cli.live.session import LiveSession
from gladia_cli.recovery import merge, recover
from gladia_cli.settings import Settings

__all__ = ["virtual_mic"]  # the fixture is used by name

LIVE_SCRIPT = ["Live one.", "Live two."]  # at 0.1-0.95 s and 1.1-1.95 s of the live result


def noise(seconds: float, seed: int = 3) -> bytes:
    rng = np.random.default_rng(seed)
    return rng.integers(-20000, 20000, int(seconds * 16000), dtype="<i2").tobytes()


@pytest.fixture
def emu() -> Iterator[FullGladiaEmulator]:
    emulator = FullGladiaEmulator(utterances=LIVE_SCRIPT)
    emulator.start()
    try:
        yield emulator
    finally:
        emulator.stop()
    assert emulator.errors == []


def settings_for(emu: FullGladiaEmulator) -> Settings:
    return Settings("test-key", emu.base_url, None, "test")


def failed_session(
    emu: FullGladiaEmulator, root: Path, audio: bytes, fatal_after: int, *, holds_unacknowledged: bool = False
) -> tuple[str, JournalWriter]:
    """A real live session whose connection Gladia closes with 4400 (do not retry) after `fatal_after` bytes.

    Gladia then holds only what it acknowledged (the rest was lost with the link), unless `holds_unacknowledged`:
    its acknowledgements lagged behind what it received, and its result covers that too."""
    api = GladiaApi(settings_for(emu))
    created = api.init_live({"encoding": "wav/pcm", "sample_rate": 16000, "bit_depth": 16, "channels": 1})
    api.close()
    writer = JournalWriter(created["id"], FMT, max_bytes=1 << 22, root=root)
    emu.close_after_bytes = [(fatal_after, 4400)]
    session = LiveSession(
        session_id=created["id"],
        url=created["url"],
        source=BytesSource(audio, interval=0.002),
        fmt=FMT,
        policy=ReconnectPolicy(max_attempts=2, max_seconds=2),
        on_audio=writer.write,
        on_ack=writer.acknowledged,
        emit_messages=False,
    )
    session.start()
    while not isinstance(event := session.events.get(timeout=30), Ended):
        pass
    session.join()
    assert event.error is not None and event.close_code == 4400
    writer.close()
    if not holds_unacknowledged:
        live = emu.sessions[created["id"]]
        with emu._lock:
            del live.audio[jr.find(created["id"], root).acked :]
    return created["id"], writer


@pytest.mark.slow  # seconds of its own: out of the inner loop
def test_recover_uploads_exactly_what_gladia_did_not_acknowledge_and_merges_in_order(
    emu: FullGladiaEmulator, tmp_path: Path
) -> None:
    audio = noise(4.0)
    session_id, writer = failed_session(emu, tmp_path, audio, fatal_after=80000)
    live = emu.sessions[session_id]
    emu._mark_ended(live, emu._build_result(live))  # Gladia closes the session out on its side
    journal = jr.find(session_id, tmp_path)
    assert journal.end == writer.captured and journal.end >= 80000
    received = bytes(live.audio)
    assert 0 < journal.acked <= len(received) and received[: journal.acked] == audio[: journal.acked]

    warnings: list[str] = []
    result = recover(Client(settings=settings_for(emu)), journal, warn=warnings.append)

    [upload] = emu.prerecorded.uploads
    assert upload.data is not None
    (tmp_path / "up.wav").write_bytes(upload.data)
    with wave.open(str(tmp_path / "up.wav")) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (16000, 1, 2)
        uploaded = w.readframes(w.getnframes())
    # What Gladia acknowledged plus what was uploaded is every captured byte, once.
    assert received[: journal.acked] + uploaded == audio[: journal.end]
    assert not (journal.directory / "unacknowledged.wav").exists()

    texts = [u["text"].strip() for u in result.job["result"]["transcription"]["utterances"]]
    assert texts == LIVE_SCRIPT + DEFAULT_SCRIPT  # live first, then the recovered part; nothing twice
    starts = [u["start"] for u in result.job["result"]["transcription"]["utterances"]]
    assert starts == sorted(starts)
    offset = journal.acked / 32000
    assert result.recovered[0]["start"] >= offset
    assert result.recovered[0]["words"][0]["start"] >= offset
    assert result.job["result"]["metadata"]["audio_duration"] == pytest.approx(journal.end / 32000, abs=0.01)
    assert warnings == []


@pytest.mark.slow  # seconds of its own: out of the inner loop
def test_recover_without_a_live_result_gives_the_recovered_part_alone_with_a_warning(
    emu: FullGladiaEmulator, tmp_path: Path
) -> None:
    session_id, _ = failed_session(emu, tmp_path, noise(3.0), fatal_after=40000)
    journal = jr.find(session_id, tmp_path)
    warnings: list[str] = []
    # The live job is still `processing`.
    result = recover(Client(settings=settings_for(emu)), journal, warn=warnings.append)
    texts = [u["text"].strip() for u in result.job["result"]["transcription"]["utterances"]]
    assert texts == DEFAULT_SCRIPT
    assert not result.live_found
    assert len(warnings) == 1 and "recovered part alone" in warnings[0] and session_id in warnings[0]


def test_listing_says_duration_and_unacknowledged_seconds(emu: FullGladiaEmulator, tmp_path: Path) -> None:
    session_id, writer = failed_session(emu, tmp_path, noise(3.0), fatal_after=40000)
    [row] = journal_rows(tmp_path)
    assert row[0] == session_id and row[4] == "kept"
    assert row[2] == f"{writer.captured / 32000:.1f} s"
    journal = jr.find(session_id, tmp_path)
    assert row[3] == f"{(journal.end - journal.recover_from) / 32000:.1f} s"


def test_merge_shifts_words_and_keeps_live_request_params() -> None:
    live = {
        "request_params": {"channels": 1},
        "status": "done",
        "result": {"transcription": {"utterances": [{"text": " a", "start": 0.1, "end": 0.5, "language": "en"}]}},
    }
    recovered = {
        "result": {
            "metadata": {"audio_duration": 2.0},
            "transcription": {
                "utterances": [
                    {"text": " b", "start": 0.2, "end": 0.9, "language": "fr", "words": [{"start": 0.2, "end": 0.4}]}
                ]
            },
        }
    }
    merged = merge(live, recovered, 10.0, "id1")
    [a, b] = merged.job["result"]["transcription"]["utterances"]
    assert (a["start"], b["start"], b["end"], b["words"][0]["start"]) == (0.1, 10.2, 10.9, 10.2)
    assert merged.job["result"]["transcription"]["languages"] == ["en", "fr"]
    assert merged.job["result"]["transcription"]["full_transcript"] == "a b"
    assert merged.job["request_params"] == {"channels": 1}
    assert merged.job["result"]["metadata"]["audio_duration"] == 12.0
    assert recovered["result"]["transcription"]["utterances"][0]["start"] == 0.2  # the input is not changed


# --- `gladia listen` from the virtual microphone, end to end -------------------------------------------------------


@pytest.fixture
def tone_playing(virtual_mic: VirtualMic, tmp_path: Path) -> Iterator[VirtualMic]:
    wav, _ = write_wav(tmp_path / "tone.wav", 2.0, rate=48000, channels=1)
    virtual_mic.play(wav, loop=True)
    yield virtual_mic
    virtual_mic.stop_playing()


def cli_env(mic: VirtualMic, emu: FullGladiaEmulator, tmp_path: Path) -> dict[str, str]:
    return {
        **mic.env,
        "GLADIA_API_KEY": "test-key",
        "GLADIA_API_URL": emu.base_url,
        "HOME": str(tmp_path / "home"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
    }


OUTAGE = ["--reconnect-attempts", "1", "--reconnect-timeout", "1", "-l", "en"]


def start_outage(emu: FullGladiaEmulator, after: int = 80000) -> None:
    """The connection drops (1011, retryable) after `after` bytes and Gladia cannot be reached again."""
    emu.close_after_bytes = [(after, 1011)]
    emu.refuse_after_fault = 1000


def test_permanent_outage_keeps_the_unacknowledged_audio_and_recover_finishes_the_transcript(
    tone_playing: VirtualMic, emu: FullGladiaEmulator, tmp_path: Path
) -> None:
    start_outage(emu)
    env = cli_env(tone_playing, emu, tmp_path)
    result = run("listen", "--duration", "6", *OUTAGE, env=env)
    assert result.code == ExitCode.NETWORK, result.stderr
    [session_id] = emu.sessions
    root = tmp_path / "state" / "gladia" / "journals"
    journal = jr.find(session_id, root)
    assert str(journal.directory) in result.stderr
    assert f"gladia recover {session_id}" in result.stderr
    assert f"{journal.unacknowledged_seconds:.1f} s of audio were not acknowledged" in result.stderr
    one_line_error(result)
    live = emu.sessions[session_id]
    received = bytes(live.audio)
    assert len(received) >= 80000 and journal.start == 0
    captured = b"".join(journal.read(0))
    # Every captured byte is in the journal, beginning with exactly what Gladia received; what it did not
    # acknowledge (the frame that crossed the fault, and all the microphone captured while reconnecting) follows.
    assert captured[: len(received)] == received
    assert 0 < journal.acked <= len(received) and journal.end > len(received)
    assert journal.unacknowledged_seconds >= (journal.end - len(received)) / 32000
    assert stat.S_IMODE(journal.directory.stat().st_mode) == 0o700

    listed = run("recover", env=env)
    assert listed.code == 0 and session_id in listed.stdout and "kept" in listed.stdout

    emu._mark_ended(live, emu._build_result(live))  # Gladia closes the session out on its side, later
    recovered = run("recover", session_id, env=env)
    assert recovered.code == 0, recovered.stderr
    [upload] = emu.prerecorded.uploads
    assert upload.data is not None and upload.data[:4] == b"RIFF"
    # Exactly what Gladia does not hold: its result covers what it received, acknowledged or not.
    assert upload.data[44:] == captured[len(received) :]
    assert received + upload.data[44:] == captured
    assert recovered.stdout.splitlines() == LIVE_SCRIPT + DEFAULT_SCRIPT  # in order, nothing twice
    assert not journal.directory.exists()  # done: deleted
    assert run("recover", session_id, env=env).code == ExitCode.USAGE


def test_on_failure_recover_finishes_at_once(tone_playing: VirtualMic, emu: FullGladiaEmulator, tmp_path: Path) -> None:
    start_outage(emu)
    env = cli_env(tone_playing, emu, tmp_path)
    result = run("listen", "--duration", "6", *OUTAGE, "--on-failure", "recover", env=env)
    assert result.code == 0, result.stderr
    [session_id] = emu.sessions
    [upload] = emu.prerecorded.uploads
    received = bytes(emu.sessions[session_id].audio)
    # The frame that crossed the fault was received but never acknowledged: the upload starts with it.
    assert upload.data is not None and upload.data[44 : 44 + 3200] == received[-3200:]
    lines = result.stdout.splitlines()
    # The live finals printed as they came, then the recovered part; the live ones are not printed again.
    assert lines[-len(DEFAULT_SCRIPT) :] == DEFAULT_SCRIPT
    assert all(line in LIVE_SCRIPT for line in lines[: -len(DEFAULT_SCRIPT)])
    assert "--on-failure recover" in result.stderr
    assert jr.list_journals(tmp_path / "state" / "gladia" / "journals") == []


def test_a_normal_session_leaves_no_journal_and_no_journal_means_none(
    tone_playing: VirtualMic, emu: FullGladiaEmulator, tmp_path: Path
) -> None:
    env = cli_env(tone_playing, emu, tmp_path)
    assert run("listen", "--duration", "1", env=env).code == 0
    root = tmp_path / "state" / "gladia" / "journals"
    assert root.is_dir() and list(root.iterdir()) == []
    start_outage(emu, after=16000)
    result = run("listen", "--duration", "2", *OUTAGE, "--no-journal", env=env)
    assert result.code == ExitCode.NETWORK and "gladia recover" not in result.stderr
    assert list(root.iterdir()) == []


def test_kill_9_during_listen_leaves_a_journal_that_recover_lists_and_reads(
    tone_playing: VirtualMic, emu: FullGladiaEmulator, tmp_path: Path
) -> None:
    env = {**os.environ, **cli_env(tone_playing, emu, tmp_path)}
    root = tmp_path / "state" / "gladia" / "journals"
    proc = subprocess.Popen(
        [sys.executable, "-m", "gladia_cli", "listen", "--duration", "60"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        env=env,
    )
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not any(j.end >= 2 * 32000 for j in jr.list_journals(root)):
            time.sleep(0.1)
        time.sleep(1.2)  # one metadata write with the acks so far
        in_use = run("recover", env=env)
        [session_id] = emu.sessions
        assert session_id in in_use.stdout and "in use" in in_use.stdout
        refused = run("recover", session_id, env=env)
        assert refused.code == ExitCode.USAGE and "in use" in refused.stderr
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    listed = run("recover", env=env)
    assert listed.code == 0 and session_id in listed.stdout and "kept" in listed.stdout
    [journal] = jr.list_journals(root)
    assert journal.end >= 2 * 32000 and 0 < journal.acked <= journal.end
    received = bytes(emu.sessions[session_id].audio)
    data = b"".join(journal.read(0))
    common = min(len(received), len(data))
    assert common >= 32000 and data[:common] == received[:common]
    for segment in journal.segments:
        with wave.open(str(segment.path)) as w:
            assert (w.getframerate(), w.getnchannels()) == (16000, 1) and w.getnframes() * 2 >= segment.size


@pytest.mark.slow  # seconds of its own: out of the inner loop
def test_recover_keeps_the_journal_when_there_was_no_live_result_to_merge(
    emu: FullGladiaEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from gladia_cli.cli.recover import run_recover

    session_id, _ = failed_session(emu, tmp_path, noise(3.0), fatal_after=40000)
    # The live job is still `processing`: the recovered part is printed alone, and the journal stays for later.
    assert run_recover(lambda: settings_for(emu), session_id, "text", root=tmp_path) == 0
    assert jr.find(session_id, tmp_path).segments
    assert "kept the journal" in capsys.readouterr().err


@pytest.mark.parametrize(
    "bad_result",
    [{"metadata": {}, "transcription": {"utterances": "garbage", "full_transcript": ""}}, None, "garbage"],
    ids=["utterances-garbage", "result-null", "result-a-string"],
)
@pytest.mark.slow  # seconds of its own: out of the inner loop
def test_recover_keeps_the_journal_when_the_recovered_result_is_malformed(
    emu: FullGladiaEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str], bad_result: object
) -> None:
    """The journal goes only once the recovered transcript was read and written: a malformed result is one error
    line (exit 5), never a crash, and the audio stays for another try."""
    from gladia_cli.cli.recover import run_recover
    from gladia_cli.errors import ApiError

    session_id, _ = failed_session(emu, tmp_path, noise(3.0), fatal_after=40000)
    live = emu.sessions[session_id]
    emu._mark_ended(live, emu._build_result(live))  # the live part is there to merge with
    emu.prerecorded.result_replacement = [bad_result]
    with pytest.raises(ApiError) as refused:
        run_recover(lambda: settings_for(emu), session_id, "srt", root=tmp_path)
    assert "journal is kept" in refused.value.message
    assert jr.find(session_id, tmp_path).segments
    assert capsys.readouterr().out == ""


@pytest.mark.slow  # seconds of its own: out of the inner loop
def test_a_session_gladia_no_longer_holds_is_recovered_once_and_its_journal_removed(
    emu: FullGladiaEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """404 on the live session: no later run can merge anything, so the journal is not kept with that promise."""
    from gladia_cli.cli.recover import run_recover

    session_id, _ = failed_session(emu, tmp_path, noise(3.0), fatal_after=40000)
    with emu._lock:
        del emu.sessions[session_id]  # deleted, or expired: GET /v2/live/ID answers 404
    assert run_recover(lambda: settings_for(emu), session_id, "text", root=tmp_path) == 0
    err = capsys.readouterr().err
    assert "no longer holds session" in err and "removed the journal" in err
    assert "again merges it" not in err
    with pytest.raises(UsageError):
        jr.find(session_id, tmp_path)


def test_discard_deletes_a_journal_without_recovering_it(
    emu: FullGladiaEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from gladia_cli.cli.recover import run_recover

    session_id, _ = failed_session(emu, tmp_path, noise(1.0), fatal_after=8000)
    uploads = len(emu.prerecorded.uploads)
    assert run_recover(lambda: settings_for(emu), session_id, "text", root=tmp_path, discard=True) == 0
    assert "discarded the journal" in capsys.readouterr().err
    assert len(emu.prerecorded.uploads) == uploads  # nothing sent
    with pytest.raises(UsageError):
        jr.find(session_id, tmp_path)
    with pytest.raises(UsageError, match="contradict"):
        run_recover(lambda: settings_for(emu), session_id, "text", root=tmp_path, discard=True, keep=True)


@pytest.mark.slow  # seconds of its own: out of the inner loop
def test_recover_sends_nothing_gladia_holds_and_the_merge_never_overlaps(
    emu: FullGladiaEmulator, tmp_path: Path
) -> None:
    """Acknowledgements lagging behind what Gladia received (acks delayed, then the link lost): the live result
    already covers that audio, so only what lies beyond it is recovered, and no sentence appears twice."""
    session_id, _ = failed_session(emu, tmp_path, noise(4.0), fatal_after=80000, holds_unacknowledged=True)
    live = emu.sessions[session_id]
    with emu._lock:
        del live.audio[jr.find(session_id, tmp_path).acked + 1600 :]  # 50 ms more than it acknowledged
    emu._mark_ended(live, emu._build_result(live))
    journal = jr.find(session_id, tmp_path)
    held = len(live.audio)
    assert journal.acked < held < journal.end
    result = recover(Client(settings=settings_for(emu)), journal, warn=lambda _: None)
    [upload] = emu.prerecorded.uploads
    (tmp_path / "up.wav").write_bytes(upload.data or b"")
    with wave.open(str(tmp_path / "up.wav")) as w:
        uploaded = w.readframes(w.getnframes())
    assert bytes(live.audio) + uploaded == noise(4.0)[: journal.end]  # each byte once: Gladia's, then the rest
    assert result.recovered and all(u["start"] >= held / 32000 - 1e-6 for u in result.recovered)  # after Gladia's
