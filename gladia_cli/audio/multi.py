"""Several inputs as one multichannel source: input k is channel k of the session, kept in step with the others.

Each input is a `MicrophoneSource` with its own sound-card clock. One reader thread per input pulls its chunks,
mixes them to mono and resamples them to the session rate, into a lane. `chunks()` interleaves the lanes.

Keeping them in step: every block's arrival time and the lane's frame count give when that lane's audio started
(arrival - frames/rate; the earliest over the last seconds, since a block never arrives before it was recorded).
A lane whose audio started earlier than the latest lane's is ahead: its oldest frames are dropped until the starts
agree within `TOLERANCE_SECONDS`. That removes the offset of devices that start at different moments and, as the
estimate slides, the drift of clocks that run at slightly different speeds; a lane that stops delivering while the
others go on is filled with silence rather than holding them back. Both are counted and reported at the end.
"""

from __future__ import annotations

import collections
import math
import threading
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from gladia_cli.audio.format import BUFFER_SECONDS, PcmFormat, SourceDefaults
from gladia_cli.audio.level import LevelSnapshot, combined
from gladia_cli.errors import UsageError

if TYPE_CHECKING:
    import numpy as np

    from gladia_cli.audio.capture import InputDevice, MicrophoneSource

NOTED_LATE_SECONDS = 0.1  # an input that started this much after the first is said at the end
TOLERANCE_SECONDS = 0.01  # lanes closer than this are in step; closer correction would chase delivery jitter
WINDOW_SECONDS = 2.0  # how far back the start estimate looks: long enough to see an undelayed block
STALL_CHUNKS = 3  # a lane with nothing while the others hold this many chunks has stalled: fill it
STARTUP_SECONDS = 5.0  # but a device that has not delivered its first block yet is waited for this long (as the
# level meter waits before calling it dead: PulseAudio's first block can take 1-2 s, more on a busy machine)


class _Pauses:
    """When the recording was paused, on the monotonic clock: each lane leaves out the frames it captured then, by
    their capture time, so every input loses the same span and they stay in step (pausing each device's callback
    would cut each at its own block boundary)."""

    def __init__(self) -> None:
        self._spans: list[list[float]] = []  # [start, end]; end is inf while paused
        self._lock = threading.Lock()

    def set(self, paused: bool, now: float) -> None:
        with self._lock:
            if paused and not (self._spans and self._spans[-1][1] == math.inf):
                self._spans.append([now, math.inf])
            elif not paused and self._spans and self._spans[-1][1] == math.inf:
                self._spans[-1][1] = now

    def kept(self, t0: float, n: int, rate: int) -> np.ndarray | None:
        """Which of `n` frames captured from `t0` on are kept; None when all are."""
        end = t0 + n / rate
        with self._lock:
            spans = [(a, b) for a, b in self._spans if a < end and b > t0]
        if not spans:
            return None
        import numpy as np

        times = t0 + np.arange(n) / rate
        keep = np.ones(n, dtype=bool)
        for a, b in spans:
            keep &= ~((times >= a) & (times < b))
        return keep


class _Lane:
    """One input's mono samples at the session rate, and when its audio started (see the module docstring)."""

    def __init__(self, name: str, rate: int) -> None:
        self.name = name
        self.rate = rate
        self.pieces: collections.deque[np.ndarray] = collections.deque()
        self.size = 0
        self.captured = 0  # frames ever put
        self.arrivals: collections.deque[tuple[float, float]] = collections.deque()  # (arrival, start estimate)
        self.dropped = 0  # frames dropped to stay in step
        self.filled = 0  # frames of silence added while stalled
        self.lost = 0  # frames dropped because the consumer fell behind
        self.debt = 0  # frames to drop as soon as they arrive (the lane is that far ahead)
        self.late = 0  # frames of silence put before its first block: it started recording after the first input
        self.paused = 0  # frames left out because the recording was paused when they were captured
        self.ended = False
        self.error: BaseException | None = None

    def put(self, samples: np.ndarray, now: float, pauses: _Pauses | None = None) -> None:
        before = self.captured
        self.captured += len(samples)
        self.arrivals.append((now, now - self.captured / self.rate))
        while self.arrivals and self.arrivals[0][0] < now - WINDOW_SECONDS:
            self.arrivals.popleft()
        if pauses is not None:
            began = min(start for _, start in self.arrivals)
            keep = pauses.kept(began + before / self.rate, len(samples), self.rate)
            if keep is not None:
                self.paused += len(samples) - int(keep.sum())
                samples = samples[keep]
        self.pieces.append(samples)
        self.size += len(samples)

    def start_estimate(self) -> float | None:
        """When the frames handed out so far began, as a time.monotonic() value; None before the first block."""
        if not self.arrivals:
            return None
        moved = self.dropped + self.lost + self.paused - self.filled
        return min(start for _, start in self.arrivals) + moved / self.rate

    def take(self, n: int) -> np.ndarray:
        import numpy as np

        parts = []
        need = n
        while need > 0 and self.pieces:
            piece = self.pieces.popleft()
            if len(piece) > need:
                self.pieces.appendleft(piece[need:])
                piece = piece[:need]
            parts.append(piece)
            need -= len(piece)
        self.size -= n - need
        if need:
            parts.append(np.zeros(need, dtype=np.float32))
        return np.concatenate(parts) if len(parts) > 1 else parts[0]

    def pay(self) -> None:
        """Drop what the lane owes from what it holds now; the rest of the debt waits for its next blocks."""
        if self.debt > 0:
            paid = self.discard(self.debt)
            self.dropped += paid
            self.debt -= paid

    def discard(self, n: int) -> int:
        n = min(n, self.size)
        if n:
            self.take(n)
        return n


