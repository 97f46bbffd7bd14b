"""Signed updates against a real TUF repository on a loopback HTTP server: metadata made in
the test with python-tuf's metadata API, two small real bundles whose launcher really runs
`doctor` and `serve` (the good one) or fails (the broken one)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from datetime import timedelta
from functools import partial
from pathlib import Path

import pytest

import bridge_app
from bridge_app.runtime import AppPaths
from bridge_app.services import Services, build_services, switch_pending_update
from bridge_app.store import SCHEMA_VERSION
from bridge_app.updates import EXECUTABLE, UpdateError
from tests._tuf_repo import TufRepo, serve_repo
from tests.integration._serve import NEW_GROUP, interrupt

pytestmark = [pytest.mark.integration, pytest.mark.skipif(os.name == "nt", reason="sh bundles")]
REPO = Path(__file__).resolve().parents[2]
ADMIN_PW = "Admin-Password-42!"
NEW = "9.9.0"


def _launcher(good: bool, damage: Path | None, keyless: bool = False) -> bytes:
    if good:  # this very code, as "the new version" (a real doctor, serve and proxy)
        body = (
            "import runpy, sys\n"
            # keyless: a build whose `proxy-key` fails (all else works)
            + (
                "if sys.argv[1:2] == ['proxy-key']: sys.exit('the key store is locked')\n"
                if keyless
                else ""
            )
            + f"sys.path.insert(0, {str(REPO)!r})\n"
            "runpy.run_module('bridge_app', run_name='__main__', alter_sys=True)\n"
        )
    else:  # a broken build that also damages the database before failing
        body = "import sys\n"
        if damage is not None:
            body += f"open({str(damage)!r}, 'ab').write(b'broken build was here')\n"
        body += "sys.exit('this build is broken: missing libraries')\n"
    return f"#!{sys.executable}\n{body}".encode()


def _bundle(good: bool, damage: Path | None = None, *, keyless: bool = False) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data, mode in (
            (EXECUTABLE, _launcher(good, damage, keyless), 0o755),
            ("VERSION", f"{NEW}\n".encode(), 0o644),
        ):
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), mode
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@pytest.fixture
def repo(tmp_path: Path) -> Iterator[tuple[TufRepo, str]]:
    with serve_repo(tmp_path / "repo") as served:
        yield served


@pytest.fixture
def services(app_paths: AppPaths) -> Iterator[Services]:
    built = build_services(app_paths)
    built.auth.create_first_admin("root", ADMIN_PW)
    yield built
    built.close()


def _configure(services: Services, repo: TufRepo, url: str) -> None:
    session = services.auth.login("root", ADMIN_PW)
    services.updates.configure(session, url, repo.dir / "metadata" / "root.json")


def _audit(services: Services, action: str) -> list[str]:
    session = services.auth.login("root", ADMIN_PW)
    return [e.detail for e in services.audit.list_events(session, action=action)]


def test_an_update_is_verified_installed_beside_switched_after_its_health_check_and_undone(
    services: Services, repo: tuple[TufRepo, str]
) -> None:
    tuf_repo, url = repo
    bundle = _bundle(good=True)
    tuf_repo.publish(NEW, bundle)
    _configure(services, tuf_repo, url)
    updates = services.updates
    available = updates.check()
    assert available.newer and available.latest == NEW
    assert available.describe() == f"Version {NEW} is available (running {bridge_app.__version__})."
    session = services.auth.login("root", ADMIN_PW)
    seen: list[tuple[int, int]] = []
    outcome = updates.apply(session, lambda done, total: seen.append((done, total)))
    assert outcome == f"{NEW} installed; it starts at the next start"
    assert seen[-1] == (len(bundle), len(bundle))
    state = updates.state()
    assert state.pending == NEW and state.current == bridge_app.__version__
    installed = Path(str(state.pending_path))
    assert (installed / "VERSION").read_text() == f"{NEW}\n"
    assert updates.current_executable() is None  # still this build until the next start

    # The next start (database closed): doctor, serve until ready, one demo request — run
    # by the new version.
    services.close()
    result = switch_pending_update(services.paths)
    assert result == f"switched to {NEW} (health check passed)"
    services = build_services(services.paths)
    updates = services.updates
    updates.flush_audit()
    session = services.auth.login("root", ADMIN_PW)
    state = updates.state()
    assert state.current == NEW and state.previous == bridge_app.__version__
    assert state.pending is None
    assert updates.current_executable() == installed / EXECUTABLE
    assert any("health check passed" in d for d in _audit(services, "update.switch"))

    # The health check ran this code as the new version: the schema did not change, so a
    # rollback by hand keeps the database.
    assert services.core.rollback_update(session) == (
        f"rolled back to {bridge_app.__version__} by hand. The database stays as it is: "
        f"{bridge_app.__version__} reads its schema (version {SCHEMA_VERSION})."
    )
    assert updates.state().current == bridge_app.__version__
    assert updates.current_executable() is None
    services.close()


def test_a_tampered_bundle_is_refused_and_nothing_is_installed(
    services: Services, repo: tuple[TufRepo, str]
) -> None:
    tuf_repo, url = repo
    name = tuf_repo.publish(NEW, _bundle(good=True))
    _configure(services, tuf_repo, url)
    # Someone replaces the bundle on the share after it was signed.
    (tuf_repo.dir / "targets" / name).write_bytes(_bundle(good=False))
    session = services.auth.login("root", ADMIN_PW)
    with pytest.raises(UpdateError, match="does not match its signed hash or length"):
        services.updates.apply(session)
    state = services.updates.state()
    assert state.pending is None and state.current == bridge_app.__version__
    assert not (services.paths.data_dir / "updates" / "versions" / NEW).exists()


def test_a_bundle_that_fails_its_health_check_is_rolled_back_with_the_database(
    services: Services, repo: tuple[TufRepo, str]
) -> None:
    tuf_repo, url = repo
    database = services.paths.database_file
    tuf_repo.publish(NEW, _bundle(good=False, damage=database))
    _configure(services, tuf_repo, url)
    session = services.auth.login("root", ADMIN_PW)
    services.updates.apply(session)
    services.close()
    before = database.read_bytes()
    result = switch_pending_update(services.paths)
    assert result is not None
    assert result.startswith(
        f"{NEW} failed its health check and was rolled back to {bridge_app.__version__} "
        "(database restored): doctor failed (exit 1): this build is broken: missing libraries"
    )
    assert database.read_bytes() == before
    services = build_services(services.paths)  # opens: the damage was undone
    services.updates.flush_audit()
    state = services.updates.state()
    assert state.current == bridge_app.__version__ and state.pending is None
    assert services.updates.current_executable() is None
    assert any("rolled back" in d for d in _audit(services, "update.rollback"))
    assert services.updates.at_start() is None  # nothing pending any more
    services.close()


def test_a_bundle_whose_proxy_key_fails_is_rolled_back_saying_so(
    services: Services, repo: tuple[TufRepo, str]
) -> None:
    """Its doctor passes and its proxy serves, but it prints no key: the demo request is
    never sent with an empty key, and the reason names the command and what it said."""
    tuf_repo, url = repo
    tuf_repo.publish(NEW, _bundle(good=True, keyless=True))
    _configure(services, tuf_repo, url)
    services.updates.apply(services.auth.login("root", ADMIN_PW))
    services.close()
    result = switch_pending_update(services.paths)
    assert result is not None
    assert result.startswith(f"{NEW} failed its health check and was rolled back"), result
    assert result.endswith("proxy-key gave no key (exit 1): the key store is locked"), result


def test_the_trusted_root_survives_the_loss_of_python_tufs_root_link(
    services: Services, repo: tuple[TufRepo, str]
) -> None:
    """python-tuf keeps each trusted root in root_history/ and points root.json at the
    newest with a link; under Wine (a Windows program) that link was gone after the first
    check, and the next `update apply` said no root was installed. The app reads the
    history itself."""
    tuf_repo, url = repo
    tuf_repo.publish(NEW, _bundle(good=True))
    _configure(services, tuf_repo, url)
    assert services.updates.check().latest == NEW
    metadata = services.updates.metadata_dir
    assert (metadata / "root_history" / "1.root.json").is_file()
    (metadata / "root.json").unlink()
    assert services.updates.check().latest == NEW
    assert services.updates.status()["trusted_root"] is True
    session = services.auth.login("root", ADMIN_PW)
    assert services.updates.apply(session) == f"{NEW} installed; it starts at the next start"
    # A damaged root on this machine is named as such, not blamed on the update source.
    (metadata / "root_history" / "1.root.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(UpdateError, match="trusted update root on this machine is damaged"):
        services.updates.check()


def test_expired_metadata_is_refused(services: Services, repo: tuple[TufRepo, str]) -> None:
    tuf_repo, url = repo
    tuf_repo.publish(NEW, _bundle(good=True), expires_in=timedelta(days=-1))
    _configure(services, tuf_repo, url)
    with pytest.raises(UpdateError, match="signed metadata has expired"):
        services.updates.check()
    session = services.auth.login("root", ADMIN_PW)
    with pytest.raises(UpdateError, match="signed metadata has expired"):
        services.updates.apply(session)
    assert services.updates.state().pending is None


def test_updates_download_through_the_company_proxy_with_its_credentials(
    services: Services, repo: tuple[TufRepo, str]
) -> None:
    """The update source is known only to the company's authenticating proxy (a real
    squid): the signed metadata and the bundle come through it, under the proxy user the
    app's entries name, as LiteLLM's and the IAM's calls do (docs/network.md)."""
    from tests.integration._corp import PASSWORD, USER, with_credentials
    from tests.integration._squid import Squid

    tuf_repo, url = repo
    port = url.rsplit(":", 1)[1]
    bundle = _bundle(good=True)
    tuf_repo.publish(NEW, bundle)
    squid = Squid(users={USER: PASSWORD}, hosts={"updates.corp.test": "127.0.0.1"})
    try:
        session = services.auth.login("root", ADMIN_PW)
        services.env.set(session, "HTTP_PROXY", with_credentials(squid.url), scope="shared")
        _configure(services, tuf_repo, f"http://updates.corp.test:{port}")
        available = services.updates.check()
        assert available.newer and available.latest == NEW
        path = services.updates.download()[1]
        assert path.read_bytes() == bundle
        log = squid.log()  # before stop(), which removes squid's folder
    finally:
        squid.stop()
    fetched = [line for line in log if " GET http://updates.corp.test:" in line]
    assert any("/metadata/timestamp.json" in line for line in fetched), log
    assert any(line.split()[6].endswith(".tar.gz") for line in fetched), log
    # Every request carried the employee's proxy login (2.root.json is TUF asking whether
    # the root was rotated: 404 from the source, through the proxy).
    assert all(f" {USER} " in line for line in fetched), log
    assert all("/200 " in line for line in fetched if "2.root.json" not in line), log


