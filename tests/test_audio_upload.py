"""The pre-upload check without ffmpeg: what Gladia accepts is uploaded, what is clearly not audio is refused.

The files are real: encoded by ffmpeg (MP2, MP3 of MPEG-1/2/2.5, ADTS AAC of MPEG-4/2), then ffmpeg is hidden from
PATH for the check. This ffmpeg offers CRC protection only for MP2 (libtwolame); MP3 and AAC streams with CRC are
made here from ffmpeg's output by inserting the CRC field after each header, and ffmpeg decoding them to the same
samples proves the framing real (for MP3, with `-err_detect crccheck`, the CRC value too).
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from audio_helpers import HAVE_FFMPEG, wav_bytes, write
from cli_runner import invoke
from emulator import GladiaEmulator

from gladia_cli.audio import sniff
from gladia_cli.audio.upload import plan_upload
from gladia_cli.errors import UsageError

FFMPEG = shutil.which("ffmpeg") or "ffmpeg"  # resolved now: the tests hide it from PATH once the files are made
needs_ffmpeg = pytest.mark.skipif(not HAVE_FFMPEG, reason="ffmpeg is needed to make the test files")


@pytest.fixture
def no_ffmpeg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """PATH without ffmpeg or ffprobe, as on a machine that never installed them."""
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))


# ---------------------------------------------------------------------------------------------------------------
# Making the files


def ffmpeg_encode(path: Path, *args: str, rate: int = 44100, channels: int = 1) -> Path:
    tone = f"sine=frequency=440:duration=1:sample_rate={rate}"
    cmd = [FFMPEG, "-nostdin", "-v", "error", "-y", "-f", "lavfi", "-i", tone, "-ac", str(channels), *args]
    result = subprocess.run([*cmd, str(path)], capture_output=True, check=False)
    if result.returncode != 0:
        pytest.skip(f"this ffmpeg cannot make {path.name}: {result.stderr.decode(errors='replace').strip()}")
    return path


def decoded(path: Path, *options: str) -> bytes:
    cmd = [FFMPEG, "-nostdin", "-v", "error", *options, "-i", str(path), "-f", "s16le", "-"]
    return subprocess.run(cmd, capture_output=True, check=True).stdout


def crc16(data: bytes, crc: int = 0xFFFF) -> int:
    """The CRC of ISO 11172-3 (polynomial 0x8005, all ones to start, most significant bit first)."""
    for byte in data:
        for shift in range(7, -1, -1):
            top = crc >> 15
            crc = (crc << 1) & 0xFFFF
            if top ^ ((byte >> shift) & 1):
                crc ^= 0x8005
    return crc


def bits(data: bytes, start: int, count: int) -> int:
    value = 0
    for k in range(start, start + count):
        value = (value << 1) | ((data[k // 8] >> (7 - k % 8)) & 1)
    return value


def mp3_with_crc(plain: bytes) -> bytes:
    """MPEG-1 layer III mono, CBR without bit reservoir: each frame gets its CRC and gives up 2 bytes of stuffing."""
    out, pos = bytearray(), 0
    while pos < len(plain):
        header = plain[pos : pos + 4]
        assert header[:2] == b"\xff\xfb" and header[3] >> 6 == 3, header.hex()  # MPEG-1 layer III, no CRC, mono
        bitrate = (32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)[(header[2] >> 4) - 1] * 1000
        rate = (44100, 48000, 32000)[(header[2] >> 2) & 3]
        length = 144 * bitrate // rate + ((header[2] >> 1) & 1)
        side_info = plain[pos + 4 : pos + 4 + 17]
        assert bits(side_info, 0, 9) == 0  # main_data_begin: no bit reservoir
        used = sum(bits(side_info, 18 + 59 * granule, 12) for granule in range(2))  # part2_3_length
        assert length - 4 - 17 - (used + 7) // 8 >= 2, "no stuffing to make room for the CRC"
        protected = bytes([0xFF, 0xFA, header[2], header[3]])
        out += protected + crc16(protected[2:] + side_info).to_bytes(2, "big")
        out += plain[pos + 4 : pos + length - 2]
        pos += length
    return bytes(out)


def adts_with_crc(plain: bytes) -> bytes:
    """ADTS frames (one raw block each) with the 2-byte CRC field after the header and the frame length grown by 2.

    The value covers the header only: the standard also covers parts of the AAC elements, which needs an AAC
    parser; decoders (ffmpeg's among them) skip the field, so the file decodes as the original does.
    """
    out, pos = bytearray(), 0
    while pos < len(plain):
        header = bytearray(plain[pos : pos + 7])
        assert header[0] == 0xFF and header[1] & 0xF7 == 0xF1 and header[6] & 3 == 0, header.hex()
        length = ((header[3] & 3) << 11) | (header[4] << 3) | (header[5] >> 5)
        grown = length + 2
        header[1] &= 0xFE  # protection_absent = 0
        header[3] = (header[3] & 0xFC) | (grown >> 11)
        header[4] = (grown >> 3) & 0xFF
        header[5] = (header[5] & 0x1F) | ((grown & 7) << 5)
        out += header + crc16(bytes(header)).to_bytes(2, "big") + plain[pos + 7 : pos + length]
        pos += length
    return bytes(out)


def make_mp2(tmp: Path) -> Path:
    return ffmpeg_encode(tmp / "tone.mp2", "-c:a", "mp2")


def make_mp2_crc(tmp: Path) -> Path:
    path = ffmpeg_encode(tmp / "crc.mp2", "-c:a", "libtwolame", "-error_protection", "1")
    assert decoded(path, "-err_detect", "crccheck+explode")  # the CRCs are real
    return path


def make_mp3(rate: int, *extra: str) -> Callable[[Path], Path]:
    def make(tmp: Path) -> Path:
        return ffmpeg_encode(tmp / f"tone{rate}.mp3", "-c:a", "libmp3lame", *extra, rate=rate)

    return make


def make_mp3_crc(tmp: Path) -> Path:
    plain = ffmpeg_encode(
        tmp / "plain.mp3",
        "-c:a",
        "libmp3lame",
        "-b:a",
        "320k",
        "-reservoir",
        "0",
        "-id3v2_version",
        "0",
        "-write_xing",
        "0",
    )
    path = write(tmp, "crc.mp3", mp3_with_crc(plain.read_bytes()))
    assert decoded(path, "-err_detect", "crccheck+explode") == decoded(plain)  # CRCs right, audio unchanged
    return path


def make_aac(*extra: str) -> Callable[[Path], Path]:
    def make(tmp: Path) -> Path:
        return ffmpeg_encode(tmp / "tone.aac", "-c:a", "aac", "-f", "adts", *extra)

    return make


def make_aac_crc(tmp: Path) -> Path:
    plain = make_aac()(tmp)
    path = write(tmp, "crc.aac", adts_with_crc(plain.read_bytes()))
    assert path.read_bytes()[1] == 0xF0 and decoded(path) == decoded(plain)
    return path


ACCEPTED = {
    "mp2": (make_mp2, "MPEG-1 audio layer II"),
    "mp2-crc": (make_mp2_crc, "MPEG-1 audio layer II with CRC"),
    "mp3-mpeg1": (make_mp3(44100, "-id3v2_version", "0", "-write_xing", "0"), "MPEG-1 audio layer III"),
    "mp3-mpeg2": (make_mp3(22050, "-id3v2_version", "0"), "MPEG-2 audio layer III"),
    "mp3-mpeg2.5": (make_mp3(8000, "-id3v2_version", "0"), "MPEG-2.5 audio layer III"),
    "mp3-id3": (make_mp3(44100), "MPEG audio with an ID3 tag"),
    "mp3-crc": (make_mp3_crc, "MPEG-1 audio layer III with CRC"),
    "aac": (make_aac(), "AAC (ADTS)"),
    "aac-mpeg2": (make_aac("-write_mpeg2", "1"), "AAC (ADTS)"),
    "aac-crc": (make_aac_crc, "AAC (ADTS) with CRC"),
}


# ---------------------------------------------------------------------------------------------------------------
# Accepted without ffmpeg


@needs_ffmpeg
@pytest.mark.parametrize("kind", ACCEPTED)
def test_audio_gladia_takes_passes_without_ffmpeg(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], no_ffmpeg: None, kind: str
) -> None:
    make, name = ACCEPTED[kind]
    path = make(tmp_path)
    data = path.read_bytes()
    assert sniff.media_kind(data, whole_file=True) == name
    if not data.startswith(b"ID3"):  # after leading padding too (a stream cut from a broadcast, an encoder's)
        assert sniff.media_kind(bytes(300) + data, whole_file=True) == name
    assert plan_upload(path).note is None
    assert capsys.readouterr().err == ""  # recognised: no warning either


@pytest.mark.parametrize("version", [3, 2, 0])
@pytest.mark.parametrize("layer", [3, 2, 1])
@pytest.mark.parametrize("crc", [True, False])
def test_every_mpeg_layer_and_version_is_followed_frame_to_frame(version: int, layer: int, crc: bool) -> None:
    """Synthetic frames (a header and silence) for combinations no encoder at hand writes, layer I among them."""
    b1 = 0xE0 | (version << 3) | (layer << 1) | (0 if crc else 1)
    header = bytes([0xFF, b1, 0x90, 0xC0])  # bitrate index 9, first sample rate, mono
    frame_length = sniff._mpeg_frame(header, 0)
    assert frame_length is not None
    frames = (header + bytes(frame_length[0] - 4)) * 3
    kind = sniff.media_kind(frames)
    roman = {3: "I", 2: "II", 1: "III"}[layer]
    assert kind == f"MPEG-{ {3: '1', 2: '2', 0: '2.5'}[version] } audio layer {roman}{' with CRC' if crc else ''}"
    assert sniff.media_kind(frames[: -frame_length[0]]) is None  # two frames of a longer stream are not enough
    assert sniff.media_kind(frames[: -frame_length[0]], whole_file=True) == kind  # unless that is the whole file


# ---------------------------------------------------------------------------------------------------------------
# Refused, or uploaded with a warning


def test_random_bytes_named_wav_are_refused(tmp_path: Path, no_ffmpeg: None) -> None:
    path = write(tmp_path, "noise.wav", np.random.default_rng(11).integers(0, 256, 200_000, dtype=np.uint8).tobytes())
    with pytest.raises(UsageError, match="does not look like an audio or video file"):
        assert plan_upload(path).note is None


@pytest.mark.parametrize(
    ("name", "content", "what"),
    [
        pytest.param("notes.mp3", "these are meeting notes, not audio\n" * 50, "text", id="text"),
        pytest.param("notes é.m4a", "déjà vu, encore du texte\n" * 50, "text", id="utf8-text"),
        pytest.param("picture.mp3", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64), "a PNG image", id="png"),
        pytest.param("archive.ogg", b"PK\x03\x04" + bytes(100), "a ZIP archive", id="zip"),
    ],
)
def test_what_is_clearly_not_audio_is_refused(
    tmp_path: Path, no_ffmpeg: None, name: str, content: bytes | str, what: str
) -> None:
    path = write(tmp_path, name, content.encode() if isinstance(content, str) else content)
    with pytest.raises(UsageError, match=f"does not look like an audio or video file \\(it looks like {what}\\)"):
        assert plan_upload(path).note is None


def test_an_unknown_format_is_uploaded_with_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], no_ffmpeg: None
) -> None:
    path = write(tmp_path, "take.xyz", np.random.default_rng(12).integers(0, 256, 50_000, dtype=np.uint8).tobytes())
    warning = plan_upload(path).note
    assert warning is not None and str(path) in warning and "Gladia decide" in warning
    assert capsys.readouterr().err == ""  # the library says it; the command prints it (tests/test_cli_prerecorded)


@needs_ffmpeg
def test_transcribe_uploads_an_mp2_without_ffmpeg(
    api_env: GladiaEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str], no_ffmpeg: None
) -> None:
    """End to end: `gladia transcribe tone.mp2` on a machine without ffmpeg reaches Gladia with the file as it is."""
    api_env.prerecorded.polls_before_done = 0
    path = make_mp2(tmp_path)
    result = invoke(capsys, "transcribe", str(path))
    assert result.code == 0, result.stderr
    assert api_env.prerecorded.uploads[0].data == path.read_bytes()


def test_transcribe_says_once_that_an_unknown_file_is_uploaded_unrecognised(
    api_env: GladiaEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str], no_ffmpeg: None
) -> None:
    api_env.prerecorded.polls_before_done = 0
    path = write(tmp_path, "take.xyz", np.random.default_rng(12).integers(0, 256, 50_000, dtype=np.uint8).tobytes())
    result = invoke(capsys, "transcribe", str(path))
    assert result.code == 0, result.stderr
    warned = [line for line in result.stderr.splitlines() if "Gladia decide" in line]
    assert len(warned) == 1 and warned[0].startswith("gladia: ") and str(path) in warned[0]
    assert api_env.prerecorded.uploads[0].data == path.read_bytes()


# ---------------------------------------------------------------------------------------------------------------
# The upload takes what Gladia takes: WAVs of any codec or channel count as they are, the rest converted losslessly


def _ffmpeg_wav(tmp: Path, name: str, *args: str) -> Path:
    path = tmp / name
    source = ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=8000:duration=1"]
    subprocess.run([FFMPEG, "-v", "error", *source, *args, str(path)], check=True)
    return path


WAVS_GLADIA_TAKES = {
    "ima-adpcm": lambda tmp: _ffmpeg_wav(tmp, "ima.wav", "-c:a", "adpcm_ima_wav"),
    "ms-adpcm": lambda tmp: _ffmpeg_wav(tmp, "ms.wav", "-c:a", "adpcm_ms"),
    "mp3-in-wav": lambda tmp: _ffmpeg_wav(tmp, "mp3.wav", "-c:a", "libmp3lame"),
    "gsm-6.10": lambda tmp: _ffmpeg_wav(tmp, "gsm.wav", "-c:a", "libgsm_ms"),
    "ten-channels": lambda tmp: write(tmp, "ten.wav", wav_bytes(bytes(20 * 8000), channels=10)),
    "36-bit": lambda tmp: write(tmp, "36.wav", wav_bytes(bytes(5 * 8000), bits=36)),
}


@needs_ffmpeg
@pytest.mark.parametrize("kind", WAVS_GLADIA_TAKES)
@pytest.mark.parametrize("ffmpeg_here", [True, False], ids=["ffmpeg", "no-ffmpeg"])
def test_a_wav_of_any_codec_or_channel_count_is_uploaded_as_it_is(
    api_env: GladiaEmulator,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    kind: str,
    ffmpeg_here: bool,
) -> None:
    """The live path's limits (what a stream may declare) are not the upload's: Gladia decodes a WAV itself."""
    api_env.prerecorded.polls_before_done = 0
    path = WAVS_GLADIA_TAKES[kind](tmp_path)
    if not ffmpeg_here:
        empty = tmp_path / "empty-bin"
        empty.mkdir()
        monkeypatch.setenv("PATH", str(empty))
    result = invoke(capsys, "transcribe", str(path))
    assert result.code == 0, result.stderr
    assert [line for line in result.stderr.splitlines() if "fetches it again" not in line] == []  # nothing to say
    assert api_env.prerecorded.uploads[0].data == path.read_bytes()


@needs_ffmpeg
@pytest.mark.parametrize(("ext", "args"), [("aiff", []), ("au", []), ("wv", []), ("caf", [])])
def test_a_format_gladia_does_not_list_is_converted_to_flac_and_said(
    api_env: GladiaEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str], ext: str, args: list[str]
) -> None:
    import soundfile

    api_env.prerecorded.polls_before_done = 0
    path = tmp_path / f"take.{ext}"
    source = ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=22050:duration=1", "-ac", "2"]
    subprocess.run([FFMPEG, "-v", "error", *source, *args, str(path)], check=True)
    result = invoke(capsys, "transcribe", str(path))
    assert result.code == 0, result.stderr
    said = [line for line in result.stderr.splitlines() if "converted to FLAC (lossless)" in line]
    assert len(said) == 1 and str(path) in said[0], result.stderr
    uploaded = tmp_path / "uploaded.flac"
    uploaded.write_bytes(api_env.prerecorded.uploads[0].data)
    assert uploaded.read_bytes()[:4] == b"fLaC"
    sent, rate = soundfile.read(str(uploaded), dtype="int32")
    decoded = np.frombuffer(
        subprocess.run(
            [FFMPEG, "-v", "error", "-i", str(path), "-f", "s32le", "-"], capture_output=True, check=True
        ).stdout,
        "<i4",
    ).reshape(-1, 2)
    assert rate == 22050 and np.array_equal(sent, decoded)  # every sample, as the file holds it
    assert not list(tmp_path.glob("gladia-upload-*"))


@needs_ffmpeg
def test_an_mp4_that_does_not_decode_is_refused_before_the_upload(
    api_env: GladiaEmulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    full = tmp_path / "full.m4a"
    source = ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=16000:duration=3"]
    subprocess.run([FFMPEG, "-v", "error", *source, "-movflags", "+faststart", str(full)], check=True)
    data = full.read_bytes()
    cut = write(tmp_path, "cut.m4a", data[: data.index(b"mdat") + 4])  # the header declares 3 s; no audio follows
    result = invoke(capsys, "transcribe", str(cut))
    assert result.code == 2 and not api_env.prerecorded.uploads
    assert str(cut) in result.stderr
