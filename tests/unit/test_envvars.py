from __future__ import annotations

import logging
import stat
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from dotenv import dotenv_values

from bridge_app.crypto import new_data_key
from bridge_app.envvars import EnvError, EnvPermissionError, EnvService
from bridge_app.runtime import AppPaths, BridgeError, Redactor, configure_logging
from bridge_app.services import open_store
from bridge_app.store import Database
from tests.unit._sessions import FakeSession

# Touches Windows branches: runs in the Windows leg too (scripts/windows/test.sh).
pytestmark = pytest.mark.windows


def _reauth(session: FakeSession, password: str) -> None:
    if password != session.password:
        raise BridgeError("Wrong password.")


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, str, str, str, str]] = []

    def record(self, actor: str, action: str, target: str, outcome: str, detail: str) -> None:
        self.events.append((actor, action, target, outcome, detail))


@pytest.fixture
def store(app_paths: AppPaths) -> Database:
    db, _ = open_store(app_paths)
    with db.transaction() as conn:  # the owners the personal rows refer to
        for uid, name in ((1, "alice"), (2, "bob"), (3, "root")):
            conn.exec_driver_sql(
                "INSERT INTO users (id, username, display_name, role, password_hash, "
                "created_at, updated_at) VALUES (?, ?, ?, 'user', 'x', 't', 't')",
                (uid, name, name),
            )
    yield db
    db.close()


@pytest.fixture
def redactor() -> Redactor:
    return Redactor()


@pytest.fixture
def audit() -> Recorder:
    return Recorder()


@pytest.fixture
def env(store: Database, redactor: Redactor, audit: Recorder) -> EnvService:
    return EnvService(
        db=store,
        shared_key=new_data_key(),
        redactor=redactor,
        audit=audit,
        reauthenticate=_reauth,  # type: ignore[arg-type]
    )


ALICE = FakeSession(1, "alice")
BOB = FakeSession(2, "bob")
ADMIN = FakeSession(3, "root", role="admin")

TRICKY = r"""# corporate settings
export INTERNAL_API_BASE=https://llm.internal.example/v1
PLAIN=value with spaces   # trailing comment
SINGLE='it\'s $NOT_EXPANDED # not a comment'
DOUBLE="line one\nline two\ttabbed \"quoted\" back\\slash"
MULTI="first line
second line"
EMPTY=
EQUALS=a=b=c
UNICODE="héllo wörld ✓"
HASH_IN_QUOTES="abc#def"
"""


def test_a_file_with_windows_line_ends_imports_the_same_values(
    env: EnvService, tmp_path: Path
) -> None:
    """Written by a Windows editor (CRLF): a quoted multi-line value keeps \\n, as python-
    dotenv reads it, not \\r\\n."""
    source = tmp_path / "crlf.env"
    source.write_bytes(TRICKY.replace("\n", "\r\n").encode("utf-8"))
    preview = env.preview_import_file(ALICE, source)
    values = {line.name: line.value for line in preview.applicable}
    assert values["MULTI"] == "first line\nsecond line"
    assert values["PLAIN"] == "value with spaces"


def test_dotenv_round_trip_with_tricky_quoting(env: EnvService, tmp_path: Path) -> None:
    source = tmp_path / "in.env"
    source.write_text(TRICKY, encoding="utf-8")
    expected = {k: v for k, v in dotenv_values(source, interpolate=False).items()}
    # python-dotenv is the reference for what these lines mean
    assert expected["MULTI"] == "first line\nsecond line"
    assert expected["SINGLE"] == "it's $NOT_EXPANDED # not a comment"
    assert expected["PLAIN"] == "value with spaces"

    preview = env.preview_import_file(ALICE, source)
    assert preview.count("invalid") == 0, preview.lines
    assert preview.count("new") == len(expected)
    env.apply_import(ALICE, preview)

    out = tmp_path / "out.env"
    assert env.export(ALICE, out, values=True) == len(expected)
    assert dotenv_values(out, interpolate=False) == expected
    first = out.read_bytes()
    assert "PLAINTEXT SECRETS" in out.read_text(encoding="utf-8")
    # Export → import → export is stable, and re-importing changes nothing.
    again = env.preview_import_file(ALICE, out)
    assert again.count("unchanged") == len(expected)
    assert again.applicable == ()
    env.export(ALICE, out, values=True)
    assert out.read_bytes() == first
    if sys.platform != "win32":
        assert stat.S_IMODE(out.stat().st_mode) == 0o600


def test_preview_names_every_bad_line_and_applies_nothing(env: EnvService) -> None:
    text = (
        "GOOD=1\n"
        "this line is garbage\n"
        "1BAD=x\n"
        "LITELLM_MASTER_KEY=sk-mine\n"
        "DUP=first\n"
        "DUP=second\n"
        "=novalue\n"
    )
    preview = env.preview_import_text(ALICE, text)
    invalid = {line.line: line.reason for line in preview.lines if line.status == "invalid"}
    assert set(invalid) == {2, 3, 4, 5, 7}
    assert "not a valid variable name" in invalid[3]
    assert "cannot be an environment entry: the app generates the proxy key" in invalid[4]
    assert "set again on line 6" in invalid[5]
    assert [line.name for line in preview.applicable] == ["GOOD", "DUP"]
    assert env.entries(ALICE) == []  # nothing until confirmed


