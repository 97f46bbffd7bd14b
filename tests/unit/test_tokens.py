from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bridge_app.crypto import new_data_key
from bridge_app.devtools import FakeIam
from bridge_app.envvars import EnvService
from bridge_app.runtime import AppPaths, BridgeError, Redactor
from bridge_app.services import open_store
from bridge_app.settings import SettingsService
from bridge_app.store import Database
from bridge_app.tokens import (
    IamClient,
    IamError,
    IamSettings,
    InjectionContext,
    Project,
    TokenService,
    TokenUnavailable,
    merge_body,
    placeholders_in,
    render,
)
from tests.unit._sessions import FakeSession

EMPLOYEE, PASSWORD = "E12345", "employee-password-1"
ALICE = FakeSession(1, "alice")
ADMIN = FakeSession(3, "root", role="admin")


@pytest.fixture
def iam() -> Iterator[FakeIam]:
    with FakeIam({EMPLOYEE: PASSWORD}) as server:
        yield server


def _settings(iam: FakeIam, **overrides: object) -> IamSettings:
    values: dict[str, object] = {
        "url": iam.token_url,
        "token_path": "data.access_token",
        "expiry_path": "expires_in",
        "timeout_s": 5.0,
    }
    values.update(overrides)
    return IamSettings.from_dict(values)


@pytest.mark.parametrize(
    ("mode", "message"),
    [
        ("server-error", r"IAM service has a problem \(HTTP 503\): IAM backend maintenance"),
        ("not-json", "answered with a web page, not a token"),
        ("no-token", "no token at 'data.access_token'"),
        ("expired", "already expired"),
        ("absurd", "implausible expiry"),
        ("huge", "larger than 1024 KiB"),
    ],
)
def test_each_bad_iam_answer_has_its_own_message(iam: FakeIam, mode: str, message: str) -> None:
    iam.mode = mode  # type: ignore[assignment]
    with pytest.raises(IamError, match=message) as failure:
        IamClient(_settings(iam)).fetch_token(EMPLOYEE, PASSWORD)
    assert not failure.value.rejected


def test_wrong_password_is_a_rejection_with_the_iam_reason(iam: FakeIam) -> None:
    with pytest.raises(IamError, match=r"refused the login: invalid employee cred") as failure:
        IamClient(_settings(iam)).fetch_token(EMPLOYEE, "wrong")
    assert failure.value.rejected


def test_timeout_unreachable_and_tls_failures_are_named(iam: FakeIam) -> None:
    iam.delay_s = 2.0
    with pytest.raises(IamError, match=r"did not answer within 0\.5 s"):
        IamClient(_settings(iam, timeout_s=0.5)).fetch_token(EMPLOYEE, PASSWORD)
    iam.delay_s = 0
    with pytest.raises(IamError, match="TLS connection to the IAM service failed"):
        https = iam.token_url.replace("http://", "https://")
        IamClient(_settings(iam, url=https)).fetch_token(EMPLOYEE, PASSWORD)
    closed = FakeIam()
    port = closed.port
    closed.stop()
    with pytest.raises(IamError, match="Cannot reach the IAM service"):
        IamClient(_settings(iam, url=f"http://127.0.0.1:{port}/token")).fetch_token(
            EMPLOYEE, PASSWORD
        )


def test_expiry_from_jwt_claim_and_absolute_time() -> None:
    import base64
    import json

    from bridge_app.tokens._grant import jwt_exp, parse_time

    exp = int(time.time()) + 600
    payload = base64.urlsafe_b64encode(json.dumps({"exp": exp}).encode()).rstrip(b"=").decode()
    assert jwt_exp(f"eyJhbGciOiJub25lIn0.{payload}.sig") == exp
    assert jwt_exp("not-a-jwt") is None
    assert parse_time("2030-01-01T00:00:00Z") == pytest.approx(1893456000)
    assert parse_time(1893456000000) == pytest.approx(1893456000)  # milliseconds


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


def _service(db: Database, iam: FakeIam, clock: list[float] | None = None) -> TokenService:
    redactor = Redactor()
    settings = SettingsService(db=db)
    env = EnvService(db=db, shared_key=new_data_key(), redactor=redactor)
    service = TokenService(
        db=db,
        settings=settings,
        env=env,
        redactor=redactor,
        clock=(lambda: clock[0]) if clock else time.time,
    )
    service.set_iam_settings(ADMIN, _settings(iam))  # type: ignore[arg-type]
    return service


def test_login_gives_a_valid_token_and_a_countdown(db: Database, iam: FakeIam) -> None:
    tokens = _service(db, iam)
    status = tokens.login(ALICE, EMPLOYEE, PASSWORD)  # type: ignore[arg-type]
    assert status.state == "valid"
    assert status.employee_id == EMPLOYEE
    assert 3500 < (status.seconds_left or 0) <= 3600
    assert status.describe().startswith("Valid for 59m")
    assert iam.valid(tokens.current().usable_token())


