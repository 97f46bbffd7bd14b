from __future__ import annotations

from functools import partial
from typing import Any

from kivy.metrics import dp
from kivy.properties import StringProperty
from kivy.uix.behaviors import ButtonBehavior
from kivymd.uix.boxlayout import MDBoxLayout
from kivymd.uix.label import MDLabel
from kivymd.uix.scrollview import MDScrollView

from bridge_app.runtime import BridgeError
from bridge_app.services import (
    ApplyResult,
    ConfigApplyError,
    ConfigVersion,
    PermissionDeniedError,
    PolicyRefusedError,
    Problem,
    Template,
    ValidationResult,
)
from bridge_app.ui import strings as S
from bridge_app.ui._base import BridgeScreen, button, form_dialog, text_field, wrapped_label
from bridge_app.ui.widgets import CodeEditor, LineNumbers  # noqa: F401  (used in the KV)


def problem_text(problem: Problem) -> str:
    where = f"Line {problem.line}" if problem.line else "File"
    if problem.line and problem.column:
        where += f", column {problem.column}"
    return f"{where}: {problem.message}"


class ProblemRow(ButtonBehavior, MDBoxLayout):
    """One problem in full (wrapped, never cut); tapping it puts the cursor on its line."""

    problem_line = 0


def _problem_row(text: str, detail: str, *, error: bool) -> ProblemRow:
    row = ProblemRow(orientation="vertical", adaptive_height=True, padding=(dp(8), dp(6)))
    row.add_widget(wrapped_label(text, error=error))
    if detail:
        row.add_widget(wrapped_label(detail))
    return row


def _model_fields(text: str) -> dict[str, str]:
    """``key=value`` lines of the form's extra fields (what each request carries)."""
    fields: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise BridgeError(f"Extra field line {number} is not key=value: {line.strip()!r}.")
        fields[key.strip()] = value.strip()
    return fields


