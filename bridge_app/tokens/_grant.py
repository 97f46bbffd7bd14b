"""A token grant (token, expiry, refresh token, the IAM's masked answer) and the small
readers that turn an IAM's JSON into one: a dotted path, a JWT's ``exp``, a time in any
of the forms IAMs use."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, repr=False)
class TokenGrant:
    token: str
    expires_at: float  # epoch seconds
    obtained_at: float
    refresh_token: str | None = None  # OAuth 2.0 §6: refresh without the password
    answer: Mapping[str, Any] = field(default_factory=dict)  # the IAM's JSON, for --test

    def __repr__(self) -> str:
        return f"TokenGrant(expires_at={self.expires_at:.0f})"

    @property
    def lifetime_s(self) -> float:
        return max(0.0, self.expires_at - self.obtained_at)

    def masked_answer(self) -> dict[str, Any]:
        """The IAM's answer with every token-like value masked (for `token iam --test`)."""
        masked: dict[str, Any] = _mask_document(self.answer, {self.token, self.refresh_token or ""})
        return masked


def _mask_document(node: Any, secrets: set[str]) -> Any:
    if isinstance(node, Mapping):
        out: dict[str, Any] = {}
        for key, value in node.items():
            lowered = str(key).lower()
            if isinstance(value, str) and (
                value in secrets or "token" in lowered or "secret" in lowered
            ):
                out[str(key)] = _mask(value)
            else:
                out[str(key)] = _mask_document(value, secrets)
        return out
    if isinstance(node, list):
        return [_mask_document(item, secrets) for item in node]
    if isinstance(node, str) and node in secrets:
        return _mask(node)
    return node


def _mask(value: str) -> str:
    if value.lower() in ("bearer", "mac", ""):
        return value  # token_type, not a secret
    return f"{value[:4]}…({len(value)} chars)" if len(value) > 12 else "****"


def dig(document: Any, path: str) -> Any:
    node = document
    for part in path.split("."):
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return None
    return node


def jwt_exp(token: str) -> float | None:
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, UnicodeDecodeError):
        return None
    exp = payload.get("exp") if isinstance(payload, dict) else None
    return float(exp) if isinstance(exp, int | float) else None


def parse_time(value: Any) -> float | None:
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
                return parse_time(float(value))
            except ValueError:
                return None
    return None


MAX_LIFETIME_S = 366 * 24 * 3600  # anything longer is a misconfigured IAM, not a token


def checked_grant(
    token: str,
    expires_at: float | None,
    where: str,
    refresh_token: str | None,
    answer: Mapping[str, Any],
) -> TokenGrant:
    """The grant for a token an IAM returned, once its expiry is there and plausible."""
    from bridge_app.tokens._errors import IamError  # it reads this module's dig()

    now = time.time()
    if expires_at is None:
        raise IamError(f"The IAM answer has no usable expiry at {where}.")
    if expires_at <= now:
        raise IamError("The IAM returned a token that has already expired.")
    if expires_at - now > MAX_LIFETIME_S:
        raise IamError(
            "The IAM returned an implausible expiry (more than a year away); refusing it.",
            hint="An admin should check the expiry setting (seconds vs. milliseconds).",
        )
    return TokenGrant(
        token=token.strip(),
        expires_at=expires_at,
        obtained_at=now,
        refresh_token=refresh_token,
        answer=answer,
    )
