"""Steering a running `gladia listen` (issue 18): paused audio is never recorded, a muted input is silence on its
own channel, bookmarks, `gladia ctl` over the control socket, SIGUSR1, --start-paused, --stop-after-silence and the
billed minutes. Real processes, the virtual PulseAudio microphone and the loopback emulator."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import wave
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from emulator import GladiaEmulator
from virtual_mic import SINK2, VirtualMic, virtual_mic

from gladia_cli.audio.capture import MicrophoneSource
from gladia_cli.audio.devices import resolve_input
from gladia_cli.audio.format import PcmFormat
from gladia_cli.errors import UsageError
from gladia_cli.live import control
from gladia_cli.live.steering import Steering

__all__ = ["virtual_mic"]

PAUSED_HZ = 1000.0  # the tone played while paused: must be nowhere
RESUMED_HZ = 440.0  # the tone played after resuming: must be there


def _tone_wav(path: Path, freq: float, seconds: float) -> Path:
    t = np.arange(int(48000 * seconds)) / 48000
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(48000)
        w.writeframes((0.4 * np.sin(2 * np.pi * freq * t) * 32767).astype("<i2").tobytes())
    return path


def _energy(pcm: bytes, freq: float, channels: int = 1, channel: int = 0, rate: int = 16000) -> float:
    """The strongest 100 ms block's amplitude at `freq` (an FFT bin), so a tone anywhere in the audio is found."""
    samples = np.frombuffer(pcm, "<i2").astype(np.float64).reshape(-1, channels)[:, channel]
    best = 0.0
    n = rate // 10
    window = np.hanning(n)
    for start in range(0, len(samples) - n + 1, n):
        spectrum = np.abs(np.fft.rfft(samples[start : start + n] * window)) / n
        best = max(best, float(spectrum[round(freq * n / rate)]))
    return best


def _wav_frames(path: Path) -> bytes:
    with wave.open(str(path), "rb") as w:
        return w.readframes(w.getnframes())


@pytest.fixture
def env(virtual_mic: VirtualMic, emulator: GladiaEmulator, tmp_path: Path) -> Iterator[dict[str, str]]:
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    yield {
        **os.environ,
        **virtual_mic.env,
        "GLADIA_API_KEY": "test-key",
        "GLADIA_API_URL": emulator.base_url,
        "HOME": str(tmp_path),
        "XDG_RUNTIME_DIR": str(runtime),
        "XDG_STATE_HOME": str(tmp_path / "state"),
    }
    virtual_mic.stop_playing()  # the module's microphone is shared: nothing plays into the next test


def _ctl(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gladia_cli", "ctl", *args], env=env, capture_output=True, text=True, timeout=30
    )


def _listen(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "gladia_cli", "listen", *args],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _until(check: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.1)


def _status(env: dict[str, str]) -> dict:
    done = _ctl(env, "status", "--json")
    return json.loads(done.stdout) if done.returncode == 0 and done.stdout.strip() else {}


def _sent_at_least(env: dict[str, str], seconds: float) -> Callable[[], bool]:
    return lambda: float(_status(env).get("seconds_sent") or 0) >= seconds


