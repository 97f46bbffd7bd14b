"""Config templates: the ones shipped in configs/ and an admin's own in
<config_dir>/templates. A template is a plain LiteLLM config whose leading comment lines
may describe it (``# title: ...``, ``# description: ...``); files without them (such as
the built-in demo.yaml) get a title from their file name."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from bridge_app.config._refs import ENV_PREFIX, env_ref_name
from bridge_app.config._yaml import load_text
from bridge_app.runtime import BridgeError, resource_path

_META_RE = re.compile(r"^#\s*(title|description)\s*:\s*(.*?)\s*$")
_ENV_RE = re.compile(re.escape(ENV_PREFIX) + r"([A-Za-z_][A-Za-z0-9_]*)")
_FALLBACK: dict[str, tuple[str, str]] = {
    "demo": (
        "Built-in demo",
        "A demo model inside the app that answers without any upstream: try the tools first.",
    ),
}
# How the picker orders them; others follow alphabetically.
_ORDER = (
    "internal-enterprise",
    "demo",
    "openai",
    "anthropic",
    "azure-openai",
    "ollama",
    "openai-compatible",
)
MAX_TEMPLATE_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Template:
    name: str  # file stem, what `config new --template NAME` takes
    title: str
    description: str
    path: Path
    source: Literal["builtin", "user"]
    env_names: tuple[str, ...]  # every os.environ/NAME it refers to, in order

    def read_text(self) -> str:
        return _read(self.path)


def _read(path: Path) -> str:
    try:
        if path.stat().st_size > MAX_TEMPLATE_BYTES:
            raise BridgeError(f"The template {path} is too large to be a config.")
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise BridgeError(f"The template {path} is not UTF-8 text.") from exc
    except OSError as exc:
        raise BridgeError(f"Cannot read the template {path}: {exc.strerror or exc}.") from exc


def describe_template(path: Path, source: Literal["builtin", "user"]) -> Template:
    text = _read(path)
    meta: dict[str, str] = {}
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        match = _META_RE.match(line)
        if match:
            meta.setdefault(match.group(1), match.group(2))
    fallback_title, fallback_description = _FALLBACK.get(
        path.stem, (path.stem.replace("-", " ").replace("_", " ").capitalize(), "")
    )
    env_names = tuple(dict.fromkeys(_env_names(text)))
    return Template(
        name=path.stem,
        title=meta.get("title") or fallback_title,
        description=meta.get("description") or fallback_description,
        path=path,
        source=source,
        env_names=env_names,
    )


def _env_names(text: str) -> list[str]:
    """os.environ/NAME references in the YAML itself (not in its comments)."""
    loaded = load_text(text)
    if not loaded.loaded:
        return _ENV_RE.findall(text)
    found: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
        else:
            name = env_ref_name(node)
            if name:
                found.append(name)

    walk(loaded.data)
    return found


class TemplateLibrary:
    """Lists and reads templates; a user template replaces a built-in one of the same name."""

    def __init__(self, *, user_dir: Path, builtin_dir: Path | None = None) -> None:
        self._user_dir = user_dir
        self._builtin_dir = builtin_dir

    @property
    def user_dir(self) -> Path:
        return self._user_dir

    def _builtin(self) -> Path | None:
        if self._builtin_dir is not None:
            return self._builtin_dir
        try:
            return resource_path("configs")
        except BridgeError:
            return None

    def list(self) -> list[Template]:
        found: dict[str, Template] = {}
        sources: list[tuple[Path | None, Literal["builtin", "user"]]] = [
            (self._builtin(), "builtin"),
            (self._user_dir, "user"),
        ]
        for folder, source in sources:
            if folder is None or not folder.is_dir():
                continue
            for path in sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.yml")):
                try:
                    found[path.stem] = describe_template(path, source)
                except BridgeError:
                    continue  # one unreadable file must not hide the others
        rank = {name: i for i, name in enumerate(_ORDER)}
        return sorted(found.values(), key=lambda t: (rank.get(t.name, len(rank)), t.name))

    def get(self, name: str) -> Template:
        for template in self.list():
            if template.name == name:
                return template
        names = ", ".join(t.name for t in self.list()) or "none"
        raise BridgeError(f"There is no template named {name!r}.", hint=f"Templates: {names}.")
