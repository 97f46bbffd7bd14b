"""A local relay to a proxy that wants Windows sign-in (Negotiate: Kerberos, else NTLM).

Neither of LiteLLM's transports (httpx, aiohttp) nor urllib3 can answer a proxy's
``Proxy-Authenticate: Negotiate`` challenge; they only send Basic credentials. So, as
cntlm and px do for other programs, the bridge listens on a loopback port, takes each
tunnel request (``CONNECT host:port``) from them, opens the tunnel at the company proxy
itself, signing in as the logged-in user (``pyspnego``: SSPI on Windows, GSSAPI and the
Kerberos ticket cache on Linux; the entries PROXY_USERNAME/PROXY_PASSWORD when set), and
then passes the bytes both ways. TLS stays end to end: the relay sees only ciphertext.

Only this process may use it: the relay's URL carries a random Basic credential, which its
callers send (they all send the credentials of a proxy URL) and the relay checks, so another
program on the machine cannot borrow the user's sign-in through it.
"""

from __future__ import annotations

import base64
import contextlib
import hmac
import logging
import secrets
import socket
import ssl
import threading
from typing import Any
from urllib.parse import unquote, urlsplit

log = logging.getLogger(__name__)

#: PROXY_AUTH values: the scheme offered to the proxy, as pyspnego names the protocol.
SCHEMES = {"negotiate": "Negotiate", "ntlm": "NTLM", "kerberos": "Negotiate"}
MAX_HEAD = 65536
CONNECT_TIMEOUT_S = 30.0
ROUNDS = 3  # Kerberos takes one round, NTLM two


class RelayError(Exception):
    """The tunnel could not be opened at the company proxy; the message says why."""


def _read_head(sock: socket.socket, buffered: bytes = b"") -> tuple[bytes, bytes]:
    """An HTTP head (up to the blank line) and whatever came after it."""
    data = buffered
    while b"\r\n\r\n" not in data:
        if len(data) > MAX_HEAD:
            raise RelayError("a head longer than 64 KiB")
        chunk = sock.recv(4096)
        if not chunk:
            raise RelayError("the connection closed before a whole head arrived")
        data += chunk
    head, _sep, rest = data.partition(b"\r\n\r\n")
    return head, rest


def _fields(head: bytes) -> tuple[str, list[tuple[str, str]]]:
    lines = head.decode("latin-1").split("\r\n")
    fields = []
    for line in lines[1:]:
        name, _sep, value = line.partition(":")
        fields.append((name.strip().lower(), value.strip()))
    return lines[0], fields


def _one_line(text: str) -> str:
    return " ".join(str(text).split())[:300]