def test_binary_huge_and_non_utf8_files_are_refused_with_a_location(
    env: EnvService, tmp_path: Path
) -> None:
    binary = tmp_path / "binary.env"
    binary.write_bytes(b"A=1\nB=2\n\x00\x01\x02garbage")
    with pytest.raises(EnvError, match="binary data on line 3"):
        env.preview_import_file(ALICE, binary)
    latin = tmp_path / "latin.env"
    latin.write_bytes(b"A=1\nNAME=caf\xe9\n")
    with pytest.raises(EnvError, match=r"not valid UTF-8 \(line 2"):
        env.preview_import_file(ALICE, latin)
    huge = tmp_path / "huge.env"
    huge.write_bytes(b"X=" + b"y" * (2 * 1024 * 1024) + b"\n")
    with pytest.raises(EnvError, match="larger than 1024 KiB is refused"):
        env.preview_import_file(ALICE, huge)
    assert env.entries(ALICE) == []


def test_an_import_failing_halfway_changes_nothing(env: EnvService) -> None:
    env.set(ALICE, "KEEP", "old-value")

    @dataclass
    class BreaksOnThirdSeal(FakeSession):
        seals: int = 0

        def seal(self, plaintext: bytes, context: str) -> bytes:
            self.seals += 1
            if self.seals == 3:
                raise RuntimeError("disk full while sealing")
            return super().seal(plaintext, context)

    flaky = BreaksOnThirdSeal(1, "alice", data_key=ALICE.data_key)
    preview = env.preview_import_text(flaky, "KEEP=new-value\nA=1\nB=2\nC=3\n")
    with pytest.raises(RuntimeError):
        env.apply_import(flaky, preview)
    assert [e.name for e in env.entries(ALICE)] == ["KEEP"]
    assert env.effective_environment(ALICE) == {"KEEP": "old-value"}


def test_values_never_rest_in_plaintext_in_db_logs_or_template(
    app_paths: AppPaths, store: Database, env: EnvService, redactor: Redactor, tmp_path: Path
) -> None:
    log_file = configure_logging(app_paths.log_dir, redactor, console_level=None)
    secret = "corp-upstream-key-9f8e7d6c5b4a"
    env.set(ALICE, "UPSTREAM_KEY", secret)
    env.set(ADMIN, "SHARED_KEY", "shared-secret-0a1b2c3d4e5f", scope="shared")
    assert env.effective_environment(ALICE)["UPSTREAM_KEY"] == secret
    logging.getLogger("litellm.fake").error("upstream rejected key %s", secret)
    for handler in logging.getLogger().handlers:
        handler.flush()
    template = tmp_path / "template.env"
    env.export(ALICE, template, values=False)

    store.close()
    raw = b"".join(p.read_bytes() for p in app_paths.data_dir.iterdir() if p.is_file())
    for value in (secret, "shared-secret-0a1b2c3d4e5f"):
        assert value.encode() not in raw
        assert value not in log_file.read_text(encoding="utf-8")
        assert value not in template.read_text(encoding="utf-8")
    assert "UPSTREAM_KEY=\n" in template.read_text(encoding="utf-8")
    assert "SHARED_KEY=\n" in template.read_text(encoding="utf-8")


def test_personal_overrides_shared_and_the_list_says_which_wins(env: EnvService) -> None:
    env.set(ADMIN, "HTTPS_PROXY", "http://proxy.corp:8080", scope="shared")
    env.set(ADMIN, "REGION", "eu", scope="shared")
    env.set(ALICE, "HTTPS_PROXY", "http://127.0.0.1:3128")

    listing = {(e.name, e.scope): e for e in env.entries(ALICE)}
    assert listing[("HTTPS_PROXY", "personal")].wins
    assert not listing[("HTTPS_PROXY", "shared")].wins
    assert "overridden" in listing[("HTTPS_PROXY", "shared")].note
    assert listing[("REGION", "shared")].wins
    assert env.effective_environment(ALICE) == {
        "HTTPS_PROXY": "http://127.0.0.1:3128",
        "REGION": "eu",
    }
    assert env.network_settings(ALICE) == {"HTTPS_PROXY": "http://127.0.0.1:3128"}
    # Bob sees the shared value; a headless start with nobody logged in too.
    assert env.effective_environment(BOB)["HTTPS_PROXY"] == "http://proxy.corp:8080"
    assert env.effective_environment(None) == {
        "HTTPS_PROXY": "http://proxy.corp:8080",
        "REGION": "eu",
    }


