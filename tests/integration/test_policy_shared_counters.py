"""limits.shared: two bridges on different data folders share one limit through a real
redis-server; when Redis stops, each keeps serving on its own counters (with a warning)."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis

from tests.integration._serve import Serve, cli
from tests.integration._upstream import free_port
from tests.integration._wire import build

pytestmark = pytest.mark.integration


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    binary = shutil.which("redis-server")
    assert binary, "redis-server is missing: run scripts/setup.sh (Debian package redis-server)"
    port = free_port()
    proc = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    for _ in range(100):
        try:
            client.ping()
            break
        except redis.ConnectionError:
            proc.poll()
            assert proc.returncode is None, "redis-server did not start"
            import time

            time.sleep(0.05)
    client.close()
    yield url, proc
    if proc.poll() is None:
        proc.terminate()
        proc.wait(timeout=10)


def test_two_bridges_share_a_limit_and_fall_back_when_redis_stops(
    tmp_path: Path, redis_url: tuple[str, subprocess.Popen[bytes]]
) -> None:
    url, server = redis_url
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        f"limits:\n  per_user: {{requests_per_minute: 3}}\n  shared: {url}\n", encoding="utf-8"
    )
    extra = {"BRIDGE_POLICY_FILE": str(policy)}
    homes = [tmp_path / "a", tmp_path / "b"]
    ports = [free_port(), free_port()]
    serves = [Serve(home, port, **extra) for home, port in zip(homes, ports, strict=True)]
    try:
        keys = [cli(home, "proxy-key").stdout.strip() for home in homes]
        clients = [
            httpx.Client(base_url=f"http://127.0.0.1:{p}", timeout=60, trust_env=False)
            for p in ports
        ]
        a, b = clients
        assert a.send(build(a, "chat", keys[0])).status_code == 200
        assert a.send(build(a, "chat", keys[0])).status_code == 200
        assert b.send(build(b, "anthropic", keys[1])).status_code == 200
        # The third request of the minute went through b: the fourth is refused on either.
        refused = b.send(build(b, "chat", keys[1]))
        assert refused.status_code == 429, refused.text
        assert "requests_per_minute = 3" in refused.text and "retry-after" in refused.headers
        assert a.send(build(a, "responses", keys[0])).status_code == 429

        server.terminate()
        server.wait(timeout=10)
        # b counted one request of its own: it keeps serving on its local counters.
        fallback = b.send(build(b, "chat", keys[1]))
        assert fallback.status_code == 200, fallback.text
        for c in clients:
            c.close()
    finally:
        outs = [s.stop() for s in serves]
    assert "shared limit counters at redis://127.0.0.1" in outs[1][1]
    assert "counting on this machine" in outs[1][1]
