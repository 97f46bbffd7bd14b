/*
 * Test-environment only: a stand-in for Windows' bcryptprimitives.dll, which Wine 8.0 lacks.
 *
 * Every Rust-built extension in the Windows wheel set (cryptography, pydantic-core, jiter,
 * tiktoken, tokenizers, LiteLLM's _native.pyd, uv) imports ProcessPrng from this DLL, the
 * entry point Rust's standard library uses for random bytes on Windows 10+. Without it those
 * modules fail to load under Wine. Real Windows has the DLL; this file never ships.
 *
 * ProcessPrng fills the buffer from the system-preferred RNG, which Wine does implement
 * (bcrypt.BCryptGenRandom). BCryptGenRandom takes a ULONG length, so large requests are
 * served in chunks; the real function never fails, this one only if Wine's RNG does.
 *
 * Built by scripts/windows/setup.sh:
 *   x86_64-w64-mingw32-gcc -shared -O2 -o bcryptprimitives.dll bcryptprimitives.c -lbcrypt
 */
#include <windows.h>
#include <bcrypt.h>

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    while (len > 0) {
        ULONG chunk = len > 0x40000000 ? 0x40000000 : (ULONG)len;
        if (!BCRYPT_SUCCESS(BCryptGenRandom(NULL, data, chunk, BCRYPT_USE_SYSTEM_PREFERRED_RNG)))
            return FALSE;
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}
