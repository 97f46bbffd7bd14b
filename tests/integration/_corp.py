"""The company network of issue 28 for tests: an internal endpoint whose certificate
comes from the company CA (only in the machine's trust store, the OS's way: a hashed
certificate folder named by SSL_CERT_DIR) and whose name resolves only at the company's
authenticating proxy (a real squid), and a PAC file as IT publishes it."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import quote

import httpx

from bridge_app.devtools import FakeInternalUpstream, LoopbackServer
from bridge_app.runtime import resource_path
from bridge_app.tokens import IamSettings
from tests.integration._litellm_cli import make_private_ca
from tests.integration._serve import ADMIN, ADMIN_PW, Serve, as_admin, cli, create_admin
from tests.integration._squid import Squid
from tests.integration._upstream import internal_config
from tests.integration._wire import answer_text, build

HOST = "internal-llm.corp.test"
REPLY = "Answered through the company proxy."
USER, PASSWORD = "emp-001", "Proxy p@ss:word/1"


class Corp(NamedTuple):
    home: Path
    upstream: FakeInternalUpstream
    squid: Squid
    trust: dict[str, str]  # the environment that makes the CA part of the machine's store


@contextmanager
def corporate_network(tmp_path: Path, **squid: Any) -> Iterator[Corp]:
    """A data folder with an admin whose active config routes ``internal-chat`` to the
    internal endpoint by its corporate name. ``squid``: how the proxy authenticates
    (tests/integration/_squid.py; Basic with USER and PASSWORD by default)."""
    ca, cert, key = make_private_ca(tmp_path, host=HOST)
    store = tmp_path / "os-trust"
    store.mkdir()
    shutil.copy(ca, store / "company-ca.pem")
    subprocess.run(["openssl", "rehash", str(store)], check=True, capture_output=True)
    home = tmp_path / "home"
    create_admin(home)
    upstream = FakeInternalUpstream(reply=REPLY, tls=(cert, key)).start()
    try:
        config = tmp_path / "internal.yaml"
        config.write_text(internal_config(upstream, f"https://{HOST}:{upstream.port}"), "utf-8")
        applied = as_admin(home, "config", "apply", str(config))
        assert applied.returncode == 0, applied.stdout + applied.stderr
        squid = Squid(**{"users": {USER: PASSWORD}, **squid, "hosts": {HOST: "127.0.0.1"}})
        try:
            yield Corp(home, upstream, squid, {"SSL_CERT_DIR": str(store)})
        finally:
            squid.stop()
    finally:
        upstream.stop()


def ask(serve: Serve, home: Path, *, stream: bool = False) -> httpx.Response:
    key = cli(home, "proxy-key").stdout.strip()
    with httpx.Client(base_url=serve.url, timeout=60, trust_env=False) as client:
        return client.send(build(client, "chat", key, model="internal-chat", stream=stream))


def answers(serve: Serve, home: Path) -> None:
    """A chat completion through the bridge answers from the internal endpoint, plain
    and streamed."""
    for stream in (False, True):
        r = ask(serve, home, stream=stream)
        assert r.status_code == 200, r.text[:500]
        assert REPLY in answer_text("chat", r, stream=stream)


def internal_token_flow(home: Path, iam: IamSettings, upstream_url: str) -> None:
    """As an admin: the company IAM (``iam``), the internal config pointing at
    ``upstream_url``, and the project P-7 in use, so a token sign-in is all that is left."""
    settings = home.parent / "iam.json"
    settings.write_text(json.dumps(iam.to_dict()), encoding="utf-8")
    set_entry(home, "INTERNAL_LLM_API_BASE", f"{upstream_url}/v1")
    for args in (
        ("token", "iam", "--set", str(settings)),
        ("config", "apply", str(resource_path("configs", "internal-enterprise.yaml"))),
        ("token", "project", "add", "P-7", "Apollo"),
        ("token", "project", "use", "P-7"),
    ):
        done = as_admin(home, *args)
        assert done.returncode == 0, (args, done.stdout, done.stderr)


def set_entry(home: Path, name: str, value: str) -> None:
    done = cli(
        home, "env", "set", name, "--shared", "--value-stdin", "--as", ADMIN,
        "--password-stdin", stdin=f"{ADMIN_PW}\n{value}\n",
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


def with_credentials(url: str) -> str:
    return url.replace("://", f"://{quote(USER, safe='')}:{quote(PASSWORD, safe='')}@")


def tunnels(squid: Squid) -> list[str]:
    return [line for line in squid.log() if f" CONNECT {HOST}:" in line]


class PacServer(LoopbackServer):
    """A PAC file over HTTP, as IT publishes it: the corporate names through the proxy,
    everything else direct."""

    def __init__(self, proxy_port: int) -> None:
        super().__init__()
        self.script = (
            "function FindProxyForURL(url, host) {\n"
            '  if (dnsDomainIs(host, ".corp.test"))\n'
            f'    return "PROXY 127.0.0.1:{proxy_port}; DIRECT";\n'
            '  return "DIRECT";\n'
            "}\n"
        ).encode()

    def handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        self.send(handler, 200, self.script, "application/x-ns-proxy-autoconfig")
