"""LiteLLM's bundled tiktoken files, usable whatever their line endings (no LiteLLM import:
this runs before LiteLLM is imported)."""

from __future__ import annotations

import importlib.util
import os
import re
from pathlib import Path

from bridge_app.runtime import BridgeError, atomic_write


def lf_tokenizer_copies(source: Path, target: Path) -> bool:
    """Copies of the tiktoken files in ``source`` with LF line endings, in ``target``, when those
    in ``source`` have CRLF: LiteLLM's win_amd64 wheels (1.106.2, 1.109.3), and so the
    Windows bundle, ship them so, tiktoken rejects them by their hash, deletes them and
    downloads them again, and offline every token count (so every request) failed. False,
    writing nothing, when the files are fine as they are or cannot be read or copied."""
    try:
        files = [f for f in source.iterdir() if re.fullmatch(r"[0-9a-f]{40}", f.name)]
        contents = {f.name: f.read_bytes() for f in files}
    except OSError:
        return False
    if not any(b"\r\n" in data for data in contents.values()):
        return False
    try:
        for name, data in contents.items():
            fixed = data.replace(b"\r\n", b"\n")
            path = target / name
            if not path.is_file() or path.read_bytes() != fixed:
                atomic_write(path, fixed, mode=0o644, make_parents=True)
    except (OSError, BridgeError):
        return False
    return True


def _bundled_tokenizers() -> Path | None:
    spec = importlib.util.find_spec("litellm")
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    return Path(locations[0]) / "litellm_core_utils" / "tokenizers" if locations else None


def use_lf_tokenizers(folder: Path) -> None:
    """Before LiteLLM is imported: when its bundled tiktoken files have CRLF, point it at
    LF copies in ``folder`` (LiteLLM honours CUSTOM_TIKTOKEN_CACHE_DIR)."""
    if "CUSTOM_TIKTOKEN_CACHE_DIR" in os.environ:
        return
    bundled = _bundled_tokenizers()
    if bundled is not None and lf_tokenizer_copies(bundled, folder):
        os.environ["CUSTOM_TIKTOKEN_CACHE_DIR"] = str(folder)
