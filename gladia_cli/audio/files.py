"""Audio files as a live source or an upload: the checks, the format to send, and the pre-upload look.

Everything the user can get wrong about the file is checked in `open_audio_file`, before any network call. A WAV
is parsed by `wav`, anything else is decoded by `ffmpeg`; both are paced like a microphone
(`pacing`). numpy is imported lazily (`convert`) so importing this module (and `gladia --help`) stays fast.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, replace
from pathlib import Path

from gladia_cli.audio import ffmpeg
from gladia_cli.audio.convert import can_mix
from gladia_cli.audio.filesource import FileSource
from gladia_cli.audio.format import ENCODINGS, MAX_CHANNELS, SAMPLE_RATES, PcmFormat
from gladia_cli.audio.g711 import KINDS as G711_KINDS
from gladia_cli.audio.wav import WavInfo, WavSource, is_wav_header, parse_wav
from gladia_cli.errors import UsageError

__all__ = ["FileSource", "FormatRequest", "open_audio_file"]

DEFAULT_RATE = 16000
"""Rate we resample to when the file's rate is not one Gladia accepts: what speech models use natively."""

SEND_BIT_DEPTHS = (16, 24, 32)
"""Signed little-endian PCM depths we send; 8-bit would be unsigned in WAV, so we never send it."""


@dataclass(frozen=True)
class FormatRequest:
    """What the user asked for on the command line; None = not given (let the file decide)."""

    sample_rate: int | None = None
    channels: int | None = None
    bit_depth: int | None = None
    encoding: str | None = None  # wav/pcm, wav/alaw or wav/ulaw

    @property
    def g711(self) -> bool:
        return self.encoding in ("wav/alaw", "wav/ulaw")


def open_audio_file(path: Path, request: FormatRequest, chunk_ms: int = 100, *, speed: float = 0.0) -> FileSource:
    """Check the file and the requested format now, so every user mistake is a UsageError before any network call."""
    path = Path(path)
    if chunk_ms <= 0:
        raise UsageError(f"chunk duration must be positive, got {chunk_ms} ms")
    if speed < 0:
        raise UsageError(f"`speed` must be 0 (as fast as possible) or positive, got {speed}")
    if request.encoding is not None and request.encoding not in ENCODINGS:
        raise UsageError(f"unsupported encoding {request.encoding!r}", hint=f"use one of {', '.join(ENCODINGS)}")
    try:
        st = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        raise UsageError(f"no such file: {path}", hint="check the path") from None
    except PermissionError:
        raise UsageError(f"cannot read {path}: permission denied", hint="check the file's permissions") from None
    except OSError as e:
        raise UsageError(f"cannot read {path}: {e.strerror or e}") from None
    if stat.S_ISDIR(st.st_mode):
        raise UsageError(f"{path} is a directory, not an audio file", hint="give the path of an audio file")
    if not stat.S_ISREG(st.st_mode):
        raise UsageError(f"{path} is not a regular file", hint="give the path of an audio file")
    if st.st_size == 0:
        raise UsageError(f"{path} is empty", hint="give a file that contains audio")
    try:
        with open(path, "rb") as f:
            head = f.read(12)
            is_wav = is_wav_header(head)
            if is_wav:
                info = parse_wav(f, path, st.st_size)
    except PermissionError:
        raise UsageError(f"cannot read {path}: permission denied", hint="check the file's permissions") from None
    except OSError as e:
        raise UsageError(f"cannot read {path}: {e.strerror or e}") from None

    if is_wav:
        fmt = _choose_wav_format(path, info, request)
        return WavSource(path, info, fmt, chunk_ms=chunk_ms, speed=speed)
    return _open_with_ffmpeg(path, request, chunk_ms, speed)


