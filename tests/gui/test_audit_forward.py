"""The Audit screen's Forwarding dialog, as an admin uses it: what it says before anything
is set, a wrong address refused inside the dialog with the words to fix it, a real syslog
collector (TCP on 127.0.0.1) receiving the log after "Save and send", and what the screen
says afterwards."""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from bridge_app.runtime import AppPaths
from tests.gui.conftest import Driver

pytestmark = pytest.mark.gui

ADMIN, ADMIN_PW = "ines", "Amber-Lantern-Orchard-47"


@pytest.fixture(scope="module")
def gui_home(gui_home: AppPaths) -> Iterator[AppPaths]:
    from bridge_app.services import build_services

    services = build_services(gui_home)
    services.auth.create_first_admin(ADMIN, ADMIN_PW, display_name="Ines")
    services.close()
    yield gui_home


class _SyslogTcp:
    """Octet-counted RFC 5424 frames over TCP, kept as they arrive."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.port = self.sock.getsockname()[1]
        self.messages: list[bytes] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            data = b""
            with conn:
                while chunk := conn.recv(65536):
                    data += chunk
            while data:
                length, _, rest = data.partition(b" ")
                self.messages.append(rest[: int(length)])
                data = rest[int(length) :]


def _texts(widget: Any) -> list[str]:
    return [
        t
        for w in widget.walk(restrict=True)
        if isinstance(t := getattr(w, "text", None), str) and t
    ]


def _button(root: Any, label: str) -> Any:
    from kivymd.uix.button import MDButton, MDButtonText

    for w in root.walk():
        if isinstance(w, MDButton) and any(
            isinstance(c, MDButtonText) and c.text == label for c in w.walk(restrict=True)
        ):
            return w
    raise AssertionError(f"no {label!r} button")


def _dialog(gui: Driver) -> Any:
    from kivy.core.window import Window
    from kivymd.uix.dialog import MDDialog

    return gui.wait(
        lambda: next((w for w in Window.children if isinstance(w, MDDialog)), None),
        what="the Forwarding dialog",
    )


def test_an_admin_sends_the_audit_log_to_a_syslog_collector(gui: Driver) -> None:
    from kivymd.uix.textfield import MDTextField

    collector = _SyslogTcp()
    gui.at_size((1280, 800))
    gui.log_in(ADMIN, ADMIN_PW)
    assert gui.main.show("audit")
    audit = gui.page("audit")
    gui.idle()
    gui.press(_button(audit, "Forwarding"))
    gui.idle()
    dialog = _dialog(gui)
    shown = "\n".join(_texts(dialog))
    assert "Audit events are not forwarded." in shown
    # The window's own alert channel.
    assert "Desktop notifications: on (every event up to #" in shown
    field = next(w for w in dialog.walk() if isinstance(w, MDTextField))
    field.text = "http://siem.example.com/in"
    gui.press(_button(dialog, "Save and send"))
    gui.idle()
    error = "\n".join(_texts(dialog))
    assert "audit events leave this machine only over HTTPS" in error
    field.text = f"syslog+tcp://127.0.0.1:{collector.port}"
    gui.window_shot("audit-forwarding-dialog-1280x800")
    gui.press(_button(dialog, "Save and send"))
    gui.idle()
    gui.wait(lambda: audit.notice.startswith("Audit events sent"), what="the outcome")
    assert audit.notice.startswith("Audit events sent: every collector has event #")
    assert collector.messages, "the collector received nothing"
    assert all(re.match(rb"<1\d\d>1 ", m) for m in collector.messages), collector.messages[:2]
    assert any(b"audit.forward_set" in m for m in collector.messages)
    gui.wait(lambda: "audit.forward_set" in audit.ids.events.data[0]["headline"], what="the list")
    gui.window_shot("audit-forwarded-1280x800")
    # Opened again, the dialog says how far the collector is.
    gui.press(_button(audit, "Forwarding"))
    dialog = _dialog(gui)
    assert any(
        t.startswith(f"syslog+tcp://127.0.0.1:{collector.port}: up to date (event #")
        for t in "\n".join(_texts(dialog)).splitlines()
    ), _texts(dialog)
    gui.at_size((800, 480))
    gui.window_shot("audit-forwarding-dialog-800x480")
    dialog.dismiss()
    gui.pump(5)
