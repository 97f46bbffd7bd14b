from __future__ import annotations

import time
from pathlib import Path

import pytest

from bridge_app.config import (
    MAX_BYTES,
    Fix,
    validate_bytes,
    validate_text,
)

CORPUS = Path(__file__).resolve().parents[1] / "data" / "configs"
KNOWN = frozenset(
    {"OPENAI_API_BASE", "OPENAI_API_KEY", "LITELLM_MASTER_KEY", "INTERNAL_LLM_API_BASE"}
)


def known_env() -> set[str]:
    return set(KNOWN)


GOOD = """\
# the team's config
model_list:
  - model_name: internal-chat   # what tools ask for
    litellm_params:
      model: hosted_vllm/internal-chat
      api_base: os.environ/INTERNAL_LLM_API_BASE
      use_chat_completions_api: true
      extra_body:
        internal_token: "{token}"
        project_id: "{project.id}"
        project_name: "{project.name}"
        cost_center: "{project.cost_center}"
        literal_braces: "{{not a placeholder}}"
general_settings:
  master_key: os.environ/LITELLM_MASTER_KEY
"""

# file -> (problem code, line) that must be reported, as an error
CORPUS_EXPECTED = {
    "syntax_error.yaml": ("syntax", 5),
    "unclosed_bracket.yaml": ("syntax", 4),
    "broken_flow.yaml": ("syntax", 2),
    "tabs.yaml": ("tab", 4),
    "wrong_types.yaml": ("wrong-type", 6),
    "model_list_not_a_list.yaml": ("wrong-type", 2),
    "unknown_keys.yaml": ("misspelled-key", 5),
    "missing_model.yaml": ("no-model", 3),
    "duplicate_key.yaml": ("duplicate-key", 5),
    "literal_secret.yaml": ("literal-secret", 7),
    "env_literal_secret.yaml": ("literal-secret", 9),
    "bad_url.yaml": ("bad-url", 5),
    "bad_placeholder.yaml": ("bad-placeholder", 7),
    "billion_laughs.yaml": ("alias-bomb", 6),
    "recursive_alias.yaml": ("recursive-alias", 1),
    "deep_nesting.yaml": ("too-deep", 41),
    "non_utf8.yaml": ("encoding", 2),
    "empty.yaml": ("empty", 1),
    "not_a_mapping.yaml": ("wrong-type", 1),
}


def test_the_corpus_table_covers_every_bad_file() -> None:
    assert {p.name for p in CORPUS.glob("*.yaml")} == set(CORPUS_EXPECTED)


@pytest.mark.parametrize("name", sorted(CORPUS_EXPECTED))
def test_each_bad_config_is_refused_with_its_line(name: str) -> None:
    code, line = CORPUS_EXPECTED[name]
    result = validate_bytes((CORPUS / name).read_bytes(), known_env=known_env)
    assert not result.ok
    hits = [p for p in result.errors if p.code == code]
    assert hits, result.report()
    assert hits[0].line == line, result.report()
    assert hits[0].message.endswith((".", "?"))  # a sentence, not an exception repr
    assert "object at 0x" not in hits[0].message and "Error(" not in hits[0].message
    assert f"line {line}" in result.report()


def test_a_good_config_with_placeholders_has_no_problem() -> None:
    result = validate_text(GOOD, known_env=known_env)
    assert result.problems == ()
    assert result.summary() == "The config is valid."


def test_misspelled_key_suggests_the_right_one_with_a_rename_fix() -> None:
    result = validate_bytes((CORPUS / "unknown_keys.yaml").read_bytes(), known_env=known_env)
    messages = {p.line: p for p in result.errors}
    assert "did you mean 'api_base'" in messages[5].message
    assert messages[5].fix == Fix(
        "rename_key", ("model_list", 0, "litellm_params", "api_bse"), replacement="api_base"
    )
    assert "did you mean 'general_settings'" in messages[6].message


def test_plausible_unknown_options_are_warnings_not_errors() -> None:
    text = GOOD.replace(
        "use_chat_completions_api: true",
        "use_chat_completions_api: true\n      my_gateway_specific_flag: 1",
    )
    result = validate_text(text, known_env=known_env)
    assert result.ok
    assert [p.code for p in result.warnings] == ["unknown-key"]
    assert result.warnings[0].line == 8


def test_valid_litellm_options_from_its_own_types_are_accepted() -> None:
    text = GOOD.replace(
        "general_settings:",
        "litellm_settings:\n  drop_params: true\n  num_retries: 3\n  request_timeout: 600\n"
        "router_settings:\n  routing_strategy: simple-shuffle\n  timeout: 30\n"
        "  allowed_fails: 2\ngeneral_settings:",
    ).replace(
        "use_chat_completions_api: true",
        "use_chat_completions_api: true\n"
        "      rpm: 100\n      stream_timeout: 60\n      max_tokens: 512",
    )
    assert validate_text(text, known_env=known_env).problems == ()


def test_literal_secret_offers_to_move_it_into_the_environment() -> None:
    result = validate_bytes((CORPUS / "literal_secret.yaml").read_bytes(), known_env=known_env)
    (problem,) = result.errors
    assert problem.code == "literal-secret"
    assert (problem.line, problem.column) == (7, 16)
    assert problem.fix is not None and problem.fix.kind == "move_to_env"
    assert problem.fix.env_name == "GPT_API_KEY"
    assert problem.fix.path == ("model_list", 0, "litellm_params", "api_key")
    assert "sk-proj" not in result.report()  # the report never repeats the secret


