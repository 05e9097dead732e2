"""The contract gladia holds with Typer, through `gladia_cli.cli.typer_seam` alone.

Each test names one thing the seam relies on; when a new Typer (or the click it vendors) moves it, the failure says
what moved, so the fix is one module. A last test keeps every other module off click and Typer's private parts.
"""

from __future__ import annotations

import ast
import enum
from pathlib import Path
from typing import Annotated

import pytest
import typer
from cli_runner import run

from gladia_cli.cli import typer_seam

PACKAGE = Path(typer_seam.__file__).parent
MOVED = "Typer changed what gladia_cli/cli/typer_seam.py relies on: "


class Colour(str, enum.Enum):
    red = "red"
    blue = "blue"


def _app(contexts: list[typer.Context] | None = None) -> typer.Typer:
    app = typer.Typer(no_args_is_help=True, context_settings={"help_option_names": ["-h", "--help"]})

    @app.callback()
    def root(ctx: typer.Context) -> None:
        typer_seam.set_default_map(ctx, {"paint": {"times": 7}})
        if contexts is not None:
            contexts.append(ctx)

    @app.command()
    def paint(
        files: Annotated[list[Path], typer.Argument(metavar="FILE...")],
        colour: Annotated[Colour, typer.Option("--colour", "-c", help="Which colour. More text.")] = Colour.red,
        times: Annotated[int, typer.Option("--times", min=1)] = 1,
        ratio: Annotated[float, typer.Option("--ratio")] = 0.5,
        tag: Annotated[list[str] | None, typer.Option("--tag")] = None,
        dry: Annotated[bool, typer.Option("--dry/--no-dry")] = False,
        secret: Annotated[str, typer.Option("--secret", hidden=True)] = "",
        out: Annotated[Path | None, typer.Option("--out")] = None,
    ) -> None:
        seen = typer_seam.current_params()
        typer.echo(f"{colour.value} {times} {sorted(seen)}")

    group = typer.Typer(help="A group.")
    app.add_typer(group, name="auth")

    @group.command("set")
    def auth_set() -> None:
        """Save it."""

    return app


@pytest.fixture(scope="module")
def tree() -> typer_seam.Command:
    return typer_seam.command_tree(_app())


def _param(tree: typer_seam.Command, name: str) -> typer_seam.Param:
    return next(p for p in tree.subcommands["paint"].params if p.name == name)


def test_the_click_under_typer_is_found() -> None:
    errors = typer_seam.errors()
    for kind in (errors.no_args_is_help, errors.usage, errors.click):
        assert issubclass(kind, BaseException), MOVED + f"{kind!r} is not an exception class"
    assert issubclass(errors.no_args_is_help, errors.usage), MOVED + "NoArgsIsHelpError is no longer a UsageError"
    assert issubclass(errors.usage, errors.click), MOVED + "UsageError is no longer a ClickException"
    assert typer.Abort in errors.abort
    assert issubclass(typer.BadParameter, errors.usage), MOVED + "typer.BadParameter left click's hierarchy"


def test_the_tree_has_commands_groups_and_help_names(tree: typer_seam.Command) -> None:
    assert set(tree.subcommands) == {"paint", "auth"}, MOVED + "the command tree's commands"
    assert tree.help_names == ("-h", "--help"), MOVED + "context_settings' help_option_names"
    assert tree.subcommands["auth"].subcommands["set"].path == "auth set"
    assert tree.subcommands["auth"].subcommands["set"].help.startswith("Save it")
    assert [c.path for c in tree.walk()] == ["", "paint", "auth", "auth set"]


def test_parameters_say_their_kind_type_and_choices(tree: typer_seam.Command) -> None:
    files = _param(tree, "files")
    assert not files.is_option and files.multiple, MOVED + "an argument's kind"
    assert files.value_type is Path, MOVED + "a list[Path] argument's type"
    colour = _param(tree, "colour")
    assert colour.opts == ("--colour", "-c") and colour.long_names == ("--colour",)
    assert colour.choices == ("red", "blue"), MOVED + "an Enum option's choices"
    assert colour.help.startswith("Which colour")
    assert _param(tree, "times").value_type is int, MOVED + "an int option's type"
    assert _param(tree, "ratio").value_type is float, MOVED + "a float option's type"
    tag = _param(tree, "tag")
    assert tag.multiple and tag.value_type is str, MOVED + "a repeatable option"
    dry = _param(tree, "dry")
    assert dry.is_flag and dry.secondary_opts == ("--no-dry",), MOVED + "a --x/--no-x flag"
    assert _param(tree, "secret").hidden, MOVED + "a hidden option"
    assert _param(tree, "out").value_type is Path, MOVED + "a Path | None option's type"


