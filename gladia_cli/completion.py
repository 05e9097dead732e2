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


def complete_languages(incomplete: str, *, translation: bool = False) -> list[tuple[str, str]]:
    """Codes with their names, from the list the option accepts (transcription or translation targets); after a
    comma (`en,f`) completes the last code of the list."""
    from gladia_cli import languages

    codes = languages.TRANSLATION if translation else languages.TRANSCRIPTION
    head, _, last = incomplete.rpartition(",")
    prefix = head + "," if head else ""
    return [(prefix + c, languages.name(c)) for c in codes if c.startswith(last)]


# Values of the options that take a word from a short list (kept here, not imported from the modules that validate
# them, so answering a Tab press stays as cheap as `--help`; tests check both lists agree).
CHOICES: dict[str, tuple[tuple[str, str], ...]] = {
    "--encoding": (
        ("wav/pcm", "16/24/32-bit PCM"),
        ("wav/alaw", "8-bit G.711 A-law"),
        ("wav/ulaw", "8-bit G.711 mu-law"),
    ),
    "--model": (("solaria-1", "live and files"), ("solaria-3", "files: en, fr, de, es, it")),
    "--summary-type": (("general", ""), ("bullet_points", ""), ("concise", "")),
}


def complete_choice(option: str, incomplete: str) -> list[tuple[str, str]]:
    return [(value, help_text) for value, help_text in CHOICES[option] if value.startswith(incomplete)]


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
