"""The window end to end: first run, dashboard with a real proxy, config errors, login,
roles. Tests run in file order on one app (see conftest)."""

from __future__ import annotations

import io
import json
import zipfile
from importlib.metadata import version
from pathlib import Path
from typing import Any

import httpx
import pytest

from bridge_app.ui.strings import NAV_ITEMS
from tests.gui.conftest import Driver

pytestmark = pytest.mark.gui

ADMIN, ADMIN_PW = "alice", "Correct-Horse-Battery-9"
USER, USER_PW, USER_NEW_PW = "bob", "Initial-Staple-Lamp-42", "Better-Orange-Kettle-77"
SIZES = {"800x480": (800, 480), "1280x800": (1280, 800)}


def test_first_run_wizard_creates_the_admin_and_starts_the_proxy(gui: Driver) -> None:
    gui.wait(lambda: gui.app.root.current == "wizard", what="the wizard")
    wizard = gui.app.root.get_screen("wizard")
    gui.idle()
    for size, dims in SIZES.items():
        gui.at_size(dims)
        gui.shot(f"wizard-{size}")
    ids = wizard.ids
    ids.admin_user.text = ADMIN
    ids.admin_display.text = "Alice Admin"
    ids.admin_password.text = ADMIN_PW
    ids.admin_repeat.text = ADMIN_PW
    gui.press(ids.next_button)
    gui.wait(lambda: wizard.step == 1, what="the template step")
    assert "Step 2 of 6" in ids.step_label.text
    # No template is chosen for the person: Next waits for a choice, shown with a preview.
    gui.idle()
    assert wizard.template_name == "" and ids.next_button.disabled
    items = list(reversed(ids.templates.children))
    demo = items[[t.name for t in wizard._templates].index("demo")]
    gui.press(demo)
    assert wizard.template_name == "demo"
    assert "Models: demo" in ids.template_preview.text
    gui.shot("wizard-template")
    gui.press(ids.back_button)  # Back to the admin step: the account stays created
    assert wizard.step == 0
    gui.press(ids.next_button)
    gui.wait(lambda: wizard.step == 1, what="the template step again")
    gui.press(ids.next_button)  # template → environment
    gui.wait(lambda: wizard.step == 2, what="the environment step")
    gui.press(ids.next_button)  # saves values, applies the template
    gui.wait(lambda: wizard.step == 3 or wizard.error, what="the token step")
    assert wizard.error == ""
    gui.press(ids.skip_button)
    assert wizard.step == 4
    gui.press(ids.start_button)
    gui.wait(lambda: wizard.step == 5 or wizard.error, timeout=120, what="the proxy start")
    assert wizard.error == ""
    url = gui.app.ctx.supervisor.url
    assert url in ids.snippet.text and "OPENAI_BASE_URL" in ids.snippet.text
    # Each family gets its own proxy key; the master key never leaves the app.
    assert gui.app.ctx.services.proxy.master_key() not in ids.snippet.text
    assert gui.app.ctx.services.tools.key_for("claude-code") in ids.snippet.text
    gui.shot("wizard-tools")
    gui.press(ids.next_button)
    gui.wait(lambda: gui.app.root.current == "main", what="the dashboard")
    assert gui.main.ids.pages.current == "dashboard"


