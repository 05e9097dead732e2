"""The job client (`gladia_cli.jobs`) and the batch (`gladia_cli.batch`) against the emulator's pre-recorded API."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

if __package__:
    from .emulator_prerecorded import FullGladiaEmulator
    from .wavs import write_wav
else:
    from emulator_prerecorded import FullGladiaEmulator
    from wavs import write_wav

from gladia_cli.api import GladiaApi
from gladia_cli.batch import BATCH_MAX_ATTEMPTS, BatchResult, plan_outputs, run_batch, write_text_atomic
from gladia_cli.errors import ApiError, NetworkError, UsageError
from gladia_cli.jobs import JobClient, MultipartFileBody, TranscriptionFailed
from gladia_cli.prerecorded.body import build_prerecorded_body
from gladia_cli.settings import Settings

KEY = {"x-gladia-key": "test-key"}
SCRIPT = "Split infinity in a time when less is more."


@pytest.fixture
def emu() -> Iterator[FullGladiaEmulator]:
    emulator = FullGladiaEmulator()
    emulator.start()
    try:
        yield emulator
    finally:
        emulator.stop()
    assert emulator.errors == []


def make_api(emu: FullGladiaEmulator, attempts: int = 4) -> GladiaApi:
    settings = Settings(api_key="test-key", api_url=emu.base_url, region=None, key_source="test")
    return GladiaApi(settings, max_attempts=attempts)


@pytest.fixture
def client(emu: FullGladiaEmulator) -> Iterator[JobClient]:
    api = make_api(emu)
    try:
        yield JobClient(api)
    finally:
        api.close()


def create_url_job(client: JobClient, name: str = "talk.mp3") -> str:
    return str(client.create({"audio_url": f"https://media.example.com/audio/{name}"})["id"])


# --- upload -----------------------------------------------------------------------------------------------------------


def test_upload_sends_exactly_the_file_in_field_audio_with_a_content_length(
    emu: FullGladiaEmulator, client: JobClient, tmp_path: Path
) -> None:
    wav, _ = write_wav(tmp_path / "meeting.wav", 3.0, channels=2)
    progress: list[tuple[int, int]] = []
    answer = client.upload(wav, lambda sent, total: progress.append((sent, total)))

    upload = emu.prerecorded.uploads[-1]
    assert upload.data == wav.read_bytes()
    assert upload.field_names == ["audio"] and upload.filename == "meeting.wav"
    assert upload.part_content_type == "application/octet-stream"
    assert not upload.chunked and upload.content_length is not None and upload.content_length > len(upload.data)
    assert answer["audio_url"] == upload.audio_url
    meta = answer["audio_metadata"]
    assert meta["audio_duration"] == pytest.approx(3.0) and meta["number_of_channels"] == 2
    assert meta["size"] == wav.stat().st_size and meta["extension"] == "wav"
    size = wav.stat().st_size
    assert progress[-1] == (size, size) and len(progress) > 2
    assert [p[0] for p in progress] == sorted(p[0] for p in progress)


def test_upload_streams_from_disk_in_blocks(client: JobClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path, _ = write_wav(tmp_path / "long.wav", 20.0)  # 640 KB: many upload blocks
    sizes: list[int] = []
    original = MultipartFileBody.read

    def spy(self: MultipartFileBody, size: int = -1) -> bytes:
        sizes.append(size)
        return original(self, size)

    monkeypatch.setattr(MultipartFileBody, "read", spy)
    client.upload(path)
    assert len(sizes) > 5 and all(0 < s <= 256 * 1024 for s in sizes[:-1]), sizes[:10]


def test_multipart_body_is_well_formed_and_rewinds(tmp_path: Path) -> None:
    path = tmp_path / "x.wav"
    path.write_bytes(b"RIFF" + bytes(range(256)) * 10)
    with MultipartFileBody(path) as body:
        first = b"".join(iter(body))
        assert len(first) == len(body)
        assert first.startswith(f"--{body.boundary}\r\n".encode())
        assert b'Content-Disposition: form-data; name="audio"; filename="x.wav"\r\n' in first
        assert path.read_bytes() in first and first.endswith(f"\r\n--{body.boundary}--\r\n".encode())
        body.seek(0)
        assert body.read(7) + body.read() == first


def test_upload_is_retried_after_a_429_with_the_whole_file(
    emu: FullGladiaEmulator, client: JobClient, tmp_path: Path
) -> None:
    wav, _ = write_wav(tmp_path / "a.wav", 1.0)
    emu.prerecorded.rate_limit_next = 2
    client.upload(wav)
    assert emu.prerecorded.rate_limited == 2
    assert [u.data for u in emu.prerecorded.uploads] == [wav.read_bytes()]


def test_missing_or_empty_file_fails_before_any_request(
    emu: FullGladiaEmulator, client: JobClient, tmp_path: Path
) -> None:
    with pytest.raises(UsageError, match="no such file"):
        client.transcribe(tmp_path / "nope.wav")
    (tmp_path / "empty.wav").write_bytes(b"")
    with pytest.raises(UsageError, match="is empty"):
        client.transcribe(str(tmp_path / "empty.wav"))
    assert emu.http_requests == []


# --- create and poll --------------------------------------------------------------------------------------------------


def test_url_is_passed_through_without_upload(emu: FullGladiaEmulator, client: JobClient) -> None:
    url = "https://media.example.com/audio/talk.mp3"
    created: list[dict] = []
    job = client.transcribe(url, {}, interval=0.01, on_created=created.append)
    assert ("POST", "/v2/upload") not in emu.http_requests and emu.prerecorded.uploads == []
    assert emu.prerecorded.created_bodies() == [{"audio_url": url}]
    assert job["status"] == "done" and job["id"] == created[0]["id"]
    assert created[0]["result_url"].endswith(f"/v2/transcription/{job['id']}")
    assert job["file"]["filename"] == "talk.mp3"


def test_body_built_from_flags_and_config_is_what_gladia_receives(
    emu: FullGladiaEmulator, client: JobClient, tmp_path: Path
) -> None:
    base = {"custom_vocabulary_config": {"default_intensity": 0.4}, "sentences": True, "custom_metadata": {"k": "v"}}
    body = build_prerecorded_body(
        languages=["en", "fr"],
        code_switching=True,
        speakers=3,
        translate=["de", "wo"],
        summarize="bullet_points",
        vocabulary=["Gladia", "Solaria"],
        subtitles=["srt", "vtt"],
        base=base,
    )
    expected = {
        "language_config": {"languages": ["en", "fr"], "code_switching": True},
        "diarization": True,
        "diarization_config": {"number_of_speakers": 3},
        "translation": True,
        "translation_config": {"target_languages": ["de", "wo"]},
        "summarization": True,
        "summarization_config": {"type": "bullet_points"},
        "custom_vocabulary": True,
        "custom_vocabulary_config": {"default_intensity": 0.4, "vocabulary": ["Gladia", "Solaria"]},
        "subtitles": True,
        "subtitles_config": {"formats": ["srt", "vtt"]},
        "sentences": True,
        "custom_metadata": {"k": "v"},
    }
    assert body == expected
    assert base == {
        "custom_vocabulary_config": {"default_intensity": 0.4},
        "sentences": True,
        "custom_metadata": {"k": "v"},
    }

    wav, _ = write_wav(tmp_path / "a.wav", 3.0)
    job = client.transcribe(wav, body, interval=0.01)
    sent = emu.prerecorded.created_bodies()[-1]
    assert sent == {**expected, "audio_url": emu.prerecorded.uploads[-1].audio_url}

    result = job["result"]
    utterances = result["transcription"]["utterances"]
    assert [u["speaker"] for u in utterances] == [0, 1, 2]
    assert result["transcription"]["utterances"][0]["text"].strip() == SCRIPT
    assert result["summarization"]["results"].startswith("- Split infinity")
    assert [t["languages"] for t in result["translation"]["results"]] == [["de"], ["wo"]]
    assert [s["format"] for s in result["transcription"]["subtitles"]] == ["srt", "vtt"]


def test_diarization_bounds_without_exact_count(client: JobClient) -> None:
    body = build_prerecorded_body("https://x.example/a.wav", min_speakers=0, max_speakers=2)
    assert body["diarization"] is True and body["diarization_config"] == {"min_speakers": 0, "max_speakers": 2}
    assert build_prerecorded_body(diarize=True) == {"diarization": True}


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"languages": ["xx"]}, "unknown language code 'xx'"),
        ({"translate": ["klingon"]}, "unknown language code 'klingon' in `translate`"),
        ({"speakers": 0}, "number of speakers must be a whole number of at least 1"),
        ({"min_speakers": -1}, "min speakers must be a whole number of at least 0"),
        ({"min_speakers": 4, "max_speakers": 2}, "min speakers (4) is more than max speakers (2)"),
        ({"speakers": 5, "max_speakers": 3}, "more than max speakers (3)"),
        ({"summarize": "long"}, "summary type must be one of general, bullet_points, concise"),
        ({"subtitles": ["ass"]}, "subtitle format must be one of srt, vtt"),
        ({"base": {"custom_vocabulary": ["Gladia"]}}, "custom_vocabulary must be true or false"),
        ({"base": {"realtime_processing": {"translation": True}}}, "realtime_processing is a live-only setting"),
        ({"base": {"num_of_speakers": 2}}, "use diarization_config.number_of_speakers"),
        ({"base": {"translation": True}}, "translation needs target languages"),
        ({"base": {"subtitles_config": {"maximum_rows_per_caption": 9}}}, "maximum_rows_per_caption"),
        ({"base": {"callback": True, "callback_config": {"url": "ftp://x"}}}, "callback_config.url must be an http"),
        ({"base": {"custom_metadata": {"k": "v" * 3000}}}, "longer than 2000"),
    ],
)
def test_bad_options_are_one_clear_usage_error(kwargs: dict[str, Any], fragment: str) -> None:
    with pytest.raises(UsageError) as info:
        build_prerecorded_body(**kwargs)
    assert fragment in str(info.value) and "\n" not in str(info.value)


def test_wait_walks_queued_processing_done(emu: FullGladiaEmulator, client: JobClient) -> None:
    emu.prerecorded.polls_before_done = 3
    job_id = create_url_job(client)
    seen: list[str] = []
    job = client.wait(job_id, interval=0.01, on_poll=lambda j: seen.append(j["status"]))
    assert seen == ["queued", "queued", "processing"] and job["status"] == "done"
    assert job["kind"] == "pre-recorded" and job["result"]["transcription"]["full_transcript"].startswith(SCRIPT)


def test_error_job_raises_with_its_error_code(emu: FullGladiaEmulator, client: JobClient) -> None:
    emu.prerecorded.fail_next = 1
    with pytest.raises(TranscriptionFailed) as info:
        client.transcribe("https://media.example.com/a.wav", interval=0.01)
    assert isinstance(info.value, ApiError) and info.value.error_code == 500 and info.value.status == 500
    assert "error code 500" in str(info.value)

    job_id = create_url_job(client)
    emu.prerecorded.fail_ids.add(job_id)
    with pytest.raises(TranscriptionFailed, match=job_id):
        client.wait(job_id, interval=0.01)


def test_wait_gives_up_after_its_timeout(emu: FullGladiaEmulator, client: JobClient) -> None:
    emu.prerecorded.polls_before_done = 10_000
    job_id = create_url_job(client)
    with pytest.raises(NetworkError, match=r"still (queued|processing)") as info:
        client.wait(job_id, timeout=0.05, interval=0.01)
    assert f"gladia result {job_id}" in str(info.value)


# --- list, delete, file, get_any --------------------------------------------------------------------------------------


def test_list_follows_next_and_merges_kinds_newest_first(emu: FullGladiaEmulator, client: JobClient) -> None:
    emu.prerecorded.max_page_size = 2
    created = []
    for i in range(5):
        created.append(create_url_job(client, f"{i}.wav"))
        time.sleep(0.002)  # distinct created_at (millisecond resolution)
    live_id = client.api.init_live({})["id"]

    recent = client.list("pre-recorded", limit=4)
    assert [j["id"] for j in recent] == created[::-1][:4]
    assert emu.http_requests.count(("GET", "/v2/pre-recorded")) == 2  # two pages of 2

    everything = client.list(None, limit=50)
    assert [j["id"] for j in everything] == [live_id, *created[::-1]]
    assert [j["kind"] for j in everything] == ["live"] + ["pre-recorded"] * 5
    assert [j["id"] for j in client.list("live")] == [live_id]
    with pytest.raises(UsageError):
        client.list("podcast")


@pytest.mark.parametrize("link_path", ["/v2/transcription", "/v2/live", "/elsewhere/v9/jobs"])
def test_list_stays_on_its_kind_whatever_path_next_names(
    emu: FullGladiaEmulator, client: JobClient, link_path: str
) -> None:
    """Gladia's docs show `next` on /v2/transcription (all kinds): page 2 must still list pre-recorded jobs only."""
    emu.prerecorded.max_page_size = 2
    emu.prerecorded.next_link_path = link_path
    created = []
    for i in range(5):
        created.append(create_url_job(client, f"{i}.wav"))
        time.sleep(0.002)
    live_ids = [client.api.init_live({})["id"] for _ in range(3)]

    recent = client.list("pre-recorded", limit=5)
    assert [j["id"] for j in recent] == created[::-1]
    assert {j["kind"] for j in recent} == {"pre-recorded"}
    assert emu.http_requests.count(("GET", "/v2/pre-recorded")) == 3  # pages of 2, 2, 1, all on the kind's route
    assert [j["id"] for j in client.list("live", limit=10)] == live_ids[::-1]


