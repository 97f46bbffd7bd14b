"""Issue "Closed for real", item 1, through the real CLI and a real `serve`: a config's
`include:` and `environment_variables` cannot make LiteLLM run code the guard refuses —
not through `config validate`, `config apply` or a hand-written active file."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import yaml

from tests.integration._serve import Serve, as_admin, cli, create_admin
from tests.integration._upstream import free_port

pytestmark = [pytest.mark.integration, pytest.mark.windows]  # the Windows leg too


def _demo(home: Path) -> str:
    made = cli(home, "config", "new", "--template", "demo")
    assert made.returncode == 0, made.stderr
    return made.stdout


def test_an_include_cannot_run_code_through_validate_apply_or_serve(tmp_path: Path) -> None:
    home, work = tmp_path / "home", tmp_path / "work"
    work.mkdir()
    create_admin(home)
    folder = home / "config" / "litellm"
    folder.mkdir(parents=True, exist_ok=True)
    marker = work / "PWNED"
    (folder / "evilmod.py").write_text(
        f"open({str(marker)!r}, 'w').close()\nhandler = None\n", encoding="utf-8"
    )
    evil = 'litellm_settings:\n  callbacks: ["evilmod.handler"]\n'
    (work / "inc.yaml").write_text(evil, encoding="utf-8")
    demo = _demo(home)

    # The reproduction: an include outside the config folder.
    outside = work / "c.yaml"
    outside.write_text(demo + f"include:\n  - {work / 'inc.yaml'}\n", encoding="utf-8")
    checked = cli(home, "config", "validate", str(outside))
    assert checked.returncode == 1
    assert "outside the config folder" in checked.stdout + checked.stderr
    applied = as_admin(home, "config", "apply", str(outside))
    assert applied.returncode == 1 and "was not applied" in applied.stderr

    # The same file inside the config folder: its code is what is refused.
    (folder / "inc.yaml").write_text(evil, encoding="utf-8")
    inside = work / "c2.yaml"
    inside.write_text(demo + "include:\n  - inc.yaml\n", encoding="utf-8")
    checked = cli(home, "config", "validate", str(inside))
    report = checked.stdout + checked.stderr
    assert checked.returncode == 1
    assert "In the included file inc.yaml, line 2, column 15" in report
    assert "'evilmod.handler' names Python code" in report
    assert as_admin(home, "config", "apply", str(inside)).returncode == 1

    # A start hook set through the config's environment_variables.
    hooks = work / "c3.yaml"
    hooks.write_text(
        demo + "environment_variables:\n  LITELLM_WORKER_STARTUP_HOOKS: evilmod:handler\n",
        encoding="utf-8",
    )
    checked = cli(home, "config", "validate", str(hooks))
    assert checked.returncode == 1
    assert "LiteLLM would set LITELLM_WORKER_STARTUP_HOOKS" in checked.stdout + checked.stderr

    # ... and as an environment entry.
    entry = as_admin(home, "env", "set", "LD_PRELOAD", "--shared")
    assert entry.returncode == 1 and "cannot be an environment entry" in entry.stderr

    # Written by hand past the validator: `serve` refuses before LiteLLM reads it.
    (folder / "config.yaml").write_text(inside.read_text(encoding="utf-8"), encoding="utf-8")
    served = cli(home, "serve", "--port", str(free_port()))
    assert served.returncode != 0
    assert "The proxy was not started with the config" in served.stderr
    assert "In the included file inc.yaml" in served.stderr
    assert not marker.exists()


def test_a_model_from_an_included_file_is_served(tmp_path: Path) -> None:
    """What passes the guard runs: LiteLLM gets the merged copy the start checked."""
    home = tmp_path / "home"
    create_admin(home)
    folder = home / "config" / "litellm"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "models.yaml").write_text(
        "model_list:\n"
        "  - model_name: extra\n"
        "    litellm_params:\n"
        "      model: openai/extra\n"
        "      mock_response: hello from the included file, café\n",
        encoding="utf-8",
    )
    config = tmp_path / "with-include.yaml"
    config.write_text(_demo(home) + "include: [models.yaml]\n", encoding="utf-8")
    applied = as_admin(home, "config", "apply", str(config))
    assert applied.returncode == 0, applied.stderr

    port = free_port()
    serve = Serve(home, port)
    try:
        key = cli(home, "proxy-key").stdout.strip()
        answer = httpx.post(
            f"http://127.0.0.1:{port}/v1/chat/completions",
            headers={"Authorization": f"Bearer {key}"},
            json={"model": "extra", "messages": [{"role": "user", "content": "hi"}]},
            timeout=60,
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["choices"][0]["message"]["content"] == (
            "hello from the included file, café"
        )
        running = (folder / ".config.running.yaml").read_bytes()
        assert running.isascii()  # LiteLLM reads it in the locale's encoding
        assert "include" not in yaml.safe_load(running)
    finally:
        serve.stop()
