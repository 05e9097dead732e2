"""`--record`: a local WAV copy of the captured audio that stays valid however the process ends.

The header's sizes are rewritten after every chunk, so a file cut off by a crash or `kill -9` is at worst one chunk
short of what was captured, and still opens in any player.
"""

from __future__ import annotations

import os
import struct
import threading
from pathlib import Path
from typing import BinaryIO

from gladia_cli.audio.format import PcmFormat
from gladia_cli.errors import UsageError

_FORMAT_TAGS = {"wav/pcm": 1, "wav/alaw": 6, "wav/ulaw": 7}


def wav_header(fmt: PcmFormat, data_bytes: int) -> bytes:
    """A canonical header: 44 bytes for PCM; for A-law/mu-law the 18-byte fmt and the `fact` chunk the spec asks
    of every non-PCM format (58 bytes). WAVE_FORMAT_EXTENSIBLE is not needed for what Gladia accepts."""
    block = fmt.frame_bytes
    tag = _FORMAT_TAGS[fmt.encoding]
    fmt_fields = struct.pack(
        "<HHIIHH", tag, fmt.channels, fmt.sample_rate, fmt.sample_rate * block, block, fmt.bit_depth
    )
    if tag == 1:
        chunks = b"fmt " + struct.pack("<I", 16) + fmt_fields
    else:
        frames = data_bytes // block
        chunks = b"fmt " + struct.pack("<I", 18) + fmt_fields + struct.pack("<H", 0)
        chunks += b"fact" + struct.pack("<II", 4, frames)
    chunks += b"data" + struct.pack("<I", data_bytes)
    pad = data_bytes & 1  # RIFF chunks are word-aligned: odd 8-bit data gets a pad byte on close
    return b"RIFF" + struct.pack("<I", 4 + len(chunks) + data_bytes + pad) + b"WAVE" + chunks


class WavRecorder:
    """Append-only WAV writer; `write` may be called from the producer thread while others read `bytes_written`."""

    def __init__(self, path: Path, fmt: PcmFormat, *, overwrite: bool = False) -> None:
        if path.is_dir():
            raise UsageError(f"`record` {path} is a directory", hint="give a file name, e.g. `record` meeting.wav")
        if overwrite and path.is_file() and not path.is_symlink():
            path.unlink()  # asked for: the new recording replaces it (a link is never followed to its target)
        if os.path.lexists(path):  # a dangling symlink too: O_EXCL would refuse it, and it is no new file
            raise UsageError(
                f"`record` {path} already exists", hint="add `force` to overwrite it, or choose another name"
            )
        try:
            # 0600: a recording of speech is the user's alone (the journal's rule too), whatever the umask.
            self._file: BinaryIO = os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb")
        except OSError as exc:
            raise UsageError(f"cannot create `record` file {path}: {exc.strerror or exc}") from None
        self.path = path
        self._fmt = fmt
        self._lock = threading.Lock()
        self._data = 0
        self._file.write(wav_header(fmt, 0))
        self._file.flush()

    @property
    def bytes_written(self) -> int:
        with self._lock:
            return self._data

    @property
    def seconds(self) -> float:
        return self._fmt.seconds(self.bytes_written)

    def write(self, chunk: bytes) -> None:
        with self._lock:
            if self._file.closed:
                return
            self._file.seek(0, 2)
            self._file.write(chunk)
            self._data += len(chunk)
            # Sizes after data: a crash between the two leaves a valid, slightly short file, never a broken one.
            self._file.seek(0)
            self._file.write(wav_header(self._fmt, self._data))
            self._file.flush()

    def close_or_discard(self) -> None:
        """Close; a file that got no audio is removed: it holds nothing, and would only block the next `--record`
        of the same name (a session refused before its first byte, say)."""
        self.close()
        if self.bytes_written == 0:
            self.path.unlink(missing_ok=True)

    def close(self) -> None:
        with self._lock:
            if not self._file.closed:
                if self._data & 1:
                    self._file.seek(0, 2)
                    self._file.write(b"\0")
                self._file.close()
