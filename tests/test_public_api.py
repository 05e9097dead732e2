"""The public Python API, used as a program would: only `gladia_cli`'s public names, against the loopback emulator.

The README's example is run as it is printed there; the rest checks what each entry promises (the exact audio sent,
typed results and events, options checked like flags, nothing heavy imported by `import gladia_cli`).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from emulator import GladiaEmulator
from virtual_mic import VirtualMic, virtual_mic
from wavs import write_wav

import gladia_cli as gladia

ROOT = Path(__file__).resolve().parent.parent
__all__ = ["virtual_mic"]  # the fixture is used by name


def readme_example() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"<!-- example: tests/test_public_api.py[^>]*-->\n```python\n(.*?)```", text, re.S)
    assert match, "the README's Python example is gone"
    return match.group(1)


def test_the_readme_example_runs(api_env: GladiaEmulator, tmp_path: Path) -> None:
    api_env.prerecorded.polls_before_done = 1
    wav, pcm = write_wav(tmp_path / "talk.wav", 3.0)
    script = tmp_path / "example.py"
    script.write_text(readme_example(), encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, str(script), str(wav)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert re.search(r"^1\n00:00:\d\d,\d{3} --> 00:00:", out, re.M)  # the SRT of the pre-recorded result
    session = api_env.only_session()
    assert bytes(session.audio) == pcm  # the live session got the WAV's samples, byte for byte
    finals = [line for line in out.splitlines() if re.match(r"^\s*\d+\.\d\d \S", line)]
    assert finals, out
    assert re.search(r"^\S+ live done$", out, re.M) and re.search(r"^\S+ pre-recorded done$", out, re.M), out
    [job] = api_env.prerecorded.jobs.values()
    assert job.deleted
    assert "processing" in proc.stderr.split() or "queued" in proc.stderr.split()  # on_progress was called


def test_transcribe_and_the_job_commands_with_typed_results(api_env: GladiaEmulator, tmp_path: Path) -> None:
    api_env.prerecorded.polls_before_done = 1
    wav, _ = write_wav(tmp_path / "a.wav", 1.0)
    polled: list[str] = []
    uploaded: list[tuple[int, int]] = []
    with gladia.Client() as client:
        result = client.transcribe(
            wav,
            languages="en",
            diarize=True,
            on_progress=lambda j: polled.append(j["status"]),
            on_upload=lambda s, t: uploaded.append((s, t)),
        )
        assert isinstance(result, gladia.Result) and result.kind == "pre-recorded" and result.status == "done"
        assert result.utterances and all(isinstance(u, gladia.Utterance) for u in result.utterances)
        assert result.text == "\n".join(u.text for u in result.utterances)
        assert polled and uploaded and uploaded[-1][0] == uploaded[-1][1] == wav.stat().st_size
        [job] = api_env.prerecorded.jobs.values()
        assert job.body["diarization"] is True and job.body["language_config"]["languages"] == ["en"]
        again = client.result(result.id)
        assert again.id == result.id and again.text == result.text
        assert [j.id for j in client.jobs(kind="pre-recorded")] == [result.id]
        saved = tmp_path / "back.wav"
        assert client.download_audio(result.id, saved) == saved.stat().st_size > 0
        assert client.delete(result.id) == "pre-recorded"
        assert job.deleted
    lines = gladia.render(result, "text").splitlines()
    assert [line.split(": ", 1)[1] for line in lines] == [u.text for u in result.utterances]  # "Speaker 0: ..."
    assert all(u.speaker is not None for u in result.utterances)  # diarized
    assert gladia.render(result, gladia.OutputFormat.vtt).startswith("WEBVTT\n")


def test_options_are_checked_like_flags_before_any_request(api_env: GladiaEmulator, tmp_path: Path) -> None:
    wav, _ = write_wav(tmp_path / "a.wav", 0.5)
    with gladia.Client() as client:
        with pytest.raises(gladia.UsageError, match=r"unknown transcription option.*diarise"):
            client.transcribe(wav, diarise=True)
        with pytest.raises(gladia.UsageError, match="unknown language code 'xx'"):
            client.transcribe(wav, languages=["xx"])
        with pytest.raises(gladia.UsageError, match=r"unknown live option.*speakers"):
            client.live(gladia.audio_file(wav, speed=0), speakers=2)
    assert not api_env.prerecorded.uploads and not api_env.sessions


def test_pushed_pcm_is_streamed_exactly_and_a_partial_frame_is_refused(api_env: GladiaEmulator) -> None:
    pcm = bytes(range(256)) * 250  # 64000 bytes: 2 s of 16 kHz mono 16-bit
    source = gladia.pcm_source(16000, 1, 16, "wav/pcm")

    def feed() -> None:
        for i in range(0, len(pcm), 777):  # pushes that do not fall on frames
            source.push(pcm[i : i + 777])
        source.end()

    events: list[object] = []
    with gladia.Client() as client, client.live(source, languages=["en"]) as stream:
        feeder = threading.Thread(target=feed)
        feeder.start()
        events.extend(stream)
        feeder.join()
        assert stream.session_id and stream.result().kind == "live"
    assert isinstance(events[-1], gladia.Ended) and events[-1].error is None
    assert bytes(api_env.only_session().audio) == pcm
    odd = gladia.pcm_source(16000, 1, 16, "wav/pcm")
    odd.push(b"\x00\x01\x02")
    with pytest.raises(gladia.UsageError, match="1 byte"):
        odd.end()


def test_stop_ends_a_live_stream_gracefully(api_env: GladiaEmulator, tmp_path: Path) -> None:
    wav, _ = write_wav(tmp_path / "long.wav", 30.0)
    with gladia.Client() as client, client.live(gladia.audio_file(wav, speed=1.0)) as stream:
        for event in stream:
            if isinstance(event, gladia.Transcript) and event.is_final:
                stream.stop()  # after the first final: the rest of the file is never sent
        ended = stream.ended
    assert ended is not None and ended.error is None
    session = api_env.only_session()
    assert session.stop_count == 1 and len(session.audio) < 16000 * 2 * 10


def test_importing_the_package_stays_light() -> None:
    code = (
        "import sys, gladia_cli\n"
        "heavy = {'numpy', 'requests', 'rich', 'typer', 'websocket', 'sounddevice'} & set(sys.modules)\n"
        "print(sorted(heavy)); print(sorted(gladia_cli.__all__) == gladia_cli.__all__)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.stdout.split() == ["[]", "True"], proc.stderr
    for name in gladia.__all__:
        assert getattr(gladia, name) is not None, name
    with pytest.raises(AttributeError):
        gladia.not_a_name  # noqa: B018


MICROPHONE_SCRIPT = """
import json, sys
import gladia_cli as gladia

