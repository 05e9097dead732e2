"""A-law and mu-law: the codec checked against ffmpeg and the ITU reference, and `--encoding wav/alaw|wav/ulaw` on
the live path (files and `--record`; the microphone is in test_listen.py)."""

from __future__ import annotations

import json
import shutil
import subprocess
import warnings
from pathlib import Path

import numpy as np
import pytest
from cli_runner import invoke
from emulator import GladiaEmulator
from wavs import write_wav

from gladia_cli.audio import g711
from gladia_cli.audio.files import FormatRequest, open_audio_file
from gladia_cli.audio.format import PcmFormat
from gladia_cli.audio.recording import WavRecorder

EVERY_INT16 = np.arange(-32768, 32768, dtype=np.int32)
FFMPEG_NAMES = {"alaw": "alaw", "ulaw": "mulaw"}
needs_ffmpeg = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg is not installed")


def _ffmpeg_decode(codes: bytes, kind: str) -> bytes:
    name = FFMPEG_NAMES[kind]
    cmd = ["ffmpeg", "-v", "error", "-f", name, "-ar", "8000", "-ac", "1", "-i", "-", "-f", "s16le", "-"]
    return subprocess.run(cmd, input=codes, capture_output=True, check=True).stdout


@needs_ffmpeg
@pytest.mark.parametrize("kind", g711.KINDS)
def test_decoding_matches_ffmpeg_for_every_code(kind: str) -> None:
    codes = bytes(range(256))
    assert g711.decode(codes, kind) == _ffmpeg_decode(codes, kind)


@pytest.mark.parametrize("kind", g711.KINDS)
def test_encoding_quantizes_every_sample_to_a_nearby_monotonic_level(kind: str) -> None:
    pcm = EVERY_INT16.astype("<i2").tobytes()
    codes = g711.encode(pcm, kind)
    assert len(codes) == 65536
    back = np.frombuffer(g711.decode(codes, kind), "<i2").astype(np.int32)
    # Logarithmic quantization: the error grows with the level, at most 1/16 of it (plus the smallest step).
    assert np.all(np.abs(back - EVERY_INT16) <= np.abs(EVERY_INT16) / 16 + 8)
    assert np.all(np.diff(back) >= 0)  # louder in, never quieter out
    assert len(set(codes)) >= 254  # every code is used (mu-law has two zeros, A-law none)


