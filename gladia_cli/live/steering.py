"""A running recording steered by a person: pause, mute one input, bookmarks, stop, and what it costs so far.

Keys in the live view, `gladia ctl` over the control socket and SIGUSR1 all call one `Steering`; it applies each
change to the source at once (a paused source keeps nothing it captures, a muted input records silence) and keeps
the timeline: every pause and bookmark at its place on the recording's own clock (`kept_seconds`, on which a pause
takes no time, as on the transcript's), with the wall time. Readers get a `SteeringStatus`; followers get one
per change. Thread-safe; never prints.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from dataclasses import dataclass, field, replace
from typing import Any

from gladia_cli.audio.format import AudioSource
from gladia_cli.errors import UsageError

SECONDS_PER_MINUTE = 60.0
# What can be asked of a running recording (`gladia ctl ACTION`, the control socket's commands).
COMMANDS = ("pause", "resume", "toggle", "mute", "unmute", "bookmark", "stop", "status")


@dataclass(frozen=True)
class Mark:
    """A bookmark, or a pause (`kind` "pause", `wall_end` when it was resumed), on the recording's clock."""

    kind: str  # "bookmark" | "pause"
    at: float  # seconds into the recording (the transcript's clock)
    wall: float  # time.time() when it was made
    text: str = ""
    wall_end: float | None = None

    @property
    def seconds(self) -> float | None:
        """How long a pause lasted, once resumed (None while it goes on, and for a bookmark)."""
        return None if self.wall_end is None else self.wall_end - self.wall


@dataclass(frozen=True)
class SteeringStatus:
    """What `gladia ctl status` and the status line show of the steering (the session adds its own part)."""

    paused: bool
    muted: tuple[str, ...]
    inputs: tuple[str, ...]
    marks: tuple[Mark, ...]
    stop_requested: bool
    recorded_seconds: float
    billed_minutes: float  # Gladia bills audio duration times channels
    cost: float | None  # billed_minutes at the price per hour, when one is saved


@dataclass
class _State:
    paused: bool = False
    muted: set[int] = field(default_factory=set)
    marks: list[Mark] = field(default_factory=list)
    stop_requested: bool = False


class Steering:
    """The one place a running recording is steered from, whichever way a person asks."""

    def __init__(self, source: AudioSource, *, price_per_hour: float | None = None, start_paused: bool = False):
        self._source = source
        self._channels = source.format.channels
        self._price = price_per_hour
        self._lock = threading.Lock()
        self._state = _State()
        self._followers: list[queue.Queue[Any]] = []
        self.stop_wanted = threading.Event()
        if start_paused:
            self.pause()

    # -- what can be asked --

    @property
    def can_pause(self) -> bool:
        return bool(self._source.can_pause)

    def pause(self) -> bool:
        """Stop keeping audio; False (nothing changed) when already paused."""
        self._require_pause()
        with self._lock:
            if self._state.paused:
                return False
            self._state.paused = True
            self._source.set_paused(True)
            self._state.marks.append(Mark("pause", self._source.kept_seconds, time.time()))
        self._notify()
        return True

    def resume(self) -> bool:
        self._require_pause()
        with self._lock:
            if not self._state.paused:
                return False
            self._state.paused = False
            self._source.set_paused(False)
            for k in range(len(self._state.marks) - 1, -1, -1):
                mark = self._state.marks[k]
                if mark.kind == "pause" and mark.wall_end is None:
                    self._state.marks[k] = replace(mark, wall_end=time.time())
                    break
        self._notify()
        return True

    def toggle(self) -> bool:
        """Pause or resume; True when paused afterwards."""
        with self._lock:
            paused = self._state.paused
        if paused:
            self.resume()
        else:
            self.pause()
        return not paused

    def mute(self, name: str, muted: bool = True) -> str:
        """Mute (or unmute) the input named `name` (a name, a unique prefix, or its number from 1); its name."""
        self._require_pause()
        index = self.input_index(name)
        with self._lock:
            if (index in self._state.muted) == muted:
                return self._source.input_names[index]
            self._source.set_muted(index, muted)
            (self._state.muted.add if muted else self._state.muted.discard)(index)
        self._notify()
        return self._source.input_names[index]

    def toggle_mute(self, index: int) -> bool:
        """Mute or unmute input `index` (from 0); True when muted afterwards."""
        with self._lock:
            muted = index in self._state.muted
        self.mute(str(index + 1), not muted)
        return not muted

    def bookmark(self, text: str = "") -> Mark:
        mark = Mark("bookmark", self._source.kept_seconds, time.time(), " ".join(text.split()))
        with self._lock:
            self._state.marks.append(mark)
        self._notify()
        return mark

    def note(self, mark: Mark, text: str) -> None:
        """Give a bookmark just made its note (typed after the key that made it)."""
        with self._lock:
            marks = self._state.marks
            for k in range(len(marks) - 1, -1, -1):
                if marks[k] == mark:
                    marks[k] = replace(mark, text=" ".join(text.split()))
                    break
        self._notify()

    def stop(self) -> None:
        """As one Ctrl-C: the owner's loop stops the session and waits for the result."""
        with self._lock:
            self._state.stop_requested = True
        self.stop_wanted.set()
        self._notify()

    def input_index(self, name: str) -> int:
        names = self._source.input_names
        wanted = name.strip()
        if wanted.isdigit() and 1 <= int(wanted) <= len(names):
            return int(wanted) - 1
        exact = [k for k, n in enumerate(names) if n.casefold() == wanted.casefold()]
        found = exact or [k for k, n in enumerate(names) if n.casefold().startswith(wanted.casefold())]
        if len(found) != 1 or not wanted:
            listed = ", ".join(f"{k + 1} {n!r}" for k, n in enumerate(names))
            what = "matches several inputs" if found else "is no input of this recording"
            raise UsageError(f"{name!r} {what}; the inputs are {listed}")
        return found[0]

    # -- what it is --

    def status(self) -> SteeringStatus:
        recorded = self._source.kept_seconds
        billed = recorded * self._channels / SECONDS_PER_MINUTE
        with self._lock:
            state = self._state
            names = self._source.input_names
            return SteeringStatus(
                paused=state.paused,
                muted=tuple(names[k] for k in sorted(state.muted)),
                inputs=tuple(names),
                marks=tuple(state.marks),
                stop_requested=state.stop_requested,
                recorded_seconds=recorded,
                billed_minutes=billed,
                cost=None if self._price is None else billed / 60.0 * self._price,
            )

    def follow(self) -> queue.Queue[Any]:
        """A queue that receives the status after every change, until `unfollow` (its owner may put its own
        wake-ups in it too)."""
        q: queue.Queue[Any] = queue.Queue(maxsize=256)
        with self._lock:
            self._followers.append(q)
        return q

    def unfollow(self, q: queue.Queue[Any]) -> None:
        with self._lock:
            if q in self._followers:
                self._followers.remove(q)

    # -- internals --

    def _require_pause(self) -> None:
        if not self._source.can_pause:
            raise UsageError("this recording's source cannot be paused or muted (only live inputs can)")

    def _notify(self) -> None:
        status = self.status()
        with self._lock:
            followers = list(self._followers)
        for q in followers:
            with contextlib.suppress(queue.Full):  # a follower that stopped reading misses changes, never blocks
                q.put_nowait(status)


def price_text(cost: float | None) -> str:
    """An estimate as a person reads it: two decimals, more below a cent."""
    if cost is None:
        return ""
    return f"≈{cost:.2f}" if cost >= 0.01 or cost < 0.0001 else f"≈{cost:.4f}"
