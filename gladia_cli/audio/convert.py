"""Sample conversion, one pipeline for every path that changes audio: decode, mix channels, resample, encode.

WAV files, files ffmpeg decodes, a microphone recording at a rate of its own and several inputs all go through
these functions, so the audio Gladia receives does not depend on the container or the device: one band-limited
resampler (`resample`, continuous across blocks), one downmix (ITU-R BS.775), one encoder that counts what it had
to clip. Blocks go through one at a time and the result does not depend on block size, so memory stays flat for
hours-long files. numpy is imported inside the functions so importing this module stays fast.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from gladia_cli.audio.format import PcmFormat
from gladia_cli.audio.resample import Resampler

if TYPE_CHECKING:
    import numpy as np

_MINUS_3_DB = math.sqrt(0.5)

# Speaker positions as ffmpeg and WAVE_FORMAT_EXTENSIBLE's channel mask name them, in the mask's bit order.
SPEAKERS = (
    "FL", "FR", "FC", "LFE", "BL", "BR", "FLC", "FRC", "BC", "SL", "SR",
    "TC", "TFL", "TFC", "TFR", "TBL", "TBC", "TBR",
)  # fmt: skip

DEFAULT_LAYOUTS: dict[int, tuple[str, ...]] = {
    1: ("FC",),
    2: ("FL", "FR"),
    3: ("FL", "FR", "FC"),
    4: ("FL", "FR", "BL", "BR"),
    5: ("FL", "FR", "FC", "BL", "BR"),
    6: ("FL", "FR", "FC", "LFE", "BL", "BR"),
    7: ("FL", "FR", "FC", "LFE", "BC", "SL", "SR"),
    8: ("FL", "FR", "FC", "LFE", "BL", "BR", "SL", "SR"),
}
"""The channel order a file implies when it does not name its speakers: FLAC's, which ffmpeg and WAV writers use."""

_NAMED_LAYOUTS: dict[str, tuple[str, ...]] = {
    "mono": ("FC",),
    "stereo": ("FL", "FR"),
    "2.1": ("FL", "FR", "LFE"),
    "3.0": ("FL", "FR", "FC"),
    "3.0(back)": ("FL", "FR", "BC"),
    "4.0": ("FL", "FR", "FC", "BC"),
    "quad": ("FL", "FR", "BL", "BR"),
    "quad(side)": ("FL", "FR", "SL", "SR"),
    "3.1": ("FL", "FR", "FC", "LFE"),
    "5.0": ("FL", "FR", "FC", "BL", "BR"),
    "5.0(side)": ("FL", "FR", "FC", "SL", "SR"),
    "4.1": ("FL", "FR", "FC", "LFE", "BC"),
    "5.1": ("FL", "FR", "FC", "LFE", "BL", "BR"),
    "5.1(side)": ("FL", "FR", "FC", "LFE", "SL", "SR"),
    "6.0": ("FL", "FR", "FC", "BC", "SL", "SR"),
    "6.1": ("FL", "FR", "FC", "LFE", "BC", "SL", "SR"),
    "7.0": ("FL", "FR", "FC", "BL", "BR", "SL", "SR"),
    "7.1": ("FL", "FR", "FC", "LFE", "BL", "BR", "SL", "SR"),
    "7.1(wide)": ("FL", "FR", "FC", "LFE", "BL", "BR", "FLC", "FRC"),
    "7.1(wide-side)": ("FL", "FR", "FC", "LFE", "FLC", "FRC", "SL", "SR"),
}
"""ffprobe's names for the layouts a file declares."""


def layout_from_mask(mask: int, channels: int) -> tuple[str, ...] | None:
    """The speakers a WAVE_FORMAT_EXTENSIBLE channel mask names, when it names one per channel."""
    named = tuple(name for bit, name in enumerate(SPEAKERS) if mask >> bit & 1)
    return named if len(named) == channels else None


def layout_from_name(name: str, channels: int) -> tuple[str, ...] | None:
    """The speakers of ffprobe's `channel_layout` ("5.1(side)", "FL+FR+LFE"), when it names one per channel."""
    named = _NAMED_LAYOUTS.get(name) or tuple(part for part in name.split("+") if part in SPEAKERS)
    return named if len(named) == channels else None


def can_mix(in_channels: int, out_channels: int) -> bool:
    """Channel changes we make: none, mono to any (copied), any to mono, and a surround layout to stereo."""
    return in_channels in (out_channels, 1) or out_channels == 1 or (out_channels == 2 and in_channels <= 8)


def mix_matrix(in_channels: int, out_channels: int, layout: Sequence[str] | None = None) -> np.ndarray | None:
    """The (in x out) gains taking `in_channels` to `out_channels`; None when the channels stay as they are.

    ITU-R BS.775's downmix: front left and right in full, centre and surrounds at -3 dB, the LFE left out; mono is
    the mean of that stereo pair. Gains are scaled down so the sum for each output is at most 1: a mix never clips.
    Without a known layout, mono is the plain mean of the channels. Mono is copied to every output at full level.
    """
    import numpy as np

    if in_channels == out_channels:
        return None
    if in_channels == 1:
        return np.ones((1, out_channels))
    if not can_mix(in_channels, out_channels):
        raise ValueError(f"cannot mix {in_channels} channels to {out_channels}")
    speakers = tuple(layout) if layout is not None else DEFAULT_LAYOUTS.get(in_channels)
    if speakers is None:  # more channels than any standard layout: no position to weigh them by
        return np.full((in_channels, 1), 1.0 / in_channels)
    stereo = np.array([_stereo_gains(name) for name in speakers])
    matrix = stereo if out_channels == 2 else stereo.mean(axis=1, keepdims=True)
    peak = float(matrix.sum(axis=0).max())
    return matrix / peak if peak > 1.0 else matrix