def test_conversion_checks_values_as_the_command_line_does(capsys: pytest.CaptureFixture[str]) -> None:
    contexts: list[typer.Context] = []
    _app(contexts)(["paint", "x.wav"], standalone_mode=False)  # the seam is handed the root's context
    ctx = contexts[0]
    ours = typer_seam.context_tree(ctx)
    times = next(p for p in ours.subcommands["paint"].params if p.name == "times")
    assert typer_seam.convert(ctx, "paint", times, "3") == 3, MOVED + "an option's process_value"
    with pytest.raises(typer_seam.Refused) as refused:
        typer_seam.convert(ctx, "paint", times, "0")
    assert "\n" not in str(refused.value) and str(refused.value), MOVED + "a refusal's message"
    colour = next(p for p in ours.subcommands["paint"].params if p.name == "colour")
    assert typer_seam.convert(ctx, "paint", colour, "blue") == Colour.blue
    with pytest.raises(typer_seam.Refused):
        typer_seam.convert(ctx, "paint", colour, "green")


def test_default_map_applies_where_no_flag_was_typed(capsys: pytest.CaptureFixture[str]) -> None:
    app = _app()
    app(["paint", "x.wav"], standalone_mode=False)
    assert capsys.readouterr().out.startswith("red 7 "), MOVED + "ctx.default_map"
    app(["paint", "x.wav", "--times", "2"], standalone_mode=False)
    assert capsys.readouterr().out.startswith("red 2 "), MOVED + "a typed flag over default_map"


def test_current_params_are_seen_while_parsing(capsys: pytest.CaptureFixture[str]) -> None:
    _app()(["paint", "x.wav"], standalone_mode=False)
    assert "'colour'" in capsys.readouterr().out, MOVED + "get_current_context().params"
    assert typer_seam.current_params() == {}


def test_usage_errors_carry_their_command_and_message() -> None:
    errors = typer_seam.errors()
    with pytest.raises(errors.usage) as caught:
        _app()(["paint", "x.wav", "--nope"], standalone_mode=False)
    assert typer_seam.command_path(caught.value) == "root paint" or typer_seam.command_path(caught.value).endswith(
        "paint"
    ), MOVED + "a UsageError's ctx.command_path"
    assert "--nope" in typer_seam.error_message(caught.value), MOVED + "a UsageError's format_message"


@pytest.mark.parametrize("words", [(), ("auth",), ("config",)])
def test_a_group_alone_shows_its_help_once(words: tuple[str, ...], tmp_path: Path) -> None:
    """`gladia`, `gladia auth`, `gladia config`: the first things a newcomer types. Either the raiser printed the
    help or the error carries it for us to print; once, whichever it is, and exit 2."""
    result = run(*words, env={"HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path), "COLUMNS": "100"})
    shown = result.stdout + result.stderr
    assert shown.count("Usage:") == 1, MOVED + f"NoArgsIsHelpError's help shown {shown.count('Usage:')} times"
    assert result.code == 2
    assert "Traceback" not in shown


def test_completion_classes_register() -> None:
    typer_seam.enable_completion()


def _private_uses(path: Path) -> list[str]:
    """Imports of click or of Typer's modules beyond its package API, and reaching into typer's submodules."""
    found = []
    tree = ast.parse(path.read_text(), str(path))
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        for name in names:
            if name == "click" or name.startswith(("click.", "typer.")):
                found.append(f"{path.name}:{node.lineno}: import {name}")
        typer_attr = isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "typer"
        if typer_attr and (node.attr in ("main", "core", "models") or node.attr.startswith("_")):  # type: ignore[attr-defined]
            found.append(f"{path.name}:{node.lineno}: typer.{node.attr}")
        if isinstance(node, ast.Attribute) and node.attr in ("default_map", "find_root", "process_value"):
            found.append(f"{path.name}:{node.lineno}: .{node.attr}")
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and "typer._" in node.value:
            found.append(f"{path.name}:{node.lineno}: {node.value!r}")
    return found


def test_nothing_else_reaches_under_typer() -> None:
    seam = Path(typer_seam.__file__)
    uses = [use for path in sorted(PACKAGE.rglob("*.py")) if path != seam for use in _private_uses(path)]
    assert not uses, "click-level machinery outside gladia_cli/cli/typer_seam.py:\n" + "\n".join(uses)
