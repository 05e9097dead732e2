"""Band-limited resampling, streamed: a polyphase windowed-sinc filter, continuous across blocks.

The filter is the textbook design that scipy.signal.resample_poly also uses by default: for a rate ratio up/down
in lowest terms, a low-pass cut at the lower of the two Nyquist frequencies, 10 zero crossings of the sinc on each
side at the lower rate, shaped by a Kaiser window (beta 5: side lobes 57 dB down). Output sample j is centred at
input time j * down / up, so nothing is delayed or shifted, and a stream of N frames gives ceil(N * up / down).

Written here rather than taken from libsoxr or libsamplerate: measured against resample_poly on speech, music and
chirps (bench/results.md), both kept about 7-14 dB less of the signal than ffmpeg's own resampler, because their
pass band ends at 91-97 % of Nyquist, while this design matches the reference to rounding. numpy does the work.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

ZERO_CROSSINGS = 10
"""Sinc lobes on each side of the centre tap, counted at the lower rate."""

KAISER_BETA = 5.0


@lru_cache(maxsize=16)
def _phases(up: int, down: int) -> tuple[np.ndarray, int]:
    """The filter split into its `up` phases, each reversed for a dot product with the input: (up x taps), and the
    centre tap's index (half the filter length)."""
    import numpy as np

    half = ZERO_CROSSINGS * max(up, down)
    taps = 2 * half + 1
    cutoff = 1.0 / max(up, down)  # of the upsampled signal's Nyquist frequency
    n = np.arange(taps) - half
    h = cutoff * np.sinc(cutoff * n) * np.kaiser(taps, KAISER_BETA)
    h *= up / h.sum()  # unity gain at 0 Hz, times `up` for the zeros that upsampling puts between samples
    per_phase = -(-taps // up)
    padded = np.zeros(per_phase * up)
    padded[:taps] = h
    phases = padded.reshape(per_phase, up).T  # phases[p, m] = h[p + m * up]
    return np.ascontiguousarray(phases[:, ::-1]), half


class Resampler:
    """Resample frames x channels float64 blocks from `in_rate` to `out_rate`; any split of the input into blocks
    gives the same output as one block. `flush` ends the stream and returns the rest."""

    def __init__(self, in_rate: int, out_rate: int, channels: int) -> None:
        import numpy as np

        gcd = math.gcd(in_rate, out_rate)
        self.in_rate = in_rate
        self.out_rate = out_rate
        self._up, self._down = out_rate // gcd, in_rate // gcd
        self._filters, self._half = _phases(self._up, self._down)
        self._taps = self._filters.shape[1]
        self._channels = channels
        # The input not yet behind every future output, from global frame index self._start; the frames before
        # the stream are silence, so it starts with a filter's length of zeros.
        self._buffer = np.zeros((self._taps - 1, channels))
        self._start = -(self._taps - 1)
        self._received = 0  # input frames seen
        self._next = 0  # index of the next output frame
        self._ended = False

    def process(self, block: np.ndarray) -> np.ndarray:
        """Take `block`; return every output frame it makes computable (maybe none yet)."""
        import numpy as np

        if block.shape[0]:
            self._buffer = np.concatenate(
                [self._buffer, np.asarray(block, dtype=np.float64).reshape(-1, self._channels)]
            )
            self._received += block.shape[0]
        # Output j needs input frames up to (j * down + half) // up.
        end = (self._received * self._up - 1 - self._half) // self._down + 1
        return self._compute(end)

    def flush(self) -> np.ndarray:
        """The output still to come, computed as if the stream were followed by silence; ends the stream."""
        import numpy as np

        if self._ended:
            return np.zeros((0, self._channels))
        self._ended = True
        total = -(-self._received * self._up // self._down)
        pad = self._half // self._up + 2
        self._buffer = np.concatenate([self._buffer, np.zeros((pad, self._channels))])
        return self._compute(total)

    def _compute(self, end: int) -> np.ndarray:
        import numpy as np

        first = self._next
        if end <= first:
            return np.zeros((0, self._channels))
        j = np.arange(first, end, dtype=np.int64)
        t = j * self._down + self._half
        newest = t // self._up  # the newest input frame each output needs
        rows = newest - (self._taps - 1) - self._start  # the window ending at it, in the buffer
        windows = np.lib.stride_tricks.sliding_window_view(self._buffer, self._taps, axis=0)
        out = np.einsum("jci,ji->jc", windows[rows], self._filters[t % self._up])
        self._next = end
        # Keep only the input the next output still needs.
        keep_from = (end * self._down + self._half) // self._up - (self._taps - 1) - self._start
        if keep_from > 0:
            self._buffer = self._buffer[keep_from:]
            self._start += keep_from
        return out
