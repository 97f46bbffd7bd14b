"""LiteLLM Bridge: an embedded LiteLLM proxy for locked-down corporate machines."""

from importlib import metadata as _metadata

try:
    __version__ = _metadata.version("litellm-bridge")
except _metadata.PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.1.0+source"

APP_NAME = "LiteLLM Bridge"
APP_SLUG = "litellm-bridge"

__all__ = ["APP_NAME", "APP_SLUG", "__version__"]
