"""Protect small secrets at rest with what the OS offers to one user account.

On Windows that is DPAPI (``CryptProtectData``): the bytes can be decrypted only by the
same Windows user (on this computer, or wherever a roaming profile follows them). A file
mode such as 0600 means nothing on NTFS, and the ACL a folder inherits is whatever IT or
an earlier install left there; DPAPI does not depend on either. POSIX has no equivalent
for a file, so the key file relies on its 0600 mode there (``os_protector`` is None).
"""

from __future__ import annotations

import sys
from typing import Protocol

# Binds the protected bytes to this application: another program running as the same user
# cannot unprotect them without knowing this value (DPAPI's "optional entropy").
_ENTROPY = b"litellm-bridge/database-key/v1"
_CRYPTPROTECT_UI_FORBIDDEN = 0x1


class SecretProtector(Protocol):
    tag: str  # written in front of the protected text, e.g. "dpapi"
    description: str  # for messages: "Windows DPAPI (this user only)"

    def protect(self, data: bytes) -> bytes: ...

    def unprotect(self, data: bytes) -> bytes:
        """Raises OSError when the bytes belong to another user or computer, or are damaged."""
        ...


if sys.platform == "win32":
    import ctypes
    from ctypes import wintypes

    class _Blob(ctypes.Structure):
        _fields_ = (("cbData", wintypes.DWORD), ("pbData", ctypes.POINTER(ctypes.c_char)))

    _crypt32 = ctypes.WinDLL("crypt32", use_last_error=True)
    _kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    _BLOB_P = ctypes.POINTER(_Blob)
    _crypt32.CryptProtectData.argtypes = (
        _BLOB_P,
        wintypes.LPCWSTR,
        _BLOB_P,
        ctypes.c_void_p,
        ctypes.c_void_p,
        wintypes.DWORD,
        _BLOB_P,
    )
    _crypt32.CryptProtectData.restype = wintypes.BOOL
    _crypt32.CryptUnprotectData.argtypes = (
        _BLOB_P,
        ctypes.POINTER(wintypes.LPWSTR),
        _BLOB_P,
        ctypes.c_void_p,
        ctypes.c_void_p,
        wintypes.DWORD,
        _BLOB_P,
    )
    _crypt32.CryptUnprotectData.restype = wintypes.BOOL
    _kernel32.LocalFree.argtypes = (ctypes.c_void_p,)
    _kernel32.LocalFree.restype = ctypes.c_void_p

    def _blob(data: bytes) -> tuple[_Blob, ctypes.Array[ctypes.c_char]]:
        buffer = ctypes.create_string_buffer(data, len(data))
        return _Blob(len(data), ctypes.cast(buffer, ctypes.POINTER(ctypes.c_char))), buffer

    def _take(blob: _Blob) -> bytes:
        try:
            return ctypes.string_at(blob.pbData, blob.cbData)
        finally:
            _kernel32.LocalFree(ctypes.cast(blob.pbData, ctypes.c_void_p))

    class DpapiProtector:
        tag = "dpapi"
        description = "Windows DPAPI (readable only by this Windows user)"

        def protect(self, data: bytes) -> bytes:
            source, _keep = _blob(data)
            entropy, _keep_entropy = _blob(_ENTROPY)
            out = _Blob()
            ok = _crypt32.CryptProtectData(
                ctypes.byref(source),
                "LiteLLM Bridge database key",
                ctypes.byref(entropy),
                None,
                None,
                _CRYPTPROTECT_UI_FORBIDDEN,
                ctypes.byref(out),
            )
            if not ok:
                raise ctypes.WinError(ctypes.get_last_error())
            return _take(out)

        def unprotect(self, data: bytes) -> bytes:
            source, _keep = _blob(data)
            entropy, _keep_entropy = _blob(_ENTROPY)
            out = _Blob()
            ok = _crypt32.CryptUnprotectData(
                ctypes.byref(source),
                None,
                ctypes.byref(entropy),
                None,
                None,
                _CRYPTPROTECT_UI_FORBIDDEN,
                ctypes.byref(out),
            )
            if not ok:
                raise ctypes.WinError(ctypes.get_last_error())
            return _take(out)


def os_protector() -> SecretProtector | None:
    """DPAPI on Windows; None where the OS offers nothing for a file (POSIX: mode 0600)."""
    if sys.platform == "win32":
        return DpapiProtector()
    return None
