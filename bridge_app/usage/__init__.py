"""Usage of the proxy: requests, tokens, errors, latency and estimated cost by day, model,
tool, user or the deployment that answered; CSV/JSON export; retention."""

from bridge_app.usage._service import (
    GROUPS,
    REFUSED_KEY,
    GroupBy,
    UsageError,
    UsageFilter,
    UsageGroup,
    UsageReport,
    UsageService,
)

__all__ = [
    "GROUPS",
    "REFUSED_KEY",
    "GroupBy",
    "UsageError",
    "UsageFilter",
    "UsageGroup",
    "UsageReport",
    "UsageService",
]
