"""What the computer plays, and inputs PortAudio cannot name: PulseAudio (and PipeWire's PulseAudio layer) sources.

PortAudio sees PulseAudio as one ALSA device ("pulse"): every PulseAudio source (microphones, and the monitor of
each output, which is how system audio looks on Linux) is recorded through it. The ALSA pulse plugin creates its
PulseAudio context when the stream is opened, and libpulse reads `PULSE_SOURCE` from the environment at that moment:
setting it just around the open picks the source, one stream at a time (verified with the virtual PulseAudio of
tests/virtual_mic.py). `pactl` lists the sources; without it (macOS, Windows, ALSA only) only PortAudio's devices
exist, and a loopback driver is how system audio becomes one of them.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gladia_cli.audio.portaudio import InputDevice

PACTL_TIMEOUT = 5.0
# PortAudio device names of loopback inputs on the platforms without PulseAudio: `--system-audio` takes one.
LOOPBACK_NAMES = ("blackhole", "loopback", "stereo mix", "soundflower", "what u hear", "monitor")

_env_lock = threading.Lock()


@dataclass(frozen=True)
class PulseSource:
    """One PulseAudio source; a monitor records what its sink (an output) plays."""

    name: str
    channels: int
    rate: int
    monitor_of: str | None  # the sink's name for a monitor, else None

    @property
    def is_monitor(self) -> bool:
        return self.monitor_of is not None


def _pactl(*args: str) -> str | None:
    """pactl's stdout, or None when there is no pactl or no server to answer it."""
    if shutil.which("pactl") is None:
        return None
    try:
        done = subprocess.run(
            ["pactl", *args], capture_output=True, text=True, timeout=PACTL_TIMEOUT, stdin=subprocess.DEVNULL
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def list_pulse_sources() -> list[PulseSource]:
    """`pactl list short sources`, parsed; [] without pactl or a server."""
    out = _pactl("list", "short", "sources")
    if out is None:
        return []
    found = []
    for line in out.splitlines():
        fields = line.split("\t")
        if len(fields) < 4:
            continue
        name, spec = fields[1], fields[3]
        channels = re.search(r"(\d+)ch", spec)
        rate = re.search(r"(\d+)Hz", spec)
        sink = name.removesuffix(".monitor") if name.endswith(".monitor") else None
        found.append(
            PulseSource(
                name=name,
                channels=int(channels.group(1)) if channels else 2,
                rate=int(rate.group(1)) if rate else 48000,
                monitor_of=sink,
            )
        )
    return found


def default_sink() -> str | None:
    out = _pactl("info")
    for line in (out or "").splitlines():
        if line.startswith("Default Sink:"):
            return line.split(":", 1)[1].strip() or None
    return None


@contextlib.contextmanager
def pulse_source_env(source: str | None) -> Iterator[None]:
    """`PULSE_SOURCE=source` while a stream opens (the pulse plugin reads it then); a no-op for None."""
    if source is None:
        yield
        return
    with _env_lock:
        saved = os.environ.get("PULSE_SOURCE")
        os.environ["PULSE_SOURCE"] = source
        try:
            yield
        finally:
            if saved is None:
                os.environ.pop("PULSE_SOURCE", None)
            else:
                os.environ["PULSE_SOURCE"] = saved


def _pulse_device(devices: list[InputDevice]) -> InputDevice | None:
    """PortAudio's way into PulseAudio: the ALSA "pulse" device, else "default" (which routes to it there)."""
    for wanted in ("pulse", "default"):
        for device in devices:
            if device.name.casefold() == wanted:
                return device
    return None


def as_input(source: PulseSource, devices: list[InputDevice]) -> InputDevice | None:
    """The PortAudio device that records `source` (with PULSE_SOURCE set around its opening)."""
    via = _pulse_device(devices)
    if via is None:
        return None
    return replace(
        via,
        name=source.name,
        hostapi="PulseAudio monitor" if source.is_monitor else "PulseAudio",
        default_samplerate=float(source.rate),
        is_default=False,
        pulse_source=source.name,
    )


def sound_server_problem() -> str | None:
    """On Linux, what keeps PulseAudio's (or PipeWire's) inputs from gladia, checked, not guessed: no server
    answering, or a missing piece (pactl, the ALSA pulse plugin). None: nothing found wrong (or not Linux)."""
    if not sys.platform.startswith("linux"):
        return None
    missing = []
    if shutil.which("pactl") is None:
        missing.append("pactl (Debian/Ubuntu: apt install pulseaudio-utils)")
    if not _alsa_pulse_plugin():
        missing.append("the ALSA pulse plugin (Debian/Ubuntu: apt install libasound2-plugins)")
    also = f"; also install {' and '.join(missing)}" if missing else ""
    if shutil.which("pactl") is not None and _pactl("info") is None:
        return (
            "no sound server is running (pactl cannot reach PulseAudio or PipeWire): log in to a desktop session, or"
            f" start one (`pulseaudio --start`, or `systemctl --user start pipewire-pulse`){also}"
        )
    if missing:
        return f"install {' and '.join(missing)}"
    return None


def _alsa_pulse_plugin() -> bool:
    """Whether ALSA's pulse plugin is installed, where distributions put it (unknown layouts: assumed there)."""
    import glob

    dirs = [
        d for pattern in ("/usr/lib/*/alsa-lib", "/usr/lib/alsa-lib", "/usr/lib64/alsa-lib") for d in glob.glob(pattern)
    ]
    return not dirs or any(os.path.exists(os.path.join(d, "libasound_module_pcm_pulse.so")) for d in dirs)


def system_audio_help() -> str:
    """What to install for system audio on this platform, and how it then shows up."""
    if sys.platform == "darwin":
        return (
            "install a loopback driver such as BlackHole (brew install blackhole-2ch), send the output to it"
            " (a Multi-Output Device in Audio MIDI Setup), then it appears in `gladia devices`: `device` BlackHole"
        )
    if sys.platform.startswith("win"):
        return (
            'enable "Stereo Mix" (Sound settings > Recording > show disabled devices) or install a virtual cable'
            " (VB-CABLE); it then appears in `gladia devices`: `device` 'Stereo Mix'"
        )
    problem = sound_server_problem()
    if problem is not None:
        return f"system audio is the monitor of an output in PulseAudio or PipeWire: {problem}"
    return "system audio is the monitor of an output in PulseAudio or PipeWire, and none is listed: `gladia devices`"
