"""The remote-gateway and routing use-cases of the application core (AppCore inherits
them): gateways are admin business; a logical model or fallback is a config change, under
the same rule as `config apply` (``may_change``) and applied the same way."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bridge_app.auth import Session
from bridge_app.config import ApplyResult
from bridge_app.remote import ProbeResult
from bridge_app.services._usecases import use_case

if TYPE_CHECKING:
    from bridge_app.services._root import Services


class RemoteUseCases:
    services: Services

    if TYPE_CHECKING:  # provided by AppCore

        def may_change(self, session: Session, area: str, *, operation: str) -> None: ...

        def _after_apply(self, result: ApplyResult) -> ApplyResult: ...

    @use_case(role="admin", transactional=False)
    def add_gateway(
        self, session: Session, name: str, url: str, **options: Any
    ) -> ProbeResult | None:
        # Not one transaction: the gateway is probed over the network before it is kept.
        return self.services.remote.add(session, name, url, **options)

    @use_case(role="admin", transactional=False)
    def remove_gateway(
        self, session: Session, name: str, *, with_models: bool = False
    ) -> tuple[list[str], ApplyResult | None]:
        """Not one transaction: removing its models is a config change (validated, applied,
        a running proxy restarts with it) before the gateway and its key go."""
        if with_models and self.services.remote.gateway(name).used_by:
            self.may_change(session, "config", operation="remove gateway with its models")
        used, applied = self.services.remote.remove(session, name, with_models=with_models)
        return used, self._after_apply(applied) if applied is not None else None

    @use_case(role="user", transactional=False)
    def use_remote_model(
        self, session: Session, gateway: str, model: str, **options: Any
    ) -> ApplyResult:
        self.may_change(session, "config", operation="use remote model")
        remote = self.services.remote
        return self._after_apply(
            remote.use_model(gateway, model, author=session.username, **options)
        )

    @use_case(role="user", transactional=False)
    def add_deployment(
        self, session: Session, group: str, model: str, **options: Any
    ) -> tuple[list[str], ApplyResult]:
        self.may_change(session, "config", operation="add deployment")
        ids, result = self.services.remote.add_deployment(
            group, model, author=session.username, **options
        )
        return ids, self._after_apply(result)

    @use_case(role="user", transactional=False)
    def remove_deployment(self, session: Session, deployment_id: str) -> ApplyResult:
        self.may_change(session, "config", operation="remove deployment")
        remote = self.services.remote
        return self._after_apply(remote.remove_deployment(deployment_id, author=session.username))

    @use_case(role="user", transactional=False)
    def set_fallbacks(self, session: Session, group: str, targets: list[str]) -> ApplyResult:
        self.may_change(session, "config", operation="set fallbacks")
        remote = self.services.remote
        return self._after_apply(remote.set_fallbacks(group, targets, author=session.username))

    @use_case(role="user", transactional=False)
    def set_router(self, session: Session, **settings: Any) -> ApplyResult:
        self.may_change(session, "config", operation="set router")
        remote = self.services.remote
        return self._after_apply(remote.set_router(author=session.username, **settings))
