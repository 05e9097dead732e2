"""One live transcription, end to end: create the session, stream the source, render events, fetch the result."""

from __future__ import annotations

import signal
import sys
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from types import FrameType
from typing import IO, TYPE_CHECKING, Any

from gladia_cli.audio.format import AudioSource
from gladia_cli.audio.recording import WavRecorder
from gladia_cli.cli.live_notes import LiveNotes
from gladia_cli.cli.live_request import LiveRequest, Microphone, Stdin, check_names
from gladia_cli.cli.live_steer import RunSteering
from gladia_cli.cli.recover import kept_notice, recover_at_once
from gladia_cli.client import Client
from gladia_cli.console.live_view import JobProgress, LiveRenderer, billed_text
from gladia_cli.console.terminal import is_tty, notice
from gladia_cli.errors import Aborted, ApiError, GladiaError, NetworkError, UsageError
from gladia_cli.live import defaults as live_defaults
from gladia_cli.live.events import Ended, Progress, State, StateChanged
from gladia_cli.live.stream import LiveStream
from gladia_cli.output import job_json
from gladia_cli.output import transcript as formats
from gladia_cli.output.output_format import OutputFormat
from gladia_cli.settings import Settings

if TYPE_CHECKING:
    from collections.abc import Callable

    from gladia_cli.live.journal import JournalWriter


class _Interrupts:
    """SIGINT and SIGTERM as a two-step state machine: the first stops gracefully, a second (of either) aborts.

    SIGTERM is what `timeout`, systemd and `docker stop` send: it must end a session as cleanly as Ctrl-C, not kill it
    before stop_recording. The handler only counts: it runs on the main thread between any two bytecodes, possibly
    while that thread holds a lock the session needs, so the main loop (`_pump`) acts on the count, never the handler.
    """

    SIGNALS = (signal.SIGINT, signal.SIGTERM)
    # `timeout` sends its SIGTERM twice, to the child and then to its process group: a repeat this soon is that echo,
    # not someone asking to abort.
    ECHO_SECONDS = 0.5

    def __init__(self) -> None:
        self.count = 0
        self.first: int | None = None  # the signal that asked for the graceful stop
        self._first_at = 0.0
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> _Interrupts:
        if threading.current_thread() is threading.main_thread():
            for signum in self.SIGNALS:
                self._previous[signum] = signal.signal(signum, self._on_signal)
        return self

    def __exit__(self, *exc: object) -> None:
        for signum, previous in self._previous.items():
            # None: a handler not installed from Python; the default is the closest thing to restoring it.
            signal.signal(signum, previous if previous is not None else signal.SIG_DFL)
        self._previous.clear()

    def ask_stop(self) -> None:
        """A stop asked another way than a signal counts as the first Ctrl-C (a second one still aborts)."""
        self.count = max(self.count, 1)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        now = time.monotonic()
        if self.first is None:
            self.first, self._first_at = signum, now
        elif self.count == 1 and signum == self.first == signal.SIGTERM and now - self._first_at < self.ECHO_SECONDS:
            return
        self.count += 1


def run_request(request: LiveRequest, load_settings: Callable[[], Settings]) -> int:
    """Open the source, then run; return the exit code. `load_settings` resolves the key when its turn comes."""
    source, label, settings, names = _open_source(request, load_settings)
    with ExitStack() as stack:
        stack.callback(source.close)  # a microphone started early must not go on recording if POST /v2/live fails
        client = stack.enter_context(Client(settings=settings))
        stream = client.live(
            source,
            options=request.options,
            duration=request.duration,
            policy=request.policy,
            buffer_seconds=request.buffer_seconds,
            session_limit=request.session_limit,
            messages=OutputFormat(request.output) is OutputFormat.jsonl,
            acknowledgements=_shows_acks(request),
        )
        for warning in stream.warnings:
            notice(warning)
        return run_live(client, request, stream, label, names)
    raise AssertionError("unreachable")


def _shows_acks(request: LiveRequest) -> bool:
    messages = request.options.base.get("messages_config")
    return isinstance(messages, dict) and bool(messages.get("receive_acknowledgments"))


