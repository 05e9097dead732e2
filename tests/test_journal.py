"""The audio journal (gladia_cli/live/journal.py): real files, a real live session, a real `kill -9`."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
import wave
from pathlib import Path

import numpy as np
import pytest
from emulator import GladiaEmulator
from sources import FMT, BytesSource

from gladia_cli.audio.format import PcmFormat
from gladia_cli.live import journal as jr
from gladia_cli.live.connection import ReconnectPolicy
from gladia_cli.live.events import Ended
from gladia_cli.live.journal import JournalWriter
from gladia_cli.live.session import LiveSession


def noise(seconds: float, seed: int = 1) -> bytes:
    rng = np.random.default_rng(seed)
    return rng.integers(-20000, 20000, int(seconds * 16000), dtype="<i2").tobytes()


def chunks(data: bytes, size: int = 3200) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def test_state_dir_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    assert jr.journals_dir() == tmp_path / "state" / "gladia" / "journals"
    monkeypatch.delenv("XDG_STATE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert jr.journals_dir() == tmp_path / "home" / ".local" / "state" / "gladia" / "journals"


def test_written_audio_reads_back_in_valid_private_segments(tmp_path: Path) -> None:
    audio = noise(10.0)
    writer = JournalWriter("sess-1", FMT, max_bytes=1024 * 1024, root=tmp_path, extra={"language_config": {}})
    for chunk in chunks(audio):
        writer.write(chunk)
        # Valid after every write: the newest segment opens as a WAV with everything written so far in it.
        newest = sorted(writer.directory.glob("*.wav"))[-1]
        with wave.open(str(newest)) as w:
            assert w.getnframes() > 0
    writer.close()
    assert stat.S_IMODE(writer.directory.stat().st_mode) == 0o700
    files = list(writer.directory.iterdir())
    assert len([f for f in files if f.suffix == ".wav"]) > 1  # 128 KiB segments for a 1 MiB bound
    assert all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in files)
    journal = jr.find("sess-1", tmp_path)
    assert journal.fmt == FMT and journal.session_id == "sess-1"
    assert journal.start == 0 and journal.end == len(audio)
    assert b"".join(journal.read(0)) == audio
    assert b"".join(journal.read(1000, 200000)) == audio[1000:200000]
    assert not journal.in_use  # written by this process: never "in use" to itself
    assert journal.meta["pid"] == os.getpid() and journal.meta["captured"] == len(audio)


def test_cut_is_exactly_the_unacknowledged_part_on_a_frame_boundary(tmp_path: Path) -> None:
    audio = noise(2.0)
    writer = JournalWriter("s", FMT, max_bytes=1 << 20, root=tmp_path)
    for chunk in chunks(audio):
        writer.write(chunk)
    writer.acknowledged(40001)  # odd: inside a sample; rounded down, nothing skipped
    writer.close()
    journal = jr.find("s", tmp_path)
    assert journal.recover_from == 40000
    assert journal.unacknowledged_seconds == pytest.approx((len(audio) - 40000) / 32000)
    size = journal.cut(tmp_path / "cut.wav")
    with wave.open(str(tmp_path / "cut.wav")) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (16000, 1, 2)
        assert w.readframes(w.getnframes()) == audio[40000:]
    assert size == len(audio) - 40000


def test_g711_journal_cuts_to_a_valid_alaw_wav(tmp_path: Path) -> None:
    fmt = PcmFormat(sample_rate=8000, channels=1, bit_depth=8, encoding="wav/alaw")
    data = bytes(range(256)) * 100
    writer = JournalWriter("g", fmt, max_bytes=1 << 20, root=tmp_path)
    writer.write(data[:12345])
    writer.write(data[12345:])
    writer.acknowledged(1001)
    writer.close()
    journal = jr.find("g", tmp_path)
    journal.cut(tmp_path / "cut.wav")
    raw = (tmp_path / "cut.wav").read_bytes()
    assert raw[20:22] == b"\x06\x00"  # WAVE_FORMAT_ALAW
    assert raw[58 : 58 + len(data) - 1001] == data[1001:]


def test_bound_drops_acknowledged_segments_first(tmp_path: Path) -> None:
    bound = 256 * 1024
    audio = noise(60.0)  # 1.9 MB through a 256 KiB journal
    writer = JournalWriter("long", FMT, max_bytes=bound, root=tmp_path)
    for chunk in chunks(audio):
        writer.write(chunk)
        writer.acknowledged(writer.captured - 32000)  # Gladia one second behind
        assert writer.held_bytes <= bound
        on_disk = sum(f.stat().st_size for f in writer.directory.glob("*.wav"))
        assert on_disk <= bound + 2 * 58 * 9  # headers aside
    writer.close()
    journal = jr.find("long", tmp_path)
    assert journal.lost_bytes == 0
    assert journal.start > 0 and journal.meta["start_offset"] == journal.start
    assert journal.recover_from == len(audio) - 32000
    assert b"".join(journal.read(journal.recover_from)) == audio[-32000:]


def test_bound_keeps_the_newest_audio_when_nothing_is_acknowledged(tmp_path: Path) -> None:
    bound = 128 * 1024
    audio = noise(20.0)
    writer = JournalWriter("outage", FMT, max_bytes=bound, root=tmp_path)
    for chunk in chunks(audio):
        writer.write(chunk)
    writer.close()
    journal = jr.find("outage", tmp_path)
    assert journal.end == len(audio) and journal.end - journal.start <= bound
    assert journal.lost_bytes == journal.start > 0
    assert b"".join(journal.read(0)) == audio[journal.start :]
    assert journal.recover_from == journal.start


def test_discard_leaves_nothing(tmp_path: Path) -> None:
    writer = JournalWriter("done", FMT, max_bytes=1 << 20, root=tmp_path)
    writer.write(noise(0.5))
    writer.discard()
    assert list(tmp_path.iterdir()) == []
    assert jr.list_journals(tmp_path) == []


def test_session_ids_cannot_escape_the_journals_dir(tmp_path: Path) -> None:
    from gladia_cli.errors import UsageError

    for bad in ("../x", "a/b", "", ".hidden"):
        with pytest.raises(UsageError):
            jr.find(bad, tmp_path)


def test_metadata_is_throttled(tmp_path: Path) -> None:
    now = [0.0]
    writer = JournalWriter("t", FMT, max_bytes=1 << 20, root=tmp_path, clock=lambda: now[0])
    meta = writer.directory / jr.META
    writer.write(b"\0" * 3200)
    first = meta.stat().st_mtime_ns, meta.read_text()
    writer.acknowledged(3200)
    for _ in range(20):
        writer.write(b"\0" * 3200)  # same instant: no metadata write
    assert (meta.stat().st_mtime_ns, meta.read_text()) == first
    now[0] = 1.5
    writer.write(b"\0" * 3200)
    assert jr.find("t", tmp_path).acked == 3200


_CHILD = """
import sys, time
from gladia_cli.audio.format import PcmFormat
from gladia_cli.live.journal import JournalWriter
w = JournalWriter("killed", PcmFormat(), max_bytes=1 << 20, root=__import__("pathlib").Path(sys.argv[1]))
block = bytes(range(200)) * 16
n = 0
while True:
    w.write(block)
    n += 1
    if n == 40:
        w.acknowledged(3200 * 10)
    if n == 50:
        print("ready", flush=True)
    time.sleep(0.002)
