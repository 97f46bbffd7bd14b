from __future__ import annotations

import logging
import re
import time
from collections import deque
from typing import Any

from kivy.clock import Clock
from kivy.properties import BooleanProperty, ListProperty, StringProperty

from bridge_app.services import (
    ProxyState,
    ProxyStatus,
    RoutingView,
    TokenStatus,
    exposed_addresses,
    is_loopback_host,
    url_for,
)
from bridge_app.ui import strings as S
from bridge_app.ui._async import describe_error, on_ui, run_async
from bridge_app.ui._base import BridgeScreen, wrapped_label
from bridge_app.ui._context import UiContext
from bridge_app.ui.widgets import SparkChart  # noqa: F401  (used in the KV)

log = logging.getLogger(__name__)
_HISTORY = 180  # samples, one per second: the last three minutes
_DEPLOYMENTS_EVERY = 2  # seconds between reads of the deployments' state while shown


def error_hint(text: str) -> str:
    """A plain next step for the errors users meet most."""
    lowered = text.lower()
    if re.search(r"\b407\b", lowered) or "proxy authentication required" in lowered:
        return S.ERROR_HINT_PROXY_AUTH
    if re.search(r"\b401\b", lowered) or "unauthorized" in lowered or "authentication" in lowered:
        return S.ERROR_HINT_401
    if re.search(r"\b403\b", lowered) or "forbidden" in lowered or "permission" in lowered:
        return S.ERROR_HINT_403
    if re.search(r"\b429\b", lowered) or "rate limit" in lowered or "ratelimit" in lowered:
        return S.ERROR_HINT_429
    if "certificate" in lowered or "ssl" in lowered or "tls" in lowered:
        return S.ERROR_HINT_TLS
    if "connection refused" in lowered or "connecterror" in lowered or "unreachable" in lowered:
        return S.ERROR_HINT_REFUSED
    if "address already in use" in lowered or ("port" in lowered and "in use" in lowered):
        return S.ERROR_HINT_PORT
    return S.ERROR_HINT_OTHER


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m {secs:02d}s" if hours else f"{minutes}m {secs:02d}s"


