"""What a person at the microphone sees: `gladia listen` in a real terminal (tmux), recording the virtual PulseAudio
microphone with PortAudio, streaming to the loopback emulator. Every assert reads the captured pane (or the files and
the audio the emulator received)."""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import srt
from emulator import GladiaEmulator
from test_tmux_screen import Tmux, tmux
from virtual_mic import VirtualMic, virtual_mic
from wavs import write_wav

__all__ = ["tmux", "virtual_mic"]  # fixtures, used by name

GLADIA = f"{shlex.quote(sys.executable)} -m gladia_cli"


def _env(mic: VirtualMic, emulator: GladiaEmulator, tmp_path: Path) -> dict[str, str]:
    return {
        **mic.env,
        "GLADIA_API_KEY": "test-key",
        "GLADIA_API_URL": emulator.base_url,
        "HOME": str(tmp_path),
        "TERM": "xterm-256color",
        "PATH": "/usr/bin:/bin",
        "LANG": "C.UTF-8",
    }


def _status(screen: str) -> str:
    """The live view's status row (the last row holding the state's bullet)."""
    rows = [row for row in screen.splitlines() if "●" in row and "session" not in row]
    return rows[-1] if rows else ""


def _filled(status: str) -> int:
    """Full cells of the level meter in the status row (0 when no meter is drawn)."""
    bar = re.search(r"▕([^▏]*)▏", status)
    return bar.group(1).count("█") if bar else 0


@pytest.fixture
def slow_emulator() -> Iterator[GladiaEmulator]:
    """One utterance every 4 s of audio: "speaking" (from a speech_start sent at open) lasts until 4 s of audio."""
    emu = GladiaEmulator(seconds_per_utterance=4.0).start()
    emu.extra_messages = [{"type": "speech_start", "session_id": "", "created_at": "", "data": {"time": 0.0}}]
    try:
        yield emu
    finally:
        emu.stop()


def test_meter_silence_notice_and_speech_follow_the_microphone_and_the_server(
    virtual_mic: VirtualMic, slow_emulator: GladiaEmulator, tmux: Tmux, tmp_path: Path
) -> None:
    tone, _ = write_wav(tmp_path / "tone.wav", 2.0, rate=48000, channels=2)
    tmux.start(f"{GLADIA} listen -l en; echo EXIT=$?", _env(virtual_mic, slow_emulator, tmp_path))
    # The server said speech_start at open: "Gladia: speech" until its speech_end at 4 s of audio.
    screen = tmux.wait_for(lambda s: "Gladia: speech" in _status(s))
    assert "Gladia: speech" in _status(screen) and "streaming from" in _status(screen), screen
    # Nothing is played: the meter rests, and within a few seconds one notice says what to check.
    screen = tmux.wait_for(lambda s: "no sound from" in s, timeout=10)
    notice = tmux.joined()  # the notice is a printed line: read it unwrapped, whatever the pane's width
    assert "no sound from" in notice and "gladia devices" in notice and "muted" in notice, notice
    assert _filled(_status(screen)) == 0 and "-∞ dB" in _status(screen), screen
    # While the input itself is silent, its "no sound" stands alone: Gladia's speech state is not stacked on it.
    screen = tmux.wait_for(lambda s: "no sound" in _status(s), timeout=10)
    assert "no sound" in _status(screen) and "Gladia:" not in _status(screen), screen
    # A tone: the meter moves, and the notice is taken back.
    virtual_mic.play(tone, loop=True)
    screen = tmux.wait_for(lambda s: _filled(_status(s)) >= 5 and "sound is back" in s, timeout=10)
    assert _filled(_status(screen)) >= 5, screen
    assert screen.count("sound is back") == 1 and screen.count("no sound from") == 1, screen
    # The tone stops: the meter falls back to rest once its peak-hold has decayed.
    virtual_mic.stop_playing()
    screen = tmux.wait_for(lambda s: _filled(_status(s)) == 0, timeout=10)
    assert _filled(_status(screen)) == 0, screen
    tmux.cmd("send-keys", "-t", "t", "C-c")
    final = tmux.wait_for(lambda s: "EXIT=" in s, timeout=30)
    assert "EXIT=0" in final, final
    final = " ".join(tmux.joined().split())  # the end line wraps between words at the pane's width
    session = slow_emulator.only_session()
    # The end: one line with the duration, the words and how to fetch the result.
    assert f"`gladia result {session.id}` fetches it" in final, final
    assert re.search(r"s of audio, \d+ words?, [\d.]+ min billed;", final), final
    assert "▕" not in final and "connecting" not in final, final  # the view is gone


