"""The import graph of src/proveo has no cycles, read from the source with `ast`.

Every import counts: at the top, inside functions and under `if TYPE_CHECKING:`. A cycle hidden
in a function or a type-only block is still two modules that each need the other.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"


def _module_names() -> dict[str, Path]:
    names = {}
    for path in (SRC / "proveo").rglob("*.py"):
        parts = path.relative_to(SRC).with_suffix("").parts
        names[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return names


MODULES = _module_names()


def _imported_names(source: str, package: str) -> set[str]:
    """Every dotted name an `import` or `from ... import` anywhere in the source can load."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            names.add(base)
            # `from proveo.accounts import service` loads the module proveo.accounts.service.
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def _project_module(name: str) -> str | None:
    """The module of src/proveo a dotted name lives in (an attribute resolves to its module)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _imports(module: str) -> set[str]:
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = {_project_module(name) for name in _imported_names(path.read_text(), package)}
    # A package's own __init__ is loaded on the way to any of its modules: not an edge.
    return {name for name in found if name is not None and not module.startswith(f"{name}.")}


GRAPH = {module: _imports(module) - {module} for module in MODULES}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, edges = work[-1]
            child = next(edges, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    cycles.append(sorted(component))
    return cycles


class TestImportGraph:
    def test_no_module_of_proveo_takes_part_in_an_import_cycle(self) -> None:
        assert _cycles(GRAPH) == []

    def test_accounts_service_does_not_import_companies(self) -> None:
        """Companies depend on accounts: retiring an account's company is in accounts.lifecycle."""
        assert not {m for m in GRAPH["proveo.accounts.service"] if m.startswith("proveo.companies")}

    def test_demo_repository_does_not_import_the_generator(self) -> None:
        assert "proveo.demo.synthetic" not in GRAPH["proveo.demo.repository"]
        assert "proveo.demo.schemas" in GRAPH["proveo.demo.repository"]


class TestTheCheckSeesEveryImport:
    """The check is only as good as its reading of the source: hidden imports count too."""

    def test_reads_imports_inside_functions_and_type_checking_blocks(self) -> None:
        source = (
            "from typing import TYPE_CHECKING\n"
            "if TYPE_CHECKING:\n"
            "    from proveo.demo.synthetic import SyntheticCompany\n"
            "def later():\n"
            "    from proveo.companies import service as companies_service\n"
            "    import proveo.catalog.data\n"
        )
        found = {_project_module(n) for n in _imported_names(source, "proveo.accounts")}
        assert {"proveo.demo.synthetic", "proveo.companies.service", "proveo.catalog.data"} <= found

    def test_resolves_relative_imports(self) -> None:
        found = _imported_names("from . import repository\nfrom ..core import db\n", "proveo.demo")
        assert {"proveo.demo.repository", "proveo.core.db"} <= found

    def test_finds_a_cycle_however_long(self) -> None:
        graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
        assert _cycles(graph) == [["a", "b", "c"]]
        assert _cycles({"a": {"b"}, "b": set()}) == []
