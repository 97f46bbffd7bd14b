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


#: What a Command Prompt interprets in a line typed or pasted into it: operators, quotes
#: (which toggle whether the operators count), and % and ! (variable expansion).
_CMD_SPECIAL = frozenset('^&|<>()%!"')


def _cmd_line(name: str, value: str) -> str:
    """``set NAME=value`` for the Command Prompt, each special character escaped with a
    caret, which also keeps ``%NAME%`` from expanding (the caret breaks the name, then
    goes). ``set "NAME=value"`` is not enough: a quote inside the value turns the quoting
    off for what follows, and % and ! expand inside quotes too."""
    if "\n" in value or "\r" in value:
        return f"rem {name} holds a line break, which cmd cannot set: use PowerShell\n"
    return f"set {name}=" + "".join("^" + c if c in _CMD_SPECIAL else c for c in value) + "\n"


def shell_text(env: dict[str, str]) -> dict[str, str]:
    bash = "".join(f"export {name}={_bash_quote(value)}\n" for name, value in env.items())
    powershell = "".join(f"$env:{name} = {_ps_quote(value)}\n" for name, value in env.items())
    cmd = "".join(_cmd_line(name, value) for name, value in env.items())
    return {"bash": bash, "powershell": powershell, "cmd": cmd}
