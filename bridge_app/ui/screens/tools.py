from __future__ import annotations

from typing import Any

from kivy.utils import escape_markup
from kivymd.uix.label import MDLabel
from kivymd.uix.list import (
    MDListItem,
    MDListItemHeadlineText,
    MDListItemSupportingText,
    MDListItemTertiaryText,
)

from bridge_app.clients import ChangeResult, ToolCard, ToolSettings
from bridge_app.ui._base import BridgeScreen, button, confirm, form_dialog
from bridge_app.ui.screens.config import _scroll


def _state(card: ToolCard) -> str:
    found = f"installed {card.version or ''}".strip() if card.installed else "not found"
    if card.pointed_at_proxy:
        return f"{found} · uses this proxy"
    if card.applied:
        return f"{found} · settings applied"
    return found


class ToolsScreen(BridgeScreen):
    """The CLI tools the app can point at its proxy: show settings, apply, revert."""

    def refresh(self) -> None:
        tools = self.services.tools

        def job() -> list[ToolCard]:
            # One tool after another in this one thread: cards() probes them from a thread
            # pool that reads the database concurrently, and under the window's other
            # background reads that crashed the SQLCipher driver in the GUI tests.
            return [tools.card(spec.id) for spec in tools.tools()]

        self.work("tools", job, self._show)

    def _show(self, cards: list[ToolCard]) -> None:
        box = self.ids.tools
        box.clear_widgets()
        for card in cards:
            item = MDListItem(
                MDListItemHeadlineText(text=escape_markup(card.name)),
                MDListItemSupportingText(text=escape_markup(_state(card))),
                MDListItemTertiaryText(
                    text=escape_markup(f"model {card.model or '–'}  {card.notes}")
                ),
            )
            item.bind(on_release=lambda _i, c=card: self.actions(c))
            box.add_widget(item)

    def actions(self, card: ToolCard) -> None:
        dialog: Any = None

        def act(handler: Any) -> Any:
            return lambda: (dialog.dismiss(), handler(card))

        buttons = [button("Show settings", act(self.show_settings))]
        if card.can_apply:
            buttons += [button("Apply", act(self.apply)), button("Revert", act(self.revert))]
        supporting = card.install_hint if not card.installed else _state(card)
        dialog = form_dialog(card.name, buttons, lambda d: d.dismiss(), supporting=supporting)

    def show_settings(self, card: ToolCard) -> None:
        def shown(settings: ToolSettings) -> None:
            text = settings.shells.get("bash") or "\n".join(
                f"{k}={v}" for k, v in settings.env.items()
            )
            label = MDLabel(text=escape_markup(text), adaptive_height=True)
            label.font_name = "RobotoMono-Regular"
            form_dialog(f"{card.name}: settings", [_scroll([label])], lambda d: d.dismiss())

        self.work("tool-show", lambda: self.services.tools.show(card.id), shown)

    def apply(self, card: ToolCard) -> None:
        tools = self.services.tools
        actor = self.ctx.session

        def previewed(preview: ChangeResult) -> None:
            lines = [f"{c.action} {c.path}" for c in preview.changes]
            if preview.conflicts:
                lines.append("Changed since the app wrote it: applying replaces those edits.")

            def go() -> None:
                force = bool(preview.conflicts)
                self.work(
                    "tool-apply",
                    lambda: tools.apply(card.id, force=force, actor=actor),
                    lambda _r: self._done(f"{card.name} now uses the proxy."),
                )

            confirm(f"Apply to {card.name}?", "\n".join(lines) or "Nothing to change.", go)

        self.work("tool-preview", lambda: tools.preview(card.id), previewed)

    def _done(self, message: str) -> None:
        self.tell(message)
        self.refresh()

    def revert(self, card: ToolCard) -> None:
        actor = self.ctx.session
        self.work(
            "tool-revert",
            lambda: self.services.tools.revert(card.id, actor=actor),
            lambda _r: self._done(f"{card.name}: previous settings restored."),
        )
