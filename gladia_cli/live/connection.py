"""One WebSocket to a live session's url, and what belongs to it alone.

A reconnection makes a new `Connection` rather than resetting fields one by one: the resend point, whether it was
opened after Gladia took the stop, whether `stop_recording` went out on it, whether Gladia said anything on it.
The websocket module is imported only when a connection is opened.
"""

from __future__ import annotations

import contextlib
import json
import random
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from gladia_cli.errors import ApiError, AuthError, GladiaError

if TYPE_CHECKING:
    import websocket


@dataclass(frozen=True)
class ReconnectPolicy:
    """Exponential backoff with jitter, bounded in attempts (per outage) and in total time (per outage).

    `max_attempts` counts the tries of the first opening, its own included; so `retries` (one less) is both how often
    that first opening is retried and how many reconnections are tried after a drop: `--reconnect-attempts N` is
    `max_attempts=N + 1`, and N=0 means a drop ends the session at once.
    """

    max_attempts: int = 11
    max_seconds: float = 120.0
    base_delay: float = 0.3
    max_delay: float = 5.0
    connect_timeout: float = 10.0
    ack_timeout: float = 20.0  # no message at all for this long while audio waits for an ack: the link is dead

    @property
    def retries(self) -> int:
        return max(0, self.max_attempts - 1)

    def delay(self, attempt: int) -> float:
        return min(self.base_delay * 2 ** (attempt - 1), self.max_delay) * random.uniform(0.5, 1.0)


class Unreachable(Exception):
    """This try failed in a way another try may fix (refused, reset, 5xx, 429...); its message says which."""


class Refused(Exception):
    """Gladia refused the connection for good (401/403, another 4xx): retrying is futile."""

    def __init__(self, error: GladiaError) -> None:
        super().__init__(error.message)
        self.error = error


@dataclass(frozen=True)
class Received:
    """What one read gave: a frame, or `timeout` (nothing for the socket's timeout), or `dropped` (the link died),
    or `control` (a ping, answered by websocket-client, or a pong), or `too_large` (a message over the bound)."""

    kind: Literal["text", "binary", "close", "timeout", "dropped", "control", "too_large"]
    data: bytes = b""


# Far above any real message (a post_final_transcript of 3 hours is a few MB); a larger one is refused before its
# payload is read, so a server cannot make us hold 400 MB for one message.
MAX_MESSAGE_BYTES = 16 * 1024 * 1024


class MessageTooLarge(Exception):
    """A frame (or the fragments of one message) announced more than MAX_MESSAGE_BYTES."""


def _bound_messages(ws: websocket.WebSocket, limit: int) -> None:
    """Refuse a message over `limit` when its length is read, before its payload: websocket-client reads a frame
    whole and has no bound of its own. This reaches into its frame reader (`frame_buffer.recv_length` and
    `recv_frame`, stable since 1.0); `tests/test_hostile_server.py` fails if that ever moves."""
    import websocket

    reader = getattr(ws, "frame_buffer", None)
    if reader is None or not hasattr(reader, "recv_length"):
        return  # another socket (a test double); the bound's own test fails if websocket-client moves it
    read_length, read_frame = reader.recv_length, reader.recv_frame
    pending = [0]  # bytes of the fragments of the message being received

    def recv_length() -> None:
        read_length()
        if reader.length is not None and reader.length + pending[0] > limit:
            raise MessageTooLarge(reader.length + pending[0])

    def recv_frame() -> websocket.ABNF:
        frame = read_frame()
        if frame.opcode in (websocket.ABNF.OPCODE_TEXT, websocket.ABNF.OPCODE_BINARY, websocket.ABNF.OPCODE_CONT):
            pending[0] = 0 if frame.fin else pending[0] + len(frame.data)
        return frame

    reader.recv_length = recv_length  # type: ignore[method-assign]
    reader.recv_frame = recv_frame  # type: ignore[method-assign]


def _pong_quietly(ws: websocket.WebSocket) -> None:
    """websocket-client answers a ping from inside the read; a pong that cannot be written (the server closed right
    after pinging, its close frame still unread) made that read fail, and a session that had ended cleanly was
    taken for a dropped link. The pong is a courtesy: the next read tells what the link really is."""
    answer = getattr(ws, "pong", None)
    if answer is None:
        return  # another socket (a test double)

    def pong(payload: bytes | str) -> None:
        with contextlib.suppress(Exception):
            answer(payload)

    ws.pong = pong  # type: ignore[method-assign,assignment]


