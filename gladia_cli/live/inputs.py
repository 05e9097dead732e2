"""Which inputs a live run records, and what each channel is called: the flags checked, then the sources opened.

`--device` (repeatable) and `--system-audio` pick inputs; with more than one, each is a channel of one session
(`audio.multi`), channel 0 the first. `--channel-names` labels them; several inputs default to their devices'
names. `transcribe -` reads stdin (`audio.stdin`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gladia_cli.audio.format import MAX_CHANNELS
from gladia_cli.errors import UsageError
from gladia_cli.output.transcript import parse_channel_names

if TYPE_CHECKING:
    from gladia_cli.audio.capture import InputDevice
    from gladia_cli.audio.format import AudioSource
    from gladia_cli.cli.live_request import LiveRequest, Microphone, Stdin

SYSTEM_AUDIO = "system audio"  # the --system-audio input's place among the devices, and its default name


def check_names(value: list[str] | str | None, channels: int | None) -> list[str] | None:
    """`--channel-names` as a list: no empty name, no more names than channels (fewer leave the rest numbered)."""
    names = parse_channel_names(value)
    if names is None:
        return None
    if any(not name for name in names):
        raise UsageError("--channel-names has an empty name", hint="give one name per channel: --channel-names me,them")
    if channels is not None and len(names) > channels:
        raise UsageError(
            f"--channel-names gives {len(names)} names for {channels} channel(s)", hint="give one name per channel"
        )
    return names


def check_inputs(
    device: list[str] | str | None,
    system_audio: bool,
    channels: int | None,
    channel_names: list[str] | str | None,
) -> tuple[tuple[str, ...], int | None, list[str] | None]:
    """The inputs in channel order (the system audio last), the channel count, and the names; nothing opened."""
    specs = [device] if isinstance(device, str) else list(device or [])
    inputs = tuple(specs) + ((SYSTEM_AUDIO,) if system_audio else ())
    if len(inputs) > MAX_CHANNELS:
        raise UsageError(f"{len(inputs)} inputs, but a session takes at most {MAX_CHANNELS} channels")
    if len(inputs) > 1:
        if channels is not None and channels != len(inputs):
            raise UsageError(
                f"--channels {channels} does not match the {len(inputs)} inputs (one channel each)",
                hint="drop --channels",
            )
        channels = len(inputs)
    return inputs, channels, check_names(channel_names, channels if channels is not None else 1)


def resolve(spec: str | None) -> InputDevice:
    """One input: the default, a PortAudio device, a PulseAudio source by name, or the system audio."""
    from gladia_cli.audio import pulse as system

    if spec == SYSTEM_AUDIO:
        return system.system_audio_device()
    if spec is None:
        from gladia_cli.audio.capture import resolve_device

        return resolve_device(None)
    return system.resolve_input(spec)


def open_microphones(wanted: Microphone, request: LiveRequest) -> tuple[AudioSource, str, list[str] | None]:
    """The source (one MicrophoneSource, or a MultiSource of several), its label, and the channel names."""
    from gladia_cli.audio.capture import MicrophoneSource
    from gladia_cli.audio.pulse import short_name

    specs: list[str | None] = list(wanted.devices) or [wanted.device]
    devices = [resolve(spec) for spec in specs]
    names = request.channel_names
    if len(devices) == 1:
        mic = MicrophoneSource(
            wanted.format,
            devices[0],
            chunk_ms=request.chunk_ms,
            max_buffer_seconds=request.buffer_seconds,
            rate_fallback=wanted.rate_fallback,
        )
        mic.start()  # recording from now: what is said while the session is created waits in the mic's buffer
        return mic, f"from {devices[0].name}", names
    from gladia_cli.audio.multi import open_inputs

    defaults = [SYSTEM_AUDIO if spec == SYSTEM_AUDIO else short_name(d) for spec, d in zip(specs, devices, strict=True)]
    labels = list(names or []) + [f"ch{k}" if names else defaults[k] for k in range(len(names or []), len(devices))]
    source = open_inputs(
        devices, wanted.format, labels, chunk_ms=request.chunk_ms, max_buffer_seconds=request.buffer_seconds
    )
    source.start()  # every input records from now, as one microphone does
    return source, "from " + " + ".join(labels), labels


def open_stdin(wanted: Stdin, request: LiveRequest) -> AudioSource:
    from gladia_cli.audio.stdin import open_stdin as open_

    asked = wanted.format
    source = open_(
        request.chunk_ms,
        encoding=asked.encoding,
        sample_rate=asked.sample_rate,
        bit_depth=asked.bit_depth,
        channels=asked.channels,
    )
    if request.channel_names is not None:
        check_names(request.channel_names, source.format.channels)
    return source
