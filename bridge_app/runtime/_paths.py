from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from bridge_app.runtime._errors import BridgeError

APP_DIR_NAME = "litellm-bridge"
HOME_ENV = "BRIDGE_HOME"
ACTIVE_CONFIG_FILENAME = "config.yaml"  # the active LiteLLM config, named here only


@dataclass(frozen=True)
class AppPaths:
    """Where this installation keeps its state.

    ``BRIDGE_HOME`` puts everything under one folder (tests, portable installs, managed
    machines); otherwise each kind of state goes to the platform's per-user directory.
    """

    config_dir: Path
    data_dir: Path
    log_dir: Path
    cache_dir: Path
    source: str  # "BRIDGE_HOME" or "platform"

    @classmethod
    def from_environment(cls, environ: dict[str, str] | None = None) -> AppPaths:
        env = os.environ if environ is None else environ
        home = env.get(HOME_ENV, "").strip()
        if home:
            root = Path(home).expanduser().resolve()
            return cls(
                config_dir=root / "config",
                data_dir=root / "data",
                log_dir=root / "logs",
                cache_dir=root / "cache",
                source=HOME_ENV,
            )
        return cls(
            config_dir=Path(platformdirs.user_config_dir(APP_DIR_NAME, appauthor=False)),
            data_dir=Path(platformdirs.user_data_dir(APP_DIR_NAME, appauthor=False)),
            log_dir=Path(platformdirs.user_log_dir(APP_DIR_NAME, appauthor=False)),
            cache_dir=Path(platformdirs.user_cache_dir(APP_DIR_NAME, appauthor=False)),
            source="platform",
        )

    @property
    def database_file(self) -> Path:
        return self.data_dir / "bridge.db"

    @property
    def key_file(self) -> Path:
        return self.config_dir / "db.key"

    @property
    def lock_file(self) -> Path:
        return self.data_dir / "instance.lock"

    @property
    def show_request_file(self) -> Path:
        """A second start of the window asks the running one to come forward with it."""
        return self.data_dir / "show-window.request"

    @property
    def proxy_config_dir(self) -> Path:
        return self.config_dir / "litellm"

    @property
    def active_config_file(self) -> Path:
        """The LiteLLM config the proxy starts with (config management writes it)."""
        return self.proxy_config_dir / ACTIVE_CONFIG_FILENAME

    def all_dirs(self) -> dict[str, Path]:
        return {
            "config": self.config_dir,
            "data": self.data_dir,
            "logs": self.log_dir,
            "cache": self.cache_dir,
        }

    def ensure(self) -> None:
        """Create the directories (owner-only where the OS honours it), or say why not."""
        for label, path in self.all_dirs().items():
            try:
                path.mkdir(parents=True, exist_ok=True, mode=0o700)
            except OSError as exc:
                raise BridgeError(
                    f"Cannot create the {label} directory {path}: {exc.strerror or exc}.",
                    hint=f"Make it writable, or set {HOME_ENV} to a folder you can write to.",
                ) from exc
            if not os.access(path, os.W_OK | os.X_OK):
                raise BridgeError(
                    f"The {label} directory {path} is not writable.",
                    hint=f"Fix its permissions, or set {HOME_ENV} to a folder you can write to.",
                )
