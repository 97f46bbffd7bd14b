"""`litellm-bridge update rollback` by hand with a real SQLCipher file: when the version being
left upgraded the schema, the previous version gets back the database it reads (the copy the
upgrade kept), the newer file is kept aside, and both sides are audited; when the schema did
not change the database stays."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bridge_app.runtime import AppPaths
from bridge_app.services import build_services
from bridge_app.store import MIGRATIONS, SCHEMA_VERSION, Database, StoreError
from tests.unit.test_release_upgrade import _key

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]
ADMIN_PW = "Admin-Password-42!"
PREVIOUS = MIGRATIONS[:-1]  # what the version rolled back to reads
OLD = PREVIOUS[-1].version


def _switched_state(paths: AppPaths, tmp_path: Path, previous_schema: int) -> None:
    """What a switch from 0.9.0 to 9.9.0 (this code) left behind."""
    installed = tmp_path / "versions" / "9.9.0"
    installed.mkdir(parents=True)
    state = paths.data_dir / "updates" / "state.json"
    state.parent.mkdir(parents=True, exist_ok=True)
    state.write_text(
        json.dumps(
            {
                "current": "9.9.0",
                "current_path": str(installed),
                "previous": "0.9.0",
                "previous_path": None,
                "previous_schema": previous_schema,
            }
        )
    )


def _previous_db(paths: AppPaths, port: str) -> None:
    """The previous version's database, at its schema, with one setting of its own."""
    old = Database(paths.database_file, _key(paths), migrations=PREVIOUS)
    old.open()
    with old.transaction() as conn:
        conn.exec_driver_sql(
            "INSERT INTO settings (key, value, updated_at) VALUES "
            "('proxy.port', ?, '2026-01-01T00:00:00+00:00')",
            (port,),
        )
    old.close()


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bridge_app", *args],
        input=f"{ADMIN_PW}\n",
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=REPO,
    )


def _setting(db: Database, key: str) -> str:
    with db.reading() as conn:
        return str(
            conn.exec_driver_sql("SELECT value FROM settings WHERE key = ?", (key,)).scalar_one()
        )


def test_a_rollback_by_hand_brings_back_the_database_the_previous_version_reads(
    app_paths: AppPaths, tmp_path: Path
) -> None:
    _previous_db(app_paths, "4321")
    _switched_state(app_paths, tmp_path, OLD)
    # This version opens it: the schema is upgraded (the copy at schema OLD is kept), and
    # work goes on in it.
    services = build_services(app_paths)
    assert services.db.upgraded_from == OLD
    services.auth.create_first_admin("root", ADMIN_PW)
    services.settings.set("proxy.port", 5555)
    services.close()

    rolled = _cli("update", "rollback", "--as", "root", "--password-stdin")
    assert rolled.returncode == 0, rolled.stderr
    name = app_paths.database_file.name
    assert (
        "Rolled back to 0.9.0 by hand. The database goes back to the copy made before 9.9.0 "
        f"upgraded it (schema {SCHEMA_VERSION} to {OLD}: changes made since are not in it); "
        f"the current one is kept as {name}.v{SCHEMA_VERSION}.rolled-back.\n"
    ) in rolled.stdout
    assert (
        f"Database restored from {name}.v{OLD}.bak for 0.9.0; the newer one is kept as "
        f"{name}.v{SCHEMA_VERSION}.rolled-back.\n"
    ) in rolled.stdout

    # The previous version's schema opens the file, as it was before the upgrade.
    key = _key(app_paths)
    previous = Database(app_paths.database_file, key, migrations=PREVIOUS)
    previous.open()
    try:
        assert previous.schema_version() == OLD
        assert _setting(previous, "proxy.port") == "4321"
    finally:
        previous.close()
    # The newer file is kept, with the work done in it and the rollback in its audit log.
    aside = app_paths.database_file.with_name(f"{name}.v{SCHEMA_VERSION}.rolled-back")
    newer = Database(aside, key)
    newer.open()
    try:
        assert _setting(newer, "proxy.port") == "5555"
        with newer.reading() as conn:
            details = [
                row[0]
                for row in conn.exec_driver_sql(
                    "SELECT detail FROM audit_events WHERE action = 'update.rollback'"
                )
            ]
        assert details and details[-1].startswith("rolled back to 0.9.0 by hand.")
    finally:
        newer.close()
    # The restored database records both once it is opened (flush_audit at the next start).
    state = json.loads((app_paths.data_dir / "updates" / "state.json").read_text())
    assert state["current"] == "0.9.0" and state["restore"] is None
    assert [e[0] for e in state["unaudited"]] == ["update.rollback", "update.rollback"]
    assert state["unaudited"][1][2].startswith(f"Database restored from {name}.v{OLD}.bak")
    # The file kept aside is the one the previous version refuses.
    with pytest.raises(StoreError, match="newer LiteLLM Bridge"):
        Database(aside, key, migrations=PREVIOUS).open()


