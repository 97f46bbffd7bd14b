"""Sign-in with a code (OAuth 2.0 device authorization grant, RFC 8628): the fallback of
the browser sign-in for a session with no browser at hand (an SSH session, a kiosk). The
app asks the provider for a code, shows where to enter it, and polls the token endpoint
until a person approved it on any device, refused it, or the code expired.

Entra and other providers recommend blocking this flow by policy where it is not needed
(a code can be phished); the browser sign-in stays the default."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from authlib.integrations.base_client import OAuthError

from bridge_app.tokens._errors import IamError, oauth_refusal

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
SLOW_DOWN_S = 5.0  # RFC 8628 §3.5: each slow_down adds 5 seconds to the interval


@dataclass(frozen=True)
class DevicePrompt:
    """What a person needs to approve the sign-in: where to go and the code to enter."""

    user_code: str
    verification_uri: str
    verification_uri_complete: str | None
    expires_in_s: float
    interval_s: float
    device_code: str = field(repr=False)

    @property
    def text(self) -> str:
        minutes = max(1, round(self.expires_in_s / 60))
        return (
            f"On any device, open {self.verification_uri} and enter the code "
            f"{self.user_code} (valid for {minutes} minutes)."
        )


def _number(value: object, default: float) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return float(value)
    return default


def request_code(client: Any, endpoint: str, scope: str | None) -> DevicePrompt:
    """The device authorization request with authlib's httpx client (its client
    authentication, as for the token endpoint)."""
    auth = client.client_auth(client.token_endpoint_auth_method)
    response = client.post(endpoint, data={"scope": scope or ""}, auth=auth)
    try:
        document = response.json()
    except ValueError:
        document = None
    if not isinstance(document, dict):
        raise IamError(f"The identity provider answered HTTP {response.status_code} for a code.")
    if response.status_code != 200:
        raise oauth_refusal(
            "device", str(document.get("error", "")), str(document.get("error_description", ""))
        )
    missing = [k for k in ("device_code", "user_code", "verification_uri") if not document.get(k)]
    if missing:
        raise IamError(f"The identity provider's code answer lacks {', '.join(missing)}.")
    complete = document.get("verification_uri_complete")
    return DevicePrompt(
        user_code=str(document["user_code"]),
        verification_uri=str(document["verification_uri"]),
        verification_uri_complete=str(complete) if complete else None,
        expires_in_s=_number(document.get("expires_in"), 600.0),
        interval_s=_number(document.get("interval"), 5.0),
        device_code=str(document["device_code"]),
    )


def poll_token(
    client_factory: Callable[[], Any],
    token_endpoint: str,
    prompt: DevicePrompt,
    *,
    timeout_s: float,
    cancelled: threading.Event | None = None,
) -> dict[str, Any]:
    """The token endpoint's answer once the code is approved; IamError when it is refused,
    expires, or the wait is cancelled or runs out. Nothing is stored on any of those."""
    interval = prompt.interval_s
    deadline = time.monotonic() + min(timeout_s, prompt.expires_in_s)
    waiter = cancelled or threading.Event()
    while True:
        if waiter.wait(min(interval, max(0.0, deadline - time.monotonic()))):
            raise IamError("The sign-in with a code was cancelled; nothing was stored.")
        if time.monotonic() >= deadline:
            raise _expired()
        try:
            with client_factory() as client:
                return dict(
                    client.fetch_token(
                        token_endpoint, grant_type=DEVICE_GRANT, device_code=prompt.device_code
                    )
                )
        except OAuthError as exc:
            error = str(exc.error or "")
            if error == "authorization_pending":
                continue
            if error == "slow_down":
                interval += SLOW_DOWN_S
                continue
            if error == "expired_token":
                raise _expired() from exc
            raise oauth_refusal("device", error, str(exc.description or "")) from exc


def _expired() -> IamError:
    return IamError(
        "The code expired before it was approved; nothing was stored.",
        hint="Run `litellm-bridge token login --device` again and enter the new code.",
    )
