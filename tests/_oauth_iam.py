"""A standard OAuth 2.0 token endpoint on loopback, built on oauthlib's server side (the
reference implementation of RFC 6749): resource-owner password grant (§4.3), refresh
tokens (§6, rotated on each use) and client credentials (§4.4) at POST /token.

Tests read ``calls`` (per grant type) to prove which credentials the app used, and
``valid(token)`` lets the fake internal upstream accept only current access tokens."""

from __future__ import annotations

import base64
import secrets
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, unquote_plus

from oauthlib.oauth2 import RequestValidator, Server

from bridge_app.devtools import LoopbackServer
from bridge_app.tokens import IamSettings


class _Client:
    def __init__(self, client_id: str) -> None:
        self.client_id = client_id


class _Validator(RequestValidator):  # type: ignore[misc]
    def __init__(self, owner: OAuthIam) -> None:
        self.o = owner

    def client_authentication_required(self, request: Any, *args: Any, **kwargs: Any) -> bool:
        return request.client_id in self.o.confidential or request.grant_type == (
            "client_credentials"
        )

    def authenticate_client(self, request: Any, *args: Any, **kwargs: Any) -> bool:
        client_id, secret = request.client_id, request.client_secret
        if client_id is None and request.headers.get("Authorization", "").startswith("Basic "):
            raw = base64.b64decode(request.headers["Authorization"][6:]).decode()
            client_id, _, secret = raw.partition(":")
            client_id, secret = unquote_plus(client_id), unquote_plus(secret)
        if client_id in self.o.confidential and self.o.confidential[client_id] == secret:
            request.client = _Client(client_id)
            return True
        return False

    def authenticate_client_id(self, client_id: str, request: Any, *a: Any, **k: Any) -> bool:
        if client_id in self.o.public_clients:
            request.client = _Client(client_id)
            return True
        return False

    def validate_grant_type(self, *args: Any, **kwargs: Any) -> bool:
        return True

    def validate_user(
        self, username: str, password: str, client: Any, request: Any, *a: Any, **k: Any
    ) -> bool:
        if self.o.employees.get(username) == password:
            request.user = username
            return True
        return False

    def validate_scopes(self, *args: Any, **kwargs: Any) -> bool:
        return True

    def get_default_scopes(self, client_id: str, request: Any, *a: Any, **k: Any) -> list[str]:
        return ["llm.invoke"]

    def get_original_scopes(self, refresh_token: str, request: Any, *a: Any, **k: Any) -> list[str]:
        return ["llm.invoke"]

    def validate_refresh_token(
        self, refresh_token: str, client: Any, request: Any, *a: Any, **k: Any
    ) -> bool:
        with self.o.lock:
            user = self.o.refresh_tokens.get(refresh_token)
        if user is None:
            return False
        request.user = user
        return True

    def rotate_refresh_token(self, request: Any) -> bool:
        return True

    def save_bearer_token(self, token: dict[str, Any], request: Any, *a: Any, **k: Any) -> None:
        with self.o.lock:
            self.o.issued[token["access_token"]] = time.time() + float(token["expires_in"])
            if request.grant_type == "refresh_token":
                self.o.refresh_tokens.pop(request.refresh_token, None)  # rotated: one use
            if "refresh_token" in token:
                self.o.refresh_tokens[token["refresh_token"]] = request.user


class OAuthIam(LoopbackServer):
    def __init__(
        self,
        employees: dict[str, str],
        *,
        public_clients: tuple[str, ...] = ("litellm-bridge",),
        confidential: dict[str, str] | None = None,
        lifetime_s: float = 3600.0,
    ) -> None:
        super().__init__(0)
        self.employees = dict(employees)
        self.public_clients = set(public_clients)
        self.confidential = dict(confidential or {})
        self.lifetime_s = lifetime_s
        self.lock = threading.Lock()
        self.issued: dict[str, float] = {}
        self.refresh_tokens: dict[str, str] = {}
        self.calls: Counter[str] = Counter()  # grant_type -> requests (any outcome)
        self.in_flight = 0
        self.max_in_flight = 0
        self.server = Server(
            _Validator(self),
            token_expires_in=lambda _request: int(self.lifetime_s),
            token_generator=lambda _request: "at-" + secrets.token_urlsafe(24),
            refresh_token_generator=lambda _request: "rt-" + secrets.token_urlsafe(24),
        )

    @property
    def token_url(self) -> str:
        return f"{self.url}/token"

    def password_grant_settings(self) -> IamSettings:
        """The app's IAM settings for this endpoint: password grant, public client."""
        return IamSettings(
            url=self.token_url,
            shape="oauth2-password",
            client_id="litellm-bridge",
            client_auth="none",
        )

    def valid(self, token: str | None) -> bool:
        with self.lock:
            expires_at = self.issued.get(token or "")
        return expires_at is not None and expires_at > time.time()

    def revoke_refresh_tokens(self) -> None:
        with self.lock:
            self.refresh_tokens.clear()

    def handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        if method != "POST" or handler.path.split("?")[0] != "/token":
            self.send(handler, 404, {"error": "not_found"})
            return
        body = self.read_body(handler).decode()
        grant = (parse_qs(body).get("grant_type") or ["?"])[0]
        with self.lock:
            self.calls[grant] += 1
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            headers, text, status = self.server.create_token_response(
                self.token_url, "POST", body, dict(handler.headers.items())
            )
        finally:
            with self.lock:
                self.in_flight -= 1
        payload = text.encode()
        handler.send_response(status)
        for key, value in headers.items():
            handler.send_header(key, value)
        handler.send_header("Content-Length", str(len(payload)))
        handler.end_headers()
        handler.wfile.write(payload)
