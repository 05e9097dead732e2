"""Saved defaults and profiles: `config.toml` beside the saved key, applied (through `typer_seam`) only where no
flag was typed, so a typed flag still wins, and written back (by `gladia config`) with the key's care: mode 0600,
directory 0700, atomically.

The file holds defaults for every command at top level and named sets in `[profile.NAME]` tables; keys are the
commands' long option names without dashes (`lang`, `sample-rate`, `api-url`). A value applies to each command whose
option accepts it (`output = "jsonl"` sets listen's, not result's); precedence: flag > environment > profile > top
level > built-in. Values are checked by the command tree's own parameters (the types and choices click and Typer
use), so the file cannot accept what the command line refuses.
"""

from __future__ import annotations

import contextlib
import math
import os
import re
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gladia_cli.cli import typer_seam
from gladia_cli.cli.flags import PRERECORDED_ONLY, REALTIME_ONLY, REALTIME_ONLY_VALUES
from gladia_cli.cli.typer_seam import Command, Param
from gladia_cli.errors import UsageError

FILE_NAME = "config.toml"
PROFILE_ENV = "GLADIA_PROFILE"

# The commands whose options take saved defaults (the others have no option worth saving, or only positional ones).
COMMANDS = ("listen", "transcribe", "result", "list", "delete", "audio", "doctor")
# Options no file should set: the key lives in `gladia auth set`'s file; `audio --output` is a path (not a format),
# and skipping confirmations or overwriting files must be asked for each time.
EXCLUDED: dict[str, frozenset[str]] = {
    "*": frozenset({"api-key", "help", "force"}),  # overwriting is asked for each time, never saved
    "audio": frozenset({"output-file"}),
    "delete": frozenset({"yes"}),
}
# Settings that the environment also provides: the environment wins over the file (settings.py reads it).
ENVIRONMENT = {"api-url": "GLADIA_API_URL", "region": "GLADIA_REGION"}

_BARE_NAME = re.compile(r"[A-Za-z0-9_-]+")


@dataclass
class Config:
    """The file as read: top-level defaults and the profiles, each key -> TOML value."""

    path: Path
    defaults: dict[str, Any] = field(default_factory=dict)
    profiles: dict[str, dict[str, Any]] = field(default_factory=dict)

    def section(self, profile: str | None) -> dict[str, Any]:
        return self.defaults if profile is None else self.profiles.get(profile, {})


def config_file() -> Path:
    """$XDG_CONFIG_HOME/gladia/config.toml, else ~/.config/gladia/config.toml: beside the saved key."""
    from gladia_cli.settings import config_dir

    return config_dir() / FILE_NAME


# --- reading --------------------------------------------------------------------------------------------------------


