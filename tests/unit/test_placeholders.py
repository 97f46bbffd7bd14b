"""One placeholder grammar (bridge_app/placeholders.py) read by validation and by injection:
whatever a string says, both read the same placeholders out of it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bridge_app import placeholders
from bridge_app.config import validate_text
from bridge_app.tokens import InjectionContext, Project, TokenUnavailable, render

CONTEXT = InjectionContext(
    token="tok-123", project=Project("P-7", "Orion", {"cost_center": "CC-9"})
)

#: text made of what matters to the grammar: braces, dots, names and a few others.
texts = st.text(alphabet="{}{}.projecttokenidname_-9 x", max_size=40)


def validator_accepts(text: str) -> list[str]:
    """The placeholders config validation accepts in a string (in order)."""
    return [name for name in placeholders.names_in(text) if placeholders.is_valid(name)]


def injector_fills(text: str) -> list[str]:
    """The names injection asks a value for, in order."""
    asked: list[str] = []

    def lookup(name: str) -> str:
        asked.append(name)
        return "<" + name + ">"

    placeholders.render(text, lookup)
    return asked


@given(texts)
def test_validation_and_injection_read_the_same_placeholders(text: str) -> None:
    assert injector_fills(text) == validator_accepts(text)


@given(texts)
def test_what_validation_rejects_injection_leaves_as_written(text: str) -> None:
    rejected = [n for n in placeholders.names_in(text) if not placeholders.is_valid(n)]
    filled = placeholders.render(text, lambda name: "")
    for name in rejected:
        assert "{" + name + "}" in filled


@given(st.text(max_size=60))
def test_escaped_text_comes_back_unchanged_and_asks_for_nothing(text: str) -> None:
    escaped = placeholders.escape(text)
    assert injector_fills(escaped) == [] and validator_accepts(escaped) == []
    assert placeholders.render(escaped, lambda name: pytest.fail(f"asked for {name}")) == text


def test_the_cases_the_two_readers_used_to_disagree_on() -> None:
    body = {
        "literal": "{{token}} stays",
        "label": "{project.name} / {project.cost_center}",
        "dashed": "{project.cost-center}",
        "nested": [{"token": "Bearer {token}"}],
    }
    assert render(body, CONTEXT) == {
        "literal": "{token} stays",  # an escape, never the real token
        "label": "Orion / CC-9",
        "dashed": "{project.cost-center}",  # not a placeholder: sent as written
        "nested": [{"token": "Bearer tok-123"}],
    }
    assert placeholders.placeholders_in(body) == {
        "token",
        "project.name",
        "project.cost_center",
    }
    with pytest.raises(TokenUnavailable, match="has no field 'owner'"):
        render("{project.owner}", CONTEXT)


def test_config_validation_reports_what_injection_would_leave_as_written() -> None:
    text = """\
model_list:
  - model_name: m
    litellm_params:
      model: openai/m
      api_key: os.environ/M_KEY
      extra_body:
        internal_token: "{token}"
        literal: "{{token}}"
        cost: "{project.cost-center}"
general_settings:
  master_key: os.environ/LITELLM_MASTER_KEY
"""
    problems = [(p.code, p.line, p.message) for p in validate_text(text).errors]
    assert problems == [
        (
            "bad-placeholder",
            9,
            "{project.cost-center} is not a placeholder the app fills in."
            " Did you mean {project.cost_center}?",
        ),
    ]
