"""The embedded LiteLLM proxy: supervisor thread, watchdog, health, log capture, metrics,
request hooks. Importing this package does not import LiteLLM (that takes seconds);
``ProxySupervisor.warm_up`` / ``start`` do."""

from bridge_app.proxy._config import (
    DEMO_CONFIG,
    ConfigError,
    active_config_path,
    ensure_active_config,
    load_config,
    referenced_env_names,
)
from bridge_app.proxy._environment import EnvironmentApplier, EnvironmentProvider
from bridge_app.proxy._errors import ProxyStartError
from bridge_app.proxy._exposure import (
    ExposureRefusedError,
    check_bind_host,
    exposed_addresses,
    is_loopback_host,
    url_for,
)
from bridge_app.proxy._gate import presented_key, route_access
from bridge_app.proxy._keys import (
    MASTER_KEY_ENV,
    MASTER_KEY_KIND,
    KeyIdentity,
    KeyRegistry,
    MasterKeyStore,
    new_proxy_key,
)
from bridge_app.proxy._logs import PROXY_LOG_NAME, LogCapture, LogLine
from bridge_app.proxy._metrics import ProxyMetrics, RequestSample
from bridge_app.proxy._service import ProxyService
from bridge_app.proxy._state import ProxyState, ProxyStatus, RestartRecord, StateObserver
from bridge_app.proxy._status_file import (
    STATUS_FILE,
    StatusPublisher,
    read_status,
    unclean_shutdown,
    write_status,
)
from bridge_app.proxy._supervisor import EventHook, ProxySupervisor
from bridge_app.proxy._usage import UsageWriter
from bridge_app.proxy._watchdog import WatchdogPolicy

__all__ = [
    "DEMO_CONFIG",
    "MASTER_KEY_ENV",
    "MASTER_KEY_KIND",
    "PROXY_LOG_NAME",
    "STATUS_FILE",
    "ConfigError",
    "EnvironmentApplier",
    "EnvironmentProvider",
    "EventHook",
    "ExposureRefusedError",
    "KeyIdentity",
    "KeyRegistry",
    "LogCapture",
    "LogLine",
    "MasterKeyStore",
    "ProxyMetrics",
    "ProxyService",
    "ProxyStartError",
    "ProxyState",
    "ProxyStatus",
    "ProxySupervisor",
    "RequestSample",
    "RestartRecord",
    "StateObserver",
    "StatusPublisher",
    "UsageWriter",
    "WatchdogPolicy",
    "active_config_path",
    "check_bind_host",
    "ensure_active_config",
    "exposed_addresses",
    "is_loopback_host",
    "load_config",
    "new_proxy_key",
    "presented_key",
    "read_status",
    "referenced_env_names",
    "route_access",
    "unclean_shutdown",
    "url_for",
    "write_status",
]
