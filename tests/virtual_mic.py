"""A virtual microphone for tests: a private PulseAudio daemon whose default source hears what is played into it.

Recipe (see /work/shared/reference/virtual-mic.md): a null sink `virtmic_sink`, a remap source `virtmic` on its
monitor, made the default source. PortAudio's ALSA host API then lists "pulse" and "default", both recording
whatever `play()` sends into `virtmic_sink`.

Use from a child process: pass `mic.env` (merged into its environment). Use inside the pytest process: PortAudio
scans devices once, when `sounddevice` is imported (`Pa_Initialize`), and the ALSA pulse plugin finds the server
through XDG_RUNTIME_DIR / PULSE_SERVER. So the environment must be set before that scan, or PortAudio re-initialised
afterwards: `mic.activate()` does both (sets os.environ, then `reinit_portaudio()`), `mic.deactivate()` undoes it.
The `virtual_mic` fixture does this for you. Never re-initialise while a stream is open: its handle would dangle.

    from virtual_mic import virtual_mic  # in conftest.py (or `from tests.virtual_mic import ...`)

    def test_something(virtual_mic):
        virtual_mic.play(wav_path, loop=True)
        ...
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import wave
from collections.abc import Iterator
from pathlib import Path

import pytest

SINK = "virtmic_sink"
SOURCE = "virtmic"
# A second, independent virtual microphone (its own null sink and remap source), for several-input tests.
SINK2 = "virtmic2_sink"
SOURCE2 = "virtmic2"
_BINARIES = ("pulseaudio", "pactl", "paplay", "parec")
_ENV_KEYS = ("XDG_RUNTIME_DIR", "PULSE_SERVER")

# Repeats the file until SIGTERM/SIGINT, and then stops the paplay in flight too, so Popen.terminate() is enough.
# A paplay failure (not a signal) ends the loop instead of spinning.
_LOOP_SCRIPT = (
    'trap \'kill "$child" 2>/dev/null; wait "$child"; exit 0\' TERM INT; '
    'while :; do paplay --device="$1" "$2" & child=$!; wait "$child" || [ $? -gt 128 ] || exit 1; done'
)


def pulseaudio_available() -> bool:
    """True when the PulseAudio daemon and client tools are installed (Debian: pulseaudio pulseaudio-utils)."""
    return all(shutil.which(name) for name in _BINARIES)


def reinit_portaudio() -> None:
    """Make PortAudio (in this process) rescan devices, e.g. after the virtual mic started or stopped.

    Pa_Initialize is reference-counted and only scans on the first call, so terminate down to zero first. Any open
    sounddevice stream becomes invalid: call this only between captures.
    """
    import sounddevice as sd

    while sd._initialized > 0:
        sd._terminate()
    sd._initialize()


class VirtualMic:
    """A private PulseAudio daemon in a temp XDG_RUNTIME_DIR; use as a context manager or start()/stop()."""

    def __init__(self, *, startup_timeout: float = 10.0) -> None:
        self.startup_timeout = startup_timeout
        self.runtime_dir: Path | None = None
        self.env: dict[str, str] = {}
        self._players: list[subprocess.Popen[bytes]] = []
        self._saved_env: dict[str, str | None] | None = None
        self._keepalive: subprocess.Popen[bytes] | None = None
        self._keepalives: list[subprocess.Popen[bytes]] = []

    # -- lifecycle -------------------------------------------------------------------------------------------------

    def start(self) -> VirtualMic:
        if self.runtime_dir is not None:
            return self
        if not pulseaudio_available():
            raise RuntimeError(f"PulseAudio is not installed (need {', '.join(_BINARIES)})")
        runtime_dir = Path(tempfile.mkdtemp(prefix="virtmic-"))
        os.chmod(runtime_dir, 0o700)
        self.runtime_dir = runtime_dir
        self.env = {"XDG_RUNTIME_DIR": str(runtime_dir), "PULSE_SERVER": f"unix:{runtime_dir}/pulse/native"}
        atexit.register(self.stop)
        try:
            self._start_daemon()
        except BaseException:
            self.stop()
            raise
        return self

    def _child_env(self) -> dict[str, str]:
        assert self.runtime_dir is not None
        env = dict(os.environ)
        env.update(self.env)
        # Keep the daemon's cookie/state out of the real home directory.
        env["XDG_CONFIG_HOME"] = str(self.runtime_dir / "config")
        env["HOME"] = str(self.runtime_dir)
        return env

    def _start_daemon(self) -> None:
        assert self.runtime_dir is not None
        env = self._child_env()
        log = self.runtime_dir / "pulseaudio.log"
        with log.open("wb") as log_file:
            # --daemonize returns once the daemon is up (or failed); auth-anonymous spares clients a cookie.
            result = subprocess.run(
                [
                    "pulseaudio",
                    "--daemonize=yes",
                    "--exit-idle-time=-1",
                    "--disallow-exit",
                    "-n",
                    "--use-pid-file=yes",
                    "--log-target=stderr",
                    "--load=module-native-protocol-unix auth-anonymous=1",
                    f"--load=module-null-sink sink_name={SINK}",
                    f"--load=module-remap-source master={SINK}.monitor source_name={SOURCE}",
                    f"--load=module-null-sink sink_name={SINK2}",
                    f"--load=module-remap-source master={SINK2}.monitor source_name={SOURCE2}",
                    "--load=module-always-sink",
                ],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                timeout=self.startup_timeout,
                check=False,
            )
        if result.returncode != 0:
            raise RuntimeError(f"pulseaudio failed to start (exit {result.returncode}): {self._log_tail()}")
        deadline = time.monotonic() + self.startup_timeout
        while True:
            info = subprocess.run(["pactl", "info"], env=env, capture_output=True, timeout=5, check=False)
            if info.returncode == 0:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"pulseaudio did not answer `pactl info`: {info.stderr.decode(errors='replace')}")
            time.sleep(0.05)
        subprocess.run(["pactl", "set-default-source", SOURCE], env=env, capture_output=True, timeout=5, check=True)
        subprocess.run(["pactl", "set-default-sink", SINK], env=env, capture_output=True, timeout=5, check=True)
        self._warm_up(env)

    def _warm_up(self, env: dict[str, str]) -> None:
        """Keep the null sink at low latency, so a recording started later hears audio within ~0.2 s.

        module-null-sink runs with a 2 s latency while no stream asks for less, and only re-plans on its next
        wake-up: without this, a process's first recording got its first block 1-2 s late and the audio of that
        gap was never delivered (measured here: first callback at 2.0-2.2 s, later streams at 0.2-0.3 s). A
        low-latency recorder on the monitor, kept for the daemon's lifetime, fixes the latency; playing a few
        milliseconds of silence returns once the sink has re-planned (up to 2 s, once per VirtualMic).
        """
        assert self.runtime_dir is not None
        self._keepalive = subprocess.Popen(
            ["parec", f"--device={SINK}.monitor", "--latency-msec=20", "--raw"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self._keepalives = [
            subprocess.Popen(
                ["parec", f"--device={SINK2}.monitor", "--latency-msec=20", "--raw"],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        ]
        silence = self.runtime_dir / "silence.wav"
        with wave.open(str(silence), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(16000)
            w.writeframes(bytes(2 * 160))
        for sink in (SINK, SINK2):
            subprocess.run(
                ["paplay", f"--device={sink}", str(silence)], env=env, capture_output=True, timeout=10, check=False
            )

    def _log_tail(self) -> str:
        if self.runtime_dir is None:
            return ""
        with contextlib.suppress(OSError):
            return (self.runtime_dir / "pulseaudio.log").read_text(errors="replace")[-2000:]
        return ""

    @property
    def pid(self) -> int | None:
        """The daemon's pid, from its pid file (it double-forks, so it is not our child)."""
        if self.runtime_dir is None:
            return None
        try:
            return int((self.runtime_dir / "pulse" / "pid").read_text().strip())
        except (OSError, ValueError):
            return None

    def stop(self) -> None:
        """Stop players, restore this process's environment, kill the daemon, remove the temp dir. Idempotent."""
        self.stop_playing()
        self.deactivate()
        keepalive, self._keepalive = self._keepalive, None
        extra, self._keepalives = self._keepalives, []
        for process in extra:
            process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=3)
        if keepalive is not None:
            keepalive.terminate()
            try:
                keepalive.wait(timeout=3)
            except subprocess.TimeoutExpired:
                keepalive.kill()
                keepalive.wait(timeout=3)
        pid = self.pid
        if pid is not None:
            _terminate_pid(pid)
        if self.runtime_dir is not None:
            shutil.rmtree(self.runtime_dir, ignore_errors=True)
            self.runtime_dir = None
        atexit.unregister(self.stop)

    def __enter__(self) -> VirtualMic:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- this process ------------------------------------------------------------------------------------------------

    def activate(self) -> None:
        """Point this process (os.environ, then PortAudio via reinit_portaudio()) at the virtual mic."""
        if self.runtime_dir is None:
            raise RuntimeError("VirtualMic.activate() before start()")
        if self._saved_env is None:
            self._saved_env = {key: os.environ.get(key) for key in _ENV_KEYS}
        os.environ.update(self.env)
        reinit_portaudio()

    def deactivate(self) -> None:
        """Undo activate(): restore the environment and let PortAudio forget the virtual devices."""
        if self._saved_env is None:
            return
        for key, value in self._saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        self._saved_env = None
        if "sounddevice" in sys.modules:
            reinit_portaudio()

    # -- audio -----------------------------------------------------------------------------------------------------

    def play(self, wav_path: Path, *, loop: bool = False, sink: str = SINK) -> subprocess.Popen[bytes]:
        """Play a file into the mic (`paplay --device=virtmic_sink`, or `sink`); loop=True repeats it until
        terminate()."""
        if self.runtime_dir is None:
            raise RuntimeError("VirtualMic.play() before start()")
        path = str(Path(wav_path).resolve())
        args = ["sh", "-c", _LOOP_SCRIPT, "sh", sink, path] if loop else ["paplay", f"--device={sink}", path]
        player = subprocess.Popen(args, env=self._child_env(), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        self._players.append(player)
        return player

    def stop_playing(self) -> None:
        """Terminate every player started by play() and reap it."""
        players, self._players = self._players, []
        for player in players:
            if player.poll() is None:
                player.terminate()
        for player in players:
            try:
                player.wait(timeout=3)
            except subprocess.TimeoutExpired:
                player.kill()
                player.wait(timeout=3)

    def sources(self) -> str:
        """`pactl list short sources`, for debugging a test."""
        return subprocess.run(
            ["pactl", "list", "short", "sources"], env=self._child_env(), capture_output=True, text=True, check=False
        ).stdout


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (in a container whose pid 1 does not reap) is as good as gone.
    with contextlib.suppress(OSError):
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[-1].split()[0] != "Z"
    return True


def _terminate_pid(pid: int, timeout: float = 5.0) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _pid_alive(pid):
        if time.monotonic() > deadline:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            return
        time.sleep(0.02)


@pytest.fixture(scope="module")
def virtual_mic() -> Iterator[VirtualMic]:
    """A started, activated VirtualMic for a test module; skipped without PulseAudio, but a failure under CI."""
    if not pulseaudio_available():
        message = f"PulseAudio not installed (need {', '.join(_BINARIES)}: apt install pulseaudio pulseaudio-utils)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    mic = VirtualMic().start()
    try:
        mic.activate()
        yield mic
    finally:
        mic.stop()
