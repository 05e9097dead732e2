"""What the person at the microphone is told besides the transcript: input level, whether Gladia hears speech, how far
the text trails the audio, and the few warnings worth one notice each (a silent or dead input, a slow connection).

Pure state fed by the owner's thread (the renderer): level snapshots, session progress, transcripts and speech events
go in; a `StatusView` (drawn by `render.py`) and notice texts come out. Time is injectable for tests.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from gladia_cli.audio.level import LevelSnapshot
from gladia_cli.live.events import Progress, Speech, Transcript
from gladia_cli.live.steering import SteeringStatus

DEVICES_ADVICE = "`gladia devices` lists the inputs, --device NAME picks one"
# Unacknowledged audio growing for this long (wall time) is a connection slower than the audio, not a hiccup.
SLOW_WINDOW_SECONDS = 20.0
SLOW_MIN_UNACKED = 5.0  # seconds of audio unacknowledged before the slow-connection notice can be given
SLOW_MIN_RATE = 0.05  # seconds of backlog gained per second, below which it is noise
LIGHTER_FORMAT = "--encoding wav/ulaw --sample-rate 8000 carries a quarter of the data of 16 kHz PCM"


@dataclass(frozen=True)
class StatusView:
    """What the status line shows beside the session's state."""

    levels: LevelSnapshot | None = None
    speaking: bool | None = None  # None until Gladia sent a speech event
    text_lag: float | None = None  # audio sent minus the end of the latest final, when it arrived
    partial_lag: float | None = None  # the same for the latest partial
    silent: bool = False  # the silent-input notice is standing
    no_blocks: bool = False  # the device delivers nothing


class LiveStatus:
    """Decides what the status shows and which notices to give, once each, from what the session and the mic say."""

    def __init__(self, input_name: str | None = None, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.input_name = input_name
        self._clock = clock
        self._levels: LevelSnapshot | None = None
        self._speaking: dict[int, bool] = {}
        self._sent = 0.0
        self._text_lag: float | None = None
        self._partial_lag: float | None = None
        self._silent = False
        self._no_blocks = False
        self._slow_said = False
        self._backlog: deque[tuple[float, float]] = deque()  # (wall time, unacknowledged seconds) while streaming
        self._silent_inputs: set[str] = set()  # several inputs: those whose silence is said and standing
        self._stalled_inputs: set[str] = set()
        self._paused = False
        self._muted: tuple[str, ...] = ()

    def steered(self, status: SteeringStatus | None) -> None:
        """Paused or muted on purpose: the silence that follows is no sign of a wrong or dead input."""
        self._paused = bool(status and status.paused)
        self._muted = status.muted if status is not None else ()

    # -- input --

    def on_levels(self, snapshot: LevelSnapshot | None) -> list[str]:
        """A new meter reading; the notices it calls for (silence, a device that delivers nothing, and their end)."""
        if snapshot is None:
            return []
        self._levels = snapshot
        if self._paused or (self._muted and not snapshot.inputs):
            return []  # nothing is recorded, or silence on purpose: no notice about the input
        if snapshot.inputs:
            return self._each_input(snapshot)
        said: list[str] = []
        device = f"{self.input_name!r}" if self.input_name else "the microphone"
        if snapshot.no_blocks and not self._no_blocks:
            self._no_blocks = True
            said.append(
                f"{device} delivers no audio at all: is it unplugged, or used by another program? {DEVICES_ADVICE}"
            )
        elif not snapshot.no_blocks and self._no_blocks:
            self._no_blocks = False
            said.append(f"{device} delivers audio again")
        if self._no_blocks:
            return said
        if snapshot.silent and not self._silent:
            self._silent = True
            said.append(
                f"no sound from {device} for {snapshot.silent_seconds:.0f} s: muted, volume down, wrong input? "
                f"({DEVICES_ADVICE})"
            )
        elif not snapshot.silent and self._silent:
            self._silent = False
            said.append(f"sound is back from {device}")
        return said

    def _each_input(self, snapshot: LevelSnapshot) -> list[str]:
        """Several inputs: each one's silence or stall is said of it, once, and its end too (the call goes on)."""
        said: list[str] = []
        for name, silent, stalled in zip(snapshot.inputs, snapshot.silent_inputs, snapshot.stalled_inputs, strict=True):
            if stalled and name not in self._stalled_inputs:
                self._stalled_inputs.add(name)
                said.append(f"{name!r} delivers no audio at all: is it unplugged, or used by another program?")
            elif not stalled and name in self._stalled_inputs:
                self._stalled_inputs.discard(name)
                said.append(f"{name!r} delivers audio again")
            if stalled or name in self._muted:
                continue
            if silent and name not in self._silent_inputs:
                self._silent_inputs.add(name)
                said.append(f"no sound from {name!r}: muted, volume down, wrong input? ({DEVICES_ADVICE})")
            elif not silent and name in self._silent_inputs:
                self._silent_inputs.discard(name)
                said.append(f"sound is back from {name!r}")
        self._silent = bool(self._silent_inputs)
        self._no_blocks = len(self._stalled_inputs) == len(snapshot.inputs)
        return said

    def on_progress(self, progress: Progress, *, streaming: bool) -> list[str]:
        """Track audio sent and the unacknowledged backlog; say once when the link cannot keep up with the audio."""
        self._sent = progress.seconds_sent
        if not (streaming and progress.connected):
            self._backlog.clear()  # a reconnection's backlog says nothing about the link's speed
            return []
        now = self._clock()
        unacked = max(0.0, progress.seconds_sent - progress.seconds_acked)
        self._backlog.append((now, unacked))
        while len(self._backlog) > 2 and now - self._backlog[1][0] >= SLOW_WINDOW_SECONDS:
            self._backlog.popleft()
        if self._slow_said:
            return []
        then, before = self._backlog[0]
        elapsed = now - then
        if elapsed < SLOW_WINDOW_SECONDS or unacked < SLOW_MIN_UNACKED:
            return []
        rate = (unacked - before) / elapsed
        # Growing over the whole window, not a burst: the backlog was never back down to its start since.
        if rate < SLOW_MIN_RATE or min(u for _, u in self._backlog) < before:
            return []
        self._slow_said = True
        return [
            f"the connection is slower than the audio: unacknowledged audio grows by {rate:.2f} s every second "
            f"({unacked:.0f} s now); a lighter format helps ({LIGHTER_FORMAT}), or a faster network"
        ]

    # -- what Gladia said --

    def on_transcript(self, transcript: Transcript) -> None:
        if transcript.end is None:
            return
        lag = max(0.0, self._sent - transcript.end)
        if transcript.is_final:
            self._text_lag = lag
        else:
            self._partial_lag = lag

    def on_speech(self, speech: Speech) -> None:
        self._speaking[speech.channel] = speech.speaking

    # -- output --

    def view(self) -> StatusView:
        return StatusView(
            levels=self._levels,
            speaking=any(self._speaking.values()) if self._speaking else None,
            text_lag=self._text_lag,
            partial_lag=self._partial_lag,
            silent=self._silent,
            no_blocks=self._no_blocks,
        )
