"""What LiteLLM will run, checked the way LiteLLM will read it.

LiteLLM (1.109.3, as 1.106.2) loads the config file, then merges every file its
``include:`` names
(``litellm/proxy/common_utils/config_includes.py``): each entry is found next to the file
that declares it (else next to the root config), top-level keys are merged (lists
extended, anything else replaced), nested includes follow, each file once. Then it copies
the merged ``environment_variables`` into ``os.environ``. A check that reads only the main
file therefore misses code named in an included file, and one that ignores
``environment_variables`` misses a variable that makes LiteLLM (or a program the app
starts) load code.

``check_runtime`` is the one check of that whole picture. Validation (``config validate``,
the editor), ``config apply`` and the proxy's start-time check all call it; the start
hands LiteLLM the merged result it checked (no ``include:`` left to read again). Included
files must lie in the config folder (the folder of the active config, whose files the app
keeps): anything else is refused.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bridge_app.config._checks import position
from bridge_app.config._code import code_problems, module_allowed
from bridge_app.config._files import read_limited
from bridge_app.config._problems import KeyPath, Problem
from bridge_app.config._yaml import MAX_BYTES, decode_config_bytes, load_text
from bridge_app.runtime import BridgeError, protected_reason

INCLUDE_KEY = "include"
ENVIRONMENT_KEY = "environment_variables"
STARTUP_HOOKS_ENV = "LITELLM_WORKER_STARTUP_HOOKS"  # "module:function,..." LiteLLM imports
MAX_INCLUDED_FILES = 32

#: Reads one included file: (the parsed document or None, why it could not be read).
Reader = Callable[[Path], tuple[Any, list[Problem]]]


@dataclass(frozen=True)
class RuntimeConfig:
    """The config as LiteLLM will run it, and every reason it must not run."""

    data: dict[str, Any]  # the merged document, without ``include``
    included: tuple[Path, ...] = ()
    problems: tuple[Problem, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return not any(p.severity == "error" for p in self.problems)


def check_runtime(
    data: Mapping[str, Any],
    *,
    location: Path | None,
    read: Reader,
    allowed_modules: Iterable[str] = (),
    entries: Mapping[str, str] | None = None,
    environment: Mapping[str, str] | None = None,
) -> RuntimeConfig:
    """Merge the includes of ``data`` (the config that LiteLLM reads at ``location``) as
    LiteLLM does and check all of it: code LiteLLM would import, environment variables it
    would set, and (at start) ``entries`` (the environment entries the app adds) and
    ``environment`` (everything LiteLLM will see). ``location=None``: a config that will
    not be run here (a team export) may not include files at all."""
    allowed = tuple(allowed_modules)
    problems = _document_problems(data, allowed)
    merged, included = _merge_includes(data, location, read, allowed, problems)
    if entries is not None:
        problems.extend(_entry_problems(entries))
    if environment is not None:
        problems.extend(_startup_hook_problems(environment, entries or {}, allowed))
    return RuntimeConfig(merged, included, tuple(problems))


def _document_problems(doc: Mapping[str, Any], allowed: tuple[str, ...]) -> list[Problem]:
    return [*code_problems(doc, allowed), *_environment_section_problems(doc)]


def _environment_section_problems(doc: Mapping[str, Any]) -> list[Problem]:
    section = doc.get(ENVIRONMENT_KEY)
    if not isinstance(section, dict):
        return []
    problems: list[Problem] = []
    for key in section:
        reason = protected_reason(key) if isinstance(key, str) else None
        if reason is None:
            continue
        line, column = position(section, key)
        problems.append(
            Problem(
                "error",
                "protected-env",
                f"{ENVIRONMENT_KEY}.{key}: LiteLLM would set {key} in the proxy's "
                f"environment, and {reason}.",
                line,
                column,
                (ENVIRONMENT_KEY, key),
                "Remove it: a config may not set the variables that decide which code runs "
                "or that LiteLLM Bridge sets itself.",
            )
        )
    return problems


def read_checked(path: Path) -> tuple[Any, list[Problem]]:
    """An included file read as the validator reads a config (positions, size and YAML
    bombs checked); an empty file is an empty mapping, as for LiteLLM."""
    try:
        raw = read_limited(path, MAX_BYTES)
    except BridgeError as exc:
        return None, [Problem("error", "unreadable", exc.message)]
    text, problems = decode_config_bytes(raw)
    if text is None:
        return None, problems
    loaded = load_text(text)
    if not loaded.loaded:
        return None, loaded.problems
    return ({} if loaded.data is None else loaded.data), []


def read_as_litellm(path: Path) -> tuple[Any, list[Problem]]:
    """An included file read as LiteLLM reads it (``yaml.safe_load``, empty = {})."""
    try:
        with path.open(encoding="utf-8") as fh:
            return (yaml.safe_load(fh) or {}), []
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        return None, [Problem("error", "unreadable", f"{exc}")]


# -- includes --------------------------------------------------------------------------


@dataclass
class _Pending:
    entry: str
    declared_in: Path
    anchor: tuple[int, int, KeyPath]  # the root config's include entry that led here


def _merge_includes(
    data: Mapping[str, Any],
    root: Path | None,
    read: Reader,
    allowed: tuple[str, ...],
    problems: list[Problem],
) -> tuple[dict[str, Any], tuple[Path, ...]]:
    merged: dict[str, Any] = {k: v for k, v in data.items() if k != INCLUDE_KEY}
    if INCLUDE_KEY not in data:
        return merged, ()
    entries = _include_entries(data, problems, anchor=None)
    if root is None:
        if entries:
            line, column = position(data, INCLUDE_KEY)
            problems.append(
                Problem(
                    "error",
                    "include-not-here",
                    "include: this config cannot include other files; put their settings into it.",
                    line,
                    column,
                    (INCLUDE_KEY,),
                )
            )
        return merged, ()
    root = Path(os.path.abspath(root))
    folder = root.parent
    pending = [_Pending(entry, root, anchor) for entry, anchor in entries]
    loaded: list[Path] = []
    real_folder = _real(folder)
    while pending:
        item = pending.pop(0)
        where = _resolve(item.entry, item.declared_in, root)
        if where in loaded or where == root:
            continue
        line, column, path = item.anchor
        shown = _shown(where, folder)

        def refuse(code: str, message: str, hint: str | None = None) -> None:
            problems.append(Problem("error", code, message, line, column, path, hint))  # noqa: B023

        if not _inside(_real(where), real_folder):
            refuse(
                "include-outside",
                f"include {item.entry!r} names {where}, which is outside the config folder "
                f"{folder}: LiteLLM would run whatever that file says.",
                f"Copy the file into {folder} and include it by name.",
            )
            continue
        if not where.is_file():
            refuse(
                "include-missing",
                f"include {item.entry!r}: there is no file {where}.",
                f"Included files are read from the config folder {folder}, where the "
                "applied config lives: put the file there, or remove the entry.",
            )
            continue
        if len(loaded) >= MAX_INCLUDED_FILES:
            refuse(
                "include-too-many",
                f"include: more than {MAX_INCLUDED_FILES} files are included; "
                f"{item.entry!r} and the rest were not read.",
            )
            break
        loaded.append(where)
        doc, read_problems = read(where)
        if read_problems or not isinstance(doc, dict):
            reasons = [p for p in read_problems if p.severity == "error"]
            first = str(reasons[0]) if reasons else "it is not a mapping (key: value) at the top"
            refuse("include-unreadable", f"The included file {shown} cannot be used: {first}")
            continue
        for found in _document_problems(doc, allowed):
            refuse(found.code, f"In the included file {shown}, {_at(found)}", found.hint)
        nested = _include_entries(doc, problems, anchor=item.anchor, shown=shown)
        pending.extend(_Pending(entry, where, item.anchor) for entry, _ in nested)
        merged = _merged(merged, {k: v for k, v in doc.items() if k != INCLUDE_KEY})
    return merged, tuple(loaded)


def _include_entries(
    doc: Mapping[str, Any],
    problems: list[Problem],
    *,
    anchor: tuple[int, int, KeyPath] | None,
    shown: str = "",
) -> list[tuple[str, tuple[int, int, KeyPath]]]:
    """``doc``'s include entries, each with the position problems about it are shown at
    (in the root config). LiteLLM refuses anything but a list of file names."""
    if INCLUDE_KEY not in doc:
        return []
    value = doc[INCLUDE_KEY]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        line, column = position(doc, INCLUDE_KEY)
        where = anchor if anchor is not None else (line, column, (INCLUDE_KEY,))
        prefix = f"In the included file {shown}, " if shown else ""
        problems.append(
            Problem(
                "error",
                "include-type",
                f"{prefix}include must be a list of file names (LiteLLM refuses anything else).",
                *where,
                hint="Write it as include: [models.yaml] or as a list with one '- file' per line.",
            )
        )
        return []
    found: list[tuple[str, tuple[int, int, KeyPath]]] = []
    for index, entry in enumerate(value):
        if anchor is None:
            line, column = position(value, index)
            found.append((entry, (line, column, (INCLUDE_KEY, index))))
        else:
            found.append((entry, anchor))
    return found


def _resolve(entry: str, declared_in: Path, root: Path) -> Path:
    """The file LiteLLM reads for ``entry`` (``resolve_include_file_path``)."""
    declared = Path(os.path.abspath(os.path.join(os.path.dirname(declared_in), entry)))
    beside_root = Path(os.path.abspath(os.path.join(os.path.dirname(root), entry)))
    if beside_root == declared or not beside_root.exists():
        return declared
    return beside_root if not declared.exists() else declared


def _merged(base: Mapping[str, Any], included: Mapping[str, Any]) -> dict[str, Any]:
    """LiteLLM's merge: top-level keys; lists extended, anything else replaced."""
    out: dict[str, Any] = {}
    for key in (*base, *included):
        if key not in included:
            out[key] = base[key]
        elif isinstance(included[key], list) and isinstance(base.get(key), list):
            out[key] = [*base[key], *included[key]]
        else:
            out[key] = included[key]
    return out