def _check_bit_depth(request: FormatRequest) -> None:
    """8-bit PCM is unsigned and nearly useless for speech; 8 bits here means G.711."""
    if request.bit_depth == 8 and not request.g711:
        raise UsageError(
            "`bit_depth` 8 is only for A-law and mu-law", hint="use 16, 24 or 32, or `encoding` wav/alaw|wav/ulaw"
        )


def _validated(path: Path, fmt: PcmFormat) -> PcmFormat:
    """PcmFormat.validate(), but naming the file so the user knows which input the message is about."""
    try:
        return fmt.validate()
    except UsageError as e:
        raise UsageError(f"cannot send {path}: {e.message}", hint=e.hint) from None


def _choose_wav_format(path: Path, info: WavInfo, request: FormatRequest) -> PcmFormat:
    """Pass through what Gladia accepts as-is; convert only what it does not accept or what the user asked for."""
    if info.kind in G711_KINDS and request.encoding is None and request.bit_depth in (None, 8):
        # Telephony audio stays in its own encoding unless asked otherwise: sent as is when Gladia takes it.
        request = replace(request, encoding=f"wav/{info.kind}")
    _check_bit_depth(request)
    if info.channels > MAX_CHANNELS and request.channels != 1:
        raise UsageError(
            f"{path} has {info.channels} channels; Gladia accepts at most {MAX_CHANNELS}",
            hint="pass `channels` 1 to mix it down to mono",
        )
    if request.sample_rate is not None:
        rate = request.sample_rate
    else:
        rate = info.sample_rate if info.sample_rate in SAMPLE_RATES else DEFAULT_RATE
    encoding = request.encoding or "wav/pcm"
    if request.bit_depth is not None:
        bits = request.bit_depth
    elif request.g711:
        bits = 8
    else:
        bits = min(info.width * 8, SEND_BIT_DEPTHS[-1]) if info.kind == "int" and info.width > 1 else 16
    channels = request.channels if request.channels is not None else info.channels
    fmt = _validated(path, PcmFormat(sample_rate=rate, channels=channels, bit_depth=bits, encoding=encoding))
    _check_mix(path, info.channels, channels)
    return fmt


def _check_mix(path: Path, have: int, want: int) -> None:
    """The same channel changes for every container (`convert.can_mix`)."""
    if not can_mix(have, want):
        also = " or 2 (stereo)" if have <= 8 else ""
        raise UsageError(
            f"cannot convert {path} from {have} to {want} channels",
            hint=f"use `channels` 1 (mix down to mono){also}, or `channels` {have}",
        )


def _open_with_ffmpeg(path: Path, request: FormatRequest, chunk_ms: int, speed: float) -> FileSource:
    """Decode a non-WAV file with ffmpeg, probing it now so a non-audio file fails before any network call."""
    decoder = ffmpeg.require_ffmpeg(path)
    _check_bit_depth(request)
    probed = ffmpeg.probe(path)
    # Like a WAV: the file's own rate (the one it was recorded at) and channels when Gladia takes them (a stereo
    # call keeps its two sides), else 16 kHz; without ffprobe to ask, 16 kHz mono.
    own_rate = (probed.original_rate or probed.sample_rate) if probed else 0
    rate = request.sample_rate or (own_rate if own_rate in SAMPLE_RATES else DEFAULT_RATE)
    have = probed.channels if probed and probed.channels else 0
    channels = request.channels or have or 1
    if channels > MAX_CHANNELS:
        raise UsageError(
            f"{path} has {channels} channels; Gladia accepts at most {MAX_CHANNELS}",
            hint="pass `channels` 1 to mix it down to mono",
        )
    if have:
        _check_mix(path, have, channels)
    fmt = _validated(
        path,
        PcmFormat(
            sample_rate=rate,
            channels=channels,
            bit_depth=request.bit_depth or (8 if request.g711 else 16),
            encoding=request.encoding or "wav/pcm",
        ),
    )
    return ffmpeg.open_decoder(path, fmt, decoder, probed, chunk_ms=chunk_ms, speed=speed)
