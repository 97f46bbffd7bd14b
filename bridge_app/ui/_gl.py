"""Choose Kivy's OpenGL backend and antialiasing before Kivy loads.

Antialiasing: Kivy asks for a multisampled (MSAA) window by default. A software renderer
(Mesa's llvmpipe on VMs, Xvfb and machines without a GPU driver; Microsoft's Basic Render
Driver or GDI Generic on Windows) shades every pixel once per sample: a full redraw of the
main screen took ~95 ms with it and ~39 ms without it at 1280x800 on llvmpipe (2 cores),
for a difference of a few hundred edge pixels (KivyMD draws its own antialiased lines and
rounded cards). So the window is made without MSAA when the renderer is known to be
software: from the renderer the previous start saw (remembered in the cache folder), from
Mesa's own switches, or on Linux when there is no GPU device node at all.
KCFG_GRAPHICS_MULTISAMPLES set by the user or IT wins.

Backend (Windows):

Kivy needs OpenGL 2.0. Virtual machines, Remote Desktop sessions and machines without a
GPU driver often offer only Microsoft's "GDI Generic" OpenGL 1.1, where Kivy shows a fatal
error box and quits. ANGLE (OpenGL ES over Direct3D, bundled from ``kivy_deps.angle``)
works there: when the desktop OpenGL is too old, or cannot even be queried, the app sets
``KIVY_GL_BACKEND=angle_sdl2`` and says so in the log. An explicit KIVY_GL_BACKEND wins.
No Kivy import here: this runs before Kivy is imported.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from collections.abc import Callable, Iterable, MutableMapping
from pathlib import Path

from bridge_app.runtime import BridgeError, atomic_write

log = logging.getLogger(__name__)

ANGLE_BACKEND = "angle_sdl2"
MIN_GL_VERSION = (2, 0)
_VERSION = re.compile(r"(\d+)\.(\d+)")


def choose_gl_backend(
    environ: MutableMapping[str, str], probe: Callable[[], str | None]
) -> tuple[str | None, str]:
    """(backend to force or None, the reason in words). ``probe`` returns the desktop
    OpenGL version string (e.g. "4.6.0 NVIDIA 552.44" or "1.1.0"), or None."""
    chosen = environ.get("KIVY_GL_BACKEND", "").strip()
    if chosen:
        return None, f"KIVY_GL_BACKEND is set to {chosen}"
    version_text = probe()
    if not version_text:
        return ANGLE_BACKEND, "desktop OpenGL could not be queried"
    match = _VERSION.match(version_text.strip())
    version = (int(match.group(1)), int(match.group(2))) if match else None
    if version is None or version < MIN_GL_VERSION:
        return ANGLE_BACKEND, f"desktop OpenGL is {version_text.strip()} (Kivy needs 2.0)"
    return None, f"desktop OpenGL {version_text.strip()}"


def prepare_gl_backend(environ: MutableMapping[str, str] | None = None) -> str | None:
    """On Windows, switch Kivy to ANGLE when desktop OpenGL will not do; returns the
    backend it set, if any. Elsewhere nothing to do (Mesa offers OpenGL 2+ everywhere)."""
    if sys.platform == "win32":
        env = os.environ if environ is None else environ
        backend, reason = choose_gl_backend(env, _desktop_gl_version)
        if backend is None:
            log.info("OpenGL: %s; Kivy's default backend", reason)
            return None
        env["KIVY_GL_BACKEND"] = backend
        log.warning("OpenGL: %s; using ANGLE (Direct3D): KIVY_GL_BACKEND=%s", reason, backend)
        return backend
    return None


# Substrings of GL_RENDERER that name a renderer drawing on the CPU.
SOFTWARE_RENDERERS = (
    "llvmpipe",
    "softpipe",
    "swrast",
    "software rasterizer",
    "swiftshader",
    "basic render driver",  # Windows' WARP, also behind ANGLE
    "gdi generic",
)
RENDERER_FILE = "opengl-renderer.txt"
MSAA_KEY = "KCFG_GRAPHICS_MULTISAMPLES"
_GPU_NODES = ("/dev/dri/*", "/dev/nvidia*")


def is_software_renderer(renderer: str) -> bool:
    low = renderer.lower()
    return any(name in low for name in SOFTWARE_RENDERERS)


def _gpu_nodes() -> list[str]:
    return [str(p) for pattern in _GPU_NODES for p in Path("/").glob(pattern.lstrip("/"))]


def choose_antialiasing(
    environ: MutableMapping[str, str],
    last_renderer: str | None,
    *,
    platform: str = sys.platform,
    gpu_nodes: Callable[[], Iterable[str]] = _gpu_nodes,
) -> tuple[str | None, str]:
    """(multisamples to force or None for Kivy's default, the reason in words)."""
    if environ.get(MSAA_KEY, "").strip():
        return None, f"{MSAA_KEY} is set to {environ[MSAA_KEY].strip()}"
    if environ.get("LIBGL_ALWAYS_SOFTWARE", "").strip().lower() in {"1", "true", "yes"}:
        return "0", "LIBGL_ALWAYS_SOFTWARE is set (software OpenGL)"
    driver = environ.get("GALLIUM_DRIVER", "").strip().lower()
    if driver in {"llvmpipe", "softpipe", "swr"}:
        return "0", f"GALLIUM_DRIVER is {driver} (software OpenGL)"
    if last_renderer:
        if is_software_renderer(last_renderer):
            return "0", f"the last start drew with {last_renderer} (software OpenGL)"
        return None, f"the last start drew with {last_renderer}"
    if platform.startswith("linux") and not any(True for _ in gpu_nodes()):
        return "0", "no GPU device (/dev/dri, /dev/nvidia*): Mesa draws in software"
    return None, "renderer not known yet"


_read_at_start: dict[Path, str | None] = {}  # the renderer file, as prepare read it


def _read_renderer(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8").strip() or None
    except (OSError, UnicodeDecodeError):
        return None  # none yet, or unreadable: decided as on a first start


def prepare_antialiasing(
    cache_dir: Path,
    environ: MutableMapping[str, str] | None = None,
    *,
    platform: str = sys.platform,
    gpu_nodes: Callable[[], Iterable[str]] = _gpu_nodes,
) -> str | None:
    """Before Kivy loads: no MSAA on a software renderer (see the module's docstring).
    Returns the multisamples it set, if any."""
    env = os.environ if environ is None else environ
    chosen = env.get(MSAA_KEY, "").strip()
    if chosen and not chosen.isdigit():
        # Kivy would fail to open any window over it ("Unable to get a Window").
        log.warning("%s=%r is not a number of samples (0, 2, 4): ignored", MSAA_KEY, chosen)
        del env[MSAA_KEY]
    path = cache_dir / RENDERER_FILE
    last = _read_at_start[path] = _read_renderer(path)
    samples, reason = choose_antialiasing(env, last, platform=platform, gpu_nodes=gpu_nodes)
    if samples is None:
        log.info("OpenGL antialiasing: Kivy's default (%s)", reason)
        return None
    env[MSAA_KEY] = samples
    log.info("OpenGL antialiasing off: %s", reason)
    return samples


def remember_renderer(cache_dir: Path, renderer: str, multisamples: int) -> None:
    """Once the window exists: keep GL_RENDERER for the next start's choice, and say in
    the log when this start drew a software renderer with MSAA (the next one will not)."""
    renderer = " ".join(renderer.split())[:200]
    if not renderer:
        return
    software = is_software_renderer(renderer)
    log.info("OpenGL renderer: %s%s", renderer, " (software)" if software else "")
    if software and multisamples > 0:
        log.warning(
            "OpenGL: %s draws in software with %dx antialiasing, which makes every redraw "
            "about 2.5 times slower; the next start draws without it",
            renderer,
            multisamples,
        )
    path = cache_dir / RENDERER_FILE
    known = _read_at_start.pop(path) if path in _read_at_start else _read_renderer(path)
    if known == renderer:
        return
    try:
        atomic_write(path, (renderer + "\n").encode(), mode=0o644, make_parents=True)
    except BridgeError as exc:
        log.warning("OpenGL: could not remember the renderer: %s", exc.message)


if sys.platform == "win32":
    import ctypes
    from ctypes import wintypes

    _u8 = ctypes.c_ubyte

    class _PixelFormat(ctypes.Structure):  # PIXELFORMATDESCRIPTOR
        _fields_ = (
            ("nSize", wintypes.WORD),
            ("nVersion", wintypes.WORD),
            ("dwFlags", wintypes.DWORD),
            ("iPixelType", _u8),
            ("cColorBits", _u8),
            ("cRedBits", _u8),
            ("cRedShift", _u8),
            ("cGreenBits", _u8),
            ("cGreenShift", _u8),
            ("cBlueBits", _u8),
            ("cBlueShift", _u8),
            ("cAlphaBits", _u8),
            ("cAlphaShift", _u8),
            ("cAccumBits", _u8),
            ("cAccumRedBits", _u8),
            ("cAccumGreenBits", _u8),
            ("cAccumBlueBits", _u8),
            ("cAccumAlphaBits", _u8),
            ("cDepthBits", _u8),
            ("cStencilBits", _u8),
            ("cAuxBuffers", _u8),
            ("iLayerType", _u8),
            ("bReserved", _u8),
            ("dwLayerMask", wintypes.DWORD),
            ("dwVisibleMask", wintypes.DWORD),
            ("dwDamageMask", wintypes.DWORD),
        )

    _PFD_DRAW_TO_WINDOW = 0x4
    _PFD_SUPPORT_OPENGL = 0x20
    _PFD_DOUBLEBUFFER = 0x1
    _WS_POPUP = 0x80000000
    _GL_VERSION = 0x1F02

    from bridge_app.runtime import win32_user32

    _user32 = win32_user32()
    _gdi32 = ctypes.WinDLL("gdi32", use_last_error=True)
    _opengl32 = ctypes.WinDLL("opengl32", use_last_error=True)
    _user32.GetDC.argtypes = (wintypes.HWND,)
    _user32.GetDC.restype = wintypes.HDC
    _user32.ReleaseDC.argtypes = (wintypes.HWND, wintypes.HDC)
    _gdi32.ChoosePixelFormat.argtypes = (wintypes.HDC, ctypes.POINTER(_PixelFormat))
    _gdi32.SetPixelFormat.argtypes = (wintypes.HDC, ctypes.c_int, ctypes.POINTER(_PixelFormat))
    _gdi32.SetPixelFormat.restype = wintypes.BOOL
    _opengl32.wglCreateContext.argtypes = (wintypes.HDC,)
    _opengl32.wglCreateContext.restype = wintypes.HANDLE
    _opengl32.wglMakeCurrent.argtypes = (wintypes.HDC, wintypes.HANDLE)
    _opengl32.wglMakeCurrent.restype = wintypes.BOOL
    _opengl32.wglDeleteContext.argtypes = (wintypes.HANDLE,)
    _opengl32.glGetString.argtypes = (wintypes.UINT,)
    _opengl32.glGetString.restype = ctypes.c_char_p

    def _query_version(hdc: int) -> str | None:
        pfd = _PixelFormat()
        pfd.nSize = ctypes.sizeof(_PixelFormat)
        pfd.nVersion = 1
        pfd.dwFlags = _PFD_DRAW_TO_WINDOW | _PFD_SUPPORT_OPENGL | _PFD_DOUBLEBUFFER
        pfd.cColorBits = 32
        pfd.cDepthBits = 24
        fmt = _gdi32.ChoosePixelFormat(hdc, ctypes.byref(pfd))
        if not fmt or not _gdi32.SetPixelFormat(hdc, fmt, ctypes.byref(pfd)):
            return None
        context = _opengl32.wglCreateContext(hdc)
        if not context:
            return None
        try:
            if not _opengl32.wglMakeCurrent(hdc, context):
                return None
            raw = _opengl32.glGetString(_GL_VERSION)
            return raw.decode("ascii", errors="replace") if raw else None
        finally:
            _opengl32.wglMakeCurrent(None, None)
            _opengl32.wglDeleteContext(context)

    def _desktop_gl_version() -> str | None:
        """GL_VERSION of a throwaway context on a hidden window (what Kivy would get)."""
        try:
            hwnd = _user32.CreateWindowExW(
                0, "STATIC", "gl-probe", _WS_POPUP, 0, 0, 1, 1, None, None, None, None
            )
            if not hwnd:
                return None
            hdc = _user32.GetDC(hwnd)
            try:
                return _query_version(hdc) if hdc else None
            finally:
                if hdc:
                    _user32.ReleaseDC(hwnd, hdc)
                _user32.DestroyWindow(hwnd)
        except (OSError, AttributeError, ValueError):
            return None
