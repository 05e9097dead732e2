"""Audio files as a live source: WAV parsed here, anything else decoded by ffmpeg, paced like a microphone.

Everything the user can get wrong about the file is checked in `open_audio_file`, before any network call.
Audio is streamed block by block so memory stays flat for hours-long files. numpy is imported lazily so
importing this module (and `gladia --help`) stays fast.
"""

from __future__ import annotations

import collections
import json
import os
import shlex
import shutil
import stat
import struct
import subprocess
import threading
import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, TYPE_CHECKING

from gladia_cli.audio.format import ENCODINGS, MAX_CHANNELS, SAMPLE_RATES, PcmFormat
from gladia_cli.errors import UsageError

if TYPE_CHECKING:
    import numpy as np

__all__ = ["FileSource", "FormatRequest", "LinearResampler", "open_audio_file"]

DEFAULT_RATE = 16000
"""Rate we resample to when the file's rate is not one Gladia accepts: what speech models use natively."""

SEND_BIT_DEPTHS = (16, 24, 32)
"""Signed little-endian PCM depths we send; 8-bit would be unsigned in WAV, so we never send it."""

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
_FFPROBE_TIMEOUT = 30.0
_NOT_AUDIO_MARKERS = ("Invalid data found", "matches no streams", "does not contain any stream")


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


# ---------------------------------------------------------------------------------------------------------------
# Sources


class FileSource:
    """An audio file as an `AudioSource`: yields whole-frame chunks of `format`, optionally paced in real time.

    Iterate `chunks()` once. `close()` may be called from any thread; it ends `chunks()` promptly, interrupts a
    pacing sleep and kills ffmpeg if one is running.
    """

    format: PcmFormat
    source_description: str
    duration: float | None
    converted: bool
    truncated: bool
    can_wait = True  # a file waits for the network rather than lose audio

    def __init__(
        self,
        path: Path,
        fmt: PcmFormat,
        *,
        description: str,
        duration: float | None,
        converted: bool,
        chunk_ms: int,
        speed: float,
        truncated: bool = False,
    ) -> None:
        self.path = path
        self.format = fmt
        self.source_description = description
        self.duration = duration
        self.converted = converted
        self.truncated = truncated
        self.chunk_ms = chunk_ms
        self.speed = speed
        self._closed = threading.Event()

    def __enter__(self) -> FileSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    def chunks(self) -> Iterator[bytes]:
        """Yield chunks of exactly `format.chunk_bytes(chunk_ms)` (the last may be shorter), paced by `speed`.

        Pacing follows an absolute schedule (chunk k at t0 + k*chunk_duration/speed) so sleep jitter never
        accumulates; when the consumer is behind schedule we do not sleep at all.
        """
        raw = self._raw_chunks()
        bytes_per_second = self.format.bytes_per_second
        sent = 0
        t0: float | None = None
        try:
            for chunk in raw:
                if self._closed.is_set():
                    return
                if self.speed > 0:
                    now = time.monotonic()
                    if t0 is None:
                        t0 = now
                    delay = t0 + sent / bytes_per_second / self.speed - now
                    if delay > 0 and self._closed.wait(delay):
                        return
                yield chunk
                sent += len(chunk)
                if self._closed.is_set():
                    return
        finally:
            raw.close()

    def close(self) -> None:
        """Ask `chunks()` to stop; thread-safe and idempotent."""
        self._closed.set()

    def _raw_chunks(self) -> Generator[bytes, None, None]:  # pragma: no cover - abstract
        raise NotImplementedError


class _WavSource(FileSource):
    """A WAV data chunk, passed through byte-for-byte or converted block by block."""

    def __init__(self, path: Path, info: _WavInfo, fmt: PcmFormat, *, chunk_ms: int, speed: float) -> None:
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
        self._converter = None if passthrough else _Converter(info, fmt)

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


