"""A microphone started before the command line is read, so `gladia listen` records from its first ~0.1 s.

Reading the flags and the saved defaults, and importing what a live run needs, takes a few hundred milliseconds; a
person who speaks as they press Enter loses those words if the device opens only after that. `begin()` opens the
input a command line most likely names, in a thread, while the rest is still being read; `take()` hands that
started microphone to `inputs.open_microphones` when it is exactly the one the run asked for, and closes it
otherwise (the run then opens its own, as it would have anyway). A wrong guess only costs the time it would have
saved: any problem it meets (no device, a refused format, an unreadable config) is left for the run to report.

One process has one command line, so at most one early start is pending, held here. Until `settle()` returns the
thread may be initialising PortAudio, which silences the C library's stderr (fd 2) for a moment: nothing may be
written to stderr before it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gladia_cli.audio.format import PcmFormat

if TYPE_CHECKING:
    from gladia_cli.audio.capture import MicrophoneSource
    from gladia_cli.audio.portaudio import InputDevice


@dataclass(frozen=True)
class Guess:
    """The input to start (`spec` as `resolve_input` takes it, None: the default input) and how to record it."""

    spec: str | None
    format: PcmFormat
    chunk_ms: int
    buffer_seconds: float


class _EarlyStart:
    def __init__(self, guess: Callable[[], Guess | None]) -> None:
        self._guess = guess
        self.guess: Guess | None = None
        self.mic: MicrophoneSource | None = None
        self._thread = threading.Thread(target=self._open, name="early-capture", daemon=True)
        self._thread.start()

    def _open(self) -> None:
        from gladia_cli.audio.capture import MicrophoneSource
        from gladia_cli.audio.devices import resolve_input

        try:
            guess = self.guess = self._guess()
            if guess is None:
                return
            device = resolve_input(guess.spec)
            mic = MicrophoneSource(
                guess.format,
                device,
                chunk_ms=guess.chunk_ms,
                max_buffer_seconds=guess.buffer_seconds,
                rate_fallback=True,
            )
            mic.start()
        except Exception:
            return  # the run opens the input itself and reports what is wrong, in its own words
        self.mic = mic

    def join(self) -> None:
        self._thread.join()


_pending: _EarlyStart | None = None
_lock = threading.Lock()


def begin(guess: Callable[[], Guess | None]) -> None:
    """Start recording what `guess()` names (None: nothing worth guessing) now, in a thread; `guess` runs there
    too, so reading what it needs costs the caller nothing. A second call does nothing."""
    global _pending
    with _lock:
        if _pending is None:
            _pending = _EarlyStart(guess)


def settle() -> None:
    """Wait for the early start to be done opening: stderr is the process's own again, PortAudio free to use."""
    with _lock:
        pending = _pending
    if pending is not None:
        pending.join()


def take(
    device: InputDevice, fmt: PcmFormat, *, chunk_ms: int, buffer_seconds: float, rate_fallback: bool
) -> MicrophoneSource | None:
    """The microphone started early if it records exactly this (recording since then); else None, and it is closed.

    The device is compared as resolved (a name and an index that are the same input match), the format as asked
    (before a rate fallback), and a fallback it made is only kept when the run allows one.
    """
    pending = _claim()
    if pending is None or pending.mic is None or pending.guess is None:
        return None
    guess, mic = pending.guess, pending.mic
    same = (
        mic.device == device
        and guess.format == fmt
        and guess.chunk_ms == chunk_ms
        and guess.buffer_seconds == buffer_seconds
        and (rate_fallback or mic.format_note is None)
    )
    if same:
        return mic
    mic.close()
    return None


def cancel() -> None:
    """Close a microphone started early that no run took (a refused flag, `--help`): it must not go on recording."""
    pending = _claim()
    if pending is not None and pending.mic is not None:
        pending.mic.close()


def _claim() -> _EarlyStart | None:
    global _pending
    with _lock:
        pending, _pending = _pending, None
    if pending is not None:
        pending.join()
    return pending