def _real(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError):
        return path


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _shown(path: Path, folder: Path) -> str:
    try:
        return str(path.relative_to(folder))
    except ValueError:
        return str(path)


def _at(problem: Problem) -> str:
    where = problem.location()
    return f"{where}: {problem.message}" if where else problem.message


# -- the environment LiteLLM will see ----------------------------------------------------


def _entry_problems(entries: Mapping[str, str]) -> list[Problem]:
    problems: list[Problem] = []
    for name in sorted(entries):
        reason = protected_reason(name)
        if reason is not None:
            problems.append(
                Problem(
                    "error",
                    "protected-env",
                    f"The environment entry {name} would be set in the proxy's environment, "
                    f"and {reason}.",
                    hint=f"Remove it with `litellm-bridge env unset {name}` (or in the "
                    "Environment screen); it was stored by an earlier version.",
                )
            )
    return problems


def _startup_hook_problems(
    environment: Mapping[str, str], entries: Mapping[str, str], allowed: tuple[str, ...]
) -> list[Problem]:
    """LiteLLM imports every ``module:function`` of LITELLM_WORKER_STARTUP_HOOKS at start.
    An entry may not set it at all (above); set in the environment the app was started
    with, each module must be one an admin allowed."""
    if STARTUP_HOOKS_ENV in entries:
        return []
    hooks = environment.get(STARTUP_HOOKS_ENV, "")
    for spec in (part.strip() for part in hooks.split(",")):
        module = spec.split(":", 1)[0]
        if spec and not module_allowed(module, allowed):
            return [
                Problem(
                    "error",
                    "code-not-allowed",
                    f"The environment variable {STARTUP_HOOKS_ENV} makes LiteLLM import "
                    f"{module!r} at start, which an admin has not allowed.",
                    hint=f"Start the app without {STARTUP_HOOKS_ENV}, or have an admin allow "
                    "the module (setting config.allowed_modules).",
                )
            ]
    return []