@pytest.mark.parametrize("kind", g711.KINDS)
def test_encoding_matches_the_itu_reference_in_audioop(kind: str) -> None:
    """audioop (stdlib up to Python 3.12) implements the ITU/Sun reference coder bit for bit."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        audioop = pytest.importorskip("audioop")
    pcm = EVERY_INT16.astype("<i2").tobytes()
    reference = audioop.lin2alaw(pcm, 2) if kind == "alaw" else audioop.lin2ulaw(pcm, 2)
    assert g711.encode(pcm, kind) == reference


def _g711_wav(path: Path, kind: str, rate: int, codes: bytes) -> Path:
    recorder = WavRecorder(path, PcmFormat(sample_rate=rate, bit_depth=8, encoding=f"wav/{kind}"))
    recorder.write(codes)
    recorder.close()
    return path


@needs_ffmpeg
@pytest.mark.parametrize("kind", g711.KINDS)
def test_recorded_g711_wav_is_valid_for_ffprobe_and_for_us(tmp_path: Path, kind: str) -> None:
    codes = g711.encode(write_wav(tmp_path / "t.wav", 0.5, rate=8000)[1], kind)
    path = _g711_wav(tmp_path / "rec.wav", kind, 8000, codes)
    cmd = ["ffprobe", "-v", "error", "-show_entries", "stream=codec_name,sample_rate,channels,duration", "-of", "json"]
    stream = json.loads(subprocess.run([*cmd, str(path)], capture_output=True, check=True).stdout)["streams"][0]
    assert stream["codec_name"] == f"pcm_{FFMPEG_NAMES[kind]}"
    assert (stream["sample_rate"], stream["channels"], float(stream["duration"])) == ("8000", 1, 0.5)
    with open_audio_file(path, FormatRequest()) as source:
        assert source.format == PcmFormat(sample_rate=8000, bit_depth=8, encoding=f"wav/{kind}")
        assert b"".join(source.chunks()) == codes


# --- the live path -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", g711.KINDS)
def test_pcm_file_sent_as_g711_when_asked(api_env: GladiaEmulator, tmp_path: Path, capsys, kind: str) -> None:
    wav, pcm = write_wav(tmp_path / "a.wav", 2.0)
    result = invoke(capsys, "transcribe", str(wav), "--realtime", "--speed", "0", "--encoding", f"wav/{kind}")
    assert result.code == 0, result.stderr
    body = api_env.init_requests[0].body
    assert (body["encoding"], body["bit_depth"], body["sample_rate"], body["channels"]) == (f"wav/{kind}", 8, 16000, 1)
    assert bytes(api_env.only_session().audio) == g711.encode(pcm, kind)


@pytest.mark.parametrize(
    ("flags", "declared"),
    [
        ((), ("wav/ulaw", 8, 16000)),  # 11025 Hz is not a rate Gladia takes: resampled, still mu-law
        (("--sample-rate", "8000"), ("wav/ulaw", 8, 8000)),
        (("--bit-depth", "16"), ("wav/pcm", 16, 16000)),
        (("--encoding", "wav/alaw"), ("wav/alaw", 8, 16000)),
    ],
)
def test_g711_file_is_converted_when_it_must_be(
    api_env: GladiaEmulator, tmp_path: Path, capsys, flags: tuple[str, ...], declared: tuple[str, int, int]
) -> None:
    _, pcm = write_wav(tmp_path / "t.wav", 2.0, rate=11025)
    wav = _g711_wav(tmp_path / "call.wav", "ulaw", 11025, g711.encode(pcm, "ulaw"))
    result = invoke(capsys, "transcribe", str(wav), "--realtime", "--speed", "0", *flags)
    assert result.code == 0, result.stderr
    body = api_env.init_requests[0].body
    encoding, bits, rate = declared
    assert (body["encoding"], body["bit_depth"], body["sample_rate"]) == declared
    audio = bytes(api_env.only_session().audio)
    assert abs(len(audio) - 2 * rate * bits // 8) <= bits // 8  # the whole two seconds, at the declared rate
    samples = audio if encoding == "wav/pcm" else g711.decode(audio, encoding.removeprefix("wav/"))
    level = np.sqrt(np.mean(np.frombuffer(samples, "<i2").astype(np.float64) ** 2))
    assert 0.4 * 32767 / np.sqrt(2) * 0.9 < level < 0.4 * 32767 / np.sqrt(2) * 1.1  # the tone survived


@needs_ffmpeg
def test_compressed_file_decoded_by_ffmpeg_straight_to_mulaw(api_env: GladiaEmulator, tmp_path: Path, capsys) -> None:
    wav, _ = write_wav(tmp_path / "t.wav", 1.0)
    flac = tmp_path / "t.flac"
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(wav), str(flac)], check=True)
    result = invoke(capsys, "transcribe", str(flac), "--realtime", "--speed", "0", "--encoding", "wav/ulaw")
    assert result.code == 0, result.stderr
    assert api_env.init_requests[0].body["encoding"] == "wav/ulaw"
    assert len(api_env.only_session().audio) == 16000


def test_record_keeps_g711_as_g711(api_env: GladiaEmulator, tmp_path: Path, capsys) -> None:
    codes = g711.encode(write_wav(tmp_path / "t.wav", 1.0, rate=8000)[1], "alaw")
    wav = _g711_wav(tmp_path / "call.wav", "alaw", 8000, codes)
    record = tmp_path / "copy.wav"
    result = invoke(capsys, "transcribe", str(wav), "--realtime", "--speed", "0", "--record", str(record))
    assert result.code == 0, result.stderr
    with open_audio_file(record, FormatRequest()) as copy:
        assert copy.format == PcmFormat(sample_rate=8000, bit_depth=8, encoding="wav/alaw")  # not 8-bit PCM
        assert b"".join(copy.chunks()) == codes


def test_odd_sized_g711_recording_is_padded_to_a_word(tmp_path: Path) -> None:
    codes = bytes(range(255))  # odd: mono 8-bit at 44.1 kHz with 15 ms chunks gives 661-byte chunks
    path = _g711_wav(tmp_path / "odd.wav", "ulaw", 44100, codes)
    data = path.read_bytes()
    assert len(data) % 2 == 0 and int.from_bytes(data[4:8], "little") == len(data) - 8  # RIFF size counts the pad
    with open_audio_file(path, FormatRequest()) as source:
        assert b"".join(source.chunks()) == codes  # the pad is not audio
