"""Key storage (`gladia auth`), its precedence, and shell completion scripts that cannot drift from the CLI."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from cli_runner import invoke, one_line_error, run
from emulator import GladiaEmulator
from wavs import write_wav

from gladia_cli.errors import ExitCode

ROOT = Path(__file__).resolve().parent.parent
KEY = "gk-0123456789abcdef"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("GLADIA_API_KEY", raising=False)
    return tmp_path


def test_auth_set_from_stdin_saves_0600_and_status_masks(home: Path) -> None:
    env = {"HOME": str(home), "XDG_CONFIG_HOME": str(home / "xdg")}
    proc = subprocess.run(
        [sys.executable, "-m", "gladia_cli", "auth", "set"],
        input=KEY + "\n",
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=30,
    )
    assert proc.returncode == 0, proc.stderr
    path = home / "xdg" / "gladia" / "api_key"
    assert path.read_text().strip() == KEY
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert KEY not in proc.stdout + proc.stderr
    status = run("auth", "status", env=env)
    assert status.code == 0
    assert KEY not in status.stdout + status.stderr
    assert "gk-0" in status.stdout and "cdef" in status.stdout and str(path) in status.stdout


def test_precedence_flag_env_saved_official(home: Path, capsys) -> None:
    (home / ".gladia").write_text("official-key\n")
    assert "from: " + str(home / ".gladia") in invoke(capsys, "auth", "status").stdout
    assert invoke(capsys, "auth", "set", "saved-key-1234").code == 0
    assert "/xdg/gladia/api_key" in invoke(capsys, "auth", "status").stdout
    os.environ["GLADIA_API_KEY"] = "env-key-12345"
    try:
        assert "from: GLADIA_API_KEY" in invoke(capsys, "auth", "status").stdout
        assert "from: --api-key" in invoke(capsys, "auth", "status", "--api-key", "flag-key-123").stdout
        assert "from: --api-key" in invoke(capsys, "auth", "status", "--gladia-key", "flag-key-123").stdout
    finally:
        del os.environ["GLADIA_API_KEY"]


def test_auth_clear(home: Path, capsys) -> None:
    (home / ".gladia").write_text("official-key\n")
    invoke(capsys, "auth", "set", "saved-key-1234")
    result = invoke(capsys, "auth", "clear")
    assert result.code == 0
    assert not (home / "xdg" / "gladia" / "api_key").exists()
    assert "clear --all" in result.stderr  # ~/.gladia still provides a key: say so
    assert invoke(capsys, "auth", "clear", "--all").code == 0
    assert not (home / ".gladia").exists()
    status = invoke(capsys, "auth", "status")
    assert status.code == ExitCode.AUTH
    assert "gladia auth set" in one_line_error(status)


def test_empty_key_is_refused(home: Path, capsys) -> None:
    result = invoke(capsys, "auth", "set", "   ")
    assert result.code == ExitCode.USAGE
    assert "empty" in one_line_error(result)


def test_saved_key_is_used_for_requests(home: Path, emulator: GladiaEmulator, capsys, monkeypatch) -> None:
    monkeypatch.setenv("GLADIA_API_URL", emulator.base_url)
    invoke(capsys, "auth", "set", "test-key")
    wav, _ = write_wav(home / "a.wav", 0.5)
    assert invoke(capsys, "transcribe", str(wav), "--realtime", "--speed", "0").code == 0
    assert emulator.init_requests[0].headers["x-gladia-key"] == "test-key"


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_scripts_match_the_cli(shell: str) -> None:
    result = run("completion", shell)
    assert result.code == 0
    assert (ROOT / "completions" / f"gladia.{shell}").read_text() == result.stdout, (
        f"completions/gladia.{shell} is stale: regenerate with `gladia completion {shell} > completions/gladia.{shell}`"
    )


def test_completion_offers_commands_and_language_codes() -> None:
    env = {"_GLADIA_COMPLETE": "complete_bash", "COMP_WORDS": "gladia listen --lang f", "COMP_CWORD": "3"}
    result = run(env=env)
    assert "fr" in result.stdout.split()
    env = {"_GLADIA_COMPLETE": "complete_bash", "COMP_WORDS": "gladia tr", "COMP_CWORD": "1"}
    assert run(env=env).stdout.split() == ["transcribe"]


@pytest.mark.parametrize(
    ("words", "offered", "not_offered"),
    [
        ("gladia listen --lang w", set(), {"wo"}),  # Wolof is a translation target, not a transcription language
        ("gladia listen --translate w", {"wo"}, set()),
        ("gladia listen --encoding wav/", {"wav/pcm", "wav/alaw", "wav/ulaw"}, set()),
        ("gladia transcribe --model sol", {"solaria-1", "solaria-3"}, set()),
        ("gladia transcribe --summary-type b", {"bullet_points"}, {"general"}),
    ],
)
def test_completion_offers_what_each_option_accepts(words: str, offered: set[str], not_offered: set[str]) -> None:
    env = {"_GLADIA_COMPLETE": "complete_bash", "COMP_WORDS": words, "COMP_CWORD": str(len(words.split()) - 1)}
    got = set(run(env=env).stdout.split())
    assert offered <= got and not (not_offered & got), got


def test_completion_choices_agree_with_validation() -> None:
    from gladia_cli import languages
    from gladia_cli.audio.format import ENCODINGS
    from gladia_cli.completion import CHOICES
    from gladia_cli.live.config import MODELS, SUMMARY_TYPES
    from gladia_cli.prerecorded.config import PRERECORDED_MODELS

    values = {option: {value for value, _ in choices} for option, choices in CHOICES.items()}
    assert values == {
        "--encoding": set(ENCODINGS),
        "--model": set(MODELS) | set(PRERECORDED_MODELS),
        "--summary-type": set(SUMMARY_TYPES),
    }
    assert set(languages.TRANSCRIPTION) < set(languages.TRANSLATION)


def test_bash_really_completes_with_the_script(tmp_path: Path) -> None:
    """Source the shipped script in a real bash and ask it to complete, as a shell would."""
    script = ROOT / "completions" / "gladia.bash"
    probe = (
        f"source {script}; COMP_WORDS=(gladia listen --lang e); COMP_CWORD=3; "
        f"_gladia_completion gladia; printf '%s\\n' \"${{COMPREPLY[@]}}\""
    )
    gladia = Path(sys.executable).parent / "gladia"
    if not gladia.exists():
        pytest.skip("the gladia console script is not installed next to this Python")
    env = {**os.environ, "PATH": f"{gladia.parent}:{os.environ['PATH']}"}
    proc = subprocess.run(["bash", "-c", probe], capture_output=True, text=True, env=env, timeout=30)
    assert {"en", "es", "el"} <= set(proc.stdout.split()), proc.stdout + proc.stderr


def test_a_refused_saved_key_says_where_it_comes_from(
    home: Path, emulator: GladiaEmulator, capsys, monkeypatch
) -> None:
    monkeypatch.setenv("GLADIA_API_URL", emulator.base_url)
    monkeypatch.delenv("GLADIA_API_KEY", raising=False)
    invoke(capsys, "auth", "set", "not-a-valid-key")
    wav, _ = write_wav(home / "a.wav", 0.5)
    result = invoke(capsys, "transcribe", str(wav), "--realtime")
    assert result.code == ExitCode.AUTH
    line = one_line_error(result)
    assert "refused the API key" in line and "gladia auth set" in line and str(home / "xdg" / "gladia") in line
    assert "not-a-valid-key" not in result.stdout + result.stderr
