"""The internal IAM connector: employee ID + password in, token + expiry out."""

from __future__ import annotations

import base64
import json
import math
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx

from bridge_app.runtime import BridgeError

MAX_BODY_BYTES = 1024 * 1024
MAX_LIFETIME_S = 366 * 24 * 3600  # anything longer is a misconfigured IAM, not a token

ExpiryKind = Literal["expires_in", "absolute", "jwt"]


class IamError(BridgeError):
    """The IAM did not give us a usable token; ``rejected`` means the credentials were
    refused (never retry those automatically: it would lock the employee's account)."""

    def __init__(self, message: str, *, hint: str | None = None, rejected: bool = False):
        super().__init__(message, hint=hint)
        self.rejected = rejected


@dataclass(frozen=True)
class IamSettings:
    url: str
    body_format: Literal["json", "form"] = "json"
    employee_id_field: str = "employee_id"
    password_field: str = "password"  # noqa: S105 - a field name, not a password
    static_fields: Mapping[str, str] = field(default_factory=dict)
    token_path: str = "access_token"  # noqa: S105 - a JSON path, not a token
    expiry_kind: ExpiryKind = "expires_in"
    expiry_path: str = "expires_in"
    verify_tls: bool = True
    ca_bundle: str | None = None
    timeout_s: float = 15.0

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise IamError(f"The IAM URL {self.url!r} is not a valid http(s) URL.")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> IamSettings:
        known = {f for f in cls.__dataclass_fields__}
        unknown = set(data) - known
        if unknown:
            raise IamError(f"Unknown IAM setting(s): {', '.join(sorted(unknown))}.")
        if "url" not in data:
            raise IamError("The IAM settings have no url.")
        return cls(**dict(data))

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__} | {
            "static_fields": dict(self.static_fields)
        }


@dataclass(frozen=True, repr=False)
class TokenGrant:
    token: str
    expires_at: float  # epoch seconds
    obtained_at: float

    def __repr__(self) -> str:
        return f"TokenGrant(expires_at={self.expires_at:.0f})"


def _dig(document: Any, path: str) -> Any:
    node = document
    for part in path.split("."):
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


def _jwt_exp(token: str) -> float | None:
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, UnicodeDecodeError):
        return None
    exp = payload.get("exp") if isinstance(payload, dict) else None
    return float(exp) if isinstance(exp, int | float) else None


def _parse_time(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        # Milliseconds since the epoch are common too.
        return float(value) / 1000.0 if value > 10**11 else float(value)
    if isinstance(value, str):
        from datetime import datetime

        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            try:
                return _parse_time(float(value))
            except ValueError:
                return None
    return None


class IamClient:
    """One call to the IAM. Network settings (corporate proxy, CA bundle) come from the
    environment manager, so the app's own call goes the same way as the proxy's."""

    def __init__(self, settings: IamSettings, *, network: Mapping[str, str] | None = None):
        self._settings = settings
        self._network = dict(network or {})

    def _verify(self) -> ssl.SSLContext | bool:
        s = self._settings
        if not s.verify_tls:
            return False
        bundle = (
            s.ca_bundle
            or self._network.get("SSL_CERT_FILE")
            or self._network.get("REQUESTS_CA_BUNDLE")
        )
        context = ssl.create_default_context()
        if bundle:
            try:
                context.load_verify_locations(cafile=bundle)
            except (OSError, ssl.SSLError) as exc:
                raise IamError(
                    f"The company CA bundle {bundle} cannot be loaded: {exc}.",
                    hint="Check the CA bundle setting or the SSL_CERT_FILE entry.",
                ) from exc
        return context

    def _proxy(self) -> str | None:
        host = urlsplit(self._settings.url).hostname or ""
        no_proxy = [h.strip() for h in self._network.get("NO_PROXY", "").split(",") if h.strip()]
        if any(host == h or host.endswith("." + h.lstrip(".")) for h in no_proxy):
            return None
        key = "HTTPS_PROXY" if self._settings.url.startswith("https") else "HTTP_PROXY"
        return self._network.get(key) or None

    def fetch_token(self, employee_id: str, password: str) -> TokenGrant:
        s = self._settings
        if not employee_id.strip() or not password:
            raise IamError("Enter your employee ID and password.")
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
        except httpx.TimeoutException as exc:
            raise IamError(
                f"The IAM service did not answer within {s.timeout_s:g} s.",
                hint="Check the network or corporate proxy settings, then try again.",
            ) from exc
        except httpx.ConnectError as exc:
            text = str(exc)
            if "CERTIFICATE_VERIFY_FAILED" in text:
                raise IamError(
                    "The IAM server's TLS certificate could not be verified.",
                    hint="Ask IT for the company CA bundle and set it (SSL_CERT_FILE).",
                ) from exc
            if "SSL" in text.upper() or "TLS" in text.upper():
                raise IamError(
                    "The TLS connection to the IAM service failed.",
                    hint="Check that the IAM URL uses the right scheme (https/http) and port.",
                ) from exc
            raise IamError(
                f"Cannot reach the IAM service at {s.url}.",
                hint="Check the network, the URL, or the corporate proxy (HTTPS_PROXY).",
            ) from exc
        except httpx.HTTPError as exc:
            raise IamError(f"The IAM call failed: {exc.__class__.__name__}.") from exc
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
        reason = _reason(raw)
        if status in (400, 401, 403):
            raise IamError(
                "The IAM rejected the employee ID or password" + (f": {reason}" if reason else "."),
                hint="Check them and log in again; the app will not retry on its own.",
                rejected=True,
            )
        if status == 429:
            raise IamError("The IAM service is rate limiting logins; wait a minute.")
        if status >= 500:
            suffix = f": {reason}" if reason else "."
            raise IamError(f"The IAM service has a problem (HTTP {status}){suffix}")
        if status >= 300:
            raise IamError(f"The IAM answered HTTP {status}, which is not a token.")
        try:
            document = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise IamError("The IAM answer is not JSON; check the IAM URL setting.") from exc
        token = _dig(document, s.token_path)
        if not isinstance(token, str) or not token.strip():
            raise IamError(
                f"The IAM answer has no token at {s.token_path!r}.",
                hint="An admin should check the token path in the IAM settings.",
            )
        now = time.time()
        if s.expiry_kind == "jwt":
            expires_at = _jwt_exp(token)
            where = "the token's exp claim"
        elif s.expiry_kind == "absolute":
            expires_at = _parse_time(_dig(document, s.expiry_path))
            where = repr(s.expiry_path)
        else:
            lifetime = _dig(document, s.expiry_path)
            valid = isinstance(lifetime, int | float) and not isinstance(lifetime, bool)
            expires_at = started + float(lifetime) if valid and math.isfinite(lifetime) else None
            where = repr(s.expiry_path)
        if expires_at is None:
            raise IamError(f"The IAM answer has no usable expiry at {where}.")
        if expires_at <= now:
            raise IamError("The IAM returned a token that has already expired.")
        if expires_at - now > MAX_LIFETIME_S:
            raise IamError(
                "The IAM returned an implausible expiry (more than a year away); refusing it.",
                hint="An admin should check the expiry setting (seconds vs. milliseconds).",
            )
        return TokenGrant(token=token.strip(), expires_at=expires_at, obtained_at=now)


def _reason(raw: bytes) -> str:
    """A short, printable reason from an error body (never the whole body)."""
    try:
        document = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return ""
    for path in ("error_description", "message", "error.message", "detail", "error"):
        value = _dig(document, path)
        if isinstance(value, str) and value.strip():
            return value.strip()[:200]
    return ""
