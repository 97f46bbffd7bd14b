"""What IT sees of the fleet: audit events forwarded to the company's collectors."""

from bridge_app.fleet._alerts import KINDS as ALERT_TYPES
from bridge_app.fleet._alerts import Alert, alerts_from
from bridge_app.fleet._destinations import (
    EXAMPLES,
    Destination,
    DestinationError,
    check_available,
    desktop,
    parse_destination,
    parse_webhook,
)
from bridge_app.fleet._forwarder import AuditForwarder, DestinationStatus, ForwardStatus
from bridge_app.fleet._senders import (
    EVENT_SOURCE,
    TOKEN_ENTRY,
    WEBHOOK_ENTRY,
    SendError,
    event_id,
)
from bridge_app.fleet._wire import SD_ID, json_event, message_text, rfc5424

__all__ = [
    "ALERT_TYPES",
    "EVENT_SOURCE",
    "EXAMPLES",
    "SD_ID",
    "TOKEN_ENTRY",
    "WEBHOOK_ENTRY",
    "Alert",
    "AuditForwarder",
    "Destination",
    "DestinationError",
    "DestinationStatus",
    "ForwardStatus",
    "SendError",
    "alerts_from",
    "check_available",
    "desktop",
    "event_id",
    "json_event",
    "message_text",
    "parse_destination",
    "parse_webhook",
    "rfc5424",
]
