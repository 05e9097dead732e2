"""The live view: what its status line says (lag, what the end waits for, attempt numbers), that every line of it
fits one terminal row, and what a person sees of it in a real terminal (tmux): resizes, Ctrl-C, verbatim text."""

from __future__ import annotations

import io
import shlex
import shutil
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import requests
from emulator import GladiaEmulator
from sources import CHUNK, FMT, BytesSource
from test_tmux_screen import Tmux, _env
from wavs import write_wav

from gladia_cli.console.live_view import LiveView, status_line, tail_to_width
from gladia_cli.live.events import Ended, Event, Notice, Progress, State
from gladia_cli.live.session import LiveSession, ReconnectPolicy

needs_tmux = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


# --- the status line ------------------------------------------------------------------------------------------------


def test_streaming_status_says_how_much_gladia_has_not_acknowledged() -> None:
    healthy, _ = status_line(State.STREAMING, Progress(19.2, 18.9), label="from default", hint="Ctrl-C to stop")
    assert healthy == "● streaming from default · 19.2 s sent · Ctrl-C to stop"
    silent, style = status_line(State.STREAMING, Progress(19.2, 0.0), label="from default", hint="Ctrl-C to stop")
    assert silent == "● streaming from default · 19.2 s sent, only 0.0 s acknowledged · Ctrl-C to stop"
    assert style == "yellow"


def test_the_end_says_what_it_waits_for() -> None:
    hint = "Ctrl-C again to abort"
    sending, _ = status_line(State.STOPPING, Progress(5.0, 5.0, seconds_buffered=1.5), hint=hint)
    assert sending.startswith("● stopping: sending the last 1.5 s")
    unacked, _ = status_line(State.FINISHING, Progress(19.2, 0.0), hint=hint)
    assert "finishing: waiting for Gladia to acknowledge 19.2 s of audio" in unacked
    assert "post-processing" not in unacked
    stop, _ = status_line(State.FINISHING, Progress(19.2, 19.2), hint=hint)
    assert "finishing: waiting for Gladia to acknowledge the stop" in stop
    post, _ = status_line(State.FINISHING, Progress(19.2, 19.2, post_processing=True), hint=hint)
    assert "finishing: waiting for Gladia's post-processing" in post


def test_attempts_use_the_numbering_of_the_notices() -> None:
    first = Progress(0, 0, 3.0, connected=False, attempt=4, attempts=10)
    again = Progress(0, 0, 3.0, connected=False, attempt=4, attempts=10, reconnecting=True)
    assert status_line(State.CONNECTING, first)[0].startswith("● connecting (retry 4/10) · 3.0 s")
    assert status_line(State.STREAMING, again)[0].startswith("● reconnecting (attempt 4/10)")
    # Ctrl-C before the first connection ever opened: still connecting, not "reconnecting".
    stopping = status_line(State.STOPPING, first)[0]
    assert "connecting (retry 4/10)" in stopping and "reconnecting" not in stopping


def test_every_line_of_the_view_fits_one_row() -> None:
    from rich.console import Console

    partial = "the partial grows word by word and the newest words are the ones worth seeing now"
    status = "● streaming from a_rather_long_source_name.wav · 123.4 s sent · Ctrl-C to stop"
    for width in (100, 50, 20, 2):
        out = io.StringIO()
        Console(file=out, width=width, force_terminal=False).print(LiveView([partial], status, "cyan"))
        lines = out.getvalue().splitlines()
        assert len(lines) == 2 and all(len(line) <= width for line in lines), (width, lines)
    assert tail_to_width(partial, 20).endswith("seeing now") and tail_to_width(partial, 20).startswith("…")
    assert len(tail_to_width(partial, 20)) == 20
    assert tail_to_width("日本語のテキスト", 7) == "…キスト"  # wide characters count two cells


# --- the session's events -------------------------------------------------------------------------------------------


def _session_events(emu: GladiaEmulator, policy: ReconnectPolicy, pcm: bytes, limit: float, stop: bool = False) -> list:
    created = requests.post(f"{emu.base_url}/v2/live", json={}, headers={"x-gladia-key": "test-key"}, timeout=5).json()
    source = BytesSource(pcm, interval=0.05)
    session = LiveSession(session_id=created["id"], url=created["url"], source=source, fmt=FMT, policy=policy)
    session.start()
    events: list[Event] = []
    deadline = time.monotonic() + limit
    try:
        while time.monotonic() < deadline:
            try:
                event = session.events.get(timeout=0.05)
            except Exception:
                continue
            events.append(event)
            if stop and isinstance(event, Notice) and "retry 2/" in event.text:
                session.request_stop()
                events.append(session.progress())
            if isinstance(event, Ended):
                break
    finally:
        session.abort()
        session.join(0.5)
    return events


