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
    options = text[text.index("─ Options ─") :]  # Typer labels arguments' types whatever their metavar
    for label in ("<list[str]>", "<float>", "<int>", "<path>", "<str>"):
        assert label not in options
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
