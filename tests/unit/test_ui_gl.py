"""The GUI's OpenGL choice on Windows: ANGLE when desktop OpenGL is older than Kivy needs.
(The WGL query itself is Windows-only and type-checked with `mypy --platform win32`.)"""

from __future__ import annotations

import sys

import pytest

from bridge_app.ui._gl import ANGLE_BACKEND, choose_gl_backend
from tests.conftest import UNDER_WINE

# Touches Windows branches: runs in the Windows leg too (scripts/windows/test.sh).
pytestmark = pytest.mark.windows


@pytest.mark.parametrize(
    ("reported", "expected"),
    [
        ("1.1.0", ANGLE_BACKEND),  # Microsoft "GDI Generic": VMs, Remote Desktop, no driver
        (None, ANGLE_BACKEND),  # no pixel format / no context at all
        ("garbage", ANGLE_BACKEND),
        ("2.1.0 - Build 9.17.10.4459", None),
        ("4.6.0 NVIDIA 552.44", None),
    ],
)
def test_angle_only_when_desktop_opengl_is_too_old(
    reported: str | None, expected: str | None
) -> None:
    backend, reason = choose_gl_backend({}, lambda: reported)
    assert backend == expected
    if expected:
        assert ("1.1.0" in reason and "needs 2.0" in reason) or reported != "1.1.0"


def test_an_explicit_backend_is_respected_without_probing() -> None:
    def probe() -> str:
        raise AssertionError("must not probe when the user chose a backend")

    backend, reason = choose_gl_backend({"KIVY_GL_BACKEND": "glew"}, probe)
    assert backend is None
    assert "glew" in reason


# Antialiasing: no MSAA on a software renderer (a redraw costs ~2.5x with it on llvmpipe).

from pathlib import Path  # noqa: E402

from bridge_app.ui._gl import (  # noqa: E402
    MSAA_KEY,
    RENDERER_FILE,
    choose_antialiasing,
    is_software_renderer,
    prepare_antialiasing,
    remember_renderer,
)

LLVMPIPE = "llvmpipe (LLVM 15.0.6, 256 bits)"
NVIDIA = "NVIDIA GeForce RTX 3060/PCIe/SSE2"


@pytest.mark.parametrize(
    ("renderer", "software"),
    [
        (LLVMPIPE, True),
        ("softpipe", True),
        ("Software Rasterizer", True),
        ("Google SwiftShader", True),
        ("ANGLE (Microsoft, Microsoft Basic Render Driver Direct3D11 vs_5_0 ps_5_0)", True),
        ("GDI Generic", True),
        (NVIDIA, False),
        ("Mesa Intel(R) UHD Graphics 620 (KBL GT2)", False),
        ("AMD Radeon RX 6600 (radeonsi, navi23, LLVM 15.0.6, DRM 3.49)", False),
    ],
)
def test_software_renderers_are_recognised(renderer: str, software: bool) -> None:
    assert is_software_renderer(renderer) is software


def _gpu() -> list[str]:
    return ["/dev/dri/renderD128"]


def _no_gpu() -> list[str]:
    return []


def test_antialiasing_choice() -> None:
    linux = {"platform": "linux"}
    # The user's or IT's own setting always wins.
    assert choose_antialiasing({MSAA_KEY: "4"}, LLVMPIPE, gpu_nodes=_no_gpu, **linux)[0] is None
    # Mesa's switches for software rendering.
    samples, reason = choose_antialiasing({"LIBGL_ALWAYS_SOFTWARE": "1"}, NVIDIA, gpu_nodes=_gpu)
    assert (samples, "LIBGL_ALWAYS_SOFTWARE" in reason) == ("0", True)
    assert choose_antialiasing({"GALLIUM_DRIVER": "llvmpipe"}, None, gpu_nodes=_gpu)[0] == "0"
    # What the last start drew with, on any platform.
    samples, reason = choose_antialiasing({}, LLVMPIPE, platform="win32")
    assert samples == "0" and "llvmpipe" in reason
    assert choose_antialiasing({}, NVIDIA, gpu_nodes=_no_gpu, **linux)[0] is None
    # First start: Linux without any GPU device node draws with Mesa's software renderer.
    assert choose_antialiasing({}, None, gpu_nodes=_no_gpu, **linux)[0] == "0"
    assert choose_antialiasing({}, None, gpu_nodes=_gpu, **linux)[0] is None
    assert choose_antialiasing({}, None, platform="win32", gpu_nodes=_no_gpu)[0] is None


