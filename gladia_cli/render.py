"""What the user sees: finals on stdout (data), a Rich live view of the current partial and status on stderr."""

from __future__ import annotations

import contextlib
import os
import sys
from typing import IO, TYPE_CHECKING, Any

from gladia_cli import formats
from gladia_cli.live import (
    Ended,
    Event,
    Notice,
    Progress,
    ServerMessage,
    State,
    StateChanged,
    Transcript,
    Translation,
)

if TYPE_CHECKING:
    from rich.console import Console, RenderableType
    from rich.live import Live


def is_tty(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def same_terminal(a: IO[str], b: IO[str]) -> bool:
    """stdout and stderr on one screen: finals must then be printed through the live view, above the partial."""
    try:
        sa, sb = os.fstat(a.fileno()), os.fstat(b.fileno())
    except (AttributeError, OSError, ValueError):
        return False
    return (sa.st_dev, sa.st_ino, sa.st_rdev) == (sb.st_dev, sb.st_ino, sb.st_rdev)


def stderr_console() -> Console:
    from rich.console import Console

    return Console(stderr=True, highlight=False)


STATE_TEXT = {
    State.CONNECTING: "connecting",
    State.STREAMING: "streaming",
    State.STOPPING: "stopping: sending what was captured",
    State.FINISHING: "finishing: waiting for Gladia's post-processing",
    State.DONE: "done",
}


class LiveRenderer:
    """Fed by the live session's events on the main thread; the only writer of stdout and stderr during a session."""

    def __init__(
        self,
        *,
        output: str,
        stdout: IO[str] | None = None,
        stderr: IO[str] | None = None,
        show_acks: bool = False,
        multichannel: bool = False,
        show_language: bool = False,
        source_label: str = "",
        live_view: bool | None = None,
        output_file: IO[str] | None = None,
    ) -> None:
        self.output = output
        self.out = stdout or sys.stdout
        self.err = stderr or sys.stderr
        self.show_acks = show_acks
        self.multichannel = multichannel
        self.show_language = show_language
        self.source_label = source_label
        self.output_file = output_file
        self.finals = 0
        self.stdout_closed = False  # the reader of stdout went away (`| head`)
        self.spans: list[tuple[int, float, float]] = []  # (channel, start, end) of every final printed
        self._partials: dict[tuple[int, str], str] = {}
        self._state = State.CONNECTING
        self._progress = Progress(0.0, 0.0)
        self._hint = "Ctrl-C to stop"
        use_live = is_tty(self.err) if live_view is None else live_view
        # Rich only for a person at a terminal; a log file gets plain lines (and costs nothing to write).
        self._console = stderr_console() if stderr is None and is_tty(self.err) else None
        self._live: Live | None = None
        if use_live and self._console is not None:
            from rich.live import Live

            self._live = Live(
                self._view(),
                console=self._console,
                auto_refresh=False,
                transient=True,
                redirect_stdout=False,
                redirect_stderr=False,
            )
        # stdout and the live view on one screen: a final must be printed through the view, above the partial,
        # or the two writers garble each other.
        self._through_view = self._live is not None and same_terminal(self.out, self.err)

    # -- lifecycle --

    def __enter__(self) -> LiveRenderer:
        if self._live is not None:
            self._live.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None

    # -- events --

    def handle(self, event: Event) -> None:
        if isinstance(event, ServerMessage):
            if self.output == "jsonl" and (self.show_acks or not event.is_ack):
                self._write_out(formats.dump_json(event.message, pretty=False))
        elif isinstance(event, Transcript):
            key = (event.channel, event.utterance_id)
            if event.is_final:
                self._partials.pop(key, None)
                if event.start is not None and event.end is not None:
                    self.spans.append((event.channel, event.start, event.end))
                if self.output == "text" and event.text:
                    self.finals += 1
                    self._write_out(
                        formats.utterance_line(
                            event.text,
                            channel=event.channel if self.multichannel else None,
                            language=event.language if self.show_language else None,
                        )
                    )
            else:
                self._partials[key] = event.text
        elif isinstance(event, Translation):
            if self.output == "text":
                self._write_out(f"  [{event.target_language}] {event.text}")
        elif isinstance(event, Notice):
            self.notice(event.text)
        elif isinstance(event, StateChanged):
            self._state = event.state
            if event.state in (State.STOPPING, State.FINISHING):
                self._hint = "Ctrl-C again to abort"
        elif isinstance(event, Progress):
            self._progress = event
        elif isinstance(event, Ended):
            self._partials.clear()
        self.refresh()

    def notice(self, text: str) -> None:
        """A one-line message for the person (warnings, status); never on stdout."""
        if self._console is not None:
            target = self._live.console if self._live is not None else self._console
            target.print(f"[yellow]gladia:[/] {text}", markup=True, highlight=False, soft_wrap=True)
        else:
            self.err.write(f"gladia: {text}\n")
            self.err.flush()

    def write_result(self, text: str) -> None:
        self._write_out(text)

    def refresh(self) -> None:
        if self._live is not None:
            self._live.update(self._view(), refresh=True)

    # -- internals --

    def _write_out(self, line: str) -> None:
        if self.output_file is not None:
            # Appended and flushed as it arrives: a killed process leaves every line so far.
            self.output_file.write(line + "\n")
            self.output_file.flush()
        if self._through_view and self._live is not None:
            self._live.console.print(line, markup=False, highlight=False, soft_wrap=True, style="")
            return
        if self.stdout_closed:
            return
        try:
            self.out.write(line + "\n")
            self.out.flush()
        except BrokenPipeError:
            self.stdout_closed = True
            # Point stdout at /dev/null so the interpreter's final flush does not fail again.
            with contextlib.suppress(OSError, ValueError):
                os.dup2(os.open(os.devnull, os.O_WRONLY), self.out.fileno())

    def _view(self) -> RenderableType:
        from rich.text import Text

        view = Text()
        for text in self._partials.values():
            if text:
                view.append(text + "\n", style="dim italic")
        status: Any = STATE_TEXT[self._state]
        progress = self._progress
        label = f" {self.source_label}" if self.source_label else ""
        if not progress.connected and self._state != State.DONE:
            # The same n/N as the notices: n of --reconnect-attempts (retries of the first opening while connecting).
            attempt = f" (attempt {progress.attempt}/{progress.attempts})" if progress.attempt else ""
            doing = "connecting" if self._state == State.CONNECTING else "reconnecting"
            view.append(
                f"● {doing}{attempt} · {progress.seconds_buffered:.1f} s of audio buffered · {self._hint}",
                style="yellow",
            )
            return view
        view.append(f"● {status}{label} · {progress.seconds_sent:.1f} s sent · {self._hint}", style="cyan")
        return view


class JobProgress:
    """One spinner line on stderr while a job runs: upload percentage, then status and elapsed time.

    Silent when stderr is not a terminal, unless `verbose` (the official CLI's -v): then one line per change.
    """

    def __init__(self, label: str, *, verbose: bool = False) -> None:
        import threading
        import time

        self.label = label
        self._verbose = verbose
        self._last = ""
        self._status: Any = None
        self._started = time.monotonic()
        self._lock = threading.Lock()  # batch workers and the main thread may both report

    def __enter__(self) -> JobProgress:
        if is_tty(sys.stderr):
            self._status = stderr_console().status(f"{self.label}: starting")
            self._status.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._status is not None:
            self._status.__exit__(None, None, None)
            self._status = None

    def show(self, text: str) -> None:
        import time

        line = f"{self.label}: {text} ({time.monotonic() - self._started:.0f} s)"
        with self._lock:
            if self._status is not None:
                self._status.update(line)
            elif self._verbose and text.split(" ")[0] != self._last:
                self._last = text.split(" ")[0]
                sys.stderr.write(f"gladia: {line}\n")
                sys.stderr.flush()

    def upload(self, sent: int, total: int) -> None:
        self.show(f"uploading {sent * 100 // max(total, 1)}% of {total / 1e6:.1f} MB")

    def update(self, job: dict[str, Any]) -> None:
        self.show(str(job.get("status", "waiting")))
