"""What each setting accepts, and whether it belongs to the machine (admins only) or to the
person at it. The application core checks every change here, whichever front end made it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bridge_app.runtime import BridgeError
from bridge_app.settings import RETIRED


class SettingError(BridgeError):
    pass


@dataclass(frozen=True)
class Rule:
    value: Any
    machine: bool


def _int_between(low: int, high: int, what: str) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        try:
            number = int(str(value).strip())
        except ValueError:
            raise SettingError(f"{what} must be a whole number, not {value!r}.") from None
        if not low <= number <= high:
            raise SettingError(
                f"{what} must be between {low} and {high} (not {number}).",
                hint="Nothing was changed.",
            )
        return number

    return check


def _flag(what: str) -> Callable[[Any], bool]:
    def check(value: Any) -> bool:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("true", "yes", "on", "1"):
            return True
        if text in ("false", "no", "off", "0"):
            return False
        raise SettingError(f"{what} must be true or false, not {value!r}.")

    return check


def _choice(what: str, *choices: str) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        for choice in choices:
            if str(value).strip().lower() == choice.lower():
                return choice
        raise SettingError(f"{what} must be one of {', '.join(choices)} (got {value!r}).")

    return check


def _host(value: Any) -> str:
    text = str(value).strip()
    if not text or any(c.isspace() for c in text) or len(text) > 255:
        raise SettingError(f"The listen address {value!r} is not a host name or IP address.")
    return text


def _window(value: Any) -> list[int]:
    if not isinstance(value, list) or len(value) != 4:
        raise SettingError("The window geometry must be [width, height, left, top].")
    return [int(v) for v in value]


def _modules(value: Any) -> list[str]:
    if isinstance(value, str):
        value = [v for v in value.replace(",", " ").split() if v]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SettingError("Allowed modules must be a list of dotted Python names.")
    return sorted(set(value))


# key -> (checker, machine-wide?)
_RULES: dict[str, tuple[Callable[[Any], Any], bool]] = {
    "proxy.host": (_host, True),
    "proxy.port": (_int_between(1024, 65535, "The port"), True),
    "proxy.autostart": (_flag("Autostart"), True),
    "proxy.allow_non_loopback": (_flag("Listening beyond loopback"), True),
    "ui.idle_lock_minutes": (_int_between(0, 1440, "The idle lock (minutes, 0 = never)"), True),
    "ui.kiosk": (_flag("Kiosk mode"), True),
    "integrity.required": (_flag("Requiring a verified build"), True),
    "config.allowed_modules": (_modules, True),
    "ui.theme": (_choice("The theme", "Light", "Dark"), False),
    "ui.onscreen_keyboard": (_flag("The on-screen keyboard"), False),
    "ui.window": (_window, False),
    "ui.close_to_tray": (_flag("Closing to the tray"), False),
}


def setting_keys() -> list[str]:
    return sorted(_RULES)


def check_setting(key: str, value: Any) -> Rule:
    rule = _RULES.get(key)
    if key in RETIRED:
        raise SettingError(RETIRED[key])
    if rule is None:
        raise SettingError(
            f"There is no setting {key!r}.", hint="Settings: " + ", ".join(setting_keys())
        )
    checker, machine = rule
    return Rule(checker(value), machine)
