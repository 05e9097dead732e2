"""`gladia ctl`: steer a running `gladia listen` from another shell, a hotkey daemon or a status bar."""

from __future__ import annotations

import sys
from typing import Any

from gladia_cli import strict_json
from gladia_cli.console.terminal import notice
from gladia_cli.errors import UsageError
from gladia_cli.safe_text import for_terminal

NEEDS_NAME = ("mute", "unmute")


def run(action: str, words: list[str], *, session: str | None, as_json: bool, follow: bool) -> None:
    from gladia_cli.live import control

    arg = " ".join(words)
    if action in NEEDS_NAME and not arg:
        raise UsageError(
            f"`gladia ctl {action}` needs an input's name or number", hint="`gladia ctl status` lists them"
        )
    if words and action not in (*NEEDS_NAME, "bookmark"):
        raise UsageError(f"`gladia ctl {action}` takes no argument, got {arg!r}")
    if follow and action != "status":
        raise UsageError("--follow is for `gladia ctl status`")
    running = control.running()
    if action == "status" and session is None and not follow and len(running) > 1:
        for status in control.describe_all(running):
            _print(status, as_json)
        return
    path = control.pick(session, running)
    if action == "status" and follow:
        for status in control.follow(path):
            _print(status, as_json)
        return
    status = control.request(path, action, arg if action in (*NEEDS_NAME, "bookmark") else None)
    if action == "status":
        _print(status, as_json)
    elif as_json:
        _print(status, True)
    else:
        notice(_done(action, arg, status))


def _done(action: str, arg: str, status: dict[str, Any]) -> str:
    if action in ("pause", "resume", "toggle"):
        return "paused" if status.get("paused") else "resumed"
    if action in NEEDS_NAME:
        return f"{action}d {arg}" if action == "mute" else f"unmuted {arg}"
    if action == "bookmark":
        return "bookmark dropped" + (f": {arg}" if arg else "")
    return "stopping: the recording waits for its result"


def _print(status: dict[str, Any], as_json: bool) -> None:
    line = strict_json.dump_json(status, pretty=False) if as_json else status_text(status)
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def status_text(status: dict[str, Any]) -> str:
    """One line a status bar can show: state, what is muted, seconds sent, billed minutes."""
    parts = [str(status.get("state") or "?")]
    muted = status.get("muted") or []
    if muted:
        parts.append("muted: " + ", ".join(str(m) for m in muted))
    parts.append(f"{float(status.get('seconds_sent') or 0):.1f} s sent")
    parts.append(f"{float(status.get('billed_minutes') or 0):.1f} min billed")
    cost = status.get("cost")
    if isinstance(cost, (int, float)):
        parts.append(f"≈{cost:.2f}")
    marks = [m for m in status.get("marks") or [] if isinstance(m, dict) and m.get("kind") == "bookmark"]
    if marks:
        parts.append(f"{len(marks)} bookmark" + ("" if len(marks) == 1 else "s"))
    sid = status.get("session_id")
    if sid:
        parts.append(str(sid))
    return for_terminal(" · ".join(parts))
