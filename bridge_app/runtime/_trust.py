"""TLS trust the way the operating system decides it.

Every outbound TLS connection the process makes (LiteLLM's calls to the internal
endpoints over httpx and aiohttp, the IAM, remote gateways, update downloads) is verified
against the OS trust store: the Windows certificate store, the macOS keychain, OpenSSL's
system locations on Linux (``/etc/ssl/certs``, or what ``SSL_CERT_FILE``/``SSL_CERT_DIR``
name). A company CA that IT rolled out to the machines is therefore trusted with nothing
set in the app. A CA file a caller still passes (the shared ``SSL_CERT_FILE`` entry, an
IAM's ``ca_bundle``, a gateway's CA, certifi's public CAs) adds to the OS store instead of
replacing it.

``truststore`` is the library made for this (it is what pip uses). It has to be in place
before LiteLLM is imported: LiteLLM builds module-level HTTP clients and caches its SSL
contexts, and a context made earlier would keep certifi's list only.
"""

from __future__ import annotations

import base64
import logging
import socket
import ssl
import sys
import threading
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

log = logging.getLogger(__name__)

_lock = threading.Lock()


def use_os_trust_store() -> bool:
    """Make every SSL context of this process verify with the OS trust store. Idempotent;
    returns False (and logs why) where truststore cannot run, leaving Python's default."""
    with _lock:
        if os_trust_in_use():
            return True
        try:
            import truststore

            truststore.inject_into_ssl()
        except Exception as exc:  # an old OS or a build without the library: say so
            log.warning("the OS trust store is not used (%s); certifi's CAs apply", exc)
            return False
        return True


def trust_context(extra_ca: str | None = None) -> ssl.SSLContext:
    """The process's trust (the OS store once use_os_trust_store ran) plus one extra CA
    file (the company CA: the shared SSL_CERT_FILE entry, or a setting of its own).
    OSError or ssl.SSLError when that file cannot be loaded: the caller says why."""
    context = ssl.create_default_context()
    if extra_ca:
        context.load_verify_locations(cafile=extra_ca)
    return context


def os_trust_in_use() -> bool:
    """Whether new SSL contexts of this process verify with the OS trust store."""
    try:
        import truststore
    except ImportError:
        return False
    return ssl.SSLContext is truststore.SSLContext


def trust_store_description() -> str:
    """Where this process takes the CAs it trusts from, as a person reads it."""
    if not os_trust_in_use():
        return "certifi's public CAs only (the OS trust store is not in use)"
    if sys.platform == "win32":
        where = "the Windows certificate store"
    elif sys.platform == "darwin":
        where = "the macOS keychain"
    else:
        paths = ssl.get_default_verify_paths()
        found = [p for p in (paths.cafile, paths.capath) if p]
        where = "the system's CAs (" + (", ".join(found) or "no system CA file found") + ")"
    return f"{where}, plus any CA file the app is given (SSL_CERT_FILE, an IAM's ca_bundle)"


@dataclass(frozen=True)
class TlsVerdict:
    """What a TLS handshake with an endpoint showed: ``ok`` when this machine trusts it;
    otherwise ``detail`` says which certificate and why, and ``issuer`` names the CA the
    machine would need."""

    ok: bool
    detail: str
    issuer: str | None = None


def _describe(der: bytes | None) -> tuple[str, str | None]:
    """("for SUBJECT, issued by 'ISSUER', valid until DATE", issuer) of a DER certificate."""
    if not der:
        return "no certificate", None
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    cert = x509.load_der_x509_certificate(der)

    def name(value: x509.Name) -> str:
        common = value.get_attributes_for_oid(NameOID.COMMON_NAME)
        return str(common[0].value) if common else value.rfc4514_string()

    issuer = name(cert.issuer)
    until = cert.not_valid_after_utc.strftime("%Y-%m-%d")
    return f"for {name(cert.subject)}, issued by '{issuer}', valid until {until}", issuer


class ProxyRefused(OSError):
    """The proxy answered the CONNECT with something other than 200."""


def _open(host: str, port: int, timeout: float, proxy: str | None) -> socket.socket:
    """A TCP connection to ``host:port``, or a tunnel to it through an HTTP ``proxy``
    (CONNECT, with Basic credentials from the proxy URL), as LiteLLM's calls make it."""
    if proxy is None:
        return socket.create_connection((host, port), timeout=timeout)
    parts = urlsplit(proxy)
    raw = socket.create_connection((parts.hostname or "", parts.port or 80), timeout=timeout)
    try:
        target = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        request = f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n"
        if parts.username is not None:
            pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
            request += f"Proxy-Authorization: Basic {base64.b64encode(pair.encode()).decode()}\r\n"
        raw.sendall((request + "\r\n").encode())
        answer = b""
        while b"\r\n\r\n" not in answer and len(answer) < 65536:
            chunk = raw.recv(4096)
            if not chunk:
                break
            answer += chunk
        status_line = answer.split(b"\r\n", 1)[0].decode("latin-1", "replace")
        fields = status_line.split(" ", 2)
        if len(fields) < 2 or fields[1] != "200":
            offered = sorted(
                {
                    line.split(b":", 1)[1].strip().split(b" ")[0].decode("latin-1")
                    for line in answer.split(b"\r\n\r\n", 1)[0].split(b"\r\n")[1:]
                    if line.lower().startswith(b"proxy-authenticate:")
                }
            )
            asks = f" (it asks for {', '.join(offered)})" if offered else ""
            raise ProxyRefused(f"the proxy answered the tunnel request with '{status_line}'{asks}")
    except BaseException:
        raw.close()
        raise
    return raw


def _peer_certificate(
    host: str, port: int, timeout: float, *, verify: bool, proxy: str | None = None
) -> bytes | None:
    context = ssl.create_default_context()  # this process's trust (the OS store when in use)
    if not verify:  # only to read what the endpoint presents; nothing is sent over it
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    with (
        _open(host, port, timeout, proxy) as raw,
        context.wrap_socket(raw, server_hostname=host) as tls,
    ):
        return tls.getpeercert(binary_form=True)


def check_tls(
    host: str, port: int, *, timeout: float = 3.0, proxy: str | None = None
) -> TlsVerdict:
    """A TLS handshake with ``host:port`` the way the app's calls make it (through
    ``proxy`` when they go through one)."""
    try:
        der = _peer_certificate(host, port, timeout, verify=True, proxy=proxy)
    except ssl.SSLCertVerificationError as exc:
        reason = str(getattr(exc, "verify_message", "") or exc.reason or exc)
        try:
            described, issuer = _describe(
                _peer_certificate(host, port, timeout, verify=False, proxy=proxy)
            )
        except (OSError, ValueError):
            described, issuer = "could not be read", None
        return TlsVerdict(False, f"not trusted ({reason}): its certificate {described}", issuer)
    except ProxyRefused as exc:
        return TlsVerdict(False, f"no tunnel: {exc}")
    except (OSError, ssl.SSLError) as exc:
        return TlsVerdict(False, f"no TLS connection: {getattr(exc, 'strerror', None) or exc}")
    described, issuer = _describe(der)
    return TlsVerdict(True, f"verified: its certificate {described}", issuer)
