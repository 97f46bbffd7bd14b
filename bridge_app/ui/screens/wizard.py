from __future__ import annotations

import re
import webbrowser
from collections.abc import Callable
from typing import Any

from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.utils import escape_markup
from kivymd.uix.list import MDListItem, MDListItemHeadlineText, MDListItemSupportingText

from bridge_app.services import APP_PROVIDED, IamSettings, Session, Template
from bridge_app.ui import strings as S
from bridge_app.ui._base import IamScreen, text_field
from bridge_app.ui._context import UiContext

STEPS = ("admin", "template", "environment", "token", "start", "tools")


def tool_snippet(url: str, keys: dict[str, str]) -> str:
    """What a CLI tool needs, as one line per tool family (POSIX shell), each family with
    its own proxy key (never the proxy's master key: it would land in shell profiles)."""
    return (
        f"export OPENAI_BASE_URL={url}/v1 OPENAI_API_KEY={keys['openai']}\n"
        f"export ANTHROPIC_BASE_URL={url} ANTHROPIC_AUTH_TOKEN={keys['anthropic']}\n"
        f"export GOOGLE_GEMINI_BASE_URL={url} GEMINI_API_KEY={keys['gemini']}"
    )


def template_preview(template: Template) -> str:
    """What a template sets up, in words, before its YAML."""
    text = template.read_text()
    models = re.findall(r"^\s*-\s*model_name:\s*(\S+)", text, flags=re.MULTILINE)
    needs = [n for n in template.env_names if n not in APP_PROVIDED]
    lines = [
        f"Selected: {template.title}",
        template.description,
        "Models: " + (", ".join(models) if models else "none"),
        "Asks for: " + (", ".join(needs) if needs else "nothing (works offline)"),
    ]
    if needs_iam(text):
        lines.append("Sends your internal token with every request: step 4 sets up the IAM.")
    return "\n".join(lines)


def needs_iam(config_text: str) -> bool:
    """A config whose requests carry the internal token needs an IAM to get one from."""
    return "{token}" in config_text


