from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from bridge_app.proxy import LogCapture, ProxySupervisor, WatchdogPolicy, new_proxy_key
from bridge_app.runtime import Redactor, resource_path

DEMO = resource_path("configs", "demo.yaml")


def proxy_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "litellm-proxy" and t.is_alive()]


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def wait_for(predicate: Callable[[], Any], timeout: float, step: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    return predicate()


class Made:
    def __init__(self, supervisor: ProxySupervisor, logs: LogCapture, key: str) -> None:
        self.supervisor = supervisor
        self.logs = logs
        self.key = key


@pytest.fixture
def make_proxy(tmp_path: Path) -> Iterator[Callable[..., Made]]:
    made: list[Made] = []

    def factory(
        *,
        config: Path | None = None,
        config_text: str | None = None,
        policy: WatchdogPolicy | None = None,
        redactor: Redactor | None = None,
        **kwargs: Any,
    ) -> Made:
        if config_text is not None:
            config = tmp_path / f"config-{len(made)}.yaml"
            config.write_text(config_text, encoding="utf-8")
        redactor = redactor or Redactor()
        logs = LogCapture(log_dir=tmp_path / "logs", redactor=redactor)
        logs.attach()
        key = new_proxy_key()
        kwargs.setdefault("port", 0)
        supervisor = ProxySupervisor(
            config=config or DEMO,
            master_key=key,
            redactor=redactor,
            policy=policy or WatchdogPolicy(interval_s=0.5),
            logs=logs,
            **kwargs,
        )
        made.append(Made(supervisor, logs, key))
        return made[-1]

    yield factory
    for item in made:
        item.supervisor.stop()
        item.logs.detach()
