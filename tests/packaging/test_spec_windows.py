"""The PyInstaller spec's Windows branch, read from Linux (the Windows build runs in CI only):
Kivy's SDL2 / GLEW / ANGLE DLL folders are bundled, and there are two executables, a
console CLI and a windowed GUI, collected into the one folder."""

from __future__ import annotations

import ast
from pathlib import Path

SPEC = Path(__file__).resolve().parents[2] / "packaging" / "litellm-bridge.spec"


def _tree() -> ast.Module:
    return ast.parse(SPEC.read_text(encoding="utf-8"), filename=str(SPEC))


def _is_win32_test(node: ast.expr) -> bool:
    return (
        isinstance(node, ast.Compare)
        and ast.unparse(node.left) == "sys.platform"
        and isinstance(node.ops[0], ast.Eq)
        and isinstance(node.comparators[0], ast.Constant)
        and node.comparators[0].value == "win32"
    )


def _windows_branches(tree: ast.Module) -> list[ast.If]:
    return [n for n in ast.walk(tree) if isinstance(n, ast.If) and _is_win32_test(n.test)]


def _calls(nodes: list[ast.stmt] | ast.Module, name: str) -> list[ast.Call]:
    roots = nodes.body if isinstance(nodes, ast.Module) else nodes
    return [
        n
        for root in roots
        for n in ast.walk(root)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == name
    ]


def _kw(call: ast.Call, name: str) -> object:
    for keyword in call.keywords:
        if keyword.arg == name:
            return ast.literal_eval(keyword.value) if name != "icon" else ast.unparse(keyword.value)
    return None


def test_windows_branch_bundles_sdl2_glew_and_angle_dep_bins() -> None:
    windows = [stmt for branch in _windows_branches(_tree()) for stmt in branch.body]
    imports = {
        alias.name
        for stmt in windows
        if isinstance(stmt, ast.ImportFrom) and stmt.module == "kivy_deps"
        for alias in stmt.names
    }
    assert {"sdl2", "glew", "angle"} <= imports
    text = "\n".join(ast.unparse(stmt) for stmt in windows)
    for dep in ("sdl2", "glew", "angle"):
        assert f"{dep}.dep_bins" in text
    assert _calls(windows, "Tree"), "the DLL folders must be added as Trees"


def test_windows_builds_a_console_cli_and_a_windowed_gui_in_one_folder() -> None:
    tree = _tree()
    windows = [stmt for branch in _windows_branches(tree) for stmt in branch.body]
    everywhere = {_kw(call, "name"): call for call in _calls(tree, "EXE")}
    assert _kw(everywhere["litellm-bridge"], "console") is True
    gui = {_kw(call, "name"): call for call in _calls(windows, "EXE")}
    assert set(gui) == {"litellm-bridge-gui"}, "the GUI executable is Windows-only"
    assert _kw(gui["litellm-bridge-gui"], "console") is False
    (collect,) = _calls(tree, "COLLECT")
    collected = [ast.unparse(arg) for arg in collect.args]
    assert collected[0] == "exe"
    assert "*gui_exes" in collected and "*kivy_dep_bins" in collected
    assert _kw(collect, "name") == "litellm-bridge"


def test_linux_keeps_one_console_executable_and_no_kivy_deps() -> None:
    """Outside the Windows branch the lists start empty: Linux builds exactly as before."""
    tree = _tree()
    top = {
        ast.unparse(stmt.targets[0]): ast.unparse(stmt.value)
        for stmt in tree.body
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1
    }
    assert top["gui_exes"] == "[]"
    assert top["kivy_dep_bins"] == "[]"