def _echo_close_quietly(ws: websocket.WebSocket) -> None:
    """websocket-client echoes a close frame from inside the read; when that echo cannot be written (Gladia ended
    the session while audio was still going out, and dropped the link right after its close), the read failed and
    the close it had read, with its code, was lost: an ended session looked like a dropped link. The echo is a
    courtesy too; the close frame is what matters."""
    answer = getattr(ws, "send_close", None)
    if answer is None:
        return

    def send_close(*args: Any, **kwargs: Any) -> None:
        with contextlib.suppress(Exception):
            answer(*args, **kwargs)

    ws.send_close = send_close  # type: ignore[method-assign]


def open_socket(url: str, policy: ReconnectPolicy) -> websocket.WebSocket:
    """One try at opening the socket; `Unreachable` or `Refused` when it fails."""
    import websocket

    try:
        ws = websocket.create_connection(
            url, timeout=policy.connect_timeout, enable_multithread=True, skip_utf8_validation=True
        )
        # A peer that stops reading or answering must fail a send or a read in bounded time, not block them forever;
        # the session tells a quiet server (post-processing) from a dead one.
        ws.settimeout(policy.ack_timeout)
        _bound_messages(ws, MAX_MESSAGE_BYTES)
        _pong_quietly(ws)
        _echo_close_quietly(ws)
    except websocket.WebSocketBadStatusException as exc:
        status = getattr(exc, "status_code", 0)
        if status in (401, 403):
            raise Refused(AuthError(f"Gladia refused the live connection ({status})")) from None
        if 400 <= status < 500 and status not in (408, 429):
            raise Refused(ApiError(f"Gladia refused the live connection ({status})", status=status)) from None
        busy = "busy" if status == 429 else "unavailable"
        raise Unreachable(f"Gladia is {busy} (it answered {status})") from None  # it was reached: not the network
    except (OSError, websocket.WebSocketException) as exc:
        raise Unreachable(f"cannot reach Gladia ({type(exc).__name__})") from None
    except Exception as exc:  # a url websocket-client cannot use (ValueError...): no retry fixes it
        raise Refused(ApiError(f"cannot open the live connection ({type(exc).__name__})")) from None
    return ws


class Connection:
    """An open socket and its per-connection state. The sender writes, the connection thread reads.

    Fields are read and written under the session's lock; the socket's own lock serialises the writes.
    """

    def __init__(self, ws: websocket.WebSocket, resend_from: int, *, after_stop: bool = False) -> None:
        self.ws = ws
        self.resend_from = resend_from  # the offset the first frame sent on this connection starts at
        self.after_stop = after_stop  # opened once Gladia had taken the stop: only there to hear post-processing
        self.stop_sent = False  # stop_recording went out on this connection
        self.heard = False  # Gladia sent anything at all on this connection

    def send_audio(self, frame: bytes) -> None:
        self.ws.send_bytes(frame)

    def send_stop(self) -> None:
        self.ws.send(json.dumps({"type": "stop_recording"}))

    def ping(self) -> None:
        """A keep-alive ping (Gladia's Python SDK sends one every 20 s); a link too far gone to take it is found out
        by the next read, not here."""
        with contextlib.suppress(Exception):
            self.ws.ping(b"gladia")

    def receive(self) -> Received:
        import websocket

        try:
            opcode, frame = self.ws.recv_data_frame(True)
        except websocket.WebSocketTimeoutException:
            return Received("timeout")
        except MessageTooLarge:
            return Received("too_large")
        except Exception:
            return Received("dropped")
        self.heard = True
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            return Received("close", frame.data)
        if opcode == websocket.ABNF.OPCODE_TEXT:
            return Received("text", frame.data)
        if opcode in (websocket.ABNF.OPCODE_PING, websocket.ABNF.OPCODE_PONG):
            return Received("control")  # websocket-client has answered the ping already
        return Received("binary", frame.data)

    def close_now(self, reason: bytes) -> None:
        """Close with 1000 and drop the link; a sender stuck in a send holds the socket's lock: then skip the frame."""
        lock = getattr(self.ws, "lock", None)
        # Probe the lock and let go: send_close takes it itself, and it is not reentrant.
        free = lock is None or lock.acquire(timeout=0.2)
        if free and lock is not None:
            lock.release()
        if free:
            with contextlib.suppress(Exception):
                self.ws.send_close(1000, reason)
        self.hard_close()

    def hard_close(self) -> None:
        """Wake a thread blocked in recv() too: websocket-client's shutdown() alone only closes the descriptor."""
        import socket

        sock = getattr(self.ws, "sock", None)
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(Exception):
            self.ws.shutdown()

    def half_close(self) -> None:
        """After a failed send: stop writing, but let the receiver read what already arrived (a final, an ack)."""
        import socket

        sock = getattr(self.ws, "sock", None)
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_WR)
