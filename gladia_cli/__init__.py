"""gladia: live and file transcription with Gladia's speech-to-text API, from Python or the terminal.

    import gladia_cli as gladia

    with gladia.Client() as client:
        result = client.transcribe("talk.wav", languages=["en"])
        print(gladia.render(result, "srt"))

Names are loaded on first use, so `import gladia_cli` (and `gladia --help`) stays fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from gladia_cli.version import __version__

if TYPE_CHECKING:
    from gladia_cli.audio.format import AudioSource, PcmFormat
    from gladia_cli.audio.push import PushSource
    from gladia_cli.client import Client, audio_file, live_options, microphone, pcm_source, prerecorded_body, render
    from gladia_cli.errors import Aborted, ApiError, AuthError, GladiaError, NetworkError, UsageError
    from gladia_cli.jobs import TranscriptionFailed
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
    from gladia_cli.live.stream import LiveStream
    from gladia_cli.output.output_format import OutputFormat
    from gladia_cli.output.result import Result, Utterance

_HOMES = {
    "gladia_cli.client": "Client audio_file live_options microphone pcm_source prerecorded_body render",
    "gladia_cli.live.stream": "LiveStream",
    "gladia_cli.live.events": (
        "AddonFailed Ended Entities Event Notice Progress Sentiments ServerMessage Speech State StateChanged Transcript"
        " Translation"
    ),
    "gladia_cli.output.result": "Result Utterance",
    "gladia_cli.output.output_format": "OutputFormat",
    "gladia_cli.audio.format": "AudioSource PcmFormat",
    "gladia_cli.audio.push": "PushSource",
    "gladia_cli.errors": "Aborted ApiError AuthError GladiaError NetworkError UsageError",
    "gladia_cli.jobs": "TranscriptionFailed",
}
_HOME_OF = {name: module for module, names in _HOMES.items() for name in names.split()}

__all__ = sorted([*_HOME_OF, "__version__"])


def __getattr__(name: str) -> Any:
    module = _HOME_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'gladia_cli' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
