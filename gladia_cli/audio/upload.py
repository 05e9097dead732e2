"""What a pre-recorded upload sends: the file as it is when Gladia takes its format, else a lossless copy.

The live path's limits (the encodings, rates and channel counts a stream may declare) do not apply: Gladia decodes
an uploaded file itself. So a file in a format its supported-formats page lists is uploaded untouched, whatever
codec or channel count it holds; a file in a format it does not list is converted by ffmpeg to FLAC (lossless;
WAV beyond FLAC's 8 channels) and the person is told; what is clearly not audio is refused before the upload.
Without ffmpeg the first bytes decide (`sniff`), and Gladia is the judge of what we cannot recognise.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from gladia_cli.audio import ffmpeg, sniff
from gladia_cli.audio.format import PcmFormat
from gladia_cli.audio.wav import UnsupportedWavCodec, is_wav_header, parse_wav
from gladia_cli.errors import UsageError

GLADIA_CONTAINERS = frozenset(
    {
        # audio: aac, ac3, eac3, flac, m4a, mp2, mp3, ogg, opus, wav
        "aac", "ac3", "eac3", "flac", "ipod", "m4a", "mp2", "mp3", "ogg", "opus", "wav",
        # video: 3g2, 3gp, avi, flv, m4v, matroska, mov, mp4, wmv
        "3g2", "3gp", "avi", "flv", "m4v", "matroska", "webm", "mov", "mp4", "asf",
    }
)  # fmt: skip
"""The formats Gladia's supported-formats page lists, by ffmpeg's names for them (ffprobe's `format_name`)."""

MEDIA_SUFFIXES = frozenset(
    {
        ".wav", ".wave", ".rf64", ".w64", ".flac", ".mp3", ".mp2", ".m4a", ".mp4", ".m4v", ".aac", ".ac3", ".eac3",
        ".ogg", ".oga", ".opus", ".webm", ".mkv", ".mka", ".mov", ".avi", ".wmv", ".wma", ".flv", ".3gp", ".3g2",
        ".aif", ".aiff", ".aifc", ".caf", ".wv", ".au", ".amr",
    }
)  # fmt: skip
"""The extensions a folder given to `gladia transcribe` is read for: what Gladia takes, and what ffmpeg converts."""

_FLAC_MAX_CHANNELS = 8
_CONVERT_TIMEOUT = 3600.0
_ANY_FORMAT = PcmFormat(sample_rate=16000, channels=1, bit_depth=16)  # only to see that the first block decodes


@dataclass(frozen=True)
class UploadPlan:
    """What to say before the upload, and whether ffmpeg makes a lossless copy to upload instead."""

    note: str | None = None
    convert: bool = False
    channels: int = 0


def plan_upload(path: Path) -> UploadPlan:
    """Refuse what Gladia could not transcribe before spending an upload on it, and nothing Gladia could.

    The command asks first (to say the plan before the upload starts), the upload asks again: the answer for an
    unchanged file is remembered, so ffprobe and the first block's decoding run once per file."""
    st = path.stat()
    tools = (shutil.which("ffmpeg"), shutil.which("ffprobe"))  # the answer depends on them too
    return _plan(str(path), st.st_size, st.st_mtime_ns, tools)


@lru_cache(maxsize=64)
def _plan(name: str, _size: int, _mtime_ns: int, _tools: tuple[str | None, str | None]) -> UploadPlan:
    path = Path(name)
    with open(path, "rb") as f:
        head = f.read(sniff.HEAD_BYTES)
        whole_file = not f.read(1)
    if is_wav_header(head):
        try:
            with open(path, "rb") as f:
                parse_wav(f, path, path.stat().st_size)
            return UploadPlan()  # a WAV whose samples we read ourselves
        except UnsupportedWavCodec:
            pass  # ADPCM, GSM, MP3 in WAV...: still a WAV, which Gladia takes; ffmpeg checks it below if it is here
    if shutil.which("ffmpeg") and shutil.which("ffprobe"):
        return _plan_with_ffmpeg(path)
    return _plan_from_first_bytes(path, head, whole_file)


def _plan_with_ffmpeg(path: Path) -> UploadPlan:
    probed = ffmpeg.probe(path)  # a UsageError for what is not audio
    assert probed is not None
    ffmpeg.open_decoder(path, _ANY_FORMAT, ffmpeg.require_ffmpeg(path), probed, chunk_ms=100, speed=0).close()
    if GLADIA_CONTAINERS.intersection(probed.containers):
        return UploadPlan()
    kind = "FLAC" if probed.channels <= _FLAC_MAX_CHANNELS else "WAV"
    what = probed.containers[0] if probed.containers and probed.containers[0] else probed.codec
    return UploadPlan(
        note=f"Gladia does not take {what} files: uploading {path} converted to {kind} (lossless) by ffmpeg",
        convert=True,
        channels=probed.channels,
    )


def _plan_from_first_bytes(path: Path, head: bytes, whole_file: bool) -> UploadPlan:
    if is_wav_header(head) or sniff.media_kind(head, whole_file=whole_file) is not None:
        return UploadPlan()
    instead = sniff.not_media(head)
    if instead is not None or path.suffix.lower() == ".wav":
        what = f" (it looks like {instead})" if instead else ""
        raise UsageError(
            f"{path} does not look like an audio or video file{what}",
            hint="install ffmpeg for a closer check, or convert it to WAV, mp3 or m4a",
        )
    return UploadPlan(note=f"cannot tell what {path} holds without ffmpeg; uploading it and letting Gladia decide")


@contextmanager
def file_to_upload(path: Path, plan: UploadPlan) -> Iterator[Path]:
    """The file itself, or a lossless copy made for the upload and deleted after it."""
    if not plan.convert:
        yield path
        return
    decoder = ffmpeg.require_ffmpeg(path)
    flac = plan.channels <= _FLAC_MAX_CHANNELS
    with tempfile.TemporaryDirectory(prefix="gladia-upload-") as tmp:
        out = Path(tmp) / f"{path.stem}.{'flac' if flac else 'wav'}"
        codec = ["-c:a", "flac"] if flac else ["-c:a", "pcm_s32le"]
        cmd = [decoder, "-nostdin", "-v", "error", "-i", f"file:{path}", "-map", "0:a:0", *codec, f"file:{out}"]
        try:
            done = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=_CONVERT_TIMEOUT)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise UsageError(f"cannot convert {path} for the upload: {exc}") from None
        if done.returncode != 0:
            lines = [ln.strip() for ln in done.stderr.decode("utf-8", "replace").splitlines() if ln.strip()]
            raise UsageError(f"cannot convert {path} for the upload: {ffmpeg.last_ffmpeg_line(lines, cmd)}")
        yield out
