"""Launch to the first interactive screen: a fresh interpreter starts the real window
(the same path as `litellm-bridge`), and the time from process start until the login (or
first-run wizard) screen is on show and accepts input is measured, with the longest gap
between two frames until then (a frozen frame while the store opens), and the longest gap
in the 6 s after it (``after_gap_ms``: the pages built while the person types). Needs a
display:

    xvfb-run -a -s "-screen 0 1280x800x24" python benchmarks/ui_launch.py [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import bench_env, machine

CHILD = """
import json, os, sys, time
launched = float(os.environ["BENCH_LAUNCHED_AT"])
from bridge_app.runtime import AppPaths, Redactor
from bridge_app.ui._app import _prepare_kivy
paths = AppPaths.from_environment(); paths.ensure()
_prepare_kivy(paths)
from kivy.clock import Clock
from bridge_app.ui._main import BridgeApp
app = BridgeApp(paths=paths, redactor=Redactor(), kiosk=False)
frames, result = [], {}
AFTER_S = float(os.environ.get("BENCH_AFTER_S", "6"))
def frame(_dt):
    now = time.time()
    frames.append(now)
    root = app.root
    if "first_screen_s" not in result and root is not None and root.current in ("login", "wizard"):
        result["first_screen_s"] = now - launched
        result["first_frame_s"] = frames[0] - launched
        gaps = [b - a for a, b in zip(frames, frames[1:])]
        result["longest_frame_gap_ms"] = 1000 * max(gaps or [0])
        result["frames"] = len(frames)
        Clock.schedule_once(after, AFTER_S)
def after(_dt):
    # The seconds after the first screen, while the person reads and types: the main
    # screen's pages and LiteLLM's import are built then.
    shown = launched + result["first_screen_s"]
    later = [t for t in frames if t >= shown]
    gaps = [b - a for a, b in zip(later, later[1:])]
    result["after_gap_ms"] = 1000 * max(gaps or [0])
    print("BENCH " + json.dumps(result), flush=True)
    # Not app.stop(): LiteLLM's import is under way by now, and stopping the app during
    # it has hung here (all threads waiting); the measurement is complete anyway.
    os._exit(0)
Clock.schedule_interval(frame, 0)
app.run()
"""


def one_run(home: Path) -> dict[str, float]:
    env = bench_env(home)
    env["DISPLAY"] = os.environ["DISPLAY"]
    env["BENCH_LAUNCHED_AT"] = repr(time.time())
    proc = subprocess.run(
        [sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, timeout=300
    )
    for line in proc.stdout.splitlines():
        if line.startswith("BENCH "):
            return dict(json.loads(line[6:]))
    raise RuntimeError(proc.stderr[-3000:])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if not os.environ.get("DISPLAY"):
        sys.exit("needs a display: run under xvfb-run")
    print(machine())
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        one_run(home)  # the first run creates the store and Kivy's caches: not counted
        runs = [one_run(home) for _ in range(args.runs)]
    for key in ("first_frame_s", "first_screen_s", "longest_frame_gap_ms", "after_gap_ms"):
        values = [r[key] for r in runs]
        print(f"{key:24} median {statistics.median(values):7.2f}   max {max(values):7.2f}")


if __name__ == "__main__":
    main()
