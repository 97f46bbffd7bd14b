"""Issue 28 (sign-in): the device-code fallback, `token login --device`, for a session
with no browser at hand. A real device authorization server (authlib's server components,
tests/integration/_device_idp.py) and a real headless Chromium where the person enters the
code and approves, as they would on their phone."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from bridge_app.devtools import FakeInternalUpstream
from bridge_app.tokens import IamClient, IamError, IamSettings
from tests.integration._corp import ask, internal_token_flow
from tests.integration._device_idp import CLIENT_ID, approve_in_browser, device_idp
from tests.integration._oidc import oidc_provider
from tests.integration._serve import (
    ADMIN,
    ADMIN_PW,
    REPO,
    Serve,
    as_admin,
    create_admin,
    env_for,
    wait_until,
)
from tests.integration._upstream import free_port

pytestmark = pytest.mark.integration


def _settings(issuer: str) -> IamSettings:
    # A public client, as a desktop app is registered for the device flow: no secret.
    return IamSettings(url=issuer, shape="oidc", client_id=CLIENT_ID, client_auth="none")


def test_token_login_device_shows_a_code_that_a_person_approves_elsewhere(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    create_admin(home)
    with device_idp() as idp:
        settings = tmp_path / "iam.json"
        settings.write_text(json.dumps(_settings(idp.issuer).to_dict()), encoding="utf-8")
        done = as_admin(home, "token", "iam", "--set", str(settings))
        assert done.returncode == 0, done.stdout + done.stderr
        login = subprocess.Popen(
            [sys.executable, "-m", "bridge_app", "token", "login", "--device",
             "--as", ADMIN, "--password-stdin"],
            env=env_for(home), cwd=REPO, text=True,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip
        assert login.stdin and login.stdout
        login.stdin.write(f"{ADMIN_PW}\n")
        login.stdin.close()
        shown: list[str] = []
        for line in login.stdout:
            shown.append(line)
            if line.startswith("Or open this address, which carries the code: "):
                break
        else:
            pytest.fail("".join(shown) + (login.stderr.read() if login.stderr else ""))
        said = "".join(shown)
        code = next(iter(idp.credentials.values()))["user_code"]
        assert f"On any device, open {idp.issuer}/device and enter the code {code}" in said
        page = approve_in_browser(shown[-1].split(": ", 1)[1].strip(), "emp-007")
        assert "You can go back to the app now." in page
        login.wait(timeout=60)
        rest, errors = login.stdout.read(), login.stderr.read() if login.stderr else ""
        assert login.returncode == 0, said + rest + errors
        assert "Waiting for the sign-in to be approved (Ctrl+C stops)." in rest
        assert "Employee ID: emp-007" in rest, rest
        assert idp.polls >= 1
    audit = as_admin(home, "audit", "list", "--action", "token.acquire").stdout
    assert "sign-in with a code" in audit, audit


def test_a_refused_code_says_so_and_stores_nothing() -> None:
    with device_idp() as idp:
        client = IamClient(_settings(idp.issuer))

        def show(prompt: object) -> None:
            url = prompt.verification_uri_complete  # type: ignore[attr-defined]
            threading.Thread(
                target=approve_in_browser, args=(url, "emp-007"), kwargs={"deny": True}, daemon=True
            ).start()

        with pytest.raises(IamError) as refused:
            client.device_login(show, timeout_s=60)
        assert refused.value.rejected
        assert refused.value.message.startswith("The company's sign-in refused the code")
        assert "(access_denied)" in refused.value.message


def test_an_unapproved_code_runs_out_and_a_provider_without_the_flow_is_named() -> None:
    with device_idp() as idp:
        client = IamClient(_settings(idp.issuer))
        prompts: list[object] = []
        with pytest.raises(IamError) as late:
            client.device_login(prompts.append, timeout_s=2)
        assert late.value.message == "The code expired before it was approved; nothing was stored."
        assert "token login --device" in (late.value.hint or "")
        assert len(prompts) == 1
    with oidc_provider() as other:  # a provider that offers the browser sign-in only
        client = IamClient(_settings(other.issuer))
        with pytest.raises(IamError) as none:
            client.device_login(prompts.append, timeout_s=5)
        assert "offers no sign-in with a code" in none.value.message
        assert "token login --browser" in (none.value.hint or "")


def test_serve_as_signs_in_with_a_code_before_it_serves(tmp_path: Path) -> None:
    """`serve --as USER --sign-in device` on a machine with no token: the code first, then
    the proxy serves with the token the provider issued, which the internal endpoint gets."""
    home = tmp_path / "home"
    create_admin(home)
    with device_idp() as idp:
        upstream = FakeInternalUpstream(token_valid=lambda t: t in idp.tokens).start()
        try:
            internal_token_flow(home, _settings(idp.issuer), upstream.url)

            def approve() -> None:  # the person, on their phone, once the code is shown
                codes = wait_until(lambda: list(idp.credentials.values()), timeout=60)
                if codes:
                    approve_in_browser(codes[0]["verification_uri_complete"], "emp-007")

            threading.Thread(target=approve, daemon=True).start()
            serve = Serve(
                home, free_port(), "--as", ADMIN, "--password-stdin", "--sign-in", "device",
                stdin=f"{ADMIN_PW}\n",
            )  # fmt: skip
            try:
                said = "".join(serve.lines)
                assert f"open {idp.issuer}/device and enter the code" in said, said
                assert "Serving for root: internal token Valid for" in said, said
                answer = ask(serve, home)
                assert answer.status_code == 200, answer.text[:500]
                assert [(s.accepted, s.body.get("project_id")) for s in upstream.seen] == [
                    (True, "P-7")
                ]
            finally:
                serve.stop()
        finally:
            upstream.stop()
