"""MultiSource on real threads with inputs whose clocks differ: they start apart and drift, yet come out in step."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import numpy as np
import pytest

from gladia_cli.audio.format import PcmFormat
from gladia_cli.audio.multi import TOLERANCE_SECONDS, MultiSource
from gladia_cli.errors import UsageError

PULSE_EVERY = 0.5  # seconds of true time between clicks, heard by every input at the same moment


class ClockedInput:
    """A stand-in for a MicrophoneSource: blocks delivered in real time from `start_delay`, its clock `speed` times
    true time, a click at every PULSE_EVERY of true time (so the clicks say when each frame was really heard)."""

    can_wait = False
    overflows = 0
    dropped_seconds = 0.0
    buffered_seconds = 0.0

    def __init__(self, rate: int, start_delay: float, speed: float = 1.0, channels: int = 1, fail_after: int = 0):
        self.format = PcmFormat(sample_rate=rate, channels=channels)
        self.start_delay = start_delay
        self.speed = speed
        self.fail_after = fail_after
        self._closed = threading.Event()

    def check(self) -> None:
        pass

    def start(self) -> None:
        pass

    def chunks(self) -> Iterator[bytes]:
        rate, block = self.format.sample_rate, self.format.sample_rate // 10
        origin = time.monotonic()
        if self._closed.wait(self.start_delay):
            return
        sent = 0
        blocks = 0
        while not self._closed.is_set():
            # frame k was heard at true time start_delay + k / (rate * speed)
            due = origin + self.start_delay + (sent + block) / (rate * self.speed)
            time.sleep(max(0.0, due - time.monotonic()))
            true_t = self.start_delay + (sent + np.arange(block)) / (rate * self.speed)
            samples = np.where(true_t % PULSE_EVERY < 0.003, 0.9, 0.0)  # 3 ms clicks
            yield np.repeat((samples * 32767).astype("<i2"), self.format.channels).tobytes()
            sent += block
            blocks += 1
            if self.fail_after and blocks >= self.fail_after:
                raise UsageError("device 'fake' stopped delivering audio")

    def close(self) -> None:
        self._closed.set()


def _run(source: MultiSource, seconds: float) -> np.ndarray:
    out = bytearray()
    deadline = time.monotonic() + seconds
    for chunk in source.chunks():
        out += chunk
        if time.monotonic() > deadline:
            source.close()
    return np.frombuffer(bytes(out), "<i2").reshape(-1, source.format.channels).T


def _clicks(channel: np.ndarray, rate: int) -> np.ndarray:
    """When each click starts, in seconds of the output."""
    loud = np.flatnonzero(channel > 16000) / rate
    return loud[np.diff(loud, prepend=-1.0) > 0.1]


@pytest.mark.slow  # seconds of its own: out of the inner loop
def test_inputs_that_start_apart_and_drift_come_out_in_step() -> None:
    fmt = PcmFormat(sample_rate=16000, channels=2)
    early = ClockedInput(16000, start_delay=0.0)
    late_fast = ClockedInput(48000, start_delay=0.35, speed=1.004, channels=2)  # another rate, stereo, 0.4 % fast
    source = MultiSource([early, late_fast], fmt, ["a", "b"])  # type: ignore[list-item]
    ch0, ch1 = _run(source, 5.0)
    a, b = _clicks(ch0, 16000), _clicks(ch1, 16000)
    assert len(a) >= 6 and len(b) >= 6
    # After the first two seconds (the start estimate's window), each click of a has b's within the tolerance.
    late = a[a > 2.5]
    offsets = [float(np.min(np.abs(b - t))) for t in late]
    assert max(offsets) <= 2 * TOLERANCE_SECONDS + 0.002, offsets
    # b started 0.35 s late: silence before its first block, and nothing of a dropped for it; b's fast clock
    # (4 ms a second) is trimmed as it goes. Both are said at the end, in words.
    notes = source.capture_notes()
    assert len(notes) == 2 and all("'b'" in note for note in notes), notes
    assert "started recording 0.3 s after the first input" in notes[0] or "0.4 s after" in notes[0], notes
    assert "sound card's clock" in notes[1], notes
    early_lane, fast_lane = source._lanes
    assert early_lane.dropped == 0  # everything a recorded is kept
    assert abs(fast_lane.late / 16000 - 0.35) < 0.02
    assert 0.005 < fast_lane.dropped / 16000 < 0.03


def test_an_input_that_fails_ends_the_source_with_its_error() -> None:
    fmt = PcmFormat(sample_rate=16000, channels=2)
    source = MultiSource(
        [ClockedInput(16000, 0.0), ClockedInput(16000, 0.0, fail_after=5)],  # type: ignore[list-item]
        fmt,
        ["a", "b"],
    )
    with pytest.raises(UsageError, match="stopped delivering"):
        _run(source, 5.0)


@pytest.mark.slow  # seconds of its own: out of the inner loop
def test_a_stalled_input_is_filled_with_silence_so_the_others_go_on() -> None:
    fmt = PcmFormat(sample_rate=16000, channels=2)
    source = MultiSource([ClockedInput(16000, 0.0), ClockedInput(16000, 60.0)], fmt, ["a", "b"])  # type: ignore[list-item]
    ch0, ch1 = _run(source, 6.5)  # a first block is waited for 5 s (STARTUP_SECONDS), then the others go on
    assert len(ch0) >= 16000 and not ch1.any()
    assert any("delivered nothing" in note and "'b'" in note for note in source.capture_notes())
