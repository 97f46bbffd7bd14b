"""Login, throttling, passwords, sessions and personal data keys on a real SQLCipher file."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import insert, select

from bridge_app.auth import (
    AccountLockedError,
    AuthenticationError,
    AuthError,
    NoAdminError,
    PasswordChangeRequiredError,
    PasswordPolicy,
    PasswordPolicyError,
    SessionEndedError,
    SessionLockedError,
    UserExistsError,
    UsernameError,
)
from bridge_app.auth._attempts import LoginAttempts
from bridge_app.auth._policy import ThrottlePolicy
from bridge_app.crypto import CryptoError, KdfParams, open_sealed
from bridge_app.store import tables
from tests.unit._auth_stack import (
    ADMIN_PW,
    DB_KEY,
    USER_PW,
    FakeClock,
    open_stack,
    with_admin_and_user,
)


@pytest.fixture
def db_file(tmp_path: Path) -> Path:
    return tmp_path / "bridge.db"


def test_nothing_that_needs_a_user_works_before_the_first_admin(db_file: Path) -> None:
    stack = open_stack(db_file)
    with pytest.raises(
        NoAdminError, match=r"no admin account yet: run `litellm-bridge user create --admin`"
    ):
        stack.auth.login("anyone", "whatever-password")
    stack.auth.create_first_admin("Root", ADMIN_PW)
    session = stack.auth.login("root", ADMIN_PW)
    assert (session.username, session.role, session.is_admin) == ("root", "admin", True)
    with pytest.raises(AuthError, match="already exists"):
        stack.auth.create_first_admin("second", "another-long-password")


def test_unknown_user_and_wrong_password_fail_alike(db_file: Path) -> None:
    stack = open_stack(db_file)
    stack.auth.create_first_admin("root", ADMIN_PW)
    with pytest.raises(AuthenticationError) as wrong:
        stack.auth.login("root", "not-the-password")
    with pytest.raises(AuthenticationError) as unknown:
        stack.auth.login("nobody", "not-the-password")
    assert str(wrong.value) == str(unknown.value) == "Wrong username or password."
    # a name typed into the wrong box may be a password: the log never keeps it
    with stack.db.reading() as conn:
        rows = conn.execute(select(tables["audit_events"])).all()
    assert not any("nobody" in (r.actor + r.target + r.detail) for r in rows)


def test_repeated_failures_lock_the_account_across_a_restart(db_file: Path) -> None:
    clock = FakeClock()
    stack = open_stack(db_file, clock=clock)
    stack.auth.create_first_admin("root", ADMIN_PW)
    for _ in range(4):
        with pytest.raises(AuthenticationError):
            stack.auth.login("root", "wrong-password!")
    with pytest.raises(AccountLockedError):
        stack.auth.login("root", "wrong-password!")
    assert clock.slept == [0.5, 1.0, 2.0, 4.0, 4.0]  # the pause grows after each failure
    with pytest.raises(AccountLockedError, match="locked for about 15 more minutes"):
        stack.auth.login("root", ADMIN_PW)  # even the right password is refused
    stack.close()

    clock.now += 10 * 60
    restarted = open_stack(db_file, clock=clock)  # a new app instance on the same file
    with pytest.raises(AccountLockedError, match="5 more minutes"):
        restarted.auth.login("root", ADMIN_PW)
    clock.now += 5 * 60 + 1
    assert restarted.auth.login("root", ADMIN_PW).username == "root"
    with restarted.db.reading() as conn:
        row = conn.execute(select(tables["users"])).one()
    assert (row.failed_logins, row.locked_until) == (0, None)


def test_a_failure_recorded_while_locked_never_clears_the_lock(db_file: Path) -> None:
    """Logins checked in parallel (the window, `serve`, commands) passed the lock check
    before another one locked the name; their failures arrive afterwards."""
    clock = FakeClock()
    stack = open_stack(db_file, clock=clock)
    attempts = LoginAttempts(db=stack.db, throttle=ThrottlePolicy(), clock=clock)
    results = [attempts.record_failure("root") for _ in range(5)]
    assert [r.locked for r in results] == [False, False, False, False, True]
    clock.now += 60
    for _ in range(3):
        late = attempts.record_failure("root")
        assert (late.locked, late.locked_for) == (False, 14 * 60)
    assert attempts.locked_for("root") == 14 * 60
    clock.now += 14 * 60 + 1  # the lock ends when it was due, not later
    assert attempts.locked_for("root") is None
    assert attempts.record_failure("root").failures == 1
    stack.close()


def test_an_unknown_name_is_throttled_and_locked_exactly_like_a_known_one(
    db_file: Path,
) -> None:
    clock = FakeClock()
    stack = open_stack(db_file, clock=clock)
    stack.auth.create_first_admin("root", ADMIN_PW)
    seen: dict[str, list[str]] = {}
    for name in ("root", "ghost"):
        clock.slept.clear()
        messages = []
        for _ in range(4):
            with pytest.raises(AuthenticationError) as failed:
                stack.auth.login(name, "wrong-password!")
            messages.append(str(failed.value))
        with pytest.raises(AccountLockedError) as locked:
            stack.auth.login(name, "wrong-password!")
        messages.append(str(locked.value))
        with pytest.raises(AccountLockedError) as still:
            stack.auth.login(name, ADMIN_PW)
        messages.append(str(still.value))
        seen[name] = messages
        assert clock.slept == [0.5, 1.0, 2.0, 4.0, 4.0], name
    assert seen["root"] == seen["ghost"]
    assert seen["ghost"][0] == "Wrong username or password."
    assert "locked for about 15 more minutes" in seen["ghost"][-1]
    stack.close()

    # Kept in the database: another instance on the same file sees both locks.
    clock.now += 10 * 60
    restarted = open_stack(db_file, clock=clock)
    for name in ("root", "ghost"):
        with pytest.raises(AccountLockedError, match="5 more minutes"):
            restarted.auth.login(name, "wrong-password!")
    clock.now += 5 * 60 + 1
    with pytest.raises(AuthenticationError):
        restarted.auth.login("ghost", "wrong-password!")
    assert restarted.auth.login("root", ADMIN_PW).username == "root"
    with restarted.db.reading() as conn:
        counts = dict(
            conn.execute(
                select(tables["login_attempts"].c.name, tables["login_attempts"].c.failures)
            ).all()
        )
    assert counts == {"ghost": 1}  # a successful login clears its own name only


def test_an_overlong_password_is_refused_the_same_way_for_any_name(db_file: Path) -> None:
    stack = open_stack(db_file)
    stack.auth.create_first_admin("root", ADMIN_PW)
    for name in ("root", "ghost"):
        with pytest.raises(AuthenticationError, match="Wrong username or password"):
            stack.auth.login(name, "x" * 5000)


def test_an_account_created_later_does_not_inherit_failures_typed_for_its_name(
    db_file: Path,
) -> None:
    stack = open_stack(db_file)
    stack.auth.create_first_admin("root", ADMIN_PW)
    for _ in range(5):
        with pytest.raises((AuthenticationError, AccountLockedError)):
            stack.auth.login("alice", "wrong-password!")
    admin = stack.auth.login("root", ADMIN_PW)
    stack.auth.create_user(admin, "alice", "xyz-initial-pw1")
    assert stack.auth.login("alice", "xyz-initial-pw1").username == "alice"


@pytest.mark.parametrize("look_alike", ["alice", "ALICE", "Alice ", "ａｌｉｃｅ", "ＡＬＩＣＥ"])
def test_look_alike_usernames_are_refused_as_duplicates(db_file: Path, look_alike: str) -> None:
    stack = open_stack(db_file)
    stack.auth.create_first_admin("root", ADMIN_PW)
    admin = stack.auth.login("root", ADMIN_PW)
    stack.auth.create_user(admin, "Alice", "xyz-initial-pw1")
    with pytest.raises(UserExistsError, match="already exists"):
        stack.auth.create_user(admin, look_alike, "another-long-pass")
    # and any of those spellings logs in to the same account
    assert stack.auth.login(look_alike, "xyz-initial-pw1").username == "alice"


def test_display_names_allow_spaces_but_not_control_characters(db_file: Path) -> None:
    stack = open_stack(db_file)
    with pytest.raises(UsernameError, match="display name contains"):
        stack.auth.create_first_admin("root", ADMIN_PW, display_name="Root\nAdmin")
    info = stack.auth.create_first_admin("root", ADMIN_PW, display_name="  IT Admin ")
    assert (info.username, info.display_name) == ("root", "IT Admin")


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("a" * 65, "too long"),
        ("ali\x00ce", "control character"),
        ("bob\u200b", "invisible"),
        ("line\nbreak", "control character"),
        ("two words", "spaces"),
    ],
)
def test_bad_usernames_get_a_clear_message(db_file: Path, name: str, message: str) -> None:
    stack = open_stack(db_file)
    with pytest.raises(UsernameError, match=message):
        stack.auth.create_first_admin(name, ADMIN_PW)


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("", "empty"),
        ("short-pw", "too short"),
        ("my-root-password", "contain the username"),
        ("Password123", "commonly used"),
        ("qwertyuiop", "commonly used"),
    ],
)
def test_weak_passwords_are_refused(db_file: Path, password: str, message: str) -> None:
    stack = open_stack(db_file)
    with pytest.raises(PasswordPolicyError, match=message):
        stack.auth.create_first_admin("root", password)


def test_password_change_keeps_secrets_readable_and_retires_the_old_password(
    db_file: Path,
) -> None:
    stack = open_stack(db_file)
    _, bob = with_admin_and_user(stack)
    sealed = bob.seal(b"bob-internal-token", "token")
    stack.auth.change_password(bob, USER_PW, "a-brand-new-passphrase")
    with pytest.raises(AuthenticationError):
        stack.auth.login("bob", USER_PW)
    again = stack.auth.login("bob", "a-brand-new-passphrase")
    assert again.open(sealed, "token") == b"bob-internal-token"
    with pytest.raises(AuthenticationError):
        stack.auth.change_password(again, "not-my-password", "yet-another-passphrase")


def test_a_reset_password_must_be_changed_before_anything_else(db_file: Path) -> None:
    stack = open_stack(db_file)
    admin, _ = with_admin_and_user(stack)
    stack.auth.create_user(admin, "carol", "temp-pass-for-c1", role="admin")
    carol = stack.auth.login("carol", "temp-pass-for-c1")
    assert carol.must_change_password
    with pytest.raises(PasswordChangeRequiredError):
        stack.auth.list_users(carol)
    stack.auth.change_password(carol, "temp-pass-for-c1", "own-passphrase-c2")
    assert not carol.must_change_password
    assert [u.username for u in stack.auth.list_users(carol)] == ["bob", "carol", "root"]


def test_login_rehashes_when_the_cost_parameters_change(db_file: Path) -> None:
    stack = open_stack(db_file)
    _, bob = with_admin_and_user(stack)
    sealed = bob.seal(b"kept", "x")
    stack.close()
    stronger = PasswordPolicy(kdf=KdfParams(time_cost=2, memory_cost_kib=16 * 1024, parallelism=1))
    upgraded = open_stack(db_file, policy=stronger)
    assert upgraded.auth.login("bob", USER_PW).open(sealed, "x") == b"kept"
    with upgraded.db.reading() as conn:
        stored = conn.execute(
            select(tables["users"].c.password_hash).where(tables["users"].c.username == "bob")
        ).scalar_one()
    assert stored.startswith("$argon2id$v=19$m=16384,t=2,p=1$")
    # the re-wrapped data key still opens with the new cost
    assert upgraded.auth.login("bob", USER_PW).open(sealed, "x") == b"kept"


def test_idle_session_locks_and_unlocks_with_the_password(db_file: Path) -> None:
    stack = open_stack(db_file)
    stack.auth.create_first_admin("root", ADMIN_PW)
    stack.settings.set("ui.idle_lock_minutes", 5)
    session = stack.auth.login("root", ADMIN_PW)
    start = session.last_activity
    assert not session.is_locked(start + 4 * 60)
    session.touch(start + 4 * 60)
    stack.auth.list_users(session)  # a screen polling a service is not activity
    assert session.last_activity == start + 4 * 60
    assert not session.is_locked(start + 8 * 60)  # activity pushed the limit back
    assert session.is_locked(start + 9 * 60 + 1)
    session.touch()  # activity no longer helps once locked
    assert session.is_locked()
    with pytest.raises(SessionLockedError):
        stack.auth.list_users(session)
    # background work (the proxy) keeps its keys while the screen is locked
    assert session.open(session.seal(b"x", "c"), "c") == b"x"
    with pytest.raises(AuthenticationError):
        session.unlock("not-the-password")
    session.unlock(ADMIN_PW)
    assert not session.is_locked()
    assert [u.username for u in stack.auth.list_users(session)] == ["root"]
    assert "data_key" not in repr(session)
    assert session.data_key.hex() not in repr(session)


def test_logout_ends_the_session(db_file: Path) -> None:
    stack = open_stack(db_file)
    admin, _ = with_admin_and_user(stack)
    stack.auth.logout(admin)
    with pytest.raises(AuthError, match="ended"):
        stack.auth.list_users(admin)
    with pytest.raises(AuthError, match="ended"):
        admin.seal(b"x", "c")


def test_one_account_cannot_read_another_accounts_secret(db_file: Path) -> None:
    stack = open_stack(db_file)
    admin, bob = with_admin_and_user(stack)
    sealed = bob.seal(b"bob-internal-token-123", "secret:iam")
    with stack.db.transaction() as conn:
        conn.execute(
            insert(tables["secrets"]).values(
                owner_id=bob.user_id,
                kind="token",
                label="iam",
                value=sealed,
                meta="{}",
                created_at="t",
                updated_at="t",
            )
        )
    with stack.db.reading() as conn:
        stored = conn.execute(select(tables["secrets"].c.value)).scalar_one()
    assert b"bob-internal-token-123" not in stored
    with pytest.raises(CryptoError):
        admin.open(stored, "secret:iam")  # another account, even an admin
    with pytest.raises(CryptoError):
        open_sealed(DB_KEY.raw, stored, context=f"user:{bob.user_id}:secret:iam")
    assert bob.open(stored, "secret:iam") == b"bob-internal-token-123"
    # the raw file holds neither the value nor bob's data key
    raw = db_file.read_bytes() + db_file.with_name("bridge.db-wal").read_bytes()
    assert b"bob-internal-token-123" not in raw
    assert bob.data_key not in raw


def test_admin_reset_makes_old_secrets_unreadable_and_says_so(db_file: Path) -> None:
    stack = open_stack(db_file)
    admin, bob = with_admin_and_user(stack)
    sealed = bob.seal(b"old-token", "secret:iam")
    with stack.db.transaction() as conn:
        conn.execute(
            insert(tables["secrets"]).values(
                owner_id=bob.user_id,
                kind="token",
                label="iam",
                value=sealed,
                meta="{}",
                created_at="t",
                updated_at="t",
            )
        )
        conn.execute(
            insert(tables["env_entries"]).values(
                owner_id=bob.user_id,
                name="MY_KEY",
                value=bob.seal(b"v", "env:MY_KEY"),
                enabled=1,
                updated_at="t",
            )
        )
        conn.execute(
            insert(tables["env_entries"]).values(
                owner_id=None, name="SHARED", value=b"shared", enabled=1, updated_at="t"
            )
        )
    result = stack.auth.reset_password(admin, "bob", "reset-by-admin-77")
    assert (result.removed_secrets, result.removed_env_entries) == (1, 1)
    assert "could no longer be decrypted" in result.notice
    with stack.db.reading() as conn:
        assert conn.execute(select(tables["secrets"])).all() == []
        assert [r.name for r in conn.execute(select(tables["env_entries"]))] == ["SHARED"]
    fresh = stack.auth.login("bob", "reset-by-admin-77")
    assert fresh.must_change_password
    with pytest.raises(CryptoError):
        fresh.open(sealed, "secret:iam")
    with pytest.raises(AuthError, match="Change password"):
        stack.auth.reset_password(admin, "root", "resetting-myself-1")
    # bob's session from before the reset holds the replaced key: it has ended
    with pytest.raises(SessionEndedError, match="reset"):
        stack.auth.whoami(bob)
