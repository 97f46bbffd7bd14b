"""The config guard reads what LiteLLM will run: the config with its `include:` files merged
as LiteLLM merges them, and the environment LiteLLM will see. Validation, apply and the
start-time check share it (bridge_app/config/_guard.py)."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import pytest
import yaml

from bridge_app.config import check_runtime, read_as_litellm, validate_text
from bridge_app.config._guard import MAX_INCLUDED_FILES, read_checked
from bridge_app.envvars import EnvError
from bridge_app.envvars._names import check_name
from tests.unit.test_config_code import BASE

# Touches Windows branches: runs in the Windows leg too (scripts/windows/test.sh).
pytestmark = pytest.mark.windows

EVIL = 'litellm_settings:\n  callbacks: ["evilmod.handler"]\n'


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    path = tmp_path / "config" / "litellm"
    path.mkdir(parents=True)
    return path


def _validate(folder: Path, text: str, allowed: tuple[str, ...] = ()):  # type: ignore[no-untyped-def]
    return validate_text(text, location=folder / "config.yaml", allowed_modules=allowed)


def test_code_in_an_included_file_is_refused_at_the_include_entry(folder: Path) -> None:
    (folder / "inc.yaml").write_text(EVIL, encoding="utf-8")
    result = _validate(folder, BASE + "include:\n  - inc.yaml\n")
    assert not result.ok
    [problem] = result.errors
    assert (problem.line, problem.column) == (9, 5)  # the `- inc.yaml` line of the main file
    assert "In the included file inc.yaml, line 2, column 15" in problem.message
    assert "'evilmod.handler' names Python code that LiteLLM would import" in problem.message


def test_nested_includes_are_followed_relative_to_the_file_that_declares_them(
    folder: Path,
) -> None:
    (folder / "sub").mkdir()
    (folder / "first.yaml").write_text("include:\n  - sub/second.yaml\n", encoding="utf-8")
    (folder / "sub" / "second.yaml").write_text(EVIL, encoding="utf-8")
    result = _validate(folder, BASE + "include: [first.yaml]\n")
    [problem] = result.errors
    assert problem.line == 8
    assert f"In the included file {Path('sub', 'second.yaml')}" in problem.message


def test_an_allowed_module_in_an_included_file_passes(folder: Path) -> None:
    (folder / "inc.yaml").write_text(EVIL, encoding="utf-8")
    assert _validate(folder, BASE + "include: [inc.yaml]\n", ("evilmod",)).ok


@pytest.mark.parametrize(
    "entry",
    ["../outside.yaml", "{outside}", "link.yaml"],
    ids=["dot-dot", "absolute", "symlink"],
)
def test_an_include_outside_the_config_folder_is_refused(
    folder: Path, tmp_path: Path, entry: str
) -> None:
    outside = tmp_path / "config" / "outside.yaml"
    outside.write_text("model_list: []\n", encoding="utf-8")
    if entry == "link.yaml":
        if os.name == "nt":
            pytest.skip("symbolic links need a privilege on Windows")
        (folder / "link.yaml").symlink_to(outside)
    result = _validate(folder, BASE + f"include:\n  - {entry.format(outside=outside)}\n")
    [problem] = result.errors
    assert problem.code == "include-outside"
    assert "outside the config folder" in problem.message and str(folder) in problem.message


def test_a_missing_included_file_is_refused(folder: Path) -> None:
    result = _validate(folder, BASE + "include: [nowhere.yaml]\n")
    [problem] = result.errors
    assert problem.code == "include-missing"
    assert f"there is no file {folder / 'nowhere.yaml'}" in problem.message
    assert "config folder" in (problem.hint or "")


@pytest.mark.parametrize(
    ("snippet", "code"),
    [
        ("include: inc.yaml\n", "include-type"),
        ("include: [1]\n", "include-type"),
        ("include: [broken.yaml]\n", "include-unreadable"),
        ("include: [list.yaml]\n", "include-unreadable"),
    ],
)
def test_includes_litellm_would_refuse_are_refused_first(
    folder: Path, snippet: str, code: str
) -> None:
    (folder / "broken.yaml").write_text("a: [\n", encoding="utf-8")
    (folder / "list.yaml").write_text("- a\n- b\n", encoding="utf-8")
    result = _validate(folder, BASE + snippet)
    assert [p.code for p in result.errors] == [code], result.report()


def test_an_include_cycle_reads_each_file_once(folder: Path) -> None:
    (folder / "a.yaml").write_text("include: [b.yaml]\nmodel_list: []\n", encoding="utf-8")
    (folder / "b.yaml").write_text("include: [a.yaml, config.yaml]\n", encoding="utf-8")
    assert _validate(folder, BASE + "include: [a.yaml]\n").ok


def test_too_many_included_files_are_refused(folder: Path) -> None:
    count = MAX_INCLUDED_FILES + 1
    for index in range(count):
        (folder / f"m{index}.yaml").write_text("model_list: []\n", encoding="utf-8")
    entries = "".join(f"  - m{index}.yaml\n" for index in range(count))
    result = _validate(folder, BASE + "include:\n" + entries)
    assert [p.code for p in result.errors] == ["include-too-many"]


def test_a_config_that_will_not_run_here_may_not_include(folder: Path) -> None:
    (folder / "inc.yaml").write_text("model_list: []\n", encoding="utf-8")
    result = validate_text(BASE + "include: [inc.yaml]\n")  # no location: e.g. a team export
    assert [p.code for p in result.errors] == ["include-not-here"]


@pytest.mark.parametrize(
    "name",
    ["LITELLM_WORKER_STARTUP_HOOKS", "LD_PRELOAD", "PYTHONPATH", "BRIDGE_HOME", "Path"],
)
def test_environment_variables_that_load_code_are_refused_in_the_config(
    folder: Path, name: str
) -> None:
    text = BASE + f"environment_variables:\n  {name}: os:abort\n"
    [problem] = _validate(folder, text).errors
    assert problem.code == "protected-env"
    assert (problem.line, problem.column) == (9, 3)
    assert f"environment_variables.{name}: LiteLLM would set {name}" in problem.message


def test_they_are_refused_in_an_included_file_too(folder: Path) -> None:
    (folder / "env.yaml").write_text("environment_variables:\n  LD_PRELOAD: /x.so\n", "utf-8")
    [problem] = _validate(folder, BASE + "include: [env.yaml]\n").errors
    assert "In the included file env.yaml, line 2, column 3" in problem.message


@pytest.mark.parametrize(
    "name",
    [
        "LD_PRELOAD",
        "LD_AUDIT",
        "DYLD_INSERT_LIBRARIES",
        "PYTHONPATH",
        "PYTHONSTARTUP",
        "PATH",
        "path",
        "LITELLM_WORKER_STARTUP_HOOKS",
        "LITELLM_CONFIG_BUCKET_NAME",
        "NODE_OPTIONS",
        "OPENSSL_CONF",
    ],
)
def test_such_names_are_refused_as_environment_entries(name: str) -> None:
    with pytest.raises(EnvError, match="cannot be an environment entry"):
        check_name(name)


def test_ordinary_names_stay_allowed() -> None:
    for name in ("OPENAI_API_KEY", "HTTPS_PROXY", "SSL_CERT_FILE", "NO_PROXY", "MY_PATH"):
        assert check_name(name) == name


def test_the_start_check_refuses_entries_stored_before_the_rule(folder: Path) -> None:
    runtime = check_runtime(
        {"model_list": []},
        location=folder / "config.yaml",
        read=read_as_litellm,
        entries={"OPENAI_API_KEY": "sk-x", "PYTHONPATH": "/tmp/evil"},
        environment={},
    )
    [problem] = runtime.problems
    assert "The environment entry PYTHONPATH" in problem.message
    assert "env unset PYTHONPATH" in (problem.hint or "")


def test_startup_hooks_the_app_was_started_with_must_be_allowed(folder: Path) -> None:
    def check(allowed: tuple[str, ...]) -> list[str]:
        runtime = check_runtime(
            {},
            location=folder / "config.yaml",
            read=read_as_litellm,
            allowed_modules=allowed,
            entries={},
            environment={"LITELLM_WORKER_STARTUP_HOOKS": "os:abort"},
        )
        return [p.message for p in runtime.problems]

    assert check(()) == [
        "The environment variable LITELLM_WORKER_STARTUP_HOOKS makes LiteLLM import 'os' at "
        "start, which an admin has not allowed."
    ]
    assert check(("os",)) == []


def test_the_merge_is_litellms_own(folder: Path) -> None:
    """Our merge of a tree of includes equals what LiteLLM 1.106.2's own resolver gives."""
    from litellm.proxy.common_utils.config_includes import (
        resolve_include_file_path,
        resolve_includes,
    )

    (folder / "sub").mkdir()
    files = {
        "config.yaml": BASE
        + "litellm_settings: {drop_params: true}\ninclude: [a.yaml, sub/b.yaml]\n",
        "a.yaml": "model_list:\n  - model_name: a\n    litellm_params: {model: openai/a}\n"
        "router_settings: {num_retries: 1}\ninclude: [sub/b.yaml]\n",
        "sub/b.yaml": "litellm_settings: {num_retries: 2}\ninclude: [c.yaml]\n",
        "sub/c.yaml": "model_list:\n  - model_name: c\n    litellm_params: {model: openai/c}\n"
        "router_settings: {num_retries: 3}\n",
    }
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    root = folder / "config.yaml"
    main = yaml.safe_load(root.read_text(encoding="utf-8"))

    async def litellm_merge() -> dict[str, object]:
        async def read(location: str) -> dict[str, object]:
            return yaml.safe_load(Path(location).read_text(encoding="utf-8")) or {}

        return await resolve_includes(
            config=main,
            location=str(root),
            resolve=lambda entry, declared: resolve_include_file_path(entry, declared, str(root)),
            read=read,
        )

    ours = check_runtime(main, location=root, read=read_as_litellm)
    assert ours.ok, ours.problems
    assert ours.data == asyncio.run(litellm_merge())
    assert [m["model_name"] for m in ours.data["model_list"]] == ["chat", "a", "c"]
    # The validator's reader gives the same merge.
    checked = check_runtime(main, location=root, read=read_checked)
    assert json.loads(json.dumps(checked.data)) == ours.data
