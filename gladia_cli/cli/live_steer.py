"""A live run's steering, owned by `run_live`: the `Steering` of its source, the control socket `gladia ctl` talks
to, the keys of the live view, SIGUSR1 (toggles pause) and `--stop-after-silence`; all started together, and all
undone together (the terminal's mode and the signal handler restored, the socket removed, the threads joined).

The owner's loop calls `tick()` ten times a second and `on_event()` for each event: like the Ctrl-C handler, the
SIGUSR1 handler only counts, and the loop acts.
"""

from __future__ import annotations

import queue
import signal
import sys
import threading
from dataclasses import dataclass
from types import FrameType
from typing import TYPE_CHECKING, Any

from gladia_cli.audio.format import AudioSource
from gladia_cli.console.terminal import is_tty
from gladia_cli.errors import GladiaError
from gladia_cli.live.events import Event, Progress, Speech, State
from gladia_cli.live.steering import Steering, SteeringStatus
from gladia_cli.output.clock import timestamp

if TYPE_CHECKING:
    from gladia_cli.audio.level import LevelSnapshot
    from gladia_cli.console.keys import KeyReader
    from gladia_cli.console.live_view import LiveRenderer
    from gladia_cli.live.control import ControlServer

QUIET_DBFS = -45.0  # without Gladia's speech events, a peak below this is no one speaking


@dataclass(frozen=True)
class _Typing:
    text: str | None  # a bookmark's note as typed so far; None: done


class RunSteering:
    def __init__(
        self,
        source: AudioSource,
        renderer: LiveRenderer,
        *,
        start_paused: bool = False,
        stop_after_silence: float | None = None,
        price_per_hour: float | None = None,
    ) -> None:
        self.steering = Steering(source, price_per_hour=price_per_hour, start_paused=start_paused)
        self._source = source
        self._renderer = renderer
        self._stop_after = stop_after_silence
        self._server: ControlServer | None = None
        self._keys: KeyReader | None = None
        self._usr1 = 0
        self._usr1_handled = 0
        self._previous_usr1: Any = None
        self._speech_events = False  # Gladia sends speech events: they decide what silence is
        self._sound_at = 0.0  # the recording's clock when someone was last heard
        self._speaking = False
        self.silence_stopped = False
        self.session_ids: list[str] = []  # every Gladia session of the recording, the current one last
        self._said: queue.Queue[str | _Typing] = queue.Queue()
        self.status: SteeringStatus = self.steering.status()  # as of the last tick

    def __enter__(self) -> RunSteering:
        from gladia_cli.live.control import ControlServer

        server = ControlServer(self.steering)
        try:
            server.start()
            self._server = server
        except (GladiaError, OSError) as exc:
            reason = exc.message if isinstance(exc, GladiaError) else (exc.strerror or str(exc))
            self._renderer.notice(f"`gladia ctl` cannot reach this recording: {reason}")
        if threading.current_thread() is threading.main_thread() and hasattr(signal, "SIGUSR1"):
            self._previous_usr1 = signal.signal(signal.SIGUSR1, self._on_usr1)
        stdin = sys.stdin
        if stdin is not None and is_tty(stdin) and self._renderer.live:
            from gladia_cli.console.keys import KeyReader

            # The keys' thread only queues what to show: the renderer is the main thread's alone.
            keys = KeyReader(self.steering, self._said.put, lambda text: self._said.put(_Typing(text)), stdin)
            try:
                keys.start()
                self._keys = keys
            except (OSError, ValueError):
                pass  # a terminal that refuses cbreak mode: the run goes on without keys
        self._renderer.steered(self.steering.status(), keys=self._keys is not None, redraw=False)
        if self.steering.status().paused:
            self._renderer.notice("paused from the start: nothing is recorded until resumed")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._keys is not None:
            self._keys.close()
            self._keys = None
        if self._previous_usr1 is not None:
            signal.signal(signal.SIGUSR1, self._previous_usr1)
            self._previous_usr1 = None
        if self._server is not None:
            self._server.close()
            self._server = None

    def _on_usr1(self, signum: int, frame: FrameType | None) -> None:
        self._usr1 += 1

    # -- the owner's loop --

    def on_event(self, event: Event) -> None:
        if isinstance(event, Speech):
            self._speech_events = True
            self._speaking = event.speaking
            self._sound_at = self._source.kept_seconds

    def tick(self, state: State, progress: Progress, levels: LevelSnapshot | None) -> bool:
        """Act on what was asked since the last tick; True when the recording should stop (as one Ctrl-C)."""
        while not self._said.empty():
            said = self._said.get_nowait()
            if isinstance(said, _Typing):
                self._renderer.typing(said.text)
            else:
                self._renderer.notice(said)
        while self._usr1_handled < self._usr1:
            self._usr1_handled += 1
            try:
                paused = self.steering.toggle()
            except GladiaError as exc:
                self._renderer.notice(exc.message)
                break
            self._renderer.notice("paused (SIGUSR1)" if paused else "resumed (SIGUSR1)")
        status = self.status = self.steering.status()
        self._renderer.steered(status, keys=self._keys is not None)
        if self._server is not None:
            self._server.publish(self._session_part(state, progress, levels))
        if self.steering.stop_wanted.is_set():
            return True
        return self._silence_over(status, levels)

    def _silence_over(self, status: SteeringStatus, levels: LevelSnapshot | None) -> bool:
        if self._stop_after is None or status.paused or self.silence_stopped:
            return False
        now = status.recorded_seconds
        if self._speech_events:
            if self._speaking:
                self._sound_at = now
        elif levels is not None and levels.peak_dbfs and max(levels.peak_dbfs) > QUIET_DBFS:
            self._sound_at = now
        if now - self._sound_at >= self._stop_after:
            self.silence_stopped = True
            self._renderer.notice(f"no speech for {self._stop_after:g} s: stopping (--stop-after-silence)")
            return True
        return False

    def _session_part(self, state: State, progress: Progress, levels: LevelSnapshot | None) -> dict[str, Any]:
        lag = self._renderer.status.view().text_lag
        return {
            "session_id": self.session_ids[-1] if self.session_ids else "",
            "sessions": list(self.session_ids),
            "state": state.value,
            "seconds_sent": round(progress.seconds_sent, 1),
            "seconds_acknowledged": round(progress.seconds_acked, 1),
            "connected": progress.connected,
            "text_lag": None if lag is None else round(lag, 1),
            "levels_dbfs": [round(x, 1) for x in levels.peak_dbfs] if levels is not None else [],
        }

    # -- the end --

    def end_lines(self) -> list[str]:
        """The bookmarks and pauses, for the end of the run."""
        lines = []
        for mark in self.steering.status().marks:
            if mark.kind == "bookmark":
                lines.append(f"bookmark [{timestamp(mark.at)}]" + (f" {mark.text}" if mark.text else ""))
            elif mark.seconds is not None:
                lines.append(f"paused at [{timestamp(mark.at)}] for {mark.seconds:.0f} s")
            else:
                lines.append(f"paused at [{timestamp(mark.at)}] until the end")
        return lines
