"""A packaged build hands over to the installed update at start: the same kind of
executable (the windowed one for the windowed one) with the same command line, as one
argument list (no quoting to get wrong for a path with spaces)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from bridge_app.services._updates import handover_command

pytestmark = pytest.mark.windows

UPDATE = Path("C:/Users/Jo Doe/AppData/Local/litellm-bridge/updates/0.2.0/litellm-bridge.exe")


def test_the_console_build_hands_over_to_the_console_executable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sys, "argv", ["litellm-bridge.exe", "serve", "--port", "4001"])
    args, windowed = handover_command(Path("C:/Program Files/LB/litellm-bridge.exe"), UPDATE)
    assert args == [str(UPDATE), "serve", "--port", "4001"] and not windowed


def test_the_windowed_build_hands_over_to_the_windowed_executable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sys, "argv", ["litellm-bridge-gui.exe", "--kiosk"])
    args, windowed = handover_command(Path("C:/Program Files/LB/litellm-bridge-gui.exe"), UPDATE)
    assert args == [str(UPDATE.with_name("litellm-bridge-gui.exe")), "--kiosk"] and windowed
