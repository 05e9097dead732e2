"""What a person sees: the real CLI in a real terminal (tmux), stdout and the live view on one screen."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from emulator import GladiaEmulator
from wavs import write_wav

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")

FINALS = ["Hello world.", "This is the Gladia emulator.", "Goodbye."]


class Tmux:
    """A private tmux server: its socket lives in a directory of its own, not in the /tmp/tmux-UID shared by
    every tmux on the machine."""

    def __init__(self, socket_dir: Path) -> None:
        self.socket = str(socket_dir / "tmux.sock")

    def cmd(self, *args: str) -> str:
        return subprocess.run(["tmux", "-S", self.socket, *args], capture_output=True, text=True, check=True).stdout

    def start(self, command: str, env: dict[str, str], *, width: int = 100, height: int = 30) -> None:
        exports = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
        self.cmd(
            "new-session",
            "-d",
            "-x",
            str(width),
            "-y",
            str(height),
            "-s",
            "t",
            f"env {exports} bash --norc -c {shlex.quote(command)}; sleep 60",
        )

    def screen(self) -> str:
        return self.cmd("capture-pane", "-p", "-t", "t", "-S", "-")

    def joined(self) -> str:
        """The pane with wrapped lines joined: a row longer than the pane's width here is one that wrapped."""
        return self.cmd("capture-pane", "-p", "-J", "-t", "t", "-S", "-")

    def wait_for(self, predicate: Callable[[str], bool], timeout: float = 20) -> str:
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if predicate(screen) or time.monotonic() > deadline:
                return screen
            time.sleep(0.1)

    def kill(self) -> None:
        subprocess.run(["tmux", "-S", self.socket, "kill-server"], capture_output=True)


@pytest.fixture
def tmux() -> Iterator[Tmux]:
    with tempfile.TemporaryDirectory(prefix="gl-tmux-") as socket_dir:  # short: socket paths are limited to ~100 B
        t = Tmux(Path(socket_dir))
        yield t
        t.kill()


def _env(emulator: GladiaEmulator, tmp_path: Path) -> dict[str, str]:
    return {
        "GLADIA_API_KEY": "test-key",
        "GLADIA_API_URL": emulator.base_url,
        "HOME": str(tmp_path),
        "TERM": "xterm-256color",
        "PATH": "/usr/bin:/bin",
    }


def test_finals_appear_once_above_the_live_view(emulator: GladiaEmulator, tmux: Tmux, tmp_path: Path) -> None:
    wav, _ = write_wav(tmp_path / "talk.wav", 4.0)
    cmd = f"{shlex.quote(sys.executable)} -m gladia_cli transcribe {shlex.quote(str(wav))} --realtime --speed 1"
    cmd += "; echo EXIT=$?"
    tmux.start(cmd, _env(emulator, tmp_path))
    during = tmux.wait_for(lambda s: "streaming from talk.wav" in s and "Hello world." in s)
    assert "streaming from talk.wav" in during and "Ctrl-C to stop" in during, during
    final = tmux.wait_for(lambda s: "EXIT=" in s)
    assert "EXIT=0" in final, final
    lines = [line.rstrip() for line in final.splitlines()]
    for text in FINALS:
        assert lines.count(text) == 1, final  # exactly once, never garbled into the status line
    assert [line for line in lines if line in FINALS] == FINALS
    assert "streaming" not in final  # the live view is gone once the session ends


def test_piped_stdout_stays_clean_while_the_terminal_shows_progress(
    emulator: GladiaEmulator, tmux: Tmux, tmp_path: Path
) -> None:
    wav, _ = write_wav(tmp_path / "talk.wav", 3.0)
    out = tmp_path / "out.txt"
    cmd = (
        f"{shlex.quote(sys.executable)} -m gladia_cli transcribe {shlex.quote(str(wav))} --realtime --speed 1"
        f" > {shlex.quote(str(out))}; echo EXIT=$?"
    )
    tmux.start(cmd, _env(emulator, tmp_path))
    during = tmux.wait_for(lambda s: "streaming from talk.wav" in s)
    assert "streaming from talk.wav" in during
    final = tmux.wait_for(lambda s: "EXIT=" in s)
    assert "EXIT=0" in final, final
    assert out.read_text().splitlines() == FINALS  # plain lines, no ANSI, no status
    assert "Hello world." not in final  # the transcript went to the file, not the screen


def test_live_view_shows_reconnection_and_buffered_audio(emulator: GladiaEmulator, tmux: Tmux, tmp_path: Path) -> None:
    wav, _ = write_wav(tmp_path / "talk.wav", 8.0)
    emulator.drop_after_bytes = [32000]  # after 1 s of audio, the link drops
    emulator.refuse_after_fault = 4  # and the next reconnections are refused: a few seconds of "reconnecting"
    cmd = f"{shlex.quote(sys.executable)} -m gladia_cli transcribe {shlex.quote(str(wav))} --realtime --speed 1"
    cmd += "; echo EXIT=$?"
    tmux.start(cmd, _env(emulator, tmp_path))
    during = tmux.wait_for(lambda s: "reconnecting (attempt" in s)
    assert "reconnecting (attempt" in during and "s of audio buffered" in during, during
    final = tmux.wait_for(lambda s: "EXIT=" in s, timeout=40)
    assert "EXIT=0" in final, final
    assert "reconnected; resending" in final
    lines = [line.rstrip() for line in final.splitlines()]
    assert all(lines.count(text) == 1 for text in FINALS), final


