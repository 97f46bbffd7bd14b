from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from bridge_app.services import (
    SHELL_TITLES,
    ChangeResult,
    ToolCard,
    ToolSettings,
    ToolVerifyResult,
)
from bridge_app.ui._base import BridgeScreen, button, confirm, form_dialog, wrapped_label
from bridge_app.ui.screens.config import _scroll
from bridge_app.ui.widgets import CopyBlock, InfoChip, ToolCardView


def _chips(card: ToolCard, verified: bool | None) -> list[tuple[str, bool]]:
    installed = f"Installed {card.version or ''}".strip() if card.installed else "Not installed"
    pointed = "Pointed at the proxy" if card.pointed_at_proxy else "Not pointed at the proxy"
    checked = {None: "Not verified yet", True: "Verified", False: "Verify failed"}[verified]
    key = "Own proxy key" if card.has_own_key else "No key of its own"
    return [
        (installed, card.installed),
        (pointed, card.pointed_at_proxy),
        (checked, bool(verified)),
        (key, card.has_own_key),
    ]


def settings_blocks(
    settings: ToolSettings, shells: Sequence[str] = ("bash",)
) -> list[tuple[str, str]]:
    """Everything the CLI's ``tools show`` prints, as (title, text) blocks to copy: the
    environment in the forms this platform's people type (PowerShell and cmd on Windows),
    then the part of each config file the app writes."""
    blocks = [("Proxy URL", settings.proxy_url)]
    if settings.env:
        for name in shells:
            script = settings.shells.get(name)
            if script:
                title = SHELL_TITLES.get(name, name)
                blocks.append((f"Environment ({title})", f"# {title}\n{script}"))
    for path, part in settings.files.items():
        blocks.append((f"In {path}", part))
    return blocks


def _bound(action: Callable[[ToolCard], None], card: ToolCard) -> Callable[[], None]:
    return lambda: action(card)