def test_proposed_env_name_avoids_names_already_in_use() -> None:
    text = GOOD.replace("os.environ/LITELLM_MASTER_KEY", "my-literal-master-key")
    (problem,) = validate_text(text, known_env=known_env).errors
    assert problem.fix is not None
    assert problem.fix.env_name == "LITELLM_MASTER_KEY_2"  # LITELLM_MASTER_KEY exists already


def test_environment_variables_must_not_hold_secret_literals() -> None:
    result = validate_bytes((CORPUS / "env_literal_secret.yaml").read_bytes())
    (problem,) = result.errors
    assert problem.fix is not None and problem.fix.env_name == "OPENAI_API_KEY"
    ok = "environment_variables:\n  LOG_LEVEL: info\n  OPENAI_API_KEY: os.environ/OPENAI_API_KEY\n"
    assert validate_text(GOOD + ok, known_env=known_env).ok


def test_env_reference_unknown_to_the_environment_store_is_an_error() -> None:
    text = GOOD.replace("INTERNAL_LLM_API_BASE", "INTERNAL_LLM_API_BASEE")
    (problem,) = validate_text(text, known_env=known_env).errors
    assert problem.code == "missing-env"
    assert problem.line == 6
    assert "INTERNAL_LLM_API_BASEE" in problem.message
    # without an environment provider the reference cannot be checked and is accepted
    assert validate_text(text).ok


def test_env_defined_in_the_config_itself_counts_as_known() -> None:
    text = GOOD.replace("INTERNAL_LLM_API_BASE", "LOCAL_BASE") + (
        "environment_variables:\n  LOCAL_BASE: http://127.0.0.1:9999/v1\n"
    )
    assert validate_text(text, known_env=known_env).ok


def test_placeholders_outside_extra_body_are_flagged_as_not_filled() -> None:
    text = GOOD.replace("model: hosted_vllm/internal-chat", "model: hosted_vllm/{project.id}")
    result = validate_text(text, known_env=known_env)
    assert result.ok
    assert [p.code for p in result.warnings] == ["placeholder-outside-body"]


def test_duplicate_model_names_are_reported_with_both_lines() -> None:
    entry = GOOD.split("model_list:\n")[1].split("general_settings:")[0]
    text = GOOD.replace("general_settings:", entry + "general_settings:")
    result = validate_text(text, known_env=known_env)
    dup = [p for p in result.problems if p.code == "duplicate-model-name"]
    assert len(dup) == 1 and "line 3" in dup[0].message and dup[0].line == 14


def test_a_file_over_the_size_limit_is_refused_quickly() -> None:
    line = "  - model_name: m\n    litellm_params: {model: openai/x}\n"
    raw = ("model_list:\n" + line * (MAX_BYTES // len(line) + 10)).encode()
    assert len(raw) > MAX_BYTES
    start = time.monotonic()
    result = validate_bytes(raw)
    assert [p.code for p in result.errors] == ["too-large"]
    assert time.monotonic() - start < 30  # generous: it must not parse the whole thing


def test_a_large_but_allowed_file_validates_without_crashing() -> None:
    entry = "  - model_name: m{0}\n    litellm_params: {{model: openai/x, rpm: {0}}}\n"
    text = "model_list:\n" + "".join(entry.format(i) for i in range(2000))
    result = validate_text(text + "general_settings: {master_key: os.environ/K}\n")
    assert result.ok, result.report()


def test_deep_flow_nesting_does_not_exhaust_the_stack() -> None:
    result = validate_text("model_list: " + "[" * 50_000 + "]" * 50_000)
    assert [p.code for p in result.errors] == ["too-deep"]


def test_a_byte_order_mark_is_accepted() -> None:
    assert validate_bytes(b"\xef\xbb\xbf" + GOOD.encode(), known_env=known_env).ok


def test_nul_bytes_are_refused_as_not_text() -> None:
    result = validate_bytes(b"model_list: []\n\x00\x01\x02")
    assert [(p.code, p.line) for p in result.errors] == [("binary", 2)]


def test_problem_messages_do_not_repeat_credentials() -> None:
    text = GOOD.replace(
        "api_base: os.environ/INTERNAL_LLM_API_BASE",
        "api_base: https//user:hunter2-password@llm.example.test\n"
        "      timeout: sk-live-0123456789abcdefghij",
    )
    report = validate_text(text, known_env=known_env).report()
    assert "bad-url" not in report  # codes are not shown; messages are
    assert "is not a valid http(s) URL" in report
    assert "hunter2" not in report and "sk-live" not in report


def test_an_unclosed_ipv6_bracket_is_a_bad_url_not_an_internal_error() -> None:
    """`config apply` of `api_base: "https://[::1"` ended in "internal error: ValueError"
    (urlparse raises on it): it is a problem at its line, like any other bad URL."""
    text = GOOD.replace("api_base: os.environ/INTERNAL_LLM_API_BASE", 'api_base: "https://[::1"')
    result = validate_text(text, known_env=known_env)
    assert [p.code for p in result.errors] == ["bad-url"], result.report()
    assert "'https://[::1' is not a valid http(s) URL" in result.report()


def test_placeholders_in_extra_headers_are_filled_in_too() -> None:
    text = GOOD.replace(
        "      extra_body:", '      extra_headers: {X-Internal-Token: "{token}"}\n      extra_body:'
    )
    assert "extra_headers" in text
    result = validate_text(text, known_env=known_env)
    assert result.ok and not result.warnings, result.problems
