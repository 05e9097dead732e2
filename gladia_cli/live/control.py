"""The control socket of a running `gladia listen`: what `gladia ctl` (a window manager's hotkey, a status bar, a
push-to-talk key) talks to, from outside the terminal.

One Unix socket per recording, `$XDG_RUNTIME_DIR/gladia/PID.sock` (else a private directory under the temporary
one): the directory 0700, the socket 0600, and on Linux a connection from another user is refused by its peer
credentials as well. The protocol is one JSON object per line: a request `{"command": "pause"}` (or `mute`/
`unmute`/`bookmark` with `"arg"`), an answer `{"ok": true, "status": {...}}` or `{"ok": false, "error": "..."}`;
`{"command": "status", "follow": true}` keeps the connection and writes a status line at every change, and once
a second while the numbers move, until the recording ends.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import select
import socket
import struct
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

from gladia_cli.errors import GladiaError, UsageError
from gladia_cli.live.steering import COMMANDS, Steering, SteeringStatus

MAX_REQUEST_BYTES = 4096
FOLLOW_EVERY = 1.0  # seconds between two follow lines while only the numbers move
_TIMEOUT = 5.0


def control_dir(create: bool = False) -> Path:
    """Where the sockets live: private to this user (refused if anyone else could enter it)."""
    runtime = os.environ.get("XDG_RUNTIME_DIR", "").strip()
    base = Path(runtime) / "gladia" if runtime else Path(tempfile.gettempdir()) / f"gladia-{os.getuid()}"
    if create:
        base.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        info = base.lstat()
    except FileNotFoundError:
        return base
    if not base.is_dir() or base.is_symlink() or info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise UsageError(f"{base} is not a private directory of this user", hint="remove it, or set XDG_RUNTIME_DIR")
    return base


def _peer_uid(conn: socket.socket) -> int | None:
    option = getattr(socket, "SO_PEERCRED", None)
    if option is None:
        return None  # elsewhere the 0700 directory and the 0600 socket keep other users out
    data = conn.getsockopt(socket.SOL_SOCKET, option, struct.calcsize("3i"))
    _, uid, _ = struct.unpack("3i", data)
    return int(uid)


def status_dict(status: SteeringStatus, session: dict[str, Any]) -> dict[str, Any]:
    """The JSON of `gladia ctl status --json`: the session's part, then the steering's."""
    out = dict(session)
    out.update(
        paused=status.paused,
        muted=list(status.muted),
        inputs=list(status.inputs),
        recorded_seconds=round(status.recorded_seconds, 2),
        billed_minutes=round(status.billed_minutes, 3),
        cost=None if status.cost is None else round(status.cost, 4),
        stop_requested=status.stop_requested,
        marks=[{k: v for k, v in asdict(m).items() if v is not None} for m in status.marks],
    )
    if status.paused and out.get("state") == "streaming":
        out["state"] = "paused"
    return out


class ControlServer:
    """Serves one Steering on a socket; owned (started, closed, its threads joined) by the run."""

    def __init__(self, steering: Steering) -> None:
        self.steering = steering
        self.path: Path | None = None
        self._session: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._followers: list[queue.Queue[Any]] = []  # woken at a change of state, and at the end
        self._sock: socket.socket | None = None
        self._wake_r, self._wake_w = os.pipe()  # wakes the accept loop at close: no polling while idle
        self._threads: list[threading.Thread] = []

    def start(self) -> Path:
        directory = control_dir(create=True)
        path = directory / f"{os.getpid()}.sock"
        with contextlib.suppress(FileNotFoundError):
            path.unlink()  # a socket left by a killed process of the same pid
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old = os.umask(0o177)
        try:
            sock.bind(str(path))
        finally:
            os.umask(old)
        os.chmod(path, 0o600)
        sock.listen(8)
        self._sock, self.path = sock, path
        thread = threading.Thread(target=self._accept, name="gladia-control", daemon=True)
        self._threads.append(thread)
        thread.start()
        return path

    def publish(self, session: dict[str, Any]) -> None:
        """The session's part of the status (state, seconds sent, lag, levels, id), from the owner's loop; a new
        state wakes the followers at once (the numbers wait for their once-a-second line)."""
        with self._lock:
            changed = session.get("state") != self._session.get("state")
            self._session = dict(session)
            followers = list(self._followers) if changed else []
        for q in followers:
            with contextlib.suppress(queue.Full):
                q.put_nowait(None)

    def close(self) -> None:
        self._closed.set()
        with self._lock:
            followers = list(self._followers)
        for q in followers:
            with contextlib.suppress(queue.Full):
                q.put_nowait(None)
        with contextlib.suppress(OSError):
            os.write(self._wake_w, b"x")
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.close()
        if self.path is not None:
            with contextlib.suppress(OSError):
                self.path.unlink()
        for thread in list(self._threads):
            if thread is not threading.current_thread():
                thread.join(timeout=2)
        for fd in (self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                os.close(fd)

    # -- internals --

    def _status(self) -> dict[str, Any]:
        with self._lock:
            session = dict(self._session)
        return status_dict(self.steering.status(), session)

    def _accept(self) -> None:
        assert self._sock is not None
        while not self._closed.is_set():
            try:
                ready, _, _ = select.select([self._sock.fileno(), self._wake_r], [], [])
                if self._wake_r in ready or self._closed.is_set():
                    return
                conn, _ = self._sock.accept()
            except (OSError, ValueError):
                return
            uid = _peer_uid(conn)
            if uid is not None and uid != os.getuid():
                with contextlib.suppress(OSError):
                    conn.sendall(b'{"ok": false, "error": "refused: another user"}\n')
                conn.close()
                continue
            thread = threading.Thread(target=self._serve, args=(conn,), name="gladia-control-client", daemon=True)
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]
            thread.start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(_TIMEOUT)
            try:
                request = _read_line(conn)
                answer, follow = self._answer(request)
                conn.sendall(_line(answer))
                if follow and answer.get("ok"):
                    self._follow(conn)
            except (OSError, ValueError):
                return

    def _answer(self, request: Any) -> tuple[dict[str, Any], bool]:
        if not isinstance(request, dict) or request.get("command") not in COMMANDS:
            return {"ok": False, "error": f"unknown request; the commands are {', '.join(COMMANDS)}"}, False
        command, arg = request["command"], request.get("arg")
        arg = arg if isinstance(arg, str) else ""
        steering = self.steering
        try:
            if command == "pause":
                steering.pause()
            elif command == "resume":
                steering.resume()
            elif command == "toggle":
                steering.toggle()
            elif command in ("mute", "unmute"):
                steering.mute(arg, command == "mute")
            elif command == "bookmark":
                steering.bookmark(arg)
            elif command == "stop":
                steering.stop()
        except GladiaError as exc:
            return {"ok": False, "error": exc.message}, False
        return {"ok": True, "status": self._status()}, command == "status" and bool(request.get("follow"))

    def _follow(self, conn: socket.socket) -> None:
        # One queue wakes it: the steering's changes, the session's new states, and the end.
        woken: queue.Queue[Any] = self.steering.follow()
        with self._lock:
            self._followers.append(woken)
        try:
            last = self._status()
            sent_at = time.monotonic()
            while not self._closed.is_set():
                with contextlib.suppress(queue.Empty):
                    woken.get(timeout=max(0.0, sent_at + FOLLOW_EVERY - time.monotonic()))
                    while True:
                        woken.get_nowait()
                current = self._status()
                due = time.monotonic() - sent_at >= FOLLOW_EVERY
                if _shape(current) != _shape(last) or (due and current != last):
                    conn.sendall(_line(current))
                    last, sent_at = current, time.monotonic()
                elif due:
                    sent_at = time.monotonic()
            conn.sendall(_line({**self._status(), "state": "done"}))
        finally:
            self.steering.unfollow(woken)
            with self._lock:
                if woken in self._followers:
                    self._followers.remove(woken)


def _shape(status: dict[str, Any]) -> tuple[Any, ...]:
    """What makes a change worth a line at once (the numbers that move every tick wait for FOLLOW_EVERY)."""
    return (status.get("state"), status.get("paused"), tuple(status.get("muted", ())), len(status.get("marks", ())))


def _line(data: dict[str, Any]) -> bytes:
    return (json.dumps(data, ensure_ascii=True) + "\n").encode()


def _read_line(conn: socket.socket) -> Any:
    data = b""
    while b"\n" not in data:
        piece = conn.recv(MAX_REQUEST_BYTES)
        if not piece:
            break
        data += piece
        if len(data) > MAX_REQUEST_BYTES:
            raise ValueError("request too long")
    return json.loads(data.split(b"\n", 1)[0] or b"null")


# -- the client side (`gladia ctl`) ---------------------------------------------------------------------------------


def running() -> list[Path]:
    """The sockets of recordings running now (a socket nobody answers is a killed run's, and is removed)."""
    directory = control_dir()
    if not directory.is_dir():
        return []
    alive = []
    for path in sorted(directory.glob("*.sock")):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
            probe.settimeout(1.0)
            try:
                probe.connect(str(path))
            except (ConnectionRefusedError, FileNotFoundError):
                with contextlib.suppress(OSError):
                    path.unlink()
                continue
            except OSError:
                continue
            with contextlib.suppress(OSError):
                probe.sendall(b"{}\n")
        alive.append(path)
    return alive


def pick(session: str | None, paths: list[Path] | None = None) -> Path:
    """The socket of the one recording running, or of the one whose session id (or pid) starts with `session`;
    `paths`: the sockets `running()` already found."""
    paths = running() if paths is None else paths
    if not paths:
        raise UsageError("no `gladia listen` is running", hint="start one; `gladia ctl` steers it from elsewhere")
    if session is None:
        if len(paths) > 1:
            ids = ", ".join(_describe(path) for path in paths)
            raise UsageError(f"{len(paths)} recordings are running: {ids}", hint="pick one with --session ID")
        return paths[0]
    matches = [
        p for p in paths if p.stem.startswith(session) or any(sid.startswith(session) for sid in _session_ids(p))
    ]
    if len(matches) != 1:
        what = "matches several recordings" if matches else "matches no running recording"
        raise UsageError(f"--session {session!r} {what}", hint="`gladia ctl status` lists them")
    return matches[0]


def request(path: Path, command: str, arg: str | None = None) -> dict[str, Any]:
    """Send one command; the status after it. Raises UsageError with the recording's own refusal."""
    with _connect(path) as conn:
        conn.sendall(_line({"command": command, **({"arg": arg} if arg is not None else {})}))
        answer = _read_answer(conn)
    if not answer.get("ok"):
        raise UsageError(str(answer.get("error") or "the recording refused the request"))
    status = answer.get("status")
    return status if isinstance(status, dict) else {}


def follow(path: Path) -> Iterator[dict[str, Any]]:
    """The status now, then at every change, until the recording ends."""
    with _connect(path) as conn:
        conn.sendall(_line({"command": "status", "follow": True}))
        conn.settimeout(None)
        buffered = b""
        while True:
            ready, _, _ = select.select([conn], [], [], 1.0)
            if not ready:
                continue
            piece = conn.recv(65536)
            if not piece:
                return
            buffered += piece
            while b"\n" in buffered:
                line, buffered = buffered.split(b"\n", 1)
                data = json.loads(line)
                if isinstance(data, dict) and "ok" in data:
                    if not data["ok"]:
                        raise UsageError(str(data.get("error")))
                    data = data.get("status") or {}
                if isinstance(data, dict):
                    yield data


@contextlib.contextmanager
def _connect(path: Path) -> Iterator[socket.socket]:
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.settimeout(_TIMEOUT)
    try:
        conn.connect(str(path))
    except OSError as exc:
        conn.close()
        raise UsageError(f"cannot reach the recording at {path}: {exc.strerror or exc}") from None
    try:
        yield conn
    finally:
        conn.close()


def _read_answer(conn: socket.socket) -> dict[str, Any]:
    data = b""
    while b"\n" not in data:
        piece = conn.recv(65536)
        if not piece:
            break
        data += piece
    try:
        answer = json.loads(data.split(b"\n", 1)[0])
    except ValueError:
        raise UsageError("the recording gave no answer") from None
    return answer if isinstance(answer, dict) else {}


def _session_ids(path: Path) -> list[str]:
    """Every Gladia session of the recording (one past Gladia's limit went on in new ones), the current last."""
    try:
        status = request(path, "status")
    except UsageError:
        return []
    listed = status.get("sessions")
    if isinstance(listed, list) and listed:
        return [str(x) for x in listed]
    return [str(status["session_id"])] if status.get("session_id") else []


def _describe(path: Path) -> str:
    ids = _session_ids(path)
    return f"{ids[-1]} (pid {path.stem})" if ids else f"pid {path.stem}"


def describe_all(paths: list[Path]) -> list[dict[str, Any]]:
    """Each running recording's status, for `gladia ctl status` with several running."""
    out = []
    for path in paths:
        with contextlib.suppress(UsageError):
            out.append({"pid": int(path.stem) if path.stem.isdigit() else path.stem, **request(path, "status")})
    return out
