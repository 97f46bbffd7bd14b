"""The placeholder grammar of a config's ``extra_body`` and ``extra_headers``: its one home.
Validation (``config``: what a config may say) and injection (``tokens``: what a request
gets) both read strings through this module, so they cannot disagree about what a string
means.

    {token}              the signed-in user's current internal token
    {project.id}         the active project's id
    {project.name}       its name
    {project.<field>}    any other field of it; <field> is [A-Za-z_][A-Za-z0-9_]*
    {{  and  }}          a literal { and }

Anything else between braces (``{tokn}``, ``{project.cost-center}``, ``{}``) is not a
placeholder: validation reports it, injection leaves it as written. A lone ``{`` or ``}``
is literal text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

#: the fixed names; ``project.<field>`` adds one per project field.
FIELDS = ("token", "project.id", "project.name")
#: one scan for both readers: an escape, or a braced name (valid or not).
_SCAN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}")
_PROJECT_FIELD = re.compile(r"project\.[A-Za-z_][A-Za-z0-9_]*")


def is_valid(name: str) -> bool:
    """Whether ``name`` (what stands between the braces) is a placeholder the app fills."""
    return name in FIELDS or _PROJECT_FIELD.fullmatch(name) is not None


def repaired(name: str) -> str | None:
    """The valid placeholder a mistyped project field most likely meant: ``project.cost-center``
    -> ``project.cost_center`` (field names are letters, digits and _). None otherwise."""
    if not name.startswith("project."):
        return None
    candidate = "project." + re.sub(r"[^A-Za-z0-9_]", "_", name[len("project.") :].strip())
    return candidate if is_valid(candidate) and candidate != name else None


def _braced(text: str) -> Iterator[re.Match[str]]:
    """Every braced name in ``text``, in order; escapes are skipped."""
    return (m for m in _SCAN.finditer(text) if m.group(1) is not None)


def names_in(text: str) -> list[str]:
    """Every braced name in ``text`` (valid or not), in order: what validation checks."""
    return [m.group(1) for m in _braced(text)]


def placeholders_in(template: Any) -> set[str]:
    """The valid placeholders anywhere in a string, mapping or list (nested): what a
    request needs filled (a template naming ``token`` needs a signed-in user)."""
    if isinstance(template, str):
        return {name for name in names_in(template) if is_valid(name)}
    values = template.values() if isinstance(template, Mapping) else template
    if isinstance(template, (Mapping, list)):
        return set().union(*(placeholders_in(value) for value in values))
    return set()


def render(text: str, lookup: Callable[[str], str]) -> str:
    """``text`` with every valid placeholder replaced by ``lookup(name)`` and every escape
    by its brace; anything else stays as written. ``lookup`` may raise (no token)."""

    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        if name is None:
            return match.group(0)[0]  # "{{" -> "{", "}}" -> "}"
        return lookup(name) if is_valid(name) else match.group(0)

    return _SCAN.sub(one, text)


def escape(text: str) -> str:
    """``text`` written so that ``render`` gives it back unchanged (braces doubled)."""
    return text.replace("{", "{{").replace("}", "}}")
