"""The layout holds (docs/architecture.md): no import circles among the application's modules,
no module over 400 lines, services that speak the domain (no HTTP, no Flask), and a policy
that only decides. Read from the source, without running it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "partnership_api"
MAX_LINES = 400
# A web framework: what the core and the ground never import, directly or through a module of
# the application. Two seams only: ``context.py`` hands them the request's facts and the
# settings (it alone touches Flask's ``g``, ``request`` and ``current_app``), and
# ``database.py`` holds Flask-SQLAlchemy's ``db`` (the one module that imports
# flask_sqlalchemy). A seam is checked for what it may import, and not walked through.
WEB = (
    "flask",
    "flask_smorest",
    "werkzeug",
    "flask_jwt_extended",
    "flask_limiter",
    "flask_migrate",
    "flask_sqlalchemy",
    "flask_wtf",
)
SEAMS = {
    "partnership_api.context": ("flask",),
    "partnership_api.database": ("flask_sqlalchemy",),
}
# The doors: the API (its views, its Api and Blueprints, its request hooks and error handler,
# the extensions it binds), the pages, the CLI, the worker's entry, the directory's views.
DOORS = (
    "partnership_api.resources",
    "partnership_api.web",
    "partnership_api.smorest",
    "partnership_api.api_auth",
    "partnership_api.extensions",
    "partnership_api.errors",
    "partnership_api.ratelimits",
    "partnership_api.query_args",
    "partnership_api.observability",
    "partnership_api.metrics_endpoint",
    "partnership_api.replica",
    "partnership_api.docs_assets",
    "partnership_api.openapi_doc",
    "partnership_api.cli",
    "partnership_api.events.cli",
    "partnership_api.events.delivery",
    "partnership_api.oruk",
    "partnership_api.schemas",
    "partnership_api.openapi_facts",
    "partnership_api.demo",
    "partnership_api.demo_directory",
    "partnership_api.demo_funding",
    "partnership_api.demo_safe_accommodation",
)
# The core (services, the policy, the domain errors) and the ground under it.
CORE_AND_GROUND = (
    "partnership_api.services",
    "partnership_api.policy",
    "partnership_api.policy_referrals",
    "partnership_api.policy_events",
    "partnership_api.policy_safe_accommodation",
    "partnership_api.misuse_rules",
    "partnership_api.domain_errors",
    "partnership_api.actors",
    "partnership_api.auth",
    "partnership_api.audit",
    "partnership_api.direct",
    "partnership_api.pagination",
    "partnership_api.transactions",
    "partnership_api.context",
    "partnership_api.database",
    "partnership_api.metrics",
    "partnership_api.models",
    "partnership_api.events",
    "partnership_api.settings",
    "partnership_api.settings_checks",
    "partnership_api.areas",
    "partnership_api.local_authorities",
    "partnership_api.migrations_state",
)


def _is(name: str, prefixes: tuple[str, ...] | dict) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


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


def test_the_transaction_module_imports_nothing_of_the_application_but_the_context():
    imported = {
        i
        for i in _imports("partnership_api.transactions")
        if i in _graph()["partnership_api.transactions"]
    }
    assert imported <= {"partnership_api.context"}


def _leaks(name: str, graph: dict[str, set[str]], imports: dict[str, set[str]]) -> list[str]:
    """What ``name`` reaches that the core and the ground may not: a door, or a web framework
    imported by any module it imports, however indirectly (a seam only as it is allowed)."""
    found, seen, todo = [], set(), [name]
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        if _is(module, DOORS):
            found.append(f"{module} (a door)")
            continue
        allowed = SEAMS.get(module, ())
        found += [
            f"{module} imports {i}"
            for i in sorted(imports[module])
            if _is(i, WEB) and not _is(i, allowed)
        ]
        if module not in SEAMS:
            todo += graph[module]
    return sorted(found)


@pytest.mark.parametrize(
    "name",
    sorted(n for n in MODULES if _is(n, CORE_AND_GROUND) and not _is(n, DOORS)),
)
def test_the_core_and_the_ground_reach_no_door_and_no_web_framework(name):
    graph = _graph()
    assert not _leaks(name, graph, {n: _imports(n) for n in graph}), name


def test_the_checker_sees_a_leak_however_deep():
    graph = {
        "partnership_api.services.a": {"partnership_api.audit"},
        "partnership_api.audit": {"partnership_api.database", "partnership_api.context"},
        "partnership_api.database": set(),
        "partnership_api.context": set(),
        "partnership_api.services.b": {"partnership_api.pagination"},
        "partnership_api.pagination": {"partnership_api.extensions"},
        "partnership_api.extensions": set(),
    }
    imports = {n: set(edges) for n, edges in graph.items()}
    imports["partnership_api.context"].add("flask")
    imports["partnership_api.database"].add("flask_sqlalchemy")
    assert _leaks("partnership_api.services.a", graph, imports) == []
    imports["partnership_api.audit"].add("flask")  # audit reading Flask's g itself
    imports["partnership_api.database"].add("flask_limiter")  # the db module growing a limiter
    assert _leaks("partnership_api.services.a", graph, imports) == [
        "partnership_api.audit imports flask",
        "partnership_api.database imports flask_limiter",
    ]
    assert _leaks("partnership_api.services.b", graph, imports) == [
        "partnership_api.extensions (a door)"
    ]


def test_every_module_is_a_door_or_in_the_core_or_the_ground():
    # the package itself is the app factory, which assembles the doors
    placed = [n for n in MODULES if _is(n, DOORS) or _is(n, CORE_AND_GROUND)]
    assert set(MODULES) - set(placed) == {"partnership_api"}


def test_the_checker_sees_a_circle_when_there_is_one():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None
