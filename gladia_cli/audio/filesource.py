"""The base of every file source: whole-frame chunks paced on a real-time schedule, stoppable from any thread.

A file can be read far faster than real time; `--speed` paces it like a microphone (1 = real time) so a live
session sees audio arrive as it would from a speaker. Subclasses (WAV in `wav`, anything else in `ffmpeg`) only
produce the raw chunks.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Generator, Iterator
from pathlib import Path

from gladia_cli.audio.convert import Converter
from gladia_cli.audio.format import PcmFormat, SourceDefaults


class FileSource(SourceDefaults):
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
        self._converter: Converter | None = None  # set by a subclass that converts samples itself

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

    def capture_notes(self) -> list[str]:
        """What was done to samples that could not be sent as they were, and audio the file lacks."""
        notes = [f"{self.path}: {note}" for note in (self._converter.notes() if self._converter else [])]
        return notes + self._stream_notes()

    def _stream_notes(self) -> list[str]:
        return []

    def close(self) -> None:
        """Ask `chunks()` to stop; thread-safe and idempotent."""
        self._closed.set()

    def _raw_chunks(self) -> Generator[bytes, None, None]:  # pragma: no cover - abstract
        raise NotImplementedError


def drain(pending: bytearray, size: int) -> Iterator[bytes]:
    """Yield every full `size` chunk from the front of `pending` (bytearray front deletion is amortized O(1))."""
    while len(pending) >= size:
        yield bytes(pending[:size])
        del pending[:size]
