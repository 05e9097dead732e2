"""Real-time pacing of a file source: slowed to --speed, and interrupted promptly by close()."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from audio_helpers import collect, pcm16, tone, wav_bytes, write

from gladia_cli.audio.files import FormatRequest, open_audio_file

# ---------------------------------------------------------------------------------------------------------------
# Pacing


def test_pacing_slows_playback(tmp_path: Path) -> None:
    path = write(tmp_path, "p.wav", wav_bytes(pcm16(tone(440, 1.0, 16000))))
    started = time.monotonic()
    fast = collect(open_audio_file(path, FormatRequest(), chunk_ms=100, speed=0))
    fast_elapsed = time.monotonic() - started
    started = time.monotonic()
    paced = collect(open_audio_file(path, FormatRequest(), chunk_ms=100, speed=10))
    paced_elapsed = time.monotonic() - started
    assert fast == paced
    assert paced_elapsed > 0.05  # nominally 0.09 s: 9 chunk intervals of 10 ms
    assert paced_elapsed > fast_elapsed


def test_close_interrupts_paced_playback(tmp_path: Path) -> None:
    path = write(tmp_path, "long.wav", wav_bytes(pcm16(tone(440, 5.0, 16000))))
    source = open_audio_file(path, FormatRequest(), chunk_ms=1000, speed=1)
    received: list[bytes] = []
    closed_at: list[float] = []

    got_first = threading.Event()

    def consume() -> None:
        for chunk in source.chunks():
            received.append(chunk)
            got_first.set()

    worker = threading.Thread(target=consume)
    worker.start()
    assert got_first.wait(10)  # chunk 1 is out; chunk 2 is not due before t0 + 1 s
    time.sleep(0.1)  # into the pacing wait (the close must interrupt it; before it, close works anyway)
    closed_at.append(time.monotonic())
    source.close()
    worker.join(timeout=2)
    assert not worker.is_alive()
    assert time.monotonic() - closed_at[0] < 0.5
    assert len(received) == 1
