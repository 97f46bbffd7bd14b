"""What the environment manager hands out and what it needs of its callers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from bridge_app.runtime import BridgeError

Scope = Literal["personal", "shared"]


class SessionLike(Protocol):
    """What the env service needs of a logged-in session (bridge_app.auth.Session)."""

    @property
    def user_id(self) -> int: ...
    @property
    def username(self) -> str: ...
    @property
    def is_admin(self) -> bool: ...
    def seal(self, plaintext: bytes, context: str) -> bytes: ...
    def open(self, sealed: bytes, context: str) -> bytes: ...


class AuditRecorder(Protocol):
    def record(self, actor: str, action: str, target: str, outcome: str, detail: str) -> object: ...


class EnvPermissionError(BridgeError):
    pass


@dataclass(frozen=True)
class EnvEntry:
    name: str
    scope: Scope
    masked: str
    enabled: bool
    updated_at: str
    updated_by: str | None
    wins: bool  # this entry is the one the proxy sees for its name
    note: str = ""  # e.g. "overridden by your personal entry"


@dataclass(frozen=True)
class EnvCheck:
    referenced: tuple[str, ...]
    missing: tuple[str, ...]  # referenced, no entry at all
    disabled: tuple[str, ...]  # referenced, entries exist but none enabled
    unused: tuple[str, ...]  # defined, referenced by no config

    @property
    def ok(self) -> bool:
        return not self.missing and not self.disabled


@dataclass(frozen=True)
class ImportResult:
    added: int
    changed: int
    unchanged: int
    invalid: int


@dataclass(frozen=True)
class _Row:
    id: int
    owner_id: int | None
    name: str
    value: bytes
    enabled: int
    updated_at: str
    updated_by: str | None
