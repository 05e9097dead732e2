"""Every sample delivered exactly: files written by sox, ffmpeg and by hand, streamed the way `--realtime` streams
them, and what would be sent compared with reference decoders (soundfile, i.e. libsndfile) and a reference
resampler (scipy.signal.resample_poly), by SNR and by length, never only by "it ran".

The resampling rows also measure ffmpeg's own conversion of the same file against the same reference: gladia must
do at least as well, over the whole band and below 3.8 kHz.
"""

from __future__ import annotations

import shutil
import subprocess
from math import gcd
from pathlib import Path

import numpy as np
import pytest
import soundfile
from audio_helpers import rifx_bytes, wav_bytes, write
from cli_runner import invoke
from emulator import GladiaEmulator
from scipy import signal

from gladia_cli.audio import convert
from gladia_cli.audio.files import FileSource, FormatRequest, open_audio_file
from gladia_cli.audio.format import PcmFormat

needs_sox = pytest.mark.skipif(shutil.which("sox") is None, reason="sox is not installed")
needs_ffmpeg = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg is not installed")


def sent(source: FileSource) -> np.ndarray:
    """What the source would send, decoded as Gladia decodes the declared format: float frames x channels."""
    fmt: PcmFormat = source.format
    raw = b"".join(source.chunks())
    kind = {"wav/alaw": "alaw", "wav/ulaw": "ulaw"}.get(fmt.encoding, "int")
    return convert.decode_samples(raw, kind, fmt.bit_depth // 8, fmt.channels)


def sent_ints(source: FileSource) -> np.ndarray:
    fmt = source.format
    return np.rint(sent(source) * float(1 << (fmt.bit_depth - 1))).astype(np.int64)


def sox(*args: str | Path) -> None:
    subprocess.run(["sox", *map(str, args)], check=True, capture_output=True)


def ffmpeg(*args: str | Path) -> bytes:
    return subprocess.run(["ffmpeg", "-v", "error", *map(str, args)], check=True, capture_output=True).stdout


def snr_db(got: np.ndarray, reference: np.ndarray, rate: int, below_hz: float | None = None) -> float:
    """Signal to error ratio, away from the first and last 0.1 s; `below_hz`: of the error below that frequency."""
    n = min(len(got), len(reference))
    got, reference = got[:n].astype(np.float64), reference[:n].astype(np.float64)
    error = got - reference
    if below_hz is not None:
        sos = signal.butter(8, below_hz, fs=rate, output="sos")
        error, reference = signal.sosfiltfilt(sos, error, axis=0), signal.sosfiltfilt(sos, reference, axis=0)
    inner = slice(rate // 10, n - rate // 10)
    return float(10 * np.log10(np.sum(reference[inner] ** 2) / np.sum(error[inner] ** 2)))


def reference_resample(path: Path, rate: int) -> np.ndarray:
    audio, file_rate = soundfile.read(str(path), dtype="float64", always_2d=True)
    g = gcd(file_rate, rate)
    return signal.resample_poly(audio, rate // g, file_rate // g, axis=0)


def ffmpeg_resample(path: Path, rate: int, channels: int) -> np.ndarray:
    raw = ffmpeg("-i", path, "-ar", str(rate), "-f", "f64le", "-")
    return np.frombuffer(raw, "<f8").reshape(-1, channels)


# ---------------------------------------------------------------------------------------------------------------
# Resampling: at least ffmpeg's figure, against soundfile + resample_poly


def _speechlike(rate: int, seconds: float) -> np.ndarray:
    """A voiced sound with a moving pitch and its harmonics, plus breath noise: speech's spectrum, repeatably."""
    rng = np.random.default_rng(7)
    t = np.arange(int(rate * seconds)) / rate
    pitch = 140 + 30 * np.sin(2 * np.pi * 0.7 * t)
    phase = 2 * np.pi * np.cumsum(pitch) / rate
    voiced = sum(np.sin(k * phase) / k for k in range(1, 40) if 140 * k < rate / 2)
    envelope = 0.5 + 0.5 * np.sin(2 * np.pi * 3 * t) ** 2
    return 0.2 * voiced * envelope + 0.01 * rng.standard_normal(len(t))


def _write_float(tmp_path: Path, name: str, audio: np.ndarray, rate: int, subtype: str) -> Path:
    path = tmp_path / name
    soundfile.write(str(path), audio, rate, subtype=subtype)
    return path


@needs_sox
@needs_ffmpeg
@pytest.mark.parametrize(
    ("make", "target"),
    [
        ("chirp96", 16000),
        ("chirp96", 48000),
        ("noise48", 16000),
        ("speech22", 8000),
        ("alaw8", 16000),
        ("u8_11k", 16000),
    ],
)
def test_resampling_is_at_least_as_faithful_as_ffmpeg(tmp_path: Path, make: str, target: int) -> None:
    if make == "chirp96":  # 24-bit, 96 kHz: speech and a chirp sweeping up to 45 kHz, all of it to be filtered out
        t = np.arange(96000 * 3) / 96000
        audio = _speechlike(96000, 3) + 0.1 * signal.chirp(t, 20, t[-1], 45000)
        path = _write_float(tmp_path, "in.wav", audio, 96000, "PCM_24")
    elif make == "noise48":
        path = tmp_path / "in.wav"
        sox("-n", "-r", "48000", "-b", "16", path, "synth", "3", "pinknoise", "vol", "0.3")
    elif make == "speech22":
        path = _write_float(tmp_path, "in.wav", _speechlike(22050, 3), 22050, "PCM_16")
    elif make == "alaw8":
        speech = tmp_path / "speech.wav"
        soundfile.write(str(speech), _speechlike(8000, 3), 8000, subtype="PCM_16")
        path = tmp_path / "in.wav"
        sox(speech, "-e", "a-law", path)
    else:
        speech = tmp_path / "speech.wav"
        soundfile.write(str(speech), _speechlike(11025, 3), 11025, subtype="PCM_16")
        path = tmp_path / "in.wav"
        sox(speech, "-b", "8", "-e", "unsigned-integer", path)
    source = open_audio_file(path, FormatRequest(sample_rate=target, encoding="wav/pcm", bit_depth=16))
    got = sent(source)
    reference = reference_resample(path, target)
    theirs = ffmpeg_resample(path, target, reference.shape[1])
    assert abs(len(got) - len(reference)) <= 1  # every sample, none added
    ours_db, ffmpeg_db = snr_db(got, reference, target), snr_db(theirs, reference, target)
    ours_low, ffmpeg_low = snr_db(got, reference, target, 3800), snr_db(theirs, reference, target, 3800)
    assert ours_db >= ffmpeg_db, (ours_db, ffmpeg_db)
    assert ours_low >= ffmpeg_low - 0.5, (ours_low, ffmpeg_low)  # both at the 16-bit floor there
    assert ours_db > 40


def test_a_microphone_at_its_own_rate_is_resampled_the_same_way() -> None:
    """The capture's rate fallback and several inputs use the same resampler as files: the reference's output."""
    from gladia_cli.audio.resample import Resampler

    audio = _speechlike(44100, 2)[:, None]
    resampler = Resampler(44100, 16000, 1)
    got = np.concatenate(
        [resampler.process(audio[i : i + 441]) for i in range(0, len(audio), 441)] + [resampler.flush()]
    )
    assert np.max(np.abs(got - signal.resample_poly(audio, 160, 441, axis=0))) < 1e-12


# ---------------------------------------------------------------------------------------------------------------
# RIFX: big-endian WAV, decoded in its own byte order


@needs_sox
@pytest.mark.parametrize(("bits", "channels"), [(16, 1), (24, 3), (32, 2), (8, 1)])
def test_rifx_from_sox_is_sent_sample_for_sample(tmp_path: Path, bits: int, channels: int) -> None:
    path = tmp_path / "be.wav"
    tones = [f"sine {300 + 200 * c}" for c in range(channels)]
    encoding = ["-e", "unsigned-integer"] if bits == 8 else []
    sox(
        "-n",
        "-B",
        "-r",
        "16000",
        "-c",
        str(channels),
        "-b",
        str(bits),
        *encoding,
        path,
        "synth",
        "0.5",
        *" ".join(tones).split(),
        "vol",
        "0.8",
    )
    assert path.read_bytes()[:4] == b"RIFX"
    source = open_audio_file(path, FormatRequest())
    assert source.source_description.startswith(f"RIFX {bits}-bit")
    little = tmp_path / "le.wav"  # sox's own reading of its file, in RIFF's byte order, read by libsndfile
    sox(path, "-L", little)
    reference, _ = soundfile.read(str(little), dtype="int32", always_2d=True)
    sent_bits = source.format.bit_depth
    expected = (
        reference.astype(np.int64) >> (32 - sent_bits)
        if bits >= sent_bits
        else reference.astype(np.int64) >> (32 - bits) << (sent_bits - bits)
    )
    assert source.format.channels == channels and source.format.sample_rate == 16000
    assert np.array_equal(sent_ints(source), expected)


@needs_sox
@pytest.mark.parametrize("bits", [32, 64])
def test_float_rifx_is_sent_as_its_values(tmp_path: Path, bits: int) -> None:
    path = tmp_path / "bef.wav"
    sox(
        "-n",
        "-B",
        "-r",
        "16000",
        "-e",
        "floating-point",
        "-b",
        str(bits),
        path,
        "synth",
        "0.5",
        "sine",
        "440",
        "vol",
        "0.5",
    )
    reference, _ = soundfile.read(str(path), dtype="float64", always_2d=True)
    source = open_audio_file(path, FormatRequest())
    assert np.array_equal(sent_ints(source), np.clip(np.rint(reference * 32768), -32768, 32767).astype(np.int64))


def test_rifx_written_by_hand_is_exact(tmp_path: Path) -> None:
    values = np.array([0, 1, -1, 32767, -32768, 12345], dtype=">i2")
    path = write(tmp_path, "hand.wav", rifx_bytes(values.tobytes()))
    source = open_audio_file(path, FormatRequest())
    assert (
        b"".join(source.chunks()) == values.astype("<i2").tobytes()
    )  # swapped into Gladia's order, never sent swapped


# ---------------------------------------------------------------------------------------------------------------
# One downmix whatever the container (ITU-R BS.775)

_TONES = {"FL": 300, "FR": 500, "FC": 700, "LFE": 60, "BL": 900, "BR": 1100}


def _tone_level(audio: np.ndarray, rate: int, hz: float) -> float:
    """Amplitude of one tone in a mono signal (the tones sit on whole FFT bins)."""
    spectrum = np.abs(np.fft.rfft(audio)) * 2 / len(audio)
    return float(spectrum[round(hz * len(audio) / rate)])


@needs_sox
@needs_ffmpeg
def test_five_one_mixes_the_same_from_wav_and_flac(tmp_path: Path) -> None:
    wav = tmp_path / "51.wav"
    sox(
        "-n",
        "-r",
        "16000",
        "-c",
        "6",
        "-b",
        "16",
        wav,
        "synth",
        "1",
        *" ".join(f"sine {hz}" for hz in _TONES.values()).split(),
        "vol",
        "0.5",
    )
    flac = tmp_path / "51.flac"
    ffmpeg("-i", wav, "-c:a", "flac", flac)
    mono_wav = sent(open_audio_file(wav, FormatRequest(channels=1)))[:, 0]
    mono_flac = sent(open_audio_file(flac, FormatRequest(channels=1)))[:, 0]
    assert np.array_equal(mono_wav, mono_flac)  # the container does not decide the mix
    each, _ = soundfile.read(str(wav), dtype="float64")
    level = _tone_level(each[:, 0], 16000, _TONES["FL"])
    norm = 1 + 2 * np.sqrt(0.5)
    # Fronts at half (the mean of the stereo pair), centre and surrounds at -3 dB, the LFE left out; never clipping.
    assert _tone_level(mono_wav, 16000, _TONES["FL"]) == pytest.approx(level * 0.5 / norm, rel=1e-3)
    assert _tone_level(mono_wav, 16000, _TONES["FC"]) == pytest.approx(level * np.sqrt(0.5) / norm, rel=1e-3)
    assert _tone_level(mono_wav, 16000, _TONES["BR"]) == pytest.approx(level * np.sqrt(0.5) / 2 / norm, rel=1e-3)
    assert _tone_level(mono_wav, 16000, _TONES["LFE"]) < level * 1e-4
    stereo = sent(open_audio_file(wav, FormatRequest(channels=2)))  # 6 -> 2 on a WAV, as on a FLAC
    left = stereo[:, 0]
    assert _tone_level(left, 16000, _TONES["FL"]) == pytest.approx(level / norm, rel=1e-3)
    assert _tone_level(left, 16000, _TONES["FR"]) < level * 1e-4
    assert np.array_equal(stereo, sent(open_audio_file(flac, FormatRequest(channels=2))))


@needs_ffmpeg
def test_mono_to_stereo_at_the_same_level_on_every_path(tmp_path: Path) -> None:
    values = (np.sin(np.arange(16000) / 5) * 12000).astype("<i2")
    wav = write(tmp_path, "m.wav", wav_bytes(values.tobytes()))
    flac = tmp_path / "m.flac"
    ffmpeg("-i", wav, flac)
    expected = np.repeat(values[:, None].astype(np.int64), 2, axis=1)
    assert np.array_equal(sent_ints(open_audio_file(wav, FormatRequest(channels=2))), expected)
    assert np.array_equal(sent_ints(open_audio_file(flac, FormatRequest(channels=2))), expected)


@needs_ffmpeg
@pytest.mark.parametrize(("codec", "bits"), [("flac", 16), ("flac", 24)])
def test_lossless_files_through_ffmpeg_are_sent_exactly(tmp_path: Path, codec: str, bits: int) -> None:
    rng = np.random.default_rng(1)
    audio = rng.uniform(-0.9, 0.9, (16000, 2))
    wav = _write_float(tmp_path, "x.wav", audio, 16000, f"PCM_{bits}")
    encoded = tmp_path / f"x.{codec}"
    ffmpeg("-i", wav, encoded)
    reference, _ = soundfile.read(str(encoded), dtype="int32", always_2d=True)
    source = open_audio_file(encoded, FormatRequest())
    assert source.format.bit_depth == 16
    got = sent_ints(open_audio_file(encoded, FormatRequest(bit_depth=bits)))
    assert np.array_equal(got, reference.astype(np.int64) >> (32 - bits))


# ---------------------------------------------------------------------------------------------------------------
# Nothing altered silently, nothing missing unsaid


def test_float_beyond_full_scale_is_clipped_and_said(tmp_path: Path) -> None:
    values = np.full(1600, 0.25, dtype="<f4")
    values[100:245] = 1.5
    values[300:303] = np.nan
    path = write(tmp_path, "hot.wav", wav_bytes(values.tobytes(), tag=3, bits=32))
    source = open_audio_file(path, FormatRequest())
    out = sent_ints(source)[:, 0]
    assert out[100] == 32767 and out[300] == 0 and out[0] == 8192
    assert source.capture_notes() == [
        f"{path}: 145 samples were beyond full scale and were clipped",
        f"{path}: 3 samples were not numbers (NaN) and were sent as silence",
    ]


def test_a_float_file_within_full_scale_has_nothing_to_say(tmp_path: Path) -> None:
    values = np.linspace(-1.0, 1.0, 1600, dtype="<f4")
    path = write(tmp_path, "ok.wav", wav_bytes(values.tobytes(), tag=3, bits=32))
    source = open_audio_file(path, FormatRequest())
    sent(source)
    assert source.capture_notes() == []


@needs_ffmpeg
@pytest.mark.parametrize("ext", ["flac", "mp3", "m4a"])
def test_a_compressed_file_cut_short_says_how_much_is_missing(tmp_path: Path, ext: str) -> None:
    wav = tmp_path / "full.wav"
    soundfile.write(str(wav), _speechlike(44100, 6), 44100, subtype="PCM_16")
    full = tmp_path / f"full.{ext}"
    ffmpeg("-i", wav, *(["-movflags", "+faststart"] if ext == "m4a" else []), full)
    cut = write(tmp_path, f"cut.{ext}", full.read_bytes()[: full.stat().st_size // 2])
    source = open_audio_file(cut, FormatRequest())
    got = sent(source)
    notes = source.capture_notes()
    assert len(notes) == 1 and "before the 6.0 s its header declares" in notes[0], notes
    missing = float(notes[0].split(" ends ")[1].split(" s ")[0])
    assert missing == pytest.approx(6.0 - len(got) / source.format.sample_rate, abs=0.15)
    whole = open_audio_file(full, FormatRequest())
    sent(whole)
    assert whole.capture_notes() == []


@needs_ffmpeg
def test_opus_is_sent_at_the_rate_it_was_recorded_at(tmp_path: Path) -> None:
    wav = tmp_path / "16k.wav"
    soundfile.write(str(wav), _speechlike(16000, 2), 16000, subtype="PCM_16")
    opus = tmp_path / "16k.opus"
    ffmpeg("-i", wav, "-c:a", "libopus", opus)
    source = open_audio_file(opus, FormatRequest())
    assert source.format.sample_rate == 16000  # not the decoder's 48 kHz: a third of the data
    assert len(sent(source)) == pytest.approx(32000, abs=400)


def test_a_36_bit_file_is_named_and_read_by_its_bit_count(tmp_path: Path) -> None:
    values = np.array([1 << 34, -(1 << 34), 12345 << 4, 0], dtype=np.int64) << 4  # 36 bits, left-justified in 40
    raw = b"".join(int(v).to_bytes(5, "little", signed=True) for v in values)
    data = raw * 400
    path = write(tmp_path, "36.wav", wav_bytes(data, bits=36))
    source = open_audio_file(path, FormatRequest())
    assert source.source_description == "WAV 36-bit 16000 Hz mono"
    assert source.format.bit_depth == 32
    assert sent_ints(source)[:4, 0].tolist() == [1 << 30, -(1 << 30), 12345, 0]


# ---------------------------------------------------------------------------------------------------------------
# End to end: what the command says, and no session for a file that fails


@needs_ffmpeg
@pytest.mark.parametrize("case", ["no-audio-after-header", "zero-seconds"])
def test_no_session_is_created_for_a_file_that_fails_or_holds_nothing(
    api_env: GladiaEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    if case == "no-audio-after-header":
        full = tmp_path / "full.m4a"
        ffmpeg("-f", "lavfi", "-i", "sine=frequency=440:sample_rate=16000:duration=3", "-movflags", "+faststart", full)
        data = full.read_bytes()
        path = write(tmp_path, "cut.m4a", data[: data.index(b"mdat") + 4])
    else:
        path = tmp_path / "empty.flac"
        ffmpeg("-f", "lavfi", "-i", "anullsrc=r=16000:cl=mono", "-t", "0", path)
    result = invoke(capsys, "transcribe", str(path), "--realtime", "--speed", "0")
    assert result.code == 2, result.stderr
    assert not api_env.init_requests  # POST /v2/live never sent
    assert result.stderr.count("\n") == 1 and str(path) in result.stderr


@needs_ffmpeg
def test_the_command_says_what_a_cut_file_lacks_and_what_was_clipped(
    api_env: GladiaEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wav = tmp_path / "full.wav"
    soundfile.write(str(wav), _speechlike(16000, 4), 16000, subtype="PCM_16")
    full = tmp_path / "full.flac"
    ffmpeg("-i", wav, full)
    cut = write(tmp_path, "cut.flac", full.read_bytes()[: full.stat().st_size // 2])
    result = invoke(capsys, "transcribe", str(cut), "--realtime", "--speed", "0")
    assert result.code == 0, result.stderr
    said = [line for line in result.stderr.splitlines() if "its header declares" in line]
    assert len(said) == 1 and said[0].startswith(f"gladia: {cut} ends "), result.stderr
    sent_seconds = len(api_env.only_session().audio) / 32000
    assert f"sent the {sent_seconds:.1f} s it holds" in said[0]

    values = np.full(16000, 0.25, dtype="<f4")
    values[:145] = 2.0
    hot = write(tmp_path, "hot.wav", wav_bytes(values.tobytes(), tag=3, bits=32))
    result = invoke(capsys, "transcribe", str(hot), "--realtime", "--speed", "0")
    assert result.code == 0, result.stderr
    assert f"gladia: {hot}: 145 samples were beyond full scale and were clipped" in result.stderr.splitlines()
