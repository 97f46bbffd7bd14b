"""'Show settings' text: environment variables for bash/zsh, PowerShell and cmd."""

from __future__ import annotations


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
