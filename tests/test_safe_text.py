"""Outside text reaches the terminal as text, never as commands, and no secret reaches any output.

A hostile (or careless) server on 127.0.0.1 sends escape sequences, Rich markup and the user's own key back; the
client's every path to the terminal is checked: error lines, --debug tracebacks, tables, URLs with a password.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cli_runner import invoke
from emulator import GladiaEmulator
from hypothesis import given
from hypothesis import strategies as st

from gladia_cli import safe_text

OSC52 = "\x1b]52;c;cm0gLXJmIH4=\x07"  # clipboard := "rm -rf ~"
TITLE = "\x1b]0;pwned\x1b\\"  # window title, ST-terminated (Rich strips BEL, not ESC)
CLEAR = "\x1b[2J\x1b[H"
LINK = "\x1b]8;;http://127.0.0.1:9/\x1b\\click\x1b]8;;\x1b\\"
HOSTILE = (
    OSC52 + TITLE + CLEAR + LINK + "\x9b31m\x07\x08\r[bold red]boom[/] [/] :skull: [link=http://127.0.0.1:9]y[/link]"
)
KEY = "gk-SECRET-7f3a9c2e41b8d6"


@pytest.fixture(autouse=True)
def no_secrets_left() -> None:
    safe_text.forget_secrets()


def _clean(text: str) -> bool:
    return not any(ch in text for ch in "\x1b\x07\x08\r\x9b") and not any(0x80 <= ord(c) <= 0x9F for c in text)


def test_sequences_are_shown_not_obeyed() -> None:
    shown = safe_text.neutralise(HOSTILE)
    assert _clean(shown)
    assert "\\x1b]52;c;cm0gLXJmIH4=\\x07" in shown and "\\x1b[2J" in shown  # readable: what was sent, escaped
    assert "[bold red]boom[/]" in shown  # markup is plain text to neutralise; Rich must never parse it
    assert safe_text.neutralise("line one\n\tline two") == "line one\n\tline two"
    assert safe_text.neutralise("héllo 日本語 🙂") == "héllo 日本語 🙂"


@given(st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x2FFF)))
def test_no_control_character_survives(text: str) -> None:
    shown = safe_text.for_terminal(text)
    assert _clean(shown)
    assert not any(ord(c) < 0x20 and c not in "\n\t" for c in shown), repr(shown)


def test_secrets_and_url_passwords_are_masked() -> None:
    safe_text.remember_secret(KEY)
    text = safe_text.redact(f"your key is {KEY}; cannot reach http://alice:hunter2@127.0.0.1:1/v2")
    assert KEY not in text and "hunter2" not in text
    assert "gk-S********e41b8d6"[:4] in text and "http://alice:***@127.0.0.1:1/v2" in text


def _env(emulator: GladiaEmulator, tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "GLADIA_API_URL": emulator.base_url,
        **extra,
    }


def test_a_key_a_server_echoes_is_masked_in_the_debug_traceback_too(emulator: GladiaEmulator, tmp_path: Path):
    emulator.echo_key = True
    proc = subprocess.run(
        [sys.executable, "-m", "gladia_cli", "--debug", "list"],
        env=_env(emulator, tmp_path, GLADIA_API_KEY=KEY),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 3, proc.stderr
    assert "Traceback" in proc.stderr  # --debug still shows where
    assert KEY not in proc.stderr + proc.stdout
    assert "gk-S" in proc.stderr


def test_a_server_error_message_reaches_stderr_neutralised(emulator: GladiaEmulator, tmp_path: Path, capsys):
    emulator.hostile_error_text = HOSTILE
    os.environ.pop("GLADIA_API_KEY", None)
    result = invoke(capsys, "list", "--api-key", "wrong-key-123456", "--api-url", emulator.base_url)
    assert result.code == 3
    assert _clean(result.stderr) and "[bold red]boom[/]" in result.stderr
    assert "wrong-key-123456" not in result.stderr


def test_a_password_in_the_api_url_is_never_printed(tmp_path: Path, capsys) -> None:
    import socket

    with socket.socket() as s:  # bound, never listening: refused
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = invoke(capsys, "list", "--api-key", "test-key", "--api-url", f"http://alice:hunter2@127.0.0.1:{port}")
    assert result.code == 4
    assert "hunter2" not in result.stderr + result.stdout
    assert "alice:***@" in result.stderr


def test_markup_in_job_ids_is_text_in_the_list_table(api_env: GladiaEmulator, tmp_path: Path) -> None:
    """`gladia list` at a terminal (a Rich table): `[/]` once crashed it with MarkupError, `[bold red]` rendered."""
    from gladia_cli.cli import app as cli

    rows = [("[/]x", "[bold red]live", "done" + OSC52, ":skull:", "1.0 s")]
    import io

    from rich.console import Console

    buffer = io.StringIO()
    original = cli.Console if hasattr(cli, "Console") else None
    del original
    import rich.console

    real = rich.console.Console
    try:
        rich.console.Console = lambda *a, **k: real(file=buffer, force_terminal=True, width=120)  # type: ignore[misc]
        cli._print_table(("id", "kind", "status", "created", "duration"), rows)
    finally:
        rich.console.Console = real  # type: ignore[misc]
    out = buffer.getvalue()
    assert "[/]x" in out and "[bold red]live" in out and ":skull:" in out
    assert "\x1b]52" not in out and "\\x1b]52" in out
    assert "\x1b[1;31m" not in out  # no bold red from the server's markup
    assert Console  # imported for the type of the stand-in
