"""The token flow against a standard OAuth 2.0 token endpoint (oauthlib's server side):
the password is used once, then only the refresh token; a refused refresh token falls
back to the remembered password once; a refusal blocks refresh visibly, with the IAM's
words, and is never retried; errors back off; one IAM call at a time."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bridge_app.audit import AuditLog
from bridge_app.crypto import new_data_key
from bridge_app.envvars import EnvService
from bridge_app.runtime import AppPaths, Redactor
from bridge_app.services import open_store
from bridge_app.settings import SettingsService
from bridge_app.store import Database, tables
from bridge_app.tokens import (
    MARGIN_MAX_S,
    MARGIN_MIN_S,
    IamSettings,
    TokenService,
    max_iam_calls,
    refresh_margin,
)
from bridge_app.tokens._refresh import BACKOFF_MAX_S, backoff_delay
from tests._oauth_iam import OAuthIam
from tests.unit._sessions import FakeSession
from tests.unit.test_tokens import ADMIN, ALICE

EMPLOYEE, PASSWORD = "E12345", "employee-password-1"


@pytest.fixture
def db(app_paths: AppPaths) -> Iterator[Database]:
    database, _ = open_store(app_paths)
    with database.transaction() as conn:
        for uid, name in ((1, "alice"), (3, "root")):
            conn.exec_driver_sql(
                "INSERT INTO users (id, username, display_name, role, password_hash, "
                "created_at, updated_at) VALUES (?, ?, ?, 'user', 'x', 't', 't')",
                (uid, name, name),
            )
    yield database
    database.close()


@pytest.fixture
def oauth() -> Iterator[OAuthIam]:
    with OAuthIam({EMPLOYEE: PASSWORD}, confidential={"svc-17": "svc-secret-17"}) as server:
        yield server


def _tokens(db: Database, settings: IamSettings, clock: list[float]) -> TokenService:
    redactor = Redactor()
    service = TokenService(
        db=db,
        settings=SettingsService(db=db),
        env=EnvService(db=db, shared_key=new_data_key(), redactor=redactor),
        redactor=redactor,
        audit=AuditLog(db=db, redactor=redactor),
        clock=lambda: clock[0],
    )
    service.set_iam_settings(ADMIN, settings)  # type: ignore[arg-type]
    return service


def _password_grant(oauth: OAuthIam) -> IamSettings:
    return IamSettings(
        url=oauth.token_url,
        shape="oauth2-password",
        client_id="litellm-bridge",
        client_auth="none",
        timeout_s=5,
    )


def _audit(db: Database) -> list[tuple[str, str, str]]:
    events = tables["audit_events"]
    with db.reading() as conn:
        rows = conn.execute(select(events.c.action, events.c.outcome, events.c.detail)).all()
    return [(r.action, r.outcome, r.detail) for r in rows]


def _expire_soon(clock: list[float], tokens: TokenService) -> None:
    expires_at = tokens.current().expires_at
    assert expires_at is not None
    clock[0] = expires_at - 1  # inside any margin


def test_margin_is_proportional_to_the_lifetime_within_bounds() -> None:
    assert refresh_margin(3600) == MARGIN_MAX_S  # 20 % would be 12 minutes
    assert refresh_margin(300) == pytest.approx(60)
    assert refresh_margin(20) == MARGIN_MIN_S  # 20 % would be 4 s
    # A 60 s token used to be refreshed every 5 s (fixed 120 s margin): now every 48 s.
    assert max_iam_calls(90, 60) == 3
    assert backoff_delay(1) <= 5 and backoff_delay(30) <= BACKOFF_MAX_S
    assert backoff_delay(30) >= BACKOFF_MAX_S / 2


def test_password_once_then_only_refresh_tokens_until_revoked(
    db: Database, oauth: OAuthIam
) -> None:
    clock = [time.time()]
    tokens = _tokens(db, _password_grant(oauth), clock)
    status = tokens.login(ALICE, EMPLOYEE, PASSWORD)  # type: ignore[arg-type]
    assert status.state == "valid" and status.refresh == "refresh token"
    assert oauth.calls == {"password": 1}
    seen = {tokens.current().token}
    for _ in range(3):
        clock[0] = time.time()
        assert not tokens.refresh_if_due(ALICE)  # type: ignore[arg-type]  # not due yet
        _expire_soon(clock, tokens)
        assert tokens.refresh_if_due(ALICE)  # type: ignore[arg-type]
        seen.add(tokens.current().token)
        assert oauth.valid(tokens.current().token)
    assert len(seen) == 4
    assert oauth.calls == {"password": 1, "refresh_token": 3}

    # Another process (a fresh service on the same store) reads the refreshed token.
    other = _tokens(db, _password_grant(oauth), clock)
    assert other.activate(ALICE).refresh == "refresh token"  # type: ignore[arg-type]
    assert other.current().token == tokens.current().token

    oauth.revoke_refresh_tokens()
    _expire_soon(clock, tokens)
    assert not tokens.refresh_if_due(ALICE)  # type: ignore[arg-type]
    assert oauth.calls == {"password": 1, "refresh_token": 4}  # no password was remembered
    status = tokens.status(ALICE)  # type: ignore[arg-type]
    assert status.refresh_blocked
    assert "The IAM refused the refresh token" in (status.last_error or "")
    assert "Log in again" in (status.action or "")
    for _ in range(3):  # never retried on its own
        clock[0] += 60
        assert not tokens.refresh_if_due(ALICE)  # type: ignore[arg-type]
    assert oauth.calls["refresh_token"] == 4
    # Other processes see the block too (`token status` in another terminal).
    again = _tokens(db, _password_grant(oauth), clock).activate(ALICE)  # type: ignore[arg-type]
    assert again.refresh_blocked and "refresh token" in (again.last_error or "")
    assert ("token.refresh", "denied") in [(a, o) for a, o, _ in _audit(db)]

    clock[0] = time.time()
    assert tokens.login(ALICE, EMPLOYEE, PASSWORD).state == "valid"  # type: ignore[arg-type]
    assert not tokens.status(ALICE).refresh_blocked  # type: ignore[arg-type]


def test_a_login_in_another_process_unblocks_this_one(db: Database, oauth: OAuthIam) -> None:
    """Issue 26, item 1: `serve` was blocked (its refresh refused); the person logs in from
    another terminal; `serve` adopts the new token and refreshes it by itself again."""
    clock = [time.time()]
    serving = _tokens(db, _password_grant(oauth), clock)
    serving.login(ALICE, EMPLOYEE, PASSWORD)  # type: ignore[arg-type]
    oauth.revoke_refresh_tokens()
    _expire_soon(clock, serving)
    assert not serving.refresh_if_due(ALICE)  # type: ignore[arg-type]
    assert serving.status(ALICE).refresh_blocked  # type: ignore[arg-type]

    clock[0] = time.time()
    other = _tokens(db, _password_grant(oauth), clock)  # `token login` in another terminal
    other.login(ALICE, EMPLOYEE, PASSWORD)  # type: ignore[arg-type]
    status = serving.activate(ALICE)  # type: ignore[arg-type]  # the change feed's call
    assert not status.refresh_blocked and status.last_error is None
    assert status.next_refresh_at is not None
    assert serving.current().token == other.current().token
    _expire_soon(clock, serving)
    assert serving.refresh_if_due(ALICE)  # type: ignore[arg-type]
    assert oauth.valid(serving.current().token)


def test_an_expired_token_after_a_refused_refresh_keeps_the_iams_words(
    db: Database, tmp_path: Path
) -> None:
    """Issue 26, item 5: once the token expired after a blocked refresh, the proxy's
    reason (what `status` and the dashboard show) said only "has expired"."""
    from bridge_app.runtime import resource_path
    from bridge_app.tokens import TokenInjector

    config = tmp_path / "config.yaml"
    config.write_bytes(resource_path("configs", "internal-enterprise.yaml").read_bytes())
    with OAuthIam({EMPLOYEE: PASSWORD}, lifetime_s=2) as oauth:
        clock = [time.time()]
        tokens = _tokens(db, _password_grant(oauth), clock)
        injector = TokenInjector(tokens=tokens, config_path=lambda: config)
        injector.reload()
        tokens.login(ALICE, EMPLOYEE, PASSWORD)  # type: ignore[arg-type]
        oauth.revoke_refresh_tokens()
        _expire_soon(clock, tokens)
        assert not tokens.refresh_if_due(ALICE)  # type: ignore[arg-type]
        assert injector.problem() == tokens.refresh_problem()  # still valid: blocked
        time.sleep(2.1)  # the token's real expiry
    problem = injector.problem() or ""
    assert problem.startswith("The internal token has expired. Automatic token refresh is ")
    assert "The IAM refused the refresh token (invalid_grant)." in problem
    assert problem.endswith("Log in again (Token & projects, or `litellm-bridge token login`).")


def test_a_refused_refresh_token_falls_back_to_the_remembered_password_once(
    db: Database, oauth: OAuthIam
) -> None:
    clock = [time.time()]
    tokens = _tokens(db, _password_grant(oauth), clock)
    tokens.login(ALICE, EMPLOYEE, PASSWORD, remember=True)  # type: ignore[arg-type]
    oauth.revoke_refresh_tokens()
    _expire_soon(clock, tokens)
    assert tokens.refresh_if_due(ALICE)  # type: ignore[arg-type]
    assert oauth.calls == {"password": 2, "refresh_token": 1}
    details = [d for a, o, d in _audit(db) if a == "token.refresh" and o == "ok"]
    assert "via password (the refresh token was refused)" in details[-1]
    # The new refresh token is used next time, not the password.
    _expire_soon(clock, tokens)
    assert tokens.refresh_if_due(ALICE)  # type: ignore[arg-type]
    assert oauth.calls == {"password": 2, "refresh_token": 2}

    # Password changed in the directory and the refresh token revoked: blocked, with the
    # IAM's own words readable in the status and in the audit.
    oauth.revoke_refresh_tokens()
    oauth.employees[EMPLOYEE] = "changed"
    _expire_soon(clock, tokens)
    assert not tokens.refresh_if_due(ALICE)  # type: ignore[arg-type]
    status = tokens.status(ALICE)  # type: ignore[arg-type]
    assert status.refresh_blocked
    assert "The IAM refused the login: Invalid credentials given (invalid_grant)." in (
        status.last_error or ""
    )
    denied = [d for a, o, d in _audit(db) if o == "denied"]
    assert "refused the login: Invalid credentials given (invalid_grant)." in denied[-1]
    calls = sum(oauth.calls.values())
    clock[0] += 3600
    assert not tokens.refresh_if_due(ALICE)  # type: ignore[arg-type]
    assert sum(oauth.calls.values()) == calls


def test_blocked_refresh_raises_a_desktop_notification(db: Database, oauth: OAuthIam) -> None:
    clock = [time.time()]
    tokens = _tokens(db, _password_grant(oauth), clock)
    shown: list[tuple[str, str]] = []
    tokens.add_notifier(lambda title, message: shown.append((title, message)))
    tokens.login(ALICE, EMPLOYEE, PASSWORD)  # type: ignore[arg-type]
    oauth.revoke_refresh_tokens()
    _expire_soon(clock, tokens)
    tokens.refresh_if_due(ALICE)  # type: ignore[arg-type]
    assert shown == [
        (
            "Internal token: log in again",
            "The IAM refused the refresh token (invalid_grant). Log in again in Token "
            "& projects (or `litellm-bridge token login`).",
        )
    ]


def test_client_credentials_need_no_employee_and_refresh_by_themselves(
    db: Database, oauth: OAuthIam
) -> None:
    clock = [time.time()]
    settings = IamSettings(
        url=oauth.token_url,
        shape="oauth2-client-credentials",
        client_id="svc-17",
        client_secret="svc-secret-17",
        timeout_s=5,
    )
    tokens = _tokens(db, settings, clock)
    status = tokens.login(ALICE, "", "")  # type: ignore[arg-type]
    assert status.state == "valid" and status.refresh == "service account"
    _expire_soon(clock, tokens)
    assert tokens.refresh_if_due(ALICE)  # type: ignore[arg-type]
    assert oauth.calls == {"client_credentials": 2}

    wrong = IamSettings(
        url=oauth.token_url,
        shape="oauth2-client-credentials",
        client_id="svc-17",
        client_secret="not-it",
        timeout_s=5,
    )
    from bridge_app.tokens import IamError

    with pytest.raises(IamError, match="refused the service account") as refused:
        _tokens(db, wrong, clock).login(ALICE, "", "")  # type: ignore[arg-type]
    assert refused.value.rejected
    assert "client_id / client_secret" in (refused.value.hint or "")


def test_errors_back_off_and_only_one_iam_call_is_in_flight(db: Database, oauth: OAuthIam) -> None:
    clock = [time.time()]
    tokens = _tokens(db, _password_grant(oauth), clock)
    tokens.login(ALICE, EMPLOYEE, PASSWORD)  # type: ignore[arg-type]
    port = oauth.port
    oauth.stop()  # the IAM is down
    _expire_soon(clock, tokens)
    assert not tokens.refresh_if_due(ALICE)  # type: ignore[arg-type]
    status = tokens.status(ALICE)  # type: ignore[arg-type]
    assert not status.refresh_blocked
    assert f"Cannot reach the IAM service at http://127.0.0.1:{port}/token" in (
        status.last_error or ""
    )
    assert "retries with backoff" in (status.action or "")
    due = tokens.refresh_due_in()
    assert due is not None and 2.5 <= due <= 5  # the first backoff step, with jitter
    calls = tokens.iam_calls
    assert not tokens.refresh_if_due(ALICE)  # type: ignore[arg-type]  # still backing off
    assert tokens.iam_calls == calls

    # Many threads asking at once make one call.
    with OAuthIam({EMPLOYEE: PASSWORD}) as slow:
        tokens.set_iam_settings(ADMIN, _password_grant(slow))  # type: ignore[arg-type]
        tokens.login(ALICE, EMPLOYEE, PASSWORD)  # type: ignore[arg-type]
        _expire_soon(clock, tokens)
        barrier = threading.Barrier(8)

        def ask() -> bool:
            barrier.wait()
            return tokens.refresh_if_due(ALICE)  # type: ignore[arg-type]

        results: list[bool] = []
        threads = [threading.Thread(target=lambda: results.append(ask())) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert results.count(True) == 1
        assert slow.calls == {"password": 1, "refresh_token": 1}
        assert slow.max_in_flight == 1


def test_refresh_is_not_stored_for_another_user(db: Database, oauth: OAuthIam) -> None:
    clock = [time.time()]
    tokens = _tokens(db, _password_grant(oauth), clock)
    tokens.login(ALICE, EMPLOYEE, PASSWORD)  # type: ignore[arg-type]
    bob = FakeSession(3, "root", role="admin")
    assert tokens.status(bob).refresh == "off"  # type: ignore[arg-type]
