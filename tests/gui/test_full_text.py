"""Full text, always: what a person must read in a list (a long account name, a long
value, a long reason) is on screen in full, wrapped, never cut with "…"; long lists scroll
as RecycleViews. Tests run in file order on one app (see conftest), at 800x480 where the
texts are longest compared with the window."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from bridge_app.runtime import AppPaths, BridgeError
from tests.gui.conftest import Driver

pytestmark = pytest.mark.gui

ADMIN, ADMIN_PW = "ines", "Amber-Lantern-Orchard-47"
# Both at the 64-character limit: together they take more than one line at 800x480.
LONG_NAME = "Maria-Theresia Walburga Amalia von Habsburg-Lothringen (Procure)"
LONG_USERNAME = "maria.theresia.walburga.von.habsburg-lothringen.procurement.cee"
LONG_VALUE = "https://llm-gateway.internal.example.corp/v1/" + "/".join(
    f"segment-{n:02d}" for n in range(30)
)
MANY = 80


@pytest.fixture(scope="module")
def gui_home(gui_home: AppPaths) -> Iterator[AppPaths]:
    from bridge_app.services import build_services

    services = build_services(gui_home)
    services.auth.create_first_admin(ADMIN, ADMIN_PW, display_name="Ines")
    session = services.auth.login(ADMIN, ADMIN_PW)
    services.core.create_user(
        session, LONG_USERNAME, "Sturdy-Pelican-Window-58", role="user", display_name=LONG_NAME
    )
    services.core.disable_user(session, LONG_USERNAME)
    for n in range(MANY):
        services.env.set(session, f"TEAM_ENTRY_{n:03d}", f"value-{n}", scope="personal")
    services.auth.logout(session)
    # A refused login of the disabled account: its audit row must be readable in full.
    with pytest.raises(BridgeError):
        services.auth.login(LONG_USERNAME, "Sturdy-Pelican-Window-58")
    services.close()
    yield gui_home


def _shown_in_full(gui: Driver, widget: Any, text: str) -> Any:
    """The label that shows ``text`` whole: not shortened, wrapped within its width, as
    tall as its lines, and inside the window."""
    from kivy.core.window import Window
    from kivymd.uix.label import MDLabel

    def find() -> Any:
        gui.pump(2)
        label = next((w for w in widget.walk() if isinstance(w, MDLabel) and w.text == text), None)
        # A text change redraws the label on a later frame; a long text takes more than
        # one line once it has.
        wrapped = label is not None and label.texture_size[1] > label.font_size * 1.5
        return label if wrapped else None

    label = gui.wait(find, what=f"a label showing {text[:30]}… on several lines")
    gui.pump(5)
    assert label.shorten is False
    assert label.texture_size[0] <= label.width + 1, "the text is wider than its label"
    assert label.height >= label.texture_size[1] - 1, "lines are cut off at the bottom"
    x, _y = label.to_window(label.x, label.y)
    assert x >= 0 and x + label.width <= Window.width + 1
    assert label.opacity == 1
    return label


def test_a_long_display_name_is_read_in_full_in_users(gui: Driver) -> None:
    gui.at_size((800, 480))
    gui.log_in(ADMIN, ADMIN_PW)
    gui.idle()
    assert gui.main.show("users")
    users = gui.page("users")
    gui.idle()
    label = _shown_in_full(gui, users.ids.users, f"{LONG_NAME} ({LONG_USERNAME})")
    gui.shot("users-long-name-800x480")
    # The row is a button that opens the account's actions.
    row = label.parent
    gui.press(row)
    gui.pump(10)
    from kivy.core.window import Window
    from kivymd.uix.dialog import MDDialog

    dialogs = [w for w in Window.children if isinstance(w, MDDialog)]
    assert dialogs, "tapping the row opens the account's actions"
    dialogs[0].dismiss()
    gui.pump(10)


def test_a_revealed_long_value_wraps_in_environment(gui: Driver) -> None:
    ctx = gui.app.ctx
    ctx.services.env.set(ctx.session, "GATEWAY_URL", LONG_VALUE, scope="personal")
    assert gui.main.show("environment")
    env = gui.page("environment")
    gui.idle()
    gui.wait(lambda: env.summary == f"{MANY + 1} entries", what="the summary")
    entry = next(e for e in ctx.services.env.entries(ctx.session) if e.name == "GATEWAY_URL")
    env.reveal(entry)
    gui.pump(10)
    from kivy.core.window import Window
    from kivymd.uix.dialog import MDDialog
    from kivymd.uix.textfield import MDTextField

    dialog = next(w for w in Window.children if isinstance(w, MDDialog))
    (field,) = [w for w in dialog.walk() if isinstance(w, MDTextField)]
    field.text = ADMIN_PW
    from kivymd.uix.button import MDButton, MDButtonText

    gui.press(
        next(
            w
            for w in dialog.walk()
            if isinstance(w, MDButton)
            and any(isinstance(c, MDButtonText) and c.text == "Reveal" for c in w.children)
        )
    )
    gui.idle()
    _shown_in_full(gui, env.ids.entries, LONG_VALUE)
    gui.shot("environment-long-value-800x480")


def test_a_long_list_is_recycled_and_its_last_row_reachable(gui: Driver) -> None:
    env = gui.page("environment")
    entries = env.ids.entries
    assert entries.layout_manager is not None, "a RecycleView"
    assert len(entries.data) == MANY + 1
    rows = entries.children[0].children
    assert len(rows) < MANY / 2, "only the rows on show are widgets"
    entries.scroll_y = 0
    gui.pump(10)
    from kivymd.uix.label import MDLabel

    last = gui.wait(
        lambda: next(
            (w for w in entries.walk() if isinstance(w, MDLabel) and w.text == "TEAM_ENTRY_079"),
            None,
        ),
        what="the last entry after scrolling to the end",
    )
    assert last.shorten is False
    # The last row lies inside the list's visible area.
    _x, bottom = last.to_window(last.x, last.y)
    _x, list_bottom = entries.to_window(entries.x, entries.y)
    assert bottom >= list_bottom - 1


def test_a_long_list_shows_a_scroll_bar_that_does_not_fade(gui: Driver) -> None:
    """Where the list is scrolled, a person sees a bar on its right edge, and it stays:
    Kivy's fade-out redrew the whole window for ~14 frames after every move."""
    entries = gui.page("environment").ids.entries
    entries.scroll_y = 0.5
    gui.pump(3)
    deadline = time.monotonic() + 1.5  # Kivy's fade starts 0.5 s after a move
    while time.monotonic() < deadline:
        gui.pump(1)
    x, y = entries._handle_y_pos
    width, height = entries._handle_y_size
    assert height > 0, "no scroll bar drawn"
    wx, wy = entries.to_window(x + width / 2, y + height / 2)
    pixel = gui.window_pixels("scroll-bar")
    bar, track = pixel(wx, wy), pixel(wx, wy + height / 2 + 6)  # the track: above the bar
    assert sum(bar[:3]) < sum(track[:3]) - 0.5, f"bar {bar} vs track {track}"