def test_delete_403_while_processing_then_202_then_404(client: JobClient) -> None:
    job_id = create_url_job(client)
    with pytest.raises(ApiError, match="still processing") as info:
        client.delete(job_id)
    assert info.value.status == 403
    client.wait(job_id, interval=0.01)
    client.delete(job_id)
    with pytest.raises(ApiError, match="no such job") as info:
        client.delete(job_id)
    assert info.value.status == 404
    with pytest.raises(ApiError, match="no such job"):
        client.get(job_id)


def test_download_audio_writes_the_uploaded_bytes_atomically(client: JobClient, tmp_path: Path) -> None:
    wav, _ = write_wav(tmp_path / "in.wav", 2.0)
    job = client.transcribe(wav, interval=0.01)
    out = tmp_path / "out" / "audio.wav"
    out.parent.mkdir()
    out.write_bytes(b"old")
    assert client.download_audio(job["id"], "pre-recorded", out) == wav.stat().st_size
    assert out.read_bytes() == wav.read_bytes()
    assert client.download_audio(job["id"], None, out) == wav.stat().st_size
    assert os.listdir(out.parent) == ["audio.wav"]  # no temp file left behind

    client.delete(job["id"])
    missing = tmp_path / "out" / "gone.wav"
    with pytest.raises(ApiError, match="no audio") as info:
        client.download_audio(job["id"], None, missing)
    assert info.value.status == 404 and sorted(os.listdir(out.parent)) == ["audio.wav"]


