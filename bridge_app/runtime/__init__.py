"""Process-wide plumbing every other sub-package relies on: paths, resources, errors,
locks, logging and secret redaction."""

import sys
from typing import Any

from bridge_app.runtime._autostart import (
    LoginEntry,
    launch_command,
    read_login_entry,
    write_login_entry,
)
from bridge_app.runtime._clipboard import copy_secret_windows
from bridge_app.runtime._errors import BridgeError
from bridge_app.runtime._faults import fault_point
from bridge_app.runtime._files import atomic_write, replace_with_retry
from bridge_app.runtime._gc import collector_paused, pause_collector
from bridge_app.runtime._lock import InstanceLock, InstanceLockedError
from bridge_app.runtime._logging import SharedRotatingFileHandler, configure_logging
from bridge_app.runtime._network import (
    PROXY_ENTRY_NAMES,
    ProxyChoice,
    ProxyRules,
    is_loopback,
    litellm_environment,
    mask_proxy,
)
from bridge_app.runtime._observers import Observers
from bridge_app.runtime._paths import ACTIVE_CONFIG_FILENAME, HOME_ENV, AppPaths
from bridge_app.runtime._process import (
    Captured,
    StopRequest,
    forward_stop,
    pid_alive,
    run_captured,
    stdin_is_terminal,
)
from bridge_app.runtime._protect import SecretProtector, os_protector
from bridge_app.runtime._protected_env import protected_reason
from bridge_app.runtime._proxy_settings import setting_problem
from bridge_app.runtime._redact import MASK, RedactingFilter, Redactor, mask_secret
from bridge_app.runtime._resources import RESOURCE_KINDS, resource_path
from bridge_app.runtime._threads import thread_cpu_time, thread_wait_time
from bridge_app.runtime._ticker import Ticker
from bridge_app.runtime._trust import (
    TlsVerdict,
    check_tls,
    os_trust_in_use,
    trust_context,
    trust_store_description,
    use_os_trust_store,
)
from bridge_app.runtime._volumes import network_filesystem


def win32_user32() -> Any:
    """user32 with the window functions declared (Windows only)."""
    if sys.platform == "win32":
        from bridge_app.runtime._win32 import user32

        return user32
    raise OSError("user32 exists only on Windows")


__all__ = [
    "ACTIVE_CONFIG_FILENAME",
    "HOME_ENV",
    "MASK",
    "PROXY_ENTRY_NAMES",
    "RESOURCE_KINDS",
    "AppPaths",
    "BridgeError",
    "Captured",
    "InstanceLock",
    "InstanceLockedError",
    "LoginEntry",
    "Observers",
    "ProxyChoice",
    "ProxyRules",
    "RedactingFilter",
    "Redactor",
    "SecretProtector",
    "SharedRotatingFileHandler",
    "StopRequest",
    "Ticker",
    "TlsVerdict",
    "atomic_write",
    "check_tls",
    "collector_paused",
    "configure_logging",
    "copy_secret_windows",
    "fault_point",
    "forward_stop",
    "is_loopback",
    "launch_command",
    "litellm_environment",
    "mask_proxy",
    "mask_secret",
    "network_filesystem",
    "os_protector",
    "os_trust_in_use",
    "pause_collector",
    "pid_alive",
    "protected_reason",
    "read_login_entry",
    "replace_with_retry",
    "resource_path",
    "run_captured",
    "setting_problem",
    "stdin_is_terminal",
    "thread_cpu_time",
    "thread_wait_time",
    "trust_context",
    "trust_store_description",
    "use_os_trust_store",
    "win32_user32",
    "write_login_entry",
]
