"""The env and token commands against the real stack: accounts, SQLCipher, a fake IAM."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bridge_app.devtools import FakeIam

REPO = Path(__file__).resolve().parents[2]
ADMIN_PW = "Admin-Password-42!"

pytestmark = pytest.mark.slow


def cli(home: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "BRIDGE_HOME": str(home),
        "BRIDGE_KEYRING": "off",
        "PYTHONPATH": str(REPO),
        "BRIDGE_USER": "root",
    }
    return subprocess.run(
        [sys.executable, "-m", "bridge_app", *args],
        input=stdin,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    made = cli(home, "user", "create", "root", "--admin", "--password-stdin", stdin=f"{ADMIN_PW}\n")
    assert made.returncode == 0, made.stderr
    return home


def test_env_set_list_export_check_round_trip(home: Path, tmp_path: Path) -> None:
    secret = "sk-internal-cli-secret-123456"
    done = cli(
        home, "env", "set", "UPSTREAM_KEY", "--password-stdin", stdin=f"{ADMIN_PW}\n{secret}\n"
    )
    assert done.returncode == 0, done.stderr
    assert "Added personal entry UPSTREAM_KEY" in done.stdout
    shared = cli(
        home,
        "env",
        "set",
        "INTERNAL_BASE",
        "--shared",
        "--password-stdin",
        stdin=f"{ADMIN_PW}\nhttp://127.0.0.1:9/v1\n",
    )
    assert shared.returncode == 0, shared.stderr

    listing = cli(home, "env", "list", "--password-stdin", stdin=f"{ADMIN_PW}\n")
    assert listing.returncode == 0, listing.stderr
    assert "UPSTREAM_KEY" in listing.stdout and "****3456" in listing.stdout
    assert secret not in listing.stdout

    bad = cli(
        home, "env", "set", "LITELLM_MASTER_KEY", "--password-stdin", stdin=f"{ADMIN_PW}\nx\n"
    )
    assert bad.returncode == 1 and "cannot be an environment entry" in bad.stderr

    template = tmp_path / "template.env"
    out = cli(
        home,
        "env",
        "export",
        str(template),
        "--template",
        "--password-stdin",
        stdin=f"{ADMIN_PW}\n",
    )
    assert out.returncode == 0, out.stderr
    assert "UPSTREAM_KEY=\n" in template.read_text() and secret not in template.read_text()

    config = tmp_path / "c.yaml"
    config.write_text(
        "model_list:\n- model_name: a\n  litellm_params:\n    model: openai/x\n"
        "    api_key: os.environ/UPSTREAM_KEY\n    api_base: os.environ/MISSING_BASE\n"
        "general_settings:\n  master_key: os.environ/LITELLM_MASTER_KEY\n"
    )
    checked = cli(
        home, "env", "check", "--config", str(config), "--password-stdin", stdin=f"{ADMIN_PW}\n"
    )
    assert checked.returncode == 1
    # The app provides the master key itself: never "missing" (issue 26, item 7).
    assert "Missing: MISSING_BASE\n" in checked.stdout
    assert "Unused: INTERNAL_BASE\n" in checked.stdout
    config.write_text(
        "model_list:\n- model_name: a\n  litellm_params:\n    model: openai/x\n"
        "general_settings:\n  master_key: os.environ/LITELLM_MASTER_KEY\n"
    )
    provided = cli(
        home, "env", "check", "--config", str(config), "--password-stdin", stdin=f"{ADMIN_PW}\n"
    )
    assert provided.returncode == 0, provided.stdout
    assert "Missing" not in provided.stdout and "Disabled" not in provided.stdout

    raw = b"".join(p.read_bytes() for p in (home / "data").iterdir() if p.is_file())
    logs = b"".join(p.read_bytes() for p in (home / "logs").iterdir() if p.is_file())
    assert secret.encode() not in raw and secret.encode() not in logs


def test_env_import_previews_and_applies(home: Path, tmp_path: Path) -> None:
    source = tmp_path / "in.env"
    source.write_text("A=1\nnot valid\nB='two words'\n")
    result = cli(
        home, "env", "import", str(source), "--yes", "--password-stdin", stdin=f"{ADMIN_PW}\n"
    )
    assert result.returncode == 0, result.stderr
    assert "line    2  invalid" in result.stdout
    assert "Imported: 2 added, 0 changed." in result.stdout


def test_token_login_status_and_projects(home: Path, tmp_path: Path) -> None:
    with FakeIam({"E77": "emp-secret-pw-9"}) as iam:
        settings = tmp_path / "iam.json"
        settings.write_text(json.dumps({"url": iam.token_url, "token_path": "data.access_token"}))
        stored = cli(
            home, "token", "iam", "--set", str(settings), "--password-stdin", stdin=f"{ADMIN_PW}\n"
        )
        assert stored.returncode == 0, stored.stderr

        wrong = cli(
            home,
            "token",
            "login",
            "--employee-id",
            "E77",
            "--password-stdin",
            stdin=f"{ADMIN_PW}\nnope\n",
        )
        assert wrong.returncode == 1
        assert "refused the login: invalid employee credentials" in wrong.stderr
        assert "Traceback" not in wrong.stderr

        ok = cli(
            home,
            "token",
            "login",
            "--employee-id",
            "E77",
            "--remember",
            "--password-stdin",
            stdin=f"{ADMIN_PW}\nemp-secret-pw-9\n",
        )
        assert ok.returncode == 0, ok.stderr
        assert "State: valid" in ok.stdout
        assert "Automatic refresh: on" in ok.stdout
        token = iam.latest()
        assert token is not None

    added = cli(
        home,
        "token",
        "project",
        "add",
        "P-1",
        "Apollo",
        "--field",
        "team=red",
        "--password-stdin",
        stdin=f"{ADMIN_PW}\n",
    )
    assert added.returncode == 0, added.stderr
    status = cli(home, "token", "status", "--json", "--password-stdin", stdin=f"{ADMIN_PW}\n")
    data = json.loads(status.stdout)
    assert data["state"] == "valid" and data["project"] == "P-1"
    assert token not in status.stdout

    raw = b"".join(p.read_bytes() for p in (home / "data").iterdir() if p.is_file())
    for secret in (token, "emp-secret-pw-9"):
        assert secret.encode() not in raw
