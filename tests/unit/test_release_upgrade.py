"""A database written by the previous release (schema v1, the first schema ever shipped)
opens in this release with everything in it, its pre-upgrade copy kept beside it, and the
previous release refuses the upgraded file instead of damaging it."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge_app.runtime import AppPaths
from bridge_app.services import build_services
from bridge_app.store import MIGRATIONS, SCHEMA_VERSION, Database, KeyManager, StoreError

PREVIOUS_RELEASE = MIGRATIONS[:1]  # what LiteLLM Bridge 0.1 created
ADMIN_PW = "Admin-Password-42!"


def _write_previous_release_db(paths: AppPaths) -> None:
    key = KeyManager(
        key_file=paths.key_file,
        database_file=paths.database_file,
        entry_name=f"database-key:{paths.data_dir}",
    ).load_or_create()
    db = Database(paths.database_file, key, migrations=PREVIOUS_RELEASE)
    db.open()
    assert db.schema_version() == 1
    with db.transaction() as conn:
        conn.exec_driver_sql(
            "INSERT INTO settings (key, value, updated_at) VALUES "
            "('proxy.port', '4321', '2026-01-01T00:00:00+00:00')"
        )
        conn.exec_driver_sql(
            "INSERT INTO config_versions (name, content, author, comment, created_at, applied) "
            "VALUES ('config.yaml', 'model_list: []\n', 'root', 'from 0.1', "
            "'2026-01-01T00:00:00+00:00', 1)"
        )
    db.close()


def test_a_previous_release_database_is_upgraded_with_its_contents(app_paths: AppPaths) -> None:
    _write_previous_release_db(app_paths)
    services = build_services(app_paths)
    try:
        assert services.db.schema_version() == SCHEMA_VERSION
        assert services.db.upgraded_from == (1 if SCHEMA_VERSION > 1 else None)
        assert services.settings.get("proxy.port") == 4321
        assert [v.comment for v in services.config.list_versions()] == ["from 0.1"]
        services.auth.create_first_admin("root", ADMIN_PW)
        session = services.auth.login("root", ADMIN_PW)
        assert services.audit.verify(session).ok
    finally:
        services.close()
    backup = Path(f"{app_paths.database_file}.v1.bak")
    if SCHEMA_VERSION > 1:
        assert backup.exists()
        # The previous release, given the upgraded file, refuses it and leaves it alone.
        key = KeyManager(
            key_file=app_paths.key_file,
            database_file=app_paths.database_file,
            entry_name=f"database-key:{app_paths.data_dir}",
        ).load_or_create()
        with pytest.raises(StoreError, match="newer LiteLLM Bridge"):
            Database(app_paths.database_file, key, migrations=PREVIOUS_RELEASE).open()
    else:
        assert not backup.exists()  # nothing to upgrade: no copy made
