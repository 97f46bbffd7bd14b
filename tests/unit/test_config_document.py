from __future__ import annotations

import re

import pytest

from bridge_app.config import ConfigDocument, ConfigSyntaxError, validate_text
from bridge_app.runtime import BridgeError

SOURCE = """\
# Team config: keep this header
model_list:
  # the main model
  - model_name: internal-chat   # what the tools ask for
    litellm_params:
      model: hosted_vllm/internal-chat
      api_base: os.environ/INTERNAL_LLM_API_BASE
      extra_body:
        internal_token: "{token}"   # filled per request
  - model_name: small
    litellm_params: {model: hosted_vllm/small, api_base: os.environ/INTERNAL_LLM_API_BASE}

litellm_settings:
  drop_params: true   # endpoint rejects unknown params

# fallbacks go here
router_settings:
  fallbacks: [{internal-chat: [small]}]

general_settings:
  master_key: os.environ/LITELLM_MASTER_KEY
"""


def _lines_in_order(text: str, needles: list[str]) -> bool:
    positions = [text.find(n) for n in needles]
    return all(p >= 0 for p in positions) and positions == sorted(positions)


def test_save_without_edits_reproduces_the_text_exactly() -> None:
    assert ConfigDocument.from_text(SOURCE).to_text() == SOURCE


def test_form_edits_keep_every_comment_and_the_key_order() -> None:
    doc = ConfigDocument.from_text(SOURCE)
    doc.set_api_base("small", "http://127.0.0.1:8000/v1")
    doc.set_extra_body_field("internal-chat", "project_id", "{project.id}")
    doc.add_model("big", "hosted_vllm/big", api_base="os.environ/INTERNAL_LLM_API_BASE")
    doc.set_retries(3)
    doc.set_timeout(120, model_name="internal-chat")
    text = doc.to_text()

    for comment in (
        "# Team config: keep this header",
        "# the main model",
        "# what the tools ask for",
        "# filled per request",
        "# endpoint rejects unknown params",
        "# fallbacks go here",
    ):
        assert comment in text
    assert _lines_in_order(
        text, ["model_list:", "litellm_settings:", "router_settings:", "general_settings:"]
    )
    assert _lines_in_order(text, ["internal-chat", "- model_name: small", "- model_name: big"])
    assert 'internal_token: "{token}"' in text  # quoting kept as written
    assert "fallbacks: [{internal-chat: [small]}]" in text  # flow style kept as written
    assert "project_id: '{project.id}'" in text
    assert "api_base: http://127.0.0.1:8000/v1" in text
    assert validate_text(text).ok

    # and a second round trip changes nothing
    assert ConfigDocument.from_text(text).to_text() == text


def test_text_edit_then_form_edit_keeps_the_users_comments() -> None:
    edited = SOURCE.replace(
        "drop_params: true", "drop_params: true\n  # my new note\n  num_retries: 1"
    )
    doc = ConfigDocument.from_text(edited)
    doc.set_master_key_env("OTHER_MASTER_KEY")
    text = doc.to_text()
    assert "# my new note" in text
    assert "master_key: os.environ/OTHER_MASTER_KEY" in text
    assert text.replace("OTHER_MASTER_KEY", "LITELLM_MASTER_KEY") == edited


def test_models_are_listed_for_the_form_without_secret_values() -> None:
    doc = ConfigDocument.from_text(SOURCE)
    doc.set_api_key_env("small", "SMALL_KEY")
    first, second = doc.models()
    assert (first.name, first.model) == ("internal-chat", "hosted_vllm/internal-chat")
    assert first.extra_body == {"internal_token": "{token}"}
    assert second.api_key_env == "SMALL_KEY"
    assert doc.model_names() == ["internal-chat", "small"]


def test_update_rename_and_remove_models() -> None:
    doc = ConfigDocument.from_text(SOURCE)
    doc.update_model("small", new_name="tiny", rpm=10, api_base=None)
    doc.remove_model("internal-chat")
    assert doc.model_names() == ["tiny"]
    (model,) = doc.models()
    assert model.params == {"model": "hosted_vllm/small", "rpm": 10}
    with pytest.raises(BridgeError, match="no model named 'internal-chat'"):
        doc.set_api_base("internal-chat", "http://x")
    with pytest.raises(BridgeError, match="already exists"):
        doc.add_model("tiny", "openai/x")


def test_fallbacks_and_extra_body_removal() -> None:
    doc = ConfigDocument.from_text(SOURCE)
    doc.set_fallbacks({"small": ["internal-chat"]})
    doc.set_extra_body_field("internal-chat", "internal_token", None)
    text = doc.to_text()
    assert "- small: [internal-chat]" in text
    assert "extra_body" not in text
    doc.set_fallbacks({})
    assert "fallbacks:" not in doc.to_text()
    assert "router_settings" not in doc.to_text()  # no empty section left behind


def test_env_names_are_checked() -> None:
    doc = ConfigDocument.from_text(SOURCE)
    with pytest.raises(BridgeError, match="not a valid environment variable name"):
        doc.set_api_key_env("small", "has space")


def test_move_secret_to_env_applies_the_validators_fix() -> None:
    text = SOURCE.replace(
        "api_base: os.environ/INTERNAL_LLM_API_BASE\n      extra_body",
        "api_base: os.environ/INTERNAL_LLM_API_BASE\n      api_key: sk-pasted-1234567890abcdef\n"
        "      extra_body",
    )
    (problem,) = validate_text(text).errors
    assert problem.fix is not None
    doc = ConfigDocument.from_text(text)
    secret = doc.apply_fix(problem.fix)
    assert secret == "sk-pasted-1234567890abcdef"
    fixed = doc.to_text()
    assert "sk-pasted" not in fixed
    assert "api_key: os.environ/INTERNAL_CHAT_API_KEY" in fixed
    assert validate_text(fixed).ok


def test_rename_fix_keeps_position_and_comment() -> None:
    text = SOURCE.replace("drop_params: true", "drop_parms: true")
    (problem,) = validate_text(text).errors
    assert problem.fix is not None and problem.fix.replacement == "drop_params"
    doc = ConfigDocument.from_text(text)
    assert doc.apply_fix(problem.fix) is None
    # the end-of-line comment may shift by a space as the key got longer
    assert re.sub(r" +#", " #", doc.to_text()) == re.sub(r" +#", " #", SOURCE)


def test_unreadable_text_raises_with_the_problems() -> None:
    with pytest.raises(ConfigSyntaxError) as caught:
        ConfigDocument.from_text("model_list:\n\t- x\n")
    assert caught.value.problems[0].line == 2
    assert "line 2" in str(caught.value)


def test_a_new_document_from_empty_text() -> None:
    doc = ConfigDocument.from_text("")
    doc.add_model("m", "openai/gpt-4o", api_key_env="OPENAI_API_KEY")
    doc.set_master_key_env("LITELLM_MASTER_KEY")
    text = doc.to_text()
    assert text.startswith("model_list:\n  - model_name: m\n")
    assert validate_text(text, known_env=lambda: {"OPENAI_API_KEY", "LITELLM_MASTER_KEY"}).ok
