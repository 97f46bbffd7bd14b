"""Where audit events are forwarded to, written as one URL each.

    syslog+tcp://collector.corp:514     RFC 5424 over TCP, octet-counted frames (RFC 6587)
    syslog+tls://collector.corp:6514    the same over TLS (RFC 5425)
    syslog+udp://collector.corp:514     one datagram per event (RFC 5426)
    https://siem.corp/ingest/bridge     JSON batches over HTTPS (POST)
    eventlog:                           the Windows Event Log, source "LiteLLM Bridge"

A TLS destination trusts the operating system's certificates; ``?ca=/path/ca.pem`` adds a
company CA file. Plain ``http://`` is refused except to this machine (a local agent such as
a Splunk universal forwarder listening on 127.0.0.1). No destination carries a secret.
"""

from __future__ import annotations

import hashlib
import sys
from dataclasses import dataclass, replace
from typing import Literal
from urllib.parse import parse_qs, urlsplit

from bridge_app.runtime import BridgeError, is_loopback

Kind = Literal["syslog", "https", "eventlog", "webhook", "desktop"]
Transport = Literal["tcp", "tls", "udp", "https", "http", "eventlog", "desktop"]
#: Kinds that carry alerts, not every event: a new one starts at the newest event.
ALERT_KINDS = ("webhook", "desktop")
DESKTOP = "desktop:"

_SYSLOG_PORTS = {"tcp": 514, "udp": 514, "tls": 6514}
EXAMPLES = (
    "syslog+tcp://collector.example.com:514",
    "syslog+tls://collector.example.com:6514",
    "syslog+udp://collector.example.com:514",
    "https://siem.example.com/ingest",
    "eventlog:",
)


class DestinationError(BridgeError):
    pass


@dataclass(frozen=True)
class Destination:
    url: str  # as written (shown to people, stored in settings)
    kind: Kind
    transport: Transport
    host: str = ""
    port: int = 0
    ca_file: str | None = None

    @property
    def key(self) -> tuple[str, str, str, int, str]:
        """What makes two written URLs the same destination (`host` and `host:514`)."""
        path = urlsplit(self.url).path.rstrip("/") if self.kind in ("https", "webhook") else ""
        return (self.kind, self.transport, self.host.lower(), self.port, path)

    @property
    def carries_alerts(self) -> bool:
        return self.kind in ALERT_KINDS

    @property
    def label(self) -> str:
        """How a person reads it in a status line."""
        if self.kind == "eventlog":
            return "Windows Event Log"
        if self.kind == "desktop":
            return "Desktop notifications"
        if self.kind == "webhook":  # its path is often its secret (Slack, Teams)
            return f"Alert webhook {self.transport}://{self.host}/…"
        return self.url

    @property
    def id(self) -> str:
        """A stable name for this destination's progress (what was sent, the last error)."""
        return hashlib.sha256(self.url.encode()).hexdigest()[:16]


def parse_destination(text: str) -> Destination:
    """One destination from its URL; DestinationError with what to write instead."""
    raw = str(text).strip()
    hint = "For example: " + ", ".join(EXAMPLES[:2]) + " or " + EXAMPLES[3]
    if not raw:
        raise DestinationError("An audit destination cannot be empty.", hint=hint)
    if raw.lower() in ("eventlog:", "eventlog"):
        return Destination(url="eventlog:", kind="eventlog", transport="eventlog")
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError as exc:
        raise DestinationError(f"{raw!r} is not a valid URL: {exc}.", hint=hint) from None
    scheme = parts.scheme.lower()
    host = parts.hostname or ""
    if parts.username or parts.password:
        raise DestinationError(
            f"{_shown(raw)}: an audit destination must not carry a user name or password.",
            hint="Collectors that need a token take it from the shared entry "
            "AUDIT_FORWARD_TOKEN (encrypted like every entry).",
        )
    if not host:
        raise DestinationError(f"{raw!r} names no host.", hint=hint)
    query = parse_qs(parts.query)
    unknown = sorted(set(query) - {"ca"})
    if unknown:
        raise DestinationError(
            f"{raw!r}: unknown option {unknown[0]!r}.", hint="The one option is ?ca=/path/ca.pem"
        )
    ca = query.get("ca", [None])[-1]
    if scheme.startswith("syslog+"):
        transport = scheme.removeprefix("syslog+")
        if transport not in _SYSLOG_PORTS:
            raise DestinationError(
                f"{raw!r}: syslog goes over tcp, tls or udp, not {transport!r}.", hint=hint
            )
        if parts.path not in ("", "/"):
            raise DestinationError(f"{raw!r}: a syslog destination has no path.", hint=hint)
        if ca and transport != "tls":
            raise DestinationError(f"{raw!r}: ?ca= is for syslog+tls only.", hint=hint)
        return Destination(
            url=raw,
            kind="syslog",
            transport=transport,  # type: ignore[arg-type]
            host=host,
            port=port or _SYSLOG_PORTS[transport],
            ca_file=ca,
        )
    if scheme in ("https", "http"):
        if scheme == "http" and not is_loopback(host):
            raise DestinationError(
                f"{raw!r}: audit events leave this machine only over HTTPS.",
                hint="Use https://, or http:// to a collector agent on 127.0.0.1.",
            )
        if ca and scheme == "http":
            raise DestinationError(f"{raw!r}: ?ca= is for https only.", hint=hint)
        return Destination(
            url=raw,
            kind="https",
            transport=scheme,  # type: ignore[arg-type]
            host=host,
            port=port or (443 if scheme == "https" else 80),
            ca_file=ca,
        )
    raise DestinationError(f"{raw!r}: unknown kind of audit destination.", hint=hint)


def parse_webhook(text: str) -> Destination:
    """The alert webhook: an https:// URL (a Teams or Slack incoming webhook, or any
    receiver of JSON), or http:// to this machine."""
    raw = str(text).strip()
    if not raw.lower().startswith(("https://", "http://")):
        raise DestinationError(
            f"{raw!r} is not an https:// URL.",
            hint="For example https://hooks.slack.com/services/... or a Teams incoming webhook",
        )
    try:
        found = parse_destination(raw)
    except DestinationError as exc:
        message = exc.message.replace(repr(raw), "The alert webhook").replace(raw, "…")
        raise DestinationError(message, hint=exc.hint) from None
    return replace(found, kind="webhook")


def desktop() -> Destination:
    return Destination(url=DESKTOP, kind="desktop", transport="desktop")


def check_available(destination: Destination) -> str | None:
    """Why this destination cannot work on this machine, or None."""
    if destination.kind == "eventlog" and sys.platform != "win32":
        return "The Windows Event Log exists only on Windows."
    return None


def _shown(raw: str) -> str:
    parts = urlsplit(raw)
    host = parts.hostname or ""
    return f"{parts.scheme}://{host}{':' + str(parts.port) if parts.port else ''}{parts.path}"
