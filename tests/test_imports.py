"""The import graph of `digest`, read statically: no cycles, and only the CLI imports the CLI.

Every `import` counts, the ones inside functions too (a function-level import hides a cycle, it
does not remove it); only those under `if TYPE_CHECKING:` are left out, since they never run.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "digest"
CLI = "digest.cli"
# `python -m digest` is the command itself, not library code.
ENTRY_POINTS = {"digest.__main__"}
# Function-level imports that still close a cycle, each to go with the work beside it. Any other
# cycle fails the check, and so does an entry here whose import is gone: then delete the entry.
KNOWN_CYCLE_EDGES: dict[tuple[str, str], str] = {}


@dataclass(frozen=True)
class Edge:
    """One import statement: `source` imports `target` at `path:line`."""

    source: str
    target: str
    path: str
    line: int

    def __str__(self) -> str:
        return f"{self.source} -> {self.target} ({self.path}:{self.line})"


def module_names(root: Path = PACKAGE) -> dict[str, Path]:
    """Every module of the package by dotted name (a package is its __init__)."""
    out = {}
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Import statements anywhere in the tree except under `if TYPE_CHECKING:`."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                yield from _imports(ast.Module(body=[child], type_ignores=[]))
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        yield from _imports(node)


def edges(root: Path = PACKAGE) -> list[Edge]:
    """Every import of one module of the package by another, with where it is written."""
    modules = module_names(root)
    out = []
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        where = str(path.relative_to(root.parent))
        for node in _imports(tree):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                if node.level:
                    base = name.split(".")
                    base = base if is_package else base[:-1]
                    base = base[: len(base) - (node.level - 1)]
                    stem = ".".join(base + ([node.module] if node.module else []))
                else:
                    stem = node.module or ""
                # `from pkg import sub` imports the module pkg.sub; `from pkg import name`, pkg.
                targets = [
                    f"{stem}.{alias.name}" if f"{stem}.{alias.name}" in modules else stem
                    for alias in node.names
                ]
            found = []
            for target in targets:
                # `import digest.a.b` runs digest.a.b; the nearest module of ours is the edge.
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                found.append(target)
                # ...and first digest.a, the package, unless this module is inside it already
                # (then that package is being imported anyway).
                parent = target.rpartition(".")[0]
                while parent and not name.startswith(parent + "."):
                    found.append(parent)
                    parent = parent.rpartition(".")[0]
            for target in dict.fromkeys(found):
                if target and target != name:
                    out.append(Edge(name, target, where, node.lineno))
    return out


def find_cycle(graph: list[Edge]) -> list[Edge] | None:
    """One import cycle as the edges that close it, or None when the graph has none."""
    by_source: dict[str, list[Edge]] = {}
    for edge in graph:
        by_source.setdefault(edge.source, []).append(edge)
    done: set[str] = set()
    for start in sorted(by_source):
        if start in done:
            continue
        # Iterative depth-first search; `path` holds the edges from `start` to the current node.
        path: list[Edge] = []
        on_path = {start: 0}
        stack = [iter(by_source.get(start, []))]
        while stack:
            edge = next(stack[-1], None)
            if edge is None:
                stack.pop()
                node = path.pop().target if path else start
                done.add(node)
                on_path.pop(node, None)
                continue
            if edge.target in on_path:
                return path[on_path[edge.target] :] + [edge]
            if edge.target in done:
                continue
            path.append(edge)
            on_path[edge.target] = len(path)
            stack.append(iter(by_source.get(edge.target, [])))
    return None


def cli_imports(graph: list[Edge]) -> list[Edge]:
    """Imports of digest.cli (or a module in it) from outside digest.cli."""
    inside = (CLI, CLI + ".")
    return [
        e
        for e in graph
        if (e.target == CLI or e.target.startswith(CLI + "."))
        and not e.source.startswith(inside)
        and e.source not in ENTRY_POINTS
    ]


def test_the_package_has_no_import_cycle() -> None:
    graph = edges()
    # A known import statement with all its edges (`from ..pkg.mod import x` reaches pkg too).
    lines = {(e.path, e.line) for e in graph if (e.source, e.target) in KNOWN_CYCLE_EDGES}
    known = [e for e in graph if (e.path, e.line) in lines]
    cycle = find_cycle([e for e in graph if e not in known])
    assert cycle is None, "import cycle: " + " ; ".join(str(e) for e in cycle or [])
    gone = set(KNOWN_CYCLE_EDGES) - {(e.source, e.target) for e in known}
    assert not gone, f"no longer imported, delete from KNOWN_CYCLE_EDGES: {sorted(gone)}"
    # Each known edge still closes a cycle (else it is no excuse): with it back, there is one.
    for pair in KNOWN_CYCLE_EDGES:
        back = {(e.path, e.line) for e in known if (e.source, e.target) == pair}
        with_it = [e for e in graph if e not in known or (e.path, e.line) in back]
        assert find_cycle(with_it) is not None, f"{pair} closes no cycle: delete it"


def test_only_the_cli_imports_the_cli() -> None:
    offending = cli_imports(edges())
    assert not offending, "library code imports the CLI: " + " ; ".join(map(str, offending))


def test_the_graph_is_read_from_the_source(tmp_path: Path) -> None:
    # A small package of our own: the checks above fail for the right reason, naming the edge.
    pkg = tmp_path / "digest"
    (pkg / "cli").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "cli" / "__init__.py").write_text("from ..a import f\n")
    (pkg / "a.py").write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    from .cli import main\n"  # never runs: no edge
        "def f():\n"
        "    from . import b\n"  # inside a function: an edge all the same
    )
    (pkg / "b.py").write_text("import digest.c\nfrom .cli.run import go\n")
    (pkg / "c.py").write_text("x = 1\n")
    (pkg / "cli" / "run.py").write_text("from . import helpers\n")
    (pkg / "cli" / "helpers.py").write_text("")
    graph = edges(pkg)
    assert {str(e) for e in graph} == {
        "digest.cli -> digest.a (digest/cli/__init__.py:1)",
        "digest.a -> digest.b (digest/a.py:5)",
        "digest.b -> digest.c (digest/b.py:1)",
        # digest.cli.run is imported after its package, digest.cli, runs: an edge to both.
        "digest.b -> digest.cli.run (digest/b.py:2)",
        "digest.b -> digest.cli (digest/b.py:2)",
        # Inside digest.cli its package is already being imported: no edge back to it.
        "digest.cli.run -> digest.cli.helpers (digest/cli/run.py:1)",
    }
    # b imports the cli, whose __init__ imports a, which imports b: that is a cycle.
    cycle = find_cycle(graph)
    assert cycle is not None and {str(e) for e in cycle} == {
        "digest.cli -> digest.a (digest/cli/__init__.py:1)",
        "digest.a -> digest.b (digest/a.py:5)",
        "digest.b -> digest.cli (digest/b.py:2)",
    }
    assert [str(e) for e in cli_imports(graph)] == [
        "digest.b -> digest.cli.run (digest/b.py:2)",
        "digest.b -> digest.cli (digest/b.py:2)",
    ]

    (pkg / "b.py").write_text("import digest.c\n")
    graph = edges(pkg)
    assert find_cycle(graph) is None and cli_imports(graph) == []

    (pkg / "c.py").write_text("from .a import f\nfrom .cli import main\n")
    graph = edges(pkg)
    cycle = find_cycle(graph)
    assert cycle is not None
    assert {str(e) for e in cycle} == {
        "digest.a -> digest.b (digest/a.py:5)",
        "digest.b -> digest.c (digest/b.py:1)",
        "digest.c -> digest.a (digest/c.py:1)",
    }
    assert [str(e) for e in cli_imports(graph)] == ["digest.c -> digest.cli (digest/c.py:2)"]
