"""`litellm-bridge user|login|audit` as a person or a script runs them (real processes,
production argon2 cost)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bridge_app.runtime import AppPaths
from bridge_app.services import open_store

REPO = Path(__file__).resolve().parents[2]
ADMIN_PW = "admin-horse-battery"
pytestmark = pytest.mark.slow  # a few real processes per test, each hashing at full cost


def _run(
    home: Path, *args: str, stdin: str = "", env: dict[str, str] | None = None
) -> tuple[int, str, str]:
    full_env = {**os.environ, "BRIDGE_HOME": str(home), "BRIDGE_KEYRING": "off"}
    full_env["PYTHONPATH"] = str(REPO)
    full_env.pop("BRIDGE_USER", None)
    full_env.update(env or {})
    result = subprocess.run(
        [sys.executable, "-m", "bridge_app", *args],
        env=full_env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert "Traceback" not in result.stdout + result.stderr
    return result.returncode, result.stdout, result.stderr


def _first_admin(home: Path) -> None:
    code, out, err = _run(
        home, "user", "create", "--admin", "Root", "--password-stdin", stdin=ADMIN_PW + "\n"
    )
    assert code == 0, err
    assert "Created the first admin account root" in out


def test_first_admin_then_a_wrong_and_a_right_login(tmp_path: Path) -> None:
    code, _, err = _run(tmp_path, "login", "--as", "root", "--password-stdin", stdin="x\n")
    assert code == 1
    assert "no admin account yet: run `litellm-bridge user create --admin`" in err

    code, _, err = _run(tmp_path, "user", "create", "root", "--password-stdin", stdin="p\n")
    assert (code, "no admin account yet" in err) == (1, True)  # the first one must be admin
    _first_admin(tmp_path)

    code, out, err = _run(
        tmp_path, "login", "--as", "root", "--password-stdin", stdin="not-the-password\n"
    )
    assert code == 1
    assert err.strip() == "error: Wrong username or password."
    code, out, err = _run(tmp_path, "login", "ROOT", "--password-stdin", stdin=ADMIN_PW + "\n")
    assert code == 0, err
    assert out.strip() == "Logged in as Root (root), role: admin."


def test_a_new_user_must_change_the_password_and_cannot_read_the_audit_log(
    tmp_path: Path,
) -> None:
    _first_admin(tmp_path)
    # BRIDGE_USER says who runs it; stdin holds root's password, then bob's first one
    code, out, err = _run(
        tmp_path,
        "user",
        "create",
        "bob",
        "--password-stdin",
        env={"BRIDGE_USER": "root"},
        stdin=f"{ADMIN_PW}\ntemporary-pass-1\n",
    )
    assert code == 0, err
    assert "they must choose a new password" in out
    code, out, _ = _run(tmp_path, "login", "bob", "--password-stdin", stdin="temporary-pass-1\n")
    assert code == 0
    assert "role: user" in out
    assert "You must change your password now" in out

    code, _, err = _run(
        tmp_path, "audit", "list", "--as", "bob", "--password-stdin", stdin="temporary-pass-1\n"
    )
    assert (code, "must change your password" in err) == (1, True)
    code, out, err = _run(
        tmp_path,
        "user",
        "passwd",
        "--as",
        "bob",
        "--password-stdin",
        stdin="temporary-pass-1\nmy-own-passphrase-7\n",
    )
    assert code == 0, err
    code, _, err = _run(
        tmp_path, "audit", "list", "--as", "bob", "--password-stdin", stdin="my-own-passphrase-7\n"
    )
    assert code == 1
    assert "Permission denied" in err

    code, out, err = _run(
        tmp_path, "user", "list", "--as", "root", "--password-stdin", stdin=ADMIN_PW + "\n"
    )
    assert code == 0, err
    assert [line.split()[:3] for line in out.splitlines()[1:]] == [
        ["bob", "user", "enabled"],
        ["root", "admin", "enabled"],
    ]
    code, _, err = _run(
        tmp_path,
        "user",
        "delete",
        "root",
        "--yes",
        "--as",
        "root",
        "--password-stdin",
        stdin=ADMIN_PW + "\n",
    )
    assert code == 1
    assert "last enabled admin" in err


def test_audit_export_to_an_unwritable_path_gives_one_line_and_no_file(tmp_path: Path) -> None:
    home = tmp_path / "home"
    _first_admin(home)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    target = blocker / "audit.csv"
    code, out, err = _run(
        home,
        "audit",
        "export",
        "--format",
        "csv",
        str(target),
        "--as",
        "root",
        "--password-stdin",
        stdin=ADMIN_PW + "\n",
    )
    assert code == 1
    assert err.splitlines() == [
        f"error: Cannot write the audit export to {target}: the folder {blocker} does not exist."
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file", "home"]

    good = tmp_path / "audit.json"
    code, out, err = _run(
        home,
        "audit",
        "export",
        "--format",
        "json",
        str(good),
        "--as",
        "root",
        "--password-stdin",
        stdin=ADMIN_PW + "\n",
    )
    assert code == 0, err
    assert f"to {good} (json)" in out
    assert good.read_text(encoding="utf-8").startswith("{")


def test_audit_verify_names_the_first_altered_event(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _first_admin(tmp_path)
    code, out, err = _run(
        tmp_path, "audit", "verify", "--as", "root", "--password-stdin", stdin=ADMIN_PW + "\n"
    )
    assert code == 0, err
    assert "The audit log is intact" in out

    monkeypatch.setenv("BRIDGE_HOME", str(tmp_path))
    db, _ = open_store(AppPaths.from_environment())
    with db.transaction() as conn:
        conn.exec_driver_sql("UPDATE audit_events SET detail = 'edited' WHERE seq = 2")
    db.close()
    code, out, err = _run(
        tmp_path, "audit", "verify", "--as", "root", "--password-stdin", stdin=ADMIN_PW + "\n"
    )
    assert code == 1
    assert "The audit log is NOT intact: event #2 was altered" in err


@pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pseudo-terminal")
def test_interactive_prompts_hide_passwords_and_ask_new_ones_twice(tmp_path: Path) -> None:
    import pty
    import select

    env = {**os.environ, "BRIDGE_HOME": str(tmp_path), "BRIDGE_KEYRING": "off"}
    env["PYTHONPATH"] = str(REPO)
    pid, fd = pty.fork()
    if pid == 0:  # the child: the real command on a terminal
        os.execve(  # noqa: S606 - fixed argv, no shell
            sys.executable, [sys.executable, "-m", "bridge_app", "user", "create", "--admin"], env
        )
    answers = ["Root", ADMIN_PW, "a-typo-in-the-repeat", ADMIN_PW, ADMIN_PW]
    screen = b""
    while True:
        ready, _, _ = select.select([fd], [], [], 30)
        if not ready:
            break
        try:
            chunk = os.read(fd, 1024)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        screen += chunk
        # Answer only once the prompt's trailing space is out: click prints the text, then
        # getpass turns echo off (flushing typed-ahead input) and prints that space.
        if screen.endswith(b": ") and answers:
            os.write(fd, (answers.pop(0) + "\n").encode())
    os.close(fd)  # hangs up the terminal: a child still waiting for input ends too
    _, status = os.waitpid(pid, 0)
    text = screen.decode(errors="replace")
    assert os.waitstatus_to_exitcode(status) == 0, text
    assert text.count("Repeat the new password") == 2
    assert "do not match" in text
    assert "Created the first admin account root" in text
    assert ADMIN_PW not in text  # never echoed
    assert "a-typo-in-the-repeat" not in text


def test_login_does_not_tell_which_accounts_exist_even_across_processes(
    tmp_path: Path,
) -> None:
    """Every try is its own process: the count and the lock live in the shared database."""
    _first_admin(tmp_path)
    answers: dict[str, list[tuple[int, str]]] = {}
    for name in ("root", "ghost"):
        answers[name] = []
        for password in ["wrong-password!"] * 5 + [ADMIN_PW]:
            code, _, err = _run(tmp_path, "login", name, "--password-stdin", stdin=password + "\n")
            answers[name].append((code, err.strip()))
    assert answers["root"] == answers["ghost"]
    assert answers["ghost"][0] == (1, "error: Wrong username or password.")
    assert answers["ghost"][4][1].startswith("error: Too many failed logins")
    # the right password of an existing account is refused while it is locked
    assert answers["root"][5] == answers["root"][4]


@pytest.mark.windows
@pytest.mark.parametrize("stdin", ["pipe", "null"])
def test_a_prompt_without_a_terminal_says_what_to_do(tmp_path: Path, stdin: str) -> None:
    """`user create --admin` asks for a password; from a script with nothing on standard
    input it used to end in "internal error: Abort". With standard input from NUL, which
    Windows calls a terminal (isatty), the hidden prompt read the console and waited."""
    env = {**os.environ, "BRIDGE_HOME": str(tmp_path / "home"), "BRIDGE_KEYRING": "off"}
    env["PYTHONPATH"] = str(REPO)
    done = subprocess.run(
        [sys.executable, "-m", "bridge_app", "user", "create", "--admin", "root"],
        env=env,
        input="" if stdin == "pipe" else None,
        stdin=subprocess.DEVNULL if stdin == "null" else None,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    out, err = done.stdout, done.stderr
    assert done.returncode == 1, out + err
    assert "a password was asked but there is no terminal" in err and "--password-stdin" in err
    assert "internal error" not in err and "Abort" not in out + err


def test_an_abort_at_a_terminal_stays_clicks_own(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl+C at a prompt, or "no" to `user delete`'s confirmation, in a terminal: Click's
    own "Aborted!", not the no-terminal advice."""
    import io

    import click

    from bridge_app.cli._app import friendly_errors

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    @friendly_errors
    def declined() -> None:
        raise click.exceptions.Abort()

    monkeypatch.setattr("sys.stdin", Terminal())
    with pytest.raises(click.exceptions.Abort):
        declined()


