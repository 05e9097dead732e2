"""The process around the commands: the console script's entry point, argv as the person typed it, SIGTERM, and every
error turned into one line on stderr and a documented exit code.
"""

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import Any, NoReturn

from gladia_cli.cli.flags import SHORT_ALIASES
from gladia_cli.errors import ExitCode, GladiaError


def main(argv: list[str] | None = None) -> None:
    """Every error ends as one line on stderr and a documented exit code; --debug adds the traceback."""
    args = _profile_first(_short_aliases(_summary_type_argv(sys.argv[1:] if argv is None else argv)))
    if argv is None and "listen" in args and "_GLADIA_COMPLETE" not in os.environ:
        # A real process's command line: `gladia listen` starts recording now, while the rest is imported and read.
        # A program calling main() in-process keeps its devices closed until the command asks for them.
        from gladia_cli.cli import early_listen

        early_listen.start(args)
    from gladia_cli.cli.flags import as_flags
    from gladia_cli.console.terminal import use_wording

    use_wording(as_flags)  # the library names settings as Python keywords; a person here typed flags
    if "_GLADIA_COMPLETE" in os.environ:
        from gladia_cli.cli.typer_seam import enable_completion

        enable_completion()  # Typer's completion classes, registered only when a completion request is made
    import threading

    previous_hook = threading.excepthook
    threading.excepthook = _masked_thread_traceback
    try:
        with _terminate_like_ctrl_c():
            _run_app(args, debug="--debug" in args or bool(os.environ.get("GLADIA_DEBUG")))
    finally:
        threading.excepthook = previous_hook


def _run_app(args: list[str], *, debug: bool) -> NoReturn:
    from gladia_cli.audio import early
    from gladia_cli.cli import typer_seam
    from gladia_cli.cli.app import app

    click = typer_seam.errors()
    early.settle()  # an early start may silence stderr while it opens: done before anything can be written
    try:
        try:
            code = typer_seam.click_command(app).main(args=args, prog_name="gladia", standalone_mode=False)
        finally:
            early.cancel()  # a microphone started early that no run took stops now, not at exit
    except GladiaError as exc:
        if debug:
            _print_traceback(args)
        _fail(str(exc), int(exc.exit_code), args)
    except click.no_args_is_help as exc:
        help_text = typer_seam.help_of(exc)
        sys.stderr.write(help_text + "\n" if help_text else "")
        raise SystemExit(ExitCode.USAGE) from None
    except click.usage as exc:
        _fail(f"{typer_seam.error_message(exc)} (see `{typer_seam.command_path(exc)} --help`)", ExitCode.USAGE, args)
    except click.abort:
        _fail("aborted", ExitCode.ABORTED)
    except KeyboardInterrupt:
        _fail("aborted", ExitCode.ABORTED)
    except click.click as exc:
        _fail(typer_seam.error_message(exc), ExitCode.USAGE, args)
    except BrokenPipeError:
        # The reader of stdout went away (e.g. `| head`): not an error worth a traceback.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise SystemExit(ExitCode.OK) from None
    except OSError as exc:
        # The system refused something we did not foresee (a full disk under stdout, a vanished directory): say
        # what, not "unexpected OSError".
        if debug:
            _print_traceback(args)
        where = f" ({exc.filename})" if exc.filename else " (writing the output?)"
        _fail(f"{exc.strerror or exc}{where}; run again with --debug for details", ExitCode.UNEXPECTED, args)
    except Exception as exc:
        if debug:
            _print_traceback(args)
        _fail(f"unexpected {type(exc).__name__}; run again with --debug and report it", ExitCode.UNEXPECTED)
    if code == ExitCode.ABORTED:
        # Typer turns a Ctrl-C outside our own handlers (e.g. in a hung HTTP call) into a bare exit code 130.
        _fail("aborted", ExitCode.ABORTED)
    raise SystemExit(code if isinstance(code, int) else 0)


def _print_traceback(args: list[str]) -> None:
    """--debug's traceback, masked like every other line: a key a server echoed sits in exception messages, and
    this is what gets pasted into bug reports."""
    import traceback

    from gladia_cli.safe_text import neutralise
    from gladia_cli.settings import known_keys, scrub

    sys.stderr.write(neutralise(scrub(traceback.format_exc(), known_keys(args))))
    sys.stderr.flush()


