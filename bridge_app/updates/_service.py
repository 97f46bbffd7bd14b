"""UpdateService: check, download, install side by side, switch at the next start after a
health check, and roll back (automatically when the check fails, or by hand).

Layout under ``<data>/updates/``: ``metadata/`` (TUF, with the trusted ``root.json``),
``downloads/``, ``versions/<version>/`` (one unpacked bundle each) and ``state.json``
(which version is current, which is pending, the previous one, the last outcome). The
packaged launcher starts ``current_executable()``; a source checkout has no bundle and
runs itself.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tarfile
import time
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import bridge_app
from bridge_app.runtime import AppPaths, atomic_write
from bridge_app.updates._archives import EXECUTABLE, unpack_bundle
from bridge_app.updates._database import DatabaseFiles
from bridge_app.updates._errors import Progress, UpdateError
from bridge_app.updates._health import HEALTH_CHECK_ENV, health_check
from bridge_app.updates._msi import msi_reason, msi_scope
from bridge_app.updates._root import trusted_root

if TYPE_CHECKING:
    from bridge_app.updates._tuf import TufClient

log = logging.getLogger(__name__)

SOURCE_SETTING = "updates.source"
AuditHook = Callable[[str, str, str], object]  # (action, outcome, detail)


@dataclass(frozen=True)
class UpdatePolicy:
    """What the managed policy decides about updates (the policy package supplies it)."""

    disabled: bool = False
    pinned_version: str | None = None  # only this version may be installed


@dataclass
class UpdateState:
    current: str = bridge_app.__version__
    current_path: str | None = None  # None: the installed (or source) build itself
    previous: str | None = None
    previous_path: str | None = None
    pending: str | None = None
    pending_path: str | None = None
    last_outcome: str | None = None
    history: list[str] = field(default_factory=list)
    unaudited: list[list[str]] = field(default_factory=list)  # recorded once the DB is open
    # The newest database schema each version reads (None: not known), for a rollback.
    current_schema: int | None = None
    previous_schema: int | None = None
    # A database restore a rollback by hand left for the moment no process has it open:
    # {"backup": path, "from_schema": n, "note": what the person was told}.
    restore: dict[str, Any] | None = None


@dataclass(frozen=True)
class Available:
    current: str
    latest: str
    bundle: str
    newer: bool
    allowed: bool
    reason: str = ""

    def describe(self) -> str:
        if not self.newer:
            return f"LiteLLM Bridge {self.current} is up to date."
        if not self.allowed:
            return f"Version {self.latest} is available but not allowed: {self.reason}"
        return f"Version {self.latest} is available (running {self.current})."


class _Admin(Protocol):
    @property
    def is_admin(self) -> bool: ...


def _require_admin(session: _Admin | None, what: str) -> None:
    if session is None or not session.is_admin:
        raise UpdateError(f"Only an admin can {what}.")


def _version_key(version: str) -> tuple[int, ...]:
    parts: list[int] = []
    for piece in version.split("."):
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits) if digits else 0)
    return tuple(parts)


class UpdateService:
    def __init__(
        self,
        *,
        paths: AppPaths,
        source: Callable[[], str | None],
        set_source: Callable[[str], None] = lambda _s: None,
        policy: Callable[[], UpdatePolicy] = UpdatePolicy,
        proxy_serving: Callable[[], bool] = lambda: False,
        audit: AuditHook | None = None,
        health_timeout_s: float = 120.0,
        schema: int | None = None,
        network: Callable[[], Mapping[str, str]] = dict,
    ) -> None:
        self._root = paths.data_dir / "updates"
        self._network = network  # the proxy entries: downloads take the app's route
        self._paths = paths
        self._source = source
        self._set_source = set_source
        self.policy = policy  # the policy package's hook: pin a version or disable updates
        self._proxy_serving = proxy_serving
        self._audit = audit
        self.health_timeout_s = health_timeout_s
        self._schema = schema  # the newest database schema this running build reads
        self._db = DatabaseFiles(paths.database_file, self._root)

    # -- state ----------------------------------------------------------------------------

    @property
    def metadata_dir(self) -> Path:
        return self._root / "metadata"

    def state(self) -> UpdateState:
        try:
            data = json.loads((self._root / "state.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return UpdateState()
        known = set(UpdateState.__dataclass_fields__)
        return UpdateState(**{k: v for k, v in data.items() if k in known})

    def _save(self, state: UpdateState) -> None:
        state.history = state.history[-20:]
        data = json.dumps(asdict(state), indent=1).encode("utf-8")
        atomic_write(self._root / "state.json", data, mode=0o600, make_parents=True)

    def _record(self, action: str, outcome: str, detail: str) -> None:
        log.info("%s %s: %s", action, outcome, detail)
        if self._audit is None:  # at start, before the database is open: keep it for later
            state = self.state()
            state.unaudited.append([action, outcome, detail])
            self._save(state)
            return
        if self._audit is not None:
            try:
                self._audit(action, outcome, detail)
            except Exception:
                log.exception("could not record %s in the audit log", action)

    def current_executable(self) -> Path | None:
        """What the launcher starts: the current installed update, else None (this build)."""
        path = self.state().current_path
        return Path(path) / EXECUTABLE if path else None

    # -- configure, check, download ---------------------------------------------------------

    def configure(self, session: _Admin | None, source: str, root_json: Path) -> None:
        """Where updates come from and the root metadata to trust (admins)."""
        _require_admin(session, "configure the update source")
        self.trust_root(root_json)
        self._set_source(source)
        self._record("update.configure", "ok", f"source {source}")

    def trust_root(self, root_json: Path) -> None:
        """Install the update source's root metadata as the trust anchor."""
        try:
            data = root_json.read_bytes()
            parsed = json.loads(data)
        except (OSError, ValueError) as exc:
            raise UpdateError(f"{root_json} is not a readable TUF root.json: {exc}.") from exc
        if parsed.get("signed", {}).get("_type") != "root":
            raise UpdateError(f"{root_json} is not TUF root metadata.")
        shutil.rmtree(self.metadata_dir, ignore_errors=True)
        atomic_write(self.metadata_dir / "root.json", data, mode=0o600, make_parents=True)

    def _client(self) -> TufClient:
        from bridge_app.updates._tuf import TufClient  # python-tuf only when updates are used

        source = self._source()
        if not source:
            raise UpdateError(
                "No update source is configured.",
                hint="An admin runs `litellm-bridge update configure SOURCE --root root.json`.",
            )
        return TufClient(
            source=source,
            metadata_dir=self.metadata_dir,
            download_dir=self._root / "downloads",
            network=self._network(),
        )

    def check(self) -> Available:
        channel = self._client().channel()
        latest, current = channel["version"], self.state().current
        newer = _version_key(latest) > _version_key(current)
        policy = self.policy()
        allowed, reason = True, ""
        scope = msi_scope()
        if scope is not None:
            allowed, reason = False, msi_reason(scope)
        elif policy.disabled:
            allowed, reason = False, "updates are disabled by the managed policy."
        elif policy.pinned_version and policy.pinned_version != latest:
            allowed, reason = False, f"the managed policy pins version {policy.pinned_version}."
        return Available(current, latest, channel["bundle"], newer, allowed, reason)

    def download(self, progress: Progress | None = None) -> tuple[Available, Path]:
        available = self.check()
        if not available.newer:
            raise UpdateError(available.describe())
        if not available.allowed:
            raise UpdateError(available.describe())
        path = self._client().download(available.bundle, progress)
        self._record("update.download", "ok", f"{available.latest}: {path.name} verified")
        return available, path

    # -- apply (install side by side; switch at the next start) ------------------------------

    def apply(
        self,
        session: _Admin | None,
        progress: Progress | None = None,
        *,
        proxy_agreed: bool = False,
    ) -> str:
        _require_admin(session, "install an update")
        if self._proxy_serving() and not proxy_agreed:
            raise UpdateError(
                "The proxy is serving requests: the update was not installed.",
                hint="Stop the proxy first, or agree to install now (`update apply --yes`); "
                "the switch happens at the next start either way.",
            )
        available, bundle = self.download(progress)
        target = self._root / "versions" / available.latest
        staging = target.with_name(target.name + ".partial")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        try:
            unpack_bundle(bundle, staging)
        except (OSError, tarfile.TarError, zipfile.BadZipFile) as exc:
            shutil.rmtree(staging, ignore_errors=True)
            raise UpdateError(f"The bundle {bundle.name} could not be unpacked: {exc}.") from exc
        except UpdateError:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)
        state = self.state()
        state.pending, state.pending_path = available.latest, str(target)
        state.last_outcome = f"{available.latest} installed; it starts at the next start"
        state.history.append(f"{time.strftime('%Y-%m-%d %H:%M:%S')} installed {available.latest}")
        self._save(state)
        self._record("update.install", "ok", f"{available.latest} installed beside {state.current}")
        return state.last_outcome

    # -- the next start ---------------------------------------------------------------------

    def flush_audit(self) -> None:
        """Record in the audit log what happened while the database was closed."""
        state = self.state()
        if not state.unaudited or self._audit is None:
            return
        for action, outcome, detail in state.unaudited:
            self._record(action, outcome, detail)
        state.unaudited = []
        self._save(state)

    def has_pending(self) -> bool:
        """An installed update waits for the next start (and this is not its health check)."""
        return bool(self.state().pending) and not os.environ.get(HEALTH_CHECK_ENV)

    def at_start(self) -> str | None:
        """Switch to a pending version when its health check passes, else roll back to the
        current one. Returns what happened (None: nothing pending)."""
        state = self.state()
        if not state.pending or not state.pending_path or os.environ.get(HEALTH_CHECK_ENV):
            return None
        version, folder = state.pending, Path(state.pending_path)
        # The version under test may upgrade (or damage) the database: keep an exact copy to
        # put back when it fails. Call this while no connection to the database is open.
        snapshot = self._root / f"database-before-{version}"
        self._db.snapshot(snapshot)
        problem = self.health_check(folder / EXECUTABLE)
        state.pending, state.pending_path = None, None
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        if problem is None:
            state.previous, state.previous_path = state.current, state.current_path
            state.current, state.current_path = version, str(folder)
            # This build is the one being left: what it reads is what a rollback must give it.
            state.previous_schema, state.current_schema = self._schema, None
            state.last_outcome = f"switched to {version} (health check passed)"
            event = ["update.switch", "ok", state.last_outcome]
        else:
            restored = self._db.put_back(snapshot)
            state.last_outcome = (
                f"{version} failed its health check and was rolled back to {state.current}"
                f"{' (database restored)' if restored else ''}: {problem}"
            )
            event = ["update.rollback", "failed", state.last_outcome]
        state.history.append(f"{stamp} {state.last_outcome}")
        self._save(state)
        self._record(*event)
        return state.last_outcome

    def rollback(self, session: _Admin | None, *, database_schema: int) -> str:
        """Go back to the previous version by hand (it starts at the next start). When that
        version cannot read the database (``database_schema``, upgraded since), the copy
        made before the upgrade comes back once no process has the database open
        (``finish_restore``); otherwise the database stays."""
        _require_admin(session, "roll an update back")
        state = self.state()
        if state.previous is None:
            raise UpdateError("There is no previous version to go back to.")
        plan = self._db.plan(state.previous, state.current, database_schema, state.previous_schema)
        leaving_schema = self._schema if self._schema is not None else state.current_schema
        state.current, state.previous = state.previous, state.current
        state.current_path, state.previous_path = state.previous_path, state.current_path
        state.current_schema, state.previous_schema = state.previous_schema, leaving_schema
        state.pending = state.pending_path = None
        state.restore = None
        if plan.backup is not None:
            state.restore = {
                "backup": str(plan.backup),
                "from_schema": plan.from_schema,
                "note": plan.note,
            }
        state.last_outcome = f"rolled back to {state.current} by hand. {plan.note}"
        if state.restore is not None:  # recorded in the restored database's audit log too
            state.restore["event"] = state.last_outcome
        state.history.append(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {state.last_outcome}")
        self._save(state)
        self._record("update.rollback", "ok", state.last_outcome)
        return state.last_outcome

    def restore_pending(self) -> bool:
        return self.state().restore is not None

    def finish_restore(self) -> str | None:
        """Bring back the database copy a rollback by hand asked for. Call with no connection
        to the database open and the instance lock held. The event reaches the audit log of
        the restored database when it is next opened (``flush_audit``)."""
        state = self.state()
        if state.restore is None:
            return None
        backup, schema = Path(state.restore["backup"]), int(state.restore["from_schema"])
        try:
            aside = self._db.restore_backup(backup, schema)
        except (OSError, UpdateError) as exc:
            message = f"The database copy {backup.name} could not be brought back: {exc}"
            state.restore = None
            state.unaudited.append(["update.rollback", "failed", message])
            self._save(state)
            log.error("%s", message)
            return message
        message = (
            f"Database restored from {backup.name} for {state.current}; the newer one is "
            f"kept as {aside.name}."
        )
        event = str(state.restore.get("event", ""))
        state.restore = None
        if event:
            state.unaudited.append(["update.rollback", "ok", event])
        state.last_outcome = f"rolled back to {state.current} by hand. {message}"
        state.history.append(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {message}")
        state.unaudited.append(["update.rollback", "ok", message])
        self._save(state)
        log.info("%s", message)
        return message

    def health_check(self, executable: Path) -> str | None:
        """`doctor`, then `serve` until the proxy is ready, then one demo request; None when
        all passed, else what failed."""
        return health_check(executable, self.health_timeout_s)

    def status(self) -> dict[str, Any]:
        state = asdict(self.state())
        state["source"] = self._source()
        state["trusted_root"] = trusted_root(self.metadata_dir) is not None
        policy = self.policy()
        state["policy"] = asdict(policy)
        state["proxy_serving"] = self._proxy_serving()
        return state


def describe_bytes(done: int, total: int) -> str:
    return f"{done / 1e6:.1f} of {total / 1e6:.1f} MB"
