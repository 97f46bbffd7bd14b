"""Regenerate bridge_app/config/litellm_keys.json from the installed LiteLLM.

The config validator must not import LiteLLM (about 4 s), so the key names it knows are
frozen into a data file. Run this after changing the pinned LiteLLM version:

    LITELLM_LOCAL_MODEL_COST_MAP=True python scripts/gen_litellm_keys.py

tests/unit/test_config_schema.py fails when the frozen names drift from LiteLLM's types.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bridge_app.config._introspect import collect_sections
from bridge_app.config._litellm_keys import DATA_FILE, render


def main() -> None:
    import litellm

    version = getattr(litellm, "__version__", None) or _dist_version()
    DATA_FILE.write_text(render(collect_sections(), version), encoding="utf-8")
    print(f"wrote {DATA_FILE}")


def _dist_version() -> str:
    from importlib.metadata import version

    return version("litellm")


if __name__ == "__main__":
    main()
