"""The HTTP side of Gladia: every REST call goes through `GladiaApi.request` (timeouts, retries with backoff, errors
mapped to exit codes, the key kept to Gladia's own host); live session init and results live here too."""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable, Collection
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from gladia_cli.errors import ApiError, AuthError, NetworkError, UsageError
from gladia_cli.settings import Settings
from gladia_cli.version import __version__

if TYPE_CHECKING:
    import requests

RETRY_STATUSES = frozenset({408, 429, *range(500, 600)})
# Statuses that say the request was not acted on (HTTP semantics): safe to resend even a billed creation.
NOT_PROCESSED_STATUSES = frozenset({429, 503})
# Statuses after which a creation may or may not have happened (a proxy answering for a Gladia that acted).
MAYBE_PROCESSED_STATUSES = frozenset({408, 500, 502, 504})
TERMINAL_STATUSES = ("done", "error")
# A whole answer (headers and body) must arrive within this: a server that trickles a byte every few seconds would
# otherwise keep every read under the per-read timeout forever. Uploads, which send our own bytes, have none.
TOTAL_DEADLINE = 60.0
# Far above any real result (3 hours with every word and subtitles is under 20 MB); beyond it a body is refused, not
# read: parsed, 64 MB of JSON is already some 600 MB of Python objects.
MAX_BODY_BYTES = 64 * 1024 * 1024
# What a session or job id may be: it names a journal directory, and goes into URLs and every message we print.
SESSION_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}")


class _DeadlineExceeded(Exception):
    """The whole exchange took longer than its deadline."""


class _BodyTooLarge(Exception):
    """The answer's body is larger than MAX_BODY_BYTES."""


def _backoff(attempt: int, retry_after: str | None) -> float:
    """Exponential with jitter, capped; a Retry-After is honoured as the least wait (a server that says "0" ten
    times would otherwise get ten retries in a row, and a burst of 429s would end a batch in half a second)."""
    delay = min(0.3 * 2**attempt, 10.0) * random.uniform(0.5, 1.0)
    if retry_after:
        try:
            return max(delay, min(float(retry_after), 60.0))
        except ValueError:
            pass
    return delay


def _error_text(response: requests.Response) -> str:
    """Gladia's error envelope: message, validation_errors and request_id; fall back to the raw body."""
    try:
        data = response.json()
    except ValueError:
        data = None
    if isinstance(data, dict):
        message = str(data.get("message") or response.reason or "error")
        errors = data.get("validation_errors")
        if isinstance(errors, list) and errors:
            message += ": " + "; ".join(str(e) for e in errors)
        request_id = data.get("request_id") or data.get("requestId")
        if request_id:
            message += f" (request {request_id})"
        return message
    text = " ".join(response.text.split())[:200]
    return text or (response.reason or "no details")


def _path(response: requests.Response) -> str:
    from urllib.parse import urlsplit

    return urlsplit(str(response.request.url or "")).path or "/"


def _origin(url: str) -> tuple[str, str]:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return parts.scheme, parts.netloc.lower()


def _key_keeping_session_class() -> type:
    import requests

    class KeyKeepingSession(requests.Session):
        """requests drops `Authorization` on a redirect to another host, but not a custom header: drop ours too."""

        def rebuild_auth(self, prepared_request: Any, response: Any) -> None:
            if _origin(prepared_request.url) != _origin(response.request.url):
                for name in list(prepared_request.headers):
                    if name.lower().startswith("x-gladia-"):
                        del prepared_request.headers[name]
            super().rebuild_auth(prepared_request, response)

    return KeyKeepingSession


def _never_sent(exc: Exception) -> bool:
    """A refused, unresolvable or timed-out connect: the request never left, so even a creation may be retried."""
    import requests

    text = repr(exc)
    return isinstance(exc, requests.exceptions.ConnectTimeout) or any(
        marker in text for marker in ("NewConnectionError", "NameResolutionError", "ConnectionRefused")
    )


