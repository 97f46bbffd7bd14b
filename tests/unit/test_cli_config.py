from __future__ import annotations

from pathlib import Path

from tests.unit.test_cli import run_cli

CORPUS = Path(__file__).resolve().parents[1] / "data" / "configs"


def test_new_validate_apply_history_diff_restore(tmp_path: Path) -> None:
    home = tmp_path / "home"
    listing = run_cli("config", "templates", home=home)
    assert listing.returncode == 0, listing.stderr
    assert (
        "internal-enterprise" in listing.stdout and "needs: INTERNAL_LLM_API_BASE" in listing.stdout
    )

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

    applied = run_cli(
        "config",
        "apply",
        str(first),
        "--author",
        "alice",
        "--comment",
        "v1",
        home=home,
        extra_env=upstream,
    )
    assert applied.returncode == 0, applied.stderr
    assert "takes effect the next time it starts" in applied.stdout
    active = home / "config" / "litellm" / "config.yaml"
    assert active.read_text(encoding="utf-8") == first.read_text(encoding="utf-8")

    second = tmp_path / "second.yaml"
    second.write_text(first.read_text(encoding="utf-8").replace("num_retries: 2", "num_retries: 5"))
    assert (
        run_cli(
            "config", "apply", str(second), "--author", "bob", home=home, extra_env=upstream
        ).returncode
        == 0
    )

    history = run_cli("config", "history", home=home)
    lines = history.stdout.splitlines()
    assert len(lines) == 2
    assert "bob" in lines[0] and "alice" in lines[1] and "v1" in lines[1]

    diff = run_cli("config", "diff", "1", "2", home=home)
    assert "-  num_retries: 2" in diff.stdout and "+  num_retries: 5" in diff.stdout

    restored = run_cli("config", "restore", "1", "--author", "carol", home=home, extra_env=upstream)
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
    assert run_cli("config", "apply", str(good), home=home, extra_env=ollama).returncode == 0
    active = home / "config" / "litellm" / "config.yaml"
    before = active.read_bytes()

    tabs = run_cli("config", "validate", str(CORPUS / "tabs.yaml"), home=home)
    assert tabs.returncode == 1
    assert "line 4, column 1: error: A tab is used for indentation" in tabs.stdout

    secret = run_cli("config", "apply", str(CORPUS / "literal_secret.yaml"), home=home)
    assert secret.returncode == 1
    assert "line 7, column 16" in secret.stdout
    assert "GPT_API_KEY" in secret.stdout
    assert "sk-proj-AAAA" not in secret.stdout + secret.stderr
    assert "was not applied" in secret.stderr

    for name in ("billion_laughs.yaml", "non_utf8.yaml", "deep_nesting.yaml"):
        result = run_cli("config", "apply", str(CORPUS / name), home=home)
        assert result.returncode == 1, name
        assert "Traceback" not in result.stderr
        assert "line " in result.stdout

    assert active.read_bytes() == before
    assert len(run_cli("config", "history", home=home).stdout.splitlines()) == 1
    missing = run_cli("config", "restore", "42", home=home)
    assert missing.returncode == 1 and "no config version 42" in missing.stderr
