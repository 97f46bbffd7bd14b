"""RemoteService: remote LiteLLM gateways, logical models (router settings) and the team
export, as the CLI and the Remote screen use them. Gateways and the router settings are
machine-wide: adding or removing a gateway needs an admin; config edits go through the
config service (validated, versioned, a running proxy restarts with them)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bridge_app.audit import AuditLog
from bridge_app.auth import PermissionDeniedError, Session
from bridge_app.config import ApplyResult, ConfigDocument, ConfigService
from bridge_app.envvars import EnvService
from bridge_app.proxy import ProxyStatus
from bridge_app.remote._gateways import (
    Gateway,
    GatewayStore,
    check_ca_pem,
    check_gateway_name,
    key_env_name,
    normalize_url,
)
from bridge_app.remote._live import (
    AnsweredRequest,
    DeploymentState,
    deployment_states,
    live_ids,
    recent_requests,
)
from bridge_app.remote._probe import (
    ProbeResult,
    RemoteError,
    RemoteModel,
    list_models,
    probe,
    proxy_for,
)
from bridge_app.remote._routing import (
    ModelGroup,
    RouterSettings,
    add_deployment,
    model_groups,
    remove_deployment,
    router_settings,
    set_fallbacks,
    set_router,
    with_fallback_note,
)
from bridge_app.remote._team import TeamExport, export_team
from bridge_app.remote._team_ca import with_company_ca
from bridge_app.runtime import AppPaths, atomic_write
from bridge_app.store import Database

#: What a remote model carries by default, so the gateway's upstream receives the internal
#: token and project exactly as a local internal model would send them.
DEFAULT_INJECTION = {
    "internal_token": "{token}",
    "project_id": "{project.id}",
    "project_name": "{project.name}",
}


@dataclass(frozen=True)
class RoutingView:
    groups: tuple[ModelGroup, ...]
    router: RouterSettings
    states: tuple[DeploymentState, ...]
    recent: tuple[AnsweredRequest, ...]
    proxy_running: bool


class RemoteService:
    def __init__(
        self,
        *,
        paths: AppPaths,
        db: Database,
        seal_key: bytes,
        env: EnvService,
        config: ConfigService,
        audit: AuditLog,
        active_config: Callable[[], Path],
        proxy_status: Callable[[], ProxyStatus],
    ) -> None:
        self._paths = paths
        self._db = db
        self._store = GatewayStore(db=db, seal_key=seal_key)
        self._env = env
        self._config = config
        self._audit = audit
        self._active_config = active_config
        self._proxy_status = proxy_status

    # -- gateways ------------------------------------------------------------------------

    def gateways(self) -> list[Gateway]:
        defined = self._env.defined_names(None)
        deployments = [d for g in model_groups(self._document()) for d in g.deployments]
        found = []
        for name, meta, ca in self._store.rows():
            url, key_env = str(meta["url"]), str(meta["key_env"])
            found.append(
                Gateway(
                    name=name,
                    url=url,
                    key_env=key_env,
                    has_key=key_env in defined,
                    ca_pem=ca,
                    added_at=str(meta.get("added_at") or ""),
                    used_by=tuple(
                        d.id for d in deployments if d.api_base == url or d.key_env == key_env
                    ),
                )
            )
        return found

    def gateway(self, name: str) -> Gateway:
        name = check_gateway_name(name)
        for gateway in self.gateways():
            if gateway.name == name:
                return gateway
        raise RemoteError(
            f"There is no remote gateway named {name!r}.",
            hint="`litellm-bridge remote list` shows them; add one with `remote add`.",
        )

    def _key(self, gateway: Gateway) -> str | None:
        if not gateway.has_key:
            return None
        return self._env.effective_environment(None).get(gateway.key_env)

    def _require_admin(self, session: Session, operation: str) -> None:
        if not session.is_admin:
            self._audit.record(session, "access.denied", operation, "denied", "admin only")
            raise PermissionDeniedError(operation)

    def add(
        self,
        session: Session,
        name: str,
        url: str,
        *,
        key: str | None = None,
        ca_pem: str | None = None,
        check: bool = True,
    ) -> ProbeResult | None:
        """Check the gateway answers with this key (unless ``check`` is off), then keep it:
        the key sealed as a shared environment entry, the address and CA in the store, and
        its audit events, in one transaction (the probe, over the network, comes first)."""
        self._require_admin(session, "remote.add")
        name = check_gateway_name(name)
        url = normalize_url(url)
        ca = check_ca_pem(ca_pem) if ca_pem else None
        key = key.strip() if key else None
        result = (
            probe(url, key, ca_pem=self._trusted(ca), proxy=self._proxy_for(url)) if check else None
        )
        key_env = key_env_name(name)
        detail = f"url={url} key={'yes' if key else 'no'} ca={'yes' if ca else 'no'}"
        with self._db.transaction():
            if key:
                self._env.set(session, key_env, key, scope="shared")
            elif key_env in self._env.defined_names(None):
                self._env.unset(session, key_env, scope="shared")
            self._store.save(name, url, ca)
            self._audit.record(session, "remote.add", name, "ok", detail)
        return result

    def proxy_environment(self, environment: Mapping[str, str]) -> dict[str, str]:
        """An environment layer for the embedded proxy: with a gateway's private CA, LiteLLM's
        outbound calls must trust it as well as the public CAs (and any SSL_CERT_FILE the
        environment already names), so they get one bundle of all of them."""
        cas = [g.ca_pem for g in self.gateways() if g.ca_pem]
        if not cas:
            return {}
        import certifi

        parts = [Path(certifi.where()).read_text(encoding="utf-8")]
        current = environment.get("SSL_CERT_FILE")
        if current and Path(current).is_file():
            parts.append(Path(current).read_text(encoding="utf-8", errors="replace"))
        parts += cas
        bundle = self._paths.config_dir / "remote-ca" / "bundle.pem"
        atomic_write(bundle, "\n".join(p.strip() + "\n" for p in parts).encode(), mode=0o644,
                     make_parents=True)  # fmt: skip
        return {"SSL_CERT_FILE": str(bundle)}

    def remove(
        self, session: Session, name: str, *, with_models: bool = False
    ) -> tuple[list[str], ApplyResult | None]:
        """Forget a gateway and its key (one transaction with the audit events). Refused
        while local models use it: without the key the config could not start, and a
        running proxy would fail for every model. ``with_models`` removes them first (one
        config change, applied like any other); returns their ids and that change."""
        self._require_admin(session, "remote.remove")
        gateway = self.gateway(name)
        used = list(gateway.used_by)
        applied: ApplyResult | None = None
        if used and not with_models:
            what = "local model uses" if len(used) == 1 else "local models use"
            raise RemoteError(
                f"{len(used)} {what} the gateway {gateway.name}: {', '.join(used)}. "
                "Without its key the config could not start.",
                hint=f"Remove them with it: `litellm-bridge remote remove {gateway.name} "
                "--with-models`, or remove them first (`litellm-bridge models remove ID`).",
            )
        if used:
            document = self._document()
            before = router_settings(document).fallbacks
            for deployment_id in reversed(used):  # later first: positional ids stay valid
                remove_deployment(document, deployment_id)
            applied = with_fallback_note(
                self._config.apply_document(
                    document,
                    author=session.username,
                    comment=f"gateway {gateway.name} removed with {', '.join(used)}",
                ),
                before,
                router_settings(document).fallbacks,
            )
        with self._db.transaction():
            if gateway.has_key:
                self._env.unset(session, gateway.key_env, scope="shared")
            self._store.delete(gateway.name)
            detail = f"url={gateway.url}" + (f" models={','.join(used)}" if used else "")
            self._audit.record(session, "remote.remove", gateway.name, "ok", detail)
        return used, applied

    def _proxy_for(self, url: str) -> str | None:
        return proxy_for(url, self._env.network_settings(None))

    def _trusted(self, ca_pem: str | None) -> str | None:
        return with_company_ca(ca_pem, self._env.network_settings(None).get("SSL_CERT_FILE"))

    def test(self, name: str) -> ProbeResult:
        gateway = self.gateway(name)
        return probe(
            gateway.url,
            self._key(gateway),
            ca_pem=self._trusted(gateway.ca_pem),
            proxy=self._proxy_for(gateway.url),
        )

    def models(self, name: str) -> list[RemoteModel]:
        gateway = self.gateway(name)
        return list_models(
            gateway.url,
            self._key(gateway),
            ca_pem=self._trusted(gateway.ca_pem),
            proxy=self._proxy_for(gateway.url),
        )

    def use_model(
        self,
        name: str,
        model: str,
        *,
        author: str,
        local_name: str | None = None,
        inject: Mapping[str, str] | None = None,
        order: int | None = None,
    ) -> ApplyResult:
        """One step: the gateway's ``model`` becomes a local model (LiteLLM's
        ``litellm_proxy/`` provider) whose requests carry the internal token and project
        (``inject``, by default the standard fields; an empty mapping injects nothing)."""
        gateway = self.gateway(name)
        offered = self.models(name)
        if model not in {m.id for m in offered}:
            raise RemoteError(
                f"The gateway {gateway.name!r} does not offer a model named {model!r}.",
                hint="Its models: " + (", ".join(m.id for m in offered) or "none"),
            )
        params: dict[str, Any] = {"use_chat_completions_api": True}
        if inject is None:
            inject = DEFAULT_INJECTION
        if inject:
            params["extra_body"] = dict(inject)
        document = self._document()
        group = local_name or model
        add_deployment(
            document,
            group,
            f"litellm_proxy/{model}",
            api_base=gateway.url,
            key_env=gateway.key_env if gateway.has_key else None,
            order=order,
            deployment_id=None,
            extra_params=params,
        )
        # Claude Code's /v1/messages then reaches the gateway as chat completions too.
        if (
            document.get(("litellm_settings", "use_chat_completions_url_for_anthropic_messages"))
            is None
        ):
            document.set(
                ("litellm_settings", "use_chat_completions_url_for_anthropic_messages"), True
            )
        return self._config.apply_document(
            document, author=author, comment=f"remote model {model} from {gateway.name}"
        )

    # -- logical models -----------------------------------------------------------------

    def _document(self) -> ConfigDocument:
        text = self._config.read_active()
        if text is None:
            text = self._active_config().read_text(encoding="utf-8")
        return self._config.open_document(text)

    def routing(self) -> RoutingView:
        document = self._document()
        groups = model_groups(document)
        status = self._proxy_status()
        metrics = status.metrics or {}
        running = status.state.value in ("running", "degraded")
        return RoutingView(
            groups=tuple(groups),
            router=router_settings(document),
            states=tuple(deployment_states(groups, metrics if running else {})),
            recent=tuple(recent_requests(metrics, names=live_ids(groups, metrics))),
            proxy_running=running,
        )

    def add_deployment(
        self,
        group: str,
        model: str,
        *,
        author: str,
        api_base: str | None = None,
        key_envs: Sequence[str] = (),
        order: int | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
        deployment_id: str | None = None,
    ) -> tuple[list[str], ApplyResult]:
        """One deployment, or one per key in ``key_envs`` (the router rotates them)."""
        known = self._env.defined_names(None)
        for name in key_envs:
            if name not in known:
                raise RemoteError(
                    f"There is no shared environment entry {name}.",
                    hint=f"Store the key first: litellm-bridge env set {name} --shared",
                )
        if deployment_id and len(key_envs) > 1:
            raise RemoteError("Give --id only with a single key.")
        document = self._document()
        ids = [
            add_deployment(
                document,
                group,
                model,
                api_base=api_base,
                key_env=key_env,
                order=order,
                timeout=timeout,
                max_retries=max_retries,
                deployment_id=deployment_id,
            )
            for key_env in (list(key_envs) or [None])  # type: ignore[list-item]
        ]
        result = self._config.apply_document(
            document, author=author, comment=f"model {group}: added {', '.join(ids)}"
        )
        return ids, result

    def remove_deployment(self, deployment_id: str, *, author: str) -> ApplyResult:
        document = self._document()
        before = router_settings(document).fallbacks
        group = remove_deployment(document, deployment_id)
        result = self._config.apply_document(
            document, author=author, comment=f"model {group}: removed {deployment_id}"
        )
        return with_fallback_note(result, before, router_settings(document).fallbacks)

    def set_fallbacks(self, group: str, targets: Sequence[str], *, author: str) -> ApplyResult:
        document = self._document()
        set_fallbacks(document, group, targets)
        what = ", ".join(targets) or "none"
        return self._config.apply_document(
            document, author=author, comment=f"model {group}: fallbacks {what}"
        )

    def set_router(self, *, author: str, **settings: Any) -> ApplyResult:
        document = self._document()
        set_router(document, **settings)
        changed = ", ".join(f"{k}={v}" for k, v in settings.items() if v is not None)
        return self._config.apply_document(
            document, author=author, comment=f"routing: {changed or 'unchanged'}"
        )

    # -- team deployment ----------------------------------------------------------------

    def export_team(self, directory: Path, *, overwrite: bool = False) -> TeamExport:
        ca_file = self._env.network_settings(None).get("SSL_CERT_FILE")
        return export_team(self._document(), directory, overwrite=overwrite, ca_file=ca_file)
