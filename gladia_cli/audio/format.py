"""The PCM format shared by capture and files, and checked against the session config."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from gladia_cli.errors import UsageError

if TYPE_CHECKING:
    from gladia_cli.audio.level import LevelSnapshot

ENCODINGS = ("wav/pcm", "wav/alaw", "wav/ulaw")
SAMPLE_RATES = (8000, 16000, 32000, 44100, 48000)
BIT_DEPTHS = (8, 16, 24, 32)
MAX_CHANNELS = 8


@dataclass(frozen=True)
class PcmFormat:
    """What every byte we send means: Gladia cannot guess it, so it is declared at POST /v2/live."""

    sample_rate: int = 16000
    channels: int = 1
    bit_depth: int = 16
    encoding: str = "wav/pcm"

    @property
    def frame_bytes(self) -> int:
        """Bytes of one sample across all channels; chunks must be whole frames."""
        return self.channels * self.bit_depth // 8

    @property
    def bytes_per_second(self) -> int:
        return self.sample_rate * self.frame_bytes

    def chunk_bytes(self, chunk_ms: int) -> int:
        """Bytes in `chunk_ms` of audio, rounded down to whole frames (at least one frame)."""
        frames = max(1, self.sample_rate * chunk_ms // 1000)
        return frames * self.frame_bytes

    def seconds(self, nbytes: int) -> float:
        return nbytes / self.bytes_per_second

    def validate(self) -> PcmFormat:
        """Raise UsageError naming the bad field and what Gladia accepts."""
        if self.encoding not in ENCODINGS:
            raise UsageError(f"unsupported encoding {self.encoding!r}", hint=f"use one of {', '.join(ENCODINGS)}")
        if self.sample_rate not in SAMPLE_RATES:
            raise UsageError(
                f"unsupported sample rate {self.sample_rate}",
                hint=f"use one of {', '.join(map(str, SAMPLE_RATES))}",
            )
        if self.bit_depth not in BIT_DEPTHS:
            raise UsageError(
                f"unsupported bit depth {self.bit_depth}", hint=f"use one of {', '.join(map(str, BIT_DEPTHS))}"
            )
        if not 1 <= self.channels <= MAX_CHANNELS:
            raise UsageError(f"unsupported channel count {self.channels}", hint=f"use 1 to {MAX_CHANNELS}")
        if self.encoding != "wav/pcm" and self.bit_depth != 8:
            raise UsageError(f"{self.encoding} needs `bit_depth` 8", hint="A-law and mu-law are 8-bit encodings")
        return self

    def describe(self) -> str:
        ch = "mono" if self.channels == 1 else f"{self.channels} channels"
        return f"{self.encoding} {self.bit_depth}-bit {self.sample_rate} Hz {ch}"

    def as_config(self) -> dict[str, object]:
        """The four POST /v2/live fields this format declares."""
        return {
            "encoding": self.encoding,
            "sample_rate": self.sample_rate,
            "bit_depth": self.bit_depth,
            "channels": self.channels,
        }


# Seconds of audio a live source keeps while the network is away (microphones drop the oldest beyond it).
BUFFER_SECONDS = 300.0


class AudioSource(Protocol):
    """Where live audio comes from (microphone, several, a file, stdin, the caller's own PCM); the live session only
    sees this. Besides the four members every source has, the optional capabilities are declared here with the
    value a source without them reports (`SourceDefaults`), so no caller has to probe for them."""

    @property
    def format(self) -> PcmFormat:
        """The format of every byte `chunks()` yields: what POST /v2/live declares."""
        ...

    @property
    def can_wait(self) -> bool:
        """A file can wait for the network; a microphone cannot (its audio must be taken as it comes)."""
        ...

    def chunks(self) -> Iterator[bytes]:
        """Yield whole-frame chunks of about the requested duration until the audio ends or `close()` is called."""
        ...

    def close(self) -> None:
        """Ask `chunks()` to end soon; safe to call from any thread, more than once."""
        ...

    @property
    def truncated(self) -> bool:
        """A file that ends before its header says it should."""
        ...

    @property
    def duration(self) -> float | None:
        """Seconds of audio, when known before reading it."""
        ...

    @property
    def format_note(self) -> str | None:
        """Why the format differs from the one asked for (a device that records at its own rate)."""
        ...

    @property
    def input_name(self) -> str | None:
        """The device recorded, for the status line."""
        ...

    @property
    def buffered_seconds(self) -> float:
        """Audio captured and not yet taken by `chunks()`."""
        ...

    @property
    def dropped_seconds(self) -> float:
        """Audio lost in capture (a buffer bound hit): said at the end, never hidden."""
        ...

    @property
    def overflows(self) -> int:
        """Input overflows the sound card reported: short gaps."""
        ...

    def levels(self) -> LevelSnapshot | None:
        """The input level meter's latest reading, when the source measures one."""
        ...

    def capture_notes(self) -> list[str]:
        """What the capture did to the audio that the person should know (several inputs kept in step)."""
        ...

    @property
    def can_pause(self) -> bool:
        """A live input can be paused (nothing recorded) and its inputs muted (silence); a file cannot."""
        ...

    def set_paused(self, paused: bool) -> None: ...

    def set_muted(self, index: int, muted: bool) -> None:
        """Input `index` (in `input_names`) records silence while muted."""
        ...

    @property
    def input_names(self) -> list[str]:
        """The inputs, one per channel group, as `set_muted` numbers them."""
        ...

    @property
    def kept_seconds(self) -> float:
        """Audio kept so far: the recording's clock (a pause takes none of it)."""
        ...


class SourceDefaults:
    """The optional capabilities of `AudioSource` as a source without them reports them; sources inherit these."""

    truncated: bool = False
    duration: float | None = None
    format_note: str | None = None

    @property
    def input_name(self) -> str | None:
        return None

    @property
    def buffered_seconds(self) -> float:
        return 0.0

    @property
    def dropped_seconds(self) -> float:
        return 0.0

    @property
    def overflows(self) -> int:
        return 0

    def levels(self) -> LevelSnapshot | None:
        return None

    def capture_notes(self) -> list[str]:
        return []

    can_pause = False

    def set_paused(self, paused: bool) -> None:
        raise NotImplementedError("this source cannot be paused")

    def set_muted(self, index: int, muted: bool) -> None:
        raise NotImplementedError("this source cannot be muted")

    @property
    def input_names(self) -> list[str]:
        return [self.input_name or "input"]

    @property
    def kept_seconds(self) -> float:
        """Audio kept so far (sent or waiting): the recording's own clock, where pauses take no time."""
        return 0.0