def _stereo_gains(speaker: str) -> tuple[float, float]:
    """One speaker's (left, right) gains in BS.775's downmix to two channels."""
    if speaker in ("LFE", "LFE2"):
        return 0.0, 0.0
    if speaker in ("FL", "FLC"):
        return 1.0, 0.0
    if speaker in ("FR", "FRC"):
        return 0.0, 1.0
    if speaker.endswith("L"):  # surrounds, sides and heights on the left
        return _MINUS_3_DB, 0.0
    if speaker.endswith("R"):
        return 0.0, _MINUS_3_DB
    return _MINUS_3_DB, _MINUS_3_DB  # centres


def decode_samples(raw: bytes, kind: str, width: int, channels: int, *, big_endian: bool = False) -> np.ndarray:
    """Samples to float64 in [-1, 1), shape (frames, channels); 8-bit PCM is unsigned, floats are kept as they are
    (NaN and beyond full scale included: `Converter` counts them)."""
    import numpy as np

    order = ">" if big_endian else "<"
    if kind in ("alaw", "ulaw"):
        from gladia_cli.audio import g711

        values = np.frombuffer(g711.decode(raw, kind), dtype="<i2") / 32768.0
    elif kind == "float":
        values = np.frombuffer(raw, dtype=f"{order}f{width}").astype(np.float64)
    elif width == 1:
        values = (np.frombuffer(raw, dtype=np.uint8).astype(np.float64) - 128.0) / 128.0
    elif width in (2, 4):
        values = np.frombuffer(raw, dtype=f"{order}i{width}") / float(1 << (8 * width - 1))
    else:
        values = unpack_int(raw, width, big_endian=big_endian) / float(1 << (8 * width - 1))
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


def unpack_int(raw: bytes, width: int, *, big_endian: bool = False) -> np.ndarray:
    """Signed integer samples of any width up to 8 bytes to int64, vectorized: placed at the top of an int64 and
    shifted back down, which extends the sign."""
    import numpy as np

    groups = np.frombuffer(raw, dtype=np.uint8).reshape(-1, width)
    if big_endian:
        groups = groups[:, ::-1]
    wide = np.zeros((groups.shape[0], 8), dtype=np.uint8)
    wide[:, 8 - width :] = groups
    return wide.view("<i8").reshape(-1) >> (8 * (8 - width))


def unpack_int24(raw: bytes) -> np.ndarray:
    """3-byte little-endian signed samples to int64."""
    return unpack_int(raw, 3)


def pack_int24(values: np.ndarray) -> bytes:
    """int32 samples (within 24-bit range) to 3-byte little-endian, vectorized."""
    import numpy as np

    quads = values.astype("<i4").view(np.uint8).reshape(-1, 4)
    return quads[:, :3].tobytes()


class Converter:
    """Bytes of one format in, bytes of the sent format out: decode, mix, resample, encode.

    Counts what the source held that cannot be sent as it is (samples beyond full scale, NaN), so the person is
    told once, at the end (`notes`), instead of the audio being altered silently.
    """

    def __init__(
        self,
        *,
        kind: str,
        width: int,
        channels: int,
        sample_rate: int,
        out: PcmFormat,
        layout: Sequence[str] | None = None,
        big_endian: bool = False,
    ) -> None:
        self.kind = kind
        self.width = width
        self.in_channels = channels
        self.big_endian = big_endian
        self.out = out
        self.matrix = mix_matrix(channels, out.channels, layout)
        self.resampler = (
            Resampler(sample_rate, out.sample_rate, out.channels) if sample_rate != out.sample_rate else None
        )
        self.clipped = 0
        self.not_numbers = 0

    def process(self, raw: bytes) -> bytes:
        samples = decode_samples(raw, self.kind, self.width, self.in_channels, big_endian=self.big_endian)
        if self.kind == "float":
            samples = self._finite(samples)
        if self.matrix is not None:
            samples = samples @ self.matrix
        if self.resampler is not None:
            samples = self.resampler.process(samples)
        return self._encode(samples)

    def flush(self) -> bytes:
        if self.resampler is None:
            return b""
        return self._encode(self.resampler.flush())

    def notes(self) -> list[str]:
        """What was done to samples that could not be sent as they were."""
        notes = []
        if self.clipped:
            notes.append(f"{self.clipped:,} samples were beyond full scale and were clipped")
        if self.not_numbers:
            notes.append(f"{self.not_numbers:,} samples were not numbers (NaN) and were sent as silence")
        return notes

    def _finite(self, samples: np.ndarray) -> np.ndarray:
        import numpy as np

        nan = np.isnan(samples)
        count = int(np.count_nonzero(nan))
        if count:
            self.not_numbers += count
            samples = np.where(nan, 0.0, samples)
        return samples

    def _encode(self, samples: np.ndarray) -> bytes:
        import numpy as np

        if samples.shape[0] == 0:
            return b""
        # Beyond full scale is clipped by the encoder; counted here (a float file, a resampled square wave).
        self.clipped += int(np.count_nonzero(np.abs(samples) > 1.0))
        if self.out.encoding != "wav/pcm":
            from gladia_cli.audio import g711

            return g711.encode(encode_samples(samples, 16), self.out.encoding.removeprefix("wav/"))
        return encode_samples(samples, self.out.bit_depth)