def test_a_tone_played_while_the_session_is_created_reaches_gladia_whole(
    virtual_mic: VirtualMic, emulator: GladiaEmulator, tmux: Tmux, tmp_path: Path
) -> None:
    emulator.http_hang_seconds = 2.0  # POST /v2/live takes 2 s
    burst = 1.0
    tone, _ = write_wav(tmp_path / "burst.wav", burst, rate=16000)
    tmux.start(f"{GLADIA} listen --duration 6; echo EXIT=$?", _env(virtual_mic, emulator, tmp_path))
    started = time.monotonic()
    # As soon as the view is up (the microphone records from before it), the person speaks.
    screen = tmux.wait_for(lambda s: "connecting…" in s, timeout=10)
    assert "connecting…" in _status(screen) and "s of audio buffered" in screen, screen
    assert emulator.sessions == {}  # still creating the session
    virtual_mic.play(tone)
    assert time.monotonic() - started < 2.0
    # The meter runs from the first block, whatever the connection does: it moves while still connecting.
    during = tmux.wait_for(lambda s: "connecting…" in _status(s) and _filled(_status(s)) > 0, timeout=10)
    if emulator.sessions == {}:  # still connecting when the screen was read (a loaded machine may be past it)
        assert _filled(_status(during)) > 0, during
    final = tmux.wait_for(lambda s: "EXIT=" in s, timeout=40)
    assert "EXIT=0" in final, final
    audio = np.frombuffer(bytes(emulator.only_session().audio), "<i2")
    loud = np.abs(audio.astype(np.int32)).reshape(-1, 160).max(axis=1) > 3000  # 10 ms blocks holding the tone
    assert abs(loud.sum() / 100 - burst) <= 0.05, loud.sum()


def test_a_narrow_terminal_keeps_every_row_on_one_row(virtual_mic: VirtualMic, tmux: Tmux, tmp_path: Path) -> None:
    long = "this partial is a great deal wider than a forty column terminal can show on one row"
    emu = GladiaEmulator(utterances=[long, "Short."], seconds_per_utterance=1.5).start()
    emu.lost_finals = {0}  # its final never comes: the partial stays on screen
    try:
        tone, _ = write_wav(tmp_path / "tone.wav", 2.0, rate=48000, channels=2)
        virtual_mic.play(tone, loop=True)
        tmux.start(f"{GLADIA} listen --duration 4; echo EXIT=$?", _env(virtual_mic, emu, tmp_path), width=40, height=15)
        tmux.wait_for(lambda s: "…" in s and "on one row" in s, timeout=20)
        joined = tmux.joined()
        partial_rows = [row for row in joined.splitlines() if row.startswith("…")]
        assert partial_rows and partial_rows[-1].rstrip().endswith("show on one row"), joined
        assert all(len(row.rstrip()) <= 40 for row in partial_rows), joined
        status_rows = [row for row in joined.splitlines() if "●" in row]
        assert status_rows and all(len(row.rstrip()) <= 40 for row in status_rows), joined
        final = tmux.wait_for(lambda s: "EXIT=" in s, timeout=30)
        assert "EXIT=0" in final, final
        after = tmux.joined()
        assert "▕" not in after and not any(row.startswith("…") for row in after.splitlines()), after  # nothing stale
    finally:
        virtual_mic.stop_playing()
        emu.stop()


def test_the_view_at_the_top_of_the_pane_leaves_no_copies_in_the_scrollback(
    virtual_mic: VirtualMic, emulator: GladiaEmulator, tmux: Tmux, tmp_path: Path
) -> None:
    """While Gladia is slow to create the session, the view is the pane's first row and redraws ten times a second;
    each redraw once erased "below" from the top-left corner, which tmux takes for a clear screen and keeps in the
    scrollback (`scroll-on-clear`): a hundred copies of the "connecting" row to scroll through afterwards."""
    emulator.http_hang_seconds = 2.0
    env = _env(virtual_mic, emulator, tmp_path)
    tmux.start(f"{GLADIA} listen --duration 2; echo EXIT=$?", env, width=80, height=12)
    final = tmux.wait_for(lambda s: "EXIT=" in s, timeout=40)
    assert "EXIT=0" in final, final
    history = tmux.screen()  # the scrollback too (capture-pane -S -)
    assert history.count("connecting") <= 1, history
    assert "Hello world." in history and "▕" not in history, history


def _cues(path: Path) -> list[srt.Subtitle]:
    return list(srt.parse(path.read_text(encoding="utf-8")))


def test_live_srt_holds_valid_cues_before_the_end_and_after_kill_9(
    virtual_mic: VirtualMic, emulator: GladiaEmulator, tmp_path: Path
) -> None:
    tone, _ = write_wav(tmp_path / "tone.wav", 2.0, rate=48000, channels=2)
    virtual_mic.play(tone, loop=True)
    out = tmp_path / "live.srt"
    env = {**os.environ, **_env(virtual_mic, emulator, tmp_path)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "gladia_cli", "listen", "-o", "srt", "--output-file", str(out)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and (not out.exists() or out.read_text().count("-->") < 2):
            time.sleep(0.05)
        during = _cues(out)  # the session is still running: the file is already valid SubRip
        assert proc.poll() is None
        assert [c.index for c in during] == list(range(1, len(during) + 1)) and len(during) >= 2
        assert during[0].content == "Hello world." and during[0].start < during[0].end <= during[1].start
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        virtual_mic.stop_playing()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()
        proc.stderr.close()
    after = _cues(out)
    assert len(after) >= len(during) and [c.index for c in after] == list(range(1, len(after) + 1))
    assert [c.content for c in after][:2] == ["Hello world.", "This is the Gladia emulator."]
