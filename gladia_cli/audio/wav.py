"""WAV (RIFF, RF64, BW64) files: the container parsed chunk by chunk, and its data chunk read as a file source.

Only the header is read when a file is opened, so every mistake (truncated header, unknown codec) is reported
before any network call; damaged but playable files (a recorder killed mid-write) are read as far as they go.
"""

from __future__ import annotations

import shlex
import struct
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING

from gladia_cli.audio.convert import LinearResampler, decode_samples, encode_samples
from gladia_cli.audio.filesource import FileSource
from gladia_cli.audio.format import PcmFormat
from gladia_cli.errors import UsageError

if TYPE_CHECKING:
    import numpy as np

_WAVE_PCM = 0x0001
_WAVE_FLOAT = 0x0003
_WAVE_EXTENSIBLE = 0xFFFE
_KSDATAFORMAT_TAIL = b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"
"""Bytes 2..15 shared by every KSDATAFORMAT_SUBTYPE GUID; bytes 0..1 hold the classic format tag."""

_G711 = {0x0006: "alaw", 0x0007: "ulaw"}  # WAV format tag -> the kind, and `wav/<kind>` for Gladia
_KNOWN_WAV_CODECS = {
    0x0002: "Microsoft ADPCM",
    0x0006: "A-law",
    0x0007: "mu-law",
    0x0011: "IMA ADPCM",
    0x0031: "GSM 6.10",
    0x0050: "MPEG audio",
    0x0055: "MP3",
    0x0161: "WMA",
    0x2000: "AC-3",
}
_MAX_FMT_CHUNK = 4096
_MAX_SANE_RATE = 1_000_000


def is_wav_header(head: bytes) -> bool:
    """The first 12 bytes name a WAV container; anything else is left to ffmpeg."""
    return len(head) >= 12 and head[:4] in (b"RIFF", b"RF64", b"BW64") and head[8:12] == b"WAVE"


def _channel_label(channels: int) -> str:
    return {1: "mono", 2: "stereo"}.get(channels, f"{channels} channels")


@dataclass(frozen=True)
class WavInfo:
    """What the RIFF header says, reduced to what decoding needs."""

    kind: str  # "int" or "float"
    width: int  # bytes per sample (container size)
    channels: int
    sample_rate: int
    data_offset: int
    data_bytes: int  # whole frames actually present in the file
    truncated: bool
    container: str = "WAV"

    @property
    def frame_bytes(self) -> int:
        return self.width * self.channels

    @property
    def frames(self) -> int:
        return self.data_bytes // self.frame_bytes

    def matches(self, fmt: PcmFormat) -> bool:
        return self.sample_rate == fmt.sample_rate and self.channels == fmt.channels

    def describe(self) -> str:
        kind = {"float": " float", "alaw": " A-law", "ulaw": " mu-law"}.get(self.kind, "")
        return f"{self.container} {self.width * 8}-bit{kind} {self.sample_rate} Hz {_channel_label(self.channels)}"


def _wav_corrupt(path: Path, what: str) -> UsageError:
    return UsageError(
        f"{path} is not a valid WAV file: {what}",
        hint="the file may be damaged; re-export it, or try converting it with ffmpeg",
    )


def _wav_unsupported(path: Path, what: str) -> UsageError:
    return UsageError(
        f"{path} uses {what}, which gladia cannot send",
        hint=f"convert it first, e.g. ffmpeg -i {shlex.quote(str(path))} -c:a pcm_s16le converted.wav",
    )