def _toml_loads(text: str) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10 only
        try:
            import tomli as tomllib
        except ImportError:
            raise UsageError(
                f"reading {config_file()} needs Python 3.11+ or the tomli package", hint="pip install tomli"
            ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(
            f"{config_file()}: not valid TOML ({exc})", hint="fix the file, or remove it to start over"
        ) from None


def read(path: Path | None = None) -> Config:
    """The file, or an empty config when there is none; its shape (not its values) is checked here."""
    path = path or config_file()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Config(path)
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or type(exc).__name__
        raise UsageError(f"cannot read {path}: {reason}") from None
    data = _toml_loads(text)
    config = Config(path)
    for key, value in data.items():
        if key != "profile":
            config.defaults[key] = value
            continue
        if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
            raise UsageError(f"{path}: `profile` must hold tables, [profile.NAME]", hint="see `gladia config --help`")
        config.profiles = {name: dict(table) for name, table in value.items()}
    return config


# --- writing --------------------------------------------------------------------------------------------------------

_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def toml_string(text: str) -> str:
    """A TOML basic string: quotes, backslashes and control characters escaped."""
    out = []
    for char in text:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def toml_value(value: Any) -> str:
    """The few shapes the file holds: strings, numbers, booleans and lists of them."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def _toml_key(key: str) -> str:
    return key if _BARE_NAME.fullmatch(key) else toml_string(key)


def dumps(config: Config) -> str:
    lines = ["# gladia's saved defaults: `gladia config set KEY VALUE [--profile NAME]` rewrites this file.", ""]
    lines += [f"{_toml_key(k)} = {toml_value(v)}" for k, v in config.defaults.items()]
    for name, table in config.profiles.items():
        lines += ["", f"[profile.{_toml_key(name)}]"]
        lines += [f"{_toml_key(k)} = {toml_value(v)}" for k, v in table.items()]
    return "\n".join(lines).strip("\n") + "\n"


def write(config: Config) -> Path:
    """Mode 0600 in a 0700 directory, replaced atomically: a reader never sees half a file."""
    from gladia_cli.settings import write_private

    path = config.path
    try:
        write_private(path, dumps(config).encode("utf-8"))
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path


# --- the keys: the command tree's options ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """One command's option that a key sets."""

    command: str
    param: Param  # it converts and checks values as the command line does


def key_of(param: Param) -> str | None:
    """The first long option name without dashes; None for arguments."""
    if not param.is_option or not param.long_names:
        return None
    return param.long_names[0][2:]


def _aliases(param: Param) -> list[str]:
    return [o[2:] for o in param.long_names]


def tree(root_ctx: Any) -> Command:
    """The command tree of the command line being run."""
    return typer_seam.context_tree(root_ctx)


def targets(root: Command) -> dict[str, list[Target]]:
    """Every key the file may hold -> the (command, option) pairs it sets."""
    found: dict[str, list[Target]] = {}
    for command in COMMANDS:
        sub = root.subcommands.get(command)
        if sub is None:
            continue
        excluded = EXCLUDED["*"] | EXCLUDED.get(command, frozenset())
        for param in sub.params:
            key = key_of(param)
            if key is not None and key not in excluded and not param.eager:
                found.setdefault(key, []).append(Target(command, param))
    return found


def canonical_key(root: Command, key: str) -> str:
    """`language` -> `lang`, `--sample-rate` -> `sample-rate`; refuse a key no command takes."""
    key = key.strip().lstrip("-")
    known = targets(root)
    if key in known:
        return key
    for name, pairs in known.items():
        if any(key in _aliases(t.param) for t in pairs):
            return name
    raise UsageError(f"unknown key {key!r}", hint=_unknown_hint(key, known))


def _unknown_hint(key: str, known: Mapping[str, list[Target]]) -> str:
    if key in ("api-key", "gladia-key"):
        return "save the key with `gladia auth set` (kept apart, in its own 0600 file)"
    near = nearest_key(key, known)
    if near is not None:
        return f"did you mean `{near}`?"
    return "keys are the long options of listen, transcribe, result... without dashes (see `gladia listen --help`)"


def nearest_key(key: str, known: Mapping[str, list[Target]]) -> str | None:
    """The known key a typo most likely meant (`lnag` -> `lang`), by its name or an alias (`language`)."""
    import difflib

    names = {name: name for name in known}
    for name, pairs in known.items():
        for target in pairs:
            names.update({alias: name for alias in _aliases(target.param)})
    found = difflib.get_close_matches(key, list(names), n=1, cutoff=0.6)
    return names[found[0]] if found else None


def _problem(root_ctx: Any, key: str, target: Target, value: Any) -> str | None:
    """Why this option refuses this value (None: it takes it), by its own conversion and checks."""
    param = target.param
    if isinstance(value, dict):
        return "a table, not a value"
    if param.multiple:
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not all(isinstance(v, str) for v in items):
            return 'expects a string or a list of strings (e.g. ["en", "fr"])'
        value = items
    elif isinstance(value, list):
        return "takes one value, not a list"
    elif isinstance(value, bool) != param.is_flag:
        return "expects true or false" if param.is_flag else "expects a value, not true/false"
    try:
        typer_seam.convert(root_ctx, target.command, param, value)
        check_value(key, value)
    except typer_seam.Refused as exc:
        return str(exc)
    except UsageError as exc:
        return exc.message
    return None


def _live_seconds(key: str) -> Callable[[Any], None]:
    """One of the live run's bounded numbers, checked by the run's own check with the others at their defaults."""

    def check(value: Any) -> None:
        from gladia_cli.cli.live_request import check_common
        from gladia_cli.live import defaults

        given: dict[str, Any] = {
            "chunk_ms": defaults.CHUNK_MS,
            "duration": None,
            "finish_timeout": defaults.FINISH_TIMEOUT,
            "reconnect_attempts": defaults.RECONNECT_ATTEMPTS,
            "reconnect_timeout": defaults.RECONNECT_TIMEOUT,
            "buffer_seconds": defaults.BUFFER_SECONDS,
            "session_limit": defaults.SESSION_LIMIT,
        }
        given[key.replace("-", "_")] = value
        check_common(**given)

    return check


def _languages(allowed: str, key: str) -> Callable[[Any], None]:
    def check(value: Any) -> None:
        from gladia_cli import languages
        from gladia_cli.body import check_language, language_list

        codes = language_list(value if isinstance(value, list) else [value])
        if not codes:
            raise UsageError("expects at least one language code")
        for code in codes:
            check_language(code, key, getattr(languages, allowed.upper()))

    return check


def _format_field(name: str) -> Callable[[Any], None]:
    def check(value: Any) -> None:
        from gladia_cli.audio.format import BIT_DEPTHS, PcmFormat

        if name == "bit_depth":  # the encoding decides which depth goes with it: only the set is checked here
            if value not in BIT_DEPTHS:
                raise UsageError(f"unsupported bit depth {value}: use one of {', '.join(map(str, BIT_DEPTHS))}")
            return
        fields: dict[str, Any] = {"sample_rate": 16000, "channels": 1, "bit_depth": 16, "encoding": "wav/pcm"}
        fields[name] = value
        if name == "encoding" and value != "wav/pcm":
            fields["bit_depth"] = 8
        PcmFormat(**fields).validate()

    return check


def _at_least(minimum: int) -> Callable[[Any], None]:
    def check(value: Any) -> None:
        if value < minimum:
            raise UsageError(f"must be at least {minimum}, got {value}")

    return check


def _endpointing(value: Any) -> None:
    from gladia_cli.body import check_range

    check_range(value, "endpointing", 0.01, 10)


def _region(value: Any) -> None:
    from gladia_cli.settings import resolve_region

    resolve_region(value)


def _api_url(value: Any) -> None:
    from gladia_cli.settings import resolve_api_url

    resolve_api_url(value)


# The checks the commands make in the library, after click's conversion: a saved value must pass them too, or every
# run would fail later on a flag the person never typed. Keys without an entry are checked by their type alone.
VALUE_CHECKS: dict[str, Callable[[Any], None]] = {
    "lang": _languages("transcription", "lang"),
    "translate": _languages("translation", "translate"),
    "sample-rate": _format_field("sample_rate"),
    "channels": _format_field("channels"),
    "bit-depth": _format_field("bit_depth"),
    "encoding": _format_field("encoding"),
    "chunk-ms": _live_seconds("chunk-ms"),
    "duration": _live_seconds("duration"),
    "finish-timeout": _live_seconds("finish-timeout"),
    "reconnect-attempts": _live_seconds("reconnect-attempts"),
    "reconnect-timeout": _live_seconds("reconnect-timeout"),
    "buffer-seconds": _live_seconds("buffer-seconds"),
    "session-limit": _live_seconds("session-limit"),
    "endpointing": _endpointing,
    "journal-max-mb": _at_least(1),
    "speakers": _at_least(1),
    "min-speakers": _at_least(0),
    "max-speakers": _at_least(0),
    "jobs": _at_least(1),
    "limit": _at_least(1),
    "region": _region,
    "api-url": _api_url,
}


def check_value(key: str, value: Any) -> None:
    """The library's own check of a saved value (raises UsageError), where the command has one."""
    check = VALUE_CHECKS.get(key)
    if check is not None:
        check(value)


def accepting(root_ctx: Any, key: str, value: Any) -> tuple[list[str], str | None]:
    """The commands that take `value` for `key`, and the first refusal (when none does)."""
    commands: list[str] = []
    refusal = None
    for target in targets(tree(root_ctx)).get(key, []):
        problem = _problem(root_ctx, key, target, value)
        if problem is None:
            commands.append(target.command)
        elif refusal is None:
            refusal = problem
    return commands, refusal


# --- which profile --------------------------------------------------------------------------------------------------


def active_profile(flag: str | None) -> tuple[str | None, str]:
    """--profile, else $GLADIA_PROFILE (empty means none); with where it came from."""
    if flag is not None:
        return (flag or None), "--profile"
    env = os.environ.get(PROFILE_ENV, "").strip()
    return (env or None), f"${PROFILE_ENV}"


def check_profile_name(name: str) -> str:
    if not _BARE_NAME.fullmatch(name):
        raise UsageError(f"invalid profile name {name!r}", hint="use letters, digits, '-' and '_'")
    return name


def require_profile(config: Config, name: str, source: str) -> None:
    if name in config.profiles:
        return
    have = ", ".join(sorted(config.profiles)) or "none yet"
    raise UsageError(
        f"no profile {name!r} in {config.path} (asked by {source}; profiles: {have})",
        hint=f"create it with `gladia config set KEY VALUE --profile {name}`",
    )


def _where(profile: str | None) -> str:
    return f"[profile.{profile}]" if profile else "top level"


def _fix(key: str, profile: str | None) -> str:
    suffix = f" --profile {profile}" if profile else ""
    return f"fix it with `gladia config set {key} VALUE{suffix}` or remove it with `gladia config unset {key}{suffix}`"


def check_section(root_ctx: Any, config: Config, profile: str | None) -> dict[str, list[str]]:
    """Every key of a section known and its value taken by some command: key -> the commands that take it."""
    out: dict[str, list[str]] = {}
    known = targets(tree(root_ctx))
    for key, value in config.section(profile).items():
        if key not in known:
            near = nearest_key(key, known)
            suffix = f" --profile {profile}" if profile else ""
            fix = (
                f"did you mean `{near}`? rename it in the file, or remove it with `gladia config unset {key}{suffix}`"
                if near is not None
                else f"{_unknown_hint(key, known)}; remove it with `gladia config unset {key}{suffix}`"
            )
            raise UsageError(f"{config.path}: unknown key {key!r} ({_where(profile)})", hint=fix)
        commands, refusal = accepting(root_ctx, key, value)
        if not commands:
            raise UsageError(
                f"{config.path}: bad value for {key!r} ({_where(profile)}): {toml_value(value)}: {refusal}",
                hint=_fix(key, profile),
            )
        out[key] = commands
    return out


# --- applying: the saved defaults -----------------------------------------------------------------------------------


def saved_defaults(root_ctx: Any, profile_flag: str | None) -> dict[str, dict[str, Any]]:
    """{command: {parameter name: value}} for the root context: top level, then the profile over it; a key the
    environment provides is left to the environment."""
    config = read()
    profile, source = active_profile(profile_flag)
    if profile is not None:
        require_profile(config, profile, source)
    merged: dict[str, Any] = {}
    for section in (None, profile) if profile else (None,):
        check_section(root_ctx, config, section)
        merged.update(config.section(section))
    result: dict[str, dict[str, Any]] = {}
    known = targets(tree(root_ctx))
    for key, value in merged.items():
        if os.environ.get(ENVIRONMENT.get(key, ""), "").strip():
            continue
        for target in known[key]:
            if _problem(root_ctx, key, target, value) is not None:
                continue  # the value fits other commands' option (output = "jsonl": not result's)
            stored: Any = [value] if target.param.multiple and isinstance(value, str) else value
            if target.command == "transcribe":
                stored = _transcribe_default(key, stored, target.param.default)
            result.setdefault(target.command, {})[target.param.name] = stored
    return result


def _transcribe_default(key: str, value: Any, builtin: Any) -> Any:
    """A default of one mode of `transcribe` applies only in that mode (one typed flag of the other is refused)."""
    if key in REALTIME_ONLY or REALTIME_ONLY_VALUES.get(key) == value:
        return _only_when(realtime=True, value=value, otherwise=builtin)
    if key in PRERECORDED_ONLY:
        return _only_when(realtime=False, value=value, otherwise=builtin)
    return value


def _only_when(*, realtime: bool, value: Any, otherwise: Any) -> Callable[[], Any]:
    """A default_map entry click calls when the option is not typed; --realtime is declared (so processed) before
    every option of either mode, so its value is known by then. Click takes the entry's answer even when it is None,
    hence `otherwise`: the option's built-in default."""

    def default() -> Any:
        given = typer_seam.current_params().get("realtime")
        return value if given is not None and bool(given) == realtime else otherwise

    return default


# --- `gladia config` ------------------------------------------------------------------------------------------------


def convert(root_ctx: Any, key: str, values: list[str]) -> tuple[Any, list[str]]:
    """The TOML value for `config set KEY VALUE...`, checked by the options it sets; and the commands taking it."""
    pairs = targets(tree(root_ctx))[key]
    param = pairs[0].param
    if param.multiple:
        value: Any = list(values)
    elif len(values) != 1:
        raise UsageError(f"{key} takes one value, got {len(values)}", hint="quote a value that holds spaces")
    else:
        value = _typed(param, values[0])
    commands, refusal = accepting(root_ctx, key, value)
    if not commands:
        raise UsageError(f"invalid value for {key}: {refusal}", hint=f"see `gladia {pairs[0].command} --help`")
    return value, commands


def _typed(param: Param, text: str) -> Any:
    """The command line's string as the TOML type the option holds (true, 16000, 0.3 or a string)."""
    if param.is_flag:
        lowered = text.strip().lower()
        if lowered in ("true", "yes", "on", "1"):
            return True
        if lowered in ("false", "no", "off", "0"):
            return False
        return text  # refused by the option's own check, with its message
    with contextlib.suppress(ValueError):
        if param.value_type is int:
            return int(text)
        if param.value_type is float:
            return float(text)
    return text


def set_value(root_ctx: Any, key: str, values: list[str], profile: str | None) -> tuple[Path, str, Any, list[str]]:
    key = canonical_key(tree(root_ctx), key)
    value, commands = convert(root_ctx, key, values)
    config = read()
    if profile is not None:
        config.profiles.setdefault(check_profile_name(profile), {})[key] = value
    else:
        config.defaults[key] = value
    return write(config), key, value, commands


def unset_value(root_ctx: Any, key: str, profile: str | None) -> tuple[Path, bool]:
    """Remove a key (an unknown one too: that is how a bad file is mended); a profile left empty goes."""
    config = read()
    if profile is not None:
        require_profile(config, profile, "--profile")
    section = config.section(profile)
    name = key.strip().lstrip("-")
    if name not in section:
        with contextlib.suppress(UsageError):
            name = canonical_key(tree(root_ctx), name)
    if name not in section:
        return config.path, False
    del section[name]
    if profile is not None and not section:
        del config.profiles[profile]
    return write(config), True


@dataclass(frozen=True)
class Entry:
    key: str
    value: Any
    source: str  # "defaults" or "profile NAME"
    note: str = ""  # overridden by the environment, not valid, ...


def entries(root_ctx: Any, profile: str | None, source: str = "--profile") -> tuple[Config, list[Entry]]:
    """The values in effect for `profile` (top level, then the profile over it), each with where it comes from;
    a bad entry is listed with its problem rather than refused, so `config list` helps mend the file. A profile
    that does not exist is refused (`source` says who asked for it)."""
    config = read()
    if profile is not None:
        require_profile(config, profile, source)
    known = targets(tree(root_ctx))
    found: dict[str, Entry] = {}
    for section in (None, profile) if profile else (None,):
        label = f"profile {section}" if section else "defaults"
        for key, value in config.section(section).items():
            note = ""
            if key not in known:
                note = "unknown key"
            else:
                commands, refusal = accepting(root_ctx, key, value)
                if not commands:
                    note = f"invalid: {refusal}"
                elif len(commands) < len(known[key]):
                    note = "for " + ", ".join(commands)
                env = ENVIRONMENT.get(key)
                if env and os.environ.get(env, "").strip():
                    note = f"${env} wins"
            if key in ("api-key", "gladia-key") and isinstance(value, str):
                from gladia_cli.settings import mask

                value = mask(value)  # a key pasted into the file is still never shown
            overrides = f", over defaults {toml_value(found[key].value)}" if key in found else ""
            found[key] = Entry(key, value, label + overrides, note)
    return config, list(found.values())


def effective(root_ctx: Any, key: str, profile: str | None, source: str = "--profile") -> Entry | None:
    _, found = entries(root_ctx, profile, source)  # a missing profile first, then an unknown key
    key = canonical_key(tree(root_ctx), key)
    return next((e for e in found if e.key == key), None)


def plain(value: Any) -> str:
    """A value as `config get` prints it for scripts: strings bare, lists comma-joined."""
    if isinstance(value, list):
        return ",".join(plain(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def list_lines(config: Config, found: list[Entry], profile: str | None) -> Iterator[str]:
    """`config list`: valid TOML, each value's source in a comment."""
    width = max((len(f"{e.key} = {toml_value(e.value)}") for e in found), default=0)
    for entry in found:
        line = f"{entry.key} = {toml_value(entry.value)}"
        comment = entry.source + (f"; {entry.note}" if entry.note else "")
        yield f"{line.ljust(width)}  # {comment}"
    others = sorted(set(config.profiles) - {profile})
    if others:
        label = "other profiles" if profile else "profiles"
        yield f"# {label}: {', '.join(others)} (see one with `gladia config list --profile NAME`)"
