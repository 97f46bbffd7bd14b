"""Structured edits on the round-trip YAML document, for the form editor: every edit keeps
the comments, key order, quoting and indentation of everything it does not touch."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from bridge_app.config._problems import Fix, KeyPath, Problem
from bridge_app.config._refs import ENV_NAME_RE, env_ref, env_ref_name
from bridge_app.config._yaml import guess_indent, load_text, round_trip_yaml
from bridge_app.runtime import BridgeError


class ConfigSyntaxError(BridgeError):
    """The text is not a YAML mapping the editor can work on; ``problems`` says where."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        first = problems[0] if problems else None
        where = f" ({first.location()})" if first and first.location() else ""
        detail = f": {first.message}" if first else ""
        super().__init__(
            f"The config cannot be read{where}{detail}",
            hint="Fix it in the text editor; the form needs a readable config.",
        )
        self.problems = tuple(problems)


@dataclass(frozen=True)
class ModelSummary:
    """A model_list entry as the form shows it (plain values, secrets as env names)."""

    name: str
    model: str
    api_base: str | None
    api_key_env: str | None
    extra_body: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _to_yaml(value: Any) -> Any:
    if isinstance(value, Mapping) and not isinstance(value, CommentedMap):
        return CommentedMap((k, _to_yaml(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)) and not isinstance(value, CommentedSeq):
        return CommentedSeq(_to_yaml(v) for v in value)
    return value


def _check_env_name(name: str) -> None:
    if not ENV_NAME_RE.match(name):
        raise BridgeError(
            f"{name!r} is not a valid environment variable name.",
            hint="Use letters, digits and _ only, not starting with a digit.",
        )


class ConfigDocument:
    """One LiteLLM config as a ruamel round-trip document."""

    def __init__(self, data: CommentedMap, indent: tuple[int, int, int] = (2, 4, 2)) -> None:
        self.data = data
        self._indent = indent

    @classmethod
    def from_text(cls, text: str) -> ConfigDocument:
        loaded = load_text(text)
        if not loaded.loaded:
            raise ConfigSyntaxError(loaded.problems)
        data = loaded.data
        if data is None:
            data = CommentedMap()
        if not isinstance(data, CommentedMap):
            raise ConfigSyntaxError(
                [Problem("error", "wrong-type", "The config must be a mapping.", 1, 1)]
            )
        return cls(data, guess_indent(text))

    def to_text(self) -> str:
        yaml = round_trip_yaml()
        mapping, sequence, offset = self._indent
        yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
        out = io.StringIO()
        yaml.dump(self.data, out)
        return out.getvalue()

    # -- generic paths -----------------------------------------------------------------

    def get(self, path: KeyPath, default: Any = None) -> Any:
        node: Any = self.data
        for part in path:
            try:
                node = node[part]
            except (KeyError, IndexError, TypeError):
                return default
        return node

    def set(self, path: KeyPath, value: Any) -> None:
        """Set a value, creating missing mappings on the way (appended at their end)."""
        if not path:
            raise ValueError("empty path")
        parent = self._container(path[:-1], create=True)
        parent[path[-1]] = _to_yaml(value)

    def remove(self, path: KeyPath, *, prune: bool = True) -> bool:
        """Delete the key or item at ``path``; with ``prune``, mappings left empty by it
        go too (a form clearing the last fallback leaves no ``router_settings: {}``)."""
        parent = self._container(path[:-1], create=False)
        if parent is None:
            return False
        try:
            del parent[path[-1]]
        except (KeyError, IndexError, TypeError):
            return False
        if prune and len(path) > 1 and isinstance(parent, CommentedMap) and not parent:
            self.remove(path[:-1])
        return True

    def rename_key(self, path: KeyPath, new_key: str) -> None:
        """Rename in place: same position, same comments, same value."""
        parent = self._container(path[:-1], create=False)
        old = path[-1]
        if not isinstance(parent, CommentedMap) or old not in parent:
            raise BridgeError(f"There is no key {'.'.join(map(str, path))} to rename.")
        position = list(parent).index(old)
        comment = parent.ca.items.pop(old, None)  # end-of-line and following comments
        value = parent.pop(old)
        parent.insert(position, new_key, value)
        if comment is not None:
            parent.ca.items[new_key] = comment

    def _container(self, path: KeyPath, *, create: bool) -> Any:
        node: Any = self.data
        for part in path:
            if isinstance(node, CommentedMap):
                if part not in node or node[part] is None:
                    if not create:
                        return None
                    node[part] = CommentedMap()
                node = node[part]
            elif (
                isinstance(node, list) and isinstance(part, int) and -len(node) <= part < len(node)
            ):
                node = node[part]
            else:
                if create:
                    where = ".".join(map(str, path))
                    raise BridgeError(f"Cannot edit {where}: it is not a mapping in this config.")
                return None
        return node

    # -- models --------------------------------------------------------------------------

    def _models(self, *, create: bool = False) -> CommentedSeq:
        models = self.data.get("model_list")
        if models is None and create:
            models = CommentedSeq()
            self.data["model_list"] = models
        if models is None:
            return CommentedSeq()
        if not isinstance(models, CommentedSeq):
            raise BridgeError("model_list is not a list in this config; fix it in the text editor.")
        return models

    def _index(self, name: str) -> int:
        for index, entry in enumerate(self._models()):
            if isinstance(entry, Mapping) and entry.get("model_name") == name:
                return index
        raise BridgeError(f"There is no model named {name!r} in this config.")

    def model_names(self) -> list[str]:
        return [
            str(e.get("model_name"))
            for e in self._models()
            if isinstance(e, Mapping) and e.get("model_name")
        ]

    def models(self) -> list[ModelSummary]:
        summaries = []
        for entry in self._models():
            if not isinstance(entry, Mapping):
                continue
            params = entry.get("litellm_params")
            params = params if isinstance(params, Mapping) else {}
            body = params.get("extra_body")
            summaries.append(
                ModelSummary(
                    name=str(entry.get("model_name") or ""),
                    model=str(params.get("model") or ""),
                    api_base=params.get("api_base"),
                    api_key_env=env_ref_name(params.get("api_key")),
                    extra_body=_plain(body) if isinstance(body, Mapping) else {},
                    params=_plain(params),
                )
            )
        return summaries

    def add_model(
        self,
        name: str,
        model: str,
        *,
        api_base: str | None = None,
        api_key_env: str | None = None,
        extra_body: Mapping[str, Any] | None = None,
        **params: Any,
    ) -> None:
        if name in self.model_names():
            raise BridgeError(f"A model named {name!r} already exists.")
        litellm_params = CommentedMap(model=model)
        if api_base:
            litellm_params["api_base"] = api_base
        if api_key_env:
            _check_env_name(api_key_env)
            litellm_params["api_key"] = env_ref(api_key_env)
        if extra_body:
            litellm_params["extra_body"] = _to_yaml(dict(extra_body))
        for key, value in params.items():
            litellm_params[key] = _to_yaml(value)
        entry = CommentedMap(model_name=name)
        entry["litellm_params"] = litellm_params
        self._models(create=True).append(entry)

    def update_model(self, name: str, *, new_name: str | None = None, **params: Any) -> None:
        """Set litellm_params keys of one model (None removes a key); optionally rename it."""
        index = self._index(name)
        for key, value in params.items():
            path: KeyPath = ("model_list", index, "litellm_params", key)
            if value is None:
                self.remove(path)
            else:
                self.set(path, value)
        if new_name and new_name != name:
            if new_name in self.model_names():
                raise BridgeError(f"A model named {new_name!r} already exists.")
            self._models()[index]["model_name"] = new_name

    def remove_model(self, name: str) -> None:
        del self._models()[self._index(name)]

    def set_api_base(self, model_name: str, url: str | None) -> None:
        self.update_model(model_name, api_base=url)

    def set_api_key_env(self, model_name: str, env_name: str) -> None:
        _check_env_name(env_name)
        self.update_model(model_name, api_key=env_ref(env_name))

    def set_extra_body_field(self, model_name: str, key: str, value: Any) -> None:
        """Set (or with None remove) one extra_body field, e.g. ("project_id", "{project.id}")."""
        path: KeyPath = ("model_list", self._index(model_name), "litellm_params", "extra_body")
        if value is None:
            self.remove((*path, key))
        else:
            self.set((*path, key), value)

    # -- proxy-wide settings ---------------------------------------------------------------

    def set_master_key_env(self, env_name: str) -> None:
        _check_env_name(env_name)
        self.set(("general_settings", "master_key"), env_ref(env_name))

    def set_fallbacks(self, fallbacks: Mapping[str, Sequence[str]]) -> None:
        """router_settings.fallbacks as [{model: [fallback, ...]}, ...]; empty removes it."""
        if not fallbacks:
            self.remove(("router_settings", "fallbacks"))
            return
        value = CommentedSeq()
        for source, targets in fallbacks.items():
            item = CommentedMap()
            targets_seq = CommentedSeq(targets)
            targets_seq.fa.set_flow_style()  # - gpt-4o: [gpt-4o-mini], as LiteLLM documents
            item[source] = targets_seq
            value.append(item)
        self.set(("router_settings", "fallbacks"), value)

    def set_timeout(self, seconds: float | None, *, model_name: str | None = None) -> None:
        """Request timeout for one model (litellm_params) or for all (router_settings)."""
        if model_name is not None:
            self.update_model(model_name, timeout=seconds)
        elif seconds is None:
            self.remove(("router_settings", "timeout"))
        else:
            self.set(("router_settings", "timeout"), seconds)

    def set_retries(self, count: int | None, *, model_name: str | None = None) -> None:
        """Retries for one model (litellm_params.max_retries) or all (router num_retries)."""
        if model_name is not None:
            self.update_model(model_name, max_retries=count)
        elif count is None:
            self.remove(("router_settings", "num_retries"))
        else:
            self.set(("router_settings", "num_retries"), count)

    # -- fixes -----------------------------------------------------------------------------

    def move_secret_to_env(self, path: KeyPath, env_name: str) -> str:
        """Replace the literal at ``path`` by ``os.environ/<env_name>``; return the literal
        so the caller can put it into the encrypted environment store. An entry of
        ``environment_variables`` is removed instead: the store provides it."""
        _check_env_name(env_name)
        value = self.get(path)
        if not isinstance(value, str) or env_ref_name(value) is not None:
            raise BridgeError(f"There is no secret value at {'.'.join(map(str, path))}.")
        if path[:1] == ("environment_variables",):
            self.remove(path)
        else:
            self.set(path, env_ref(env_name))
        return str(value)

    def apply_fix(self, fix: Fix) -> str | None:
        """Apply a validator fix; for move_to_env returns the secret the caller must store."""
        if fix.kind == "rename_key" and fix.replacement:
            self.rename_key(fix.path, fix.replacement)
            return None
        if fix.kind == "move_to_env" and fix.env_name:
            return self.move_secret_to_env(fix.path, fix.env_name)
        raise BridgeError(f"The fix {fix.kind!r} cannot be applied here.")