def parse_wav(f: IO[bytes], path: Path, file_size: int) -> WavInfo:
    """Walk the RIFF chunks after the 12-byte header already read; never reads the audio itself."""
    f.seek(0)
    header = f.read(12)
    if len(header) < 12:
        raise _wav_corrupt(path, "the header is truncated")
    is_rf64 = header[:4] in (b"RF64", b"BW64")
    ds64_data_size: int | None = None
    fmt: tuple[str, int, int, int, str] | None = None
    data: tuple[int, int, bool] | None = None  # offset, whole-frame-agnostic byte count, truncated
    pos = 12
    prev_odd = False
    while pos + 8 <= file_size:
        f.seek(pos)
        chunk_header = f.read(8)
        if len(chunk_header) < 8:
            break
        chunk_id, size = struct.unpack("<4sI", chunk_header)
        body_pos = pos + 8
        available = file_size - body_pos
        if chunk_id == b"fmt ":
            if 16 <= size <= _MAX_FMT_CHUNK and size > available:
                raise _wav_corrupt(path, f"it is cut off inside its header ({file_size} bytes in all)")
            if size < 16 or size > _MAX_FMT_CHUNK:
                raise _wav_corrupt(path, f"its fmt chunk has an invalid size ({size} bytes)")
            fmt = _parse_fmt(f.read(size), path)
        elif chunk_id == b"ds64" and is_rf64:
            body = f.read(min(size, 64))
            if len(body) >= 16:
                ds64_data_size = struct.unpack("<Q", body[8:16])[0]
        elif chunk_id == b"data":
            declared: int = size
            if is_rf64 and size == 0xFFFFFFFF and ds64_data_size is not None:
                declared = ds64_data_size
            elif size in (0, 0xFFFFFFFF):
                declared = -1  # never finalized by a streaming recorder: the data runs to the end of the file
            truncated = declared < 0 or declared > available
            data = (body_pos, available if truncated else declared, truncated)
            if truncated:
                break
        elif not _is_chunk_id(chunk_id):
            if prev_odd:  # some writers forget the pad byte after an odd-sized chunk: retry one byte earlier
                prev_odd = False
                pos -= 1
                continue
            raise _wav_corrupt(path, f"found garbage where a chunk header should be at byte {pos}")
        if fmt is not None and data is not None:
            break
        prev_odd = bool(size & 1)
        pos = body_pos + size + (size & 1)  # chunks are padded to an even size
    if fmt is None:
        raise _wav_corrupt(path, "it has no fmt chunk (the header is missing or truncated)")
    if data is None:
        raise _wav_corrupt(path, "it has no data chunk (the file is truncated or not a recording)")
    kind, width, channels, sample_rate, _label = fmt
    offset, nbytes, truncated = data
    frame = width * channels
    whole = nbytes // frame * frame
    if whole == 0:
        raise UsageError(f"{path} contains no audio samples", hint="give a file that contains audio")
    return WavInfo(
        kind=kind,
        width=width,
        channels=channels,
        sample_rate=sample_rate,
        data_offset=offset,
        data_bytes=whole,
        truncated=truncated,
        container="RF64" if is_rf64 else "WAV",
    )


def _is_chunk_id(chunk_id: bytes) -> bool:
    """RIFF chunk ids are four printable ASCII characters (LIST, fact, bext, _PMX, id3 ...)."""
    return all(0x20 <= c <= 0x7E for c in chunk_id)


def _parse_fmt(body: bytes, path: Path) -> tuple[str, int, int, int, str]:
    """Decode a fmt chunk into (kind, bytes per sample, channels, rate, label), or say what is unsupported."""
    tag, channels, sample_rate, _byte_rate, block_align, bits = struct.unpack("<HHIIHH", body[:16])
    if tag == _WAVE_EXTENSIBLE:
        if len(body) < 40:
            raise _wav_corrupt(path, "its WAVE_FORMAT_EXTENSIBLE header is truncated")
        guid = body[24:40]
        if guid[2:] != _KSDATAFORMAT_TAIL:
            raise _wav_unsupported(path, "an unknown WAVE_FORMAT_EXTENSIBLE sub-format")
        tag = struct.unpack("<H", guid[:2])[0]
    if tag in _G711 and bits == 8:
        # Telephony audio: Gladia takes it as is (`wav/alaw`, `wav/ulaw`), so it is declared, never converted.
        if channels == 0 or sample_rate == 0 or sample_rate > _MAX_SANE_RATE or block_align != channels:
            raise _wav_corrupt(path, f"its header declares {channels} channels at {sample_rate} Hz, {bits}-bit")
        return _G711[tag], 1, channels, sample_rate, f"8-bit {_KNOWN_WAV_CODECS[tag]}"
    if tag not in (_WAVE_PCM, _WAVE_FLOAT):
        if tag in _KNOWN_WAV_CODECS:
            raise _wav_unsupported(path, f"{_KNOWN_WAV_CODECS[tag]} encoding")
        raise _wav_corrupt(path, f"unknown audio format code 0x{tag:04x} in its header")
    if channels == 0 or sample_rate == 0 or bits == 0 or sample_rate > _MAX_SANE_RATE:
        raise _wav_corrupt(path, f"its header declares {channels} channels at {sample_rate} Hz, {bits}-bit")
    width = (bits + 7) // 8
    if block_align != width * channels:
        # Some writers store e.g. 24-bit samples in 32-bit containers; trust block_align when it is consistent.
        if block_align % channels or block_align // channels < width:
            raise _wav_corrupt(path, f"its block size ({block_align}) does not match {channels} x {bits}-bit samples")
        width = block_align // channels
    kind = "int" if tag == _WAVE_PCM else "float"
    if kind == "int" and width not in (1, 2, 3, 4):
        raise _wav_unsupported(path, f"{width * 8}-bit integer samples")
    if kind == "float" and width not in (4, 8):
        raise _wav_unsupported(path, f"{width * 8}-bit float samples")
    return kind, width, channels, sample_rate, f"{width * 8}-bit {kind}"


