"""Text from outside, made safe to show: no secret in it, and no control sequence a terminal would obey.

Transcripts, ids, error messages, file names and notices come from a server, a file or a flag. Shown raw, an OSC 52
sets the clipboard, an OSC 0 the window title, `ESC[2J` clears the screen, an OSC 8 hides a link; a key a server
echoes back ends up in a pasted bug report. Everything bound for a terminal passes `for_terminal`; everything we
write anywhere (files, logs, tracebacks) passes `redact`.

The secrets are registered once per run (the key as it is resolved, the ones a run may know), so a message built
anywhere is masked without each caller knowing the key.
"""

from __future__ import annotations

import re
import threading

_secrets: set[str] = set()
_lock = threading.Lock()

MIN_SECRET = 6  # shorter strings would mask ordinary words

# scheme://user:password@host: the password is masked, the user kept (it tells which account).
_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^\s/@:]*):([^\s/@]*)@")
# Every C0 control but tab and newline, DEL, every C1 control (0x9b is an 8-bit CSI), and the bidirectional
# overrides (a file name that reads backwards). A sequence is inert once its ESC, BEL or C1 introducer is shown as
# text, so escaping these characters alone neutralises CSI, OSC 0/8/52, DCS and the rest, and keeps the rest of the
# sequence readable.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def remember_secret(value: str | None) -> None:
    """Mask `value` in everything shown or written from now on (the API key once resolved)."""
    if value and len(value.strip()) >= MIN_SECRET:
        with _lock:
            _secrets.add(value.strip())


def forget_secrets() -> None:
    """For in-process callers between runs (tests)."""
    with _lock:
        _secrets.clear()


def mask(secret: str) -> str:
    """Enough to tell two keys apart, never enough to use one."""
    if len(secret) <= 8:
        return "*" * len(secret)
    return f"{secret[:4]}{'*' * 8}{secret[-4:]}"


def mask_url(url: str) -> str:
    """A URL with the password of its userinfo masked (`http://alice:***@host`)."""
    return _URL_USERINFO.sub(lambda m: f"{m.group(1)}:***@", url)


def redact(text: str, extra: list[str] | tuple[str, ...] = ()) -> str:
    """`text` with every registered secret (and `extra`) masked, longest first, and URL passwords hidden."""
    with _lock:
        secrets = sorted({*_secrets, *(s.strip() for s in extra if len(s.strip()) >= MIN_SECRET)}, key=len)
    for secret in reversed(secrets):
        if secret in text:
            text = text.replace(secret, mask(secret))
    return mask_url(text) if "@" in text else text


def _visible(match: re.Match[str]) -> str:
    return "".join(f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}" for c in match.group(0))


def neutralise(text: str, *, keep_newlines: bool = True) -> str:
    """Control characters shown as `\\x1b`-style text: an escape sequence reads as what was sent, never obeyed.
    Tabs stay, and newlines unless `keep_newlines` is False."""
    if text.isprintable():
        return text
    text = _CONTROL.sub(_visible, text)
    return text if keep_newlines else text.replace("\n", "\\n")


def for_terminal(text: str) -> str:
    """What may reach a terminal: secrets masked, control sequences neutralised."""
    return neutralise(redact(text))
