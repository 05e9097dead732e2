"""The Gladia emulator itself, driven with plain `requests` and `websocket-client`."""

from __future__ import annotations

import base64
import itertools
import json
import re
import struct
from typing import Any

import pytest
import requests
import websocket

if __package__:
    from .emulator import MAX_FRAME_BYTES, GladiaEmulator
else:
    from emulator import MAX_FRAME_BYTES, GladiaEmulator

KEY = {"x-gladia-key": "test-key"}
CHUNK = 3200  # 100 ms of 16 kHz mono 16-bit PCM
ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
ENVELOPE_KEYS = {"timestamp", "path", "request_id", "statusCode", "message"}


def post_live(emu: GladiaEmulator, body: Any = None, **kwargs: Any) -> requests.Response:
    kwargs.setdefault("headers", KEY)
    if body is not None:
        kwargs["json"] = body
    return requests.post(f"{emu.base_url}/v2/live", timeout=5, **kwargs)


def connect(url: str) -> websocket.WebSocket:
    return websocket.create_connection(url, timeout=5)


def pcm(n_bytes: int, seed: int = 0) -> bytes:
    return bytes((seed + i) % 251 for i in range(n_bytes))


def read_until_close(ws: websocket.WebSocket) -> tuple[list[dict], int]:
    """Every JSON message until the server's close frame, and that frame's status code; then the socket is closed."""
    messages: list[dict] = []
    try:
        while True:
            opcode, data = ws.recv_data(control_frame=True)  # answers a close frame before returning it
            if opcode == websocket.ABNF.OPCODE_CLOSE:
                return messages, struct.unpack("!H", data[:2])[0]
            if opcode == websocket.ABNF.OPCODE_TEXT:
                messages.append(json.loads(data))
    finally:
        ws.shutdown()


def recv_json(ws: websocket.WebSocket) -> dict:
    return json.loads(ws.recv())


def stop(ws: websocket.WebSocket) -> None:
    ws.send(json.dumps({"type": "stop_recording"}))


def assert_envelope(body: dict, status: int, path: str) -> None:
    assert body.keys() >= ENVELOPE_KEYS
    assert body["statusCode"] == status
    assert body["path"] == path
    assert re.fullmatch(r"G-[0-9a-f]{8}", body["request_id"])
    assert ISO_MS.match(body["timestamp"])


# --------------------------------------------------------------------------------------------------------------------
# REST
# --------------------------------------------------------------------------------------------------------------------


def test_init_answers_201_with_id_created_at_and_ws_url(emulator: GladiaEmulator) -> None:
    body = {"sample_rate": 16000, "custom_metadata": {"source": "test"}, "unknown_key": 1}
    response = post_live(emulator, body)

    assert response.status_code == 201
    answer = response.json()
    assert set(answer) == {"id", "created_at", "url"}
    assert ISO_MS.match(answer["created_at"])
    port = emulator.base_url.rsplit(":", 1)[1]
    assert re.fullmatch(rf"ws://127\.0\.0\.1:{port}/v2/live/ws\?token=[0-9a-f-]{{36}}", answer["url"])

    init = emulator.init_requests[-1]
    assert (init.status, init.body, init.query) == (201, body, {})
    assert init.headers["x-gladia-key"] == "test-key"
    session = emulator.only_session()
    assert (session.id, session.url, session.config) == (answer["id"], answer["url"], body)
    assert emulator.http_requests == [("POST", "/v2/live")]


def test_every_route_needs_a_known_key(emulator: GladiaEmulator) -> None:
    for headers in ({}, {"x-gladia-key": "wrong"}):
        response = post_live(emulator, {}, headers=headers)
        assert response.status_code == 401
        body = response.json()
        assert_envelope(body, 401, "/v2/live")
        assert body["message"] == "gladia key not found"
    response = requests.get(f"{emulator.base_url}/v2/live/whatever", timeout=5)
    assert response.status_code == 401
    assert [i.status for i in emulator.init_requests] == [401, 401]
    assert emulator.sessions == {}


