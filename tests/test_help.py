"""Help that reads in an 80-column terminal: whole option names, panels, plain metavars, examples at the end."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_runner import run

from gladia_cli.cli.app import app
from gladia_cli.cli.typer_seam import command_tree

LONG_PANELS = ["Audio input", "Language and model", "Add-ons", "Output", "Connection and reliability", "Key and server"]
PANELS = {
    "listen": LONG_PANELS,
    "transcribe": LONG_PANELS,
    "result": ["Output", "Key and server"],
}


def long_names(command: str) -> list[str]:
    return [
        name
        for param in command_tree(app).subcommands[command].params
        if not param.hidden
        for name in (*param.opts, *param.secondary_opts)
        if name.startswith("--")
    ]


@pytest.mark.parametrize("command", ["listen", "transcribe", "result"])
def test_help_reads_at_80_columns(command: str, tmp_path: Path) -> None:
    env = {"COLUMNS": "80", "LINES": "50", "XDG_CONFIG_HOME": str(tmp_path), "HOME": str(tmp_path), "TERM": "xterm"}
    result = run(command, "--help", env=env)
    assert result.code == 0, result.stderr
    text = result.stdout
    lines = text.splitlines()
    too_wide = [line for line in lines if len(line) > 80]
    assert not too_wide, "\n".join(too_wide)
    assert "…" not in text  # nothing cut short
    words = set(text.replace(",", " ").split())
    missing = [name for name in long_names(command) if name not in words]
    assert not missing, f"option names not shown whole: {missing}\n{text}"
    for panel in PANELS[command]:
        assert f"─ {panel} ─" in text, panel
    for label in ("<list[str]>", "<float>", "<int>", "<path>", "<str>", "<bool>"):
        assert label not in text
    examples = text.index("Examples:")
    assert examples > text.rindex("╰"), "the examples come after the options"
    assert f"gladia {command} " in text[examples:] or (command == "result" and "gladia result " in text[examples:])


def test_root_help_lists_config_and_profile(tmp_path: Path) -> None:
    env = {"COLUMNS": "80", "XDG_CONFIG_HOME": str(tmp_path), "HOME": str(tmp_path)}
    text = run("--help", env=env).stdout
    assert "--profile" in text and "config" in text
    assert max(len(line) for line in text.splitlines()) <= 80


def test_fish_descriptions_keep_their_examples() -> None:
    """The menu shows a help's first sentence; an abbreviation's period ("e.g.") does not end it."""
    fish = run("completion", "fish").stdout
    assert "(e.g. en,fr)" in fish
    assert "(e.g'" not in fish and '(e.g"' not in fish


def _every_command(tree=None, path=()):  # type: ignore[no-untyped-def]
    tree = tree or command_tree(app)
    yield path
    for name, sub in tree.subcommands.items():
        if not sub.hidden:
            yield from _every_command(sub, (*path, name))


@pytest.mark.parametrize("path", list(_every_command()), ids=lambda p: " ".join(p) or "gladia")
def test_every_help_shows_flags_as_flags_and_types_as_names(path: tuple[str, ...], tmp_path: Path) -> None:
    """No `--help -h <bool>`, no `<str>` beside an argument named ID or FILE: what is typed, as it is typed."""
    env = {"COLUMNS": "80", "XDG_CONFIG_HOME": str(tmp_path), "HOME": str(tmp_path), "TERM": "xterm"}
    text = run(*path, "--help", env=env).stdout
    assert "--help" in text and "-h" in text
    for label in ("<bool>", "<str>", "<text|json", "<path>", "<int>", "<float>"):
        assert label not in text, (path, label)


def test_each_mode_describes_its_own_defaults(tmp_path: Path) -> None:
    env = {"COLUMNS": "200", "XDG_CONFIG_HOME": str(tmp_path), "HOME": str(tmp_path), "TERM": "xterm"}
    root = run("--help", env=env).stdout
    listen_row = next(line for line in root.splitlines() if "│ listen" in line)
    assert listen_row.rstrip(" │").endswith("twice aborts.")  # the summary on one row, not cut mid-sentence
    transcribe = run("transcribe", "--help", env=env).stdout
    assert "microphone" not in transcribe
    assert "POST /v2/pre-recorded" in transcribe
    listen = run("listen", "--help", env=env).stdout
    assert "the file's own" not in listen
