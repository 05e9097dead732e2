"""WAV (RIFF, RIFX, RF64, BW64) files: the container parsed chunk by chunk, its data chunk read as a file source.

Only the header is read when a file is opened, so every mistake (truncated header, unknown codec) is reported
before any network call; damaged but playable files (a recorder killed mid-write) are read as far as they go.
RIFX is the big-endian WAV (sox -B, old Macs): its samples are decoded in their own byte order, never sent swapped.
"""

from __future__ import annotations

import shlex
import struct
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from gladia_cli.audio.convert import Converter, layout_from_mask
from gladia_cli.audio.filesource import FileSource, drain
from gladia_cli.audio.format import PcmFormat
from gladia_cli.errors import UsageError

_WAVE_PCM = 0x0001
_WAVE_FLOAT = 0x0003
_WAVE_EXTENSIBLE = 0xFFFE
_KSDATAFORMAT_TAIL = b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"
"""Bytes 2..15 shared by every KSDATAFORMAT_SUBTYPE GUID as stored in a RIFF file; bytes 0..1 hold the tag."""
_KSDATAFORMAT_DATA4 = _KSDATAFORMAT_TAIL[-8:]

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
    return len(head) >= 12 and head[:4] in (b"RIFF", b"RIFX", b"RF64", b"BW64") and head[8:12] == b"WAVE"


def _channel_label(channels: int) -> str:
    return {1: "mono", 2: "stereo"}.get(channels, f"{channels} channels")


@dataclass(frozen=True)
class WavInfo:
    """What the RIFF header says, reduced to what decoding needs."""

    kind: str  # "int", "float", "alaw" or "ulaw"
    width: int  # bytes per sample (container size)
    channels: int
    sample_rate: int
    data_offset: int
    data_bytes: int  # whole frames actually present in the file
    truncated: bool  # the data chunk ends before its declared size
    container: str = "WAV"
    bits: int = 0  # the header's bits per sample (36 in a 40-bit container); 0: the container's
    big_endian: bool = False  # RIFX
    layout: tuple[str, ...] | None = None  # the speakers WAVE_FORMAT_EXTENSIBLE's channel mask names

    @property
    def frame_bytes(self) -> int:
        return self.width * self.channels

    @property
    def frames(self) -> int:
        return self.data_bytes // self.frame_bytes

    def matches(self, fmt: PcmFormat) -> bool:
        return self.sample_rate == fmt.sample_rate and self.channels == fmt.channels

    @property
    def sample_bits(self) -> int:
        return self.bits or self.width * 8

    def describe(self) -> str:
        kind = {"float": " float", "alaw": " A-law", "ulaw": " mu-law"}.get(self.kind, "")
        return f"{self.container} {self.sample_bits}-bit{kind} {self.sample_rate} Hz {_channel_label(self.channels)}"


def _wav_corrupt(path: Path, what: str) -> UsageError:
    return UsageError(
        f"{path} is not a valid WAV file: {what}",
        hint="the file may be damaged; re-export it, or try converting it with ffmpeg",
    )


class UnsupportedWavCodec(UsageError):
    """A sound WAV whose samples gladia cannot read itself (ADPCM, GSM, MP3 in WAV...): ffmpeg may, Gladia may."""