class WizardScreen(IamScreen):
    """First run, when no admin exists: admin → template → environment values → optional
    internal token → Start → how to point a CLI tool at the proxy."""

    step = NumericProperty(0)
    step_title = StringProperty(f"Step 1 of {len(STEPS)}: {S.WIZARD_STEPS[0]}")
    template_name = StringProperty("")
    template_preview = StringProperty("")
    admin_done = BooleanProperty(False)
    iam_ready = BooleanProperty(False)
    needs_iam = BooleanProperty(False)
    started = BooleanProperty(False)
    proxy_url = StringProperty("")
    snippet = StringProperty("")

    def __init__(
        self, *, ctx: UiContext, on_finished: Callable[[Session], None], **kwargs: Any
    ) -> None:
        super().__init__(ctx=ctx, **kwargs)
        self._on_finished = on_finished
        self._templates: list[Template] = []
        self._env_fields: dict[str, Any] = {}

    def allowed(self) -> bool:
        return True

    def on_pre_enter(self, *args: Any) -> None:
        self.work("templates", self.services.config.list_templates, self._show_templates)

    def _go(self, step: int) -> None:
        self.ids.steps.transition.direction = "left" if step >= self.step else "right"
        self.step = step
        self.step_title = f"Step {step + 1} of {len(STEPS)}: {S.WIZARD_STEPS[step]}"
        self.ids.steps.current = STEPS[step]
        self.error = ""
        self.clear_notice()

    def back(self) -> None:
        """One step back; what was done there (the admin account, the applied template,
        the running proxy) stays done, and Next moves on again."""
        if self.step > 0 and not self.busy:
            self._go(self.step - 1)

    def next(self) -> None:
        actions = (
            self.create_admin,
            self.template_chosen,
            self.save_environment,
            self.get_token,
            self.start_proxy,
            self.finish,
        )
        actions[self.step]()

    # -- 1 admin ------------------------------------------------------------------------

    def create_admin(self) -> None:
        if self.admin_done:
            self._go(1)
            return
        username, password = self.ids.admin_user.text.strip(), self.ids.admin_password.text
        display = self.ids.admin_display.text.strip() or None
        if password != self.ids.admin_repeat.text:
            self.error = S.PASSWORDS_DIFFER
            self.tell(S.PASSWORDS_DIFFER, "error")
            return
        auth = self.services.auth

        def job() -> Session:
            auth.create_first_admin(username, password, display_name=display)
            return auth.login(username, password)

        def done(session: Session) -> None:
            for name in ("admin_password", "admin_repeat"):
                self.ids[name].text = ""
            self.ctx.set_session(session)
            self.admin_done = True
            self._go(1)

        self.work("first-admin", job, done)

    # -- 2 template ---------------------------------------------------------------------

    def _show_templates(self, templates: list[Template]) -> None:
        self._templates = templates
        box = self.ids.templates
        box.clear_widgets()
        for template in templates:
            item = MDListItem(
                MDListItemHeadlineText(text=escape_markup(template.title)),
                MDListItemSupportingText(text=escape_markup(template.description)),
            )
            item.bind(on_release=lambda _i, t=template: self.choose_template(t.name))
            box.add_widget(item)
        # No default: the person picks the config they start from, seeing what it sets up.

    def choose_template(self, name: str) -> None:
        self.template_name = name
        template = next((t for t in self._templates if t.name == name), None)
        if template is not None:
            self.template_preview = template_preview(template)
        for item, template in zip(
            reversed(self.ids.templates.children), self._templates, strict=False
        ):
            item.theme_bg_color = "Custom"
            item.md_bg_color = (
                self.theme_cls.secondaryContainerColor
                if template.name == name
                else self.theme_cls.transparentColor
            )

    def template_chosen(self) -> None:
        template = next((t for t in self._templates if t.name == self.template_name), None)
        if template is None:
            self.tell(S.WIZARD_PICK_TEMPLATE, "error")
            return
        box = self.ids.env_fields
        box.clear_widgets()
        self._env_fields = {}
        for name in template.env_names:
            if name in APP_PROVIDED:
                continue
            field = text_field(name, password="KEY" in name or "SECRET" in name)
            self._env_fields[name] = field
            box.add_widget(field)
        self.ids.env_text.text = S.WIZARD_ENV_TEXT if self._env_fields else S.WIZARD_ENV_NONE
        self.needs_iam = needs_iam(template.read_text())
        self._go(2)

    # -- 3 environment + apply ----------------------------------------------------------

    def save_environment(self) -> None:
        session = self.ctx.require_session()
        values = {n: f.text for n, f in self._env_fields.items() if f.text.strip()}
        services = self.services
        name = self.template_name

        def job() -> IamSettings | None:
            for key, value in values.items():
                self.ctx.core.set_env(session, key, value, scope="shared")
            text = services.config.new_from_template(name)
            self.ctx.core.apply_config(session, text, comment=f"template {name}")
            return services.tokens.iam_settings()

        def done(stored: IamSettings | None) -> None:
            self.iam_ready = stored is not None
            if stored is not None:
                self.ids.iam_form.fill(stored.masked())
            self._go(3)

        self.work("wizard-apply", job, done)

    # -- 4 token (optional) -------------------------------------------------------------

    def _iam_form_settings(self) -> IamSettings:
        settings: IamSettings = self.ids.iam_form.settings(self.services.tokens.iam_settings())
        return settings

    def test_iam(self) -> None:
        """One login with the settings as typed: the IAM's answer, nothing stored."""
        employee, password = self.ids.employee.text.strip(), self.ids.employee_password.text
        self.run_iam_test(self._iam_form_settings, employee, password)

    def get_token(self) -> None:
        """Saves the IAM settings (when the template needs them), then gets the token
        when an employee ID was typed."""
        if not self.iam_ready and not self.needs_iam:
            self.skip_token()
            return
        session = self.ctx.require_session()
        employee, password = self.ids.employee.text.strip(), self.ids.employee_password.text
        remember = self.ids.remember.active
        save_iam = self.needs_iam

        def job() -> str:
            warning = ""
            settings = self.ctx.core.iam_settings(session)
            if save_iam:
                settings = self._iam_form_settings()
                self.ctx.core.set_iam_settings(session, settings)
                warning = f"\n{settings.cleartext_warning}" if settings.cleartext_warning else ""
            if settings is not None and settings.browser:  # the company's page, no password
                self.ctx.core.token_login_browser(session, webbrowser.open)
                return S.SIGNED_IN + warning
            if not employee:
                return S.WIZARD_IAM_SAVED_NO_TOKEN + warning
            self.ctx.core.token_login(session, employee, password, remember=remember)
            return (S.WIZARD_TOKEN_RECEIVED if save_iam else S.TOKEN_RECEIVED) + warning

        def done(message: str) -> None:
            self.iam_ready = True
            self.ids.employee_password.text = ""
            self._go(4)
            self.tell(message, "success")

        self.work("iam-login", job, done)

    def skip_token(self) -> None:
        self._go(4)

    # -- 5 start ------------------------------------------------------------------------

    def start_proxy(self) -> None:
        if self.started and self.ctx.supervisor.state.value in ("running", "degraded"):
            self._go(5)
            return
        supervisor = self.ctx.supervisor

        tools = self.services.tools

        def job() -> tuple[str, dict[str, str]]:
            self.ctx.core.start_proxy()
            keys = {
                "openai": tools.key_for("openai-sdk"),
                "anthropic": tools.key_for("claude-code"),
                "gemini": tools.key_for("gemini-cli"),
            }
            return supervisor.url, keys

        def done(result: tuple[str, dict[str, str]]) -> None:
            self.started = True
            self.proxy_url, keys = result
            self.snippet = tool_snippet(self.proxy_url, keys)
            self._go(5)

        self.work("wizard-start", job, done)

    # -- 6 tools ------------------------------------------------------------------------

    def finish(self) -> None:
        self._on_finished(self.ctx.require_session())
