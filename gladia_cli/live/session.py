"""The live session: producer, sender and connection threads around one resumable WebSocket; emits events, never prints.

Shutdown is a small state machine: STREAMING -> STOPPING (no more audio wanted; the producer drains what the source
already captured) -> FINISHING (stop_recording sent; waiting for post-processing and close 1000) -> DONE.
A connection that drops is reopened on the same url with backoff; every byte Gladia has not acknowledged is kept in
an `AudioBuffer` and resent first, and the microphone keeps capturing meanwhile.
"""

from __future__ import annotations

import contextlib
import json
import queue
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any

from gladia_cli.audio.format import AudioSource, PcmFormat
from gladia_cli.errors import ApiError, AuthError, GladiaError, NetworkError, UsageError
from gladia_cli.live.buffer import AudioBuffer

if TYPE_CHECKING:
    import websocket

MAX_FRAME_BYTES = 512 * 1024  # Gladia closes with 1009 above 1 MiB; resends are split well under it.
_END = None  # end-of-audio marker in the audio queue
# Messages that only come once the recording is over (the lifecycle order of the API reference, §3.4): even with
# acknowledgments off, they tell that Gladia got the stop and is post-processing.
_POST_PROCESSING_TYPES = frozenset(
    {
        "end_recording",
        "post_transcript",
        "post_summarization",
        "post_chapterization",
        "post_final_transcript",
        "end_session",
    }
)
_NO_ANSWER = "no answer (ack timeout)"  # the reason _receive gives for a link it gave up on: no close frame came


class State(Enum):
    CONNECTING = "connecting"
    STREAMING = "streaming"
    STOPPING = "stopping"
    FINISHING = "finishing"
    DONE = "done"


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


# --- events -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StateChanged:
    state: State


@dataclass(frozen=True)
class ServerMessage:
    """Every message the server sent, decoded; `is_ack` lets the renderer hide acks nobody asked for."""

    message: dict[str, Any]
    is_ack: bool


@dataclass(frozen=True)
class Transcript:
    utterance_id: str
    channel: int
    text: str
    is_final: bool
    start: float | None
    end: float | None
    language: str | None


@dataclass(frozen=True)
class Translation:
    utterance_id: str
    target_language: str
    text: str


@dataclass(frozen=True)
class Notice:
    """Something the user should know that does not end the session."""

    text: str


@dataclass(frozen=True)
class Progress:
    seconds_sent: float
    seconds_acked: float
    seconds_buffered: float = 0.0
    connected: bool = True
    attempt: int = 0  # the retry or reconnection being tried or waited for, 1..attempts; 0 for the very first try
    attempts: int = 0
    reconnecting: bool = False  # the link was open once and dropped (else: the first opening, with its retries)
    post_processing: bool = False  # Gladia acknowledged stop_recording or said post-processing started


@dataclass(frozen=True)
class Ended:
    """The last event. `error` is None on a clean end (close 1000 after stop)."""

    close_code: int | None
    reason: str
    error: GladiaError | None
    final_result: dict[str, Any] | None = None
    summary: str | None = None
    undelivered_seconds: float = 0.0
    reconnections: int = 0


Event = StateChanged | ServerMessage | Transcript | Translation | Notice | Progress | Ended


# --- close codes ----------------------------------------------------------------------------------------------------


def is_retryable(code: int | None) -> bool:
    """Gladia's rule: 1000 is the end; 1001 and 4400-4499 mean do not retry; anything else may be resumed."""
    if code is None:
        return True
    return code not in (1000, 1001) and not 4400 <= code <= 4499


def close_error(code: int | None, reason: str) -> GladiaError:
    """The error (and exit code) for a close that ends the session without a result."""
    detail = f"code {code}" + (f": {reason}" if reason else "")
    if code in (4401, 4403):
        return AuthError(f"Gladia refused the live connection ({detail})")
    if code is not None and 4400 <= code <= 4499:
        return ApiError(f"Gladia ended the session ({detail})")
    if code == 1001:
        return NetworkError(f"Gladia went away ({detail})")
    return NetworkError(f"the live connection was lost ({detail})")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _parse_close(frame_data: bytes) -> tuple[int | None, str]:
    if len(frame_data) < 2:
        return None, ""
    return int.from_bytes(frame_data[:2], "big"), frame_data[2:].decode("utf-8", "replace")


