from __future__ import annotations

from bridge_app.config import validate_text


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
