"""`doctor` in a real Python environment that a poisoned package got into.

A throw-away virtual environment sees the app's packages through one path-only ``.pth``
file (how many set-ups chain environments), then gets what BerriAI/litellm #24512 left on
machines: a LiteLLM 1.82.8 distribution whose RECORD ships ``litellm_init.pth``, which
runs code at every interpreter start; and separately a ``.pth`` no package owns. `doctor`
runs in that interpreter, as a person would run it, and must fail naming both."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]


def _site_packages(root: Path) -> Path:
    paths = sysconfig.get_paths(vars={"base": str(root), "platbase": str(root)})
    return Path(paths["purelib"])


def _environment(tmp_path: Path) -> tuple[Path, Path]:
    import venv  # not in every Windows Python (the Windows leg collects this module)

    root = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(root)
    site_dir = _site_packages(root)
    # The app and its packages, reached the way a chained environment reaches them.
    app_site = Path(sysconfig.get_paths()["purelib"])
    (site_dir / "chained.pth").write_text(f"{REPO}\n{app_site}\n", encoding="utf-8")
    python = root / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    return python, site_dir


def _doctor(python: Path, home: Path) -> dict:
    result = subprocess.run(
        [str(python), "-m", "bridge_app", "doctor", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "BRIDGE_HOME": str(home), "PYTHONPATH": ""},
    )
    assert result.stdout, result.stderr
    return json.loads(result.stdout)


def _checks(report: dict, name: str) -> list[dict]:
    return [c for c in report["checks"] if c["name"] == name]


def test_a_clean_environment_passes(tmp_path: Path) -> None:
    python, _site = _environment(tmp_path)
    report = _doctor(python, tmp_path / "home")
    (release,) = _checks(report, "LiteLLM release")
    assert release["status"] == "ok"
    assert not [c for c in _checks(report, ".pth file") if c["status"] == "fail"]
    # the chaining file adds paths and no package owns it: named, but only a warning
    (chained,) = _checks(report, ".pth file")
    assert chained["status"] == "warn"
    assert "chained.pth: adds import paths, installed by no package" in chained["detail"]


def test_a_compromised_litellm_and_a_planted_pth_fail(tmp_path: Path) -> None:
    python, site_dir = _environment(tmp_path)
    marker = tmp_path / "ran"
    payload = f"import pathlib; pathlib.Path({str(marker)!r}).touch()\n"
    # A LiteLLM 1.82.8 distribution as the poisoned wheel installed it: its RECORD lists
    # litellm_init.pth; found before the real LiteLLM because this site directory is
    # first on sys.path.
    info = site_dir / "litellm-1.82.8.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: litellm\nVersion: 1.82.8\n", encoding="utf-8"
    )
    (site_dir / "litellm_init.pth").write_text(payload, encoding="utf-8")
    (info / "RECORD").write_text(
        "litellm_init.pth,,\nlitellm-1.82.8.dist-info/METADATA,,\n"
        "litellm-1.82.8.dist-info/RECORD,,\n",
        encoding="utf-8",
    )
    # and a file nobody installed
    (site_dir / "zz_planted.pth").write_text("import sys\n", encoding="utf-8")

    report = _doctor(python, tmp_path / "home")

    assert marker.exists(), "the payload ran: this is what a .pth file can do"
    assert report["ok"] is False
    (release,) = _checks(report, "LiteLLM release")
    assert release["status"] == "fail"
    assert "LiteLLM 1.82.8 shipped a credential-stealing litellm_init.pth" in release["detail"]
    assert "replace every credential" in release["hint"]
    details = {Path(c["detail"].split(":")[0]).name: c for c in _checks(report, ".pth file")}
    assert details["litellm_init.pth"]["status"] == "fail"
    assert (
        "runs code at every Python start, installed by litellm 1.82.8"
        in (details["litellm_init.pth"]["detail"])
    )
    assert details["zz_planted.pth"]["status"] == "fail"
    assert (
        "runs code at every Python start, installed by no package"
        in (details["zz_planted.pth"]["detail"])
    )
    assert details["chained.pth"]["status"] == "warn"


def test_the_test_environment_itself_is_clean() -> None:
    """The environment this suite runs in (set up by scripts/setup.sh from the pins) has no
    .pth file that runs code without a package that needs it."""
    from bridge_app.integrity import unexpected_pth_files

    assert [f.sentence() for f in unexpected_pth_files() if f.runs_code] == []
    assert sys.prefix != sys.base_prefix
