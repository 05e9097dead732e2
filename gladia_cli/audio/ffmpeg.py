"""Anything that is not a WAV, decoded by ffmpeg: ffprobe's look at the file, the decoding source, its errors.

ffmpeg writes raw PCM in exactly the format we send to a pipe we read chunk by chunk; its stderr is kept (the
last lines) so a failure names ffmpeg's own reason, without the `file:` prefix we give it.
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

from gladia_cli.audio.filesource import FileSource
from gladia_cli.audio.format import PcmFormat
from gladia_cli.errors import UsageError

_FFPROBE_TIMEOUT = 30.0
_NOT_AUDIO_MARKERS = ("Invalid data found", "matches no streams", "does not contain any stream")


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
    """Start decoding `path` to `fmt`; without ffprobe's word for it, read the first chunk now so a file that is
    not audio fails at open time, before any network call."""
    # ffmpeg's raw muxers and codecs: s16le/pcm_s16le..., alaw/pcm_alaw, mulaw/pcm_mulaw.
    sample_fmt = {"wav/alaw": "alaw", "wav/ulaw": "mulaw"}.get(fmt.encoding, f"s{fmt.bit_depth}le")
    cmd = [ffmpeg, "-nostdin", "-v", "error", "-i", _target(path), "-map", "0:a:0"]
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
        return FfmpegSource(
            path,
            fmt,
            cmd,
            description=f"{probed.codec} via ffmpeg",
            duration=probed.duration,
            chunk_ms=chunk_ms,
            speed=speed,
        )
    source = FfmpegSource(
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
    sample_rate: int


def probe(path: Path) -> Probed | None:
    """Ask ffprobe whether there is an audio stream at all, and what it is (None: no ffprobe to ask)."""
    ffprobe = shutil.which("ffprobe")
    if ffprobe is None:
        return None
    target = _target(path)
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
        raise ffmpeg_error(path, last_ffmpeg_line(stderr_lines, cmd), opening=True)
    try:
        info = json.loads(result.stdout.decode("utf-8", "replace") or "{}")
    except json.JSONDecodeError:
        info = {}
    streams = [s for s in info.get("streams", []) if s.get("codec_type") == "audio"]
    if not streams:
        raise UsageError(f"{path} is not an audio file: it has no audio stream", hint="give a file that contains audio")
    stream = streams[0]
    duration = _as_seconds(stream.get("duration")) or _as_seconds(info.get("format", {}).get("duration"))
    return Probed(
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
