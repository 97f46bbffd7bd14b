from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bridge_app.config import (
    ConfigApplyError,
    ConfigInvalidError,
    ConfigService,
    ProxyRestarter,
)
from bridge_app.runtime import AppPaths, BridgeError
from bridge_app.services import Services, build_services

CORPUS = Path(__file__).resolve().parents[1] / "data" / "configs"
ENV = {"INTERNAL_LLM_API_BASE", "LITELLM_MASTER_KEY", "OPENAI_API_BASE", "OPENAI_API_KEY"}

V1 = """\
# version one
model_list:
  - model_name: internal-chat
    litellm_params:
      model: hosted_vllm/internal-chat
      api_base: os.environ/INTERNAL_LLM_API_BASE
general_settings:
  master_key: os.environ/LITELLM_MASTER_KEY
"""
V2 = V1.replace("# version one", "# version two").replace(
    "hosted_vllm/internal-chat\n", "hosted_vllm/internal-chat\n      timeout: 30\n"
)
# Valid to the validator, but (in the fake) the proxy will not become ready with it.
BROKEN_AT_START = V1.replace("# version one", "# starts badly").replace(
    "hosted_vllm/internal-chat", "hosted_vllm/does-not-start"
)


class FakeRestarter:
    """Stands in for the proxy supervisor: records restarts; refuses configs that contain
    a marker, the way a real proxy refuses a config it cannot start with."""

    def __init__(self, *, running: bool = True, fail_marker: str = "does-not-start") -> None:
        self.running = running
        self.fail_marker = fail_marker
        self.calls: list[bytes] = []
        self.fail_everything = False

    def is_running(self) -> bool:
        return self.running

    def restart_with_config(self, config_path: Path) -> None:
        content = config_path.read_bytes()
        self.calls.append(content)
        if self.fail_everything or self.fail_marker.encode() in content:
            self.running = False
            raise BridgeError("the proxy exited during startup: model group failed to load")
        self.running = True


@pytest.fixture
def services(app_paths: AppPaths) -> Iterator[Services]:
    built = build_services(app_paths)
    yield built
    built.close()


@pytest.fixture
def fake() -> FakeRestarter:
    return FakeRestarter()


@pytest.fixture
def config(services: Services, fake: FakeRestarter) -> ConfigService:
    service = services.config
    service.set_known_env(lambda: ENV)
    service.set_restarter(fake)
    return service


def test_fake_satisfies_the_protocol(fake: FakeRestarter) -> None:
    assert isinstance(fake, ProxyRestarter)


def test_apply_writes_the_active_file_restarts_and_records_history(
    config: ConfigService, fake: FakeRestarter, app_paths: AppPaths
) -> None:
    result = config.apply(V1, author="alice", comment="first")
    assert result.restarted and "restarted" in result.message
    active = app_paths.proxy_config_dir / "config.yaml"
    assert config.active_path == active
    assert active.read_text(encoding="utf-8") == V1
    assert fake.calls == [V1.encode()]
    (version,) = config.list_versions()
    assert (version.id, version.author, version.comment, version.applied) == (
        result.version_id,
        "alice",
        "first",
        True,
    )
    assert version.content == V1 and version.created_at


def test_a_config_the_proxy_cannot_start_with_is_rolled_back(
    config: ConfigService, fake: FakeRestarter
) -> None:
    config.apply(V1, author="alice")
    before = config.active_path.read_bytes()

    with pytest.raises(ConfigApplyError) as caught:
        config.apply(BROKEN_AT_START, author="bob", comment="try new model")

    error = caught.value
    assert error.restored
    assert "did not become ready" in error.message
    assert "model group failed to load" in error.message  # the user is told why
    assert "previous config was restored" in error.message
    assert config.active_path.read_bytes() == before  # byte for byte
    # restarted with the new file, then again with the previous one
    assert fake.calls == [V1.encode(), BROKEN_AT_START.encode(), before]
    assert fake.running
    latest, first = config.list_versions()
    assert (latest.applied, latest.author) == (False, "bob")
    assert "rolled back" in latest.comment and latest.content == BROKEN_AT_START
    assert config.history.latest_applied() == first


def test_when_the_previous_config_fails_too_the_user_is_told_so(
    config: ConfigService, fake: FakeRestarter
) -> None:
    config.apply(V1, author="alice")
    fake.fail_everything = True
    with pytest.raises(ConfigApplyError) as caught:
        config.apply(V2, author="alice")
    assert not caught.value.restored
    assert "did not start with it either" in caught.value.message
    assert config.active_path.read_text(encoding="utf-8") == V1


def test_first_apply_failing_leaves_no_active_config(
    config: ConfigService, fake: FakeRestarter
) -> None:
    with pytest.raises(ConfigApplyError, match="no previous config"):
        config.apply(BROKEN_AT_START, author="alice")
    assert not config.active_path.exists()
    assert len(fake.calls) == 1
    (attempt,) = config.list_versions()
    assert not attempt.applied and "model group failed to load" in attempt.comment
    assert config.history.latest_applied() is None


