"""The layout holds (docs/architecture.md): no import circles among the application's modules,
no module over 400 lines, services that speak the domain (no HTTP, no Flask), and a policy
that only decides. Read from the source, without running it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "partnership_api"
MAX_LINES = 400
WEB = ("flask", "flask_smorest", "werkzeug", "flask_jwt_extended", "flask_limiter")


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _imports(name: str) -> set[str]:
    """Every module this one imports, at the top or inside a function."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                base = f"{base}.{node.module}" if node.module else base
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def _graph() -> dict[str, set[str]]:
    """Import edges between the application's modules. ``from partnership_api import audit``
    is an edge to ``partnership_api.audit``; the package itself (the app factory) is left out,
    since nothing imports it but the entry points."""
    graph = {}
    for name in MODULES:
        edges = {i for i in _imports(name) if i in MODULES and i != "partnership_api"}
        graph[name] = edges - {name}
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return path[path.index(nxt) :] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_no_module_imports_one_that_imports_it_back():
    cycle = _cycle(_graph())
    assert cycle is None, " → ".join(cycle or [])


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_module_is_over_400_lines(name):
    lines = len(MODULES[name].read_text().splitlines())
    assert lines <= MAX_LINES, f"{name} has {lines} lines"


@pytest.mark.parametrize(
    "name", sorted(n for n in MODULES if n.startswith("partnership_api.services."))
)
def test_services_speak_the_domain_not_http(name):
    for imported in _imports(name):
        assert not imported.startswith(WEB), f"{name} imports {imported}"
        assert not imported.startswith("partnership_api.resources"), f"{name} imports {imported}"


@pytest.mark.parametrize("name", ["partnership_api.policy", "partnership_api.domain_errors"])
def test_the_policy_and_the_domain_errors_know_no_web_framework(name):
    for imported in _imports(name):
        assert not imported.startswith(WEB), f"{name} imports {imported}"


def test_the_transaction_module_imports_nothing_of_the_application():
    assert not {i for i in _imports("partnership_api.transactions") if i in MODULES}


def test_the_checker_sees_a_circle_when_there_is_one():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None
