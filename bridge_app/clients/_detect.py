"""Is a tool installed, and which version: PATH lookup plus ``--version`` with a timeout."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass

_VERSION = re.compile(r"\d+\.\d+(?:\.\d+)?(?:[-+.][0-9A-Za-z.]+)?")


@dataclass(frozen=True)
class Installed:
    binary: str | None
    version: str | None


def find_tool(binaries: tuple[str, ...], *, search_path: str | None, timeout: float) -> Installed:
    for name in binaries:
        found = shutil.which(name, path=search_path)
        if found:
            return Installed(found, _version(found, timeout))
    return Installed(None, None)


def _version(binary: str, timeout: float) -> str | None:
    env = dict(os.environ)
    # Never let a version probe update itself or phone home.
    env.update(
        DISABLE_AUTOUPDATER="1",
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC="1",
        GEMINI_CLI_NO_RELAUNCH="true",
        NO_COLOR="1",
    )
    try:
        done = subprocess.run(
            [binary, "--version"],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    match = _VERSION.search(done.stdout or done.stderr or "")
    return match.group(0) if match else None
