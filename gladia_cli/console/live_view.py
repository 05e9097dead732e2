"""What the user sees: finals on stdout (data), a Rich live view of the current partial and status on stderr."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable
from typing import IO, TYPE_CHECKING, Any

from gladia_cli import strict_json
from gladia_cli.console.terminal import is_tty, notice, notice_line, plain_text, same_terminal, shown, stderr_console
from gladia_cli.live.events import (
    AddonFailed,
    Ended,
    Entities,
    Event,
    Notice,
    Progress,
    Sentiments,
    ServerMessage,
    Speech,
    State,
    StateChanged,
    Transcript,
    Translation,
)
from gladia_cli.live.steering import SteeringStatus, price_text
from gladia_cli.output import job_json
from gladia_cli.output import transcript as formats
from gladia_cli.output.clock import timestamp
from gladia_cli.output.output_format import OutputFormat
from gladia_cli.safe_text import for_terminal, redact

if TYPE_CHECKING:
    from collections.abc import Iterator

    from rich.console import Console, ConsoleOptions, RenderableType
    from rich.control import Control
    from rich.live import Live
    from rich.text import Text

    from gladia_cli.audio.level import LevelSnapshot
    from gladia_cli.console.status import StatusView

REFRESH_EVERY = 0.05  # seconds between two redraws for partials alone


LAG_SHOWN = 3.0  # seconds of audio sent but not acknowledged before the status says how little Gladia acknowledged


def status_line(state: State, progress: Progress, *, label: str = "", hint: str = "") -> tuple[str, str]:
    """The live view's last line and its style: what the session is doing and, above all, what it waits for.

    Connection attempts use the numbering of the notices ("retry n/N" while first connecting, "attempt n/N" of
    the reconnection attempts); a link that never opened is "connecting", never "reconnecting".
    """
    tail = f" · {hint}" if hint else ""
    ending = state in (State.STOPPING, State.FINISHING)
    unacked = max(0.0, progress.seconds_sent - progress.seconds_acked)
    if progress.between_sessions and state != State.DONE:
        return f"● between Gladia sessions · {progress.seconds_buffered:.1f} s of audio buffered{tail}", "yellow"
    if not progress.connected and state != State.DONE:
        if progress.reconnecting:
            doing = "reconnecting" + (f" (attempt {progress.attempt}/{progress.attempts})" if progress.attempt else "")
        else:
            doing = "connecting" + (f" (retry {progress.attempt}/{progress.attempts})" if progress.attempt else "…")
        prefix = "stopping: " if ending else ""
        return f"● {prefix}{doing} · {progress.seconds_buffered:.1f} s of audio buffered{tail}", "yellow"
    lag = unacked >= LAG_SHOWN
    acked = f", only {progress.seconds_acked:.1f} s acknowledged" if lag else ""
    sent = f"{progress.seconds_sent:.1f} s sent{acked}"
    style = "yellow" if lag else "cyan"
    if state == State.STOPPING:
        left = progress.seconds_buffered
        doing = f"stopping: sending the last {left:.1f} s" if left >= 0.05 else "stopping: sending what was captured"
        return f"● {doing} · {sent}{tail}", style
    if state == State.FINISHING:
        if progress.post_processing:
            remaining = progress.left_to_process
            what = f" of {remaining:.0f} s of audio" if remaining is not None and remaining >= 0.5 else ""
            return f"● finishing: waiting for Gladia's post-processing{what} · {sent}{tail}", "cyan"
        what = f"{unacked:.1f} s of audio" if unacked >= 0.05 else "the stop"
        return (
            f"● finishing: waiting for Gladia to acknowledge {what} · {progress.seconds_sent:.1f} s sent{tail}",
            style,
        )
    if state == State.DONE:
        return f"● done · {sent}", "cyan"
    label = f" {label}" if label else ""
    return f"● {state.value}{label} · {sent}{tail}", style


STEERED = ("PAUSED", "muted:")  # the status row's first words when steered, kept whatever the width

METER_FLOOR_DBFS = -60.0  # the meter's left end: quieter than this is no sound worth showing
METER_CELLS = 8  # one channel; several get METER_CELLS_EACH each
METER_CELLS_EACH = 5

Segments = list[tuple[str, str]]  # (text, style) pieces of one row


def meter_bar(level: float, hold: float, cells: int) -> str:
    """`▕████··│·▏`: the level in full cells, the peak-hold as a bar (when above the level), from -60 to 0 dBFS."""

    def cell(dbfs: float) -> int:
        return max(0, min(cells, round((dbfs - METER_FLOOR_DBFS) / -METER_FLOOR_DBFS * cells)))

    filled, held = cell(level), cell(hold)
    row = ["█"] * filled + ["·"] * (cells - filled)
    if held > filled:
        row[held - 1] = "│"
    return "▕" + "".join(row) + "▏"


def meter_segments(levels: LevelSnapshot | None) -> Segments:
    """The input level for the status line: one bar per channel, the hold in dBFS (mono), CLIP when a channel
    reached full scale in the last seconds."""
    if levels is None or not levels.peak_dbfs:
        return []
    several = len(levels.peak_dbfs) > 1
    cells = METER_CELLS_EACH if several else METER_CELLS
    out: Segments = []
    for channel, (peak, hold) in enumerate(zip(levels.peak_dbfs, levels.hold_dbfs, strict=False)):
        clipping = channel < len(levels.clipping) and levels.clipping[channel]
        style = "bold red" if clipping else ("yellow" if hold > -6.0 else "green")
        out.append((meter_bar(peak, hold, cells), style))
        if clipping:
            out.append(("CLIP", "bold red"))
        out.append((" ", ""))
    if not several:
        shown = f"{round(levels.hold_dbfs[0]):d}" if levels.hold_dbfs[0] > METER_FLOOR_DBFS else "-∞"
        out.insert(len(out) - 1, (f"{shown:>3} dB", "dim"))
    return out


def status_segments(view: StatusView) -> tuple[Segments, list[str]]:
    """The status line's input and speech part (drawn before the session's state) and what goes after it (the lag)."""
    before = meter_segments(view.levels)
    if view.no_blocks:
        before.append(("no audio from the device ", "bold yellow"))
    elif view.silent:
        before.append(("no sound ", "bold yellow"))
    elif view.speaking is not None:  # Gladia's word, named as Gladia's: not the input's silence
        before.append(
            ("Gladia: speech " if view.speaking else "Gladia: no speech ", "green" if view.speaking else "dim")
        )
    after = []
    if view.text_lag is not None:
        partial = f" (partials {view.partial_lag:.1f} s)" if view.partial_lag is not None else ""
        after.append(f"text lag {view.text_lag:.1f} s{partial}")
    elif view.partial_lag is not None:
        after.append(f"partials lag {view.partial_lag:.1f} s")
    return before, after


def _one_row(text: str) -> str:
    """Server text may hold newlines or tabs: in the live view each item is one row."""
    return " ".join(text.split())


def tail_to_width(text: str, width: int) -> str:
    """The end of `text` in at most `width` cells, "…" where the start was cut: the newest words of a partial."""
    from rich.cells import cell_len

    if cell_len(text) <= width:
        return text
    if width <= 1:
        return "…"[:width]
    kept: list[str] = []
    used = 1  # the ellipsis
    for char in reversed(text):
        size = cell_len(char)
        if used + size > width:
            break
        kept.append(char)
        used += size
    return "…" + "".join(reversed(kept))


class LiveView:
    """The partials and the status, laid out when drawn, at the console's width of that moment: one row each.

    A line that wraps is re-wrapped by the terminal on a resize in ways Rich cannot know; a line that never wraps
    leaves nothing behind (with `anchored_live`, which erases from the view's top to the end of the screen).
    """

    def __init__(
        self, partials: list[str], status: str, style: str, prefix: Segments | None = None, *, typing: str | None = None
    ) -> None:
        self.partials = partials
        self.status = status
        self.style = style
        self.prefix = prefix or []  # the input meter and speech state, drawn before the status
        self.typing = typing  # a bookmark's note being typed: the status row shows it instead

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[Text]:
        from rich.text import Text

        # COLUMNS in the environment fixes Rich's width, but the terminal's own may be narrower by now.
        width = max(1, min(options.max_width, _terminal_columns(console) or options.max_width))
        for partial in self.partials:
            yield Text(tail_to_width(_one_row(partial), width), style="dim italic", no_wrap=True, overflow="crop")
        if self.typing is not None:
            # The newest characters stay in view; what the keys do is said as long as it fits.
            row = f"bookmark note: {_one_row(self.typing)}▏"
            hint = " (Enter keeps it, Esc drops the note)"
            from rich.cells import cell_len

            shown = row + hint if cell_len(row + hint) <= width else tail_to_width(row, width)
            yield Text(shown, style="bold", no_wrap=True, overflow="crop")
            return
        yield self._fitted(width)

    def _fitted(self, width: int) -> Text:
        """The status row at `width`: when all of it does not fit, the details go first (audio sent, then the meter),
        then the state's own detail; what the session is doing and what to do next (Ctrl-C ...) stay to the last."""
        from rich.cells import cell_len
        from rich.text import Text

        parts = for_terminal(self.status).split(" · ")  # device and file names are outside text too
        state = parts[0]
        hint = next((part for part in parts[1:] if part.startswith("Ctrl-C")), "")  # what to do next
        short_state = state.split(":", 1)[0]
        # Paused or muted is never cut: a person must not take a paused recording for a running one.
        steered = [(t, style) for t, style in self.prefix if t.startswith(STEERED)]
        bars = steered + [(t, style) for t, style in self.prefix if t.startswith("▕") or t in (" ", "CLIP")]
        # What follows the hint (`? keys`, the lag, the billed minutes) goes before the state's own details.
        essential = parts[: parts.index(hint) + 1] if hint else parts
        candidates = [
            (self.prefix, parts),
            (self.prefix, essential),
            (self.prefix, [state, hint]),
            (bars, [state, hint]),
            (steered, [state, hint]),  # what it does and what to do next are worth more than the meter
            (bars, [short_state, hint]),
            (steered, [short_state, hint]),
            (bars, [state]),
            (steered, [state]),
            (steered, [short_state]),
        ]
        for prefix, pieces in candidates:
            text = " · ".join(piece for piece in pieces if piece)
            if sum(cell_len(t) for t, _ in prefix) + cell_len(text) <= width:
                break
        else:  # nothing fits whole: paused or muted (else the meter), then the state as far as it goes
            prefix, text = (steered or bars), state
        status = Text(no_wrap=True, overflow="ellipsis")
        for segment, style in prefix:
            status.append(segment, style=style)
        status.append(text, style=self.style)
        status.truncate(width, overflow="ellipsis")  # at `width`, not at the (maybe wider) width of `options`
        return status


def _terminal_columns(console: Console) -> int | None:
    try:
        return os.get_terminal_size(console.file.fileno()).columns or None
    except (AttributeError, OSError, ValueError):
        return None


# The view's rows, erased from its top-left corner down: its own row, then (cursor saved, one row down, restored)
# everything below. A bare "erase below" there is, at the pane's top-left, what tmux takes for a clear screen: with
# its `scroll-on-clear` it pushed every frame of a view at the top of the pane into the scrollback. At the bottom row
# the step down does not move and the erase below only erases the row again.
_ERASE_VIEW = "\r\x1b[K\x1b7\x1b[1B\x1b[J\x1b8"


def anchored_live(console: Console, renderable: RenderableType) -> Live:
    """A Rich Live that parks the cursor at the view's top-left corner and redraws by erasing to the end of screen.

    Rich's own Live leaves the cursor after the view and erases the rows it drew, one by one: when the terminal has
    re-wrapped them since (a narrower window, or the "^C" the tty echoes after a full-width line), that is too few
    rows and the rest stays on screen. The top-left corner does not move when the lines below it re-wrap.
    """
    from rich.control import Control
    from rich.live import Live
    from rich.live_render import LiveRender
    from rich.segment import ControlType, Segment

    def raw(codes: str) -> Control:
        control = Control()
        control.segment = Segment(codes, None, [(ControlType.CARRIAGE_RETURN,)])
        return control

    class AnchoredLiveRender(LiveRender):
        def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[Any]:
            yield from super().__rich_console__(console, options)
            height = self._shape[1] if self._shape is not None else 0  # `last_render_height` is Rich >= 14.3 only
            yield raw("\r" + (f"\x1b[{height - 1}A" if height > 1 else ""))

        def position_cursor(self) -> Control:
            return raw(_ERASE_VIEW) if self._shape is not None else Control()

        def restore_cursor(self) -> Control:
            # Live.stop() has just written a newline after its last refresh: the view's top is one row up.
            return raw("\r\x1b[1A" + _ERASE_VIEW) if self._shape is not None else Control()

    live = Live(
        renderable, console=console, auto_refresh=False, transient=True, redirect_stdout=False, redirect_stderr=False
    )
    live._live_render = AnchoredLiveRender(renderable, vertical_overflow=live.vertical_overflow)
    return live


class LiveRenderer:
    """Fed by the live session's events on the main thread; the only writer of stdout and stderr during a session."""

    def __init__(
        self,
        *,
        output: OutputFormat | str,
        stdout: IO[str] | None = None,
        stderr: IO[str] | None = None,
        show_acks: bool = False,
        multichannel: bool = False,
        show_language: bool = False,
        source_label: str = "",
        live_view: bool | None = None,
        output_file: IO[str] | None = None,
        input_name: str | None = None,
        channel_names: list[str] | None = None,
        timestamps: bool = False,
    ) -> None:
        from gladia_cli.console.status import LiveStatus
        from gladia_cli.live.captions import LiveCaptions

        self.output = OutputFormat(output)
        self.channel_names = channel_names  # `--channel-names`: utterances labelled `me: …` rather than `[ch0] …`
        self.out = stdout or sys.stdout
        self.err = stderr or sys.stderr
        self.show_acks = show_acks
        self.multichannel = multichannel
        self.show_language = show_language
        self.source_label = source_label
        self.output_file = output_file
        self.timestamps = timestamps  # text lines start with [hh:mm:ss]
        self.finals = 0
        self.words = 0  # in the finals, whatever the output format
        self.status = LiveStatus(input_name)
        # -o srt / -o vtt: cues written as their finals arrive (the output is a valid file after each one).
        self.captions = (
            LiveCaptions(self.output, multichannel=multichannel, channel_names=channel_names)
            if self.output.subtitles
            else None
        )
        self.stdout_closed = False  # the reader of stdout went away (`| head`)
        self.spans: list[tuple[int, float, float]] = []  # (channel, start, end) of every final printed
        self._partials: dict[tuple[int, str], str] = {}
        self._failed_addons: set[str] = set()
        self._state = State.CONNECTING
        self._drawn = 0.0  # monotonic time of the last redraw
        self._progress = Progress(0.0, 0.0, connected=False)  # "connecting…" until the session says otherwise
        self._hint = "Ctrl-C to stop"
        self._steering: SteeringStatus | None = None  # pause, mute and what it costs, when the run is steerable
        self._typing: str | None = None  # a bookmark's note being typed
        use_live = is_tty(self.err) if live_view is None else live_view
        # Rich only for a person at a terminal; a log file gets plain lines (and costs nothing to write).
        self._console = stderr_console() if stderr is None and is_tty(self.err) else None
        self._live: Live | None = None
        if use_live and self._console is not None:
            self._live = anchored_live(self._console, self._view())
        # stdout and the live view on one screen: a final must be printed through the view, above the partial,
        # or the two writers garble each other.
        self._through_view = self._live is not None and same_terminal(self.out, self.err)

    @property
    def live(self) -> bool:
        """A live view is drawn (a person watches stderr's terminal)."""
        return self._live is not None

    # -- lifecycle --

    def __enter__(self) -> LiveRenderer:
        if self._live is not None:
            self._live.start()
        header = self.captions.header() if self.captions is not None else None
        if header is not None:
            self._write_out(header)  # with its blank line: a valid WebVTT file before the first cue
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None

    # -- events --

    def handle(self, event: Event) -> None:
        if isinstance(event, ServerMessage):
            if self.output is OutputFormat.jsonl and (self.show_acks or not event.is_ack):
                self._write_out(strict_json.dump_json(self._named(event.message), pretty=False))
        elif isinstance(event, Transcript):
            key = (event.channel, event.utterance_id)
            self.status.on_transcript(event)
            if event.is_final:
                self._partials.pop(key, None)
                if event.start is not None and event.end is not None:
                    self.spans.append((event.channel, event.start, event.end))
                self.words += len(event.text.split())
                if self.captions is not None:
                    for block in self.captions.blocks(event):
                        self._write_out(block)
                if self.output is OutputFormat.text and event.text:
                    self.finals += 1
                    self._write_out(
                        formats.utterance_line(
                            event.text,
                            channel=event.channel if self.multichannel else None,
                            language=event.language if self.show_language else None,
                            channel_name=job_json.channel_name(event.channel, self.channel_names),
                            at=event.start if self.timestamps and event.start is not None else None,
                        )
                    )
            else:
                name = job_json.channel_name(event.channel, self.channel_names)
                text = for_terminal(event.text) if event.text else event.text
                self._partials[key] = f"{for_terminal(name)}: {text}" if name and text else text
        elif isinstance(event, Translation):
            if self.output is OutputFormat.text:
                self._write_out(f"  [{event.target_language}] {event.text}")
        elif isinstance(event, Entities):
            if self.output is OutputFormat.text:
                self._write_out("  [entities] " + ", ".join(f"{text} ({kind})" for text, kind in event.entities))
        elif isinstance(event, Sentiments):
            if self.output is OutputFormat.text:
                self._write_out("  [sentiment] " + ", ".join(f"{s} ({e})" if e else s for s, e in event.results))
        elif isinstance(event, AddonFailed):
            self.addon_failed(f"{event.addon} failed: {event.message}")
        elif isinstance(event, Speech):
            self.status.on_speech(event)
        elif isinstance(event, Notice):
            self.notice(event.text)
        elif isinstance(event, StateChanged):
            self._state = event.state
            if event.state in (State.STOPPING, State.FINISHING):
                self._hint = "Ctrl-C again to abort"
        elif isinstance(event, Progress):
            self._progress = event
            for text in self.status.on_progress(event, streaming=self._state == State.STREAMING):
                self.notice(text)
        elif isinstance(event, Ended):
            self._partials.clear()
        partial = isinstance(event, Transcript) and not event.is_final
        self.refresh(soon=partial)

    def levels(self, snapshot: LevelSnapshot | None) -> None:
        """A new input-level reading (the owner reads the microphone's meter ~10 times a second)."""
        for text in self.status.on_levels(snapshot):
            self.notice(text)
        self.refresh()

    def steered(self, status: SteeringStatus | None, *, keys: bool = False, redraw: bool = True) -> None:
        """The recording's steering as it is now (paused, muted inputs, billed minutes); `keys`: the view takes
        keys, so the hint says how to see them. `redraw=False` before the view's first tick: a first frame drawn
        before the connection's first one was left on the screen above the notices."""
        self._steering = status
        self.status.steered(status)
        if keys and self._hint == "Ctrl-C to stop":
            self._hint = "Ctrl-C to stop · ? keys"
        if redraw:
            self.refresh()

    def paused(self, at: float, seconds: float) -> None:
        """A pause that ended, in the text's timeline (`--timestamps`): the audio sent has no gap, so the text
        alone would not show that anything was left out."""
        if self.output is OutputFormat.text and self.timestamps:
            self._write_out(f"[{timestamp(at)}] (paused for {seconds:.0f} s)")

    def typing(self, text: str | None) -> None:
        """The note of a bookmark as it is typed (None: done)."""
        self._typing = text
        self.refresh()

    def notice(self, text: str) -> None:
        """A one-line message for the person (warnings, status); never on stdout."""
        if self._console is not None:
            target = self._live.console if self._live is not None else self._console
            # Not markup: server text such as "[ch0]" or ":smile:" is shown as sent.
            line = plain_text(notice_line(text))
            line.stylize("yellow", 0, len(notice_line("").rstrip()))  # the "gladia:" prefix
            target.print(line, soft_wrap=False)  # wrapped between words: the terminal would cut them
        else:
            notice(text, self.err)

    def addon_failed(self, line: str) -> None:
        """Once per failed add-on, however many of its messages (one per utterance) or results say so."""
        if line not in self._failed_addons:
            self._failed_addons.add(line)
            self.notice(line)

    def write_result(self, text: str) -> None:
        self._write_out(text)

    def refresh(self, *, soon: bool = False) -> None:
        """Redraw the view; `soon` (a partial) may wait for the next redraw, at most REFRESH_EVERY away (the owner
        ticks ten times a second): a server sending thousands of partials a second costs draws, not seconds."""
        if self._live is None:
            return
        import time

        now = time.monotonic()
        if soon and now - self._drawn < REFRESH_EVERY:
            return
        self._drawn = now
        self._live.update(self._view(), refresh=True)

    # -- internals --

    def _write_out(self, line: str) -> None:
        if self.output_file is not None:
            # Appended and flushed as it arrives: a killed process leaves every line so far.
            self.output_file.write(redact(line) + "\n")
            self.output_file.flush()
        if self._through_view and self._live is not None:
            # Printed as is: no markup, no emoji codes (":thumbs_up:"), no highlighting.
            self._live.console.print(plain_text(line), soft_wrap=True)
            return
        if self.stdout_closed:
            return
        try:
            self.out.write(shown(line, self.out) + "\n")
            self.out.flush()
        except BrokenPipeError:
            self.stdout_closed = True
            # Point stdout at /dev/null so the interpreter's final flush does not fail again.
            with contextlib.suppress(OSError, ValueError):
                os.dup2(os.open(os.devnull, os.O_WRONLY), self.out.fileno())

    def _named(self, message: dict[str, Any]) -> dict[str, Any]:
        """A transcript message with `channel_name` beside its utterance's channel, when names were given."""
        data = message.get("data") if isinstance(message, dict) else None
        utterance = data.get("utterance") if isinstance(data, dict) else None
        if not self.channel_names or not isinstance(data, dict) or not isinstance(utterance, dict):
            return message
        name = job_json.channel_name(job_json.channel_of(utterance), self.channel_names)
        return {**message, "data": {**data, "utterance": {**utterance, "channel_name": name}}}

    def _view(self) -> LiveView:
        partials = [text for text in self._partials.values() if text]
        if self._typing is not None:
            return LiveView(partials, "", "bold", [], typing=for_terminal(self._typing))
        before, after = status_segments(self.status.view())
        steering = self._steering
        if steering is not None:
            # Where the eye goes first: a paused or muted recording must never be taken for a running one.
            first: Segments = []
            if steering.paused:
                first.append((STEERED[0] + " ", "bold reverse yellow"))
            if steering.muted:
                first.append((f"{STEERED[1]} {for_terminal(', '.join(steering.muted))} ", "bold yellow"))
            before = first + before
            after = [*after, billed_text(steering)]
        hint = " · ".join([self._hint, *after] if self._hint else after)  # the lag last: cut first when narrow
        status, style = status_line(self._state, self._progress, label=self.source_label, hint=hint)
        return LiveView(partials, status, style, before)


def billed_text(status: SteeringStatus) -> str:
    """'2.4 min billed ≈0.02': Gladia bills audio duration times channels; the estimate only with a saved price."""
    cost = f" {price_text(status.cost)}" if status.cost is not None else ""
    return f"{status.billed_minutes:.1f} min billed{cost}"


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
            self._status = stderr_console().status(plain_text(f"{self.label}: starting"))
            self._status.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._status is not None:
            self._status.__exit__(None, None, None)
            self._status = None

    def line(self, text: str) -> str:
        import time

        return f"{self.label}: {text} ({time.monotonic() - self._started:.0f} s)"

    def show(self, text: str, step: str | None = None) -> None:
        """`step` names the change worth a line of its own with -v (default: the text's first word)."""
        with self._lock:
            if self._status is not None:
                self._status.update(_Redrawn(lambda: self.line(text)))  # the clock moves between polls too
            else:
                key = step or text.split(" ")[0]
                if self._verbose and key != self._last:
                    self._last = key
                    notice(self.line(text))

    def upload(self, sent: int, total: int) -> None:
        percent = sent * 100 // max(total, 1)
        # With -v: a line at 0, 25, 50, 75 and 100 %, so the last one says the upload is complete.
        self.show(f"uploading {percent}% of {total / 1e6:.1f} MB", step=f"uploading {percent // 25}")

    def update(self, job: dict[str, Any]) -> None:
        self.show(str(job.get("status", "waiting")))


class _Redrawn:
    """A status text made again at each refresh (rich renders it ~12 times a second): the elapsed seconds count on
    while nothing new is reported, instead of moving once per report."""

    def __init__(self, line: Callable[[], str]) -> None:
        self._line = line

    def __rich__(self) -> Any:
        return plain_text(self._line())  # job states and file names: never markup


class BatchProgress:
    """A batch's status line on stderr while it runs: how many inputs are done, and what each running one is doing
    (uploading 40%, queued, processing), with the elapsed time. With -v and no terminal: a line per change."""

    def __init__(self, total: int, *, verbose: bool = False) -> None:
        import threading
        import time

        self.total = total
        self._verbose = verbose
        self._running: dict[str, str] = {}
        self._said: dict[str, str] = {}
        self._done = 0
        self._status: Any = None
        self._started = time.monotonic()
        self._lock = threading.Lock()  # worker threads report; the main thread draws

    def __enter__(self) -> BatchProgress:
        if is_tty(sys.stderr):
            self._status = stderr_console().status(_Redrawn(self.line))
            self._status.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._status is not None:
            self._status.__exit__(None, None, None)
            self._status = None

    def running(self, source: str, text: str, *, step: str | None = None) -> None:
        with self._lock:
            self._running[source] = text
            key = step or text.split(" ")[0]
            if self._status is None and self._verbose and self._said.get(source) != key:
                self._said[source] = key
                notice(f"{source}: {text}")

    def finished(self, source: str) -> None:
        with self._lock:
            self._running.pop(source, None)
            self._done += 1

    def line(self) -> str:
        import os
        import time

        with self._lock:
            parts = [f"{os.path.basename(source) or source} {text}" for source, text in self._running.items()]
            done = self._done
        waiting = self.total - done - len(parts)
        head = f"{done}/{self.total} done" + (f", {waiting} waiting" if waiting > 0 else "")
        return f"{head}: {'; '.join(parts) or 'starting'} ({time.monotonic() - self._started:.0f} s)"
