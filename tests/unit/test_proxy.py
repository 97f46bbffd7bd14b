"""The proxy package's pure parts: no LiteLLM import, no server."""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from bridge_app.proxy import (
    ConfigError,
    EnvironmentApplier,
    KeyIdentity,
    KeyRegistry,
    LogCapture,
    MasterKeyStore,
    ProxyMetrics,
    ProxyState,
    ProxyStatus,
    RequestSample,
    UsageWriter,
    WatchdogPolicy,
    ensure_active_config,
    load_config,
    read_status,
    referenced_env_names,
    unclean_shutdown,
    write_status,
)
from bridge_app.proxy._config import check_environment
from bridge_app.proxy._state import StateMachine
from bridge_app.runtime import MASK, AppPaths, Redactor
from bridge_app.services import open_store
from bridge_app.store import tables


def test_importing_the_proxy_package_does_not_import_litellm() -> None:
    # `status` and `logs` must answer instantly, without LiteLLM's seconds-long import.
    import subprocess

    code = "import bridge_app.proxy, bridge_app.cli, sys; print('litellm' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def _sample(
    model: str, status: int, latency: float, t_in: int = 1, t_out: int = 2
) -> RequestSample:
    return RequestSample(time.time(), model, "/v1/chat/completions", status, latency, t_in, t_out)


def test_metrics_give_counts_error_rate_percentiles_and_tokens_per_model() -> None:
    metrics = ProxyMetrics()
    for latency in range(1, 101):
        metrics.record(_sample("a", 200, float(latency)))
    metrics.record(_sample("b", 502, 7.0, 0, 0))
    metrics.record_rejected()
    snap = metrics.snapshot(open_connections=3)
    assert snap["requests"] == 101 and snap["errors"] == 1
    assert snap["error_rate"] == pytest.approx(1 / 101, abs=1e-4)
    assert snap["per_model"]["a"]["latency_ms_p50"] == pytest.approx(50.5)
    assert snap["per_model"]["a"]["latency_ms_p95"] == pytest.approx(95.05)
    assert snap["per_model"]["a"]["tokens_out"] == 200
    assert snap["per_model"]["b"]["error_rate"] == 1.0
    assert snap["open_connections"] == 3 and snap["rejected"] == 1
    assert ProxyMetrics().snapshot()["latency_ms_p50"] is None


def test_state_machine_tells_observers_and_refuses_impossible_moves() -> None:
    machine = StateMachine()
    seen: list[tuple[ProxyState, ProxyState, str | None]] = []
    machine.subscribe(lambda old, new, err: seen.append((old, new, err)))
    machine.subscribe(lambda *_: 1 / 0)  # a broken observer must not break the proxy
    machine.move(ProxyState.STARTING)
    machine.move(ProxyState.FAILED, error="port busy")
    assert seen == [
        (ProxyState.STOPPED, ProxyState.STARTING, None),
        (ProxyState.STARTING, ProxyState.FAILED, "port busy"),
    ]
    assert machine.last_error == "port busy"
    with pytest.raises(RuntimeError):
        machine.move(ProxyState.RUNNING)  # failed -> running skips starting
    machine.record_restart("crash")
    assert machine.restart_count == 1 and machine.restarts_since(time.time() - 5) == 1


def test_key_registry_accepts_only_known_keys_in_any_header_form() -> None:
    redactor = Redactor()
    keys = KeyRegistry(redactor=redactor)
    keys.set_master_key("sk-bridge-master-0123456789")
    keys.add("sk-tool-claude-0123456789", KeyIdentity("claude"))
    assert keys.identify("sk-bridge-master-0123456789") == KeyIdentity("admin", admin=True)
    assert keys.identify("Bearer sk-tool-claude-0123456789") == KeyIdentity("claude")
    assert keys.identify("sk-bridge-master-012345678") is None
    assert keys.identify("") is None and keys.identify(None) is None
    keys.revoke("sk-tool-claude-0123456789")
    assert keys.identify("sk-tool-claude-0123456789") is None
    assert "sk-tool-claude-0123456789" not in redactor.redact("x sk-tool-claude-0123456789 y")
    with pytest.raises(ValueError):
        keys.add("short", KeyIdentity("x"))


def test_config_errors_say_which_file_and_where(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("model_list:\n  - model_name: a\n   litellm_params: x\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml is not valid YAML at line 3"):
        load_config(bad)
    bad.write_text("model_list:\n  - model_name: a\n")
    with pytest.raises(ConfigError, match=r"model_list entry 1 \(a\) needs litellm_params"):
        load_config(bad)
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "missing.yaml")