def check_live_url(url: str, api_url: str) -> None:
    """The session's WebSocket url, as POST /v2/live gave it: ws or wss with a host, and never a cleartext ws://
    under an https API (the audio and the session's token would go in the clear; a plain-http API URL, as for a
    local emulator or proxy, asked for that already). The url itself is a credential: it is never printed."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is no number
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("ws", "wss") or not parts.hostname:
        raise ApiError("Gladia's answer to POST /v2/live holds no valid WebSocket url (ws:// or wss:// and a host)")
    if parts.scheme == "ws" and urlsplit(api_url).scheme == "https":
        raise ApiError(
            "Gladia's answer to POST /v2/live offers a cleartext ws:// url under an https API: refused, so the audio "
            "and the session's token are not sent unencrypted",
            hint="check `api_url` and any proxy in between",
        )


class GladiaApi:
    """One requests.Session per command; every call has a timeout; 429/5xx are retried, 4xx never."""

    def __init__(self, settings: Settings, *, max_attempts: int = 4, sleep: Callable[[float], None] = time.sleep):

        self.settings = settings
        self.max_attempts = max_attempts
        self._sleep = sleep
        self._session = _key_keeping_session_class()()
        self._session.headers.update(
            {"x-gladia-key": settings.api_key, "x-gladia-version": f"gladia-cli/{__version__}"}
        )

    def close(self) -> None:
        self._session.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,  # a value may be a list: a repeated query key
        timeout: float = 10.0,
        idempotent: bool = True,
        data: Any = None,
        files: Any = None,
        headers: dict[str, str] | None = None,
        stream: bool = False,
        accept: Collection[int] = (),
        retry: Collection[int] = RETRY_STATUSES,
        retry_once: Collection[int] = (),
    ) -> requests.Response:
        """`data` may be a rewindable file-like body (it is `seek(0)`-ed before a retry); statuses in `accept`
        are returned to the caller instead of raised or retried, for routes where they mean something specific;
        `retry` lists the statuses worth another try (a billed creation: only those that say nothing was done),
        `retry_once` those worth one more try at most (the first may have been acted on). A refusal after such a
        try says so: the first attempt may hold what was asked for."""
        import requests

        url = self.settings.api_url + path
        timeouts = 0
        maybe_done: int | None = None  # the status of a retried attempt that may have been acted on
        for attempt in range(self.max_attempts):
            last = attempt == self.max_attempts - 1
            if attempt and hasattr(data, "seek"):
                data.seek(0)  # a streamed body was (partly) consumed by the failed attempt
            try:
                response = self._bounded(
                    None if data is not None or files is not None else TOTAL_DEADLINE,
                    method,
                    url,
                    json=json,
                    params=params,
                    timeout=timeout,
                    data=data,
                    files=files,
                    headers=headers,
                    stream=stream,
                )
            except _DeadlineExceeded:
                # Not retried: a server that trickles its answer will trickle it again.
                raise NetworkError(
                    f"{self.settings.api_url} did not finish answering within {TOTAL_DEADLINE:g} s"
                ) from None
            except _BodyTooLarge:
                raise ApiError(
                    f"Gladia's answer is larger than {MAX_BODY_BYTES // (1024 * 1024)} MB: refused, not read"
                ) from None
            except requests.exceptions.Timeout:
                # A timed-out creation may have happened server-side: retrying could start a second session.
                # A server that did not answer twice will not answer a third time: fail in bounded time.
                timeouts += 1
                if last or not idempotent or timeouts >= 2:
                    raise NetworkError(f"{self.settings.api_url} did not answer within {timeout:g} s") from None
                self._sleep(_backoff(attempt, None))
                continue
            except requests.exceptions.InvalidURL:
                raise UsageError(f"invalid API URL {self.settings.api_url!r}") from None
            except requests.exceptions.RequestException as exc:
                # A creation that may have reached the server must not be sent twice: retry only a failed connect.
                if last or (not idempotent and not _never_sent(exc)):
                    reason = type(exc).__name__
                    raise NetworkError(
                        f"cannot reach {self.settings.api_url} ({reason})",
                        hint=self.settings.check_url_hint(),
                    ) from None
                self._sleep(_backoff(attempt, None))
                continue
            if response.status_code in accept:
                return response
            if response.status_code in retry_once and maybe_done is None and not last:
                maybe_done = response.status_code
                self._sleep(_backoff(attempt, response.headers.get("Retry-After")))
                continue
            # After an attempt that may have been acted on, a 429 is likely that attempt holding the slot: say so now.
            held = maybe_done is not None and response.status_code == 429
            if response.status_code in retry and not last and not held:
                if stream:
                    response.close()  # give the unread connection back to the pool
                self._sleep(_backoff(attempt, response.headers.get("Retry-After")))
                continue
            if response.status_code >= 400:
                error = self._error(response)
                if maybe_done is not None and isinstance(error, ApiError):
                    first = f"a first attempt answered {maybe_done} and may have created one"
                    message = (
                        f"Gladia refused the session (429: {_error_text(response)}): {first}, holding the slot"
                        if held
                        else f"{error.message}; {first}"
                    )
                    hint = "`gladia list --kind live` shows recent sessions; `gladia delete ID` ends one"
                    error = ApiError(message, hint=hint, status=error.status)
                raise error
            return response
        raise AssertionError("unreachable")

    def _bounded(self, deadline: float | None, method: str, url: str, **kwargs: Any) -> requests.Response:
        """One exchange, its body read here (unless the caller streams it) and bounded in size; with a `deadline`,
        run in a worker thread so that the whole of it, not each read, is bounded in time. A worker past its
        deadline is left to die with its socket: nothing waits for it."""
        if deadline is None:
            return self._exchange(method, url, **kwargs)
        import queue
        import threading

        box: queue.Queue[tuple[requests.Response | None, BaseException | None]] = queue.Queue(maxsize=1)

        def work() -> None:
            try:
                box.put((self._exchange(method, url, **kwargs), None))
            except BaseException as exc:
                box.put((None, exc))

        threading.Thread(target=work, name="gladia-http", daemon=True).start()
        try:
            response, error = box.get(timeout=deadline)
        except queue.Empty:
            raise _DeadlineExceeded from None
        if error is not None:
            raise error
        assert response is not None
        return response

    def _exchange(self, method: str, url: str, *, stream: bool, **kwargs: Any) -> requests.Response:
        response = self._session.request(method, url, stream=True, **kwargs)
        if stream:
            return response
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            response.close()
            raise _BodyTooLarge
        body = bytearray()
        try:
            for chunk in response.iter_content(chunk_size=256 * 1024):
                body += chunk
                if len(body) > MAX_BODY_BYTES:
                    raise _BodyTooLarge
        except BaseException:
            response.close()  # a body read to its end gives its connection back to the pool; this one is dropped
            raise
        # What requests itself sets when it reads a body: the response then behaves as a non-streamed one.
        response._content = bytes(body)
        response._content_consumed = True
        return response

    def _error(self, response: requests.Response) -> Exception:
        status = response.status_code
        text = _error_text(response).removeprefix(f"{status}: ")  # a server's "404: Not Found" after our "404: "
        if status == 401:
            source = self.settings.key_source
            if source in ("--api-key", "GLADIA_API_KEY"):
                hint = f"check the key given by {source}"
            else:  # a saved key: say which file, and how to replace it
                hint = f"the key comes from {source}; replace it with `gladia auth set`"
            return AuthError(f"Gladia refused the API key (401: {text})", hint=hint)
        if status == 403:
            return AuthError(
                f"Gladia refused access (403: {text})",
                hint="this key may not be allowed to do that (zero-data-retention accounts cannot read results back)",
            )
        if status == 429:
            return ApiError(
                f"Gladia is rate limiting this key (429: {text})", hint="wait a moment and retry", status=429
            )
        if status == 404:  # the routes we call exist: a 404 here means the URL leads somewhere else
            return ApiError(
                f"{self.settings.api_url} answered 404 ({text}) to {response.request.method} {_path(response)}",
                hint=f"is it Gladia's API? check the URL given by {self.settings.url_source}",
                status=404,
            )
        return ApiError(f"Gladia answered {status}: {text}", status=status)

    def parse_json(self, response: requests.Response) -> dict[str, Any]:
        from gladia_cli.strict_json import load_json

        try:
            data = load_json(response.content)
        except ValueError:  # NaN/Infinity, bad UTF-8, 100,000-deep nesting
            raise ApiError(f"Gladia answered {response.status_code} with a body that is not JSON") from None
        if not isinstance(data, dict):
            raise ApiError(f"Gladia answered {response.status_code} with unexpected JSON")
        return data

    def init_live(self, body: dict[str, Any]) -> dict[str, Any]:
        """POST /v2/live: returns {id, url, created_at}; the url is a credential and is never printed."""
        params = {"region": self.settings.region} if self.settings.region else None
        # Not idempotent: what says nothing was done is retried; what may have created a session, once at most
        # (a second session would take a second concurrency slot, and the Free plan has one).
        response = self.request(
            "POST",
            "/v2/live",
            json=body,
            params=params,
            idempotent=False,
            retry=NOT_PROCESSED_STATUSES,
            retry_once=MAYBE_PROCESSED_STATUSES,
        )
        data = self.parse_json(response)
        if not isinstance(data.get("id"), str) or not isinstance(data.get("url"), str):
            raise ApiError("Gladia's answer to POST /v2/live has no session id or url")
        if not SESSION_ID.fullmatch(data["id"]):  # it names a journal directory and goes in every message we print
            raise ApiError("Gladia's answer to POST /v2/live has a session id that is not one (letters, digits, _ -)")
        check_live_url(data["url"], self.settings.api_url)
        return data

    def get_live(self, session_id: str) -> dict[str, Any]:
        try:
            return self.parse_json(self.request("GET", f"/v2/live/{quote(session_id, safe='')}"))
        except ApiError as exc:
            if exc.status == 404:
                raise ApiError(f"no live session {session_id!r}", hint="check the id", status=404) from None
            raise

    def poll(
        self,
        fetch: Callable[[], dict[str, Any]],
        *,
        label: str,
        resume: str,
        timeout: float,
        interval: float,
        on_poll: Callable[[dict[str, Any]], None] | None = None,
    ) -> dict[str, Any]:
        """Call `fetch()` until the job is terminal (done or error), at most `timeout` seconds.

        Live and pre-recorded jobs share it; `resume` tells the user how to pick the job up again if we give up.
        """
        deadline = time.monotonic() + timeout
        while True:
            try:
                job = fetch()
            except NetworkError as exc:
                raise NetworkError(exc.message, hint=resume) from None
            if job.get("status") in TERMINAL_STATUSES:
                return job
            if on_poll:
                on_poll(job)
            if time.monotonic() >= deadline:
                raise NetworkError(f"{label} still {job.get('status')} after {timeout:g} s", hint=resume)
            self._sleep(interval)

    def wait_live(
        self,
        session_id: str,
        *,
        timeout: float = 600.0,
        interval: float = 1.0,
        on_poll: Callable[[dict[str, Any]], None] | None = None,
    ) -> dict[str, Any]:
        """Right after the socket closes the job may still be `processing`: poll until it is terminal."""
        return self.poll(
            lambda: self.get_live(session_id),
            label=f"session {session_id}",
            resume=f"fetch it later with `gladia result {session_id} --wait`",
            timeout=timeout,
            interval=interval,
            on_poll=on_poll,
        )


KEY_PROBE_TIMEOUT = 5.0


def probe_key(settings: Settings) -> int:
    """The status of one cheap authenticated GET (the newest live session), asked once: 200 the key is accepted,
    401 refused, 403 accepted without the right to list sessions. NetworkError when Gladia cannot be reached."""
    api = GladiaApi(settings, max_attempts=1)
    try:
        response = api.request("GET", "/v2/live", params={"limit": "1"}, timeout=KEY_PROBE_TIMEOUT, accept=(401, 403))
    finally:
        api.close()
    return int(response.status_code)
