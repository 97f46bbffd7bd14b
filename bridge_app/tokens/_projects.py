from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import and_, delete, insert, select, update

from bridge_app.envvars import SessionLike
from bridge_app.runtime import BridgeError
from bridge_app.store import Database, Topic, tables
from bridge_app.tokens._inject import Project

_projects = tables["projects"]
_MAX_FIELDS = 32


class ProjectError(BridgeError):
    pass


class ProjectStore:
    """A user's projects; the metadata fields are sealed with the user's key because some
    companies put secrets (cost-centre keys) in them."""

    def __init__(self, *, db: Database) -> None:
        self._db = db

    def projects(self, session: SessionLike) -> list[tuple[Project, bool]]:
        with self._db.reading() as conn:
            rows = conn.execute(
                select(_projects)
                .where(_projects.c.owner_id == session.user_id)
                .order_by(_projects.c.name)
            ).all()
        return [(self._decode(session, row), bool(row.active)) for row in rows]

    def active(self, session: SessionLike) -> Project | None:
        for project, active in self.projects(session):
            if active:
                return project
        return None

    def save(self, session: SessionLike, project: Project) -> None:
        project_id = project.project_id.strip()
        if not project_id or not project.name.strip():
            raise ProjectError("A project needs an ID and a name.")
        if len(project.fields) > _MAX_FIELDS:
            raise ProjectError(f"A project can have at most {_MAX_FIELDS} extra fields.")
        for key in project.fields:
            if not key or key in ("id", "name") or not key.replace("_", "").isalnum():
                raise ProjectError(
                    f"{key!r} cannot be a field name (letters, digits and _ only; not id/name)."
                )
        sealed = session.seal(
            json.dumps(dict(project.fields)).encode(), f"project:{session.user_id}:{project_id}"
        ).hex()
        now = datetime.now(UTC).isoformat(timespec="seconds")
        match = and_(_projects.c.owner_id == session.user_id, _projects.c.project_id == project_id)
        with self._db.transaction() as conn:
            self._db.changed(Topic.PROJECT)
            result = conn.execute(
                update(_projects)
                .where(match)
                .values(name=project.name.strip(), fields=sealed, updated_at=now)
            )
            if not result.rowcount:
                has_active = conn.execute(
                    select(_projects.c.id).where(
                        and_(_projects.c.owner_id == session.user_id, _projects.c.active == 1)
                    )
                ).first()
                conn.execute(
                    insert(_projects).values(
                        owner_id=session.user_id,
                        project_id=project_id,
                        name=project.name.strip(),
                        fields=sealed,
                        active=0 if has_active else 1,
                        updated_at=now,
                    )
                )

    def delete(self, session: SessionLike, project_id: str) -> None:
        with self._db.transaction() as conn:
            self._db.changed(Topic.PROJECT)
            result = conn.execute(
                delete(_projects).where(
                    and_(
                        _projects.c.owner_id == session.user_id,
                        _projects.c.project_id == project_id,
                    )
                )
            )
        if not result.rowcount:
            raise ProjectError(f"There is no project {project_id!r}.")

    def activate(self, session: SessionLike, project_id: str) -> Project:
        with self._db.transaction() as conn:
            self._db.changed(Topic.PROJECT)
            exists = conn.execute(
                select(_projects.c.id).where(
                    and_(
                        _projects.c.owner_id == session.user_id,
                        _projects.c.project_id == project_id,
                    )
                )
            ).first()
            if exists is None:
                raise ProjectError(f"There is no project {project_id!r}.")
            conn.execute(
                update(_projects)
                .where(_projects.c.owner_id == session.user_id)
                .values(active=(_projects.c.project_id == project_id).cast(_projects.c.active.type))
            )
        project = self.active(session)
        assert project is not None
        return project

    @staticmethod
    def _decode(session: SessionLike, row: object) -> Project:
        r = row._mapping  # type: ignore[attr-defined]
        fields = json.loads(
            session.open(bytes.fromhex(r["fields"]), f"project:{session.user_id}:{r['project_id']}")
        )
        return Project(project_id=r["project_id"], name=r["name"], fields=fields)
