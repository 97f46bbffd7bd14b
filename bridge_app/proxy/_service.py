"""ProxyService: the proxy as the composition root hands it to the CLI and the GUI."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path

from bridge_app.config import read_allowed_modules
from bridge_app.proxy._config import ensure_active_config, run_copy_path
from bridge_app.proxy._environment import EnvironmentProvider
from bridge_app.proxy._exposure import ALLOW_SETTING, check_bind_host
from bridge_app.proxy._keys import KeyRegistry, MasterKeyStore
from bridge_app.proxy._logs import LogCapture
from bridge_app.proxy._metrics import ProxyMetrics
from bridge_app.proxy._routing import router_view
from bridge_app.proxy._state import ProxyStatus
from bridge_app.proxy._status_file import (
    STATUS_FILE,
    StatusPublisher,
    read_status,
    unclean_shutdown,
)
from bridge_app.proxy._supervisor import EventHook, ProxySupervisor
from bridge_app.proxy._usage import UsageWriter
from bridge_app.proxy._watchdog import WatchdogPolicy
from bridge_app.runtime import AppPaths, Redactor
from bridge_app.settings import SettingsService
from bridge_app.store import Database

log = logging.getLogger(__name__)


class ProxyService:
    """Builds the one supervisor of this process on first use (cheap: LiteLLM is only
    imported by ``warm_up``/``start``), and reads what another process published."""

    def __init__(
        self,
        *,
        paths: AppPaths,
        db: Database,
        db_key: bytes,
        redactor: Redactor,
        settings: SettingsService,
        environment: EnvironmentProvider | None = None,
        on_event: EventHook | None = None,
        config: Callable[[], Path] | None = None,
    ) -> None:
        self._paths = paths
        self._db = db
        self._redactor = redactor
        self._settings = settings
        self.environment = environment
        self.on_event = on_event
        self._config = config
        self._master = MasterKeyStore(db=db, db_key=db_key, redactor=redactor)
        self._lock = threading.Lock()
        self._supervisor: ProxySupervisor | None = None
        self._publisher: StatusPublisher | None = None
        self.keys = KeyRegistry(redactor=redactor)
        self.logs = LogCapture(log_dir=paths.log_dir, redactor=redactor)
        self.usage = UsageWriter(db=db)
        self._on_supervisor: list[Callable[[ProxySupervisor], None]] = []
        self.unclean_shutdown: str | None = None  # found when this run's supervisor began
        self._environment_layers: list[Callable[[dict[str, str]], Mapping[str, str]]] = []
        # Who the proxy serves, published with its status (set by the wiring: the policy's
        # subject).
        self.served_user: Callable[[], str | None] = lambda: None

    def add_environment_layer(self, layer: Callable[[dict[str, str]], Mapping[str, str]]) -> None:
        """``layer(environment)`` returns variables to add on top of what the proxy sees at
        its next start (e.g. a CA bundle that also trusts the remote gateways' CAs)."""
        self._environment_layers.append(layer)

    def on_supervisor(self, callback: Callable[[ProxySupervisor], None]) -> None:
        """Call ``callback(supervisor)`` once the supervisor exists (hooks are attached
        there: token injection, start hooks)."""
        self._on_supervisor.append(callback)
        if self._supervisor is not None:
            callback(self._supervisor)

    @property
    def status_file(self) -> Path:
        return self._paths.data_dir / STATUS_FILE

    @property
    def log_file(self) -> Path:
        return self.logs.file

    def master_key(self) -> str:
        """The proxy key the tools must send; generated on first use."""
        return self._master.get_or_create()

    def active_config(self) -> Path:
        return self._config() if self._config is not None else ensure_active_config(self._paths)

    def running_config(self) -> Path:
        """What LiteLLM reads at the next (re)start: the active config with its includes
        merged, written by the start after its checks."""
        return run_copy_path(self.active_config(), self._paths.proxy_config_dir)

    def supervisor(
        self,
        *,
        host: str | None = None,
        port: int | None = None,
        policy: WatchdogPolicy | None = None,
    ) -> ProxySupervisor:
        with self._lock:
            if self._supervisor is None:
                self.logs.attach()
                self.usage.start()
                self._supervisor = ProxySupervisor(
                    config=self.active_config,
                    master_key=self.master_key(),
                    redactor=self._redactor,
                    keys=self.keys,
                    # Late-bound: a login after the supervisor exists changes what the
                    # next start sees.
                    environment=self._current_environment,
                    host=host or str(self._settings.get("proxy.host")),
                    port=int(port if port is not None else self._settings.get("proxy.port")),
                    usage_sink=self.usage.submit,
                    # Each deployment's state (cooling down, last error) comes from the
                    # router; error texts pass the redactor (upstreams echo credentials).
                    metrics=ProxyMetrics(
                        routing=router_view(self._redactor.redact),
                        redact=self._redactor.redact,
                    ),
                    on_event=self.on_event,
                    policy=policy,
                    logs=self.logs,
                    bind_check=self.check_host,
                    allowed_modules=lambda: read_allowed_modules(self._settings),
                    run_dir=self._paths.proxy_config_dir,
                )
                for callback in self._on_supervisor:
                    callback(self._supervisor)
                # Before this run overwrites it: did the previous one end without saying so?
                self.unclean_shutdown = unclean_shutdown(self.status_file)
                if self.unclean_shutdown is not None:
                    log.warning("unclean shutdown detected: %s", self.unclean_shutdown)
                    if self.on_event is not None:
                        self.on_event("proxy.unclean_shutdown", self.unclean_shutdown)
                # Other processes (`litellm-bridge status`) read what this one publishes.
                supervisor = self._supervisor
                self._publisher = StatusPublisher(
                    self.status_file,
                    lambda: replace(supervisor.status(), served_user=self.served_user()),
                    subscribe=supervisor.subscribe,
                )
                self._publisher.start()
            return self._supervisor

    def check_host(self, host: str) -> None:
        """Refuse a non-loopback address unless an admin allowed it (read at every start,
        so turning the setting off takes effect at the next start or restart)."""
        check_bind_host(host, allowed=self._settings.get(ALLOW_SETTING) is True)

    def _current_environment(self) -> dict[str, str]:
        env = dict(self.environment()) if self.environment is not None else {}
        for layer in self._environment_layers:
            env.update(layer(env))
        return env

    def has_supervisor(self) -> bool:
        """Whether this process runs (or ran) the proxy, as opposed to reading a `serve`'s."""
        return self._supervisor is not None

    def status(self) -> ProxyStatus:
        """This process's proxy if it has one, else what a `serve` process published."""
        if self._supervisor is not None:
            return self._supervisor.status()
        return read_status(
            self.status_file,
            host=str(self._settings.get("proxy.host")),
            port=int(self._settings.get("proxy.port")),
        )

    def close(self) -> None:
        """Stop the proxy (if any), publish `stopped`, flush usage rows. Idempotent."""
        if self._supervisor is not None:
            self._supervisor.stop()
        if self._publisher is not None:
            self._publisher.stop()
            self._publisher = None
        self.usage.stop()
        self.logs.detach()
