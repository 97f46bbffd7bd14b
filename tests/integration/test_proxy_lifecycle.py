"""Start, stop, restart and the failures that must stop a start early and clearly."""

from __future__ import annotations

import importlib
import os
import socket
import threading
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from bridge_app.proxy import ProxyState
from bridge_app.runtime import BridgeError
from tests.integration._upstream import free_port
from tests.integration._wire import answer_text, build
from tests.integration.conftest import Made, port_open, proxy_threads

pytestmark = pytest.mark.integration


def _chat(made: Made) -> httpx.Response:
    with httpx.Client(base_url=made.supervisor.url, timeout=30, trust_env=False) as client:
        return client.send(build(client, "chat", made.key))


def test_stop_leaves_no_thread_and_no_open_port_and_start_works_again(
    make_proxy: Callable[..., Made],
) -> None:
    made = make_proxy(port=free_port())
    seen: list[tuple[str, str]] = []
    made.supervisor.subscribe(lambda old, new, _err: seen.append((old.value, new.value)))
    made.supervisor.start()
    port = made.supervisor.port
    assert made.supervisor.state is ProxyState.RUNNING
    assert _chat(made).status_code == 200
    made.supervisor.stop()
    assert made.supervisor.state is ProxyState.STOPPED
    assert proxy_threads() == []
    assert not port_open(port)
    made.supervisor.start()  # same process, same port: LiteLLM's globals were reset
    assert made.supervisor.port == port
    response = _chat(made)
    assert response.status_code == 200
    assert "demo model" in answer_text("chat", response, stream=False)
    made.supervisor.stop()
    assert seen == [
        ("stopped", "starting"),
        ("starting", "running"),
        ("running", "stopped"),
        ("stopped", "starting"),
        ("starting", "running"),
        ("running", "stopped"),
    ]


def test_port_in_use_fails_fast_and_names_the_port(make_proxy: Callable[..., Made]) -> None:
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        made = make_proxy(port=port)
        env_before = dict(os.environ)
        with pytest.raises(BridgeError) as info:
            made.supervisor.start()
        assert f"Port {port}" in info.value.message
        assert "already in use" in info.value.message
        assert made.supervisor.state is ProxyState.FAILED
        assert made.supervisor.status().last_error == info.value.message
        assert proxy_threads() == []
        assert dict(os.environ) == env_before


def test_invalid_yaml_says_which_file_and_line(
    make_proxy: Callable[..., Made], tmp_path: Path
) -> None:
    text = "model_list:\n  - model_name: demo\n    litellm_params: {model: bridge-demo/x\n"
    made = make_proxy(config_text=text, port=free_port())
    with pytest.raises(BridgeError) as info:
        made.supervisor.start()
    assert "config-0.yaml" in info.value.message
    assert "line 3" in info.value.message or "line 4" in info.value.message
    assert made.supervisor.state is ProxyState.FAILED
    assert (tmp_path / "config-0.yaml").read_text() == text  # left untouched
    assert proxy_threads() == []


def test_config_litellm_refuses_fails_with_its_reason(make_proxy: Callable[..., Made]) -> None:
    text = (
        "model_list:\n  - model_name: demo\n    litellm_params: {model: bridge-demo/x}\n"
        "general_settings:\n  master_key: os.environ/LITELLM_MASTER_KEY\n"
        "  custom_auth: no_such_module.check\n"
    )
    made = make_proxy(config_text=text, port=free_port())
    with pytest.raises(BridgeError) as info:
        made.supervisor.start()
    assert "config-0.yaml" in info.value.message
    assert "no_such_module" in info.value.message
    assert made.supervisor.state is ProxyState.FAILED
    assert proxy_threads() == []
    made.supervisor.stop()


def test_missing_environment_variable_is_named_before_starting(
    make_proxy: Callable[..., Made],
) -> None:
    text = (
        "model_list:\n  - model_name: corp\n    litellm_params:\n"
        "      model: openai/corp\n      api_key: os.environ/CORP_LLM_KEY_FOR_TEST\n"
        "general_settings:\n  master_key: os.environ/LITELLM_MASTER_KEY\n"
    )
    port = free_port()
    made = make_proxy(config_text=text, port=port, environment=lambda: {"OTHER_NAME": "x"})
    # Importing LiteLLM's proxy sets its own defaults (LITELLM_LOG ...) once per process:
    # done first, so only what the failed start would have applied is compared.
    importlib.import_module("bridge_app.proxy._server")
    env_before = dict(os.environ)
    with pytest.raises(BridgeError) as info:
        made.supervisor.start()
    assert "CORP_LLM_KEY_FOR_TEST" in info.value.message
    assert made.supervisor.state is ProxyState.FAILED
    assert dict(os.environ) == env_before  # nothing applied
    assert not port_open(port)


