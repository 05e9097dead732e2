"""The live session: producer, sender and connection threads around one resumable WebSocket; emits events, never prints.

Shutdown is a small state machine: STREAMING -> STOPPING (no more audio wanted; the producer drains what the source
already captured) -> FINISHING (stop_recording sent; waiting for post-processing and close 1000) -> DONE.
A connection that drops is reopened on the same url with backoff; every byte Gladia has not acknowledged is kept in
an `AudioBuffer` and resent first, and the microphone keeps capturing meanwhile.

Once Gladia has taken the stop (its ack, a refusal because the recording is already stopped, or a post-processing
message), every byte sent is Gladia's: nothing is resent, silence is post-processing and not a dead link, and a drop
then is reconnected once, only to hear the results.

Who owns what: `events.py` the events, `messages.py` what Gladia's messages mean, `connection.py` one socket and its
own state (replaced on each reconnection), `buffer.py` the audio not yet acknowledged; this module the threads and
the state machine.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable

from gladia_cli.audio.format import BUFFER_SECONDS, AudioSource, PcmFormat
from gladia_cli.errors import ApiError, GladiaError, NetworkError, UsageError
from gladia_cli.live.buffer import AudioBuffer
from gladia_cli.live.connection import (
    MAX_MESSAGE_BYTES,
    Connection,
    ReconnectPolicy,
    Refused,
    Unreachable,
    open_socket,
)
from gladia_cli.live.events import (
    AddonFailed,
    Ended,
    Entities,
    Event,
    Notice,
    Progress,
    Sentiments,
    ServerMessage,
    Speech,
    State,
    StateChanged,
    Transcript,
    Translation,
)
from gladia_cli.live.messages import (
    AckEnds,
    AudioAck,
    FinalResult,
    FinalsFilter,
    Refusal,
    ServerError,
    StopAck,
    Summary,
    Unreadable,
    close_error,
    decode_text,
    is_retryable,
    parse_close,
)

__all__ = [
    "Ended",
    "Event",
    "LiveSession",
    "Notice",
    "Progress",
    "ReconnectPolicy",
    "ServerMessage",
    "State",
    "StateChanged",
    "Transcript",
    "Translation",
]

MAX_FRAME_BYTES = 512 * 1024  # Gladia closes with 1009 above 1 MiB; resends are split well under it.
_END = None  # end-of-audio marker in the audio queue
_NO_ANSWER = "no answer (ack timeout)"  # the reason _receive gives for a link it gave up on: no close frame came


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


class LiveSession:
    """Streams `source` to an already-created Gladia live session and reports what happens as events.

    The owner calls `start()`, reads `events` (or gets them through `sink`) until `Ended`, and calls `join()`;
    `request_stop()` and `abort()` may be called from any thread (not from a signal handler: they take locks).
    `on_audio` sees every captured chunk first (e.g. to save it locally), on the producer thread; `on_ack` gets each
    offset Gladia acknowledged up to (the receiver thread; the buffer's own count also moves when it drops audio, this
    one only on Gladia's word).
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
        buffer_seconds: float = BUFFER_SECONDS,
        on_audio: Callable[[bytes], None] | None = None,
        on_ack: Callable[[int], None] | None = None,
        emit_messages: bool = True,
        emit_acks: bool = True,
        sink: Callable[[Event], None] | None = None,
        on_audio_ack: Callable[[int], None] | None = None,
    ) -> None:
        self.session_id = session_id
        self.events: queue.Queue[Event] = queue.Queue()
        self._emit: Callable[[Event], None] = sink or self.events.put  # `sink`: one queue for a chain of sessions
        self._url = url
        self._source = source
        self._fmt = fmt
        self._policy = policy or ReconnectPolicy()
        self._limit = None if duration is None else int(duration * fmt.sample_rate) * fmt.frame_bytes
        self._on_audio = on_audio
        self._on_ack = on_ack
        self._on_audio_ack = on_audio_ack  # only the offsets of Gladia's audio acks, never those of a taken stop
        self._unreadable: set[str] = set()  # the reasons of unreadable messages already said (connection thread)
        self._emit_messages = emit_messages
        self._emit_acks = emit_acks
        # audio: producer -> queue -> sender -> buffer -> connection
        self._audio: queue.Queue[bytes | None] = queue.Queue(maxsize=64)
        self._buffer_max = max(int(buffer_seconds * fmt.bytes_per_second), fmt.chunk_bytes(1000))
        self._buffer = AudioBuffer(self._buffer_max)
        self._chunk_hint = fmt.chunk_bytes(100)
        self._max_frame = MAX_FRAME_BYTES - MAX_FRAME_BYTES % fmt.frame_bytes  # whole samples in every frame
        self._lossless = source.can_wait
        # threads and their signals
        self._threads: list[threading.Thread] = []
        self._wake = threading.Event()  # the sender has something new to look at
        self._connected = threading.Event()
        self._audio_done = threading.Event()  # the producer has queued its last chunk
        self._stop_wanted = threading.Event()
        self._aborted = threading.Event()
        self._closed = threading.Event()  # the session is over: threads wind down
        self._send_lock = threading.Lock()  # one connection swap or one send at a time
        self._lock = threading.Lock()  # guards everything below, and the fields of the current connection
        self._conn: Connection | None = None  # replaced wholesale on each (re)connection
        self._state = State.CONNECTING
        self._attempt = 0
        self._reconnecting = False
        self._reconnections = 0
        self._stop_sent_ever = False
        self._stop_taken = False  # Gladia has the stop: it holds every byte sent, and post-processes
        self._post_processing = False
        self._left_to_process: float | None = None  # what Gladia said was left to process, taking the stop
        self._first_frame = 0  # bytes of the first frame of the session, for AckEnds
        self._ack_ends = AckEnds(fmt.frame_bytes)
        self._ended = False
        self._gladia_ended = False  # Gladia closed 1000 before our stop: its cap, or a pause it outlived
        self._stop_acked = False  # Gladia said yes to our stop_recording (not a refusal, not silence)
        self._stop_sends = 0  # stop_recording sent, over every connection
        # what Gladia said that outlives a connection
        self._finals = FinalsFilter()
        self._final_result: dict | None = None
        self._summary: str | None = None

    # -- control (any thread) --

    @property
    def ended(self) -> bool:
        with self._lock:
            return self._ended

    @property
    def ended_by_gladia(self) -> bool:
        """Gladia ended the session before we stopped it (it ends one after 3 hours, or one it finds idle): the
        recording can go on in another session, from the first byte Gladia did not acknowledge."""
        with self._lock:
            return self._gladia_ended

    @property
    def stop_acknowledged(self) -> bool:
        """Gladia acknowledged our stop_recording: it holds every byte sent before it. Without that answer (a
        refusal because the recording was already stopped, or a close alone), what it holds is what it says: its
        audio acks and its result's audio duration."""
        with self._lock:
            return self._stop_acked

    @property
    def state(self) -> State:
        with self._lock:
            return self._state

    def _set_state(self, state: State) -> None:
        with self._lock:
            if self._state == state or self._state == State.DONE:
                return
            self._state = state
        self._emit(StateChanged(state))

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
        conn = self._conn
        if conn is not None:
            conn.close_now(b"aborted by user")

    def progress(self) -> Progress:
        buf = self._buffer
        with self._lock:
            attempt, reconnecting, post_processing = self._attempt, self._reconnecting, self._post_processing
            left = self._left_to_process
        return Progress(
            seconds_sent=self._fmt.seconds(buf.numbered),
            seconds_acked=self._fmt.seconds(buf.acked),
            seconds_buffered=self._fmt.seconds(buf.pending_bytes),
            connected=self._connected.is_set(),
            attempt=attempt,
            attempts=self._policy.retries,
            reconnecting=reconnecting,
            post_processing=post_processing,
            left_to_process=left,
        )

    # -- lifecycle --

    def start(self) -> None:
        for name, target in (("producer", self._produce), ("sender", self._send), ("connection", self._connection)):
            thread = threading.Thread(target=self._guarded, args=(name, target), name=f"gladia-{name}", daemon=True)
            self._threads.append(thread)
            thread.start()

    def _guarded(self, name: str, target: Callable[[], None]) -> None:
        """A thread that dies ends the session with one error, so the run stops, says so and keeps the journal,
        instead of waiting forever on a thread that is gone."""
        try:
            target()
        except Exception as exc:
            failure = f"the {name} thread failed ({type(exc).__name__}); this is a bug in gladia"
            self._end(None, "", GladiaError(failure))

    def join(self, timeout: float = 5.0) -> None:
        self._closed.set()
        self._wake.set()
        self._source.close()
        conn = self._conn
        if conn is not None:
            conn.hard_close()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def _end(self, code: int | None, reason: str, error: GladiaError | None) -> None:
        with self._lock:
            if self._ended:
                return
            self._ended = True
            reconnections = self._reconnections
        self._closed.set()
        self._wake.set()
        self._connected.clear()
        self._source.close()
        undelivered = self._fmt.seconds(self._buffer.held_bytes) if error is not None else 0.0
        self._set_state(State.DONE)
        self._emit(Ended(code, reason, error, self._final_result, self._summary, undelivered, reconnections))

    # -- producer thread: source -> audio queue --

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

    # -- sender thread: audio queue -> buffer -> socket --

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
                self._emit(
                    Notice(
                        f"buffer full: dropped the oldest {self._fmt.seconds(dropped):.1f} s of audio "
                        f"({self._fmt.seconds(self._buffer.dropped_bytes):.1f} s in all)"
                    )
                )
        return moved

    def _send_some(self) -> bool:
        """Send one frame (or the stop); False when there was nothing to do."""
        with self._send_lock:
            conn = self._conn if self._connected.is_set() else None
            if conn is None:
                return False
            frame = self._buffer.next_frame(self._max_frame)
            try:
                if frame is not None:
                    with self._lock:
                        self._first_frame = self._first_frame or len(frame[1])
                    conn.send_audio(frame[1])
                    return True
                if self._audio_done.is_set() and self._audio.empty():
                    with self._lock:
                        if conn.stop_sent or self._stop_taken:
                            return False
                        conn.stop_sent = True
                        self._stop_sent_ever = True
                        self._stop_sends += 1
                    self._set_state(State.FINISHING)
                    conn.send_stop()
                    return True
            except Exception:
                # The connection thread notices the dead socket and reconnects; the buffer still has the frame.
                self._connected.clear()
                conn.half_close()
            return False

    def _waiting_for_gladia(self, conn: Connection) -> bool:
        """Something sent is still unacknowledged: silence now means a dead link, not post-processing."""
        with self._lock:
            if self._stop_taken:
                return False
            stop_pending = conn.stop_sent
        return stop_pending or self._buffer.numbered > self._buffer.acked

    # -- connection thread: connect, receive, reconnect --

    def _connection(self) -> None:
        code: int | None = None
        reason = ""
        first = True
        silent_streak = 0  # connections in a row on which Gladia said nothing at all
        reconnections = 0
        silent_since = 0.0
        while not self._closed.is_set():
            try:
                conn = self._connect(first)
            except Refused as fatal:
                if not first and getattr(fatal.error, "status", None) in (404, 410) and not self._stop_sent_ever:
                    with self._lock:
                        self._gladia_ended = True  # the session is gone, not the link: as a refused reconnection
                self._end(code, reason, fatal.error)
                return
            if conn is None:  # aborted or closed while connecting
                self._end(code, reason, None if self._aborted.is_set() else close_error(code, reason))
                return
            if not first:
                reconnections += 1
                with self._lock:
                    self._reconnections = reconnections
                if conn.after_stop:
                    self._emit(Notice("reconnected; waiting for Gladia's post-processing"))
                else:
                    self._emit(Notice("reconnected; resending what Gladia had not acknowledged"))
            first = False
            code, reason = self._receive(conn)
            self._connected.clear()
            conn.hard_close()
            if self._aborted.is_set():
                self._end(code, reason, None)
                return
            if code == 1000:
                early = self._early_end_error(reason)
                with self._lock:
                    self._gladia_ended = early is not None
                self._end(code, reason, early)
                return
            if self._final_result is not None and self._stop_taken:
                # Everything has arrived (the stop taken, post_final_transcript here): a link lost now, e.g. a
                # close frame lost to a reset when the server closed with our pong unread, is the end, not an outage.
                self._end(1000, "closed after the final result", None)
                return
            if conn.after_stop and code is not None and 4400 <= code < 4500 and self._stop_taken:
                # Refused after the stop was taken: Gladia finished while the link was down, and what it sent then
                # (post_final_transcript, add-ons) is lost with it. A clean end: the owner reads the session's job.
                self._emit(Notice("Gladia finished while the link was down; the rest comes from its result"))
                self._end(code, reason, None)
                return
            if not is_retryable(code):
                if reconnections and code not in (4401, 4403, 4409) and not self._stop_sent_ever:
                    # Refused on a reconnection, before our stop: the session ended while the link was down (a
                    # pause, a closed lid, then Gladia's limit). The recording can go on in a new session.
                    with self._lock:
                        self._gladia_ended = True
                self._end(code, reason, close_error(code, reason))
                return
            if conn.after_stop:  # the one reconnection after the stop was taken dropped too
                lost = self._no_answer() if reason == _NO_ANSWER else close_error(code, reason).message
                self._end(code, reason, NetworkError(f"{lost} again while Gladia was post-processing"))
                return
            if self._policy.retries == 0:  # --reconnect-attempts 0: a drop ends the session, nothing is retried
                lost = self._no_answer() if reason == _NO_ANSWER else close_error(code, reason).message
                self._end(code, reason, NetworkError(f"{lost}; not reconnecting (`reconnect_attempts` 0)"))
                return
            # A server that accepts connections but never answers must not be retried forever.
            if conn.heard:
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
            self._emit(Notice(f"{lost}; reconnecting"))

    def _early_end_error(self, reason: str) -> GladiaError | None:
        """Close 1000 is the end; before our stop it means Gladia ended the session with audio still to send."""
        with self._lock:
            stop_sent = self._stop_sent_ever
        if stop_sent:
            return None
        left = self._buffer.pending_bytes + self._audio.qsize() * self._chunk_hint
        return ApiError(
            f"Gladia ended the session before all the audio was sent (about {self._fmt.seconds(left):.1f} s not sent"
            + (f"; {reason}" if reason else "")
            + ")"
        )

    def _no_answer(self) -> str:
        """What the link was given up for, in what was seen: Gladia may well have sent transcripts before."""
        waiting = self._fmt.seconds(max(0, self._buffer.numbered - self._buffer.acked))
        return (
            f"Gladia sent nothing for {self._policy.ack_timeout:g} s while {waiting:.1f} s of audio awaited its"
            " acknowledgement"
        )

    def _connect(self, first: bool) -> Connection | None:
        """Open the socket with backoff; None if the session was aborted meanwhile; Refused when retrying is futile.

        The first opening is one try plus `policy.retries` retries; a reopening after a drop is `policy.retries`
        reconnection attempts. Either also stops once `policy.max_seconds` have passed, and says which limit it hit.
        """
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
                ws = open_socket(self._url, policy)
            except Unreachable as exc:
                last_error = str(exc)
            else:
                with self._send_lock:
                    with self._lock:
                        after_stop = self._stop_taken
                    conn = Connection(ws, self._buffer.rewind(), after_stop=after_stop)
                    with self._lock:
                        self._conn = conn
                        self._attempt = 0
                    self._connected.set()
                self._wake.set()
                self._set_state(State.STOPPING if self._stop_wanted.is_set() else State.STREAMING)
                return conn
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
            self._emit(Notice(f"{last_error}; {what} {attempt + 1}/{retries} in {delay:.1f} s"))
            if self._aborted.wait(delay):
                return None
            attempt += 1
        tries = attempt + 1 if first else attempt
        counted = _plural(tries, "attempt" if first else "reconnection attempt")
        if timed_out:
            counted += f" in {time.monotonic() - started:.0f} s (`reconnect_timeout`)"
        raise Refused(
            NetworkError(f"cannot {'open' if first else 'reopen'} the live connection after {counted}: {last_error}")
        )

    def _announce_attempt(self, attempt: int) -> None:
        """Record the attempt under way, and queue it ahead of any notice about it, so status and notices agree."""
        with self._lock:
            changed, self._attempt = self._attempt != attempt, attempt
        if changed:
            self._emit(self.progress())

    def _receive(self, conn: Connection) -> tuple[int | None, str]:
        """Read until the socket closes: (close code, reason)."""
        while True:
            got = conn.receive()
            if got.kind == "timeout":
                # No message for ack_timeout seconds (the socket's timeout): fine while Gladia post-processes.
                if self._closed.is_set():
                    return 1006, "closed"
                if self._waiting_for_gladia(conn):
                    return 1006, _NO_ANSWER  # said once, by the caller, with what happens next
                conn.ping()  # Gladia is post-processing in silence: keep the link (and any proxy on it) awake
                continue
            if got.kind == "dropped":
                return 1006, "connection dropped"
            if got.kind == "control":
                continue  # a ping (answered) or a pong: the link is alive, nothing to show
            if got.kind == "too_large":
                mb = MAX_MESSAGE_BYTES // (1024 * 1024)
                self._emit(Notice(f"refused a message from the server larger than {mb} MB; reconnecting"))
                return 1006, "message too large"  # the rest of it is still on the wire: this link is unusable
            if got.kind == "close":
                return parse_close(got.data)
            if got.kind == "text":
                self._handle_text(conn, got.data)
            else:
                self._emit(Notice("ignored a binary message from the server"))

    # -- what Gladia said --

    def _handle_text(self, conn: Connection, data: bytes) -> None:
        decoded = decode_text(data)
        if isinstance(decoded, Unreadable):
            if decoded.reason not in self._unreadable:  # once per kind: a flood of bad messages is one line
                self._unreadable.add(decoded.reason)
                self._emit(Notice(decoded.reason))
            return
        # Thousands of acks a second at --speed 0: queue them only for someone who prints them.
        if self._emit_messages and (self._emit_acks or not decoded.is_ack):
            self._emit(ServerMessage(decoded.message, decoded.is_ack))
        if decoded.post_processing:
            with self._lock:
                self._post_processing = True
            self._take_stop()  # post-processing messages after our stop prove Gladia took it, acked or not
        content = decoded.content
        if isinstance(content, AudioAck):
            with self._lock:
                first_frame = self._first_frame
            end = self._buffer.ack(self._ack_ends.end(content, first_frame=first_frame))  # clamped to what was sent
            if self._on_ack is not None:
                self._on_ack(end)
            if self._on_audio_ack is not None:
                self._on_audio_ack(end)
            self._wake.set()
        elif isinstance(content, StopAck) or (isinstance(content, Refusal) and content.stop_already_taken):
            with self._lock:
                # A 409 "Recording already stopped" answering a resent stop says the first one was taken; answering
                # our only stop, it says Gladia stopped the recording itself (its limit), perhaps before our last audio.
                self._stop_acked = self._stop_acked or isinstance(content, StopAck) or self._stop_sends > 1
                if isinstance(content, StopAck) and content.left_to_process is not None:
                    self._left_to_process = content.left_to_process
            self._take_stop()  # a 409 "Recording already stopped" answers a resent stop: the first one was taken
        elif isinstance(content, Refusal):
            self._emit(Notice(f"Gladia did not acknowledge {content.kind}: {content.message}"))
        elif isinstance(content, Transcript):
            if self._finals.fresh(content):
                self._emit(content)
        elif isinstance(content, (Translation, Speech, Entities, Sentiments, AddonFailed)):
            self._emit(content)
        elif isinstance(content, FinalResult):
            self._final_result = content.result
        elif isinstance(content, Summary):
            self._summary = content.text
        elif isinstance(content, ServerError):
            self._emit(Notice(f"Gladia reported an error in {content.kind}: {content.message}"))

    def _take_stop(self) -> None:
        """Gladia has the stop, so it has every byte sent before it: nothing is left to resend, ever."""
        with self._lock:
            if not self._stop_sent_ever:
                return  # not an answer to our stop
            self._stop_taken = True
            self._post_processing = True
        self._buffer.ack(self._buffer.numbered)
        if self._on_ack is not None:
            self._on_ack(self._buffer.numbered)
        self._wake.set()
