"""Audio sources for library-level tests of the live session: bytes in memory, served like a microphone."""

from __future__ import annotations

import threading
from collections.abc import Iterator

from gladia_cli.audio.format import PcmFormat

RATE = 16000
CHUNK = 3200  # the CLI's 100 ms frames of 16 kHz mono 16-bit audio
FMT = PcmFormat(sample_rate=RATE, channels=1, bit_depth=16)


class BytesSource:
    """An AudioSource over a bytes buffer: 100 ms chunks, all at once, or one every `interval` seconds.

    Like a microphone, it cannot wait (`can_wait` False): the session takes its audio as it comes.
    """

    can_wait = False

    def __init__(self, data: bytes, interval: float = 0.0) -> None:
        self.data = data
        self.interval = interval
        self._closed = threading.Event()

    @property
    def format(self) -> PcmFormat:
        return FMT

    def chunks(self) -> Iterator[bytes]:
        for start in range(0, len(self.data), CHUNK):
            if self._closed.is_set():
                return
            yield self.data[start : start + CHUNK]
            if self.interval and self._closed.wait(self.interval):
                return

    def close(self) -> None:
        self._closed.set()
