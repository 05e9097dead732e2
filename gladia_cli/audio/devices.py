"""The one list of inputs a person picks from: PortAudio's devices, then PulseAudio's sources (monitors included).

`gladia devices`, `gladia doctor`, `--device` and its Tab completion all read it here, so they cannot disagree.
"""

from __future__ import annotations

import re

from gladia_cli.audio import pulse
from gladia_cli.audio.portaudio import DEVICES_HINT, InputDevice, list_portaudio_inputs, portaudio_device
from gladia_cli.errors import UsageError

SYSTEM_AUDIO = "system audio"  # the --system-audio input's place among the devices, and its default name


def no_input_error() -> UsageError:
    """No input at all, with the reason when it is the sound server (the same words for `gladia devices`,
    `--device` and `gladia listen`)."""
    problem = pulse.sound_server_problem()
    if problem is not None:
        return UsageError(f"no input device found: {problem}")
    return UsageError("no input device found", hint="connect a microphone, or check that ALSA sees it (arecord -l)")


def resolve_input(spec: str | None) -> InputDevice:
    """One input: the default (None), a PortAudio device, a PulseAudio source by name, or the system audio."""
    if spec == SYSTEM_AUDIO:
        return system_audio_device()
    if not list_portaudio_inputs():
        raise no_input_error()
    if spec is None:
        return portaudio_device(None)
    return _named_input(spec)


def list_inputs() -> list[InputDevice]:
    """PortAudio's inputs, then every PulseAudio source recordable through PortAudio's pulse device."""
    devices = list_portaudio_inputs()
    extra = [d for d in (pulse.as_input(s, devices) for s in pulse.list_pulse_sources()) if d is not None]
    return devices + extra


def system_audio_device() -> InputDevice:
    """The monitor of the default output; elsewhere a loopback input PortAudio lists; else how to get one."""
    devices = list_portaudio_inputs()
    sources = pulse.list_pulse_sources()
    if sources:
        sink = pulse.default_sink()
        monitors = [s for s in sources if s.is_monitor]
        chosen = next((s for s in monitors if s.monitor_of == sink), monitors[0] if monitors else None)
        if chosen is not None:
            device = pulse.as_input(chosen, devices)
            if device is not None:
                return device
    for device in devices:
        if any(word in device.name.casefold() for word in pulse.LOOPBACK_NAMES):
            return device
    raise UsageError("no system audio input found", hint=pulse.system_audio_help())


def _named_input(spec: str) -> InputDevice:
    """A name or index among PortAudio's inputs first (as always), then PulseAudio's sources by name."""
    wanted = spec.strip()
    if not wanted or wanted.isdigit():
        return portaudio_device(spec)
    devices = list_portaudio_inputs()
    key = wanted.casefold()
    portaudio = [d for d in devices if key in d.name.casefold()]
    sources = pulse.list_pulse_sources()
    exact = [s for s in sources if s.name.casefold() == key]
    if portaudio and not (exact and not any(d.name.casefold() == key for d in portaudio)):
        return portaudio_device(spec)
    matches = exact or [s for s in sources if key in s.name.casefold()]
    if not matches:
        return portaudio_device(spec)  # its own "no input device matches" message
    if len(matches) > 1:
        names = ", ".join(repr(s.name) for s in matches)
        raise UsageError(f"{wanted!r} matches {len(matches)} inputs: {names}", hint=f"pass a full name; {DEVICES_HINT}")
    device = pulse.as_input(matches[0], devices)
    if device is None:
        raise UsageError(
            f"{matches[0].name!r} is a PulseAudio source, but PortAudio lists no 'pulse' device to record it through",
            hint="install the ALSA pulse plugin (Debian/Ubuntu: apt install libasound2-plugins)",
        )
    return device


def short_name(device: InputDevice) -> str:
    """A channel's default label: the device name without its noise (".monitor", "(hw:0,0)", vendor words)."""
    name = device.name
    if name.endswith(".monitor"):
        name = name.removesuffix(".monitor")
        name = re.sub(r"^alsa_output\.", "", name)
    name = re.sub(r"\s*\((hw:)?[\d, ]+\)$", "", name).strip()
    name = name.split(":")[0].strip() or name
    return name[:24] or f"input {device.index}"
