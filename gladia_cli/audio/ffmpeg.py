"""Anything that is not a WAV, decoded by ffmpeg: ffprobe's look at the file, the decoding source, its errors.

ffmpeg only decodes: it writes the file's own samples (its rate, its channels, as 64-bit floats, which hold any
integer sample exactly) to a pipe we read block by block, and `convert` mixes, resamples and encodes them as it
does for a WAV, so the audio sent does not depend on the container. Only without ffprobe to tell the file's rate
and channels does ffmpeg convert to the sent format itself. Its stderr is kept (the last lines) so a failure names
ffmpeg's own reason, without the `file:` prefix we give it. The first block is decoded when the file is opened, so
a file that fails or holds nothing costs no Gladia session, and what is decoded is compared with the duration the
header declares, so a file cut short is said.
"""

from __future__ import annotations

import collections
import json
import shutil
import subprocess
import threading
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path

from gladia_cli.audio.convert import Converter, layout_from_name
from gladia_cli.audio.filesource import FileSource, drain
from gladia_cli.audio.format import PcmFormat
from gladia_cli.errors import UsageError

_FFPROBE_TIMEOUT = 30.0
_NOT_AUDIO_MARKERS = ("Invalid data found", "matches no streams", "does not contain any stream")
_ESTIMATED = "Estimating duration from bitrate"  # ffprobe's warning: the duration is a guess, not the header's
_OPUS_HEAD_SEARCH = 1 << 16
_DECODED_BYTES = 8  # f64le
_MISSING_SECONDS = 0.5
"""Shortfall from the declared duration worth a word (encoder padding and priming are a few ms)."""


class FfmpegMissing(UsageError):
    """A file only ffmpeg could read, and no ffmpeg: for live input an error, for an upload a reason to look closer."""


def require_ffmpeg(path: Path) -> str:
    """The ffmpeg executable, or FfmpegMissing naming the file that needed it."""
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise FfmpegMissing(
            f"{path} is not a WAV file and ffmpeg is not installed",
            hint="install ffmpeg (e.g. apt install ffmpeg) or convert it to WAV",
        )
    return ffmpeg


def _target(path: Path) -> str:
    """The file: protocol stops ffmpeg reading "a:b.mp3" as a protocol or "-x" as an option."""
    return f"file:{path}"


