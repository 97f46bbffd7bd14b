from __future__ import annotations

from typing import Any

from kivy.metrics import dp
from kivy.properties import StringProperty
from kivy.utils import escape_markup
from kivymd.uix.label import MDLabel
from kivymd.uix.list import MDListItem, MDListItemHeadlineText, MDListItemSupportingText
from kivymd.uix.scrollview import MDScrollView

from bridge_app.config import (
    ApplyResult,
    ConfigApplyError,
    ConfigVersion,
    Problem,
    Template,
    ValidationResult,
)
from bridge_app.ui import strings as S
from bridge_app.ui._base import BridgeScreen, form_dialog


def problem_text(problem: Problem) -> str:
    where = f"Line {problem.line}" if problem.line else "File"
    if problem.line and problem.column:
        where += f", column {problem.column}"
    return f"{where}: {problem.message}"


class ConfigScreen(BridgeScreen):
    """The LiteLLM YAML: edit, validate with line numbers, templates, history, apply."""

    summary = StringProperty("")

    def refresh(self) -> None:
        if self.ids.editor.text:
            return  # keep unsaved edits when coming back to the screen
        self.work("config-read", self.services.config.read_active, self._loaded)

    def _loaded(self, text: str | None) -> None:
        self.ids.editor.text = text or ""
        self.summary = f"Active config: {self.services.config.active_path}"

    # -- validate -----------------------------------------------------------------------

    def validate(self, *, announce: bool = True) -> None:
        text = self.ids.editor.text

        def shown(result: ValidationResult) -> None:
            self.show_problems(result)
            if announce:
                self.tell(self.summary, "error" if result.errors else "success")

        self.work("config-validate", lambda: self.services.config.validate(text), shown)

    def show_problems(self, result: ValidationResult) -> None:
        box = self.ids.problems
        box.clear_widgets()
        if not result.problems:
            box.add_widget(MDListItem(MDListItemHeadlineText(text=escape_markup(S.VALID))))
        for problem in result.problems:
            parts: list[Any] = [
                MDListItemHeadlineText(text=escape_markup(problem_text(problem))),
                MDListItemSupportingText(
                    text=escape_markup(f"{problem.severity}: {problem.hint or ''}")
                ),
            ]
            item = MDListItem(*parts)
            item.problem_line = problem.line
            item.bind(on_release=lambda _i, p=problem: self.go_to_line(p.line, p.column))
            box.add_widget(item)
        self.summary = (
            "No problems found."
            if not result.problems
            else f"{len(result.errors)} error(s), {len(result.warnings)} warning(s)"
        )

    def go_to_line(self, line: int, column: int = 0) -> None:
        editor = self.ids.editor
        if line <= 0:
            return
        editor.focus = True
        # Setting the cursor also scrolls the editor so that the line is visible.
        editor.cursor = (max(0, column - 1), line - 1)

    # -- apply --------------------------------------------------------------------------

    def apply(self) -> None:
        session = self.ctx.require_session()
        text = self.ids.editor.text

        rolled_back: list[bool] = []

        def done(result: ApplyResult) -> None:
            self.show_problems(result.validation)
            self.summary = result.message
            self.tell(result.message)

        def failed(message: str) -> None:
            if rolled_back:
                # The config was valid: the proxy refused it and the old one came back.
                self.summary = "Not applied: rolled back."
                self.tell(message, "error")
                return
            self.tell(message, "error")
            # An invalid config is refused before anything is touched: list why.
            self.validate(announce=False)

        def job() -> ApplyResult:
            try:
                return self.services.config.apply(text, author=session.username)
            except ConfigApplyError as exc:
                rolled_back.append(True)
                restored = (
                    "the previous config was restored and runs again"
                    if exc.restored
                    else "the previous config could not be restored"
                )
                raise type(exc)(
                    f"Not applied: the proxy refused this config ({exc.reason}); {restored}.",
                    reason=exc.reason,
                    restored=exc.restored,
                    hint=exc.hint,
                ) from exc

        self.summary = S.APPLYING
        self.work("config-apply", job, done, failed=failed)

    # -- templates & history -----------------------------------------------------------

    def templates(self) -> None:
        self.work("templates", self.services.config.list_templates, self._pick_template)

    def _pick_template(self, templates: list[Template]) -> None:
        items: list[Any] = []
        dialog: Any = None
        for template in templates:
            item = MDListItem(
                MDListItemHeadlineText(text=escape_markup(template.title)),
                MDListItemSupportingText(text=escape_markup(template.description)),
            )
            item.bind(on_release=lambda _i, t=template: self._use_template(t, dialog))
            items.append(item)
        dialog = form_dialog(S.TEMPLATES, [_scroll(items)], lambda d: d.dismiss())

    def _use_template(self, template: Template, dialog: Any) -> None:
        dialog.dismiss()
        self.ids.editor.text = template.read_text()
        self.summary = f"From template {template.name}: validate and apply to use it."

    def history(self) -> None:
        self.work("history", lambda: self.services.config.list_versions(30), self._pick_version)

    def _pick_version(self, versions: list[ConfigVersion]) -> None:
        items: list[Any] = []
        dialog: Any = None
        for i, version in enumerate(versions):
            previous = versions[i + 1] if i + 1 < len(versions) else None
            state = "applied" if version.applied else "rolled back"
            item = MDListItem(
                MDListItemHeadlineText(text=escape_markup(f"Version {version.id} · {state}")),
                MDListItemSupportingText(
                    text=escape_markup(
                        f"{version.created_at[:19]} by {version.author} {version.comment}"
                    )
                ),
            )
            item.bind(on_release=lambda _i, v=version, p=previous: self._diff(v, p, dialog))
            items.append(item)
        if not items:
            items.append(MDLabel(text="No versions yet.", adaptive_height=True))
        dialog = form_dialog(S.HISTORY, [_scroll(items)], lambda d: d.dismiss())

    def _diff(self, version: ConfigVersion, previous: ConfigVersion | None, picker: Any) -> None:
        picker.dismiss()

        def job() -> str:
            if previous is None:
                return version.content
            return self.services.config.diff(previous.id, version.id) or "(no change)"

        def show(diff: str) -> None:
            label = MDLabel(text=diff, adaptive_height=True, font_name="RobotoMono-Regular")
            label.font_size = "12sp"

            def restore(dialog: Any) -> None:
                dialog.dismiss()
                self.ids.editor.text = version.content
                self.summary = f"Version {version.id} loaded: apply it to restore it."

            form_dialog(f"Version {version.id}", [_scroll([label])], restore, ok_text="Load")

        self.work("diff", job, show)


def _scroll(widgets: list[Any]) -> MDScrollView:
    from kivymd.uix.list import MDList

    box = MDList()
    for widget in widgets:
        box.add_widget(widget)
    view = MDScrollView(do_scroll_x=False, size_hint_y=None, height=dp(280))
    view.add_widget(box)
    return view
