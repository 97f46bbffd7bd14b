from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from bridge_app.store import Database, tables

DEFAULTS: dict[str, Any] = {
    "proxy.host": "127.0.0.1",
    "proxy.port": 4000,
    "proxy.autostart": False,
    "ui.theme": "Light",
    "ui.idle_lock_minutes": 15,
    "integrity.required": False,  # managed: serve refuses an unverified bundle when True
    "proxy.allow_non_loopback": False,  # serve may bind beyond loopback (set by an admin)
    "config.allowed_modules": [],  # Python modules configs may name (callbacks, hooks)
}

#: Settings earlier versions had, still in their databases: never read nor listed; setting
#: one is refused with the reason.
RETIRED: dict[str, str] = {
    "proxy.admin_ui": (
        "LiteLLM's admin UI is no longer part of LiteLLM Bridge: without LiteLLM's own "
        "database nearly every page of it failed. The app's window and CLI manage the proxy."
    ),
}

_settings = tables["settings"]


class SettingsService:
    """Typed-enough key/value settings with defaults; values are JSON in the database."""

    def __init__(self, *, db: Database) -> None:
        self._db = db

    def get(self, key: str, default: Any = None) -> Any:
        with self._db.reading() as conn:
            row = conn.execute(select(_settings.c.value).where(_settings.c.key == key)).first()
        if row is None:
            return copy.deepcopy(DEFAULTS.get(key, default))  # a list default stays pristine
        return json.loads(row[0])

    def set(self, key: str, value: Any) -> None:
        encoded = json.dumps(value)
        now = datetime.now(UTC).isoformat()
        stmt = sqlite_insert(_settings).values(key=key, value=encoded, updated_at=now)
        stmt = stmt.on_conflict_do_update(
            index_elements=[_settings.c.key], set_={"value": encoded, "updated_at": now}
        )
        with self._db.transaction() as conn:
            conn.execute(stmt)

    def all(self) -> dict[str, Any]:
        values = copy.deepcopy(DEFAULTS)
        with self._db.reading() as conn:
            for key, value in conn.execute(select(_settings.c.key, _settings.c.value)):
                if key not in RETIRED:
                    values[key] = json.loads(value)
        return values