def test_policy_pin_and_serving_proxy_and_the_commands(
    services: Services, repo: tuple[TufRepo, str]
) -> None:
    from bridge_app.updates import UpdatePolicy

    tuf_repo, url = repo
    tuf_repo.publish(NEW, _bundle(good=True))
    _configure(services, tuf_repo, url)
    updates = services.updates
    updates.policy = lambda: UpdatePolicy(pinned_version="9.8.0")
    assert "not allowed: the managed policy pins version 9.8.0" in updates.check().describe()
    updates.policy = lambda: UpdatePolicy(disabled=True)
    with pytest.raises(UpdateError, match="disabled by the managed policy"):
        updates.apply(services.auth.login("root", ADMIN_PW))
    updates.policy = UpdatePolicy
    supervisor = services.proxy.supervisor(port=0)
    supervisor.start()
    with pytest.raises(UpdateError, match="The proxy is serving requests"):
        updates.apply(services.auth.login("root", ADMIN_PW))
    assert updates.state().pending is None
    services.close()

    env = {**os.environ, "PYTHONPATH": str(REPO)}
    run = partial(
        subprocess.run, env=env, capture_output=True, text=True, timeout=120, check=False, cwd=REPO
    )
    check = run([sys.executable, "-m", "bridge_app", "update", "check"])
    assert check.returncode == 0, check.stderr
    assert f"Version {NEW} is available" in check.stdout
    status = run([sys.executable, "-m", "bridge_app", "update", "status"])
    assert f"Source    {url}" in status.stdout