def _open_source(
    request: LiveRequest, load_settings: Callable[[], Settings]
) -> tuple[AudioSource, str, Settings, list[str] | None]:
    """The source, its label for the live view, the settings and the channel names: a missing key is reported before
    the microphone is touched, but after a file's own problem (what the person must fix first)."""
    from gladia_cli.audio import inputs

    wanted = request.source
    if isinstance(wanted, Microphone):
        settings = load_settings()
        mic, label, names = inputs.open_microphones(
            list(wanted.devices) or [wanted.device],
            wanted.format,
            chunk_ms=request.chunk_ms,
            buffer_seconds=request.buffer_seconds,
            rate_fallback=wanted.rate_fallback,
            names=request.channel_names,
            paused=request.start_paused,
        )
        return mic, label, settings, names
    if isinstance(wanted, Stdin):
        if sys.stdin is not None and is_tty(sys.stdin):
            raise UsageError("stdin is a terminal, not audio", hint="pipe audio in: ffmpeg -i IN -f wav - | gladia ...")
        stdin = inputs.open_stdin(request.chunk_ms, wanted.format)
        if request.channel_names is not None:
            check_names(request.channel_names, stdin.format.channels)
        return stdin, "from stdin", load_settings(), request.channel_names
    from gladia_cli.audio.files import open_audio_file

    source = open_audio_file(wanted.path, wanted.format, request.chunk_ms, speed=wanted.speed)
    settings = load_settings()
    if source.truncated:
        notice(
            f"{wanted.path} ends before its header says it should; streaming the {source.duration or 0:.1f} s it holds"
        )
    return source, f"from {wanted.path.name}", settings, request.channel_names


