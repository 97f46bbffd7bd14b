"""Issue 28 (sign-in): the employee signs in with the company in the browser. A real
OpenID Connect provider on 127.0.0.1 (oidc-provider-mock: discovery, signed ID tokens,
PKCE, nonce, refresh tokens, revocation) and a real headless Chromium that types the name on
the provider's own page and presses Authorize."""

from __future__ import annotations

import subprocess
import threading
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from bridge_app.devtools import FakeInternalUpstream
from bridge_app.tokens import IamClient, IamError, IamSettings
from tests.integration._corp import internal_token_flow
from tests.integration._oidc import browser_environment, oidc_provider, sign_in_in_browser
from tests.integration._serve import ADMIN_PW, Serve, as_admin, cli, create_admin, wait_until
from tests.integration._upstream import free_port

pytestmark = pytest.mark.integration


def _settings(issuer: str) -> IamSettings:
    # A confidential client: the provider authenticates clients at its token endpoint with a
    # secret (client_secret_basic); PKCE is sent all the same.
    return IamSettings(
        url=issuer,
        shape="oidc",
        client_id="litellm-bridge",
        client_secret="test-client-secret",
        client_auth="client_secret_basic",
        scope="profile offline_access",
    )


def _browser(subject: str, pages: list[str], *, deny: bool = False):  # type: ignore[no-untyped-def]
    """open_browser for the app: the browser runs beside the app, as the system's does."""

    def open_browser(url: str) -> None:
        def run() -> None:
            pages.append(sign_in_in_browser(url, subject, deny=deny))

        threading.Thread(target=run, daemon=True).start()

    return open_browser


def test_a_browser_sign_in_gets_a_validated_token_that_refreshes(tmp_path: Path) -> None:
    with oidc_provider() as idp:
        client = IamClient(_settings(idp.issuer))
        pages: list[str] = []
        grant, who = client.browser_login(_browser("emp-001", pages), timeout_s=60)
        assert who == "emp-001"
        assert grant.refresh_token and grant.token
        # The browser reads the app's page after the app got the code: waited for.
        assert wait_until(lambda: pages, timeout=30), "the browser never showed the page"
        assert "Signed in" in pages[0], pages
        refreshed = client.refresh(grant.refresh_token)
        assert refreshed.token != grant.token
        idp.revoke("emp-001")
        with pytest.raises(IamError) as refused:
            client.refresh(refreshed.refresh_token or "")
        assert refused.value.rejected, refused.value.message
        # The provider's own words reach the person.
        assert refused.value.message == (
            "The IAM refused the refresh token: invalid refresh token (invalid_grant)."
        )


def test_a_denied_sign_in_says_so_in_the_providers_words() -> None:
    with oidc_provider() as idp:
        client = IamClient(_settings(idp.issuer))
        pages: list[str] = []
        with pytest.raises(IamError) as denied:
            client.browser_login(_browser("emp-001", pages, deny=True), timeout_s=60)
        assert denied.value.rejected
        assert denied.value.message.startswith("The company's sign-in refused"), denied.value
        assert "(access_denied)" in denied.value.message


def test_no_sign_in_within_the_time_says_what_to_do() -> None:
    with oidc_provider() as idp:
        client = IamClient(_settings(idp.issuer))
        with pytest.raises(IamError) as late:
            client.browser_login(lambda _url: None, timeout_s=1)
        assert late.value.message == "No sign-in arrived from the browser within 1 s."


def test_token_login_browser_stores_the_token_the_upstream_sees_and_shows_a_revoked_one_blocked(
    tmp_path: Path,
) -> None:
    """The whole flow through the CLI, as an employee runs it: `token login --browser`
    opens the browser (BROWSER: headless Chromium signing in), the token reaches the
    internal endpoint through the proxy, and after IT revokes the account the refresh is
    refused and `token status` says blocked in the provider's words."""
    home = tmp_path / "home"
    create_admin(home)
    with oidc_provider(token_lifetime=timedelta(seconds=30)) as idp:

        def current(token: str | None) -> bool:  # the upstream asks the IdP, as a gateway does
            answer = httpx.get(
                f"{idp.issuer}/userinfo", headers={"Authorization": f"Bearer {token}"}
            )
            return answer.status_code == 200

        upstream = FakeInternalUpstream(token_valid=current, reply="pong").start()
        try:
            internal_token_flow(home, _settings(idp.issuer), upstream.url)
            browser = browser_environment("emp-001")["BROWSER"]
            # The admin's test: a real sign-in in the browser, nothing stored.
            tested = as_admin(home, "token", "iam", "--test", BROWSER=browser)
            assert tested.returncode == 0, tested.stdout + tested.stderr
            assert "The IAM answered with a token (oidc); nothing was stored." in tested.stdout
            assert "Refresh token: yes" in tested.stdout
            assert "No internal token yet." in as_admin(home, "token", "status").stdout
            # Plain `token login`: this company signs people in in the browser.
            login = as_admin(home, "token", "login", BROWSER=browser)
            assert login.returncode == 0, login.stdout + login.stderr
            assert "Sign in with your company in the browser" in login.stdout
            assert "Employee ID: emp-001" in login.stdout, login.stdout
            assert "Automatic refresh: on (via refresh token" in login.stdout, login.stdout
            serve = Serve(
                home, free_port(), "--as", "root", "--password-stdin", stdin=ADMIN_PW + "\n"
            )
            try:
                key = cli(home, "proxy-key").stdout.strip()
                answer = httpx.post(
                    f"{serve.url}/v1/chat/completions",
                    headers={"Authorization": f"Bearer {key}"},
                    json={
                        "model": "internal-chat",
                        "messages": [{"role": "user", "content": "hi"}],
                    },
                    timeout=60,
                )
                assert answer.status_code == 200, answer.text[:500]
                # The internal endpoint got the IdP's token (the IdP confirmed it) and the project.
                assert [(s.accepted, s.body.get("project_id")) for s in upstream.seen] == [
                    (True, "P-7")
                ]
                idp.revoke("emp-001")  # IT disables the account

                def blocked() -> subprocess.CompletedProcess[str] | None:
                    done = as_admin(home, "token", "status")
                    return done if "BLOCKED" in done.stdout else None

                status = wait_until(blocked, timeout=60)  # at the next refresh (30 s tokens)
                assert status is not None, as_admin(home, "token", "status").stdout
                assert (
                    "Automatic refresh is blocked: The IAM refused the refresh token: invalid "
                    "refresh token (invalid_grant)."
                ) in status.stdout
                assert (
                    "What to do: Sign in again: `litellm-bridge token login --browser`"
                ) in status.stdout
                # Signing in again recovers: a new token, refresh on again.
                again = as_admin(home, "token", "login", "--browser", BROWSER=browser)
                assert again.returncode == 0, again.stdout + again.stderr
                assert "Automatic refresh: on (via refresh token" in again.stdout, again.stdout
                assert "BLOCKED" not in as_admin(home, "token", "status").stdout
            finally:
                serve.stop()
        finally:
            upstream.stop()
