/* Vectorisable exp and tanh for the element-wise gate passes: glibc's exp, expf and
 * tanh, and the kernels' own float32 tanh (tsb_tanhf, below).
 *
 * glibc ships SIMD variants of expf/exp/tanhf/tanh in libmvec (picked up through
 * libm.so), but declares them only under -ffast-math. We do not build with
 * -ffast-math: on GCC < 13 it links crtfastmath.o, which turns on flush-to-zero
 * for the whole Python process. Declaring the SIMD variants ourselves lets GCC
 * vectorise the gate loops (SSE2 4-wide floats by default) while every other
 * floating-point rule stays IEEE. Elsewhere (clang, musl, macOS, non-x86) the
 * plain scalar functions are used and results are just as correct.
 *
 * A value gets the same result wherever it sits in a row: the gate loops run over
 * one sample's hidden units, so the vector/scalar split depends only on H, never
 * on the batch or thread count.
 */
#ifndef TSBPTT_SIMD_MATH_H
#define TSBPTT_SIMD_MATH_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && \
    defined(__GLIBC__) && defined(__GLIBC_MINOR__) && \
    (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 35)) && \
    !defined(TSBPTT_NO_LIBMVEC)
__attribute__((__simd__("notinbranch"))) extern float expf(float);
__attribute__((__simd__("notinbranch"))) extern double exp(double);
__attribute__((__simd__("notinbranch"))) extern float tanhf(float);
__attribute__((__simd__("notinbranch"))) extern double tanh(double);
#endif

/* a * b + c, fused (one rounding) in the builds that have FMA, as their micro-kernels
 * are, and two roundings in the portable one: explicit, so the result does not hang
 * on the compiler's -ffp-contract default (off under -std=c11, for one). */
#ifdef __FMA__
#define TSB_MADDF(a, b, c) fmaf((a), (b), (c))
#else
#define TSB_MADDF(a, b, c) ((a) * (b) + (c))
#endif

/* tanh for float32, the kernels' own: tanh(x) = x P(x^2) / Q(x^2) with P of degree
 * 5 and Q of degree 4 in x^2, for |x| < 9; +-1 beyond (where tanh(x) rounds to
 * +-1, or from 9 to 9.01 to one unit in the last place (ulp) below). The
 * coefficients are a near-minimax fit of the relative error on [0, 9] (iteratively
 * reweighted least squares, 1.3e-9 in double), rounded to float.
 * - Error, against tanh in double over every float (2.1e9 positive ones; the
 *   function is odd): at most 4.84 ulp where the multiply-adds are fused (AVX2,
 *   AVX-512 builds), 6.21 ulp where they are not (portable build); 1.3% of the
 *   floats are more than 1 ulp off. glibc's tanhf: 1.03 ulp. A float32 gate's
 *   pre-activation, a sum of F + H + 1 rounded products, carries far more error.
 * - Speed: no table and no exp, so the gate loops vectorise it as plain arithmetic:
 *   1.7-2.0x faster than glibc 2.36's 8-wide tanhf (which reads a table with scalar
 *   loads) on rows of 32-256 values, 0.48 against 0.96 ns a value at 256, on a Zen 3
 *   core, AVX2 (benchmarks/bench_tanhf.c, which also makes the sweep above; the
 *   coefficients come from tools/fit_tanhf.py).
 * - Special values: NaN gives NaN, +-inf gives +-1, -0 gives -0; |result| <= 1.
 * - The clamp, the sign and NaN are integer operations on the bits: a float compare
 *   against a constant result made GCC branch, and a branch stops vectorisation.
 * Every operation is the same whether the value falls in a vector or the scalar tail
 * of a loop, so its bits do not depend on its position. */
static inline float tsb_tanhf(float x) {
    uint32_t bx, ba, bc, nan_bits, big, br;
    float a, z, p, q, r;
    memcpy(&bx, &x, sizeof bx);
    ba = bx & 0x7fffffffu;                            /* |x| */
    bc = ba < 0x41100000u ? ba : 0x41100000u;         /* min(|x|, 9); NaN -> 9 */
    nan_bits = -(uint32_t)(ba > 0x7f800000u) & 0x7fc00000u;
    memcpy(&a, &bc, sizeof a);
    z = a * a;
    p = TSB_MADDF(-1.224608782e-11f, z, 3.064231890e-08f);
    p = TSB_MADDF(p, z, 2.803122698e-05f);
    p = TSB_MADDF(p, z, 3.869503969e-03f);
    p = TSB_MADDF(p, z, 1.368085295e-01f);
    p = TSB_MADDF(p, z, 1.0f);
    q = TSB_MADDF(1.289029115e-06f, z, 3.940706083e-04f);
    q = TSB_MADDF(q, z, 2.725014277e-02f);
    q = TSB_MADDF(q, z, 4.701418579e-01f);
    q = TSB_MADDF(q, z, 1.0f);
    r = a * p / q;
    memcpy(&br, &r, sizeof br);
    br = br < 0x3f800000u ? br : 0x3f800000u;         /* min(r, 1) */
    big = -(uint32_t)(ba >= 0x41100000u);             /* |x| >= 9 (or NaN): 1 */
    br = (br & ~big) | (0x3f800000u & big);
    br = br | nan_bits | (bx & 0x80000000u);          /* NaN back, then x's sign */
    memcpy(&r, &br, sizeof r);
    return r;
}

#endif /* TSBPTT_SIMD_MATH_H */
