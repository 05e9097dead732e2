"""PortAudio's inputs (through sounddevice): the devices it can record, and one of them picked by index or name.

`sounddevice` is imported on first use only: importing it initialises PortAudio, which scans every audio device, and
`gladia --help` must not pay for that. The inputs a person chooses among (these and PulseAudio's sources) are
listed by `audio.devices`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from gladia_cli.errors import UsageError

DEVICES_HINT = "see `gladia devices`"


@dataclass(frozen=True)
class InputDevice:
    """One PortAudio device that can record; `index` is only valid for the current process's PortAudio scan."""

    index: int
    name: str
    hostapi: str
    max_input_channels: int
    default_samplerate: float
    is_default: bool
    # A PulseAudio source recorded through this (ALSA "pulse") device: see audio/pulse.py.
    pulse_source: str | None = None


def sounddevice() -> Any:
    """Import sounddevice on first use, turning a missing or broken PortAudio into one actionable line."""
    try:
        import sounddevice
    except OSError:
        raise UsageError(
            "the PortAudio library was not found, so no microphone can be used",
            hint="install it (Debian/Ubuntu: apt install libportaudio2; macOS: brew install portaudio)",
        ) from None
    except Exception as e:
        raise UsageError(f"cannot initialise audio input: {e}", hint=DEVICES_HINT) from None
    return sounddevice


def list_portaudio_inputs() -> list[InputDevice]:
    """Every device that has input channels, default marked; [] when PortAudio sees none (never a PortAudioError).

    Raises UsageError only when the PortAudio library itself is missing, so `gladia devices` can say how to fix it.
    """
    sd = sounddevice()
    try:
        devices = list(sd.query_devices())
        hostapis = sd.query_hostapis()
    except Exception:
        return []
    default_index = _default_input_index(sd)
    found = []
    for info in devices:
        try:
            if int(info["max_input_channels"]) <= 0:
                continue
            hostapi_index = int(info["hostapi"])
            hostapi = str(hostapis[hostapi_index]["name"]) if 0 <= hostapi_index < len(hostapis) else "?"
            found.append(
                InputDevice(
                    index=int(info["index"]),
                    name=str(info["name"]),
                    hostapi=hostapi,
                    max_input_channels=int(info["max_input_channels"]),
                    default_samplerate=float(info["default_samplerate"]),
                    is_default=int(info["index"]) == default_index,
                )
            )
        except (KeyError, TypeError, ValueError):
            continue
    return found


def _default_input_index(sd: Any) -> int | None:
    """PortAudio's default input device (its default host API's), or None: with no device it answers -1."""
    try:
        index = int(sd.query_devices(kind="input")["index"])
    except Exception:
        return None
    return index if index >= 0 else None


def portaudio_device(spec: str | None) -> InputDevice:
    """Turn the user's --device value into one input device, or a UsageError saying what to pass instead.

    None is the default input device; digits are a PortAudio index; anything else is a name, matched
    case-insensitively: exact first, then as a unique substring. Windows lists one microphone under several host
    APIs (MME, DirectSound, WASAPI), so among several matches the one on the default device's host API wins.
    """
    devices = list_portaudio_inputs()
    if not devices:
        raise UsageError("no input device found", hint=DEVICES_HINT)
    if spec is None:
        for device in devices:
            if device.is_default:
                return device
        # Some host APIs list inputs but name no default; the first one is what PortAudio tries first too.
        return devices[0]

    wanted = spec.strip()
    if not wanted:
        raise UsageError("the device name is empty", hint=f"pass a device index or name; {DEVICES_HINT}")
    if re.fullmatch(r"[0-9]+", wanted):
        index = int(wanted)
        for device in devices:
            if device.index == index:
                return device
        raise UsageError(f"no input device with index {index}", hint=DEVICES_HINT)

    key = wanted.casefold()
    matches = [d for d in devices if d.name.casefold() == key] or [d for d in devices if key in d.name.casefold()]
    if not matches:
        raise UsageError(f"no input device matches {wanted!r}", hint=DEVICES_HINT)
    if len(matches) == 1:
        return matches[0]
    default_hostapi = next((d.hostapi for d in devices if d.is_default), None)
    preferred = [d for d in matches if d.hostapi == default_hostapi]
    if len(preferred) == 1:
        return preferred[0]
    candidates = ", ".join(f"{d.index}: {d.name!r} ({d.hostapi})" for d in matches)
    raise UsageError(
        f"{wanted!r} matches {len(matches)} input devices: {candidates}",
        hint=f"pass an index or a full name; {DEVICES_HINT}",
    )
