"""The validator's frozen copy of LiteLLM's key names must match the installed LiteLLM."""

from __future__ import annotations

import os

import pytest

from bridge_app.config._litellm_keys import DATA_FILE, KNOWN_KEYS, LITELLM_VERSION, render


@pytest.mark.slow
def test_frozen_key_names_match_the_installed_litellm() -> None:
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    from importlib.metadata import version

    from bridge_app.config._introspect import collect_sections

    assert version("litellm") == LITELLM_VERSION, "run scripts/gen_litellm_keys.py"
    assert collect_sections() == KNOWN_KEYS, "run scripts/gen_litellm_keys.py"


def test_the_data_file_is_as_the_generator_writes_it() -> None:
    # A hand edit (or a merge) that reorders or reformats it shows here, without LiteLLM.
    assert DATA_FILE.read_text(encoding="utf-8") == render(KNOWN_KEYS, LITELLM_VERSION)


def test_key_names_cover_what_configs_use_daily() -> None:
    params = KNOWN_KEYS["litellm_params"]
    for key in ("model", "api_base", "api_key", "extra_body", "use_chat_completions_api", "rpm"):
        assert key in params
    assert {"master_key", "database_url"} <= set(KNOWN_KEYS["general_settings"])
    assert {"num_retries", "fallbacks", "timeout"} <= set(KNOWN_KEYS["router_settings"])
    assert {"drop_params", "success_callback"} <= set(KNOWN_KEYS["litellm_settings"])