def test_environment_references_are_found_and_missing_ones_named(tmp_path: Path) -> None:
    data = {
        "model_list": [
            {"model_name": "m", "litellm_params": {"model": "x", "api_key": "os.environ/K1"}}
        ],
        "general_settings": {"master_key": "os.environ/LITELLM_MASTER_KEY", "x": ["os.environ/K2"]},
    }
    assert referenced_env_names(data) == {"K1", "K2", "LITELLM_MASTER_KEY"}
    env = {"K1": "v", "LITELLM_MASTER_KEY": "k"}
    with pytest.raises(ConfigError, match="environment variable K2, which is not set"):
        check_environment(tmp_path / "c.yaml", data, env)
    check_environment(tmp_path / "c.yaml", data, {**env, "K2": "v"})


def test_a_fresh_install_gets_the_demo_config_once(app_paths: AppPaths) -> None:
    path = ensure_active_config(app_paths)
    data = load_config(path)
    assert [m["model_name"] for m in data["model_list"]] == ["demo"]
    assert data["general_settings"]["master_key"] == "os.environ/LITELLM_MASTER_KEY"
    path.write_text(path.read_text() + "\n# edited\n")
    assert ensure_active_config(app_paths).read_text().endswith("# edited\n")  # never replaced


def test_environment_applier_removes_only_what_it_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("USER_OWN_VAR", "keep")
    monkeypatch.delenv("BRIDGE_T_A", raising=False)
    monkeypatch.delenv("BRIDGE_T_B", raising=False)
    redactor = Redactor()
    applier = EnvironmentApplier(redactor=redactor)
    assert applier.preview({"BRIDGE_T_A": "1"})["BRIDGE_T_A"] == "1"
    assert "BRIDGE_T_A" not in os.environ  # preview changes nothing
    applier.apply({"BRIDGE_T_A": "secret-a-value", "BRIDGE_T_B": "b"})
    assert os.environ["BRIDGE_T_A"] == "secret-a-value"
    assert redactor.redact("x secret-a-value") == f"x {MASK}"
    applier.apply({"BRIDGE_T_B": "b2"})
    assert "BRIDGE_T_A" not in os.environ and os.environ["BRIDGE_T_B"] == "b2"
    assert os.environ["USER_OWN_VAR"] == "keep"
    applier.apply({})
    assert "BRIDGE_T_B" not in os.environ


