"""Issue 28 in the window: where the company signs people in in the browser (IAM shape
oidc), Token & projects shows "Sign in with your company" instead of the password form;
pressing it opens the browser (BROWSER: a real headless Chromium that signs in on a real
OpenID Connect provider's page), the window stays usable and says what it waits for, and
the token arrives: the screen says who is signed in and that it refreshes itself."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bridge_app.runtime import AppPaths
from bridge_app.tokens import IamSettings
from tests.gui.conftest import Driver, free_port
from tests.integration._oidc import OidcProvider, browser_environment

pytestmark = pytest.mark.gui

ADMIN, ADMIN_PW = "alice", "Correct-Horse-Battery-9"


@pytest.fixture(scope="module")
def gui_home(tmp_path_factory: pytest.TempPathFactory, idp: OidcProvider) -> Iterator[AppPaths]:
    from bridge_app.services import build_services

    home = tmp_path_factory.mktemp("gui-sign-in") / "bridge-home"
    # The system browser of this test: headless Chromium that signs in as emp-001.
    overrides = {"BRIDGE_HOME": str(home), **browser_environment("emp-001")}
    with pytest.MonkeyPatch.context() as patch:
        for name, value in overrides.items():
            patch.setenv(name, value)
        paths = AppPaths.from_environment()
        paths.ensure()
        services = build_services(paths)
        try:
            services.settings.set("proxy.port", free_port())
            services.auth.create_first_admin(ADMIN, ADMIN_PW)
            session = services.auth.login(ADMIN, ADMIN_PW)
            services.tokens.set_iam_settings(
                session,
                IamSettings(
                    url=idp.issuer,
                    shape="oidc",
                    client_id="litellm-bridge",
                    client_secret="test-client-secret",
                    scope="profile offline_access",
                ),
            )
        finally:
            services.close()
        yield paths


def test_sign_in_with_your_company_in_the_browser(gui: Driver) -> None:
    gui.log_in(ADMIN, ADMIN_PW)
    assert gui.main.show("tokens")
    screen = gui.page("tokens")
    gui.wait(lambda: screen.browser, what="the screen to know the company signs in in the browser")
    gui.idle()
    assert screen.ids.sign_in.label == "Sign in with your company"
    assert screen.ids.employee.parent.height == 0  # no password form to fill
    assert "no password is typed here" in screen.ids.sign_in.parent.parent.children[-1].text
    assert screen.action_text == (
        "What to do: Sign in with your company: `litellm-bridge token login --browser`."
    )
    gui.at_size((800, 480))
    gui.shot("tokens-sign-in-800x480")
    gui.press(screen.ids.sign_in)
    assert screen.waiting.startswith("Your browser opened the company's sign-in page")
    gui.wait(lambda: not screen.busy, timeout=90, what="the browser sign-in")
    assert screen.error == "", screen.error
    gui.wait(
        lambda: "emp-001" in screen.status_text or "Valid" in screen.status_text, what="status"
    )
    status = gui.app.ctx.services.tokens.status(gui.app.ctx.require_session())
    assert status.employee_id == "emp-001" and status.state == "valid", status
    assert status.refresh == "refresh token", status
    assert screen.status_text.startswith("Valid for 59m"), screen.status_text
    assert screen.waiting == "" and screen.action_text == ""
    gui.shot("tokens-signed-in-800x480")