def _wav_unsupported(path: Path, what: str) -> UsageError:
    return UnsupportedWavCodec(
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
    order = ">" if header[:4] == b"RIFX" else "<"
    ds64_data_size: int | None = None
    fmt: _Fmt | None = None
    data: tuple[int, int, bool] | None = None  # offset, byte count, truncated
    pos = 12
    prev_odd = False
    while pos + 8 <= file_size:
        f.seek(pos)
        chunk_header = f.read(8)
        if len(chunk_header) < 8:
            break
        chunk_id, size = struct.unpack(f"{order}4sI", chunk_header)
        body_pos = pos + 8
        available = file_size - body_pos
        if chunk_id == b"fmt ":
            if 16 <= size <= _MAX_FMT_CHUNK and size > available:
                raise _wav_corrupt(path, f"it is cut off inside its header ({file_size} bytes in all)")
            if size < 16 or size > _MAX_FMT_CHUNK:
                raise _wav_corrupt(path, f"its fmt chunk has an invalid size ({size} bytes)")
            fmt = _parse_fmt(f.read(size), path, order)
        elif chunk_id == b"ds64" and is_rf64:
            body = f.read(min(size, 64))
            if len(body) >= 16:
                ds64_data_size = struct.unpack("<Q", body[8:16])[0]
        elif chunk_id == b"data":
            streamed = False
            declared: int = size
            if is_rf64 and size == 0xFFFFFFFF and ds64_data_size is not None:
                declared = ds64_data_size
            elif size == 0xFFFFFFFF or (size == 0 and not _chunk_follows(f, body_pos, file_size, order)):
                # Never finalized by a streaming recorder: the data runs to the end of the file, as declared.
                streamed, declared = True, available
            if declared:  # an empty data chunk followed by other chunks holds nothing: keep looking
                truncated = declared > available
                data = (body_pos, min(declared, available), truncated)
                if truncated or streamed:
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
        if any(chunk_id == b"data" for chunk_id in _chunk_ids(f, file_size, order)):
            raise UsageError(f"{path} contains no audio samples", hint="give a file that contains audio")
        raise _wav_corrupt(path, "it has no data chunk (the file is truncated or not a recording)")
    offset, nbytes, truncated = data
    frame = fmt.width * fmt.channels
    whole = nbytes // frame * frame
    if whole == 0:
        raise UsageError(f"{path} contains no audio samples", hint="give a file that contains audio")
    return WavInfo(
        kind=fmt.kind,
        width=fmt.width,
        channels=fmt.channels,
        sample_rate=fmt.sample_rate,
        data_offset=offset,
        data_bytes=whole,
        truncated=truncated,
        container="RF64" if is_rf64 else "RIFX" if order == ">" else "WAV",
        bits=fmt.bits,
        big_endian=order == ">",
        layout=fmt.layout,
    )


def _chunk_follows(f: IO[bytes], pos: int, file_size: int, order: str) -> bool:
    """Whether a chunk header that fits in the file starts at `pos`: then a data chunk of size 0 really is empty
    (and is not a streamed one whose size was never written)."""
    f.seek(pos)
    header = f.read(8)
    if len(header) < 8:
        return False
    chunk_id, size = struct.unpack(f"{order}4sI", header)
    return _is_chunk_id(chunk_id) and pos + 8 + size <= file_size


def _chunk_ids(f: IO[bytes], file_size: int, order: str) -> Iterator[bytes]:
    """Every chunk id, in order (as far as the sizes hold)."""
    pos = 12
    while pos + 8 <= file_size:
        f.seek(pos)
        chunk_id, size = struct.unpack(f"{order}4sI", f.read(8))
        yield chunk_id
        pos += 8 + size + (size & 1)


def _is_chunk_id(chunk_id: bytes) -> bool:
    """RIFF chunk ids are four printable ASCII characters (LIST, fact, bext, _PMX, id3 ...)."""
    return all(0x20 <= c <= 0x7E for c in chunk_id)


@dataclass(frozen=True)
class _Fmt:
    kind: str
    width: int
    channels: int
    sample_rate: int
    bits: int
    layout: tuple[str, ...] | None = None


def _parse_fmt(body: bytes, path: Path, order: str = "<") -> _Fmt:
    """Decode a fmt chunk, or say what is unsupported."""
    tag, channels, sample_rate, _byte_rate, block_align, bits = struct.unpack(f"{order}HHIIHH", body[:16])
    layout = None
    if tag == _WAVE_EXTENSIBLE:
        if len(body) < 40:
            raise _wav_corrupt(path, "its WAVE_FORMAT_EXTENSIBLE header is truncated")
        valid_bits, mask = struct.unpack(f"{order}HI", body[18:24])
        tag = _subformat_tag(body[24:40], order)
        if tag is None:
            raise _wav_unsupported(path, "an unknown WAVE_FORMAT_EXTENSIBLE sub-format")
        layout = layout_from_mask(mask, channels)
        if 0 < valid_bits < bits:
            bits = valid_bits  # 20 bits in 24, 24 in 32: what the samples hold
    if tag in _G711 and bits == 8:
        # Telephony audio: Gladia takes it as is (`wav/alaw`, `wav/ulaw`), so it is declared, never converted.
        if channels == 0 or sample_rate == 0 or sample_rate > _MAX_SANE_RATE or block_align != channels:
            raise _wav_corrupt(path, f"its header declares {channels} channels at {sample_rate} Hz, {bits}-bit")
        return _Fmt(_G711[tag], 1, channels, sample_rate, 8, layout)
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
    if kind == "int" and not 1 <= width <= 8:
        raise _wav_unsupported(path, f"{bits}-bit integer samples")
    if kind == "float" and width not in (4, 8):
        raise _wav_unsupported(path, f"{bits}-bit float samples")
    return _Fmt(kind, width, channels, sample_rate, bits if bits != width * 8 else 0, layout)


def _subformat_tag(guid: bytes, order: str) -> int | None:
    """The classic format tag in a KSDATAFORMAT_SUBTYPE GUID. In RIFX, sox writes the tag as a big-endian 16-bit
    field and the rest as in RIFF; a writer may also store the GUID's first three fields big-endian: both read."""
    if guid[2:] == _KSDATAFORMAT_TAIL:
        return int(struct.unpack(f"{order}H", guid[:2])[0])
    data1, data2, data3 = struct.unpack(f"{order}IHH", guid[:8])
    if data1 <= 0xFFFF and (data2, data3) == (0, 0x0010) and guid[8:] == _KSDATAFORMAT_DATA4:
        return int(data1)
    return None


def wav_converter(info: WavInfo, out: PcmFormat) -> Converter:
    """The conversion from this file's samples to the sent format."""
    return Converter(
        kind=info.kind,
        width=info.width,
        channels=info.channels,
        sample_rate=info.sample_rate,
        out=out,
        layout=info.layout,
        big_endian=info.big_endian,
    )


class WavSource(FileSource):
    """A WAV data chunk, passed through byte-for-byte or converted block by block."""

    def __init__(self, path: Path, info: WavInfo, fmt: PcmFormat, *, chunk_ms: int, speed: float) -> None:
        same_bytes = info.width == 1 or not info.big_endian
        passthrough = (
            info.matches(fmt)
            and same_bytes
            and (
                fmt.encoding == f"wav/{info.kind}"
                or (
                    fmt.encoding == "wav/pcm"
                    and info.kind == "int"
                    and info.width in (2, 3, 4)
                    and info.width * 8 == fmt.bit_depth
                )
            )
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
        self._converter = None if passthrough else wav_converter(info, fmt)

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
                yield from drain(pending, out_chunk)
            if self._closed.is_set():
                return
            pending += converter.flush()
            yield from drain(pending, out_chunk)
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
