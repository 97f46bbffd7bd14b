"""`litellm-bridge policy ...`: example and check, a company key and signed policies, and
the config lock as the CLI meets it."""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.integration._serve import ADMIN_PW, as_admin, cli, create_admin

USER_PW = "User-Password-42!"


def _keypair(tmp_path: Path) -> tuple[Ed25519PrivateKey, Path]:
    private = Ed25519PrivateKey.generate()
    pub = tmp_path / "company.pub"
    pub.write_bytes(
        private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return private, pub


def _ship(path: Path, text: str, key: Ed25519PrivateKey | None) -> None:
    path.write_text(text, encoding="utf-8")
    sig = path.with_name(path.name + ".sig")
    if key is None:
        sig.unlink(missing_ok=True)
    else:
        sig.write_bytes(key.sign(path.read_bytes()))


def test_example_is_valid_and_check_reports_line_and_column(tmp_path: Path) -> None:
    home = tmp_path / "home"
    example = cli(home, "policy", "example")
    assert example.returncode == 0
    assert "requests_per_minute" in example.stdout and "config_lock" in example.stdout
    good = tmp_path / "policy.yaml"
    good.write_text(example.stdout, encoding="utf-8")
    checked = cli(home, "policy", "check", str(good))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "The policy is valid." in checked.stdout

    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "models:\n  allow: internal-*\nlimits:\n  per_user: {requests_per_minit: 5}\n"
        "config_lock: sometimes\n",
        encoding="utf-8",
    )
    checked = cli(home, "policy", "check", str(bad))
    assert checked.returncode == 1
    out = checked.stdout
    assert f"{bad}: line 2, column 3: error: models.allow must be a list" in out
    assert "line 4, column 14: error: Unknown limit 'requests_per_minit'" in out
    assert "line 5, column 1: error: config_lock must be one of off, admin_only, locked" in out
    assert "3 error(s)." in out

    shown = cli(home, "policy", "show")
    assert "Policy in force: none" in shown.stdout


def test_a_tool_name_no_request_is_counted_under_is_refused(tmp_path: Path) -> None:
    """Issue 26, item 6: `per_tool: {codex: ...}` (the name the example used) was accepted
    and limited nothing; requests of Codex are counted as codex-cli."""
    home = tmp_path / "home"
    example = cli(home, "policy", "example").stdout
    assert "codex-cli" in example and "codex," not in example
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "limits:\n  per_tool:\n    codex: {requests_per_minute: 5}\n"
        "    nonsense-tool: {requests_per_day: 1}\n    codex-cli: {requests_per_day: 9}\n",
        encoding="utf-8",
    )
    checked = cli(home, "policy", "check", str(policy))
    assert checked.returncode == 1
    out = checked.stdout
    assert "line 3, column 5: error: Unknown tool 'codex' in limits.per_tool" in out
    assert "line 4, column 5: error: Unknown tool 'nonsense-tool'" in out
    assert "hint: Tool names: claude-code, gemini-cli, codex-cli, opencode" in out
    assert "2 error(s)." in out


def test_signed_machine_policy_flipped_byte_and_unsigned_are_refused(tmp_path: Path) -> None:
    home = tmp_path / "home"
    create_admin(home)
    company, pub = _keypair(tmp_path)
    machine = tmp_path / "etc" / "policy.yaml"
    machine.parent.mkdir()
    env = {"BRIDGE_POLICY_FILE": str(machine)}

    user_try = cli(
        home,
        "policy",
        "trust",
        str(pub),
        "--as",
        "nobody",
        "--password-stdin",
        stdin="whatever-password\n",
        **env,
    )
    assert user_try.returncode == 1
    trusted = as_admin(home, "policy", "trust", str(pub), **env)
    assert trusted.returncode == 0, trusted.stderr
    assert "Company key enrolled: SHA256:" in trusted.stdout

    _ship(machine, 'models: {allow: ["internal-*"]}\n', company)
    shown = cli(home, "policy", "show", **env)
    assert f"Policy in force: machine file {machine}" in shown.stdout
    assert "signed       yes" in shown.stdout and 'allow: ["internal-*"]' in shown.stdout

    # One flipped byte after signing: refused with the reason, the signed one stays.
    signed = machine.read_bytes()
    machine.write_bytes(signed.replace(b"internal-*", b"internal-?"))
    shown = cli(home, "policy", "show", **env)
    assert "refused" in shown.stdout and "signature does not match" in shown.stdout
    assert 'allow: ["internal-*"]' in shown.stdout
    assert "the policy above stays in force" in shown.stdout
    doctor = cli(home, "doctor", **env)
    assert doctor.returncode == 1
    assert "policy" in doctor.stdout and "signature does not match" in doctor.stdout

    # Unsigned: refused too.
    _ship(machine, 'models: {allow: ["*"]}\n', None)
    shown = cli(home, "policy", "show", **env)
    assert "is not signed, and a company key is enrolled" in shown.stdout
    assert 'allow: ["internal-*"]' in shown.stdout

    # Signed with another key: refused.
    _ship(machine, 'models: {allow: ["*"]}\n', Ed25519PrivateKey.generate())
    assert "signature does not match" in cli(home, "policy", "show", **env).stdout

    # IT puts the shipped, signed file back: it is accepted again, nothing is refused.
    _ship(machine, 'models: {allow: ["internal-*"]}\n', company)
    shown = cli(home, "policy", "show", **env)
    assert "refused" not in shown.stdout and "signed       yes" in shown.stdout
    assert "signature does not match" not in cli(home, "doctor", **env).stdout

    audit = as_admin(home, "audit", "list", "--action", "policy", **env)
    assert "policy.trust" in audit.stdout and "policy.change" in audit.stdout
    assert "policy.refused" in audit.stdout


