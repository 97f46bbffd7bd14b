"""The internal IAM connector: credentials in, token + expiry (+ refresh token) out."""

from __future__ import annotations

import json
import math
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx
from authlib.common.security import generate_token
from authlib.integrations.base_client import OAuthError
from authlib.integrations.httpx_client import OAuth2Client

from bridge_app.runtime import ProxyRules, trust_context
from bridge_app.tokens._device import DevicePrompt, poll_token, request_code
from bridge_app.tokens._errors import (
    IamError,
    oauth_refusal,
    reason_of,
    server_hint,
    transport_error,
)
from bridge_app.tokens._grant import TokenGrant, checked_grant, dig, jwt_exp, parse_time
from bridge_app.tokens._iam_settings import IamSettings
from bridge_app.tokens._oidc import (
    SIGN_IN_TIMEOUT_S,
    LoopbackRedirect,
    check_discovery,
    subject_of,
    validate_id_token,
)

MAX_BODY_BYTES = 1024 * 1024


_WRONG_URL_HINT = (
    "An admin checks the IAM URL (Token & projects, or `litellm-bridge token iam`); "
    "`litellm-bridge token iam --test` shows what the IAM answers."
)


class IamClient:
    """One call to the IAM per method. Network settings (corporate proxy, CA bundle) come
    from the environment manager, so the app's own call goes the same way as the proxy's.

    The OAuth 2.0 shapes go through authlib's httpx client (request encoding, client
    authentication, error answers); the custom shape is a plain POST."""

    def __init__(self, settings: IamSettings, *, network: Mapping[str, str] | None = None):
        self._settings = settings
        self._network = dict(network or {})
        self._meta: dict[str, Any] | None = None  # the OpenID provider's metadata, once

    @property
    def settings(self) -> IamSettings:
        return self._settings

    def _verify(self) -> ssl.SSLContext | bool:
        s = self._settings
        if not s.verify_tls:
            return False
        bundle = (
            s.ca_bundle
            or self._network.get("SSL_CERT_FILE")
            or self._network.get("REQUESTS_CA_BUNDLE")
        )
        try:
            return trust_context(bundle)
        except (OSError, ssl.SSLError) as exc:
            raise IamError(
                f"The company CA bundle {bundle} cannot be loaded: {exc}.",
                hint="Check the CA bundle setting or the SSL_CERT_FILE entry.",
            ) from exc

    def _proxy(self) -> str | None:
        """The route the app chose for the IAM (the same rules as LiteLLM's calls)."""
        return ProxyRules(self._network).choose(self._settings.url).proxy

    # -- the three ways to get a token ------------------------------------------------

    def fetch_token(self, employee_id: str, password: str) -> TokenGrant:
        """Log in with the employee's ID and password (custom or OAuth password grant);
        with the client-credentials shape the service account logs in instead."""
        s = self._settings
        if s.shape == "oauth2-client-credentials":
            return self.fetch_service_token()
        if s.browser:
            raise IamError(
                "This company signs in in the browser, not with a password typed here.",
                hint="Use 'Sign in with your company' (Token & projects), or "
                "`litellm-bridge token login --browser`.",
            )
        if not employee_id.strip() or not password:
            raise IamError("Enter your employee ID and password.")
        if s.shape == "oauth2-password":
            return self._oauth(
                "password",
                lambda c: c.fetch_token(
                    s.url, grant_type="password", username=employee_id, password=password
                ),
            )
        return self._custom(employee_id, password)

    def fetch_service_token(self) -> TokenGrant:
        s = self._settings
        return self._oauth(
            "client", lambda c: c.fetch_token(s.url, grant_type="client_credentials")
        )

    def refresh(self, refresh_token: str) -> TokenGrant:
        """RFC 6749 §6: a new access token from the refresh token, no password involved."""
        url = self._token_url()
        what = "refresh-browser" if self._settings.browser else "refresh"
        call = lambda c: c.refresh_token(url, refresh_token=refresh_token)  # noqa: E731
        if self._settings.browser:  # no scope: the grant's own (RFC 6749 §6); an IdP may
            return self._oauth(what, call, scope=None)  # refuse offline_access when asked again
        return self._oauth(what, call)

    # -- OpenID Connect: sign-in in the browser -----------------------------------------

    def browser_login(
        self,
        open_browser: Callable[[str], object],
        *,
        timeout_s: float = SIGN_IN_TIMEOUT_S,
        cancelled: threading.Event | None = None,
    ) -> tuple[TokenGrant, str]:
        """(the token, who signed in): the provider's login page in the browser
        (``open_browser(url)``), then the code from the loopback redirect exchanged with
        PKCE, and the ID token validated."""
        s = self._settings
        if not s.browser:
            raise IamError(
                f"The {s.shape} IAM signs in with an employee ID and password, not the browser."
            )
        meta = self._discovery()
        verifier, nonce = generate_token(48), generate_token(24)
        with LoopbackRedirect() as redirect:
            with self._oauth_client(redirect_uri=redirect.uri) as client:
                url, state = client.create_authorization_url(
                    meta["authorization_endpoint"], code_verifier=verifier, nonce=nonce
                )
            open_browser(url)
            answer = redirect.wait(timeout_s, cancelled)
        if "error" in answer:  # a refusal stores nothing, whoever sent it
            raise oauth_refusal("browser", answer["error"], answer.get("error_description", ""))
        if answer.get("state") != state:
            raise IamError(
                "The browser's answer does not belong to this sign-in (its state differs); "
                "nothing was stored.",
                hint="Start the sign-in again from the app.",
            )
        if not answer.get("code"):
            raise IamError("The identity provider's answer carries no code.")
        document = self._oauth_document(
            "browser",
            lambda c: c.fetch_token(
                meta["token_endpoint"],
                grant_type="authorization_code",
                code=answer["code"],
                code_verifier=verifier,
            ),
            redirect_uri=redirect.uri,
        )
        claims = validate_id_token(
            document.get("id_token"),
            self._jwks(meta["jwks_uri"]),
            issuer=s.url,
            client_id=s.client_id or "",
            nonce=nonce,
        )
        return self._grant_from_oauth(document, time.time()), subject_of(claims)

    def device_login(
        self,
        show: Callable[[DevicePrompt], object],
        *,
        timeout_s: float = SIGN_IN_TIMEOUT_S,
        cancelled: threading.Event | None = None,
    ) -> tuple[TokenGrant, str]:
        """(the token, who signed in) by the device-code fallback: ``show(prompt)`` tells
        the person where to enter which code; the app polls until it is approved."""
        s = self._settings
        if not s.browser:
            raise IamError(f"The {s.shape} IAM does not sign in with a code.")
        meta = self._discovery()
        endpoint = meta.get("device_authorization_endpoint")
        if not isinstance(endpoint, str):
            raise IamError(
                "The company's identity provider offers no sign-in with a code (its "
                "metadata names no device_authorization_endpoint).",
                hint="Sign in in the browser: `litellm-bridge token login --browser`.",
            )
        scope = " ".join(dict.fromkeys(["openid", *(s.scope or "").split()]))
        try:
            with self._oauth_client(scope=scope) as client:
                prompt = request_code(client, endpoint, scope)
            show(prompt)
            started = time.time()
            document = poll_token(
                lambda: self._oauth_client(scope=scope),
                meta["token_endpoint"],
                prompt,
                timeout_s=timeout_s,
                cancelled=cancelled,
            )
        except IamError:
            raise
        except Exception as exc:  # httpx's transport errors
            raise transport_error(s.url, s.timeout_s, exc) from exc
        claims = validate_id_token(
            document.get("id_token"),
            self._jwks(meta["jwks_uri"]),
            issuer=s.url,
            client_id=s.client_id or "",
            nonce=None,  # the device grant has no authorization request to bind one to
        )
        return self._grant_from_oauth(document, started), subject_of(claims)

    def _get_json(self, url: str, what: str) -> Any:
        try:
            with httpx.Client(
                verify=self._verify(),
                proxy=ProxyRules(self._network).choose(url).proxy,
                trust_env=False,
                timeout=httpx.Timeout(self._settings.timeout_s),
                follow_redirects=False,
            ) as client:
                response = client.get(url)
        except Exception as exc:
            raise transport_error(self._settings.url, self._settings.timeout_s, exc) from exc
        if response.status_code != 200:
            raise IamError(
                f"The identity provider answered HTTP {response.status_code} for its {what}.",
                hint=_WRONG_URL_HINT,
            )
        try:
            return response.json()
        except ValueError:
            raise IamError(f"The identity provider's {what} is not JSON.") from None

    def _discovery(self) -> dict[str, Any]:
        if self._meta is None:
            issuer = self._settings.url.rstrip("/")
            document = self._get_json(f"{issuer}/.well-known/openid-configuration", "metadata")
            self._meta = check_discovery(document, issuer)
        return self._meta

    def _jwks(self, url: str) -> dict[str, Any]:
        document = self._get_json(url, "signing keys")
        if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
            raise IamError("The identity provider's signing keys are not a JSON Web Key Set.")
        return document

    def _token_url(self) -> str:
        return self._discovery()["token_endpoint"] if self._settings.browser else self._settings.url

    # -- OAuth 2.0 through authlib ------------------------------------------------------

    def _oauth_client(self, **extra: Any) -> OAuth2Client:
        s = self._settings

        def limit(response: Any) -> None:
            length = response.headers.get("content-length")
            if length and length.isdigit() and int(length) > MAX_BODY_BYTES:
                raise IamError(
                    f"The IAM answer is larger than {MAX_BODY_BYTES // 1024} KiB; refusing it."
                )

        scope = s.scope
        auth = "none" if s.browser and not s.client_secret else s.client_auth
        if s.browser:  # PKCE S256 always; openid is what makes it OpenID Connect
            extra["code_challenge_method"] = "S256"
            scope = " ".join(dict.fromkeys(["openid", *(s.scope or "").split()]))
        if "scope" in extra:
            scope = extra.pop("scope")
        return OAuth2Client(
            client_id=s.client_id,
            client_secret=s.client_secret,
            token_endpoint_auth_method=auth,
            scope=scope,
            **extra,
            verify=self._verify(),
            proxy=self._proxy(),
            trust_env=False,
            timeout=s.timeout_s,
            follow_redirects=False,
            event_hooks={"response": [limit]},
        )

    def _oauth(self, what: str, call: Any, **client_options: Any) -> TokenGrant:
        started = time.time()
        return self._grant_from_oauth(self._oauth_document(what, call, **client_options), started)

    def _oauth_document(self, what: str, call: Any, **client_options: Any) -> dict[str, Any]:
        try:
            with self._oauth_client(**client_options) as client:
                return dict(call(client))
        except OAuthError as exc:
            raise oauth_refusal(what, str(exc.error or ""), str(exc.description or "")) from exc
        except IamError:
            raise
        except Exception as exc:  # transport errors of httpx2 and authlib's ValueError
            raise transport_error(self._settings.url, self._settings.timeout_s, exc) from exc

    def _grant_from_oauth(self, document: dict[str, Any], started: float) -> TokenGrant:
        source = self._settings.token_source if self._settings.browser else "access_token"
        token = document.get(source)
        if not isinstance(token, str) or not token.strip():
            raise IamError(f"The IAM answer has no {source}.")
        lifetime = document.get("expires_in")
        expires_at: float | None = None
        if isinstance(lifetime, int | float) and not isinstance(lifetime, bool):
            expires_at = started + float(lifetime) if math.isfinite(lifetime) else None
        elif isinstance(lifetime, str) and lifetime.strip().isdigit():
            expires_at = started + float(lifetime)
        if source == "id_token" or expires_at is None:
            expires_at = jwt_exp(token)
        refresh = document.get("refresh_token")
        answer = {k: v for k, v in document.items() if k != "expires_at"}
        return checked_grant(
            token,
            expires_at,
            "expires_in",
            refresh if isinstance(refresh, str) and refresh else None,
            answer,
        )

    # -- the custom JSON / form shape --------------------------------------------------

    def _custom(self, employee_id: str, password: str) -> TokenGrant:
        s = self._settings
        body = {**s.static_fields, s.employee_id_field: employee_id, s.password_field: password}
        kwargs: dict[str, Any] = {"json": body} if s.body_format == "json" else {"data": body}
        started = time.time()
        try:
            with (
                httpx.Client(
                    verify=self._verify(),
                    proxy=self._proxy(),
                    trust_env=False,
                    timeout=httpx.Timeout(s.timeout_s),
                    follow_redirects=False,
                ) as client,
                client.stream("POST", s.url, **kwargs) as response,
            ):
                raw = self._read_limited(response)
                status = response.status_code
        except IamError:
            raise
        except httpx.HTTPError as exc:
            raise transport_error(self._settings.url, self._settings.timeout_s, exc) from exc
        return self._interpret(status, raw, started)

    @staticmethod
    def _read_limited(response: httpx.Response) -> bytes:
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                raise IamError(
                    f"The IAM answer is larger than {MAX_BODY_BYTES // 1024} KiB; refusing it."
                )
            chunks.append(chunk)
        return b"".join(chunks)

    def _interpret(self, status: int, raw: bytes, started: float) -> TokenGrant:
        s = self._settings
        reason = reason_of(raw)
        if status in (400, 401, 403):
            raise IamError(
                "The IAM refused the login" + (f": {reason}" if reason else "."),
                hint="Check the employee ID and password and log in again; the app does not "
                "retry a refused login on its own.",
                rejected=True,
                reason=reason,
            )
        if status == 429:
            raise IamError("The IAM service is rate limiting logins; wait a minute.")
        if status == 407:
            proxy = ProxyRules(self._network).choose(s.url)
            raise IamError(
                f"The company proxy {proxy.shown} refused to carry the IAM call (HTTP 407 "
                "Proxy Authentication Required): it wants credentials it did not get or "
                "refused.",
                hint="An admin sets the shared entries PROXY_USERNAME and PROXY_PASSWORD (or "
                "the credentials in HTTPS_PROXY); `litellm-bridge doctor network` checks the "
                "route (docs/network.md).",
            )
        if status >= 500:
            suffix = f": {reason}" if reason else "."
            raise IamError(
                f"The IAM service has a problem (HTTP {status}){suffix}",
                reason=reason,
                hint=server_hint(self._settings.url, status),
            )
        if status >= 300:
            raise IamError(
                f"The IAM answered HTTP {status} (a redirect), which is not a token.",
                hint=_WRONG_URL_HINT,
            )
        try:
            document = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            page = raw.lstrip()[:15].lower().startswith((b"<!doctype", b"<html"))
            what = "a web page" if page else "something that is not JSON"
            raise IamError(
                f"The IAM at {urlsplit(s.url).hostname} answered with {what}, not a token: the "
                "IAM URL probably points at a login page or portal, not the token endpoint.",
                hint=_WRONG_URL_HINT,
            ) from exc
        token = dig(document, s.token_path)
        if not isinstance(token, str) or not token.strip():
            raise IamError(
                f"The IAM answer has no token at {s.token_path!r}.",
                hint="An admin should check the token path in the IAM settings.",
            )
        if s.expiry_kind == "jwt":
            expires_at = jwt_exp(token)
            where = "the token's exp claim"
        elif s.expiry_kind == "absolute":
            expires_at = parse_time(dig(document, s.expiry_path))
            where = repr(s.expiry_path)
        else:
            lifetime = dig(document, s.expiry_path)
            valid = isinstance(lifetime, int | float) and not isinstance(lifetime, bool)
            expires_at = started + float(lifetime) if valid and math.isfinite(lifetime) else None
            where = repr(s.expiry_path)
        answer = document if isinstance(document, dict) else {}
        return checked_grant(token, expires_at, where, None, answer)
