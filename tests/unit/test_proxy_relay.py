"""The sign-in relay (runtime/_relay.py) is this process's alone: a caller without the
random credential its URL carries is refused before anything reaches the company proxy;
a plain http:// request is rewritten for the tunnel it will go down."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

import pytest

from bridge_app.runtime._relay import NegotiateRelay, _origin_form

pytestmark = pytest.mark.windows  # the relay runs in the Windows build too


def _exchange(port: int, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(4096):
            answer += chunk
        return answer


def test_a_caller_without_the_relays_credential_is_refused() -> None:
    # The "company proxy" is a port nobody listens on: it must never be tried.
    relay = NegotiateRelay("http://127.0.0.1:9", "negotiate")
    try:
        answer = _exchange(relay.port, b"CONNECT example.test:443 HTTP/1.1\r\n\r\n")
        assert answer.startswith(b"HTTP/1.1 407 Proxy Authentication Required\r\n"), answer
        assert b'Proxy-Authenticate: Basic realm="LiteLLM Bridge relay"' in answer
        parts = urlsplit(relay.url)
        assert parts.hostname == "127.0.0.1" and parts.username == "bridge"
        assert parts.password and len(parts.password) >= 20
    finally:
        relay.close()


def test_the_company_proxy_out_of_reach_is_said_as_a_502() -> None:
    import base64

    relay = NegotiateRelay("http://127.0.0.1:9", "ntlm", username="u", password="p")
    try:
        key = urlsplit(relay.url).password
        auth = base64.b64encode(f"bridge:{key}".encode()).decode()
        request = f"CONNECT example.test:443 HTTP/1.1\r\nProxy-Authorization: Basic {auth}\r\n\r\n"
        answer = _exchange(relay.port, request.encode())
        assert answer.startswith(b"HTTP/1.1 502 The company proxy could not be reached:"), answer
    finally:
        relay.close()


def test_an_absolute_http_request_goes_down_the_tunnel_in_origin_form() -> None:
    target, head = _origin_form(
        "POST",
        "http://iam.corp.test:8080/token?x=1",
        [("host", "iam.corp.test:8080"), ("proxy-authorization", "Basic abc"),
         ("content-length", "2"), ("proxy-connection", "keep-alive")],
    )  # fmt: skip
    assert target == "iam.corp.test:8080"
    assert head == (
        b"POST /token?x=1 HTTP/1.1\r\nhost: iam.corp.test:8080\r\ncontent-length: 2\r\n"
        b"Connection: close\r\n\r\n"
    )
    assert _origin_form("GET", "https://x.test/", []) == ("", b"")
