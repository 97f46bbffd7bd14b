from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.unit.test_cli import REPO, run_cli

ADMIN_PW = "admin-horse-battery"
USER_PW = "user-staple-correct"
PW_STDIN = ("--password-stdin",)


def as_admin(
    *args: str, home: Path, extra_env: dict[str, str] | None = None, user: str = "root"
) -> subprocess.CompletedProcess[str]:
    """A command run by an account: --as USER with the password on stdin."""
    env = {**os.environ, "BRIDGE_HOME": str(home), "BRIDGE_KEYRING": "off", "PYTHONPATH": str(REPO)}
    env.update(extra_env or {})
    password = ADMIN_PW if user == "root" else USER_PW
    return subprocess.run(
        [sys.executable, "-m", "bridge_app", *args, "--as", user, "--password-stdin"],
        env=env,
        input=password + "\n",
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def first_admin(home: Path) -> None:
    env = {**os.environ, "BRIDGE_HOME": str(home), "BRIDGE_KEYRING": "off", "PYTHONPATH": str(REPO)}
    made = subprocess.run(
        [
            sys.executable,
            "-m",
            "bridge_app",
            "user",
            "create",
            "--admin",
            "root",
            "--password-stdin",
        ],
        env=env,
        input=ADMIN_PW + "\n",
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert made.returncode == 0, made.stderr


CORPUS = Path(__file__).resolve().parents[1] / "data" / "configs"


def test_new_validate_apply_history_diff_restore(tmp_path: Path) -> None:
    home = tmp_path / "home"
    listing = run_cli("config", "templates", home=home)
    assert listing.returncode == 0, listing.stderr
    assert (
        "internal-enterprise" in listing.stdout and "needs: INTERNAL_LLM_API_BASE" in listing.stdout
    )
    assert "LITELLM_MASTER_KEY" not in listing.stdout  # the app provides it

    first = tmp_path / "first.yaml"
    made = run_cli("config", "new", "--template", "openai", "--output", str(first), home=home)
    assert made.returncode == 0, made.stderr
    again = run_cli("config", "new", "--template", "openai", "--output", str(first), home=home)
    assert again.returncode == 1 and "already exists" in again.stderr

    missing = run_cli("config", "validate", str(first), home=home)
    assert missing.returncode == 1
    assert "OPENAI_API_KEY, which is not set" in missing.stdout
    upstream = {"OPENAI_API_KEY": "placeholder-for-test", "OPENAI_API_BASE": "http://127.0.0.1:9"}
    checked = run_cli("config", "validate", str(first), home=home, extra_env=upstream)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "The config is valid." in checked.stdout

    first_admin(home)
    applied = as_admin(
        "config", "apply", str(first), "--comment", "v1", home=home, extra_env=upstream
    )
    assert applied.returncode == 0, applied.stderr
    assert "takes effect the next time it starts" in applied.stdout
    active = home / "config" / "litellm" / "config.yaml"
    assert active.read_text(encoding="utf-8") == first.read_text(encoding="utf-8")

    second = tmp_path / "second.yaml"
    second.write_text(first.read_text(encoding="utf-8").replace("num_retries: 2", "num_retries: 5"))
    assert as_admin("config", "apply", str(second), home=home, extra_env=upstream).returncode == 0

    history = run_cli("config", "history", home=home)
    lines = history.stdout.splitlines()
    assert len(lines) == 2
    assert "root" in lines[0] and "root" in lines[1] and "v1" in lines[1]

    diff = run_cli("config", "diff", "1", "2", home=home)
    assert "-  num_retries: 2" in diff.stdout and "+  num_retries: 5" in diff.stdout

    restored = as_admin("config", "restore", "1", home=home, extra_env=upstream)
    assert restored.returncode == 0, restored.stderr
    assert active.read_text(encoding="utf-8") == first.read_text(encoding="utf-8")
    shown = run_cli("config", "show", home=home)
    assert shown.stdout == first.read_text(encoding="utf-8")
    # the active config
    assert run_cli("config", "validate", home=home, extra_env=upstream).returncode == 0


def test_bad_configs_are_explained_by_line_and_never_applied(tmp_path: Path) -> None:
    home = tmp_path / "home"
    good = tmp_path / "good.yaml"
    assert (
        run_cli(
            "config", "new", "--template", "ollama", "--output", str(good), home=home
        ).returncode
        == 0
    )
    ollama = {"OLLAMA_API_BASE": "http://127.0.0.1:9"}
    first_admin(home)
    assert as_admin("config", "apply", str(good), home=home, extra_env=ollama).returncode == 0
    active = home / "config" / "litellm" / "config.yaml"
    before = active.read_bytes()

    tabs = run_cli("config", "validate", str(CORPUS / "tabs.yaml"), home=home)
    assert tabs.returncode == 1
    assert "line 4, column 1: error: A tab is used for indentation" in tabs.stdout

    secret = as_admin("config", "apply", str(CORPUS / "literal_secret.yaml"), home=home)
    assert secret.returncode == 1
    assert "line 7, column 16" in secret.stdout
    assert "GPT_API_KEY" in secret.stdout
    assert "sk-proj-AAAA" not in secret.stdout + secret.stderr
    assert "was not applied" in secret.stderr

    for name in ("billion_laughs.yaml", "non_utf8.yaml", "deep_nesting.yaml"):
        result = as_admin("config", "apply", str(CORPUS / name), home=home)
        assert result.returncode == 1, name
        assert "Traceback" not in result.stderr
        assert "line " in result.stdout

    assert active.read_bytes() == before
    assert len(run_cli("config", "history", home=home).stdout.splitlines()) == 1
    missing = as_admin("config", "restore", "42", home=home)
    assert missing.returncode == 1 and "no config version 42" in missing.stderr


def test_a_user_account_cannot_apply_restore_or_change_machine_settings(tmp_path: Path) -> None:
    home = tmp_path / "home"
    first_admin(home)
    made = subprocess.run(
        [sys.executable, "-m", "bridge_app", "user", "create", "dana", "--as", "root", *PW_STDIN],
        env={**os.environ, "BRIDGE_HOME": str(home), "BRIDGE_KEYRING": "off"},
        input=f"{ADMIN_PW}\nfirst-{USER_PW}\n",
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    changed = subprocess.run(
        [sys.executable, "-m", "bridge_app", "user", "passwd", "--as", "dana", "--password-stdin"],
        env={**os.environ, "BRIDGE_HOME": str(home), "BRIDGE_KEYRING": "off"},
        input=f"first-{USER_PW}\n{USER_PW}\n",
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert changed.returncode == 0, changed.stderr
    config = tmp_path / "demo.yaml"
    assert run_cli("config", "new", "--template", "demo", "--output", str(config), home=home)
    active = home / "config" / "litellm" / "config.yaml"
    before = active.read_bytes() if active.exists() else None

    refused = as_admin("config", "apply", str(config), home=home, user="dana")
    assert refused.returncode == 1
    assert "Permission denied: apply config needs an admin account." in refused.stderr
    assert (active.read_bytes() if active.exists() else None) == before

    port = as_admin("settings", "set", "proxy.port", "5000", home=home, user="dana")
    assert port.returncode == 1
    assert "Permission denied: changing proxy.port needs an admin account." in port.stderr
    theme = as_admin("settings", "set", "ui.theme", "dark", home=home, user="dana")
    assert theme.returncode == 0, theme.stderr
    assert 'ui.theme = "Dark"' in theme.stdout

    bad = as_admin("settings", "set", "proxy.port", "99999", home=home)
    assert bad.returncode == 1
    assert "The port must be between 1024 and 65535 (not 99999)." in bad.stderr
    listed = run_cli("settings", "list", home=home)
    assert (
        '"proxy.port"' not in listed.stdout and "proxy.port                 4000" in listed.stdout
    )

    audit = as_admin("audit", "list", "--action", "access", home=home)
    assert "apply config" in audit.stdout and "changing proxy.port" in audit.stdout
