"""PolicyService: which policy is in force and where it came from, applying and trusting
policies, and quota status; the config lock rules come from ConfigLockRules (_lock.py)."""

from __future__ import annotations

import getpass
import hashlib
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bridge_app.audit import AuditLog
from bridge_app.config import ValidationResult, decode_config_bytes
from bridge_app.policy._counters import (
    Counters,
    LocalCounters,
    SharedCounters,
    Totals,
)
from bridge_app.policy._errors import (
    PolicyError,
    PolicySignatureError,
)
from bridge_app.policy._files import parse_policy_bytes, read_policy_bytes, read_signature
from bridge_app.policy._location import POLICY_FILE_ENV, machine_policy_path
from bridge_app.policy._lock import ConfigLockRules
from bridge_app.policy._model import NO_POLICY, Limits, Policy, parse_policy
from bridge_app.policy._owner import refuse_untrusted_owner
from bridge_app.policy._signing import fingerprint, read_public_key, verify_signature
from bridge_app.policy._status import InForce, QuotaUse, Refusal
from bridge_app.settings import SettingsService
from bridge_app.store import Database, Topic, tables

log = logging.getLogger(__name__)
_versions = tables["policy_versions"]

TRUSTED_KEY_SETTING = "policy.trusted_key"  # hex of the raw Ed25519 public key
TOPIC = Topic.POLICY


