"""The one reader of a recording's source, and each Gladia session's share of it.

A recording may outlive one Gladia session (3 hours at most, and a long pause may outlast one), so the source is not
read by a session: the `Relay` holds its one iterator, and each session reads a `Share`, an `AudioSource` that
yields the relay's chunks until it is released. Every chunk goes to exactly one share, whole, so switching
sessions happens at a chunk boundary: nothing is lost, nothing is sent twice. A share keeps what it handed out until
Gladia acknowledges it (`tail`), so audio a session was given but Gladia never took can go to the next session.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterator

from gladia_cli.audio.format import AudioSource, PcmFormat, SourceDefaults


class Relay:
    """The source's one iterator, taken from by one share at a time (the share of the session the recording goes to;
    `Share.after` keeps them in turn). Stops after `limit` bytes (`--duration`), and shows each chunk once to
    `on_audio` (the local recording), in capture order, on the thread of the share that first takes it.

    No thread of its own: a chunk handed from the source to a session thread directly costs nothing more than one
    session reading the source itself did (a thread and a queue in between halved the throughput of a file)."""

    def __init__(
        self, source: AudioSource, *, limit: int | None = None, on_audio: Callable[[bytes], None] | None = None
    ) -> None:
        self.source = source
        self._limit = limit
        self._on_audio = on_audio
        self._chunks: Iterator[bytes] | None = None
        self._taking = threading.Lock()  # held by the taker of the moment, across its wait for the source
        self._lock = threading.Lock()  # guards `_front`
        self._front: deque[bytes] = deque()  # put back by a share released mid-take; taken before the source
        self.ended = threading.Event()  # the source is exhausted (or failed, or stopped at `limit`)
        self._read_bytes = 0

    def take(self) -> bytes | None:
        """The next chunk (waiting for the source), or None at the end and ever after."""
        with self._lock:
            if self._front:
                return self._front.popleft()
        with self._taking:
            with self._lock:
                if self._front:
                    return self._front.popleft()
            if self.ended.is_set():
                return None
            try:
                if self._chunks is None:
                    self._chunks = iter(self.source.chunks())
                while True:
                    chunk = next(self._chunks)
                    if self._limit is not None and self._read_bytes + len(chunk) >= self._limit:
                        chunk = chunk[: self._limit - self._read_bytes]
                        self._finish()
                    if chunk:
                        break
                    if self.ended.is_set():
                        return None
                self._read_bytes += len(chunk)
                if self._on_audio is not None:
                    self._on_audio(chunk)
                return chunk
            except StopIteration:
                self._finish()
                return None
            except BaseException:  # a broken device or decoder ends the recording: raised in the session that took
                self._finish()
                raise

    def _finish(self) -> None:
        self.ended.set()
        self.source.close()

    def put_back(self, chunk: bytes) -> None:
        """A chunk a released share took after the switch: the next share takes it first (it is the oldest)."""
        with self._lock:
            self._front.appendleft(chunk)

    @property
    def has_audio(self) -> bool:
        """Audio waits for a session to take it: put back, or captured by a source that can pause (one that
        cannot, a file, always has more until its end)."""
        with self._lock:
            if self._front:
                return True
        if self.ended.is_set():
            return False
        return self.source.buffered_seconds > 0 or not self.source.can_pause

    def stop_reading(self) -> None:
        """End the recording: the source yields what it captured, then ends."""
        self.source.close()


class Share(SourceDefaults):
    """One session's view of the relay: an `AudioSource` for `LiveSession` (format, can_wait, chunks, close).

    `release()` (the next session takes over) ends `chunks()` at the next chunk boundary. `close()`, which the
    session calls on any way out, ends it too, except when the whole recording is stopping: then the session still
    takes what the source had captured, to the end. `leftover()` is what this share handed out that Gladia does not
    hold (its audio acks, or what the stream learnt it holds, say how far it does)."""

    def __init__(
        self,
        relay: Relay,
        fmt: PcmFormat,
        *,
        max_tail: int,
        leftover: bytes = b"",
        after: threading.Event | None = None,
    ) -> None:
        self._relay = relay
        self._after = after  # the previous share's `done`: it takes nothing more from the relay
        self.done = threading.Event()
        self._fmt = fmt
        self._max_tail = max(max_tail, fmt.frame_bytes)
        self._released = threading.Event()
        self._draining = threading.Event()  # the recording stops: read to the relay's end
        self._lock = threading.Lock()
        self._tail: deque[tuple[int, bytes]] = deque()  # (offset in this share, chunk), not yet acknowledged
        self._tail_bytes = 0
        self._handed = 0  # bytes this share yielded
        self._acked = 0
        self._first = leftover  # what the previous session was given and Gladia did not take: sent first

    @property
    def format(self) -> PcmFormat:
        return self._fmt

    @property
    def can_wait(self) -> bool:
        return self._relay.source.can_wait

    @property
    def handed_bytes(self) -> int:
        with self._lock:
            return self._handed

    def chunks(self) -> Iterator[bytes]:
        try:
            yield from self._chunks()
        finally:
            self.done.set()  # the next share may take from the relay now: one taker at a time keeps the order

    def _chunks(self) -> Iterator[bytes]:
        if self._first:
            first, self._first = self._first, b""
            step = self._fmt.chunk_bytes(1000)
            for at in range(0, len(first), step):
                yield self._hand(first[at : at + step])
        while self._after is not None and not self._after.wait(0.1):
            if self._stopped():
                return
        while not self._stopped():
            chunk = self._relay.take()  # waits for the source: a pause is a wait here, and a release is seen after
            if chunk is None:
                return
            if self._stopped():
                self._relay.put_back(chunk)  # taken after the switch: the next session sends it, first
                return
            yield self._hand(chunk)

    def _stopped(self) -> bool:
        return self._released.is_set() and not self._draining.is_set()

    def _hand(self, chunk: bytes) -> bytes:
        with self._lock:
            self._tail.append((self._handed, chunk))
            self._tail_bytes += len(chunk)
            self._handed += len(chunk)
            while self._tail_bytes > self._max_tail and len(self._tail) > 1:
                _, old = self._tail.popleft()  # past the bound it is in the journal, no longer here
                self._tail_bytes -= len(old)
        return chunk

    def acknowledged(self, end: int) -> None:
        """Gladia holds every byte of this share before `end` (the session's numbering)."""
        with self._lock:
            end = min(end, self._handed)
            if end <= self._acked:
                return
            self._acked = end
            while self._tail and self._tail[0][0] + len(self._tail[0][1]) <= end:
                _, old = self._tail.popleft()
                self._tail_bytes -= len(old)

    @property
    def has_leftover(self) -> bool:
        with self._lock:
            return bool(self._tail) and self._acked < self._handed

    def leftover(self) -> bytes:
        """What Gladia did not acknowledge, from the first byte it lacks (whole frames)."""
        with self._lock:
            if not self._tail:
                return b""
            offset, _ = self._tail[0]
            data = b"".join(chunk for _, chunk in self._tail)
            cut = max(0, self._acked - offset)
            cut -= cut % self._fmt.frame_bytes
            return data[cut:]

    def release(self) -> None:
        self._released.set()

    def drain(self) -> None:
        self._draining.set()

    def close(self) -> None:
        self._released.set()


__all__ = ["Relay", "Share"]
