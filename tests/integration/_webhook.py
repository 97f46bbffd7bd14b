"""A webhook receiver on 127.0.0.1: what an alert channel (Teams, Slack, any HTTP
receiver) would get, kept in arrival order."""

from __future__ import annotations

import http.server
import json
import threading
from typing import Any

from tests.integration._upstream import free_port


class Webhook(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        super().__init__(("127.0.0.1", free_port()), _Handler)
        self.url = f"http://127.0.0.1:{self.server_address[1]}/hook"
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
        self.server.received.append(body)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *_args: object) -> None:
        pass