def _digest(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def _os_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no user name in some containers and services
        return "unknown"


class PolicyService(ConfigLockRules):
    def __init__(
        self,
        *,
        db: Database,
        audit: AuditLog,
        settings: SettingsService,
        machine_file: Path | None = None,
    ) -> None:
        self._db = db
        self._audit = audit
        self._settings = settings
        # Who may have written it is checked at the default location, the one IT ships to
        # (BRIDGE_POLICY_FILE or an explicit file is the caller's own choice of place).
        self._check_owner = machine_file is None and not os.environ.get(POLICY_FILE_ENV)
        self.machine_file = machine_file or machine_policy_path()
        self._lock = threading.Lock()
        self._cache: InForce | None = None
        self._listeners: list[Callable[[InForce], None]] = []
        self._local = LocalCounters(db=db)
        self._counters: Counters = self._local
        self._counters_url: str | None = None
        self._file_seen: tuple[float, int] | None = None
        self._file_checked = False
        self.subject_user = _os_user()
        self.subject_role = "user"
        self.shared_reachable: bool | None = None

    # -- what is in force ----------------------------------------------------------------

    def current(self) -> InForce:
        if not self._file_checked:
            # Every instance (a one-off command too) first looks at the machine-wide file.
            self._file_checked = True
            self.refresh_machine_file()
        with self._lock:
            if self._cache is None:
                self._cache = self._load()
            return self._cache

    def policy(self) -> Policy:
        return self.current().policy

    def reload(self, _topic: str = TOPIC) -> None:
        """Re-read the policy in force (a change feed listener for the "policy" topic)."""
        with self._lock:
            self._cache = self._load()
            now = self._cache
        self._sync_counters(now.policy)
        for listener in list(self._listeners):
            try:
                listener(now)
            except Exception:
                log.exception("a policy listener failed")

    def subscribe(self, listener: Callable[[InForce], None]) -> None:
        self._listeners.append(listener)

    def _load(self) -> InForce:
        with self._db.reading() as conn:
            row = conn.execute(
                select(_versions)
                .where(_versions.c.status == "active")
                .order_by(_versions.c.id.desc())
                .limit(1)
            ).first()
        if row is None:
            return InForce(NO_POLICY, "none (no policy has been applied)")
        policy, _result = parse_policy(row.content)
        if policy is None:  # cannot happen for a row we checked; never fail open silently
            log.error("the stored policy %d no longer parses", row.id)
            policy = NO_POLICY
        return InForce(
            policy,
            row.source,
            row.content,
            row.digest,
            bool(row.signed),
            row.actor,
            float(row.created_at),
        )

    def last_refusal(self) -> Refusal | None:
        """The newest refused policy, if it is newer than the one in force."""
        with self._db.reading() as conn:
            row = conn.execute(select(_versions).order_by(_versions.c.id.desc()).limit(1)).first()
        if row is None or row.status != "refused":
            return None
        return Refusal(row.source, row.reason, float(row.created_at))

    # -- trust ---------------------------------------------------------------------------

    def trusted_key(self) -> bytes | None:
        value = self._settings.get(TRUSTED_KEY_SETTING)
        return bytes.fromhex(value) if value else None

    def trust(self, session: Any, key_file: Path) -> str:
        """Enrol the company's Ed25519 public key (admins): from now on only policies
        signed with it are accepted. Returns its fingerprint."""
        self._require_admin(session, "policy.trust")
        try:
            raw = read_public_key(key_file.read_bytes())
        except OSError as exc:
            raise PolicyError(f"Cannot read {key_file}: {exc.strerror or exc}.") from exc
        fp = fingerprint(raw)
        with self._db.transaction():
            self._settings.set(TRUSTED_KEY_SETTING, raw.hex())
            self._audit.record(session, "policy.trust", fp, "ok", f"from {key_file.name}")
            self._db.changed(TOPIC)
        self.refresh_machine_file()
        return fp

    # -- reading and checking files --------------------------------------------------------

    def check_file(self, path: Path) -> tuple[ValidationResult, str | None]:
        """Validate a policy file; also its signature when a company key is enrolled
        (the second value: None when fine or not needed, else why it would be refused)."""
        content = read_policy_bytes(path)
        text, problems = decode_config_bytes(content)  # as apply decodes it
        if text is None:
            result = ValidationResult(tuple(problems))
        else:
            _policy, result = parse_policy(text)
        signature_problem = None
        key = self.trusted_key()
        if key is not None:
            try:
                verify_signature(content, read_signature(path), key, name=path.name)
            except PolicySignatureError as exc:
                signature_problem = exc.message
        return result, signature_problem

    def _verify(self, path: Path) -> tuple[bytes, Policy, bool]:
        """The file's bytes and policy, or PolicyError saying why it is refused."""
        content = read_policy_bytes(path)
        key = self.trusted_key()
        if key is not None:
            verify_signature(content, read_signature(path), key, name=path.name)
        return content, parse_policy_bytes(content, path), key is not None

    # -- applying ----------------------------------------------------------------------

    def apply(self, session: Any, path: Path) -> InForce:
        """A local admin applies a policy file (refused while IT ships a machine-wide one).
        A refused file changes nothing: the previous policy stays in force."""
        self._require_admin(session, "policy.apply")
        if self.machine_file.exists():
            raise PolicyError(
                f"A machine-wide policy is managed by your company at {self.machine_file}; "
                "it cannot be replaced from here.",
            )
        source = f"applied by {session.username} from {path.name}"
        try:
            content, _policy, signed = self._verify(path)
        except PolicyError as exc:
            self._record("refused", source, b"", exc.message, session, signed=False)
            raise
        self._record("active", source, content, "", session, signed=signed)
        return self.current()

    def refresh_machine_file(self, *, force: bool = False) -> Refusal | None:
        """Read the machine-wide file if it changed since last time: a valid one comes into
        force; a tampered, unsigned or invalid one is recorded as refused (and named by
        `doctor`) while the last valid policy stays. Returns the refusal, if any."""
        path = self.machine_file
        try:
            stat = path.stat()
        except OSError:
            self._file_seen = None
            return None
        seen = (stat.st_mtime, stat.st_size)
        if not force and seen == self._file_seen:
            return None
        self._file_seen = seen
        source = f"machine file {path}"
        try:
            if self._check_owner:
                refuse_untrusted_owner(path)
            content, _policy, signed = self._verify(path)
        except PolicyError as exc:
            digest = _digest(self._read_quietly(path))
            if self._latest_digest(source, "refused") != (digest, exc.message):
                self._record("refused", source, b"", exc.message, None, signed=False, digest=digest)
                log.warning("the policy %s was refused: %s", path, exc.message)
            return Refusal(source, exc.message, time.time())
        current = self.current()
        if (
            current.source != source
            or current.digest != _digest(content)
            or self.last_refusal() is not None  # the shipped file is valid again
        ):
            self._record("active", source, content, "", None, signed=signed)
        return None

    @staticmethod
    def _read_quietly(path: Path) -> bytes:
        try:
            return path.read_bytes()
        except OSError:
            return b""

    def _latest_digest(self, source: str, status: str) -> tuple[str, str] | None:
        with self._db.reading() as conn:
            row = conn.execute(select(_versions).order_by(_versions.c.id.desc()).limit(1)).first()
        if row is None or row.source != source or row.status != status:
            return None
        return (row.digest, row.reason)

    def _record(
        self,
        status: str,
        source: str,
        content: bytes,
        reason: str,
        actor: Any,
        *,
        signed: bool,
        digest: str | None = None,
    ) -> None:
        who = getattr(actor, "username", None) or "system"
        text = content.decode("utf-8-sig") if content else ""
        digest = digest if digest is not None else _digest(content)
        # The policy row, its audit event and the change counter commit together.
        with self._db.transaction() as conn:
            conn.execute(
                _versions.insert().values(
                    status=status,
                    source=source,
                    digest=digest,
                    content=text,
                    signed=int(signed),
                    reason=reason,
                    actor=who,
                    created_at=time.time(),
                )
            )
            if status == "active":
                self._audit.record(
                    actor,
                    "policy.change",
                    source,
                    "ok",
                    f"sha256={digest[:16]} signed={'yes' if signed else 'no'}",
                )
            else:
                self._audit.record(actor, "policy.refused", source, "denied", reason)
            self._db.changed(TOPIC)
            self._db.after_commit(self.reload)

    def _require_admin(self, session: Any, action: str) -> None:
        if session is None or not getattr(session, "is_admin", False):
            self._audit.record(session, action, "-", "denied", "not an admin")
            raise PolicyError(
                "Only an admin can change the policy.", hint="Run it with --as ADMIN."
            )

    # -- who is served, counters and quotas ------------------------------------------------

    def serve_as(self, session: Any) -> None:
        """Who the proxy serves: limits per_user and roles.* apply to them."""
        if session is None:
            self.subject_user, self.subject_role = _os_user(), "user"
        else:
            self.subject_user = str(session.username)
            self.subject_role = str(getattr(session, "role", "user"))

    def counters(self) -> Counters:
        self._sync_counters(self.policy())
        return self._counters

    def _sync_counters(self, policy: Policy) -> None:
        if policy.shared == self._counters_url:
            return
        old = self._counters
        if policy.shared:
            try:
                self._counters = SharedCounters(
                    url=policy.shared, local=self._local, on_state=self._shared_state
                )
            except Exception as exc:  # a malformed URL the checker let through
                log.warning("cannot use the shared counters: %s", exc.__class__.__name__)
                self._counters = self._local
        else:
            self._counters = self._local
        self._counters_url = policy.shared
        if isinstance(old, SharedCounters):
            old.close()

    def _shared_state(self, reachable: bool) -> None:
        self.shared_reachable = reachable

    def subjects(self, tool: str | None, user: str | None = None) -> list[tuple[str, str, Limits]]:
        """(counter subject, what a person reads, limits) that apply to a request of
        ``user`` (default: the person this process serves)."""
        policy = self.policy()
        user = user or self.subject_user
        out = [(f"user:{user}", f"user {user}", policy.per_user)]
        if tool and tool in policy.per_tool:
            out.append((f"tool:{tool}", f"tool {tool}", policy.per_tool[tool]))
        if policy.per_machine or policy.per_machine.concurrent:  # by host: Redis keeps each
            host = socket.gethostname() or "this machine"
            out.append((f"machine:{host}", f"this machine ({host})", policy.per_machine))
        return out

    def quota_status(
        self, tools: list[str] | None = None, user: str | None = None
    ) -> list[QuotaUse]:
        """Every limit of the served user (or ``user``; and the named tools) with what is
        used now."""
        policy = self.policy()
        if not policy.has_limits:
            return []
        counters = self.counters()
        now = time.time()
        out: list[QuotaUse] = []
        subjects = self.subjects(None, user)
        for tool in tools if tools is not None else list(policy.per_tool):
            if tool in policy.per_tool:
                subjects.append((f"tool:{tool}", f"tool {tool}", policy.per_tool[tool]))
        for subject, label, limits in subjects:
            if not limits:
                continue
            totals: Totals = counters.totals(
                subject, now, month="budget_usd_per_month" in limits.values
            )
            for name, allowed in limits.values.items():
                out.append(QuotaUse(label, name, totals.used(name), allowed))
        return out

    def quota_warnings(self, user: str | None = None) -> list[str]:
        """What the dashboard banner and `status` say at 80 % and 100 % of a quota (of
        ``user``: the person a running `serve` serves, when `status` asks)."""
        out = []
        for use in self.quota_status(user=user):
            if use.percent >= 100:
                out.append(f"Quota reached: {use.describe()}.")
            elif use.percent >= 80:
                out.append(f"Quota almost reached: {use.describe()}.")
        return out

    def prune(self) -> int:
        return self._local.prune()