@pytest.fixture
def listening(env: dict[str, str]) -> Iterator[Callable[..., subprocess.Popen[str]]]:
    procs: list[subprocess.Popen[str]] = []

    def start(*args: str) -> subprocess.Popen[str]:
        proc = _listen(env, *args)
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_paused_audio_reaches_neither_gladia_nor_the_recording_nor_the_journal(
    env: dict[str, str],
    virtual_mic: VirtualMic,
    emulator: GladiaEmulator,
    listening: Callable[..., subprocess.Popen[str]],
    tmp_path: Path,
) -> None:
    paused_tone = _tone_wav(tmp_path / "paused.wav", PAUSED_HZ, 1.5)
    resumed_tone = _tone_wav(tmp_path / "resumed.wav", RESUMED_HZ, 1.5)
    record = tmp_path / "rec.wav"
    proc = listening("--record", str(record))
    _until(_sent_at_least(env, 0.5))
    assert _ctl(env, "pause").returncode == 0
    virtual_mic.play(paused_tone).wait()
    time.sleep(0.5)  # the last of it through PulseAudio, still paused
    assert _status(env)["paused"] is True
    assert _ctl(env, "resume").returncode == 0
    virtual_mic.play(resumed_tone).wait()
    time.sleep(0.5)
    sent = float(_status(env)["seconds_sent"])
    _until(_sent_at_least(env, sent + 0.3))
    proc.send_signal(signal.SIGKILL)  # the journal and the recording stay as they were
    proc.wait()

    heard = bytes(emulator.only_session().audio)
    journals = list((tmp_path / "state" / "gladia" / "journals").glob("*/*.wav"))
    assert journals, "the journal of a killed run is kept"
    journal = b"".join(_wav_frames(p) for p in sorted(journals))
    for name, pcm in (("Gladia", heard), ("--record", _wav_frames(record)), ("the journal", journal)):
        assert _energy(pcm, RESUMED_HZ) > 1000, f"the tone after resuming is missing from {name}"
        assert _energy(pcm, PAUSED_HZ) < 50, f"the tone played while paused reached {name}"


