"""The public surfaces of bridge_app.policy and bridge_app.usage are pinned, and each name
they export is used somewhere outside the package (else it should not be exported)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import bridge_app.policy
import bridge_app.usage

REPO = Path(__file__).resolve().parents[2]

SURFACES = {
    bridge_app.policy: {
        "AREA_LABELS",
        "EXAMPLE_POLICY",
        "InForce",
        "LimitExceededError",
        "LocalCounters",
        "ModelNotAllowedError",
        "PolicyError",
        "PolicyInvalidError",
        "PolicyRefusedError",
        "PolicyService",
        "PolicySignatureError",
        "PolicyWatcher",
        "QuotaUse",
        "Refusal",
        "RequestPolicy",
        "UpstreamNotAllowedError",
        "fingerprint",
        "install_machine_policy",
        "parse_policy",
    },
    bridge_app.usage: {
        "GROUPS",
        "REFUSED_KEY",
        "GroupBy",
        "UsageError",
        "UsageFilter",
        "UsageGroup",
        "UsageReport",
        "UsageService",
    },
}
# The BridgeError family is exported for the core and front ends to catch even where no
# code names a member yet.
ERROR_FAMILY = {"PolicyError", "PolicySignatureError", "UpstreamNotAllowedError", "UsageError"}


@pytest.mark.parametrize("module", list(SURFACES), ids=lambda m: m.__name__)
def test_exported_members(module: object) -> None:
    exported = set(module.__all__)  # type: ignore[attr-defined]
    assert exported == SURFACES[module]  # type: ignore[index]
    package = Path(module.__file__).parent  # type: ignore[attr-defined]
    sources = [
        p.read_text(encoding="utf-8")
        for root in (REPO / "bridge_app", REPO / "tests")
        for p in root.rglob("*.py")
        if package not in p.parents and p.name != Path(__file__).name
    ]
    unused = {
        name
        for name in exported - ERROR_FAMILY
        if not any(re.search(rf"\b{re.escape(name)}\b", text) for text in sources)
    }
    assert not unused, f"exported but used nowhere outside the package: {sorted(unused)}"
