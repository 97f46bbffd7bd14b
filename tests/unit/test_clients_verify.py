"""`tools verify` reaches the loopback proxy directly, whatever the system proxy says."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler

import pytest

from bridge_app.clients._model import Target
from bridge_app.clients._verify import verify
from bridge_app.devtools import LoopbackServer
from bridge_app.runtime import Redactor


class ChatProxy(LoopbackServer):
    """Stands where the app's proxy listens: answers one chat completion."""

    def handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        self.read_body(handler)
        body = {"choices": [{"message": {"role": "assistant", "content": "pong"}}]}
        self.send(handler, 200, body)


class CorporateProxy(LoopbackServer):
    """An HTTP proxy from HTTP_PROXY: records what it is sent, answers 502."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[str] = []

    def handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        self.seen.append(f"{method} {handler.path} {handler.headers.get('Authorization')}")
        self.send(handler, 502, {"error": "proxy says no"})


def test_verify_ignores_http_proxy_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    with ChatProxy() as proxy, CorporateProxy() as corporate:
        for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "all_proxy"):
            monkeypatch.setenv(name, corporate.url)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        target = Target(proxy_url=proxy.url, key="sk-bridge-loopback-key-1234", model="demo")
        result = verify("claude", "chat", target, redactor=Redactor(), timeout=10)
    assert result.ok, result.reason
    assert result.reply == "pong"
    assert corporate.seen == []  # the key never went to the corporate proxy
