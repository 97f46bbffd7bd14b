"""The composition root: every service is built here, once, and handed to the CLI and UI."""

from bridge_app.services import _surface
from bridge_app.services._core import AppCore
from bridge_app.services._core_login import LoginStart
from bridge_app.services._doctor import Check, DoctorReport, run_doctor
from bridge_app.services._root import Services, build_services, open_store
from bridge_app.services._settings_rules import SettingError, setting_keys
from bridge_app.services._surface import *  # noqa: F403 - the front ends' view of the domain
from bridge_app.services._updates import (
    finish_pending_rollback,
    run_installed_update,
    switch_pending_update,
    update_pending,
)
from bridge_app.services._usecases import USE_CASES, UseCase

__all__ = [
    "USE_CASES",
    "AppCore",
    "Check",
    "DoctorReport",
    "LoginStart",
    "Services",
    "SettingError",
    "UseCase",
    "build_services",
    "finish_pending_rollback",
    "open_store",
    "run_doctor",
    "run_installed_update",
    "setting_keys",
    "switch_pending_update",
    "update_pending",
]
__all__ += _surface.__all__