def test_environment_applier_clear_restores_what_the_process_had(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.corp:8080")  # the machine's own value
    monkeypatch.delenv("BRIDGE_T_C", raising=False)
    applier = EnvironmentApplier(redactor=Redactor())
    applier.apply({"HTTPS_PROXY": "http://127.0.0.1:3128", "BRIDGE_T_C": "secret-c"})
    assert os.environ["HTTPS_PROXY"] == "http://127.0.0.1:3128"
    applier.clear()  # the proxy stopped
    assert os.environ["HTTPS_PROXY"] == "http://proxy.corp:8080"
    assert "BRIDGE_T_C" not in os.environ
    assert applier.applied_names() == []


def _status(state: ProxyState, pid: int, updated: float) -> ProxyStatus:
    return ProxyStatus(
        state=state, host="127.0.0.1", port=4000, ready=True, pid=pid, started_at=1.0,
        uptime_s=5.0, restarts=2, last_error=None, config_path="/c.yaml", updated_at=updated,
    )  # fmt: skip


def test_status_file_round_trips_and_a_dead_server_reads_as_stopped(tmp_path: Path) -> None:
    path = tmp_path / "status.json"
    assert read_status(path).state is ProxyState.STOPPED  # nothing published yet
    write_status(path, _status(ProxyState.RUNNING, os.getpid(), time.time()))
    live = read_status(path)
    assert live.state is ProxyState.RUNNING and live.restarts == 2 and live.url.endswith(":4000")
    assert json.loads(path.read_text())["state"] == "running"
    write_status(path, _status(ProxyState.RUNNING, 2**22 + 12345, time.time()))  # no such pid
    gone = read_status(path)
    assert gone.state is ProxyState.STOPPED
    assert gone.last_error == (
        f"gone: the serving process (pid {2**22 + 12345}) ended without stopping the proxy "
        "(last state running)"
    )
    # Frozen: the process exists (here: our parent) but stopped publishing.
    write_status(path, _status(ProxyState.RUNNING, os.getppid(), time.time() - 60))
    frozen = read_status(path)
    assert frozen.state is ProxyState.DEGRADED and not frozen.ready
    assert frozen.last_error == (
        f"not answering: the serving process (pid {os.getppid()}) has not reported for 60 s "
        "(frozen or stuck)"
    )


def test_a_previous_run_that_ended_without_stopping_is_an_unclean_shutdown(
    tmp_path: Path,
) -> None:
    path = tmp_path / "status.json"
    assert unclean_shutdown(path) is None  # first run ever
    write_status(path, _status(ProxyState.STOPPED, 2**22 + 12345, time.time()))
    assert unclean_shutdown(path) is None  # it stopped cleanly
    write_status(path, _status(ProxyState.RUNNING, 2**22 + 12345, time.time() - 30))
    found = unclean_shutdown(path)
    assert found is not None
    assert found.startswith(f"the previous run (pid {2**22 + 12345}) ended without stopping")
    assert "last state running" in found


def test_master_key_is_created_once_sealed_and_registered(app_paths: AppPaths) -> None:
    db, key = open_store(app_paths)
    try:
        redactor = Redactor()
        first = MasterKeyStore(db=db, db_key=key.raw, redactor=redactor).get_or_create()
        again = MasterKeyStore(db=db, db_key=key.raw, redactor=Redactor()).get_or_create()
        assert first == again and first.startswith("sk-bridge-") and len(first) > 40
        assert redactor.redact(first) == MASK
        with db.reading() as conn:
            rows = conn.execute(select(tables["secrets"])).all()
        assert len(rows) == 1 and rows[0].owner_id is None
        assert rows[0].kind == "proxy-master-key"
        assert first.encode() not in rows[0].value
    finally:
        db.close()


def test_log_capture_masks_secrets_in_buffer_and_file(tmp_path: Path) -> None:
    redactor = Redactor()
    redactor.register("hunter2-corp-secret")
    capture = LogCapture(log_dir=tmp_path, redactor=redactor)
    capture.attach(["LiteLLM", "bridge_app.proxy"])
    got: list[str] = []
    capture.subscribe(lambda line: got.append(line.text))
    try:
        logging.getLogger("LiteLLM").error("upstream said: bad key %s", "hunter2-corp-secret")
        logging.getLogger("LiteLLM").warning("Authorization: Bearer abcdefghijklmnop12345")
        logging.getLogger("LiteLLM").debug("below the level")
    finally:
        capture.detach()
    lines = capture.lines()
    assert len(lines) == 2 and got == [line.text for line in lines]
    text = (tmp_path / "proxy.log").read_text()
    for shown in (text, "\n".join(got)):
        assert "hunter2-corp-secret" not in shown and "abcdefghijklmnop12345" not in shown
        assert "upstream said: bad key ****" in shown
    assert [ln.level for ln in capture.lines(min_level=logging.ERROR)] == ["ERROR"]
    assert len(capture.lines(grep="AUTHORIZATION")) == 1


def test_litellms_routine_start_and_stop_warnings_stay_out_of_the_proxy_log(
    tmp_path: Path,
) -> None:
    capture = LogCapture(log_dir=tmp_path, redactor=Redactor())
    capture.attach(["LiteLLM Proxy"])
    proxy = logging.getLogger("LiteLLM Proxy")
    budget = (
        "Success callback shutdown budget exhausted with %d unfinished callbacks; "
        "accounting may be incomplete"
    )
    try:
        proxy.warning("gc.freeze pinned %d startup objects", 887815)
        proxy.warning(budget, 0)
        proxy.warning(budget, 3)  # something was really left: this one shows
    finally:
        capture.detach()
    assert [line.text.split(": ", 1)[1] for line in capture.lines()] == [
        "Success callback shutdown budget exhausted with 3 unfinished callbacks; "
        "accounting may be incomplete"
    ]


def test_usage_writer_batches_rows_into_the_store(app_paths: AppPaths) -> None:
    db, _key = open_store(app_paths)
    try:
        writer = UsageWriter(db=db, interval=0.05)
        writer.start()
        for i in range(5):
            writer.submit(_sample("demo", 200, float(i)))
        deadline = time.monotonic() + 5
        while writer.written < 5 and time.monotonic() < deadline:
            time.sleep(0.02)
        writer.stop()
        with db.reading() as conn:
            rows = conn.execute(select(tables["usage_records"])).all()
        assert len(rows) == 5 and {r.model for r in rows} == {"demo"}
    finally:
        db.close()


def test_the_usage_row_names_the_deployment_and_host_but_never_a_key_or_path() -> None:
    from bridge_app.proxy._hooks import _answered_by

    slo = {"api_base": "https://user:sk-secret@gw.example:8443/v1/chat?api-key=sk-x"}
    assert _answered_by("primary", slo, {}) == "primary @ gw.example:8443"
    made_up = "a" * 64  # LiteLLM's own id for a deployment without model_info.id
    params = {"model": "openai/up-model", "api_base": "http://[::1]:9/v1"}
    assert _answered_by(made_up, {}, params) == "openai/up-model @ [::1]:9"
    assert _answered_by("demo", {"api_base": "not a url"}, {}) == "demo"
    assert _answered_by(None, {}, {}) is None


def test_backoff_doubles_up_to_the_cap() -> None:
    policy = WatchdogPolicy(backoff_base_s=0.5, backoff_cap_s=3.0)
    # No wait after a crash: the delay grows only while restart attempts fail.
    assert [policy.backoff(n) for n in (0, 1, 2, 3, 4, 5)] == [0.0, 0.5, 1.0, 2.0, 3.0, 3.0]
