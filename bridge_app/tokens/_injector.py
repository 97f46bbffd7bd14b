"""The proxy-side half of the token flow: per request, fill the active config's
``extra_body`` template of the model being called with the current token and project."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml

from bridge_app.tokens._inject import TokenUnavailable, merge_body, placeholders_in, render
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


def injection_templates(config_text: str) -> dict[str, Mapping[str, Any]]:
    """model name (and upstream model string) -> the extra_body template of each model whose
    extra_body uses a placeholder. Models without placeholders need no token."""
    try:
        document = yaml.safe_load(config_text) or {}
    except yaml.YAMLError:
        return {}
    templates: dict[str, Mapping[str, Any]] = {}
    for entry in document.get("model_list") or []:
        if not isinstance(entry, dict):
            continue
        params = entry.get("litellm_params") or {}
        body = params.get("extra_body") if isinstance(params, dict) else None
        if isinstance(body, dict) and placeholders_in(body):
            for key in (entry.get("model_name"), params.get("model")):
                if isinstance(key, str) and key:
                    templates[key] = body
    return templates


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

    def reload(self) -> None:
        """Read the templates of the config the proxy is (re)starting with."""
        path = self._config_path()
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            log.warning("cannot read %s for token injection: %s", path, exc)
            text = ""
        with self._lock:
            self._templates = injection_templates(text)

    @property
    def needs_token(self) -> bool:
        with self._lock:
            return any("token" in placeholders_in(t) for t in self._templates.values())

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
            templates = self._templates
        if not templates:
            return None
        for meta_key in ("metadata", "litellm_metadata"):
            meta = kwargs.get(meta_key)
            if isinstance(meta, Mapping):
                group = meta.get("model_group")
                if isinstance(group, str) and group in templates:
                    return templates[group]
        model = kwargs.get("model")
        if isinstance(model, str):
            if model in templates:
                return templates[model]
            for key, template in templates.items():  # "hosted_vllm/x" may arrive as "x"
                if key.split("/", 1)[-1] == model:
                    return template
        return None

    def precheck(self, data: dict[str, Any], _context: object) -> None:
        """A request hook: refuse early (clean 401) when the model needs a token we lack."""
        template = self.template_for({"model": data.get("model")})
        if template is not None:
            render(template, self._tokens.current())

    def __call__(self, kwargs: dict[str, Any], _context: object = None) -> None:
        template = self.template_for(kwargs)
        if template is None:
            return
        rendered = render(template, self._tokens.current())
        client_body = kwargs.get("extra_body")
        kwargs["extra_body"] = merge_body(
            dict(client_body) if isinstance(client_body, Mapping) else {}, rendered
        )
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
