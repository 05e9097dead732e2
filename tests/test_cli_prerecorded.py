"""The pre-recorded commands end to end: transcribe (one, many, URL), result, list, delete, audio, output formats."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_runner import invoke, one_line_error
from emulator import GladiaEmulator
from wavs import write_wav

from gladia_cli.errors import ExitCode

SCRIPT = [
    "Split infinity in a time when less is more.",
    "The quick brown fox jumps over the lazy dog.",
    "Thank you for listening.",
]


@pytest.fixture
def emu(api_env: GladiaEmulator) -> GladiaEmulator:
    api_env.prerecorded.polls_before_done = 0
    return api_env


def test_transcribe_uploads_the_file_and_prints_the_text(emu: GladiaEmulator, tmp_path: Path, capsys) -> None:
    wav, _ = write_wav(tmp_path / "talk.wav", 1.0)
    result = invoke(capsys, "transcribe", str(wav), "-l", "en")
    assert result.code == 0, result.stderr
    assert result.stdout.splitlines() == SCRIPT
    state = emu.prerecorded
    assert state.uploads[0].data == wav.read_bytes()
    body = state.created_bodies()[0]
    assert body["audio_url"].startswith(emu.base_url)
    assert body["language_config"] == {"languages": ["en"]}


def test_url_is_passed_as_is(emu: GladiaEmulator, capsys) -> None:
    url = "https://example.com/audio/split_infinity.wav"
    result = invoke(capsys, "transcribe", url)
    assert result.code == 0, result.stderr
    assert emu.prerecorded.uploads == []
    assert emu.prerecorded.created_bodies()[0]["audio_url"] == url


def test_diarization_labels_speakers(emu: GladiaEmulator, tmp_path: Path, capsys) -> None:
    wav, _ = write_wav(tmp_path / "talk.wav", 1.0)
    result = invoke(capsys, "transcribe", str(wav), "--speakers", "2")
    assert result.code == 0, result.stderr
    body = emu.prerecorded.created_bodies()[0]
    assert body["diarization"] is True and body["diarization_config"] == {"number_of_speakers": 2}
    assert result.stdout.splitlines()[0].startswith("Speaker 0: ")
    assert result.stdout.splitlines()[1].startswith("Speaker 1: ")


@pytest.mark.parametrize("fmt", ["json", "json-full", "srt", "vtt"])
def test_output_formats(emu: GladiaEmulator, tmp_path: Path, capsys, fmt: str) -> None:
    wav, _ = write_wav(tmp_path / "talk.wav", 1.0)
    result = invoke(capsys, "transcribe", str(wav), "-o", fmt)
    assert result.code == 0, result.stderr
    if fmt == "json":
        assert [u["text"].strip() for u in json.loads(result.stdout)["utterances"]] == SCRIPT
    elif fmt == "json-full":
        job = json.loads(result.stdout)
        assert job["kind"] == "pre-recorded" and job["status"] == "done"
    else:
        assert "-->" in result.stdout and "Split infinity" in result.stdout


@pytest.mark.parametrize(
    "spelling",
    [
        ["--summary-type", "bullet_points"],
        ["--summarize", "bullet_points"],  # the official CLI's optional-value spelling
        ["--summarize=bullet_points"],
    ],
)
def test_summary_and_translation_flags_shape_the_body(
    emu: GladiaEmulator, tmp_path: Path, capsys, spelling: list[str]
) -> None:
    wav, _ = write_wav(tmp_path / "talk.wav", 1.0)
    result = invoke(capsys, "transcribe", *spelling, str(wav), "--translate", "fr")
    assert result.code == 0, result.stderr
    body = emu.prerecorded.created_bodies()[0]
    assert body["summarization"] is True and body["summarization_config"] == {"type": "bullet_points"}
    assert body["translation"] is True and body["translation_config"]["target_languages"] == ["fr"]
    # The text output carries what was asked for: each translation under its utterance, then the summary.
    lines = result.stdout.splitlines()
    translated = [i for i, line in enumerate(lines) if line.startswith("  [fr] ")]
    assert translated and all(i > 0 and not lines[i - 1].startswith("  [") for i in translated)
    summary = emu.prerecorded.only_job().result["summarization"]["results"]
    assert result.stdout.endswith("\n\nSummary:\n" + summary.strip() + "\n")


def test_failed_job_is_exit_5_with_its_error_code(emu: GladiaEmulator, tmp_path: Path, capsys) -> None:
    emu.prerecorded.fail_next = 1
    wav, _ = write_wav(tmp_path / "talk.wav", 1.0)
    result = invoke(capsys, "transcribe", str(wav))
    assert result.code == ExitCode.API
    assert "500" in one_line_error(result)


def test_batch_writes_one_output_each_and_reports_failures(emu: GladiaEmulator, tmp_path: Path, capsys) -> None:
    inputs = [str(write_wav(tmp_path / f"{name}.wav", 0.5)[0]) for name in ("a", "b", "c")]
    emu.prerecorded.fail_filenames = {"b.wav"}
    out = tmp_path / "out"
    result = invoke(capsys, "transcribe", *inputs, "--output-dir", str(out), "--jobs", "3", "-o", "srt")
    assert result.code == ExitCode.BATCH_FAILED
    assert sorted(p.name for p in out.iterdir()) == ["a.srt", "c.srt"]
    assert "2 ok, 0 skipped, 1 failed" in result.stderr
    assert "FAILED" in result.stderr and "b.wav" in result.stderr
    assert result.stdout == ""
    # Again: the finished ones are skipped, the failed one is retried (and now succeeds).
    emu.prerecorded.fail_filenames = set()
    again = invoke(capsys, "transcribe", *inputs, "--output-dir", str(out), "-o", "srt")
    assert again.code == 0, again.stderr
    assert "1 ok, 2 skipped, 0 failed" in again.stderr
    forced = invoke(capsys, "transcribe", *inputs, "--output-dir", str(out), "-o", "srt", "--force")
    assert "3 ok, 0 skipped, 0 failed" in forced.stderr


@pytest.mark.slow  # seconds of its own: out of the inner loop
def test_batch_survives_a_429_storm(emu: GladiaEmulator, tmp_path: Path, capsys) -> None:
    inputs = [str(write_wav(tmp_path / f"{name}.wav", 0.3)[0]) for name in ("a", "b", "c")]
    emu.prerecorded.rate_limit_next = 8
    result = invoke(capsys, "transcribe", *inputs, "--output-dir", str(tmp_path / "out"), "--jobs", "3")
    assert result.code == 0, result.stderr
    assert emu.prerecorded.rate_limited == 8
    assert len(emu.prerecorded.created_bodies()) == 3  # no job created twice


def test_result_list_delete_audio_for_a_pre_recorded_job(emu: GladiaEmulator, tmp_path: Path, capsys) -> None:
    wav, _ = write_wav(tmp_path / "talk.wav", 1.0)
    assert invoke(capsys, "transcribe", str(wav)).code == 0
    job_id = emu.prerecorded.only_job().id
    fetched = invoke(capsys, "result", job_id)
    assert fetched.stdout.splitlines() == SCRIPT
    listed = invoke(capsys, "list")
    assert listed.code == 0
    row = next(line.split("\t") for line in listed.stdout.splitlines() if line.startswith(job_id))
    assert row[1:3] == ["pre-recorded", "done"]
    as_json = json.loads(invoke(capsys, "list", "--json", "--kind", "pre-recorded").stdout)
    assert [j["id"] for j in as_json] == [job_id]
    saved = tmp_path / "back.wav"
    assert invoke(capsys, "audio", job_id, "-O", str(saved)).code == 0
    assert saved.read_bytes() == wav.read_bytes()
    refused = invoke(capsys, "audio", job_id, "-O", str(saved))
    assert refused.code == ExitCode.USAGE and "--force" in one_line_error(refused)
    no_tty = invoke(capsys, "delete", job_id)
    assert no_tty.code == ExitCode.USAGE and "--yes" in one_line_error(no_tty)
    assert invoke(capsys, "delete", job_id, "--yes").code == 0
    gone = invoke(capsys, "result", job_id)
    assert gone.code == ExitCode.API and "no such job" in one_line_error(gone)


def test_result_wait_polls_until_done(emu: GladiaEmulator, tmp_path: Path, capsys) -> None:
    url = "https://example.com/a.mp3"
    assert invoke(capsys, "transcribe", url).code == 0
    emu.prerecorded.polls_before_done = 1
    job_id = emu.prerecorded.only_job().id
    assert invoke(capsys, "result", job_id, "--wait", "-o", "text").stdout.splitlines() == SCRIPT


def test_list_includes_live_sessions(emu: GladiaEmulator, tmp_path: Path, capsys) -> None:
    wav, _ = write_wav(tmp_path / "talk.wav", 0.5)
    assert invoke(capsys, "transcribe", str(wav), "--realtime", "--speed", "0").code == 0
    listed = invoke(capsys, "list", "--kind", "live")
    assert listed.stdout.split("\t")[1] == "live"


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--speakers", "0"], "speakers"),
        (["--min-speakers", "3", "--max-speakers", "2"], "speakers"),
        (["--summary-type", "poem"], "summary"),
        (["--summarize=poem"], "summary"),
        (["--jobs", "0"], "--jobs"),
        (["--record", "x.wav"], "--realtime"),
        (["-o", "jsonl"], "--realtime"),
        (["--realtime", "--diarize"], "pre-recorded"),
    ],
)
def test_bad_prerecorded_flags(emu: GladiaEmulator, tmp_path: Path, capsys, args: list[str], needle: str) -> None:
    wav, _ = write_wav(tmp_path / "talk.wav", 0.3)
    result = invoke(capsys, "transcribe", str(wav), *args)
    assert result.code == ExitCode.USAGE, result.stderr
    assert needle in one_line_error(result)
    assert emu.http_requests == []


def test_realtime_takes_one_file(emu: GladiaEmulator, tmp_path: Path, capsys) -> None:
    a, _ = write_wav(tmp_path / "a.wav", 0.3)
    result = invoke(capsys, "transcribe", str(a), str(a), "--realtime")
    assert result.code == ExitCode.USAGE
    assert "one file" in one_line_error(result)


def test_ctrl_c_in_a_batch_says_where_the_running_jobs_are(emu: GladiaEmulator, tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    emu.prerecorded.polls_before_done = 10_000  # never done
    inputs = [str(write_wav(tmp_path / f"{name}.wav", 0.3)[0]) for name in ("a", "b")]
    env = {**os.environ, "GLADIA_API_KEY": "test-key", "GLADIA_API_URL": emu.base_url, "HOME": str(tmp_path)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "gladia_cli", "transcribe", *inputs, "--output-dir", str(tmp_path / "out")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    deadline = time.monotonic() + 20
    while len(emu.prerecorded.created_bodies()) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=15)
    assert proc.returncode == ExitCode.ABORTED, err
    for job in emu.prerecorded.jobs.values():
        assert f"gladia result {job.id} --wait" in err
    assert "Traceback" not in err


@pytest.mark.slow  # seconds of its own: out of the inner loop
def test_the_official_clis_flags_work_unchanged(emu: GladiaEmulator, tmp_path: Path, capsys) -> None:
    """A user of Gladia's official CLI switches with nothing to re-learn: its flag names are accepted."""
    emu.prerecorded.polls_before_done = 1
    wav, _ = write_wav(tmp_path / "mixed.wav", 0.5)
    result = invoke(
        capsys, "transcribe", str(wav), "--cs", "--language", "en,fr", "--diarize", "-v", "--gladia-key", "test-key"
    )
    assert result.code == 0, result.stderr
    body = emu.prerecorded.created_bodies()[0]
    assert body["language_config"] == {"languages": ["en", "fr"], "code_switching": True}
    assert body["diarization"] is True
    assert "processing" in result.stderr or "queued" in result.stderr  # -v: progress lines without a terminal
    assert result.stdout.startswith("Speaker 0: ")  # numbered as the official CLI numbers them


