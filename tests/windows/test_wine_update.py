"""Two real Windows releases under Wine: the packaged Windows build (A, this version) updates
to B (0.1.1) and then refuses a broken B' (0.1.2), as an employee's installed copy would.

B and B' are the Windows bundle the run built, stamped with their versions, their manifests
signed with the key A trusts, and packed as `.zip` releases with their top-level
`litellm-bridge/` folder by packaging/build.py's own functions (the Windows job's steps;
packed here on Linux, where it takes seconds instead of minutes under Wine). They are
published in a TUF repository on 127.0.0.1 for `windows-x86_64`. Everything after that is
A's `litellm-bridge.exe` under Wine: check, download with progress, verify, install beside,
then at its next start B's own doctor, serve and demo request, the switch, and the hand-over
(Windows has no exec: A starts B and waits, passing its exit status on).

The steps are tests of their own (each well under the per-test limit), in order, sharing
one data folder and repository: a failed step fails the ones after it."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from bridge_app import integrity
from tests._tuf_repo import TufRepo, serve_repo
from tests.integration._upstream import free_port
from tests.windows._wine import ADMIN, ADMIN_PW, WineServe, wine
from tests.windows.conftest import BUILD_DIR

pytestmark = [
    pytest.mark.windows,
    pytest.mark.slow,
    pytest.mark.skipif(sys.platform == "win32", reason="drives Wine from Linux"),
]
REPO = Path(__file__).resolve().parents[2]
WINDOWS_TAG = "windows-x86_64"
ADMIN_ARGS = ("--as", ADMIN, "--password-stdin")


def _build_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bridge_build", REPO / "packaging" / "build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def windows_release(bundle: Path, version: str, root: Path, *, damage: bool = False) -> Path:
    """``bundle`` as the release of ``version``: copied, stamped, its manifest signed with
    the development key it was built to trust, packed as the Windows job packs it.
    ``damage``: a file removed after signing, as a broken build ships."""
    build = _build_module()
    key_file = BUILD_DIR / "dev-signing-key.pem"
    assert key_file.is_file(), f"no {key_file}: the Windows bundle was not built here"
    key = integrity.load_private_key(key_file)
    dist = root / version / "litellm-bridge"
    shutil.copytree(bundle, dist, symlinks=True)
    build.stamp_version(dist, version)
    integrity.sign_folder(dist, key, version=version)
    assert integrity.check_integrity(dist, public_key=integrity.public_key_text(key)).verified, (
        f"{bundle} was not built to trust {key_file}"
    )
    if damage:
        (dist / "_internal" / "kv" / "main.kv").unlink()
    archive: Path = build.archive(dist, version, "windows")
    assert archive.name == f"litellm-bridge-{version}-{WINDOWS_TAG}.zip", archive
    shutil.rmtree(dist)  # only the archive is published
    return archive


def windows_path(path: Path) -> str:
    """A Linux path as the Windows program names it (Wine's Z: drive is /)."""
    return "Z:" + str(path).replace("/", "\\")


class Fleet:
    """One employee's copy of A (its data folder), the repository IT publishes to, and
    what the steps found."""

    def __init__(self, bundle: Path, root: Path, repo: TufRepo, url: str) -> None:
        self.bundle, self.root, self.repo, self.url = bundle, root, repo, url
        self.home = root / "home"
        self.exe = ("--exe", str(bundle))
        self.figures: list[str] = []

    def run(self, *args: str, stdin: str = ADMIN_PW) -> Any:
        return wine(self.home, *args, stdin=stdin, exe=self.exe)

    def publish(self, version: str, *, damage: bool = False) -> None:
        archive = windows_release(self.bundle, version, self.root / "releases", damage=damage)
        self.figures.append(f"release {version}: {archive.stat().st_size / 1e6:.0f} MB zip")
        self.repo.publish(version, archive.read_bytes(), name=archive.name, tag=WINDOWS_TAG)

    def serve_once(self) -> list[str]:
        """`serve` of A until ready (after what its start did), then Ctrl+C."""
        serve = WineServe(self.home, free_port(), exe=self.exe)
        self.figures.append(f"serve ready after {serve.ready_s:.0f} s")
        _out, err = serve.stop()
        assert serve.proc.returncode == 0, err[-3000:]
        return serve.lines

    def version(self) -> str:
        shown = self.run("--version")
        assert shown.returncode == 0, shown.stdout + shown.stderr
        return str(shown.stdout.split()[-1])


@pytest.fixture(scope="module")
def fleet(bundle: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    root = tmp_path_factory.mktemp("wine-update")
    with serve_repo(root / "repo") as (repo, url):
        yield Fleet(bundle, root, repo, url)


def test_a_installs_b_from_the_real_windows_release(fleet: Fleet) -> None:
    version_a = fleet.version()
    made = fleet.run("user", "create", ADMIN, "--admin", "--password-stdin")
    assert made.returncode == 0, made.stderr
    fleet.publish("0.1.1")
    root_json = windows_path(fleet.repo.dir / "metadata" / "root.json")
    configured = fleet.run("update", "configure", fleet.url, "--root", root_json, *ADMIN_ARGS)
    assert configured.returncode == 0, configured.stdout + configured.stderr
    checked = fleet.run("update", "check")
    assert checked.stdout.strip() == f"Version 0.1.1 is available (running {version_a}).", (
        checked.stdout + checked.stderr
    )
    applied = fleet.run("update", "apply", "--yes", *ADMIN_ARGS)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert "downloading" in applied.stderr and " MB" in applied.stderr  # progress
    assert "0.1.1 installed; it starts at the next start." in applied.stdout
    status = fleet.run("update", "status")
    assert "Pending   0.1.1 (starts at the next start)" in status.stdout, status.stdout


def test_the_next_start_checks_b_switches_and_a_hands_over_to_it(fleet: Fleet) -> None:
    lines = fleet.serve_once()
    assert "Update: switched to 0.1.1 (health check passed)\n" in lines, lines
    # A's executable, started by name as the Start menu does, runs B (and waits for it).
    assert fleet.version() == "0.1.1"
    doctor = fleet.run("doctor")
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    assert "versions\\0.1.1" in doctor.stdout, doctor.stdout  # B's own files, checked


def test_a_broken_c_fails_its_health_check_and_b_stays(fleet: Fleet, artifacts_dir: Path) -> None:
    fleet.publish("0.1.2", damage=True)
    applied = fleet.run("update", "apply", "--yes", *ADMIN_ARGS)  # run by B now
    assert applied.returncode == 0, applied.stdout + applied.stderr
    lines = fleet.serve_once()  # the next start: 0.1.2's doctor finds the lost file
    said = next((line for line in lines if line.startswith("Update: ")), "")
    assert said.startswith("Update: 0.1.2 failed its health check and was rolled back to 0.1.1"), (
        lines
    )
    assert "doctor failed" in said and "main.kv" in said, said
    assert fleet.version() == "0.1.1"
    users = fleet.run("user", "list", *ADMIN_ARGS)
    assert users.returncode == 0 and ADMIN in users.stdout, users.stdout + users.stderr
    (artifacts_dir / "windows-update-under-wine.txt").write_text("\n".join(fleet.figures) + "\n")
