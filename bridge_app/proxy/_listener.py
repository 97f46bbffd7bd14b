"""The proxy's listening socket, owned by the supervisor across in-process restarts.

Each uvicorn server gets a duplicate of the socket (``sockets=[listener.dup()]``): when a
server crashes, hangs or is stopped it closes (or is made to drop) only its duplicate, so
the port stays bound and connections keep arriving in the kernel's queue. While LiteLLM
restarts, a tiny responder on another duplicate answers each of them with HTTP 503 and
``Retry-After`` instead of letting clients see "connection refused".
"""

from __future__ import annotations

import contextlib
import json
import logging
import selectors
import socket
import sys
import threading

log = logging.getLogger(__name__)

BACKLOG = 512
RETRY_AFTER_S = 1
FAILED_RETRY_AFTER_S = 5  # a failed start waits for a person: clients need not hurry


def _restarting_response(
    message: str = "The LiteLLM Bridge proxy is restarting; retry in a moment.",
    kind: str = "proxy_restarting",
    retry_after_s: int = RETRY_AFTER_S,
) -> bytes:
    body = json.dumps({"error": {"message": message, "type": kind, "code": 503}}).encode("utf-8")
    head = (
        "HTTP/1.1 503 Service Unavailable\r\n"
        f"Retry-After: {retry_after_s}\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    ).encode("ascii")
    return head + body


_RESPONSE = _restarting_response()


class Listener:
    """A bound, listening socket; ``dup()`` hands a server its own descriptor."""

    def __init__(self, host: str, port: int) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            if sys.platform == "win32":
                # Without it another local program can bind the same address (Windows lets
                # a more specific or SO_REUSEADDR bind share the port) and receive the keys
                # the tools send; SO_REUSEADDR here would allow exactly that.
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_EXCLUSIVEADDRUSE, 1)
            else:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, port))
            sock.listen(BACKLOG)
        except OSError:
            sock.close()
            raise
        self.sock = sock
        self.host = host
        self.port = int(sock.getsockname()[1])
        self._fallback: _Fallback | None = None
        self._lock = threading.Lock()

    def dup(self) -> socket.socket:
        return self.sock.dup()

    def answer_restarting(self) -> None:
        """Answer every new connection with 503 + Retry-After until ``serve_again``."""
        self._answer(_RESPONSE)

    def answer_unavailable(self, reason: str) -> None:
        """The proxy could not start: answer 503 with the reason until ``serve_again``."""
        self._answer(
            _restarting_response(
                f"The LiteLLM Bridge proxy could not start: {reason} It starts again once "
                "the config or the environment entries are fixed.",
                "proxy_failed",
                FAILED_RETRY_AFTER_S,
            )
        )

    def _answer(self, response: bytes) -> None:
        with self._lock:
            if self._fallback is not None:
                self._fallback.response = response
            elif self.sock.fileno() >= 0:
                self._fallback = _Fallback(self.dup(), response)
                self._fallback.start()

    def serve_again(self) -> None:
        with self._lock:
            fallback, self._fallback = self._fallback, None
        if fallback is not None:
            fallback.stop()

    @property
    def answering_restarting(self) -> bool:
        return self._fallback is not None

    def close(self) -> None:
        self.serve_again()
        with contextlib.suppress(OSError):
            self.sock.close()


class _Fallback:
    """Thread ``bridge-proxy-fallback``: accept, read the request head, answer 503."""

    def __init__(self, sock: socket.socket, response: bytes = _RESPONSE) -> None:
        self.response = response
        self._sock = sock
        self._sock.setblocking(False)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bridge-proxy-fallback", daemon=True)
        self.answered = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(2.0)
        with contextlib.suppress(OSError):
            self._sock.close()

    def _run(self) -> None:
        with selectors.DefaultSelector() as selector:
            selector.register(self._sock, selectors.EVENT_READ)
            while not self._stop.is_set():
                if not selector.select(timeout=0.05):
                    continue
                try:
                    conn, _addr = self._sock.accept()
                except (BlockingIOError, InterruptedError):
                    continue  # another server took it
                except OSError:
                    return
                self._answer(conn)

    def _answer(self, conn: socket.socket) -> None:
        try:
            conn.setblocking(True)
            conn.settimeout(0.5)
            data = b""
            # Read the request head (and whatever body arrived) so the client does not get
            # a reset for unread data; a slow client is not waited for.
            with contextlib.suppress(OSError):
                while b"\r\n\r\n" not in data and len(data) < 65536:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    data += chunk
            conn.sendall(self.response)
            self.answered += 1
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_WR)
        except OSError as exc:
            log.debug("fallback responder: %r", exc)
        finally:
            conn.close()
