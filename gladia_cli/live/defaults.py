"""A live run's defaults, in one place: read by the library's entry points, the command line's flags (and their
help), the saved-defaults checks and `transcribe --realtime`, which leaves them unset to refuse them without it."""

from __future__ import annotations

from gladia_cli.audio.format import BUFFER_SECONDS as BUFFER_SECONDS  # the bound lives with the sources that keep it

CHUNK_MS = 100  # audio per WebSocket frame
UNPACED_CHUNK_MS = 1000  # a file sent as fast as possible: 100 ms frames only cost per-frame overhead on both ends
FINISH_TIMEOUT = 300.0  # seconds to wait for post-processing after the stop, at least (see finish_wait)
RECONNECT_ATTEMPTS = 10  # tries after the connection drops, per outage
RECONNECT_TIMEOUT = 120.0  # seconds of reconnecting, per outage
JOURNAL_MAX_MB = 2048
SPEED = 1.0  # a file paced at real time
MAX_SESSION_SECONDS = 3 * 3600.0  # Gladia ends a live session after 3 hours
# A recording goes on in a new session after this long (of time or of audio): ten minutes before Gladia's limit, for
# the new session to be created and the old one to post-process what it holds.
SESSION_LIMIT = MAX_SESSION_SECONDS - 600.0


def finish_wait(left_to_process: float | None) -> float:
    """How long to wait for post-processing when nobody set a ceiling: what Gladia says is left to process (its stop
    acknowledgement's `recording_left_to_process`), twice over and a minute more, and never less than the default."""
    if left_to_process is None:
        return FINISH_TIMEOUT
    return max(FINISH_TIMEOUT, 2 * left_to_process + 60.0)
