"""The live session: a producer, a sender and a receiver thread around one WebSocket; it emits events, never prints.

Shutdown is a small state machine: STREAMING -> STOPPING (no more audio wanted; the producer drains what the
source already captured) -> FINISHING (stop_recording sent; waiting for post-processing and close 1000) -> DONE.
"""

from __future__ import annotations

import contextlib
import json
import queue
import threading
import time
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any

from gladia_cli.audio.format import AudioSource, PcmFormat
from gladia_cli.errors import ApiError, AuthError, GladiaError, NetworkError, UsageError

if TYPE_CHECKING:
    import websocket

MAX_FRAME_BYTES = 512 * 1024  # Gladia closes with 1009 above 1 MiB; stay well under it.
_END = None  # end-of-audio marker in the audio queue


class State(Enum):
    CONNECTING = "connecting"
    STREAMING = "streaming"
    STOPPING = "stopping"
    FINISHING = "finishing"
    DONE = "done"


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


@dataclass(frozen=True)
class Ended:
    """The last event. `error` is None on a clean end (close 1000 after stop)."""

    close_code: int | None
    reason: str
    error: GladiaError | None
    final_result: dict[str, Any] | None = None
    summary: str | None = None


Event = StateChanged | ServerMessage | Transcript | Translation | Notice | Progress | Ended


# --- close codes ----------------------------------------------------------------------------------------------------


def close_error(code: int | None, reason: str) -> GladiaError:
    """Map an unexpected close to the error (and exit code) the user gets."""
    detail = f"code {code}" + (f": {reason}" if reason else "")
    if code is not None and 4400 <= code <= 4499:
        if code in (4401, 4403):
            return AuthError(f"Gladia refused the live connection ({detail})")
        return ApiError(f"Gladia ended the session ({detail})")
    if code == 1009:
        return ApiError(f"Gladia refused an audio frame as too large ({detail})")
    return NetworkError(f"the live connection was lost ({detail})")


def _parse_close(frame_data: bytes) -> tuple[int | None, str]:
    if len(frame_data) < 2:
        return None, ""
    return int.from_bytes(frame_data[:2], "big"), frame_data[2:].decode("utf-8", "replace")


# --- the session ----------------------------------------------------------------------------------------------------


