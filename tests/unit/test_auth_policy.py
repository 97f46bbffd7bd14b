"""The production cost is what RFC 9106 recommends; tests elsewhere use cheap parameters."""

from __future__ import annotations

from argon2 import Type, extract_parameters
from argon2.profiles import RFC_9106_LOW_MEMORY

from bridge_app.auth import PasswordPolicy, ThrottlePolicy
from bridge_app.auth._hashing import PasswordHashing, kdf_params_of


def test_production_hash_meets_rfc_9106_second_recommended_option() -> None:
    policy = PasswordPolicy()  # what build_services() uses
    stored = PasswordHashing(policy.kdf).hash("a-long-enough-password")
    params = extract_parameters(stored)
    # RFC 9106 section 4, second recommended option: argon2id, t=3, m=64 MiB, p=4,
    # 128-bit salt, 256-bit tag (argon2-cffi names it RFC_9106_LOW_MEMORY).
    assert params.type is Type.ID
    assert params.time_cost >= RFC_9106_LOW_MEMORY.time_cost == 3
    assert params.memory_cost >= RFC_9106_LOW_MEMORY.memory_cost == 64 * 1024
    assert params.parallelism >= RFC_9106_LOW_MEMORY.parallelism == 4
    assert params.salt_len >= 16
    assert params.hash_len >= 32
    # the data-key wrapping uses the cost recorded in the hash
    assert kdf_params_of(stored) == policy.kdf


def test_production_throttle_locks_for_a_while_after_a_few_failures() -> None:
    throttle = ThrottlePolicy()
    assert throttle.max_failures == 5
    assert throttle.lock_seconds == 15 * 60
    delays = [throttle.delay_after(n) for n in range(1, 6)]
    assert delays == sorted(delays)
    assert delays[0] > 0
