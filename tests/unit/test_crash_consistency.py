"""Nothing half-done survives a crash: every write path is killed (SIGKILL) before and after
each of its commits, and what it left behind is checked — the change and its audit event
are both there or both absent, `audit verify` agrees, and config history shows the active
version."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from bridge_app.runtime import AppPaths, Redactor, resource_path
from bridge_app.services import Services, build_services

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]
ADMIN_PW = "Admin-Password-42!"
POINTS = [f"db.{when}_commit:{n}" for n in range(1, 6) for when in ("before", "after")]


def _cli(home: Path, *args: str, stdin: str, kill_at: str) -> int:
    env = {**os.environ, "BRIDGE_HOME": str(home), "BRIDGE_KEYRING": "off", "PYTHONPATH": str(REPO)}
    env["BRIDGE_TEST_KILL_AT"] = kill_at
    done = subprocess.run(
        [sys.executable, "-m", "bridge_app", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode


def _open(home: Path) -> Services:
    return build_services(
        AppPaths.from_environment({"BRIDGE_HOME": str(home)}), redactor=Redactor()
    )


def _fresh(tmp_path: Path, name: str) -> Path:
    home = tmp_path / name
    services = _open(home)
    services.auth.create_first_admin("root", ADMIN_PW)
    services.close()
    return home


def _audited(services: Services, action: str, target: str) -> bool:
    admin = services.core.login("root", ADMIN_PW)
    try:
        events = services.audit.list_events(admin, action=action, limit=None)
        assert services.audit.verify(admin).ok
        return any(e.target.endswith(target) and e.outcome == "ok" for e in events)
    finally:
        services.core.logout(admin)


@pytest.mark.parametrize("kill_at", POINTS)
def test_env_set_keeps_the_entry_and_its_event_together(tmp_path: Path, kill_at: str) -> None:
    home = _fresh(tmp_path, "home")
    code = _cli(
        home,
        "env", "set", "TEAM_URL", "--shared", "--as", "root", "--password-stdin",
        stdin=f"{ADMIN_PW}\nhttp://127.0.0.1:9\n",
        kill_at=kill_at,
    )  # fmt: skip
    assert code in (0, -signal.SIGKILL)
    services = _open(home)
    try:
        admin = services.core.login("root", ADMIN_PW)
        present = any(e.name == "TEAM_URL" for e in services.env.entries(admin))
        services.core.logout(admin)
        assert present == _audited(services, "env.set", "TEAM_URL"), kill_at
        if code == 0:
            assert present
    finally:
        services.close()


@pytest.mark.parametrize("kill_at", POINTS)
def test_user_create_keeps_the_account_and_its_event_together(tmp_path: Path, kill_at: str) -> None:
    home = _fresh(tmp_path, "home")
    code = _cli(
        home,
        "user", "create", "dana", "--as", "root", "--password-stdin",
        stdin=f"{ADMIN_PW}\nStaple-Horse-42!\n",
        kill_at=kill_at,
    )  # fmt: skip
    assert code in (0, -signal.SIGKILL)
    services = _open(home)
    try:
        admin = services.core.login("root", ADMIN_PW)
        present = any(u.username == "dana" for u in services.auth.list_users(admin))
        services.core.logout(admin)
        assert present == _audited(services, "user.create", "dana"), kill_at
    finally:
        services.close()


@pytest.mark.parametrize("kill_at", [*POINTS, "config.file_written:1"])
def test_config_history_always_shows_the_active_version(tmp_path: Path, kill_at: str) -> None:
    home = _fresh(tmp_path, "home")
    source = tmp_path / "demo.yaml"
    source.write_bytes(resource_path("configs", "demo.yaml").read_bytes())
    code = _cli(
        home,
        "config", "apply", str(source), "--as", "root", "--password-stdin",
        stdin=f"{ADMIN_PW}\n",
        kill_at=kill_at,
    )  # fmt: skip
    assert code in (0, -signal.SIGKILL)
    services = _open(home)  # the next start of any front end
    try:
        active = services.config.active_path
        if active.exists():
            latest = services.config.history.latest_applied()
            assert latest is not None, kill_at
            assert latest.content == active.read_text(encoding="utf-8"), kill_at
        versions = services.config.list_versions()
        applied = [v for v in versions if v.comment.startswith("imported from")]
        assert bool(applied) == _audited(
            services, "config.apply", f"version {applied[0].id}" if applied else "-"
        )
    finally:
        services.close()
