"""ProxySupervisor: start, stop, restart and watch the embedded LiteLLM proxy."""

from __future__ import annotations

import importlib
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from bridge_app.proxy._config import prepare_run_config
from bridge_app.proxy._environment import EnvironmentApplier, EnvironmentProvider
from bridge_app.proxy._errors import ProxyStartError, bind_error
from bridge_app.proxy._exposure import url_for
from bridge_app.proxy._gate import InFlightLimit
from bridge_app.proxy._keys import MASTER_KEY_ENV, KeyRegistry
from bridge_app.proxy._listener import Listener
from bridge_app.proxy._logs import LogCapture
from bridge_app.proxy._metrics import ProxyMetrics, RequestSample
from bridge_app.proxy._readiness import wait_ready
from bridge_app.proxy._recovery import _RUNNING, WatchedSide
from bridge_app.proxy._state import (
    ProxyState,
    ProxyStatus,
    StateMachine,
    StateObserver,
)
from bridge_app.proxy._watchdog import Watchdog, WatchdogPolicy
from bridge_app.runtime import BridgeError, Redactor, collector_paused, resource_path

if TYPE_CHECKING:
    from bridge_app.proxy._hooks import BridgeCallbacks, RequestHook
    from bridge_app.proxy._server import ServerThread

log = logging.getLogger("bridge_app.proxy.supervisor")

#: A planned restart first lets open keep-alive connections close (at most this long).
DRAIN_S = 1.0

EventHook = Callable[[str, str], None]  # (action, detail): the audit log's entry point


