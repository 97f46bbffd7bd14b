"""The proxy-side half of the token flow: per request, fill the active config's
``extra_body`` template of the model being called with the current token and project."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml

from bridge_app.placeholders import placeholders_in
from bridge_app.tokens._inject import TokenUnavailable, merge_body, render
from bridge_app.tokens._service import TokenService

log = logging.getLogger(__name__)

# Call arguments LiteLLM itself reads; a template key with one of these names only goes
# into extra_body.
_LITELLM_OWN = frozenset(
    {
        "model",
        "messages",
        "metadata",
        "litellm_metadata",
        "litellm_params",
        "extra_body",
        "extra_headers",
        "api_key",
        "api_base",
        "stream",
        "input",
        "contents",
    }
)


#: LiteLLM providers that send a call's ``extra_body`` to the endpoint as a field named
#: "extra_body" instead of merging it into the request body (LiteLLM 1.109.3's anthropic
#: provider, on both the translated chat path and the native /v1/messages path). For
#: their deployments the injected fields go on the call itself, which these providers
#: send as body fields.
BODY_FIELD_PROVIDERS = frozenset({"anthropic"})


def _model_list(config_text: str) -> list[Any]:
    try:
        document = yaml.safe_load(config_text) or {}
    except yaml.YAMLError:
        return []
    return list(document.get("model_list") or []) if isinstance(document, dict) else []


def _model_entries(config: str | list[Any]) -> list[tuple[list[str], dict[str, Any]]]:
    """(its names: model_name and upstream model string, litellm_params) per model_list
    entry; ``config`` is the config's text or its already parsed model_list."""
    entries = []
    for entry in _model_list(config) if isinstance(config, str) else config:
        params = entry.get("litellm_params") if isinstance(entry, dict) else None
        if isinstance(params, dict):
            names = (entry.get("model_name"), params.get("model"))
            entries.append(([k for k in names if isinstance(k, str) and k], params))
    return entries


def top_level_models(config: str | list[Any]) -> frozenset[str]:
    """Model names (and upstream model strings) whose injected fields go on the call."""
    found: set[str] = set()
    for names, params in _model_entries(config):
        model = params.get("model")
        if not isinstance(model, str):
            continue
        if (params.get("custom_llm_provider") or model.split("/", 1)[0]) in BODY_FIELD_PROVIDERS:
            found.update(names)
    return frozenset(found)


def injection_templates(
    config: str | list[Any], where: str = "extra_body"
) -> dict[str, Mapping[str, Any]]:
    """model name (and upstream model string) -> the ``where`` template (``extra_body`` or
    ``extra_headers``) of each model whose template uses a placeholder. Models without
    placeholders need no token. ``config``: the config's text, or its parsed model_list."""
    templates: dict[str, Mapping[str, Any]] = {}
    for names, params in _model_entries(config):
        body = params.get(where)
        if isinstance(body, dict) and placeholders_in(body):
            for key in names:
                templates[key] = body
    return templates


Found = tuple[str, Mapping[str, Any]]


def _lookup(templates: Mapping[str, Mapping[str, Any]], kwargs: Mapping[str, Any]) -> Found | None:
    """The config's name for the model being called, and its template."""
    if not templates:
        return None
    for meta_key in ("metadata", "litellm_metadata"):
        meta = kwargs.get(meta_key)
        if isinstance(meta, Mapping):
            group = meta.get("model_group")
            if isinstance(group, str) and group in templates:
                return group, templates[group]
    model = kwargs.get("model")
    if isinstance(model, str):
        if model in templates:
            return model, templates[model]
        for key, template in templates.items():  # "hosted_vllm/x" may arrive as "x"
            if key.split("/", 1)[-1] == model:
                return key, template
    return None


