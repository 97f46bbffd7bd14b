"""The small defects of the reliability and security probe ("Closed for real"), each as
the person met it: through the real command, with the message they read."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bridge_app.tokens import IamSettingsError, parse_iam_settings_text
from bridge_app.tokens._iam_settings import check_ca_bundle
from tests.unit.test_cli_env_tokens import ADMIN_PW, cli

pytestmark = pytest.mark.slow  # real processes


@pytest.fixture
def home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    made = cli(home, "user", "create", "root", "--admin", "--password-stdin", stdin=f"{ADMIN_PW}\n")
    assert made.returncode == 0, made.stderr
    return home


def test_policy_check_refuses_what_policy_apply_refuses(home: Path, tmp_path: Path) -> None:
    example = cli(home, "policy", "example").stdout
    latin1 = tmp_path / "policy.yaml"
    latin1.write_bytes(example.encode() + "# café\n".encode("latin-1"))
    checked = cli(home, "policy", "check", str(latin1))
    assert checked.returncode == 1
    assert "error: The file is not UTF-8 text: byte 0xe9" in checked.stdout
    applied = cli(
        home, "policy", "apply", str(latin1), "--as", "root", "--password-stdin", stdin=ADMIN_PW
    )
    assert applied.returncode == 1 and "is not UTF-8 text: byte 0xe9" in applied.stderr


def test_a_negative_setting_reaches_the_validator(home: Path) -> None:
    result = cli(
        home, "settings", "set", "proxy.port", "-1", "--as", "root", "--password-stdin",
        stdin=ADMIN_PW,
    )  # fmt: skip
    assert result.returncode == 1
    assert "The port must be between 1024 and 65535 (not -1)." in result.stderr
    assert "No such option" not in result.stderr


def test_a_used_port_for_the_fake_servers_is_one_clear_line(home: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = cli(home, "dev", "fake-internal", "--iam-port", str(port))
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: FakeIam cannot listen on 127.0.0.1:{port}")
    assert "Traceback" not in result.stderr


def test_output_cut_short_by_the_reader_ends_quietly(home: Path) -> None:
    """`litellm-bridge config templates | head -1`: no "internal error", no traceback."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "bridge_app", "config", "templates"],
        env={**os.environ, "BRIDGE_HOME": str(home), "BRIDGE_KEYRING": "off"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader is gone before anything is written
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 1
    assert "internal error" not in err and "Traceback" not in err, err


def test_iam_settings_with_a_ca_bundle_that_is_no_certificate_are_not_stored(
    home: Path, tmp_path: Path
) -> None:
    ca = tmp_path / "not-a-ca.txt"
    ca.write_text("hello\n", encoding="utf-8")
    path = tmp_path / "iam.json"
    path.write_text(json.dumps({"url": "https://127.0.0.1:9/t", "ca_bundle": str(ca)}), "utf-8")
    result = cli(
        home, "token", "iam", "--set", str(path), "--as", "root", "--password-stdin",
        stdin=ADMIN_PW,
    )  # fmt: skip
    assert result.returncode == 1
    assert f"ca_bundle: {ca} holds no PEM certificate" in result.stderr
    assert cli(home, "token", "iam").returncode == 1  # nothing stored


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b'{"url": "http://127.0.0.1/t", "scope": "caf\xe9"}', "is not UTF-8 text: byte 0xe9"),
        (
            b'{"url": "http://svc:hunter2@127.0.0.1/t"}',
            "must not contain a user name or password",
        ),
    ],
)
def test_iam_settings_refuse_bad_text_and_credentials_in_the_url(raw: bytes, message: str) -> None:
    with pytest.raises(IamSettingsError) as refused:
        parse_iam_settings_text(raw)
    assert message in refused.value.message
    assert "hunter2" not in refused.value.message


def test_the_iam_ca_bundle_must_be_a_pem_certificate_file(tmp_path: Path) -> None:
    def settings(ca: Path) -> object:
        return parse_iam_settings_text(
            json.dumps({"url": "https://127.0.0.1/t", "ca_bundle": str(ca)}).encode()
        )

    with pytest.raises(IamSettingsError, match="ca_bundle: there is no file"):
        check_ca_bundle(settings(tmp_path / "missing.pem"))  # type: ignore[arg-type]
    secret = tmp_path / "shadow"
    secret.write_text("root:$6$salt$hash:19000:0:99999:7:::\n", encoding="utf-8")
    with pytest.raises(IamSettingsError) as refused:
        check_ca_bundle(settings(secret))  # type: ignore[arg-type]
    assert "holds no PEM certificate" in refused.value.message
    assert "$6$" not in refused.value.message
