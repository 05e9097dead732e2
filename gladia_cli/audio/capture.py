"""Microphone capture: PortAudio (through sounddevice) into whole-frame PCM chunks for the live session.

`sounddevice` and `numpy` are imported inside functions only: importing sounddevice initialises PortAudio, which
scans every audio device, and `gladia --help` must not pay for that.
"""

from __future__ import annotations

import collections
import contextlib
import functools
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from gladia_cli.audio.format import BUFFER_SECONDS, SAMPLE_RATES, PcmFormat, SourceDefaults
from gladia_cli.audio.portaudio import DEVICES_HINT, InputDevice, sounddevice
from gladia_cli.audio.pulse import pulse_source_env
from gladia_cli.errors import UsageError

if TYPE_CHECKING:
    from gladia_cli.audio.level import LevelMeter, LevelSnapshot

# PortAudio sample formats for each bit depth Gladia accepts as wav/pcm: little-endian signed integers on every
# platform PortAudio runs on, i.e. exactly the bytes Gladia expects. 'int24' is packed 3-byte (raw streams only).
_DTYPES = {16: "int16", 24: "int24", 32: "int32"}
TAP_BLOCKS = 32  # blocks the level meter may lag behind (100 ms each by default)


def _capture_dtype(fmt: PcmFormat) -> str:
    """What PortAudio records: the declared PCM itself, or 16-bit PCM that is encoded to A-law/mu-law per block."""
    return "int16" if fmt.encoding != "wav/pcm" else _DTYPES[fmt.bit_depth]


# PaErrorCode values meaning "this device cannot do that format" rather than "this device cannot be opened".
_FORMAT_ERRORS = {-9998, -9997, -9994}  # paInvalidChannelCount, paInvalidSampleRate, paSampleFormatNotSupported
_DEVICE_UNAVAILABLE = -9985  # paDeviceUnavailable: busy (another program holds it) or unplugged

# PortAudio's suggested input latency. Measured through PulseAudio (bench/capture_latency.py, bench/results.md): with
# 'high' the first block came 1.2-1.9 s after start() and the audio of that gap never arrived; with 'low' after
# ~0.3 s, and the steady-state delay of a block is the same either way.
LATENCY = "low"

# How often a waiting `chunks()` re-checks for close() / a dead stream, at worst.
_POLL_SECONDS = 0.1


def _reason(error: BaseException) -> str:
    """PortAudio's own words, plus the host API's (e.g. ALSA's 'Device or resource busy') when it gave any."""
    args: tuple[Any, ...] = getattr(error, "args", ())
    if not args:
        return type(error).__name__
    text = str(args[0])
    if len(args) > 2 and isinstance(args[2], tuple) and len(args[2]) == 3 and args[2][2]:
        text = f"{text} ({args[2][2]})"
    return text


