"""Opening the app at login from the CLI (`settings start-at-login`), audited, and decided
by the company policy where it sets ui.start_at_login: a person's switch is refused, and an
entry removed by hand is put back the next time the app looks."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration._serve import ADMIN, ADMIN_PW, cli, create_admin

pytestmark = [pytest.mark.integration]


def _login(home: Path, config: Path, *args: str, **extra: str):  # type: ignore[no-untyped-def]
    return cli(
        home, "settings", "start-at-login", *args, "--as", ADMIN, "--password-stdin",
        stdin=f"{ADMIN_PW}\n", XDG_CONFIG_HOME=str(config), XDG_CONFIG_DIRS=str(config / "none"),
        **extra,
    )  # fmt: skip


def test_a_person_turns_it_on_and_off_and_the_policy_decides_when_it_says(
    tmp_path: Path,
) -> None:
    home, config = tmp_path / "home", tmp_path / "config"
    entry = config / "autostart" / "litellm-bridge.desktop"
    create_admin(home)
    assert _login(home, config).stdout == "The app does not open at login.\n"
    on = _login(home, config, "on")
    assert on.returncode == 0, on.stderr
    assert on.stdout.startswith(f"The app opens at login: {entry}.\nIt runs: ")
    assert entry.exists()
    off = _login(home, config, "off")
    assert off.stdout == "The app does not open at login.\n" and not entry.exists()

    policy = tmp_path / "policy.yaml"
    policy.write_text("ui:\n  start_at_login: true\n", encoding="utf-8")
    refused = _login(home, config, "off", BRIDGE_POLICY_FILE=str(policy))
    assert refused.returncode != 0
    assert (
        "Your company's policy decides whether the app opens at login (ui.start_at_login)."
    ) in refused.stderr, refused.stderr
    # Looking puts it where the policy wants it (the entry was off), and says so.
    shown = _login(home, config, BRIDGE_POLICY_FILE=str(policy))
    assert shown.stdout.startswith(f"The app opens at login: {entry}. Your company's policy")
    assert "(Just set to what the policy asks.)" in shown.stdout
    assert entry.exists()
    audit = cli(
        home, "audit", "list", "--action", "settings.start_at_login", "--as", ADMIN,
        "--password-stdin", stdin=f"{ADMIN_PW}\n",
    ).stdout  # fmt: skip
    for outcome in ("ok", "denied"):
        assert outcome in audit, audit
    assert audit.count("settings.start_at_login") == 4, audit


def test_a_policy_value_that_is_not_true_or_false_is_refused(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("ui:\n  start_at_login: sometimes\n", encoding="utf-8")
    done = cli(tmp_path / "home", "policy", "check", str(policy))
    assert done.returncode != 0
    assert "ui.start_at_login must be true or false." in done.stdout + done.stderr