def test_only_admins_change_shared_entries(env: EnvService, audit: Recorder) -> None:
    for attempt in (
        lambda: env.set(ALICE, "X", "1", scope="shared"),
        lambda: env.unset(ALICE, "X", scope="shared"),
        lambda: env.set_enabled(ALICE, "X", False, scope="shared"),
        lambda: env.preview_import_text(ALICE, "X=1", scope="shared"),
    ):
        with pytest.raises(EnvPermissionError):
            attempt()
    assert all(e[3] == "denied" for e in audit.events)


def test_one_user_cannot_see_or_open_anothers_entries(env: EnvService, store: Database) -> None:
    env.set(ALICE, "TOKEN", "alice-only-secret-value")
    assert "TOKEN" not in env.effective_environment(BOB)
    assert env.entries(BOB) == []
    with store.reading() as conn:
        sealed = conn.exec_driver_sql("SELECT value FROM env_entries WHERE owner_id = 1").scalar()
    with pytest.raises(BridgeError):
        BOB.open(sealed, "env:1:TOKEN")


def test_disabled_entries_are_not_applied_and_check_reports_them(env: EnvService) -> None:
    env.set(ALICE, "OPENAI_API_KEY", "sk-test-aaaaaaaaaaaa")
    env.set(ALICE, "INTERNAL_BASE", "http://127.0.0.1:9")
    env.set(ALICE, "LEFTOVER", "x")
    env.set_enabled(ALICE, "OPENAI_API_KEY", False)
    assert "OPENAI_API_KEY" not in env.effective_environment(ALICE)

    config = (
        "model_list:\n  - model_name: a\n    litellm_params:\n"
        "      api_key: os.environ/OPENAI_API_KEY\n"
        "      api_base: os.environ/INTERNAL_BASE\n"
        "      extra_headers: {x: os.environ/NOT_DEFINED}\n"
    )
    check = env.check(ALICE, config)
    assert check.missing == ("NOT_DEFINED",)
    assert check.disabled == ("OPENAI_API_KEY",)
    assert check.unused == ("LEFTOVER",)
    assert not check.ok
    env.set_enabled(ALICE, "OPENAI_API_KEY", True)
    assert env.effective_environment(ALICE)["OPENAI_API_KEY"] == "sk-test-aaaaaaaaaaaa"


def test_names_and_values_are_validated_with_explanations(env: EnvService) -> None:
    with pytest.raises(EnvError, match="not a valid variable name"):
        env.set(ALICE, "MY-VAR", "x")
    with pytest.raises(EnvError, match="cannot be empty"):
        env.set(ALICE, "  ", "x")
    with pytest.raises(EnvError, match="generates the proxy key"):
        env.set(ALICE, "LITELLM_MASTER_KEY", "sk-x")
    with pytest.raises(EnvError, match="NUL"):
        env.set(ALICE, "A", "bad\x00value")
    with pytest.raises(EnvError, match="larger than 32 KiB"):
        env.set(ALICE, "A", "x" * 40000)
    with pytest.raises(EnvError, match="no personal entry named NOPE"):
        env.unset(ALICE, "NOPE")


def test_reveal_needs_the_password_again(env: EnvService, audit: Recorder) -> None:
    env.set(ALICE, "KEY", "sk-reveal-me-123456")
    listing = env.entries(ALICE)
    assert listing[0].masked == "****3456"
    with pytest.raises(BridgeError, match="Wrong password"):
        env.reveal(ALICE, "KEY", scope="personal", password="guess")
    assert env.reveal(ALICE, "KEY", scope="personal", password=ALICE.password) == (
        "sk-reveal-me-123456"
    )
    outcomes = [(e[1], e[3]) for e in audit.events if e[1] == "env.reveal"]
    assert outcomes == [("env.reveal", "denied"), ("env.reveal", "ok")]
    assert all("sk-reveal-me" not in " ".join(e) for e in audit.events)


def test_observers_hear_every_change(env: EnvService) -> None:
    heard: list[int] = []
    unsubscribe = env.subscribe(lambda: heard.append(1))
    env.set(ALICE, "A", "1")
    env.set_enabled(ALICE, "A", False)
    env.unset(ALICE, "A")
    assert len(heard) == 3
    unsubscribe()
    env.set(ALICE, "B", "1")
    assert len(heard) == 3


def test_export_to_an_unwritable_place_leaves_nothing_behind(
    env: EnvService, tmp_path: Path
) -> None:
    env.set(ALICE, "A", "1")
    with pytest.raises(EnvError, match="does not exist"):
        env.export(ALICE, tmp_path / "missing-dir" / "x.env", values=True)
    with pytest.raises(EnvError, match="is a folder"):
        env.export(ALICE, tmp_path, values=True)
    blocker = tmp_path / "blocker"
    blocker.write_text("x")
    with pytest.raises(EnvError):
        env.export(ALICE, blocker / "x.env", values=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["blocker", "bridge-home"]


def test_a_new_entry_can_be_stored_disabled(env: EnvService) -> None:
    env.set(ALICE, "LATER", "value", enabled=False)
    assert [(e.name, e.enabled) for e in env.entries(ALICE)] == [("LATER", False)]
    assert "LATER" not in env.effective_environment(ALICE)
