"""Runs the real window (kiosk or plain, its own main loop) on the display it is given,
reports where its Next button is drawn (window pixels, top-left origin), then waits for a
real tap on it. Started by test_small_screen.py; prints "TAP-CHILD " and one JSON line,
then "TAP-CHILD pressed" or "TAP-CHILD timeout"."""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

from bridge_app.runtime import AppPaths, Redactor


def main() -> None:
    kiosk = sys.argv[1] == "kiosk"
    paths = AppPaths.from_environment()
    paths.ensure()
    from bridge_app.ui._app import _prepare_kivy

    _prepare_kivy(paths, kiosk=kiosk)
    os.environ.setdefault("KIVY_NO_FILELOG", "1")
    from kivy.clock import Clock
    from kivy.core.window import Window

    from bridge_app.ui._main import BridgeApp

    app = BridgeApp(paths=paths, redactor=Redactor(), kiosk=kiosk)
    state: dict[str, Any] = {"since": None, "reported": None}

    def say(text: str) -> None:
        print("TAP-CHILD " + text, flush=True)

    def pressed(*_args: Any) -> None:
        say("pressed")
        app.quit()

    def check(_dt: float) -> None:
        now = time.monotonic()
        if state["reported"] is not None:
            if now - state["reported"] > 90:
                say("timeout")
                app.quit()
            return
        if app.root is None or app.root.current != "wizard":
            return
        if state["since"] is None:
            state["since"] = now  # let the layout settle for a second
            return
        if now - state["since"] < 1:
            return
        button = app.root.get_screen("wizard").ids.next_button
        button.bind(on_release=pressed)
        x, y = button.to_window(*button.center)
        report = {
            "size": list(Window.size),
            "next": [round(x), round(Window.height - y)],
            "next_size": [round(button.width), round(button.height)],
        }
        say(json.dumps(report))
        state["reported"] = now

    Clock.schedule_interval(check, 0.1)
    app.run()


if __name__ == "__main__":
    main()