@pytest.mark.slow  # seconds of its own: out of the inner loop
@pytest.mark.timeout(30)
def test_an_ack_timeout_is_one_notice(emulator: GladiaEmulator) -> None:
    emulator.silent = True
    policy = ReconnectPolicy(ack_timeout=0.5, max_attempts=3, max_seconds=10, base_delay=0.05)
    events = _session_events(emulator, policy, np.random.default_rng(1).bytes(CHUNK * 100), limit=6)
    notices = [e.text for e in events if isinstance(e, Notice)]
    assert notices and notices[0].startswith("Gladia sent nothing for 0.5 s while "), notices
    assert notices[0].endswith(" of audio awaited its acknowledgement; reconnecting"), notices
    assert not any("connection lost" in n for n in notices), notices
    assert len([n for n in notices if "sent nothing" in n]) == emulator.only_session().connections - 1, notices


def _attempts_before_notices(events: list) -> list[tuple[int, int]]:
    """(n of each "… n/N in" notice, the attempt of the last Progress before it)."""
    import re

    pairs = []
    last: Progress | None = None
    for event in events:
        if isinstance(event, Progress):
            last = event
        elif isinstance(event, Notice) and (match := re.search(r"(\d+)/\d+ in ", event.text)):
            pairs.append((int(match.group(1)), last.attempt if last else -1))
    return pairs


@pytest.mark.slow  # seconds of its own: out of the inner loop
@pytest.mark.timeout(30)
def test_the_status_numbers_the_attempt_the_notice_announced(emulator: GladiaEmulator) -> None:
    emulator.refuse_connections = 4
    policy = ReconnectPolicy(max_attempts=11, base_delay=0.01)
    events = _session_events(emulator, policy, np.random.default_rng(2).bytes(CHUNK * 10), limit=10)
    pairs = _attempts_before_notices(events)
    assert [n for n, _ in pairs] == [1, 2, 3, 4], events
    assert all(n == shown for n, shown in pairs), pairs
    assert not any(isinstance(e, Progress) and e.reconnecting for e in events)

    emulator.refuse_connections = 0
    emulator.drop_after_bytes = [CHUNK * 5]
    emulator.refuse_after_fault = 3
    events = _session_events(emulator, policy, np.random.default_rng(3).bytes(CHUNK * 20), limit=15)
    pairs = _attempts_before_notices(events)
    assert [n for n, _ in pairs] == [2, 3, 4], events
    assert all(n == shown for n, shown in pairs), pairs
    assert any(isinstance(e, Progress) and e.reconnecting and not e.connected for e in events)


@pytest.mark.timeout(30)
def test_ctrl_c_before_the_first_connection_is_still_connecting(emulator: GladiaEmulator) -> None:
    emulator.refuse_connections = 1000
    policy = ReconnectPolicy(max_attempts=11, base_delay=0.05, max_delay=0.1)
    events = _session_events(emulator, policy, np.random.default_rng(4).bytes(CHUNK * 10), limit=3, stop=True)
    after = events[next(i for i, e in enumerate(events) if isinstance(e, Notice) and "retry 2/" in e.text) + 1 :]
    progress = [e for e in after if isinstance(e, Progress)]
    assert progress and not any(p.reconnecting for p in progress)
    assert "● stopping: connecting (retry" in status_line(State.STOPPING, progress[-1])[0]


# --- in a real terminal ---------------------------------------------------------------------------------------------


@pytest.fixture
def tmux() -> Iterator[Tmux]:
    import tempfile

    with tempfile.TemporaryDirectory(prefix="gl-tmux-") as socket_dir:
        t = Tmux(Path(socket_dir))
        yield t
        t.kill()


def _transcribe(wav: Path, *extra: str) -> str:
    args = " ".join(shlex.quote(a) for a in extra)
    # A tmux server started from pytest passes COLUMNS=80 down; a person's terminal has none, and Rich then uses the
    # terminal's real width (what the "^C" echo and a resize interact with).
    run = f"{shlex.quote(sys.executable)} -m gladia_cli transcribe {shlex.quote(str(wav))} {args}"
    return f"unset COLUMNS LINES; {run}; echo EXIT=$?"


def _view_debris(screen: str) -> list[str]:
    return [line for line in screen.splitlines() if "●" in line or " s sent" in line or "Ctrl-C" in line]


@needs_tmux
@pytest.mark.timeout(60)
def test_a_resize_leaves_no_copy_of_the_status_line(emulator: GladiaEmulator, tmux: Tmux, tmp_path: Path) -> None:
    emulator.utterances = [f"Sentence number {i}." for i in range(12)]
    wav, _ = write_wav(tmp_path / "a_rather_long_recording_name_so_the_status_line_is_wide.wav", 12.0)
    tmux.start(_transcribe(wav, "--realtime", "--speed", "1"), _env(emulator, tmp_path))
    assert "Sentence number 1." in tmux.wait_for(lambda s: "Sentence number 1." in s)
    tmux.cmd("resize-window", "-t", "t", "-x", "50")
    assert "Sentence number 4." in tmux.wait_for(lambda s: "Sentence number 4." in s)
    narrow = [line for line in tmux.screen().splitlines() if "●" in line]
    assert narrow and all(len(line.rstrip()) <= 50 for line in narrow), narrow
    tmux.cmd("resize-window", "-t", "t", "-x", "120")
    final = tmux.wait_for(lambda s: "EXIT=" in s, timeout=40)
    assert "EXIT=0" in final, final
    assert _view_debris(final) == [], final
    lines = [line.rstrip() for line in final.splitlines()]
    assert all(lines.count(f"Sentence number {i}.") == 1 for i in range(12)), final


