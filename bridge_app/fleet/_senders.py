"""One sender per kind of destination. ``send(events)`` delivers a batch in order or raises
SendError with the reason a person can act on; nothing here retries (the forwarder does)."""

from __future__ import annotations

import json
import logging
import socket
import ssl
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

import httpx

from bridge_app.audit import AuditEvent
from bridge_app.fleet._alerts import Alert, alerts_from
from bridge_app.fleet._destinations import Destination
from bridge_app.fleet._wire import (
    APP_NAME,
    MAX_UDP_BYTES,
    hostname,
    json_event,
    message_text,
    octet_counted,
    rfc5424,
)
from bridge_app.runtime import BridgeError, ProxyRules, trust_context

log = logging.getLogger(__name__)

TIMEOUT_S = 10.0
TOKEN_ENTRY = "AUDIT_FORWARD_TOKEN"  # noqa: S105 (the name of an entry, not its value)
EVENT_SOURCE = "LiteLLM Bridge"
WEBHOOK_ENTRY = "ALERT_WEBHOOK_URL"  # the shared entry that holds a secret webhook address


class SendError(BridgeError):
    pass


class Sender(Protocol):
    def send(self, events: Sequence[AuditEvent]) -> None: ...


def tls_context(destination: Destination, network: Mapping[str, str]) -> ssl.SSLContext:
    """The OS trust store plus the destination's ``?ca=`` file or the company CA file the
    network settings name."""
    bundle = (
        destination.ca_file or network.get("SSL_CERT_FILE") or network.get("REQUESTS_CA_BUNDLE")
    )
    try:
        return trust_context(bundle)
    except (OSError, ssl.SSLError) as exc:
        raise SendError(f"The CA file {bundle} cannot be loaded: {exc}.") from exc


class SyslogSender:
    def __init__(self, destination: Destination, network: Mapping[str, str]) -> None:
        self._d = destination
        self._network = network

    def send(self, events: Sequence[AuditEvent]) -> None:
        d = self._d
        host = hostname()
        messages = [rfc5424(e, host=host) for e in events]
        where = f"{d.host}:{d.port}"
        try:
            if d.transport == "udp":
                family = socket.getaddrinfo(d.host, d.port, type=socket.SOCK_DGRAM)[0]
                with socket.socket(family[0], socket.SOCK_DGRAM) as sock:
                    for message in messages:
                        sock.sendto(message[:MAX_UDP_BYTES], family[4])
                return
            with socket.create_connection((d.host, d.port), timeout=TIMEOUT_S) as raw:
                if d.transport == "tls":
                    context = tls_context(d, self._network)
                    with context.wrap_socket(raw, server_hostname=d.host) as sock:
                        sock.sendall(b"".join(octet_counted(m) for m in messages))
                        sock.unwrap()
                else:
                    raw.sendall(b"".join(octet_counted(m) for m in messages))
                    raw.shutdown(socket.SHUT_WR)
        except ssl.SSLCertVerificationError as exc:
            raise SendError(
                f"The syslog collector {where} has a certificate this machine does not trust "
                f"({exc.verify_message}).",
                hint="Add ?ca=/path/ca.pem to the destination, or the company CA to the OS.",
            ) from exc
        except OSError as exc:
            raise SendError(
                f"The syslog collector {where} cannot be reached: {_why(exc)}."
            ) from exc


class HttpsSender:
    def __init__(
        self,
        destination: Destination,
        network: Mapping[str, str],
        token: Callable[[], str | None] = lambda: None,
    ) -> None:
        self._d = destination
        self._network = network
        self._token = token

    def send(self, events: Sequence[AuditEvent]) -> None:
        host = hostname()
        self.post(
            {"source": APP_NAME, "host": host, "events": [json_event(e, host=host) for e in events]}
        )

    def post(self, body: object) -> None:
        d = self._d
        headers = {"Content-Type": "application/json", "User-Agent": APP_NAME}
        token = self._token()
        if token:
            # "Splunk abc…" is used whole; a bare token is a bearer token.
            headers["Authorization"] = token if " " in token.strip() else f"Bearer {token.strip()}"
        verify: ssl.SSLContext | bool = (
            tls_context(d, self._network) if d.transport == "https" else False
        )
        try:
            with httpx.Client(
                verify=verify,
                proxy=ProxyRules(self._network).choose(d.url).proxy,
                trust_env=False,
                timeout=TIMEOUT_S,
                follow_redirects=False,
            ) as client:
                response = client.post(d.url, content=json.dumps(body).encode(), headers=headers)
        except httpx.ConnectError as exc:
            if isinstance(exc.__cause__, ssl.SSLCertVerificationError) or "CERTIFICATE" in str(exc):
                raise SendError(
                    f"The collector {d.host} has a certificate this machine does not trust.",
                    hint="Add ?ca=/path/ca.pem to the destination, or the company CA to the OS.",
                ) from exc
            raise SendError(f"The collector {d.host}:{d.port} cannot be reached: {exc}.") from exc
        except httpx.HTTPError as exc:
            raise SendError(f"Sending to the collector {d.host} failed: {exc!r}.") from exc
        if not 200 <= response.status_code < 300:
            hint = (
                f"Put the collector's token in the shared entry {TOKEN_ENTRY}."
                if response.status_code in (401, 403)
                else None
            )
            raise SendError(
                f"The collector {d.host} answered HTTP {response.status_code}.", hint=hint
            )


