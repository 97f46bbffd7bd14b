"""A new employee's first day, through the window only: an empty data folder opens the
first-run wizard; the internal-enterprise template asks for the endpoint and for the IAM,
whose settings are typed and tested there (against a real IAM server on loopback) before
the token is fetched; then log out and in again, choose the project, see the proxy
running, apply Claude Code from its card, and the real Claude Code (from npm) answers
through the proxy while the internal endpoint sees the token and the project."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bridge_app.devtools import FakeIam, FakeInternalUpstream
from bridge_app.runtime import AppPaths, Redactor
from tests.e2e.test_tools_real_cli import BIN, run_tool, seed_home
from tests.gui.conftest import Driver
from tests.gui.test_feedback import _dialog, _fields, _press_text, _texts

pytestmark = [pytest.mark.gui, pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(900)]

EMPLOYEE, EMPLOYEE_PW = "E42", "employee-pw-42"
ADMIN, ADMIN_PW = "maria", "Copper-Meadow-Lantern-73"
REPLY = "Hello from the internal endpoint."


@pytest.fixture(scope="module")
def parts() -> Iterator[tuple[FakeIam, FakeInternalUpstream]]:
    if not BIN.is_dir():
        pytest.fail("the CLI tools are not installed: run `bash scripts/setup.sh --e2e`")
    iam = FakeIam({EMPLOYEE: EMPLOYEE_PW}).start()
    upstream = FakeInternalUpstream(token_valid=iam.valid, reply=REPLY).start()
    yield iam, upstream
    upstream.stop()
    iam.stop()


@pytest.fixture(scope="module")
def user_home(gui_home: AppPaths) -> Path:
    return gui_home.data_dir.parent / "user-home"


@pytest.fixture(scope="module")
def gui_home(gui_home: AppPaths) -> Iterator[AppPaths]:
    # No account, no config: only the free proxy port of this test run is set (conftest).
    # Claude Code's own settings (telemetry off) live in a throwaway home folder.
    home = gui_home.data_dir.parent / "user-home"
    seed_home(home, "claude-code")
    old_home = os.environ.get("HOME")
    os.environ["HOME"] = str(home)
    yield gui_home
    if old_home is not None:
        os.environ["HOME"] = old_home


def _banner_text(screen: Any) -> str:
    return str(screen.ids.banner.text)


def test_a_new_employee_goes_from_first_launch_to_a_cli_tool_answering(
    parts: tuple[FakeIam, FakeInternalUpstream], gui: Driver, user_home: Path, tmp_path: Path
) -> None:
    iam, upstream = parts
    app = gui.app
    gui.wait(lambda: app.root.current == "wizard", timeout=120, what="the first-run wizard")
    wizard = app.root.get_screen("wizard")
    gui.idle()
    ids = wizard.ids
    assert ids.step_label.text == "Step 1 of 6: Admin account"

    # 1 the first admin account (the wizard logs it in)
    ids.admin_user.text, ids.admin_display.text = ADMIN, "Maria"
    ids.admin_password.text = ids.admin_repeat.text = ADMIN_PW
    gui.press(ids.next_button)
    gui.wait(lambda: wizard.step == 1, what="the template step")
    gui.idle()

    # 2 the template, chosen explicitly, with its preview
    item = next(
        i for i in ids.templates.children if "Internal enterprise endpoint" in " ".join(_texts(i))
    )
    item.dispatch("on_release")
    gui.pump(5)
    preview = ids.template_preview.text
    assert "Models: internal-chat" in preview and "INTERNAL_LLM_API_BASE" in preview
    assert "step 4 sets up the IAM" in preview
    gui.press(ids.next_button)
    gui.wait(lambda: wizard.step == 2, what="the environment step")

    # 3 the value the template needs
    (base,) = _fields(ids.env_fields)
    base.text = f"{upstream.url}/v1"
    gui.press(ids.next_button)
    gui.wait(lambda: wizard.step == 3, timeout=120, what="the IAM and token step")
    gui.idle()
    assert ids.step_label.text == "Step 4 of 6: Internal token"
    assert "Set up how the app reaches your company's IAM" in ids.token_text.text

    # 4 the IAM: settings typed, a test login that stores nothing, then Next
    form = ids.iam_form
    assert form.opacity == 1 and not form.disabled
    assert form.shape == "custom"
    fields = form.inputs()
    fields["url"].text = iam.token_url
    fields["token_path"].text = "data.access_token"
    ids.employee.text, ids.employee_password.text = EMPLOYEE, "wrong-password"
    gui.press(ids.iam_test)
    gui.idle()
    assert wizard.iam_failed
    assert "401" in ids.iam_result.text or "refused" in ids.iam_result.text, ids.iam_result.text
    ids.employee_password.text = EMPLOYEE_PW
    gui.press(ids.iam_test)
    gui.idle()
    shown = ids.iam_result.text
    assert "The IAM answered with a token (custom); nothing was stored." in shown, shown
    tested = iam.latest()
    assert tested is not None and tested not in shown  # masked
    services = app.ctx.services
    assert services.tokens.iam_settings() is None
    scroll = ids.iam_result.parent.parent
    for size in ((800, 480), (1280, 800)):
        gui.at_size(size)
        scroll.scroll_y = 1
        gui.shot(f"wizard-iam-{size[0]}x{size[1]}")
        scroll.scroll_y = 0
        gui.shot(f"wizard-iam-tested-{size[0]}x{size[1]}")
    gui.press(ids.next_button)
    gui.wait(lambda: wizard.step == 4, timeout=60, what="the start step")
    assert "IAM settings saved and your internal token received." in _banner_text(wizard)
    stored = services.tokens.iam_settings()
    assert stored is not None and stored.url == iam.token_url

    # 5 start, 6 the snippet, Finish
    gui.press(ids.start_button)
    gui.wait(lambda: wizard.step == 5, timeout=180, what="the proxy to start")
    url = app.ctx.supervisor.url
    assert ids.proxy_url.text == url and f"ANTHROPIC_BASE_URL={url}" in ids.snippet.text
    gui.press(ids.next_button)
    gui.wait(lambda: app.root.current == "main", what="the main screen")

    # Log out, log in again as the person does every morning.
    gui.press(gui.main.ids.logout_button)
    gui.wait(lambda: app.root.current == "login", what="the login screen")
    login = app.root.get_screen("login")
    login.ids.username.text, login.ids.password.text = ADMIN, ADMIN_PW
    gui.press(login.ids.submit)
    gui.wait(lambda: app.root.current == "main", what="the main screen after login")

    # Token & projects: the token is there; add the project and use it.
    assert gui.main.show("tokens")
    tokens = gui.page("tokens")
    gui.idle()
    before = services.tokens.current().token
    tokens.ids.employee.text, tokens.ids.password.text = EMPLOYEE, EMPLOYEE_PW
    _press_text(gui, tokens, "Get token")
    gui.idle()
    assert "Token received." in _banner_text(gui.main)
    gui.wait(lambda: "Valid for" in tokens.status_text, what="the token's validity")
    assert services.tokens.current().token not in (None, before)  # a fresh one
    _press_text(gui, tokens, "Add")
    gui.pump(10)
    dialog = _dialog()
    project_id, project_name = _fields(dialog)
    project_id.text, project_name.text = "P-7", "Apollo"
    _press_text(gui, dialog, "Save")
    gui.idle()
    gui.wait(lambda: _dialog() is None, what="the project dialog to close")
    assert "Project Apollo saved." in _banner_text(gui.main)
    item = next(i for i in tokens.ids.projects.children if "Apollo" in " ".join(_texts(i)))
    item.dispatch("on_release")
    gui.pump(10)
    _press_text(gui, _dialog(), "Use")
    gui.idle()
    gui.wait(
        lambda: "Apollo (active)" in " ".join(_texts(tokens.ids.projects)), what="active project"
    )

    # The dashboard shows the proxy the wizard started.
    assert gui.main.show("dashboard")
    dashboard = gui.page("dashboard")
    gui.wait(lambda: dashboard.ids.state_chip.ids.chip_label.text == "Running", what="Running")

    # Tools: Apply Claude Code from its card.
    assert gui.main.show("tools")
    tools = gui.page("tools")
    gui.wait(lambda: tools.ids.tools.children, timeout=60, what="the tool cards")
    gui.idle()
    _press_text(gui, tools.card_view("claude-code"), "Apply")
    gui.idle()
    dialog = _dialog()
    assert "settings.json" in " ".join(_texts(dialog))
    _press_text(gui, dialog, "Apply")
    gui.idle()
    gui.wait(lambda: _dialog() is None, what="the apply dialog to close")
    assert "Claude Code now uses the proxy." in _banner_text(gui.main)

    # The real Claude Code, with only what Apply wrote, answers through the proxy.
    work = tmp_path / "work"
    work.mkdir()
    first = len(upstream.seen)
    done = run_tool("claude-code", user_home, work, Redactor())
    assert REPLY in done.stdout, done.stdout[-2000:]
    token = services.tokens.current().token
    assert token is not None and iam.valid(token)
    seen = upstream.seen[first:]
    assert seen, "the internal endpoint saw no request"
    for request in seen:
        assert request.accepted
        assert request.body.get("internal_token") == token
        assert request.body.get("project_id") == "P-7"
        assert request.body.get("project_name") == "Apollo"
    assert token not in done.stdout + done.stderr
