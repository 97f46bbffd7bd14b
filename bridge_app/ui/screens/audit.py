from __future__ import annotations

from pathlib import Path
from typing import Any

from kivy.metrics import dp
from kivy.properties import StringProperty

from bridge_app.services import AuditEvent, ExportResult, ForwardStatus, VerifyResult
from bridge_app.ui import strings as S
from bridge_app.ui._base import BridgeScreen, form_dialog, text_field


class AuditScreen(BridgeScreen):
    """Admin only: the hash-chained audit log with filters, export and verify."""

    admin_only = True
    summary = StringProperty("")

    def refresh(self) -> None:
        session = self.ctx.require_session()
        user = self.ids.user_filter.text.strip() or None
        action = self.ids.action_filter.text.strip() or None
        self.work(
            "audit-list",
            lambda: self.services.audit.list_events(session, user=user, action=action, limit=200),
            self._show,
        )

    def _show(self, events: list[AuditEvent]) -> None:
        self.summary = f"{len(events)} newest events"
        self.ids.events.data = [
            {
                "headline": f"#{event.seq} {event.action} · {event.outcome} · {event.target}",
                "supporting": f"{event.ts[:19]} by {event.actor}  {event.detail}".rstrip(),
                "error": event.outcome != "ok",
            }
            for event in reversed(events)
        ]

    def verify(self) -> None:
        session = self.ctx.require_session()

        def done(result: VerifyResult) -> None:
            self.summary = (
                f"Chain intact: {result.checked} events checked."
                if result.ok
                else f"Chain broken at event #{result.first_bad_seq}: {result.problem}"
            )
            self.tell(self.summary, "success" if result.ok else "error")

        self.work("audit-verify", lambda: self.services.audit.verify(session), done)

    def export(self) -> None:
        session = self.ctx.require_session()
        path = text_field("Export to (.csv or .json)", text=str(Path.home() / "audit.csv"))

        def ok(dialog: Any) -> None:
            target = Path(path.text.strip()).expanduser()
            fmt = "json" if target.suffix.lower() == ".json" else "csv"

            def done(_result: ExportResult) -> None:
                self.tell(f"Exported to {target}.")

            self.submit(
                dialog,
                "audit-export",
                lambda: self.services.audit.export(session, target, fmt),
                done,
            )

        form_dialog(S.EXPORT, [path], ok, ok_text=S.EXPORT)

    # -- forwarding to the company's collectors ----------------------------------------

    def forwarding(self) -> None:
        session = self.ctx.require_session()
        self.work(
            "audit-forward-status",
            lambda: self.ctx.core.audit_forward_status(session),
            self._forwarding_dialog,
        )

    def _forwarding_dialog(self, status: ForwardStatus) -> None:
        session = self.ctx.require_session()
        managed = status.source == "policy"
        field = text_field(
            "Destinations, one per line (syslog+tls://host:6514, https://host/path)",
            text="\n".join(
                row.destination.url
                for row in status.destinations
                if not row.destination.carries_alerts
            ),
        )
        field.multiline = True
        field.height = dp(112)
        field.disabled = managed
        lines = [
            row.describe() for row in status.destinations if not row.destination.carries_alerts
        ] or ["Audit events are not forwarded."]
        if managed:
            lines.insert(0, "Set by your company's policy.")
        lines += ["Alerts:"] + [
            row.describe() for row in status.destinations if row.destination.carries_alerts
        ]
        supporting = "\n".join(lines)

        def ok(dialog: Any) -> None:
            urls = [u.strip() for u in field.text.replace(",", "\n").splitlines() if u.strip()]

            def job() -> ForwardStatus:
                if not managed:
                    self.ctx.core.set_audit_forward(session, urls)
                return self.ctx.core.send_audit_now(session)

            self.submit(dialog, "audit-forward", job, self._forwarded)

        form_dialog(
            S.FORWARDING,
            [field],
            ok,
            ok_text=S.SEND_NOW if managed else S.SAVE_AND_SEND,
            supporting=supporting,
        )

    def _forwarded(self, status: ForwardStatus) -> None:
        self.refresh()  # the change itself is an event of the list
        failing = [row for row in status.destinations if row.state.error or row.unavailable]
        if not status.destinations:
            self.tell("Audit events are not forwarded.")
        elif failing:
            self.tell(failing[0].describe(), "error")
        elif status.backlog:
            self.tell(f"{status.backlog} event(s) still waiting to be sent.", "info")
        else:
            self.tell(f"Audit events sent: every collector has event #{status.head}.")