def test_solaria_3_model_and_its_limits(emu: GladiaEmulator, tmp_path: Path, capsys) -> None:
    wav, _ = write_wav(tmp_path / "a.wav", 0.3)
    assert invoke(capsys, "transcribe", str(wav), "--model", "solaria-3", "--language", "fr").code == 0
    assert emu.prerecorded.created_bodies()[0]["model"] == "solaria-3"
    two = invoke(capsys, "transcribe", str(wav), "--model", "solaria-3", "--language", "en,fr")
    assert two.code == ExitCode.USAGE and "solaria-3" in one_line_error(two)
    cs = invoke(capsys, "transcribe", str(wav), "--model", "solaria-3", "--cs")
    assert cs.code == ExitCode.USAGE and "code switching" in one_line_error(cs)
    assert len(emu.prerecorded.create_requests) == 1


def test_a_missing_file_is_reported_before_a_missing_key(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.delenv("GLADIA_API_KEY", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    result = invoke(capsys, "transcribe", str(tmp_path / "typo.wav"))
    assert result.code == ExitCode.USAGE
    assert "no such file" in one_line_error(result)


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["transcribe", "--summarize", "talk.wav"], ["transcribe", "--summarize", "talk.wav"]),  # a file stays a file
        (
            ["transcribe", "--summarize", "concise", "a.wav"],
            ["transcribe", "--summarize", "--summary-type", "concise", "a.wav"],
        ),
        (["transcribe", "--summarize=general"], ["transcribe", "--summarize", "--summary-type", "general"]),
        (["transcribe", "--summarize="], ["transcribe", "--summarize"]),
        (["transcribe", "--summarize", "./concise"], ["transcribe", "--summarize", "./concise"]),
        (["transcribe", "--", "--summarize", "concise"], ["transcribe", "--", "--summarize", "concise"]),  # file names
        (["transcribe", "--summarize"], ["transcribe", "--summarize"]),
        (
            ["transcribe", "a.wav", "--summarize", "bullet-points"],
            ["transcribe", "a.wav", "--summarize", "--summary-type", "bullet-points"],
        ),
        (["transcribe", "--summarize", "https://x.y/a.mp3"], ["transcribe", "--summarize", "https://x.y/a.mp3"]),
    ],
)
def test_summarize_type_spelling_is_split_off_only_when_it_is_a_type(argv: list[str], expected: list[str]) -> None:
    from gladia_cli.cli.main import _summary_type_argv

    assert _summary_type_argv(argv) == expected


