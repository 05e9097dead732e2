"""Keys in the live view, when stdin is a terminal: one thread reads single keys (no Enter, no echo) and calls the
recording's `Steering`; the terminal's mode is restored on every way out but `kill -9`.

space pauses and resumes · m mutes an input (with several, m then its number) · b drops a bookmark, then an
optional note ended by Enter (Esc drops the note) · q stops as one Ctrl-C · ? shows the keys. Ctrl-C keeps its
meaning: the terminal still turns it into SIGINT.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import select
import sys
import threading
from collections.abc import Callable
from typing import IO, Any

from gladia_cli.errors import GladiaError
from gladia_cli.live.steering import Mark, Steering
from gladia_cli.output.clock import timestamp

HELP = "keys: space pause/resume · m mute · b bookmark (then a note, Enter) · q stop · ? keys"
_ESC = "\x1b"
_MAX_NOTE = 200


class KeyReader:
    """Owned by the run: `start()` puts the terminal in cbreak mode and starts the thread, `close()` restores it and
    joins. `say` gets one line for the person (a change, a refusal, the keys); `typing` the note being typed."""

    def __init__(
        self,
        steering: Steering,
        say: Callable[[str], None],
        typing: Callable[[str | None], None],
        stdin: IO[str] | None = None,
    ) -> None:
        self.steering = steering
        self._say = say
        self._typing = typing
        self._stdin = stdin or sys.stdin
        self._fd = self._stdin.fileno()
        self._saved: Any = None
        self._stop = threading.Event()
        self._wake_r, self._wake_w = os.pipe()  # close() wakes the reader at once: no polling while idle
        self._thread: threading.Thread | None = None
        self._pending: str | None = None  # "m": waiting for an input's number
        self._note: tuple[Mark, list[str]] | None = None

    def start(self) -> None:
        import termios
        import tty

        self._saved = termios.tcgetattr(self._fd)
        atexit.register(self._restore)  # an exception that skips close() still leaves a usable terminal
        tty.setcbreak(self._fd, termios.TCSANOW)
        self._thread = threading.Thread(target=self._read, name="gladia-keys", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        with contextlib.suppress(OSError):
            os.write(self._wake_w, b"x")
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=2)
        self._restore()
        atexit.unregister(self._restore)
        for fd in (self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                os.close(fd)

    def _restore(self) -> None:
        if self._saved is None:
            return
        import termios

        with contextlib.suppress(termios.error, OSError, ValueError):
            termios.tcsetattr(self._fd, termios.TCSADRAIN, self._saved)
        self._saved = None

    def _read(self) -> None:
        while not self._stop.is_set():
            try:
                ready, _, _ = select.select([self._fd, self._wake_r], [], [])
                if self._wake_r in ready or self._stop.is_set():
                    return
                data = os.read(self._fd, 64)
            except (OSError, ValueError):
                return
            if not data:
                return  # the terminal went away
            for char in data.decode("utf-8", "replace"):
                self.key(char)

    def key(self, char: str) -> None:
        """One key, as typed."""
        try:
            self._key(char)
        except GladiaError as exc:
            self._say(exc.message)

    def _key(self, char: str) -> None:
        if self._note is not None:
            self._note_key(char)
            return
        if self._pending == "m":
            self._pending = None
            if char.isdigit() and 1 <= int(char) <= len(self.steering.status().inputs):
                self._toggle_mute(int(char) - 1)
            else:
                self._say("mute cancelled: press m, then an input's number")
            return
        if char == " ":
            paused = self.steering.toggle()
            self._say("paused: nothing is recorded until space" if paused else "resumed")
        elif char in ("m", "M"):
            inputs = self.steering.status().inputs
            if len(inputs) == 1:
                self._toggle_mute(0)
            else:
                self._pending = "m"
                listed = ", ".join(f"{k + 1} {name}" for k, name in enumerate(inputs))
                self._say(f"mute which input? {listed}")
        elif char in ("b", "B"):
            mark = self.steering.bookmark()
            self._note = (mark, [])
            self._typing("")
        elif char in ("q", "Q"):
            self.steering.stop()
        elif char == "?":
            self._say(HELP)

    def _toggle_mute(self, index: int) -> None:
        muted = self.steering.toggle_mute(index)
        name = self.steering.status().inputs[index]
        self._say(f"muted {name}: it records silence" if muted else f"unmuted {name}")

    def _note_key(self, char: str) -> None:
        assert self._note is not None
        mark, typed = self._note
        if char in ("\r", "\n"):
            text = "".join(typed)
            self._note = None
            self._typing(None)
            if text.strip():
                self.steering.note(mark, text)
            self._say(f"bookmark at {timestamp(mark.at)}" + (f": {' '.join(text.split())}" if text.strip() else ""))
        elif char == _ESC:
            self._note = None
            self._typing(None)
            self._say(f"bookmark at {timestamp(mark.at)}")
        elif char in ("\x7f", "\b"):
            if typed:
                typed.pop()
            self._typing("".join(typed))
        elif char.isprintable() and len(typed) < _MAX_NOTE:
            typed.append(char)
            self._typing("".join(typed))