def test_a_rollback_by_hand_keeps_a_database_the_previous_version_reads(
    app_paths: AppPaths, tmp_path: Path
) -> None:
    _switched_state(app_paths, tmp_path, SCHEMA_VERSION)
    services = build_services(app_paths)
    services.auth.create_first_admin("root", ADMIN_PW)
    services.settings.set("proxy.port", 5555)
    before = app_paths.database_file.stat().st_ino
    core = services.core
    admin = core.login("root", ADMIN_PW)
    outcome = core.rollback_update(admin)
    assert outcome == (
        "rolled back to 0.9.0 by hand. The database stays as it is: 0.9.0 reads its schema "
        f"(version {SCHEMA_VERSION})."
    )
    events = services.audit.list_events(admin, action="update.rollback")
    assert [e.detail for e in events] == [outcome]
    services.close()
    assert _cli("update", "status").stdout.startswith("Current   0.9.0\n")
    assert app_paths.database_file.stat().st_ino == before  # the same file, untouched
    again = build_services(app_paths)
    try:
        assert again.settings.get("proxy.port") == 5555
    finally:
        again.close()


def test_a_rollback_waits_while_another_instance_has_the_database_open(
    app_paths: AppPaths, tmp_path: Path
) -> None:
    from bridge_app.runtime import InstanceLock
    from bridge_app.services import finish_pending_rollback

    _previous_db(app_paths, "4323")
    _switched_state(app_paths, tmp_path, OLD)
    services = build_services(app_paths)
    services.auth.create_first_admin("root", ADMIN_PW)
    services.close()
    window = InstanceLock(app_paths.lock_file)  # a window or `serve` on this data folder
    window.acquire()
    try:
        rolled = _cli("update", "rollback", "--as", "root", "--password-stdin")
        assert rolled.returncode == 0, rolled.stderr
        assert "the database goes back when it closes (or at the next start).\n" in rolled.stdout
        assert f"(pid {os.getpid()}) is already running" in rolled.stdout
        # Still the newer file: nobody swapped it under the running instance.
        with pytest.raises(StoreError, match="newer LiteLLM Bridge"):
            Database(app_paths.database_file, _key(app_paths), migrations=PREVIOUS).open()
        # That instance closes its database and finishes the rollback (as `serve` and the
        # window do when they stop).
        done = finish_pending_rollback(app_paths, lock_held=True)
    finally:
        window.release()
    assert done is not None and done.startswith("Database restored from")
    restored = Database(app_paths.database_file, _key(app_paths), migrations=PREVIOUS)
    restored.open()
    assert restored.schema_version() == OLD
    restored.close()


def test_without_the_upgrade_copy_the_snapshot_of_the_switch_comes_back(
    app_paths: AppPaths, tmp_path: Path
) -> None:
    _previous_db(app_paths, "4322")
    # The snapshot the switch to 9.9.0 took (see UpdateService.at_start), and no .bak.
    name = app_paths.database_file.name
    snapshot = app_paths.data_dir / "updates" / "database-before-9.9.0"
    snapshot.mkdir(parents=True)
    (snapshot / name).write_bytes(app_paths.database_file.read_bytes())
    _switched_state(app_paths, tmp_path, OLD)
    services = build_services(app_paths)
    services.auth.create_first_admin("root", ADMIN_PW)
    services.close()
    Path(f"{app_paths.database_file}.v{OLD}.bak").unlink()
    rolled = _cli("update", "rollback", "--as", "root", "--password-stdin")
    assert rolled.returncode == 0, rolled.stderr
    assert f"Database restored from {name} for 0.9.0" in rolled.stdout
    previous = Database(app_paths.database_file, _key(app_paths), migrations=PREVIOUS)
    previous.open()
    try:
        assert _setting(previous, "proxy.port") == "4322"
    finally:
        previous.close()
