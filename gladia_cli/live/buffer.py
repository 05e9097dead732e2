"""Audio Gladia has not acknowledged yet: what a reconnect must resend, and what was never sent; bounded.

Offsets are session-global byte counts, the numbering of Gladia's acks (`byte_range` is half-open: [start, end)).
A byte gets its offset when it is first sent, so dropping unsent audio leaves no gap in Gladia's numbering.
Chunks are kept as they came, in deques, never joined into one growing `bytes`: appending and trimming cost O(chunk)
and a session of hours holds flat memory.
"""

from __future__ import annotations

import threading
from collections import deque


class AudioBuffer:
    """Thread-safe: the sender appends and takes frames, the receiver acknowledges, the renderer reads sizes."""

    def __init__(self, max_bytes: int) -> None:
        if max_bytes <= 0:
            raise ValueError("max_bytes must be positive")
        self._max = max_bytes
        self._lock = threading.Lock()
        self._unacked: deque[tuple[int, bytes]] = deque()  # sent at least once, by offset
        self._unsent: deque[bytes] = deque()  # captured, never sent
        self._acked = 0  # every byte before this offset is acknowledged and forgotten
        self._numbered = 0  # offset the next never-sent byte will get
        self._cursor = 0  # what the current connection has sent up to
        self._unacked_bytes = 0
        self._unsent_bytes = 0
        self.dropped_bytes = 0

    # -- sizes (for the live view and tests) --

    @property
    def acked(self) -> int:
        with self._lock:
            return self._acked

    @property
    def numbered(self) -> int:
        with self._lock:
            return self._numbered

    @property
    def held_bytes(self) -> int:
        with self._lock:
            return self._unacked_bytes + self._unsent_bytes

    @property
    def pending_bytes(self) -> int:
        """Bytes the current connection still has to send (resend + new)."""
        with self._lock:
            return self._numbered - self._cursor + self._unsent_bytes

    # -- operations --

    def append(self, chunk: bytes, *, may_drop: bool = True) -> int:
        """Add captured audio; returns the bytes dropped (oldest first) to stay within the bound.

        `may_drop=False` (a source that waits for room instead) never drops: the bound is then the caller's to keep.
        """
        if not chunk:
            return 0
        with self._lock:
            self._unsent.append(chunk)
            self._unsent_bytes += len(chunk)
            dropped = 0
            while (
                may_drop
                and self._unacked_bytes + self._unsent_bytes > self._max
                and len(self._unacked) + len(self._unsent) > 1
            ):
                if self._unacked:
                    offset, old = self._unacked.popleft()
                    self._unacked_bytes -= len(old)
                    # Never to be resent: treat as settled.
                    self._acked = offset + len(old)
                    self._cursor = max(self._cursor, self._acked)
                else:
                    old = self._unsent.popleft()
                    self._unsent_bytes -= len(old)
                dropped += len(old)
            self.dropped_bytes += dropped
            return dropped

    def next_frame(self, max_frame: int) -> tuple[int, bytes] | None:
        """The next (offset, bytes) to send on this connection: resends first, then new audio; None when idle.

        The cursor advances as if the send succeeds; if it fails, the connection is gone and `rewind()` follows.
        """
        with self._lock:
            if self._cursor < self._numbered:
                for offset, chunk in self._unacked:
                    if offset + len(chunk) > self._cursor:
                        start = self._cursor - offset
                        piece = chunk[start : start + max_frame]
                        self._cursor += len(piece)
                        return self._cursor - len(piece), piece
            if not self._unsent:
                return None
            chunk = self._unsent.popleft()
            self._unsent_bytes -= len(chunk)
            if len(chunk) > max_frame:
                self._unsent.appendleft(chunk[max_frame:])
                self._unsent_bytes += len(chunk) - max_frame
                chunk = chunk[:max_frame]
            offset = self._numbered
            self._unacked.append((offset, chunk))
            self._unacked_bytes += len(chunk)
            self._numbered += len(chunk)
            self._cursor = self._numbered
            return offset, chunk

    def ack(self, end: int) -> int:
        """Gladia has every byte before `end`: forget them. Duplicate, stale or overlapping acks are harmless.
        Returns `end` clamped to what was sent: a server cannot acknowledge audio it was never given, and whoever
        else keeps audio for Gladia (the journal) must be told this number, not the server's."""
        with self._lock:
            end = min(end, self._numbered)
            if end <= self._acked:
                return end
            self._acked = end
            while self._unacked:
                offset, chunk = self._unacked[0]
                if offset + len(chunk) <= end:
                    self._unacked.popleft()
                    self._unacked_bytes -= len(chunk)
                    continue
                if offset < end:
                    cut = end - offset
                    self._unacked[0] = (end, chunk[cut:])
                    self._unacked_bytes -= cut
                break
            self._cursor = max(self._cursor, self._acked)
            return end

    def rewind(self) -> int:
        """A new connection: send everything unacknowledged again. Returns the offset the resend starts at."""
        with self._lock:
            self._cursor = self._unacked[0][0] if self._unacked else self._numbered
            return self._cursor