class DashboardScreen(BridgeScreen):
    state = StringProperty("stopped")
    running = BooleanProperty(False)
    address = StringProperty("")
    exposure = StringProperty("")  # where other machines reach the proxy, when an admin allowed it
    uptime = StringProperty("–")
    restarts = StringProperty("0")
    token_text = StringProperty("")
    requests = StringProperty("0 in total")
    rate = StringProperty("0 / s")
    error_history = ListProperty([])
    error_rate = StringProperty("0 %")
    latency = StringProperty("– / –")
    connections = StringProperty("0")
    quota_banner = StringProperty("")  # 80 % / 100 % of a quota of the managed policy
    rate_history = ListProperty([])
    latency_history = ListProperty([])
    connection_history = ListProperty([])
    update_banner = StringProperty("")  # "Version X is available ..." when an update is
    #: one line per deployment of the config: healthy, cooling down until, failing
    deployments_text = StringProperty(S.DEPLOYMENTS_STOPPED)

    def __init__(self, *, ctx: UiContext, **kwargs: Any) -> None:
        super().__init__(ctx=ctx, **kwargs)
        self._rates: deque[float] = deque(maxlen=_HISTORY)
        self._latencies: deque[float] = deque(maxlen=_HISTORY)
        self._connections: deque[float] = deque(maxlen=_HISTORY)
        self._last_requests: int | None = None
        self._last_errors: int | None = None
        self._errors: deque[float] = deque(maxlen=_HISTORY)
        # Errors logged before this moment are over: a request succeeded since, or the
        # proxy (re)started.
        self._errors_over_at = 0.0
        self._last_state = ""
        self._token: TokenStatus | None = None
        self._token_age = 0
        self._errors_shown: tuple[str, ...] | None = None
        self._update_checked = -3600.0
        self._reading_deployments = False
        self._reading = False
        # Observers run on supervisor threads: marshal to the Kivy thread.
        ctx.supervisor.subscribe(lambda *_a: on_ui(self.update))
        Clock.schedule_interval(self._tick, 1.0)

    def refresh(self) -> None:
        self.update()
        self._load_token()
        self._check_update()
        self._load_deployments()

    # -- deployments ------------------------------------------------------------------

    def _load_deployments(self) -> None:
        """The router's view of each deployment, read off the UI thread (it parses the
        active config); one read at a time, none while the proxy is stopped."""
        if not self.running:
            self.deployments_text = S.DEPLOYMENTS_STOPPED
            return
        if self._reading_deployments:
            return
        self._reading_deployments = True
        if self.deployments_text == S.DEPLOYMENTS_STOPPED:
            self.deployments_text = S.DEPLOYMENTS_READING

        def shown(view: RoutingView) -> None:
            self._reading_deployments = False
            if not view.proxy_running:
                self.deployments_text = S.DEPLOYMENTS_STOPPED
                return
            lines = [s.sentence() for s in view.states]
            self.deployments_text = "\n".join(lines) if lines else S.DEPLOYMENTS_NONE

        def failed(exc: BaseException) -> None:
            self._reading_deployments = False
            self.deployments_text = describe_error(exc)

        run_async("deployment-states", self.services.remote.routing, shown, failed)

    # -- update banner ----------------------------------------------------------------

    def _check_update(self) -> None:
        """Once per hour at most, when an update source is configured."""
        now = time.monotonic()
        if now - self._update_checked < 3600:
            return
        self._update_checked = now
        core = self.ctx.core

        def job() -> Any:
            # update_status also records a switch or rollback made at start in the audit log.
            return core.check_update() if core.update_status().get("source") else None

        def show(available: Any) -> None:
            if available is not None and available.newer and available.allowed:
                self.update_banner = (
                    f"{available.describe()} Diagnostics › Updates… downloads and installs "
                    "it; it starts at the next start."
                )
            else:
                self.update_banner = ""

        def quiet(exc: BaseException) -> None:
            log.info("update check failed: %s", exc)

        run_async("update-check", job, show, quiet)

    # -- start / stop -----------------------------------------------------------------

    def toggle(self) -> None:
        if self.busy:
            return
        core = self.ctx.core
        job = core.stop_proxy if self.running else core.start_proxy
        self.work("proxy-toggle", job, lambda _r: self.update())

    # -- periodic ---------------------------------------------------------------------

    def _tick(self, _dt: float) -> None:
        # The status and the error lines are read off the UI thread: under load the proxy
        # holds the interpreter lock, and a read on the UI thread would wait for it inside
        # a frame. One read at a time; a slow one skips a tick rather than queueing.
        if not self._reading:
            self._reading = True
            run_async("dashboard-status", self._read, self._sampled, self._read_failed)
        self._token_age += 1
        if self._token_age % 5 == 1:
            run_async(
                "quota-status",
                self.services.policy.quota_warnings,
                self._show_quota,
                lambda exc: log.debug("no quota status: %s", exc),
            )
        shown = bool(self.manager and self.manager.current == self.name)
        if shown and self._token_age % _DEPLOYMENTS_EVERY == 0:
            self._load_deployments()
        if self._token_age >= 15 and shown:
            self._load_token()
        elif self._token is not None:
            self._show_token()

    def _show_quota(self, warnings: list[str]) -> None:
        self.quota_banner = "\n".join(warnings)

    def _read(self) -> tuple[ProxyStatus, list[Any]]:
        status = self.ctx.supervisor.status()
        return status, self.services.proxy.logs.lines(min_level=logging.ERROR)[-4:]

    def _sampled(self, read: tuple[ProxyStatus, list[Any]]) -> None:
        self._reading = False
        self._show_status(*read, sample=True)

    def _read_failed(self, exc: BaseException) -> None:
        self._reading = False
        log.debug("no proxy status: %s", exc)

    def update(self, *, sample: bool = False) -> None:
        self._show_status(*self._read(), sample=sample)

    def _show_status(self, status: ProxyStatus, errors: list[Any], *, sample: bool) -> None:
        self.state = status.state.value
        if self.state == "running" and self._last_state != "running":
            self._errors_over_at = time.time()
        self._last_state = self.state
        self.running = status.state in (ProxyState.RUNNING, ProxyState.DEGRADED)
        self.address = status.url
        self.exposure = _exposure(status.host, status.port) if self.running else ""
        self.uptime = _duration(status.uptime_s)
        self.restarts = str(status.restarts)
        metrics = status.metrics
        total = int(metrics.get("requests", 0))
        refused = int(metrics.get("refused") or 0)
        self.requests = S.DASH_REQUESTS.format(total=total) + (
            S.DASH_REFUSED.format(refused=refused) if refused else ""
        )
        self.error_rate = f"{100 * float(metrics.get('error_rate', 0.0)):.1f} %"
        p50, p95 = metrics.get("latency_ms_p50"), metrics.get("latency_ms_p95")
        self.latency = (
            f"{p50:.0f} / {p95:.0f} ms" if p50 is not None and p95 is not None else "– / –"
        )
        self.connections = str(metrics.get("open_connections", 0))
        if sample:
            self._sample(status, total)
        self._show_errors(status, errors)

    def _sample(self, status: ProxyStatus, total: int) -> None:
        previous = self._last_requests if self._last_requests is not None else total
        errors = int(status.metrics.get("errors", 0))
        previous_errors = self._last_errors if self._last_errors is not None else errors
        self._last_requests, self._last_errors = total, errors
        new, failed = max(0, total - previous), max(0, errors - previous_errors)
        if new > failed:
            self._errors_over_at = time.time()  # a request succeeded: older errors are over
        self._rates.append(new)
        self.rate = f"{new} / s"
        self._errors.append(100.0 * failed / new if new else 0.0)
        self.error_history = list(self._errors)
        self._latencies.append(float(status.metrics.get("latency_ms_p95") or 0.0))
        self._connections.append(float(status.metrics.get("open_connections", 0)))
        self.rate_history = list(self._rates)
        self.latency_history = list(self._latencies)
        self.connection_history = list(self._connections)

    def _show_errors(self, status: ProxyStatus, logged: list[Any]) -> None:
        """The errors that still matter, in full, each with the hint that names its cause;
        they go away once a request succeeds or the proxy starts again."""
        lines = [line.text for line in logged if line.created > self._errors_over_at]
        if status.last_error and status.state not in (ProxyState.RUNNING, ProxyState.STOPPED):
            lines.append(status.last_error)
        errors = tuple(dict.fromkeys(reversed(lines)))[:5]
        if errors == self._errors_shown:
            return
        self._errors_shown = errors
        box = self.ids.errors
        box.clear_widgets()
        if not errors:
            box.add_widget(wrapped_label(S.NO_ERRORS))
        for text in errors:
            box.add_widget(wrapped_label(text, error=True, mono=True))
            box.add_widget(wrapped_label(error_hint(text)))

    def shown_errors(self) -> tuple[str, ...]:
        return self._errors_shown or ()

    def copy_url(self) -> None:
        from kivy.core.clipboard import Clipboard

        Clipboard.copy(self.address)
        self.tell(f"Copied {self.address}")

    def copy_errors(self) -> None:
        from kivy.core.clipboard import Clipboard

        Clipboard.copy("\n\n".join(self.shown_errors()))
        self.tell("Copied the errors shown.")

    # -- token --------------------------------------------------------------------------

    def _load_token(self) -> None:
        session = self.ctx.session
        if session is None:
            return
        self._token_age = 0

        def shown(status: TokenStatus) -> None:
            self._token = status
            self._show_token()

        run_async("token-status", lambda: self.services.tokens.status(session), shown)

    def _show_token(self) -> None:
        status = self._token
        if status is None:
            return
        if status.refresh_blocked or status.last_error:
            # The reason and what to do, not a countdown that hides them.
            self.token_text = status.describe() + (f" {status.action}" if status.action else "")
        elif status.seconds_left is not None and self._token_age:
            left = max(0, status.seconds_left - self._token_age)
            minutes, seconds = divmod(left, 60)
            hours, minutes = divmod(minutes, 60)
            text = f"{hours}h {minutes:02d}m" if hours else f"{minutes}m {seconds:02d}s"
            self.token_text = f"Token valid for {text}" if left else "The token has expired."
        else:
            self.token_text = status.describe()
        if status.project is not None:
            self.token_text += f" · project {status.project.name}"


def _exposure(host: str, port: int) -> str:
    """Listening beyond loopback (an admin allowed it): say exactly where from."""
    if is_loopback_host(host):
        return ""
    urls = [url_for(a, port) for a in exposed_addresses(host) if not is_loopback_host(a)]
    where = ", ".join(urls) if urls else f"{host} port {port}"
    return f"Other machines can reach this proxy at {where} (allowed by an admin)."
