/*
 * Test-environment only: the C99 complex functions that Wine 8.0's ucrtbase.dll leaves as
 * stubs, with the Microsoft ABI, in a DLL of their own (ucrtcplx.dll). It never ships.
 *
 * Why: Wine 8.0 implements only _cabs, creal and _Cbuild of the complex family; every other
 * one (crealf, cexp, cpow, ...) aborts the process when called. numpy's extension modules
 * import about forty of them from api-ms-win-crt-math-l1-1-0.dll and _multiarray_umath calls
 * crealf while it initialises, so `import numpy` dies -- and LiteLLM's proxy imports numpy
 * unconditionally (proxy_server -> transcribe_passthrough_logging_handler -> soundfile).
 * Wine resolves api-ms-win-* names through its API set schema, never from a file, so no DLL
 * override can replace them: scripts/windows/pe_imports.py instead repoints the affected
 * modules' import (same bytes, shorter name) to this DLL, which implements the complex
 * functions and forwards every other ucrtbase export to Wine's ucrtbase (the forwarders are
 * generated from Wine's ucrtbase.dll into the .def file at build time).
 *
 * The Microsoft types: _Dcomplex = struct { double _Val[2]; }, _Fcomplex = struct { float
 * _Val[2]; }, _Lcomplex = struct { long double _Val[2]; } with MSVC's 64-bit long double,
 * so the "l" functions are the double ones. As structs (not GCC _Complex values) they are
 * passed and returned exactly as MSVC-built callers expect on x64. The arithmetic is
 * MinGW's own C99 complex library, linked statically.
 */
#include <complex.h>
#include <math.h>

typedef struct { double v[2]; } Dc;
typedef struct { float v[2]; } Fc;

static inline double _Complex from_d(Dc z) { return __builtin_complex(z.v[0], z.v[1]); }
static inline float _Complex from_f(Fc z) { return __builtin_complex(z.v[0], z.v[1]); }
static inline Dc to_d(double _Complex z) { Dc r = {{__real__ z, __imag__ z}}; return r; }
static inline Fc to_f(float _Complex z) { Fc r = {{__real__ z, __imag__ z}}; return r; }


/* MinGW's ctanh overflows to NaN for a large real part (numpy's tan(1e-3+1e3j) must be 1j):
 * Kahan's formula, as in FreeBSD's ctanh, for finite arguments. ctan(z) = -i ctanh(iz). */
static double _Complex tanh_c(double _Complex z)
{
    double x = __real__ z, y = __imag__ z;
    if (!isfinite(x) || !isfinite(y))
        return ctanh(z);
    if (fabs(x) >= 22)
        return __builtin_complex(copysign(1, x), copysign(0, sin(y) * cos(y)));
    double t = tan(y), beta = 1 + t * t, s = sinh(x), rho = sqrt(1 + s * s);
    double denom = 1 + beta * s * s;
    return __builtin_complex(beta * rho * s / denom, t / denom);
}
static double _Complex tan_c(double _Complex z)
{
    double _Complex w = tanh_c(__builtin_complex(-__imag__ z, __real__ z));
    return __builtin_complex(__imag__ w, -__real__ w);
}

/* complex -> complex, in double, float and (MSVC) long double */
#define UNARY(fn, dexpr, fexpr)                                              \
    Dc w_##fn(Dc z) { double _Complex x = from_d(z); return to_d(dexpr); } \
    Dc w_##fn##l(Dc z) { double _Complex x = from_d(z); return to_d(dexpr); } \
    Fc w_##fn##f(Fc z) { float _Complex x = from_f(z); return to_f(fexpr); }

UNARY(cacos, cacos(x), cacosf(x))
UNARY(cacosh, cacosh(x), cacoshf(x))
UNARY(casin, casin(x), casinf(x))
UNARY(casinh, casinh(x), casinhf(x))
UNARY(catan, catan(x), catanf(x))
UNARY(catanh, catanh(x), catanhf(x))
UNARY(ccos, ccos(x), ccosf(x))
UNARY(ccosh, ccosh(x), ccoshf(x))
UNARY(cexp, cexp(x), cexpf(x))
UNARY(clog, clog(x), clogf(x))
UNARY(clog10, clog(x) / M_LN10, clogf(x) / (float)M_LN10)
UNARY(conj, conj(x), conjf(x))
UNARY(cproj, cproj(x), cprojf(x))
UNARY(csin, csin(x), csinf(x))
UNARY(csinh, csinh(x), csinhf(x))
UNARY(csqrt, csqrt(x), csqrtf(x))
UNARY(ctan, tan_c(x), (float _Complex)tan_c(x))
UNARY(ctanh, tanh_c(x), (float _Complex)tanh_c(x))

/* complex -> real */
#define TO_REAL(fn, dexpr, fexpr)                                            \
    double w_##fn(Dc z) { double _Complex x = from_d(z); return dexpr; } \
    double w_##fn##l(Dc z) { double _Complex x = from_d(z); return dexpr; } \
    float w_##fn##f(Fc z) { float _Complex x = from_f(z); return fexpr; }

TO_REAL(cabs, cabs(x), cabsf(x))
TO_REAL(carg, carg(x), cargf(x))
TO_REAL(creal, __real__ x, __real__ x)
TO_REAL(cimag, __imag__ x, __imag__ x)
TO_REAL(norm, __real__ x * __real__ x + __imag__ x * __imag__ x,
        __real__ x * __real__ x + __imag__ x * __imag__ x)

double w__cabs(Dc z) { return cabs(from_d(z)); } /* _cabs takes struct _complex */

Dc w_cpow(Dc a, Dc b) { return to_d(cpow(from_d(a), from_d(b))); }
Dc w_cpowl(Dc a, Dc b) { return to_d(cpow(from_d(a), from_d(b))); }
Fc w_cpowf(Fc a, Fc b) { return to_f(cpowf(from_f(a), from_f(b))); }

/* MSVC's constructors and multiplications (its C has no complex operators) */
Dc w__Cbuild(double re, double im) { Dc r = {{re, im}}; return r; }
Dc w__LCbuild(double re, double im) { Dc r = {{re, im}}; return r; }
Fc w__FCbuild(float re, float im) { Fc r = {{re, im}}; return r; }
Dc w__Cmulcc(Dc a, Dc b) { return to_d(from_d(a) * from_d(b)); }
Dc w__LCmulcc(Dc a, Dc b) { return to_d(from_d(a) * from_d(b)); }
Fc w__FCmulcc(Fc a, Fc b) { return to_f(from_f(a) * from_f(b)); }
Dc w__Cmulcr(Dc a, double b) { Dc r = {{a.v[0] * b, a.v[1] * b}}; return r; }
Dc w__LCmulcr(Dc a, double b) { Dc r = {{a.v[0] * b, a.v[1] * b}}; return r; }
Fc w__FCmulcr(Fc a, float b) { Fc r = {{a.v[0] * b, a.v[1] * b}}; return r; }
