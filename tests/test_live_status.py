"""The status line's parts and the live subtitles, on Gladia-shaped messages and real meter readings."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import srt
from cli_runner import invoke
from emulator import GladiaEmulator
from rich.console import Console
from wavs import write_wav

from gladia_cli.audio.level import LevelMeter, LevelSnapshot
from gladia_cli.console.live_view import LiveView, meter_bar, meter_segments, status_segments
from gladia_cli.console.status import LiveStatus
from gladia_cli.live.captions import LiveCaptions
from gladia_cli.live.events import Progress, Speech, Transcript
from gladia_cli.live.messages import decode_text


def _snapshot(**changes: object) -> LevelSnapshot:
    base = {
        "peak_dbfs": (-20.0,),
        "hold_dbfs": (-10.0,),
        "clipping": (False,),
        "clipped_samples": 0,
        "silent": False,
        "silent_seconds": 0.0,
        "no_blocks": False,
        "seconds": 1.0,
    }
    base.update(changes)
    return LevelSnapshot(**base)  # type: ignore[arg-type]


def test_speech_events_are_decoded_as_events() -> None:
    start = decode_text(json.dumps({"type": "speech_start", "data": {"time": 1.25, "channel": 1}}))
    end = decode_text(json.dumps({"type": "speech_end", "data": {"time": 2.5, "channel": 0}}))
    bare = decode_text(json.dumps({"type": "speech_start", "data": None}))
    assert start.content == Speech(True, 1.25, 1)  # type: ignore[union-attr]
    assert end.content == Speech(False, 2.5, 0)  # type: ignore[union-attr]
    assert bare.content == Speech(True, None, 0)  # type: ignore[union-attr]


def test_the_meter_bar_follows_the_level_and_the_hold() -> None:
    assert meter_bar(-120.0, -120.0, 8) == "▕········▏"
    assert meter_bar(0.0, 0.0, 8) == "▕████████▏"
    assert meter_bar(-30.0, -7.5, 8) == "▕████··│·▏"
    pcm = np.clip(np.sin(np.arange(1600) / 3) * 40000, -32768, 32767).astype("<i2").tobytes()  # clipped
    meter = LevelMeter(1, 16000)
    meter.feed(pcm)
    text = "".join(t for t, _ in meter_segments(meter.snapshot()))
    assert "▕████████▏" in text and "CLIP" in text and "0 dB" in text
    stereo = _snapshot(peak_dbfs=(-120.0, -30.0), hold_dbfs=(-120.0, -30.0), clipping=(False, False))
    text = "".join(t for t, _ in meter_segments(stereo))
    assert text.count("▕") == 2 and "dB" not in text  # one bar per channel


def test_silence_and_a_dead_device_are_said_once_and_taken_back() -> None:
    status = LiveStatus("USB mic")
    assert status.on_levels(_snapshot()) == []
    said = status.on_levels(_snapshot(silent=True, silent_seconds=3.2))
    assert len(said) == 1 and "no sound from 'USB mic' for 3 s" in said[0] and "gladia devices" in said[0]
    assert status.on_levels(_snapshot(silent=True, silent_seconds=9.0)) == []  # once
    assert status.view().silent
    assert status.on_levels(_snapshot()) == ["sound is back from 'USB mic'"]
    said = status.on_levels(_snapshot(no_blocks=True))
    assert len(said) == 1 and "delivers no audio at all" in said[0]
    assert status.on_levels(_snapshot(no_blocks=True, silent=True)) == []  # not also "no sound"
    assert status.on_levels(_snapshot()) == ["'USB mic' delivers audio again"]


def test_a_link_slower_than_the_audio_is_said_once_with_its_rate() -> None:
    now = [0.0]
    status = LiveStatus(clock=lambda: now[0])
    said: list[str] = []
    for tenth in range(400):  # 40 s, the backlog growing 0.5 s every second
        now[0] = tenth / 10
        sent = now[0]
        said += status.on_progress(Progress(sent, sent * 0.5), streaming=True)
    assert len(said) == 1, said
    assert "grows by 0.50 s every second" in said[0] and "--encoding wav/ulaw --sample-rate 8000" in said[0]
    steady = LiveStatus(clock=lambda: now[0])
    for tenth in range(400):  # a constant 6 s backlog: a slow start, not a slow link
        now[0] = tenth / 10
        assert steady.on_progress(Progress(now[0] + 6, now[0]), streaming=True) == []


def test_the_lag_is_how_far_the_text_trails_the_audio_sent() -> None:
    status = LiveStatus()
    status.on_progress(Progress(5.0, 5.0), streaming=True)
    status.on_transcript(Transcript("a", 0, "hello", False, 3.0, 4.6, None))
    status.on_transcript(Transcript("a", 0, "hello there", True, 3.0, 3.8, None))
    status.on_speech(Speech(True, 3.0, 0))
    view = status.view()
    assert view.speaking is True
    assert round(view.text_lag or 0, 2) == 1.2 and round(view.partial_lag or 0, 2) == 0.4
    before, after = status_segments(view)
    assert ("Gladia: speech ", "green") in before and after == ["text lag 1.2 s (partials 0.4 s)"]


def test_the_status_row_fits_forty_columns_with_the_meter() -> None:
    status = LiveStatus()
    status.on_levels(_snapshot())
    before, _ = status_segments(status.view())
    out = io.StringIO()
    view = LiveView(["x" * 100], "● streaming from a microphone with a long name · 3.0 s sent", "cyan", before)
    Console(file=out, width=40, force_terminal=False).print(view)
    lines = out.getvalue().splitlines()
    assert len(lines) == 2 and all(len(line) <= 40 for line in lines) and lines[1].startswith("▕"), lines


def test_captions_are_numbered_valid_cues_one_final_at_a_time() -> None:
    captions = LiveCaptions("srt")
    text = ""
    for n, (words, start, end) in enumerate([("Hello world.", 0.1, 0.95), ("Next one --> here", 0.9, 2.0)]):
        text += "".join(f"{b}\n" for b in captions.blocks(Transcript(str(n), 0, words, True, start, end, None)))
        cues = list(srt.parse(text))  # valid after every final
        assert [c.index for c in cues] == list(range(1, n + 2))
    assert cues[1].start >= cues[0].end and "-->" not in cues[1].content
    vtt = LiveCaptions("vtt", multichannel=True)
    (block,) = vtt.blocks(Transcript("x", 1, "a < b", True, 0.0, 1.0, None))
    assert vtt.header() == "WEBVTT\n" and "[ch1] a &lt; b" in block and "00:00:00.000 --> 00:00:01.000" in block
    assert captions.blocks(Transcript("p", 0, "partial", False, 0.0, 1.0, None)) == []


def test_live_srt_is_the_output_not_printed_twice(api_env: GladiaEmulator, tmp_path: Path, capsys) -> None:
    wav, _ = write_wav(tmp_path / "s.wav", 3.0)
    out = tmp_path / "s.srt"
    result = invoke(
        capsys, "transcribe", str(wav), "--realtime", "--speed", "0", "-o", "srt", "--output-file", str(out)
    )
    assert result.code == 0, result.stderr
    cues = list(srt.parse(out.read_text()))
    assert [c.content for c in cues] == ["Hello world.", "This is the Gladia emulator.", "Goodbye."]
    assert [c.index for c in cues] == [1, 2, 3]
    body = api_env.init_requests[0].body
    assert body["messages_config"]["receive_speech_events"] is True
    assert ("GET", f"/v2/live/{api_env.only_session().id}") not in api_env.http_requests  # no second copy fetched


def test_config_may_turn_speech_events_off(api_env: GladiaEmulator, tmp_path: Path, capsys) -> None:
    wav, _ = write_wav(tmp_path / "s.wav", 1.0)
    config = tmp_path / "c.json"
    config.write_text(json.dumps({"messages_config": {"receive_speech_events": False}}))
    result = invoke(capsys, "transcribe", str(wav), "--realtime", "--speed", "0", "--config", str(config))
    assert result.code == 0, result.stderr
    assert api_env.init_requests[0].body["messages_config"]["receive_speech_events"] is False
    session = api_env.only_session()
    assert "session " + session.id in result.stderr and "fetches it" in result.stderr


def _row(view: LiveView, width: int) -> str:
    out = io.StringIO()
    Console(file=out, width=width, force_terminal=False).print(view)
    return out.getvalue().splitlines()[-1]


def test_a_cut_status_row_keeps_the_state_and_what_to_do_next() -> None:
    """`… finishing: waiting for Gladia's post-processing · 4.2 s sent · Ctrl-C ag…` at 100 columns, `finishing: w…`
    at 40: the details go first, the state and the next key stay."""
    from gladia_cli.console.live_view import status_line
    from gladia_cli.live.events import State

    status = LiveStatus()
    status.on_levels(_snapshot())
    before, _ = status_segments(status.view())
    text, style = status_line(
        State.FINISHING,
        Progress(4.2, 4.2, post_processing=True, left_to_process=180.0),
        hint="Ctrl-C again to abort",
    )
    wide = _row(LiveView([], text, style, before), 100)
    assert wide.endswith("· Ctrl-C again to abort") and "finishing: waiting for Gladia's post-processing" in wide
    narrow = _row(LiveView([], text, style, before), 40)
    assert narrow == "● finishing · Ctrl-C again to abort", narrow
    for width in range(20, 120):
        assert len(_row(LiveView([], text, style, before), width)) <= width


def test_gladias_speech_state_is_named_as_gladias_and_never_stacked_on_the_inputs_silence() -> None:
    status = LiveStatus()
    status.on_speech(Speech(channel=0, speaking=False, time=1.0))
    status.on_levels(_snapshot())
    before, _ = status_segments(status.view())
    assert ("Gladia: no speech ", "dim") in before
    status.on_levels(_snapshot(silent=True, silent_seconds=4.0))
    before, _ = status_segments(status.view())
    labels = [text for text, _ in before]
    assert "no sound " in labels and not any("Gladia" in label for label in labels)
