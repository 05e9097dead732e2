"""One recording, several Gladia sessions: Gladia ends a live session after 3 hours (here a few seconds, the
emulator's `session_cap_seconds`), so the recording goes on in the next one, every byte sent exactly once, in order,
with one transcript on one clock. The real CLI against the loopback emulator; the relay and its shares alone. The
microphone's side (a pause that outlives a session, `recover` of a chain) is in test_steering.py."""

from __future__ import annotations

import json
import queue
import re
import threading
import time
import wave
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from cli_runner import run
from emulator import GladiaEmulator

from gladia_cli.audio.format import PcmFormat, SourceDefaults
from gladia_cli.client import Client, audio_file
from gladia_cli.live.events import Ended, Notice, Transcript
from gladia_cli.live.relay import Relay, Share
from gladia_cli.settings import Settings

FMT = PcmFormat()
SPU = 1.0  # seconds of audio per scripted utterance
SCRIPT = [f"utterance number {i}." for i in range(40)]


def _noise_wav(path: Path, seconds: float, seed: int = 7) -> tuple[Path, bytes]:
    """Noise, so that every 64-byte run of it is found once only: a byte sent twice or out of order shows."""
    pcm = np.random.default_rng(seed).integers(-4000, 4000, int(16000 * seconds), dtype=np.int16).tobytes()
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(pcm)
    return path, pcm


def _scripted(emulator: GladiaEmulator) -> GladiaEmulator:
    emulator.utterances = list(SCRIPT)
    emulator.seconds_per_utterance = SPU
    emulator.finals_within_audio = True  # each session transcribes the audio it received, no more
    return emulator


def _env(emulator: GladiaEmulator, home: Path) -> dict[str, str]:
    return {
        "GLADIA_API_KEY": "test-key",
        "GLADIA_API_URL": emulator.base_url,
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_STATE_HOME": str(home / "state"),
    }


def _received(emulator: GladiaEmulator) -> bytes:
    """What every session held, in the order they were created (one never connected holds nothing)."""
    return b"".join(bytes(s.logical_audio) for s in emulator.sessions.values())


def _srt_cues(text: str) -> list[tuple[int, float, float, str]]:
    cues = []
    for block in text.strip().split("\n\n"):
        number, times, *words = block.splitlines()
        start, end = (
            sum(float(x) * m for x, m in zip(t.replace(",", ".").split(":"), (3600, 60, 1), strict=True))
            for t in times.split(" --> ")
        )
        cues.append((int(number), start, end, " ".join(words)))
    return cues


@pytest.mark.parametrize("way", ["before the limit", "gladia ends it", "gladia ends it abruptly"])
def test_a_recording_several_sessions_long_arrives_exactly_once_with_one_transcript(
    emulator: GladiaEmulator, tmp_path: Path, way: str
) -> None:
    wav, pcm = _noise_wav(tmp_path / "long.wav", 7.0)
    _scripted(emulator)
    args = ["transcribe", str(wav), "--realtime", "--speed", "2", "-o", "srt"]
    if way == "before the limit":
        emulator.session_cap_seconds = 4.0
        args += ["--session-limit", "1.2"]
    else:
        emulator.session_cap_seconds = 1.2
        emulator.cap_abrupt = way.endswith("abruptly")
    result = run(*args, env=_env(emulator, tmp_path), timeout=90)
    assert result.code == 0, result.stderr

    # A session created as the file ended is never connected (nor billed): the recording ended in the one before.
    unused = [s for s in emulator.sessions.values() if not s.connections]
    assert len(unused) <= 1 and unused == [s for s in unused if s is list(emulator.sessions.values())[-1]]
    sessions = [s for s in emulator.sessions.values() if s.connections]
    assert len(sessions) >= 3, f"7 s at 2x with a limit of 1.2 s makes several sessions: {sessions}"
    assert _received(emulator) == pcm, "every byte once, in order, across the sessions"
    assert all(s.logical_audio for s in sessions), "no session is connected for nothing"
    if way == "before the limit":
        assert not any(s.capped for s in sessions), "each switch came before Gladia's limit"
        assert all(s.stop_count == 1 for s in sessions), "each session was stopped once, and post-processed"
    else:
        assert all(s.capped for s in sessions[:-1]) and sessions[-1].stop_count == 1

    cues = _srt_cues(result.stdout)
    assert [c[0] for c in cues] == list(range(1, len(cues) + 1)), "cue numbers go on from session to session"
    starts = [c[1] for c in cues]
    assert starts == sorted(starts) and starts[-1] > 5.0, "one clock: the last cues are near the recording's end"
    expected = sum(int(len(s.logical_audio) / FMT.bytes_per_second / SPU + 1e-9) for s in sessions)
    assert len(cues) == expected, "every session's finals, once"
    ids = [s.id for s in sessions]
    end = result.stderr.strip().splitlines()[-1]
    assert f"in {len(ids)} Gladia sessions" in end and f"gladia result {' '.join(ids)}" in end, end
    for n, session in enumerate(sessions[1:], start=2):
        assert f"session {n} ({session.id}) goes on at [" in result.stderr


