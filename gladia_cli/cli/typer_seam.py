"""The one seam between gladia and the machinery under Typer: click, or the copy of it Typer vendors since 0.26.

Typer says that copy will be trimmed ("some Click functionality will not be available anymore in the future"),
and it has already moved once (from the `click` package to `typer._click`). Everything gladia needs below Typer's
public API (the exception classes, the saved defaults as a `default_map`, the command tree that help, `gladia
config` and completion read, each parameter's type, choices and conversion) is reached here, and only here, so
that a new Typer breaks one module whose contract tests (`tests/test_typer_seam.py`) say what moved.

The rest of the package sees plain values: `Command` and `Param` are our own frozen records.
"""

from __future__ import annotations

import contextlib
import importlib
import re
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from types import ModuleType
from typing import Any

UPGRADE_HINT = "this Typer release changed what gladia_cli/cli/typer_seam.py relies on"


class SeamBroken(RuntimeError):
    """Typer no longer offers something the seam relies on: the message says what, for the maintainer."""


class Refused(Exception):
    """A value the option's own conversion refuses, with click's message on one line."""


def click_package() -> str:
    """The click Typer runs on: the package of Typer's own exception classes (`click` before Typer 0.26,
    `typer._click` after)."""
    import typer

    module_name = typer.BadParameter.__module__
    return module_name.rsplit(".", 1)[0] if module_name.endswith(".exceptions") else module_name


def _click_attr(submodule: str, name: str) -> Any:
    """`name` from click's `submodule` (`exceptions`, `globals`): both the package and Typer's copy have them."""
    module_name = f"{click_package()}.{submodule}"
    try:
        module: ModuleType = importlib.import_module(module_name)
    except ImportError as exc:
        raise SeamBroken(f"cannot import {module_name}: {UPGRADE_HINT}") from exc
    value = getattr(module, name, None)
    if value is None:
        raise SeamBroken(f"{module_name}.{name} is gone: {UPGRADE_HINT}")
    return value


# --- exceptions -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Errors:
    """The exception classes `main` turns into one line and an exit code."""

    no_args_is_help: type[BaseException]  # `gladia` / `gladia auth` alone: help, exit 2
    usage: type[BaseException]  # a bad flag or value
    click: type[BaseException]  # any other click-level refusal
    abort: tuple[type[BaseException], ...]  # Typer's and click's Abort (a Ctrl-C at a prompt)


def errors() -> Errors:
    import typer

    # Typer's own Abort; click's too where the click in use still has one (Typer's vendored copy dropped it).
    try:
        aborts: tuple[type[BaseException], ...] = tuple({typer.Abort, _click_attr("exceptions", "Abort")})
    except SeamBroken:
        aborts = (typer.Abort,)
    return Errors(
        no_args_is_help=_click_attr("exceptions", "NoArgsIsHelpError"),
        usage=_click_attr("exceptions", "UsageError"),
        click=_click_attr("exceptions", "ClickException"),
        abort=aborts,
    )


def error_message(exc: BaseException) -> str:
    """A click exception's text on one line (format_message when it has one), its reason in our words."""
    format_message = getattr(exc, "format_message", None)
    text = str(format_message() if callable(format_message) else getattr(exc, "message", None) or exc)
    raw = getattr(exc, "message", None)
    if isinstance(raw, str) and raw and raw in text:
        text = text.replace(raw, reason(exc))
    return " ".join(text.split())


def reason(exc: BaseException) -> str:
    """Why a value was refused, as a person reads it. Typer 0.2x converts values with pydantic, whose wording
    ("Value error, ...", "Input should be a valid number, unable to parse string as a number") names its own
    internals; older Typer has click's ("'abc' is not a valid float."). Both end up as one plain clause."""
    message = str(getattr(exc, "message", None) or exc)
    errors = getattr(exc.__cause__, "errors", None)
    first: dict[str, Any] | None = None
    if callable(errors):
        with contextlib.suppress(Exception):
            found = errors()
            first = found[0] if found and isinstance(found[0], dict) else None
    if first is not None:
        value, kind, message = first.get("input"), str(first.get("type", "")), str(first.get("msg", message))
        if kind == "value_error":
            message = message.removeprefix("Value error, ")
        elif kind.startswith("float"):
            message = f"{value!r} is not a number"
        elif kind.startswith("int"):
            message = f"{value!r} is not a whole number"
        elif kind.startswith("bool"):
            message = f"{value!r} is not true or false"
        elif message.startswith("Input should be"):
            message = f"{value!r} should be{message.removeprefix('Input should be')}"
    return _plain(message)


