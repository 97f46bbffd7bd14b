"""A LiteLLM callback module an admin allows in tests: it records the requests it saw, so
a test can tell that LiteLLM really loaded it from the config."""

from __future__ import annotations

from typing import Any

from litellm.integrations.custom_logger import CustomLogger


class _Recorder(CustomLogger):
    def __init__(self) -> None:
        super().__init__()
        self.models: list[str] = []

    async def async_log_success_event(
        self, kwargs: dict[str, Any], response_obj: Any, start_time: Any, end_time: Any
    ) -> None:
        self.models.append(str(kwargs.get("model")))


recorder = _Recorder()