def test_gladia_result_joins_the_sessions_of_one_recording(emulator: GladiaEmulator, tmp_path: Path) -> None:
    wav, _pcm = _noise_wav(tmp_path / "long.wav", 5.0)
    _scripted(emulator)
    emulator.session_cap_seconds = 1.0
    env = _env(emulator, tmp_path)
    live = run("transcribe", str(wav), "--realtime", "--speed", "2", "-o", "srt", env=env, timeout=90)
    assert live.code == 0, live.stderr
    ids = [s.id for s in emulator.sessions.values()]
    assert len(ids) >= 2

    joined = run("result", *ids, "-o", "srt", env=env)
    assert joined.code == 0, joined.stderr
    assert _srt_cues(joined.stdout) == _srt_cues(live.stdout), "the same cues, live or fetched afterwards"
    as_json = json.loads(run("result", *ids, "-o", "json", env=env).stdout)
    assert as_json  # the formats of the whole session read the joined job too
    notes = run("result", *ids, "-o", "md", env=env)
    assert notes.code == 0 and all(i in notes.stdout for i in ids), "the notes name every session"

    twice = run("result", ids[0], ids[0], env=env)
    assert twice.code == 2 and "is given twice" in twice.stderr

    alone = run("result", ids[1], "-o", "srt", env=env)
    assert _srt_cues(alone.stdout)[0][1] < 1.0, "one session alone is on its own clock"


def test_python_api_sees_one_recording_on_one_clock(emulator: GladiaEmulator, tmp_path: Path) -> None:
    wav, pcm = _noise_wav(tmp_path / "api.wav", 6.0)
    _scripted(emulator)
    emulator.session_cap_seconds = 3.0
    settings = Settings("test-key", emulator.base_url, None, "test")
    source = audio_file(wav, speed=2.0)
    finals: list[Transcript] = []
    notices: list[str] = []
    with Client(settings=settings) as client, client.live(source, session_limit=1.0) as stream:
        for event in stream:
            if isinstance(event, Transcript) and event.is_final:
                finals.append(event)
            elif isinstance(event, Notice):
                notices.append(event.text)
        assert isinstance(stream.ended, Ended) and stream.ended.error is None
        connected = [s.id for s in emulator.sessions.values() if s.connections]
        assert stream.session_ids[: len(connected)] == connected
        job = stream.job()
    assert _received(emulator) == pcm
    starts = [f.start or 0.0 for f in finals]
    assert starts == sorted(starts) and len({f.utterance_id for f in finals}) == len(finals)
    assert job["sessions"] == stream.session_ids
    utterances = job["result"]["transcription"]["utterances"]
    assert [u["start"] for u in utterances] == pytest.approx(starts)
    assert any("goes on at" in n for n in notices)


