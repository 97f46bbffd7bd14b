"""Small adapters that connect services built by different packages."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from bridge_app.audit import AuditLog
from bridge_app.proxy import EventHook, ProxyService, ProxyState, ProxySupervisor
from bridge_app.tokens import TokenInjector, TokenKeeper, TokenService

_FAILED_ACTIONS = {"proxy.start_failed", "proxy.failed", "proxy.crashed", "proxy.unclean_shutdown"}


def proxy_audit_hook(audit: AuditLog) -> EventHook:
    """Every proxy start, stop, restart (and why) lands in the audit log."""

    def record(action: str, detail: str) -> None:
        outcome = "failed" if action in _FAILED_ACTIONS else "ok"
        audit.record(None, action, "proxy", outcome, detail)

    return record


def integrity_audit_hook(audit: AuditLog) -> Callable[[str], None]:
    """A failed start-up integrity check lands in the audit log (and so reaches IT's
    collectors and alert webhook)."""

    def record(message: str) -> None:
        audit.record(None, "integrity.check", "bundle", "failed", message)

    return record


class ProxyRestarter:
    """What config apply needs of the proxy (bridge_app.config.ProxyRestarter)."""

    def __init__(self, proxy: ProxyService) -> None:
        self._proxy = proxy

    def is_running(self) -> bool:
        if not self._proxy.has_supervisor():
            return False
        supervisor = self._proxy.supervisor()
        # A proxy that failed after a change keeps its port: the next config restarts it.
        return supervisor.state in (ProxyState.RUNNING, ProxyState.DEGRADED) or (
            supervisor.state == ProxyState.FAILED and supervisor.holds_port
        )

    def restart_with_config(self, config_path: Path) -> None:
        # The supervisor re-reads the active config path at every start, and config apply
        # has already written the new file there.
        # A failed start raises ProxyStartError (a BridgeError) with the reason; requests in
        # flight get the server's bounded graceful shutdown (a few seconds).
        self._proxy.supervisor().restart(reason=f"config applied ({config_path.name})")


def attach_token_flow(proxy: ProxyService, tokens: TokenService) -> TokenKeeper:
    """Token injection into every request of the embedded proxy, `degraded` while internal
    models lack a usable token, and refresh before expiry while the proxy runs."""
    # The merged copy the start wrote: models of included files carry the token too.
    injector = TokenInjector(tokens=tokens, config_path=proxy.running_config)
    attached: list[ProxySupervisor] = []

    def on_problem(problem: str | None) -> None:
        for supervisor in attached:
            if problem:
                supervisor.mark_degraded(problem, source="token")
            else:
                supervisor.mark_healthy(source="token")

    keeper = TokenKeeper(tokens=tokens, injector=injector, on_problem=on_problem)

    def attach(supervisor: ProxySupervisor) -> None:
        attached.append(supervisor)

        def before_start() -> None:
            injector.reload()
            keeper.report()
            keeper.start()

        supervisor.on_start(before_start)
        supervisor.add_admission_hook(injector.precheck)
        supervisor.add_request_hook(injector)

    proxy.on_supervisor(attach)
    tokens.subscribe(keeper.report)
    return keeper
