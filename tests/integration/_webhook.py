"""A JSON receiver on 127.0.0.1 (HTTP, or HTTPS with a given context): what an alert
webhook (Teams, Slack, any HTTP receiver) or an HTTPS audit collector would get, kept in
arrival order with the Authorization header it came with (as "auth")."""

from __future__ import annotations

import http.server
import json
import ssl
import threading
from typing import Any

from tests.integration._upstream import free_port


class Webhook(http.server.ThreadingHTTPServer):
    daemon_threads = True

    allow_reuse_address = True  # a collector that comes back on its own port

    def __init__(
        self,
        *,
        port: int | None = None,
        context: ssl.SSLContext | None = None,
        received: list[dict[str, Any]] | None = None,
    ) -> None:
        self.received = received if received is not None else []
        super().__init__(("127.0.0.1", port or free_port()), _Handler)
        if context is not None:
            self.socket = context.wrap_socket(self.socket, server_side=True)
        scheme = "https" if context is not None else "http"
        self.url = f"{scheme}://127.0.0.1:{self.server_address[1]}/hook"
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def kinds(self) -> list[str]:
        return [body["alert"]["kind"] for body in list(self.received)]

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [body for body in list(self.received) if body["alert"]["kind"] == kind]

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


class _Handler(http.server.BaseHTTPRequestHandler):
    server: Webhook

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.received.append({"auth": self.headers.get("Authorization"), **body})
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *_args: object) -> None:
        pass
