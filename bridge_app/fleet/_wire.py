"""How one audit event looks on the wire: an RFC 5424 syslog line, or a JSON object.

Both carry the chain's values (seq, prev_hash, hash) so a collector can check order and
find gaps: event n's ``prev_hash`` is event n-1's ``hash``, and ``bridge_app.audit
.event_hash`` recomputes an event's hash from its fields.
"""

from __future__ import annotations

import os
import socket
from typing import Any

from bridge_app.audit import AuditEvent

APP_NAME = "litellm-bridge"
#: SD-ID of the structured data: the IANA private enterprise number 32473 is the one
#: reserved for documentation and examples (RFC 5612); a company that registers its own can
#: map it in the collector.
SD_ID = "audit@32473"
FACILITY_LOG_AUDIT = 13
SEVERITY = {"ok": 6, "denied": 4, "failed": 3}  # informational, warning, error
MAX_UDP_BYTES = 2048  # RFC 5426: every receiver takes 480; 2048 is the SHOULD


def hostname() -> str:
    name = socket.gethostname() or "-"
    return "".join(c for c in name if 33 <= ord(c) <= 126)[:255] or "-"


def _sd_value(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("]", "\\]")


def _printable(value: str, limit: int) -> str:
    cleaned = "".join(c if 33 <= ord(c) <= 126 else "_" for c in value)
    return cleaned[:limit] or "-"


def message_text(event: AuditEvent) -> str:
    """What a person reads in the collector: who did what to what, and how it went."""
    text = f"{event.actor} {event.action} {event.target}: {event.outcome}"
    return f"{text} - {event.detail}" if event.detail else text


def rfc5424(event: AuditEvent, *, host: str | None = None, pid: int | None = None) -> bytes:
    """One RFC 5424 message (no framing): header, the event as structured data, the text."""
    pri = FACILITY_LOG_AUDIT * 8 + SEVERITY.get(event.outcome, 5)
    params = {
        "seq": str(event.seq),
        "actor": event.actor,
        "action": event.action,
        "target": event.target,
        "outcome": event.outcome,
        "prev": event.prev_hash,
        "hash": event.hash,
    }
    sd = "[" + SD_ID + "".join(f' {k}="{_sd_value(v)}"' for k, v in params.items()) + "]"
    header = " ".join(
        [
            f"<{pri}>1",
            event.ts,  # ISO 8601 with microseconds and +00:00: RFC 3339, as 5424 asks
            host or hostname(),
            APP_NAME,
            str(pid if pid is not None else os.getpid()),
            _printable(event.action, 32),
            sd,
        ]
    )
    # The BOM says the MSG is UTF-8 (RFC 5424 6.4).
    return header.encode("ascii", "replace") + b" \xef\xbb\xbf" + message_text(event).encode()


def octet_counted(message: bytes) -> bytes:
    """RFC 6587 3.4.1 framing for TCP and TLS: the length, a space, the message."""
    return str(len(message)).encode() + b" " + message


def json_event(event: AuditEvent, *, host: str | None = None) -> dict[str, Any]:
    return {**event.to_dict(), "host": host or hostname(), "source": APP_NAME}
