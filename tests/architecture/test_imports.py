"""The import graph of the project (docs/architecture.md): no import cycle anywhere under apps/,
between apps or inside one, and no project module imported inside a function, where an import
hides a cycle instead of removing it. The layers themselves are import-linter's contracts
(pyproject.toml, `lint-imports` in .ci/run).

One kind of function-level import is allowed by rule: inside an `AppConfig.ready()`. Django
imports apps.py before any model may be imported, and ready() is where it asks an app to wire
its signals and hooks, which need the models (a documented non-cycle reason, not a dodge).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator, Mapping
from functools import cache
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[2]
PROJECT_PACKAGES = ("apps", "config")

# "path:line" → why that function-level import of a project module is not a dodged cycle.
# Heavy optional libraries are not project modules; nothing is listed here.
ALLOWED_FUNCTION_LEVEL_IMPORTS: dict[str, str] = {}


@cache
def _graph() -> grimp.ImportGraph:
    return grimp.build_graph("apps", include_external_packages=False)


def _edges(graph: grimp.ImportGraph) -> dict[str, set[str]]:
    return {module: set(graph.find_modules_directly_imported_by(module)) for module in graph.modules}


def import_cycles(edges: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """The groups of modules that import each other, directly or round a loop (strongly connected
    components of more than one module, or a module importing itself); Tarjan's, iteratively."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for start in sorted(edges):
        if start in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(edges.get(start, ()))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
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
                if len(component) > 1 or node in edges.get(node, ()):
                    found.append(sorted(component))
    return sorted(found)


def _is_project_import(node: ast.Import | ast.ImportFrom) -> bool:
    if isinstance(node, ast.ImportFrom):
        return node.level > 0 or (node.module or "").split(".")[0] in PROJECT_PACKAGES
    return any(alias.name.split(".")[0] in PROJECT_PACKAGES for alias in node.names)


def _is_app_config(node: ast.ClassDef) -> bool:
    return any(ast.unparse(base).split(".")[-1] == "AppConfig" for base in node.bases)


def function_level_imports(source: str) -> list[tuple[int, str]]:
    """(line, import) for every import of a project module inside a function, except in an
    AppConfig's ready()."""
    found: list[tuple[int, str]] = []

    def visit(node: ast.AST, in_function: bool, in_app_config: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import | ast.ImportFrom):
                if in_function and _is_project_import(child):
                    found.append((child.lineno, ast.unparse(child)))
            elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                ready = in_app_config and isinstance(child, ast.FunctionDef) and child.name == "ready"
                if ready:
                    continue
                visit(child, True, False)
            elif isinstance(child, ast.ClassDef):
                visit(child, in_function, _is_app_config(child))
            else:
                visit(child, in_function, in_app_config)

    visit(ast.parse(source), False, False)
    return found


def test_no_module_under_apps_is_part_of_an_import_cycle():
    assert import_cycles(_edges(_graph())) == []


def test_no_project_module_is_imported_inside_a_function():
    offenders = []
    for package in PROJECT_PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            for line, statement in function_level_imports(path.read_text()):
                where = f"{path.relative_to(ROOT)}:{line}"
                if where not in ALLOWED_FUNCTION_LEVEL_IMPORTS:
                    offenders.append(f"{where}: {statement}")
    assert offenders == []


def test_the_graph_holds_the_apps_and_their_imports():
    """The two tests above look at the real graph, not an empty one."""
    edges = _edges(_graph())
    assert "apps.transfers.services" in edges["apps.transfers.tasks"]
    assert "apps.core.encrypted_fields" in edges["apps.people.models"]


def test_a_cycle_is_found_round_a_loop_and_inside_one_app():
    edges = {
        "apps.a.services": {"apps.a.tasks", "apps.core.x"},
        "apps.a.tasks": {"apps.a.services"},
        "apps.b.models": {"apps.c.selectors"},
        "apps.c.selectors": {"apps.d.services"},
        "apps.d.services": {"apps.b.models"},
        "apps.core.x": set(),
        "apps.e.self": {"apps.e.self"},
    }

    assert import_cycles(edges) == [
        ["apps.a.services", "apps.a.tasks"],
        ["apps.b.models", "apps.c.selectors", "apps.d.services"],
        ["apps.e.self"],
    ]


def test_a_function_level_project_import_is_found_but_not_in_app_config_ready():
    source = """
from apps.core import crypto
import json


def enqueue():
    from apps.people.tasks import send
    import secrets


class Thing:
    def method(self):
        import apps.people.models
        from . import sibling


class PeopleConfig(AppConfig):
    def ready(self):
        from apps.people import signals

    def other(self):
        from apps.people import selectors
"""

    assert function_level_imports(source) == [
        (7, "from apps.people.tasks import send"),
        (13, "import apps.people.models"),
        (14, "from . import sibling"),
        (22, "from apps.people import selectors"),
    ]
