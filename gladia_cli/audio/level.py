"""Input level: per-channel peak dBFS with peak-hold, clipping and silence, from the PCM the microphone captured.

Fed by the reader of the levels (never in PortAudio's callback), from the blocks as they are captured, whether the
session takes them yet or not; a renderer reads `snapshot()` ~10 times a second. Silence and clipping are judged in
audio time (samples fed), so a backlog drained at once gives the same answer as live audio; "no blocks at all" is
judged in wall time, because then there is no audio to count.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

FLOOR_DBFS = -120.0  # what digital silence reads as: log(0) has no value
SILENCE_DBFS = -60.0  # below this peak a block counts as silent (a live mic's noise floor is well above it)


@dataclass(frozen=True)
class LevelSnapshot:
    """One reading for the status line. dBFS values are per channel, FLOOR_DBFS for digital silence."""

    peak_dbfs: tuple[float, ...]  # the last block's peak
    hold_dbfs: tuple[float, ...]  # peak-hold: the recent maximum, decaying after `hold_seconds`
    clipping: tuple[bool, ...]  # full-scale samples in the last `clip_hold_seconds` of audio
    clipped_samples: int  # full-scale samples since start, all channels
    silent: bool  # below SILENCE_DBFS for long enough (see LevelMeter); False again as soon as sound returns
    silent_seconds: float  # audio seconds of the current silent stretch (0 when there is sound)
    no_blocks: bool  # the device has delivered nothing for `stall_seconds` of wall time (or never, since start)
    seconds: float  # audio seconds fed so far
    inputs: tuple[str, ...] = ()  # several inputs: each channel's input, whose own silence is in `silent_inputs`
    silent_inputs: tuple[bool, ...] = ()
    stalled_inputs: tuple[bool, ...] = ()


def combined(snapshots: list[LevelSnapshot], names: list[str]) -> LevelSnapshot:
    """Several inputs' readings as one, a channel per input (its loudest channel): what the status line of a
    session with several inputs shows, and each input's silence and stall, to be said of that input alone."""
    return LevelSnapshot(
        peak_dbfs=tuple(max(s.peak_dbfs) for s in snapshots),
        hold_dbfs=tuple(max(s.hold_dbfs) for s in snapshots),
        clipping=tuple(any(s.clipping) for s in snapshots),
        clipped_samples=sum(s.clipped_samples for s in snapshots),
        silent=all(s.silent for s in snapshots),
        silent_seconds=min(s.silent_seconds for s in snapshots),
        no_blocks=all(s.no_blocks for s in snapshots),
        seconds=min(s.seconds for s in snapshots),
        inputs=tuple(names),
        silent_inputs=tuple(s.silent for s in snapshots),
        stalled_inputs=tuple(s.no_blocks for s in snapshots),
    )


