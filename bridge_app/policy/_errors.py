"""The policy's errors (part of the BridgeError family, see bridge_app.runtime).

- ``PolicyError``: a policy cannot be read, checked, signed or applied.
  - ``PolicyInvalidError``: the file has problems (``.result`` lists them by line).
  - ``PolicySignatureError``: no valid signature from the enrolled company key.
- ``PolicyRefusedError``: a change the config lock does not allow ("... is managed by your
  company"); the application core raises it before the change.
- ``ModelNotAllowedError`` and ``UpstreamNotAllowedError`` (HTTP 403) and
  ``LimitExceededError`` (HTTP 429 with Retry-After): what the proxy's hooks answer.
"""

from __future__ import annotations

from bridge_app.config import ValidationResult
from bridge_app.runtime import BridgeError


class PolicyError(BridgeError):
    pass


class PolicyInvalidError(PolicyError):
    def __init__(self, result: ValidationResult, what: str = "The policy") -> None:
        first = result.errors[0] if result.errors else None
        message = f"{what} has {len(result.errors)} error(s)."
        if first is not None:
            message += f" First: {first}"
        super().__init__(
            message, hint="Nothing was changed; run `litellm-bridge policy check FILE`."
        )
        self.result = result


class PolicySignatureError(PolicyError):
    pass


class PolicyRefusedError(BridgeError):
    http_status = 403


class ModelNotAllowedError(BridgeError):
    http_status = 403

    def __init__(self, model: str) -> None:
        super().__init__(f"model {model} is not allowed by your company's policy")
        self.model = model


class UpstreamNotAllowedError(BridgeError):
    http_status = 403

    def __init__(self, host: str) -> None:
        super().__init__(
            f"upstream host {host} is not allowed by your company's policy "
            "(network.allowed_upstream_hosts)"
        )
        self.host = host


class LimitExceededError(BridgeError):
    """429 with Retry-After while the limit frees up within a minute. A quota that frees
    up later (a day, a month) is ``final``: no Retry-After and ``x-should-retry: false``
    (Claude Code and the OpenAI and Anthropic SDKs then stop at once and show the
    message), and 403 for the tools that retry a 429 whatever it says (``status``)."""

    http_status = 429

    def __init__(
        self,
        message: str,
        retry_after: int,
        limit: str,
        *,
        final: bool = False,
        status: int = 429,
    ) -> None:
        super().__init__(message)
        self.retry_after = max(1, int(retry_after))
        self.limit = limit
        self.final = final
        self.http_status = status
        self.http_headers = (
            {"x-should-retry": "false"} if final else {"Retry-After": str(self.retry_after)}
        )
