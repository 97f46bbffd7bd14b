"""The database across a version change: an exact copy before a health check (put back when
it fails), and, for a rollback by hand, the copy the previous version can read.

A newer version may upgrade the schema (the store keeps ``<db>.v<N>.bak``, the file as it
was at schema N, before upgrading); the previous version refuses a newer schema. So a
rollback to a version that reads an older schema brings that copy back, and keeps the
newer file aside (``<db>.v<M>.rolled-back``): nothing is lost. The swap happens only while
no process has the database open (see ``DatabaseFiles.restore_backup``).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from bridge_app.runtime import atomic_write
from bridge_app.updates._errors import UpdateError

_SIDES = ("", "-wal", "-shm")


@dataclass(frozen=True)
class DatabasePlan:
    """What a rollback does to the database."""

    backup: Path | None  # None: the database stays as it is
    from_schema: int
    to_schema: int | None  # the newest schema the version rolled back to reads
    note: str  # said to the person, in full


class DatabaseFiles:
    def __init__(self, database: Path, updates_dir: Path) -> None:
        self.database = database
        self._updates_dir = updates_dir

    def files(self) -> list[Path]:
        return [self.database.with_name(self.database.name + side) for side in _SIDES]

    # -- around a health check ---------------------------------------------------------------

    def snapshot(self, folder: Path) -> None:
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        for path in self.files():
            if path.exists():
                shutil.copy2(path, folder / path.name)

    def put_back(self, folder: Path) -> bool:
        """Put the database back exactly as in ``folder``; True when the files had changed."""
        changed = False
        for path in self.files():
            saved = folder / path.name
            before = saved.read_bytes() if saved.exists() else None
            now = path.read_bytes() if path.exists() else None
            if before == now:
                continue
            changed = True
            if before is None:
                path.unlink()
            else:
                atomic_write(path, before, mode=0o600)
        return changed

    # -- a rollback by hand ---------------------------------------------------------------------

    def plan(self, version: str, leaving: str, schema: int, reads: int | None) -> DatabasePlan:
        """What rolling back from ``leaving`` to ``version`` (which reads schemas up to
        ``reads``) does to a database at ``schema``."""
        if reads is None:
            note = (
                f"The database stays as it is (schema {schema}): which schema {version} reads "
                "was not recorded when it was installed."
            )
            return DatabasePlan(None, schema, None, note)
        if schema <= reads:
            note = f"The database stays as it is: {version} reads its schema (version {schema})."
            return DatabasePlan(None, schema, reads, note)
        backup = self.database.with_name(f"{self.database.name}.v{reads}.bak")
        if not backup.exists():
            snapshot = self._updates_dir / f"database-before-{leaving}" / self.database.name
            backup = snapshot if snapshot.exists() else backup
        if not backup.exists():
            raise UpdateError(
                f"{version} cannot read this database (schema {schema}; it reads up to "
                f"{reads}) and the copy made before the upgrade ({backup.name}) is gone: "
                "nothing was rolled back.",
                hint=f"Restore {backup.name} from a backup of the data folder, then try again.",
            )
        note = (
            f"The database goes back to the copy made before {leaving} upgraded it "
            f"(schema {schema} to {reads}: changes made since are not in it); the current "
            f"one is kept as {self.aside(schema).name}."
        )
        return DatabasePlan(backup, schema, reads, note)

    def aside(self, schema: int) -> Path:
        return self.database.with_name(f"{self.database.name}.v{schema}.rolled-back")

    def restore_backup(self, backup: Path, from_schema: int) -> Path:
        """Swap in ``backup``; the current files move aside. Call with every connection to
        the database closed and the instance lock held. Returns where the current file went."""
        if not backup.exists():
            raise UpdateError(f"The database copy {backup} is gone: the database was kept.")
        aside = self.aside(from_schema)
        for path, side in zip(self.files(), _SIDES, strict=True):
            target = aside.with_name(aside.name + side)
            target.unlink(missing_ok=True)
            if path.exists():
                os.replace(path, target)
        # A snapshot taken at a switch may have its write-ahead log beside it: it belongs to
        # the file (a copy the upgrade kept has none). SQLite rebuilds the -shm index.
        for side in ("-wal", ""):
            source = backup.with_name(backup.name + side)
            if not source.exists():
                continue
            target = self.database.with_name(self.database.name + side)
            temporary = target.with_name(target.name + ".restoring")
            shutil.copy2(source, temporary)
            os.chmod(temporary, 0o600)
            os.replace(temporary, target)
        return aside