@pytest.mark.parametrize("spelling", [["--summary-type", ""], ["--summarize=poem"], ["--summarize", "bogus"]])
def test_an_empty_or_unknown_summary_type_is_refused_not_defaulted(
    emu: GladiaEmulator, tmp_path: Path, capsys, spelling: list[str]
) -> None:
    wav, _ = write_wav(tmp_path / "talk.wav", 0.3)
    for mode in ([], ["--realtime"]):
        result = invoke(capsys, "transcribe", str(wav), *mode, *spelling)
        assert result.code == ExitCode.USAGE, result.stderr
        assert "summary type" in one_line_error(result)
    assert emu.http_requests == []


@pytest.mark.parametrize("fmt", ["text", "json", "srt"])
def test_result_of_a_job_not_done_yet_is_an_error_not_an_empty_transcript(
    emu: GladiaEmulator, tmp_path: Path, capsys, fmt: str
) -> None:
    import requests

    emu.prerecorded.polls_before_done = 100
    headers = {"x-gladia-key": "test-key"}
    job = requests.post(
        f"{emu.base_url}/v2/pre-recorded", json={"audio_url": "https://example.com/a.mp3"}, headers=headers, timeout=5
    ).json()
    out = tmp_path / "t.out"
    result = invoke(capsys, "result", job["id"], "-o", fmt, "--output-file", str(out))
    assert result.code == ExitCode.API, result.stderr
    assert "no transcript yet" in one_line_error(result) and "--wait" in result.stderr
    assert not out.exists()
    assert invoke(capsys, "result", job["id"], "--json").code == 0  # the whole job, whatever its status