@dataclass
class _Counters:
    """Written by the sender and receiver, read by the renderer: always under the lock."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    bytes_sent: int = 0
    bytes_acked: int = 0


class LiveSession:
    """Streams `source` to an already-created Gladia live session and reports what happens as events.

    The owner calls `start()`, reads `events` until `Ended`, and calls `join()`; `request_stop()` and `abort()` may be
    called from a signal handler.
    """

    def __init__(
        self,
        *,
        session_id: str,
        url: str,
        source: AudioSource,
        fmt: PcmFormat,
        duration: float | None = None,
        connect_timeout: float = 10.0,
        queue_seconds: float = 30.0,
    ) -> None:
        self.session_id = session_id
        self._url = url
        self._source = source
        self._fmt = fmt
        self._limit = None if duration is None else int(duration * fmt.sample_rate) * fmt.frame_bytes
        self._connect_timeout = connect_timeout
        chunk = max(fmt.chunk_bytes(100), 1)
        self._audio: queue.Queue[bytes | None] = queue.Queue(
            maxsize=max(4, int(queue_seconds * fmt.bytes_per_second / chunk))
        )
        self.events: queue.Queue[Event] = queue.Queue()
        self._counters = _Counters()
        self._state = State.CONNECTING
        self._state_lock = threading.Lock()
        self._stop_wanted = threading.Event()
        self._aborted = threading.Event()
        self._closed = threading.Event()  # the socket is finished with (closed by either side)
        self._ws: websocket.WebSocket | None = None
        self._threads: list[threading.Thread] = []
        self._finals_seen: set[tuple[int, str]] = set()
        self._final_result: dict[str, Any] | None = None
        self._summary: str | None = None
        self._ended_sent = False

    # -- control (any thread) --

    @property
    def state(self) -> State:
        with self._state_lock:
            return self._state

    def _set_state(self, state: State) -> None:
        with self._state_lock:
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
        if self.state == State.STREAMING:
            self._set_state(State.STOPPING)

    def abort(self) -> None:
        """Second Ctrl-C: close at once with 1000 so Gladia still ends and processes the session server-side."""
        self._aborted.set()
        self._stop_wanted.set()
        self._source.close()
        ws = self._ws
        if ws is not None:
            with contextlib.suppress(Exception):
                ws.send_close(1000, b"aborted by user")
            with contextlib.suppress(Exception):
                ws.shutdown()

    def progress(self) -> Progress:
        with self._counters.lock:
            sent, acked = self._counters.bytes_sent, self._counters.bytes_acked
        return Progress(self._fmt.seconds(sent), self._fmt.seconds(acked))

    # -- lifecycle --

    def start(self) -> None:
        import websocket

        try:
            self._ws = websocket.create_connection(self._url, timeout=self._connect_timeout, enable_multithread=True)
        except websocket.WebSocketBadStatusException as exc:
            status = getattr(exc, "status_code", None)
            if status in (401, 403):
                raise AuthError(f"Gladia refused the live connection ({status})") from None
            raise ApiError(f"Gladia refused the live connection ({status})") from None
        except (OSError, websocket.WebSocketException) as exc:
            raise NetworkError(
                f"cannot open the live connection ({type(exc).__name__})",
                hint=f"fetch what was sent later with `gladia result {self.session_id}`",
            ) from None
        self._ws.settimeout(None)
        self._set_state(State.STOPPING if self._stop_wanted.is_set() else State.STREAMING)
        for name, target in (("producer", self._produce), ("sender", self._send), ("receiver", self._receive)):
            thread = threading.Thread(target=target, name=f"gladia-{name}", daemon=True)
            self._threads.append(thread)
            thread.start()

    def join(self, timeout: float = 5.0) -> None:
        self._source.close()
        self._closed.set()
        with contextlib.suppress(queue.Full):
            self._audio.put_nowait(_END)
        if self._ws is not None:
            with contextlib.suppress(Exception):
                self._ws.shutdown()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    # -- threads --

    def _produce(self) -> None:
        """Read the source into the bounded audio queue, enforcing --duration and the declared frame size."""
        sent = 0
        frame = self._fmt.frame_bytes
        try:
            for chunk in self._source.chunks():
                if len(chunk) % frame:
                    raise UsageError(
                        f"audio chunk of {len(chunk)} bytes is not whole {self._fmt.describe()} frames",
                        hint="this is a bug in gladia; please report it",
                    )
                if self._limit is not None and sent + len(chunk) >= self._limit:
                    chunk = chunk[: self._limit - sent]
                    if chunk:
                        self._put_audio(chunk)
                    break
                sent += len(chunk)
                if not self._put_audio(chunk):
                    return
        except GladiaError as exc:
            self._emit_end(None, "", exc)
            return
        except Exception as exc:  # a broken device or decoder must still end the session cleanly
            self._emit_end(
                None,
                "",
                NetworkError(f"audio input failed: {exc}")
                if False
                else UsageError(f"audio input failed ({type(exc).__name__}: {exc})"),
            )
            return
        finally:
            self._source.close()
        self._stop_wanted.set()
        self._put_audio(_END)

    def _put_audio(self, chunk: bytes | None) -> bool:
        while not self._closed.is_set():
            try:
                self._audio.put(chunk, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def _send(self) -> None:
        assert self._ws is not None
        try:
            while True:
                chunk = self._audio.get()
                if self._closed.is_set() or self._aborted.is_set():
                    return
                if chunk is _END:
                    self._set_state(State.FINISHING)
                    self._ws.send(json.dumps({"type": "stop_recording"}))
                    return
                for start in range(0, len(chunk), MAX_FRAME_BYTES):
                    piece = chunk[start : start + MAX_FRAME_BYTES]
                    self._ws.send_bytes(piece)
                    with self._counters.lock:
                        self._counters.bytes_sent += len(piece)
        except Exception as exc:
            if not self._closed.is_set() and not self._aborted.is_set():
                self._emit_end(
                    None, "", NetworkError(f"the live connection was lost while sending ({type(exc).__name__})")
                )

    def _receive(self) -> None:
        import websocket

        assert self._ws is not None
        code: int | None = None
        reason = ""
        try:
            while True:
                opcode, frame = self._ws.recv_data_frame(True)
                if opcode == websocket.ABNF.OPCODE_CLOSE:
                    code, reason = _parse_close(frame.data)
                    break
                if opcode == websocket.ABNF.OPCODE_TEXT:
                    self._handle_text(frame.data)
                elif opcode == websocket.ABNF.OPCODE_BINARY:
                    self.events.put(Notice("ignored a binary message from the server"))
        except Exception:
            code, reason = 1006, "connection dropped"
        self._closed.set()
        if code == 1000 and not self._stop_wanted.is_set():
            self.events.put(Notice("Gladia ended the session before the audio did"))
        if self._aborted.is_set() or code == 1000:
            self._emit_end(code, reason, None)
        else:
            self._emit_end(code, reason, close_error(code, reason))

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
        self.events.put(ServerMessage(message, is_ack))
        kind = message.get("type")
        body = message.get("data")
        payload: dict[str, Any] = body if isinstance(body, dict) else {}
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
            if isinstance(byte_range, list) and len(byte_range) == 2 and isinstance(byte_range[1], (int, float)):
                with self._counters.lock:
                    self._counters.bytes_acked = max(self._counters.bytes_acked, int(byte_range[1]))

    def _handle_transcript(self, payload: dict[str, Any]) -> None:
        utterance = payload.get("utterance")
        if not isinstance(utterance, dict):
            return
        channel = utterance.get("channel")
        channel = int(channel) if isinstance(channel, (int, float)) else 0
        uid = str(payload.get("id", ""))
        is_final = bool(payload.get("is_final", True))
        if is_final:
            key = (channel, uid)
            if key in self._finals_seen:
                return  # resent after a reconnect: show each final once
            self._finals_seen.add(key)

        def num(name: str) -> float | None:
            value = utterance.get(name)
            return float(value) if isinstance(value, (int, float)) else None

        language = utterance.get("language")
        self.events.put(
            Transcript(
                utterance_id=uid,
                channel=channel,
                text=str(utterance.get("text") or "").strip(),
                is_final=is_final,
                start=num("start"),
                end=num("end"),
                language=language if isinstance(language, str) else None,
            )
        )

    def _emit_end(self, code: int | None, reason: str, error: GladiaError | None) -> None:
        with self._state_lock:
            if self._ended_sent:
                return
            self._ended_sent = True
        self._closed.set()
        self._source.close()
        self._set_state(State.DONE)
        self.events.put(Ended(code, reason, error, self._final_result, self._summary))
