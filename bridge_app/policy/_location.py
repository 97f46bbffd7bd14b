"""Where IT puts the machine-wide policy."""

from __future__ import annotations

import os
import sys
from pathlib import Path

POLICY_FILE_ENV = "BRIDGE_POLICY_FILE"


def machine_policy_path(environ: dict[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    override = env.get(POLICY_FILE_ENV)
    if override:
        return Path(override)
    if sys.platform == "win32":
        base = env.get("ProgramData") or env.get("PROGRAMDATA") or r"C:\ProgramData"
        return Path(base) / "LiteLLM Bridge" / "policy.yaml"
    return Path("/etc/litellm-bridge/policy.yaml")


def signature_path(policy: Path) -> Path:
    return policy.with_name(policy.name + ".sig")
