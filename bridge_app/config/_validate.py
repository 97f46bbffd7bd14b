"""Validation of a LiteLLM proxy config: every problem with its line, column and a plain
explanation. Errors block saving and applying; warnings are shown and allowed."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from bridge_app.config._checks import ValueChecks, position
from bridge_app.config._guard import INCLUDE_KEY, check_runtime, read_checked
from bridge_app.config._problems import Fix, KeyPath, Problem, ValidationResult
from bridge_app.config._refs import (
    env_ref_name,
)
from bridge_app.config._schema import (
    SECTION_LABELS,
    TYPE_WORDS,
    describe,
    expected_type,
    known_keys,
    suggest,
    type_matches,
)
from bridge_app.config._yaml import decode_config_bytes, load_text

KnownEnv = Callable[[], Iterable[str]]

_URL_KEYS = frozenset({"api_base", "base_url"})


def validate_bytes(
    raw: bytes,
    *,
    known_env: KnownEnv | None = None,
    allowed_modules: Iterable[str] = (),
    location: Path | None = None,
) -> ValidationResult:
    text, problems = decode_config_bytes(raw)
    if text is None:
        return ValidationResult(tuple(problems))
    return validate_text(
        text, known_env=known_env, allowed_modules=allowed_modules, location=location
    )


def validate_text(
    text: str,
    *,
    known_env: KnownEnv | None = None,
    allowed_modules: Iterable[str] = (),
    location: Path | None = None,
) -> ValidationResult:
    loaded = load_text(text)
    if not loaded.loaded:
        return ValidationResult(tuple(loaded.problems))
    return validate_data(
        loaded.data, known_env=known_env, allowed_modules=allowed_modules, location=location
    )


def validate_data(
    data: Any,
    *,
    known_env: KnownEnv | None = None,
    allowed_modules: Iterable[str] = (),
    location: Path | None = None,
) -> ValidationResult:
    """Validate a loaded round-trip document (positions come from its line/col info).
    ``allowed_modules``: Python modules an admin allowed the config to name (callbacks,
    handlers, hooks); any other module name is refused, since LiteLLM would import it.
    ``location``: where the config will run (its ``include:`` entries are read from that
    folder, as LiteLLM will read them); None refuses includes."""
    checker = _Checker(set(known_env()) if known_env is not None else None)
    checker.run(data)
    if isinstance(data, dict):
        runtime = check_runtime(
            data, location=location, read=read_checked, allowed_modules=allowed_modules
        )
        # The guard says what is wrong with `include` in LiteLLM's terms; once is enough.
        checker.problems = [p for p in checker.problems if p.path != (INCLUDE_KEY,)]
        checker.problems.extend(runtime.problems)
    ordered = sorted(checker.problems, key=lambda p: (p.line, p.column, p.severity))
    return ValidationResult(tuple(ordered))


class _Checker(ValueChecks):
    def run(self, data: Any) -> None:
        if data is None:
            self.problems.append(
                Problem(
                    "error",
                    "empty",
                    "The config is empty.",
                    line=1,
                    hint="Start from a template: it lists the models under model_list.",
                )
            )
            return
        if not isinstance(data, dict):
            self.problems.append(
                Problem(
                    "error",
                    "wrong-type",
                    f"The config must be a mapping (model_list:, general_settings: ...), "
                    f"but it is {describe(data)}.",
                    line=1,
                    column=1,
                )
            )
            return
        self.env_defined = self._env_section(data)
        self.keys(data, "top_level", ())
        self.models(data)
        for section in ("litellm_settings", "general_settings", "router_settings"):
            block = data.get(section)
            if isinstance(block, dict):
                self.keys(block, section, (section,))
        general = data.get("general_settings")
        if not isinstance(general, dict) or general.get("master_key") in (None, ""):
            self.add(
                "warning",
                "no-master-key",
                "general_settings has no master_key: the proxy needs one to accept requests.",
                data,
                "general_settings" if "general_settings" in data else None,
                ("general_settings",),
                hint="Add master_key: os.environ/LITELLM_MASTER_KEY.",
            )
        for section in ("router_settings", "litellm_settings"):
            block = data.get(section)
            if isinstance(block, dict):
                for key in ("fallbacks", "context_window_fallbacks", "content_policy_fallbacks"):
                    self.fallbacks(block, key, (section, key))
        self.walk(data, (), in_body=False)

    # -- sections ------------------------------------------------------------------------

    def keys(self, mapping: dict[Any, Any], section: str, path: KeyPath) -> None:
        known = known_keys(section)
        where = SECTION_LABELS.get(section, section)
        for key, value in mapping.items():
            if not isinstance(key, str):
                self.add("error", "key-type", f"The key {key!r} must be text.", mapping, key, path)
                continue
            if key in known:
                code = expected_type(section, key)
                if not type_matches(value, code):
                    self.add(
                        "error",
                        "wrong-type",
                        f"{key} should be {TYPE_WORDS[code]}, but it is {describe(value)}.",
                        mapping,
                        key,
                        (*path, key),
                        at_value=True,
                    )
                continue
            guess = suggest(key, known)
            if guess is not None:
                self.add(
                    "error",
                    "misspelled-key",
                    f"Unknown key {key!r} in {where}: did you mean {guess!r}?",
                    mapping,
                    key,
                    (*path, key),
                    fix=Fix("rename_key", (*path, key), replacement=guess),
                )
            else:
                self.add(
                    "warning",
                    "unknown-key",
                    f"{key!r} is not an option of {where} that this app knows; LiteLLM may "
                    "ignore it.",
                    mapping,
                    key,
                    (*path, key),
                    hint="Check the spelling against the LiteLLM proxy documentation.",
                )

    def models(self, data: dict[Any, Any]) -> None:
        models = data.get("model_list")
        if models is None:
            self.add(
                "warning",
                "no-models",
                "There is no model_list: the proxy will have no models to route to.",
                None,
                None,
                ("model_list",),
            )
            return
        if not isinstance(models, list):
            return  # the top-level type check reported it
        first_seen: dict[str, int] = {}
        for index, entry in enumerate(models):
            path: KeyPath = ("model_list", index)
            if not isinstance(entry, dict):
                self.add(
                    "error",
                    "wrong-type",
                    f"Each model_list entry must be a mapping with model_name and "
                    f"litellm_params, but entry {index + 1} is {describe(entry)}.",
                    models,
                    index,
                    path,
                )
                continue
            self.keys(entry, "model_entry", path)
            name = entry.get("model_name")
            if name in (None, ""):
                self.add(
                    "error",
                    "no-model-name",
                    f"Model entry {index + 1} has no model_name (the name clients ask for).",
                    models,
                    index,
                    path,
                )
            elif isinstance(name, str):
                self.model_names.add(name)
                self.names_by_index[index] = name
                if name in first_seen:
                    self.add(
                        "warning",
                        "duplicate-model-name",
                        f"The model name {name!r} is also used on line {first_seen[name]}; "
                        "LiteLLM will balance requests between both entries.",
                        entry,
                        "model_name",
                        (*path, "model_name"),
                        hint="Rename one of them unless you want load balancing.",
                    )
                else:
                    first_seen[name] = position(entry, "model_name")[0]
            label = repr(name) if isinstance(name, str) and name else f"entry {index + 1}"
            params = entry.get("litellm_params")
            if params is None:
                self.add(
                    "error",
                    "no-litellm-params",
                    f"Model {label} has no litellm_params (they say where requests go).",
                    models,
                    index,
                    path,
                    hint="Add litellm_params: with at least model: <provider>/<model>.",
                )
            elif isinstance(params, dict):
                self.keys(params, "litellm_params", (*path, "litellm_params"))
                self.model_params(entry, label, (*path, "litellm_params"))
            info = entry.get("model_info")
            if isinstance(info, dict):
                self.keys(info, "model_info", (*path, "model_info"))

    def model_params(self, entry: dict[Any, Any], label: str, path: KeyPath) -> None:
        params = entry["litellm_params"]
        model = params.get("model")
        if model in (None, ""):
            self.add(
                "error",
                "no-model",
                f"Model {label} has no model in litellm_params: LiteLLM cannot tell which "
                "provider and upstream model to call.",
                entry,
                "litellm_params",
                (*path, "model"),
                hint="Add e.g. model: openai/gpt-4o or model: hosted_vllm/<served name>.",
            )
        for key in _URL_KEYS & set(params):
            self.url(params, key, (*path, key))

    def url(self, mapping: dict[Any, Any], key: str, path: KeyPath) -> None:
        value = mapping[key]
        if not isinstance(value, str) or env_ref_name(value) is not None:
            return
        try:
            parsed = urlparse(value.strip())
            valid = parsed.scheme in ("http", "https") and bool(parsed.hostname)
        except ValueError:  # "https://[::1": an unclosed IPv6 bracket
            valid = False
        if not valid:
            self.add(
                "error",
                "bad-url",
                f"{key} {describe(value)} is not a valid http(s) URL."
                if "@" in value
                else f"{key} {value!r} is not a valid http(s) URL.",
                mapping,
                key,
                path,
                at_value=True,
                hint="Write it like https://llm.example.com/v1, or os.environ/NAME.",
            )

    def fallbacks(self, block: dict[Any, Any], key: str, path: KeyPath) -> None:
        value = block.get(key)
        if not isinstance(value, list):
            return
        for index, item in enumerate(value):
            if not isinstance(item, dict):
                self.add(
                    "error",
                    "wrong-type",
                    f"Each {key} entry must map a model name to a list of fallback models, "
                    f"e.g. - gpt-4o: [gpt-4o-mini]; entry {index + 1} is {describe(item)}.",
                    value,
                    index,
                    (*path, index),
                )
                continue
            for source, targets in item.items():
                names = [source, *(targets if isinstance(targets, list) else [targets])]
                for name in names:
                    if isinstance(name, str) and self.model_names and name not in self.model_names:
                        self.add(
                            "warning",
                            "unknown-fallback-model",
                            f"{key} refers to {name!r}, which is not a model_name in model_list.",
                            item,
                            source,
                            (*path, index, str(source)),
                        )
