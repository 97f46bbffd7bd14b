"""Reading and writing config files (atomic writes come from bridge_app.runtime)."""

from __future__ import annotations

from pathlib import Path

from bridge_app.runtime import BridgeError, atomic_write


def atomic_write_bytes(path: Path, data: bytes, *, mode: int = 0o600) -> None:
    atomic_write(path, data, mode=mode, make_parents=True)


def read_limited(path: Path, limit: int) -> bytes:
    """The file's bytes, refusing more than ``limit`` (read limit + 1 to notice)."""
    try:
        with path.open("rb") as fh:
            return fh.read(limit + 1)
    except FileNotFoundError as exc:
        raise BridgeError(f"The file {path} does not exist.") from exc
    except IsADirectoryError as exc:
        raise BridgeError(f"{path} is a folder, not a config file.") from exc
    except OSError as exc:
        raise BridgeError(f"Cannot read {path}: {exc.strerror or exc}.") from exc
