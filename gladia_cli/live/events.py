"""What a live session tells its owner: the events it queues, in order, for `render.py` and `live/run.py`.

Plain frozen dataclasses, no behaviour: the session produces them on its threads, the owner consumes them on its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from gladia_cli.errors import GladiaError


class State(Enum):
    CONNECTING = "connecting"
    STREAMING = "streaming"
    STOPPING = "stopping"
    FINISHING = "finishing"
    DONE = "done"


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
    # The utterance as Gladia sent it (its words' timings make live subtitle cues); not part of equality.
    utterance: dict[str, Any] | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Translation:
    utterance_id: str
    target_language: str
    text: str


@dataclass(frozen=True)
class Entities:
    """Named entities Gladia found in a final utterance (`--ner`): (text, entity type) pairs."""

    utterance_id: str
    entities: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Sentiments:
    """Sentiment and emotion of a final utterance (`--sentiment`): (sentiment, emotion) pairs, one a sentence."""

    utterance_id: str
    results: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class AddonFailed:
    """An add-on the person asked for failed (its message or result carries an `error`): said once per add-on."""

    addon: str
    message: str


@dataclass(frozen=True)
class Speech:
    """Gladia's voice activity (`speech_start` / `speech_end`): it hears someone speak, or stopped hearing them."""

    speaking: bool
    time: float | None  # seconds into the session's audio
    channel: int


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
    left_to_process: float | None = None  # seconds of audio Gladia said were left to process when it took the stop
    between_sessions: bool = False  # Gladia ended the session; the next one opens once there is audio to send


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


Event = (
    StateChanged
    | ServerMessage
    | Transcript
    | Translation
    | Speech
    | Entities
    | Sentiments
    | AddonFailed
    | Notice
    | Progress
    | Ended
)
