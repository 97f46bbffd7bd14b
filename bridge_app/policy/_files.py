"""Reading a policy file and its detached signature, with errors a person can act on."""

from __future__ import annotations

from pathlib import Path

from bridge_app.config import decode_config_bytes
from bridge_app.policy._errors import PolicyError, PolicyInvalidError, PolicySignatureError
from bridge_app.policy._location import signature_path
from bridge_app.policy._model import Policy, parse_policy

MAX_POLICY_BYTES = 256 * 1024


def read_policy_bytes(path: Path) -> bytes:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise PolicyError(f"Cannot read the policy {path}: {exc.strerror or exc}.") from exc
    if len(data) > MAX_POLICY_BYTES:
        raise PolicyError(f"The policy {path} is larger than 256 KB.")
    return data


def parse_policy_bytes(content: bytes, path: Path) -> Policy:
    """The policy in a file's bytes, or PolicyError / PolicyInvalidError (every problem
    with its line) naming ``path``."""
    text, problems = decode_config_bytes(content)
    if text is None:
        raise PolicyError(f"The policy {path} cannot be read: {problems[0]}")
    policy, result = parse_policy(text)
    if policy is None:
        raise PolicyInvalidError(result, what=f"The policy {path}")
    return policy


def read_signature(path: Path) -> bytes | None:
    """The detached signature next to ``path`` (``policy.yaml.sig``), None when absent."""
    sig = signature_path(path)
    try:
        return sig.read_bytes()[:4096]
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise PolicySignatureError(f"Cannot read {sig}: {exc.strerror or exc}.") from exc