@pytest.mark.parametrize(
    ("answer", "exit_code", "said", "status_after"),
    [("y", 0, "deleted pre-recorded job", 404), ("n", 130, "not deleted", 200)],
)
def test_delete_asks_before_deleting(
    emulator: GladiaEmulator, tmux: Tmux, tmp_path: Path, answer: str, exit_code: int, said: str, status_after: int
) -> None:
    import requests

    emulator.prerecorded.polls_before_done = 0
    headers = {"x-gladia-key": "test-key"}
    job = requests.post(
        f"{emulator.base_url}/v2/pre-recorded",
        json={"audio_url": "https://example.com/a.mp3"},
        headers=headers,
        timeout=5,
    ).json()
    requests.get(f"{emulator.base_url}/v2/pre-recorded/{job['id']}", headers=headers, timeout=5)  # now done
    cmd = f"{shlex.quote(sys.executable)} -m gladia_cli delete {job['id']}; echo EXIT=$?"
    tmux.start(cmd, _env(emulator, tmp_path))
    prompt = tmux.wait_for(lambda s: "Delete job" in s)
    assert f"Delete job {job['id']} and all its data? [y/N]" in prompt, prompt
    tmux.cmd("send-keys", "-t", "t", answer, "Enter")
    final = tmux.wait_for(lambda s: "EXIT=" in s)
    assert f"EXIT={exit_code}" in final and said in final, final
    url = f"{emulator.base_url}/v2/pre-recorded/{job['id']}"
    assert requests.get(url, headers=headers, timeout=5).status_code == status_after


def test_notices_and_errors_wrap_between_words_in_a_narrow_terminal(
    emulator: GladiaEmulator, tmux: Tmux, tmp_path: Path
) -> None:
    """At 40 columns the terminal would cut `gladia devices lists th⏎e inputs`: every word stays whole on a row."""
    wav, _ = write_wav(tmp_path / "talk.wav", 1.0)
    gladia = f"{shlex.quote(sys.executable)} -m gladia_cli"
    cmd = f"{gladia} transcribe {shlex.quote(str(wav))} --realtime --speed 0 > /dev/null"
    cmd += f"; {gladia} transcribe /nowhere/the-meeting-of-monday.wav --realtime; echo EXIT=$?"
    tmux.start(cmd, _env(emulator, tmp_path), width=40, height=15)
    screen = tmux.wait_for(lambda s: "EXIT=" in s)
    assert "EXIT=2" in screen, screen
    rows = [row.rstrip() for row in screen.splitlines()]
    words = {word for row in rows for word in row.split()}
    for message in (
        "gladia: error: no such file: /nowhere/the-meeting-of-monday.wav; check the path",
        "of audio, 8 words; `gladia result",
    ):
        for word in message.split():
            assert word in words, (word, screen)  # not cut across two rows
    assert all(len(row) <= 40 for row in rows)


def test_the_file_spinners_clock_moves_between_polls(emulator: GladiaEmulator, tmux: Tmux, tmp_path: Path) -> None:
    """Gladia is polled every 2 s; the elapsed time on the spinner line counts every second all the same."""
    import re

    emulator.prerecorded.polls_before_done = 3
    wav, _ = write_wav(tmp_path / "talk.wav", 1.0)
    cmd = f"{shlex.quote(sys.executable)} -m gladia_cli transcribe {shlex.quote(str(wav))} > /dev/null; echo EXIT=$?"
    tmux.start(cmd, _env(emulator, tmp_path))
    seen: set[int] = set()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        screen = tmux.screen()
        if "EXIT=" in screen:
            break
        found = re.search(r"talk\.wav: (?:queued|processing) \((\d+) s\)", screen)
        if found:
            seen.add(int(found[1]))
        time.sleep(0.2)
    assert "EXIT=0" in tmux.wait_for(lambda s: "EXIT=" in s), tmux.screen()
    assert len(seen) >= 3 and sorted(seen) == list(range(min(seen), max(seen) + 1)), seen  # every second shown


def test_a_batch_shows_what_runs_and_ctrl_c_names_what_never_started(
    emulator: GladiaEmulator, tmux: Tmux, tmp_path: Path
) -> None:
    emulator.prerecorded.polls_before_done = 30  # a minute of processing: the batch is interrupted before
    folder = tmp_path / "batch"
    folder.mkdir()
    for name in ("a", "b", "c"):
        write_wav(folder / f"{name}.wav", 0.5)
    (folder / "notes.txt").write_text("not audio")  # a folder stands for its audio files only
    out = tmp_path / "out"
    cmd = f"{shlex.quote(sys.executable)} -m gladia_cli transcribe {shlex.quote(str(folder))} --jobs 1"
    cmd += f" --output-dir {shlex.quote(str(out))}; echo EXIT=$?"
    tmux.start(cmd, _env(emulator, tmp_path), width=100, height=30)
    running = tmux.wait_for(lambda s: "0/3 done, 2 waiting: a.wav queued" in s)
    assert "0/3 done, 2 waiting: a.wav queued" in running, running  # what runs, while it runs
    tmux.cmd("send-keys", "-t", "t", "C-c")
    screen = tmux.wait_for(lambda s: "EXIT=" in s)
    assert "EXIT=130" in screen, screen
    joined = " ".join(tmux.joined().split())  # notices wrap between words at the pane's width
    assert f"{folder / 'a.wav'} is still being transcribed: `gladia result" in joined, joined
    assert f"not started (2): {folder / 'b.wav'}, {folder / 'c.wav'}" in joined, joined
    assert "notes.txt" not in joined
    assert "┏" not in joined and "0 ok, 0 skipped" not in joined  # no empty table of nothing finished