def _open_output_file(path: Path, *, force: bool) -> IO[str]:
    """Written as the transcript comes; an existing file is refused unless --force, then replaced (appending would
    make a second SRT or WebVTT in one file)."""
    from gladia_cli.cli.jobs import refuse_existing
    from gladia_cli.output.files import refuse_foreign_link

    try:
        refuse_foreign_link(path)
        refuse_existing(path, force=force, flag="--output-file")
        return path.open("w" if force else "x", encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write --output-file {path}: {exc.strerror or exc}") from None


def run_live(client: Client, request: LiveRequest, stream: LiveStream, label: str, names: list[str] | None) -> int:
    """Return the exit code; raise GladiaError for anything the user must be told about."""
    source, body = stream.source, stream.body
    with ExitStack() as stack:
        stack.callback(stream.close)  # aborts a session still running, joins it, closes the source
        # Local files first: a typo in a path must not cost a Gladia session.
        output_file = (
            stack.enter_context(_open_output_file(request.output_file, force=request.force))
            if request.output_file
            else None
        )
        recorder = WavRecorder(request.record, source.format, overwrite=request.force) if request.record else None
        if recorder is not None:
            stack.callback(recorder.close_or_discard)
        languages = body.get("language_config", {}).get("languages", [])
        code_switching = bool(body.get("language_config", {}).get("code_switching")) and len(languages) != 1
        renderer = LiveRenderer(
            output=request.output,
            show_acks=_shows_acks(request),
            multichannel=source.format.channels > 1,
            show_language=code_switching,
            source_label=label,
            output_file=output_file,
            input_name=source.input_name,
            channel_names=names,
            timestamps=request.timestamps,
        )
        with renderer:
            steer = (
                stack.enter_context(
                    RunSteering(
                        source,
                        renderer,
                        start_paused=request.start_paused,
                        stop_after_silence=request.stop_after_silence,
                        price_per_hour=request.price_per_hour,
                    )
                )
                if source.can_pause
                else None
            )

            def connecting() -> None:  # the view while POST /v2/live is answered: the audio already waiting
                progress = Progress(0.0, 0.0, seconds_buffered=source.buffered_seconds, connected=False)
                renderer.handle(progress)
                levels = source.levels()
                renderer.levels(levels)
                if steer is not None:
                    steer.tick(State.CONNECTING, progress, levels)  # a stop asked now is acted on once streaming

            session_id = stream.create(tick=connecting)
            if steer is not None:
                steer.session_ids = [session_id]
            notes = (
                LiveNotes(
                    request.notes,
                    title=request.title,
                    session_id=session_id,
                    body=body,
                    inputs=source.input_names,
                    channel_names=names,
                )
                if request.notes is not None
                else None
            )
            # Each session's journal is opened once it has an id; the audio captured before it waits in the source and
            # goes through it like the rest, so the journal misses none of it.
            journals = _journal_for(request, body, source)
            with _Interrupts() as interrupts:
                note = source.format_note
                renderer.notice(f"session {session_id} ({source.format.describe()})" + (f"; {note}" if note else ""))
                stream.start(on_audio=recorder.write if recorder is not None else None, journal=journals)
                outcome: Ended | None = None
                try:
                    ended = outcome = _pump(stream, renderer, interrupts, request.finish_timeout, steer, notes)
                finally:
                    stream.close()
                    if notes is not None:
                        notes.finish(outcome, steer.steering.status() if steer is not None else None)
                    journal = stream.journal
                    kept = journal is not None and _keep_journal(journal, outcome, interrupts)
        _report_capture_losses(source, renderer)
        session_id = stream.session_ids[-1]  # the session the recording went to last
        later = f"the session id is {session_id}: fetch what Gladia received with `gladia result {session_id}`"
        for earlier in stream.kept_journals:
            renderer.notice(kept_notice(earlier.session_id, earlier.directory, earlier.unacknowledged_seconds)[0])
        if recorder is not None and recorder.bytes_written:
            renderer.notice(f"recorded {recorder.seconds:.1f} s of audio to {recorder.path}")
        if notes is not None:
            renderer.notice(f"notes in {notes.path}")
        if kept and journal is not None:
            text, later = kept_notice(session_id, journal.directory, journal.unacknowledged_seconds)
            if ended.error is not None and interrupts.count < 2 and request.on_failure == "recover":
                try:
                    recover_at_once(client, journal.directory, request.output, renderer.write_result)
                    return 0
                except GladiaError as exc:
                    renderer.notice(f"could not recover now ({exc.message}); the journal is kept")
            renderer.notice(text)
        if interrupts.count >= 2:
            raise Aborted("aborted", hint=later)
        if ended.error is not None:
            if ended.undelivered_seconds >= 0.05 and not kept:
                renderer.notice(_unacknowledged_text(ended.undelivered_seconds, recorder.path if recorder else None))
            if ended.error.hint is None or kept:
                # Whatever ended it (a fatal close, a lost link), Gladia may hold a result worth fetching.
                ended.error.hint = later
            raise ended.error
        _print_result(stream, request.output, names, renderer, ended)
        for line in steer.end_lines() if steer is not None else []:
            renderer.notice(line)
        billed = f", {billed_text(steer.steering.status())}" if steer is not None else ""
        renderer.notice(_end_line(stream.session_ids, stream.progress().seconds_sent, renderer.words, billed))
        return 0
    raise AssertionError("unreachable")


def _journal_for(
    request: LiveRequest, body: dict[str, Any], source: AudioSource
) -> Callable[[str, dict[str, Any]], JournalWriter] | None:
    """Opens the journal of each Gladia session of the recording, with its place in the chain (for `recover`)."""
    if not request.journal_max_bytes:
        return None
    from gladia_cli.live.journal import JournalWriter

    def open_journal(session_id: str, chain: dict[str, Any]) -> JournalWriter:
        extra = {"language_config": body.get("language_config") or {}, "recording": chain}
        return JournalWriter(session_id, source.format, max_bytes=request.journal_max_bytes, extra=extra)

    return open_journal


def _keep_journal(journal: JournalWriter, ended: Ended | None, interrupts: _Interrupts) -> bool:
    """Kept when the session did not end normally and Gladia lacks some audio; deleted otherwise."""
    failed = ended is None or ended.error is not None or interrupts.count >= 2
    if failed and journal.unacknowledged_seconds >= 0.05:
        journal.close()
        return True
    journal.discard()
    return False


def _end_line(session_ids: list[str], seconds: float, words: int, billed: str = "") -> str:
    """What the recording was, in one line, and how to get it again (the id already opened the session's output)."""
    counted = f"{words} word" + ("" if words == 1 else "s")
    if len(session_ids) == 1:
        return f"{seconds:.1f} s of audio, {counted}{billed}; `gladia result {session_ids[0]}` fetches it"
    return (
        f"{seconds:.1f} s of audio in {len(session_ids)} Gladia sessions, {counted}{billed}; "
        f"`gladia result {' '.join(session_ids)}` fetches them as one"
    )


def _unacknowledged_text(seconds: float, recorded: Path | None) -> str:
    """The client only knows what Gladia did not acknowledge, not what it did not receive: say exactly that."""
    kept = f"; it is in {recorded}" if recorded else ""
    return f"{seconds:.1f} s of audio were not acknowledged by Gladia (they may not have reached it){kept}"


def _report_capture_losses(source: AudioSource, renderer: LiveRenderer) -> None:
    """A microphone that could not keep up (or a buffer bound that was hit in capture) must be said, not hidden."""
    dropped, overflows = source.dropped_seconds, source.overflows
    if dropped >= 0.05:
        renderer.notice(f"the microphone buffer overflowed: {dropped:.1f} s of audio were dropped")
    if overflows:
        renderer.notice(f"the sound card reported {overflows} input overflow(s): short gaps in the audio")
    for note in source.capture_notes():  # several inputs kept in step (audio/multi.py)
        renderer.notice(note)


def _pump(
    stream: LiveStream,
    renderer: LiveRenderer,
    interrupts: _Interrupts,
    finish_timeout: float | None,
    steer: RunSteering | None = None,
    notes: LiveNotes | None = None,
) -> Ended:
    """Render events until the session ends; act on Ctrl-C; give up on post-processing after `finish_timeout` (when
    None: after what Gladia said it had left to process, `live_defaults.finish_wait`).
    The input's level meter is read at each tick, ten times a second."""
    finishing_since: float | None = None
    next_tick = 0.0
    handled = 0
    pauses_shown = 0
    while True:
        if interrupts.count > handled:
            handled = interrupts.count
            if handled == 1:
                if interrupts.first == signal.SIGTERM:
                    renderer.notice("terminated (SIGTERM): stopping and waiting for the result; send it again to abort")
                stream.stop()
                # The ceiling runs from the person's stop, whatever state follows: with nothing acknowledged the
                # session may never reach FINISHING (a source that does not close, acks that never come).
                finishing_since = time.monotonic() if finishing_since is None else finishing_since
            else:
                stream.abort()
        if renderer.stdout_closed and not stream.finished:
            stream.abort()  # whoever read stdout went away (`| head`): end the session, nothing more to show
        event = stream.next_event(timeout=0.1)
        now = time.monotonic()
        if now >= next_tick:
            next_tick = now + 0.1
            progress = stream.progress()
            renderer.handle(progress)
            levels = stream.source.levels()
            renderer.levels(levels)
            if steer is not None:
                steer.session_ids = stream.session_ids  # a recording past Gladia's limit goes on in new ones
                if steer.tick(stream.state, progress, levels):
                    interrupts.ask_stop()  # `q`, `gladia ctl stop` or --stop-after-silence: one Ctrl-C
            if notes is not None:
                notes.sessions(stream.session_ids)
                if steer is not None:
                    notes.on_status(steer.status)  # what this tick saw
            if steer is not None:
                ended = [(m.at, m.seconds) for m in steer.status.marks if m.kind == "pause" and m.seconds is not None]
                for at, seconds in ended[pauses_shown:]:
                    renderer.paused(at, seconds)
                pauses_shown = len(ended)
            said = progress.left_to_process
            limit = finish_timeout if finish_timeout is not None else live_defaults.finish_wait(said)
            if finishing_since is not None and now - finishing_since > limit:
                stream.abort()
                left = f" (it said {said:.0f} s of audio were left to process)" if said is not None else ""
                return Ended(None, "", NetworkError(f"Gladia did not finish within {limit:g} s of the stop{left}"))
        if event is None:
            continue
        renderer.handle(event)
        if steer is not None:
            steer.on_event(event)
        if notes is not None:
            notes.on_event(event)
        if isinstance(event, StateChanged) and event.state == State.FINISHING:
            finishing_since = now
        if isinstance(event, Ended):
            return event


def _recover_lost_finals(stream: LiveStream, renderer: LiveRenderer) -> dict[str, Any]:
    """A final sent while the connection was down never reached us: the session's result still has it. Returns the
    session's job, whose add-on results stand in for post-processing messages lost with the link.

    An utterance of the result counts as printed when a printed final overlaps it in time on its channel, so a result
    segmented a little differently from the live finals is not printed twice.
    """
    with JobProgress("checking the final result for words lost while reconnecting") as progress:
        job = stream.job(timeout=60, on_poll=progress.update)
    result = job.get("result") if isinstance(job.get("result"), dict) else {}
    transcription = result.get("transcription") if isinstance(result, dict) else None
    utterances = transcription.get("utterances") if isinstance(transcription, dict) else None
    missing = []
    for u in utterances if isinstance(utterances, list) else []:
        if not isinstance(u, dict) or not str(u.get("text") or "").strip():
            continue
        start, end, channel = u.get("start"), u.get("end"), job_json.channel_of(u)
        if not isinstance(start, (int, float)) or not isinstance(end, (int, float)):
            continue
        if not any(c == channel and s < end and start < e for c, s, e in renderer.spans):
            missing.append(u)
    if missing:
        renderer.notice(f"{len(missing)} utterance(s) did not arrive during a reconnection; from the final result:")
        for u in missing:
            renderer.write_result(
                formats.utterance_line(
                    str(u["text"]),
                    channel=job_json.channel_of(u) if renderer.multichannel else None,
                    channel_name=job_json.channel_name(job_json.channel_of(u), renderer.channel_names),
                )
            )
    return job


def _print_result(
    stream: LiveStream, output: OutputFormat | str, names: list[str] | None, renderer: LiveRenderer, ended: Ended
) -> None:
    output, session_id = OutputFormat(output), stream.session_id
    if output.subtitles and renderer.captions is not None and renderer.captions.count:
        return  # the cues were written live, as their finals came: the output is complete, not printed twice
    if output.whole_result:
        # Formats of the whole session come from the authoritative result, which may still be processing.
        with JobProgress("waiting for the final result") as progress:
            job = stream.job(on_poll=progress.update)
        if job.get("status") == "error" and not output.api_object:
            raise ApiError(
                f"session {session_id} failed on Gladia's side (error code {job.get('error_code')})",
                hint=f"`gladia result {session_id} --json` shows the whole job",
            )
        pretty = is_tty(renderer.out) and renderer.output_file is None
        text = formats.render(job, output, pretty=pretty, channel_names=names)
        if text:
            renderer.write_result(text.removesuffix("\n"))
        for line in job_json.addon_errors(job):
            renderer.addon_failed(line)
        return
    for line in job_json.addon_errors(ended.final_result) if ended.final_result else []:
        renderer.addon_failed(line)  # the live messages may have said it already: once is enough
    if output is not OutputFormat.text:
        return
    kept: dict[str, Any] | None = None  # the session's job, when a reconnection made it worth fetching
    if ended.reconnections and not renderer.stdout_closed:
        try:
            kept = _recover_lost_finals(stream, renderer)
        except GladiaError as exc:
            # Best effort: everything that arrived is printed already; say what could not be checked.
            renderer.notice(f"could not check the final result for lost words ({exc.message})")
    # Post-processing messages lost with the link (post_final_transcript, post_summarization): the job has them.
    final = ended.final_result or kept
    if kept is not None and ended.final_result is None:
        for line in job_json.addon_errors(kept):
            renderer.addon_failed(line)
    if renderer.finals == 0 and final is not None:
        # Final transcripts were switched off in the config: print the post-processed transcript instead.
        for line in formats.transcript_lines(final, names):
            renderer.write_result(line)
    summary = ended.summary or (final and job_json.summary_text(final)) or (kept and job_json.summary_text(kept))
    if summary:
        renderer.write_result("")
        renderer.write_result("Summary:")
        renderer.write_result(summary)
    chapters = job_json.chapters(final) if final else []
    if chapters:
        renderer.write_result("")
        renderer.write_result("Chapters:")
        for line in formats.chapter_lines(chapters):
            renderer.write_result(line)


__all__ = ["GladiaError", "run_live", "run_request"]
