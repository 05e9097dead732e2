"""The house's shape as a contract: layers imported only downward, no cycle at any depth, a library that never draws.

The contracts are written for import-linter in pyproject.toml (`[tool.importlinter]`: `lint-imports` reads them
too) and checked here on grimp's import graph, which holds every import statement, function-local and TYPE_CHECKING
ones included: a lazy upward import is still an upward import. (import-linter itself needs a newer rich than the
oldest one gladia supports, so the suite does not depend on it.)
"""

from __future__ import annotations

import ast
import itertools
import sys
from pathlib import Path
from typing import Any

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "gladia_cli"
DRAWS = ("cli", "console")  # the layers that own a terminal; the rest is the library


def contracts() -> dict[str, dict[str, Any]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]
    return {c["id"]: c for c in config["contracts"]}


@pytest.fixture(scope="module")
def graph() -> Any:
    import grimp

    sys.path.insert(0, str(ROOT))
    try:
        return grimp.build_graph("gladia_cli", include_external_packages=True, cache_dir=None)
    finally:
        sys.path.remove(str(ROOT))


def _where(graph: Any, importer: str, imported: str) -> str:
    lines = sorted({d["line_number"] for d in graph.get_import_details(importer=importer, imported=imported)})
    return f"{importer} -> {imported} (l.{', '.join(map(str, lines))})"


def _chain(graph: Any, importer: str, imported: str) -> list[str] | None:
    """An import chain from `importer` (or a module in it) to `imported` (or a module in it), as readable lines."""
    chains = graph.find_shortest_chains(importer=importer, imported=imported, as_packages=True)
    if not chains:
        return None
    chain = min(chains, key=lambda c: (len(c), c))
    return [_where(graph, a, b) for a, b in itertools.pairwise(chain)]


def _layers(contract: dict[str, Any]) -> list[list[tuple[str, bool]]]:
    """Top to bottom; each layer's modules with whether they are optional ("(name)")."""
    out = []
    for layer in contract["layers"]:
        names = [part.strip() for part in layer.split("|")]
        out.append([(n.strip("()"), n.startswith("(")) for n in names])
    return out


def test_each_layer_imports_only_the_layers_below_it(graph: Any) -> None:
    contract = contracts()["layers"]
    [container] = contract["containers"]
    layers = _layers(contract)
    broken = []
    declared = {name for layer in layers for name, _ in layer}
    if contract.get("exhaustive"):
        undeclared = {child.rsplit(".", 1)[1] for child in graph.find_children(container)} - declared
        broken += [f"{container}.{name} has no layer" for name in sorted(undeclared)]
    present = [[f"{container}.{n}" for n, optional in layer if f"{container}.{n}" in graph.modules] for layer in layers]
    missing = [f"{container}.{n}" for layer in layers for n, optional in layer if not optional]
    broken += [f"{name} is a layer but does not exist" for name in missing if name not in graph.modules]
    for upper_index, upper in enumerate(present):
        for lower in (m for layer in present[upper_index + 1 :] for m in layer):
            for high in upper:
                chain = _chain(graph, lower, high)
                if chain:
                    broken.append(f"{lower} imports {high}, a layer above it:\n    " + "\n    ".join(chain))
        for a in upper:  # siblings of one layer are independent of each other
            for b in upper:
                chain = _chain(graph, a, b) if a != b else None
                if chain:
                    broken.append(f"{a} imports {b}, its independent sibling:\n    " + "\n    ".join(chain))
    assert not broken, "\n".join(broken)


@pytest.mark.parametrize("name", ["library", "console"])
def test_forbidden_imports(graph: Any, name: str) -> None:
    contract = contracts()[name]
    broken = []
    for source in contract["source_modules"]:
        assert source in graph.modules, f"{source} (a source of the {name!r} contract) does not exist"
        for forbidden in contract["forbidden_modules"]:
            if forbidden not in graph.modules:
                continue  # an external package nothing imports, or a layer not there
            chain = _chain(graph, source, forbidden)
            if chain:
                broken.append(f"{source} reaches {forbidden}:\n    " + "\n    ".join(chain))
    assert not broken, contract["name"] + "\n" + "\n".join(broken)


def _cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph, or None (depth-first, colours)."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_no_import_cycle_at_any_depth(graph: Any) -> None:
    """Among the children of every package, the "some module in A imports some module in B" graph is acyclic: a
    cycle between any two modules shows as one between siblings at some depth."""
    [ancestor] = contracts()["acyclic"]["ancestors"]
    packages = [ancestor, *(m for m in graph.find_descendants(ancestor) if graph.find_children(m))]
    cycles = []
    for package in sorted(packages):
        children = sorted(graph.find_children(package))
        members = {child: {child, *graph.find_descendants(child)} for child in children}
        owner = {m: child for child, ms in members.items() for m in ms}
        edges: dict[str, set[str]] = {}
        for child, ms in members.items():
            for module in ms:
                for imported in graph.find_modules_directly_imported_by(module):
                    other = owner.get(imported)
                    if other is not None and other != child:
                        edges.setdefault(child, set()).add(other)
        cycle = _cycle(edges)
        if cycle:
            cycles.append(" -> ".join(cycle))
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def test_the_checks_see_what_they_forbid() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": {"c"}}) is None


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


def test_the_terminal_check_sees_what_it_forbids(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import sys\nprint(1)\nsys.stderr.write('x')\nsys.stdin.isatty()\n")
    assert sorted(use.split(": ", 1)[1] for use in _terminal_uses(bad)) == ["isatty", "print()", "sys.stderr"]
