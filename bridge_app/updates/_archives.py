"""The release archives an update installs from."""

from __future__ import annotations

import os
import platform
import sys
import tarfile
import zipfile
from pathlib import Path

from bridge_app.updates._errors import UpdateError

#: The program an installed version is started with.
EXECUTABLE = "litellm-bridge.exe" if os.name == "nt" else "litellm-bridge"


def platform_tag() -> str:
    """This machine as release archives name it (``linux-x86_64``, ``windows-x86_64``):
    packaging/build.py writes ``litellm-bridge-<version>-<tag>.tar.gz|.zip``."""
    system = "windows" if sys.platform == "win32" else sys.platform.rstrip("0123456789")
    machine = platform.machine().lower().replace("amd64", "x86_64")
    return f"{system}-{machine}"


def bundle_for_this_machine(channel: dict[str, object], tag: str | None = None) -> str:
    """The bundle a channel document names for this machine: its ``bundles`` map (one per
    platform tag), else its single ``bundle`` unless that one is plainly another
    platform's (refused, so a Windows machine never downloads the Linux archive)."""
    tag = tag or platform_tag()
    version = channel.get("version")
    bundles = channel.get("bundles")
    if isinstance(bundles, dict):
        name = bundles.get(tag)
        if not isinstance(name, str) or not name:
            offered = ", ".join(sorted(str(k) for k in bundles)) or "no platform"
            raise UpdateError(
                f"The update source has version {version} for {offered}, not for this "
                f"machine ({tag})."
            )
        return name
    name = str(channel.get("bundle") or "")
    system = tag.split("-", 1)[0]
    for other in ("linux", "windows", "darwin"):
        if other != system and f"-{other}-" in name:
            raise UpdateError(
                f"The update source's bundle {name} is for {other}, not this machine ({tag}).",
                hint='IT lists one bundle per platform in channels/stable.json: "bundles": '
                f'{{"{tag}": "<archive>", …}}.',
            )
    return name


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
