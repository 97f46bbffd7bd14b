"""Updates install from the archives the release workflow publishes: a .zip on Windows and a
.tar.gz on Linux, with every file in one top-level litellm-bridge/ folder (build.py's
archive()). The installer looked for the executable at the top and opened every bundle
with tarfile."""

from __future__ import annotations

import io
import tarfile
import zipfile
from pathlib import Path

import pytest

from bridge_app.updates import EXECUTABLE, UpdateError
from bridge_app.updates._archives import unpack_bundle

pytestmark = pytest.mark.windows

FILES = {EXECUTABLE: b"launcher", "_internal/base_library.zip": b"PK", "MANIFEST.json": b"{}"}


def _zip(path: Path, prefix: str) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in FILES.items():
            archive.writestr(prefix + name, data)
    return path


def _tar(path: Path, prefix: str) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for name, data in FILES.items():
            info = tarfile.TarInfo(prefix + name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


@pytest.mark.parametrize("make", [_zip, _tar], ids=["zip", "tar.gz"])
@pytest.mark.parametrize("prefix", ["litellm-bridge/", ""], ids=["release-layout", "flat"])
def test_a_release_archive_unpacks_with_the_executable_at_the_top(
    tmp_path: Path, make: object, prefix: str
) -> None:
    bundle = make(tmp_path / "bundle", prefix)  # type: ignore[operator]
    folder = tmp_path / "0.2.0.partial"
    folder.mkdir()
    unpack_bundle(bundle, folder)
    assert (folder / EXECUTABLE).read_bytes() == b"launcher"  # a file, at the top
    assert (folder / "_internal" / "base_library.zip").exists()
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        [EXECUTABLE, "_internal", "MANIFEST.json"]
    )


def test_an_archive_without_the_executable_or_with_an_escaping_path_is_refused(
    tmp_path: Path,
) -> None:
    empty = tmp_path / "empty.zip"
    with zipfile.ZipFile(empty, "w") as archive:
        archive.writestr("litellm-bridge/README.txt", b"no program here")
    (tmp_path / "a").mkdir()
    with pytest.raises(UpdateError, match=f"has no {EXECUTABLE}"):
        unpack_bundle(empty, tmp_path / "a")
    escaping = tmp_path / "escaping.zip"
    with zipfile.ZipFile(escaping, "w") as archive:
        archive.writestr("../outside.txt", b"x")
    (tmp_path / "b").mkdir()
    with pytest.raises(UpdateError, match="unsafe path"):
        unpack_bundle(escaping, tmp_path / "b")
    assert not (tmp_path / "outside.txt").exists()


def test_this_machines_bundle_is_taken_from_the_channels_per_platform_list() -> None:
    from bridge_app.updates._archives import bundle_for_this_machine, platform_tag

    tag = platform_tag()
    assert tag in ("linux-x86_64", "windows-x86_64", "linux-aarch64")  # packaging/build.py's
    channel = {
        "version": "0.2.0",
        "bundles": {
            "linux-x86_64": "litellm-bridge-0.2.0-linux-x86_64.tar.gz",
            "windows-x86_64": "litellm-bridge-0.2.0-windows-x86_64.zip",
        },
    }
    assert bundle_for_this_machine(channel, "windows-x86_64").endswith("windows-x86_64.zip")
    assert bundle_for_this_machine(channel, "linux-x86_64").endswith("linux-x86_64.tar.gz")
    with pytest.raises(UpdateError) as missing:
        bundle_for_this_machine(channel, "linux-aarch64")
    assert missing.value.message == (
        "The update source has version 0.2.0 for linux-x86_64, windows-x86_64, not for this "
        "machine (linux-aarch64)."
    )


def test_a_single_bundle_of_another_platform_is_refused_not_downloaded() -> None:
    from bridge_app.updates._archives import bundle_for_this_machine

    single = {"version": "0.2.0", "bundle": "litellm-bridge-0.2.0-linux-x86_64.tar.gz"}
    assert bundle_for_this_machine(single, "linux-x86_64") == single["bundle"]
    with pytest.raises(UpdateError) as other:
        bundle_for_this_machine(single, "windows-x86_64")
    assert other.value.message == (
        "The update source's bundle litellm-bridge-0.2.0-linux-x86_64.tar.gz is for linux, "
        "not this machine (windows-x86_64)."
    )
    assert '"bundles": {"windows-x86_64": "<archive>", …}' in (other.value.hint or "")
    # A name that says no platform (an IT-made channel) is taken as it is.
    assert bundle_for_this_machine({"version": "1", "bundle": "bridge.zip"}, "windows-x86_64")


def test_a_copy_the_msi_installed_is_left_to_the_msi(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """packaging/build_msi.py records InstallDir and Scope; `update apply` then defers to
    IT's installer instead of unpacking a version beside the one Windows has on record."""
    import sys

    from bridge_app.updates._msi import msi_reason, msi_scope

    installed = tmp_path / "LiteLLM Bridge"
    installed.mkdir()
    exe = installed / "litellm-bridge.exe"
    assert msi_scope(exe) is None  # not frozen (a checkout), not Windows: never an MSI's
    if sys.platform != "win32":
        return
    import winreg  # type: ignore[import-not-found,unused-ignore]

    monkeypatch.setattr(sys, "frozen", True, raising=False)
    key = winreg.CreateKeyEx(winreg.HKEY_CURRENT_USER, r"Software\LiteLLM Bridge")
    try:
        assert msi_scope(exe) is None  # the key names no folder yet
        winreg.SetValueEx(key, "InstallDir", 0, winreg.REG_SZ, str(installed) + "\\")
        winreg.SetValueEx(key, "Scope", 0, winreg.REG_SZ, "user")
        assert msi_scope(exe) == "user"
        assert msi_scope(tmp_path / "elsewhere" / "litellm-bridge.exe") is None  # an unzipped copy
        assert "install the new version's MSI" in msi_reason("user")
        assert "IT installs new versions" in msi_reason("machine")
    finally:
        winreg.CloseKey(key)
        winreg.DeleteKey(winreg.HKEY_CURRENT_USER, r"Software\LiteLLM Bridge")