class ProxySupervisor(WatchedSide):
    """Owns the one proxy server thread of this process, its watchdog and its state.

    Every method may be called from any thread; observers are called on the thread that
    changed the state. Nothing here imports LiteLLM until ``warm_up`` or ``start``.
    """

    def __init__(
        self,
        *,
        config: Path | Callable[[], Path],
        master_key: str,
        redactor: Redactor,
        keys: KeyRegistry | None = None,
        environment: EnvironmentProvider | None = None,
        host: str = "127.0.0.1",
        port: int = 4000,
        metrics: ProxyMetrics | None = None,
        usage_sink: Callable[[RequestSample], None] | None = None,
        on_event: EventHook | None = None,
        policy: WatchdogPolicy | None = None,
        ready_timeout_s: float = 30.0,
        stop_timeout_s: float = 3.0,
        logs: LogCapture | None = None,
        rehearse: bool = True,
        bind_check: Callable[[str], None] | None = None,
        allowed_modules: Callable[[], Iterable[str]] = tuple,
        run_dir: Path | None = None,
    ) -> None:
        self._config = config
        self._redactor = redactor
        self._master_key = master_key
        self.keys = keys or KeyRegistry(redactor=redactor)
        self.keys.set_master_key(master_key)
        self._environment = environment or dict
        self._env = EnvironmentApplier(redactor=redactor)
        self.host = host
        self.port = port
        self.metrics = metrics or ProxyMetrics()
        self._usage_sink = usage_sink
        self._on_event = on_event
        self.policy = policy or WatchdogPolicy()
        self.ready_timeout_s = ready_timeout_s
        self.stop_timeout_s = stop_timeout_s
        self.logs = logs
        self._rehearse = rehearse  # warm-up also runs one throwaway start (see _server)
        # Asked at every (re)start: may the proxy listen on self.host? (see _exposure)
        self._bind_check = bind_check
        # Asked at every (re)start: the modules an admin allowed configs to name. The config
        # with its includes and the environment LiteLLM will see are checked against it.
        self._allowed_modules = allowed_modules
        # Where the config LiteLLM reads is written (see write_run_copy): the app's own
        # config folder; a private temporary folder for a config given directly (a
        # shipped template, read-only in an installed bundle).
        self._run_dir = run_dir
        self._sm = StateMachine()
        self._op_lock = threading.RLock()
        self._server: ServerThread | None = None
        self._started_at: float | None = None
        self._config_path: Path | None = None
        self._hooks: list[RequestHook] = []
        self._admission_hooks: list[RequestHook] = []
        # Requests in flight per person and tool (the policy's concurrent_requests).
        self.in_flight: InFlightLimit | None = None
        self._start_hooks: list[Callable[[], None]] = []
        self._callbacks: BridgeCallbacks | None = None
        self._warm: threading.Thread | None = None
        self._warm_lock = threading.Lock()
        self._warm_error: BaseException | None = None
        self._watchdog = Watchdog(self, self.policy)
        self._listener: Listener | None = None  # kept across watchdog restarts
        self._http_probe: tuple[threading.Thread, list[str | None]] | None = None
        self._http_due = 0.0
        self.timings: dict[str, float] = {}

    # -- public API ----------------------------------------------------------------------

    @property
    def state(self) -> ProxyState:
        return self._sm.state

    @property
    def url(self) -> str:
        return url_for(self.host, self.port)

    def subscribe(self, observer: StateObserver) -> Callable[[], None]:
        """``observer(old, new, error)`` on every state change; returns an unsubscribe."""
        return self._sm.subscribe(observer)

    def add_request_hook(self, hook: RequestHook) -> None:
        """Run ``hook(data, context)`` on every request body before it goes upstream."""
        self._hooks.append(hook)

    def remove_request_hook(self, hook: RequestHook) -> None:
        if hook in self._hooks:
            self._hooks.remove(hook)

    def add_admission_hook(self, hook: RequestHook) -> None:
        """Run ``hook(body, context)`` on each request as the client sent it, before any
        routing; a BridgeError refuses the request (with its ``http_status``, default 503)."""
        self._admission_hooks.append(hook)

    def limit_in_flight(self, limit: InFlightLimit) -> None:
        """Ask ``limit`` before each inference request reaches LiteLLM (the route gate),
        and tell it when the response is complete: concurrency limits on every wire
        format, streaming included. Takes effect at the next (re)start."""
        self.in_flight = limit

    def on_start(self, callback: Callable[[], None]) -> None:
        """Run ``callback()`` before every (re)start, e.g. to re-read the active config."""
        self._start_hooks.append(callback)

    def warm_up(self) -> None:
        """Import LiteLLM in the background (seconds) so that Start is quick later."""
        # Its own lock, not the operations lock: Start holds that while it waits for
        # this import, and the window calls warm_up on its UI thread (a tap on Start
        # just after the login froze the window until the proxy was up).
        with self._warm_lock:
            if self._warm is None:
                self._warm = threading.Thread(
                    target=self._import_server, name="bridge-proxy-warmup", daemon=True
                )
                self._warm.start()

    def start(self) -> None:
        """Start and wait until /health/readiness answers; ProxyStartError says why not."""
        with self._op_lock:
            if self.state in _RUNNING or self.state == ProxyState.RESTARTING:
                return
            self._sm.clear_error()
            self._sm.move(ProxyState.STARTING)
            self._start_locked(keep_port=False)
        self._watchdog.start()

    def _start_locked(self, *, keep_port: bool) -> None:
        try:
            self._launch()
        except Exception as exc:
            message = exc.message if isinstance(exc, BridgeError) else f"bug: {exc!r}"
            self._env.clear()
            if keep_port and self._listener is not None:
                # A planned restart failed: the port stays ours and says why (503), and
                # the next change that fixes it starts the proxy again (holds_port).
                self._listener.answer_unavailable(self._redactor.redact(message))
            else:
                self._close_listener()
            self._sm.move(ProxyState.FAILED, error=message)
            self._event("proxy.start_failed", message)
            raise
        self._sm.running()  # degraded again if e.g. there is still no internal token
        self._event("proxy.started", f"{self.url} config={self._config_path}")

    def stop(self) -> None:
        """Stop within bounded time; a server that will not stop is abandoned."""
        self._watchdog.stop()
        with self._op_lock:
            self._teardown()
            self._close_listener()
            self._env.clear()
            if self.state != ProxyState.STOPPED:
                self._sm.move(ProxyState.STOPPED)
                self._event("proxy.stopped", self.url)

    @property
    def holds_port(self) -> bool:
        """Running, or failed after a planned restart and still answering 503 on its port
        (waiting for a change that fixes the config or the environment)."""
        return self._listener is not None

    def restart(self, reason: str = "requested") -> None:
        """A planned restart (a config applied, entries changed): the port stays bound and
        new connections get 503 + Retry-After meanwhile. When the new start fails, the
        proxy is `failed` but keeps its port, answering 503 with the reason."""
        self._event("proxy.restart", reason)
        self._watchdog.stop()
        with self._op_lock:
            if self._listener is None:  # not serving: a plain start
                self._sm.clear_error()
                self._sm.move(ProxyState.STARTING)
                self._start_locked(keep_port=False)
            else:
                # New connections get 503 + Retry-After from here on; the running server
                # stops accepting and finishes what it has (Connection: close).
                self._listener.answer_restarting()
                if self._server is not None:
                    self._server.drain(DRAIN_S)
                self._teardown()
                self._env.clear()
                self._sm.clear_error()
                after_failure = self.state == ProxyState.FAILED
                self._sm.move(ProxyState.STARTING if after_failure else ProxyState.RESTARTING)
                self._start_locked(keep_port=True)
        self._watchdog.start()

    def status(self) -> ProxyStatus:
        server = self._server
        running = self.state in _RUNNING
        started = self._started_at if running else None
        connections = 0
        if server is not None and running:
            from bridge_app.proxy._server import open_connections

            connections = open_connections(server.server)
        return ProxyStatus(
            state=self.state,
            host=self.host,
            port=self.port,
            ready=running,
            pid=os.getpid(),
            started_at=started,
            uptime_s=round(time.time() - started, 1) if started else None,
            restarts=self._sm.restart_count,
            last_error=self._sm.last_error,
            config_path=str(self._config_path) if self._config_path else None,
            recent_restarts=self._sm.restarts(),
            metrics=self.metrics.snapshot(open_connections=connections),
        )

    # -- internals ---------------------------------------------------------------------------

    def _event(self, action: str, detail: str) -> None:
        if self._on_event is not None:
            try:
                self._on_event(action, self._redactor.redact(detail))
            except Exception:
                log.exception("the proxy event hook failed for %s", action)

    def _import_server(self) -> None:
        t0 = time.perf_counter()
        try:
            # Without the pause, full collections over the objects the import makes held
            # the interpreter lock for up to 0.4 s at a time (frozen window; runtime/_gc.py).
            with collector_paused():
                importlib.import_module("bridge_app.proxy._server")
                importlib.import_module("bridge_app.proxy._hooks")
                demo = importlib.import_module("bridge_app.proxy._demo")
                demo.register_demo_provider()
            if self.logs is not None:
                self.logs.sweep()
            if self._rehearse:
                server = importlib.import_module("bridge_app.proxy._server")
                demo_config = str(resource_path("configs", "demo.yaml"))
                server.rehearse(demo_config, MASTER_KEY_ENV, self._master_key)
        except BaseException as exc:
            self._warm_error = exc
            log.exception("importing LiteLLM failed")
        self.timings["import_s"] = time.perf_counter() - t0

    def _server_module(self) -> ModuleType:
        if self._warm is None:
            self._rehearse = False  # Start is already waiting: a rehearsal only adds to it
        self.warm_up()
        assert self._warm is not None
        self._warm.join()
        if self._warm_error is not None:
            raise ProxyStartError(
                f"LiteLLM could not be loaded: {self._warm_error!r}.",
                hint="The installation is incomplete: reinstall LiteLLM Bridge.",
            )
        return importlib.import_module("bridge_app.proxy._server")

    def _launch(self) -> None:
        """Start the server (Start, a restart, the watchdog's recovery). No full collections
        meanwhile, and no freeze: a start repeats, and the previous server's garbage must
        stay collectable (runtime/_gc.py)."""
        with collector_paused(freeze=False):
            self._launch_server()

    def _launch_server(self) -> None:
        if self._bind_check is not None:
            self._bind_check(self.host)
        # The import (or waiting for warm_up's) can take longer than the whole readiness
        # budget on a busy machine: the budget starts once LiteLLM is loaded.
        server_mod = self._server_module()
        t0 = time.perf_counter()
        path = self._config() if callable(self._config) else self._config
        values = dict(self._environment())
        preview = self._env.preview({**values, MASTER_KEY_ENV: "set"})
        data, run_file = prepare_run_config(
            path,
            entries=values,
            environment=preview,
            allowed_modules=self._allowed_modules(),
            run_dir=self._run_dir,
        )
        for callback in list(self._start_hooks):
            callback()
        if self._listener is None:
            try:
                self._listener = Listener(self.host, self.port)
            except OSError as exc:
                raise bind_error(exc, self.host, self.port) from None
        server = server_mod.ServerThread(
            host=self.host,
            port=self.port,
            after_startup=self._after_startup,
            keys=self.keys,
            metrics=self.metrics,
            listener=self._listener,
            in_flight=self.in_flight,
        )
        # Checks passed: from here on the process environment changes.
        self._env.apply(values)
        os.environ[MASTER_KEY_ENV] = self._master_key
        os.environ["DISABLE_ADMIN_UI"] = "True"
        os.environ["CONFIG_FILE_PATH"] = str(run_file)
        server_mod.remember_litellm_settings(data.get("litellm_settings"))
        server_mod.reset_proxy_globals()
        server_mod.remove_admin_ui()
        self._config_path = path
        self._server = server
        self.port = server.port
        server.start()
        try:
            self._wait_started(server, path)
            # uvicorn accepts from here on: the stand-in stops answering 503.
            self._listener.serve_again()
            wait_ready(self.url, deadline=t0 + self.ready_timeout_s)
        except BridgeError:
            self._teardown()
            raise
        finally:
            # LiteLLM has read it; tools the app launches must not inherit it.
            os.environ.pop(MASTER_KEY_ENV, None)
        self._started_at = time.time()
        self.timings["start_to_ready_s"] = time.perf_counter() - t0

    def _wait_started(self, server: ServerThread, path: Path) -> None:
        deadline = time.monotonic() + self.ready_timeout_s
        while not server.started:
            if not server.alive():
                cause = server.startup_error or server.crash
                detail = f" {server.refusal.strip().splitlines()[0]}" if server.refusal else ""
                raise ProxyStartError(
                    f"The proxy could not start with the config {path}: {cause}.{detail}",
                    hint="Fix the config (see `litellm-bridge logs` for details).",
                )
            if time.monotonic() > deadline:
                raise ProxyStartError(
                    f"The proxy did not start within {self.ready_timeout_s:g} s.",
                    hint="See `litellm-bridge logs` for what it was doing.",
                )
            time.sleep(0.01)

    def _after_startup(self) -> None:
        # Runs on the proxy thread after LiteLLM loaded the config and before the first
        # request is accepted: our key check and callbacks, whatever the YAML says.
        import litellm
        import litellm.proxy.proxy_server as ps

        from bridge_app.proxy._hooks import BridgeCallbacks, make_auth

        if self._callbacks is None:
            self._callbacks = BridgeCallbacks(metrics=self.metrics, sink=self._usage_sink)
        self._callbacks.hooks = self._hooks  # the same list: hooks added later apply too
        self._callbacks.admission_hooks = self._admission_hooks
        ps.user_custom_auth = make_auth(self.keys, self.metrics)  # type: ignore[assignment]
        # A previous supervisor of this process (stopped) left its callbacks in LiteLLM's
        # global lists; LiteLLM would keep feeding them (and their closed stores) instead.
        for name in ("callbacks", "_async_success_callback", "_async_failure_callback"):
            items = getattr(litellm, name)
            items[:] = [
                cb for cb in items if not isinstance(cb, BridgeCallbacks) or cb is self._callbacks
            ]
        if self._callbacks not in litellm.callbacks:
            litellm.callbacks.append(self._callbacks)
        if self.logs is not None:
            self.logs.sweep()

    def _close_listener(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()

    def _teardown(self, *, abandon: bool = False) -> None:
        server, self._server = self._server, None
        self._started_at = None
        if server is None:
            return
        t0 = time.perf_counter()
        if abandon:
            server.abandon()
            ended = False
        else:
            ended = server.stop(graceful=self.stop_timeout_s, forced=self.stop_timeout_s / 2)
        self.timings["stop_s"] = time.perf_counter() - t0
        if not ended:
            log.error("the previous proxy thread did not end; it was abandoned")

    def debug_server(self) -> Any:
        """The live ServerThread (tests inject faults through it)."""
        return self._server