def test_only_an_admin_configures_the_iam(db: Database, iam: FakeIam) -> None:
    tokens = _service(db, iam)
    with pytest.raises(BridgeError, match="Only an admin"):
        tokens.set_iam_settings(ALICE, _settings(iam))  # type: ignore[arg-type]


def test_remembered_password_refreshes_before_expiry(db: Database, iam: FakeIam) -> None:
    now = [time.time()]
    tokens = _service(db, iam, clock=now)
    tokens.login(ALICE, EMPLOYEE, PASSWORD, remember=True)  # type: ignore[arg-type]
    first = tokens.current().token
    assert not tokens.refresh_if_due(ALICE)  # type: ignore[arg-type]  # far from expiry
    now[0] += 3600 - 60  # inside the refresh margin
    assert tokens.refresh_if_due(ALICE)  # type: ignore[arg-type]
    assert tokens.current().token not in (None, first)
    assert iam.calls == 2


def test_without_remembering_there_is_no_automatic_refresh(db: Database, iam: FakeIam) -> None:
    now = [time.time()]
    tokens = _service(db, iam, clock=now)
    tokens.login(ALICE, EMPLOYEE, PASSWORD)  # type: ignore[arg-type]
    now[0] += 3600 - 60
    assert not tokens.refresh_if_due(ALICE)  # type: ignore[arg-type]
    assert tokens.status(ALICE).state == "expiring"  # type: ignore[arg-type]
    assert iam.calls == 1


def test_a_rejected_password_stops_auto_refresh_and_keeps_the_valid_token(
    db: Database, iam: FakeIam
) -> None:
    now = [time.time()]
    tokens = _service(db, iam, clock=now)
    tokens.login(ALICE, EMPLOYEE, PASSWORD, remember=True)  # type: ignore[arg-type]
    valid = tokens.current().token
    iam.employees[EMPLOYEE] = "changed-in-the-directory"
    now[0] += 3600 - 60
    assert not tokens.refresh_if_due(ALICE)  # type: ignore[arg-type]
    calls = iam.calls
    for _ in range(3):  # never again on its own: it would lock the corporate account
        assert not tokens.refresh_if_due(ALICE)  # type: ignore[arg-type]
    assert iam.calls == calls
    assert tokens.current().token == valid  # still used until it expires
    status = tokens.status(ALICE)  # type: ignore[arg-type]
    assert status.refresh_blocked and status.state == "failed"
    assert "refused the login: invalid employee credentials" in (status.last_error or "")
    # Typing the new password again unblocks.
    tokens.login(ALICE, EMPLOYEE, "changed-in-the-directory", remember=True)  # type: ignore[arg-type]
    assert not tokens.status(ALICE).refresh_blocked  # type: ignore[arg-type]


def test_token_and_password_never_rest_in_plaintext(
    app_paths: AppPaths, db: Database, iam: FakeIam
) -> None:
    tokens = _service(db, iam)
    tokens.login(ALICE, EMPLOYEE, PASSWORD, remember=True)  # type: ignore[arg-type]
    tokens.projects.save(ALICE, Project("P-77", "Apollo", {"cost_centre_key": "cc-secret-4411"}))  # type: ignore[arg-type]
    token = tokens.current().token
    assert token is not None
    db.close()
    raw = b"".join(p.read_bytes() for p in app_paths.data_dir.iterdir() if p.is_file())
    for secret in (token, PASSWORD, "cc-secret-4411"):
        assert secret.encode() not in raw


def test_activate_after_restart_restores_the_stored_token(db: Database, iam: FakeIam) -> None:
    _service(db, iam).login(ALICE, EMPLOYEE, PASSWORD)  # type: ignore[arg-type]
    fresh = _service(db, iam)  # a new app process on the same database
    assert fresh.current().token is None
    assert fresh.activate(ALICE).state == "valid"  # type: ignore[arg-type]
    assert iam.valid(fresh.current().token)
    fresh.deactivate()
    with pytest.raises(TokenUnavailable, match="nobody is logged in"):
        fresh.current().usable_token()


