"""The window end to end: first run, dashboard with a real proxy, config errors, login,
roles. Tests run in file order on one app (see conftest)."""

from __future__ import annotations

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
    gui.shot("wizard-tools")
    gui.press(ids.next_button)
    gui.wait(lambda: gui.app.root.current == "main", what="the dashboard")
    assert gui.main.ids.pages.current == "dashboard"


def test_dashboard_shows_running_and_counts_requests(gui: Driver) -> None:
    dashboard = gui.page("dashboard")
    gui.wait(lambda: dashboard.state == "running", what="running state")
    assert "Stop" in [c.text for c in dashboard.ids.toggle.children if hasattr(c, "text")]
    before = int(dashboard.requests)
    key = gui.app.ctx.services.proxy.master_key()
    response = httpx.post(
        f"{dashboard.address}/v1/chat/completions",
        headers={"Authorization": f"Bearer {key}"},
        json={"model": "demo", "messages": [{"role": "user", "content": "hello"}]},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    gui.wait(lambda: int(dashboard.requests) > before, timeout=20, what="the request count")
    assert dashboard.address in dashboard.ids.state_label.text


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
    assert gui.main.show("settings")
    settings = gui.page("settings")
    gui.idle()
    settings.ids.dark.active = True
    settings.ids.idle.text = "30"
    gui.press(settings.ids.save_button)
    gui.idle()
    assert gui.app.theme_cls.theme_style == "Dark"
    assert gui.app.ctx.services.settings.get("ui.theme") == "Dark"
    assert gui.app.ctx.session.idle_lock_minutes == 30
    gui.at_size((800, 480))
    assert gui.main.show("dashboard")
    gui.shot("dashboard-dark-800x480")
