"""Application settings kept in the encrypted store (port, idle lock, theme, ...)."""

from bridge_app.settings._service import DEFAULTS, RETIRED, SettingsService

__all__ = ["DEFAULTS", "RETIRED", "SettingsService"]