@needs_tmux
@pytest.mark.timeout(60)
def test_server_text_is_shown_verbatim(emulator: GladiaEmulator, tmux: Tmux, tmp_path: Path) -> None:
    text = ":smile: [bold]x[/bold] [ch0]"
    emulator.utterances = [text]
    emulator.extra_messages = [
        {"type": "audio_chunk", "acknowledged": False, "error": {"message": "[ch0] :thumbs_up: refused"}, "data": None}
    ]
    wav, _ = write_wav(tmp_path / "talk.wav", 2.0)
    tmux.start(_transcribe(wav, "--realtime", "--speed", "0"), _env(emulator, tmp_path))
    final = tmux.wait_for(lambda s: "EXIT=" in s)
    assert "EXIT=0" in final, final
    assert text in final.splitlines(), final
    assert "gladia: Gladia did not acknowledge audio_chunk: [ch0] :thumbs_up: refused" in final, final
    assert "😄" not in final and "👍" not in final


@needs_tmux
@pytest.mark.timeout(60)
def test_escape_sequences_from_the_server_are_text_on_the_screen(
    emulator: GladiaEmulator, tmux: Tmux, tmp_path: Path
) -> None:
    """OSC 0 (the window title), OSC 52 (the clipboard), ESC[2J (clear) in a final, a partial's text and an error
    message: the terminal shows them as text and obeys none (the pane title is unchanged, nothing is cleared)."""
    emulator.utterances = ["before \x1b]0;PWNED\x1b\\ title", "clip \x1b]52;c;cm0gLXJmIH4=\x07 board \x1b[2J end"]
    emulator.extra_messages = [
        {"type": "audio_chunk", "acknowledged": False, "error": {"message": "bad \x1b]0;PWNED2\x07 x"}, "data": None}
    ]
    wav, _ = write_wav(tmp_path / "talk.wav", 2.0)
    tmux.start("printf 'first line\\n'; " + _transcribe(wav, "--realtime", "--speed", "0"), _env(emulator, tmp_path))
    final = tmux.wait_for(lambda s: "EXIT=" in s)
    assert "EXIT=0" in final, final
    assert "first line" in final  # ESC[2J cleared nothing
    assert "before \\x1b]0;PWNED\\x1b\\ title" in final, final
    assert "clip \\x1b]52;c;cm0gLXJmIH4=\\x07 board \\x1b[2J end" in final, final
    assert "bad \\x1b]0;PWNED2\\x07 x" in final, final
    title = tmux.cmd("display-message", "-p", "-t", "t", "#{pane_title}")
    assert "PWNED" not in title


@needs_tmux
@pytest.mark.timeout(60)
def test_a_silent_server_shows_the_lag_and_what_the_end_waits_for(
    emulator: GladiaEmulator, tmux: Tmux, tmp_path: Path
) -> None:
    emulator.silent = True
    wav, _ = write_wav(tmp_path / "talk.wav", 30.0)
    tmux.start(_transcribe(wav, "--realtime", "--speed", "1"), _env(emulator, tmp_path))
    lagging = tmux.wait_for(lambda s: "only 0.0 s acknowledged · Ctrl-C to stop" in s, timeout=15)
    assert "s sent, only 0.0 s acknowledged · Ctrl-C to stop" in lagging, lagging
    tmux.cmd("send-keys", "-t", "t", "C-c")
    finishing = tmux.wait_for(lambda s: "finishing: waiting for Gladia to acknowledge" in s, timeout=10)
    assert "finishing: waiting for Gladia to acknowledge" in finishing, finishing
    assert "post-processing" not in finishing
    tmux.cmd("send-keys", "-t", "t", "C-c")
    final = tmux.wait_for(lambda s: "EXIT=" in s)
    assert "EXIT=130" in final and "gladia: error: aborted" in final, final
    assert _view_debris(final) == [], final


@needs_tmux
@pytest.mark.timeout(60)
def test_a_double_ctrl_c_clears_the_view_before_the_error(emulator: GladiaEmulator, tmux: Tmux, tmp_path: Path) -> None:
    emulator.post_processing_delay = 8
    wav, _ = write_wav(tmp_path / "talk.wav", 6.0)
    tmux.start(_transcribe(wav, "--realtime", "--speed", "1"), _env(emulator, tmp_path))
    assert "Hello world." in tmux.wait_for(lambda s: "Hello world." in s)
    tmux.cmd("send-keys", "-t", "t", "C-c")
    assert "post-processing" in tmux.wait_for(lambda s: "waiting for Gladia's post-processing" in s)
    tmux.cmd("send-keys", "-t", "t", "C-c")
    final = tmux.wait_for(lambda s: "EXIT=" in s)
    assert "EXIT=130" in final and "gladia: error: aborted" in final, final
    assert _view_debris(final) == [], final
