"""Which endpoints `doctor` checks the TLS of: each distinct https api_base of the active
config, an os.environ/ reference read from the environment; nothing else."""

from __future__ import annotations

from pathlib import Path

import pytest

from bridge_app.services._network import MAX_ENDPOINTS, endpoints


def test_https_endpoints_are_distinct_and_references_are_resolved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("INTERNAL_BASE", "https://llm.corp.example:8443/v1")
    monkeypatch.delenv("UNSET_BASE", raising=False)
    config = tmp_path / "config.yaml"
    config.write_text(
        "model_list:\n"
        "  - model_name: a\n    litellm_params: {model: openai/x, api_base: https://h1.corp/v1}\n"
        "  - model_name: a-again\n    litellm_params: {model: openai/y, api_base: https://h1.corp/v2}\n"
        "  - model_name: b\n    litellm_params: {api_base: os.environ/INTERNAL_BASE}\n"
        "  - model_name: c\n    litellm_params: {api_base: os.environ/UNSET_BASE}\n"
        "  - model_name: d\n    litellm_params: {model: openai/x, api_base: http://plain.corp}\n"
        "  - model_name: e\n    litellm_params: {model: demo/x}\n"
        "  - not a mapping\n",
        encoding="utf-8",
    )
    assert endpoints(config) == [
        ("a", "https://h1.corp/v1", "h1.corp", 443),
        ("b", "https://llm.corp.example:8443/v1", "llm.corp.example", 8443),
        ("d", "http://plain.corp", "plain.corp", 80),
    ]


def test_a_missing_or_broken_config_checks_nothing(tmp_path: Path) -> None:
    assert endpoints(tmp_path / "absent.yaml") == []
    broken = tmp_path / "broken.yaml"
    broken.write_text("model_list: [\n", encoding="utf-8")
    assert endpoints(broken) == []


def test_at_most_a_few_endpoints_are_checked(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(
        "model_list:\n"
        + "".join(
            f"  - model_name: m{i}\n    litellm_params: {{api_base: https://h{i}.corp}}\n"
            for i in range(MAX_ENDPOINTS + 3)
        ),
        encoding="utf-8",
    )
    assert len(endpoints(config)) == MAX_ENDPOINTS


def test_an_endpoint_that_never_answers_is_reported_when_the_deadline_passes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A name lookup can hang past any socket timeout: doctor reports it and goes on."""
    import threading

    from bridge_app.services import _network

    release = threading.Event()
    monkeypatch.setattr(_network, "DEADLINE_S", 0.3)
    monkeypatch.setattr(_network, "check_tls", lambda host, port, proxy=None: release.wait(30))
    config = tmp_path / "config.yaml"
    config.write_text(
        "model_list:\n  - model_name: slow\n    litellm_params: {api_base: https://slow.corp}\n",
        encoding="utf-8",
    )
    try:
        rows = _network.network_checks(config)
    finally:
        release.set()
    assert rows == [
        (
            "TLS to slow (slow.corp:443)",
            "warn",
            "no answer within 0.3 s (name lookup or connect)",
            "Check the network path to the endpoint.",
        )
    ]
