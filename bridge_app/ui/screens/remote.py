"""Remote & models: remote LiteLLM gateways (add, test connection, pick a model to use
here, remove) and the logical models (add a deployment, routing settings, fallbacks) with
each deployment's live state and which deployment answered each recent request."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kivy.clock import Clock
from kivy.properties import BooleanProperty, StringProperty
from kivymd.uix.dialog import MDDialog

from bridge_app.services import (
    ApplyResult,
    Gateway,
    ProbeResult,
    RemoteError,
    RemoteModel,
    RoutingView,
)
from bridge_app.ui import strings as S
from bridge_app.ui._async import describe_error, run_async
from bridge_app.ui._base import BridgeScreen, button, confirm, form_dialog, text_field

_LIVE_INTERVAL = 2.0  # seconds between state refreshes while the screen is shown


def _number(text: str, kind: type[float] | type[int]) -> Any:
    text = text.strip()
    if not text:
        return None
    try:
        return kind(text)
    except ValueError:
        return f"not a number: {text}"


class RemoteScreen(BridgeScreen):
    result = StringProperty("")
    failed = BooleanProperty(False)
    deployments_title = StringProperty(S.REMOTE_DEPLOYMENTS)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._live: Any = None
        self._polling = False

    # -- showing -----------------------------------------------------------------------

    def on_enter(self, *args: Any) -> None:
        self._live = Clock.schedule_interval(lambda _dt: self._refresh_state(), _LIVE_INTERVAL)

    def on_leave(self, *args: Any) -> None:
        if self._live is not None:
            self._live.cancel()
            self._live = None

    def refresh(self) -> None:
        remote = self.services.remote
        self.work("remote-gateways", remote.gateways, self._show_gateways, failed=self._fail)
        self._refresh_state()

    def _refresh_state(self) -> None:
        # A quiet poll: it does not set `busy` (the buttons stay usable) and never overlaps.
        if self.ctx.session is None or self._polling:
            return
        self._polling = True

        def done(view: RoutingView) -> None:
            self._polling = False
            self._show_routing(view)

        def failed(exc: BaseException) -> None:
            self._polling = False
            self._fail(describe_error(exc))

        run_async("remote-routing", self.services.remote.routing, done, failed)

    def _say(self, text: str) -> None:
        self.failed = False
        self.result = text

    def _announce(self, text: str) -> None:
        """An outcome that changed something: say it and show the new state."""
        self._say(text)
        self.refresh()

    def _fail(self, message: str) -> None:
        self.failed = True
        self.result = message

    def _show_gateways(self, gateways: list[Gateway]) -> None:
        if not gateways:
            self.ids.gateways.data = [{"headline": S.REMOTE_NO_GATEWAYS, "supporting": ""}]
            return
        self.ids.gateways.data = [
            {
                "headline": f"{g.name}  {g.url}",
                "supporting": f"{g.tls} · {'key stored' if g.has_key else 'no key'}"
                + (f" · used by {', '.join(g.used_by)}" if g.used_by else ""),
                "action": lambda g=g: self.gateway_actions(g),
            }
            for g in gateways
        ]

    def _show_routing(self, view: RoutingView) -> None:
        running = "" if view.proxy_running else " (proxy stopped: no live state)"
        self.deployments_title = S.REMOTE_DEPLOYMENTS + running
        fallbacks = {g.name: g.fallbacks for g in view.groups}
        self.ids.deployments.data = [
            {
                "headline": f"{s.group} · {s.id} · {s.state}",
                "supporting": f"{s.target} · {s.detail}"
                + (
                    f" · falls back to {', '.join(fallbacks[s.group])}"
                    if fallbacks.get(s.group)
                    else ""
                ),
                "action": lambda s=s: self.remove_deployment(s.id),
            }
            for s in view.states
        ]
        self.ids.recent.data = [
            {
                "headline": f"{r.model} -> {r.deployment or '-'}",
                "supporting": f"at {r.clock()} · HTTP {r.status}",
            }
            for r in view.recent
        ]

    # -- gateways ----------------------------------------------------------------------

    def add_gateway(self) -> None:
        name = text_field("Name (e.g. team)")
        url = text_field("URL (http:// or https://)")
        key = text_field("Key (optional)", password=True)
        ca = text_field("Private CA file, PEM (optional, https)")

        def ok(dialog: MDDialog) -> None:
            session = self.ctx.session
            if session is None:
                return
            dialog.dismiss()
            ca_path = ca.text.strip()
            secret = key.text.strip() or None
            key.text = ""

            def job() -> ProbeResult | None:
                try:
                    pem = Path(ca_path).expanduser().read_text() if ca_path else None
                except OSError as exc:
                    raise RemoteError(f"Cannot read the CA file {ca_path}: {exc}") from exc
                return self.ctx.core.add_gateway(
                    session, name.text, url.text, key=secret, ca_pem=pem
                )

            def done(result: ProbeResult | None) -> None:
                lines = result.lines() if result else []
                self._announce(
                    "\n".join([f"Added the gateway {name.text.strip().lower()}.", *lines])
                )

            self.work("remote-add", job, done, failed=self._fail)

        form_dialog(S.REMOTE_ADD, [name, url, key, ca], ok, ok_text=S.REMOTE_ADD)

    def gateway_actions(self, gateway: Gateway) -> None:
        dialog: Any = None

        def act(handler: Any) -> Any:
            return lambda: (dialog.dismiss(), handler(gateway))

        buttons = [
            button(S.REMOTE_TEST, act(self.test_gateway)),
            button(S.REMOTE_MODELS, act(self.pick_model)),
            button(S.REMOTE_REMOVE, act(self.remove_gateway)),
        ]
        dialog = form_dialog(
            gateway.name,
            buttons,
            lambda d: d.dismiss(),
            supporting=f"{gateway.url} ({gateway.tls})"
            + (f"\nUsed by {', '.join(gateway.used_by)}" if gateway.used_by else ""),
        )

    def test_gateway(self, gateway: Gateway) -> None:
        self._say(f"Testing {gateway.name}…")
        self.work(
            "remote-test",
            lambda: self.services.remote.test(gateway.name),
            lambda r: self._say("\n".join(r.lines())),
            failed=self._fail,
        )

    def pick_model(self, gateway: Gateway) -> None:
        def chosen(models: list[RemoteModel]) -> None:
            if not models:
                self._say(f"{gateway.name} offers no model to this key.")
                return
            dialog: Any = None

            def use(model: RemoteModel) -> Any:
                def tapped() -> None:
                    dialog.dismiss()
                    self.use_model(gateway, model)

                return tapped

            rows = [
                button(
                    f"{S.REMOTE_USE}: {m.id}"
                    + (f" ({m.upstream_model})" if m.upstream_model else ""),
                    use(m),
                )
                for m in models
            ]
            self._say(f"{gateway.name} offers: " + ", ".join(m.id for m in models))
            dialog = form_dialog(
                f"{gateway.name}: {S.REMOTE_MODELS}",
                rows,
                lambda d: d.dismiss(),
                supporting="Tap a model to use it here (your token and project are added).",
            )

        self.work(
            "remote-models",
            lambda: self.services.remote.models(gateway.name),
            chosen,
            failed=self._fail,
        )

    def use_model(self, gateway: Gateway, model: RemoteModel) -> None:
        session = self.ctx.require_session()
        self.work(
            "remote-use",
            lambda: self.ctx.core.use_remote_model(session, gateway.name, model.id),
            lambda r: self._announce(
                f"Local model {model.id} -> {gateway.name}/{model.id}. {r.message}"
            ),
            failed=self._fail,
        )

    def remove_gateway(self, gateway: Gateway) -> None:
        session = self.ctx.require_session()
        used = gateway.used_by

        def go() -> None:
            def done(result: tuple[list[str], ApplyResult | None]) -> None:
                removed, applied = result
                note = f" Removed with it: {', '.join(removed)}." if removed else ""
                after = f" {applied.message}" if applied is not None else ""
                self._announce(f"Removed the gateway {gateway.name} and its key.{note}{after}")

            self.work(
                "remote-remove",
                lambda: self.ctx.core.remove_gateway(session, gateway.name, with_models=True),
                done,
                failed=self._fail,
            )

        detail = "Its stored key is deleted too."
        if used:
            detail += (
                " The local models that use it are removed with it (a config change): "
                + ", ".join(used)
                + "."
            )
        confirm(f"Remove {gateway.name}?", detail, go, yes=S.REMOTE_REMOVE)

    # -- logical models ----------------------------------------------------------------

    def add_deployment(self) -> None:
        group = text_field("Logical model (e.g. smart)")
        model = text_field("provider/model (e.g. openai/gpt-4o-mini)")
        base = text_field("API base (optional)")
        keys = text_field("Key entries, comma-separated (rotated)")
        order = text_field("Priority: 1 first (optional)")
        timeout = text_field("Timeout, seconds (optional)")

        def ok(dialog: MDDialog) -> None:
            priority = _number(order.text, int)
            seconds = _number(timeout.text, float)
            for value in (priority, seconds):
                if isinstance(value, str):
                    self._fail(value)
                    return
            dialog.dismiss()
            session = self.ctx.require_session()
            names = [k.strip() for k in keys.text.split(",") if k.strip()]
            self.work(
                "remote-deploy",
                lambda: self.ctx.core.add_deployment(
                    session,
                    group.text.strip(),
                    model.text.strip(),
                    api_base=base.text.strip() or None,
                    key_envs=names,
                    order=priority,
                    timeout=seconds,
                ),
                lambda r: self._announce(f"Added {', '.join(r[0])}. {r[1].message}"),
                failed=self._fail,
            )

        form_dialog(S.REMOTE_ADD_DEPLOYMENT, [group, model, base, keys, order, timeout], ok)

    def edit_routing(self) -> None:
        retries = text_field("Retries")
        timeout = text_field("Timeout, seconds")
        cooldown = text_field("Cooldown, seconds")
        allowed = text_field("Failures per minute before cooldown")
        fallback_of = text_field("Fallbacks of model (optional)")
        fallback_to = text_field("…go to these models, comma-separated")

        def ok(dialog: MDDialog) -> None:
            values = {
                "retries": _number(retries.text, int),
                "timeout": _number(timeout.text, float),
                "cooldown_s": _number(cooldown.text, float),
                "allowed_fails": _number(allowed.text, int),
            }
            wrong = [v for v in values.values() if isinstance(v, str)]
            if wrong:
                self._fail(wrong[0])
                return
            dialog.dismiss()
            session, core = self.ctx.require_session(), self.ctx.core
            source = fallback_of.text.strip()
            targets = [t.strip() for t in fallback_to.text.split(",") if t.strip()]

            def job() -> str:
                messages = []
                if any(v is not None for v in values.values()):
                    messages.append(core.set_router(session, **values).message)
                if source:
                    messages.append(core.set_fallbacks(session, source, targets).message)
                return " ".join(messages) or "Nothing to change."

            self.work("remote-routing-set", job, lambda m: self._announce(m), failed=self._fail)

        form_dialog(
            S.REMOTE_ROUTING, [retries, timeout, cooldown, allowed, fallback_of, fallback_to], ok
        )

    def remove_deployment(self, deployment_id: str) -> None:
        session = self.ctx.require_session()

        def go() -> None:
            self.work(
                "remote-undeploy",
                lambda: self.ctx.core.remove_deployment(session, deployment_id),
                lambda r: self._announce(f"Removed {deployment_id}. {r.message}"),
                failed=self._fail,
            )

        confirm(
            f"Remove {deployment_id}?", "The proxy restarts without it.", go, yes=S.REMOTE_REMOVE
        )
