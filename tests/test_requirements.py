"""`gladia doctor`'s package check reads what the installed distribution declares, never a list of its own."""

from __future__ import annotations

import re
from importlib.metadata import requires
from pathlib import Path

import pytest

from gladia_cli import requirements
from gladia_cli.cli import doctor

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


def _declared() -> list[str]:
    """pyproject's runtime dependencies, read without tomllib (Python 3.10 has none)."""
    text = PYPROJECT.read_text()
    block = re.search(r"^dependencies = \[(.*?)^\]", text, re.S | re.M)
    assert block, "pyproject.toml has no dependencies list"
    return re.findall(r'"([^"]+)"', block.group(1))


def test_every_declared_requirement_is_understood() -> None:
    """Each line of pyproject and of the installed metadata parses, its marker evaluates, its spec compares."""
    for line in [*_declared(), *(requires(requirements.DISTRIBUTION) or [])]:
        _, spec, marker = requirements.parse(line)
        requirements.applies(marker)
        requirements.satisfies("1000.0", spec)


def test_the_check_follows_the_installed_metadata() -> None:
    names = {r.name for r in requirements.installed(requirements.DISTRIBUTION)}
    declared = {
        requirements.parse(line)[0] for line in _declared() if requirements.applies(requirements.parse(line)[2])
    }
    assert names == declared
    assert "click" not in names  # Typer vendors its own: it was never ours to declare


@pytest.mark.parametrize(
    ("version", "spec", "ok"),
    [
        ("0.29.2", ">=0.16", True),
        ("0.15.4", ">=0.16", False),
        ("1.24.0", ">=1.24", True),
        ("2.0", ">=1.24,<2", False),
        ("13.9.4", "~=13.0", True),
        ("14.0", "~=13.0", False),
        ("2.4.6", "==2.4.*", True),
        ("2.5.0", "==2.4.*", False),
        ("1.0rc1", ">=1.0", True),  # pre-releases compare by their release: doctor is no resolver
        ("3.5", "", True),
        ("0.5.6", "!=0.5.6", False),
    ],
)
def test_version_clauses(version: str, spec: str, ok: bool) -> None:
    assert requirements.satisfies(version, spec) is ok


def test_markers() -> None:
    env = {"python_version": "3.10", "sys_platform": "linux", "extra": ""}
    assert requirements.applies('python_version < "3.11"', env)
    assert not requirements.applies("python_version >= '3.11'", env)
    assert not requirements.applies('extra == "test"', env)
    assert requirements.applies('sys_platform == "linux" and python_version >= "3.10"', env)
    assert requirements.applies('sys_platform == "win32" or python_version < "3.11"', env)


def test_a_missing_or_old_package_fails_with_the_pip_line(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.metadata as metadata

    real = metadata.version

    def fake(name: str) -> str:
        if name == "rich":
            raise metadata.PackageNotFoundError(name)
        return "0.1" if name == "typer" else real(name)

    monkeypatch.setattr(metadata, "version", fake)
    check = doctor.check_packages(doctor.Options())
    assert not check.ok
    assert "rich missing" in check.detail and "typer 0.1 does not satisfy typer>=" in check.detail
    assert check.fix is not None and check.fix.startswith("pip install ")
    assert "'rich>=" in check.fix and "'typer>=" in check.fix


def test_all_installed_is_ok() -> None:
    check = doctor.check_packages(doctor.Options())
    assert check.ok, check.detail
    assert "typer " in check.detail and "click" not in check.detail
