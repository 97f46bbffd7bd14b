from __future__ import annotations

import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler
from typing import Literal
from urllib.parse import parse_qs

from bridge_app.devtools._http import LoopbackServer

Mode = Literal["ok", "server-error", "slow", "not-json", "no-token", "expired", "absurd", "huge"]


class FakeIam(LoopbackServer):
    """An IAM that issues opaque tokens for known employees at POST /token.

    ``mode`` switches it into one of the failure behaviours real IAMs show; ``valid(token)``
    is what the fake internal upstream asks to decide whether a token is current.
    """

    def __init__(
        self,
        employees: dict[str, str] | None = None,
        *,
        lifetime_s: float = 3600.0,
        port: int = 0,
    ) -> None:
        super().__init__(port)
        self.employees = dict(employees or {"E12345": "employee-password-1"})
        self.lifetime_s = lifetime_s
        self.mode: Mode = "ok"
        self.delay_s = 0.0
        self.calls = 0
        self.issued: dict[str, float] = {}  # token -> expires_at
        self._lock = threading.Lock()

    @property
    def token_url(self) -> str:
        return f"{self.url}/token"

    def valid(self, token: str | None) -> bool:
        with self._lock:
            expires_at = self.issued.get(token or "")
        return expires_at is not None and expires_at > time.time()

    def latest(self) -> str | None:
        with self._lock:
            return next(reversed(self.issued), None) if self.issued else None

    def revoke_all(self) -> None:
        with self._lock:
            self.issued.clear()

    def handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        if method != "POST" or handler.path.split("?")[0] != "/token":
            self.send(handler, 404, {"error": "not found"})
            return
        raw = self.read_body(handler)
        with self._lock:
            self.calls += 1
        if self.mode == "slow" or self.delay_s:
            time.sleep(self.delay_s or 30)
        if self.mode == "server-error":
            self.send(handler, 503, {"message": "IAM backend maintenance"})
            return
        if "json" in (handler.headers.get("Content-Type") or ""):
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                self.send(handler, 400, {"error": "bad json"})
                return
        else:
            body = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
        employee = str(body.get("employee_id", ""))
        if self.employees.get(employee) != body.get("password"):
            self.send(handler, 401, {"error_description": "invalid employee credentials"})
            return
        if self.mode == "not-json":
            self.send(handler, 200, b"<html>login page</html>", "text/html")
            return
        if self.mode == "huge":
            self.send(handler, 200, b'{"pad": "' + b"x" * (2 * 1024 * 1024) + b'"}')
            return
        token = "iam-" + secrets.token_urlsafe(24)
        lifetime = self.lifetime_s
        if self.mode == "expired":
            lifetime = -60
        elif self.mode == "absurd":
            lifetime = 50 * 365 * 24 * 3600
        with self._lock:
            self.issued[token] = time.time() + lifetime
        payload: dict[str, object] = {"data": {"access_token": token}, "expires_in": lifetime}
        if self.mode == "no-token":
            payload = {"data": {}, "expires_in": lifetime}
        self.send(handler, 200, payload)
