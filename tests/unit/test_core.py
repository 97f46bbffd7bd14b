"""The application core is the one place use-cases are decided: every front end reaches
each of them, and refusals read the same whichever front end asked."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from bridge_app.auth import PermissionDeniedError
from bridge_app.runtime import AppPaths
from bridge_app.services import USE_CASES, build_services
from bridge_app.services._settings_rules import SettingError, check_setting

PACKAGE = Path(__file__).resolve().parents[2] / "bridge_app"
# Reached from the GUI through another use-case, said here so the gap stays visible.
GUI_GAPS: dict[str, str] = {}
CLI_GAPS = {"quit_kiosk": "kiosk mode belongs to the window"}


def _calls(folder: str) -> set[str]:
    """Every ``<...>.core.NAME`` / ``core.NAME`` the code of ``folder`` really evaluates (read
    from the syntax tree: a docstring or comment naming a use-case does not count)."""
    found: set[str] = set()
    for path in (PACKAGE / folder).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and _is_core(node.value):
                found.add(node.attr)
    return found


def _is_core(node: ast.expr) -> bool:
    if isinstance(node, ast.Name):
        return node.id == "core"
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "core"
        and not (isinstance(node.value, ast.Name) and node.value.id == "kivy")
    )


def test_every_use_case_is_reachable_from_the_cli_and_the_gui() -> None:
    cli, gui = _calls("cli"), _calls("ui")
    assert len(USE_CASES) >= 20
    missing_cli = sorted(set(USE_CASES) - cli - set(CLI_GAPS))
    missing_gui = sorted(set(USE_CASES) - gui - set(GUI_GAPS))
    assert missing_cli == [], f"use-cases no command calls: {missing_cli}"
    assert missing_gui == [], f"use-cases no screen calls: {missing_gui}"
    # Front ends call nothing on the core that is not a use-case (or its file helper).
    assert (cli | gui) - set(USE_CASES) <= {"on_session", "on_alert", "session"}


def test_admin_use_cases_are_the_ones_that_change_the_machine() -> None:
    admin = sorted(name for name, spec in USE_CASES.items() if spec.role == "admin")
    assert admin == [
        "add_gateway",
        "audit_forward_status",
        "configure_updates",
        "create_user",
        "delete_user",
        "disable_user",
        "enable_user",
        "install_update",
        "remove_gateway",
        "reset_password",
        "rollback_update",
        "send_audit_now",
        "set_audit_forward",
        "set_iam_settings",
        "set_role",
        "test_iam",
    ]


def test_settings_are_validated_and_machine_ones_marked() -> None:
    assert check_setting("proxy.port", "5000").value == 5000
    assert check_setting("proxy.port", 5000).machine is True
    assert check_setting("ui.theme", "dark").value == "Dark"
    assert check_setting("ui.theme", "dark").machine is False
    with pytest.raises(SettingError, match=r"between 1024 and 65535 \(not 99999\)"):
        check_setting("proxy.port", "99999")
    with pytest.raises(SettingError, match="whole number"):
        check_setting("ui.idle_lock_minutes", "soon")
    with pytest.raises(SettingError, match=r"There is no setting 'proxy\.prot'"):
        check_setting("proxy.prot", 1)


@pytest.fixture
def services(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("BRIDGE_KEYRING", "off")
    built = build_services(AppPaths.from_environment({"BRIDGE_HOME": str(tmp_path / "home")}))
    built.auth.create_first_admin("root", "admin-horse-battery")
    yield built
    built.close()


def test_a_refusal_is_audited_and_changes_nothing(services) -> None:  # type: ignore[no-untyped-def]
    core = services.core
    admin = core.login("root", "admin-horse-battery")
    core.create_user(admin, "dana", "user-staple-correct-1")
    dana = core.login("dana", "user-staple-correct-1")
    core.change_password(dana, "user-staple-correct-1", "user-staple-correct-2")
    with pytest.raises(PermissionDeniedError, match="create user needs an admin"):
        core.create_user(dana, "eve", "eve-staple-correct-1")
    with pytest.raises(PermissionDeniedError, match=r"changing proxy\.port needs an admin"):
        core.change_settings(dana, {"proxy.port": 5001, "ui.theme": "Dark"})
    assert services.settings.get("proxy.port") == 4000
    assert services.settings.get("ui.theme") == "Light"  # one change: all or nothing
    names = [u.username for u in services.auth.list_users(admin)]
    assert names == ["dana", "root"] or sorted(names) == ["dana", "root"]
    denied = services.audit.list_events(admin, action="access.denied")
    assert [e.target for e in denied] == ["create user", "changing proxy.port"]


def test_the_retired_admin_ui_setting_is_refused_with_its_reason_and_never_listed(
    services,  # type: ignore[no-untyped-def]
) -> None:
    core = services.core
    admin = core.login("root", "admin-horse-battery")
    with pytest.raises(SettingError, match="LiteLLM's admin UI is no longer part of"):
        core.change_settings(admin, {"proxy.admin_ui": True})
    services.settings.set("proxy.admin_ui", True)  # what an earlier version left in the store
    assert "proxy.admin_ui" not in services.settings.all()


def test_a_change_moves_its_topic_in_the_same_commit(services) -> None:  # type: ignore[no-untyped-def]
    core = services.core
    admin = core.login("root", "admin-horse-battery")
    before = services.db.change_counters()
    core.set_env(admin, "TEAM_URL", "http://127.0.0.1:9", scope="shared")
    after = services.db.change_counters()
    assert after.get("env", 0) == before.get("env", 0) + 1
    events = services.audit.list_events(admin, action="env")
    assert events and events[-1].target.endswith("TEAM_URL")


ADMIN_CALLS = {
    # Without a company policy the config is the admins'; a policy's config_lock decides.
    "apply_config": lambda core, s: core.apply_config(s, "model_list: []\n"),
    "restore_config": lambda core, s: core.restore_config(s, 1),
    "create_user": lambda core, s: core.create_user(s, "eve", "Staple-Horse-42!"),
    "disable_user": lambda core, s: core.disable_user(s, "root"),
    "enable_user": lambda core, s: core.enable_user(s, "root"),
    "delete_user": lambda core, s: core.delete_user(s, "root"),
    "set_role": lambda core, s: core.set_role(s, "dana", "admin"),
    "reset_password": lambda core, s: core.reset_password(s, "root", "Staple-Horse-43!"),
    "set_iam_settings": lambda core, s: core.set_iam_settings(s, None),
    "test_iam": lambda core, s: core.test_iam(s, None, "E1", "pw"),
    "add_gateway": lambda core, s: core.add_gateway(s, "team", "http://127.0.0.1:9"),
    "remove_gateway": lambda core, s: core.remove_gateway(s, "team"),
    "install_update": lambda core, s: core.install_update(s),
    "rollback_update": lambda core, s: core.rollback_update(s),
    "configure_updates": lambda core, s: core.configure_updates(s, "http://127.0.0.1:9", Path("r")),
    "audit_forward_status": lambda core, s: core.audit_forward_status(s),
    "set_audit_forward": lambda core, s: core.set_audit_forward(s, ["syslog+tcp://127.0.0.1:9"]),
    "send_audit_now": lambda core, s: core.send_audit_now(s),
}


def test_every_admin_use_case_refuses_a_user_with_the_same_words(services) -> None:  # type: ignore[no-untyped-def]
    admin_only = {n for n, spec in USE_CASES.items() if spec.role == "admin"}
    assert set(ADMIN_CALLS) == admin_only | {"apply_config", "restore_config"}
    core = services.core
    admin = core.login("root", "admin-horse-battery")
    core.create_user(admin, "dana", "user-staple-correct-1")
    dana = core.login("dana", "user-staple-correct-1")
    core.change_password(dana, "user-staple-correct-1", "user-staple-correct-2")
    counters = services.db.change_counters()
    for name, call in ADMIN_CALLS.items():
        words = name.replace("_", " ")
        with pytest.raises(PermissionDeniedError) as refused:
            call(core, dana)
        assert refused.value.message == f"Permission denied: {words} needs an admin account."
    assert services.db.change_counters() == counters  # nothing changed anywhere
    denied = services.audit.list_events(admin, action="access.denied")
    assert [e.target for e in denied] == [n.replace("_", " ") for n in ADMIN_CALLS]