def test_serve_switches_to_the_installed_update_at_its_next_start(
    services: Services, repo: tuple[TufRepo, str]
) -> None:
    from tests.integration._upstream import free_port
    from tests.integration.test_proxy_cli import _until_ready

    tuf_repo, url = repo
    tuf_repo.publish(NEW, _bundle(good=True))
    _configure(services, tuf_repo, url)
    services.updates.apply(services.auth.login("root", ADMIN_PW))
    paths = services.paths
    services.close()
    serve = subprocess.Popen(
        [sys.executable, "-m", "bridge_app", "serve", "--port", str(free_port())],
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=REPO,
        creationflags=NEW_GROUP,
    )
    try:
        lines = _until_ready(serve)
    finally:
        interrupt(serve)
        serve.wait(60)
    assert f"Update: switched to {NEW} (health check passed)\n" in lines, lines
    assert lines[-1].startswith("Press Ctrl+C")
    again = build_services(paths)
    try:
        assert again.updates.state().current == NEW
        assert any("health check passed" in d for d in _audit(again, "update.switch"))
    finally:
        again.close()


def test_a_packaged_build_hands_over_to_the_current_installed_update(
    app_paths: AppPaths, tmp_path: Path
) -> None:
    import json as _json

    installed = tmp_path / "versions" / NEW
    installed.mkdir(parents=True)
    launcher = installed / EXECUTABLE
    launcher.write_text(
        f"#!{sys.executable}\nimport os, sys\n"
        "print('updated build ran with', sys.argv[1:], os.environ.get('BRIDGE_UPDATE_LAUNCHED'))\n"
    )
    launcher.chmod(0o755)
    state = app_paths.data_dir / "updates" / "state.json"
    state.parent.mkdir(parents=True)
    state.write_text(_json.dumps({"current": NEW, "current_path": str(installed)}))
    # What the PyInstaller build is: sys.frozen set; then its ordinary entry point.
    code = "import sys; sys.frozen = True; from bridge_app.cli import main; main()"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    ran = subprocess.run(
        [sys.executable, "-c", code, "status", "--json"],
        env=env, capture_output=True, text=True, timeout=120, check=False, cwd=REPO,
    )  # fmt: skip
    assert ran.stdout.strip() == "updated build ran with ['status', '--json'] 1", ran.stderr
    # A source checkout (not frozen) runs itself whatever the state says.
    itself = subprocess.run(
        [sys.executable, "-m", "bridge_app", "status", "--json"],
        env=env, capture_output=True, text=True, timeout=120, check=False, cwd=REPO,
    )  # fmt: skip
    assert _json.loads(itself.stdout)["state"] == "stopped"
