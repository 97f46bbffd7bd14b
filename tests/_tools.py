"""A ToolsService over a test's Services that writes tool configs under a home of the
test's own (the app's one looks at the real user's home)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bridge_app.clients import ToolsService
from bridge_app.services import Services
from bridge_app.services._root import make_tools_service


def tools_service(services: Services, home: Path, **options: Any) -> ToolsService:
    """``options``: ToolsService's own (``search_path``, ``environ``, ``platform``...);
    the store, settings, proxy, redactor and audit log are the ones of ``services``."""
    return make_tools_service(
        db=services.db,
        key=services.db_key,
        settings=services.settings,
        proxy=services.proxy,
        redactor=services.redactor,
        audit=services.audit,
        home=home,
        **options,
    )
