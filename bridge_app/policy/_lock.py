"""The config lock: which areas a person may change under the policy in force, and the
listening-address rule. Mixed into PolicyService, which provides ``policy()`` and the
audit log."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bridge_app.policy._errors import PolicyRefusedError

if TYPE_CHECKING:
    from bridge_app.audit import AuditLog
    from bridge_app.policy._model import Policy

AREA_LABELS = {
    "config": "The LiteLLM config",
    "env.shared": "Shared environment entries",
    "settings": "App settings",
}


class ConfigLockRules:
    _audit: AuditLog

    def policy(self) -> Policy:
        raise NotImplementedError

    def check_change(self, session: Any, area: str) -> None:
        """Raise PolicyRefusedError when the policy's config_lock forbids ``session``
        (None: nobody logged in) to change ``area`` (one of AREA_LABELS). The application
        core calls it before every such change. Pointing a CLI tool at the proxy is not an
        area: it edits the OS user's own files, not the app's config."""
        lock = self.policy().config_lock
        if lock == "off":
            return
        label = AREA_LABELS.get(area, area)
        admin = bool(getattr(session, "is_admin", False))
        if lock == "locked" and area == "config":
            reason = "config_lock: locked"
            message = f"{label} is managed by your company: nobody can change it on this machine."
            hint = "IT ships the config with the policy."
        elif not admin:
            reason = f"config_lock: {lock}"
            message = f"{label} is managed by your company: only an admin can change it here."
            hint = "Ask your IT administrator (or run the command with --as ADMIN)."
        else:
            return
        self._audit.record(session, "policy.change_denied", area, "denied", reason)
        raise PolicyRefusedError(message, hint=hint)

    def check_listen(self, host: str) -> None:
        """Refuse a non-loopback listening address when the policy forbids it."""
        if self.policy().allow_non_loopback:
            return
        if host in ("127.0.0.1", "::1", "localhost") or host.startswith("127."):
            return
        raise PolicyRefusedError(
            f"Listening on {host} is not allowed by your company's policy "
            "(network.allow_non_loopback: false).",
            hint="Serve on 127.0.0.1.",
        )

    def locked_areas(self, session: Any) -> set[str]:
        """The areas ``session`` may not change (what screens show as managed)."""
        locked = set()
        for area in AREA_LABELS:
            lock = self.policy().config_lock
            admin = bool(getattr(session, "is_admin", False))
            if lock == "off":
                continue
            if (lock == "locked" and area == "config") or not admin:
                locked.add(area)
        return locked