class ToolsScreen(BridgeScreen):
    """The CLI tools the app can point at its proxy, one card each: status chips,
    settings to copy, Apply (showing the diff first), Verify, Revert."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._verified: dict[str, bool] = {}
        self._cards: list[ToolCard] = []

    def refresh(self) -> None:
        tools = self.services.tools

        def job() -> list[ToolCard]:
            # One tool after another in this one thread: cards() probes them from a thread
            # pool that reads the database concurrently, and under the window's other
            # background reads that crashed the SQLCipher driver in the GUI tests.
            return [tools.card(spec.id) for spec in tools.tools()]

        self.work("tools", job, self._show)

    def _show(self, cards: list[ToolCard]) -> None:
        self._cards = cards
        box = self.ids.tools
        box.clear_widgets()
        for card in cards:
            view = ToolCardView(
                title=card.name,
                details=(
                    f"Model {card.model or '–'}"
                    + (f" · {card.configured_url}" if card.configured_url else "")
                    + (f"\n{card.notes}" if card.notes else "")
                    + ("" if card.installed else f"\n{card.install_hint}")
                ),
            )
            view.tool_id = card.id
            for text, good in _chips(card, self._verified.get(card.id)):
                view.ids.chips.add_widget(InfoChip(text=text, good=good))
            actions = [button("Settings", _bound(self.show_settings, card), style="tonal")]
            if card.can_apply:
                actions.append(button("Apply", _bound(self.apply, card), style="filled"))
            actions.append(button("Verify", _bound(self.verify, card), style="outlined"))
            if card.can_apply and card.applied:
                actions.append(button("Revert", _bound(self.revert, card)))
            actions.append(button("Key", _bound(self.manage_key, card)))
            for action in actions:
                view.ids.actions.add_widget(action)
            box.add_widget(view)

    def card_view(self, tool_id: str) -> ToolCardView:
        views = [v for v in self.ids.tools.children if isinstance(v, ToolCardView)]
        return next(v for v in views if getattr(v, "tool_id", "") == tool_id)

    def show_settings(self, card: ToolCard) -> None:
        def shown(settings: ToolSettings) -> None:
            shells = self.services.tools.shells()  # PowerShell and cmd on Windows
            blocks = [
                # Everything but the proxy's address holds the tool's key.
                CopyBlock(title=t, text=x, secret=x != settings.proxy_url)
                for t, x in settings_blocks(settings, shells)
            ]
            form_dialog(f"{card.name}: settings", [_scroll(blocks)], lambda d: d.dismiss())

        self.work("tool-show", lambda: self.services.tools.show(card.id), shown)

    def apply(self, card: ToolCard) -> None:
        tools = self.services.tools
        actor = self.ctx.session

        def previewed(preview: ChangeResult) -> None:
            parts: list[Any] = []
            for change in preview.changes:
                parts.append(wrapped_label(f"{change.action} {change.path}"))
                if change.conflict:
                    parts.append(wrapped_label(change.conflict, error=True))
                if change.diff:
                    parts.append(wrapped_label(change.diff, mono=True))
            if not parts:
                parts.append(wrapped_label("Nothing to change: the settings are in place."))

            def go(dialog: Any) -> None:
                force = bool(preview.conflicts)
                self.submit(
                    dialog,
                    "tool-apply",
                    lambda: self.ctx.core.apply_tool(card.id, force=force, actor=actor),
                    lambda _r: self._done(f"{card.name} now uses the proxy."),
                )

            form_dialog(f"Apply to {card.name}?", [_scroll(parts)], go, ok_text="Apply")

        self.work("tool-preview", lambda: tools.preview(card.id), previewed)

    def manage_key(self, card: ToolCard) -> None:
        """The tool's own proxy key: replace it (shown once, written into the tool's
        config when the app manages that) or revoke it."""
        actor = self.ctx.session
        core = self.ctx.core
        if card.has_own_key:
            about = (
                f"{card.name} has its own proxy key: usage and the audit log name the tool, "
                "and revoking it stops this tool only. A new key replaces it at once."
            )
        else:
            about = f"{card.name} has no key of its own yet. Apply, Settings or New key make one."
        fields: list[Any] = []
        if card.has_own_key:
            fields.append(button("Revoke key", lambda: self._revoke_key(card, dialog)))

        def renew() -> tuple[str, bool]:
            key = core.create_tool_key(card.id, actor=actor)
            rewritten = False
            if card.can_apply and card.applied:
                rewritten = bool(core.apply_tool(card.id, actor=actor).done)
            return key, rewritten

        def renewed(result: tuple[str, bool]) -> None:
            key, rewritten = result
            where = (
                "its config now has it"
                if rewritten
                else "copy it into the tool, or press Apply"
                if card.can_apply
                else "copy it into your program's settings"
            )
            self._done(f"{card.name} has a new proxy key: {where}. The old one no longer works.")
            block = CopyBlock(title="The new key (shown once)", text=key)
            form_dialog(f"{card.name}: new proxy key", [block], lambda d: d.dismiss())

        dialog = form_dialog(
            f"{card.name}: proxy key",
            fields,
            lambda d: self.submit(d, "tool-key", renew, renewed),
            ok_text="New key",
            supporting=about,
        )

    def _revoke_key(self, card: ToolCard, dialog: Any) -> None:
        actor = self.ctx.session
        dialog.dismiss()

        def revoked(had_key: bool) -> None:
            if had_key:
                self._done(
                    f"{card.name}'s key is revoked: the tool gets a 401 until it has a new one."
                )
            else:  # revoked meanwhile by another window or `tools key revoke`
                self.tell(f"{card.name} has no key of its own any more: nothing to revoke.", "info")
                self.refresh()

        def revoke() -> None:
            self.work(
                "tool-key-revoke",
                lambda: self.ctx.core.revoke_tool_key(card.id, actor=actor),
                revoked,
            )

        confirm(f"Revoke {card.name}'s key?", "The tool stops working until Apply.", revoke)

    def verify(self, card: ToolCard) -> None:
        def done(result: ToolVerifyResult) -> None:
            self._verified[card.id] = result.ok
            self.tell(f"{card.name}: {result.reason}", "success" if result.ok else "error")
            self._show(self._cards)

        self.work("tool-verify", lambda: self.services.tools.verify(card.id), done)

    def _done(self, message: str) -> None:
        self.tell(message)
        self.refresh()

    def revert(self, card: ToolCard) -> None:
        actor = self.ctx.session
        self.work(
            "tool-revert",
            lambda: self.ctx.core.revert_tool(card.id, actor=actor),
            lambda _r: self._done(f"{card.name}: previous settings restored."),
        )
