"""What a file is from its first bytes, for the pre-upload check when ffmpeg is not there to ask.

Containers are known by their magic bytes. Bare MPEG audio (layers I, II and III of MPEG-1, 2 and 2.5) and ADTS
AAC have no file header, only frames: a stream is recognised by a run of consecutive, consistent frame headers
(with or without CRC), which random bytes practically never make.
"""

from __future__ import annotations

from collections.abc import Callable

HEAD_BYTES = 64 * 1024
"""How much of a file the sniffing reads: room for leading junk and a few frames at any bitrate."""

_FRAMES_NEEDED = 3

# Containers Gladia's pre-recorded API takes, by their first bytes.
_CONTAINERS = (
    (0, b"ID3", "MPEG audio with an ID3 tag"),
    (0, b"OggS", "Ogg"), (0, b"fLaC", "FLAC"), (0, b"FORM", "AIFF"), (0, b"\x1a\x45\xdf\xa3", "WebM/Matroska"),
    (0, b"\x30\x26\xb2\x75", "ASF/WMA"), (0, b"FLV", "FLV"), (0, b"#!AMR", "AMR"), (0, b"\x0b\x77", "AC-3"),
    (0, b"caff", "CAF"), (0, b".snd", "Sun audio"), (0, b"MAC ", "Monkey's Audio"), (0, b"wvpk", "WavPack"),
    (4, b"ftyp", "MP4"), (4, b"moov", "QuickTime"), (4, b"mdat", "QuickTime"), (4, b"free", "QuickTime"),
    (4, b"wide", "QuickTime"),
)  # fmt: skip
_RIFF_FORMS = {b"WAVE": "WAV", b"AVI ": "AVI"}

# Formats that are clearly not audio: refused rather than uploaded.
_NOT_MEDIA = (
    (b"\x89PNG", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"), (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"), (b"PK\x03\x04", "a ZIP archive"), (b"\x1f\x8b", "a gzip archive"),
    (b"BZh", "a bzip2 archive"), (b"\xfd7zXZ\x00", "an xz archive"), (b"7z\xbc\xaf", "a 7-Zip archive"),
    (b"\x7fELF", "a program"), (b"SQLite format 3\x00", "an SQLite database"),
)  # fmt: skip