class TokenInjector:
    """A request hook for the embedded proxy (runs just before each provider call, on
    every path: chat, Anthropic messages, Responses, Gemini generateContent).

    The template comes from the config, but the values are rendered per request from the
    token service's current snapshot, so a refresh or project switch applies to the next
    request without a restart. A client's own ``extra_body`` is kept; the injected fields
    win. With no usable token the request is refused before it leaves (TokenUnavailable).
    """

    def __init__(self, *, tokens: TokenService, config_path: Callable[[], Path]) -> None:
        self._tokens = tokens
        self._config_path = config_path
        self._lock = threading.Lock()
        self._templates: dict[str, Mapping[str, Any]] = {}
        self._headers: dict[str, Mapping[str, Any]] = {}
        self._top_level: frozenset[str] = frozenset()

    def reload(self) -> None:
        """Read the templates of the config the proxy is (re)starting with."""
        path = self._config_path()
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            log.warning("cannot read %s for token injection: %s", path, exc)
            text = ""
        models = _model_list(text)  # parsed once for the three tables
        with self._lock:
            self._templates = injection_templates(models)
            self._headers = injection_templates(models, "extra_headers")
            self._top_level = top_level_models(models)

    @property
    def needs_token(self) -> bool:
        with self._lock:
            templates = [*self._templates.values(), *self._headers.values()]
        return any("token" in placeholders_in(t) for t in templates)

    def problem(self) -> str | None:
        """Why internal models cannot be served right now, or None (for `degraded`)."""
        if not self.needs_token:
            return None
        try:
            self._tokens.current().usable_token()
        except TokenUnavailable as exc:
            # Expired after a refused refresh: the IAM's own words stay (issue 26, item 5).
            blocked = self._tokens.refresh_problem()
            return f"{exc.message.split(':')[0]}. {blocked}" if blocked else exc.message
        # Still valid, but it will expire and nothing will renew it: say so while there is
        # time to act (status, the serve console and the dashboard show `degraded`).
        return self._tokens.refresh_problem()

    def template_for(self, kwargs: Mapping[str, Any]) -> Mapping[str, Any] | None:
        with self._lock:
            found = _lookup(self._templates, kwargs)
        return found[1] if found else None

    def precheck(self, data: dict[str, Any], _context: object) -> None:
        """A request hook: refuse early (clean 401) when the model needs a token we lack."""
        with self._lock:
            tables = (self._templates, self._headers)
        for templates in tables:
            found = _lookup(templates, {"model": data.get("model")})
            if found is not None:
                render(found[1], self._tokens.current())

    def __call__(self, kwargs: dict[str, Any], _context: object = None) -> None:
        with self._lock:
            found = _lookup(self._templates, kwargs)
            headers = _lookup(self._headers, kwargs)
        if headers is not None:
            self._inject_headers(kwargs, headers[1])
        if found is None:
            return
        name, template = found
        rendered = render(template, self._tokens.current())
        client_body = kwargs.get("extra_body")
        client_body = dict(client_body) if isinstance(client_body, Mapping) else {}
        if name in self._top_level:
            # Sent as body fields by the provider: the injected ones go on the call, and a
            # client's same-named fields in its own extra_body are dropped (the provider
            # would send them to the endpoint too, under "extra_body").
            for key in rendered:
                client_body.pop(key, None)
            if client_body:
                kwargs["extra_body"] = client_body
            else:
                kwargs.pop("extra_body", None)
            for key, value in rendered.items():
                if key not in _LITELLM_OWN:
                    current = kwargs.get(key)
                    kwargs[key] = (
                        merge_body(dict(current), value)
                        if isinstance(current, Mapping) and isinstance(value, Mapping)
                        else value
                    )
            return
        kwargs["extra_body"] = merge_body(client_body, rendered)
        # A client's own top-level field of the same name would reach the upstream body too
        # (LiteLLM passes unknown top-level fields through, after extra_body): overwrite it
        # with the bridge's value. LiteLLM's own arguments are never touched.
        for key, value in rendered.items():
            if key in kwargs and key not in _LITELLM_OWN:
                current = kwargs[key]
                kwargs[key] = (
                    merge_body(dict(current), value)
                    if isinstance(current, Mapping) and isinstance(value, Mapping)
                    else value
                )

    def _inject_headers(self, kwargs: dict[str, Any], template: Mapping[str, Any]) -> None:
        """The config's ``extra_headers`` with the placeholders filled in; they replace a
        client's own headers of the same names (compared without case)."""
        rendered = render(template, self._tokens.current())
        ours = {str(k).lower() for k in rendered}
        current = kwargs.get("extra_headers")
        kept = {
            k: v
            for k, v in (current.items() if isinstance(current, Mapping) else ())
            if str(k).lower() not in ours
        }
        kwargs["extra_headers"] = {**kept, **{str(k): str(v) for k, v in rendered.items()}}
