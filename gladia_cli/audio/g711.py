"""G.711 A-law and mu-law (`wav/alaw`, `wav/ulaw`): 16-bit PCM to 8-bit codes and back, as ITU-T G.711 defines them.

The microphone records 16-bit PCM; a session declared as A-law or mu-law (a quarter of the bandwidth of 16 kHz
16-bit PCM at 8 kHz, half at any rate) gets every block encoded here. Both directions are 64 K / 256-entry lookup
tables built once with numpy, so encoding a 100 ms block is a single indexing operation.
"""

from __future__ import annotations

from functools import cache
from typing import Any

KINDS = ("alaw", "ulaw")

_ULAW_SEGMENT_ENDS = (0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF)  # 14-bit magnitudes, bias added
_ALAW_SEGMENT_ENDS = (0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF)  # 13-bit magnitudes
_ULAW_BIAS = 0x84
_ULAW_CLIP = 8159


def _encode_ulaw(pcm: Any) -> Any:
    import numpy as np

    value = pcm.astype(np.int32) >> 2  # 14 significant bits, rounded toward minus infinity as the reference does
    mask = np.where(value < 0, 0x7F, 0xFF)
    magnitude = np.minimum(np.abs(value), _ULAW_CLIP) + (_ULAW_BIAS >> 2)
    segment = np.searchsorted(np.array(_ULAW_SEGMENT_ENDS), magnitude, side="left")
    code = np.where(segment >= 8, 0x7F, (segment << 4) | ((magnitude >> (segment + 1)) & 0x0F))
    return (code ^ mask).astype(np.uint8)


def _encode_alaw(pcm: Any) -> Any:
    import numpy as np

    value = pcm.astype(np.int32) >> 3  # 13 significant bits
    negative = value < 0
    mask = np.where(negative, 0x55, 0xD5)
    magnitude = np.where(negative, -value - 1, value)
    segment = np.searchsorted(np.array(_ALAW_SEGMENT_ENDS), magnitude, side="left")
    code = np.where(segment >= 8, 0x7F, (segment << 4) | ((magnitude >> np.maximum(segment, 1)) & 0x0F))
    return (code ^ mask).astype(np.uint8)


def _decode_ulaw(codes: Any) -> Any:
    import numpy as np

    u = ~codes.astype(np.int32) & 0xFF
    t = (((u & 0x0F) << 3) + _ULAW_BIAS) << ((u & 0x70) >> 4)
    return np.where(u & 0x80, _ULAW_BIAS - t, t - _ULAW_BIAS).astype(np.int16)


def _decode_alaw(codes: Any) -> Any:
    import numpy as np

    a = codes.astype(np.int32) ^ 0x55
    segment = (a & 0x70) >> 4
    t = ((a & 0x0F) << 4) + np.where(segment == 0, 8, 0x108)
    t = np.where(segment > 1, t << np.maximum(segment - 1, 0), t)
    return np.where(a & 0x80, t, -t).astype(np.int16)


@cache
def _encode_table(kind: str) -> Any:
    """Code for every int16 value, indexed by the value's unsigned 16-bit pattern."""
    import numpy as np

    every = np.arange(65536, dtype=np.uint16).view(np.int16)
    return _encode_alaw(every) if kind == "alaw" else _encode_ulaw(every)


@cache
def _decode_table(kind: str) -> Any:
    import numpy as np

    codes = np.arange(256, dtype=np.uint8)
    return _decode_alaw(codes) if kind == "alaw" else _decode_ulaw(codes)


def encode(pcm16: bytes, kind: str) -> bytes:
    """Little-endian 16-bit PCM (any number of channels) to one G.711 byte per sample."""
    import numpy as np

    return bytes(_encode_table(kind)[np.frombuffer(pcm16, dtype="<u2")])


def decode(codes: bytes, kind: str) -> bytes:
    """G.711 bytes to little-endian 16-bit PCM."""
    import numpy as np

    return _decode_table(kind)[np.frombuffer(codes, dtype=np.uint8)].astype("<i2").tobytes()
