"""Runs the real kiosk window (its own main loop) on the display it is given and reports,
for test_small_screen.py, what a person would see: "TAP-CHILD login {json}" once the
login screen is on show (where its "Quit kiosk" button is drawn), "TAP-CHILD dialog
{json}" each time the quit dialogs change (their texts, how many are open, where the
username and password fields and the Quit and Cancel buttons are drawn, in window pixels
from the top-left), "TAP-CHILD error <text>" when the dialog shows a refusal, and
"TAP-CHILD stopped" when the app stops."""

from __future__ import annotations

import json
import os
from typing import Any

from bridge_app.runtime import AppPaths, Redactor


def main() -> None:
    paths = AppPaths.from_environment()
    paths.ensure()
    from bridge_app.ui._app import _prepare_kivy

    _prepare_kivy(paths, kiosk=True)
    os.environ.setdefault("KIVY_NO_FILELOG", "1")
    from kivy.clock import Clock
    from kivy.core.window import Window
    from kivymd.uix.button import MDButton, MDButtonText
    from kivymd.uix.dialog import MDDialog
    from kivymd.uix.textfield import MDTextField

    from bridge_app.ui._main import BridgeApp

    app = BridgeApp(paths=paths, redactor=Redactor(), kiosk=True)
    state: dict[str, Any] = {"login": False, "dialogs": None, "error": ""}

    def say(text: str) -> None:
        print("TAP-CHILD " + text, flush=True)

    def where(widget: Any) -> list[int]:
        x, y = widget.to_window(*widget.center)
        return [round(x), round(Window.height - y)]

    def shot(name: str) -> None:
        folder = os.environ.get("BRIDGE_TEST_ARTIFACTS")
        if folder:
            label = os.environ.get("TAP_CHILD_LABEL", "")
            Window.screenshot(name=os.path.join(folder, f"{name}-{label}.png"))

    def texts(widget: Any) -> list[str]:
        return [w.text for w in widget.walk() if isinstance(getattr(w, "text", None), str)]

    def check(_dt: float) -> None:
        if not state["login"] and app.root is not None and app.root.current == "login":
            button = app.root.get_screen("login").ids.get("quit_kiosk")
            if button is None or button.width < 10 or app.root.transition.is_active:
                return  # not laid out yet
            state["login"] = True
            say("login " + json.dumps({"quit_kiosk": where(button)}))
            Clock.schedule_once(lambda _dt: shot("kiosk-login"), 0.5)
        dialogs = [w for w in Window.children if isinstance(w, MDDialog)]
        key = tuple(id(d) for d in dialogs)
        if dialogs and key != state["dialogs"]:
            dialog = dialogs[0]
            if dialog.height < 10 or dialog.opacity < 1:
                return  # still opening: report where things are once they are drawn
            state["dialogs"] = key
            user, password = [w for w in dialog.walk() if isinstance(w, MDTextField)]

            def button(label: str) -> Any:
                return next(
                    w
                    for w in dialog.walk()
                    if isinstance(w, MDButton)
                    and any(isinstance(c, MDButtonText) and c.text == label for c in w.children)
                )

            report = {
                "count": len(dialogs),
                "texts": texts(dialog),
                "username": where(user),
                "password": where(password),
                "quit": where(button("Quit")),
                "cancel": where(button("Cancel")),
            }
            say("dialog " + json.dumps(report))
        elif not dialogs:
            state["dialogs"] = None
        for dialog in dialogs:
            error = dialog.error_label.text
            if error and error != state["error"]:
                state["error"] = error
                say("error " + error.replace("\n", " "))
                Clock.schedule_once(lambda _dt: shot("kiosk-quit-refused"), 0.5)

    app.bind(on_stop=lambda *_a: say("stopped"))
    Clock.schedule_interval(check, 0.2)
    app.run()


if __name__ == "__main__":
    main()
