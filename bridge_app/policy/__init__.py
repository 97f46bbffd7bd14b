"""The IT-managed policy: allowed models, limits and quotas (enforced by the proxy's
request hook), the config lock (asked by the application core before every change), and
where the policy in force came from (machine-wide file or a local admin, optionally
signed with the company's Ed25519 key)."""

from bridge_app.policy._counters import LocalCounters, RedisCounters, SharedCounters, Totals
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
from bridge_app.policy._location import POLICY_FILE_ENV, machine_policy_path, signature_path
from bridge_app.policy._model import LIMIT_KINDS, Policy, parse_policy
from bridge_app.policy._service import AREA_LABELS, InForce, PolicyService, QuotaUse, Refusal
from bridge_app.policy._signing import fingerprint, read_public_key
from bridge_app.policy._watch import PolicyWatcher

__all__ = [
    "AREA_LABELS",
    "EXAMPLE_POLICY",
    "LIMIT_KINDS",
    "POLICY_FILE_ENV",
    "InForce",
    "LimitExceededError",
    "LocalCounters",
    "ModelNotAllowedError",
    "Policy",
    "PolicyError",
    "PolicyInvalidError",
    "PolicyRefusedError",
    "PolicyService",
    "PolicySignatureError",
    "PolicyWatcher",
    "QuotaUse",
    "RedisCounters",
    "Refusal",
    "RequestPolicy",
    "SharedCounters",
    "Totals",
    "UpstreamNotAllowedError",
    "fingerprint",
    "machine_policy_path",
    "parse_policy",
    "read_public_key",
    "signature_path",
]