class Converter:
    """Bytes of the WAV file's format in, bytes of the sent format out; stateful only through the resampler."""

    def __init__(self, info: WavInfo, out: PcmFormat) -> None:
        self.kind = info.kind
        self.width = info.width
        self.in_channels = info.channels
        self.out = out
        self.resampler = (
            LinearResampler(info.sample_rate, out.sample_rate) if info.sample_rate != out.sample_rate else None
        )

    def process(self, raw: bytes) -> bytes:
        samples = decode_samples(raw, self.kind, self.width, self.in_channels)
        if self.out.channels == 1 and self.in_channels > 1:
            samples = samples.mean(axis=1, keepdims=True)
        if self.resampler is not None:
            samples = self.resampler.process(samples)
        return self._encode(samples)

    def flush(self) -> bytes:
        if self.resampler is None:
            return b""
        return self._encode(self.resampler.flush())

    def _encode(self, samples: np.ndarray) -> bytes:
        import numpy as np

        if samples.shape[0] == 0:
            return b""
        if samples.shape[1] == 1 and self.out.channels > 1:
            samples = np.repeat(samples, self.out.channels, axis=1)
        if self.out.encoding != "wav/pcm":
            from gladia_cli.audio import g711

            return g711.encode(encode_samples(samples, 16), self.out.encoding.removeprefix("wav/"))
        return encode_samples(samples, self.out.bit_depth)


class WavSource(FileSource):
    """A WAV data chunk, passed through byte-for-byte or converted block by block."""

    def __init__(self, path: Path, info: WavInfo, fmt: PcmFormat, *, chunk_ms: int, speed: float) -> None:
        passthrough = info.matches(fmt) and (
            fmt.encoding == f"wav/{info.kind}"
            or (fmt.encoding == "wav/pcm" and info.kind == "int" and info.width > 1 and info.width * 8 == fmt.bit_depth)
        )
        super().__init__(
            path,
            fmt,
            description=info.describe(),
            duration=info.frames / info.sample_rate,
            converted=not passthrough,
            chunk_ms=chunk_ms,
            speed=speed,
            truncated=info.truncated,
        )
        self._info = info
        self._converter = None if passthrough else Converter(info, fmt)

    def _raw_chunks(self) -> Generator[bytes, None, None]:
        info = self._info
        out_chunk = self.format.chunk_bytes(self.chunk_ms)
        with open(self.path, "rb") as f:
            f.seek(info.data_offset)
            remaining = info.data_bytes
            if self._converter is None:
                yield from self._read_frames(f, remaining, out_chunk, info.frame_bytes)
                return
            converter = self._converter
            in_block = info.frame_bytes * max(1, info.sample_rate * self.chunk_ms // 1000)
            pending = bytearray()
            for block in self._read_frames(f, remaining, in_block, info.frame_bytes):
                pending += converter.process(block)
                yield from _drain(pending, out_chunk)
            if self._closed.is_set():
                return
            pending += converter.flush()
            yield from _drain(pending, out_chunk)
            if pending:
                yield bytes(pending)

    def _read_frames(self, f: IO[bytes], remaining: int, size: int, frame_bytes: int) -> Iterator[bytes]:
        """Read `remaining` bytes in `size` pieces; stop early (on a whole frame) if the file shrank meanwhile."""
        while remaining > 0 and not self._closed.is_set():
            want = min(size, remaining)
            block = f.read(want)
            if len(block) < want:
                block = block[: len(block) // frame_bytes * frame_bytes]
                if block:
                    yield block
                return
            remaining -= want
            yield block


def _drain(pending: bytearray, size: int) -> Iterator[bytes]:
    """Yield every full `size` chunk from the front of `pending` (bytearray front deletion is amortized O(1))."""
    while len(pending) >= size:
        yield bytes(pending[:size])
        del pending[:size]
