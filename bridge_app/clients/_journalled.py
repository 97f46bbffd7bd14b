"""Apply and revert as journalled changes: the record first, the files, then the
bookkeeping and the audit event in one transaction; and, at the next start, finishing or
undoing a change a crash interrupted (ToolsService inherits these; the record's format is
in _journal.py)."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bridge_app.clients._changes import (
    FileStep,
    new_backups,
    plan_apply,
    plan_revert,
    write_steps,
    written,
)
from bridge_app.clients._files import atomic_write, read_bytes, remove, sha256
from bridge_app.clients._journal import Pending, PendingFile
from bridge_app.clients._model import ChangeResult, Platform, Target, ToolSpec
from bridge_app.clients._registry import tool_spec
from bridge_app.clients._store import ToolStore
from bridge_app.proxy import KeyIdentity, ProxyService
from bridge_app.runtime import BridgeError, pid_alive
from bridge_app.settings import SettingsService
from bridge_app.store import Database

log = logging.getLogger(__name__)


class ToolChangeJournal:
    _db: Database
    _store: ToolStore
    _settings: SettingsService
    _proxy: ProxyService
    _loaded: dict[str, str]

    if TYPE_CHECKING:  # provided by ToolsService

        def _record(self, actor: Any, action: str, target: str, detail: str = "") -> None: ...

        @property
        def home(self) -> Path: ...

        @property
        def environ(self) -> Mapping[str, str]: ...

        platform: Platform

        def _require_files(self, spec: ToolSpec) -> None: ...

        def _key_or_new(self, tool_id: str) -> tuple[str, str | None]: ...

        def _target(
            self,
            spec: ToolSpec,
            model: str | None,
            *,
            folder: str | None = None,
            actor: Any = None,
            key: str | None = None,
        ) -> Target: ...

        def _masked(self, result: ChangeResult) -> ChangeResult: ...

    def apply(
        self,
        tool_id: str,
        *,
        model: str | None = None,
        folder: str | None = None,
        force: bool = False,
        actor: Any = None,
    ) -> ChangeResult:
        """Merge the app's settings into the tool's config. With conflicts (the user changed
        the file since the app wrote it) nothing is written unless ``force``. The tool gets
        its own proxy key (created when it has none), never the master key. Journalled
        (``_journal.py``): the files, their backups' hashes, the key, the settings and the
        audit event are all changed or none."""
        spec = tool_spec(tool_id)
        self._require_files(spec)
        key, new_key = self._key_or_new(spec.id)
        target = self._target(spec, model, folder=folder, actor=actor, key=key)
        steps = plan_apply(
            spec,
            target,
            home=self.home,
            platform=self.platform,
            env=self.environ,
            store=self._store,
        )
        changes = tuple(s.change for s in steps)
        if any(s.change.conflict for s in steps) and not force:
            return self._masked(ChangeResult(spec.id, False, changes))
        settings = {f"tools.{spec.id}.model": model, f"tools.{spec.id}.folder": folder}
        fresh = new_backups(spec, steps)
        pending = Pending(
            tool=spec.id,
            action="apply",
            actor=_who(actor),
            detail=f"model {target.model}, force={force}",
            pid=os.getpid(),
            files=tuple(
                PendingFile(s.file_id, str(s.path), s.current, sha256(s.new)) for s in steps
            ),
            fresh=tuple(b.file for b in fresh),
            key=new_key,
            settings={k: v for k, v in settings.items() if v is not None},
        )
        with self._db.transaction():
            for backup in fresh:
                self._store.save_backup(backup)
            self._store.save_pending(pending)
        self._write(pending, steps)
        self._finish(pending)
        return self._masked(ChangeResult(spec.id, True, changes))

    def revert(self, tool_id: str, *, force: bool = False, actor: Any = None) -> ChangeResult:
        """Put back what was there before the first apply (a file that did not exist is
        removed). A file changed since is a conflict; ``force`` keeps the user's version in
        a ``.before-revert-<time>`` file next to it. Journalled like apply."""
        spec = tool_spec(tool_id)
        self._require_files(spec)
        steps = plan_revert(
            spec, home=self.home, platform=self.platform, env=self.environ, store=self._store
        )
        changes = tuple(s.change for s in steps)
        if any(s.change.conflict for s in steps) and not force:
            return self._masked(ChangeResult(spec.id, False, changes))
        steps = [s for s in steps if s.backup is not None]
        pending = Pending(
            tool=spec.id,
            action="revert",
            actor=_who(actor),
            detail=f"force={force}",
            pid=os.getpid(),
            files=tuple(
                PendingFile(
                    s.file_id,
                    str(s.path),
                    s.current,
                    sha256(s.new),
                    s.backup.mode if s.backup else None,
                )
                for s in steps
            ),
        )
        self._store.save_pending(pending)
        saved = self._write(pending, steps, restore_modes=True)
        self._finish(pending)
        return self._masked(ChangeResult(spec.id, True, changes, saved))

    def _write(
        self, pending: Pending, steps: list[FileStep], *, restore_modes: bool = False
    ) -> tuple[Path, ...]:
        """Write the files; when that fails (they are put back), forget the change."""
        try:
            return write_steps(steps, restore_modes=restore_modes)
        except BridgeError:
            with self._db.transaction():
                self._forget(pending)
            raise

    def _forget(self, pending: Pending) -> None:
        """Drop a change that did not happen: its record and the backups it made."""
        for file_id in pending.fresh:
            self._store.drop_backup(pending.tool, file_id)
        self._store.drop_pending(pending.tool)

    def _finish(self, pending: Pending, *, recovered: bool = False) -> None:
        """The bookkeeping of a change whose files are written, and its audit event, in one
        transaction that also drops the pending record."""
        tool = pending.tool
        detail = pending.detail + ("; finished at the next start" if recovered else "")
        with self._db.transaction():
            if pending.action == "apply":
                for file in pending.files:
                    backup = self._store.backup(tool, file.file_id)
                    if backup is not None:
                        self._store.save_backup(written(backup, file.after_sha256))
                if pending.key is not None:
                    self._store.save_tool_key(tool, pending.key)
                    self._record(pending.actor, "tools.key_create", tool, "new")
                for name, value in pending.settings.items():
                    self._settings.set(name, value)
            else:
                for file in pending.files:
                    self._store.drop_backup(tool, file.file_id)
            self._record(pending.actor, f"tools.{pending.action}", tool, detail)
            self._store.drop_pending(tool)
        if pending.key is not None:
            self._proxy.keys.add(pending.key, KeyIdentity(tool))
            self._loaded[tool] = pending.key

    def recover(self) -> list[str]:
        """Finish or undo the applies and reverts a crashed process left under way (see
        ``_journal.py``); called at every start. Returns what was done, one line each."""
        done: list[str] = []
        for pending in self._store.pending():
            if pending.pid != os.getpid() and pid_alive(pending.pid):
                continue  # still running in another process
            paths = [Path(f.path) for f in pending.files]
            for path in paths:
                _remove_temp_files(path)
            now = {f.file_id: _digest_or_unknown(Path(f.path)) for f in pending.files}
            if all(now[f.file_id] == f.after_sha256 for f in pending.files):
                self._finish(pending, recovered=True)
                done.append(f"{pending.tool}: the interrupted {pending.action} was finished")
                continue
            for file in pending.files:
                before = sha256(file.before)
                if now[file.file_id] == file.after_sha256 and file.after_sha256 != before:
                    path = Path(file.path)
                    try:
                        if file.before is None:
                            remove(path)
                        else:
                            atomic_write(path, file.before, mode=file.mode)
                    except (OSError, BridgeError) as exc:
                        log.warning("could not put back %s: %s", path, exc)
            with self._db.transaction():
                self._forget(pending)
                self._record(
                    pending.actor,
                    "tools.recover",
                    pending.tool,
                    f"an interrupted {pending.action} was undone; the files are as before",
                )
            done.append(f"{pending.tool}: the interrupted {pending.action} was undone")
        return done


def _digest_or_unknown(path: Path) -> str | None:
    try:
        return sha256(read_bytes(path))
    except BridgeError:
        return "unreadable"


def _remove_temp_files(path: Path) -> None:
    """A write killed mid-way leaves ``.<name>.*.tmp`` beside the file (holding a key)."""
    try:
        leftovers = list(path.parent.glob(f".{path.name}.*.tmp"))
    except OSError:
        return
    for leftover in leftovers:
        try:
            leftover.unlink()
        except OSError as exc:
            log.warning("could not remove %s: %s", leftover, exc)


def _who(actor: Any) -> str | None:
    """Who asked, as the audit log names them (kept in the journal across a crash)."""
    name = getattr(actor, "username", actor)
    return name if isinstance(name, str) else None