class NegotiateRelay:
    """One loopback listener for one company proxy (``upstream``: http:// or https://)."""

    def __init__(
        self,
        upstream: str,
        scheme: str = "negotiate",
        *,
        username: str | None = None,
        password: str | None = None,
    ) -> None:
        parts = urlsplit(upstream if "://" in upstream else f"http://{upstream}")
        self.upstream_host = parts.hostname or ""
        self.upstream_port = parts.port or (443 if parts.scheme == "https" else 80)
        self._tls = parts.scheme == "https"
        self.scheme = scheme.lower()
        if self.scheme not in SCHEMES:
            raise ValueError(f"PROXY_AUTH {scheme!r} is not one of {', '.join(SCHEMES)}")
        self._username = username or (unquote(parts.username) if parts.username else None)
        self._password = password or (unquote(parts.password) if parts.password else None)
        self._key = secrets.token_urlsafe(18)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self.url = f"http://bridge:{self._key}@127.0.0.1:{self.port}"
        self._expected = "Basic " + base64.b64encode(f"bridge:{self._key}".encode()).decode()
        self._closed = False
        threading.Thread(target=self._accept, name="proxy-relay", daemon=True).start()

    def close(self) -> None:
        self._closed = True
        self._listener.close()

    # -- the listener ---------------------------------------------------------------------

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _addr = self._listener.accept()
            except OSError:
                return
            threading.Thread(
                target=self._serve, args=(client,), name="proxy-relay-conn", daemon=True
            ).start()

    def _serve(self, client: socket.socket) -> None:
        upstream: socket.socket | None = None
        try:
            client.settimeout(CONNECT_TIMEOUT_S)
            head, rest = _read_head(client)
            request_line, fields = _fields(head)
            method, _sp, target = request_line.partition(" ")
            target = target.rsplit(" ", 1)[0]
            given = next((v for n, v in fields if n == "proxy-authorization"), "")
            if not hmac.compare_digest(given.encode(), self._expected.encode()):
                client.sendall(
                    b"HTTP/1.1 407 Proxy Authentication Required\r\n"
                    b'Proxy-Authenticate: Basic realm="LiteLLM Bridge relay"\r\n'
                    b"Content-Length: 0\r\nConnection: close\r\n\r\n"
                )
                return
            forward = b""
            if method.upper() != "CONNECT":
                # A plain http:// call (absolute form): sent down a tunnel to its host as an
                # ordinary request, one per connection.
                target, forward = _origin_form(method, target, fields)
                if not target:
                    self._refuse(client, 400, "the relay takes CONNECT or absolute http:// URLs")
                    return
            try:
                upstream = self.open_tunnel(target)
            except RelayError as exc:
                log.warning("proxy relay: no tunnel to %s: %s", target, exc)
                self._refuse(client, 407, f"Proxy sign-in failed: {exc}")
                return
            except OSError as exc:
                log.warning("proxy relay: the proxy could not be reached: %s", exc)
                self._refuse(client, 502, f"The company proxy could not be reached: {exc}")
                return
            if not forward:
                client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            client.settimeout(None)
            upstream.settimeout(None)
            if forward or rest:
                upstream.sendall(forward + rest)
            back = threading.Thread(
                target=_pipe, args=(upstream, client), name="proxy-relay-pipe", daemon=True
            )
            back.start()
            _pipe(client, upstream)
            back.join()
        except (OSError, RelayError) as exc:
            log.debug("proxy relay: connection ended: %s", exc)
        finally:
            for sock in (client, upstream):
                if sock is not None:
                    sock.close()

    @staticmethod
    def _refuse(client: socket.socket, status: int, reason: str) -> None:
        reason = _one_line(reason)
        body = (reason + "\n").encode("utf-8", "replace")
        client.sendall(
            f"HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain; charset=utf-8\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode("latin-1", "replace")
            + body
        )

    # -- the company proxy ----------------------------------------------------------------

    def _connect(self) -> socket.socket:
        raw = socket.create_connection(
            (self.upstream_host, self.upstream_port), timeout=CONNECT_TIMEOUT_S
        )
        if not self._tls:
            return raw
        return ssl.create_default_context().wrap_socket(raw, server_hostname=self.upstream_host)

    def _context(self) -> object:
        try:
            import spnego
        except ImportError as exc:  # pragma: no cover - a dependency of the app
            raise RelayError(f"pyspnego is missing: {exc}") from exc

        def client(**options: Any) -> object:
            return spnego.client(
                self._username,
                self._password,
                hostname=self.upstream_host,
                service="HTTP",
                protocol=self.scheme,
                **options,
            )

        try:
            return client()
        except Exception as exc:
            if self.scheme == "kerberos" or not (self._username and self._password):
                raise RelayError(_one_line(f"no credentials for {self.scheme}: {exc}")) from exc
            # Given an account and no system provider for it (SSPI without NTLM, as under
            # Wine; GSSAPI without Kerberos): pyspnego's own NTLM.
            log.info("proxy relay: the system's %s failed (%s); NTLM of pyspnego", self.scheme, exc)
            try:
                return client(options=spnego.NegotiateOptions.use_ntlm)
            except Exception as again:
                raise RelayError(_one_line(f"no credentials for NTLM: {again}")) from again

    def open_tunnel(self, target: str) -> socket.socket:
        """A connection to the company proxy with an open tunnel to ``target``
        (``host:port``), signed in; RelayError when the proxy refuses the sign-in."""
        word = SCHEMES[self.scheme]
        sock = self._connect()  # an unreachable proxy first: it says more than credentials
        try:
            context = self._context()
            challenge: bytes | None = None
            for _round in range(ROUNDS):
                try:
                    token = context.step(challenge)  # type: ignore[attr-defined]
                except Exception as exc:
                    raise RelayError(_one_line(f"{word} sign-in failed: {exc}")) from exc
                request = f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n"
                if token:
                    request += f"Proxy-Authorization: {word} {base64.b64encode(token).decode()}\r\n"
                sock.sendall((request + "Proxy-Connection: keep-alive\r\n\r\n").encode("latin-1"))
                head, rest = _read_head(sock)
                status_line, fields = _fields(head)
                status = status_line.split(" ", 2)
                code = status[1] if len(status) > 1 else ""
                if code == "200":
                    if rest:  # nothing may follow a 200 to CONNECT before the peer speaks
                        raise RelayError("the proxy sent data after opening the tunnel")
                    return sock
                _drain(sock, fields, rest)
                offered = [
                    v for n, v in fields if n == "proxy-authenticate" and v.split(" ")[0] == word
                ]
                if code != "407":
                    raise RelayError(f"the proxy answered '{_one_line(status_line)}'")
                parts = offered[0].split(" ", 1) if offered else []
                if len(parts) < 2:  # a refusal, not a challenge
                    schemes = sorted(
                        {v.split(" ")[0] for n, v in fields if n == "proxy-authenticate"}
                    )
                    raise RelayError(
                        f"the proxy refused the {word} sign-in"
                        + (f" (it offers {', '.join(schemes)})" if schemes else "")
                    )
                challenge = base64.b64decode(parts[1])
                if any(n == "connection" and v.lower() == "close" for n, v in fields):
                    sock.close()
                    sock = self._connect()
            raise RelayError(f"the {word} sign-in did not finish in {ROUNDS} rounds")
        except BaseException:
            sock.close()
            raise


