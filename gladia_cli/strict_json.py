"""JSON in and out, strictly: what comes from outside (WebSocket messages, HTTP bodies) and what we write.

One encoder for every JSON we print (pretty for a person, one line for a pipe), in pieces for large results; one
reader that refuses what no formatter could write back (NaN, Infinity) and nesting too deep to parse.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any


def encoder(pretty: bool) -> json.JSONEncoder:
    """Pretty for a person at a terminal, compact (one line) for a pipe."""
    if pretty:
        return json.JSONEncoder(indent=2, ensure_ascii=False)
    return json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def dump_json(data: Any, *, pretty: bool) -> str:
    return encoder(pretty).encode(data)


def _not_json(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def load_json(data: bytes | str) -> Any:
    """JSON from outside (a WebSocket message, an HTTP body), strictly: NaN and Infinity, which Python would take
    and no formatter could write back, are ValueError, and so is nesting too deep to parse (RecursionError)."""
    try:
        return json.loads(data, parse_constant=_not_json)
    except RecursionError:
        raise ValueError("JSON nested too deep") from None


def json_chunks(data: Any, *, pretty: bool) -> Iterator[str]:
    """`dump_json`'s text in pieces (the encoder's own), joined into blocks of about 64 KiB."""
    block: list[str] = []
    size = 0
    for piece in encoder(pretty).iterencode(data):
        block.append(piece)
        size += len(piece)
        if size >= 65536:
            yield "".join(block)
            block, size = [], 0
    if block:
        yield "".join(block)
