"""The `litellm-bridge` command: every GUI capability is also a command."""

from bridge_app.cli._app import cli, main

__all__ = ["cli", "main"]
