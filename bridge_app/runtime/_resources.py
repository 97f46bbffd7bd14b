from __future__ import annotations

import sys
from functools import cache
from pathlib import Path

from bridge_app.runtime._errors import BridgeError

RESOURCE_KINDS = ("kv", "assets", "configs")
_PACKAGE_DIR = Path(__file__).resolve().parent.parent


@cache
def _resource_root(kind: str) -> Path:
    candidates: list[Path] = []
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root:  # PyInstaller bundle: packaging/ puts the folders at the bundle root
        candidates.append(Path(frozen_root) / kind)
    candidates.append(_PACKAGE_DIR / "_data" / kind)  # built wheel (see pyproject force-include)
    candidates.append(_PACKAGE_DIR.parent / kind)  # source checkout / editable install
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    tried = ", ".join(str(c) for c in candidates)
    raise BridgeError(
        f"The application's {kind!r} folder is missing (looked in {tried}).",
        hint="The installation is incomplete: reinstall LiteLLM Bridge.",
    )


def resource_path(kind: str, *parts: str) -> Path:
    """Path of a file shipped with the app, in every form it runs (source, wheel, bundle).

    Never relative to the current directory: the app may be started from anywhere.
    """
    if kind not in RESOURCE_KINDS:
        raise ValueError(f"unknown resource kind {kind!r}; expected one of {RESOURCE_KINDS}")
    return _resource_root(kind).joinpath(*parts)
