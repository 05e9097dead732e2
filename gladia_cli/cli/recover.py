"""`gladia recover`: the journals kept on this machine, and a session's transcript finished from one (the work is
`gladia_cli.recovery`'s; this module checks the flags, shows progress and writes the output)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from gladia_cli import strict_json
from gladia_cli.client import Client
from gladia_cli.console.live_view import JobProgress
from gladia_cli.console.terminal import is_tty, notice
from gladia_cli.errors import UsageError
from gladia_cli.live.journal import Journal, find, journals_dir, list_journals, unreadable_journals
from gladia_cli.output import transcript as formats
from gladia_cli.output.output_format import OutputFormat
from gladia_cli.recovery import Recovered, merge, recover
from gladia_cli.settings import Settings

__all__ = ["JOURNAL_COLUMNS", "journal_rows", "journals_dir", "run_recover"]

JOURNAL_COLUMNS = ("id", "created", "duration", "not acknowledged", "state")


def journal_rows(root: Path | None = None) -> list[tuple[str, str, str, str, str]]:
    """id, created (local time), duration, seconds not acknowledged, state: one line of `gladia recover`."""
    from gladia_cli.cli.jobs import local_time

    rows = []
    for bad in unreadable_journals(root):
        rows.append((bad.directory.name, "?", "?", "?", f"{bad.reason}: see {bad.directory}"))
    for journal in list_journals(root):
        state = "in use" if journal.in_use else "kept"
        rows.append(
            (
                journal.session_id,
                local_time(journal.created_at),
                f"{journal.seconds:.1f} s",
                f"{journal.unacknowledged_seconds:.1f} s",
                state,
            )
        )
    return rows


def _recover(client: Client, journal: Journal) -> Recovered:
    with JobProgress(f"transcribing {journal.unacknowledged_seconds:.1f} s not acknowledged") as progress:
        return recover(client, journal, notice, on_upload=progress.upload, on_progress=progress.update)


def run_recover(
    load_settings: Callable[[], Settings],
    session_id: str,
    output: str,
    *,
    keep: bool = False,
    output_file: Path | None = None,
    root: Path | None = None,
    force: bool = False,
    discard: bool = False,
) -> int:
    """`gladia recover ID`: print the merged transcript in `output`; delete the journal unless `keep`. `discard`
    deletes it without recovering anything (the audio is not wanted, or Gladia cannot have it).

    Everything local is checked before the key is loaded or anything is uploaded."""
    from gladia_cli.cli.jobs import check_output_file, write_output

    if OutputFormat(output).api_object:
        raise UsageError("-o json-full does not apply to a merged transcript", hint="use -o json")
    if output_file is not None:
        check_output_file(output_file, force=force)
    if discard and keep:
        raise UsageError("--discard and --keep contradict each other", hint="give one of them")
    journal = find(session_id.strip(), root)
    if journal.in_use:
        raise UsageError(
            f"the journal of {session_id} is in use by process {journal.pid}",
            hint="the session is still running; recover it once that process has ended",
        )
    if discard:
        seconds = journal.unacknowledged_seconds
        journal.remove()
        notice(f"discarded the journal of {session_id} ({seconds:.1f} s Gladia did not acknowledge, now deleted)")
        return 0
    if not journal.segments:
        raise UsageError(
            f"the journal of {session_id} holds no audio", hint=f"`gladia result {session_id}` has what Gladia got"
        )
    with Client(settings=load_settings()) as client:
        merged = _recover(client, journal)
    write_output(
        formats.render_chunks(merged.job, output, pretty=is_tty(sys.stdout) and output_file is None), output_file
    )
    if merged.live_gone and not keep:
        journal.remove()  # no later run can find what Gladia no longer has: keeping it would only promise that
        notice(f"removed the journal of {session_id}: Gladia no longer holds the session, so nothing is left to merge")
    elif keep or not merged.live_found:
        # Without the live result nothing was merged: the journal is what lets a later run do it.
        why = "" if keep else f"; `gladia recover {session_id}` again merges it once the live result is ready"
        notice(f"kept the journal in {journal.directory}{why}")
    else:
        journal.remove()
    return 0


def kept_notice(session_id: str, directory: Path, seconds: float) -> tuple[str, str]:
    """The end message of a session that cannot go on, and the hint of its error: where the audio is, what next."""
    return (
        f"{seconds:.1f} s of audio were not acknowledged by Gladia (they may not have reached it); "
        f"they are kept in {directory}",
        f"`gladia recover {session_id}` transcribes them and merges them with what Gladia got "
        f"(`gladia result {session_id}`)",
    )


def recover_at_once(client: Client, directory: Path, output: str, write: Callable[[str], None]) -> None:
    """`--on-failure recover`: finish the transcript now. The live finals are on screen already, so text (and jsonl)
    get only the recovered part; the whole-session formats get the merged transcript. Deletes the journal when done.
    """
    from gladia_cli.live.journal import load

    journal = load(directory)
    if not isinstance(journal, Journal):
        raise UsageError(f"the journal in {directory} cannot be read")
    notice(f"recovering {journal.unacknowledged_seconds:.1f} s that Gladia did not acknowledge (--on-failure recover)")
    merged = _recover(client, journal)
    output = OutputFormat(output)
    if output in (OutputFormat.text, OutputFormat.jsonl):
        part = merge(None, None, 0.0, journal.session_id)
        part.job["result"]["transcription"]["utterances"] = merged.recovered
        if output is OutputFormat.jsonl:
            transcription = part.job["result"]["transcription"]
            write(strict_json.dump_json({"type": "recovered_transcript", "data": transcription}, pretty=False))
        else:
            for line in formats.transcript_lines(part.job):
                write(line)
    else:
        text = formats.render(merged.job, output, pretty=False)
        if text:
            write(text.removesuffix("\n"))
    journal.remove()
