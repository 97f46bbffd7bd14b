"""A plain next step for an error line, for people reading the archive at a support desk."""

from __future__ import annotations

_HINTS: tuple[tuple[tuple[str, ...], str], ...] = (
    (
        ("proxy authentication required", " 407"),
        "The company proxy refused the credentials (or got none): check PROXY_USERNAME / "
        "PROXY_PASSWORD or HTTPS_PROXY; `litellm-bridge doctor` checks the route.",
    ),
    (
        ("401", "unauthorized", "authentication"),
        "The upstream or the proxy refused a key or token: an expired internal token, or "
        "a tool using an old proxy key. Log in again / re-apply the tool.",
    ),
    (
        ("connection refused", "connecterror", "unreachable", "name or service not known"),
        "An endpoint is unreachable: check the network, the endpoint address and HTTPS_PROXY.",
    ),
    (
        ("address already in use", "already in use"),
        "Another program uses the proxy's port: choose another one (setting proxy.port).",
    ),
    (
        ("certificate", "ssl"),
        "TLS failed: the corporate root certificate is probably missing (SSL_CERT_FILE).",
    ),
    (
        ("did not answer", "not answering", "hung"),
        "The proxy's event loop stopped answering; the watchdog restarts it. Frequent "
        "hangs: send this archive to the maintainers.",
    ),
    (
        ("timeout", "timed out"),
        "An upstream answered too slowly: check the endpoint or raise its timeout.",
    ),
)


def error_hint(text: str | None) -> str:
    lowered = (text or "").lower()
    for needles, hint in _HINTS:
        if any(n in lowered for n in needles):
            return hint
    return "See the surrounding lines in logs/proxy.log."
