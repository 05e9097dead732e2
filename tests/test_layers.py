"""The house's shape as a contract: layers imported only downward, no cycle, and a library that never draws.

The contracts live in pyproject.toml (`[tool.importlinter]`) and are run by import-linter, which reads every import
statement, function-local and TYPE_CHECKING ones included: a lazy upward import is still an upward import.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "gladia_cli"
DRAWS = ("cli", "console")  # the layers that own a terminal; the rest is the library


def test_the_import_contracts_hold() -> None:
    linter = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which("lint-imports")
    assert linter, "import-linter is a test dependency: pip install '.[test]'"
    proc = subprocess.run(
        [linter, "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "broken" in proc.stdout and "0 broken" in proc.stdout, proc.stdout


def _library_files() -> list[Path]:
    return [p for p in PACKAGE.rglob("*.py") if p.relative_to(PACKAGE).parts[0] not in DRAWS]


def _terminal_uses(path: Path) -> list[str]:
    """print(), isatty() and the process's own stdout/stderr: the library returns values and emits events."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "print":
            found.append(f"{path.name}:{node.lineno}: print()")
        if isinstance(node, ast.Attribute) and node.attr == "isatty":
            found.append(f"{path.name}:{node.lineno}: isatty")
        if (
            isinstance(node, ast.Attribute)
            and node.attr in ("stdout", "stderr")
            and isinstance(node.value, ast.Name)
            and node.value.id == "sys"
        ):
            found.append(f"{path.name}:{node.lineno}: sys.{node.attr}")
    return found


# Writing to a path that names our own stdout (`-o /dev/stdout`) must first flush what Python buffers for it.
ALLOWED = {"files.py": ["sys.stdout", "sys.stderr"]}


def test_the_library_never_prints_nor_asks_for_a_terminal() -> None:
    uses = []
    for path in _library_files():
        allowed = ALLOWED.get(path.name, []) if path.parent.name == "output" else []
        uses += [use for use in _terminal_uses(path) if use.rsplit(": ", 1)[1] not in allowed]
    assert uses == [], "the library reaches for the terminal:\n" + "\n".join(uses)


def test_the_check_sees_what_it_forbids(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import sys\nprint(1)\nsys.stderr.write('x')\nsys.stdin.isatty()\n")
    assert sorted(use.split(": ", 1)[1] for use in _terminal_uses(bad)) == ["isatty", "print()", "sys.stderr"]
