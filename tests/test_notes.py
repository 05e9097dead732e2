"""Markdown notes (output/notes.py): valid front matter and one line per item whatever the text says, a file name
that outside text cannot steer, and `gladia result ID -o md` from a finished session."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from cli_runner import run
from emulator import GladiaEmulator
from wavs import write_wav

from gladia_cli.output.notes import NotesFile, NotesMeta, job_notes, slug


def _front(text: str) -> dict[str, object]:
    block = text.split("---\n")[1]
    return {key: json.loads(value) for key, value in (line.split(": ", 1) for line in block.strip().splitlines())}


def test_hostile_text_stays_data_in_the_notes_and_their_name(tmp_path: Path) -> None:
    meta = NotesMeta(title=None, start=datetime(2026, 12, 7, 9, 5, tzinfo=timezone.utc), inputs=['mic"\n---'])
    notes = NotesFile(tmp_path, meta)
    assert notes.path.name == "2026-12-07-0905.md"
    notes.final(1.0, "../../etc/passwd \x1b[2J\nsecond: line", "me\n- [00:00:00] fake")
    notes.mark(2.0, "bookmark", "note\r\n---\ntitle: x")
    (path,) = tmp_path.glob("*.md")
    assert path == notes.path and path.parent == tmp_path
    assert path.name == "2026-12-07-0905-etc-passwd-2j-second-line.md"
    text = path.read_text()
    assert "\x1b" not in text and "\r" not in text
    front = _front(text)
    assert front["inputs"] == ['mic" ---']
    assert front["title"] == "../../etc/passwd \\x1b[2J second: line"
    body = text.split("---\n", 2)[2]
    items = [line for line in body.splitlines() if line.startswith("- ")]
    assert len(items) == 2  # one line each, whatever newlines the text held
    assert items[0].startswith("- [00:00:01] **me - [00:00:00] fake**: ../../etc/passwd \\x1b[2J second: line")


def test_slug_is_never_a_path() -> None:
    assert slug("../..") == ""
    assert slug("  Réunion d'équipe: budget 2027 / Q1 ") == "réunion-d-équipe-budget-2027-q1"
    assert "/" not in slug("a/b\\c") and "." not in slug(".hidden")


def test_a_second_recording_in_the_same_minute_gets_its_own_file(tmp_path: Path) -> None:
    start = datetime(2026, 12, 7, 9, 5, tzinfo=timezone.utc)
    first = NotesFile(tmp_path, NotesMeta(title="Sync", start=start))
    second = NotesFile(tmp_path, NotesMeta(title="Sync", start=start))
    assert first.path != second.path and {p.name for p in tmp_path.iterdir()} == {
        "2026-12-07-0905-sync.md",
        "2026-12-07-0905-sync-2.md",
    }


def test_job_notes_from_a_result() -> None:
    job = {
        "id": "abc",
        "created_at": "2026-12-07T09:05:00Z",
        "request_params": {"model": "solaria-1"},
        "result": {
            "metadata": {"audio_duration": 75.0},
            "transcription": {
                "utterances": [
                    {"text": "Second.", "start": 65.2, "end": 66.0, "channel": 1},
                    {"text": "First.", "start": 1.5, "end": 2.0, "channel": 0, "language": "en"},
                ]
            },
            "summarization": {"success": True, "results": "We agreed."},
        },
    }
    text = job_notes(job, ["me", "them"])
    front = _front(text)
    assert front["sessions"] == ["abc"] and front["duration"] == "00:01:15" and front["model"] == "solaria-1"
    assert front["languages"] == ["en"] and front["channels"] == ["me", "them"]
    body = text.split("---\n", 2)[2]
    assert "- [00:00:01] **me**: First.\n- [00:01:05] **them**: Second." in body
    assert "## Summary\n\nWe agreed." in body


def test_result_as_notes(emulator: GladiaEmulator, tmp_path: Path) -> None:
    wav, _ = write_wav(tmp_path / "a.wav", 2.0)
    env = {"GLADIA_API_KEY": "test-key", "GLADIA_API_URL": emulator.base_url, "HOME": str(tmp_path)}
    done = run("transcribe", str(wav), "--realtime", "--speed", "0", env=env)
    assert done.code == 0, done.stderr
    session = emulator.only_session().id
    result = run("result", session, "-o", "MD", "--channel-names", "me", env=env)
    assert result.code == 0, result.stderr
    front = _front(result.stdout)
    assert front["sessions"] == [session] and front["channels"] == ["me"]
    assert "- [00:00:00] **me**: Hello world." in result.stdout