_CLICK_WORDING = (
    (re.compile(r"^('.*') is not a valid float\.?$"), r"\1 is not a number"),
    (re.compile(r"^('.*') is not a valid integer\.?$"), r"\1 is not a whole number"),
    (re.compile(r"^('.*') is not a valid boolean\.?$"), r"\1 is not true or false"),
)


def _plain(message: str) -> str:
    message = " ".join(message.split()).rstrip(".")
    for pattern, replacement in _CLICK_WORDING:
        message = pattern.sub(replacement, message)
    choices = re.match(r"^(.*? is not one of) (.*)$", message)
    if choices:  # "'xml' is not one of 'text', 'json'" -> "... one of text, json": the values as typed
        values = [v.strip().strip("'\"") for v in choices[2].split(",")]
        message = f"{choices[1]} {', '.join(values)}"
    return message


def command_path(exc: BaseException, default: str = "gladia") -> str:
    ctx = getattr(exc, "ctx", None)
    return str(getattr(ctx, "command_path", None) or default)


def help_of(exc: BaseException) -> str:
    """The help a NoArgsIsHelpError still has to show. It is the error's message, made when it was raised: click
    returns the help text there; Typer's rich help prints itself at that moment and leaves the message empty.
    Asking the context for the help again would print it a second time."""
    format_message = getattr(exc, "format_message", None)
    return str(format_message()) if callable(format_message) else ""


# --- contexts -------------------------------------------------------------------------------------------------------


def root_context(ctx: Any) -> Any:
    return ctx.find_root()


def set_default_map(ctx: Any, mapping: Mapping[str, Mapping[str, Any]]) -> None:
    """Saved defaults, applied by click only where no flag was typed (and no environment variable set)."""
    ctx.default_map = {command: dict(values) for command, values in mapping.items()}


def current_params() -> dict[str, Any]:
    """The parameters the command being parsed has processed so far ({} outside a parse)."""
    ctx = _click_attr("globals", "get_current_context")(silent=True)
    return dict(ctx.params) if ctx is not None else {}


def enable_completion() -> None:
    """Register Typer's completion classes, so a request made through `$_GLADIA_COMPLETE` is answered."""
    try:
        module = importlib.import_module("typer._completion_classes")
        module.completion_init()
    except (ImportError, AttributeError) as exc:
        raise SeamBroken(f"typer._completion_classes.completion_init is gone: {UPGRADE_HINT}") from exc


# --- the command tree -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Param:
    """One option or argument, as gladia reads it: names, kind, type, choices, and a way to convert a value."""

    name: str  # the Python parameter (the key in a default_map)
    opts: tuple[str, ...]
    secondary_opts: tuple[str, ...]  # --no-x beside --x
    is_option: bool
    is_flag: bool
    is_counter: bool
    multiple: bool
    hidden: bool
    eager: bool
    help: str
    metavar: str
    default: Any
    value_type: type | None  # int, float, str, bool, Path, an Enum subclass, or None when unknown
    choices: tuple[str, ...]
    raw: Any = field(compare=False, repr=False)

    @property
    def long_names(self) -> tuple[str, ...]:
        return tuple(o for o in self.opts if o.startswith("--"))


@dataclass(frozen=True)
class Command:
    name: str
    path: str  # "" for gladia itself, "listen", "auth set"
    help: str
    hidden: bool
    params: tuple[Param, ...]
    subcommands: Mapping[str, Command]
    help_names: tuple[str, ...] = ("--help",)

    def walk(self) -> typing.Iterator[Command]:
        yield self
        for sub in self.subcommands.values():
            yield from sub.walk()


def _annotation(raw: Any) -> Any:
    """The parameter's Python type: Typer >= 0.25 keeps it on `type_descriptor`; before, only click's type says."""
    annotation = getattr(getattr(raw, "type_descriptor", None), "annotation", None)
    if annotation is None:
        return _from_click_type(getattr(raw, "type", None))
    while typing.get_origin(annotation) is not None:  # list[X], X | None, Optional[X]
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if not args:
            return None
        annotation = args[0]
    return annotation if isinstance(annotation, type) else None


_CLICK_TYPES: dict[str, type] = {
    "IntParamType": int,
    "FloatParamType": float,
    "BoolParamType": bool,
    "StringParamType": str,
    "Path": Path,
}


