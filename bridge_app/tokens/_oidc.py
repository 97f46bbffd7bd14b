"""Browser sign-in to the company's identity provider (OpenID Connect, authorization code
with PKCE and a loopback redirect, RFC 8252): the parts that are not plain OAuth.

The system browser opens the provider's own login page; the app listens on
``http://127.0.0.1:<any port>/callback`` for the one redirect that carries the code, checks
``state``, and validates the ID token (signature with the issuer's published keys, issuer,
audience, ``nonce``, expiry) with joserfc, the JOSE library of the authlib project.
"""

from __future__ import annotations

import html
import threading
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from bridge_app.tokens._errors import IamError

CALLBACK_PATH = "/callback"
SIGN_IN_TIMEOUT_S = 300.0

_DONE_PAGE = (
    "<!doctype html><meta charset=utf-8><title>LiteLLM Bridge</title>"
    "<body style='font-family:sans-serif;margin:3em'><h1>{title}</h1><p>{text}</p></body>"
)


class LoopbackRedirect:
    """A one-shot HTTP listener on 127.0.0.1 for the provider's redirect."""

    def __init__(self) -> None:
        self.params: dict[str, str] | None = None
        self._arrived = threading.Event()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                if parts.path != CALLBACK_PATH or owner._arrived.is_set():
                    self.send_error(404)
                    return
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                owner.params = query
                owner._arrived.set()
                failed = "error" in query
                page = _DONE_PAGE.format(
                    title="Sign-in refused" if failed else "Signed in",
                    text=html.escape(
                        query.get("error_description") or query.get("error", "")
                        if failed
                        else "You can close this tab and return to LiteLLM Bridge."
                    ),
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(page)))
                self.end_headers()
                self.wfile.write(page)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # the query carries the code: never logged

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="oidc-redirect", daemon=True
        )

    @property
    def uri(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}{CALLBACK_PATH}"

    def __enter__(self) -> LoopbackRedirect:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def wait(self, timeout_s: float, cancelled: threading.Event | None = None) -> dict[str, str]:
        """The redirect's query parameters, or an IamError when none came in time."""
        waited = 0.0
        while waited < timeout_s:
            if self._arrived.wait(0.2):
                return dict(self.params or {})
            if cancelled is not None and cancelled.is_set():
                raise IamError("The browser sign-in was cancelled.")
            waited += 0.2
        raise IamError(
            f"No sign-in arrived from the browser within {timeout_s:g} s.",
            hint="Finish the sign-in in the browser window that opened, then try again.",
        )


def check_discovery(document: object, issuer: str) -> dict[str, Any]:
    """The provider's metadata, checked: it must name this issuer (OpenID Connect
    Discovery §4.3) and the endpoints the sign-in uses."""
    if not isinstance(document, dict):
        raise IamError(f"{issuer}/.well-known/openid-configuration is not a JSON object.")
    named = str(document.get("issuer") or "").rstrip("/")
    if named != issuer.rstrip("/"):
        raise IamError(
            f"The identity provider calls itself {named or 'nothing'!r}, not {issuer!r}.",
            hint="The IAM url must be the issuer exactly as the provider names it.",
        )
    for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        if not isinstance(document.get(key), str):
            raise IamError(f"The identity provider's metadata names no {key}.")
    return document


def validate_id_token(
    id_token: object,
    jwks: Mapping[str, Any],
    *,
    issuer: str,
    client_id: str,
    nonce: str | None,
) -> dict[str, Any]:
    """The ID token's claims once its signature, issuer, audience, nonce and times hold."""
    from joserfc import jwt
    from joserfc.errors import JoseError
    from joserfc.jwk import KeySet

    if not isinstance(id_token, str) or not id_token:
        raise IamError("The identity provider returned no ID token (is 'openid' in scope?).")
    try:
        keys = KeySet.import_key_set(dict(jwks))  # type: ignore[arg-type]
        token = jwt.decode(id_token, keys)
        claims: dict[str, Any] = {
            "iss": {"essential": True, "value": issuer.rstrip("/")},
            "aud": {"essential": True, "value": client_id},
            "sub": {"essential": True},
            "exp": {"essential": True},
        }
        if nonce is not None:
            claims["nonce"] = {"essential": True, "value": nonce}
        jwt.JWTClaimsRegistry(leeway=60, **claims).validate(token.claims)
    except (JoseError, ValueError, TypeError) as exc:
        raise IamError(
            f"The identity provider's ID token is not valid: {exc}.",
            hint="Sign in again; if it lasts, IT checks the provider's keys and the client id.",
        ) from exc
    return dict(token.claims)


def subject_of(claims: Mapping[str, Any]) -> str:
    """Who signed in, as the app records it."""
    for key in ("preferred_username", "email", "sub"):
        value = claims.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return "unknown"
