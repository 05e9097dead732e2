"""What the installed distribution declares it needs, read from its metadata and checked against what is installed.

`gladia doctor` reports these, so the check cannot drift from `pyproject.toml` (a list written by hand once named
click, which Typer stopped installing). The grammar handled is the subset of PEP 508 that wheels' `Requires-Dist`
lines use: a name, optional extras, version clauses, and markers on the Python version, the platform and extras.
"""

from __future__ import annotations

import platform
import re
import sys
from dataclasses import dataclass

DISTRIBUTION = "gladia"

_REQUIREMENT = re.compile(
    r"^\s*(?P<name>[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(?:\[[^\]]*\])?\s*"
    r"\(?(?P<spec>[^;()]*)\)?\s*(?:;\s*(?P<marker>.*))?$"
)
_CLAUSE = re.compile(r"^\s*(~=|===|==|!=|<=|>=|<|>)\s*([^\s,]+)\s*$")
_ATOM = re.compile(r"""^\s*(\w+)\s*(==|!=|<=|>=|<|>|not in|in)\s*['"]([^'"]*)['"]\s*$""")


class NotInstalled(Exception):
    """The distribution itself has no metadata (running from a source tree)."""


@dataclass(frozen=True)
class Installed:
    requirement: str  # as declared, without its marker: what `pip install` takes
    name: str
    installed: str | None  # None: missing
    ok: bool

    @property
    def problem(self) -> str:
        if self.installed is None:
            return f"{self.name} missing"
        return f"{self.name} {self.installed} does not satisfy {self.requirement}"


def release(version: str) -> tuple[int, ...]:
    """The numeric release of a version (`2.4.6`, `0.29.2rc1` -> (0, 29, 2)); pre/post tags are not compared."""
    match = re.match(r"^\s*v?(?:\d+!)?(\d+(?:\.\d+)*)", version)
    return tuple(int(part) for part in match.group(1).split(".")) if match else ()


def _padded(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[tuple[int, ...], tuple[int, ...]]:
    width = max(len(a), len(b))
    return a + (0,) * (width - len(a)), b + (0,) * (width - len(b))


def satisfies(version: str, spec: str) -> bool:
    """`version` within every clause of `spec` (`>=0.16,<1`); an empty spec takes any version."""
    have = release(version)
    for clause in filter(None, (c.strip() for c in spec.split(","))):
        match = _CLAUSE.match(clause)
        if match is None:
            raise ValueError(f"unsupported version clause {clause!r}")
        op, wanted = match.groups()
        if op in ("==", "!=") and wanted.endswith(".*"):
            prefix = release(wanted[:-2])
            equal = have[: len(prefix)] == prefix
            if equal != (op == "=="):
                return False
            continue
        a, b = _padded(have, release(wanted))
        if op == "~=":
            stem = release(wanted)[:-1]
            ok = a >= b and have[: len(stem)] == stem
        else:
            ok = {
                "==": a == b,
                "===": version.strip() == wanted,
                "!=": a != b,
                "<=": a <= b,
                ">=": a >= b,
                "<": a < b,
                ">": a > b,
            }[op]
        if not ok:
            return False
    return True


def _environment() -> dict[str, str]:
    return {
        "python_version": ".".join(str(p) for p in sys.version_info[:2]),
        "python_full_version": ".".join(str(p) for p in sys.version_info[:3]),
        "sys_platform": sys.platform,
        "platform_system": platform.system(),
        "platform_machine": platform.machine(),
        "os_name": __import__("os").name,
        "implementation_name": sys.implementation.name,
        "platform_python_implementation": platform.python_implementation(),
        "extra": "",
    }


def _atom(text: str, env: dict[str, str]) -> bool:
    match = _ATOM.match(text.strip().strip("()"))
    if match is None:
        raise ValueError(f"unsupported marker {text!r}")
    name, op, value = match.groups()
    have = env.get(name)
    if have is None:
        raise ValueError(f"unsupported marker variable {name!r}")
    if op in ("in", "not in"):
        return (have in value) == (op == "in")
    if name.endswith("_version"):
        return satisfies(have, f"{op}{value}")
    return {"==": have == value, "!=": have != value}.get(op, False)


def applies(marker: str | None, env: dict[str, str] | None = None) -> bool:
    """A marker of `or`s of `and`s of comparisons, for this interpreter, no extra requested."""
    if not marker:
        return True
    env = env or _environment()
    return any(
        all(_atom(atom, env) for atom in re.split(r"\s+and\s+", alternative))
        for alternative in re.split(r"\s+or\s+", marker.strip())
    )


def parse(line: str) -> tuple[str, str, str | None]:
    """(name, version spec, marker) of one `Requires-Dist` line."""
    match = _REQUIREMENT.match(line)
    if match is None:
        raise ValueError(f"unsupported requirement {line!r}")
    return match["name"], match["spec"].strip(), match["marker"]


def installed(distribution: str) -> list[Installed]:
    """Each requirement of `distribution` that applies here (extras left out), with the version installed."""
    from importlib.metadata import PackageNotFoundError, requires, version

    try:
        lines = requires(distribution) or []
    except PackageNotFoundError:
        raise NotInstalled(distribution) from None
    found = []
    for line in lines:
        name, spec, marker = parse(line)
        if not applies(marker):
            continue
        try:
            have: str | None = version(name)
        except PackageNotFoundError:
            have = None
        ok = have is not None and satisfies(have, spec)
        found.append(Installed(f"{name}{spec}", name, have, ok))
    return found
