"""Sample conversion: decode PCM of any width to floats, resample, encode; shared by WAV files, capture and mixing.

Blocks go through one at a time and the result does not depend on block size, so memory stays flat for
hours-long files. numpy is imported inside each function so importing this module stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np


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