def _error_code(error: BaseException) -> int | None:
    args: tuple[Any, ...] = getattr(error, "args", ())
    return args[1] if len(args) > 1 and isinstance(args[1], int) else None


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Silence PortAudio's C-level diagnostics ("Expression ... failed in pa_linux_alsa.c") while probing formats.

    A refused format is reported to the user as one UsageError line; the ALSA backend would otherwise also print
    several lines of internal assertions to fd 2. sounddevice does the same around Pa_Initialize. Only used for
    short, synchronous probes made before any live output starts.
    """
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.close(devnull)
    except OSError:
        os.close(saved)
        yield
        return
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _describe(fmt: PcmFormat) -> str:
    """'44100 Hz stereo 16-bit': the words a user would use for the flags they passed."""
    channels = {1: "mono", 2: "stereo"}.get(fmt.channels, f"{fmt.channels}-channel")
    sample = f"{fmt.bit_depth}-bit" if fmt.encoding == "wav/pcm" else "16-bit (for " + fmt.encoding + ")"
    return f"{fmt.sample_rate} Hz {channels} {sample}"


class _ChunkBuffer:
    """Hands audio from PortAudio's callback thread to the consumer, in exact chunk sizes.

    Bounded: when the consumer stalls (network hiccup) and `max_bytes` is exceeded, the OLDEST audio is dropped and
    counted, because the callback must never block and memory must not grow without limit, and a live transcript
    is better served by current speech than by a minutes-old backlog. Pieces are whole frames (one callback block
    each) and are dropped whole, so frame alignment survives a drop.
    """

    def __init__(self, max_bytes: int) -> None:
        self._pieces: collections.deque[bytes] = collections.deque()
        self._size = 0
        self._max_bytes = max(1, max_bytes)
        self._closed = False
        self._interrupted = False
        # Reentrant lock: MicrophoneSource.close() may run in a signal handler that interrupted take() in the
        # same thread; a plain Lock would deadlock there.
        self._cond = threading.Condition(threading.RLock())
        self.dropped_bytes = 0
        # The meter's tap: the newest blocks, for the level meter to read as they are captured, whether or not the
        # consumer takes them yet (while the session is being created, nothing is taken). Bounded: ~3 s of blocks.
        self._tap: collections.deque[bytes] = collections.deque(maxlen=TAP_BLOCKS)

    def put(self, data: bytes) -> None:
        """Append one captured block; never waits for the consumer. Ignored once closed (that is after the end)."""
        with self._cond:
            if self._closed:
                return
            self._pieces.append(data)
            self._tap.append(data)
            self._size += len(data)
            while self._size > self._max_bytes and self._pieces:
                oldest = self._pieces.popleft()
                self._size -= len(oldest)
                self.dropped_bytes += len(oldest)
            self._cond.notify()

    def take(self, nbytes: int, timeout: float | None) -> bytes | None:
        """Exactly `nbytes`; or None on timeout / interrupt(); once closed: the rest in `nbytes` pieces, then b""."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while self._size < nbytes and not self._closed:
                if self._interrupted:
                    self._interrupted = False
                    return None
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return None
                self._cond.wait(remaining)
            return self._pop(min(nbytes, self._size))

    def _pop(self, nbytes: int) -> bytes:
        parts = []
        need = nbytes
        while need > 0:
            piece = self._pieces.popleft()
            if len(piece) > need:
                self._pieces.appendleft(piece[need:])
                piece = piece[:need]
            parts.append(piece)
            need -= len(piece)
        self._size -= nbytes
        return b"".join(parts)

    def unmetered(self) -> list[bytes]:
        """The blocks captured since the last call (the newest TAP_BLOCKS at most), for the level meter."""
        with self._cond:
            blocks = list(self._tap)
            self._tap.clear()
        return blocks

    def interrupt(self) -> None:
        """Make a waiting take() return None now, so its caller can notice close() promptly."""
        with self._cond:
            self._interrupted = True
            self._cond.notify_all()

    def close(self) -> None:
        """No more input: take() drains what is buffered, then returns b""."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    @property
    def buffered_bytes(self) -> int:
        with self._cond:
            return self._size


class MicrophoneSource(SourceDefaults):
    """Live audio from one input device, in exactly `format` (an `AudioSource`).

    PortAudio's callback thread only copies each block into a bounded buffer; `chunks()` meters, encodes (G.711)
    and hands out exact `chunk_ms` chunks on the consumer's thread. `start()` may be called before the session
    exists: capture begins at once and waits in the buffer. If the device cannot record the declared format,
    `check()` (or opening) says so, because the bytes must match what POST /v2/live declares; only with
    `rate_fallback` (no rate asked for) does it pick the device's rate instead (`format_note` says so).
    """

    can_wait = False  # the sound card does not wait: its audio is taken as it comes
    can_pause = True

    def __init__(
        self,
        fmt: PcmFormat,
        device: InputDevice,
        chunk_ms: int = 100,
        max_buffer_seconds: float = BUFFER_SECONDS,
        *,
        rate_fallback: bool = False,
        latency: str | float = LATENCY,
        metered: bool = True,
    ) -> None:
        pcm = fmt.encoding == "wav/pcm" and fmt.bit_depth in _DTYPES
        g711 = fmt.encoding in ("wav/alaw", "wav/ulaw") and fmt.bit_depth == 8
        if not (pcm or g711):
            raise UsageError(
                f"the microphone can only record 16, 24 or 32-bit wav/pcm or 8-bit A-law/mu-law, not {fmt.describe()}",
                hint="use `encoding` wav/pcm `bit_depth` 16",
            )
        if chunk_ms <= 0:
            raise UsageError(f"chunk duration must be positive, not {chunk_ms} ms")
        if max_buffer_seconds <= 0:
            raise UsageError(f"the capture buffer must hold some audio, not {max_buffer_seconds} s")
        self.format = fmt
        self.device = device
        self.chunk_ms = chunk_ms
        self._overflows = 0
        self._metered = metered
        self.meter: LevelMeter | None = None  # input level, fed on the consumer side; see levels()
        # Why the recorded rate differs from the requested one (device fallback), for the session line; else None.
        self.format_note = None
        self._rate_fallback = rate_fallback
        self._latency = latency
        self._max_buffer_seconds = max_buffer_seconds
        self._converter: Any = None
        # G.711: PortAudio delivers 16-bit PCM, encoded per chunk on the consumer side (the callback only copies).
        # The encoder and its lookup table are ready before the first callback.
        self._encode: Callable[[bytes], bytes] | None = None
        if g711:
            from gladia_cli.audio import g711 as codec

            self._encode = functools.partial(codec.encode, kind=fmt.encoding.removeprefix("wav/"))
            self._encode(b"")
        self._chunk_bytes = fmt.chunk_bytes(chunk_ms)
        self._set_capture_rate(fmt.sample_rate)
        self._closed = threading.Event()
        self._stream_finished = threading.Event()
        self._started = False
        self._consumer_thread: int | None = None
        self._state_lock = threading.Lock()
        self._meter_lock = threading.Lock()  # levels() may be read from more than one thread (a multi-input owner)
        # Guards opening/stopping the PortAudio stream; close() only ever tries it without blocking.
        self._stream_lock = threading.Lock()
        self._stream: Any = None
        self._negotiated = False
        self.started_at: float | None = None  # time.monotonic() when the stream started
        self.first_block_at: float | None = None  # time.monotonic() of the first callback
        # Steering (read by the callback, set from any thread): paused blocks are never kept, muted ones are silence.
        self._paused = False
        self._muted = False
        self._kept_frames = 0  # frames put in the buffer (silence while muted included), for kept_seconds

    def _set_capture_rate(self, rate: int) -> None:
        """What PortAudio records: the declared channels at `rate`, as 16-bit for G.711, else the declared depth."""
        fmt = self.format
        depth = 16 if self._encode is not None else fmt.bit_depth
        self.capture_format = PcmFormat(sample_rate=rate, channels=fmt.channels, bit_depth=depth)
        self._dtype = _DTYPES[depth]
        self._raw_chunk_bytes = self.capture_format.chunk_bytes(self.chunk_ms)
        self._blocksize = self._raw_chunk_bytes // self.capture_format.frame_bytes
        max_bytes = int(self._max_buffer_seconds * rate) * self.capture_format.frame_bytes
        self._buffer = _ChunkBuffer(max(max_bytes, self._raw_chunk_bytes))
        if self._metered:
            from gladia_cli.audio.level import LevelMeter

            self.meter = LevelMeter(fmt.channels, rate, depth)

    @property
    def overflows(self) -> int:
        return self._overflows

    @property
    def input_name(self) -> str | None:
        return self.device.name

    @property
    def dropped_seconds(self) -> float:
        """Audio thrown away because the consumer fell more than `max_buffer_seconds` behind."""
        return self.capture_format.seconds(self._buffer.dropped_bytes)

    @property
    def buffered_seconds(self) -> float:
        """Audio captured and not yet pulled by chunks() (e.g. while the session is being created)."""
        return self.capture_format.seconds(self._buffer.buffered_bytes)

    def levels(self) -> LevelSnapshot | None:
        """The latest input level (peak, hold, clipping, silence, no blocks); None when not metered. The blocks
        captured since the last reading are metered here, as they come from the device: the meter runs from the
        first block, before the session exists and whatever the connection does. Called by one owner thread."""
        if self.meter is None:
            return None
        with self._meter_lock:
            for block in self._buffer.unmetered():
                self.meter.feed(block)
        return self.meter.snapshot()

    def check(self) -> None:
        """Fail early, with flags to try, if the device cannot record the declared format.

        With `rate_fallback` (the user asked for no rate), a device that refuses the rate records at one it
        accepts instead: its own default rate when Gladia accepts it (then `format` changes, and POST /v2/live
        must declare it), else its default rate resampled to the declared one. `format_note` says which.
        """
        if self._negotiated:
            return
        fmt, device = self.format, self.device
        if fmt.channels > device.max_input_channels:
            raise self._format_error(f"it has {device.max_input_channels} input channel(s)")
        sd = sounddevice()
        try:
            self._probe(sd, fmt.sample_rate)
        except Exception as e:
            if not self._rate_fallback or not self._fall_back(sd):
                raise self._format_error(_reason(e)) from None
        self._negotiated = True

    def _probe(self, sd: Any, rate: int) -> None:
        with _quiet_stderr():
            sd.check_input_settings(
                device=self.device.index, channels=self.format.channels, dtype=self._dtype, samplerate=rate
            )

    def _fall_back(self, sd: Any) -> bool:
        """Switch to the device's own rate if it records that; False (nothing changed) if it does not."""
        requested = self.format.sample_rate
        rate = round(self.device.default_samplerate)
        if rate <= 0 or rate == requested:
            return False
        try:
            self._probe(sd, rate)
        except Exception:
            return False
        name = self.device.name
        if rate in SAMPLE_RATES:
            self.format = replace(self.format, sample_rate=rate)
            self._chunk_bytes = self.format.chunk_bytes(self.chunk_ms)
            self.format_note = f"{name!r} cannot record {requested} Hz: recording at its {rate} Hz"
        else:
            from gladia_cli.audio.convert import Converter

            depth = self.capture_format.bit_depth
            self._converter = Converter(
                kind="int",
                width=depth // 8,
                channels=self.format.channels,
                sample_rate=rate,
                out=PcmFormat(sample_rate=requested, channels=self.format.channels, bit_depth=depth),
            )
            self.format_note = (
                f"{name!r} cannot record {requested} Hz: recording at {rate} Hz, resampled to {requested} Hz"
            )
        self._set_capture_rate(rate)
        return True

    def _format_error(self, reason: str) -> UsageError:
        return UsageError(
            f"device {self.device.name!r} cannot record {_describe(self.format)}: {reason}",
            hint=self._suggestions(),
        )

    def _suggestions(self) -> str:
        """Single-flag changes this device does accept, e.g. 'try `sample_rate` 48000 or `channels` 1'."""
        fmt, device = self.format, self.device
        candidates: list[tuple[str, PcmFormat]] = []
        for rate in (round(device.default_samplerate), 48000, 16000, 44100):
            if rate in SAMPLE_RATES and rate != fmt.sample_rate:
                candidates.append((f"`sample_rate` {rate}", replace(fmt, sample_rate=rate)))
        for channels in (1, 2):
            if channels < fmt.channels:
                candidates.append((f"`channels` {channels}", replace(fmt, channels=channels)))
        if fmt.bit_depth != 16 and fmt.encoding == "wav/pcm":
            candidates.append(("`bit_depth` 16", replace(fmt, bit_depth=16)))
        try:
            sd = sounddevice()
        except UsageError:
            sd = None
        accepted: list[str] = []
        seen_flags: set[str] = set()
        for flags, alternative in candidates:
            flag = flags.split()[0]
            if flag in seen_flags or alternative.channels > device.max_input_channels:
                continue
            if sd is not None:
                try:
                    with _quiet_stderr():
                        sd.check_input_settings(
                            device=device.index,
                            channels=alternative.channels,
                            dtype=_capture_dtype(alternative),
                            samplerate=alternative.sample_rate,
                        )
                except Exception:
                    continue
            seen_flags.add(flag)
            accepted.append(flags)
        if not accepted:
            return f"{DEVICES_HINT} for what it supports, or pick another device"
        return "try " + " or ".join(accepted)

    def set_paused(self, paused: bool) -> None:
        """Paused: what the device records from now on is not kept at all (not sent, saved or journaled)."""
        self._paused = paused

    def set_muted(self, index: int, muted: bool) -> None:
        """Muted: the input records digital silence (its channels stay, the session's channel count cannot change)."""
        if index != 0:
            raise IndexError(index)
        self._muted = muted

    @property
    def input_names(self) -> list[str]:
        return [self.device.name]

    @property
    def kept_seconds(self) -> float:
        return self._kept_frames / self.capture_format.sample_rate

    def _callback(self, indata: Any, frames: int, time_info: Any, status: Any) -> None:
        """PortAudio's real-time thread: copy the block and return; anything slow here causes overflows."""
        if status and status.input_overflow:
            self._overflows += 1
        if self.first_block_at is None:
            self.first_block_at = time.monotonic()
        if self.meter is not None:
            self.meter.note_block()  # a paused device still delivers: no sign of an unplugged one
        if self._paused:
            return
        block = bytes(indata)
        self._buffer.put(bytes(len(block)) if self._muted else block)
        self._kept_frames += frames

    def _open(self, sd: Any) -> None:
        with self._stream_lock:
            if self._closed.is_set():
                return
            if self._stream is not None:
                return
            stream = None
            try:
                # A PulseAudio source (monitor) is picked by the environment while the stream opens and starts.
                with pulse_source_env(self.device.pulse_source):
                    stream = sd.RawInputStream(
                        samplerate=self.capture_format.sample_rate,
                        channels=self.capture_format.channels,
                        dtype=self._dtype,
                        device=self.device.index,
                        blocksize=self._blocksize,
                        latency=self._latency,
                        callback=self._callback,
                        finished_callback=self._stream_finished.set,
                    )
                    self.started_at = time.monotonic()
                    if self.meter is not None:
                        self.meter.start()
                    stream.start()
            except Exception as e:
                if stream is not None:
                    with contextlib.suppress(Exception):
                        stream.close()
                raise self._open_error(e) from None
            self._stream = stream

    def start(self) -> None:
        """Open the device and start recording now, before the session exists; idempotent.

        What is captured waits in the bounded buffer (`max_buffer_seconds`) until chunks() hands it out, oldest
        first, so the first word said after Enter is sent even while POST /v2/live and the WebSocket are under
        way. Raises UsageError if the device cannot record (after `check()`'s rate fallback, when allowed).
        """
        self.check()
        if self._closed.is_set():
            return
        self._open(sounddevice())

    def _open_error(self, error: BaseException) -> UsageError:
        code = _error_code(error)
        if code in _FORMAT_ERRORS:
            return self._format_error(_reason(error))
        hint = f"is another program using it? {DEVICES_HINT}" if code == _DEVICE_UNAVAILABLE else DEVICES_HINT
        return UsageError(
            f"cannot open device {self.device.name!r} to record {_describe(self.format)}: {_reason(error)}",
            hint=hint,
        )

    def _stop_stream_locked(self) -> None:
        if self.meter is not None:
            self.meter.stop()  # stopped on purpose: no block from now on is no sign of a dead device
        stream, self._stream = self._stream, None
        if stream is not None:
            # stop() (not abort()) lets PortAudio deliver the blocks it already has, and guarantees the callback
            # has returned for good before close().
            with contextlib.suppress(Exception):
                stream.stop()
            with contextlib.suppress(Exception):
                stream.close()

    def _stop_stream(self) -> None:
        with self._stream_lock:
            self._stop_stream_locked()

    def chunks(self) -> Iterator[bytes]:
        """Yield `chunk_ms` chunks until close(); then the audio already captured (last chunk may be shorter).

        Every chunk is whole frames. Raises UsageError if the device cannot be opened, or if it stops delivering
        audio on its own (unplugged); audio captured before that is yielded first.
        """
        with self._state_lock:
            if self._started:
                raise RuntimeError("MicrophoneSource.chunks() can only be iterated once")
            self._started = True
            self._consumer_thread = threading.get_ident()
        if self._closed.is_set():
            return
        if self._stream is None:
            if self._rate_fallback:
                self.check()
            self._open(sounddevice())
        died = False
        pending = bytearray()
        try:
            while not self._closed.is_set():
                raw = self._buffer.take(self._raw_chunk_bytes, timeout=_POLL_SECONDS)
                if raw is not None:
                    yield from self._whole_chunks(pending, raw)
                elif self._stream_finished.is_set() and not self._closed.is_set():
                    died = True
                    break
            # Stop first, so no callback can add audio, then hand out everything that was recorded.
            self._stop_stream()
            self._buffer.close()
            while raw := self._buffer.take(self._raw_chunk_bytes, timeout=0):
                yield from self._whole_chunks(pending, raw)
            yield from self._whole_chunks(pending, b"", last=True)
        finally:
            self._closed.set()
            self._stop_stream()
            self._buffer.close()
        if died:
            raise UsageError(
                f"device {self.device.name!r} stopped delivering audio", hint=f"was it unplugged? {DEVICES_HINT}"
            )

    def _whole_chunks(self, pending: bytearray, raw: bytes, *, last: bool = False) -> Iterator[bytes]:
        """Resample and encode one captured piece; yield exact `chunk_ms` chunks (the rest when `last`)."""
        data = self._convert(raw, last=last)
        if self._encode is not None:
            data = self._encode(data)
        if not pending and len(data) == self._chunk_bytes:
            yield data  # the usual case: one captured block is one chunk, no copy
            return
        pending += data
        while len(pending) >= self._chunk_bytes or (last and pending):
            size = min(self._chunk_bytes, len(pending))
            yield bytes(pending[:size])
            del pending[:size]

    def _convert(self, raw: bytes, *, last: bool) -> bytes:
        """Device-rate PCM to the declared rate (only after a rate fallback to a rate Gladia does not accept)."""
        if self._converter is None:
            return raw
        out = self._converter.process(raw) if raw else b""
        return out + self._converter.flush() if last else out

    def close(self) -> None:
        """Ask chunks() to finish, and stop recording now when that is safe; thread-safe and idempotent.

        From another thread, close() stops the stream itself (unless chunks() is busy opening or stopping it), so
        recording ends at close() even if the consumer is slow to resume. From the thread iterating chunks() (e.g.
        a signal handler that interrupted it), it only sets the flag: stopping there could deadlock, because
        PortAudio waits for a callback that may need a lock that this very thread holds. chunks() then stops the
        stream within its next wait.
        """
        self._closed.set()
        self._buffer.interrupt()
        if threading.get_ident() == self._consumer_thread:
            return
        if self._stream_lock.acquire(blocking=False):
            try:
                self._stop_stream_locked()
            finally:
                self._stream_lock.release()