def test_get_any_finds_both_kinds(emu: FullGladiaEmulator, client: JobClient) -> None:
    pre_id = create_url_job(client)
    live_id = client.api.init_live({})["id"]
    assert client.get_any(pre_id)["kind"] == "pre-recorded"
    live = client.get_any(live_id)
    assert live["kind"] == "live" and live["id"] == live_id
    with pytest.raises(ApiError, match="no such job") as info:
        client.get_any("00000000-0000-0000-0000-000000000000")
    assert info.value.status == 404


# --- the emulator's own contract --------------------------------------------------------------------------------------


def test_emulator_routes_follow_the_reference(emu: FullGladiaEmulator) -> None:
    base = emu.base_url
    no_key = requests.post(f"{base}/v2/upload", files={"audio": ("a.wav", b"x")}, timeout=5)
    assert no_key.status_code == 401 and no_key.json()["statusCode"] == 401
    not_multipart = requests.post(f"{base}/v2/upload", data=b"raw", headers=KEY, timeout=5)
    assert not_multipart.status_code == 400 and "Multipart Boundary" in not_multipart.json()["message"]
    wrong_field = requests.post(f"{base}/v2/upload", files={"file": ("a.wav", b"x")}, headers=KEY, timeout=5)
    assert wrong_field.status_code == 400
    imported = requests.post(f"{base}/v2/upload", json={"audio_url": "https://x.example/s.wav"}, headers=KEY, timeout=5)
    assert imported.status_code == 200 and imported.json()["audio_metadata"]["source"] == "https://x.example/s.wav"

    bad = requests.post(
        f"{base}/v2/pre-recorded",
        json={"audio_url": "https://x.example/s.wav", "custom_vocabulary": ["Gladia"]},
        headers=KEY,
        timeout=5,
    )
    assert bad.status_code == 400 and any("custom_vocabulary" in e for e in bad.json()["validation_errors"])
    created = requests.post(
        f"{base}/v2/pre-recorded", json={"audio_url": imported.json()["audio_url"]}, headers=KEY, timeout=5
    )
    assert created.status_code == 201
    via_result_url = requests.get(created.json()["result_url"], headers=KEY, timeout=5).json()
    assert via_result_url["kind"] == "pre-recorded" and via_result_url["status"] == "queued"


