from __future__ import annotations

import errno

from bridge_app.runtime import BridgeError


class ProxyStartError(BridgeError):
    pass


def bind_error(exc: OSError, host: str, port: int) -> ProxyStartError:
    """Why the proxy could not listen, in words a user can act on."""
    where = f"{host}:{port}"
    if exc.errno in (errno.EADDRINUSE, getattr(errno, "WSAEADDRINUSE", -1)):
        return ProxyStartError(
            f"Port {port} on {host} is already in use by another program.",
            hint="Stop that program, or choose another port (serve --port, or Settings).",
        )
    if exc.errno in (errno.EACCES, getattr(errno, "WSAEACCES", -1)):
        return ProxyStartError(
            f"Not allowed to listen on {where}.", hint="Choose a port above 1024."
        )
    return ProxyStartError(f"Cannot listen on {where}: {exc.strerror or exc}.")