def test_the_renderer_seen_decides_the_next_start(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cache = tmp_path / "cache"
    env: dict[str, str] = {"GALLIUM_DRIVER": ""}
    # A start with MSAA on a software renderer says so, and the next start goes without.
    with caplog.at_level("INFO"):
        remember_renderer(cache, LLVMPIPE + "\n", 2)
    assert (cache / RENDERER_FILE).read_text(encoding="utf-8") == LLVMPIPE + "\n"
    assert "the next start draws without it" in caplog.text
    assert prepare_antialiasing(cache, env) == "0"
    assert env[MSAA_KEY] == "0"
    # The machine got a GPU driver: that start still went without MSAA (no warning), the
    # one after it gets Kivy's default back.
    caplog.clear()
    with caplog.at_level("INFO"):
        remember_renderer(cache, NVIDIA, 0)
    assert "slower" not in caplog.text
    env = {}
    assert prepare_antialiasing(cache, env) is None
    assert MSAA_KEY not in env


def test_an_unreadable_renderer_file_is_no_renderer(tmp_path: Path) -> None:
    (tmp_path / RENDERER_FILE).write_bytes(b"\xff\xfe\x00garbage")
    # Decided as on a first start: by the GPU device nodes on Linux.
    env: dict[str, str] = {}
    assert prepare_antialiasing(tmp_path, env, platform="linux", gpu_nodes=_gpu) is None
    assert MSAA_KEY not in env
    assert prepare_antialiasing(tmp_path, env, platform="linux", gpu_nodes=_no_gpu) == "0"
    # And the renderer seen replaces it.
    remember_renderer(tmp_path, NVIDIA, 2)
    assert (tmp_path / RENDERER_FILE).read_text(encoding="utf-8").strip() == NVIDIA


def test_a_multisamples_setting_that_is_no_number_is_ignored(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Kivy itself cannot open a window over it; the app says so and decides as usual.
    env = {MSAA_KEY: "abc"}
    with caplog.at_level("WARNING"):
        samples = prepare_antialiasing(tmp_path, env, platform="linux", gpu_nodes=_no_gpu)
    assert samples == "0" and env[MSAA_KEY] == "0"
    assert "KCFG_GRAPHICS_MULTISAMPLES='abc' is not a number of samples" in caplog.text
    env = {MSAA_KEY: "4"}
    assert prepare_antialiasing(tmp_path, env, platform="linux", gpu_nodes=_no_gpu) is None
    assert env[MSAA_KEY] == "4"


@pytest.mark.skipif(sys.platform != "win32", reason="the AppUserModelID is Windows'")
@pytest.mark.skipif(
    UNDER_WINE, reason="Wine does not implement GetCurrentProcessExplicitAppUserModelID"
)
def test_the_taskbar_knows_the_window_as_litellm_bridge() -> None:
    """Windows groups a window on the taskbar by its process's AppUserModelID (else by the
    executable: python.exe)."""
    import ctypes
    from ctypes import wintypes

    from bridge_app.ui._app import APP_USER_MODEL_ID, name_the_app_for_the_taskbar

    name_the_app_for_the_taskbar()
    shell32 = ctypes.windll.shell32  # type: ignore[attr-defined,unused-ignore]
    found = wintypes.LPWSTR()
    assert shell32.GetCurrentProcessExplicitAppUserModelID(ctypes.byref(found)) == 0
    assert found.value == APP_USER_MODEL_ID
    ctypes.windll.ole32.CoTaskMemFree(found)  # type: ignore[attr-defined,unused-ignore]
