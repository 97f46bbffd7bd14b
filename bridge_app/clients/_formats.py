"""Merge the keys a tool integration owns into a config file's text, keeping the rest.

Each merger takes the file's current text (``None`` when the file does not exist) and the
owned values as ``{key path: value}`` and returns the new text. A file that cannot be
parsed raises ``ConfigFileError``: nothing is written then.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal

import tomlkit
import tomlkit.exceptions
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from bridge_app.runtime import BridgeError

Format = Literal["json", "toml", "dotenv", "yaml"]
KeyPath = tuple[str, ...]
Values = Mapping[KeyPath, Any]


class ConfigFileError(BridgeError):
    pass


def _bad(path: Path, kind: str, detail: str) -> ConfigFileError:
    return ConfigFileError(
        f"{path} is not valid {kind} ({detail}); nothing was changed.",
        hint="Fix the file by hand (or move it away) and try again.",
    )


# -- JSON -----------------------------------------------------------------------------------


def _json_indent(text: str) -> int | str:
    match = re.search(r"\n([ \t]+)\S", text)
    if match is None:
        return 2
    indent = match.group(1)
    return indent if "\t" in indent else len(indent)


class _DuplicateKeyError(ValueError):
    pass


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """JSON objects as Python reads them keep the last of two equal keys: rewriting such a
    file would silently drop the first one (say, a whole ``env`` block)."""
    data: dict[str, Any] = {}
    for key, value in pairs:
        if key in data:
            raise _DuplicateKeyError(key)
        data[key] = value
    return data


def merge_json(path: Path, text: str | None, values: Values) -> str:
    data: Any = {}
    indent: int | str = 2
    if text is not None and text.strip():
        try:
            data = json.loads(text, object_pairs_hook=_unique_keys)
        except json.JSONDecodeError as exc:
            raise _bad(path, "JSON", f"line {exc.lineno}, column {exc.colno}: {exc.msg}") from None
        except _DuplicateKeyError as exc:
            raise _bad(
                path, "JSON", f"the key {exc.args[0]!r} appears twice in one object"
            ) from None
        if not isinstance(data, dict):
            raise _bad(path, "JSON", "the top level must be an object")
        indent = _json_indent(text)
    for key_path, value in values.items():
        node = data
        for part in key_path[:-1]:
            child = node.get(part)
            if child is None:
                child = node[part] = {}
            elif not isinstance(child, dict):
                raise _bad(path, "settings", f"'{part}' must be an object")
            node = child
        node[key_path[-1]] = value
    return json.dumps(data, indent=indent, ensure_ascii=False) + "\n"


def read_json(text: str) -> dict[str, Any]:
    data = json.loads(text) if text.strip() else {}
    return data if isinstance(data, dict) else {}


# -- TOML -----------------------------------------------------------------------------------


def merge_toml(path: Path, text: str | None, values: Values) -> str:
    try:
        doc = tomlkit.parse(text or "")
    except tomlkit.exceptions.ParseError as exc:
        raise _bad(path, "TOML", f"line {exc.line}, column {exc.col}") from None
    for key_path, value in values.items():
        node: Any = doc
        for part in key_path[:-1]:
            if part not in node:
                # A super-table keeps `[model_providers.x]` one header, as people write it.
                node[part] = tomlkit.table(is_super_table=node is doc)
            node = node[part]
            if not isinstance(node, dict):
                raise _bad(path, "settings", f"'{part}' must be a table")
        # tomlkit puts new top-level keys before the first table, where TOML needs them.
        node[key_path[-1]] = value
    return tomlkit.dumps(doc)


def read_toml(text: str) -> dict[str, Any]:
    return tomlkit.parse(text).unwrap()


# -- dotenv ---------------------------------------------------------------------------------

_ENV_LINE = re.compile(r"^(\s*(?:export\s+)?)([A-Za-z_][A-Za-z0-9_]*)(\s*=\s*)(.*)$")


def _env_value(value: Any) -> str:
    text = str(value)
    if re.fullmatch(r"[A-Za-z0-9_./:@+,=-]*", text):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def merge_dotenv(path: Path, text: str | None, values: Values) -> str:
    wanted = {key_path[0]: _env_value(value) for key_path, value in values.items()}
    lines = (text or "").splitlines(keepends=True)
    seen: set[str] = set()
    for index, line in enumerate(lines):
        match = _ENV_LINE.match(line.rstrip("\r\n"))
        if match and match.group(2) in wanted:
            name = match.group(2)
            ending = line[len(line.rstrip("\r\n")) :] or "\n"
            lines[index] = f"{match.group(1)}{name}{match.group(3)}{wanted[name]}{ending}"
            seen.add(name)
    missing = [name for name in wanted if name not in seen]
    if missing and lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    lines.extend(f"{name}={wanted[name]}\n" for name in missing)
    return "".join(lines)


def read_dotenv(text: str) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for line in text.splitlines():
        match = _ENV_LINE.match(line)
        if match:
            value = match.group(4).strip()
            if len(value) >= 2 and value[0] == value[-1] == '"':
                value = re.sub(r'\\(["\\])', r"\1", value[1:-1])
            elif len(value) >= 2 and value[0] == value[-1] == "'":
                value = value[1:-1]
            found[match.group(2)] = value
    return found


# -- YAML -----------------------------------------------------------------------------------


def _yaml() -> YAML:
    yaml = YAML()  # round-trip: keeps comments and key order
    yaml.preserve_quotes = True
    return yaml


def merge_yaml(path: Path, text: str | None, values: Values) -> str:
    yaml = _yaml()
    try:
        data = yaml.load(text or "") if text and text.strip() else None
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else str(exc).splitlines()[0]
        raise _bad(path, "YAML", where) from None
    if data is None:
        data = yaml.load("{}")
    if not isinstance(data, dict):
        raise _bad(path, "YAML", "the top level must be a mapping")
    for key_path, value in values.items():
        node = data
        for part in key_path[:-1]:
            node = node.setdefault(part, {})
        node[key_path[-1]] = value
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()


def read_yaml(text: str) -> dict[str, Any]:
    data = _yaml().load(text) if text.strip() else None
    return dict(data) if isinstance(data, dict) else {}


MERGERS: dict[Format, Callable[[Path, str | None, Values], str]] = {
    "json": merge_json,
    "toml": merge_toml,
    "dotenv": merge_dotenv,
    "yaml": merge_yaml,
}
READERS: dict[Format, Callable[[str], dict[str, Any]]] = {
    "json": read_json,
    "toml": read_toml,
    "dotenv": read_dotenv,
    "yaml": read_yaml,
}


def lookup(data: Mapping[str, Any], key_path: KeyPath) -> Any:
    node: Any = data
    for part in key_path:
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node
