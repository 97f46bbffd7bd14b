"""The update use-cases of the application core (AppCore inherits them): the same check,
download, install and rollback for `litellm-bridge update` and the Updates screen."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from bridge_app.auth import Session
from bridge_app.services._usecases import use_case
from bridge_app.updates import Available, UpdateError

if TYPE_CHECKING:
    from bridge_app.services._root import Services
    from bridge_app.store import Database

Progress = Any  # Callable[[int, int], None]: bytes so far, total


class UpdateUseCases:
    services: Services
    db: Database

    @use_case(role="anyone", transactional=False)
    def update_status(self) -> dict[str, Any]:
        """Current, pending and previous versions, the source, the policy, the last outcome
        (what happened at start reaches the audit log here, once the database is open)."""
        updates = self.services.updates
        updates.flush_audit()
        return updates.status()

    @use_case(role="anyone", transactional=False)
    def check_update(self) -> Available:
        return self.services.updates.check()

    @use_case(role="anyone", transactional=False)
    def download_update(self, progress: Progress = None) -> tuple[Available, Path]:
        """Download the newer version and verify it against the signed metadata; nothing
        is installed."""
        return self.services.updates.download(progress)

    @use_case(role="admin", transactional=False)
    def install_update(
        self, session: Session, progress: Progress = None, *, proxy_agreed: bool = False
    ) -> str:
        """Install beside the running version; the switch happens at the next start, after
        a health check. Refused while the proxy serves requests unless the person agreed."""
        return self.services.updates.apply(session, progress, proxy_agreed=proxy_agreed)

    @use_case(role="admin", transactional=False)
    def configure_updates(self, session: Session, source: str, root_json: Path) -> None:
        self.services.updates.configure(session, source, root_json)

    @use_case(role="admin")
    def rollback_update(self, session: Session) -> str:
        """Back to the previous version at the next start. If that version cannot read the
        database (its schema was upgraded since), the copy made before the upgrade comes back
        once no process has the database open: when this front end closes, or at the next
        start (`finish_pending_rollback`)."""
        updates = self.services.updates
        if updates.state().previous is None:
            raise UpdateError("There is no previous version to go back to.")
        return updates.rollback(session, database_schema=self.db.schema_version())
