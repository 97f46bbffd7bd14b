"""Opening the app at login (AppCore inherits these): the same read and switch for
`litellm-bridge autostart` and the Settings screen, with the company policy's
``ui.start_at_login`` deciding when it is set."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bridge_app.auth import Session
from bridge_app.policy import PolicyRefusedError
from bridge_app.runtime import BridgeError, LoginEntry, read_login_entry, write_login_entry
from bridge_app.services._usecases import use_case
from bridge_app.store import Topic

if TYPE_CHECKING:
    from bridge_app.services._root import Services
    from bridge_app.store import Database

MANAGED = "Your company's policy decides whether the app opens at login (ui.start_at_login)."


@dataclass(frozen=True)
class LoginStart:
    """What a person reads: on or off, where that is written, who decides."""

    entry: LoginEntry
    managed: str | None = None  # set when the policy decides
    corrected: bool = False  # the entry was just brought in line with the policy

    @property
    def on(self) -> bool:
        return self.entry.on

    def describe(self) -> str:
        if self.entry.on:
            said = "The app opens at login"
            said += " for every user (installed by IT)" if self.entry.for_everybody else ""
            said += f": {self.entry.where}."
        else:
            said = "The app does not open at login."
        if self.managed:
            said += " " + MANAGED
        if self.corrected:
            said += " (Just set to what the policy asks.)"
        return said


class LoginStartUseCases:
    services: Services
    db: Database

    @use_case(role="user", transactional=False)
    def start_at_login(self, session: Session) -> LoginStart:
        """Whether the app opens at this person's login. Where the policy decides and the
        entry differs (a person removed it by hand), it is put back as the policy asks."""
        wanted = self.services.policy.policy().start_at_login
        entry = _entry(read_login_entry)
        if wanted is None:
            return LoginStart(entry)
        if entry.on == wanted:
            return LoginStart(entry, MANAGED)
        entry = _entry(lambda: write_login_entry(wanted))
        with self.db.transaction():
            self.services.audit.record(
                session,
                "settings.start_at_login",
                "policy",
                "ok",
                f"set {'on' if wanted else 'off'}",
            )
        return LoginStart(entry, MANAGED, corrected=True)

    @use_case(role="user", transactional=False)
    def set_start_at_login(self, session: Session, on: bool, *, kiosk: bool = False) -> LoginStart:
        """Open the app at this person's login, or stop doing so (refused where the policy
        decides); audited."""
        if self.services.policy.policy().start_at_login is not None:
            with self.db.transaction():  # the refusal's audit event stays
                self.services.audit.record(
                    session, "settings.start_at_login", "policy", "denied", MANAGED
                )
            raise PolicyRefusedError(MANAGED, hint="Ask IT to change the policy.")
        entry = _entry(lambda: write_login_entry(on, kiosk=kiosk))
        with self.db.transaction():
            self.services.audit.record(
                session,
                "settings.start_at_login",
                "user",
                "ok",
                f"{'on' if on else 'off'} {entry.where}",
            )
            self.db.changed(Topic.SETTINGS)  # a screen showing it reads it again, after the write
        return LoginStart(entry)


def _entry(call: Callable[[], LoginEntry]) -> LoginEntry:
    try:
        return call()
    except OSError as exc:
        raise BridgeError(
            f"The login entry could not be read or written: {exc.strerror or exc}.",
            hint="Check that your own settings folder (or registry) can be written.",
        ) from exc
