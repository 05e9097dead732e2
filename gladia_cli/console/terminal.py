"""The terminal: which streams are terminals, the stderr console, and the one writer of `gladia: …` lines.

stdout carries the transcript alone; everything meant for the person goes through here to stderr.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import IO, TYPE_CHECKING, Any

from gladia_cli.safe_text import for_terminal, redact

if TYPE_CHECKING:
    from rich.console import Console


def is_tty(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def same_terminal(a: IO[str], b: IO[str]) -> bool:
    """stdout and stderr on one screen: finals must then be printed through the live view, above the partial."""
    try:
        sa, sb = os.fstat(a.fileno()), os.fstat(b.fileno())
    except (AttributeError, OSError, ValueError):
        return False
    return (sa.st_dev, sa.st_ino, sa.st_rdev) == (sb.st_dev, sb.st_ino, sb.st_rdev)


def stderr_console() -> Console:
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def _as_written(text: str) -> str:
    return text


_wording: Callable[[str], str] = _as_written


def use_wording(rewrite: Callable[[str], str]) -> None:
    """How the library's words read to this person: it names a setting as its Python keyword (`bit_depth`), and
    the command line installs the rewrite into its flags' names (`--bit-depth`) once, at its entry point."""
    global _wording
    _wording = rewrite


def notice_line(text: str) -> str:
    """A status or warning line as the person reads it (no newline)."""
    return f"gladia: {_wording(text)}"


def error_line(message: str) -> str:
    """An error as one line, whatever the message held (newlines and runs of spaces folded)."""
    return f"gladia: error: {' '.join(_wording(message).split())}"


def notice(text: str, err: IO[str] | None = None) -> None:
    """Status for the person on stderr (or `err`), flushed at once: stdout stays the transcript alone. The text
    may hold a server's words: no secret and no control sequence gets through."""
    stream = err if err is not None else sys.stderr
    stream.write(fitted(for_terminal(notice_line(text)), stream) + "\n")
    stream.flush()


def error(message: str, err: IO[str] | None = None) -> None:
    stream = err if err is not None else sys.stderr
    stream.write(fitted(error_line(for_terminal(message)), stream) + "\n")
    stream.flush()


def fitted(line: str, stream: IO[str]) -> str:
    """A line wrapped between words to the terminal's width, continued two spaces in, so the terminal does not cut
    it mid-word; a pipe or a file gets the one line as it is (scripts read one line per message)."""
    if not is_tty(stream):
        return line
    import os
    import textwrap

    try:
        width = os.get_terminal_size(stream.fileno()).columns  # this stream's terminal: stdout may be a pipe
    except (OSError, ValueError, AttributeError):
        return line
    if len(line) <= width or width < 20:
        return line
    wrapped = textwrap.wrap(
        line, width, subsequent_indent="  ", break_long_words=False, break_on_hyphens=False, drop_whitespace=True
    )
    return "\n".join(wrapped) if wrapped else line


def shown(text: str, stream: IO[str]) -> str:
    """`text` as it may be written to `stream`: secrets masked always, control sequences neutralised when `stream`
    is a terminal (a pipe or a file gets the transcript byte for byte)."""
    return for_terminal(text) if is_tty(stream) else redact(text)


def plain_text(text: str) -> Any:
    """Outside text as a Rich renderable that is never markup (`[/]`, `[link=…]`, `:skull:` shown as typed)."""
    from rich.text import Text

    return Text(for_terminal(text))
