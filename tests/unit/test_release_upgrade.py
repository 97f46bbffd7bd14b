"""A database written by an earlier release opens in this release with everything in it, its
pre-upgrade copy kept beside it, and that release refuses the upgraded file instead of
damaging it. Every earlier schema is covered: the one the previous release wrote (the
schema before the newest migration) and the first ever shipped (0.1, schema 1)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bridge_app.runtime import AppPaths
from bridge_app.services import UsageFilter, build_services
from bridge_app.store import MIGRATIONS, SCHEMA_VERSION, Database, KeyManager, StoreError

ADMIN_PW = "Admin-Password-42!"
EARLIER = [MIGRATIONS[:n] for n in range(SCHEMA_VERSION - 1, 0, -1)]


def _key(paths: AppPaths):  # type: ignore[no-untyped-def]
    return KeyManager(
        key_file=paths.key_file,
        database_file=paths.database_file,
        entry_name=f"database-key:{paths.data_dir}",
    ).load_or_create()


def _write_release_db(paths: AppPaths, migrations: tuple[object, ...]) -> None:
    db = Database(paths.database_file, _key(paths), migrations=migrations)  # type: ignore[arg-type]
    db.open()
    assert db.schema_version() == len(migrations)
    with db.transaction() as conn:
        conn.exec_driver_sql(
            "INSERT INTO settings (key, value, updated_at) VALUES "
            "('proxy.port', '4321', '2026-01-01T00:00:00+00:00')"
        )
        conn.exec_driver_sql(
            "INSERT INTO config_versions (name, content, author, comment, created_at, applied) "
            "VALUES ('config.yaml', 'model_list: []\n', 'root', 'from the earlier release', "
            "'2026-01-01T00:00:00+00:00', 1)"
        )
        # A table later migrations add columns to: the row must stay readable.
        conn.exec_driver_sql(
            "INSERT INTO usage_records (ts, model, endpoint, status, latency_ms, tokens_in, "
            "tokens_out, client) VALUES (?, 'demo', '/v1/chat/completions', 200, 12.5, 7, 3, "
            "'sdk')",
            (time.time(),),
        )
    db.close()


@pytest.mark.parametrize("earlier", EARLIER, ids=[f"schema-{len(m)}" for m in EARLIER] or ["none"])
def test_an_earlier_release_database_is_upgraded_with_its_contents(
    app_paths: AppPaths, earlier: tuple[object, ...]
) -> None:
    version = len(earlier)
    _write_release_db(app_paths, earlier)
    services = build_services(app_paths)
    try:
        assert services.db.schema_version() == SCHEMA_VERSION
        assert services.db.upgraded_from == version
        assert services.settings.get("proxy.port") == 4321
        assert [v.comment for v in services.config.list_versions()] == ["from the earlier release"]
        totals = services.usage.totals(UsageFilter())
        assert (totals.requests, totals.tokens_in, totals.tokens_out) == (1, 7, 3)
        services.auth.create_first_admin("root", ADMIN_PW)
        session = services.auth.login("root", ADMIN_PW)
        assert services.audit.verify(session).ok
    finally:
        services.close()
    backup = Path(f"{app_paths.database_file}.v{version}.bak")
    assert backup.exists()
    # The earlier release, given the upgraded file, refuses it and leaves it alone; its own
    # copy (what `update rollback` brings back) still opens there.
    before = app_paths.database_file.read_bytes()
    with pytest.raises(StoreError, match="newer LiteLLM Bridge"):
        Database(app_paths.database_file, _key(app_paths), migrations=earlier).open()  # type: ignore[arg-type]
    assert app_paths.database_file.read_bytes() == before
    copy = Database(backup, _key(app_paths), migrations=earlier)  # type: ignore[arg-type]
    copy.open()
    try:
        assert copy.schema_version() == version
    finally:
        copy.close()