def _hard_close(ws: websocket.WebSocket | None) -> None:
    """Wake a thread blocked in recv() too: websocket-client's shutdown() alone only closes the descriptor."""
    if ws is None:
        return
    import socket

    sock = getattr(ws, "sock", None)
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(Exception):
        ws.shutdown()


def _half_close(ws: websocket.WebSocket) -> None:
    """After a failed send: stop writing, but let the receiver read what already arrived (a final, an ack)."""
    import socket

    sock = getattr(ws, "sock", None)
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_WR)


class _Fatal(Exception):
    def __init__(self, error: GladiaError) -> None:
        self.error = error


# --- the session ----------------------------------------------------------------------------------------------------


class LiveSession:
    """Streams `source` to an already-created Gladia live session and reports what happens as events.

    The owner calls `start()`, reads `events` until `Ended`, and calls `join()`; `request_stop()` and `abort()` may be
    called from any thread (not from a signal handler: they take locks). `on_audio` sees every captured chunk first
    (e.g. to save it locally).
    """

    def __init__(
        self,
        *,
        session_id: str,
        url: str,
        source: AudioSource,
        fmt: PcmFormat,
        duration: float | None = None,
        policy: ReconnectPolicy | None = None,
        buffer_seconds: float = 300.0,
        on_audio: Callable[[bytes], None] | None = None,
        emit_messages: bool = True,
        emit_acks: bool = True,
    ) -> None:
        self.session_id = session_id
        self._url = url
        self._source = source
        self._fmt = fmt
        self._policy = policy or ReconnectPolicy()
        self._limit = None if duration is None else int(duration * fmt.sample_rate) * fmt.frame_bytes
        self._on_audio = on_audio
        self._audio: queue.Queue[bytes | None] = queue.Queue(maxsize=64)
        self._buffer_max = max(int(buffer_seconds * fmt.bytes_per_second), fmt.chunk_bytes(1000))
        self._buffer = AudioBuffer(self._buffer_max)
        self._chunk_hint = fmt.chunk_bytes(100)
        self._max_frame = MAX_FRAME_BYTES - MAX_FRAME_BYTES % fmt.frame_bytes  # whole samples in every frame
        self._lossless = getattr(source, "can_wait", True)
        self._emit_messages = emit_messages
        self._emit_acks = emit_acks
        self._wake = threading.Event()  # the sender has something new to look at
        self.events: queue.Queue[Event] = queue.Queue()
        self._state = State.CONNECTING
        self._lock = threading.Lock()  # guards _state, _attempt, _reconnecting, _stop_*, _post_processing, _ended
        self._send_lock = threading.Lock()  # one connection swap or one send at a time
        self._ws: websocket.WebSocket | None = None
        self._connected = threading.Event()
        self._audio_done = threading.Event()  # the producer has queued its last chunk
        self._stop_wanted = threading.Event()
        self._aborted = threading.Event()
        self._closed = threading.Event()  # the session is over: threads wind down
        self._threads: list[threading.Thread] = []
        self._attempt = 0
        self._reconnecting = False
        self._stop_sent = False
        self._stop_acked = False
        self._post_processing = False
        self._stop_sent_ever = False
        self._first_frame = 0  # bytes of the first frame sent on the current connection
        self._resend_from = 0
        self._reconnections = 0
        self._skew: int | None = None
        self._ended = False
        self._finals_seen: set[tuple[int, str]] = set()
        self._final_times: set[tuple[int, float, float]] = set()
        self._final_result: dict[str, Any] | None = None
        self._summary: str | None = None

    # -- control (any thread) --

    @property
    def ended(self) -> bool:
        with self._lock:
            return self._ended

    @property
    def state(self) -> State:
        with self._lock:
            return self._state

    def _set_state(self, state: State) -> None:
        with self._lock:
            if self._state == state or self._state == State.DONE:
                return
            self._state = state
        self.events.put(StateChanged(state))

    def request_stop(self) -> None:
        """First Ctrl-C: stop capturing, send what was captured, then stop_recording; results still arrive."""
        if self._stop_wanted.is_set():
            return
        self._stop_wanted.set()
        self._source.close()
        if self.state in (State.STREAMING, State.CONNECTING):
            self._set_state(State.STOPPING)

    def abort(self) -> None:
        """Second Ctrl-C: close at once with 1000 so Gladia still ends and processes the session server-side."""
        self._aborted.set()
        self._stop_wanted.set()
        self._wake.set()
        self._source.close()
        ws = self._ws
        lock = getattr(ws, "lock", None)
        # A sender stuck in a send holds the socket's lock: then skip the close frame rather than wait behind it.
        # (Probe the lock and let go: send_close takes it itself, and it is not reentrant.)
        free = lock is None or lock.acquire(timeout=0.2)
        if free and lock is not None:
            lock.release()
        if ws is not None and free:
            with contextlib.suppress(Exception):
                ws.send_close(1000, b"aborted by user")
        _hard_close(ws)

    def progress(self) -> Progress:
        buf = self._buffer
        with self._lock:
            attempt, reconnecting, post_processing = self._attempt, self._reconnecting, self._post_processing
        return Progress(
            seconds_sent=self._fmt.seconds(buf.numbered),
            seconds_acked=self._fmt.seconds(buf.acked),
            seconds_buffered=self._fmt.seconds(buf.pending_bytes),
            connected=self._connected.is_set(),
            attempt=attempt,
            attempts=self._policy.retries,
            reconnecting=reconnecting,
            post_processing=post_processing,
        )

    # -- lifecycle --

    def start(self) -> None:
        for name, target in (("producer", self._produce), ("sender", self._send), ("connection", self._connection)):
            thread = threading.Thread(target=target, name=f"gladia-{name}", daemon=True)
            self._threads.append(thread)
            thread.start()

    def join(self, timeout: float = 5.0) -> None:
        self._closed.set()
        self._wake.set()
        self._source.close()
        _hard_close(self._ws)
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    # -- producer: source -> audio queue --

    def _produce(self) -> None:
        """Read the source into the audio queue, enforcing --duration and the declared frame size."""
        taken = 0
        frame = self._fmt.frame_bytes
        try:
            for chunk in self._source.chunks():
                if len(chunk) % frame:
                    raise UsageError(
                        f"audio chunk of {len(chunk)} bytes is not whole {self._fmt.describe()} frames",
                        hint="this is a bug in gladia; please report it",
                    )
                last = self._limit is not None and taken + len(chunk) >= self._limit
                if last and self._limit is not None:
                    chunk = chunk[: self._limit - taken]
                taken += len(chunk)
                if chunk:
                    if self._on_audio is not None:
                        self._on_audio(chunk)
                    if not self._put_audio(chunk):
                        return
                if last:
                    break
        except GladiaError as exc:
            self._end(None, "", exc)
            return
        except Exception as exc:  # a broken device or decoder must still end the session cleanly
            self._end(None, "", UsageError(f"audio input failed ({type(exc).__name__}: {exc})"))
            return
        finally:
            self._source.close()
        self._put_audio(_END)

    def _put_audio(self, chunk: bytes | None) -> bool:
        while not self._closed.is_set():
            try:
                self._audio.put(chunk, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    # -- sender: audio queue -> buffer -> socket --

    def _send(self) -> None:
        while not self._closed.is_set() and not self._aborted.is_set():
            moved = self._take_audio(wait=False)
            if self._connected.is_set() and self._send_some():
                continue
            if not moved:
                self._idle()

    def _idle(self) -> None:
        """Nothing to send: sleep until audio, an ack, a (re)connection or the end arrives (50 ms at most)."""
        waiting_for_link = not self._connected.is_set() and self._buffer.pending_bytes > 0
        if not self._audio_done.is_set() and self._has_room() and not waiting_for_link:
            self._take_audio(wait=True)
        else:
            self._wake.wait(0.05)
            self._wake.clear()

    def _has_room(self) -> bool:
        # A source that can wait (a file) is never dropped from: it waits for acks to make room. A microphone cannot
        # wait, so its audio is always taken, and past the bound the oldest is dropped, with a warning.
        return not self._lossless or self._buffer.held_bytes + self._chunk_hint <= self._buffer_max

    def _take_audio(self, *, wait: bool) -> bool:
        """Move captured audio into the buffer, as much as fits; True if anything moved."""
        moved = False
        timeout = 0.05 if wait else 0.0
        while self._has_room():
            try:
                chunk = self._audio.get(timeout=timeout) if timeout else self._audio.get_nowait()
            except queue.Empty:
                return moved
            timeout = 0.0
            moved = True
            if chunk is _END:
                self._audio_done.set()
                self._stop_wanted.set()
                return moved
            dropped = self._buffer.append(chunk, may_drop=not self._lossless)
            if dropped:
                self.events.put(
                    Notice(
                        f"buffer full: dropped the oldest {self._fmt.seconds(dropped):.1f} s of audio "
                        f"({self._fmt.seconds(self._buffer.dropped_bytes):.1f} s in all)"
                    )
                )
        return moved

    def _send_some(self) -> bool:
        """Send one frame (or the stop); False when there was nothing to do."""
        with self._send_lock:
            ws = self._ws if self._connected.is_set() else None
            if ws is None:
                return False
            frame = self._buffer.next_frame(self._max_frame)
            try:
                if frame is not None:
                    with self._lock:
                        if self._first_frame == 0:
                            self._first_frame = len(frame[1])
                    ws.send_bytes(frame[1])
                    return True
                if self._audio_done.is_set() and self._audio.empty():
                    with self._lock:
                        if self._stop_sent or self._stop_acked:
                            return False
                        self._stop_sent = True
                        self._stop_sent_ever = True
                    self._set_state(State.FINISHING)
                    ws.send(json.dumps({"type": "stop_recording"}))
                    return True
            except Exception:
                # The connection thread notices the dead socket and reconnects; the buffer still has the frame.
                self._connected.clear()
                _half_close(ws)
            return False

    def _waiting_for_gladia(self) -> bool:
        """Something sent is still unacknowledged: silence now means a dead link, not post-processing."""
        with self._lock:
            if self._stop_acked:
                return False
            stop_pending = self._stop_sent
        return stop_pending or self._buffer.numbered > self._buffer.acked

    # -- connection: connect, receive, reconnect --

    def _connection(self) -> None:
        code: int | None = None
        reason = ""
        first = True
        silent_streak = 0  # connections in a row on which Gladia said nothing at all
        reconnections = 0
        silent_since = 0.0
        while not self._closed.is_set():
            try:
                ws = self._connect(first)
            except _Fatal as fatal:
                self._end(code, reason, fatal.error)
                return
            if ws is None:  # aborted or closed while connecting
                self._end(code, reason, None if self._aborted.is_set() else close_error(code, reason))
                return
            if not first:
                reconnections += 1
                with self._lock:
                    self._reconnections = reconnections
                self.events.put(Notice("reconnected; resending what Gladia had not acknowledged"))
            first = False
            code, reason, heard = self._receive(ws)
            self._connected.clear()
            _hard_close(ws)
            if self._aborted.is_set():
                self._end(code, reason, None)
                return
            if code == 1000:
                with self._lock:
                    stop_sent = self._stop_sent_ever
                left = self._buffer.pending_bytes + self._audio.qsize() * self._chunk_hint
                if not stop_sent and not self._aborted.is_set():
                    seconds = self._fmt.seconds(left)
                    error = ApiError(
                        f"Gladia ended the session before all the audio was sent (about {seconds:.1f} s not sent"
                        + (f"; {reason}" if reason else "")
                        + ")"
                    )
                    self._end(code, reason, error)
                    return
                self._end(code, reason, None)
                return
            if not is_retryable(code):
                self._end(code, reason, close_error(code, reason))
                return
            if self._policy.retries == 0:  # --reconnect-attempts 0: a drop ends the session, nothing is retried
                lost = self._no_answer() if reason == _NO_ANSWER else close_error(code, reason).message
                self._end(code, reason, NetworkError(f"{lost}; not reconnecting (--reconnect-attempts 0)"))
                return
            # A server that accepts connections but never answers must not be retried forever.
            if heard:
                silent_streak = 0
            else:
                silent_streak += 1
                silent_since = silent_since if silent_streak > 1 else time.monotonic()
                if silent_streak >= self._policy.max_attempts or (
                    time.monotonic() - silent_since >= self._policy.max_seconds and silent_streak > 1
                ):
                    accepted = _plural(silent_streak, "connection")
                    self._end(code, reason, NetworkError(f"Gladia accepted {accepted} but never answered"))
                    return
            lost = (
                self._no_answer()
                if reason == _NO_ANSWER
                else f"connection lost ({'code ' + str(code) if code else reason})"
            )
            self.events.put(Notice(f"{lost}; reconnecting"))

    def _no_answer(self) -> str:
        return f"no answer from Gladia for {self._policy.ack_timeout:g} s"

    def _connect(self, first: bool) -> websocket.WebSocket | None:
        """Open the socket with backoff; None if the session was aborted meanwhile; _Fatal when retrying is futile.

        The first opening is one try plus `policy.retries` retries; a reopening after a drop is `policy.retries`
        reconnection attempts. Either also stops once `policy.max_seconds` have passed, and says which limit it hit.
        """
        import websocket

        policy = self._policy
        retries = policy.retries
        started = time.monotonic()
        last_error = ""
        attempt = 0 if first else 1  # 0: the first opening's own try; 1..retries: a retry or a reconnection
        timed_out = False
        with self._lock:
            self._reconnecting = not first
        while attempt <= retries:
            if self._aborted.is_set() or self._closed.is_set():
                return None
            self._announce_attempt(attempt)
            try:
                ws = websocket.create_connection(
                    self._url, timeout=policy.connect_timeout, enable_multithread=True, skip_utf8_validation=True
                )
                # A peer that stops reading or answering must fail a send or a read in bounded time, not block them
                # forever; _receive tells a quiet server (post-processing) from a dead one.
                ws.settimeout(policy.ack_timeout)
            except websocket.WebSocketBadStatusException as exc:
                status = getattr(exc, "status_code", 0)
                if status in (401, 403):
                    raise _Fatal(AuthError(f"Gladia refused the live connection ({status})")) from None
                if 400 <= status < 500 and status not in (408, 429):
                    raise _Fatal(ApiError(f"Gladia refused the live connection ({status})", status=status)) from None
                last_error = f"HTTP {status}"
            except (OSError, websocket.WebSocketException) as exc:
                last_error = type(exc).__name__
            else:
                with self._send_lock:
                    self._ws = ws
                    resend_from = self._buffer.rewind()
                    with self._lock:
                        self._resend_from = resend_from
                        self._first_frame = 0
                        self._skew = None  # learnt from this connection's first ack
                        self._attempt = 0
                        self._stop_sent = False  # resent on the new connection unless Gladia acknowledged it
                    self._connected.set()
                self._wake.set()
                self._set_state(State.STOPPING if self._stop_wanted.is_set() else State.STREAMING)
                return ws
            elapsed = time.monotonic() - started
            if attempt >= retries:
                break
            if elapsed >= policy.max_seconds:
                timed_out = True
                break
            failures = attempt + 1 if first else attempt
            delay = min(policy.delay(failures), max(0.0, policy.max_seconds - elapsed))
            what = "retry" if first else "reconnection attempt"
            # The status shows the attempt being waited for from now on: the number this notice gives.
            self._announce_attempt(attempt + 1)
            self.events.put(
                Notice(f"cannot reach Gladia ({last_error}); {what} {attempt + 1}/{retries} in {delay:.1f} s")
            )
            if self._aborted.wait(delay):
                return None
            attempt += 1
        tries = attempt + 1 if first else attempt
        counted = _plural(tries, "attempt" if first else "reconnection attempt")
        if timed_out:
            counted += f" in {time.monotonic() - started:.0f} s (--reconnect-timeout)"
        raise _Fatal(
            NetworkError(f"cannot {'open' if first else 'reopen'} the live connection ({last_error}) after {counted}")
        )

    def _announce_attempt(self, attempt: int) -> None:
        """Record the attempt under way, and queue it ahead of any notice about it, so status and notices agree."""
        with self._lock:
            changed, self._attempt = self._attempt != attempt, attempt
        if changed:
            self.events.put(self.progress())

    def _receive(self, ws: websocket.WebSocket) -> tuple[int | None, str, bool]:
        """Read until the socket closes: (close code, reason, whether anything at all was heard)."""
        import websocket

        heard = False
        while True:
            try:
                opcode, frame = ws.recv_data_frame(True)
            except websocket.WebSocketTimeoutException:
                # No message for ack_timeout seconds (the socket's timeout): fine while Gladia post-processes.
                if self._closed.is_set():
                    return 1006, "closed", heard
                if self._waiting_for_gladia():
                    return 1006, _NO_ANSWER, heard  # said once, by the caller, with what happens next
                continue
            except Exception:
                return 1006, "connection dropped", heard
            heard = True
            if opcode == websocket.ABNF.OPCODE_CLOSE:
                code, reason = _parse_close(frame.data)
                return code, reason, heard
            if opcode == websocket.ABNF.OPCODE_TEXT:
                self._handle_text(frame.data)
            elif opcode == websocket.ABNF.OPCODE_BINARY:
                self.events.put(Notice("ignored a binary message from the server"))

    # -- messages --

    def _handle_text(self, data: bytes) -> None:
        try:
            message = json.loads(data)
        except ValueError:
            self.events.put(Notice("ignored a message from the server that is not JSON"))
            return
        if not isinstance(message, dict):
            self.events.put(Notice("ignored a message from the server that is not a JSON object"))
            return
        is_ack = "acknowledged" in message
        # Thousands of acks a second at --speed 0: queue them only for someone who prints them.
        if self._emit_messages and (self._emit_acks or not is_ack):
            self.events.put(ServerMessage(message, is_ack))
        kind = message.get("type")
        body = message.get("data")
        payload: dict[str, Any] = body if isinstance(body, dict) else {}
        if kind in _POST_PROCESSING_TYPES and not is_ack:
            with self._lock:
                self._post_processing = True
        if is_ack:
            self._handle_ack(kind, message, payload)
        elif kind == "transcript":
            self._handle_transcript(payload)
        elif kind == "translation":
            translated = payload.get("translated_utterance") or {}
            text = str(translated.get("text") or "").strip() if isinstance(translated, dict) else ""
            if text:
                self.events.put(
                    Translation(str(payload.get("utterance_id", "")), str(payload.get("target_language", "")), text)
                )
        elif kind == "post_final_transcript":
            self._final_result = payload
        elif kind == "post_summarization":
            results = payload.get("results")
            if isinstance(results, str) and results.strip():
                self._summary = results.strip()
        # Every other type (speech events, lifecycle, NER, sentiment, unknown ones) is only passed through.

    def _handle_ack(self, kind: Any, message: dict[str, Any], payload: dict[str, Any]) -> None:
        if not message.get("acknowledged"):
            error = message.get("error")
            text = error.get("message") if isinstance(error, dict) else None
            if kind != "stop_recording":  # a repeated stop is refused harmlessly
                self.events.put(Notice(f"Gladia did not acknowledge {kind}: {text or 'no reason given'}"))
            return
        if kind == "audio_chunk":
            byte_range = payload.get("byte_range")
            if not (isinstance(byte_range, list) and len(byte_range) == 2):
                return
            start, end = byte_range
            if not isinstance(start, (int, float)) or not isinstance(end, (int, float)):
                return
            with self._lock:
                if self._skew is None:
                    # A server that counts resent bytes again numbers this connection from its own total: the ack of
                    # the first frame sent on it tells by how much its numbering runs ahead of ours. An ack that is
                    # not that one (the first was lost) teaches nothing: assume no skew, as the reference does.
                    first = self._first_frame and int(end) - int(start) == self._first_frame
                    self._skew = max(0, int(start) - self._resend_from) if first else 0
                skew = self._skew
            self._buffer.ack(int(end) - skew)
            self._wake.set()
        elif kind == "stop_recording":
            with self._lock:
                self._stop_acked = True
                self._post_processing = True

    def _handle_transcript(self, payload: dict[str, Any]) -> None:
        utterance = payload.get("utterance")
        if not isinstance(utterance, dict):
            return

        def num(name: str) -> float | None:
            value = utterance.get(name)
            return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None

        channel_value = utterance.get("channel")
        channel = int(channel_value) if isinstance(channel_value, (int, float)) else 0
        uid = str(payload.get("id", ""))
        start, end = num("start"), num("end")
        is_final = bool(payload.get("is_final", True))
        if is_final:
            # After a resume the server may send an utterance again: show each final once, by id and by timing.
            timing = (channel, round(start, 2), round(end, 2)) if start is not None and end is not None else None
            if (channel, uid) in self._finals_seen or (timing is not None and timing in self._final_times):
                return
            self._finals_seen.add((channel, uid))
            if timing is not None:
                self._final_times.add(timing)
        elif (channel, uid) in self._finals_seen:
            return  # a stale partial of an utterance already final
        language = utterance.get("language")
        self.events.put(
            Transcript(
                utterance_id=uid,
                channel=channel,
                text=str(utterance.get("text") or "").strip(),
                is_final=is_final,
                start=start,
                end=end,
                language=language if isinstance(language, str) else None,
            )
        )

    def _end(self, code: int | None, reason: str, error: GladiaError | None) -> None:
        with self._lock:
            if self._ended:
                return
            self._ended = True
        self._closed.set()
        self._wake.set()
        self._connected.clear()
        self._source.close()
        undelivered = self._fmt.seconds(self._buffer.held_bytes) if error is not None else 0.0
        self._set_state(State.DONE)
        with self._lock:
            reconnections = self._reconnections
        self.events.put(Ended(code, reason, error, self._final_result, self._summary, undelivered, reconnections))
