"""The two kinds of indirection a config may hold instead of a value, and what counts as a
pasted secret.

* ``os.environ/NAME``: resolved by LiteLLM from the proxy's environment at start; the
  value lives in the encrypted environment store.
* ``{token}``, ``{project.id}``, ``{project.name}``, ``{project.<field>}`` inside
  ``litellm_params.extra_body`` or ``extra_headers``: filled in *per request* by the proxy
  hook with the signed-in user's current internal token and active project (a token
  refresh never rewrites the config). The grammar lives in ``bridge_app.placeholders``,
  shared with the injection.
"""

from __future__ import annotations

import re

from bridge_app import placeholders

ENV_PREFIX = "os.environ/"
ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

_NUMBER_RE = re.compile(r"^-?[0-9][0-9_.eE+-]*$")
_SECRET_SUFFIXES = ("key", "apikey", "token", "secret", "password", "passwd")
_NOT_SECRET_SUFFIXES = ("_ref", "_name", "_file", "_path", "_id", "_url", "_env")
_NOT_SECRET_NAMES = frozenset({"max_tokens", "cache_key", "routing_key", "key_alias", "key"})
# Shapes of credentials pasted where they do not belong, whatever the key is called.
_SECRET_VALUE_RES = (
    re.compile(r"\bsk-(?:ant-|proj-)?[A-Za-z0-9_-]{16,}"),
    re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),  # JWT
    re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]{12,}"),
    re.compile(r"\bAIza[0-9A-Za-z_-]{30,}"),  # Google API key
)


def env_ref_name(value: object) -> str | None:
    """``NAME`` for an ``os.environ/NAME`` string, else None."""
    if isinstance(value, str) and value.strip().startswith(ENV_PREFIX):
        return value.strip()[len(ENV_PREFIX) :]
    return None


def env_ref(name: str) -> str:
    return f"{ENV_PREFIX}{name}"


def is_secret_key(name: object) -> bool:
    """Keys whose value is a credential: api_key, master_key, *_key, *token, *secret..."""
    if not isinstance(name, str):
        return False
    lowered = name.lower()
    if lowered in _NOT_SECRET_NAMES or lowered.endswith(_NOT_SECRET_SUFFIXES):
        return False
    return lowered.endswith(_SECRET_SUFFIXES)


def looks_like_secret_value(value: str) -> bool:
    return any(rx.search(value) for rx in _SECRET_VALUE_RES)


def is_literal_secret(key: object, value: object) -> bool:
    """A secret-named key holding a value instead of a reference or placeholder."""
    if not isinstance(value, str) or not value.strip():
        return False
    if env_ref_name(value) is not None:
        return False
    if placeholders.names_in(value) or _NUMBER_RE.match(value.strip()):
        return False
    return is_secret_key(key) or looks_like_secret_value(value)


def env_slug(text: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_").upper()
    if slug and slug[0].isdigit():
        slug = "_" + slug
    return slug