"""


@pytest.mark.slow  # seconds of its own: out of the inner loop
def test_kill_9_leaves_a_readable_journal_that_is_in_use_until_the_process_dies(tmp_path: Path) -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(tmp_path)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        time.sleep(1.3)  # past the metadata's one-second throttle
        [alive] = jr.list_journals(tmp_path)
        assert alive.in_use
        child.send_signal(signal.SIGKILL)
        child.wait(5)
    finally:
        if child.poll() is None:
            child.kill()
    [journal] = jr.list_journals(tmp_path)
    assert not journal.in_use
    assert journal.end >= 50 * 3200 and journal.end % 2 == 0
    block = bytes(range(200)) * 16
    data = b"".join(journal.read(0))
    assert data == (block * (len(data) // len(block) + 1))[: len(data)]
    assert journal.acked == 32000  # the metadata written before the kill (at most a second stale)
    for segment in journal.segments:
        with wave.open(str(segment.path)) as w:
            assert w.getnframes() * 2 >= segment.size


def test_a_live_session_journals_every_captured_byte_and_learns_gladias_acks(
    emulator: GladiaEmulator, tmp_path: Path
) -> None:
    """A fast source through a real session: the journal stays within its bound and ends fully acknowledged."""
    from gladia_cli.api import GladiaApi
    from gladia_cli.settings import Settings

    audio = noise(300.0)  # 9.6 MB at full speed
    bound = 1024 * 1024
    api = GladiaApi(Settings("test-key", emulator.base_url, None, "test"))
    created = api.init_live({"encoding": "wav/pcm", "sample_rate": 16000, "bit_depth": 16, "channels": 1})
    api.close()
    writer = JournalWriter(created["id"], FMT, max_bytes=bound, root=tmp_path)
    peak = [0]

    def on_audio(chunk: bytes) -> None:
        writer.write(chunk)
        peak[0] = max(peak[0], writer.held_bytes)

    session = LiveSession(
        session_id=created["id"],
        url=created["url"],
        source=BytesSource(audio),
        fmt=FMT,
        policy=ReconnectPolicy(max_attempts=2, max_seconds=5),
        buffer_seconds=600,
        on_audio=on_audio,
        on_ack=writer.acknowledged,
        emit_messages=False,
    )
    session.start()
    ended = None
    while ended is None:
        event = session.events.get(timeout=60)
        if isinstance(event, Ended):
            ended = event
    session.join()
    assert ended.error is None, ended.error
    writer.close()
    assert peak[0] <= bound
    journal = jr.find(created["id"], tmp_path)
    assert journal.end == len(audio) and journal.recover_from == len(audio)
    assert b"".join(journal.read(journal.start)) == audio[journal.start :]
    writer.discard()
    assert jr.list_journals(tmp_path) == []


def test_the_journal_directories_are_the_users_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    target = jr.journals_dir() / "a-session"
    jr._private_dir(target)
    for each in (jr.state_dir(), jr.journals_dir(), target):
        assert each.stat().st_mode & 0o777 == 0o700, each


def test_a_repeated_session_id_never_touches_the_other_journal(tmp_path: Path) -> None:
    """A server that hands out one id twice: the first journal (kept, or still recording) is never reused, rewritten
    or removed by the second writer, whatever becomes of it."""
    first_audio = noise(0.5, seed=3)
    first = JournalWriter("dup", FMT, max_bytes=1 << 20, root=tmp_path)
    first.write(first_audio)
    first.close()  # kept: the session was cut off
    before = {p.name: p.read_bytes() for p in (tmp_path / "dup").iterdir()}

    second = JournalWriter("dup", FMT, max_bytes=1 << 20, root=tmp_path)
    assert second.directory == tmp_path / "dup+2"
    third = JournalWriter("dup", FMT, max_bytes=1 << 20, root=tmp_path)  # while the second still records
    assert third.directory == tmp_path / "dup+3"
    second.write(noise(0.2, seed=4))
    second.discard()  # ended normally: only its own files go
    third.discard()  # no audio at all: the same
    assert {p.name: p.read_bytes() for p in (tmp_path / "dup").iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dup"]
    journal = jr.find("dup", tmp_path)
    assert b"".join(journal.read(journal.start)) == first_audio


def test_a_kept_second_journal_of_the_same_id_is_found_by_its_id(tmp_path: Path) -> None:
    JournalWriter("dup", FMT, max_bytes=1 << 20, root=tmp_path).close()
    (tmp_path / "dup" / jr.META).unlink()  # the first is no journal any more (unreadable)
    second = JournalWriter("dup", FMT, max_bytes=1 << 20, root=tmp_path)
    second.write(noise(0.2))
    second.close()
    assert jr.find("dup", tmp_path).directory == tmp_path / "dup+2"
    assert [j.session_id for j in jr.list_journals(tmp_path)] == ["dup"]


def test_an_ack_beyond_what_was_sent_reaches_the_journal_clamped(emulator: GladiaEmulator, tmp_path: Path) -> None:
    """`byte_range` end 10^12: the buffer and the journal are both told what was sent, never the server's number,
    so the journal cannot be fooled into counting unacknowledged audio as delivered."""
    from gladia_cli.api import GladiaApi
    from gladia_cli.settings import Settings

    emulator.ack_byte_end = 10**12
    audio = noise(2.0)
    api = GladiaApi(Settings("test-key", emulator.base_url, None, "test"))
    created = api.init_live({"encoding": "wav/pcm", "sample_rate": 16000, "bit_depth": 16, "channels": 1})
    api.close()
    sent = [0]
    told: list[tuple[int, int]] = []  # (ack end told, bytes handed to the session by then)

    def on_audio(chunk: bytes) -> None:
        sent[0] += len(chunk)

    session = LiveSession(
        session_id=created["id"],
        url=created["url"],
        source=BytesSource(audio),
        fmt=FMT,
        policy=ReconnectPolicy(max_attempts=2, max_seconds=5),
        buffer_seconds=600,
        on_audio=on_audio,
        on_ack=lambda end: told.append((end, sent[0])),
        emit_messages=False,
    )
    session.start()
    while not isinstance(session.events.get(timeout=60), Ended):
        pass
    session.join()
    assert told, "no acknowledgement reached the journal"
    assert all(end <= by_then for end, by_then in told), told[:5]
    assert max(end for end, _ in told) <= len(audio)
