"""What an IAM call that gave no token says: the error class and the wording of each
way it fails (a refusal in the IAM's words, a transport problem, a server error)."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from bridge_app.runtime import BridgeError
from bridge_app.tokens._grant import dig


class IamError(BridgeError):
    """The IAM did not give us a usable token; ``rejected`` means the credentials were
    refused (never retry those automatically: it would lock the employee's account)."""

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        rejected: bool = False,
        reason: str = "",
    ):
        super().__init__(message, hint=hint)
        self.rejected = rejected
        self.reason = reason  # the IAM's own words, when it gave any


# OAuth error codes (RFC 6749 §5.2) that mean "these credentials are refused": retrying
# them automatically cannot succeed and may lock the account.
REJECTIONS = {"invalid_grant", "invalid_client", "unauthorized_client", "access_denied"}


def server_hint(url: str, status: int) -> str:
    return (
        "Nothing is wrong with your employee ID or password. Try again in a few minutes; "
        f"if it lasts, tell IT that the IAM at {urlsplit(url).hostname} "
        f"answers HTTP {status}."
    )


def transport_error(url: str, timeout_s: float, exc: BaseException) -> IamError:
    name = type(exc).__name__
    text = str(exc)
    status = getattr(getattr(exc, "response", None), "status_code", None)
    if isinstance(status, int):
        if status == 429:
            return IamError("The IAM service is rate limiting logins; wait a minute.")
        return IamError(
            f"The IAM service has a problem (HTTP {status}).", hint=server_hint(url, status)
        )
    if "Timeout" in name:
        return IamError(
            f"The IAM service did not answer within {timeout_s:g} s.",
            hint="Check the network or corporate proxy settings, then try again.",
        )
    if "CERTIFICATE_VERIFY_FAILED" in text:
        return IamError(
            "The IAM server's TLS certificate could not be verified.",
            hint="Ask IT for the company CA bundle and set it (ca_bundle or SSL_CERT_FILE).",
        )
    if "Connect" in name:
        if "SSL" in text.upper() or "TLS" in text.upper():
            return IamError(
                "The TLS connection to the IAM service failed.",
                hint="Check that the IAM URL uses the right scheme (https/http) and port.",
            )
        return IamError(
            f"Cannot reach the IAM service at {url}.",
            hint="Check the network, the URL, or the corporate proxy (HTTPS_PROXY).",
        )
    if isinstance(exc, ValueError):
        return IamError("The IAM answer is not a JSON object; check the IAM URL setting.")
    return IamError(f"The IAM call failed: {name}.")


def reason_of(raw: bytes) -> str:
    """A short, printable reason from an error body (never the whole body)."""
    try:
        document = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return ""
    for path in ("error_description", "message", "error.message", "detail", "error"):
        value = dig(document, path)
        if isinstance(value, str) and value.strip():
            return value.strip()[:200]
    return ""


#: (message, hint) per kind of call, when the IAM refuses the credentials it was given.
_REFUSED = {
    "refresh": (
        "The IAM refused the refresh token",
        "Log in again with your employee ID and password.",
    ),
    "refresh-browser": (
        "The IAM refused the refresh token",
        "Sign in again with your company in the browser.",
    ),
    "browser": (
        "The company's sign-in refused",
        "Sign in again in the browser; if it is refused again, ask IT.",
    ),
    "device": (
        "The company's sign-in refused the code",
        "Run `litellm-bridge token login --device` again; if it is refused again, ask IT.",
    ),
    "client": (
        "The IAM refused the service account",
        "An admin should check client_id and client_secret in the IAM settings.",
    ),
    "login": (
        "The IAM refused the login",
        "Check the employee ID and password and log in again; the app does not retry a "
        "refused login on its own.",
    ),
}


def oauth_refusal(what: str, error: str, description: str) -> IamError:
    said = description or error
    description = description.rstrip(".")
    if error in REJECTIONS:
        message, hint = _REFUSED.get(what, _REFUSED["login"])
        if error in ("invalid_client", "unauthorized_client"):
            hint = "An admin should check client_id / client_secret in the IAM settings."
        return IamError(
            f"{message}: {description} ({error})." if description else f"{message} ({error}).",
            hint=hint,
            rejected=True,
            reason=said,
        )
    if error in ("slow_down", "temporarily_unavailable"):
        return IamError(f"The IAM asks to wait: {said.rstrip('.')}.", reason=said)
    return IamError(f"The IAM answered an OAuth error: {said.rstrip('.')}.", reason=said)
