from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

from bridge_app.integrity import _pubkey
from bridge_app.integrity._verify import VerifyReport, verify_folder
from bridge_app.runtime import BridgeError

log = logging.getLogger(__name__)

REQUIRED_SETTING = "integrity.required"
NOT_PACKAGED = "Not a packaged build; nothing to verify."

State = Literal["verified", "not_packaged", "failed"]


def bundle_root() -> Path | None:
    """The folder of a one-folder PyInstaller bundle (where the executable is), else None."""
    if not getattr(sys, "frozen", False):
        return None
    return Path(sys.executable).resolve().parent


@dataclass(frozen=True)
class IntegrityStatus:
    """The outcome of the start-up check, in the terms the GUI and `serve` act on."""

    state: State
    message: str
    report: VerifyReport | None = None

    @property
    def verified(self) -> bool:
        return self.state == "verified"

    @property
    def warning(self) -> str | None:
        """What the GUI shows in its warning banner, or None when there is nothing to say."""
        return self.message if self.state == "failed" else None

    def allows_proxy(self, *, required: bool) -> bool:
        """A managed machine (``integrity.required``) only runs a verified bundle's proxy."""
        return self.verified or not required


def check_integrity(root: Path | None = None, *, public_key: str | None = None) -> IntegrityStatus:
    """Verify the running bundle (or ``root``) against its signed manifest.

    From a source checkout there is nothing to verify: the state is ``not_packaged``.
    """
    if root is None:
        root = bundle_root()
        if root is None:
            return IntegrityStatus("not_packaged", NOT_PACKAGED)
    key = _pubkey.RELEASE_PUBLIC_KEY if public_key is None else public_key
    try:
        report = verify_folder(root, key)
    except BridgeError as exc:
        return IntegrityStatus("failed", f"Integrity check failed: {exc.message}")
    if report.ok:
        return IntegrityStatus("verified", report.summary(), report)
    names = report.lines()
    shown = "; ".join(names[:5]) + (f"; and {len(names) - 5} more" if len(names) > 5 else "")
    message = "This app's files do not match what was built. " + report.summary()
    if shown:
        message += f" ({shown})"
    return IntegrityStatus("failed", message, report)


class _Settings(Protocol):
    def get(self, key: str, default: object = None) -> object: ...


class IntegrityService:
    """The start-up integrity check, run once per process and shared by the GUI and serve.

    Hashing a full bundle reads a few hundred MB: call :meth:`check_at_start` off the UI
    thread; later calls return the same result.
    """

    def __init__(
        self,
        *,
        settings: _Settings | None = None,
        root: Path | None = None,
        public_key: str | None = None,
        on_failed: Callable[[str], None] | None = None,
    ) -> None:
        self._settings = settings
        self._on_failed = on_failed  # the audit log: IT's alerts and collectors see it
        self._root = root
        self._public_key = public_key
        self._lock = threading.Lock()
        self._status: IntegrityStatus | None = None

    def required(self) -> bool:
        """The managed setting: refuse to start the proxy unless the bundle verified."""
        if self._settings is None:
            return False
        return bool(self._settings.get(REQUIRED_SETTING, False))

    def check_at_start(self) -> IntegrityStatus:
        with self._lock:
            if self._status is None:
                self._status = check_integrity(self._root, public_key=self._public_key)
                if self._status.state == "failed":
                    log.warning("integrity check failed: %s", self._status.message)
                    if self._on_failed is not None:
                        try:
                            self._on_failed(self._status.message)
                        except Exception:
                            log.exception("could not record the failed integrity check")
                else:
                    log.info("integrity: %s", self._status.message)
            return self._status

    def ensure_proxy_may_start(self) -> IntegrityStatus:
        """Raise a BridgeError when policy requires a verified bundle and this is not one."""
        status = self.check_at_start()
        if not status.allows_proxy(required=self.required()):
            raise BridgeError(
                "The proxy was not started: this machine's policy requires a verified "
                f"build, and {status.message[0].lower()}{status.message[1:]}",
                hint="Reinstall LiteLLM Bridge from your IT department's release, then run "
                "`litellm-bridge verify` to see which files differ.",
            )
        return status
