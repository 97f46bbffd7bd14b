from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

# Touches Windows branches: runs in the Windows leg too (scripts/windows/test.sh).
pytestmark = pytest.mark.windows

REPO = Path(__file__).resolve().parents[2]


def run_cli(
    *args: str, home: Path, extra_env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BRIDGE_HOME": str(home), "BRIDGE_KEYRING": "off", "PYTHONPATH": str(REPO)}
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    env.update(extra_env or {})
    return subprocess.run(
        [sys.executable, "-m", "bridge_app", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_help_lists_the_commands(tmp_path: Path) -> None:
    result = run_cli("--help", home=tmp_path)
    assert result.returncode == 0
    assert "doctor" in result.stdout
    assert "gui" in result.stdout


def test_doctor_reports_version_paths_and_key_source(tmp_path: Path) -> None:
    result = run_cli("doctor", home=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "LiteLLM Bridge" in out
    assert str(tmp_path / "data" / "bridge.db") in out
    assert "Database key: key file" in out
    assert "No problems found." in out

    as_json = json.loads(run_cli("doctor", "--json", home=tmp_path).stdout)
    assert as_json["ok"] is True
    assert as_json["key_source"] == "key-file"
    assert as_json["schema_version"] >= 1
    assert as_json["paths"]["logs"] == str(tmp_path / "logs")


def test_doctor_names_the_problem_and_exits_non_zero_on_a_wrong_key(tmp_path: Path) -> None:
    assert run_cli("doctor", home=tmp_path).returncode == 0
    key_file = tmp_path / "config" / "db.key"
    key_file.write_text("00" * 32, encoding="ascii")
    db = tmp_path / "data" / "bridge.db"
    before = db.read_bytes()
    result = run_cli("doctor", home=tmp_path)
    assert result.returncode == 1
    assert "FAIL database: Cannot open the database" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr
    assert db.read_bytes() == before


@pytest.mark.skipif(sys.platform == "win32", reason="Windows always has a display")
def test_gui_without_a_display_says_what_to_do(tmp_path: Path) -> None:
    result = run_cli(home=tmp_path)
    assert result.returncode == 1
    assert "No graphical display" in result.stderr
    assert "litellm-bridge serve" in result.stderr
    assert "Traceback" not in result.stderr


def test_unwritable_home_gives_one_clear_line(tmp_path: Path) -> None:
    blocker = tmp_path / "file-not-dir"
    blocker.write_text("x")
    result = run_cli("doctor", home=blocker / "home")
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    assert "Cannot create the config directory" in result.stdout


def test_non_ascii_user_data_through_a_cp1252_stream_never_raises(tmp_path: Path) -> None:
    """Redirected output on Windows is cp1252: a data folder named in Japanese must not end
    the command with UnicodeEncodeError; what cp1252 cannot show becomes "?"."""
    home = tmp_path / "プロジェクト-café"
    env = {**os.environ, "BRIDGE_HOME": str(home), "BRIDGE_KEYRING": "off"}
    env.update(PYTHONPATH=str(REPO), PYTHONIOENCODING="cp1252")
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    result = subprocess.run(
        [sys.executable, "-m", "bridge_app", "doctor"],
        env=env,
        capture_output=True,
        timeout=120,
        check=False,
    )
    out = result.stdout.decode("cp1252")
    assert result.returncode == 0, result.stderr.decode("cp1252", errors="replace")
    assert "UnicodeEncodeError" not in result.stderr.decode("cp1252", errors="replace")
    assert str(tmp_path / "??????-café" / "data" / "bridge.db") in out
    assert "No problems found." in out
