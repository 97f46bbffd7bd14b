"""What validation reports: each problem with where it is, how bad it is and, where the
app can fix it for the user, a structured fix."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Severity = Literal["error", "warning"]
KeyPath = tuple[str | int, ...]


@dataclass(frozen=True)
class Fix:
    """A change the app can make on the user's behalf.

    ``kind == "move_to_env"``: store the literal value found at ``path`` in the environment
    store under ``env_name`` and replace it in the config with ``os.environ/<env_name>``
    (see ``ConfigDocument.move_secret_to_env``). ``kind == "rename_key"``: rename the key at
    ``path`` to ``replacement``.
    """

    kind: Literal["move_to_env", "rename_key"]
    path: KeyPath
    env_name: str | None = None
    replacement: str | None = None


@dataclass(frozen=True)
class Problem:
    """One finding. ``line`` and ``column`` are 1-based (0 when the position is unknown);
    ``path`` is the key path inside the document (empty for file-level problems)."""

    severity: Severity
    code: str
    message: str
    line: int = 0
    column: int = 0
    path: KeyPath = ()
    hint: str | None = None
    fix: Fix | None = None

    def location(self) -> str:
        if self.line <= 0:
            return ""
        return f"line {self.line}, column {self.column}" if self.column else f"line {self.line}"

    def __str__(self) -> str:
        where = self.location()
        prefix = f"{where}: " if where else ""
        text = f"{prefix}{self.severity}: {self.message}"
        return f"{text} ({self.hint})" if self.hint else text


@dataclass(frozen=True)
class ValidationResult:
    problems: tuple[Problem, ...] = field(default_factory=tuple)

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "error")

    @property
    def warnings(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "warning")

    @property
    def ok(self) -> bool:
        """True when nothing blocks saving or applying (warnings do not)."""
        return not self.errors

    def summary(self) -> str:
        if not self.problems:
            return "The config is valid."
        return f"{len(self.errors)} error(s), {len(self.warnings)} warning(s)."

    def report(self) -> str:
        lines = [str(p) for p in sorted(self.problems, key=lambda p: (p.line, p.column))]
        return "\n".join([*lines, self.summary()])
