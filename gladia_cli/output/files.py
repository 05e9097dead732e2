"""Writing an output file the way a person expects: whole or not at all, and without trampling what is there.

A regular file (or a new one) is written beside itself and renamed over, so a crash never leaves half a transcript
or half a download at the final path. What the rename would break is handled first: a symlink is followed (the
link stays, its target gets the new content), and anything that is not a regular file (a FIFO, /dev/null,
/dev/stdout) is opened and written straight through, since renaming over it would replace the device itself.
A new file gets 0o666 minus the umask, like `>` in a shell (0600 when `private`: recorded speech); a replaced file
keeps its mode (and, if we may, owner).

A symlink another user owns is never followed (the rule of Linux's fs.protected_symlinks, held everywhere): in a
shared directory such as /tmp it would let them aim our write at any file we may write. Ours and root's are.
"""

from __future__ import annotations

import errno
import os
import secrets
import stat
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import BinaryIO

_BINARY: int = getattr(os, "O_BINARY", 0)  # Windows: no newline translation at the OS level
_CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _BINARY


def _link_chain(path: Path) -> Iterator[str]:
    """`path` (absolute), then each symlink's target in turn, at most 40 (the kernel's own limit)."""
    current = os.path.abspath(path)
    for _ in range(40):
        yield current
        if not os.path.islink(current):
            return
        current = os.path.join(os.path.dirname(current), os.readlink(current))


def foreign_link(path: Path) -> str | None:
    """The first symlink on `path`'s chain owned by neither this user nor root (None: every link is trusted)."""
    me = os.geteuid() if hasattr(os, "geteuid") else None
    if me is None:
        return None
    for link in _link_chain(path):
        try:
            info = os.lstat(link)
        except OSError:
            return None
        if stat.S_ISLNK(info.st_mode) and info.st_uid not in (me, 0):
            return link
    return None


def refuse_foreign_link(path: Path) -> None:
    """Raise PermissionError when writing `path` would follow a symlink another user planted."""
    link = foreign_link(path)
    if link is not None:
        raise PermissionError(errno.EACCES, f"{link} is a symbolic link owned by another user: not followed", str(path))


def exists(path: Path) -> bool:
    """Something is at `path`, a dangling symlink included (it would be written through, or replace its target)."""
    return os.path.lexists(path)


def _through_proc(path: Path) -> bool:
    """Does a link chain from `path` pass through /proc (as /dev/stdout and /dev/fd/N do)? Those name an open
    file description: the file must be written through them, since renaming over what they point at would leave
    the process's own stdout on an unlinked inode (and for a pipe, what they point at is no path at all)."""
    return any(
        os.path.islink(link) and os.path.realpath(os.path.dirname(link)).startswith("/proc/")
        for link in _link_chain(path)
    )


def _own_fd(path: Path) -> int | None:
    """The descriptor of this process that `path` names through /proc (/dev/stdout, /dev/fd/2, /proc/self/fd/N).

    Opening such a path again would start a new file description: a shell's `>>` (append) would be lost and
    `O_TRUNC` would wipe what the shell already wrote there. Writing to a duplicate of the descriptor keeps both.
    """
    own = ("/proc/self/fd", f"/proc/{os.getpid()}/fd")
    for link in _link_chain(path):
        name = os.path.basename(link)
        if name.isdigit() and os.path.realpath(os.path.dirname(link)) in own:
            return int(name)
    return None


def write_problem(path: Path) -> str | None:
    """Why writing `path` would fail, checked the way `replace_file` will write it (None: it should work).

    The temporary file goes beside the final target (a symlink's target, not the link), so that directory must be
    writable; a FIFO or device is written in place, so only the node itself must be.
    """
    path = Path(path)
    if _own_fd(path) is not None:
        return None
    link = foreign_link(path)
    if link is not None:
        return f"{link} is a symbolic link owned by another user: not followed"
    try:
        old: os.stat_result | None = os.stat(path)
    except FileNotFoundError:
        old = None
    except OSError as exc:
        return exc.strerror or str(exc)
    if old is not None and stat.S_ISDIR(old.st_mode):
        return "it is a directory"
    if old is not None and not stat.S_ISREG(old.st_mode):
        return None if os.access(path, os.W_OK) else "permission denied"
    try:
        target = resolve_target(path)
    except OSError as exc:
        return exc.strerror or str(exc)
    if not target.parent.is_dir():
        return f"directory not found: {target.parent}"
    if not os.access(target.parent, os.W_OK) or (old is not None and not os.access(target, os.W_OK)):
        return "permission denied"
    return None


