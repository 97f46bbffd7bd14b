"""Encrypted environment entries: masked, importable from .env, applied to the proxy."""

from bridge_app.envvars._dotenv import ImportPreview, PreviewLine
from bridge_app.envvars._model import (
    EnvCheck,
    EnvEntry,
    EnvPermissionError,
    ImportResult,
    Scope,
    SessionLike,
)
from bridge_app.envvars._names import APP_PROVIDED, NETWORK_NAMES, EnvError
from bridge_app.envvars._service import EnvService, config_references

__all__ = [
    "APP_PROVIDED",
    "NETWORK_NAMES",
    "EnvCheck",
    "EnvEntry",
    "EnvError",
    "EnvPermissionError",
    "EnvService",
    "ImportPreview",
    "ImportResult",
    "PreviewLine",
    "Scope",
    "SessionLike",
    "config_references",
]