def _masked_thread_traceback(hook_args: Any) -> None:
    """A worker thread's uncaught exception (a bug: the run's owner reports its death in one line) printed masked."""
    import traceback

    from gladia_cli.safe_text import for_terminal

    text = "".join(traceback.format_exception(hook_args.exc_type, hook_args.exc_value, hook_args.exc_traceback))
    name = getattr(hook_args.thread, "name", "?")
    sys.stderr.write(for_terminal(f"Exception in thread {name}:\n{text}"))
    sys.stderr.flush()


def _fail(message: str, code: int, args: list[str] | None = None) -> NoReturn:
    """One line, whatever the message held, and never a key (a key typed as an argument ends up in messages)."""
    from gladia_cli.console.terminal import error
    from gladia_cli.settings import known_keys, scrub

    error(scrub(message, known_keys(args or [])))
    raise SystemExit(code)


def _short_aliases(args: list[str]) -> list[str]:
    if not any(arg in SHORT_ALIASES for arg in args):
        return args
    end = args.index("--") if "--" in args else len(args)
    return [SHORT_ALIASES.get(arg, arg) for arg in args[:end]] + args[end:]


def _profile_first(args: list[str]) -> list[str]:
    """`gladia listen --profile meeting` means `gladia --profile meeting listen`: --profile is the root's option
    (it picks the defaults every command then reads), accepted anywhere before a `--`."""
    if not any(arg == "--profile" or arg.startswith("--profile=") for arg in args):
        return args
    moved: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            rest += args[i:]
            break
        if arg == "--profile" and i + 1 < len(args):
            moved += args[i : i + 2]
            i += 2
            continue
        (moved if arg.startswith("--profile=") else rest).append(arg)
        i += 1
    return moved + rest


def _looks_like_summary_type(word: str, types: tuple[str, ...]) -> bool:
    """One of the types, or a bare word that is no file (`bullet-points`, `bogus`): a typo of a type, which must be
    refused as one, not become a second input that silently turns the run into a batch."""
    import re

    if word in types:
        return True
    return bool(re.fullmatch(r"[A-Za-z][A-Za-z_-]*", word)) and not os.path.exists(word)


def _summary_type_argv(args: list[str]) -> list[str]:
    """Accept the issue's and official CLI's `--summarize [TYPE]` spelling next to `--summary-type TYPE`.

    Click options cannot take an optional value without swallowing a following file name, so the type is split
    off here: one of the three types, or a bare word that is no file (refused later as a mistyped type). A file
    named `concise` needs `./concise`.
    """
    if not any(arg.startswith("--summarize") for arg in args):
        return args  # the common case stays free of live.config's import
    from gladia_cli.body import SUMMARY_TYPES

    out: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            return out + args[i:]
        if arg.startswith("--summarize="):
            kind = arg.split("=", 1)[1]
            out += ["--summarize", "--summary-type", kind] if kind else ["--summarize"]
        elif arg == "--summarize" and i + 1 < len(args) and _looks_like_summary_type(args[i + 1], SUMMARY_TYPES):
            out += ["--summarize", "--summary-type", args[i + 1]]
            i += 1
        else:
            out.append(arg)
        i += 1
    return out


@contextlib.contextmanager
def _terminate_like_ctrl_c() -> Iterator[None]:
    """SIGTERM (timeout, systemd, docker stop) unwinds like Ctrl-C, so temporary files go and job ids are printed;
    a live session installs its own handlers on top (first SIGTERM = a clean stop) and restores this one.

    SIGINT is made Ctrl-C even when it was inherited ignored: a shell without job control starts `cmd &` with
    SIGINT ignored, and Python then leaves it so, which turned `kill -INT` from a script (or CI's harness) into a
    request that hung until the server answered. The previous handlers are back when the command ends (main() may
    be called in-process, e.g. by tests)."""
    import signal
    import threading

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous_int = signal.getsignal(signal.SIGINT)
    if previous_int == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    own_term = signal.getsignal(signal.SIGTERM) == signal.SIG_DFL
    if own_term:
        signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        if own_term:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
        if previous_int == signal.SIG_IGN:
            signal.signal(signal.SIGINT, signal.SIG_IGN)
