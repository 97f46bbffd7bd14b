"""Whether the proxy may listen on an address other machines can reach, and which
addresses that exposes.

The proxy binds loopback unless an admin turned on the setting
``proxy.allow_non_loopback``: its key protects every route, but a key pasted into a
tool's config file is easy to leak, and on a corporate network a listening proxy is
an open door to the company's LLM endpoints with the employee's token.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from pathlib import Path

from bridge_app.runtime import BridgeError

ALLOW_SETTING = "proxy.allow_non_loopback"
_WILDCARDS = {"", "0.0.0.0", "::", "*"}  # noqa: S104 - recognising them is the point


class ExposureRefusedError(BridgeError):
    pass


def is_loopback_host(host: str) -> bool:
    """True when every address ``host`` stands for is a loopback address."""
    if host in _WILDCARDS:
        return False
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    if host.lower() == "localhost":
        return True
    addresses = _resolve(host)
    return bool(addresses) and all(ipaddress.ip_address(a).is_loopback for a in addresses)


def check_bind_host(host: str, *, allowed: bool) -> None:
    """Refuse a non-loopback ``host`` unless the admin setting allows it."""
    if allowed or is_loopback_host(host):
        return
    shown = host or "all interfaces"
    raise ExposureRefusedError(
        f"The proxy may not listen on {shown}: that lets other machines reach it, and an "
        f"admin has not allowed it (setting {ALLOW_SETTING} is off).",
        hint=f"Use --host 127.0.0.1 (the default), or ask an admin to turn on {ALLOW_SETTING}.",
    )


def exposed_addresses(host: str) -> list[str]:
    """The local addresses a socket bound to ``host`` accepts connections on, loopback
    last; a wildcard covers every interface (``::`` also IPv4, as Linux binds it
    dual-stack)."""
    if host in ("", "0.0.0.0", "*"):  # noqa: S104
        found = _local_ipv4()
    elif host == "::":
        found = _local_ipv6() + _local_ipv4()
    else:
        try:
            found = [str(ipaddress.ip_address(host))]
        except ValueError:
            found = _resolve(host)
    unique = list(dict.fromkeys(found))
    return sorted(unique, key=lambda a: (ipaddress.ip_address(a).is_loopback, ":" in a, a))


def url_for(address: str, port: int) -> str:
    """The http URL of ``address``:``port``; an IPv6 address goes in brackets."""
    address = address.strip("[]")
    return f"http://[{address}]:{port}" if ":" in address else f"http://{address}:{port}"


def _resolve(host: str) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except OSError:
        return []
    return list(dict.fromkeys(str(info[4][0]).split("%", 1)[0] for info in infos))


def _local_ipv4() -> list[str]:
    found = ["127.0.0.1"]
    fib = Path("/proc/net/fib_trie")
    if fib.exists():  # Linux: every address of every interface, no extra package
        last = None
        for line in fib.read_text(encoding="ascii", errors="replace").splitlines():
            parts = line.split()
            if len(parts) >= 2 and parts[0] in ("|--", "+--"):
                last = parts[1]
            elif "/32 host LOCAL" in line and last is not None:
                found.append(last)
    else:  # Windows, macOS: the host name resolves to the interfaces' addresses
        found.extend(a for a in _resolve(socket.gethostname()) if ":" not in a)
    return [a for a in dict.fromkeys(found) if _is_ipv4(a)]


def _local_ipv6() -> list[str]:
    found = ["::1"]
    inet6 = Path("/proc/net/if_inet6")
    if inet6.exists():
        for line in inet6.read_text(encoding="ascii", errors="replace").splitlines():
            raw = line.split()[0] if line.split() else ""
            if len(raw) == 32:
                found.append(str(ipaddress.IPv6Address(int(raw, 16))))
    elif os.name == "nt":
        found.extend(a for a in _resolve(socket.gethostname()) if ":" in a)
    return list(dict.fromkeys(found))


def _is_ipv4(text: str) -> bool:
    try:
        return ipaddress.ip_address(text).version == 4
    except ValueError:
        return False
