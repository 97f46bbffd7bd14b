"""Issue 28 (proxies): WPAD, the PAC file found by the machine's DNS name. A laptop named
``laptop.eng.corp.test`` whose resolver knows ``wpad.corp.test`` (and not
``wpad.eng.corp.test``) finds the PAC file at ``http://wpad.corp.test/wpad.dat`` and routes
the corporate names through the proxy it names.

The machine is a private one for the test: new UTS, network and mount namespaces
(util-linux's unshare, as root) with their own host name, their own loopback and a hosts
file of their own bind-mounted over /etc/hosts, so the real resolver answers and nothing
of the machine changes. The WPAD server listens on port 80 of that loopback."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import UNDER_WINE
from tests.integration._serve import REPO

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(UNDER_WINE, reason="Linux namespaces"),
]

INSIDE = r"""
import json, sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PAC = (b'function FindProxyForURL(url, host) { return dnsDomainIs(host, ".corp.test")'
       b' ? "PROXY proxy.corp.test:3128" : "DIRECT"; }')
asked = []

class Wpad(BaseHTTPRequestHandler):
    def do_GET(self):
        asked.append(f"{self.headers['Host']}{self.path}")
        found = self.path == "/wpad.dat"
        self.send_response(200 if found else 404)
        self.send_header("Content-Type", "application/x-ns-proxy-autoconfig")
        self.end_headers()
        self.wfile.write(PAC if found else b"")
    def log_message(self, *args):
        pass

server = ThreadingHTTPServer(("127.0.0.1", 80), Wpad)
threading.Thread(target=server.serve_forever, daemon=True).start()
from bridge_app.runtime import ProxyRules
rules = ProxyRules({"PROXY_PAC_URL": "wpad"}, system={}, windows_settings=False)
corp = rules.choose("https://internal-llm.corp.test/v1")
public = rules.choose("https://api.example.org/v1")
print(json.dumps({"corp": [corp.proxy, corp.reason, corp.problem],
                  "public": [public.proxy, public.reason], "asked": asked}))
"""


def _on_a_laptop(tmp_path: Path, hosts: str) -> dict[str, object]:
    import json

    if os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("ip"):
        pytest.fail("needs root, util-linux's unshare and iproute2 (scripts/setup.sh --e2e)")
    hosts_file = tmp_path / "hosts"
    hosts_file.write_text(hosts, encoding="utf-8")
    script = tmp_path / "inside.py"
    script.write_text(INSIDE, encoding="utf-8")
    done = subprocess.run(
        ["unshare", "--uts", "--net", "--mount", "sh", "-ec",
         f"mount --bind {hosts_file} /etc/hosts; ip link set lo up; "
         f"hostname laptop.eng.corp.test; exec {sys.executable} {script}"],
        cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def test_wpad_finds_the_pac_file_by_the_machines_domain(tmp_path: Path) -> None:
    seen = _on_a_laptop(
        tmp_path,
        "127.0.0.1 localhost\n127.0.1.1 laptop.eng.corp.test\n127.0.0.1 wpad.corp.test\n",
    )
    assert seen["corp"] == [
        "http://proxy.corp.test:3128",
        "the app's PROXY_PAC_URL=wpad: WPAD's PAC file http://wpad.corp.test/wpad.dat says "
        "'PROXY proxy.corp.test:3128'",
        None,
    ], seen
    assert seen["public"][0] is None, seen  # type: ignore[index]
    # wpad.eng.corp.test does not resolve; the file is fetched once for both decisions.
    assert seen["asked"] == ["wpad.corp.test/wpad.dat"], seen


def test_no_wpad_server_is_said_and_calls_go_direct(tmp_path: Path) -> None:
    seen = _on_a_laptop(tmp_path, "127.0.0.1 localhost\n127.0.1.1 laptop.eng.corp.test\n")
    proxy, reason, problem = seen["corp"]  # type: ignore[misc]
    assert proxy is None
    assert reason == "the app's PROXY_PAC_URL=wpad: WPAD found no PAC file, so calls go direct"
    # Up the name, as far as pypac's Public Suffix List rule lets it: `.test` is not a
    # listed suffix, so it stops at the last label (a real `corp.example.com` stops at
    # `wpad.example.com`, never `wpad.com`).
    assert problem == (
        "tried http://wpad.eng.corp.test/wpad.dat, http://wpad.corp.test/wpad.dat, "
        "http://wpad.test/wpad.dat"
    ), problem
