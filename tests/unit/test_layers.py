"""Each sub-package keeps its private modules to itself: no package imports another's
``_module`` (import-linter, run by the test command, checks the other layering rules)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "bridge_app"


def _imports(path: Path) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.append((node.lineno, node.module))
        elif isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
    return found


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
