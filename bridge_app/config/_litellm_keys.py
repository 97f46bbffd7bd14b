"""Key names the embedded LiteLLM accepts in a proxy config, with a coarse type each.

The table is data, generated into ``litellm_keys.json`` beside this module by
scripts/gen_litellm_keys.py from LiteLLM's own pydantic types, function signatures and
proxy source (the config validator must not import LiteLLM: about 4 s). Type codes: str,
int, number, bool, list, dict, or "" when any value may be valid."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

DATA_FILE = Path(__file__).with_name("litellm_keys.json")


def _load() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    return data


_DATA = _load()
LITELLM_VERSION: str = _DATA["litellm_version"]
KNOWN_KEYS: dict[str, dict[str, str]] = _DATA["keys"]


def render(keys: dict[str, dict[str, str]], version: str) -> str:
    """The data file's text for ``keys`` (what the generator writes and the test compares)."""
    return json.dumps({"litellm_version": version, "keys": keys}, indent=1, sort_keys=True) + "\n"