def test_warm_up_never_waits_for_a_start_in_progress(make_proxy: Callable[..., Made]) -> None:
    """The window calls warm_up on its UI thread a second after the first screen: when a
    Start is already under way (a tap right after the login, kiosk autostart), the call
    must return at once, not freeze the window until the proxy is up."""
    made = make_proxy()
    inside_start, let_start_finish = threading.Event(), threading.Event()

    def slow_start_step() -> None:
        inside_start.set()
        let_start_finish.wait(60)

    made.supervisor.on_start(slow_start_step)
    starter = threading.Thread(target=made.supervisor.start)
    starter.start()
    try:
        assert inside_start.wait(120), "the start never reached its start hooks"
        caller = threading.Thread(target=made.supervisor.warm_up)
        caller.start()
        caller.join(10)
        assert not caller.is_alive(), "warm_up waited for the start in progress"
        assert made.supervisor.state == ProxyState.STARTING
    finally:
        let_start_finish.set()
        starter.join(120)
    assert made.supervisor.state == ProxyState.RUNNING


@pytest.mark.windows  # the listener handed from server to server is a Windows branch too
def test_a_restart_that_fails_keeps_the_port_and_says_why_until_fixed(
    make_proxy: Callable[..., Made],
) -> None:
    """A planned restart (an entry changed) whose start fails: the proxy is `failed`, but
    the port stays the proxy's and answers 503 with the reason; the change that fixes it
    serves again on the same port. No client ever meets a closed port (issue 26, item 2)."""
    text = (
        "model_list:\n  - model_name: demo\n    litellm_params:\n      model: bridge-demo/echo\n"
        "  - model_name: corp\n    litellm_params:\n"
        "      model: openai/corp\n      api_key: os.environ/CORP_KEY_FOR_RESTART_TEST\n"
    )
    entries = {"CORP_KEY_FOR_RESTART_TEST": "sk-corp-1"}
    made = make_proxy(config_text=text, port=free_port(), environment=lambda: dict(entries))
    seen: list[str] = []
    made.supervisor.subscribe(lambda _old, new, _err: seen.append(new.value))
    made.supervisor.start()
    assert _chat(made).status_code == 200

    refused: list[BaseException] = []
    closed: list[str] = []
    stop = threading.Event()

    def knock() -> None:  # a client knocking throughout: the port never refuses it
        while not stop.is_set():
            try:
                socket.create_connection(("127.0.0.1", made.supervisor.port), timeout=5).close()
            except OSError as exc:
                closed.append(repr(exc))
            stop.wait(0.05)  # a client, not a flood

    knocker = threading.Thread(target=knock, daemon=True)
    knocker.start()
    try:
        del entries["CORP_KEY_FOR_RESTART_TEST"]
        try:
            made.supervisor.restart(reason="environment entries changed")
        except BridgeError as exc:
            refused.append(exc)
        assert refused and "CORP_KEY_FOR_RESTART_TEST" in str(refused[0])
        assert made.supervisor.state is ProxyState.FAILED
        assert made.supervisor.holds_port
        answer = _chat(made)
        assert answer.status_code == 503
        assert answer.headers["Retry-After"] == "5"
        error = answer.json()["error"]
        assert error["type"] == "proxy_failed"
        assert error["message"].startswith("The LiteLLM Bridge proxy could not start: ")
        assert "CORP_KEY_FOR_RESTART_TEST" in error["message"]

        entries["CORP_KEY_FOR_RESTART_TEST"] = "sk-corp-2"  # the fix
        made.supervisor.restart(reason="environment entries changed")
        assert made.supervisor.state is ProxyState.RUNNING
        assert _chat(made).status_code == 200
    finally:
        stop.set()
        knocker.join(10)
    assert closed == []
    assert seen == ["starting", "running", "restarting", "failed", "starting", "running"]
    made.supervisor.stop()
    assert not port_open(made.supervisor.port)
