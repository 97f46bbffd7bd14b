from __future__ import annotations

from bridge_app.config import resolve_placeholders, validate_text

BODY = {
    "internal_token": "{token}",
    "project_id": "{project.id}",
    "label": "{project.name} / {project.cost_center}",
    "literal": "{{token}} stays",
    "nested": [{"who": "{project.owner}"}],
    "count": 3,
}


def test_placeholders_are_filled_from_token_and_project() -> None:
    filled = resolve_placeholders(
        BODY,
        token="tok-123",
        project={"id": 42, "name": "Apollo", "cost_center": "CC-9", "owner": "ana"},
    )
    assert filled == {
        "internal_token": "tok-123",
        "project_id": 42,  # a whole-string placeholder keeps the field's type
        "label": "Apollo / CC-9",
        "literal": "{token} stays",
        "nested": [{"who": "ana"}],
        "count": 3,
    }
    assert BODY["internal_token"] == "{token}"  # the config's own mapping is untouched


def test_missing_project_fields_never_leak_raw_placeholders() -> None:
    filled = resolve_placeholders({"p": "{project.id}", "q": "x-{project.nope}"}, token="t")
    assert filled == {"p": "", "q": "x-"}


def test_secret_shaped_keys_and_values_are_told_apart_from_ordinary_settings() -> None:
    text = """\
model_list:
  - model_name: m
    litellm_params:
      model: openai/m
      api_key: os.environ/M_KEY
      max_tokens: 512
      input_cost_per_token: 0.000001
      litellm_credential_name: shared-openai
      extra_headers:
        X-Trace: "abc"
        Authorization: "Bearer abcdefghijklmnopqrstuvwxyz"
general_settings:
  master_key: os.environ/LITELLM_MASTER_KEY
"""
    result = validate_text(text)
    assert [(p.code, p.line) for p in result.errors] == [("literal-secret", 11)]