_MPEG_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}  # by version bits
_MPEG_VERSIONS = {3: "1", 2: "2", 0: "2.5"}
_LAYERS = {3: "I", 2: "II", 1: "III"}  # by layer bits
# kbit/s by bitrate index 1..14 (0 is free format, 15 is invalid), for MPEG-1 and for MPEG-2/2.5.
_BITRATES = {
    ("1", 3): (32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448),
    ("1", 2): (32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384),
    ("1", 1): (32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),
    ("2", 3): (32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256),
    ("2", 2): (8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
    ("2", 1): (8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),
}
_ADTS_RATES = 13  # sampling_frequency_index 13..15 is reserved or not allowed in ADTS

_Frame = tuple[int, tuple[int, int], str]  # length in bytes, what stays the same from frame to frame, name
_FrameParser = Callable[[bytes, int], "_Frame | None"]


def media_kind(head: bytes, *, whole_file: bool = False) -> str | None:
    """The audio or video format `head` (a file's first bytes) holds, or None when we cannot tell.

    `whole_file`: `head` is the entire file, so a short stream that ends on a frame boundary counts.
    """
    for at, magic, name in _CONTAINERS:
        if head[at : at + len(magic)] == magic:
            return name
    if head[:4] in (b"RIFF", b"RF64", b"BW64"):
        return _RIFF_FORMS.get(head[8:12])
    return _frame_stream(head, whole_file)


def not_media(head: bytes) -> str | None:
    """What the file clearly is instead of audio (text, an image, an archive...), or None if it could be audio."""
    for magic, name in _NOT_MEDIA:
        if head.startswith(magic):
            return name
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "a WebP image"
    if _is_text(head[:4096]):
        return "text"
    return None


def _is_text(sample: bytes) -> bool:
    """UTF-8 without control characters but whitespace: a text file, never compressed audio."""
    if not sample:
        return False
    try:
        text = sample.decode("utf-8")
    except UnicodeDecodeError as e:
        if e.start < len(sample) - 3:  # only a character cut at the end of the sample is forgiven
            return False
        text = sample[: e.start].decode("utf-8")
    return all(c.isprintable() or c in "\t\n\r\f" for c in text)


def _frame_stream(head: bytes, whole_file: bool) -> str | None:
    """Name an MPEG audio or ADTS stream that starts anywhere in `head` (after junk or padding)."""
    at = head.find(b"\xff")
    while 0 <= at <= len(head) - 4:
        for parse in (_mpeg_frame, _adts_frame):
            frame = parse(head, at)
            if frame is not None and _frames_follow(head, at, parse, whole_file):
                return frame[2]
        at = head.find(b"\xff", at + 1)
    return None


def _frames_follow(head: bytes, at: int, parse: _FrameParser, whole_file: bool) -> bool:
    """`_FRAMES_NEEDED` consistent frames from `at`, or fewer that end exactly where the whole file ends."""
    first = parse(head, at)
    assert first is not None
    pos, count = at, 0
    while count < _FRAMES_NEEDED:
        frame = parse(head, pos)
        if frame is None or frame[1] != first[1]:
            return whole_file and count > 0 and pos == len(head)
        pos += frame[0]
        count += 1
    return True


def _mpeg_frame(data: bytes, at: int) -> _Frame | None:
    """(frame length, what must stay the same from frame to frame, name) of the MPEG audio header at `at`."""
    if at + 4 > len(data) or data[at] != 0xFF or data[at + 1] & 0xE0 != 0xE0:
        return None
    b1, b2, b3 = data[at + 1], data[at + 2], data[at + 3]
    version_bits, layer_bits = (b1 >> 3) & 3, (b1 >> 1) & 3
    bitrate_index, rate_index = b2 >> 4, (b2 >> 2) & 3
    if version_bits == 1 or layer_bits == 0 or bitrate_index in (0, 15) or rate_index == 3 or b3 & 3 == 2:
        return None  # reserved values; free-format streams (bitrate 0) cannot be followed frame to frame
    version = _MPEG_VERSIONS[version_bits]
    rate = _MPEG_RATES[version_bits][rate_index]
    bitrate = _BITRATES[("1" if version == "1" else "2", layer_bits)][bitrate_index - 1] * 1000
    padding = (b2 >> 1) & 1
    if layer_bits == 3:  # layer I counts in 4-byte slots
        length = (12 * bitrate // rate + padding) * 4
    elif layer_bits == 1 and version != "1":  # layer III of MPEG-2/2.5 has half the samples per frame
        length = 72 * bitrate // rate + padding
    else:
        length = 144 * bitrate // rate + padding
    crc = "" if b1 & 1 else " with CRC"
    return length, (b1, rate_index), f"MPEG-{version} audio layer {_LAYERS[layer_bits]}{crc}"


def _adts_frame(data: bytes, at: int) -> _Frame | None:
    """(frame length, what must stay the same from frame to frame, name) of the ADTS AAC header at `at`."""
    if at + 7 > len(data) or data[at] != 0xFF or data[at + 1] & 0xF6 != 0xF0:
        return None
    b1, b2 = data[at + 1], data[at + 2]
    if (b2 >> 2) & 0xF >= _ADTS_RATES:
        return None
    length = ((data[at + 3] & 3) << 11) | (data[at + 4] << 3) | (data[at + 5] >> 5)
    header = 7 if b1 & 1 else 9
    if length <= header:
        return None
    crc = "" if b1 & 1 else " with CRC"
    return length, (b1, b2 & 0xFC), f"AAC (ADTS){crc}"
