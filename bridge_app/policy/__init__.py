"""The IT-managed policy: allowed models, limits and quotas (enforced by the proxy's
request hooks), the config lock (asked by the application core before every change), and
where the policy in force came from (machine-wide file or a local admin, optionally
signed with the company's Ed25519 key)."""

from bridge_app.policy._counters import LocalCounters
from bridge_app.policy._enforcer import RequestPolicy
from bridge_app.policy._errors import (
    LimitExceededError,
    ModelNotAllowedError,
    PolicyError,
    PolicyInvalidError,
    PolicyRefusedError,
    PolicySignatureError,
    UpstreamNotAllowedError,
)
from bridge_app.policy._example import EXAMPLE_POLICY
from bridge_app.policy._install import install_machine_policy
from bridge_app.policy._lock import AREA_LABELS
from bridge_app.policy._model import parse_policy
from bridge_app.policy._service import PolicyService
from bridge_app.policy._signing import fingerprint
from bridge_app.policy._status import InForce, QuotaUse, Refusal
from bridge_app.policy._watch import PolicyWatcher

__all__ = [
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
]