class MultiSource(SourceDefaults):
    """Several inputs as one `AudioSource` of `len(inputs)` channels, in `fmt` (which declares them)."""

    can_wait = False

    def __init__(
        self,
        inputs: list[MicrophoneSource],
        fmt: PcmFormat,
        names: list[str],
        chunk_ms: int = 100,
        max_buffer_seconds: float = BUFFER_SECONDS,
    ) -> None:
        if len(inputs) != fmt.channels or len(names) != len(inputs):
            raise ValueError("one channel and one name per input")
        self.inputs = inputs
        self.format = fmt
        self.names = names
        self.chunk_ms = chunk_ms
        self._chunk = max(1, fmt.sample_rate * chunk_ms // 1000)
        self._max_frames = max(self._chunk, int(max_buffer_seconds * fmt.sample_rate))
        self._lanes = [_Lane(name, fmt.sample_rate) for name in names]
        self._cond = threading.Condition()
        self._closed = threading.Event()
        self._threads: list[threading.Thread] = []
        self._started = False
        self._aligned = False  # the inputs' first blocks lined up (see _align_starts)
        self._pauses = _Pauses()
        self._handed = 0  # frames handed out by chunks()

    # -- the AudioSource -----------------------------------------------------------------------------------------

    def check(self) -> None:
        for source in self.inputs:
            source.check()

    def start(self) -> None:
        """Start every input now (the first word is kept while the session is created), then their readers."""
        for source in self.inputs:
            source.start()
        self._start_readers()

    def _start_readers(self) -> None:
        with self._cond:
            if self._threads:
                return
            for index, source in enumerate(self.inputs):
                thread = threading.Thread(
                    target=self._read, args=(index, source), name=f"gladia-input-{index}", daemon=True
                )
                self._threads.append(thread)
        for thread in self._threads:
            thread.start()

    def chunks(self) -> Iterator[bytes]:
        """Interleaved `chunk_ms` chunks until close() (then what every input recorded) or an input fails."""
        if self._started:
            raise RuntimeError("MultiSource.chunks() can only be iterated once")
        self._started = True
        try:
            self._start_readers()
        except BaseException:
            self.close()
            raise
        try:
            while True:
                with self._cond:
                    frames = self._wait_for_chunk()
                    if frames is None:
                        break
                    columns = [lane.take(frames) for lane in self._lanes]
                    self._handed += frames
                    self._keep_in_step()
                yield self._encode(columns)
            self.close()
            for thread in self._threads:
                thread.join(timeout=5)  # every reader has handed over what its input recorded
            with self._cond:
                failed = next((lane for lane in self._lanes if lane.error is not None), None)
                rest = max(lane.size for lane in self._lanes)
                columns = [lane.take(rest) for lane in self._lanes] if rest and failed is None else []
            for start in range(0, rest if columns else 0, self._chunk):
                yield self._encode([c[start : start + self._chunk] for c in columns])
            if failed is not None and failed.error is not None:
                raise failed.error
        finally:
            self.close()
            for thread in self._threads:
                thread.join(timeout=5)

    def close(self) -> None:
        self._closed.set()
        for source in self.inputs:
            source.close()
        with self._cond:
            self._cond.notify_all()

    # -- steering ------------------------------------------------------------------------------------------------

    can_pause = True

    def set_paused(self, paused: bool) -> None:
        self._pauses.set(paused, time.monotonic())

    def set_muted(self, index: int, muted: bool) -> None:
        self.inputs[index].set_muted(0, muted)  # silence from its own capture on: its channel, nothing else

    @property
    def input_names(self) -> list[str]:
        return list(self.names)

    @property
    def kept_seconds(self) -> float:
        with self._cond:
            held = min(lane.size for lane in self._lanes)
        return (self._handed + held) / self.format.sample_rate

    # -- reporting (read by live.run at the end) -----------------------------------------------------------------

    @property
    def overflows(self) -> int:
        return sum(source.overflows for source in self.inputs)

    @property
    def dropped_seconds(self) -> float:
        lost = max((lane.lost for lane in self._lanes), default=0) / self.format.sample_rate
        return lost + sum(source.dropped_seconds for source in self.inputs)

    @property
    def buffered_seconds(self) -> float:
        with self._cond:
            frames = min(lane.size for lane in self._lanes)
        return frames / self.format.sample_rate + max(source.buffered_seconds for source in self.inputs)

    def levels(self) -> LevelSnapshot | None:
        """Each input's level as one channel of the status line's meter, and its silence, said of it alone."""
        snapshots = [source.levels() for source in self.inputs]
        if any(s is None for s in snapshots):
            return None
        return combined([s for s in snapshots if s is not None], self.names)

    def capture_notes(self) -> list[str]:
        """One line per input whose audio was trimmed or padded to stay in step with the others."""
        notes = []
        rate = self.format.sample_rate
        for lane in self._lanes:
            if lane.late >= NOTED_LATE_SECONDS * rate:  # less is no gap a person hears; the silence is there anyway
                notes.append(
                    f"{lane.name!r} started recording {lane.late / rate:.1f} s after the first input: its channel"
                    " begins with that much silence"
                )
            if lane.dropped:
                notes.append(
                    f"{lane.name!r} ran {lane.dropped / rate * 1000:.0f} ms ahead of the others (its sound card's"
                    " clock): that much of it was left out to keep the channels in step"
                )
            gap = lane.filled - lane.late
            if gap:
                notes.append(
                    f"{lane.name!r} delivered nothing for {gap / rate:.1f} s while the others went on: its channel is"
                    " silent there"
                )
        return notes

    def offsets(self) -> list[float]:
        """Each lane's start estimate minus the latest one, in seconds (0 = in step): for tests and benchmarks."""
        with self._cond:
            starts = [lane.start_estimate() for lane in self._lanes]
        known = [s for s in starts if s is not None]
        latest = max(known) if known else 0.0
        return [0.0 if s is None else s - latest for s in starts]

    # -- internals -----------------------------------------------------------------------------------------------

    def _read(self, index: int, source: MicrophoneSource) -> None:
        """One input's thread: its chunks, as mono float at the session rate, into its lane."""
        import numpy as np

        lane = self._lanes[index]
        fmt = source.format
        resampler: Any = None
        if fmt.sample_rate != self.format.sample_rate:
            from gladia_cli.audio.resample import Resampler

            resampler = Resampler(fmt.sample_rate, self.format.sample_rate, 1)
        try:
            for chunk in source.chunks():
                samples = _mono(chunk, fmt)
                if resampler is not None:
                    samples = resampler.process(samples.reshape(-1, 1)).reshape(-1).astype(np.float32)
                    if not len(samples):  # the filter is still filling
                        continue
                now = time.monotonic()
                with self._cond:
                    lane.put(samples, now, self._pauses)
                    self._cond.notify_all()
        except BaseException as e:  # an unplugged device ends the session with its own message
            with self._cond:
                lane.error = e if isinstance(e, UsageError) else UsageError(f"input {lane.name!r} failed: {e}")
        finally:
            with self._cond:
                lane.ended = True
                self._cond.notify_all()
            if lane.error is not None:
                self.close()

    def _wait_for_chunk(self) -> int | None:
        """Frames to hand out now (a whole chunk), or None when the inputs ended; called with the lock held."""
        while True:
            lanes = self._lanes
            if any(lane.error is not None for lane in lanes) or all(lane.ended for lane in lanes):
                return None
            if not self._aligned and all(lane.captured for lane in lanes):
                self._align_starts()
            if self._closed.is_set() and any(lane.ended for lane in lanes):
                return None  # the rest is handed out by chunks() once every reader is done
            self._bound()
            for lane in lanes:
                lane.pay()
            if all(lane.size >= self._chunk for lane in lanes):
                return self._chunk
            most = max(lane.size for lane in lanes)
            if most >= STALL_CHUNKS * self._chunk:
                stalled = [lane for lane in lanes if lane.size < self._chunk]
                if any(lane.captured == 0 for lane in stalled) and most < STARTUP_SECONDS * self.format.sample_rate:
                    self._cond.wait(0.1)
                    continue
                for lane in stalled:
                    lane.filled += self._chunk - lane.size
                    lane.pieces.append(_zeros(self._chunk - lane.size))
                    lane.size = self._chunk
                return self._chunk
            self._cond.wait(0.1)

    def _align_starts(self) -> None:
        """Once every input has delivered: devices start recording at different moments (PulseAudio's first block
        can take 1-2 s), so each later one gets silence before its first block, as long as it started after the
        first. Nothing anyone recorded is dropped to line them up (drift later is kept in step by `_keep_in_step`)."""
        self._aligned = True
        starts = [lane.start_estimate() for lane in self._lanes]
        known = [s for s in starts if s is not None]
        if len(known) != len(starts):
            return
        earliest = min(known)
        for lane, start in zip(self._lanes, known, strict=True):
            late = round((start - earliest) * lane.rate)
            if late > TOLERANCE_SECONDS * lane.rate:
                lane.pieces.appendleft(_zeros(late))
                lane.size += late
                lane.filled += late
                lane.late += late

    def _keep_in_step(self) -> None:
        """Drop the oldest frames of any lane whose audio started earlier than the latest lane's."""
        starts = [lane.start_estimate() for lane in self._lanes]
        if any(s is None for s in starts):
            return
        latest = max(s for s in starts if s is not None)
        for lane, start in zip(self._lanes, starts, strict=True):
            assert start is not None
            ahead = latest - start
            lane.debt = round(ahead * lane.rate) if ahead > TOLERANCE_SECONDS else 0
            lane.pay()

    def _bound(self) -> None:
        """Beyond `max_buffer_seconds` not taken (the consumer stalled), drop the oldest of every lane alike."""
        excess = min(lane.size for lane in self._lanes) - self._max_frames
        if excess > 0:
            for lane in self._lanes:
                lane.lost += lane.discard(excess)

    def _encode(self, columns: list[np.ndarray]) -> bytes:
        import numpy as np

        from gladia_cli.audio.convert import encode_samples

        frames = np.stack(columns, axis=1)
        if self.format.encoding == "wav/pcm" and self.format.bit_depth == 16:  # the usual case, in float32
            return np.clip(np.rint(frames * 32768.0), -32768, 32767).astype("<i2").tobytes()
        if self.format.encoding == "wav/pcm":
            return encode_samples(frames, self.format.bit_depth)
        from gladia_cli.audio import g711

        return g711.encode(encode_samples(frames, 16), self.format.encoding.removeprefix("wav/"))


def _zeros(n: int) -> np.ndarray:
    import numpy as np

    return np.zeros(n, dtype=np.float32)


def _mono(chunk: bytes, fmt: PcmFormat) -> np.ndarray:
    """A captured chunk as mono float32, mixed down as every path mixes (`convert.mix_matrix`)."""
    import numpy as np

    from gladia_cli.audio.convert import decode_samples, mix_matrix

    if fmt.encoding == "wav/pcm" and fmt.bit_depth == 16 and fmt.channels == 1:  # the usual case, in float32
        return np.frombuffer(chunk, "<i2").astype(np.float32) * np.float32(1 / 32768)

    kind = {"wav/alaw": "alaw", "wav/ulaw": "ulaw"}.get(fmt.encoding, "pcm")
    samples = decode_samples(chunk, kind, fmt.bit_depth // 8, fmt.channels)
    matrix = mix_matrix(fmt.channels, 1)
    return (samples[:, 0] if matrix is None else samples @ matrix[:, 0]).astype(np.float32)


def open_inputs(
    devices: list[InputDevice],
    fmt: PcmFormat,
    names: list[str],
    chunk_ms: int = 100,
    max_buffer_seconds: float = BUFFER_SECONDS,
) -> MultiSource:
    """A MultiSource over `devices`, each recorded as 16-bit mono at the session rate when it can (else its own
    channels, mixed down, and its own rate, resampled); `fmt` must declare one channel per device."""
    from gladia_cli.audio.capture import MicrophoneSource

    inputs = []
    for device in devices:
        first_error: UsageError | None = None
        source = None
        for channels in dict.fromkeys((1, min(2, max(1, device.max_input_channels)))):
            candidate = MicrophoneSource(
                PcmFormat(sample_rate=fmt.sample_rate, channels=channels, bit_depth=16),
                device,
                chunk_ms=chunk_ms,
                max_buffer_seconds=max_buffer_seconds,
                rate_fallback=True,
            )
            try:
                candidate.check()
            except UsageError as e:
                first_error = first_error or e
                continue
            source = candidate
            break
        if source is None:
            assert first_error is not None
            raise first_error
        inputs.append(source)
    return MultiSource(inputs, fmt, names, chunk_ms=chunk_ms, max_buffer_seconds=max_buffer_seconds)
