from __future__ import annotations

import pytest

from bridge_app.crypto import (
    CryptoError,
    KdfParams,
    derive_wrapping_key,
    new_data_key,
    new_salt,
    open_sealed,
    seal,
    unwrap_data_key,
    wrap_data_key,
)

FAST = KdfParams(time_cost=1, memory_cost_kib=8 * 1024, parallelism=1)


def test_sealed_value_round_trips_and_hides_the_plaintext() -> None:
    key = new_data_key()
    sealed = seal(key, b"corp-secret-value", context="env:1:API_KEY")
    assert b"corp-secret-value" not in sealed
    assert open_sealed(key, sealed, context="env:1:API_KEY") == b"corp-secret-value"
    assert seal(key, b"x", context="c") != seal(key, b"x", context="c")  # fresh nonce


def test_sealed_value_refuses_another_key_context_or_a_flipped_bit() -> None:
    key = new_data_key()
    sealed = seal(key, b"value", context="env:1:A")
    with pytest.raises(CryptoError):
        open_sealed(new_data_key(), sealed, context="env:1:A")
    with pytest.raises(CryptoError):
        open_sealed(key, sealed, context="env:2:A")  # moved to another owner's row
    tampered = bytearray(sealed)
    tampered[-1] ^= 1
    with pytest.raises(CryptoError):
        open_sealed(key, bytes(tampered), context="env:1:A")
    with pytest.raises(CryptoError, match="damaged"):
        open_sealed(key, b"\x01short", context="env:1:A")


def test_data_key_envelope_opens_only_with_the_right_password() -> None:
    salt = new_salt()
    data_key = new_data_key()
    wrapped = wrap_data_key(derive_wrapping_key("right horse", salt, FAST), data_key, user_id=7)
    assert unwrap_data_key(derive_wrapping_key("right horse", salt, FAST), wrapped, user_id=7) == (
        data_key
    )
    with pytest.raises(CryptoError):
        unwrap_data_key(derive_wrapping_key("wrong horse", salt, FAST), wrapped, user_id=7)
    with pytest.raises(CryptoError):
        unwrap_data_key(derive_wrapping_key("right horse", salt, FAST), wrapped, user_id=8)
