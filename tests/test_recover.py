"""`gladia recover` (gladia_cli/recover.py): a live session that cannot go on, finished from its audio journal.

Against the full emulator (live + pre-recorded routes): what the pre-recorded upload holds is compared byte for byte
with what the live emulator received, and the merged transcript with both scripts.
"""

from __future__ import annotations

import wave
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from emulator_prerecorded import DEFAULT_SCRIPT, FullGladiaEmulator
from sources import FMT, BytesSource

from gladia_cli.api import GladiaApi
from gladia_cli.live import journal as jr
from gladia_cli.live.journal import JournalWriter
from gladia_cli.live.session import Ended, LiveSession, ReconnectPolicy
from gladia_cli.recover import journal_rows, merge, recover
from gladia_cli.settings import Settings

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


def failed_session(emu: FullGladiaEmulator, root: Path, audio: bytes, fatal_after: int) -> tuple[str, JournalWriter]:
    """A real live session whose connection Gladia closes with 4400 (do not retry) after `fatal_after` bytes."""
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
    return created["id"], writer


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
    result = recover(settings_for(emu), journal, warn=warnings.append)

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


def test_recover_without_a_live_result_gives_the_recovered_part_alone_with_a_warning(
    emu: FullGladiaEmulator, tmp_path: Path
) -> None:
    session_id, _ = failed_session(emu, tmp_path, noise(3.0), fatal_after=40000)
    journal = jr.find(session_id, tmp_path)
    warnings: list[str] = []
    result = recover(settings_for(emu), journal, warn=warnings.append)  # the live job is still `processing`
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