def test_a_recording_gladia_cuts_near_its_end_still_arrives_whole(emulator: GladiaEmulator, tmp_path: Path) -> None:
    """Gladia's limit falls in the last moments of the recording: what it did not take goes to one more session,
    and a session opened for nothing is never connected."""
    wav, pcm = _noise_wav(tmp_path / "short.wav", 2.0)
    _scripted(emulator)
    emulator.session_cap_seconds = 1.8
    result = run("transcribe", str(wav), "--realtime", "--speed", "1", env=_env(emulator, tmp_path), timeout=60)
    assert result.code == 0, result.stderr
    assert _received(emulator) == pcm
    connected = [s for s in emulator.sessions.values() if s.connections]
    assert len(connected) in (1, 2) and all(s.logical_audio for s in connected)


# --- the relay and its shares, alone ---------------------------------------------------------------------------------


class _Chunks(SourceDefaults):
    """Numbered chunks as fast as they are taken, from a thread of the relay's."""

    def __init__(self, count: int, size: int = 320) -> None:
        self._count, self._size = count, size
        self._closed = threading.Event()

    @property
    def format(self) -> PcmFormat:
        return FMT

    @property
    def can_wait(self) -> bool:
        return True

    def chunks(self) -> Iterator[bytes]:
        for n in range(self._count):
            if self._closed.is_set():
                return
            yield n.to_bytes(4, "big") * (self._size // 4)

    def close(self) -> None:
        self._closed.set()


def test_shares_switched_under_load_take_each_chunk_once_in_order() -> None:
    relay = Relay(_Chunks(3000))
    taken: queue.Queue[tuple[int, int]] = queue.Queue()
    previous: Share | None = None
    readers = []
    for k in range(30):
        share = Share(relay, FMT, max_tail=10**6, after=previous.done if previous else None)

        def read(share: Share = share, k: int = k) -> None:
            for chunk in share.chunks():
                taken.put((k, int.from_bytes(chunk[:4], "big")))
                time.sleep(0.0002 * (k % 3))

        reader = threading.Thread(target=read)
        reader.start()
        readers.append(reader)
        time.sleep(0.005)
        if previous is not None:
            previous.release()
        previous = share
    for reader in readers:
        reader.join(10)
    got = [taken.get() for _ in range(taken.qsize())]
    assert [n for _, n in got] == list(range(3000)), "each chunk once, in order"
    owners = [k for k, _ in got]
    assert owners == sorted(owners), "a share takes nothing once the next one has"


def test_a_share_hands_on_what_gladia_did_not_acknowledge() -> None:
    relay = Relay(_Chunks(10, size=3200))
    share = Share(relay, FMT, max_tail=10**6)
    chunks = share.chunks()
    got = [next(chunks) for _ in range(4)]
    share.acknowledged(3200 + 1600)  # half of the second chunk
    assert share.leftover() == b"".join(got)[4800:]
    share.acknowledged(4 * 3200)
    assert share.leftover() == b""
    assert re.fullmatch(rb"(\x00\x00\x00\x04)+", next(chunks))


def test_a_server_that_ends_every_session_at_once_does_not_get_one_a_chunk(
    emulator: GladiaEmulator, tmp_path: Path
) -> None:
    wav, _ = _noise_wav(tmp_path / "long.wav", 6.0)
    emulator.session_cap_seconds = 0.6
    emulator.cap_abrupt = True
    result = run("transcribe", str(wav), "--realtime", "--speed", "1", env=_env(emulator, tmp_path), timeout=60)
    assert result.code == 5, result.stderr
    assert "Traceback" not in result.stderr
    # Three short sessions end it; on a machine so busy that a session's limit passes before its socket opens, that
    # first refusal ends it sooner: never a session a chunk.
    errors = [line for line in result.stderr.splitlines() if line.startswith("gladia: error:")]
    assert len(errors) == 1 and (
        "Gladia ended 3 sessions in a row, each with under 1 s of audio" in errors[0]
        or "session already ended" in errors[0]
    ), result.stderr
    assert len([s for s in emulator.sessions.values() if s.connections]) <= 3


def test_only_live_sessions_are_joined(tmp_path: Path) -> None:
    from emulator_prerecorded import FullGladiaEmulator

    wav, _ = _noise_wav(tmp_path / "a.wav", 1.0)
    emu = FullGladiaEmulator().start()
    try:
        env = _env(emu, tmp_path)
        done = run("transcribe", str(wav), env=env, timeout=60)
        assert done.code == 0, done.stderr
        job_id = re.search(r"job (\S+):", done.stderr)
        assert job_id is not None, done.stderr
        assert run("transcribe", str(wav), "--realtime", "--speed", "0", env=env, timeout=60).code == 0
        (live,) = emu.sessions
        mixed = run("result", live, job_id.group(1), env=env)
        assert mixed.code == 2 and "only live sessions are joined" in mixed.stderr and mixed.stdout == ""
    finally:
        emu.stop()


def test_a_next_session_with_a_hostile_id_is_refused_and_the_recording_goes_on(
    emulator: GladiaEmulator, tmp_path: Path
) -> None:
    """The id names a journal and is printed: one that is no id (a path, an escape sequence) is refused, and the
    recording stays in the session it is in."""
    wav, pcm = _noise_wav(tmp_path / "a.wav", 3.0)
    emulator.next_session_ids = ["first-session", "../../x\x1b]0;pwned\x07\x1b[2J"]
    args = ["transcribe", str(wav), "--realtime", "--speed", "1", "--session-limit", "1"]
    result = run(*args, env=_env(emulator, tmp_path), timeout=60)
    assert result.code == 0, result.stderr
    assert "\x1b" not in result.stderr and "\x07" not in result.stderr and "pwned" not in result.stderr
    assert "the next Gladia session could not be created" in result.stderr
    assert bytes(emulator.sessions["first-session"].logical_audio) == pcm, "all of it in the session it was in"


def test_a_first_session_with_a_hostile_id_is_one_error_line(emulator: GladiaEmulator, tmp_path: Path) -> None:
    wav, _ = _noise_wav(tmp_path / "a.wav", 1.0)
    emulator.next_session_ids = ["\x1b[31mred\x1b[0m"]
    result = run("transcribe", str(wav), "--realtime", "--speed", "0", env=_env(emulator, tmp_path), timeout=60)
    assert result.code == 5, result.stderr
    assert "\x1b" not in result.stderr and "Traceback" not in result.stderr
    assert [line for line in result.stderr.splitlines() if line.startswith("gladia: error:")] == [
        "gladia: error: Gladia's answer to POST /v2/live has a session id that is not one (letters, digits, _ -)"
    ]


@pytest.mark.parametrize("refusal", ["close 4404", "HTTP 410"])
def test_a_session_that_ended_while_the_link_was_down_goes_on_in_a_new_one(
    emulator: GladiaEmulator, tmp_path: Path, refusal: str
) -> None:
    """The link drops, Gladia's limit passes before it is back, and the reconnection is refused: the session is
    gone, not the link, so the recording goes on in a new one from the first byte Gladia did not acknowledge."""
    wav, pcm = _noise_wav(tmp_path / "a.wav", 4.0)
    _scripted(emulator)
    emulator.session_cap_seconds = 1.5
    emulator.drop_after_bytes = [16000]  # 0.5 s into the first session
    emulator.refuse_after_fault = 3  # the reconnection waits, with backoff, past the limit
    if refusal == "HTTP 410":
        emulator.ended_handshake_status = 410
    result = run("transcribe", str(wav), "--realtime", "--speed", "1", env=_env(emulator, tmp_path), timeout=60)
    assert result.code == 0, result.stderr
    first, *rest = emulator.sessions.values()
    assert first.ended and rest, result.stderr
    assert _received(emulator) == pcm, "once each, in order"
    assert "the recording goes on in a new session" in result.stderr
