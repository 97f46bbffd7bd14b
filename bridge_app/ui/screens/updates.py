from __future__ import annotations

from pathlib import Path
from typing import Any

from kivy.properties import BooleanProperty, NumericProperty, StringProperty

from bridge_app.services import describe_bytes
from bridge_app.ui import strings as S
from bridge_app.ui._async import on_ui
from bridge_app.ui._base import BridgeScreen, confirm, form_dialog, text_field


class UpdatesScreen(BridgeScreen):
    """Signed updates on screen: check, download with its progress, verify, install beside
    the running version (it starts at the next start), roll back. Every step is a core
    use-case, the same as `litellm-bridge update`; the work runs off the UI thread."""

    versions = StringProperty("")
    managed = StringProperty("")  # what the company policy decides about updates
    message = StringProperty(S.UPDATES_NOT_CHECKED)
    failed = BooleanProperty(False)
    progress = NumericProperty(0.0)  # 0..1 while downloading
    progress_text = StringProperty("")
    can_download = BooleanProperty(False)
    can_install = BooleanProperty(False)
    can_rollback = BooleanProperty(False)
    is_admin = BooleanProperty(False)

    def refresh(self) -> None:
        session = self.ctx.session
        self.is_admin = bool(session and session.is_admin)
        self.work("update-status", self.ctx.core.update_status, self._show_status)

    def _show_status(self, state: dict[str, Any]) -> None:
        self._state = state
        lines = [f"Running {state['current']}"]
        if state.get("pending"):
            lines.append(f"Installed, starts at the next start: {state['pending']}")
        if state.get("previous"):
            lines.append(f"Previous version: {state['previous']}")
        lines.append(f"Update source: {state.get('source') or 'not configured'}")
        if state.get("last_outcome"):
            lines.append(f"Last: {state['last_outcome']}")
        self.versions = "\n".join(lines)
        policy = state.get("policy") or {}
        if policy.get("disabled"):
            self.managed = S.UPDATES_MANAGED_OFF
        elif policy.get("pinned_version"):
            self.managed = S.UPDATES_MANAGED_PIN.format(version=policy["pinned_version"])
        else:
            self.managed = ""
        self.can_rollback = self.is_admin and bool(state.get("previous"))
        if not state.get("source"):
            self._say(S.UPDATES_NO_SOURCE)

    def _say(self, text: str, *, failed: bool = False, kind: str = "") -> None:
        self.message, self.failed = text, failed
        if kind:
            self.tell(text, kind)

    # -- check and download ---------------------------------------------------------------

    def check(self) -> None:
        self._say(S.UPDATES_CHECKING)
        self.can_download = self.can_install = False
        self.progress, self.progress_text = 0.0, ""
        self.work(
            "update-check", self.ctx.core.check_update, self._checked, failed=self._check_failed
        )

    def _checked(self, available: Any) -> None:
        text = available.describe()
        ready = bool(available.newer and available.allowed)
        self.can_download = ready
        self.can_install = ready and self.is_admin
        if ready and not self.is_admin:
            text += " " + S.UPDATES_ADMIN_ONLY
        self._say(text, kind="info")

    def _check_failed(self, reason: str) -> None:
        self._say(S.UPDATES_FAILED.format(reason=reason), failed=True, kind="error")

    def _progress_hook(self, what: str) -> Any:
        last = [-1]

        def progress(done: int, total: int) -> None:
            percent = int(100 * done / total) if total else 100
            if percent != last[0]:  # at most 101 hops to the UI thread, whatever the size
                last[0] = percent
                on_ui(self._show_progress, what, done, total)

        return progress

    def _show_progress(self, what: str, done: int, total: int) -> None:
        self.progress = done / total if total else 1.0
        self.progress_text = f"{what}: {describe_bytes(done, total)} ({self.progress:.0%})"

    def download(self) -> None:
        hook = self._progress_hook("Downloading")
        self.progress, self.progress_text = 0.0, "Downloading…"
        self.work(
            "update-download",
            lambda: self.ctx.core.download_update(hook),
            self._downloaded,
            failed=self._refused,
        )

    def _downloaded(self, result: tuple[Any, Path]) -> None:
        available, _path = result
        self.progress = 1.0
        self.progress_text = f"Downloaded {available.latest}: 100%"
        self._say(S.UPDATES_VERIFIED.format(version=available.latest), kind="success")

    def _refused(self, reason: str) -> None:
        self.progress, self.progress_text = 0.0, ""
        self._say(S.UPDATES_REFUSED.format(reason=reason), failed=True, kind="error")

    # -- install and roll back (admins) ------------------------------------------------------

    def install(self) -> None:
        """Ask first while the proxy serves requests (read now, in whichever process it runs)."""

        def decide(state: dict[str, Any]) -> None:
            self._show_status(state)
            if not state.get("proxy_serving"):
                self._install(agreed=False)
                return
            confirm(
                S.UPDATES_SERVING_TITLE,
                S.UPDATES_SERVING_TEXT,
                lambda: self._install(agreed=True),
                yes=S.UPDATES_INSTALL_ANYWAY,
            )

        self.work("update-status", self.ctx.core.update_status, decide)

    def _install(self, *, agreed: bool) -> None:
        session = self.ctx.require_session()
        hook = self._progress_hook("Downloading")
        self.progress, self.progress_text = 0.0, "Downloading…"

        def job() -> str:
            return self.ctx.core.install_update(session, hook, proxy_agreed=agreed)

        self.work("update-install", job, self._installed, failed=self._refused)

    def _installed(self, outcome: str) -> None:
        self.progress, self.progress_text = 0.0, ""  # the message below says it all
        self.can_install = self.can_download = False
        text = S.UPDATES_INSTALLED.format(outcome=outcome[0].upper() + outcome[1:])
        self._say(text, kind="success")
        self.refresh_keep_message()

    def rollback(self) -> None:
        version = getattr(self, "_state", {}).get("previous") or "the previous version"
        confirm(
            S.UPDATES_ROLLBACK_TITLE.format(version=version),
            S.UPDATES_ROLLBACK_TEXT.format(version=version),
            self._rollback,
            yes=S.UPDATES_ROLLBACK,
        )

    def _rollback(self) -> None:
        session = self.ctx.require_session()

        def done(outcome: str) -> None:
            text = outcome[0].upper() + outcome[1:]
            self._say(S.UPDATES_ROLLED_BACK.format(outcome=text), kind="success")
            self.refresh_keep_message()

        def failed(reason: str) -> None:
            self._say(reason, failed=True, kind="error")

        self.work(
            "update-rollback", lambda: self.ctx.core.rollback_update(session), done, failed=failed
        )

    def refresh_keep_message(self) -> None:
        self.work("update-status", self.ctx.core.update_status, self._show_status)

    def configure(self) -> None:
        state = getattr(self, "_state", {})
        source = text_field(S.UPDATES_SOURCE_URL, text=state.get("source") or "")
        root = text_field(S.UPDATES_SOURCE_ROOT)
        session = self.ctx.require_session()

        def ok(dialog: Any) -> None:
            path = Path(root.text.strip()).expanduser()

            def job() -> None:
                self.ctx.core.configure_updates(session, source.text.strip(), path)

            def done(_r: None) -> None:
                self._say(f"Updates come from {source.text.strip()}.", kind="success")
                self.refresh_keep_message()

            self.submit(dialog, "update-configure", job, done)

        form_dialog(S.UPDATES_SOURCE, [source, root], ok, ok_text=S.OK)
