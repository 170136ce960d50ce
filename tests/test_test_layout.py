"""How the tests are laid out: a test module imports what it shares from tests/factories.py
(or a fixture from conftest.py), never from another test module, so a test can be moved,
renamed or deleted without breaking a stranger's."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent


def imported_modules(source: str, package: str) -> list[tuple[int, str]]:
    """Every module a file of ``package`` imports, by line (relative imports resolved)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                module = f"{base}.{node.module}" if node.module else base
                found += [(node.lineno, f"{module}.{alias.name}") for alias in node.names]
            elif node.module:
                found += [(node.lineno, node.module)]
                found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return found


def is_test_module(name: str) -> bool:
    parts = name.split(".")
    return parts[0] == "tests" and any(part.startswith("test_") for part in parts[1:])


def test_no_test_module_imports_another_test_module():
    offences = [
        f"{path.relative_to(TESTS.parent)}:{line} imports {name}"
        for path in sorted(TESTS.rglob("*.py"))
        for line, name in imported_modules(
            path.read_text(), ".".join(path.relative_to(TESTS.parent).parent.parts)
        )
        if is_test_module(name)
    ]
    assert not offences, "shared helpers belong in tests/factories.py:\n" + "\n".join(offences)


def test_the_rule_sees_every_way_of_importing_a_test_module():
    """The check itself can fail: each of these imports is caught, the last one is not."""
    sample = (
        "import tests.test_holds\n"
        "from tests.test_holds import hold\n"
        "from tests import test_holds\n"
        "from .test_holds import hold\n"
        "from . import test_holds\n"
        "def later():\n"
        "    from tests.browser.test_journeys import x\n"
        "from tests.factories import hold\n"
    )
    found = imported_modules(sample, "tests")
    caught = sorted({line for line, name in found if is_test_module(name)})
    assert caught == [1, 2, 3, 4, 5, 7]