def test_dashboard_shows_running_and_counts_requests(gui: Driver) -> None:
    dashboard = gui.page("dashboard")
    gui.wait(lambda: dashboard.state == "running", what="running state")
    assert "Stop" in [c.text for c in dashboard.ids.toggle.children if hasattr(c, "text")]

    def total() -> int:  # "Requests per second (3 in total)": what the chart's title says
        assert dashboard.requests.endswith(" in total"), dashboard.requests
        return int(dashboard.requests.split()[0])

    before = total()
    key = gui.app.ctx.services.proxy.master_key()
    response = httpx.post(
        f"{dashboard.address}/v1/chat/completions",
        headers={"Authorization": f"Bearer {key}"},
        json={"model": "demo", "messages": [{"role": "user", "content": "hello"}]},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    gui.wait(lambda: total() == before + 1, timeout=20, what="the request count")
    assert dashboard.address in dashboard.ids.state_label.text


def test_every_page_is_built_behind_the_login_and_the_collector_runs_again(gui: Driver) -> None:
    """Pages are built one per frame after the main screen; when the last one is, the
    collector pause of the start-up ends (runtime/_gc.py)."""
    import gc

    main = gui.main
    gui.wait(lambda: not main._unbuilt, what="every page built")
    assert gc.isenabled()


def test_a_bad_config_shows_its_line_numbered_error(gui: Driver) -> None:
    assert gui.main.show("config")
    config = gui.page("config")
    gui.idle()
    assert "model_list" in config.ids.editor.text
    config.ids.editor.text = "model_list:\n  - model_name: demo\n    litellm_params: [oops\n"
    gui.press(config.ids.validate_button)
    gui.idle()
    shown = " ".join(_texts(config.ids.problems))
    assert "Line 3" in shown or "Line 4" in shown, shown
    # Tapping the problem puts the cursor on its line.
    item = next(w for w in config.ids.problems.children if getattr(w, "problem_line", 0))
    gui.press(item)
    assert config.ids.editor.cursor_row == item.problem_line - 1


def test_environment_lists_entries_with_masked_values(gui: Driver) -> None:
    ctx = gui.app.ctx
    secret = "sk-internal-5f2b9c7e1d"
    ctx.services.env.set(ctx.session, "INTERNAL_LLM_API_KEY", secret, scope="shared")
    ctx.services.env.set(ctx.session, "HTTPS_PROXY", "http://proxy.corp.example:8080")
    assert gui.main.show("environment")
    screen = gui.page("environment")
    gui.wait(lambda: "INTERNAL_LLM_API_KEY" in _texts(screen.ids.entries), what="the entry")
    gui.idle()
    shown = " ".join(_texts(screen.ids.entries))
    assert "HTTPS_PROXY" in shown
    assert secret not in shown


def test_iam_settings_are_validated_tested_and_saved_from_the_token_screen(gui: Driver) -> None:
    from kivy.uix.scrollview import ScrollView

    from bridge_app.devtools import FakeIam

    tokens = gui.app.ctx.services.tokens
    gui.at_size((800, 480))  # the kiosk's size, where the form is longest

    def shown_at_800x480(name: str) -> None:
        scroll = next(w for w in screen.walk() if isinstance(w, ScrollView))
        scroll.scroll_to(screen.ids.iam_result, animate=False)
        gui.window_shot(name)

    with FakeIam({"E1": "employee-pw-1"}) as iam:
        assert gui.main.show("tokens")
        screen = gui.page("tokens")
        gui.idle()
        assert screen.is_admin and screen.ids.iam_box.opacity == 1
        form = screen.ids.iam_form
        gui.press(form.ids.shape_custom)
        assert form.shape == "custom"
        fields = form.inputs()
        fields["url"].text = iam.token_url
        fields["token_path"].text = "data.access_token"
        fields["body_format"].text = "xml"
        gui.press(screen.ids.iam_save)
        gui.idle()
        assert "body_format must be one of json, form" in screen.ids.iam_result.text
        assert tokens.iam_settings() is None  # nothing stored

        fields["body_format"].text = "json"
        fields["static_fields"].text = '{"realm": '  # cut short while typing
        gui.press(screen.ids.iam_save)
        gui.idle()
        assert "Extra login fields must be a JSON object" in screen.ids.iam_result.text
        assert tokens.iam_settings() is None
        fields["static_fields"].text = '["realm", "engineering"]'  # JSON, not an object
        gui.press(screen.ids.iam_save)
        gui.idle()
        assert "static_fields must be an object of names to strings" in (screen.ids.iam_result.text)
        assert tokens.iam_settings() is None
        shown_at_800x480("tokens-iam-refused-800x480")
        fields["static_fields"].text = '{"realm": "engineering"}'
        screen.ids.employee.text = "E1"
        screen.ids.password.text = "employee-pw-1"
        gui.press(screen.ids.iam_test)
        gui.idle()
        shown = screen.ids.iam_result.text
        assert "The IAM answered with a token (custom); nothing was stored." in shown, shown
        assert '"expires_in": 3600' in shown
        token = iam.latest()
        assert token is not None and token not in shown
        assert tokens.iam_settings() is None and tokens.current().token is None
        gui.shot("tokens-iam-test")

        gui.press(screen.ids.iam_save)
        gui.idle()
        assert "IAM settings saved. (custom, " in screen.ids.iam_result.text
        shown_at_800x480("tokens-iam-saved-800x480")
        stored = tokens.iam_settings()
        assert stored is not None and stored.url == iam.token_url
        assert dict(stored.static_fields) == {"realm": "engineering"}
        form.fill(stored.masked())  # what the screen shows when it opens again
        assert json.loads(fields["static_fields"].text) == {"realm": "engineering"}
        screen.ids.password.text = ""
    gui.at_size((1280, 800))


def test_the_dashboard_says_where_other_machines_reach_the_proxy() -> None:
    from bridge_app.ui.screens.dashboard import _exposure

    assert _exposure("127.0.0.1", 4000) == ""
    assert _exposure("::1", 4000) == ""
    shown = _exposure("0.0.0.0", 4000)
    assert shown.startswith("Other machines can reach this proxy at ")
    assert "127.0.0.1" not in shown and shown.endswith("(allowed by an admin).")


def test_the_token_screen_removes_a_project_and_forgets_the_password(gui: Driver) -> None:
    from bridge_app.services import Project

    services = gui.app.ctx.services
    session = gui.app.ctx.require_session()
    services.core.save_project(session, Project("P-OLD", "Retired project"))
    assert gui.main.show("tokens")
    screen = gui.page("tokens")
    screen.refresh()
    gui.idle()
    assert "Retired project" in " ".join(_texts(screen.ids.projects))
    screen.remove_project(Project("P-OLD", "Retired project"))
    gui.idle()
    shown = " ".join(_texts(gui.main))
    assert "Project Retired project removed." in shown
    assert "Retired project" not in " ".join(_texts(screen.ids.projects))
    assert all(p.project_id != "P-OLD" for p, _a in services.tokens.projects.projects(session))

    gui.press(screen.ids.forget_button)
    gui.idle()
    assert "The remembered employee password is forgotten" in " ".join(_texts(gui.main))
    events = services.audit.list_events(services.auth.login(ADMIN, ADMIN_PW), action="token")
    assert events[-1].action == "token.forget_password"


def _dialog_button(dialog, label: str):  # type: ignore[no-untyped-def]
    from kivymd.uix.button import MDButton, MDButtonText

    return next(
        w
        for w in dialog.walk()
        if isinstance(w, MDButton)
        and any(isinstance(c, MDButtonText) and c.text.startswith(label) for c in w.children)
    )


def _top_dialog(gui: Driver):  # type: ignore[no-untyped-def]
    from kivy.core.window import Window
    from kivymd.uix.dialog import MDDialog

    return gui.wait(
        lambda: next((w for w in Window.children if isinstance(w, MDDialog)), None),
        what="a dialog",
    )


def _rows(widget) -> str:  # type: ignore[no-untyped-def]
    """What a person reads in a RecycleView list: its rendered rows' labels."""
    from kivymd.uix.label import MDLabel

    return " ".join(w.text for w in widget.walk() if isinstance(w, MDLabel))


def test_the_remote_screen_adds_a_gateway_tests_it_and_uses_one_of_its_models(
    gui: Driver, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from kivymd.uix.textfield import MDTextField

    from bridge_app.devtools import FakeInternalUpstream
    from tests.integration._litellm_cli import StandaloneLiteLLM
    from tests.integration.test_remote_gateways import GATEWAY_KEY, gateway_config

    work = tmp_path_factory.mktemp("gui-gateway")
    upstream = FakeInternalUpstream().start()
    gateway = StandaloneLiteLLM(
        gateway_config(work / "gateway.yaml", upstream.url),
        env={"GATEWAY_MASTER_KEY": GATEWAY_KEY},
    ).start()
    try:
        assert gui.main.show("remote")
        screen = gui.page("remote")
        gui.idle()
        gui.wait(lambda: "No remote gateway yet" in _rows(screen.ids.gateways), what="empty")

        for key, expected in (("sk-wrong-key-0000000", "refused the key (401"), (GATEWAY_KEY, "")):
            gui.press(screen.ids.add_gateway_button)
            dialog = _top_dialog(gui)
            name, url, key_field, _ca = [w for w in dialog.walk() if isinstance(w, MDTextField)]
            name.text, url.text, key_field.text = "team", gateway.url, key
            gui.press(_dialog_button(dialog, "Add gateway"))
            gui.idle()
            if expected:
                assert expected in screen.ids.result.text
                assert screen.failed  # shown as an error, in full
        assert f"LiteLLM:  {version('litellm')}" in screen.ids.result.text, screen.ids.result.text
        assert not screen.failed
        gui.wait(lambda: "key stored" in _rows(screen.ids.gateways), what="the gateway row")
        assert gateway.url in _rows(screen.ids.gateways)
        assert GATEWAY_KEY not in _rows(screen) + screen.ids.result.text

        # Tap the gateway: Models -> pick its model -> it is used here in one step.
        row = next(w for w in screen.ids.gateways.walk() if getattr(w, "action", None))
        gui.press(row)
        gui.press(_dialog_button(_top_dialog(gui), "Models"))
        gui.idle()
        gui.window_shot("remote-models")
        gui.press(_dialog_button(_top_dialog(gui), "Use here: team-chat"))
        gui.idle()
        assert "Local model team-chat -> team/team-chat" in screen.ids.result.text
        gui.wait(
            lambda: "team-chat · team-chat-1 · healthy" in _rows(screen.ids.deployments),
            timeout=120,
            what="the new deployment's state",
        )
        assert "litellm_proxy/team-chat @ " + gateway.url in _rows(screen.ids.deployments)

        # A request to the demo model: the screen names the deployment that answered it.
        key = gui.app.ctx.services.proxy.master_key()
        answer = httpx.post(
            f"{gui.app.ctx.supervisor.url}/v1/chat/completions",
            headers={"Authorization": f"Bearer {key}"},
            json={"model": "demo", "messages": [{"role": "user", "content": "hello"}]},
            timeout=30,
        )
        assert answer.status_code == 200, answer.text
        gui.wait(lambda: "demo -> demo#1" in _rows(screen.ids.recent), timeout=20, what="recent")
        for size, dims in SIZES.items():
            gui.at_size(dims)
            gui.shot(f"remote-{size}")

        # A logical model through the form, with a priority; a typo in the routing form is
        # said on the screen and changes nothing.
        gui.press(screen.ids.add_deployment_button)
        dialog = _top_dialog(gui)
        group, model, base, keys, order, _timeout = [
            w for w in dialog.walk() if isinstance(w, MDTextField)
        ]
        group.text, model.text, order.text = "fast", "openai/up-model", "1"
        base.text, keys.text = "http://127.0.0.1:9/v1", ""
        gui.press(_dialog_button(dialog, "OK"))
        gui.idle()
        assert "Added fast-1." in screen.ids.result.text, screen.ids.result.text
        gui.wait(lambda: "fast · fast-1 · healthy" in _rows(screen.ids.deployments), what="fast")
        gui.press(screen.ids.routing_button)
        dialog = _top_dialog(gui)
        _retries, _t, cooldown, *_rest = [w for w in dialog.walk() if isinstance(w, MDTextField)]
        cooldown.text = "soon"
        gui.press(_dialog_button(dialog, "OK"))
        assert screen.ids.result.text == "not a number: soon" and screen.failed
        dialog.dismiss()
        row = next(
            w
            for w in screen.ids.deployments.walk()
            if getattr(w, "action", None) and "fast-1" in getattr(w, "headline", "")
        )
        gui.press(row)
        gui.press(_dialog_button(_top_dialog(gui), "Remove"))
        gui.idle()
        gui.wait(lambda: "fast-1" not in _rows(screen.ids.deployments), what="fast removed")

        # The gateway's row and dialog say which local models use it (what Remove takes).
        assert "http · key stored · used by team-chat-1" in _rows(screen.ids.gateways)
        gateway_row = next(w for w in screen.ids.gateways.walk() if getattr(w, "action", None))
        gui.press(gateway_row)
        dialog = _top_dialog(gui)
        said = " ".join(str(getattr(w, "text", "")) for w in dialog.walk())
        assert f"{gateway.url} (http)" in said and "Used by team-chat-1" in said, said
        for size, dims in SIZES.items():
            gui.at_size(dims)
            gui.window_shot(f"remote-gateway-used-by-{size}")
        dialog.dismiss()
        gui.idle()

        # Tap the remote deployment to remove it, then the gateway: the proxy no longer
        # needs an internal token (it was degraded without one) and runs as before.
        row = next(
            w
            for w in screen.ids.deployments.walk()
            if getattr(w, "action", None) and "team-chat-1" in getattr(w, "headline", "")
        )
        gui.press(row)
        gui.press(_dialog_button(_top_dialog(gui), "Remove"))
        gui.idle()
        assert "Removed team-chat-1." in screen.ids.result.text
        gui.wait(lambda: "team-chat" not in _rows(screen.ids.deployments), what="row gone")
        gateway_row = next(w for w in screen.ids.gateways.walk() if getattr(w, "action", None))
        gui.press(gateway_row)
        gui.press(_dialog_button(_top_dialog(gui), "Remove"))
        gui.press(_dialog_button(_top_dialog(gui), "Remove"))  # the confirmation
        gui.idle()
        assert "Removed the gateway team and its key." in screen.ids.result.text
        gui.wait(lambda: "No remote gateway yet" in _rows(screen.ids.gateways), what="no gateway")
        supervisor = gui.app.ctx.supervisor
        gui.wait(lambda: supervisor.state.value == "running", timeout=60, what="running again")
    finally:
        gateway.stop()
        upstream.stop()


def test_windows_people_are_shown_powershell_and_cmd_settings(gui: Driver) -> None:
    from kivy.core.window import Window
    from kivymd.uix.dialog import MDDialog

    tools = gui.app.ctx.services.tools
    assert gui.main.show("tools")
    screen = gui.page("tools")
    card = tools.card("claude-code")
    before = tools.platform
    tools.platform = "windows"  # what ToolsService decides on a Windows machine
    try:
        screen.show_settings(card)
        dialog = gui.wait(
            lambda: next((w for w in Window.children if isinstance(w, MDDialog)), None),
            what="the settings dialog",
        )
        gui.wait(lambda: any("$env:" in t for t in _texts(dialog)), what="the settings text")
        gui.window_shot("tools-settings-windows")
        shown = "\n".join(_texts(dialog))
        assert "# PowerShell" in shown and "$env:ANTHROPIC_BASE_URL = '" in shown
        assert "# Command Prompt (cmd)" in shown and "set ANTHROPIC_BASE_URL=" in shown
        assert "export " not in shown
        _copy_is_a_secret_copy(gui, dialog)
        dialog.dismiss()
        gui.pump(10)
    finally:
        tools.platform = before


def _copy_is_a_secret_copy(gui: Driver, dialog: Any) -> None:
    """The snippets carry the tool's key: Copy fills the clipboard (on Windows out of its
    history) and clears it again after the 30 s, as for an environment entry."""
    from kivy.core.clipboard import Clipboard

    from bridge_app.ui import _clipboard
    from bridge_app.ui.widgets import CopyBlock

    blocks = [w for w in dialog.walk(restrict=True) if isinstance(w, CopyBlock)]
    assert [b.secret for b in blocks if b.text.startswith("http://")] == [False]  # the URL
    block = next(b for b in blocks if "sk-bridge-" in b.text)
    assert block.secret
    saved = _clipboard.CLIPBOARD_SECONDS
    _clipboard.CLIPBOARD_SECONDS = 1
    try:
        gui.press(block.ids.copy_button)
        gui.wait(lambda: Clipboard.paste() == block.text, what="the snippet on the clipboard")
        gui.wait(lambda: Clipboard.paste() == "", what="the clipboard cleared")
    finally:
        _clipboard.CLIPBOARD_SECONDS = saved


def test_every_screen_at_small_and_large_sizes(gui: Driver) -> None:
    for size, dims in SIZES.items():
        gui.at_size(dims)
        for name in [item[0] for item in NAV_ITEMS]:
            assert gui.main.show(name)
            gui.idle()
            path = gui.shot(f"{name}-{size}")
            assert path.stat().st_size > 1000


def test_login_wrong_then_right_and_a_user_cannot_reach_admin_screens(gui: Driver) -> None:
    from kivy.core.window import Window
    from kivymd.uix.button import MDButton, MDButtonText
    from kivymd.uix.dialog import MDDialog
    from kivymd.uix.textfield import MDTextField

    # The admin creates the account through the Users screen's dialog.
    assert gui.main.show("users")
    users = gui.page("users")
    gui.idle()
    gui.press(users.ids.create_button)
    gui.pump(10)
    dialog = next(w for w in Window.children if isinstance(w, MDDialog))
    username, _display, password = [w for w in dialog.walk() if isinstance(w, MDTextField)]
    username.text, password.text = USER, USER_PW
    gui.window_shot("users-create")
    create = next(
        w
        for w in dialog.walk()
        if isinstance(w, MDButton)
        and any(isinstance(c, MDButtonText) and c.text == "Create user" for c in w.children)
    )
    gui.press(create)
    gui.wait(lambda: USER in " ".join(_texts(users.ids.users)), what="the new account")
    gui.main.logout()
    login = gui.app.root.get_screen("login")
    gui.wait(lambda: gui.app.root.current == "login", what="the login screen")
    login.ids.username.text = USER
    login.ids.password.text = "wrong-password"
    gui.press(login.ids.submit)
    gui.wait(lambda: login.error, what="the login error")
    assert "Wrong username or password" in login.error
    gui.shot("login-error")
    login.ids.password.text = USER_PW
    gui.press(login.ids.submit)
    gui.wait(lambda: login.changing, what="the change-password form")
    login.ids.current.text = USER_PW
    login.ids.new.text = USER_NEW_PW
    login.ids.again.text = USER_NEW_PW
    gui.shot("login-change-password")
    gui.press(login.ids.submit)
    gui.wait(lambda: gui.app.root.current == "main", what="the main screen")
    nav = {btn_name for btn_name in gui.main._buttons}
    assert "users" not in nav and "audit" not in nav
    assert "dashboard" in nav
    assert not gui.main.show("users")
    assert not gui.main.show("audit")
    assert gui.main.ids.pages.current not in ("users", "audit")


def _texts(widget) -> list[str]:  # type: ignore[no-untyped-def]
    out = []
    for child in widget.walk():
        text = getattr(child, "text", None)
        if isinstance(text, str) and text:
            out.append(text)
    return out


def test_idle_lock_asks_the_password_while_the_proxy_keeps_running(gui: Driver) -> None:
    ctx = gui.app.ctx
    ctx.session.lock()  # what the idle timer does after ui.idle_lock_minutes
    gui.wait(lambda: gui.app.root.current == "lock", what="the lock screen")
    assert ctx.supervisor.state.value == "running"
    lock = gui.app.root.get_screen("lock")
    lock.ids.password.text = "not-my-password"
    gui.press(lock.ids.unlock_button)
    gui.wait(lambda: lock.error, what="the unlock error")
    assert gui.app.root.current == "lock"
    gui.shot("lock")
    lock.ids.password.text = USER_NEW_PW
    gui.press(lock.ids.unlock_button)
    gui.wait(lambda: gui.app.root.current == "main", what="the unlocked window")


def test_kiosk_mode_does_not_close_without_an_admin_password(gui: Driver) -> None:
    from kivy.core.window import Window
    from kivymd.uix.dialog import MDDialog

    gui.app.kiosk = True
    try:
        assert Window.dispatch("on_request_close") is True  # the window stays open
        gui.pump(10)
        dialogs = [w for w in Window.children if isinstance(w, MDDialog)]
        assert dialogs, "the quit dialog asking for an admin password is shown"
        gui.window_shot("kiosk-quit")
        for dialog in dialogs:
            dialog.dismiss()
        gui.pump(10)
    finally:
        gui.app.kiosk = False


def test_the_dashboard_button_stops_and_starts_the_proxy(gui: Driver) -> None:
    assert gui.main.show("dashboard")
    dashboard = gui.page("dashboard")
    gui.press(dashboard.ids.toggle)
    gui.wait(lambda: dashboard.state == "stopped" and not dashboard.busy, what="stopped")
    gui.press(dashboard.ids.toggle)
    gui.wait(
        lambda: dashboard.state == "running" and not dashboard.busy, timeout=120, what="running"
    )
    assert httpx.get(f"{dashboard.address}/health/liveliness", timeout=10).status_code == 200


def test_settings_switch_to_the_dark_theme_and_remember_it(gui: Driver) -> None:
    """bob is a user: the theme is his to choose, the idle lock is the machine's (admins)."""
    assert gui.main.show("settings")
    settings = gui.page("settings")
    gui.idle()
    services = gui.app.ctx.services
    idle_before = services.settings.get("ui.idle_lock_minutes")
    settings.ids.dark.active = True
    settings.ids.idle.text = "30"
    gui.press(settings.ids.save_button)
    gui.idle()
    shown = " ".join(_texts(gui.main))
    assert "Permission denied: changing ui.idle_lock_minutes needs an admin account." in shown
    assert services.settings.get("ui.theme") == "Light"  # one save: all of it or nothing
    assert settings.ids.idle.text == "30"  # what he typed stays

    settings.ids.idle.text = str(idle_before)
    gui.press(settings.ids.save_button)
    gui.idle()
    assert gui.app.theme_cls.theme_style == "Dark"
    assert services.settings.get("ui.theme") == "Dark"
    assert services.settings.get("ui.idle_lock_minutes") == idle_before
    gui.at_size((800, 480))
    assert gui.main.show("dashboard")
    gui.shot("dashboard-dark-800x480")


def test_opening_at_login_is_switched_on_and_off_from_settings(
    gui: Driver, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """bob turns on "Open the app when I log in": his own autostart entry appears (here
    under a private XDG_CONFIG_HOME), and goes away when he turns it off."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_CONFIG_DIRS", str(tmp_path / "no-system-entries"))
    entry = tmp_path / "config" / "autostart" / "litellm-bridge.desktop"
    assert gui.main.show("settings")
    settings = gui.page("settings")
    settings.refresh()
    gui.wait(lambda: settings._login_on is False, what="the login entry read")
    assert "Open the app when I log in to this computer" in _texts(settings)
    assert not any("set by your company" in t for t in _texts(settings))
    settings.ids.start_at_login.active = True
    gui.press(settings.ids.save_button)
    gui.wait(entry.exists, what="the autostart entry")
    gui.wait(lambda: "Settings saved." in " ".join(_texts(gui.main)), what="saved")
    assert "Exec=" in entry.read_text(encoding="utf-8")
    gui.idle()  # the change feed's refresh has read it again: still on, not a stale off
    assert settings.ids.start_at_login.active is True
    gui.at_size((800, 480))
    gui.shot("settings-start-at-login-800x480")
    settings.ids.start_at_login.active = False
    gui.press(settings.ids.save_button)
    gui.wait(lambda: not entry.exists(), what="the entry removed")


def test_policy_quota_banner_managed_settings_usage_and_policy_screens(
    gui: Driver, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A company policy applied by an admin (elsewhere): the person logged in (bob, a
    user) sees the quota banner, settings and config managed by the company (opening at
    login too), their usage per day and model, and the policy in force."""
    login_config = tmp_path_factory.mktemp("xdg")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(login_config))
    monkeypatch.setenv("XDG_CONFIG_DIRS", str(login_config / "none"))
    services = gui.app.ctx.services
    admin = services.auth.login(ADMIN, ADMIN_PW)
    policy_file = tmp_path_factory.mktemp("policy") / "policy.yaml"
    policy_file.write_text(
        "config_lock: admin_only\nlimits:\n  per_user: {requests_per_minute: 3}\n"
        "ui:\n  start_at_login: true\n",
        encoding="utf-8",
    )
    services.policy.apply(admin, policy_file)
    dashboard = gui.page("dashboard")
    gui.wait(lambda: dashboard.state == "running", what="running state")
    key = services.proxy.master_key()
    codes = [
        httpx.post(
            f"{dashboard.address}/v1/chat/completions",
            headers={"Authorization": f"Bearer {key}"},
            json={"model": "demo", "messages": [{"role": "user", "content": "hi"}]},
            timeout=30,
        ).status_code
        for _ in range(4)
    ]
    assert codes == [200, 200, 200, 429]

    assert gui.main.show("dashboard")
    gui.wait(lambda: "Quota reached" in dashboard.ids.quota_banner.text, what="the banner")
    assert "3 of 3 requests per minute" in dashboard.ids.quota_banner.text
    gui.shot("dashboard-quota-banner")

    assert gui.main.show("settings")
    settings = gui.page("settings")
    gui.idle()
    assert "managed by your company" in settings.ids.managed.text
    assert settings.ids.save_button.disabled
    # The policy opens the app at login: the switch is on, greyed, and says who decides;
    # reading it put the entry in place.
    gui.wait(lambda: settings.login_managed, what="the login entry read")
    assert settings.ids.start_at_login.active and settings.ids.start_at_login.disabled
    assert "Open the app when I log in to this computer (set by your company's policy)" in _texts(
        settings
    )
    assert (login_config / "autostart" / "litellm-bridge.desktop").exists()
    gui.at_size((800, 480))
    gui.shot("settings-start-at-login-managed-800x480")
    gui.at_size((1280, 800))
    # The rest of the session runs without it: no later screen may write a login entry
    # outside this test's folder.
    policy_file.write_text(
        "config_lock: admin_only\nlimits:\n  per_user: {requests_per_minute: 3}\n",
        encoding="utf-8",
    )
    services.policy.apply(admin, policy_file)
    assert services.policy.policy().start_at_login is None

    assert gui.main.show("config")
    config = gui.page("config")
    gui.idle()
    gui.press(config.ids.apply_button)
    gui.idle()
    assert "The LiteLLM config is managed by your company" in config.summary

    assert gui.main.show("usage")
    usage = gui.page("usage")
    services.proxy.usage.flush()
    usage.refresh()
    gui.idle()
    assert "requests" in usage.ids.summary.text, usage.ids.summary.text
    assert any(row["headline"] == "demo" for row in usage.rows)
    assert usage.ids.day_chart.values and usage.ids.model_chart.values
    gui.shot("usage")

    # Export from the window: the file a person named, the screen says where, and the
    # audit log has it like an export from the CLI (the core's export_usage, issue 30).
    from kivymd.uix.textfield import MDTextField

    exported = tmp_path_factory.mktemp("usage-export") / "bob-usage.csv"
    usage.export()
    dialog = _top_dialog(gui)
    (target,) = [w for w in dialog.walk() if isinstance(w, MDTextField)]
    target.text = str(exported)
    gui.press(_dialog_button(dialog, "Export"))
    gui.wait(lambda: exported.is_file(), what="the exported file")
    gui.wait(lambda: usage.notice == f"Exported to {exported}.", what="the export said")
    assert usage.notice_kind == "success" and "requests" in usage.summary  # totals stay
    gui.shot("usage-exported")
    # A folder that does not exist: the reason on the screen, no file, no audit event.
    missing = exported.parent / "no-such-folder" / "usage.csv"
    usage.export()
    dialog = _top_dialog(gui)
    (target,) = [w for w in dialog.walk() if isinstance(w, MDTextField)]
    target.text = str(missing)
    gui.press(_dialog_button(dialog, "Export"))
    gui.wait(lambda: usage.notice_kind == "error", what="the failed export said")
    assert usage.notice.startswith(
        f"Cannot write {missing}: the folder {missing.parent} does not exist."
    ), usage.notice
    assert not missing.exists()
    gui.shot("usage-export-refused")
    assert exported.read_text(encoding="utf-8-sig").splitlines()[0].startswith("day,requests")
    events = services.audit.list_events(admin, action="export")
    assert ("bob", str(exported), "ok") in [(e.actor, e.target, e.outcome) for e in events]
    assert str(missing) not in [e.target for e in events]

    assert gui.main.show("policy")
    policy = gui.page("policy")
    gui.idle()
    assert "applied by alice from policy.yaml" in policy.ids.source.text
    assert "Managed by your company" in policy.ids.managed.text
    assert "App settings" in policy.ids.managed.text
    assert "3 of 3 requests per minute" in policy.ids.quotas.text
    assert "config_lock: admin_only" in policy.ids.content.text
    gui.shot("policy")

    policy_file.write_text("config_lock: off\n", encoding="utf-8")
    services.policy.apply(admin, policy_file)
    services.auth.logout(admin)


def test_diagnostics_export_shows_progress_and_its_outcome_in_the_screen(
    gui: Driver, tmp_path: Path
) -> None:
    assert gui.main.show("diagnostics")
    screen = gui.page("diagnostics")
    gui.idle()
    assert screen.ids.export_path.text.endswith(".zip")  # a ready default
    # Where TLS trust comes from (issue 28): the machine's store, as `doctor` says it.
    gui.wait(lambda: not screen.busy and screen.ids.checks.data, what="the checks")
    data = screen.ids.checks.data
    rows = {row["headline"]: row["supporting"] for row in data}
    assert str(rows.get("OK · TLS trust", "")).startswith("the system's CAs ("), rows
    # Scrolled to it, the row is drawn as a person reads it.
    index = [row["headline"] for row in data].index("OK · TLS trust")
    screen.ids.checks.scroll_y = max(0.0, 1 - index / max(1, len(data) - 1))
    gui.idle()
    drawn = [w.headline for w in screen.ids.checks.children[0].children]
    assert "OK · TLS trust" in drawn, drawn
    gui.shot("diagnostics-tls-trust")
    screen.ids.checks.scroll_y = 1.0
    target = tmp_path / "support" / "diag.zip"
    screen.ids.export_path.text = str(target)
    fractions: list[float] = []
    busy: list[bool] = []
    screen.bind(export_progress=lambda _w, value: fractions.append(value))
    screen.bind(
        exporting=lambda _w, value: busy.append(value and screen.ids.export_button.disabled)
    )
    gui.press(screen.ids.export_button)
    gui.wait(lambda: bool(busy), what="the export to start")
    assert busy[0]  # the button is disabled while it runs
    gui.wait(lambda: not screen.exporting, timeout=120, what="the export")
    message = screen.ids.export_message.text
    assert message.startswith(f"Diagnostics written to {target}")
    assert "no passwords, keys or tokens" in message
    assert any(0 < f < 1 for f in fractions) and fractions[-1] == 1.0
    gui.shot("diagnostics-exported")
    data = target.read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert "logs/proxy.log" in zf.namelist()
        texts = [zf.read(name) for name in zf.namelist()]
        # An employee's export: the audit parts need an admin, and say so.
        assert b"needs an admin" in zf.read("audit-verify.json")
    for secret in (ADMIN_PW, USER_PW, USER_NEW_PW, gui.app.ctx.services.proxy.master_key()):
        assert secret.encode() not in data
        assert all(secret.encode() not in text for text in texts)

    screen.ids.export_path.text = str(tmp_path / "diag.txt")
    gui.press(screen.ids.export_button)
    gui.wait(lambda: not screen.exporting, timeout=60, what="the refused export")
    assert screen.export_failed
    assert screen.ids.export_message.text.startswith(
        "The diagnostics were not exported: diag.txt is not a .zip file name."
    )
    gui.shot("diagnostics-refused")


def test_the_dashboard_shows_a_banner_when_an_update_is_available(
    gui: Driver, tmp_path: Path
) -> None:
    import threading
    from functools import partial
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    from tests.integration.test_updates import NEW, TufRepo, _bundle

    repo = TufRepo(tmp_path / "repo")
    repo.publish(NEW, _bundle(good=True))
    handler = partial(SimpleHTTPRequestHandler, directory=str(repo.dir))
    handler.log_message = lambda *_a, **_k: None  # type: ignore[attr-defined]
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        services = gui.app.ctx.services
        services.updates.trust_root(repo.dir / "metadata" / "root.json")
        services.settings.set("updates.source", f"http://127.0.0.1:{server.server_address[1]}")
        assert gui.main.show("dashboard")
        dashboard = gui.page("dashboard")
        dashboard._update_checked = -3600.0  # the hourly check is due
        dashboard.refresh()
        gui.wait(lambda: dashboard.ids.update_banner.text, timeout=60, what="the banner")
        assert dashboard.ids.update_banner.text.startswith(f"Version {NEW} is available")
        assert dashboard.ids.update_banner.opacity == 1
        gui.shot("dashboard-update-banner")
    finally:
        server.shutdown()
        thread.join(5)


def test_a_tap_on_a_navigation_button_ripples_and_opens_its_page(gui: Driver) -> None:
    """Buttons start without the ripple's framebuffer (bridge_app/ui/widgets/_ripple.py);
    a real touch makes it, draws the ripple and still does what the button does."""
    from importlib.metadata import version

    from kivy.tests.common import UnitTestTouch
    from kivymd.uix.behaviors.ripple_behavior import M3CommonRipple

    from bridge_app.ui.widgets._ripple import KIVYMD_VERSION, PINNED_SHA256, ripple_source_hash

    assert version("kivymd") == KIVYMD_VERSION and ripple_source_hash() == PINNED_SHA256, (
        "KivyMD's ripple code changed: re-read bridge_app/ui/widgets/_ripple.py, then pin it"
    )
    main = gui.main
    assert main.show("dashboard")
    gui.pump(5)
    button = main._buttons["logs"]
    assert isinstance(button, M3CommonRipple)
    assert button.fbo is None, "the framebuffer should wait for the first touch"
    untouched = [w for w in gui.app.root.walk() if isinstance(w, M3CommonRipple)]
    assert len(untouched) > 10 and all(w.fbo is None for w in untouched if w is not button)
    x, y = button.to_window(*button.center)
    touch = UnitTestTouch(x, y)
    touch.touch_down()
    gui.wait(lambda: button.fbo is not None, timeout=10, what="the ripple's framebuffer")
    gui.wait(
        lambda: button.active_canvas.get_group("m3_ripple_behavior"),
        timeout=10,
        what="the ripple drawn",
    )
    touch.touch_up()
    gui.wait(lambda: main.ids.pages.current == "logs", timeout=10, what="the Logs page")
    gui.shot("ripple-tap-logs")
