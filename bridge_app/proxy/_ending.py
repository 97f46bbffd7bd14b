"""How a proxy server ends without losing anything: the finished requests LiteLLM still
has queued are delivered to the app's callbacks, and the connections the server still
holds are ended so that no client waits for bytes that will never come."""

from __future__ import annotations

import asyncio
import logging
import socket
from typing import Any

import uvicorn

log = logging.getLogger("bridge_app.proxy.server")


#: How long a stop waits for LiteLLM's logging worker to hand the last finished requests to
#: the app's callbacks (usage rows, counters).
LOGGING_FLUSH_S = 2.0


async def deliver_finished_requests() -> None:
    """LiteLLM 1.109 runs success callbacks on a queue (its logging worker) and at shutdown
    gives them ``GRACEFUL_SHUTDOWN_TIMEOUT`` minus 10 s, then discards what is left; with
    the app's 2 s stop that is nothing, and the usage of requests that ended just before a
    stop or restart would be lost. Deliver them first."""
    from litellm.litellm_core_utils.logging_worker import GLOBAL_LOGGING_WORKER

    try:
        await asyncio.wait_for(GLOBAL_LOGGING_WORKER.flush(), LOGGING_FLUSH_S)
    except TimeoutError:
        log.warning(
            "%d finished requests were not recorded before the proxy stopped",
            GLOBAL_LOGGING_WORKER.pending_count,
        )


def drop_connections(server: uvicorn.Server, *, in_loop: bool) -> None:
    """End what a stopping server still holds open. With ``force_exit`` (a stop that ran
    out of time, or an abandoned server) uvicorn stops without waiting for its connections
    and leaves their sockets open, so a client in the middle of a stream waited for bytes
    that never came until its own read timeout (300 s and more: the stalls under load).
    Each socket is shut down (safe from any thread, and the only way once the loop itself
    died, as Windows' selector loop does when its listening socket was closed under it);
    on the loop the transport is also aborted. The client sees its stream end at once and
    can retry."""
    state = getattr(server, "server_state", None)
    for protocol in list(state.connections if state is not None else ()):
        transport = getattr(protocol, "transport", None)
        if transport is None:
            continue
        sock = transport.get_extra_info("socket")
        if sock is not None:
            _shut_down(sock)
        if in_loop and not transport.is_closing():
            transport.abort()


def _shut_down(sock: Any) -> None:
    """shutdown(SHUT_RDWR) on a connection's socket: the peer gets its end of stream. The
    objects transports hand out refuse shutdown() (asyncio's TransportSocket raises
    TypeError), so it is done on a duplicate of the descriptor (shutdown acts on the
    connection, not on one descriptor). Never raises: this runs while a server ends."""
    try:
        duplicate = socket.fromfd(sock.fileno(), sock.family, sock.type)
    except (OSError, ValueError, AttributeError, TypeError):
        return
    try:
        duplicate.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed or reset by the peer
    finally:
        duplicate.close()
