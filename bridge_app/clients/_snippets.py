"""'Show settings' text: environment variables for bash/zsh, PowerShell and cmd."""

from __future__ import annotations

from bridge_app.clients._model import Platform

#: What each platform's people type into: Windows users get PowerShell first, then cmd.
PLATFORM_SHELLS: dict[Platform, tuple[str, ...]] = {
    "windows": ("powershell", "cmd"),
    "linux": ("bash",),
}
SHELL_TITLES = {"bash": "bash / zsh", "powershell": "PowerShell", "cmd": "Command Prompt (cmd)"}


def _bash_quote(value: str) -> str:
    return "'" + value.replace("'", "'\"'\"'") + "'"


def _ps_quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def shell_text(env: dict[str, str]) -> dict[str, str]:
    bash = "".join(f"export {name}={_bash_quote(value)}\n" for name, value in env.items())
    powershell = "".join(f"$env:{name} = {_ps_quote(value)}\n" for name, value in env.items())
    # cmd: `set "NAME=value"` keeps & | < > in the value literal.
    cmd = "".join(f'set "{name}={value}"\n' for name, value in env.items())
    return {"bash": bash, "powershell": powershell, "cmd": cmd}