# --- batch ------------------------------------------------------------------------------------------------------------


def batch_transcriber(
    emu: FullGladiaEmulator, attempts: int = BATCH_MAX_ATTEMPTS
) -> tuple[Callable[[str], dict], list]:
    """One client per worker thread, as the CLI should do; returns (transcribe_one, the APIs to close)."""
    local = threading.local()
    apis: list[GladiaApi] = []

    def transcribe_one(source: str) -> dict:
        if not hasattr(local, "client"):
            api = make_api(emu, attempts)
            apis.append(api)
            local.client = JobClient(api)
        return local.client.transcribe(source, {}, interval=0.01)

    return transcribe_one, apis


def write_transcript(source: str, job: dict, path: Path) -> None:
    write_text_atomic(path, f"{source}\n{job['result']['transcription']['full_transcript']}\n")


def run(emu: FullGladiaEmulator, inputs: list[str], out: Path, **kwargs: Any) -> list[BatchResult]:
    transcribe_one, apis = batch_transcriber(emu, kwargs.pop("attempts", BATCH_MAX_ATTEMPTS))
    kwargs.setdefault("transcribe_one", transcribe_one)
    try:
        return run_batch(
            inputs,
            jobs=kwargs.pop("jobs", 3),
            output_dir=out,
            fmt_ext="txt",
            force=kwargs.pop("force", False),
            write_output=write_transcript,
            **kwargs,
        )
    finally:
        for api in apis:
            api.close()