class FfmpegSource(FileSource):
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
        decoded: Probed | None = None,
        declared: float | None = None,
    ) -> None:
        super().__init__(
            path, fmt, description=description, duration=duration, converted=True, chunk_ms=chunk_ms, speed=speed
        )
        self._cmd = cmd
        self._decoded = decoded  # ffmpeg writes this rate and these channels as f64le; None: the sent format
        self._declared = declared  # seconds the header declares, when it says (not estimated from the bitrate)
        self._decoded_frames = 0
        self._finished = False
        if decoded is not None:
            self._converter = Converter(
                kind="float",
                width=_DECODED_BYTES,
                channels=decoded.channels,
                sample_rate=decoded.sample_rate,
                out=fmt,
                layout=decoded.layout,
            )
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

    @property
    def _block_bytes(self) -> int:
        """One chunk's worth of what ffmpeg writes."""
        if self._decoded is None:
            return self.format.chunk_bytes(self.chunk_ms)
        frames = max(1, self._decoded.sample_rate * self.chunk_ms // 1000)
        return frames * self._decoded.channels * _DECODED_BYTES

    @property
    def _frame_bytes(self) -> int:
        return self.format.frame_bytes if self._decoded is None else self._decoded.channels * _DECODED_BYTES

    def _read_first(self) -> bytes:
        """Start ffmpeg and read one block now, so a file that fails or holds nothing fails at open time."""
        proc = self._start()
        assert proc is not None and proc.stdout is not None
        first = proc.stdout.read(self._block_bytes)
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
            size, frame = self._block_bytes, self._frame_bytes
            out_chunk = self.format.chunk_bytes(self.chunk_ms)
            converter = self._converter
            pending = bytearray()
            first, self._first = self._first, None
            eof = False
            while not eof and not self._closed.is_set():
                block = first if first is not None else proc.stdout.read(size)
                first = None
                eof = len(block) < size  # a short read only happens at EOF
                whole = len(block) // frame * frame
                if not whole:
                    continue
                self._decoded_frames += whole // frame
                if converter is None:
                    yield block[:whole]
                    continue
                pending += converter.process(block[:whole])
                yield from drain(pending, out_chunk)
            finished = eof
            returncode = self._reap(kill=not finished)
            if returncode and not self._closed.is_set():
                raise self._decode_error()
            if converter is not None and finished:
                pending += converter.flush()
                yield from drain(pending, out_chunk)
                if pending:
                    yield bytes(pending)
            self._finished = finished
        finally:
            self._reap(kill=not finished)

    def _stream_notes(self) -> list[str]:
        """The audio a file cut short lacks, against the duration its header declares."""
        if not self._finished or not self._declared or self._decoded is None:
            return []
        decoded = self._decoded_frames / self._decoded.sample_rate
        missing = self._declared - decoded
        if missing < max(_MISSING_SECONDS, self._declared * 0.005):
            return []
        return [
            f"{self.path} ends {missing:.1f} s before the {self._declared:.1f} s its header declares "
            f"(it may have been cut short): sent the {decoded:.1f} s it holds"
        ]

    def _decode_error(self, *, opening: bool = False) -> UsageError:
        line = last_ffmpeg_line(self._stderr_tail, self._cmd)
        return ffmpeg_error(self.path, line, opening=opening)

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


def open_decoder(
    path: Path, fmt: PcmFormat, ffmpeg: str, probed: Probed | None, *, chunk_ms: int, speed: float
) -> FfmpegSource:
    """Start decoding `path` to `fmt` and decode its first block now, so a file that is not audio, fails to decode
    or holds nothing fails at open time, before any network call."""
    cmd = [ffmpeg, "-nostdin", "-v", "error", "-i", _target(path), "-map", "0:a:0"]
    decoded = probed if probed is not None and probed.channels and probed.sample_rate else None
    if decoded is not None:  # the file's own samples; `convert` makes them what is sent
        cmd += ["-f", "f64le", "-acodec", "pcm_f64le", "-ac", str(decoded.channels), "-ar", str(decoded.sample_rate)]
    else:  # without ffprobe's word for the file's rate and channels, ffmpeg converts (and mixes) them itself
        # ffmpeg's raw muxers and codecs: s16le/pcm_s16le..., alaw/pcm_alaw, mulaw/pcm_mulaw.
        sample_fmt = {"wav/alaw": "alaw", "wav/ulaw": "mulaw"}.get(fmt.encoding, f"s{fmt.bit_depth}le")
        cmd += ["-f", sample_fmt, "-acodec", f"pcm_{sample_fmt}", "-ac", str(fmt.channels)]
        cmd += ["-ar", str(fmt.sample_rate)]
    cmd.append("-")
    what = probed.codec if probed is not None else path.suffix.lstrip(".").lower() or "audio"
    source = FfmpegSource(
        path,
        fmt,
        cmd,
        description=f"{what} via ffmpeg",
        duration=probed.duration if probed is not None else None,
        chunk_ms=chunk_ms,
        speed=speed,
        decoded=decoded,
        declared=probed.duration if probed is not None and not probed.estimated else None,
    )
    try:
        first = source._read_first()
        if len(first) < source._frame_bytes:
            returncode = source._reap(kill=False)
            if returncode:
                raise source._decode_error(opening=probed is None)
            raise UsageError(f"{path} contains no audio samples", hint="give a file that contains audio")
    except BaseException:
        source.close()
        raise
    return source


def ffmpeg_error(path: Path, line: str, *, opening: bool = False) -> UsageError:
    """Failing to open the input at all means it is not audio (or too damaged to tell); later failures are decoding."""
    if opening or not line or any(marker in line for marker in _NOT_AUDIO_MARKERS):
        detail = f" ({line})" if line else ""
        return UsageError(
            f"{path} is not an audio file ffmpeg can decode{detail}",
            hint="give a WAV, MP3, FLAC, OGG or other audio file",
        )
    return UsageError(f"cannot decode {path}: {line}")


def last_ffmpeg_line(lines: collections.deque[str] | list[str], cmd: list[str]) -> str:
    """ffmpeg's last error line (or the one saying the input is not audio), without its `file:PATH: ` prefix."""
    if not lines:
        return ""
    marked = [ln for ln in lines if any(marker in ln for marker in _NOT_AUDIO_MARKERS)]
    line = marked[-1] if marked else lines[-1]
    for arg in cmd:
        if arg.startswith("file:") and line.startswith(arg + ": "):
            return line[len(arg) + 2 :]
    return line


@dataclass(frozen=True)
class Probed:
    """What ffprobe says of a file's first audio stream (0 / None: it did not say)."""

    codec: str
    duration: float | None
    channels: int
    sample_rate: int  # what the decoder writes
    layout: tuple[str, ...] | None = None  # the speakers, when the file names them
    estimated: bool = False  # the duration is ffprobe's guess from the bitrate, not the header's
    original_rate: int = 0  # the rate the audio was recorded at, when the decoder writes another (Opus: 48 kHz)
    containers: tuple[str, ...] = ()  # ffmpeg's names for the file's format ("mov", "mp4", "m4a" ...)


def probe(path: Path) -> Probed | None:
    """Ask ffprobe whether there is an audio stream at all, and what it is (None: no ffprobe to ask)."""
    ffprobe = shutil.which("ffprobe")
    if ffprobe is None:
        return None
    target = _target(path)
    cmd = [ffprobe, "-v", "warning", "-show_entries"]
    cmd += ["stream=codec_type,codec_name,channels,channel_layout,sample_rate,duration:format=duration,format_name"]
    cmd += ["-of", "json", "-i", target]
    try:
        result = subprocess.run(
            cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=_FFPROBE_TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired:
        raise UsageError(f"cannot read {path}: ffprobe took more than {_FFPROBE_TIMEOUT:.0f} s to inspect it") from None
    except OSError as e:
        raise UsageError(f"cannot read {path}: could not run ffprobe ({e.strerror or e})") from None
    stderr_lines = [ln.strip() for ln in result.stderr.decode("utf-8", "replace").splitlines() if ln.strip()]
    estimated = any(_ESTIMATED in line for line in stderr_lines)
    if result.returncode != 0:
        errors = [line for line in stderr_lines if _ESTIMATED not in line]
        raise ffmpeg_error(path, last_ffmpeg_line(errors, cmd), opening=True)
    try:
        info = json.loads(result.stdout.decode("utf-8", "replace") or "{}")
    except json.JSONDecodeError:
        info = {}
    streams = [s for s in info.get("streams", []) if s.get("codec_type") == "audio"]
    if not streams:
        raise UsageError(f"{path} is not an audio file: it has no audio stream", hint="give a file that contains audio")
    stream = streams[0]
    duration = _as_seconds(stream.get("duration")) or _as_seconds(info.get("format", {}).get("duration"))
    codec = str(stream.get("codec_name") or "audio")
    channels = _as_count(stream.get("channels"))
    return Probed(
        codec=codec,
        duration=duration,
        channels=channels,
        sample_rate=_as_count(stream.get("sample_rate")),
        layout=layout_from_name(str(stream.get("channel_layout") or ""), channels),
        estimated=estimated,
        original_rate=_opus_input_rate(path) if codec == "opus" else 0,
        containers=tuple(str(info.get("format", {}).get("format_name") or "").split(",")),
    )


def _opus_input_rate(path: Path) -> int:
    """The rate an Opus stream was recorded at, from its OpusHead (RFC 7845): its decoder always writes 48 kHz,
    so without this a 16 kHz recording would be sent at three times its size."""
    try:
        with open(path, "rb") as f:
            head = f.read(_OPUS_HEAD_SEARCH)
    except OSError:
        return 0
    at = head.find(b"OpusHead")
    if at < 0 or len(head) < at + 16:
        return 0
    return int.from_bytes(head[at + 12 : at + 16], "little")


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