def _from_click_type(click_type: Any) -> type | None:
    """Typer < 0.25: the Python type from click's parameter type, by its class or a base (IntRange is an
    IntParamType, TyperPath a Path)."""
    for cls in type(click_type).__mro__:
        if cls.__name__ in _CLICK_TYPES:
            return _CLICK_TYPES[cls.__name__]
    return None


def _choices(raw: Any, value_type: type | None) -> tuple[str, ...]:
    if isinstance(value_type, type) and issubclass(value_type, Enum):
        return tuple(str(member.value) for member in value_type)
    choices = getattr(getattr(raw, "type", None), "choices", None) or getattr(raw, "choices", None)
    return tuple(str(getattr(c, "value", c)) for c in choices or ())


def _param(raw: Any) -> Param:
    value_type = _annotation(raw)
    is_option = getattr(raw, "param_type_name", None) == "option"
    return Param(
        name=str(raw.name),
        opts=tuple(raw.opts),
        secondary_opts=tuple(getattr(raw, "secondary_opts", ()) or ()),
        is_option=is_option,
        is_flag=bool(getattr(raw, "is_flag", False)),
        is_counter=bool(getattr(raw, "count", False)),
        multiple=bool(getattr(raw, "multiple", False)) or getattr(raw, "nargs", 1) == -1,
        hidden=bool(getattr(raw, "hidden", False)),
        eager=bool(getattr(raw, "is_eager", False)),
        help=str(getattr(raw, "help", "") or ""),
        metavar=str(getattr(raw, "metavar", "") or ""),
        default=getattr(raw, "default", None),
        value_type=value_type,
        choices=_choices(raw, value_type),
        raw=raw,
    )


def _command(raw: Any, name: str, path: str, help_names: tuple[str, ...]) -> Command:
    subs = getattr(raw, "commands", None) or {}
    return Command(
        name=name,
        path=path,
        help=str(raw.help or getattr(raw, "short_help", "") or ""),
        hidden=bool(getattr(raw, "hidden", False)),
        params=tuple(_param(p) for p in raw.params),
        subcommands={n: _command(sub, n, f"{path} {n}".strip(), help_names) for n, sub in subs.items()},
        help_names=help_names,
    )


_TREES: dict[int, tuple[Any, Command]] = {}


def _tree_of(raw_root: Any) -> Command:
    cached = _TREES.get(id(raw_root))
    if cached is not None and cached[0] is raw_root:
        return cached[1]
    settings = getattr(raw_root, "context_settings", None) or {}
    help_names = tuple(settings.get("help_option_names", ["--help"]))
    tree = _command(raw_root, "gladia", "", help_names)
    _TREES[id(raw_root)] = (raw_root, tree)
    return tree


def click_command(app: Any) -> Any:
    """The click command Typer builds from the app, its help showing what is typed: Typer 0.2x labels every flag
    `<bool>` (--help too) and every argument `<str>`, types no one types."""
    import typer.main

    root = typer.main.get_command(app)
    _plain_help_option(root, None)
    return root


def _plain_help_option(command: Any, parent: Any) -> None:
    settings = {**(getattr(command, "context_settings", None) or {}), "resilient_parsing": True}
    context = _click_attr("core", "Context")(command, parent=parent, info_name=command.name, **settings)
    option = command.get_help_option(context)
    if option is not None:
        option.metavar = ""
    for param in command.params:
        kind = getattr(param, "param_type_name", "")
        if kind == "option" and getattr(param, "is_flag", False) and param.metavar is None:
            param.metavar = ""  # a flag takes no value: nothing to show after it
        elif kind == "argument" and hasattr(param, "display_type_rich"):
            param.display_type_rich = lambda ctx: None  # named by what it is (ID, FILE, KEY): no `<str>` beside it
    for sub in (getattr(command, "commands", None) or {}).values():
        _plain_help_option(sub, context)


def command_tree(app: Any) -> Command:
    """The tree Typer builds from the app (the one that parses argv), as our records."""
    import typer.main

    return _tree_of(typer.main.get_command(app))


def context_tree(ctx: Any) -> Command:
    """The tree of the command line being run, from any of its contexts."""
    return _tree_of(root_context(ctx).command)


def convert(ctx: Any, command: str, param: Param, value: Any) -> Any:
    """`value` converted and checked by the option as if typed on `gladia COMMAND`; Refused with its message."""
    root = root_context(ctx)
    sub = root.command.commands[command]
    sub_ctx = type(root)(sub, parent=root, info_name=command, resilient_parsing=True)
    try:
        return param.raw.process_value(sub_ctx, value)
    except _click_attr("exceptions", "ClickException") as exc:
        raise Refused(reason(exc)) from None
