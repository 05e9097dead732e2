"""PCM the caller pushes, in a format it declares: the source of a live session fed by a Python program.

`push()` blocks while the session is behind (a bounded queue), so nothing is dropped: the stream waits for the network
as a file does. Bytes need not be split on frames; the total must be whole frames by `end()`.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator

from gladia_cli.audio.format import PcmFormat, SourceDefaults
from gladia_cli.errors import UsageError

QUEUE_CHUNKS = 64  # pushes waiting to be sent before `push()` blocks


class PushSource(SourceDefaults):
    """Audio handed over by the caller: `push(data)` as it comes, `end()` when there is no more."""

    can_wait = True  # the caller waits for us (push blocks): nothing is lost while the network is slow

    def __init__(self, fmt: PcmFormat, chunk_ms: int = 100) -> None:
        self.format = fmt.validate()
        self.chunk_ms = chunk_ms
        self._queue: queue.Queue[bytes | None] = queue.Queue(maxsize=QUEUE_CHUNKS)
        self._closed = threading.Event()
        self._ended = False
        self._total = 0

    def push(self, data: bytes) -> None:
        """Queue `data` for the session; blocks while the queue is full. Raises once the source is ended or closed."""
        if self._ended or self._closed.is_set():
            raise UsageError("this audio source has ended: push() after end() or close()")
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise UsageError(f"push() takes bytes of {self.format.describe()}, got {type(data).__name__}")
        self._total += len(data)
        while not self._closed.is_set():
            try:
                self._queue.put(bytes(data), timeout=0.1)
                return
            except queue.Full:
                continue

    def end(self) -> None:
        """No more audio: the session sends what is queued, then stops. The total must be whole frames."""
        if self._ended:
            return
        self._ended = True
        partial = self._total % self.format.frame_bytes
        self._queue.put(None)
        if partial:
            raise UsageError(
                f"the audio pushed ends {partial} byte(s) into a frame of {self.format.describe()}",
                hint=f"push whole frames of {self.format.frame_bytes} bytes",
            )

    def chunks(self) -> Iterator[bytes]:
        size = self.format.chunk_bytes(self.chunk_ms)
        frame = self.format.frame_bytes
        pending = bytearray()
        while not self._closed.is_set():
            try:
                data = self._queue.get(timeout=0.1)
            except queue.Empty:
                continue
            if data is None:
                break
            pending += data
            while len(pending) >= size:
                yield bytes(pending[:size])
                del pending[:size]
        whole = len(pending) - len(pending) % frame
        if whole:
            yield bytes(pending[:whole])  # a partial last frame is refused by end(), never sent

    def close(self) -> None:
        self._closed.set()
