"""Opening an audio file: every user mistake reported before any network call, and the format chosen to send."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from audio_helpers import collect, samples16, usage_error, wav_bytes, write

from gladia_cli.audio import files
from gladia_cli.audio.files import FormatRequest, open_audio_file

# ---------------------------------------------------------------------------------------------------------------
# User mistakes: one clear line naming the file


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.wav"
    assert f"no such file: {path}" in usage_error(path)


def test_directory(tmp_path: Path) -> None:
    assert "is a directory" in usage_error(tmp_path)


def test_empty_file(tmp_path: Path) -> None:
    path = write(tmp_path, "empty.wav", b"")
    message = usage_error(path)
    assert str(path) in message and "empty" in message


def test_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, "secret.wav", wav_bytes(b"\x00\x00" * 10))

    def denied(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(files, "open", denied, raising=False)  # tests run as root, where chmod 000 is no barrier
    message = usage_error(path)
    assert str(path) in message and "permission denied" in message


@pytest.mark.skipif(sys.platform == "win32" or os.geteuid() == 0, reason="root ignores file permissions")
def test_unreadable_file_chmod(tmp_path: Path) -> None:
    path = write(tmp_path, "secret.wav", wav_bytes(b"\x00\x00" * 10))
    path.chmod(0)
    assert "permission denied" in usage_error(path)


def test_text_file_without_ffmpeg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    path = write(tmp_path, "notes.wav", b"hello, this is not audio\n")  # the extension lies; magic bytes decide
    message = usage_error(path)
    assert str(path) in message and "not a WAV file" in message and "ffmpeg is not installed" in message


def test_negative_speed_rejected(tmp_path: Path) -> None:
    path = write(tmp_path, "s.wav", wav_bytes(b"\x00\x00" * 100))
    assert "`speed`" in usage_error(path, speed=-1)  # the library names the keyword; the command line its flag


# ---------------------------------------------------------------------------------------------------------------
# The format to send


def test_twelve_channels_rejected_unless_downmixed(tmp_path: Path) -> None:
    data = np.tile(np.arange(12, dtype="<i2") * 100, 160).tobytes()
    path = write(tmp_path, "12ch.wav", wav_bytes(data, channels=12, extensible=True, mask=0))  # no positions named
    message = usage_error(path)
    assert f"{path} has 12 channels; Gladia accepts at most 8" in message
    out = samples16(collect(open_audio_file(path, FormatRequest(channels=1))))[:, 0]
    assert out.tolist() == [550] * 160


@pytest.mark.parametrize(
    ("request_", "expected"),
    [
        (FormatRequest(sample_rate=22050), "unsupported sample rate 22050"),
        (FormatRequest(bit_depth=8), "`bit_depth` 8"),
        (FormatRequest(bit_depth=12), "unsupported bit depth 12"),
        (FormatRequest(channels=9), "unsupported channel count 9"),
        (FormatRequest(channels=3), "from 4 to 3 channels"),
    ],
)
def test_bad_requests(tmp_path: Path, request_: FormatRequest, expected: str) -> None:
    path = write(tmp_path, "q.wav", wav_bytes(b"\x00" * 800, channels=4))
    assert expected in usage_error(path, request_)


# ---------------------------------------------------------------------------------------------------------------
# Import cost


def test_importing_does_not_import_numpy() -> None:
    code = "import sys, gladia_cli.audio.files; assert 'numpy' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parent.parent)
