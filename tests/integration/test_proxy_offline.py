"""Offline and quiet: importing LiteLLM, starting the proxy and serving the demo model
make no network call except on loopback; LiteLLM's admin UI stays off."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[2]

SCRIPT = r"""
import json, sys
hits = []
def audit(event, args):
    if event in ("socket.connect", "socket.getaddrinfo", "socket.sendto", "socket.bind"):
        text = str(args[1] if event in ("socket.connect", "socket.bind") else args)
        if not any(h in text for h in ("127.0.0.1", "localhost", "'::1'")):
            hits.append([event, text[:200]])
sys.addaudithook(audit)
import httpx
from bridge_app.proxy import ProxySupervisor, new_proxy_key
from bridge_app.runtime import Redactor, resource_path
from tests.integration._wire import KINDS, build
key = new_proxy_key()
sup = ProxySupervisor(config=resource_path("configs", "demo.yaml"), master_key=key,
                      redactor=Redactor(), port=0)
sup.start()
codes = []
with httpx.Client(base_url=sup.url, timeout=30, trust_env=False) as client:
    for kind in KINDS:
        for stream in (False, True):
            codes.append(client.send(build(client, kind, key, stream=stream)).status_code)
    ui = client.get("/ui/", headers={"Authorization": f"Bearer {key}"})
sup.stop()
print(json.dumps({"hits": hits, "codes": codes, "ui_status": ui.status_code,
                  "ui_is_dashboard": "<html" in ui.text.lower() and "litellm" in ui.text.lower()}))
"""


def test_no_outbound_network_and_no_admin_ui() -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO), "BRIDGE_KEYRING": "off"}
    env.pop("LITELLM_LOCAL_MODEL_COST_MAP", None)  # the app must set it itself
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=240,
        check=True,
    )
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["codes"] == [200] * 8
    assert report["hits"] == []
    assert not report["ui_is_dashboard"], report["ui_status"]
