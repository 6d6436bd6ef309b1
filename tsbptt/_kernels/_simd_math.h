/* Vectorisable exp and tanh for the element-wise gate passes.
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

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && \
    defined(__GLIBC__) && defined(__GLIBC_MINOR__) && \
    (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 35)) && \
    !defined(TSBPTT_NO_LIBMVEC)
__attribute__((__simd__("notinbranch"))) extern float expf(float);
__attribute__((__simd__("notinbranch"))) extern double exp(double);
__attribute__((__simd__("notinbranch"))) extern float tanhf(float);
__attribute__((__simd__("notinbranch"))) extern double tanh(double);
#endif

#endif /* TSBPTT_SIMD_MATH_H */
