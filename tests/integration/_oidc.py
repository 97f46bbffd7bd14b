"""A real OpenID Connect provider on 127.0.0.1 and a real headless browser that signs in.

The provider is oidc-provider-mock (an authlib authorization server with a login form:
discovery, JWKS-signed ID tokens, PKCE, nonce, refresh tokens, revocation); the browser is
Debian's Chromium driven by its ChromeDriver through Selenium, as a person types their name
on the company's page and presses Authorize.

Run as a script (``python -m tests.integration._oidc URL SUBJECT``) it is the browser a
`token login --browser` in another process opens (``BROWSER``)."""

from __future__ import annotations

import os
import shutil
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


class OidcProvider:
    def __init__(self, server: object) -> None:
        self._server = server
        self.issuer = f"http://127.0.0.1:{server.server_port}"  # type: ignore[attr-defined]

    def revoke(self, subject: str) -> None:
        """The IdP revokes every token of ``subject`` (an admin disables the account)."""
        done = httpx.post(f"{self.issuer}/users/{subject}/revoke-tokens", timeout=10)
        assert done.status_code < 300, done.text


@contextmanager
def oidc_provider(*, token_lifetime: timedelta = timedelta(hours=1)) -> Iterator[OidcProvider]:
    import werkzeug.serving
    from oidc_provider_mock import app

    server = werkzeug.serving.make_server(
        "127.0.0.1",
        0,
        app(require_nonce=True, issue_refresh_token=True, access_token_max_age=token_lifetime),
        threaded=True,
    )
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield OidcProvider(server)
    finally:
        server.shutdown()
        thread.join(5)


def browser_environment(subject: str = "emp-001") -> dict[str, str]:
    """The environment that makes this module the system browser (``BROWSER``) of a
    program started from the repository: it signs in as ``subject``."""
    repo = str(Path(__file__).resolve().parents[2])
    return {
        "BROWSER": f"{sys.executable} -m tests.integration._oidc %s {subject}",
        "PYTHONPATH": os.pathsep.join(filter(None, [repo, os.environ.get("PYTHONPATH")])),
    }


def _driver() -> object:
    if not (shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER)):
        pytest.fail("Chromium and ChromeDriver are needed: run `bash scripts/setup.sh --e2e`")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage",
    ):  # fmt: skip
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


def sign_in_in_browser(url: str, subject: str, *, deny: bool = False) -> str:
    """Open ``url`` in headless Chromium, type ``subject`` and press Authorize (or Deny);
    returns the text of the page the browser ends on (the app's "Signed in")."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    driver = _driver()
    try:
        driver.get(url)  # type: ignore[attr-defined]
        if deny:
            driver.find_element(By.CSS_SELECTOR, "button[value=deny]").click()  # type: ignore[attr-defined]
        else:
            driver.find_element(By.NAME, "sub").send_keys(subject)  # type: ignore[attr-defined]
            driver.find_element(By.XPATH, "//button[text()='Authorize']").click()  # type: ignore[attr-defined]
        WebDriverWait(driver, 30).until(expected_conditions.url_contains("/callback"))
        return str(driver.find_element(By.TAG_NAME, "body").text)  # type: ignore[attr-defined]
    finally:
        driver.quit()  # type: ignore[attr-defined]


if __name__ == "__main__":  # the BROWSER of a `token login --browser` in another process
    sign_in_in_browser(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "emp-001")