def test_a_dash_means_stdout_for_audio_and_output_files(emu: GladiaEmulator, tmp_path: Path, capsys) -> None:
    wav, _ = write_wav(tmp_path / "talk.wav", 1.0)
    import os
    import subprocess
    import sys

    env = {"GLADIA_API_KEY": "test-key", "GLADIA_API_URL": emu.base_url, "HOME": str(tmp_path)}

    def gladia(*args: str) -> subprocess.CompletedProcess[bytes]:
        command = [sys.executable, "-m", "gladia_cli", *args]
        return subprocess.run(command, capture_output=True, env={**os.environ, **env}, cwd=tmp_path, timeout=60)

    done = gladia("transcribe", str(wav), "--output-file", "-")
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode().splitlines() == SCRIPT and not (tmp_path / "-").exists()
    audio = gladia("audio", emu.prerecorded.only_job().id, "-O", "-")
    assert audio.returncode == 0, audio.stderr
    assert audio.stdout == wav.read_bytes() and b"to stdout" in audio.stderr and not (tmp_path / "-").exists()


def test_a_file_s_job_id_is_printed_and_list_names_the_file(
    api_env: GladiaEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A pre-recorded job can be found again: its id ends the run, as a live session's does, and `gladia list`
    shows the file it was made from."""
    api_env.prerecorded.polls_before_done = 0
    wav, _ = write_wav(tmp_path / "board-meeting.wav", 0.5)
    result = invoke(capsys, "transcribe", str(wav))
    assert result.code == 0, result.stderr
    job_id = api_env.prerecorded.only_job().id
    assert f"gladia: job {job_id}: `gladia result {job_id}` fetches it again" in result.stderr.splitlines()
    assert job_id not in result.stdout  # stdout is the transcript alone
    listed = invoke(capsys, "list", "--kind", "pre-recorded")
    row = next(line for line in listed.stdout.splitlines() if line.startswith(job_id))
    assert row.split("\t")[-1] == "board-meeting.wav"


def test_verbose_progress_says_the_upload_is_complete(
    api_env: GladiaEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    api_env.prerecorded.polls_before_done = 0
    wav, _ = write_wav(tmp_path / "a.wav", 3.0)
    result = invoke(capsys, "transcribe", str(wav), "-v")
    assert result.code == 0, result.stderr
    uploads = [line for line in result.stderr.splitlines() if "uploading" in line]
    assert "a.wav: uploading 0% of 0.1 MB" in uploads[0], uploads
    assert "uploading 100% of 0.1 MB" in uploads[-1], uploads
    assert len(uploads) <= 5  # one line per quarter, not one per chunk


def test_a_folder_stands_for_its_audio_files(
    api_env: GladiaEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    api_env.prerecorded.polls_before_done = 0
    folder = tmp_path / "recordings"
    folder.mkdir()
    for name in ("b", "a"):
        write_wav(folder / f"{name}.wav", 0.3)
    (folder / "notes.txt").write_text("minutes")
    (folder / ".hidden.wav").write_bytes(b"")
    (folder / "sub").mkdir()
    out = tmp_path / "out"
    result = invoke(capsys, "transcribe", str(folder), "--output-dir", str(out))
    assert result.code == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["a.txt", "b.txt"]
    assert sorted(u.filename for u in api_env.prerecorded.uploads) == ["a.wav", "b.wav"]

    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("minutes")
    refused = invoke(capsys, "transcribe", str(empty))
    assert refused.code == ExitCode.USAGE and "no audio or video file in it" in one_line_error(refused)
    live = invoke(capsys, "transcribe", str(folder), "--realtime")
    assert live.code == ExitCode.USAGE and "is a folder; --realtime streams one file" in one_line_error(live)