def test_bad_sample_rate_is_422_with_validation_errors(emulator: GladiaEmulator) -> None:
    response = post_live(emulator, {"sample_rate": 22050, "channels": 2})

    assert response.status_code == 422
    body = response.json()
    assert_envelope(body, 422, "/v2/live")
    assert body["message"] == "Invalid parameter"
    assert len(body["validation_errors"]) == 1
    assert "sample_rate" in body["validation_errors"][0]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"encoding": "wav/alaw"}, "bit_depth"),
        ({"endpointing": 0}, "endpointing"),
        ({"channels": 9}, "channels"),
        ({"language_config": {"languages": ["xx"]}}, "language_config.languages[0]"),
        ({"realtime_processing": {"translation_config": {"target_languages": []}}}, "target_languages"),
        ({"custom_metadata": {"k": "v" * 2000}}, "custom_metadata"),
    ],
)
def test_schema_bounds_are_enforced(emulator: GladiaEmulator, body: dict, field: str) -> None:
    response = post_live(emulator, body)
    assert response.status_code == 422
    assert any(field in error for error in response.json()["validation_errors"])


def test_malformed_or_non_object_body_is_400(emulator: GladiaEmulator) -> None:
    headers = {**KEY, "content-type": "application/json"}
    for raw in (b"{not json", b"[1, 2]"):
        response = post_live(emulator, data=raw, headers=headers)
        assert response.status_code == 400
        assert_envelope(response.json(), 400, "/v2/live")
    assert emulator.init_requests[0].body is None
    assert emulator.init_requests[1].body == [1, 2]


def test_region_query(emulator: GladiaEmulator) -> None:
    assert post_live(emulator, {}, params={"region": "us-west"}).status_code == 201
    assert post_live(emulator, {}, params={"region": "mars"}).status_code == 422
    assert [i.query for i in emulator.init_requests] == [{"region": "us-west"}, {"region": "mars"}]


def test_injected_init_failures_are_answered_in_order(emulator: GladiaEmulator) -> None:
    emulator.init_failures = [429, 500]

    first, second, third = (post_live(emulator, {}) for _ in range(3))

    assert (first.status_code, first.headers["Retry-After"]) == (429, "0")
    assert_envelope(first.json(), 429, "/v2/live")
    assert second.status_code == 500
    assert third.status_code == 201
    assert [i.status for i in emulator.init_requests] == [429, 500, 201]


def test_unknown_job_is_404(emulator: GladiaEmulator) -> None:
    response = requests.get(f"{emulator.base_url}/v2/live/00000000-0000-0000-0000-000000000000", headers=KEY, timeout=5)
    assert response.status_code == 404
    assert_envelope(response.json(), 404, "/v2/live/00000000-0000-0000-0000-000000000000")


# --------------------------------------------------------------------------------------------------------------------
# WebSocket
# --------------------------------------------------------------------------------------------------------------------


