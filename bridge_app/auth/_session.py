"""The logged-in person, as every service sees them."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from bridge_app.auth._errors import SessionEndedError
from bridge_app.crypto import open_sealed, seal

Role = Literal["admin", "user"]
Unlocker = Callable[["Session", str], None]


@dataclass(eq=False)
class Session:
    """Who is logged in, with their unwrapped personal data key.

    ``seal``/``open`` encrypt values that belong to this person (tokens, personal env
    entries): nobody else's session, and nobody holding only the database key, can open
    them. The sealing context is bound to the user id, so a sealed value moved to another
    account's row does not open there either.

    Idle lock: ``touch()`` on every user input (the UI binds it to touch and key events;
    service calls do not count, so a polling screen cannot keep it awake). Once
    ``is_locked(now)`` has said True the session stays locked (services refuse it) until
    ``unlock(password)`` succeeds. The proxy and other background work keep running
    meanwhile, so ``seal``/``open`` still work on a locked session; only ``logout`` (or a
    disable, delete or admin reset of the account, noticed by the services) ends them.
    """

    user_id: int
    username: str  # the normalised identity (see normalize_username)
    role: Role
    must_change_password: bool
    data_key: bytes = field(repr=False)
    display_name: str = ""
    idle_lock_minutes: float = 15.0  # 0 or less: never lock
    last_activity: float = field(default_factory=time.monotonic)
    _unlocker: Unlocker | None = field(default=None, repr=False)
    _locked: bool = field(default=False, repr=False)
    _ended: bool = field(default=False, repr=False)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def ended(self) -> bool:
        return self._ended

    # -- idle lock -------------------------------------------------------------------

    def touch(self, now: float | None = None) -> None:
        """Record activity. Does not unlock a session that has already locked."""
        now = time.monotonic() if now is None else now
        if not self.is_locked(now):
            self.last_activity = now

    def is_locked(self, now: float | None = None) -> bool:
        """``now`` is on the time.monotonic() clock."""
        if self._locked:
            return True
        if self.idle_lock_minutes <= 0:
            return False
        now = time.monotonic() if now is None else now
        if now - self.last_activity >= self.idle_lock_minutes * 60:
            self._locked = True
        return self._locked

    def lock(self) -> None:
        """Lock now (a "lock screen" button)."""
        self._locked = True

    def unlock(self, password: str) -> None:
        """Re-enter the password; raises AuthenticationError (throttled like a login)."""
        if self._ended or self._unlocker is None:
            raise SessionEndedError("This session has ended: log in again.")
        self._unlocker(self, password)
        self._locked = False
        self.last_activity = time.monotonic()

    # -- personal encryption ---------------------------------------------------------

    def seal(self, plaintext: bytes, context: str) -> bytes:
        self._check_usable()
        return seal(self.data_key, plaintext, context=self._context(context))

    def open(self, sealed: bytes, context: str) -> bytes:
        self._check_usable()
        return open_sealed(self.data_key, sealed, context=self._context(context))

    def _context(self, context: str) -> str:
        return f"user:{self.user_id}:{context}"

    def _check_usable(self) -> None:
        if self._ended:
            raise SessionEndedError("This session has ended: log in again.")

    # -- used by AuthService ---------------------------------------------------------

    def _end(self) -> None:
        self._ended = True
        self._locked = True
        self.data_key = b""
        self._unlocker = None
