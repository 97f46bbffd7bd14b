"""argon2id password hashes, and the link between a hash and the key that wraps the
account's data key.

Invariant kept by AuthService: the argon2 parameters encoded in ``users.password_hash``
are also the ones used to derive the wrapping key for ``users.wrapped_data_key``. Both
are always rewritten together (create, change, reset, rehash on login), so no extra
column is needed to know how to unwrap a data key after the defaults change.
"""

from __future__ import annotations

import base64
import os
import threading

from argon2 import PasswordHasher, extract_parameters
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from bridge_app.crypto import KdfParams


class PasswordHashing:
    def __init__(self, params: KdfParams) -> None:
        self.params = params
        self._hasher = PasswordHasher(
            time_cost=params.time_cost,
            memory_cost=params.memory_cost_kib,
            parallelism=params.parallelism,
            hash_len=32,
            salt_len=16,
        )
        self._dummy: str | None = None
        self._dummy_lock = threading.Lock()

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, stored_hash: str, password: str) -> bool:
        try:
            return bool(self._hasher.verify(stored_hash, password))
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def verify_dummy(self, password: str) -> None:
        """Spend the same work as a real verification, for a user that does not exist.

        The dummy is a well-formed hash of the current cost with random salt and digest
        (nothing hashes to it), made without hashing: even the first unknown name costs
        exactly one verification, like a known one."""
        with self._dummy_lock:
            if self._dummy is None:
                self._dummy = self._random_hash()
            dummy = self._dummy
        self.verify(dummy, password)

    def _random_hash(self) -> str:
        def b64(data: bytes) -> str:
            return base64.b64encode(data).decode().rstrip("=")

        p = self.params
        return (
            f"$argon2id$v=19$m={p.memory_cost_kib},t={p.time_cost},p={p.parallelism}"
            f"${b64(os.urandom(16))}${b64(os.urandom(32))}"
        )

    def needs_rehash(self, stored_hash: str) -> bool:
        try:
            return bool(self._hasher.check_needs_rehash(stored_hash))
        except (InvalidHashError, ValueError):
            return True


def kdf_params_of(stored_hash: str) -> KdfParams:
    """The cost a stored hash was made with: also the cost of its data-key wrapping."""
    p = extract_parameters(stored_hash)
    return KdfParams(
        time_cost=p.time_cost, memory_cost_kib=p.memory_cost, parallelism=p.parallelism
    )