def test_full_session_round_trip(emulator: GladiaEmulator) -> None:
    init = post_live(emulator, {"encoding": "wav/pcm", "sample_rate": 16000, "bit_depth": 16, "channels": 1}).json()
    ws = connect(init["url"])
    sent = b""
    for i in range(10):  # 1 s in 100 ms binary frames
        chunk = pcm(CHUNK, seed=i)
        ws.send_binary(chunk)
        sent += chunk
    extra = pcm(CHUNK, seed=99)
    ws.send(json.dumps({"type": "audio_chunk", "data": {"chunk": base64.b64encode(extra).decode()}}))
    sent += extra
    stop(ws)
    messages, close_code = read_until_close(ws)

    assert close_code == 1000
    assert all({"session_id", "created_at", "type", "data"} <= m.keys() for m in messages)
    assert {m["session_id"] for m in messages} == {init["id"]}

    acks = [m for m in messages if m["type"] == "audio_chunk"]
    assert len(acks) == 11
    assert all(a["acknowledged"] is True and a["error"] is None for a in acks)
    ranges = [a["data"]["byte_range"] for a in acks]
    assert ranges[0][0] == 0
    assert all(prev[1] == cur[0] for prev, cur in itertools.pairwise(ranges))
    assert ranges[-1][1] == len(sent)
    assert acks[-1]["data"]["time_range"] == [1.0, len(sent) / 32000]

    finals = [m["data"] for m in messages if m["type"] == "transcript" and m["data"]["is_final"]]
    assert [f["utterance"]["text"] for f in finals] == [" Hello world.", " This is the Gladia emulator.", " Goodbye."]
    assert [f["id"] for f in finals] == ["00_00000000", "00_00000001", "00_00000002"]
    assert not [m for m in messages if m["type"] == "transcript" and not m["data"]["is_final"]]  # partials: off
    assert messages.index(next(m for m in messages if m["type"] == "transcript")) < messages.index(acks[-1])

    stop_ack = next(m for m in messages if m["type"] == "stop_recording")
    assert stop_ack["acknowledged"] is True
    assert stop_ack["data"] == {"recording_duration": 1.1, "recording_left_to_process": 0.0}
    types = [m["type"] for m in messages]
    assert types[-2:] == ["post_transcript", "post_final_transcript"]
    assert "start_recording" not in types and "end_session" not in types  # lifecycle events: off by default
    final_data = messages[-1]["data"]
    assert final_data["transcription"]["full_transcript"] == "Hello world. This is the Gladia emulator. Goodbye."
    assert final_data["metadata"]["audio_duration"] == 1.1

    session = emulator.only_session()
    assert session.ended and session.close_code == 1000
    assert bytes(session.audio) == sent
    assert (session.binary_frames, session.base64_frames, session.stop_count, session.connections) == (10, 1, 1, 1)
    assert session.final_texts() == ["Hello world.", "This is the Gladia emulator.", "Goodbye."]
    assert session.server_messages == messages

    job = requests.get(f"{emulator.base_url}/v2/live/{init['id']}", headers=KEY, timeout=5).json()
    assert job["status"] == "done" and job["kind"] == "live" and job["version"] == 2
    assert job["file"]["audio_duration"] == 1.1
    result = dict(job["result"])
    assert [json.loads(m) for m in result.pop("messages")] == messages
    assert result == final_data

    wav = requests.get(f"{emulator.base_url}/v2/live/{init['id']}/file", headers=KEY, timeout=5)
    assert wav.headers["content-type"] == "application/octet-stream"
    assert wav.content[:4] == b"RIFF" and wav.content[44:] == sent
    assert emulator.errors == []


def test_job_stays_processing_for_the_configured_polls(emulator: GladiaEmulator) -> None:
    emulator.result_processing_polls = 2
    init = post_live(emulator, {}).json()
    url = f"{emulator.base_url}/v2/live/{init['id']}"
    assert requests.get(url, headers=KEY, timeout=5).json()["status"] == "processing"  # not ended: not a poll

    ws = connect(init["url"])
    ws.send_binary(pcm(CHUNK))
    stop(ws)
    read_until_close(ws)

    statuses = [requests.get(url, headers=KEY, timeout=5).json()["status"] for _ in range(3)]
    assert statuses == ["processing", "processing", "done"]


def test_second_stop_is_refused(emulator: GladiaEmulator) -> None:
    emulator.post_processing_delay = 0.3  # keeps the socket open long enough to read the second stop
    init = post_live(emulator, {}).json()
    ws = connect(init["url"])
    ws.send_binary(pcm(CHUNK))
    stop(ws)
    stop(ws)
    messages, close_code = read_until_close(ws)

    stops = [m for m in messages if m["type"] == "stop_recording"]
    assert [s["acknowledged"] for s in stops] == [True, False]
    assert stops[1]["data"] is None and stops[1]["error"]["message"] == "Recording already stopped"
    assert close_code == 1000
    assert emulator.only_session().stop_count == 2


