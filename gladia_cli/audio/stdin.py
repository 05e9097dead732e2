"""Standard input as a live source: a WAV stream (its header read, its data size not trusted) or raw PCM.

`ffmpeg ... -f s16le - | gladia transcribe - --realtime ...` streams whatever another program produces. The audio
is sent as it arrives: the writer paces it (a pipe blocks it while we wait for the network), so there is no
`--speed`. Nothing is converted: the bytes read are the bytes sent, so the format must be one Gladia takes.
"""

from __future__ import annotations

import os
import select
import struct
import sys
import threading
from collections.abc import Iterator
from typing import BinaryIO

from gladia_cli.audio.format import PcmFormat, SourceDefaults
from gladia_cli.errors import UsageError

_POLL_SECONDS = 0.1
_READ_BYTES = 65536
_STREAMED_SIZES = (0, 0xFFFFFFFF)  # what a WAV writer that cannot seek back puts in the data size
_TAGS = {1: "wav/pcm", 6: "wav/alaw", 7: "wav/ulaw"}
RAW_FLAGS_HINT = "raw PCM on stdin needs `encoding`, `sample_rate`, `bit_depth` and `channels` (or send a WAV stream)"


class StdinSource(SourceDefaults):
    """Audio from a pipe, in `format`; `chunks()` ends at EOF, `close()` ends it sooner (Ctrl-C)."""

    can_wait = True  # the writer waits for us: nothing is lost while the network is slow

    def __init__(self, stream: BinaryIO, fmt: PcmFormat, chunk_ms: int, head: bytes = b"", *, wav: bool) -> None:
        self.format = fmt
        self.chunk_ms = chunk_ms
        self.wav = wav
        self._stream = stream
        self._head = head
        self._chunk_bytes = fmt.chunk_bytes(chunk_ms)
        self._closed = threading.Event()
        self.remaining: int | None = None  # a WAV's declared data size, when it declares one

    def chunks(self) -> Iterator[bytes]:
        pending = bytearray(self._head)
        self._head = b""
        frame = self.format.frame_bytes
        eof = False
        while not eof and not self._closed.is_set():
            while len(pending) >= self._chunk_bytes:
                yield bytes(pending[: self._chunk_bytes])
                del pending[: self._chunk_bytes]
            data = self._read()
            if data is None:
                continue
            if self.remaining is not None:
                data = data[: self.remaining]
                self.remaining -= len(data)
            if not data or self.remaining == 0:
                eof = True
            pending += data
        while len(pending) >= frame:
            size = min(self._chunk_bytes, len(pending) - len(pending) % frame)
            yield bytes(pending[:size])
            del pending[:size]

    def _read(self) -> bytes | None:
        """What the pipe has now (b"" at EOF), or None after a poll interval with nothing, so close() is seen."""
        try:
            fd = self._stream.fileno()
        except (AttributeError, OSError, ValueError):
            return self._stream.read(_READ_BYTES)
        if sys.platform != "win32":
            ready, _, _ = select.select([fd], [], [], _POLL_SECONDS)
            if not ready:
                return None
        try:
            return os.read(fd, _READ_BYTES)
        except BlockingIOError:
            return None

    def close(self) -> None:
        self._closed.set()


def _read_exactly(stream: BinaryIO, n: int) -> bytes:
    data = bytearray()
    while len(data) < n:
        try:
            part = os.read(stream.fileno(), n - len(data))
        except (AttributeError, OSError, ValueError):
            part = stream.read(n - len(data))
        if not part:
            break
        data += part
    return bytes(data)