HOP_BY_HOP = {"proxy-authorization", "proxy-connection", "connection", "keep-alive"}


def _origin_form(method: str, url: str, fields: list[tuple[str, str]]) -> tuple[str, bytes]:
    """(``host:port``, the request head in origin form with ``Connection: close``) for an
    absolute http:// request, or ("", b"") when it is not one."""
    parts = urlsplit(url)
    if parts.scheme.lower() != "http" or not parts.hostname:
        return "", b""
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    path = parts.path or "/"
    if parts.query:
        path += f"?{parts.query}"
    kept = [f"{n}: {v}" for n, v in fields if n not in HOP_BY_HOP]
    head = "\r\n".join([f"{method} {path} HTTP/1.1", *kept, "Connection: close", "", ""])
    return f"{host}:{parts.port or 80}", head.encode("latin-1")


def _drain(sock: socket.socket, fields: list[tuple[str, str]], rest: bytes) -> None:
    """Reads the body of a refused CONNECT, so the next round starts on a clean stream."""
    length = next((v for n, v in fields if n == "content-length"), "0")
    try:
        left = int(length) - len(rest)
    except ValueError:
        return
    while left > 0:
        chunk = sock.recv(min(left, 65536))
        if not chunk:
            return
        left -= len(chunk)


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    try:
        while chunk := source.recv(65536):
            sink.sendall(chunk)
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)


_RELAYS: dict[tuple[str, str, str | None, str | None], NegotiateRelay] = {}
_RELAYS_LOCK = threading.Lock()


def relay_for(
    upstream: str, scheme: str, username: str | None = None, password: str | None = None
) -> NegotiateRelay:
    """The process's relay to ``upstream`` signing in with ``scheme`` (started once)."""
    key = (upstream, scheme.lower(), username, password)
    with _RELAYS_LOCK:
        relay = _RELAYS.get(key)
        if relay is None:
            relay = _RELAYS[key] = NegotiateRelay(
                upstream, scheme, username=username, password=password
            )
            log.info(
                "proxy relay: 127.0.0.1:%d signs in to %s:%d with %s",
                relay.port, relay.upstream_host, relay.upstream_port, SCHEMES[relay.scheme],
            )  # fmt: skip
        return relay
