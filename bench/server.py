"""A lean loopback Gladia live server for the benchmark: the protocol subset a streaming client needs, nothing kept.

`tests/emulator.py` records every byte and message it sees (hours of audio would sit in its memory and its JSON
bookkeeping would compete for the CPU), so the benchmark uses this instead:

- `POST /v2/live` answers 201 `{id, url, created_at}`;
- the WebSocket at `url` acknowledges each binary frame (or base64 `audio_chunk` message) with a half-open,
  session-global `byte_range`, and on `stop_recording` sends its ack, one `post_final_transcript` and closes 1000;
- `GET /v2/live/{id}` returns the finished job.

Per session it keeps only counters, and (when `keep_arrivals`) one arrival time and end offset per frame, for the
pacing figures. It runs its own event loop in a daemon thread and listens on 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import resource
import threading
import time
import uuid
from array import array
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from aiohttp import WSMsgType, web

WS_PATH = "/v2/live/ws"
FINAL_TEXT = "Benchmark complete."


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _thread_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_THREAD)
    return usage.ru_utime + usage.ru_stime


@dataclass
class SessionStats:
    """What the server saw of one live session; times are `time.perf_counter()` seconds."""

    id: str
    token: str
    created_at: str
    bytes_per_second: float
    created: float = 0.0  # POST /v2/live answered
    ws_open: float | None = None  # WebSocket handshake done
    closed: float | None = None  # WebSocket closed (after the close 1000)
    frames: int = 0
    bytes: int = 0
    text_frames: int = 0
    first_arrival: float | None = None
    last_arrival: float | None = None
    stop_at: float | None = None
    ended: bool = False
    server_cpu: float = 0.0  # CPU seconds of the server thread while this session's socket was open
    arrivals: array = field(default_factory=lambda: array("d"))
    ends: array = field(default_factory=lambda: array("q"))

    @property
    def audio_seconds(self) -> float:
        return self.bytes / self.bytes_per_second


class BenchServer:
    """Start it, point a client at `base_url` (any API key), read `sessions` afterwards."""

    def __init__(self, *, keep_arrivals: bool = True) -> None:
        self.keep_arrivals = keep_arrivals
        self.sessions: dict[str, SessionStats] = {}
        self.base_url = ""
        self.port = 0
        self._tokens: dict[str, SessionStats] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None

    # -- lifecycle --

    def start(self) -> BenchServer:
        ready = threading.Event()
        failure: list[BaseException] = []
        loop = asyncio.new_event_loop()
        self._loop = loop

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self._serve())
            except BaseException as exc:
                failure.append(exc)
                ready.set()
                return
            ready.set()
            loop.run_forever()
            loop.close()

        self._thread = threading.Thread(target=run, name="bench-server", daemon=True)
        self._thread.start()
        if not ready.wait(10) or failure:
            raise RuntimeError("benchmark server did not start") from (failure[0] if failure else None)
        return self

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        self._loop = self._thread = None

    def __enter__(self) -> BenchServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def session_for(self, session_id: str) -> SessionStats:
        return self.sessions[session_id]

    def latest(self) -> SessionStats | None:
        return next(reversed(self.sessions.values()), None)

    def wait_ended(self, session_id: str, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            stats = self.sessions.get(session_id)
            if stats is not None and stats.ended:
                return True
            time.sleep(0.01)
        return False

    # -- HTTP --

    async def _serve(self) -> None:
        app = web.Application(client_max_size=4 * 1024 * 1024)
        app.router.add_get(WS_PATH, self._ws_handler)
        app.router.add_post("/v2/live", self._init_handler)
        app.router.add_get("/v2/live/{id}", self._get_handler)
        runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self._runner = runner
        self.port = int(runner.addresses[0][1])
        self.base_url = f"http://127.0.0.1:{self.port}"

    async def _init_handler(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return web.json_response({"statusCode": 400, "message": "body must be a JSON object"}, status=400)
        rate = int(body.get("sample_rate") or 16000)
        channels = int(body.get("channels") or 1)
        bits = int(body.get("bit_depth") or 16)
        stats = SessionStats(
            id=str(uuid.uuid4()),
            token=uuid.uuid4().hex,
            created_at=now_iso(),
            bytes_per_second=rate * channels * bits / 8,
            created=time.perf_counter(),
        )
        self.sessions[stats.id] = stats
        self._tokens[stats.token] = stats
        url = f"ws://127.0.0.1:{self.port}{WS_PATH}?token={stats.token}"
        return web.json_response({"id": stats.id, "created_at": stats.created_at, "url": url}, status=201)

    async def _get_handler(self, request: web.Request) -> web.Response:
        stats = self.sessions.get(request.match_info["id"])
        if stats is None:
            return web.json_response({"statusCode": 404, "message": "not found"}, status=404)
        job = {
            "id": stats.id,
            "request_id": "G-" + stats.id[:8],
            "version": 2,
            "status": "done" if stats.ended else "processing",
            "created_at": stats.created_at,
            "kind": "live",
            "result": self._result(stats) if stats.ended else None,
        }
        return web.json_response(job)

    # -- WebSocket --

    def _result(self, stats: SessionStats) -> dict[str, Any]:
        duration = round(stats.audio_seconds, 3)
        utterance = {
            "start": 0.0,
            "end": min(duration, 1.0),
            "confidence": 1.0,
            "channel": 0,
            "words": [],
            "text": " " + FINAL_TEXT,
            "language": "en",
        }
        return {
            "metadata": {
                "audio_duration": duration,
                "number_of_distinct_channels": 1,
                "billing_time": duration,
                "transcription_time": 0.0,
            },
            "transcription": {"full_transcript": FINAL_TEXT, "languages": ["en"], "utterances": [utterance]},
        }

    async def _ws_handler(self, request: web.Request) -> web.StreamResponse:
        stats = self._tokens.get(request.query.get("token", ""))
        if stats is None:
            return web.json_response({"statusCode": 401, "message": "invalid token"}, status=401)
        ws = web.WebSocketResponse(compress=False, max_msg_size=2 * 1024 * 1024)
        await ws.prepare(request)
        stats.ws_open = time.perf_counter()
        cpu0 = _thread_cpu()
        # Every ack shares this prefix; only the ranges and the timestamp change.
        prefix = f'{{"session_id":"{stats.id}","type":"audio_chunk","acknowledged":true,"error":null,"created_at":"'
        bps = stats.bytes_per_second
        clock = time.perf_counter
        keep = self.keep_arrivals
        try:
            async for msg in ws:
                if msg.type == WSMsgType.BINARY:
                    audio: bytes | None = msg.data
                elif msg.type == WSMsgType.TEXT:
                    stats.text_frames += 1
                    audio = await self._on_text(stats, ws, msg.data)
                else:
                    break
                if audio is None or stats.stop_at is not None:
                    continue
                now = clock()
                start = stats.bytes
                end = start + len(audio)
                stats.bytes = end
                stats.frames += 1
                if stats.first_arrival is None:
                    stats.first_arrival = now
                stats.last_arrival = now
                if keep:
                    stats.arrivals.append(now)
                    stats.ends.append(end)
                await ws.send_str(
                    f'{prefix}{now_iso()}","data":{{"byte_range":[{start},{end}],'
                    f'"time_range":[{start / bps:.6f},{end / bps:.6f}]}}}}'
                )
        finally:
            stats.server_cpu += _thread_cpu() - cpu0
            stats.closed = time.perf_counter()
        return ws

    async def _on_text(self, stats: SessionStats, ws: web.WebSocketResponse, text: str) -> bytes | None:
        """Audio for a base64 `audio_chunk`; None after handling anything else (stop_recording)."""
        try:
            message = json.loads(text)
        except ValueError:
            return None
        if not isinstance(message, dict):
            return None
        kind = message.get("type")
        if kind == "audio_chunk":
            data = message.get("data")
            try:
                return base64.b64decode((data or {}).get("chunk", ""), validate=True)
            except (binascii.Error, ValueError, AttributeError):
                return None
        if kind == "stop_recording" and stats.stop_at is None:
            stats.stop_at = time.perf_counter()
            duration = round(stats.audio_seconds, 3)
            base = {"session_id": stats.id, "created_at": now_iso()}
            ack_data = {"recording_duration": duration, "recording_left_to_process": 0.0}
            stop_ack = {**base, "type": "stop_recording", "acknowledged": True, "error": None, "data": ack_data}
            await ws.send_str(json.dumps(stop_ack))
            final = {**base, "type": "post_final_transcript", "data": self._result(stats)}
            await ws.send_str(json.dumps(final))
            stats.ended = True
            await ws.close(code=1000, message=b"session ended")
        return None