def test_projects_switch_takes_effect_in_the_next_snapshot(db: Database, iam: FakeIam) -> None:
    tokens = _service(db, iam)
    tokens.projects.save(ALICE, Project("P-1", "First", {"team": "red"}))  # type: ignore[arg-type]
    tokens.projects.save(ALICE, Project("P-2", "Second", {"team": "blue"}))  # type: ignore[arg-type]
    tokens.activate(ALICE)  # type: ignore[arg-type]
    assert tokens.current().project == Project("P-1", "First", {"team": "red"})
    tokens.set_active_project(ALICE, "P-2")  # type: ignore[arg-type]
    assert tokens.current().project is not None
    assert tokens.current().project.project_id == "P-2"  # type: ignore[union-attr]
    listing = tokens.projects.projects(ALICE)  # type: ignore[arg-type]
    assert [(p.project_id, active) for p, active in listing] == [("P-1", False), ("P-2", True)]
    with pytest.raises(BridgeError, match="no project 'P-9'"):
        tokens.set_active_project(ALICE, "P-9")  # type: ignore[arg-type]


def test_render_fills_placeholders_and_refuses_without_a_token() -> None:
    template = {
        "internal_token": "{token}",
        "metadata": {"project_id": "{project.id}", "team": "{project.team}", "fixed": 3},
        "tags": ["bridge", "{project.name}"],
    }
    assert placeholders_in(template) == {"token", "project.id", "project.team", "project.name"}
    context = InjectionContext(
        token="tok-1", expires_at=time.time() + 60, project=Project("P-1", "Apollo", {"team": "x"})
    )
    assert render(template, context) == {
        "internal_token": "tok-1",
        "metadata": {"project_id": "P-1", "team": "x", "fixed": 3},
        "tags": ["bridge", "Apollo"],
    }
    with pytest.raises(TokenUnavailable, match="missing"):
        render(template, InjectionContext())
    with pytest.raises(TokenUnavailable, match="expired"):
        render(template, InjectionContext(token="t", expires_at=time.time() - 1))
    with pytest.raises(TokenUnavailable, match="no field 'team'"):
        render({"t": "{project.team}"}, InjectionContext(project=Project("P", "N")))


def test_merge_keeps_the_clients_fields_and_injected_ones_win() -> None:
    body = {"model": "m", "metadata": {"client": "codex", "project_id": "spoofed"}, "x": 1}
    merged = merge_body(body, {"internal_token": "tok", "metadata": {"project_id": "P-1"}})
    assert merged == {
        "model": "m",
        "x": 1,
        "internal_token": "tok",
        "metadata": {"client": "codex", "project_id": "P-1"},
    }
    assert body["metadata"]["project_id"] == "spoofed"  # the input is not mutated


class _Snapshot:
    def __init__(self, context: InjectionContext) -> None:
        self.context = context

    def current(self) -> InjectionContext:
        return self.context


INJECTING_CONFIG = """\
model_list:
  - model_name: chat-only
    litellm_params:
      model: hosted_vllm/m
      extra_body: {internal_token: "{token}", project_id: "{project.id}"}
  - model_name: claude-style
    litellm_params:
      model: anthropic/m2
      extra_headers: {X-Internal-Token: "{token}"}
      extra_body: {project_id: "{project.id}"}
"""


def test_the_injector_fills_headers_and_body_fields_where_each_provider_sends_them(
    tmp_path: Path,
) -> None:
    from bridge_app.tokens import TokenInjector

    config = tmp_path / "config.yaml"
    config.write_text(INJECTING_CONFIG, encoding="utf-8")
    context = InjectionContext(
        token="tok-9", expires_at=time.time() + 60, project=Project("P-1", "A")
    )
    injector = TokenInjector(tokens=_Snapshot(context), config_path=lambda: config)  # type: ignore[arg-type]
    injector.reload()
    assert injector.needs_token

    # A chat-completions provider merges extra_body into the body: the fields go there.
    call = {
        "model": "hosted_vllm/m",
        "metadata": {"model_group": "chat-only"},
        "extra_body": {"own": 1},
    }
    injector(call)
    assert call["extra_body"] == {"own": 1, "internal_token": "tok-9", "project_id": "P-1"}
    assert "extra_headers" not in call

    # LiteLLM's anthropic provider sends extra_body verbatim ("extra_body": {...}): the
    # fields go on the call, a client's same-named ones are dropped; headers replace the
    # client's own of the same name whatever their case.
    call = {
        "model": "anthropic/m2",
        "litellm_metadata": {"model_group": "claude-style"},
        "extra_body": {"project_id": "spoofed", "kept": True},
        "extra_headers": {"x-internal-token": "spoofed", "anthropic-beta": "b1"},
    }
    injector(call)
    assert call["project_id"] == "P-1"
    assert call["extra_body"] == {"kept": True}
    assert call["extra_headers"] == {"anthropic-beta": "b1", "X-Internal-Token": "tok-9"}

    # No token: refused before anything leaves, for a header template too.
    injector._tokens = _Snapshot(InjectionContext(project=Project("P-1", "A")))  # type: ignore[assignment]
    with pytest.raises(TokenUnavailable, match="missing"):
        injector.precheck({"model": "claude-style"}, None)
