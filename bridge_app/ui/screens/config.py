from __future__ import annotations

from typing import Any

from kivy.metrics import dp
from kivy.properties import StringProperty
from kivy.utils import escape_markup
from kivymd.uix.label import MDLabel
from kivymd.uix.list import MDListItem, MDListItemHeadlineText, MDListItemSupportingText
from kivymd.uix.scrollview import MDScrollView

from bridge_app.services import (
    ApplyResult,
    ConfigApplyError,
    ConfigVersion,
    PolicyRefusedError,
    Problem,
    Template,
    ValidationResult,
)
from bridge_app.ui import strings as S
from bridge_app.ui._base import BridgeScreen, form_dialog, snackbar


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

    def validate(self) -> None:
        text = self.ids.editor.text
        self.work(
            "config-validate", lambda: self.services.config.validate(text), self.show_problems
        )

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

        def done(result: ApplyResult) -> None:
            self.summary = result.message
            self.show_problems(result.validation)
            snackbar(result.message)

        def failed(message: str) -> None:
            snackbar(message.splitlines()[0])
            self.summary = message  # on screen too: a snackbar may not draw (software GL)
            if not refused_by_policy:
                # An invalid config is refused before anything is touched: list why.
                self.validate()

        refused_by_policy = False

        def job() -> ApplyResult:
            nonlocal refused_by_policy
            try:
                return self.ctx.core.apply_config(session, text)
            except PolicyRefusedError:
                refused_by_policy = True
                raise
            except ConfigApplyError as exc:
                restored = "the previous config runs again" if exc.restored else "not restored"
                raise type(exc)(
                    f"The proxy refused it ({exc.reason}); {restored}.",
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
                session = self.ctx.require_session()

                def restored(result: ApplyResult) -> None:
                    self.ids.editor.text = version.content
                    self.summary = result.message

                self.summary = S.APPLYING
                self.work(
                    "config-restore",
                    lambda: self.ctx.core.restore_config(session, version.id),
                    restored,
                )

            form_dialog(f"Version {version.id}", [_scroll([label])], restore, ok_text="Restore")

        self.work("diff", job, show)


def _scroll(widgets: list[Any]) -> MDScrollView:
    from kivymd.uix.list import MDList

    box = MDList()
    for widget in widgets:
        box.add_widget(widget)
    view = MDScrollView(do_scroll_x=False, size_hint_y=None, height=dp(280))
    view.add_widget(box)
    return view
