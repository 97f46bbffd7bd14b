"""The Updates screen against a real TUF repository on 127.0.0.1 (the metadata and bundles of
tests/integration/test_updates.py): what an admin reads while checking, downloading (the
progress bar), verifying, being refused a tampered bundle, installing while the proxy serves
(a confirm dialog), rolling back, and when the company policy pins the version. Tests run
in file order on one app (see conftest)."""

from __future__ import annotations

import io
import json
import os
import tarfile
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

import bridge_app
from bridge_app.runtime import AppPaths
from bridge_app.store import SCHEMA_VERSION
from bridge_app.updates import EXECUTABLE
from tests.gui.conftest import Driver
from tests.gui.test_feedback import _dialog, _press_text
from tests.integration.test_updates import NEW, TufRepo, _launcher

pytestmark = [pytest.mark.gui, pytest.mark.skipif(os.name == "nt", reason="sh bundles")]

ADMIN, ADMIN_PW = "ines", "Amber-Lantern-Orchard-72"
RUNNING = bridge_app.__version__


def _bundle() -> bytes:
    """A good bundle, made big enough (3 MB that do not compress) to arrive in many chunks."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data, mode in (
            (EXECUTABLE, _launcher(True, None), 0o755),
            ("VERSION", f"{NEW}\n".encode(), 0o644),
            ("payload.bin", os.urandom(3_000_000), 0o644),
        ):
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), mode
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TufRepo, str, bytes]]:
    tuf_repo = TufRepo(tmp_path_factory.mktemp("tuf") / "repo")
    bundle = _bundle()
    tuf_repo.publish(NEW, bundle)
    handler = partial(SimpleHTTPRequestHandler, directory=str(tuf_repo.dir))
    handler.log_message = lambda *_a, **_k: None  # type: ignore[attr-defined]
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield tuf_repo, f"http://127.0.0.1:{server.server_address[1]}", bundle
    server.shutdown()
    thread.join(5)


@pytest.fixture(scope="module")
def gui_home(gui_home: AppPaths, repo: tuple[TufRepo, str, bytes]) -> AppPaths:
    from bridge_app.services import build_services

    tuf_repo, url, _bundle_bytes = repo
    services = build_services(gui_home)
    services.auth.create_first_admin(ADMIN, ADMIN_PW, display_name="Ines")
    session = services.auth.login(ADMIN, ADMIN_PW)
    services.core.configure_updates(session, url, tuf_repo.dir / "metadata" / "root.json")
    services.auth.logout(session)
    services.close()
    return gui_home


def _dialog_texts(dialog: Any) -> list[str]:
    return [w.text for w in dialog.walk() if hasattr(w, "text") and isinstance(w.text, str)]


def _screen(gui: Driver) -> Any:
    """Open Updates the way a person does: Diagnostics, then its Updates… button (the
    screen reads the state anew each time it opens)."""
    assert gui.main.show("diagnostics")
    gui.idle()
    gui.press(gui.page("diagnostics").ids.updates_button)
    assert gui.main.ids.pages.current == "updates"
    gui.idle()
    return gui.page("updates")


def test_an_admin_checks_and_reads_what_is_available(gui: Driver, repo: Any) -> None:
    _tuf, url, _bundle_bytes = repo
    gui.log_in(ADMIN, ADMIN_PW)
    assert gui.main.show("diagnostics")
    gui.wait(lambda: not gui.page("diagnostics").busy, what="the doctor checks")
    for size in ((800, 480), (1280, 800)):
        gui.at_size(size)
        gui.shot(f"diagnostics-{size[0]}x{size[1]}")
    screen = _screen(gui)
    assert screen.ids.versions.text.startswith(f"Running {RUNNING}\n")
    assert f"Update source: {url}" in screen.ids.versions.text
    assert screen.ids.managed.text == ""
    assert screen.ids.download_button.disabled and screen.ids.install_button.disabled
    gui.press(screen.ids.check_button)
    gui.idle()
    assert screen.ids.message.text == f"Version {NEW} is available (running {RUNNING})."
    assert not screen.ids.download_button.disabled
    assert not screen.ids.install_button.disabled


def test_a_tampered_bundle_is_refused_in_words(gui: Driver, repo: Any) -> None:
    tuf_repo, _url, bundle = repo
    name = f"litellm-bridge-{NEW}-linux-x86_64.tar.gz"
    target = tuf_repo.dir / "targets" / name
    target.write_bytes(bundle[:-1] + bytes([bundle[-1] ^ 0xFF]))  # changed after signing
    screen = _screen(gui)
    try:
        gui.press(screen.ids.download_button)
        gui.idle()
    finally:
        target.write_bytes(bundle)
    message = screen.ids.message.text
    assert message.startswith(
        "The update was refused: The downloaded bundle does not match its signed hash or length ("
    )
    assert message.endswith(
        "it was refused and nothing was installed.\n"
        "The bundle on the update source was changed after it was signed: tell IT."
    )
    assert screen.failed and screen.ids.progress_text.text == ""
    assert gui.main.ids.banner.text == message  # the status line says it too
    gui.shot("updates-tampered-refused")


def test_the_download_shows_its_progress_and_says_verified(gui: Driver) -> None:
    screen = _screen(gui)
    seen: list[float] = []
    locked: list[bool] = []
    screen.bind(progress=lambda _w, value: seen.append(value))
    screen.bind(busy=lambda _w, value: locked.append(value and screen.ids.check_button.disabled))
    gui.press(screen.ids.download_button)
    gui.idle()
    assert locked[0]  # nothing else starts while it runs
    assert any(0 < value < 1 for value in seen), seen  # the bar moved, off the UI thread
    assert screen.ids.progress.value == 1.0
    assert screen.ids.progress_text.text == f"Downloaded {NEW}: 100%"
    assert screen.ids.message.text == (
        f"Version {NEW} downloaded and verified: its signature, length and SHA-256 match the "
        "signed update metadata."
    )
    gui.shot("updates-verified")
    for size in ((800, 480), (1280, 800)):
        gui.at_size(size)
        gui.shot(f"updates-{size[0]}x{size[1]}")


def test_installing_while_the_proxy_serves_asks_first(gui: Driver) -> None:
    ctx = gui.app.ctx
    started = threading.Thread(target=ctx.core.start_proxy, daemon=True)
    started.start()
    gui.wait(
        lambda: ctx.supervisor.state.value in ("running", "degraded"),
        timeout=240,
        what="the proxy",
    )
    screen = _screen(gui)
    try:
        gui.press(screen.ids.install_button)
        gui.pump(10)
        dialog = _dialog()
        assert dialog is not None
        texts = _dialog_texts(dialog)
        assert "The proxy is serving requests" in texts
        assert any(t.startswith("Installing now does not stop the proxy") for t in texts)
        gui.window_shot("updates-install-confirm")
        _press_text(gui, dialog, "Cancel")
        gui.pump(10)
        assert ctx.services.updates.state().pending is None  # nothing without agreement
        gui.press(screen.ids.install_button)
        gui.pump(10)
        _press_text(gui, _dialog(), "Install anyway")
        gui.idle()
    finally:
        ctx.core.stop_proxy()
    assert screen.ids.message.text == (
        f"{NEW} installed; it starts at the next start. Nothing changes until then: the "
        "switch happens at the next start of LiteLLM Bridge, after a health check, and rolls "
        "back by itself if that fails."
    )
    assert f"Installed, starts at the next start: {NEW}" in screen.ids.versions.text
    assert ctx.services.updates.state().pending == NEW
    gui.shot("updates-installed")


def test_a_rollback_says_what_happens_to_the_database(gui: Driver, tmp_path: Path) -> None:
    ctx = gui.app.ctx
    # What the next start left after the health check passed: 9.9.0 runs, this one before.
    state = ctx.paths.data_dir / "updates" / "state.json"
    data = json.loads(state.read_text())
    data.update(
        current=NEW,
        current_path=data["pending_path"],
        previous=RUNNING,
        previous_path=None,
        previous_schema=SCHEMA_VERSION,
        pending=None,
        pending_path=None,
    )
    state.write_text(json.dumps(data))
    screen = _screen(gui)
    assert f"Previous version: {RUNNING}" in screen.ids.versions.text
    gui.press(screen.ids.rollback_button)
    gui.pump(10)
    dialog = _dialog()
    assert f"Roll back to {RUNNING}?" in _dialog_texts(dialog)
    _press_text(gui, dialog, "Roll back")
    gui.idle()
    assert screen.ids.message.text == (
        f"Rolled back to {RUNNING} by hand. The database stays as it is: {RUNNING} reads its "
        f"schema (version {SCHEMA_VERSION}). Close and start LiteLLM Bridge again to run it."
    )
    assert ctx.services.updates.state().current == RUNNING
    admin = ctx.session
    events = ctx.services.audit.list_events(admin, action="update.rollback")
    assert events[-1].detail.startswith(f"rolled back to {RUNNING} by hand.")
    gui.shot("updates-rolled-back")


def test_a_pinned_version_is_shown_as_managed_by_the_company(gui: Driver, tmp_path: Path) -> None:
    ctx = gui.app.ctx
    policy = tmp_path / "policy.yaml"
    policy.write_text('updates:\n  pin_version: "9.8.0"\n')
    ctx.services.policy.apply(ctx.session, policy)
    screen = _screen(gui)
    assert screen.ids.managed.text == (
        "Managed by your company: only version 9.8.0 may be installed."
    )
    gui.press(screen.ids.check_button)
    gui.idle()
    assert screen.ids.message.text == (
        f"Version {NEW} is available but not allowed: the managed policy pins version 9.8.0."
    )
    assert screen.ids.download_button.disabled and screen.ids.install_button.disabled
    gui.shot("updates-managed")


def test_an_admin_sets_the_update_source_and_a_wrong_root_is_refused_in_the_dialog(
    gui: Driver, repo: Any, tmp_path: Path
) -> None:
    from kivymd.uix.textfield import MDTextField

    tuf_repo, url, _bundle_bytes = repo
    screen = _screen(gui)
    gui.press(screen.ids.source_button)
    gui.pump(10)
    dialog = _dialog()
    source, root = [w for w in dialog.walk() if isinstance(w, MDTextField)]
    assert source.text == url  # what is configured now
    wrong = tmp_path / "root.json"
    wrong.write_text("{}")
    root.text = str(wrong)
    _press_text(gui, dialog, "OK")
    gui.idle()
    assert _dialog() is dialog  # stays open, with what was typed
    assert dialog.error_label.text == f"{wrong} is not TUF root metadata."
    root.text = str(tuf_repo.dir / "metadata" / "root.json")
    _press_text(gui, dialog, "OK")
    gui.idle()
    # Closed once its hide animation ends (a few frames, shorter on a faster renderer).
    gui.wait(lambda: _dialog() is None, timeout=5, what="the dialog to close")
    assert screen.ids.message.text == f"Updates come from {url}."
