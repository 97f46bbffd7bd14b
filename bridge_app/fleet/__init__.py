"""What IT sees of the fleet: audit events forwarded to the company's collectors."""

from bridge_app.fleet._destinations import (
    EXAMPLES,
    Destination,
    DestinationError,
    check_available,
    parse_destination,
)
from bridge_app.fleet._forwarder import AuditForwarder, DestinationStatus, ForwardStatus
from bridge_app.fleet._senders import EVENT_SOURCE, TOKEN_ENTRY, SendError, event_id
from bridge_app.fleet._wire import SD_ID, json_event, message_text, rfc5424

__all__ = [
    "EVENT_SOURCE",
    "EXAMPLES",
    "SD_ID",
    "TOKEN_ENTRY",
    "AuditForwarder",
    "Destination",
    "DestinationError",
    "DestinationStatus",
    "ForwardStatus",
    "SendError",
    "check_available",
    "event_id",
    "json_event",
    "message_text",
    "parse_destination",
    "rfc5424",
]
