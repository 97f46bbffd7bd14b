"""Issue 28, first run: the wizard's IAM step offers browser sign-in (OpenID Connect). The
admin picks it, gives the issuer and the client; the employee ID and password fields go
away; Next saves the settings and opens the browser (BROWSER: a real headless Chromium on a
real OpenID Connect provider's page), and the wizard moves on with the token received."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bridge_app.devtools import FakeInternalUpstream
from bridge_app.runtime import AppPaths
from tests.gui.conftest import Driver
from tests.gui.test_feedback import _fields, _texts
from tests.integration._oidc import OidcProvider, browser_environment

pytestmark = pytest.mark.gui

ADMIN, ADMIN_PW = "maria", "Copper-Meadow-Lantern-73"


@pytest.fixture(scope="module")
def gui_home(gui_home: AppPaths) -> Iterator[AppPaths]:
    with pytest.MonkeyPatch.context() as patch:
        for name, value in browser_environment("emp-001").items():
            patch.setenv(name, value)
        yield gui_home


def test_the_wizard_signs_the_employee_in_with_the_company_in_the_browser(
    gui: Driver, idp: OidcProvider
) -> None:
    upstream = FakeInternalUpstream(reply="pong").start()
    try:
        app = gui.app
        gui.wait(lambda: app.root.current == "wizard", timeout=120, what="the first-run wizard")
        wizard = app.root.get_screen("wizard")
        gui.idle()
        ids = wizard.ids
        ids.admin_user.text, ids.admin_display.text = ADMIN, "Maria"
        ids.admin_password.text = ids.admin_repeat.text = ADMIN_PW
        gui.press(ids.next_button)
        gui.wait(lambda: wizard.step == 1, what="the template step")
        gui.idle()
        item = next(
            i
            for i in ids.templates.children
            if "Internal enterprise endpoint" in " ".join(_texts(i))
        )
        item.dispatch("on_release")
        gui.pump(5)
        gui.wait(lambda: not ids.next_button.disabled, what="the template chosen")
        gui.press(ids.next_button)
        gui.wait(lambda: wizard.step == 2, what="the environment step")
        (base,) = _fields(ids.env_fields)
        base.text = f"{upstream.url}/v1"
        gui.press(ids.next_button)
        gui.wait(lambda: wizard.step == 3, timeout=120, what="the IAM and token step")
        gui.idle()

        form = ids.iam_form
        (oidc,) = [b for b in ids.iam_form.ids.shapes.children if b.shape == "oidc"]
        assert oidc.children[0].text == "Browser sign-in (OpenID Connect)"
        gui.press(oidc)
        assert form.shape == "oidc"
        fields = form.inputs()
        assert fields["url"].hint == "Issuer URL (its /.well-known/openid-configuration)"
        shown = {f.key for f in form.ids.iam_fields.children}
        assert {"url", "client_id", "scope", "token_source"} <= shown
        assert "employee_id_field" not in shown
        fields["url"].text = idp.issuer
        fields["client_id"].text = "litellm-bridge"
        fields["client_secret"].text = "test-client-secret"
        fields["scope"].text = "profile offline_access"
        gui.idle()
        assert "Your company signs you in on its own page" in ids.token_text.text
        # No password for the app to ask: the company's page asks.
        assert ids.employee.opacity == 0 and ids.employee.disabled
        assert ids.employee_password.opacity == 0 and ids.employee_password.disabled
        gui.at_size((800, 480))
        gui.shot("wizard-sign-in-800x480")
        gui.press(ids.next_button)
        gui.wait(lambda: wizard.step == 4, timeout=90, what="the browser sign-in")
        assert "Signed in: token received." in str(wizard.ids.banner.text)
        services = app.ctx.services
        stored = services.tokens.iam_settings()
        assert stored is not None and stored.shape == "oidc" and stored.url == idp.issuer
        status = services.tokens.status(app.ctx.require_session())
        assert status.employee_id == "emp-001" and status.state == "valid", status
    finally:
        upstream.stop()
