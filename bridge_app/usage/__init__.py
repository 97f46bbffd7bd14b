"""Usage of the proxy: requests, tokens, errors, latency and estimated cost by day, model,
tool or user; CSV/JSON export; retention."""

from bridge_app.usage._service import (
    GROUPS,
    MAIN_KEY_LABEL,
    GroupBy,
    UsageError,
    UsageFilter,
    UsageGroup,
    UsageService,
)

__all__ = [
    "GROUPS",
    "MAIN_KEY_LABEL",
    "GroupBy",
    "UsageError",
    "UsageFilter",
    "UsageGroup",
    "UsageService",
]
