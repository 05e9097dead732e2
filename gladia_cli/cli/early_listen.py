"""`gladia listen`'s microphone guessed from the command line as typed and the saved defaults, so that recording
starts (audio/early.py) while Typer is still being imported and reading them.

The guess covers the common cases exactly: the default input or one `--device`, in the default format. Anything
that changes the format or adds an input (a format flag, `--config`, `--system-audio`, a second `--device`, the same
saved) makes no guess; the run then opens its input as it always did. Options that are not the input's
(`--chunk-ms`, `--buffer-seconds`) are not parsed here: the run compares and, when they differ, reopens.
"""

from __future__ import annotations

from gladia_cli.audio import early
from gladia_cli.audio.format import PcmFormat
from gladia_cli.cli.flags import FIELD_FLAGS
from gladia_cli.live import defaults

COMMAND = "listen"
_DEVICE = (FIELD_FLAGS["device"], "-d")
# What changes the captured format or the inputs, as typed (flags) and as saved (keys: the flags without dashes).
_REFUSED = (
    *(FIELD_FLAGS[name] for name in ("sample_rate", "channels", "bit_depth", "encoding")),
    "--config",
    "--system-audio",
    "--start-paused",  # nothing may be recorded before it is resumed
)
_ROOT_VALUE_OPTIONS = ("--profile",)  # root options that take a value, before the command


def start(args: list[str]) -> None:
    """Begin recording early when `args` (the root's options first) run `gladia listen` on a guessable input."""
    words = _listen_args(args)
    if words is None or any(arg in ("-h", "--help") for arg in words):
        return
    profile = _profile(args)
    early.begin(lambda: _guess(words, profile))


def _listen_args(args: list[str]) -> list[str] | None:
    """The arguments after the command when it is `listen`; None for any other command."""
    i = 0
    while i < len(args):
        arg = args[i]
        if arg in _ROOT_VALUE_OPTIONS:
            i += 2
            continue
        if arg.startswith("-"):
            if arg in ("-V", "--version", "-h", "--help", "--"):
                return None
            i += 1
            continue
        return args[i + 1 :] if arg == COMMAND else None
    return None


def _profile(args: list[str]) -> str | None:
    for k, arg in enumerate(args):
        if arg == "--profile" and k + 1 < len(args):
            return args[k + 1]
        if arg.startswith("--profile="):
            return arg.split("=", 1)[1]
    return None


def _guess(words: list[str], profile_flag: str | None) -> early.Guess | None:
    """Runs in the early thread: reading config.toml there costs the command line nothing."""
    specs: list[str] = []
    i = 0
    while i < len(words):
        arg = words[i]
        if arg == "--":
            break
        name, _, inline = arg.partition("=")
        if name in _REFUSED:
            return None
        if name in _DEVICE:
            if inline:
                specs.append(inline)
            elif i + 1 < len(words):
                specs.append(words[i + 1])
                i += 1
        i += 1
    saved = _saved(profile_flag)
    if saved is None:
        return None
    if not specs:
        value = saved.get(_DEVICE[0].removeprefix("--"))
        if isinstance(value, list) and all(isinstance(spec, str) for spec in value):
            specs = [str(spec) for spec in value]
        elif isinstance(value, str):
            specs = [value]
        elif value is not None:
            return None
    if len(specs) > 1:
        return None
    return early.Guess(
        spec=specs[0] if specs else None,
        format=PcmFormat(),
        chunk_ms=defaults.CHUNK_MS,
        buffer_seconds=defaults.BUFFER_SECONDS,
    )


def _saved(profile_flag: str | None) -> dict[str, object] | None:
    """The saved defaults `listen` would read (top level, then the profile); None when they change the input."""
    from gladia_cli.cli import defaults as saved_defaults

    config = saved_defaults.read()
    profile, _ = saved_defaults.active_profile(profile_flag)
    merged = dict(config.section(None))
    if profile is not None:
        merged.update(config.section(profile))
    if any(merged.get(flag.removeprefix("--")) not in (None, False) for flag in _REFUSED):
        return None
    return merged