def test_batch_one_failure_does_not_stop_the_others(emu: FullGladiaEmulator, tmp_path: Path) -> None:
    good, _ = write_wav(tmp_path / "good.wav", 1.0)
    bad, _ = write_wav(tmp_path / "bad.wav", 1.0)
    url = "https://media.example.com/podcast/episode-1.mp3"
    emu.prerecorded.fail_filenames = {"bad.wav"}
    reported: list[BatchResult] = []
    results = run(emu, [str(good), str(bad), url], tmp_path / "out", on_result=reported.append)

    assert [(r.input, r.status) for r in results] == [(str(good), "ok"), (str(bad), "failed"), (url, "ok")]
    assert "error code 500" in (results[1].reason or "")
    assert sorted(os.listdir(tmp_path / "out")) == ["episode-1.txt", "good.txt"]
    assert (tmp_path / "out" / "good.txt").read_text().splitlines()[1].startswith(SCRIPT)
    assert sorted(r.input for r in reported) == sorted([str(good), str(bad), url])


def test_batch_skips_existing_outputs_unless_forced(emu: FullGladiaEmulator, tmp_path: Path) -> None:
    inputs = [f"https://media.example.com/{name}.wav" for name in ("a", "b", "c")]
    out = tmp_path / "out"
    assert [r.status for r in run(emu, inputs, out)] == ["ok", "ok", "ok"]
    (out / "b.txt").write_text("edited by hand\n")
    creates = len(emu.prerecorded.create_requests)

    again = run(emu, inputs, out)
    assert [r.status for r in again] == ["skipped"] * 3 and "`force`" in (again[0].reason or "")
    assert len(emu.prerecorded.create_requests) == creates  # nothing was sent
    assert (out / "b.txt").read_text() == "edited by hand\n"

    forced = run(emu, inputs, out, force=True)
    assert [r.status for r in forced] == ["ok", "ok", "ok"]
    assert (out / "b.txt").read_text().startswith(inputs[1])