def test_a_long_refused_account_name_is_read_in_full_in_audit(gui: Driver) -> None:
    assert gui.main.show("audit")
    audit = gui.page("audit")
    gui.idle()
    from kivymd.uix.label import MDLabel

    label = gui.wait(
        lambda: next(
            (
                w
                for w in audit.ids.events.walk()
                if isinstance(w, MDLabel) and "denied" in w.text and LONG_USERNAME in w.text
            ),
            None,
        ),
        what="the refused login",
    )
    _shown_in_full(gui, audit.ids.events, label.text)
    # Its reason, in the error colour.
    reason = next(w for w in label.parent.walk() if isinstance(w, MDLabel) and w is not label)
    assert "account disabled" in reason.text
    assert reason.text_color == gui.app.theme_cls.errorColor
    # Rows are recycled across lists: none shows a line left from the Environment list.
    from bridge_app.ui.widgets.rows import TextRow

    rows = [w for w in audit.ids.events.walk() if isinstance(w, TextRow)]
    assert rows and all(row.tertiary == "" for row in rows)
    gui.shot("audit-long-reason-800x480")


def test_settings_start_right_under_their_title_at_800x480(gui: Driver) -> None:
    from kivy.metrics import dp

    assert gui.main.show("settings")
    settings = gui.page("settings")
    gui.idle()
    gui.pump(10)
    title = next(w for w in settings.walk() if getattr(w, "text", None) == "Settings")
    port_row = settings.ids.port.parent
    _x, title_bottom = title.to_window(title.x, title.y)
    _x, row_top = port_row.to_window(port_row.x, port_row.top)
    # Only the layout's spacing around the (empty) "managed" notice: no band.
    assert title_bottom - row_top <= 2 * dp(8) + 1
    assert settings.ids.managed.height == 0
    gui.shot("settings-800x480")


@pytest.mark.parametrize("size", [(800, 480), (1280, 800)])
def test_every_page_fits_the_window(
    gui: Driver, size: tuple[int, int], caplog: pytest.LogCaptureFixture
) -> None:
    """No control under 48 dp, nothing wider than the window and no layout that keeps
    changing its own size, on every page."""
    from kivy.core.window import Window
    from kivy.metrics import dp
    from kivymd.uix.button import MDButton, MDIconButton
    from kivymd.uix.label import MDLabel

    from bridge_app.ui import strings as S

    gui.at_size(size)
    for name in [item[0] for item in S.NAV_ITEMS]:
        caplog.clear()
        assert gui.main.show(name)
        gui.idle()
        gui.pump(10)
        loops = [r for r in caplog.records if "too much iteration" in r.getMessage()]
        assert not loops, f"{name}: a layout loop"
        page = gui.page(name)
        small = [
            w
            for w in page.walk()
            if isinstance(w, (MDButton, MDIconButton))
            and w.opacity > 0
            and not w.disabled
            and min(w.width, w.height) < dp(48) - 1
        ]
        assert not small, f"{name}: controls under 48 dp: {[type(w).__name__ for w in small]}"
        bands = [
            w
            for w in page.walk()
            if isinstance(w, MDLabel) and not w.text and w.size_hint_y is None and w.height > dp(32)
        ]
        assert not bands, f"{name}: an empty label leaves a band {[w.height for w in bands]}"
        x, _y = page.to_window(page.right, page.y)
        assert x <= Window.width + 1
        gui.shot(f"{name}-{size[0]}x{size[1]}")
