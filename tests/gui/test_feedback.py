"""Every outcome is read in the window itself, in plain widgets that draw on software
OpenGL: the status line above each screen and the error line inside dialogs, which keep
what was typed when they refuse it. Tests run in file order on one app (see conftest)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from bridge_app.runtime import AppPaths
from tests.gui.conftest import Driver

pytestmark = pytest.mark.gui

ADMIN, ADMIN_PW = "dana", "Quiet-Violet-Harbour-31"
PERSONAL = "DANA_PERSONAL_KEY"


@pytest.fixture(scope="module")
def gui_home(gui_home: AppPaths) -> Iterator[AppPaths]:
    # An installation whose admin exists already: the window opens on the login screen.
    from bridge_app.services import build_services

    services = build_services(gui_home)
    services.auth.create_first_admin(ADMIN, ADMIN_PW, display_name="Dana")
    # The proxy starts with the app, but its config needs an entry of Dana's own.
    session = services.auth.login(ADMIN, ADMIN_PW)
    services.env.set(session, PERSONAL, "personal-value-123", scope="personal")
    from bridge_app.envvars import APP_PROVIDED

    services.config.set_known_env(lambda: {PERSONAL, *APP_PROVIDED, *os.environ})
    document = services.config.open_document(services.config.new_from_template("demo"))
    document.add_model(
        "mine", "openai/gpt-4o-mini", api_base="http://127.0.0.1:9/v1", api_key_env=PERSONAL
    )
    services.config.apply(document.to_text(), author=ADMIN)
    services.settings.set("proxy.autostart", True)
    services.auth.logout(session)
    services.close()
    # Tools write into their own files under the home folder: a throwaway one here.
    old_home = os.environ.get("HOME")
    os.environ["HOME"] = str(gui_home.data_dir.parent / "user-home")
    (gui_home.data_dir.parent / "user-home").mkdir(parents=True, exist_ok=True)
    yield gui_home
    if old_home is not None:
        os.environ["HOME"] = old_home


def _dialog() -> Any:
    from kivy.core.window import Window
    from kivymd.uix.dialog import MDDialog

    dialogs = [w for w in Window.children if isinstance(w, MDDialog)]
    return dialogs[0] if dialogs else None


def _fields(dialog: Any) -> list[Any]:
    from kivymd.uix.textfield import MDTextField

    return [w for w in dialog.walk() if isinstance(w, MDTextField)]


def _press_text(gui: Driver, root: Any, text: str) -> None:
    from kivymd.uix.button import MDButton, MDButtonText

    btn = next(
        w
        for w in root.walk()
        if isinstance(w, MDButton)
        and any(isinstance(c, MDButtonText) and c.text == text for c in w.children)
    )
    gui.press(btn)


def _banner(gui: Driver) -> Any:
    return gui.main.ids.banner


def test_autostart_waits_for_the_login_when_the_config_needs_personal_entries(
    gui: Driver,
) -> None:
    gui.wait(lambda: gui.app.root.current == "login", what="the login screen")
    gui.idle()
    dashboard = gui.page("dashboard")
    assert f"The proxy starts after you log in: the config needs your entries {PERSONAL}." in (
        dashboard.notice
    )
    assert gui.app.ctx.supervisor.state.value == "stopped"
    login = gui.app.root.get_screen("login")
    login.ids.username.text, login.ids.password.text = ADMIN, ADMIN_PW
    gui.press(login.ids.submit)
    gui.wait(lambda: gui.app.root.current == "main", what="the main screen")
    gui.wait(
        lambda: "Proxy started at" in _banner(gui).text, timeout=180, what="the start after login"
    )
    assert gui.app.ctx.supervisor.state.value in ("running", "degraded")
    gui.idle()
    gui.press(_banner(gui).ids.close_button)
    assert _banner(gui).text == "" and dashboard.notice == ""


def test_a_weak_password_keeps_the_create_dialog_open_with_its_reason(gui: Driver) -> None:
    assert gui.main.show("users")
    users = gui.page("users")
    gui.idle()
    gui.press(users.ids.create_button)
    gui.pump(10)
    dialog = _dialog()
    username, display, password = _fields(dialog)
    username.text, display.text, password.text = "carol", "Carol", "short"
    _press_text(gui, dialog, "Create user")
    gui.idle()
    assert _dialog() is dialog, "the refused dialog stays open"
    assert "too short" in dialog.error_label.text
    assert username.text == "carol" and display.text == "Carol"  # nothing typed is lost
    gui.window_shot("users-create-refused")
    password.text = "Sturdy-Pelican-Window-58"
    _press_text(gui, dialog, "Create user")
    gui.idle()
    gui.wait(lambda: _dialog() is None, what="the dialog to close")
    assert "carol created" in _banner(gui).text
    assert _banner(gui).kind == "success"
    gui.wait(lambda: "carol" in " ".join(_texts(users.ids.users)), what="the new account")


def test_a_wrong_password_in_reveal_is_said_in_the_dialog(gui: Driver) -> None:
    ctx = gui.app.ctx
    secret = "sk-corp-0a1b2c3d4e5f"
    ctx.services.env.set(ctx.session, "CORP_API_KEY", secret, scope="personal")
    assert gui.main.show("environment")
    env = gui.page("environment")
    gui.wait(lambda: "CORP_API_KEY" in _texts(env.ids.entries), what="the entry")
    gui.idle()
    entry = next(e for e in ctx.services.env.entries(ctx.session) if e.name == "CORP_API_KEY")
    env.reveal(entry)
    gui.pump(10)
    dialog = _dialog()
    (field,) = _fields(dialog)
    field.text = "not-my-password"
    _press_text(gui, dialog, "Reveal")
    gui.idle()
    assert _dialog() is dialog
    assert "Wrong username or password" in dialog.error_label.text
    assert field.text == "not-my-password"
    gui.window_shot("environment-reveal-refused")
    field.text = ADMIN_PW
    _press_text(gui, dialog, "Reveal")
    gui.idle()
    gui.wait(lambda: _dialog() is None, what="the dialog to close")
    gui.wait(lambda: secret in " ".join(_texts(env.ids.entries)), what="the revealed value")
    assert "CORP_API_KEY is shown for 10 s" in _banner(gui).text


def test_a_dialog_that_cannot_be_drawn_falls_back_to_a_plain_one_that_still_works(
    gui: Driver, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """On a driver where the dialog's effects fail (Kivy raises this from its FBO code on
    Mesa llvmpipe), the same dialog shows in plain widgets: typed into, refused with its
    reason, kept, then accepted."""
    import logging

    from kivymd.uix.dialog import MDDialog

    from bridge_app.ui.widgets import PlainDialog

    def broken_open(self: MDDialog) -> None:
        raise Exception("FBO Initialization failed: Incomplete attachment (36054)")

    monkeypatch.setattr(MDDialog, "open", broken_open)
    caplog.set_level(logging.ERROR, logger="bridge_app.ui._base")
    assert gui.main.show("users")
    users = gui.page("users")
    gui.idle()
    gui.press(users.ids.create_button)
    gui.pump(10)
    assert _dialog() is None, "the broken dialog is not left half-open"
    plain = _plain()
    assert plain is not None, "the dialog shows as a plain window instead"
    assert "Create user" in _texts(plain)
    assert any("could not draw the dialog" in r.getMessage() for r in caplog.records)
    username, display, password = _fields(plain)
    username.text, display.text, password.text = "erin", "Erin", "short"
    _press_text(gui, plain, "Create user")
    gui.idle()
    assert _plain() is plain, "the refused dialog stays open"
    assert "too short" in " ".join(_texts(plain))
    assert username.text == "erin" and display.text == "Erin"
    gui.window_shot("plain-dialog-refused")
    password.text = "Sturdy-Heron-Lantern-47"
    _press_text(gui, plain, "Create user")
    gui.idle()
    gui.wait(lambda: _plain() is None, what="the plain dialog to close")
    assert "erin created" in _banner(gui).text
    assert isinstance(plain, PlainDialog)
    # And if even the plain window cannot be drawn, the status line says so.
    monkeypatch.setattr(PlainDialog, "open", broken_open)
    gui.press(users.ids.create_button)
    gui.pump(10)
    assert _dialog() is None and _plain() is None
    assert _banner(gui).kind == "error"
    assert "Create user: this window could not be drawn on this graphics driver." in (
        _banner(gui).text
    )


def _plain() -> Any:
    from kivy.core.window import Window

    from bridge_app.ui.widgets import PlainDialog

    found = [w for w in Window.children if isinstance(w, PlainDialog)]
    return found[0] if found else None


def test_port_99999_is_refused_in_the_status_line_and_nothing_is_saved(gui: Driver) -> None:
    assert gui.main.show("settings")
    settings = gui.page("settings")
    gui.idle()
    before = gui.app.ctx.services.settings.get("proxy.port")
    settings.ids.port.text = "99999"
    gui.press(settings.ids.save_button)
    gui.idle()
    banner = _banner(gui)
    assert banner.kind == "error"
    assert "port must be between 1024 and 65535 (not 99999)" in banner.text
    assert settings.ids.port.text == "99999"
    assert gui.app.ctx.services.settings.get("proxy.port") == before
    gui.shot("settings-refused")
    settings.ids.port.text = str(before)
    gui.press(settings.ids.save_button)
    gui.idle()
    assert banner.kind == "success" and "Settings saved." in banner.text


def test_a_status_line_stays_per_screen_until_dismissed(gui: Driver) -> None:
    settings = gui.page("settings")
    assert "Settings saved." in _banner(gui).text
    assert gui.main.show("dashboard")
    assert _banner(gui).text == ""  # the dashboard has nothing to say
    assert gui.main.show("settings")
    assert "Settings saved." in _banner(gui).text  # still there when coming back
    gui.press(_banner(gui).ids.close_button)
    assert _banner(gui).text == "" and settings.notice == ""


def test_long_messages_wrap_expand_and_copy_in_full(gui: Driver) -> None:
    from kivy.core.clipboard import Clipboard

    settings = gui.page("settings")
    lines = [f"line {i}: " + "the cause is explained in full here " * 3 for i in range(1, 9)]
    settings.tell("\n".join(lines), "error")
    gui.pump(5)
    banner = _banner(gui)
    label = banner.ids.message
    assert "line 1:" in label.text and "line 8:" not in label.text
    assert "4 more lines" in label.text
    assert "…" not in label.text
    gui.press(banner.ids.expand_button)
    gui.pump(5)
    assert "line 8:" in label.text
    assert label.texture_size[0] <= label.width + 1  # wrapped, not running off the side
    gui.shot("status-line-expanded")
    gui.press(banner.ids.copy_button)
    assert Clipboard.paste() == "\n".join(lines)
    gui.press(banner.ids.close_button)


def test_a_config_the_proxy_refuses_is_reported_as_rolled_back(gui: Driver) -> None:
    ctx = gui.app.ctx
    ctx.supervisor.start()
    assert gui.main.show("config")
    config = gui.page("config")
    gui.idle()
    good = ctx.services.config.read_active()
    # An admin allowed a callback module that does not exist: validation cannot know,
    # LiteLLM only finds out while starting.
    ctx.services.settings.set("config.allowed_modules", ["no_such_module"])
    document = ctx.services.config.open_document(good)
    document.set(("litellm_settings", "callbacks"), ["no_such_module.handler"])
    config.ids.editor.text = document.to_text()
    gui.press(config.ids.apply_button)
    gui.wait(lambda: not config.busy and config.notice, timeout=180, what="the apply outcome")
    gui.idle()
    banner = _banner(gui)
    assert banner.kind == "error", banner.text
    assert "Not applied: the proxy refused this config" in banner.text
    assert "the previous config was restored and runs again" in banner.text
    assert "No problems found." not in config.summary
    assert ctx.services.config.read_active() == good
    gui.shot("config-rolled-back")
    config.ids.editor.text = good
    gui.press(config.ids.apply_button)
    gui.wait(lambda: not config.busy and banner.kind == "success", timeout=180, what="apply")


def test_config_form_adds_edits_and_removes_a_model_without_yaml(gui: Driver) -> None:
    assert gui.main.show("config")
    config = gui.page("config")
    config.show_form()
    gui.idle()
    assert config.mode == "form"
    assert "demo  ->  bridge-demo/echo" in " ".join(_texts(config.ids.models))
    gui.press(config.ids.add_model_button)
    gui.pump(10)
    dialog = _dialog()
    name, model, base, key, extra = _fields(dialog)
    model.text = "openai/gpt-4o-mini"
    _press_text(gui, dialog, "Save")
    assert _dialog() is dialog and "needs a name" in dialog.error_label.text
    assert model.text == "openai/gpt-4o-mini"  # kept
    name.text, base.text, key.text = "team-gpt", "http://127.0.0.1:9/v1", "TEAM_KEY"
    extra.text = "project_id=alpha\ncost_center=42"
    gui.window_shot("config-add-model")
    _press_text(gui, dialog, "Save")
    gui.wait(lambda: _dialog() is None, timeout=10, what="the model dialog to close")
    assert "Model team-gpt added. Tap Apply to use it." in _banner(gui).text
    text = config.ids.editor.text
    assert "model_name: team-gpt" in text and "api_key: os.environ/TEAM_KEY" in text
    assert "project_id: alpha" in text
    shown = " ".join(_texts(config.ids.models))
    assert "team-gpt  ->  openai/gpt-4o-mini" in shown and "project_id=alpha" in shown
    gui.shot("config-form")
    row = next(r for r in config.ids.models.children if getattr(r, "model_name", "") == "team-gpt")
    _press_text(gui, row, "Remove")
    assert "team-gpt" not in config.ids.editor.text
    assert "Model team-gpt removed." in _banner(gui).text


def test_yaml_editor_wraps_numbers_lines_and_keeps_the_indent(gui: Driver) -> None:
    config = gui.page("config")
    gui.press(config.ids.yaml_tab)
    gui.pump(10)
    editor = config.ids.editor
    assert editor.do_wrap  # no sideways scrolling that hides the indentation
    long = "# " + "a long comment that wraps " * 20
    editor.text = f"model_list:\n{long}\n  - model_name: x"
    gui.pump(10)
    starts = editor.line_starts()
    assert starts[:2] == [1, 2] and 0 in starts and starts[-1] == 3
    assert editor.row_of_line(3) == len(starts) - 1
    editor.cursor = (len("  - model_name: x"), len(starts) - 1)
    editor.insert_text("\n")
    assert editor.text.endswith("  - model_name: x\n  ")  # Enter keeps the indentation
    gui.shot("config-yaml")
    config.ids.editor.text = ""
    config.refresh()
    gui.idle()


def test_dashboard_chip_charts_and_errors_that_clear(gui: Driver) -> None:
    import logging
    import time

    import httpx
    from kivy.core.clipboard import Clipboard

    from bridge_app.ui.screens.dashboard import error_hint

    ctx = gui.app.ctx
    gui.at_size((800, 480))
    assert gui.main.show("dashboard")
    dashboard = gui.page("dashboard")
    gui.wait(lambda: dashboard.state == "running", what="running")
    assert dashboard.ids.state_chip.proxy_state == "running"
    assert dashboard.ids.state_chip.ids.chip_label.text == "Running"
    # The Start/Stop label fits inside its button.
    text = next(c for c in dashboard.ids.toggle.children if hasattr(c, "texture_size"))
    assert text.text == "Stop" and text.texture_size[0] < dashboard.ids.toggle.width
    # An error the proxy logs shows in full with the hint naming its cause...
    cause = "upstream said 429 Too Many Requests for model demo:" + " details" * 30
    logging.getLogger("LiteLLM Proxy").error(cause)
    gui.wait(lambda: cause in " ".join(dashboard.shown_errors()), timeout=10, what="the error")
    shown = " ".join(_texts(dashboard.ids.errors))
    assert cause in shown and "429: too many requests" in shown
    gui.press(dashboard.ids.copy_errors_button)
    assert cause in Clipboard.paste()
    # ...and goes away once a request succeeds again.
    time.sleep(0.05)
    key = ctx.services.proxy.master_key()
    response = httpx.post(
        f"{dashboard.address}/v1/chat/completions",
        headers={"Authorization": f"Bearer {key}"},
        json={"model": "demo", "messages": [{"role": "user", "content": "hello"}]},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    gui.wait(lambda: "1 / s" in dashboard.ids.requests_card.value, timeout=15, what="1 / s")
    gui.wait(
        lambda: cause not in " ".join(dashboard.shown_errors()), timeout=15, what="errors cleared"
    )
    assert "No errors." in _texts(dashboard.ids.errors)
    chart = dashboard.ids.requests_card.children[0]
    assert chart.y_label() == "1 /s" and chart.x_label() == "-3 min"
    gui.press(dashboard.ids.copy_url_button)
    assert Clipboard.paste() == dashboard.address
    gui.shot("dashboard-800x480")
    for text, words in [
        ("Error code: 401 Unauthorized", "401: the upstream refused"),
        ("403 Forbidden", "403: the upstream knows who you are"),
        ("[Errno 111] Connection refused", "Connection refused: the endpoint"),
        ("SSL: CERTIFICATE_VERIFY_FAILED", "TLS: the endpoint's certificate"),
    ]:
        assert words in error_hint(text)


def test_a_chart_line_with_sharp_spikes_stays_inside_its_plot(gui: Driver) -> None:
    """One-second spikes (a request now and then) are drawn up to the top of the plot and
    no further: a line join must not overshoot into the card's title (a smoothed line's
    miter joins did, seen on the dark Dashboard)."""
    from kivy.core.window import Window
    from kivy.graphics import Color, Rectangle
    from kivy.uix.widget import Widget

    from bridge_app.ui.widgets.chart import SparkChart

    board = Widget(size_hint=(None, None), size=(320, 220), pos=(20, 20))
    with board.canvas:
        Color(1, 1, 1, 1)
        Rectangle(pos=board.pos, size=board.size)
    chart = SparkChart(
        size_hint=(None, None),
        size=(260, 80),
        pos=(40, 40),
        line_color=[1, 0, 0, 1],
        fill_color=[1, 1, 1, 1],
        axis_color=[0, 0, 0, 1],
    )
    board.add_widget(chart)
    Window.add_widget(board)
    try:
        chart.values = [0.0] * 170 + [0, 2, 0, 2, 0, 0, 1, 0, 2, 0]
        pixel = gui.window_pixels("chart-spikes")

        def red(x: float, y: float) -> bool:
            r, g, b = pixel(x, y)[:3]
            return bool(r > 0.6 and g < 0.5 and b < 0.5)

        columns = range(int(chart.x), int(chart.right))
        assert any(red(x, chart.top - 3) for x in columns), "the spikes reach the plot's top"
        above = [(x, y) for x in columns for y in range(int(chart.top) + 1, int(chart.top) + 40)]
        assert not [p for p in above if red(*p)], "the line overshoots above its plot"
    finally:
        Window.remove_widget(board)
        gui.pump(2)


def test_tools_cards_apply_with_a_diff_verify_and_copy_the_whole_block(gui: Driver) -> None:
    from kivy.core.clipboard import Clipboard

    from bridge_app.ui.widgets import CopyBlock, InfoChip

    assert gui.main.show("tools")
    tools = gui.page("tools")
    gui.wait(lambda: len(tools.ids.tools.children) == 8, timeout=60, what="the tool cards")
    gui.idle()

    def chips(tool_id: str) -> list[str]:
        view = tools.card_view(tool_id)
        return [c.text for c in view.ids.chips.children if isinstance(c, InfoChip)][::-1]

    assert "Not pointed at the proxy" in chips("codex-cli")
    assert "Not verified yet" in chips("codex-cli")
    # Apply shows the diff it will write, then writes it.
    _press_text(gui, tools.card_view("codex-cli"), "Apply")
    gui.idle()
    dialog = _dialog()
    shown = " ".join(_texts(dialog))
    assert "config.toml" in shown and "base_url" in shown and "+" in shown, shown
    gui.window_shot("tools-apply-diff")
    _press_text(gui, dialog, "Apply")
    gui.idle()
    gui.wait(lambda: _dialog() is None, what="the apply dialog to close")
    assert "Codex CLI now uses the proxy." in _banner(gui).text
    gui.wait(lambda: "Pointed at the proxy" in chips("codex-cli"), what="the pointed chip")
    # The settings dialog shows the whole config block, each part with its Copy button.
    _press_text(gui, tools.card_view("codex-cli"), "Settings")
    gui.idle()
    dialog = _dialog()
    blocks = {b.title: b for b in dialog.walk() if isinstance(b, CopyBlock)}
    toml = next(b for t, b in blocks.items() if "config.toml" in t)
    assert "[model_providers." in toml.text and "base_url" in toml.text
    gui.press(toml.ids.copy_button)
    assert Clipboard.paste() == toml.text
    assert blocks["Proxy URL"].text == gui.app.ctx.supervisor.url
    gui.window_shot("tools-settings")
    _press_text(gui, dialog, "Cancel")
    gui.pump(10)
    # Verify runs from the card and says what happened.
    _press_text(gui, tools.card_view("openai-sdk"), "Verify")
    gui.wait(lambda: not tools.busy and "OpenAI SDK:" in _banner(gui).text, timeout=60, what="v")
    assert _banner(gui).kind == "success", _banner(gui).text
    assert "Verified" in chips("openai-sdk")
    gui.shot("tools-800x480")


def test_a_tools_own_key_is_replaced_shown_once_and_revoked_on_its_card(gui: Driver) -> None:
    import httpx

    from bridge_app.ui.widgets import CopyBlock, InfoChip

    tools = gui.page("tools")
    url = gui.app.ctx.supervisor.url

    def chips() -> list[str]:
        view = tools.card_view("codex-cli")
        return [c.text for c in view.ids.chips.children if isinstance(c, InfoChip)]

    def models_status(key: str) -> int:
        with httpx.Client(timeout=30, trust_env=False) as client:
            headers = {"Authorization": f"Bearer {key}"}
            return client.get(f"{url}/v1/models", headers=headers).status_code

    assert "Own proxy key" in chips()  # Apply gave Codex a key of its own
    old = gui.app.ctx.services.tools.key_for("codex-cli")
    _press_text(gui, tools.card_view("codex-cli"), "Key")
    gui.idle()
    assert any("Codex CLI has its own proxy key" in t for t in _texts(_dialog()))
    _press_text(gui, _dialog(), "New key")

    def shown_block() -> Any:
        dialog = _dialog()
        blocks = [b for b in dialog.walk() if isinstance(b, CopyBlock)] if dialog else []
        return blocks[0] if blocks else None

    block = gui.wait(shown_block, timeout=60, what="the new key, shown once")
    new = block.text
    assert new.startswith("sk-") and new != old
    assert "Codex CLI has a new proxy key: its config now has it." in _banner(gui).text
    gui.window_shot("tools-new-key")
    assert models_status(new) == 200 and models_status(old) == 401
    _press_text(gui, _dialog(), "Cancel")
    gui.pump(10)

    gui.wait(lambda: not tools.busy, what="the cards to refresh")
    _press_text(gui, tools.card_view("codex-cli"), "Key")
    gui.idle()
    _press_text(gui, _dialog(), "Revoke key")
    gui.idle()
    assert "Revoke Codex CLI's key?" in _texts(_dialog())
    _press_text(gui, _dialog(), "OK")
    gui.wait(lambda: "key is revoked" in _banner(gui).text, timeout=60, what="the revocation")
    assert "Codex CLI's key is revoked" in _banner(gui).text
    gui.wait(lambda: "No key of its own" in chips(), what="the key chip")
    assert models_status(new) == 401

    # A card that is out of date (the key was revoked elsewhere) says so, not "revoked".
    gui.app.ctx.core.create_tool_key("codex-cli")
    tools.refresh()
    gui.wait(lambda: "Own proxy key" in chips(), what="the key chip again")
    gui.app.ctx.core.revoke_tool_key("codex-cli")  # another process, say
    _press_text(gui, tools.card_view("codex-cli"), "Key")
    gui.idle()
    _press_text(gui, _dialog(), "Revoke key")
    gui.idle()
    _press_text(gui, _dialog(), "OK")
    gui.wait(lambda: "nothing to revoke" in _banner(gui).text, timeout=60, what="the outcome")
    assert "Codex CLI has no key of its own any more" in _banner(gui).text
    assert _banner(gui).kind == "info"
    gui.shot("tools-key-already-revoked")


def test_escape_asks_before_quitting_on_the_desktop(gui: Driver) -> None:
    from kivy.core.window import Window

    assert Window.dispatch("on_request_close", source="keyboard") is True
    gui.pump(10)
    dialog = _dialog()
    assert dialog is not None
    assert "Quit LiteLLM Bridge?" in _texts(dialog)
    _press_text(gui, dialog, "Cancel")
    gui.wait(lambda: _dialog() is None, timeout=5, what="the quit dialog to close")
    assert gui.app.root.current == "main"


def _texts(widget: Any) -> list[str]:
    out = []
    for child in widget.walk():
        text = getattr(child, "text", None)
        if isinstance(text, str) and text:
            out.append(text)
    return out