def _wav_format(stream: BinaryIO) -> tuple[PcmFormat, int | None]:
    """Read the header after "RIFF....WAVE" up to the data chunk: the format, and the data size if it is real."""
    fmt: PcmFormat | None = None
    while True:
        header = _read_exactly(stream, 8)
        if len(header) < 8:
            raise UsageError("the WAV stream on stdin ends before its audio data")
        chunk_id, size = header[:4], struct.unpack("<I", header[4:])[0]
        if chunk_id == b"data":
            if fmt is None:
                raise UsageError("the WAV stream on stdin has no format chunk before its data")
            return fmt, None if size in _STREAMED_SIZES else size
        body = _read_exactly(stream, size + (size & 1)) if size < (1 << 20) else b""
        if chunk_id == b"fmt ":
            if len(body) < 16:
                raise UsageError("the WAV stream on stdin has a malformed format chunk")
            tag, channels, rate, _, _, depth = struct.unpack("<HHIIHH", body[:16])
            if tag == 0xFFFE and len(body) >= 26:
                tag = struct.unpack("<H", body[24:26])[0]
            encoding = _TAGS.get(tag)
            if encoding is None or (encoding == "wav/pcm" and depth not in (16, 24, 32)):
                raise UsageError(
                    "the WAV stream on stdin is not 16/24/32-bit PCM or 8-bit A-law/mu-law, which is sent as is",
                    hint="convert it on the way: ffmpeg -i IN -f wav -acodec pcm_s16le -ar 16000 -",
                )
            fmt = _checked(PcmFormat(sample_rate=rate, channels=channels, bit_depth=depth, encoding=encoding))


def _checked(fmt: PcmFormat) -> PcmFormat:
    try:
        return fmt.validate()
    except UsageError as e:
        raise UsageError(
            f"stdin: {e.message}", hint="audio on stdin is sent as is; convert it on the way with ffmpeg"
        ) from None


def open_stdin(
    chunk_ms: int,
    *,
    encoding: str | None,
    sample_rate: int | None,
    bit_depth: int | None,
    channels: int | None,
    stream: BinaryIO | None = None,
) -> StdinSource:
    """Check stdin now (the command has refused a terminal): a WAV header decides the format (flags must agree with
    it); raw PCM needs all four format flags."""
    if stream is None:
        if sys.stdin is None:
            raise UsageError("there is no standard input to read audio from")
        stream = sys.stdin.buffer
    flags = {"encoding": encoding, "sample_rate": sample_rate, "bit_depth": bit_depth, "channels": channels}
    head = _read_exactly(stream, 12)
    if not head:
        raise UsageError(
            "no audio on stdin: it ended before its first byte", hint="pipe audio in: ffmpeg -i IN -f wav -"
        )
    if len(head) == 12 and head[:4] == b"RIFX" and head[8:12] == b"WAVE":
        raise UsageError(
            "the WAV stream on stdin is big-endian (RIFX): stdin is sent as is, and Gladia reads little-endian",
            hint="convert it on the way: ffmpeg -i IN -f wav -acodec pcm_s16le -",
        )
    if len(head) == 12 and head[:4] in (b"RIFF", b"RF64") and head[8:12] == b"WAVE":
        fmt, size = _wav_format(stream)
        for name, value in flags.items():
            if value is not None and value != getattr(fmt, name):
                raise UsageError(
                    f"`{name}` {value} does not match the WAV stream on stdin ({fmt.describe()})",
                    hint="drop the flag: the WAV header says what the audio is",
                )
        source = StdinSource(stream, fmt, chunk_ms, wav=True)
        source.remaining = size
        return source
    missing = [f"`{name}`" for name, value in flags.items() if value is None]
    if missing:
        raise UsageError(f"stdin is not a WAV stream and {', '.join(missing)} not given", hint=RAW_FLAGS_HINT)
    assert encoding is not None and sample_rate is not None and bit_depth is not None and channels is not None
    fmt = _checked(PcmFormat(sample_rate=sample_rate, channels=channels, bit_depth=bit_depth, encoding=encoding))
    if len(head) < min(12, fmt.frame_bytes):  # short reads only happen at the end of input
        raise UsageError(f"stdin holds {len(head)} byte(s): not one whole sample of {fmt.describe()}")
    return StdinSource(stream, fmt, chunk_ms, head, wav=False)
