"""`token iam`: a validated schema (one clear line per bad input, exit 1, nothing stored),
complete examples for every shape, and a test login that stores nothing."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from bridge_app.devtools import FakeIam
from tests.unit.test_cli_env_tokens import ADMIN_PW, cli

pytestmark = pytest.mark.slow


@pytest.fixture
def home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    made = cli(home, "user", "create", "root", "--admin", "--password-stdin", stdin=f"{ADMIN_PW}\n")
    assert made.returncode == 0, made.stderr
    return home


def _deep(levels: int) -> str:
    return '{"url": "http://127.0.0.1/t", "static_fields": ' + "[" * levels + "]" * levels + "}"


BAD = [
    ({"url": "http://127.0.0.1/t", "body_format": "xml"}, "body_format must be one of json, form"),
    (
        {"url": "http://127.0.0.1/t", "expiry_kind": "bogus"},
        "expiry_kind must be one of expires_in, absolute, jwt",
    ),
    ({"url": "http://127.0.0.1/t", "verify_tls": "no"}, "verify_tls must be true or false"),
    (
        {"url": "http://127.0.0.1/t", "static_fields": ["a", "b"]},
        "static_fields must be an object of names to strings",
    ),
    ({"url": 42}, "url must be a string, not a number"),
    (
        {"url": "http://127.0.0.1/t", "colour": "red"},
        "Unknown IAM setting(s): colour. Valid keys: url, shape, body_format",
    ),
    ({"url": "http://127.0.0.1/t", "shape": "saml"}, "shape must be one of custom, oauth2-pass"),
    ({"url": "http://127.0.0.1/t", "shape": "oauth2-password"}, "needs a client_id"),
    ({"url": "ftp://iam"}, "not a valid http(s) URL"),
    ({"url": "http://127.0.0.1/t", "timeout_s": 1e9}, "timeout_s must be between 0.1 and 120"),
    (["url"], "must be a JSON object"),
]


@pytest.mark.parametrize(("content", "message"), BAD, ids=[m[:30] for _, m in BAD])
def test_bad_iam_settings_get_one_clear_line_and_nothing_is_stored(
    home: Path, tmp_path: Path, content: object, message: str
) -> None:
    path = tmp_path / "iam.json"
    path.write_text(json.dumps(content))
    result = cli(home, "token", "iam", "--set", str(path), "--password-stdin", stdin=ADMIN_PW)
    assert result.returncode == 1, result
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("error: ") and result.stderr.count("error:") == 1
    shown = cli(home, "token", "iam")
    assert "No IAM is configured yet" in shown.stderr


def test_huge_and_deeply_nested_and_broken_files_are_refused(home: Path, tmp_path: Path) -> None:
    huge = tmp_path / "huge.json"
    with huge.open("wb") as handle:  # 50 MB
        handle.write(b'{"url": "http://127.0.0.1/t", "pad": "')
        handle.write(b"x" * (50 * 1024 * 1024))
        handle.write(b'"}')
    deep = tmp_path / "deep.json"
    deep.write_text(_deep(20_000))  # under the size limit, beyond any parser stack
    broken = tmp_path / "broken.json"
    broken.write_text('{"url": "http://127.0.0.1/t",\n  "shape": }')
    expected = {
        huge: "is larger than 64 KiB",
        deep: "nested too deeply",
        broken: "is not valid JSON (line 2, column 12)",
    }
    for path, message in expected.items():
        result = cli(home, "token", "iam", "--set", str(path), "--password-stdin", stdin=ADMIN_PW)
        assert result.returncode == 1, (path, result.stderr)
        assert message in result.stderr, result.stderr
        assert "Traceback" not in result.stderr
    assert cli(home, "token", "iam").returncode == 1


@pytest.mark.parametrize("shape", ["custom", "oauth2-password", "oauth2-client-credentials"])
def test_every_example_is_complete_commented_and_accepted_as_is(
    home: Path, tmp_path: Path, shape: str
) -> None:
    example = cli(home, "token", "iam", "--example", shape)
    assert example.returncode == 0, example.stderr
    lines = example.stdout.splitlines()
    for index, line in enumerate(lines):  # every key is commented on the line above it
        if line.startswith('  "'):
            key = line.split('"')[1]
            assert lines[index - 1].startswith(f"  // {key}: "), (shape, key)
    path = tmp_path / "iam.json"
    path.write_text(example.stdout)
    stored = cli(home, "token", "iam", "--set", str(path), "--password-stdin", stdin=ADMIN_PW)
    assert stored.returncode == 0, stored.stderr
    shown = json.loads(cli(home, "token", "iam").stdout)
    assert shown["shape"] == shape
    if shape == "oauth2-client-credentials":
        assert shown["client_secret"] == "****"


def test_iam_test_shows_the_answer_masked_and_stores_nothing(home: Path, tmp_path: Path) -> None:
    with FakeIam({"E77": "emp-secret-pw-9"}) as iam:
        path = tmp_path / "iam.json"
        path.write_text(json.dumps({"url": iam.token_url, "token_path": "data.access_token"}))
        result = cli(
            home,
            "token",
            "iam",
            "--test",
            str(path),
            "--employee-id",
            "E77",
            "--password-stdin",
            stdin=f"{ADMIN_PW}\nemp-secret-pw-9\n",
        )
        assert result.returncode == 0, result.stderr
        token = iam.latest()
        assert token is not None
        assert "nothing was stored" in result.stdout
        assert '"expires_in": 3600' in result.stdout
        assert token not in result.stdout and token[:4] in result.stdout
        assert iam.calls == 1
        refused = cli(
            home,
            "token",
            "iam",
            "--test",
            str(path),
            "--employee-id",
            "E77",
            "--password-stdin",
            stdin=f"{ADMIN_PW}\nwrong-pw\n",
        )
        assert refused.returncode == 1
        assert "The IAM refused the login: invalid employee credentials" in refused.stderr
    assert cli(home, "token", "iam").returncode == 1  # nothing stored
    status = json.loads(
        cli(home, "token", "status", "--json", "--password-stdin", stdin=ADMIN_PW).stdout
    )
    assert status["state"] == "none"


def test_token_status_says_when_refresh_is_blocked_why_and_what_to_do(home: Path) -> None:
    # The refresh ran in another process (a `serve --as` or the window): `token status`
    # in this terminal reads the stored state.
    from bridge_app.runtime import AppPaths
    from bridge_app.services import build_services
    from bridge_app.tokens import IamSettings

    with FakeIam({"E77": "emp-secret-pw-9"}, lifetime_s=8) as iam:
        services = build_services(AppPaths.from_environment({"BRIDGE_HOME": str(home)}))
        try:
            session = services.auth.login("root", ADMIN_PW)
            services.tokens.set_iam_settings(
                session, IamSettings(url=iam.token_url, token_path="data.access_token")
            )
            services.tokens.login(session, "E77", "emp-secret-pw-9", remember=True)
            iam.employees["E77"] = "changed-in-the-directory"
            end = time.monotonic() + iam.lifetime_s + 5
            while not services.tokens.refresh_if_due(session) and time.monotonic() < end:
                if services.tokens.status(session).refresh_blocked:
                    break
                time.sleep(0.2)
        finally:
            services.close()
    text = cli(home, "token", "status", "--password-stdin", stdin=ADMIN_PW)
    assert "Automatic refresh: BLOCKED" in text.stdout, text.stdout + text.stderr
    assert "The IAM refused the login: invalid employee credentials" in text.stdout
    assert "What to do: Log in again" in text.stdout
    data = json.loads(
        cli(home, "token", "status", "--json", "--password-stdin", stdin=ADMIN_PW).stdout
    )
    assert data["refresh_blocked"] is True
    assert data["last_error"] == "The IAM refused the login: invalid employee credentials"
    assert data["action"].startswith("Log in again")


def test_an_http_iam_beyond_this_machine_is_stored_with_a_warning(
    home: Path, tmp_path: Path
) -> None:
    """Issue 26, item 9: an http:// IAM URL was stored without a word that passwords and
    tokens would cross the network in clear."""
    example = cli(home, "token", "iam", "--example", "oauth2-password").stdout
    path = tmp_path / "iam.json"
    path.write_text(example.replace("https://sso.corp.example", "http://sso.corp.example"))
    stored = cli(home, "token", "iam", "--set", str(path), "--password-stdin", stdin=ADMIN_PW)
    assert stored.returncode == 0, stored.stderr
    assert (
        "warning: The IAM URL uses http:// (sso.corp.example): passwords and tokens cross the "
        "network unencrypted. Use its https:// address." in stored.stderr
    )
    path.write_text(example.replace("https://sso.corp.example", "http://127.0.0.1:9"))
    local = cli(home, "token", "iam", "--set", str(path), "--password-stdin", stdin=ADMIN_PW)
    assert local.returncode == 0 and "warning" not in local.stderr


@pytest.mark.parametrize(
    ("mode", "said", "hint"),
    [
        (
            "not-json",
            "error: The IAM at 127.0.0.1 answered with a web page, not a token: the IAM URL "
            "probably points at a login page or portal, not the token endpoint.",
            "hint: An admin checks the IAM URL (Token & projects, or `litellm-bridge token "
            "iam`); `litellm-bridge token iam --test` shows what the IAM answers.",
        ),
        (
            "server-error",
            "error: The IAM service has a problem (HTTP 503): IAM backend maintenance",
            "hint: Nothing is wrong with your employee ID or password. Try again in a few "
            "minutes; if it lasts, tell IT that the IAM at 127.0.0.1 answers HTTP 503.",
        ),
    ],
)
def test_an_iam_that_answers_wrongly_tells_the_employee_what_to_do(
    home: Path, mode: str, said: str, hint: str
) -> None:
    """Issue 26, item 9: "The IAM answer is not JSON; check the IAM URL setting" and "HTTP
    502" gave an employee nothing to do."""
    from bridge_app.runtime import AppPaths
    from bridge_app.services import build_services
    from bridge_app.tokens import IamSettings

    with FakeIam({"E77": "emp-secret-pw-9"}) as iam:
        services = build_services(AppPaths.from_environment({"BRIDGE_HOME": str(home)}))
        try:
            session = services.auth.login("root", ADMIN_PW)
            services.tokens.set_iam_settings(
                session, IamSettings(url=iam.token_url, token_path="data.access_token")
            )
        finally:
            services.close()
        iam.mode = mode  # type: ignore[assignment]
        result = cli(
            home, "token", "login", "--employee-id", "E77", "--password-stdin",
            stdin=f"{ADMIN_PW}\nemp-secret-pw-9\n",
        )  # fmt: skip
    assert result.returncode == 1
    assert said in result.stderr, result.stderr
    assert hint in " ".join(result.stderr.split()), result.stderr