class ConfigScreen(BridgeScreen):
    """The LiteLLM config: a form for the models (add, edit, remove) and the YAML itself
    with line numbers; validate with line numbers, templates, history, apply."""

    summary = StringProperty("")
    mode = StringProperty("form")

    def on_mode(self, _screen: Any, mode: str) -> None:
        modes = self.ids.get("modes")
        if modes is not None:
            modes.transition.direction = "left" if mode == "yaml" else "right"
            modes.current = mode

    def refresh(self) -> None:
        if self.ids.editor.text:
            return  # keep unsaved edits when coming back to the screen
        self.work("config-read", self.services.config.read_active, self._loaded)

    def _loaded(self, text: str | None) -> None:
        self.ids.editor.text = text or ""
        self.summary = f"Active config: {self.services.config.active_path}"
        if self.mode == "form":
            self.show_form()

    # -- the form ------------------------------------------------------------------------

    def show_form(self) -> None:
        """The models of the text in the editor, each with Edit and Remove."""
        try:
            models = self.services.config.open_document(self.ids.editor.text).models()
        except BridgeError as exc:
            self.mode = "yaml"
            self.tell("The form cannot read this YAML: " + exc.message, "error")
            self.validate(announce=False)
            return
        self.mode = "form"
        box = self.ids.models
        box.clear_widgets()
        if not models:
            box.add_widget(wrapped_label("No models yet: tap Add model."))
        for model in models:
            lines = [f"{model.name}  ->  {model.model}"]
            if model.api_base:
                lines.append(f"API base {model.api_base}")
            if model.api_key_env:
                lines.append(f"Key from the environment entry {model.api_key_env}")
            if model.extra_body:
                lines.append(
                    "Carries " + ", ".join(f"{k}={v}" for k, v in model.extra_body.items())
                )
            row = MDBoxLayout(orientation="vertical", adaptive_height=True, spacing=dp(4))
            row.add_widget(wrapped_label("\n".join(lines)))
            actions = MDBoxLayout(size_hint_y=None, height=dp(48), spacing=dp(8))
            actions.add_widget(button("Edit", partial(self.edit_model, model.name)))
            actions.add_widget(button("Remove", partial(self.remove_model, model.name)))
            actions.add_widget(MDBoxLayout())
            row.add_widget(actions)
            row.model_name = model.name
            box.add_widget(row)

    def _changed_by_form(self, document: Any, message: str) -> None:
        self.ids.editor.text = document.to_text()
        self.show_form()
        self.tell(message + " Tap Apply to use it.")

    def edit_model(self, name: str | None) -> None:
        config = self.services.config
        document = config.open_document(self.ids.editor.text)
        current = next((m for m in document.models() if m.name == name), None)
        fields = {
            "name": text_field("Name the tools ask for", text=current.name if current else ""),
            "model": text_field(
                "Provider/model id (e.g. openai/gpt-4o)", text=current.model if current else ""
            ),
            "api_base": text_field(
                "API base URL (optional)", text=(current.api_base or "") if current else ""
            ),
            "key": text_field(
                "Key: name of an environment entry (optional)",
                text=(current.api_key_env or "") if current else "",
            ),
            "extra": text_field(
                "Extra fields each request carries, key=value per line (optional)",
                text="\n".join(f"{k}={v}" for k, v in (current.extra_body or {}).items())
                if current
                else "",
            ),
        }
        fields["extra"].multiline = True
        fields["extra"].height = dp(96)

        def ok(dialog: Any) -> None:
            values = {k: f.text.strip() for k, f in fields.items()}
            try:
                if not values["name"] or not values["model"]:
                    raise BridgeError("A model needs a name and a provider/model id.")
                extra = _model_fields(fields["extra"].text)
                doc = config.open_document(self.ids.editor.text)
                if current is None:
                    doc.add_model(
                        values["name"],
                        values["model"],
                        api_base=values["api_base"] or None,
                        api_key_env=values["key"] or None,
                        extra_body=extra or None,
                    )
                else:
                    doc.update_model(
                        current.name,
                        new_name=values["name"],
                        model=values["model"],
                        api_base=values["api_base"] or None,
                        extra_body=extra or None,
                    )
                    if values["key"]:
                        doc.set_api_key_env(values["name"], values["key"])
                    else:
                        doc.update_model(values["name"], api_key=None)
            except BridgeError as exc:
                from bridge_app.ui._base import dialog_error

                dialog_error(dialog, exc.message)
                return
            dialog.dismiss()
            verb = "added" if current is None else "changed"
            self._changed_by_form(doc, f"Model {values['name']} {verb}.")

        form_dialog(
            "Add model" if current is None else f"Edit {current.name}",
            list(fields.values()),
            ok,
            ok_text=S.SAVE,
        )

    def remove_model(self, name: str) -> None:
        document = self.services.config.open_document(self.ids.editor.text)
        document.remove_model(name)
        self._changed_by_form(document, f"Model {name} removed.")

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
        if result.problems:
            self.mode = "yaml"  # the problems and their lines are on the YAML side
        if not result.problems:
            box.add_widget(_problem_row(S.VALID, "", error=False))
        for problem in result.problems:
            item = _problem_row(
                problem_text(problem),
                f"{problem.severity}: {problem.hint or ''}",
                error=problem.severity == "error",
            )
            item.problem_line = problem.line
            item.bind(on_release=lambda _i, p=problem: self.go_to_line(p.line, p.column))
            box.add_widget(item)
        self.summary = (
            "No problems found."
            if not result.problems
            else f"{len(result.errors)} error(s), {len(result.warnings)} warning(s)"
        )

    def go_to_line(self, line: int, column: int = 0) -> None:
        if line > 0:
            self.mode = "yaml"
            self.ids.editor.go_to(line, column)

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
            if rolled_back or refused:
                # Valid but refused: the proxy rolled it back, or the person may not apply.
                self.summary = "Not applied: rolled back." if rolled_back else message
                self.tell(message, "error")
                return
            self.tell(message, "error")
            # An invalid config is refused before anything is touched: list why.
            self.validate(announce=False)

        refused: list[bool] = []

        def job() -> ApplyResult:
            try:
                return self.ctx.core.apply_config(session, text)
            except (PolicyRefusedError, PermissionDeniedError):
                refused.append(True)
                raise
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
            item = _problem_row(template.title, template.description, error=False)
            item.bind(on_release=lambda _i, t=template: self._use_template(t, dialog))
            items.append(item)
        dialog = form_dialog(S.TEMPLATES, [_scroll(items)], lambda d: d.dismiss())

    def _use_template(self, template: Template, dialog: Any) -> None:
        dialog.dismiss()
        self.ids.editor.text = template.read_text()
        if self.mode == "form":
            self.show_form()
        self.summary = f"From template {template.name}: validate and apply to use it."

    def history(self) -> None:
        self.work("history", lambda: self.services.config.list_versions(30), self._pick_version)

    def _pick_version(self, versions: list[ConfigVersion]) -> None:
        items: list[Any] = []
        dialog: Any = None
        for i, version in enumerate(versions):
            previous = versions[i + 1] if i + 1 < len(versions) else None
            state = "applied" if version.applied else "rolled back"
            # The comment holds the rollback reason: shown in full.
            item = _problem_row(
                f"Version {version.id} · {state}",
                f"{version.created_at[:19]} by {version.author} {version.comment}",
                error=not version.applied,
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
