from __future__ import annotations

import os
from dataclasses import dataclass

from argon2.low_level import Type, hash_secret_raw

from bridge_app.crypto._seal import open_sealed, seal

DATA_KEY_BYTES = 32
SALT_BYTES = 16


@dataclass(frozen=True)
class KdfParams:
    """argon2id cost; the default is RFC 9106's second recommended option (64 MiB, t=3, p=4)."""

    time_cost: int = 3
    memory_cost_kib: int = 64 * 1024
    parallelism: int = 4


def new_data_key() -> bytes:
    return os.urandom(DATA_KEY_BYTES)


def new_salt() -> bytes:
    return os.urandom(SALT_BYTES)


def derive_wrapping_key(password: str, salt: bytes, params: KdfParams | None = None) -> bytes:
    p = params or KdfParams()
    return hash_secret_raw(
        secret=password.encode("utf-8"),
        salt=salt,
        time_cost=p.time_cost,
        memory_cost=p.memory_cost_kib,
        parallelism=p.parallelism,
        hash_len=32,
        type=Type.ID,
    )


def wrap_data_key(wrapping_key: bytes, data_key: bytes, *, user_id: int) -> bytes:
    return seal(wrapping_key, data_key, context=f"data-key:{user_id}")


def unwrap_data_key(wrapping_key: bytes, wrapped: bytes, *, user_id: int) -> bytes:
    return open_sealed(wrapping_key, wrapped, context=f"data-key:{user_id}")
