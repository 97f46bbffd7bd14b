"""The fleet use-cases of the application core (AppCore inherits them): where this
machine's audit events are forwarded, how far each collector is, and sending now — the
same for `litellm-bridge audit forward` and the Audit screen."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from bridge_app.auth import Session
from bridge_app.fleet import (
    WEBHOOK_ENTRY,
    Destination,
    DestinationError,
    ForwardStatus,
    desktop,
    parse_destination,
    parse_webhook,
)
from bridge_app.policy import PolicyError
from bridge_app.services._usecases import use_case

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from bridge_app.services._root import Services
    from bridge_app.store import Database

FORWARD_SETTING = "audit.forward"


def forward_destinations(services: Services) -> tuple[tuple[Destination, ...], str]:
    """Where audit events go and then the alert channels; and who chose the audit part."""
    audit, source = _audit_destinations(services)
    return audit + _alert_channels(services), source


def _alert_channels(services: Services) -> tuple[Destination, ...]:
    """The desktop always; the webhook of the policy's ``alerts.webhook``, else of the
    shared entry ALERT_WEBHOOK_URL (encrypted, for addresses that are their own secret)."""
    url = services.policy.policy().alerts_webhook
    if url is None and WEBHOOK_ENTRY in services.env.defined_names(None):
        # Decrypted only when the entry exists: this runs once a second while forwarding.
        url = services.env.effective_environment(None).get(WEBHOOK_ENTRY) or None
    channels = [desktop()]
    if url:
        try:
            channels.insert(0, parse_webhook(url))
        except DestinationError:
            log.warning("the shared entry %s is not a usable webhook address", WEBHOOK_ENTRY)
    return tuple(channels)


def _audit_destinations(services: Services) -> tuple[tuple[Destination, ...], str]:
    """The policy's ``audit.forward`` when it sets one (IT decides for the fleet), else what
    an admin of this machine chose; and which of the two it is."""
    managed = services.policy.policy().audit_forward
    if managed is not None:
        return tuple(parse_destination(url) for url in managed), "policy"
    chosen = services.settings.get(FORWARD_SETTING, []) or []
    out = []
    for url in chosen:
        try:
            out.append(parse_destination(url))
        except DestinationError:
            continue  # stored before a rule changed: `audit forward show` lists none of it
    return tuple(out), ("setting" if out else "none")


class FleetUseCases:
    services: Services
    db: Database

    @use_case(role="admin", transactional=False)
    def audit_forward_status(self, session: Session) -> ForwardStatus:
        return self.services.forwarder.status()

    @use_case(role="admin", transactional=False)  # a refusal's audit event must stay
    def set_audit_forward(self, session: Session, urls: list[str]) -> tuple[Destination, ...]:
        """Where this machine forwards its audit events (an empty list: nowhere). Refused
        when the company policy decides it; each URL is checked before anything is kept."""
        services = self.services
        if services.policy.policy().audit_forward is not None:
            services.audit.record(
                session, "audit.forward_set", "audit forwarding", "denied", "set by the policy"
            )
            raise PolicyError(
                "Audit forwarding is set by your company's policy.",
                hint="Ask IT to change audit.forward in the policy.",
            )
        destinations = tuple(parse_destination(url) for url in urls)
        seen = [d.url for d in destinations]
        if len({d.key for d in destinations}) != len(destinations):
            raise DestinationError("The same destination is named twice.")
        services.settings.set(FORWARD_SETTING, seen)
        services.audit.record(
            session,
            "audit.forward_set",
            "audit forwarding",
            "ok",
            ", ".join(seen) if seen else "nowhere",
        )
        return destinations

    @use_case(role="admin", transactional=False)
    def send_audit_now(
        self, session: Session, progress: Callable[[int], None] | None = None
    ) -> ForwardStatus:
        """Send what is waiting now, retrying a failing collector at once; when a running
        window or `serve` forwards for this machine, it is the one sending."""
        return self.services.forwarder.flush(progress=progress)
