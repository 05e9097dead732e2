"""The local journal of a live session's audio: what a session that cannot go on still has, for `gladia recover`.

A microphone cannot be asked to play its audio again; once Gladia is out of reach for good, whatever it did not
acknowledge exists only here. Layout, in the XDG state dir (0700 directories, 0600 files):

    $XDG_STATE_HOME/gladia/journals/<session id>/
        meta.json                   session id, format, created, pid, first kept byte, last acknowledged byte
        000000000000000.wav         segments, named by the session byte offset of their first data byte
        000000004194304.wav

Each segment is a `WavRecorder` (its header is rewritten after every chunk), so after `kill -9` every segment is a
valid WAV up to the last block written. Segments let the bound be kept by deleting whole files: the oldest go first,
and acknowledged audio is always the oldest. Offsets count captured bytes, the numbering of Gladia's acks.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import struct
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from gladia_cli.api import SESSION_ID
from gladia_cli.audio.format import PcmFormat
from gladia_cli.audio.recording import WavRecorder, wav_header
from gladia_cli.errors import UsageError

DEFAULT_MAX_MB = 2048
META = "meta.json"
_SEGMENT = re.compile(r"^(\d{15})\.wav$")
_MAX_SEGMENT_BYTES = 256 * 1024 * 1024
_META_EVERY = 1.0  # seconds between two metadata writes while recording


def state_dir() -> Path:
    """$XDG_STATE_HOME/gladia, else ~/.local/state/gladia (the XDG base directory spec's default)."""
    base = os.environ.get("XDG_STATE_HOME", "")
    root = Path(base) if base and Path(base).is_absolute() else Path.home() / ".local" / "state"
    return root / "gladia"


def journals_dir() -> Path:
    return state_dir() / "journals"


def _private_dir(path: Path) -> Path:
    """Create `path` (and our own parents) readable by the user alone: the audio of a meeting is private."""
    root = state_dir()
    ours = [path]
    if path.is_relative_to(root):
        parts = path.relative_to(root).parts
        ours = [root] + [root.joinpath(*parts[: i + 1]) for i in range(len(parts))]
    ours[0].parent.mkdir(parents=True, exist_ok=True)  # the XDG state dir itself is the system's, not ours
    for each in ours:
        if not each.is_dir():
            each.mkdir(mode=0o700, exist_ok=True)
            os.chmod(each, 0o700)  # whatever the umask: the session ids and audio below are the user's alone
    return path


def _new_journal_dir(base: Path, session_id: str) -> Path:
    """A directory this writer alone creates (mkdir fails on one that exists), so nothing another session keeps is
    ever reused, rewritten or removed: a server that hands out an id twice gets `ID+2` for the second journal ('+'
    is no id character, so it cannot be another session's own name)."""
    _private_dir(base)
    for n in range(1, 1000):
        path = base / (session_id if n == 1 else f"{session_id}+{n}")
        try:
            path.mkdir(mode=0o700)
        except FileExistsError:
            continue
        os.chmod(path, 0o700)
        return path
    raise FileExistsError(f"999 journals of session {session_id} already exist in {base}")


def check_session_id(session_id: str) -> str:
    """An id becomes a directory name: refuse anything that could walk out of the journals directory."""
    if not SESSION_ID.fullmatch(session_id):  # not match: `$` would let "abc\n" through
        raise UsageError(f"{session_id!r} is not a session id", hint="`gladia recover` lists the kept journals")
    return session_id


def _process_start(pid: int) -> str | None:
    """The kernel's start time of `pid` (Linux): tells a live owner from a new process that reused its pid."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2 :].split()
    return fields[19] if len(fields) > 19 else None


def _alive(pid: int, start: str | None) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    now = _process_start(pid)
    return start is None or now is None or now == start


def _write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    """Readers see the old file or the new one, never half of one."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(data, f)
    os.replace(tmp, path)


def _segment_name(offset: int) -> str:
    return f"{offset:015d}.wav"


def segment_bytes_for(max_bytes: int, fmt: PcmFormat) -> int:
    """An eighth of the bound (at most 256 MiB), in whole frames: the bound is kept to within one segment."""
    size = max(min(max_bytes // 8, _MAX_SEGMENT_BYTES), fmt.frame_bytes)
    return size - size % fmt.frame_bytes


class JournalWriter:
    """Appends captured audio to segment WAVs. `write` and `close` run on the producer thread; `acknowledged` runs
    on the receiver thread and only stores a number, which the next `write` (or `close`) puts in the metadata."""

    def __init__(
        self,
        session_id: str,
        fmt: PcmFormat,
        *,
        max_bytes: int = DEFAULT_MAX_MB * 1024 * 1024,
        root: Path | None = None,
        extra: dict[str, Any] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        check_session_id(session_id)
        self.session_id = session_id
        self._fmt = fmt
        self._max = max_bytes
        self._segment_max = segment_bytes_for(max_bytes, fmt)
        self._clock = clock
        try:
            self.directory = _new_journal_dir(root or journals_dir(), session_id)
        except OSError as exc:
            raise UsageError(
                f"cannot create the audio journal in {root or journals_dir()}: {exc.strerror or exc}",
                hint="set XDG_STATE_HOME to a writable directory, or pass `no_journal`",
            ) from None
        self._created: list[Path] = [self.directory / META]  # what discard() may remove: ours alone
        self._closed: deque[tuple[int, Path, int]] = deque()  # (offset, path, data bytes), oldest first
        self._current: WavRecorder | None = None
        self._current_offset = 0
        self._captured = 0
        self._held = 0  # data bytes in the kept segments
        self._acked = 0
        self._lost = 0  # unacknowledged bytes the bound made us delete
        self._meta_due = 0.0
        self._done = False
        self._meta: dict[str, Any] = {
            "version": 1,
            "session_id": session_id,
            "format": fmt.as_config(),
            "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "pid": os.getpid(),
            "pid_start": _process_start(os.getpid()),
            **(extra or {}),
        }
        self._write_meta()

    @property
    def captured(self) -> int:
        return self._captured

    @property
    def held_bytes(self) -> int:
        return self._held

    @property
    def unacknowledged_seconds(self) -> float:
        return self._fmt.seconds(max(0, self._captured - min(self._acked, self._captured)))

    def acknowledged(self, end: int) -> None:
        """Gladia has every byte before `end` (session numbering). Any thread; stale values are ignored."""
        if end > self._acked:
            self._acked = end

    def write(self, chunk: bytes) -> None:
        if not chunk or self._done:
            return
        if self._current is None or (
            self._current.bytes_written and self._current.bytes_written + len(chunk) > self._segment_max
        ):
            self._rotate()
        self._trim(len(chunk))
        assert self._current is not None
        self._current.write(chunk)
        self._captured += len(chunk)
        self._held += len(chunk)
        now = self._clock()
        if now >= self._meta_due:
            self._meta_due = now + _META_EVERY
            self._write_meta()

    def _rotate(self) -> None:
        if self._current is not None:
            self._current.close()
            self._closed.append((self._current_offset, self._current.path, self._current.bytes_written))
        self._current_offset = self._captured
        path = self.directory / _segment_name(self._captured)
        try:
            self._current = WavRecorder(path, self._fmt)
            self._created.append(path)
            os.chmod(path, 0o600)
        except (UsageError, OSError) as exc:
            message = exc.message if isinstance(exc, UsageError) else str(exc)
            raise UsageError(f"audio journal: {message}", hint="pass `no_journal` to go on without it") from None

    def _trim(self, incoming: int) -> None:
        """Delete whole segments, oldest first, until `incoming` more bytes fit the bound."""
        while self._closed and self._held + incoming > self._max:
            offset, path, size = self._closed.popleft()
            acked = min(self._acked, offset + size)
            self._lost += max(0, offset + size - max(acked, offset))
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            self._held -= size

    def _start(self) -> int:
        return self._closed[0][0] if self._closed else self._current_offset

    def _write_meta(self) -> None:
        self._meta.update(
            start_offset=self._start(),
            captured=self._captured,
            acked=min(self._acked, self._captured),
            lost_bytes=self._lost,
        )
        with contextlib.suppress(OSError):  # the segments are the journal; stale metadata only costs a resend
            _write_json_atomic(self.directory / META, self._meta)

    def close(self) -> None:
        """Keep the journal (the session did not end normally, or its end is not known yet)."""
        if self._done:
            return
        self._done = True
        if self._current is not None:
            self._current.close()
        self._write_meta()

    def discard(self) -> None:
        """The session ended normally: Gladia has everything, the journal is not needed. Only what this writer
        created goes: its segments, its metadata, then the directory if nothing else is in it."""
        self._done = True
        if self._current is not None:
            self._current.close()
        for path in self._created:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        with contextlib.suppress(OSError):
            self.directory.rmdir()


# --- reading -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    offset: int
    path: Path
    size: int  # data bytes the header vouches for (and the file holds)


@dataclass
class Journal:
    """A journal on disk, as `gladia recover` sees it."""

    directory: Path
    session_id: str
    fmt: PcmFormat
    created_at: str
    pid: int | None
    pid_start: str | None
    acked: int
    lost_bytes: int
    segments: list[Segment]
    meta: dict[str, Any]

    @property
    def start(self) -> int:
        return self.segments[0].offset if self.segments else 0

    @property
    def end(self) -> int:
        """The session offset after the last byte kept (segments are contiguous)."""
        return self.segments[-1].offset + self.segments[-1].size if self.segments else 0

    @property
    def in_use(self) -> bool:
        """Its process still runs (and is still that process): the session may go on; do not touch it."""
        return self.pid is not None and self.pid != os.getpid() and _alive(self.pid, self.pid_start)

    @property
    def recover_from(self) -> int:
        """The first byte Gladia did not acknowledge, on a frame boundary (rounded down: nothing is skipped)."""
        acked = min(max(self.acked, self.start), self.end)
        return acked - acked % self.fmt.frame_bytes

    @property
    def acked_seconds(self) -> float:
        return self.fmt.seconds(self.recover_from)

    @property
    def seconds(self) -> float:
        """The session's audio length as captured (not only what is kept)."""
        return self.fmt.seconds(self.end)

    @property
    def unacknowledged_seconds(self) -> float:
        return self.fmt.seconds(self.end - self.recover_from)

    def read(self, start: int, end: int | None = None, block: int = 1024 * 1024) -> Iterator[bytes]:
        """The audio bytes of [start, end) in session numbering (clipped to what is kept), in blocks."""
        end = self.end if end is None else min(end, self.end)
        header = len(wav_header(self.fmt, 0))
        for seg in self.segments:
            lo, hi = max(start, seg.offset), min(end, seg.offset + seg.size)
            if lo >= hi:
                continue
            with seg.path.open("rb") as f:
                f.seek(header + lo - seg.offset)
                left = hi - lo
                while left > 0:
                    data = f.read(min(block, left))
                    if not data:
                        break
                    left -= len(data)
                    yield data

    def cut(self, dest: Path, start: int | None = None) -> int:
        """Write [start (default: `recover_from`), end) as a WAV of the session's format; returns its data bytes."""
        begin = self.recover_from if start is None else start
        size = max(0, self.end - max(begin, self.start))
        fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(wav_header(self.fmt, size))
            written = 0
            for data in self.read(begin):
                f.write(data)
                written += len(data)
            if written & 1:
                f.write(b"\0")
        return written

    def remove(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)


def _data_size(path: Path, header: int) -> int:
    """What the header says the data holds, never more than the file has (a crash may cut the last block)."""
    try:
        with path.open("rb") as f:
            head = f.read(header)
            on_disk = os.fstat(f.fileno()).st_size - header
    except OSError:
        return 0
    if len(head) < header or head[:4] != b"RIFF":
        return 0
    (declared,) = struct.unpack("<I", head[header - 4 : header])
    return max(0, min(declared, on_disk))


def _count(value: Any) -> int:
    """A byte count from meta.json: a whole number of at least 0 (ValueError otherwise)."""
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"not a byte count: {value!r}")
    return value


def load(directory: Path) -> Journal | Unreadable | None:
    """The journal in `directory`, or None when it is not one (no metadata at all); `Unreadable` when its metadata
    is there but cannot be trusted (hand-edited, truncated, or from a future version)."""
    try:
        meta = json.loads((directory / META).read_text(encoding="utf-8"))
        f = meta["format"]
        fmt = PcmFormat(
            sample_rate=int(f["sample_rate"]),
            channels=int(f["channels"]),
            bit_depth=int(f["bit_depth"]),
            encoding=str(f["encoding"]),
        )
        if fmt.sample_rate <= 0 or fmt.channels <= 0 or fmt.bit_depth not in (8, 16, 24, 32):
            raise ValueError(f"not a format: {f!r}")
        acked, lost = _count(meta.get("acked")), _count(meta.get("lost_bytes"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError, RecursionError) as exc:
        return Unreadable(directory, f"unreadable {META} ({type(exc).__name__})")
    header = len(wav_header(fmt, 0))
    segments: list[Segment] = []
    for path in sorted(directory.iterdir()):
        match = _SEGMENT.match(path.name)
        if match:
            offset = int(match.group(1))
            if segments and offset != segments[-1].offset + segments[-1].size:
                # A gap (the last block before a rotation was cut): the later segments cannot be placed.
                break
            segments.append(Segment(offset, path, _data_size(path, header)))
    pid = meta.get("pid")
    return Journal(
        directory=directory,
        session_id=str(meta.get("session_id") or directory.name),
        fmt=fmt,
        created_at=str(meta.get("created_at") or ""),
        pid=pid if isinstance(pid, int) else None,
        pid_start=meta.get("pid_start") if isinstance(meta.get("pid_start"), str) else None,
        acked=acked,
        lost_bytes=lost,
        segments=segments,
        meta=meta,
    )


@dataclass(frozen=True)
class Unreadable:
    """A journal directory whose metadata cannot be read: listed (so it can be looked at or removed), not used."""

    directory: Path
    reason: str


def list_journals(root: Path | None = None) -> list[Journal]:
    """Every journal kept, oldest first (unreadable ones left out: `unreadable_journals` lists them)."""
    journals = [j for j in _loaded(root) if isinstance(j, Journal)]
    return sorted(journals, key=lambda j: j.created_at)


def unreadable_journals(root: Path | None = None) -> list[Unreadable]:
    return sorted((j for j in _loaded(root) if isinstance(j, Unreadable)), key=lambda j: j.directory.name)


def _loaded(root: Path | None) -> list[Journal | Unreadable]:
    base = root or journals_dir()
    try:
        entries = list(base.iterdir())
    except OSError:
        return []
    return [j for j in (load(d) for d in entries if d.is_dir()) if j is not None]


def find(session_id: str, root: Path | None = None) -> Journal:
    """The session's journal: its own directory, else the first kept under `ID+N` (an id Gladia gave twice)."""
    base = root or journals_dir()
    loaded = load(base / check_session_id(session_id))
    if isinstance(loaded, Unreadable):
        raise UsageError(
            f"the journal of {session_id} in {loaded.directory} has an {loaded.reason}",
            hint="its audio segments are WAV files there; move them away or delete the directory",
        )
    journal = (
        loaded if loaded is not None else next((j for j in list_journals(base) if j.session_id == session_id), None)
    )
    if journal is None:
        raise UsageError(f"no audio journal for session {session_id}", hint="`gladia recover` lists the kept ones")
    return journal