def test_partials_and_lifecycle_events_when_requested(emulator: GladiaEmulator) -> None:
    config = {"messages_config": {"receive_partial_transcripts": True, "receive_lifecycle_events": True}}
    init = post_live(emulator, config).json()
    ws = connect(init["url"])
    for _ in range(10):
        ws.send_binary(pcm(CHUNK))
    stop(ws)
    messages, _ = read_until_close(ws)

    types = [m["type"] for m in messages]
    assert types[0] == "start_recording" and types[-1] == "end_session"
    first = [m["data"] for m in messages if m["type"] == "transcript" and m["data"]["id"] == "00_00000000"]
    assert [(d["is_final"], d["utterance"]["text"]) for d in first] == [
        (False, " Hello"),
        (False, " Hello world."),
        (True, " Hello world."),
    ]


def test_frame_over_1_mib_is_closed_with_1009_and_session_survives(emulator: GladiaEmulator) -> None:
    init = post_live(emulator, {}).json()
    ws = connect(init["url"])
    ws.send_binary(b"\0" * (MAX_FRAME_BYTES + 1))
    _, close_code = read_until_close(ws)

    assert close_code == 1009
    session = emulator.only_session()
    assert (len(session.audio), session.ended, session.close_code) == (0, False, 1009)

    ws = connect(init["url"])
    ws.send_binary(pcm(CHUNK))
    assert recv_json(ws)["data"]["byte_range"] == [0, CHUNK]
    ws.close()


def test_reconnect_after_drop_continues_byte_offsets(emulator: GladiaEmulator) -> None:
    init = post_live(emulator, {}).json()
    ws = connect(init["url"])
    for _ in range(2):
        ws.send_binary(pcm(CHUNK))
        recv_json(ws)
    ws.shutdown()  # abnormal drop: no close frame
    session = emulator.only_session()
    assert emulator.wait_until(lambda: session.client_close_codes == [None])
    assert not session.ended

    ws = connect(init["url"])
    ws.send_binary(pcm(CHUNK))
    ack = recv_json(ws)
    assert ack["data"]["byte_range"] == [2 * CHUNK, 3 * CHUNK]
    assert ack["data"]["time_range"] == [0.2, 0.3]
    stop(ws)
    _, close_code = read_until_close(ws)

    assert close_code == 1000
    assert (session.connections, len(session.audio)) == (2, 3 * CHUNK)


def test_client_close_1000_ends_the_session_and_later_connections_are_refused(emulator: GladiaEmulator) -> None:
    init = post_live(emulator, {}).json()
    ws = connect(init["url"])
    ws.send_binary(pcm(CHUNK))
    recv_json(ws)
    ws.close(status=1000)
    session = emulator.only_session()
    assert session.ended and session.client_close_codes == [1000]

    job = requests.get(f"{emulator.base_url}/v2/live/{init['id']}", headers=KEY, timeout=5).json()
    assert job["status"] == "done"
    assert job["result"]["transcription"]["full_transcript"].startswith("Hello world.")

    ws = connect(init["url"])
    _, close_code = read_until_close(ws)
    assert close_code == 4404


def test_unknown_token_is_closed_with_4401(emulator: GladiaEmulator) -> None:
    port = emulator.base_url.rsplit(":", 1)[1]
    ws = connect(f"ws://127.0.0.1:{port}/v2/live/ws?token=nope")
    _, close_code = read_until_close(ws)
    assert close_code == 4401


def test_weird_client_input_does_not_break_the_session(emulator: GladiaEmulator) -> None:
    emulator.extra_messages = [{"type": "mystery", "data": {}}]
    emulator.raw_text_frames = ["{not json"]
    init = post_live(emulator, {}).json()
    ws = connect(init["url"])

    assert recv_json(ws)["type"] == "mystery"
    assert ws.recv() == "{not json"
    for frame in ("{oops", "[]", '{"type": "dance"}', '{"type": "audio_chunk", "data": {"chunk": "%%%"}}'):
        ws.send(frame)
    nack = recv_json(ws)
    assert (nack["type"], nack["acknowledged"], nack["data"]) == ("audio_chunk", False, None)
    ws.send_binary(pcm(CHUNK))
    assert recv_json(ws)["data"]["byte_range"] == [0, CHUNK]
    stop(ws)
    _, close_code = read_until_close(ws)

    assert close_code == 1000
    assert emulator.errors == []
