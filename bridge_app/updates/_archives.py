"""The release archives an update installs from."""

from __future__ import annotations

import os
import tarfile
import zipfile
from pathlib import Path

from bridge_app.updates._errors import UpdateError

#: The program an installed version is started with.
EXECUTABLE = "litellm-bridge.exe" if os.name == "nt" else "litellm-bridge"


def unpack_bundle(bundle: Path, folder: Path) -> None:
    """Unpack a release archive into ``folder`` so that the executable is at its top: a
    .zip (the Windows release) or a .tar.gz (Linux), whose files sit in one top-level
    ``litellm-bridge/`` folder as the release workflow packs them (or at the top)."""
    if zipfile.is_zipfile(bundle):
        with zipfile.ZipFile(bundle) as archive:
            for member in archive.namelist():
                if member.startswith(("/", "\\")) or ".." in Path(member).parts:
                    raise UpdateError(f"The bundle {bundle.name} has an unsafe path {member!r}.")
            archive.extractall(folder)  # noqa: S202 - every member checked above
    else:
        with tarfile.open(bundle) as archive:
            archive.extractall(folder, filter="data")
    if (folder / EXECUTABLE).is_file():
        return
    entries = list(folder.iterdir())
    if len(entries) == 1 and entries[0].is_dir() and (entries[0] / EXECUTABLE).is_file():
        # Out of the way first: on Linux the folder and the executable share the name.
        inner = entries[0].rename(folder / ".unpacked")
        for item in list(inner.iterdir()):
            item.rename(folder / item.name)
        inner.rmdir()
        return
    raise UpdateError(f"The bundle {bundle.name} has no {EXECUTABLE}.")