def test_parallel_wrong_logins_never_clear_the_lock(tmp_path: Path) -> None:
    """Seven wrong logins at the same moment, in seven processes, three times over: the
    lock that the fifth sets holds, whatever order the others record their failures in."""
    _first_admin(tmp_path)
    env = {**os.environ, "BRIDGE_HOME": str(tmp_path), "BRIDGE_KEYRING": "off"}
    env["PYTHONPATH"] = str(REPO)
    env.pop("BRIDGE_USER", None)
    for name in ("root", "ghost", "phantom"):
        tries = [
            subprocess.Popen(
                [sys.executable, "-m", "bridge_app", "login", name, "--password-stdin"],
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(7)
        ]
        # Every process is started (importing) before any gets its password, so their
        # lock checks and failures overlap.
        for proc in tries:
            assert proc.stdin is not None
            proc.stdin.write("wrong-password!\n")
            proc.stdin.close()
        answers = []
        for proc in tries:
            assert proc.stdout is not None and proc.stderr is not None
            proc.wait(timeout=120)
            answers.append((proc.stdout.read(), proc.stderr.read()))
        assert all(proc.returncode == 1 for proc in tries), answers
        assert any("Too many failed logins" in err for _, err in answers), answers
        code, _, err = _run(tmp_path, "login", name, "--password-stdin", stdin=ADMIN_PW + "\n")
        assert code == 1 and "Too many failed logins" in err, f"{name}: the lock was cleared"
