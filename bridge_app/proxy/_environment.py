"""What the proxy sees in os.environ: provider values applied before each start."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping

from bridge_app.runtime import Redactor

EnvironmentProvider = Callable[[], dict[str, str]]


class EnvironmentApplier:
    """LiteLLM resolves ``os.environ/NAME`` from the process environment, so values from
    the encrypted store are put there in memory (never on disk or a command line).
    Names this applier set before and that the provider no longer returns are removed;
    names it never set are left alone."""

    def __init__(self, *, redactor: Redactor) -> None:
        self._redactor = redactor
        self._applied: dict[str, str] = {}
        self._originals: dict[str, str | None] = {}  # what the process had before us
        self._lock = threading.Lock()

    def preview(self, values: Mapping[str, str]) -> dict[str, str]:
        """The environment that ``apply(values)`` would produce, without changing it."""
        with self._lock:
            env = dict(os.environ)
            for name in self._applied:
                if name not in values:
                    env.pop(name, None)
        env.update(values)
        return env

    def apply(self, values: Mapping[str, str]) -> None:
        self._redactor.register(*values.values())
        with self._lock:
            for name in list(self._applied):
                if name not in values:
                    self._restore(name)
            for name, value in values.items():
                if name not in self._applied:
                    self._originals[name] = os.environ.get(name)
                os.environ[name] = value
                self._applied[name] = value

    def clear(self) -> None:
        """Take back everything applied (the proxy stopped): secrets do not linger in the
        process environment, where programs the app starts would inherit them."""
        with self._lock:
            for name in list(self._applied):
                self._restore(name)

    def _restore(self, name: str) -> None:
        original = self._originals.pop(name, None)
        if original is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = original
        del self._applied[name]

    def applied_names(self) -> list[str]:
        with self._lock:
            return sorted(self._applied)