class _FfmpegSource(FileSource):
    """Anything ffmpeg can decode, read as raw PCM from its stdout pipe."""

    def __init__(
        self,
        path: Path,
        fmt: PcmFormat,
        cmd: list[str],
        *,
        description: str,
        duration: float | None,
        chunk_ms: int,
        speed: float,
    ) -> None:
        super().__init__(
            path, fmt, description=description, duration=duration, converted=True, chunk_ms=chunk_ms, speed=speed
        )
        self._cmd = cmd
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._stderr_tail: collections.deque[str] = collections.deque(maxlen=20)
        self._stderr_thread: threading.Thread | None = None
        self._first: bytes | None = None
        self._streaming = False

    def _start(self) -> subprocess.Popen[bytes] | None:
        with self._lock:
            if self._proc is not None or self._closed.is_set():
                return self._proc
            try:
                proc = subprocess.Popen(
                    self._cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE
                )
            except OSError as e:
                raise UsageError(f"cannot decode {self.path}: could not run ffmpeg ({e.strerror or e})") from None
            self._proc = proc
            # Drain stderr in the background so a chatty ffmpeg can never block on a full pipe.
            self._stderr_thread = threading.Thread(target=self._drain_stderr, args=(proc,), daemon=True)
            self._stderr_thread.start()
            return proc

    def _drain_stderr(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            text = line.decode("utf-8", "replace").strip()
            if text:
                self._stderr_tail.append(text)

    def _read_first(self) -> bytes:
        """Start ffmpeg and read one chunk now, so undecodable files fail at open time (no ffprobe)."""
        proc = self._start()
        assert proc is not None and proc.stdout is not None
        first = proc.stdout.read(self.format.chunk_bytes(self.chunk_ms))
        self._first = first
        return first

    def _raw_chunks(self) -> Generator[bytes, None, None]:
        self._streaming = True
        finished = False
        try:
            proc = self._start()
            if proc is None:
                return
            assert proc.stdout is not None
            size = self.format.chunk_bytes(self.chunk_ms)
            frame = self.format.frame_bytes
            first, self._first = self._first, None
            eof = False
            while not eof and not self._closed.is_set():
                block = first if first is not None else proc.stdout.read(size)
                first = None
                eof = len(block) < size  # a short read only happens at EOF
                whole = len(block) // frame * frame
                if whole:
                    yield block[:whole]
            finished = eof
            returncode = self._reap(kill=not finished)
            if returncode and not self._closed.is_set():
                raise self._decode_error()
        finally:
            self._reap(kill=not finished)

    def _decode_error(self, *, opening: bool = False) -> UsageError:
        line = _last_ffmpeg_line(self._stderr_tail, self._cmd)
        return _ffmpeg_error(self.path, line, opening=opening)

    def _reap(self, *, kill: bool) -> int | None:
        """Wait for ffmpeg (killing it first if `kill`, or if it lingers after EOF) and close its pipes."""
        with self._lock:
            proc = self._proc
        if proc is None:
            return None
        if proc.poll() is None:
            try:
                proc.wait(timeout=0 if kill or self._closed.is_set() else 5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self._stderr_thread is not None:
            self._stderr_thread.join(timeout=2)
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None and not pipe.closed:
                pipe.close()
        return proc.returncode

    def close(self) -> None:
        """Stop `chunks()`, kill ffmpeg now, and reap it if no `chunks()` is running to do so."""
        super().close()
        with self._lock:
            proc = self._proc
            if proc is not None and proc.poll() is None:
                proc.kill()
        if proc is not None and not self._streaming:
            self._reap(kill=True)


def _drain(pending: bytearray, size: int) -> Iterator[bytes]:
    """Yield every full `size` chunk from the front of `pending` (bytearray front deletion is amortized O(1))."""
    while len(pending) >= size:
        yield bytes(pending[:size])
        del pending[:size]


# ---------------------------------------------------------------------------------------------------------------
# Opening and validation


class FfmpegMissing(UsageError):
    """A file only ffmpeg could read, and no ffmpeg: for live input an error, for an upload a reason to look closer."""


def open_audio_file(path: Path, request: FormatRequest, chunk_ms: int = 100, *, speed: float = 0.0) -> FileSource:
    """Check the file and the requested format now, so every user mistake is a UsageError before any network call."""
    path = Path(path)
    if chunk_ms <= 0:
        raise UsageError(f"chunk duration must be positive, got {chunk_ms} ms")
    if speed < 0:
        raise UsageError(f"--speed must be 0 (as fast as possible) or positive, got {speed}")
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
            is_wav = len(head) >= 4 and head[:4] in (b"RIFF", b"RF64", b"BW64") and head[8:12] == b"WAVE"
            if is_wav:
                info = _parse_wav(f, path, st.st_size)
    except PermissionError:
        raise UsageError(f"cannot read {path}: permission denied", hint="check the file's permissions") from None
    except OSError as e:
        raise UsageError(f"cannot read {path}: {e.strerror or e}") from None

    if is_wav:
        fmt = _choose_wav_format(path, info, request)
        return _WavSource(path, info, fmt, chunk_ms=chunk_ms, speed=speed)
    return _open_with_ffmpeg(path, request, chunk_ms, speed)


def _check_bit_depth(request: FormatRequest) -> None:
    """8-bit PCM is unsigned and nearly useless for speech; 8 bits here means G.711."""
    if request.bit_depth == 8 and not request.g711:
        raise UsageError(
            "--bit-depth 8 is only for A-law and mu-law", hint="use 16, 24 or 32, or --encoding wav/alaw|wav/ulaw"
        )


def _validated(path: Path, fmt: PcmFormat) -> PcmFormat:
    """PcmFormat.validate(), but naming the file so the user knows which input the message is about."""
    try:
        return fmt.validate()
    except UsageError as e:
        raise UsageError(f"cannot send {path}: {e.message}", hint=e.hint) from None


def _channel_label(channels: int) -> str:
    return {1: "mono", 2: "stereo"}.get(channels, f"{channels} channels")


# ---------------------------------------------------------------------------------------------------------------
# WAV


@dataclass(frozen=True)
class _WavInfo:
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


def _parse_wav(f: IO[bytes], path: Path, file_size: int) -> _WavInfo:
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
    return _WavInfo(
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


def _choose_wav_format(path: Path, info: _WavInfo, request: FormatRequest) -> PcmFormat:
    """Pass through what Gladia accepts as-is; convert only what it does not accept or what the user asked for."""
    if info.kind in _G711.values() and request.encoding is None and request.bit_depth in (None, 8):
        # Telephony audio stays in its own encoding unless asked otherwise: sent as is when Gladia takes it.
        request = replace(request, encoding=f"wav/{info.kind}")
    _check_bit_depth(request)
    if info.channels > MAX_CHANNELS and request.channels != 1:
        raise UsageError(
            f"{path} has {info.channels} channels; Gladia accepts at most {MAX_CHANNELS}",
            hint="pass --channels 1 to mix it down to mono",
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
        bits = info.width * 8 if info.kind == "int" and info.width * 8 in SEND_BIT_DEPTHS else 16
    channels = request.channels if request.channels is not None else info.channels
    fmt = _validated(path, PcmFormat(sample_rate=rate, channels=channels, bit_depth=bits, encoding=encoding))
    if channels not in (info.channels, 1) and info.channels != 1:
        raise UsageError(
            f"cannot convert {path} from {info.channels} to {channels} channels",
            hint=f"use --channels 1 (mix down to mono) or --channels {info.channels}",
        )
    return fmt


# ---------------------------------------------------------------------------------------------------------------
# Sample conversion (numpy, imported lazily)


class LinearResampler:
    """Streaming linear-interpolation resampler: feeding blocks of any size gives the same output as one block.

    Output sample j sits at input position j*in_rate/out_rate, computed with integers so there is no drift
    over hours of audio. Between blocks we keep the last input frame and the output index. Linear
    interpolation is not band-limited: downsampling can alias a little, which speech recognition tolerates.
    """

    def __init__(self, in_rate: int, out_rate: int) -> None:
        self.in_rate = in_rate
        self.out_rate = out_rate
        self._prev: np.ndarray | None = None  # last input frame seen, shape (1, channels)
        self._base = 0  # global index of self._prev
        self._next_out = 0  # global index of the next output sample

    def process(self, block: np.ndarray) -> np.ndarray:
        """Resample `block` (frames x channels, float); returns every output sample it makes computable."""
        import numpy as np

        if block.shape[0] == 0:
            return block[:0]
        if self._prev is None:
            buf, base = block, 0
        else:
            buf, base = np.concatenate([self._prev, block]), self._base
        last = base + buf.shape[0] - 1
        # Output j needs input frames floor(t_j) and floor(t_j)+1 <= last, i.e. j < last*out/in.
        end = -(-last * self.out_rate // self.in_rate)
        out = self._interpolate(buf, base, end)
        self._prev, self._base = buf[-1:], last
        return out

    def flush(self) -> np.ndarray:
        """Emit the tail samples that fall after the last input frame (holding that frame), ending the stream."""
        import numpy as np

        if self._prev is None:
            return np.zeros((0, 1))
        total = self._base + 1
        end = -(-total * self.out_rate // self.in_rate)
        out = self._interpolate(np.concatenate([self._prev, self._prev]), self._base, end)
        self._prev = None
        return out

    def _interpolate(self, buf: np.ndarray, base: int, end: int) -> np.ndarray:
        import numpy as np

        start = self._next_out
        if end <= start:
            return buf[:0]
        position = np.arange(start, end, dtype=np.int64) * self.in_rate
        index = position // self.out_rate - base
        frac = ((position % self.out_rate) / self.out_rate)[:, None]
        self._next_out = end
        return buf[index] * (1.0 - frac) + buf[index + 1] * frac


class _Converter:
    """Bytes of the file's format in, bytes of the sent format out; stateful only through the resampler."""

    def __init__(self, info: _WavInfo, out: PcmFormat) -> None:
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


def decode_samples(raw: bytes, kind: str, width: int, channels: int) -> np.ndarray:
    """Little-endian WAV samples to float64 in [-1, 1), shape (frames, channels); 8-bit WAV is unsigned."""
    import numpy as np

    if kind in ("alaw", "ulaw"):
        from gladia_cli.audio import g711

        values = np.frombuffer(g711.decode(raw, kind), dtype="<i2") / 32768.0
    elif kind == "float":
        values = np.frombuffer(raw, dtype="<f4" if width == 4 else "<f8").astype(np.float64)
        values = np.nan_to_num(values, nan=0.0, posinf=1.0, neginf=-1.0)
    elif width == 1:
        values = (np.frombuffer(raw, dtype=np.uint8).astype(np.float64) - 128.0) / 128.0
    elif width == 2:
        values = np.frombuffer(raw, dtype="<i2") / 32768.0
    elif width == 3:
        values = unpack_int24(raw) / float(1 << 23)
    else:
        values = np.frombuffer(raw, dtype="<i4") / float(1 << 31)
    return values.reshape(-1, channels)


def encode_samples(samples: np.ndarray, bit_depth: int) -> bytes:
    """Float samples to signed little-endian PCM bytes, rounding and clipping to the target range."""
    import numpy as np

    scale = float(1 << (bit_depth - 1))
    ints = np.clip(np.rint(samples.reshape(-1) * scale), -scale, scale - 1)
    if bit_depth == 16:
        return ints.astype("<i2").tobytes()
    if bit_depth == 24:
        return pack_int24(ints.astype(np.int32))
    return ints.astype("<i4").tobytes()


def unpack_int24(raw: bytes) -> np.ndarray:
    """3-byte little-endian signed samples to int32, vectorized: shift into the top of an int32 and back."""
    import numpy as np

    triples = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3)
    quads = np.zeros((triples.shape[0], 4), dtype=np.uint8)
    quads[:, 1:] = triples
    return quads.view("<i4").reshape(-1) >> 8


def pack_int24(values: np.ndarray) -> bytes:
    """int32 samples (within 24-bit range) to 3-byte little-endian, vectorized."""
    import numpy as np

    quads = values.astype("<i4").view(np.uint8).reshape(-1, 4)
    return quads[:, :3].tobytes()


# ---------------------------------------------------------------------------------------------------------------
# ffmpeg


def _ffmpeg_error(path: Path, line: str, *, opening: bool = False) -> UsageError:
    """Failing to open the input at all means it is not audio (or too damaged to tell); later failures are decoding."""
    if opening or not line or any(marker in line for marker in _NOT_AUDIO_MARKERS):
        detail = f" ({line})" if line else ""
        return UsageError(
            f"{path} is not an audio file ffmpeg can decode{detail}",
            hint="give a WAV, MP3, FLAC, OGG or other audio file",
        )
    return UsageError(f"cannot decode {path}: {line}")


def _last_ffmpeg_line(lines: collections.deque[str] | list[str], cmd: list[str]) -> str:
    """ffmpeg's last error line (or the one saying the input is not audio), without its `file:PATH: ` prefix."""
    if not lines:
        return ""
    marked = [ln for ln in lines if any(marker in ln for marker in _NOT_AUDIO_MARKERS)]
    line = marked[-1] if marked else lines[-1]
    for arg in cmd:
        if arg.startswith("file:") and line.startswith(arg + ": "):
            return line[len(arg) + 2 :]
    return line


def _open_with_ffmpeg(path: Path, request: FormatRequest, chunk_ms: int, speed: float) -> FileSource:
    """Decode a non-WAV file with ffmpeg, probing it now so a non-audio file fails before any network call."""
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise FfmpegMissing(
            f"{path} is not a WAV file and ffmpeg is not installed",
            hint="install ffmpeg (e.g. apt install ffmpeg) or convert it to WAV",
        )
    _check_bit_depth(request)
    target = f"file:{path}"  # the file: protocol stops ffmpeg reading "a:b.mp3" as a protocol or "-x" as an option
    ffprobe = shutil.which("ffprobe")
    probed = _probe(path, ffprobe, target) if ffprobe is not None else None
    # Like a WAV: the file's own rate and channels when Gladia takes them (a stereo call keeps its two sides),
    # else 16 kHz; without ffprobe to ask, 16 kHz mono.
    rate = request.sample_rate or (
        probed.sample_rate if probed and probed.sample_rate in SAMPLE_RATES else DEFAULT_RATE
    )
    channels = request.channels or (probed.channels if probed and probed.channels else 1)
    if channels > MAX_CHANNELS:
        raise UsageError(
            f"{path} has {channels} channels; Gladia accepts at most {MAX_CHANNELS}",
            hint="pass --channels 1 to mix it down to mono",
        )
    fmt = _validated(
        path,
        PcmFormat(
            sample_rate=rate,
            channels=channels,
            bit_depth=request.bit_depth or (8 if request.g711 else 16),
            encoding=request.encoding or "wav/pcm",
        ),
    )
    # ffmpeg's raw muxers and codecs: s16le/pcm_s16le..., alaw/pcm_alaw, mulaw/pcm_mulaw.
    sample_fmt = {"wav/alaw": "alaw", "wav/ulaw": "mulaw"}.get(fmt.encoding, f"s{fmt.bit_depth}le")
    cmd = [ffmpeg, "-nostdin", "-v", "error", "-i", target, "-map", "0:a:0"]
    cmd += [
        "-f",
        sample_fmt,
        "-acodec",
        f"pcm_{sample_fmt}",
        "-ac",
        str(fmt.channels),
        "-ar",
        str(fmt.sample_rate),
        "-",
    ]

    if probed is not None:
        return _FfmpegSource(
            path,
            fmt,
            cmd,
            description=f"{probed.codec} via ffmpeg",
            duration=probed.duration,
            chunk_ms=chunk_ms,
            speed=speed,
        )
    source = _FfmpegSource(
        path,
        fmt,
        cmd,
        description=f"{path.suffix.lstrip('.').lower() or 'audio'} via ffmpeg",
        duration=None,
        chunk_ms=chunk_ms,
        speed=speed,
    )
    try:
        first = source._read_first()
        if not first:
            returncode = source._reap(kill=False)
            if returncode:
                raise source._decode_error(opening=True)
            raise UsageError(f"{path} contains no audio samples", hint="give a file that contains audio")
    except BaseException:
        source.close()
        raise
    return source


@dataclass(frozen=True)
class _Probed:
    """What ffprobe says of a file's first audio stream (0 / None: it did not say)."""

    codec: str
    duration: float | None
    channels: int
    sample_rate: int


def _probe(path: Path, ffprobe: str, target: str) -> _Probed:
    """Ask ffprobe whether there is an audio stream at all, and what it is."""
    cmd = [ffprobe, "-v", "error", "-show_entries"]
    cmd += ["stream=codec_type,codec_name,channels,sample_rate,duration:format=duration", "-of", "json", "-i", target]
    try:
        result = subprocess.run(
            cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=_FFPROBE_TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired:
        raise UsageError(f"cannot read {path}: ffprobe took more than {_FFPROBE_TIMEOUT:.0f} s to inspect it") from None
    except OSError as e:
        raise UsageError(f"cannot read {path}: could not run ffprobe ({e.strerror or e})") from None
    stderr_lines = [ln.strip() for ln in result.stderr.decode("utf-8", "replace").splitlines() if ln.strip()]
    if result.returncode != 0:
        raise _ffmpeg_error(path, _last_ffmpeg_line(stderr_lines, cmd), opening=True)
    try:
        info = json.loads(result.stdout.decode("utf-8", "replace") or "{}")
    except json.JSONDecodeError:
        info = {}
    streams = [s for s in info.get("streams", []) if s.get("codec_type") == "audio"]
    if not streams:
        raise UsageError(f"{path} is not an audio file: it has no audio stream", hint="give a file that contains audio")
    stream = streams[0]
    duration = _as_seconds(stream.get("duration")) or _as_seconds(info.get("format", {}).get("duration"))
    return _Probed(
        codec=str(stream.get("codec_name") or "audio"),
        duration=duration,
        channels=_as_count(stream.get("channels")),
        sample_rate=_as_count(stream.get("sample_rate")),
    )


def _as_count(value: object) -> int:
    try:
        number = int(str(value))
    except ValueError:
        return 0
    return number if number > 0 else 0


def _as_seconds(value: object) -> float | None:
    try:
        seconds = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return seconds if seconds > 0 else None


# Containers Gladia's pre-recorded API takes (§5.7), by their first bytes: enough to refuse a text file or a PNG
# before uploading it when ffmpeg is not there to ask.
_MEDIA_MAGIC = (
    (0, b"ID3"),  # mp3 with tags
    (0, b"\xff\xfb"), (0, b"\xff\xf3"), (0, b"\xff\xf2"), (0, b"\xff\xf1"), (0, b"\xff\xf9"),  # mp3 / aac frames
    (0, b"OggS"), (0, b"fLaC"), (0, b"FORM"), (0, b"\x1a\x45\xdf\xa3"),  # ogg/opus, flac, aiff, webm/mkv
    (0, b"\x30\x26\xb2\x75"), (0, b"FLV"), (0, b"#!AMR"), (0, b"\x0b\x77"),  # asf/wmv, flv, amr, ac3
    (4, b"ftyp"), (4, b"moov"), (4, b"mdat"), (4, b"free"), (4, b"wide"),  # mp4, m4a, mov, 3gp
    (0, b"RIFF"),  # avi (WAV is checked properly before)
)  # fmt: skip


def check_uploadable(path: Path) -> None:
    """Refuse what Gladia could not transcribe before spending an upload on it.

    A WAV's header is parsed; other files are probed with ffmpeg when it is installed, else recognised by their
    first bytes (a format we do not know is uploaded anyway: Gladia decodes more than we can check).
    """
    try:
        open_audio_file(path, FormatRequest()).close()
        return
    except FfmpegMissing:
        pass
    with open(path, "rb") as f:
        head = f.read(16)
    if not any(head[at : at + len(magic)] == magic for at, magic in _MEDIA_MAGIC):
        raise UsageError(
            f"{path} does not look like an audio or video file",
            hint="install ffmpeg for a closer check, or convert it to WAV, mp3 or m4a",
        )
