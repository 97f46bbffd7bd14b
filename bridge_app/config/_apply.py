"""Safe apply: write the active config, restart the proxy with it, and put the previous
file back (byte for byte) and restart again if the proxy does not become ready."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from bridge_app.config._files import atomic_write_bytes
from bridge_app.config._problems import ValidationResult
from bridge_app.runtime import BridgeError

log = logging.getLogger(__name__)


@runtime_checkable
class ProxyRestarter(Protocol):
    """What config apply needs from the proxy supervisor."""

    def is_running(self) -> bool: ...

    def restart_with_config(self, config_path: Path) -> None:
        """Stop (requests in flight get the server's bounded graceful shutdown), start
        again reading ``config_path``; return once ready. Raises BridgeError with the
        reason if the proxy does not become ready."""
        ...


class ConfigInvalidError(BridgeError):
    """Validation found errors; nothing was written or applied."""

    def __init__(self, result: ValidationResult, *, what: str = "The config") -> None:
        first = result.errors[0] if result.errors else None
        detail = f" First: {first}" if first else ""
        super().__init__(
            f"{what} has {len(result.errors)} error(s) and was not applied.{detail}",
            hint="Run `litellm-bridge config validate` (or open the editor) to see every "
            "problem with its line number.",
        )
        self.result = result


class ConfigApplyError(BridgeError):
    """The proxy refused the new config; ``restored`` says whether the old one runs again."""

    def __init__(self, message: str, *, reason: str, restored: bool, hint: str | None) -> None:
        super().__init__(message, hint=hint)
        self.reason = reason
        self.restored = restored


@dataclass(frozen=True)
class ApplyResult:
    version_id: int
    restarted: bool  # False: no proxy was running; the config takes effect at next start
    validation: ValidationResult  # warnings the user may want to see
    message: str


class SafeApplier:
    """Reads the active file, restarts the proxy with it and owns the rollback; the caller
    (ConfigService) records history and serialises applies."""

    def __init__(self, active_path: Path) -> None:
        self.active_path = active_path

    def read_active_bytes(self) -> bytes | None:
        try:
            return self.active_path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise BridgeError(
                f"Cannot read the active config {self.active_path}: {exc.strerror or exc}."
            ) from exc

    def restart(self, restarter: ProxyRestarter) -> None:
        restarter.restart_with_config(self.active_path)

    def roll_back(
        self,
        previous: bytes | None,
        restarter: ProxyRestarter,
        exc: BaseException,
    ) -> ConfigApplyError:
        """Put ``previous`` back and start the proxy with it; the error says how it went."""
        reason = _reason(exc)
        log.warning("proxy did not start with the new config: %s", reason)
        told = f"The proxy did not become ready with the new config: {reason}"
        if previous is None:
            self.active_path.unlink(missing_ok=True)
            return ConfigApplyError(
                f"{told}. There was no previous config to go back to, so the proxy is stopped.",
                reason=reason,
                restored=False,
                hint="Fix the config and apply it again.",
            )
        atomic_write_bytes(self.active_path, previous)
        try:
            restarter.restart_with_config(self.active_path)
        except Exception as again_exc:
            again = _reason(again_exc)
            log.error("proxy did not start with the restored config either: %s", again)
            return ConfigApplyError(
                f"{told}. The previous config was restored, but the proxy did not start with "
                f"it either: {again}",
                reason=reason,
                restored=False,
                hint="Open the logs and diagnostics; the previous config file is in place.",
            )
        return ConfigApplyError(
            f"{told}. The previous config was restored and the proxy runs with it again.",
            reason=reason,
            restored=True,
            hint="Fix the config and apply it again; nothing else changed.",
        )


def _reason(exc: BaseException) -> str:
    if isinstance(exc, BridgeError):
        return exc.message.rstrip(".")
    return f"{exc.__class__.__name__}: {exc}".rstrip(".")
