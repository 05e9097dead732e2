"""One live session from POST /v2/live to its result, for any owner: `Client.live()` and the command's runner.

The stream creates the session (on a helper thread, so the owner can keep drawing while it waits), starts the
`LiveSession` that streams the source, hands its events over in order, and fetches the session's result from
GET /v2/live/:id at the end. It never prints: what happens arrives as events.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from gladia_cli.audio.format import BUFFER_SECONDS, AudioSource
from gladia_cli.live.connection import ReconnectPolicy
from gladia_cli.live.events import Ended, Event, Progress
from gladia_cli.live.session import LiveSession
from gladia_cli.output.result import Result

if TYPE_CHECKING:
    from gladia_cli.api import GladiaApi

RESULT_TIMEOUT = 600.0  # seconds the session's result may stay `processing` after the socket closed


class LiveStream:
    """Iterate it for the session's events, `Ended` last; `stop()` ends it gracefully (Gladia post-processes what it
    holds), `abort()` at once; `result()` is the session's job as Gladia keeps it. A context manager: leaving it
    aborts a session still running, joins its threads and closes the source."""

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
    ) -> None:
        self.api = api
        self.source = source
        self.body = body
        self.session_id: str | None = None
        self.warnings: list[str] = []  # values sent though this version does not know them (Gladia is the judge)
        self.ended: Ended | None = None
        self._url: str | None = None
        self._session: LiveSession | None = None
        self._options = {
            "duration": duration,
            "policy": policy,
            "buffer_seconds": buffer_seconds,
            "emit_messages": emit_messages,
            "emit_acks": emit_acks,
        }
        self._on_close = on_close

    # -- the session's life --

    def create(self, tick: Callable[[], None] | None = None, every: float = 0.1) -> str:
        """POST /v2/live with the body; return the session id. `tick` runs on this thread every `every` seconds while
        Gladia answers (the source is already recording: what is said meanwhile waits in it)."""
        if self.session_id is not None:
            return self.session_id
        done = threading.Event()
        outcome: list[Any] = []

        def create() -> None:
            try:
                outcome.append(self.api.init_live(self.body))
            except BaseException as exc:  # handed to the owner's thread, raised there
                outcome.append(exc)
            finally:
                done.set()

        threading.Thread(target=create, name="gladia-create", daemon=True).start()
        while not done.wait(every):
            if tick is not None:
                tick()
        if isinstance(outcome[0], BaseException):
            raise outcome[0]
        created: dict[str, Any] = outcome[0]
        self.session_id, self._url = created["id"], created["url"]
        return created["id"]

    def start(
        self, on_audio: Callable[[bytes], None] | None = None, on_ack: Callable[[int], None] | None = None
    ) -> None:
        """Stream the source. `on_audio` sees every chunk first (a local copy), `on_ack` each offset Gladia
        acknowledged up to."""
        if self._session is not None:
            return
        self.create()
        assert self.session_id is not None and self._url is not None
        self._session = LiveSession(
            session_id=self.session_id,
            url=self._url,
            source=self.source,
            fmt=self.source.format,
            on_audio=on_audio,
            on_ack=on_ack,
            **self._options,  # type: ignore[arg-type]
        )
        self._session.start()

    @property
    def session(self) -> LiveSession:
        if self._session is None:
            raise RuntimeError("the stream is not started")
        return self._session

    def next_event(self, timeout: float | None = None) -> Event | None:
        """The next event, or None after `timeout` seconds without one."""
        try:
            event = self.session.events.get(timeout=timeout)
        except queue.Empty:
            return None
        if isinstance(event, Ended):
            self.ended = event
        return event

    def __iter__(self) -> Iterator[Event]:
        self.start()
        while self.ended is None:
            event = self.next_event(0.5)
            if event is not None:
                yield event

    def stop(self) -> None:
        """Stop recording: the audio still buffered is sent, then Gladia post-processes and the events end."""
        self.session.request_stop()

    def abort(self) -> None:
        if self._session is not None:
            self._session.abort()

    def progress(self) -> Progress:
        return self.session.progress()

    @property
    def finished(self) -> bool:
        return self._session is not None and self._session.ended

    def result(
        self, *, timeout: float = RESULT_TIMEOUT, on_poll: Callable[[dict[str, Any]], None] | None = None
    ) -> Result:
        """The session's job (GET /v2/live/:id), waited for until done or failed."""
        if self.session_id is None:
            raise RuntimeError("the session was never created")
        return Result.from_job(self.job(timeout=timeout, on_poll=on_poll), kind="live")

    def job(
        self, *, timeout: float = RESULT_TIMEOUT, on_poll: Callable[[dict[str, Any]], None] | None = None
    ) -> dict[str, Any]:
        """`result()` as Gladia's JSON."""
        if self.session_id is None:
            raise RuntimeError("the session was never created")
        return self.api.wait_live(self.session_id, timeout=timeout, on_poll=on_poll)

    def close(self) -> None:
        """Abort a session still running, join its threads, close the source; safe to call more than once."""
        try:
            if self._session is not None:
                if not self._session.ended:
                    self._session.abort()  # an exception must not leave the session open on Gladia's side
                self._session.join()
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


__all__ = ["LiveStream"]
