"""The update root this machine trusts, read without importing python-tuf."""

from __future__ import annotations

from pathlib import Path


def trusted_root(metadata_dir: Path) -> bytes | None:
    """The newest root this machine trusts: the highest ``root_history/<n>.root.json``
    python-tuf keeps (each verified against the one before), else the ``root.json`` an admin
    installed. Read directly rather than through python-tuf's ``root.json`` link to the
    newest: where a link cannot be made as python-tuf makes it (measured under Wine: after
    the first check it was gone), the next check would find no root at all."""
    history = metadata_dir / "root_history"
    numbered = []
    if history.is_dir():
        for path in history.glob("*.root.json"):
            version = path.name.split(".", 1)[0]
            if version.isdigit():
                numbered.append((int(version), path))
    candidates = [path for _, path in sorted(numbered, reverse=True)]
    for path in [*candidates, metadata_dir / "root.json"]:
        try:
            return path.read_bytes()
        except OSError:
            continue
    return None
