"""Stream a WAV file's PCM through Gladia's official Python SDK (`gladiaio-sdk`), as fast as it accepts.

The comparison point for `gladia transcribe FILE --realtime --speed 0`: the same 100 ms (3200-byte) chunks, sent
with `LiveV2Session.send_audio` in a loop once the WebSocket is open, then `stop_recording`; exits when the SDK
emits `ended`. Runs only in the benchmark's own venv (bench/.venv), never in the project's environment. Prints one
JSON line (acks seen, errors, close code) on stdout.

    bench/.venv/bin/python bench/sdk_stream.py FILE.wav --api-url http://127.0.0.1:PORT [--api-key KEY]
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
import wave
from typing import Any

from gladiaio_sdk import GladiaClient


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("wav")
    parser.add_argument("--api-url", required=True)
    parser.add_argument("--api-key", default="bench-key")
    parser.add_argument("--chunk-bytes", type=int, default=3200)
    parser.add_argument("--timeout", type=float, default=600.0)
    args = parser.parse_args(argv)

    with wave.open(args.wav, "rb") as w:
        rate, channels, width = w.getframerate(), w.getnchannels(), w.getsampwidth()
        frames_per_chunk = max(1, args.chunk_bytes // (channels * width))

        ended = threading.Event()
        errors: list[str] = []
        counts = {"acks": 0, "messages": 0}
        close: dict[str, Any] = {}

        def on_message(message: Any) -> None:
            counts["messages"] += 1
            if getattr(message, "type", None) == "audio_chunk" and getattr(message, "acknowledged", False):
                counts["acks"] += 1

        def on_ended(message: Any) -> None:
            close["code"] = getattr(message, "code", None)
            close["reason"] = getattr(message, "reason", None)
            ended.set()

        client = GladiaClient(api_key=args.api_key, api_url=args.api_url)
        session = client.live_v2().start_session(
            {"encoding": "wav/pcm", "sample_rate": rate, "bit_depth": width * 8, "channels": channels}
        )
        session.on("message", on_message)
        session.on("error", lambda err: errors.append(f"{type(err).__name__}: {err}"))
        session.on("ended", on_ended)
        if not session.wait_until_ready(30):
            print(json.dumps({"error": "the SDK session did not connect within 30 s", "errors": errors}))
            return 2

        sent = 0
        started = time.perf_counter()
        while True:
            chunk = w.readframes(frames_per_chunk)
            if not chunk:
                break
            session.send_audio(chunk)
            sent += len(chunk)
        send_seconds = time.perf_counter() - started
        session.stop_recording()

    ok = ended.wait(args.timeout)
    print(
        json.dumps(
            {
                "ended": ok,
                "sent_bytes": sent,
                "send_seconds": round(send_seconds, 3),
                "acks": counts["acks"],
                "messages": counts["messages"],
                "close_code": close.get("code"),
                "errors": errors[:5],
            }
        )
    )
    return 0 if ok and close.get("code") == 1000 and not errors else 1


if __name__ == "__main__":
    sys.exit(main())
