"""The GUI's OpenGL choice on Windows: ANGLE when desktop OpenGL is older than Kivy needs.
(The WGL query itself is Windows-only and type-checked with `mypy --platform win32`.)"""

from __future__ import annotations

import pytest

from bridge_app.ui._gl import ANGLE_BACKEND, choose_gl_backend


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
