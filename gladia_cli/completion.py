"""Shell completion: the scripts `gladia completion SHELL` prints, and the values offered for --lang and --device.

The scripts call back `gladia` with $_GLADIA_COMPLETE set; Typer answers from the same command tree, so they cannot
drift from the options. (Typer keeps these helpers in private modules; they have been stable for years.)
"""

from __future__ import annotations

COMPLETE_VAR = "_GLADIA_COMPLETE"
SHELLS = ("bash", "zsh", "fish")


def enable() -> None:
    """Register Typer's completion classes so a completion request is answered (only when one is made)."""
    from typer._completion_classes import completion_init

    completion_init()


def script(shell: str) -> str:
    from typer._completion_shared import get_completion_script

    return get_completion_script(prog_name="gladia", complete_var=COMPLETE_VAR, shell=shell)


def complete_languages(incomplete: str) -> list[tuple[str, str]]:
    """Codes with their names; after a comma (`en,f`) completes the last code of the list."""
    from gladia_cli import languages

    head, _, last = incomplete.rpartition(",")
    prefix = head + "," if head else ""
    return [(prefix + c, languages.name(c)) for c in languages.TRANSLATION if c.startswith(last)]


def complete_device(incomplete: str) -> list[tuple[str, str]]:
    try:
        from gladia_cli.audio.capture import list_input_devices

        devices = list_input_devices()
    except Exception:  # completion must never print an error into the user's prompt
        return []
    return [
        (d.name, f"{d.max_input_channels} ch, {d.hostapi}")
        for d in devices
        if d.name.lower().startswith(incomplete.lower())
    ]
