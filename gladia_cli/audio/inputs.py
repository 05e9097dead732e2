"""The inputs of a live run opened and started: one microphone, several as channels of one session, or stdin.

Recording starts here, before the session exists: what is said while it is created waits in the source's buffer. A
microphone `early.begin` started before the command line was read is taken over when it is the one asked for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gladia_cli.audio.devices import SYSTEM_AUDIO, resolve_input, short_name
from gladia_cli.audio.format import AudioSource, PcmFormat
from gladia_cli.errors import UsageError

if TYPE_CHECKING:
    from gladia_cli.audio.files import FormatRequest


def open_microphones(
    specs: list[str | None],
    fmt: PcmFormat,
    *,
    chunk_ms: int,
    buffer_seconds: float,
    rate_fallback: bool = False,
    names: list[str] | None = None,
    paused: bool = False,
) -> tuple[AudioSource, str, list[str] | None]:
    """The started source (one MicrophoneSource, or a MultiSource of several), its label, and the channel names.

    `specs` are devices as `resolve_input` takes them (None: the default input), channel 0 first; `names` label the
    channels (fewer than the inputs leave the rest numbered); several inputs default to their devices' names.
    `paused`: nothing is kept until the source's `set_paused(False)` (push-to-talk).
    """
    from gladia_cli.audio import early
    from gladia_cli.audio.capture import MicrophoneSource

    early.settle()  # PortAudio is this thread's alone from here
    devices = [resolve_input(spec) for spec in specs or [None]]
    seen: dict[tuple[int, str | None], int] = {}
    for k, device in enumerate(devices):
        first = seen.setdefault((device.index, device.pulse_source), k)
        if first != k:  # the same sound twice: two channels of one recording, the second a copy of the first
            raise UsageError(
                f"input {k + 1} ({specs[k]!r}) is the same device as input {first + 1}: {device.name!r}",
                hint="give each input once; `channels` 2 records both sides of a stereo device",
            )
    if paused or len(devices) > 1:
        early.cancel()  # what it recorded was not asked for
    if len(devices) == 1:
        started = (
            None
            if paused
            else early.take(
                devices[0], fmt, chunk_ms=chunk_ms, buffer_seconds=buffer_seconds, rate_fallback=rate_fallback
            )
        )
        mic = started or MicrophoneSource(
            fmt, devices[0], chunk_ms=chunk_ms, max_buffer_seconds=buffer_seconds, rate_fallback=rate_fallback
        )
        mic.set_paused(paused)
        mic.start()
        return mic, f"from {devices[0].name}", names
    from gladia_cli.audio.multi import open_inputs

    defaults = [SYSTEM_AUDIO if spec == SYSTEM_AUDIO else short_name(d) for spec, d in zip(specs, devices, strict=True)]
    labels = list(names or []) + [f"ch{k}" if names else defaults[k] for k in range(len(names or []), len(devices))]
    source = open_inputs(devices, fmt, labels, chunk_ms=chunk_ms, max_buffer_seconds=buffer_seconds)
    source.set_paused(paused)
    source.start()  # every input records from now, as one microphone does
    return source, "from " + " + ".join(labels), labels


def open_stdin(chunk_ms: int, asked: FormatRequest) -> AudioSource:
    """Audio piped in: a WAV stream decides its own format; raw PCM is what `asked` declares."""
    from gladia_cli.audio.stdin import open_stdin as open_

    return open_(
        chunk_ms,
        encoding=asked.encoding,
        sample_rate=asked.sample_rate,
        bit_depth=asked.bit_depth,
        channels=asked.channels,
    )
