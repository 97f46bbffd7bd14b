"""Is a tool installed, and which version: PATH lookup plus ``--version`` with a timeout.

On Windows the PATH entry is often an npm ``.cmd`` shim that starts node: a probe that
times out has its whole process tree killed, and output is read as UTF-8."""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass

from bridge_app.runtime import run_captured

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
        done = run_captured([binary, "--version"], timeout=timeout, env=env)
    except OSError:
        return None
    if done.timed_out:
        return None
    match = _VERSION.search(done.stdout or done.stderr or "")
    return match.group(0) if match else None
