"""The composition root: every service is built here, once, and handed to the CLI and UI."""

from bridge_app.services._doctor import Check, DoctorReport, run_doctor
from bridge_app.services._root import Services, build_services, open_store
from bridge_app.services._updates import (
    run_installed_update,
    switch_pending_update,
    update_pending,
)

__all__ = [
    "Check",
    "DoctorReport",
    "Services",
    "build_services",
    "open_store",
    "run_doctor",
    "run_installed_update",
    "switch_pending_update",
    "update_pending",
]