def test_admin_applies_a_signed_policy_file_and_an_unsigned_one_changes_nothing(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    create_admin(home)
    company, pub = _keypair(tmp_path)
    assert as_admin(home, "policy", "trust", str(pub)).returncode == 0
    first = tmp_path / "first.yaml"
    _ship(first, "config_lock: admin_only\n", company)
    applied = as_admin(home, "policy", "apply", str(first))
    assert applied.returncode == 0, applied.stderr
    assert "applied by root from first.yaml (signed: yes)" in applied.stdout

    second = tmp_path / "second.yaml"
    _ship(second, "config_lock: locked\n", None)
    refused = as_admin(home, "policy", "apply", str(second))
    assert refused.returncode == 1
    assert "not signed" in refused.stderr
    # Its own signature file is named, not policy.yaml.sig (issue 26, item 9).
    assert "hint: Put its detached signature beside it as second.yaml.sig." in refused.stderr
    shown = cli(home, "policy", "show")
    assert "applied by root from first.yaml" in shown.stdout
    assert "config_lock: admin_only" in shown.stdout


def test_config_lock_from_the_cli(tmp_path: Path) -> None:
    home = tmp_path / "home"
    machine = tmp_path / "policy.yaml"
    env = {"BRIDGE_POLICY_FILE": str(machine)}
    create_admin(home)
    made = cli(
        home,
        "user",
        "create",
        "alice",
        "--as",
        "root",
        "--password-stdin",
        stdin=f"{ADMIN_PW}\nfirst-{USER_PW}\n",
    )
    assert made.returncode == 0, made.stderr
    changed = cli(
        home, "user", "passwd", "--as", "alice", "--password-stdin",
        stdin=f"first-{USER_PW}\n{USER_PW}\n",
    )  # fmt: skip
    assert changed.returncode == 0, changed.stderr
    config = tmp_path / "demo.yaml"
    assert cli(home, "config", "new", "--template", "demo", "--output", str(config)).returncode == 0

    machine.write_text("config_lock: admin_only\n", encoding="utf-8")
    nobody = cli(home, "config", "apply", str(config), **env)
    assert nobody.returncode == 1
    assert "Say who runs this command." in nobody.stderr  # every change has an author
    alice = cli(
        home,
        "config",
        "apply",
        str(config),
        "--as",
        "alice",
        "--password-stdin",
        stdin=f"{USER_PW}\n",
        **env,
    )
    assert alice.returncode == 1
    assert "managed by your company: only an admin can change it here" in alice.stderr
    root = as_admin(home, "config", "apply", str(config), **env)
    assert root.returncode == 0, root.stderr

    machine.write_text("config_lock: locked\n", encoding="utf-8")
    root = as_admin(home, "config", "restore", "1", **env)
    assert root.returncode == 1
    assert "managed by your company: nobody can change it on this machine" in root.stderr
    history = cli(home, "config", "history", **env)
    assert len(history.stdout.splitlines()) == 1  # nothing applied under the lock

    machine.write_text("config_lock: off\n", encoding="utf-8")
    alice = cli(
        home, "config", "apply", str(config), "--as", "alice", "--password-stdin",
        stdin=f"{USER_PW}\n", **env,
    )  # fmt: skip
    assert alice.returncode == 0, alice.stderr  # the company lets everyone change it
    audit = as_admin(home, "audit", "list", "--action", "policy", **env)
    assert "policy.change_denied" in audit.stdout


def test_it_places_the_machine_policy_checked_whole_and_only_for_administrators(
    tmp_path: Path,
) -> None:
    """`policy install` (what the MSI's POLICYFILE runs): a valid file and its signature go
    to the machine-wide location, root-owned; an invalid one writes nothing."""
    import os

    home = tmp_path / "home"
    machine = tmp_path / "etc" / "litellm-bridge" / "policy.yaml"
    env = {"BRIDGE_POLICY_FILE": str(machine)}
    company = tmp_path / "company"
    company.mkdir()
    policy = company / "policy.yaml"
    example = cli(home, "policy", "example").stdout
    key, _pub = _keypair(tmp_path)
    _ship(policy, example, key)

    placed = cli(home, "policy", "install", str(policy), **env)
    if os.geteuid() != 0:
        assert placed.returncode == 1
        assert f"Only root may place the machine-wide policy {machine}." in placed.stderr
        assert "sudo litellm-bridge policy install" in placed.stderr
        assert not machine.exists()
        return
    assert placed.returncode == 0, placed.stderr
    assert placed.stdout.strip() == (
        f"Policy placed: {machine} and its signature; only administrators may change it."
    )
    assert machine.read_text(encoding="utf-8") == example
    assert machine.with_name("policy.yaml.sig").read_bytes() == key.sign(example.encode())
    assert oct(machine.stat().st_mode & 0o777) == "0o644" and machine.stat().st_uid == 0
    shown = cli(home, "policy", "show", **env)
    assert f"Policy in force: machine file {machine}" in shown.stdout

    broken = company / "broken.yaml"
    broken.write_text("config_lock: sometimes\n", encoding="utf-8")
    refused = cli(home, "policy", "install", str(broken), **env)
    assert refused.returncode == 1
    assert f"{broken}: line 1, column 1: error: config_lock must be one of" in refused.stdout
    assert "Nothing was written; the machine keeps its policy." in refused.stderr
    assert machine.read_text(encoding="utf-8") == example  # untouched

    # A new policy without a signature: the old signature must not stay beside it.
    _ship(policy, example.replace("# LiteLLM Bridge", "# v2 LiteLLM Bridge", 1), None)
    again = cli(home, "policy", "install", str(policy), **env)
    assert again.returncode == 0 and "(unsigned)" in again.stdout
    assert not machine.with_name("policy.yaml.sig").exists()
