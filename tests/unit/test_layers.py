"""Each sub-package keeps its private modules to itself: no package imports another's
``_module`` (import-linter, run by the test command, checks the other layering rules)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "bridge_app"


def _imports(path: Path) -> list[tuple[int, str]]:
    """Import statements, and ``importlib.import_module("literal")`` / ``__import__`` calls
    (an import the statement-only view would miss)."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.append((node.lineno, node.module))
        elif isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.Call) and _is_import_call(node.func) and node.args:
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                found.append((node.lineno, first.value))
    return found


def _is_import_call(func: ast.expr) -> bool:
    if isinstance(func, ast.Attribute):
        return func.attr == "import_module"
    return isinstance(func, ast.Name) and func.id in {"import_module", "__import__"}


def test_the_import_reader_sees_dynamic_imports(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text(
        "import importlib\nfrom importlib import import_module\n"
        'importlib.import_module("bridge_app.ui._main")\nimport_module("bridge_app.x._y")\n',
        encoding="utf-8",
    )
    assert _imports(module) == [
        (1, "importlib"),
        (2, "importlib"),
        (3, "bridge_app.ui._main"),
        (4, "bridge_app.x._y"),
    ]


def test_no_package_imports_another_packages_private_module() -> None:
    offences = []
    for path in sorted(PACKAGE.rglob("*.py")):
        own = path.relative_to(PACKAGE).parts[0]
        for line, module in _imports(path):
            parts = module.split(".")
            if parts[0] != "bridge_app" or len(parts) < 3:
                continue
            if parts[1] != own and parts[2].startswith("_") and parts[2] != "__init__":
                offences.append(f"{path.relative_to(PACKAGE.parent)}:{line} imports {module}")
    assert offences == []
