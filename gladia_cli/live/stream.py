"""One live recording from POST /v2/live to its result, for any owner: `Client.live()` and the command's runner.

The stream creates the session (on a helper thread, so the owner can keep drawing while it waits), starts the
`LiveSession` that streams the source, hands its events over in order, and fetches the session's result from
GET /v2/live/:id at the end. It never prints: what happens arrives as events.

A recording can outlast a Gladia session: Gladia ends one after 3 hours, and may end one a long pause outlived. So
the stream reads the source through a `Relay` and runs the recording as a chain of sessions, the parts. Before
`session_limit` the next session is created and takes over at a chunk boundary (the one before it stops, and
post-processes what it has); when Gladia ends a session itself, the next one starts from the first byte it did not
acknowledge, once there is audio to send. The owner sees one recording: event times on the recording's clock, one
`Ended` once every part has ended, one result joined from every session's.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from gladia_cli.audio.format import BUFFER_SECONDS, AudioSource
from gladia_cli.errors import ApiError, GladiaError, NetworkError
from gladia_cli.live import defaults
from gladia_cli.live.connection import ReconnectPolicy
from gladia_cli.live.events import (
    Ended,
    Entities,
    Event,
    Notice,
    Progress,
    Sentiments,
    Speech,
    State,
    StateChanged,
    Transcript,
    Translation,
)
from gladia_cli.live.relay import Relay, Share
from gladia_cli.live.session import LiveSession
from gladia_cli.output import job_json
from gladia_cli.output.clock import timestamp
from gladia_cli.output.result import Result

if TYPE_CHECKING:
    from gladia_cli.api import GladiaApi
    from gladia_cli.live.journal import JournalWriter

RESULT_TIMEOUT = 600.0  # seconds the session's result may stay `processing` after the socket closed
NEXT_SESSION_RETRY = 5.0  # seconds between two tries at creating the next session of a chain
# A server that ends every session at once must not have us open one a chunk: this many in a row ended by Gladia
# with less than SHORT_SESSION_SECONDS of audio each end the recording instead.
SHORT_SESSIONS = 3
SHORT_SESSION_SECONDS = 1.0

JournalFor = Callable[[str, dict[str, Any]], "JournalWriter"]
"""Opens the journal of one session of the recording: its id, and where it sits in the chain (kept in the journal's
metadata for `gladia recover`)."""


@dataclass
class Part:
    """One Gladia session of the recording: from `offset` bytes of the recording on."""

    number: int
    session_id: str
    url: str
    offset: int
    created: float  # monotonic
    share: Share | None = None
    session: LiveSession | None = None
    retiring: bool = False  # the next session takes over: its state and progress are no longer the recording's
    journal: JournalWriter | None = None
    ended: Ended | None = None
    job: dict[str, Any] | None = field(default=None, repr=False)


class LiveStream:
    """Iterate it for the recording's events, `Ended` last; `stop()` ends it gracefully (Gladia post-processes what
    it holds), `abort()` at once; `result()` is the recording's job as Gladia keeps it (joined when it took several
    sessions). A context manager: leaving it aborts a session still running, joins its threads and closes the
    source."""

    def __init__(
        self,
        api: GladiaApi,
        source: AudioSource,
        body: dict[str, Any],
        *,
        duration: float | None = None,
        policy: ReconnectPolicy | None = None,
        buffer_seconds: float = BUFFER_SECONDS,
        emit_messages: bool = False,
        emit_acks: bool = False,
        on_close: Callable[[], None] | None = None,
        session_limit: float = defaults.SESSION_LIMIT,
    ) -> None:
        self.api = api
        self.source = source
        self.body = body
        self.session_id: str | None = None  # the first session's: the recording's name in messages
        self.warnings: list[str] = []  # values sent though this version does not know them (Gladia is the judge)
        self.ended: Ended | None = None
        self.parts: list[Part] = []
        self.session_limit = session_limit
        self._fmt = source.format
        self._policy = policy or ReconnectPolicy()
        self._buffer_seconds = buffer_seconds
        self._emit_messages, self._emit_acks = emit_messages, emit_acks
        self._limit = None if duration is None else int(duration * self._fmt.sample_rate) * self._fmt.frame_bytes
        self._on_close = on_close
        self._relay: Relay | None = None
        self._journal_for: JournalFor | None = None
        self._events: queue.Queue[tuple[Part, Event]] = queue.Queue()
        self._stopping = False
        self._aborted = False
        self._final: Ended | None = None  # the last part's end, held until every part has ended
        self._done: Ended | None = None  # the recording's end, given after its DONE
        self._incoming: tuple[dict[str, Any], float] | None = None  # created, waiting for the one it replaces
        self._next: _Creation | None = None  # the next session, being created
        self._next_due = 0.0  # monotonic: when to try creating it again after a failure
        self._next_failures = 0
        self._short_ends = 0  # sessions in a row Gladia ended with almost no audio
        self.kept_journals: list[JournalWriter] = []  # of earlier parts that could not hand everything on

    # -- the session's life --

    def create(self, tick: Callable[[], None] | None = None, every: float = 0.1) -> str:
        """POST /v2/live with the body; return the session id. `tick` runs on this thread every `every` seconds while
        Gladia answers (the source is already recording: what is said meanwhile waits in it)."""
        if self.parts:
            return self.parts[0].session_id
        creation = _Creation(self.api, self.body)
        while not creation.done.wait(every):
            if tick is not None:
                tick()
        created = creation.outcome()
        self.session_id = created["id"]
        self.parts.append(Part(1, created["id"], created["url"], 0, creation.at))
        return created["id"]

    def start(self, on_audio: Callable[[bytes], None] | None = None, journal: JournalFor | None = None) -> None:
        """Stream the source. `on_audio` sees every chunk once, first (a local copy of the recording); `journal`
        opens each session's journal, which sees that session's audio and acknowledgements."""
        if self._relay is not None:
            return
        self.create()
        self._journal_for = journal
        self._relay = Relay(self.source, limit=self._limit, on_audio=on_audio)
        self._start_part(self.parts[0])

    def _start_part(self, part: Part, leftover: bytes = b"", after: threading.Event | None = None) -> None:
        assert self._relay is not None
        max_tail = max(int(self._buffer_seconds * self._fmt.bytes_per_second), self._fmt.chunk_bytes(1000))
        part.share = Share(self._relay, self._fmt, max_tail=max_tail, leftover=leftover, after=after)
        if self._journal_for is not None:
            part.journal = self._journal_for(part.session_id, self._chain_of(part))
        journal = part.journal
        share = part.share

        part.session = LiveSession(
            session_id=part.session_id,
            url=part.url,
            source=share,
            fmt=self._fmt,
            policy=self._policy,
            buffer_seconds=self._buffer_seconds,
            on_audio=journal.write if journal is not None else None,
            on_ack=journal.acknowledged if journal is not None else None,
            on_audio_ack=share.acknowledged,
            emit_messages=self._emit_messages,
            emit_acks=self._emit_acks,
            sink=lambda event: self._events.put((part, event)),
        )
        if self._stopping:
            share.drain()
        part.session.start()
        if self._stopping:
            part.session.request_stop()

    def _chain_of(self, part: Part) -> dict[str, Any]:
        """Where a session sits in the recording, for its journal (and so for `gladia recover`)."""
        return {
            "part": part.number,
            "offset_seconds": round(self._fmt.seconds(part.offset), 6),
            "earlier": [
                {"session_id": p.session_id, "offset_seconds": round(self._fmt.seconds(p.offset), 6)}
                for p in self.parts
                if p.number < part.number
            ],
        }

    @property
    def current(self) -> Part:
        if not self.parts or self.parts[-1].session is None:
            raise RuntimeError("the stream is not started")
        return self.parts[-1]

    @property
    def state(self) -> State:
        """The recording's state: a session handing over to the next one is still streaming, as far as it goes."""
        current = self.current
        assert current.session is not None
        if current.retiring:
            return State.STREAMING
        if current.ended is not None and self._final is None:
            return State.CONNECTING  # between sessions: the next one opens once there is audio to send
        return current.session.state

    @property
    def session(self) -> LiveSession:
        """The session the recording goes to now."""
        session = self.current.session
        assert session is not None
        return session

    @property
    def session_ids(self) -> list[str]:
        return [p.session_id for p in self.parts]

    @property
    def journal(self) -> JournalWriter | None:
        """The journal of the session the recording goes to now (earlier ones are the stream's to keep or drop)."""
        return self.parts[-1].journal if self.parts else None

    def next_event(self, timeout: float | None = None) -> Event | None:
        """The next event, or None after `timeout` seconds without one."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.ended is None:
            if self._done is not None:  # the recording's DONE went out: its Ended follows
                self.ended, self._done = self._done, None
                return self.ended
            self._keep_going()
            wait = 0.1 if deadline is None else min(0.1, max(0.0, deadline - time.monotonic()))
            try:
                part, event = self._events.get(timeout=wait)
            except queue.Empty:
                if self._final is not None and self._all_ended():
                    return self._finish()
                if deadline is not None and time.monotonic() >= deadline:
                    return None
                continue
            shown = self._translate(part, event)
            if shown is not None:
                return shown
            if self._final is not None and self._all_ended():
                return self._finish()
        return None

    def __iter__(self) -> Iterator[Event]:
        self.start()
        while self.ended is None:
            event = self.next_event(0.5)
            if event is not None:
                yield event

    # -- the chain --

    def _keep_going(self) -> None:
        """On the owner's thread, at each event or tenth of a second: open the next session when it is due, and
        switch to it once Gladia has created it."""
        if self._aborted or not self.parts or self.parts[-1].session is None:
            return
        current = self.parts[-1]
        if self._incoming is not None:
            self._take_over(current)
            return
        if self._next is not None:
            if self._next.done.is_set():
                if current.ended is None and (self._stopping or (self._relay and self._relay.ended.is_set())):
                    self._next = None  # the recording ends in this session: the one created is never used (nor billed)
                    return
                self._switch(current)
            return
        if self._final is not None:
            return
        now = time.monotonic()
        if current.ended is not None:  # Gladia ended it: go on once there is audio to send
            assert current.share is not None and self._relay is not None
            if self._relay.has_audio or current.share.has_leftover:
                if now >= self._next_due:
                    lost = current.session_id if current.ended.final_result is None else None
                    self._next = _Creation(self.api, self.body, ended=lost)
            elif (self._relay.ended.is_set() or self._stopping) and current.share.done.is_set():
                # Nothing left to send: the recording is whole. Only once its share has let go: a chunk it took as its
                # session ended is put back just after, and would be in neither place a moment earlier.
                self._final = replace(current.ended, error=None)
            return
        if self._stopping or now < self._next_due or self._relay is None or self._relay.ended.is_set():
            return  # nothing more will come to send: this session takes the rest
        assert current.share is not None
        age = now - current.created
        audio = self._fmt.seconds(current.share.handed_bytes)
        if age >= self.session_limit or audio >= self.session_limit:
            self._next = _Creation(self.api, self.body)

    def _switch(self, current: Part) -> None:
        assert self._next is not None and current.share is not None and current.session is not None
        creation, self._next = self._next, None
        try:
            created = creation.outcome()
        except GladiaError as exc:
            self._next_failures += 1
            self._next_due = time.monotonic() + NEXT_SESSION_RETRY
            if current.ended is not None and self._next_failures > self._policy.retries:
                self._give_up(current, exc)
                return
            what = "the next Gladia session could not be created"
            self._events.put((current, Notice(f"{what} ({exc.message}); trying again in {NEXT_SESSION_RETRY:g} s")))
            return
        self._next_failures = 0
        share = current.share
        if current.ended is None:
            # It ends at its next chunk boundary (at once if it waits for audio, later if its session is held up by
            # an outage); the next session starts from the chunk after, once it has (`_take_over`).
            share.release()
            current.retiring = True
            self._incoming = (created, creation.at)
            self._take_over(current)
            return
        share.done.wait(1.0)  # its session is over: its producer lets go within a fraction of a second
        share.acknowledged(self._held(current.ended.final_result or creation.ended_job))
        handed_on = share.leftover()  # what Gladia did not take: the next session sends it first
        offset = current.offset + share.handed_bytes - len(handed_on)
        self._begin(Part(len(self.parts) + 1, created["id"], created["url"], offset, creation.at), handed_on)
        if current.journal is not None:
            current.journal.discard()  # its unacknowledged audio went to the next session, and to its journal
            current.journal = None

    def _take_over(self, current: Part) -> None:
        """The next session, created before the limit, starts once the one it replaces has taken its last chunk."""
        assert self._incoming is not None and current.share is not None and self._relay is not None
        if not current.share.done.is_set():
            return
        created, at = self._incoming
        self._incoming = None
        if self._stopping and self._relay.ended.is_set() and not self._relay.has_audio:
            # The recording ended in the one before: this one is never used, and that one's end is the recording's.
            current.retiring = False
            if current.ended is not None:
                self._final = current.ended
            return
        self._begin(
            Part(len(self.parts) + 1, created["id"], created["url"], current.offset + current.share.handed_bytes, at)
        )

    def _begin(self, part: Part, handed_on: bytes = b"") -> None:
        previous = self.parts[-1]
        self.parts.append(part)
        self._start_part(part, leftover=handed_on, after=previous.share.done if previous.share else None)
        at = timestamp(self._fmt.seconds(part.offset))
        why = "Gladia ended the previous one" if previous.ended is not None else "before Gladia's session limit"
        self._events.put((part, Notice(f"session {part.number} ({part.session_id}) goes on at [{at}] ({why})")))

    def _held(self, result: dict[str, Any] | None) -> int:
        """Bytes of its share a session Gladia ended holds: its acks may lag what it received and transcribed, so
        the audio duration its result gives counts too (resending that would put it in two sessions)."""
        meta = job_json.result_of(result).get("metadata") if result else None
        seconds = job_json.seconds_value(meta.get("audio_duration")) if isinstance(meta, dict) else None
        if seconds is None:
            return 0
        frame = self._fmt.frame_bytes
        return int(seconds * self._fmt.bytes_per_second) // frame * frame

    def _give_up(self, current: Part, error: GladiaError) -> None:
        """No next session could be created after Gladia ended one: the audio not sent goes to the last journal."""
        assert current.ended is not None
        self._spill(current)
        message = f"Gladia ended session {current.session_id} and no next session could be created ({error.message})"
        self._final = replace(current.ended, error=NetworkError(message))

    def _spill(self, part: Part) -> None:
        """The recording cannot go on: what the source captured and no session took goes to the last journal, so
        `gladia recover` has it (a microphone cannot be asked again)."""
        assert self._relay is not None and part.session is not None
        self._relay.stop_reading()  # a producer waiting for the source gets its last chunks, and lets go
        part.session.join()  # it writes the journal: it is done before this thread does
        while True:
            try:
                chunk = self._relay.take()
            except Exception:
                break  # the source's own failure: its session has said it
            if chunk is None:
                break
            if part.journal is not None:
                part.journal.write(chunk)

    # -- events, on the recording's clock --

    def _translate(self, part: Part, event: Event) -> Event | None:
        """An event of one part as the owner sees it, or None when it is the chain's own business."""
        if isinstance(event, Ended):
            return self._part_ended(part, event)
        latest = part is self.parts[-1] and not part.retiring
        if isinstance(event, StateChanged):
            if not latest or event.state == State.DONE:
                return None  # the recording's state is its latest session's; DONE comes with the last Ended
            return event
        if isinstance(event, Progress):
            return self.progress() if latest else None
        if part.number == 1:
            return event
        seconds = self._fmt.seconds(part.offset)
        if isinstance(event, Transcript):
            utterance = None if event.utterance is None else job_json.shifted_utterance(event.utterance, seconds)
            return replace(
                event,
                utterance_id=_part_id(part, event.utterance_id),
                start=None if event.start is None else event.start + seconds,
                end=None if event.end is None else event.end + seconds,
                utterance=utterance,
            )
        if isinstance(event, Speech):
            return replace(event, time=None if event.time is None else event.time + seconds)
        if isinstance(event, (Translation, Entities, Sentiments)):
            return replace(event, utterance_id=_part_id(part, event.utterance_id))
        return event

    def _part_ended(self, part: Part, ended: Ended) -> Event | None:
        part.ended = ended
        session = part.session
        assert session is not None
        if part is not self.parts[-1] or part.retiring:
            return self._retired(part, ended)
        if self._final is None:
            if not self._aborted and (session.ended_by_gladia or self._unheld(part, ended)):
                assert part.share is not None
                short = self._fmt.seconds(part.share.handed_bytes) < SHORT_SESSION_SECONDS
                self._short_ends = self._short_ends + 1 if short else 0
                if self._short_ends >= SHORT_SESSIONS:
                    self._spill(part)
                    message = (
                        f"Gladia ended {self._short_ends} sessions in a row, each with under "
                        f"{SHORT_SESSION_SECONDS:g} s of audio; not opening another"
                    )
                    self._final = replace(ended, error=ApiError(message))
                    return None
                at = timestamp(self.progress().seconds_sent)
                if self._stopping:
                    return Notice(f"Gladia ended session {part.session_id} at [{at}]; the rest goes to a new session")
                return Notice(
                    f"Gladia ended session {part.session_id} at [{at}]; the recording goes on in a new session"
                )
            if ended.error is not None and not self._aborted:
                self._spill(part)
            self._final = ended
        return None

    def _unheld(self, part: Part, ended: Ended) -> bool:
        """A session that ended without Gladia acknowledging our stop (it had stopped the recording itself, at its
        limit, and refused ours) holds what its acks and its result say: audio sent after that needs a new one."""
        assert part.share is not None and part.session is not None
        if ended.error is not None or part.session.stop_acknowledged:
            return False
        part.share.acknowledged(self._held(ended.final_result))
        return part.share.has_leftover

    def _retired(self, part: Part, ended: Ended) -> Event | None:
        """A session the next one took over from has ended: its journal goes, unless Gladia lacks some of its audio."""
        journal, part.journal = part.journal, None
        if ended.error is None:
            if journal is not None:
                journal.discard()
            if self._unheld(part, ended):  # cut at Gladia's limit while it took its last audio: rare, never silent
                assert part.share is not None
                lost = self._fmt.seconds(len(part.share.leftover()))
                return Notice(
                    f"session {part.number} ({part.session_id}) ended without its last {lost:.1f} s of audio "
                    "(Gladia stopped it itself before they arrived)"
                )
            return None
        if journal is not None:
            journal.close()
            self.kept_journals.append(journal)
        return Notice(f"session {part.number} ({part.session_id}) ended badly: {ended.error.message}")

    def _all_ended(self) -> bool:
        pending = self._next is not None or self._incoming is not None
        return all(p.ended is not None or p.session is None for p in self.parts) and not pending

    def _finish(self) -> StateChanged:
        """The recording is over: DONE now, its `Ended` (every part's results joined) at the next call."""
        final = self._final
        assert final is not None
        if len(self.parts) > 1:
            parts = self.parts
            results = [(p.ended.final_result if p.ended else None, self._fmt.seconds(p.offset)) for p in parts]
            summaries = [p.ended.summary for p in parts if p.ended is not None and p.ended.summary]
            finals = [(r, at) for r, at in results if r is not None]
            joined = job_json.joined_jobs(finals) if len(finals) == len(results) else None
            final = replace(
                final,
                final_result=joined,
                summary="\n\n".join(s for s in summaries if s) or None,
                reconnections=sum(p.ended.reconnections for p in parts if p.ended is not None),
            )
        self._done = final
        return StateChanged(State.DONE)

    # -- control --

    def stop(self) -> None:
        """Stop recording: the audio still buffered is sent, then Gladia post-processes and the events end."""
        self._stopping = True
        current = self.current
        assert current.share is not None and current.session is not None and self._relay is not None
        current.share.drain()
        self._relay.stop_reading()
        if current.ended is None:
            current.session.request_stop()

    def abort(self) -> None:
        self._aborted = True
        self._stopping = True
        self._next = self._incoming = None  # a session created meanwhile is never used
        if self._relay is not None:
            self._relay.stop_reading()
        for part in self.parts:
            if part.session is not None:
                part.session.abort()
        current = self.parts[-1] if self.parts else None
        if current is not None and current.ended is not None and self._final is None:
            self._final = current.ended

    def progress(self) -> Progress:
        """The latest session's progress, its seconds counted on the recording's clock."""
        part = self.current
        progress = self.session.progress()
        before = self._fmt.seconds(part.offset)
        progress = replace(
            progress, seconds_sent=progress.seconds_sent + before, seconds_acked=progress.seconds_acked + before
        )
        if part.ended is not None and self._final is None:  # waiting for audio, or for Gladia to create the next
            return replace(
                progress, connected=False, between_sessions=True, seconds_buffered=self.source.buffered_seconds
            )
        return progress

    @property
    def finished(self) -> bool:
        return self.ended is not None or (bool(self.parts) and self._all_ended() and self._final is not None)

    def result(
        self, *, timeout: float = RESULT_TIMEOUT, on_poll: Callable[[dict[str, Any]], None] | None = None
    ) -> Result:
        """The recording's job (GET /v2/live/:id of each session, joined), waited for until done or failed."""
        if not self.parts:
            raise RuntimeError("the session was never created")
        return Result.from_job(self.job(timeout=timeout, on_poll=on_poll), kind="live")

    def job(
        self, *, timeout: float = RESULT_TIMEOUT, on_poll: Callable[[dict[str, Any]], None] | None = None
    ) -> dict[str, Any]:
        """`result()` as Gladia's JSON: one session's job, or the jobs of several joined (`sessions` lists them)."""
        if not self.parts:
            raise RuntimeError("the session was never created")
        for part in self.parts:
            if part.job is None or part.job.get("status") not in ("done", "error"):
                part.job = self.api.wait_live(part.session_id, timeout=timeout, on_poll=on_poll)
        return job_json.joined_jobs([(p.job or {}, self._fmt.seconds(p.offset)) for p in self.parts])

    def close(self) -> None:
        """Abort a session still running, join its threads, close the source; safe to call more than once."""
        try:
            for part in self.parts:
                if part.session is not None:
                    if not part.session.ended:
                        part.session.abort()  # an exception must not leave the session open on Gladia's side
                    part.session.join()
        finally:
            self.source.close()
            if self._on_close is not None:
                self._on_close()
                self._on_close = None

    def __enter__(self) -> LiveStream:
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Creation:
    """POST /v2/live on a helper thread: the owner keeps drawing while Gladia answers. `ended`: a session Gladia
    ended without its result reaching us; its job (GET /v2/live/:id) is read first, for what it holds."""

    def __init__(self, api: GladiaApi, body: dict[str, Any], ended: str | None = None) -> None:
        self.done = threading.Event()
        self.at = time.monotonic()  # Gladia's clock for the session's life starts about now
        self.ended_job: dict[str, Any] | None = None
        self._outcome: list[Any] = []

        def create() -> None:
            try:
                if ended is not None:
                    with contextlib.suppress(GladiaError):
                        job = api.get_live(ended)
                        self.ended_job = job_json.result_of(job) if job.get("status") == "done" else None
                self._outcome.append(api.init_live(body))
            except BaseException as exc:  # handed to the owner's thread, raised there
                self._outcome.append(exc)
            finally:
                self.done.set()

        threading.Thread(target=create, name="gladia-create", daemon=True).start()

    def outcome(self) -> dict[str, Any]:
        self.done.wait()
        if isinstance(self._outcome[0], BaseException):
            raise self._outcome[0]
        created: dict[str, Any] = self._outcome[0]
        return created


def _part_id(part: Part, utterance_id: str) -> str:
    """Utterance ids are a session's own: those of later sessions are told apart by the session's number."""
    return f"{utterance_id}@{part.number}"


__all__ = ["LiveStream", "Part"]
