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

import logging
import ssl
import threading

log = logging.getLogger(__name__)

_lock = threading.Lock()
_done = False


def use_os_trust_store() -> bool:
    """Make every SSL context of this process verify with the OS trust store. Idempotent;
    returns False (and logs why) where truststore cannot run, leaving Python's default."""
    global _done
    with _lock:
        if _done:
            return True
        try:
            import truststore

            truststore.inject_into_ssl()
        except Exception as exc:  # an old OS or a build without the library: say so
            log.warning("the OS trust store is not used (%s); certifi's CAs apply", exc)
            return False
        _done = True
        return True


def os_trust_in_use() -> bool:
    """Whether new SSL contexts of this process verify with the OS trust store."""
    try:
        import truststore
    except ImportError:
        return False
    return ssl.SSLContext is truststore.SSLContext


def trust_store_description() -> str:
    """Where this process takes the CAs it trusts from, as a person reads it."""
    import sys

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
