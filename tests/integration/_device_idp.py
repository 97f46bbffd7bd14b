"""A real OAuth 2.0 device authorization server (RFC 8628) on 127.0.0.1, for the
`token login --device` fallback: authlib's own server components (its Flask
AuthorizationServer, DeviceAuthorizationEndpoint and DeviceCodeGrant, the same library
oidc-provider-mock is built on, which has no device flow) with OpenID discovery, a JWKS and
ID tokens, and a verification page where a person types the code and approves or denies.
Headless Chromium plays the person (``approve_in_browser``)."""

from __future__ import annotations

import html
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tests.integration._oidc import _driver

CLIENT_ID = "bridge-device"


class _Client:
    """A public client (no secret), allowed the device grant and refresh tokens."""

    client_id = CLIENT_ID

    def get_client_id(self) -> str:
        return CLIENT_ID

    def get_default_redirect_uri(self) -> None:
        return None

    def get_allowed_scope(self, scope: str) -> str:
        return scope

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return False

    def check_client_secret(self, client_secret: str) -> bool:
        return False

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == "none"

    def check_response_type(self, response_type: str) -> bool:
        return False

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in ("urn:ietf:params:oauth:grant-type:device_code", "refresh_token")


class DeviceIdp:
    def __init__(self) -> None:
        import flask
        import werkzeug.serving
        from authlib.integrations.flask_oauth2 import AuthorizationServer
        from authlib.oauth2.rfc8628 import (
            DeviceAuthorizationEndpoint,
            DeviceCodeGrant,
            DeviceCredentialDict,
        )
        from joserfc import jwt
        from joserfc.jwk import RSAKey

        self.credentials: dict[str, DeviceCredentialDict] = {}
        self.decisions: dict[str, tuple[str, bool]] = {}  # user_code: (who, approved)
        self.polls = 0
        self.tokens: list[str] = []  # the access tokens issued, which an upstream accepts
        key = RSAKey.generate_key(2048, parameters={"kid": "device-idp", "use": "sig"})
        app = flask.Flask("device-idp")
        idp = self

        class Endpoint(DeviceAuthorizationEndpoint):  # type: ignore[misc]
            CLIENT_AUTH_METHODS = ["none"]  # noqa: RUF012 - authlib reads a list
            INTERVAL = 1  # seconds between polls, so the test is quick

            def get_verification_uri(self) -> str:
                return f"{idp.issuer}/device"

            def save_device_credential(self, client_id: str, scope: str, data: dict) -> None:
                idp.credentials[data["device_code"]] = DeviceCredentialDict(
                    client_id=client_id,
                    scope=scope,
                    expires_at=time.time() + self.EXPIRES_IN,
                    **data,
                )

        class Grant(DeviceCodeGrant):  # type: ignore[misc]
            TOKEN_ENDPOINT_AUTH_METHODS = ["none"]  # noqa: RUF012 - authlib reads a list

            def query_device_credential(self, device_code: str) -> Any:
                idp.polls += 1
                return idp.credentials.get(device_code)

            def query_user_grant(self, user_code: str) -> tuple[str, bool] | None:
                return idp.decisions.get(user_code)

            def should_slow_down(self, credential: Any) -> bool:
                return False

            def create_token_response(self) -> Any:
                status, token, headers = super().create_token_response()
                now = int(time.time())
                claims = {
                    "iss": idp.issuer, "aud": CLIENT_ID, "sub": self.request.user,
                    "preferred_username": self.request.user, "iat": now, "exp": now + 3600,
                }  # fmt: skip
                token["id_token"] = jwt.encode({"alg": "RS256", "kid": "device-idp"}, claims, key)
                return status, token, headers

        def save_token(token: dict[str, Any], request: Any) -> None:
            idp.tokens.append(str(token["access_token"]))

        server = AuthorizationServer(
            app, query_client=lambda cid: _Client() if cid == CLIENT_ID else None,
            save_token=save_token,
        )  # fmt: skip
        server.register_endpoint(Endpoint)
        server.register_grant(Grant)

        @app.get("/.well-known/openid-configuration")
        def discovery() -> Any:
            return {
                "issuer": idp.issuer,
                "authorization_endpoint": f"{idp.issuer}/authorize",  # not offered here
                "device_authorization_endpoint": f"{idp.issuer}/device_authorization",
                "token_endpoint": f"{idp.issuer}/token",
                "jwks_uri": f"{idp.issuer}/jwks",
                "grant_types_supported": ["urn:ietf:params:oauth:grant-type:device_code"],
            }

        @app.get("/jwks")
        def jwks() -> Any:
            return {"keys": [key.as_dict(private=False)]}

        @app.post("/device_authorization")
        def device_authorization() -> Any:
            return server.create_endpoint_response("device_authorization")

        @app.post("/token")
        def token() -> Any:
            return server.create_token_response()

        @app.route("/device", methods=["GET", "POST"])
        def verify() -> Any:
            if flask.request.method == "POST":
                form = flask.request.form
                code = form.get("user_code", "").strip().upper()
                if not any(c["user_code"] == code for c in idp.credentials.values()):
                    return "<p>That code is not known.</p>", 400
                idp.decisions[code] = (form.get("username", ""), form.get("action") == "approve")
                return "<p>You can go back to the app now.</p>"
            code = html.escape(flask.request.args.get("user_code", ""))
            return (
                "<form method=post><h1>Sign in a device</h1>"
                f"<input name=user_code value='{code}'><input name=username>"
                "<button name=action value=approve>Approve</button>"
                "<button name=action value=deny>Deny</button></form>"
            )

        self._server = werkzeug.serving.make_server("127.0.0.1", 0, app, threaded=True)
        self.issuer = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(5)


@contextmanager
def device_idp() -> Iterator[DeviceIdp]:
    idp = DeviceIdp()
    try:
        yield idp
    finally:
        idp.stop()


def _answer_page(driver: Any) -> str:
    """The text of the page the form's POST led to. Right after the click the browser may
    be between the two documents (no <body> for an instant; seen once in CI): wait for
    the answer page instead of reading whatever is there."""
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    def answered(d: Any) -> str | bool:
        text = str(d.find_element(By.TAG_NAME, "body").text)
        return text if text and "Sign in a device" not in text else False

    waiting = WebDriverWait(
        driver, 30, ignored_exceptions=(NoSuchElementException, StaleElementReferenceException)
    )
    return str(waiting.until(answered))


def approve_in_browser(url: str, username: str, *, deny: bool = False) -> str:
    """A person opens the verification page the app showed (the code in it), types their
    name and approves (or denies); the page's text after that."""
    from selenium.webdriver.common.by import By

    driver = _driver()
    try:
        driver.get(url)  # type: ignore[attr-defined]
        driver.find_element(By.NAME, "username").send_keys(username)  # type: ignore[attr-defined]
        button = "deny" if deny else "approve"
        driver.find_element(By.CSS_SELECTOR, f"button[value={button}]").click()  # type: ignore[attr-defined]
        return _answer_page(driver)
    finally:
        driver.quit()  # type: ignore[attr-defined]