#: Event IDs by action family (the part before the dot); +1 denied, +2 failed.
EVENT_IDS = {
    "auth": 1000,
    "user": 1100,
    "config": 2000,
    "policy": 3000,
    "token": 4000,
    "proxy": 5000,
    "tools": 6000,
    "env": 7000,
    "updates": 8000,
    "audit": 9000,
}
OTHER_EVENT_ID = 100


def event_id(event: AuditEvent) -> int:
    base = EVENT_IDS.get(event.action.split(".", 1)[0], OTHER_EVENT_ID)
    return base + {"ok": 0, "denied": 1, "failed": 2}.get(event.outcome, 0)


class EventLogSender:
    """The Windows Event Log, source "LiteLLM Bridge" (the installer registers it; unregistered,
    Event Viewer still shows the text, with a note that the source is unknown)."""

    def send(self, events: Sequence[AuditEvent]) -> None:
        if sys.platform != "win32":
            raise SendError("The Windows Event Log exists only on Windows.")
        import win32evtlog

        kinds = {
            "ok": win32evtlog.EVENTLOG_INFORMATION_TYPE,
            "denied": win32evtlog.EVENTLOG_WARNING_TYPE,
            "failed": win32evtlog.EVENTLOG_ERROR_TYPE,
        }
        try:
            handle = win32evtlog.RegisterEventSource(None, EVENT_SOURCE)
        except Exception as exc:  # pywintypes.error
            raise SendError(f"The Windows Event Log cannot be opened: {exc}.") from exc
        try:
            for e in events:
                chain = json.dumps({"seq": e.seq, "prev_hash": e.prev_hash, "hash": e.hash})
                win32evtlog.ReportEvent(
                    handle,
                    kinds.get(e.outcome, win32evtlog.EVENTLOG_INFORMATION_TYPE),
                    0,
                    event_id(e),
                    None,
                    [message_text(e), chain],
                    None,
                )
        except Exception as exc:  # pywintypes.error
            raise SendError(f"Writing to the Windows Event Log failed: {exc}.") from exc
        finally:
            win32evtlog.DeregisterEventSource(handle)


class AlertSender:
    """Alerts out of a batch of events, to the webhook (when there is one) and then to the
    desktop notifiers; the open episodes are kept only once every alert was delivered."""

    def __init__(
        self,
        *,
        webhook: HttpsSender | None,
        notifiers: Sequence[Callable[[str, str], None]],
        episodes: tuple[Callable[[], set[str]], Callable[[set[str]], None]],
        skip_on_desktop: tuple[str, ...] = ("refresh_blocked",),
    ) -> None:
        self._webhook = webhook
        self._notifiers = notifiers
        self._load, self._save = episodes
        self._skip = skip_on_desktop

    def send(self, events: Sequence[AuditEvent]) -> None:
        alerts, episodes = alerts_from(events, self._load())
        host = hostname()
        for alert in alerts:
            alert = Alert(**{**alert.__dict__, "host": host})
            if self._webhook is not None:
                self._webhook.post(alert.webhook_payload())
            elif alert.kind not in self._skip:  # the token flow tells the desktop itself
                for notify in list(self._notifiers):
                    try:
                        notify(alert.title, f"{alert.text} {alert.action}")
                    except Exception:  # best effort: the audit log and the webhook have it
                        log.exception("a desktop alert could not be shown")
        self._save(episodes)


def sender_for(
    destination: Destination,
    network: Mapping[str, str],
    token: Callable[[], str | None] = lambda: None,
) -> Sender:
    if destination.kind == "syslog":
        return SyslogSender(destination, network)
    if destination.kind == "https":
        return HttpsSender(destination, network, token)
    return EventLogSender()


def _why(exc: OSError) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "the connection was refused"
    if isinstance(exc, socket.timeout | TimeoutError):
        return f"no answer within {TIMEOUT_S:g} s"
    if isinstance(exc, socket.gaierror):
        return "the host name is unknown"
    return exc.strerror or exc.__class__.__name__
