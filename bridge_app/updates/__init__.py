"""Safe updates: signed metadata and bundles (The Update Framework), side-by-side install,
switch at the next start after a health check, automatic and manual rollback."""

from bridge_app.updates._archives import EXECUTABLE
from bridge_app.updates._errors import CHANNEL_TARGET, UpdateError
from bridge_app.updates._health import HEALTH_CHECK_ENV
from bridge_app.updates._service import (
    SOURCE_SETTING,
    Available,
    UpdatePolicy,
    UpdateService,
    UpdateState,
    describe_bytes,
)

__all__ = [
    "CHANNEL_TARGET",
    "EXECUTABLE",
    "HEALTH_CHECK_ENV",
    "SOURCE_SETTING",
    "Available",
    "UpdateError",
    "UpdatePolicy",
    "UpdateService",
    "UpdateState",
    "describe_bytes",
]
