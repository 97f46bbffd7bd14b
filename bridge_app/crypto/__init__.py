"""Authenticated encryption for values at rest, and per-user key envelopes.

The database is already encrypted with the install's key; values that belong to one
person are sealed again with that person's data key, so that neither another local
account nor someone holding only the database key can read them.
"""

from bridge_app.crypto._envelope import (
    DATA_KEY_BYTES,
    KdfParams,
    derive_wrapping_key,
    new_data_key,
    new_salt,
    unwrap_data_key,
    wrap_data_key,
)
from bridge_app.crypto._seal import CryptoError, open_sealed, seal

__all__ = [
    "DATA_KEY_BYTES",
    "CryptoError",
    "KdfParams",
    "derive_wrapping_key",
    "new_data_key",
    "new_salt",
    "open_sealed",
    "seal",
    "unwrap_data_key",
    "wrap_data_key",
]