class LevelMeter:
    """Peak meter and silence detector over little-endian signed PCM blocks (16, 24 or 32-bit).

    `silent` turns on after `first_silence_seconds` of quiet if nothing was heard yet (a muted or dead microphone
    is worth saying early), after `silence_seconds` once sound was heard (pauses in speech are normal).
    """

    def __init__(
        self,
        channels: int,
        sample_rate: int,
        bit_depth: int = 16,
        *,
        hold_seconds: float = 1.0,
        decay_db_per_second: float = 20.0,
        clip_hold_seconds: float = 2.0,
        first_silence_seconds: float = 3.0,
        silence_seconds: float = 10.0,
        stall_seconds: float = 2.0,
        first_block_seconds: float = 5.0,
    ) -> None:
        if bit_depth not in (16, 24, 32):
            raise ValueError(f"bit depth {bit_depth} is not 16, 24 or 32")
        self.channels = channels
        self.sample_rate = sample_rate
        self.bit_depth = bit_depth
        self.hold_seconds = hold_seconds
        self.decay_db_per_second = decay_db_per_second
        self.clip_hold_seconds = clip_hold_seconds
        self.first_silence_seconds = first_silence_seconds
        self.silence_seconds = silence_seconds
        self.stall_seconds = stall_seconds
        # PortAudio's first block through PulseAudio can take 1-2 s (bench/results.md), more on a busy machine:
        # a device that has not started yet is not a dead one.
        self.first_block_seconds = first_block_seconds
        self._stopped = False
        self._frame_bytes = channels * bit_depth // 8
        self._full_scale = float(2 ** (bit_depth - 1))
        self._seconds = 0.0
        self._hold = [FLOOR_DBFS] * channels
        self._hold_at = [0.0] * channels  # audio time the hold value was set
        self._clip_at = [-math.inf] * channels
        self._clipped = 0
        self._heard = False
        self._quiet_since: float | None = 0.0
        self._started_at: float | None = None
        # Written by the capture callback (a float store, no lock: it only copies); read by snapshot().
        self._last_block_at: float | None = None
        self._lock = threading.Lock()
        self._snapshot = self._make(tuple([FLOOR_DBFS] * channels))

    def start(self) -> None:
        """The device was opened: from now on, no block for `stall_seconds` means it delivers nothing."""
        self._started_at = time.monotonic()

    def stop(self) -> None:
        """Capture was stopped on purpose (Ctrl-C, --duration): from now on no block is no sign of anything."""
        self._stopped = True

    def note_block(self) -> None:
        """A block arrived (cheap enough for PortAudio's callback: one clock read and one store)."""
        self._last_block_at = time.monotonic()

    def feed(self, block: bytes) -> None:
        """Meter one block of whole frames."""
        import numpy as np

        frames = len(block) // self._frame_bytes
        if frames == 0:
            return
        block = block[: frames * self._frame_bytes]
        if self.bit_depth == 16:
            ints = np.frombuffer(block, "<i2").reshape(frames, self.channels)
            # int16 abs() of -32768 overflows: max and -min, taken apart, do not.
            peaks = np.maximum(ints.max(axis=0).astype(np.int64), -ints.min(axis=0).astype(np.int64))
            clipped = int(np.count_nonzero((ints >= 32767) | (ints <= -32767)))
            clip_channels = (peaks >= 32767).tolist()
        else:
            if self.bit_depth == 24:
                b = np.frombuffer(block, np.uint8).reshape(-1, 3).astype(np.int32)
                ints = ((b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)) << 8 >> 8).reshape(frames, self.channels)
            else:
                ints = np.frombuffer(block, "<i4").reshape(frames, self.channels)
            wide = ints.astype(np.int64)
            peaks = np.abs(wide).max(axis=0)
            top = self._full_scale - 1
            clipped = int(np.count_nonzero(np.abs(wide) >= top))
            clip_channels = (peaks >= top).tolist()
        levels = tuple(self._dbfs(float(p)) for p in peaks.tolist())
        with self._lock:
            self._seconds += frames / self.sample_rate
            now = self._seconds
            for ch, level in enumerate(levels):
                held = self._decayed(ch, now)
                if level >= held:
                    self._hold[ch], self._hold_at[ch] = level, now
                if clip_channels[ch]:
                    self._clip_at[ch] = now
            self._clipped += clipped
            if max(levels) >= SILENCE_DBFS:
                self._heard = True
                self._quiet_since = None
            elif self._quiet_since is None:
                self._quiet_since = now - frames / self.sample_rate
            self._snapshot = self._make(levels)

    def snapshot(self) -> LevelSnapshot:
        """The latest reading; safe from any thread. `no_blocks` is re-judged against the clock at each call."""
        with self._lock:
            snap = self._snapshot
        no_blocks = self._stalled()
        if no_blocks != snap.no_blocks:
            from dataclasses import replace

            snap = replace(snap, no_blocks=no_blocks)
        return snap

    def _stalled(self) -> bool:
        if self._started_at is None or self._stopped:
            return False
        if self._last_block_at is None:
            return time.monotonic() - self._started_at > self.first_block_seconds
        return time.monotonic() - self._last_block_at > self.stall_seconds

    def _dbfs(self, peak: float) -> float:
        if peak <= 0:
            return FLOOR_DBFS
        return max(FLOOR_DBFS, 20.0 * math.log10(peak / self._full_scale))

    def _decayed(self, ch: int, now: float) -> float:
        """The hold value at audio time `now`: flat for `hold_seconds`, then falling at `decay_db_per_second`."""
        late = now - self._hold_at[ch] - self.hold_seconds
        if late <= 0:
            return self._hold[ch]
        return max(FLOOR_DBFS, self._hold[ch] - late * self.decay_db_per_second)

    def _make(self, levels: tuple[float, ...]) -> LevelSnapshot:
        now = self._seconds
        quiet = 0.0 if self._quiet_since is None else now - self._quiet_since
        needed = self.silence_seconds if self._heard else self.first_silence_seconds
        return LevelSnapshot(
            peak_dbfs=levels,
            hold_dbfs=tuple(self._decayed(ch, now) for ch in range(self.channels)),
            clipping=tuple(now - at <= self.clip_hold_seconds for at in self._clip_at),
            clipped_samples=self._clipped,
            silent=quiet >= needed,
            silent_seconds=quiet,
            no_blocks=self._stalled(),
            seconds=now,
        )
