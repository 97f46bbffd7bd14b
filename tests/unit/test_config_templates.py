from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bridge_app.config import ConfigDocument, TemplateLibrary, env_ref_name, validate_text
from bridge_app.runtime import BridgeError, resource_path

SHIPPED = TemplateLibrary(user_dir=Path("/nonexistent-user-templates"))
NAMES = [t.name for t in SHIPPED.list()]
REQUIRED = {
    "internal-enterprise",
    "openai",
    "anthropic",
    "azure-openai",
    "ollama",
    "openai-compatible",
}


def test_the_promised_templates_ship_with_the_app() -> None:
    assert set(NAMES) >= REQUIRED
    assert NAMES[0] == "internal-enterprise"  # the one most employees need comes first
    for template in SHIPPED.list():
        assert template.source == "builtin"
        assert template.path.parent == resource_path("configs")


@pytest.mark.parametrize("name", NAMES)
def test_every_shipped_template_validates(name: str) -> None:
    template = SHIPPED.get(name)
    # the env manager would hold a value for each referenced name
    result = validate_text(template.read_text(), known_env=lambda: set(template.env_names))
    assert result.ok, result.report()
    if name in REQUIRED:
        assert result.problems == (), result.report()
        assert template.title and template.description


@pytest.mark.parametrize("name", sorted(REQUIRED))
def test_templates_reach_upstreams_only_through_env_references(name: str) -> None:
    """So tests (and admins) can point every upstream somewhere else without editing."""
    template = SHIPPED.get(name)
    doc = ConfigDocument.from_text(template.read_text())
    assert doc.models()
    for model in doc.models():
        assert env_ref_name(model.api_base) is not None, (name, model.name)
        if "api_key" in model.params:
            assert model.api_key_env is not None
    assert env_ref_name(doc.get(("general_settings", "master_key"))) == "LITELLM_MASTER_KEY"


def test_internal_template_carries_token_and_project_placeholders() -> None:
    doc = ConfigDocument.from_text(SHIPPED.get("internal-enterprise").read_text())
    (model,) = doc.models()
    assert model.model.startswith("hosted_vllm/")
    assert model.params["use_chat_completions_api"] is True
    assert model.extra_body["internal_token"] == "{token}"
    assert model.extra_body["project_id"] == "{project.id}"
    assert doc.get(("litellm_settings", "use_chat_completions_url_for_anthropic_messages"))


def test_a_template_without_metadata_such_as_demo_is_listed_sensibly(tmp_path: Path) -> None:
    builtin = tmp_path / "configs"
    shutil.copytree(resource_path("configs"), builtin)
    (builtin / "demo.yaml").write_text(
        "model_list:\n  - model_name: demo\n    litellm_params: {model: bridge-demo/echo}\n",
        encoding="utf-8",
    )
    (builtin / "team_special.yaml").write_text("model_list: []\n", encoding="utf-8")
    library = TemplateLibrary(user_dir=tmp_path / "user", builtin_dir=builtin)
    names = [t.name for t in library.list()]
    assert names[:2] == ["internal-enterprise", "demo"]
    demo = library.get("demo")
    assert demo.title == "Built-in demo" and demo.description
    assert demo.env_names == ()
    assert library.get("team_special").title == "Team special"


def test_admin_templates_are_listed_and_may_replace_a_builtin(tmp_path: Path) -> None:
    user = tmp_path / "templates"
    user.mkdir()
    (user / "openai.yaml").write_text(
        "# title: OpenAI via our gateway\nmodel_list: []\n", encoding="utf-8"
    )
    (user / "broken.yaml").write_bytes(b"\xff\xfe not text")
    (user / "ours.yml").write_text("# description: ours\nmodel_list: []\n", encoding="utf-8")
    library = TemplateLibrary(user_dir=user)
    by_name = {t.name: t for t in library.list()}
    assert by_name["openai"].title == "OpenAI via our gateway"
    assert by_name["openai"].source == "user"
    assert by_name["ours"].description == "ours"
    assert "broken" not in by_name  # unreadable: skipped, the rest still listed
    assert set(by_name) >= REQUIRED
    with pytest.raises(BridgeError, match="no template named 'nope'"):
        library.get("nope")
