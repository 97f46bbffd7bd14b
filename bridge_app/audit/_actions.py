"""Audit action names: ``<area>.<verb>``. Other services may record their own actions
with the same shape; these are the ones the app records today or is expected to."""

from __future__ import annotations

from enum import StrEnum


class Action(StrEnum):
    LOGIN = "auth.login"
    LOGOUT = "auth.logout"
    UNLOCK = "auth.unlock"
    PASSWORD_CHANGE = "auth.password_change"  # noqa: S105 - an action name
    ACCESS_DENIED = "access.denied"
    USER_CREATE = "user.create"
    USER_DISABLE = "user.disable"
    USER_ENABLE = "user.enable"
    USER_DELETE = "user.delete"
    USER_PASSWORD_RESET = "user.password_reset"  # noqa: S105 - an action name
    USER_ROLE_CHANGE = "user.role_change"
    CONFIG_CHANGE = "config.change"
    CONFIG_APPLY = "config.apply"
    ENV_CHANGE = "env.change"
    TOKEN_ACQUIRE = "token.acquire"  # noqa: S105 - an action name
    TOKEN_REFRESH = "token.refresh"  # noqa: S105 - an action name
    PROXY_START = "proxy.start"
    PROXY_STOP = "proxy.stop"
    PROXY_RESTART = "proxy.restart"
    AUDIT_EXPORT = "audit.export"
    AUDIT_VERIFY = "audit.verify"
    EXPORT = "export"  # other exports (diagnostics, .env, config)


OUTCOMES = ("ok", "denied", "failed")