def test_a_muted_input_is_silence_on_its_own_channel(
    env: dict[str, str],
    virtual_mic: VirtualMic,
    emulator: GladiaEmulator,
    listening: Callable[..., subprocess.Popen[str]],
    tmp_path: Path,
) -> None:
    one = _tone_wav(tmp_path / "one.wav", PAUSED_HZ, 1.0)
    two = _tone_wav(tmp_path / "two.wav", RESUMED_HZ, 1.0)
    virtual_mic.play(one, loop=True)
    virtual_mic.play(two, loop=True, sink=SINK2)
    proc = listening("-d", "virtmic", "-d", "virtmic2", "--channel-names", "me,them")
    _until(_sent_at_least(env, 1.0))
    done = _ctl(env, "mute", "me")
    assert done.returncode == 0, done.stderr
    assert _status(env)["muted"] == ["me"]
    muted_from = len(emulator.only_session().audio)
    sent = float(_status(env)["seconds_sent"])
    _until(_sent_at_least(env, sent + 2.0))
    assert _ctl(env, "stop").returncode == 0
    proc.wait(timeout=60)
    assert proc.returncode == 0, proc.stderr.read() if proc.stderr else ""
    audio = bytes(emulator.only_session().audio)
    assert emulator.init_requests[0].body["channels"] == 2
    before, after = audio[:muted_from], audio[muted_from + 2 * 16000 * 2 // 2 :]  # half a second for the switch
    assert _energy(before, PAUSED_HZ, 2, 0) > 1000  # "me" was heard before it was muted
    assert _energy(after, PAUSED_HZ, 2, 0) < 1  # then digital silence
    assert np.abs(np.frombuffer(after, "<i2").reshape(-1, 2)[:, 0]).max() == 0
    assert _energy(after, RESUMED_HZ, 2, 1) > 1000  # the other side goes on


def test_ctl_status_follows_pause_resume_and_bookmarks(
    env: dict[str, str], listening: Callable[..., subprocess.Popen[str]]
) -> None:
    listening()
    _until(_sent_at_least(env, 0.3))
    follower = subprocess.Popen(
        [sys.executable, "-m", "gladia_cli", "ctl", "status", "--json", "--follow"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert follower.stdout is not None
        lines = [json.loads(follower.stdout.readline())]
        for args in (("pause",), ("bookmark", "the budget"), ("resume",), ("stop",)):
            assert _ctl(env, *args).returncode == 0
        seen: list[dict] = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = follower.stdout.readline()
            if not line:
                break
            seen.append(json.loads(line))
        follower.wait(timeout=30)
    finally:
        follower.kill()
    lines += seen
    assert lines[0]["state"] == "streaming" and lines[0]["paused"] is False
    states = [line["state"] for line in lines]
    assert "paused" in states
    assert states.index("paused") < max(k for k, s in enumerate(states) if s == "streaming")  # resumed after
    marks = lines[-1]["marks"]
    assert [m["kind"] for m in marks] == ["pause", "bookmark"]
    assert marks[1]["text"] == "the budget"
    assert "wall_end" in marks[0]  # the pause ended
    assert lines[-1]["state"] == "done"
    assert follower.returncode == 0


def test_start_paused_records_nothing_until_sigusr1(
    env: dict[str, str],
    virtual_mic: VirtualMic,
    emulator: GladiaEmulator,
    listening: Callable[..., subprocess.Popen[str]],
    tmp_path: Path,
) -> None:
    paused_tone = _tone_wav(tmp_path / "paused.wav", PAUSED_HZ, 1.0)
    resumed_tone = _tone_wav(tmp_path / "resumed.wav", RESUMED_HZ, 1.0)
    virtual_mic.play(paused_tone)  # already playing as the command starts
    proc = listening("--start-paused")
    _until(lambda: _status(env).get("state") == "paused")
    time.sleep(1.0)
    assert float(_status(env)["seconds_sent"]) == 0.0
    proc.send_signal(signal.SIGUSR1)  # push-to-talk: the key pressed
    _until(lambda: _status(env).get("paused") is False)
    virtual_mic.play(resumed_tone).wait()
    time.sleep(0.4)
    proc.send_signal(signal.SIGUSR1)  # released
    _until(lambda: _status(env).get("paused") is True)
    assert _ctl(env, "stop").returncode == 0
    proc.wait(timeout=60)
    assert proc.returncode == 0
    audio = bytes(emulator.only_session().audio)
    assert _energy(audio, RESUMED_HZ) > 1000
    assert _energy(audio, PAUSED_HZ) < 50
    assert len(audio) < 16000 * 2 * 4  # only the push, not the wait before it


def test_stop_after_silence_ends_a_session_that_goes_quiet(
    env: dict[str, str], emulator: GladiaEmulator, listening: Callable[..., subprocess.Popen[str]]
) -> None:
    proc = listening("--stop-after-silence", "2", "--duration", "60")
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "no speech for 2 s: stopping" in err
    session = emulator.only_session()
    assert session.stop_count == 1
    assert len(session.audio) < 16000 * 2 * 10
    assert "0.1 min billed" in err or "0.0 min billed" in err


def test_mute_names_and_refusals_say_what_the_inputs_are(virtual_mic: VirtualMic) -> None:
    mic = MicrophoneSource(PcmFormat(), resolve_input("virtmic"))
    steering = Steering(mic, price_per_hour=0.6)
    with pytest.raises(UsageError, match=r"'nobody' is no input of this recording; the inputs are 1 'virtmic"):
        steering.mute("nobody")
    assert steering.mute("1") == mic.device.name
    assert steering.status().muted == (mic.device.name,)
    steering.mute("virt", False)
    assert steering.status().muted == ()
    assert steering.pause() and not steering.pause()
    assert steering.status().cost == 0.0


def test_the_control_socket_is_private(
    env: dict[str, str], listening: Callable[..., subprocess.Popen[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    listening()
    _until(_sent_at_least(env, 0.2))
    directory = Path(env["XDG_RUNTIME_DIR"]) / "gladia"
    sockets = list(directory.glob("*.sock"))
    assert len(sockets) == 1
    assert directory.stat().st_mode & 0o777 == 0o700
    assert sockets[0].stat().st_mode & 0o777 == 0o600
    done = _ctl(env, "status", "--session", "no-such")
    assert done.returncode == 2 and "--session 'no-such' matches no running recording" in done.stderr
    assert _ctl(env, "mute").returncode == 2  # needs a name
    monkeypatch.setenv("XDG_RUNTIME_DIR", env["XDG_RUNTIME_DIR"])
    assert control.running() == sockets


def test_ctl_without_a_recording_says_so(tmp_path: Path) -> None:
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    done = _ctl({**os.environ, "XDG_RUNTIME_DIR": str(runtime), "HOME": str(tmp_path)}, "pause")
    assert done.returncode == 2
    assert done.stderr.strip().startswith("gladia: error: no `gladia listen` is running")


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
@pytest.mark.parametrize("size", [(100, 30), (40, 15)])
def test_keys_in_the_live_view_pause_bookmark_and_stop(
    env: dict[str, str], emulator: GladiaEmulator, tmp_path: Path, size: tuple[int, int]
) -> None:
    from test_tmux_screen import Tmux

    width, height = size
    with tempfile.TemporaryDirectory(prefix="gl-tmux-") as socket_dir:
        tmux = Tmux(Path(socket_dir))
        try:
            keep = {k: env[k] for k in env if k.startswith(("XDG_", "GLADIA_", "PULSE", "HOME", "PATH", "PYTHON"))}
            command = (
                f"{shlex.quote(sys.executable)} -m gladia_cli listen; stty -a | grep -o -- '-*icanon' > {tmp_path}/tty"
            )
            tmux.start(command, {**keep, "TERM": "xterm-256color"}, width=width, height=height)
            tmux.wait_for(lambda s: "streaming" in s)
            tmux.cmd("send-keys", "-t", "t", " ")
            screen = tmux.wait_for(lambda s: "PAUSED" in s)
            assert "PAUSED" in screen, screen
            assert _status(env)["paused"] is True
            tmux.cmd("send-keys", "-t", "t", "b")
            tmux.wait_for(lambda s: "bookmark note" in s)
            tmux.cmd("send-keys", "-t", "t", "-l", "budget")
            tmux.cmd("send-keys", "-t", "t", "Enter")
            screen = tmux.wait_for(lambda s: "budget" in s and "bookmark note" not in s)
            tmux.cmd("send-keys", "-t", "t", " ")
            screen = tmux.wait_for(lambda s: "resumed" in s)
            assert _status(env)["paused"] is False
            tmux.cmd("send-keys", "-t", "t", "?")
            tmux.wait_for(lambda s: "space pause" in s)
            tmux.cmd("send-keys", "-t", "t", "q")
            screen = tmux.wait_for(lambda s: "fetches it" in s.replace("\n", ""), timeout=60)
            joined = tmux.joined()
            assert "bookmark [00:00:0" in joined and "budget" in joined, joined
            assert "paused at [00:00:0" in joined
            assert "Traceback" not in joined
            _until(lambda: (tmp_path / "tty").exists() and (tmp_path / "tty").read_text().strip() != "")
            assert (tmp_path / "tty").read_text().strip() == "icanon"  # the terminal is a terminal again
            assert emulator.only_session().stop_count == 1
        finally:
            tmux.kill()


def test_notes_hold_the_finals_the_bookmark_and_the_pause_after_kill_9(
    env: dict[str, str], emulator: GladiaEmulator, listening: Callable[..., subprocess.Popen[str]], tmp_path: Path
) -> None:
    notes_dir = tmp_path / "notes"
    notes_dir.mkdir()
    proc = listening("--notes", str(notes_dir), "--title", "Weekly sync", "--channel-names", "me", "-l", "en")
    _until(_sent_at_least(env, 0.5))
    assert _ctl(env, "bookmark", "ship it").returncode == 0
    assert _ctl(env, "pause").returncode == 0
    time.sleep(0.6)
    assert _ctl(env, "resume").returncode == 0
    _until(lambda: "Goodbye." in "".join(p.read_text() for p in notes_dir.glob("*.md")), timeout=40)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    (path,) = notes_dir.glob("*.md")
    assert path.name.endswith("-weekly-sync.md") and path.name[:4].isdigit()
    text = path.read_text()
    front, body = text.split("---\n")[1], text.split("---\n", 2)[2]
    fields = dict(line.split(": ", 1) for line in front.strip().splitlines())
    assert json.loads(fields["title"]) == "Weekly sync"
    assert json.loads(fields["sessions"]) == [emulator.only_session().id]
    assert json.loads(fields["languages"]) == ["en"]
    assert json.loads(fields["channels"]) == ["me"]
    assert fields["start"].startswith('"20')
    lines = [line for line in body.splitlines() if line.startswith("- [")]
    assert any(line.endswith("**me**: Hello world.") for line in lines), body
    assert any("**bookmark**: ship it" in line for line in lines), body
    assert any("*paused for 1 s*" in line or "*paused for 0 s*" in line or "*paused" in line for line in lines)
    assert all(line[3:11].count(":") == 2 for line in lines)  # [hh:mm:ss]
    assert lines == sorted(lines, key=lambda line: line[3:11])  # in the order they happened


def test_a_pause_that_outlives_the_session_goes_on_in_a_new_one(
    env: dict[str, str],
    virtual_mic: VirtualMic,
    emulator: GladiaEmulator,
    listening: Callable[..., subprocess.Popen[str]],
    tmp_path: Path,
) -> None:
    """Gladia ends the session during a long pause (its limit is a few seconds here): nothing is opened while
    paused, and the recording goes on in a new session once there is audio again, every byte once, in order."""
    emulator.session_cap_seconds = 2.5
    notes_dir = tmp_path / "notes"
    notes_dir.mkdir()
    record = tmp_path / "rec.wav"
    resumed_tone = _tone_wav(tmp_path / "resumed.wav", RESUMED_HZ, 1.0)
    proc = listening("--record", str(record), "--notes", str(notes_dir), "--title", "long pause")
    _until(_sent_at_least(env, 0.5))
    assert _ctl(env, "pause").returncode == 0
    _until(lambda: emulator.only_session().ended, timeout=20)  # Gladia's limit, reached while paused
    time.sleep(0.5)
    assert len(emulator.sessions) == 1, "no session is opened while nothing is recorded"
    assert _status(env)["state"] != "done", "between sessions the recording is not over"
    assert _ctl(env, "resume").returncode == 0
    virtual_mic.play(resumed_tone).wait()
    _until(lambda: len(emulator.sessions) == 2 and len(list(emulator.sessions.values())[1].audio) > 16000)
    status = _status(env)
    assert status["session_id"] == list(emulator.sessions)[1] and status["sessions"] == list(emulator.sessions)
    by_first = _ctl(env, "status", "--json", "--session", next(iter(emulator.sessions))[:8])
    assert by_first.returncode == 0 and json.loads(by_first.stdout)["sessions"] == list(emulator.sessions)
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err

    first, second = emulator.sessions.values()
    assert first.capped and not first.stop_count and second.stop_count == 1
    assert bytes(first.logical_audio) + bytes(second.logical_audio) == _wav_frames(record), "once each, in order"
    assert _energy(bytes(second.logical_audio), RESUMED_HZ) > 1000
    assert "the recording goes on in a new session" in err and "goes on at [" in err
    assert f"`gladia result {first.id} {second.id}`" in err.strip().splitlines()[-1]
    (path,) = notes_dir.glob("*.md")
    front = path.read_text().split("---\n")[1]
    fields = dict(line.split(": ", 1) for line in front.strip().splitlines())
    assert json.loads(fields["sessions"]) == [first.id, second.id]


@pytest.mark.parametrize("switch", ["before the limit", "gladia ends it"])
def test_a_recording_several_session_limits_long_is_sent_once_in_order(
    env: dict[str, str],
    virtual_mic: VirtualMic,
    emulator: GladiaEmulator,
    listening: Callable[..., subprocess.Popen[str]],
    tmp_path: Path,
    switch: str,
) -> None:
    """The microphone, several of Gladia's session limits long (a few seconds here): every captured byte reaches
    exactly one session, in order, and the recording, `--record` and the cues are one."""
    record = tmp_path / "rec.wav"
    args = ["--duration", "5", "--record", str(record), "-o", "srt"]
    if switch == "before the limit":
        emulator.session_cap_seconds = 5.0
        args += ["--session-limit", "1.5"]
    else:
        emulator.session_cap_seconds = 1.5
    emulator.seconds_per_utterance = 0.5
    emulator.finals_within_audio = True
    virtual_mic.play(_tone_wav(tmp_path / "tone.wav", RESUMED_HZ, 6.0))
    proc = listening(*args)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    sessions = [s for s in emulator.sessions.values() if s.connections]
    assert len(sessions) >= 3, err
    got, want = b"".join(bytes(s.logical_audio) for s in sessions), _wav_frames(record)
    sizes = [(len(s.logical_audio), len(s.audio), s.capped, s.ignored_audio_frames) for s in sessions]
    first_diff = next((i for i, (a, b) in enumerate(zip(got, want, strict=False)) if a != b), None)
    assert got == want, f"once each, in order: {len(got)} vs {len(want)}, first difference at {first_diff}, {sizes}"
    assert len(_wav_frames(record)) == 5 * 32000
    blocks = [b.splitlines() for b in out.strip().split("\n\n")]
    assert [int(b[0]) for b in blocks] == list(range(1, len(blocks) + 1)), "cue numbers go on"
    starts = [b[1].split(" --> ")[0] for b in blocks]
    assert starts == sorted(starts) and starts[-1] >= "00:00:03", out


def test_recover_after_a_later_session_failed_puts_the_earlier_ones_first(
    virtual_mic: VirtualMic, tmp_path: Path
) -> None:
    """The second session of a recording fails for good: its journal says where it sits in the recording, and
    `gladia recover` gives the whole recording: the first session's transcript, then the second's, on one clock."""
    from emulator_prerecorded import FullGladiaEmulator

    emu = FullGladiaEmulator().start()
    try:
        emu.session_cap_seconds = 1.5
        emu.seconds_per_utterance = 0.5
        emu.finals_within_audio = True  # each session's transcript covers its own audio
        emu.ack_delay = 0.4  # acks lag: Gladia lacks the last of the audio when the link goes
        emu.close_after_bytes = [(10**9, 4400), (24000, 4400)]  # the second session's link ends after 0.75 s
        runtime = tmp_path / "run"
        runtime.mkdir(mode=0o700)
        env = {
            **os.environ,
            **virtual_mic.env,
            "GLADIA_API_KEY": "test-key",
            "GLADIA_API_URL": emu.base_url,
            "HOME": str(tmp_path),
            "XDG_RUNTIME_DIR": str(runtime),
            "XDG_STATE_HOME": str(tmp_path / "state"),
        }
        failed = _listen(env, "-o", "srt")
        _out, err = failed.communicate(timeout=60)
        assert failed.returncode != 0 and "4400" in err, err
        first, second = list(emu.sessions.values())[:2]
        journals = tmp_path / "state" / "gladia" / "journals"
        assert not (journals / first.id).exists(), "the first session ended well: its journal is gone"
        meta = json.loads((journals / second.id / "meta.json").read_text())
        chain = meta["recording"]
        assert chain["part"] == 2 and chain["earlier"] == [{"session_id": first.id, "offset_seconds": 0.0}]
        own = chain["offset_seconds"]
        assert own == pytest.approx(len(first.logical_audio) / 32000)
        assert f"gladia recover {second.id}" in err

        done = subprocess.run(
            [sys.executable, "-m", "gladia_cli", "recover", second.id, "-o", "srt"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        blocks = [b.splitlines() for b in done.stdout.strip().split("\n\n")]
        assert [int(b[0]) for b in blocks] == list(range(1, len(blocks) + 1))
        starts = [b[1].split(" --> ")[0] for b in blocks]
        assert starts == sorted(starts)
        first_text = [u["text"].strip() for u in first.result["transcription"]["utterances"]]
        assert [" ".join(b[2:]) for b in blocks[: len(first_text)]] == first_text, "the first session first"
        later = starts[len(first_text) :]
        assert later and all(t >= f"00:00:{int(own):02d}" for t in later), "the rest on the recording's clock"
    finally:
        emu.stop()


def test_timestamps_start_each_text_line(env: dict[str, str], listening: Callable[..., subprocess.Popen[str]]) -> None:
    proc = listening("--duration", "3", "--timestamps")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    lines = out.splitlines()
    assert lines and all(line.startswith("[00:00:0") and line[10:11] == " " for line in lines), out
    assert lines[0].endswith("] Hello world.")


def test_a_pause_is_marked_in_the_timestamped_text(
    env: dict[str, str], listening: Callable[..., subprocess.Popen[str]]
) -> None:
    proc = listening("--timestamps")
    _until(_sent_at_least(env, 1.0))
    at = float(_status(env)["seconds_sent"])
    assert _ctl(env, "pause").returncode == 0
    time.sleep(1.2)
    assert _ctl(env, "resume").returncode == 0
    _until(_sent_at_least(env, at + 0.5))
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    marks = [line for line in out.splitlines() if "(paused for" in line]
    assert len(marks) == 1 and re.fullmatch(r"\[00:00:0\d\] \(paused for [12] s\)", marks[0]), out


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
@pytest.mark.parametrize("way_out", ["ctrl-c twice", "sigterm"])
def test_the_terminal_is_restored_on_every_way_out(
    env: dict[str, str], emulator: GladiaEmulator, tmp_path: Path, way_out: str
) -> None:
    from test_tmux_screen import Tmux

    with tempfile.TemporaryDirectory(prefix="gl-tmux-") as socket_dir:
        tmux = Tmux(Path(socket_dir))
        try:
            keep = {k: env[k] for k in env if k.startswith(("XDG_", "GLADIA_", "PULSE", "HOME", "PATH", "PYTHON"))}
            pid_file = tmp_path / "pid"
            command = (
                f'{shlex.quote(sys.executable)} -c \'import os,sys; open(sys.argv[1],"w").write(str(os.getpid()));'
                f' sys.argv=["gladia","listen"]; from gladia_cli.cli.main import main; main()\' {pid_file};'
                f" stty -a | grep -o -- '-*icanon' > {tmp_path}/tty"
            )
            tmux.start(command, {**keep, "TERM": "xterm-256color"}, width=100, height=30)
            tmux.wait_for(lambda s: "? keys" in s)
            if way_out == "sigterm":
                os.kill(int(pid_file.read_text()), signal.SIGTERM)
                screen = tmux.wait_for(lambda s: "fetches it" in s.replace("\n", ""), timeout=60)
            else:
                emulator.post_processing_delay = 30.0  # the second Ctrl-C comes while it waits for the result
                # As the terminal's Ctrl-C, to gladia alone: the pane's shells would end the pane with it.
                os.kill(int(pid_file.read_text()), signal.SIGINT)
                tmux.wait_for(lambda s: "Ctrl-C again" in s)
                os.kill(int(pid_file.read_text()), signal.SIGINT)
                screen = tmux.wait_for(lambda s: "aborted" in s, timeout=60)
            assert "Traceback" not in screen
            _until(lambda: (tmp_path / "tty").exists() and (tmp_path / "tty").read_text().strip() != "", timeout=60)
            assert (tmp_path / "tty").read_text().strip() == "icanon", screen
        finally:
            tmux.kill()


@pytest.mark.skipif(shutil.which("setpriv") is None or os.geteuid() != 0, reason="needs root and setpriv")
def test_a_connection_from_another_user_is_refused(
    env: dict[str, str], listening: Callable[..., subprocess.Popen[str]]
) -> None:
    """Even through a socket someone made reachable (the 0700 directory would stop it first), the peer's uid is
    checked."""
    # The system's interpreter: one under root's home (pyenv) cannot even load its library as another user.
    system_python = shutil.which("python3", path="/usr/bin:/bin")
    if system_python is None:
        pytest.skip("no system python3 to connect as another user")
    listening()
    _until(_sent_at_least(env, 0.2))
    directory = Path(env["XDG_RUNTIME_DIR"]) / "gladia"
    (path,) = directory.glob("*.sock")
    opened = [p for p in [*reversed(path.parents)] if str(p).startswith("/tmp/")] + [path]
    modes = {p: p.stat().st_mode & 0o777 for p in opened}
    for p in opened:
        os.chmod(p, 0o777 if p == path else 0o755)
    probe = (
        "import contextlib,socket,sys; s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]);"
        ' s.settimeout(10)\nwith contextlib.suppress(OSError): s.sendall(b\'{"command": "stop"}\\n\')\n'
        "print(s.recv(4096).decode())"  # the refusal is sent at once: a send after it may find the socket closed
    )
    done = subprocess.run(
        ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", system_python, "-c", probe, str(path)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    for p, mode in modes.items():
        os.chmod(p, mode)
    assert '"ok": false' in done.stdout and "another user" in done.stdout, done.stderr
    assert _status(env)["stop_requested"] is False
