from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from kivy.clock import Clock
from kivy.properties import StringProperty

from bridge_app.services import EnvEntry, ImportPreview, ImportResult
from bridge_app.ui import strings as S
from bridge_app.ui._async import on_ui
from bridge_app.ui._base import BridgeScreen, button, check_row, form_dialog, text_field
from bridge_app.ui._clipboard import copy_text

REVEAL_SECONDS = 10


class EnvironmentScreen(BridgeScreen):
    """Encrypted environment entries: masked list, add/edit/delete, enable, reveal after the
    password (10 s), copy (clipboard cleared after 30 s), .env import and export."""

    summary = StringProperty("")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._revealed: dict[str, str] = {}
        self.services.env.subscribe(lambda: on_ui(self._changed_elsewhere))

    def _changed_elsewhere(self) -> None:
        if self._on_show() and self.allowed():
            self.refresh()

    def refresh(self) -> None:
        session = self.ctx.require_session()
        self.work("env-list", lambda: self.services.env.entries(session), self._show)

    def _show(self, entries: list[EnvEntry]) -> None:
        self.summary = f"{len(entries)} entr{'y' if len(entries) == 1 else 'ies'}"
        rows = []
        for entry in entries:
            value = self._revealed.get(f"{entry.scope}:{entry.name}", entry.masked)
            state = "enabled" if entry.enabled else "disabled"
            rows.append(
                {
                    "headline": entry.name,
                    "supporting": value,
                    "tertiary": f"{entry.scope} · {state} {entry.note}".rstrip(),
                    "action": lambda e=entry: self.actions(e),
                }
            )
        self.ids.entries.data = rows

    # -- one entry ------------------------------------------------------------------------

    def actions(self, entry: EnvEntry) -> None:
        dialog: Any = None

        def act(handler: Any) -> Any:
            return lambda: (dialog.dismiss(), handler(entry))

        buttons = [
            button(S.EDIT, act(self.edit)),
            button(S.REVEAL, act(self.reveal)),
            button(S.COPY, act(self.copy)),
            button(S.DISABLE if entry.enabled else S.ENABLE, act(self.toggle)),
            button(S.DELETE, act(self.delete)),
        ]
        dialog = form_dialog(
            entry.name,
            buttons,
            lambda d: d.dismiss(),
            supporting=f"{entry.scope} entry, {entry.masked}",
        )

    def toggle(self, entry: EnvEntry) -> None:
        session = self.ctx.require_session()
        core = self.ctx.core
        self.work(
            "env-toggle",
            lambda: core.set_env_enabled(session, entry.name, not entry.enabled, scope=entry.scope),
            lambda _r: self.refresh(),
        )

    def delete(self, entry: EnvEntry) -> None:
        session = self.ctx.require_session()
        core = self.ctx.core
        self.work(
            "env-delete",
            lambda: core.unset_env(session, entry.name, scope=entry.scope),
            lambda _r: self.refresh(),
        )

    def _with_password(self, title: str, entry: EnvEntry, then: Any) -> None:
        """Ask the password; a wrong one is said inside the dialog, which stays open."""
        field = text_field(S.PASSWORD, password=True)

        def ok(dialog: Any) -> None:
            password = field.text
            self.submit(dialog, f"env-{title.lower()}", lambda: self._value(entry, password), then)

        form_dialog(
            f"{title} {entry.name}", [field], ok, ok_text=title, supporting=S.CONFIRM_PASSWORD
        )

    def _value(self, entry: EnvEntry, password: str) -> str:
        session = self.ctx.require_session()
        return str(
            self.services.env.reveal(session, entry.name, scope=entry.scope, password=password)
        )

    def reveal(self, entry: EnvEntry) -> None:
        key = f"{entry.scope}:{entry.name}"

        def shown(value: str) -> None:
            self._revealed[key] = value
            self.tell(f"{entry.name} is shown for {REVEAL_SECONDS} s.", "info")
            self.refresh()
            Clock.schedule_once(lambda _dt: self._hide(key), REVEAL_SECONDS)

        self._with_password(S.REVEAL, entry, shown)

    def _hide(self, key: str) -> None:
        # Off screen the list is rebuilt when it shows again (on_pre_enter).
        if self._revealed.pop(key, None) is not None and self._on_show() and self.allowed():
            self.refresh()

    def _on_show(self) -> bool:
        return self.manager is not None and self.manager.current == self.name

    def copy(self, entry: EnvEntry) -> None:
        def copied(value: str) -> None:
            copy_text(value, secret=True)
            self.tell(f"{entry.name}: {S.COPIED}")

        self._with_password(S.COPY, entry, copied)

    def edit(self, entry: EnvEntry | None = None) -> None:
        session = self.ctx.require_session()
        name = text_field(S.NAME, text=entry.name if entry else "")
        value = text_field(S.VALUE, password=True)
        shared_row, shared = check_row(S.SHARED)
        shared.active = entry is not None and entry.scope == "shared"
        fields: list[Any] = [name, value]
        if session.is_admin:
            fields.append(shared_row)

        def ok(dialog: Any) -> None:
            scope: Literal["personal", "shared"] = "shared" if shared.active else "personal"
            n, v = name.text.strip(), value.text

            def done(_r: object) -> None:
                self.tell(f"{n} saved ({scope}).")
                self.refresh()

            self.submit(
                dialog, "env-set", lambda: self.ctx.core.set_env(session, n, v, scope=scope), done
            )

        form_dialog(S.EDIT if entry else S.ADD, fields, ok, ok_text=S.SAVE)

    # -- files ----------------------------------------------------------------------------

    def import_file(self) -> None:
        session = self.ctx.require_session()
        path = text_field("Path of the .env file", text=str(Path.home() / ".env"))

        def previewed(preview: ImportPreview) -> None:
            counts = ", ".join(
                f"{preview.count(s)} {s}" for s in ("new", "changed", "unchanged", "invalid")
            )
            names = ", ".join(f"{ln.name} ({ln.status})" for ln in preview.lines if ln.name)

            def apply(dialog: Any) -> None:
                self.submit(
                    dialog,
                    "env-import",
                    lambda: self.ctx.core.import_env(session, preview),
                    self._imported,
                )

            form_dialog(S.IMPORT, [], apply, ok_text=S.IMPORT, supporting=f"{counts}\n{names}")

        def ok(dialog: Any) -> None:
            file = Path(path.text.strip()).expanduser()
            self.submit(
                dialog,
                "env-preview",
                lambda: self.services.env.preview_import_file(session, file),
                previewed,
            )

        form_dialog(S.IMPORT, [path], ok, ok_text="Preview")

    def _imported(self, result: ImportResult) -> None:
        self.tell(f"Imported: {result.added} new, {result.changed} changed.")
        self.refresh()

    def export_file(self) -> None:
        session = self.ctx.require_session()
        path = text_field("Export to", text=str(Path.home() / "bridge-export.env"))

        def ok(dialog: Any) -> None:
            file = Path(path.text.strip()).expanduser()
            self.submit(
                dialog,
                "env-export",
                lambda: self.services.env.export(session, file, values=True),
                lambda n: self.tell(f"Exported {n} names to {file}."),
            )

        form_dialog(S.EXPORT, [path], ok, ok_text=S.EXPORT, supporting=S.EXPORT_WARNING)