with gladia.Client() as client:
    source = gladia.microphone(sys.argv[1] if len(sys.argv) > 1 else None)
    with client.live(source, duration=2.0, languages=["en"]) as stream:
        finals = [e.text for e in stream if isinstance(e, gladia.Transcript) and e.is_final]
    print(json.dumps({"finals": finals, "id": stream.session_id, "error": str(stream.ended.error)}))
"""


def test_a_microphone_streams_live_through_the_api(
    virtual_mic: VirtualMic, emulator: GladiaEmulator, tmp_path: Path
) -> None:
    """PortAudio capture from the virtual PulseAudio microphone, by the API's `microphone()`: 2 s of the tone."""
    import json

    import numpy as np

    wav, _ = write_wav(tmp_path / "tone.wav", 2.0)
    player = virtual_mic.play(wav, loop=True)
    try:
        proc = subprocess.run(
            [sys.executable, "-c", MICROPHONE_SCRIPT, "virtmic"],
            capture_output=True,
            text=True,
            timeout=60,
            env={
                **os.environ,
                **virtual_mic.env,
                "PYTHONPATH": str(ROOT),
                "GLADIA_API_KEY": "test-key",
                "GLADIA_API_URL": emulator.base_url,
                "HOME": str(tmp_path),
            },
            stdin=subprocess.DEVNULL,
        )
    finally:
        player.terminate()
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    session = emulator.only_session()
    assert out["id"] == session.id and out["error"] == "None" and out["finals"]
    assert len(session.audio) == 2 * 16000 * 2  # --duration's exact byte count, whole frames
    samples = np.frombuffer(bytes(session.audio), "<i2").astype(np.float64)
    assert np.sqrt(np.mean(samples[8000:] ** 2)) > 1000  # the tone, not silence