def resolve_target(path: Path) -> Path:
    """Where a renamed-over file should land: a symlink's final target (which may not exist yet), else `path`.

    Raises ELOOP for a symlink loop rather than letting a rename replace the link.
    """
    if not os.path.islink(path):
        return Path(path)
    target = Path(os.path.realpath(path))
    if os.path.islink(target):  # realpath gives up on a loop and hands back a link
        raise OSError(errno.ELOOP, os.strerror(errno.ELOOP), str(path))
    return target


def _create_temp(target: Path, mode: int = 0o666) -> tuple[int, Path]:
    """A fresh file beside `target`, created with `mode` so the process umask decides the rest (mkstemp forces
    0600, and changing the umask would race with other threads)."""
    for _ in range(100):
        tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.part")
        try:
            return os.open(tmp, _CREATE_FLAGS, mode), tmp
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temporary file name", str(target.parent))


def _copy_identity(fd: int, tmp: Path, old: os.stat_result) -> None:
    """Give the replacement the old file's owner (best effort: only root or a group member may) and mode."""
    new = os.fstat(fd)
    if hasattr(os, "fchown") and (old.st_uid, old.st_gid) != (new.st_uid, new.st_gid):
        try:
            os.fchown(fd, old.st_uid, old.st_gid)
        except OSError:
            with suppress(OSError):
                os.fchown(fd, -1, old.st_gid)
    mode = stat.S_IMODE(old.st_mode)
    if hasattr(os, "fchmod"):
        os.fchmod(fd, mode)  # after chown, which may clear set-id bits
    else:
        os.chmod(tmp, mode)


@contextmanager
def replace_file(path: Path, *, private: bool = False) -> Iterator[BinaryIO]:
    """Yield a binary file; when the block ends normally, its content is at `path` (see the module docstring).

    On an exception nothing changes at a regular file's path and no temporary file is left behind; a FIFO or
    device has of course already received what was written.
    """
    path = Path(path)
    refuse_foreign_link(path)
    try:
        old: os.stat_result | None = os.stat(path)  # through any symlinks
    except FileNotFoundError:
        old = None
    if old is not None and stat.S_ISDIR(old.st_mode):
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
    fd_number = _own_fd(path)
    if fd_number is not None:
        # Our own stdout/stderr/fd N: write where the shell pointed it, at its offset and in its mode (`>>`),
        # after whatever Python still buffers for it.
        for stream in (sys.stdout, sys.stderr):
            with suppress(Exception):
                stream.flush()
        with os.fdopen(os.dup(fd_number), "wb") as own:
            yield own
        return
    if old is not None and (not stat.S_ISREG(old.st_mode) or _through_proc(path)):
        # No O_CREAT: if it vanished meanwhile, fail rather than create a file non-atomically. O_TRUNC only for
        # a regular file (stdout redirected to one), as a shell's `>` would.
        flags = os.O_WRONLY | _BINARY | (os.O_TRUNC if stat.S_ISREG(old.st_mode) else 0)
        with os.fdopen(os.open(path, flags), "wb") as through:
            yield through
        return
    target = resolve_target(path)
    fd, tmp = _create_temp(target, 0o600 if private else 0o666)
    try:
        if old is not None:
            _copy_identity(fd, tmp, old)
        with os.fdopen(fd, "wb") as out:
            fd = -1  # the file object owns it now
            yield out
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
    except BaseException:
        if fd != -1:
            os.close(fd)
        tmp.unlink(missing_ok=True)
        raise


def write_text(path: Path, text: str) -> None:
    """All of `text` (UTF-8, platform newlines as a text-mode file would write) to `path` via `replace_file`."""
    write_chunks(path, (text,))


def write_chunks(path: Path, chunks: Iterable[str]) -> None:
    """`write_text` for text made piece by piece: each piece written as it comes, the file replaced at the end."""
    with replace_file(path) as out:
        for chunk in chunks:
            out.write(chunk.replace("\n", os.linesep).encode("utf-8"))