@pytest.mark.parametrize("name", sorted(p.name for p in CORPUS.glob("*.yaml")))
def test_no_bad_config_is_ever_applied(
    config: ConfigService, fake: FakeRestarter, name: str
) -> None:
    config.apply(V1, author="alice")
    before = config.active_path.read_bytes()
    calls = len(fake.calls)
    with pytest.raises(ConfigInvalidError) as caught:
        config.import_file(CORPUS / name, author="mallory")
    assert caught.value.result.errors
    assert "line" in caught.value.message or caught.value.result.errors[0].line == 0
    with pytest.raises(ConfigInvalidError):
        config.apply((CORPUS / name).read_bytes(), author="mallory")
    assert len(fake.calls) == calls  # the running proxy was never restarted
    assert fake.running
    assert config.active_path.read_bytes() == before
    assert len(config.list_versions()) == 1


def test_without_a_running_proxy_the_change_waits_for_the_next_start(
    config: ConfigService, fake: FakeRestarter
) -> None:
    fake.running = False
    result = config.apply(V1, author="alice")
    assert not result.restarted
    assert "next time it starts" in result.message
    assert fake.calls == []
    assert config.read_active() == V1


def test_history_diff_and_restore(config: ConfigService, fake: FakeRestarter) -> None:
    one = config.apply(V1, author="alice").version_id
    two = config.apply(V2, author="bob").version_id
    diff = config.diff(one, two)
    assert diff.startswith(f"--- version {one} (")
    assert "-# version one" in diff and "+# version two" in diff
    assert "+      timeout: 30" in diff
    assert config.diff(one, one) == ""

    restored = config.restore(one, author="carol")
    assert config.read_active() == V1
    newest = config.list_versions()[0]
    assert newest.id == restored.version_id
    assert (newest.author, newest.comment) == ("carol", f"restored version {one}")
    assert fake.calls[-1] == V1.encode()
    with pytest.raises(BridgeError, match="no config version 99"):
        config.restore(99, author="carol")


def test_literal_secrets_are_refused_on_save(config: ConfigService) -> None:
    text = V1.replace("os.environ/LITELLM_MASTER_KEY", "sk-a-very-real-master-key-123456")
    with pytest.raises(ConfigInvalidError) as caught:
        config.apply(text, author="alice")
    assert caught.value.result.errors[0].code == "literal-secret"
    assert not config.active_path.exists()
    assert config.list_versions() == []


def test_warnings_do_not_block_and_are_returned(config: ConfigService) -> None:
    text = V1.replace("      api_base:", "      some_future_litellm_option: 1\n      api_base:")
    result = config.apply(text, author="alice")
    assert [w.code for w in result.validation.warnings] == ["unknown-key"]


def test_export_and_import(config: ConfigService, tmp_path: Path) -> None:
    config.apply(V1, author="alice")
    config.apply(V2, author="alice")
    exported = config.export(tmp_path / "out.yaml")
    assert exported.read_text(encoding="utf-8") == V2
    first = config.list_versions()[-1].id
    config.export(tmp_path / "v1.yaml", version_id=first)
    assert (tmp_path / "v1.yaml").read_text(encoding="utf-8") == V1

    result = config.import_file(tmp_path / "v1.yaml", author="dave")
    assert config.read_active() == V1
    assert config.list_versions()[0].comment == "imported from v1.yaml"
    assert result.version_id == config.list_versions()[0].id


def test_templates_can_become_the_active_config(config: ConfigService) -> None:
    text = config.new_from_template("internal-enterprise")
    result = config.apply(text, author="admin")
    assert result.restarted
    assert "{token}" in (config.read_active() or "")


def test_pasted_secrets_can_be_moved_into_the_environment_store(config: ConfigService) -> None:
    text = V1.replace("os.environ/LITELLM_MASTER_KEY", "sk-pasted-master-0123456789abcdef").replace(
        "api_base: os.environ/INTERNAL_LLM_API_BASE",
        "api_base: os.environ/INTERNAL_LLM_API_BASE\n      api_key: internal-static-key-42",
    )
    stored: dict[str, str] = {}
    fixed = config.move_secrets_to_env(text, store_secret=stored.__setitem__)
    assert stored == {
        "LITELLM_MASTER_KEY_2": "sk-pasted-master-0123456789abcdef",
        "INTERNAL_CHAT_API_KEY": "internal-static-key-42",
    }
    assert "sk-pasted" not in fixed and "internal-static-key-42" not in fixed
    assert "# version one" in fixed
    config.set_known_env(lambda: ENV | set(stored))
    assert config.apply(fixed, author="alice").version_id
