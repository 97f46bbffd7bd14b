"""Process-wide plumbing every other sub-package relies on: paths, resources, errors,
locks, logging and secret redaction."""

from bridge_app.runtime._errors import BridgeError
from bridge_app.runtime._faults import fault_point
from bridge_app.runtime._files import atomic_write
from bridge_app.runtime._lock import InstanceLock, InstanceLockedError
from bridge_app.runtime._logging import configure_logging
from bridge_app.runtime._paths import ACTIVE_CONFIG_FILENAME, HOME_ENV, AppPaths
from bridge_app.runtime._redact import MASK, RedactingFilter, Redactor, mask_secret
from bridge_app.runtime._resources import RESOURCE_KINDS, resource_path

__all__ = [
    "ACTIVE_CONFIG_FILENAME",
    "HOME_ENV",
    "MASK",
    "RESOURCE_KINDS",
    "AppPaths",
    "BridgeError",
    "InstanceLock",
    "InstanceLockedError",
    "RedactingFilter",
    "Redactor",
    "atomic_write",
    "configure_logging",
    "fault_point",
    "mask_secret",
    "resource_path",
]
