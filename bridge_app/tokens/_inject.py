"""What the proxy hook needs per request: the current token and project, and how to render
the config's injection mapping (``{token}``, ``{project.id}``, ``{project.<field>}``; the
grammar is ``bridge_app.placeholders``, the one validation reads too)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from bridge_app import placeholders
from bridge_app.runtime import BridgeError


class TokenUnavailable(BridgeError):
    """The request needs the internal token and there is none that is valid."""

    http_status = 401  # what the proxy answers the tool: the user must log in again


@dataclass(frozen=True)
class Project:
    project_id: str
    name: str
    fields: Mapping[str, str] = field(default_factory=dict)

    def lookup(self, key: str) -> str | None:
        if key == "id":
            return self.project_id
        if key == "name":
            return self.name
        return self.fields.get(key)


@dataclass(frozen=True, repr=False)
class InjectionContext:
    """An immutable snapshot; the token service swaps the whole object on refresh or
    project switch, so a request in flight keeps a consistent pair."""

    token: str | None = None
    expires_at: float | None = None
    project: Project | None = None
    reason: str = "no internal token yet: log in with your employee ID"

    def __repr__(self) -> str:
        return f"InjectionContext(has_token={self.token is not None}, project={self.project})"

    def usable_token(self, now: float | None = None) -> str:
        now = time.time() if now is None else now
        if self.token is None:
            raise TokenUnavailable(f"The internal token is missing ({self.reason}).")
        if self.expires_at is not None and self.expires_at <= now:
            raise TokenUnavailable("The internal token has expired: log in again.")
        return self.token


def render(template: Any, context: InjectionContext, *, now: float | None = None) -> Any:
    """A copy of ``template`` with every placeholder filled in. Raises TokenUnavailable
    when the token (or a project field) is needed and missing."""
    if isinstance(template, str):

        def fill(name: str) -> str:
            if name == "token":
                return context.usable_token(now)
            key = name.split(".", 1)[1]
            if context.project is None:
                raise TokenUnavailable("No project is selected: choose one in Token & projects.")
            value = context.project.lookup(key)
            if value is None:
                raise TokenUnavailable(
                    f"The active project {context.project.name!r} has no field {key!r}."
                )
            return value

        return placeholders.render(template, fill)
    if isinstance(template, Mapping):
        return {key: render(value, context, now=now) for key, value in template.items()}
    if isinstance(template, list):
        return [render(value, context, now=now) for value in template]
    return template


def merge_body(body: dict[str, Any], injected: Mapping[str, Any]) -> dict[str, Any]:
    """Injected fields win over a client's own values for the same keys; everything else a
    client sent (including its own extra_body content) is kept."""
    merged = dict(body)
    for key, value in injected.items():
        current = merged.get(key)
        if isinstance(current, dict) and isinstance(value, Mapping):
            merged[key] = merge_body(current, value)
        else:
            merged[key] = value
    return merged
