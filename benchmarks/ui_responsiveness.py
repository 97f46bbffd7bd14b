"""Frame intervals of the real app window while its embedded proxy serves 32 concurrent
streaming clients to the built-in `demo` model.

The app runs as in the GUI tests (BridgeApp in embedded mode, a temporary BRIDGE_HOME, an
admin logged in, the Dashboard on screen, the proxy on a free loopback port); the main
thread pumps the Kivy event loop and records the time between frames, first with the
proxy idle, then under load; and before that, while the proxy starts (Start tapped right
after the login, LiteLLM's import still under way). Needs a display: run it under Xvfb:

    xvfb-run -a -s "-screen 0 1280x800x24" python benchmarks/ui_responsiveness.py [--seconds 20]

By default the 32 clients run on a thread of the app's own process (the worst case: they
compete for the app's interpreter lock); ``--clients-process`` runs them in a separate
process, as CLI tools and SDKs are on a real machine.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REPO, free_port, machine

sys.path.insert(0, str(REPO))
os.environ["BRIDGE_KEYRING"] = "off"
os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"

ADMIN, PASSWORD = "frames", "Kivy-Window-Pacing-42"
CLIENTS = 32


def stats(intervals: list[float]) -> dict[str, float]:
    ms = sorted(i * 1000 for i in intervals)
    return {
        "frames": len(ms),
        "p50": statistics.median(ms),
        "p95": ms[int(0.95 * (len(ms) - 1))],
        "max": ms[-1],
    }


def frames_until(done: Any, timeout: float = 180) -> list[float]:
    """The intervals between frames, pumping the Kivy loop until ``done()``."""
    from kivy.base import EventLoop

    deadline = time.monotonic() + timeout
    intervals: list[float] = []
    last = time.perf_counter()
    while not done():
        if time.monotonic() > deadline:
            raise TimeoutError(str(done))
        EventLoop.idle()
        now = time.perf_counter()
        intervals.append(now - last)
        last = now
    return intervals


def frames_for(seconds: float) -> list[float]:
    end = time.perf_counter() + seconds
    return frames_until(lambda: time.perf_counter() >= end)


def clients(url: str, key: str, stop: Any, done: Any) -> None:
    body = {
        "model": "demo",
        "messages": [{"role": "user", "content": "tell me a long story " * 4}],
        "stream": True,
    }
    headers = {"Authorization": f"Bearer {key}"}

    async def one_client(client: httpx.AsyncClient) -> None:
        while not stop.is_set():
            async with client.stream(
                "POST", f"{url}/v1/chat/completions", json=body, headers=headers
            ) as response:
                async for _chunk in response.aiter_bytes():
                    pass
                done[0 if response.status_code == 200 else 1] += 1

    async def main() -> None:
        limits = httpx.Limits(max_connections=CLIENTS, max_keepalive_connections=CLIENTS)
        async with httpx.AsyncClient(timeout=60, limits=limits, trust_env=False) as client:
            await asyncio.gather(*(one_client(client) for _ in range(CLIENTS)))

    asyncio.run(main())


def run(seconds: float, *, clients_process: bool = False) -> dict[str, Any]:
    home = Path(tempfile.mkdtemp(prefix="bench-ui-")) / "home"
    os.environ["BRIDGE_HOME"] = str(home)
    from bridge_app.runtime import AppPaths, Redactor
    from bridge_app.services import build_services

    paths = AppPaths.from_environment()
    paths.ensure()
    services = build_services(paths)
    services.settings.set("proxy.port", free_port())
    services.auth.create_first_admin(ADMIN, PASSWORD)
    services.close()

    from bridge_app.ui._app import _prepare_kivy

    _prepare_kivy(paths)
    from kivy.base import runTouchApp, stopTouchApp
    from kivy.core.window import Window

    from bridge_app.ui._async import busy_count
    from bridge_app.ui._main import BridgeApp

    app = BridgeApp(paths=paths, redactor=Redactor(), kiosk=False)
    app._run_prepare()
    runTouchApp(embedded=True)
    Window.size = (1280, 800)

    try:
        frames_until(lambda: app.root.current == "login")
        login = app.root.get_screen("login")
        login.ids.username.text, login.ids.password.text = ADMIN, PASSWORD
        login.login()
        frames_until(lambda: app.root.current == "main")
        ctx = app.ctx
        assert ctx is not None
        dashboard = app.root.get_screen("main").ids.pages.get_screen("dashboard")
        # Start, through the real button handler, right after the login: the frames while
        # LiteLLM is imported and the proxy starts.
        dashboard.toggle()
        starting = frames_until(lambda: dashboard.state == "running" and busy_count() == 0)
        frames_for(2)  # settle
        idle = frames_for(seconds)
        key = ctx.services.proxy.master_key()
        load: Any
        if clients_process:
            spawn = multiprocessing.get_context("spawn")
            stop: Any = spawn.Event()
            done: Any = spawn.Array("i", 2)
            load = spawn.Process(
                target=clients, args=(ctx.supervisor.url, key, stop, done), daemon=True
            )
        else:
            stop, done = threading.Event(), [0, 0]
            load = threading.Thread(
                target=clients, args=(ctx.supervisor.url, key, stop, done), daemon=True
            )
        load.start()
        frames_for(2)  # clients connect
        start_requests = done[0]
        loaded = frames_for(seconds)
        served = done[0] - start_requests
        stop.set()
        load.join(60)
        return {
            "starting": stats(starting),
            "idle": stats(idle),
            "load": stats(loaded),
            "requests_per_s": served / seconds,
            "errors": done[1],
            "seconds": seconds,
        }
    finally:
        app.stop()
        stopTouchApp()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--clients-process", action="store_true")
    args = parser.parse_args()
    where = machine()
    result = run(args.seconds, clients_process=args.clients_process)
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    print(f"UI responsiveness ({when}; {where})")
    print(f"{'proxy':<34}{'frames':>8}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}")
    where_clients = "another process" if args.clients_process else "same process"
    rows = (
        ("starting (Start to running)", "starting"),
        ("idle", "idle"),
        (f"{CLIENTS} clients ({where_clients})", "load"),
    )
    for label, key in rows:
        s = result[key]
        print(f"{label:<34}{s['frames']:>8}{s['p50']:>9.1f}{s['p95']:>9.1f}{s['max']:>9.1f}")
    print(
        f"streamed {result['requests_per_s']:.1f} requests/s to the demo model during the "
        f"load phase, {result['errors']} errors"
    )


if __name__ == "__main__":
    main()
