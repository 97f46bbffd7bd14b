"""Live everywhere: what another process changed reaches this running instance.

Every change commits with its topic's counter (Database.changed); ChangeFeed notices the
counter move within half a second, and LiveSync applies the change here:

- token, project: re-reads the person's token and project; the next request carries them.
- env: restarts its proxy (bounded graceful stop) if the entries it runs with changed.
- config: restarts its proxy with the new active config; rolls back here if it fails.
- tools: reloads the per-tool keys the proxy accepts.
- users: ends the session of a person who was disabled, deleted or reset.
- settings: tells the window (theme, idle lock...).
- policy: the policy service reloads what is in force (bridge_app.policy.PolicyWatcher).

Proxy restarts run on one worker thread, never on the feed's, so the feed keeps polling.
"""

from __future__ import annotations

import hashlib
import json
import logging
import queue
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from bridge_app.auth import AuthError
from bridge_app.proxy import ProxyState, ProxySupervisor
from bridge_app.services._wiring import ProxyRestarter
from bridge_app.store import ChangeFeed, Topic

if TYPE_CHECKING:
    from bridge_app.services._root import Services

log = logging.getLogger(__name__)


class LiveSync:
    def __init__(self, services: Services) -> None:
        self._services = services
        self.feed: ChangeFeed = services.changes
        self._running_config: bytes | None = None
        self._running_env: str | None = None
        self._jobs: queue.Queue[Callable[[], None] | None] = queue.Queue()
        self._worker: threading.Thread | None = None
        self._started = False
        services.proxy.on_supervisor(self._attach)

    def on(self, topic: Topic, callback: Callable[[], None]) -> None:
        """``callback()`` (on the feed's thread) after ``topic`` changed anywhere."""
        self.feed.subscribe(topic, lambda _t: callback())

    def start(self) -> None:
        """For long-running instances (the window, `serve`); one-off commands skip it."""
        if self._started:
            return
        self._started = True
        feed = self.feed
        feed.subscribe(Topic.TOKEN, self._token_changed)
        feed.subscribe(Topic.PROJECT, self._token_changed)
        feed.subscribe(Topic.ENV, lambda _t: self._submit(self._env_changed))
        feed.subscribe(Topic.CONFIG, lambda _t: self._submit(self._config_changed))
        feed.subscribe(Topic.TOOLS, self._tools_changed)
        feed.subscribe(Topic.USERS, self._users_changed)
        self._worker = threading.Thread(target=self._work, name="live-sync", daemon=True)
        self._worker.start()
        feed.start()
        # The machine-wide policy file (watched) and the policy topic (through the feed).
        self._services.policy_watcher.start()
        self._services.usage.start_pruning()
        # Audit events to the company's collectors (one instance per data folder sends).
        self._services.forwarder.start()

    def stop(self) -> None:
        if not self._started:
            return
        self._started = False
        self._services.forwarder.stop()
        self._services.policy_watcher.stop()
        self.feed.stop()
        self._jobs.put(None)
        if self._worker is not None:
            self._worker.join(timeout=30)

    # -- what the running proxy started with -------------------------------------------

    def _attach(self, supervisor: ProxySupervisor) -> None:
        def started() -> None:
            # Runs before each (re)start: what it reads now is what the proxy runs with.
            self._running_config = self._read_config()
            self._running_env = self._env_fingerprint()

        supervisor.on_start(started)

    def _read_config(self) -> bytes | None:
        try:
            return self._services.config.active_path.read_bytes()
        except OSError:
            return None

    def _env_fingerprint(self) -> str:
        env = self._services.env.effective_environment(self._services.core.session)
        return hashlib.sha256(json.dumps(env, sort_keys=True).encode()).hexdigest()

    def _proxy_running(self) -> ProxySupervisor | None:
        proxy = self._services.proxy
        if not proxy.has_supervisor():
            return None
        supervisor = proxy.supervisor()
        if supervisor.state in (ProxyState.RUNNING, ProxyState.DEGRADED):
            return supervisor
        if supervisor.state == ProxyState.FAILED and supervisor.holds_port:
            return supervisor  # failed after a change, waiting for the one that fixes it
        return None

    # -- reactions ---------------------------------------------------------------------

    def _token_changed(self, _topic: str) -> None:
        session = self._services.core.session
        if session is not None:
            self._services.tokens.activate(session)

    def _tools_changed(self, _topic: str) -> None:
        self._services.tools.load_keys()

    def _users_changed(self, _topic: str) -> None:
        core = self._services.core
        session = core.session
        if session is None:
            return
        try:
            self._services.auth.guard.require(session, allow_must_change=True)
        except AuthError as exc:
            log.warning("the session of %s ended: %s", session.username, exc.message)
            core.use_session(None)

    def _env_changed(self) -> None:
        supervisor = self._proxy_running()
        if supervisor is None or self._env_fingerprint() == self._running_env:
            return
        log.info("environment entries changed: restarting the proxy with them")
        try:
            supervisor.restart(reason="environment entries changed")
        except Exception:
            log.exception("the proxy did not restart with the changed environment")

    def _config_changed(self) -> None:
        supervisor = self._proxy_running()
        if supervisor is None:
            return
        restarter = ProxyRestarter(self._services.proxy)
        outcome = self._services.config.follow(restarter, self._running_config)
        if outcome:
            log.info("config changed in another process: %s", outcome)

    def _submit(self, job: Callable[[], None]) -> None:
        self._jobs.put(job)

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            try:
                job()
            except Exception:
                log.exception("a live change could not be applied")
