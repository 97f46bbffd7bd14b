from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.unit.test_cli import REPO, run_cli


def run_tools(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    for name in ("BRIDGE_SIGNING_KEY", "BRIDGE_SIGNING_KEY_FILE"):
        if env is None or name not in env:
            full_env.pop(name, None)
    return subprocess.run(
        [sys.executable, "-m", "bridge_app.integrity", *args],
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def make_folder(root: Path) -> Path:
    (root / "_internal").mkdir(parents=True)
    (root / "litellm-bridge").write_bytes(b"exe")
    (root / "_internal" / "data.json").write_text("{}")
    return root


def test_verify_from_source_has_nothing_to_verify(tmp_path: Path) -> None:
    result = run_cli("verify", home=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "Not a packaged build; nothing to verify."

    required = run_cli("verify", "--require", home=tmp_path)
    assert required.returncode == 1
    assert "Not a packaged build" in required.stdout

    as_json = json.loads(run_cli("verify", "--json", home=tmp_path).stdout)
    assert as_json["state"] == "not_packaged"


def test_key_generation_signing_and_verification_round_trip(tmp_path: Path) -> None:
    key = tmp_path / "keys" / "signing.pem"
    generated = run_tools("generate-key", str(key))
    assert generated.returncode == 0, generated.stderr
    assert "never commit it" in generated.stdout
    if sys.platform != "win32":
        assert key.stat().st_mode & 0o077 == 0  # owner-only
    public = run_tools("public-key", "--key", str(key)).stdout.strip()
    assert public in generated.stdout

    # Refuses to overwrite a key: it may be the only copy of the release key.
    again = run_tools("generate-key", str(key))
    assert again.returncode == 1
    assert "not replacing a signing key" in again.stderr

    folder = make_folder(tmp_path / "bundle")
    signed = run_tools("sign-manifest", str(folder), "--key", str(key), "--version", "9.9")
    assert signed.returncode == 0, signed.stderr
    assert "Signed 2 files" in signed.stdout
    assert run_tools("verify", str(folder), "--public-key", public).returncode == 0

    (folder / "_internal" / "data.json").write_text('{"tampered": true}')
    failed = run_tools("verify", str(folder), "--public-key", public)
    assert failed.returncode == 1
    assert "changed: _internal/data.json" in failed.stdout


def test_sign_manifest_takes_the_key_from_the_environment(tmp_path: Path) -> None:
    key = tmp_path / "k.pem"
    run_tools("generate-key", str(key))
    folder = make_folder(tmp_path / "bundle")
    pem = key.read_text()
    signed = run_tools("sign-manifest", str(folder), env={"BRIDGE_SIGNING_KEY": pem})
    assert signed.returncode == 0, signed.stderr
    assert (folder / "MANIFEST.json.sig").exists()
    assert "BEGIN PRIVATE KEY" not in signed.stdout + signed.stderr


def test_signing_without_a_key_or_with_a_bad_one_says_what_to_do(tmp_path: Path) -> None:
    folder = make_folder(tmp_path / "bundle")
    missing = run_tools("sign-manifest", str(folder))
    assert missing.returncode == 1
    assert "No signing key given." in missing.stderr
    assert "Traceback" not in missing.stderr

    bad = tmp_path / "bad.pem"
    bad.write_text("hello")
    wrong = run_tools("sign-manifest", str(folder), "--key", str(bad))
    assert wrong.returncode == 1
    assert "is not an unencrypted PEM private key" in wrong.stderr
    assert not (folder / "MANIFEST.json").exists()