@pytest.mark.slow  # seconds of its own: out of the inner loop
def test_batch_survives_a_429_storm(emu: FullGladiaEmulator, tmp_path: Path) -> None:
    files = [str(write_wav(tmp_path / f"{n}.wav", 0.5)[0]) for n in ("a", "b", "c")]
    emu.prerecorded.rate_limit_next = BATCH_MAX_ATTEMPTS - 1  # every POST answers 429 until it runs out
    results = run(emu, files, tmp_path / "out", jobs=3)
    assert [r.status for r in results] == ["ok", "ok", "ok"], results
    assert emu.prerecorded.rate_limited == BATCH_MAX_ATTEMPTS - 1
    assert len(emu.prerecorded.uploads) == 3 and len(emu.prerecorded.jobs) == 3  # no duplicate job

    emu.prerecorded.rate_limit_next = 4  # with only 2 attempts: recorded as a failure, not a crash
    (tmp_path / "d.wav").write_bytes((tmp_path / "a.wav").read_bytes())
    failed = run(emu, [str(tmp_path / "d.wav")], tmp_path / "out", attempts=2)
    assert failed[0].status == "failed" and "429" in (failed[0].reason or "")


def test_batch_output_names_never_collide(emu: FullGladiaEmulator, tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first, _ = write_wav(tmp_path / "a" / "x.wav", 0.5)
    second, _ = write_wav(tmp_path / "b" / "x.wav", 0.5)
    out = tmp_path / "out"
    results = run(emu, [str(first), str(second), str(first)], out)
    assert [r.status for r in results] == ["ok", "ok", "skipped"] and "listed twice" in (results[2].reason or "")
    assert [r.output for r in results] == [out / "x.txt", out / "x-2.txt", out / "x.txt"]
    assert (out / "x.txt").read_text().startswith(str(first))
    assert (out / "x-2.txt").read_text().startswith(str(second))
    assert [r.status for r in run(emu, [str(first), str(second)], out)] == ["skipped", "skipped"]


def test_plan_outputs_is_deterministic_and_safe(tmp_path: Path) -> None:
    inputs = [
        "a/x.wav",
        "b/x.wav",
        "c/X.WAV",
        "https://cdn.example.com/files/x.wav",
        "https://www.youtube.com/watch?v=abc",
        "https://www.youtube.com/watch?v=def",
        "https://example.com/",
        "https://example.com/dir/..%2F..%2Fetc%2Fpasswd.mp3",
        "d/x-2.wav",
    ]
    plan = plan_outputs(inputs, tmp_path, ".srt")
    names = [p.name for p in plan]
    assert names[:4] == ["x.srt", "x-2.srt", "X-3.srt", "x-4.srt"]
    assert names[4].startswith("watch-") and names[5].startswith("watch-") and names[4] != names[5]
    assert names[6] == "example.com.srt" and "/" not in names[7] and not names[7].startswith(".")
    assert names[8] == "x-2-2.srt"
    assert all(p.parent == tmp_path for p in plan)
    assert plan_outputs(inputs, tmp_path, "srt") == plan
    assert len({n.casefold() for n in names}) == len(names)
    # Without an output directory a transcript goes next to its file, and never onto an input.
    beside = plan_outputs(["a/x.txt", "a/x.wav"], None, "txt")
    assert beside == [Path("a/x-2.txt"), Path("a/x-3.txt")]


def test_batch_records_unexpected_errors_and_failed_writes(tmp_path: Path) -> None:
    def transcribe_one(source: str) -> dict:
        if source == "boom":
            raise RuntimeError("kaput")
        return {"id": source}

    def write_output(source: str, job: dict, path: Path) -> None:
        if source == "unwritable":
            path.write_text("half")
            raise OSError("disk full")
        write_text_atomic(path, source)

    results = run_batch(
        ["ok", "boom", "unwritable"],
        jobs=2,
        output_dir=tmp_path,
        fmt_ext="txt",
        force=False,
        transcribe_one=transcribe_one,
        write_output=write_output,
    )
    assert [r.status for r in results] == ["ok", "failed", "failed"]
    assert results[1].reason == "RuntimeError: kaput" and "disk full" in (results[2].reason or "")
    assert sorted(os.listdir(tmp_path)) == ["ok.txt"]  # no half-written output to be skipped next time
    with pytest.raises(UsageError):
        run_batch(
            [],
            jobs=0,
            output_dir=None,
            fmt_ext="txt",
            force=False,
            transcribe_one=transcribe_one,
            write_output=write_output,
        )


def test_batch_ctrl_c_cancels_the_rest(tmp_path: Path) -> None:
    started: list[str] = []
    cancel = threading.Event()

    def transcribe_one(source: str) -> dict:
        started.append(source)
        if source != "in0":
            cancel.wait(5)  # a job that is still running when the batch is cancelled
        return {}

    def interrupt(result: BatchResult) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_batch(
            [f"in{i}" for i in range(10)],
            jobs=1,
            output_dir=tmp_path,
            fmt_ext="txt",
            force=False,
            transcribe_one=transcribe_one,
            write_output=lambda s, j, p: write_text_atomic(p, s),
            on_result=interrupt,
            cancel=cancel,
        )
    assert cancel.is_set()
    time.sleep(0.2)
    assert len(started) <= 2


@pytest.mark.parametrize(  # POSIX TZ rules: no tzdata needed on the test machine
    ("zone", "shown"), [("UTC0", "2026-11-26 09:04:17"), ("EST+5", "2026-11-26 04:04:17")]
)
def test_list_shows_creation_times_in_the_users_time_zone(
    monkeypatch: pytest.MonkeyPatch, zone: str, shown: str
) -> None:
    from gladia_cli.cli.jobs import job_row

    monkeypatch.setenv("TZ", zone)
    time.tzset()
    try:
        job = {"id": "j", "kind": "live", "status": "done", "created_at": "2026-11-26T09:04:17.210Z"}
        assert job_row(job)[3] == shown
        assert job_row({**job, "created_at": "yesterday-ish"})[3] == "yesterday-ish"  # unparseable: as given
    finally:
        monkeypatch.undo()
        time.tzset()


def test_retry_after_is_a_minimum_not_a_replacement_for_backoff() -> None:
    """A server that answers 429 with `Retry-After: 0` again and again still gets growing waits."""
    from gladia_cli.api import _backoff

    assert all(_backoff(attempt, "0") >= 0.3 * 2**attempt * 0.5 for attempt in range(5))
    assert _backoff(0, "7") >= 7 and _backoff(0, "3600") == 60.0  # honoured, within reason
    assert _backoff(0, "soon") <= 0.3  # unparseable: the client's own backoff


@pytest.mark.parametrize(("status", "resent"), [(500, False), (502, False), (504, False), (503, True), (429, True)])
def test_a_billed_creation_is_resent_only_when_the_server_says_nothing_was_done(
    emu: FullGladiaEmulator, client: JobClient, status: int, resent: bool
) -> None:
    emu.prerecorded.create_errors = [status]  # the first create answers `status`, the next ones work
    if resent:
        assert client.create({"audio_url": "https://example.com/a.mp3"})["id"]
    else:
        with pytest.raises(ApiError) as info:
            client.create({"audio_url": "https://example.com/a.mp3"})
        assert info.value.status == status and "may have been created anyway" in info.value.message
        assert "gladia list" in (info.value.hint or "")
    assert [answered for answered, _ in emu.prerecorded.create_requests] == ([status, 201] if resent else [status])
