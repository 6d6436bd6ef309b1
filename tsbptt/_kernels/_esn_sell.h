/* The echo-state reservoir's sparse product for one row, vectorised across units.
 *
 * Layout (SELL-C, C = 16): the units are cut into slices of 16 consecutive ones;
 * slice s holds K_s = (the largest CSR count among its units) "k-rows" of 16
 * entries, entry (k, l) being unit (16 s + l)'s k-th CSR term (weight d, column
 * index ix). Units with fewer terms are padded with weight -0.0 and the index of
 * a slot of x that always holds +0.0: the padded term is (-0.0) * (+0.0) = -0.0,
 * and a + (-0.0) == a bit for bit for every a (IEEE 754, round to nearest:
 * +0 + -0 = +0, -0 + -0 = -0, NaN stays NaN). So each unit adds exactly its own
 * CSR terms, in CSR order, one multiply and one add each, as the batch path does
 * lane by lane: the same bits (tests/kernels/test_esn_kernel.py).
 *
 * One accumulator vector per slice, a gather of x at the k-th indices, k = 0 ..
 * K_s - 1: 16 independent chains instead of the scalar path's four, no masks.
 *
 * Multiply, then add: never fused. The ESN module is compiled with
 * -ffp-contract=off (setup.py's baseline flags), which the functions compiled for
 * AVX2/AVX-512 below inherit, so every instruction set gives the same bits; the
 * choice (tsb_esn_sell_isa) only changes the speed.
 */
#ifndef TSBPTT_ESN_SELL_H
#define TSBPTT_ESN_SELL_H

#include <stddef.h>

#define TSB_SELL_C 16

#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__)
#define TSB_SELL_X86 1
#include <immintrin.h>
#else
#define TSB_SELL_X86 0
#endif

/* 2: AVX-512F, 1: AVX2, 0: portable C (asked of the compiler's runtime, which
   also checks that the operating system saves the wider registers). */
static int tsb_esn_sell_isa(void) {
#if TSB_SELL_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return 2;
    if (__builtin_cpu_supports("avx2")) return 1;
#endif
    return 0;
}

/* acc[16 s + l] += sum over k of d[16 k + l] * x[ix[16 k + l]], k from ptr[s] to
   ptr[s + 1] - 1, for every slice s < n_slices, in k order. Scalar: half a slice
   at a time, 8 chains of adds in flight (16 accumulators spill). GCC's own
   vectorisation of this loop (SSE2, gathers emulated lane by lane) measured 3x
   slower than the scalar code, so it is turned off. */
#if defined(__GNUC__) && !defined(__clang__)
#define TSB_SELL_SCALAR __attribute__((optimize("no-tree-vectorize")))
#else
#define TSB_SELL_SCALAR
#endif

/* One definition per kernel, stamped out for float and for double: the twins
   differ in their types, vector widths and intrinsics' names only, so a change to
   the loop cannot reach one dtype and miss the other. */
#define TSB_SELL_DEFINE_C(SUFFIX, T)                                                \
    TSB_SELL_SCALAR                                                                 \
    static void tsb_sell_##SUFFIX##_c(ptrdiff_t n_slices, const int* ptr,           \
                                      const T* d, const int* ix, const T* x,        \
                                      T* acc) {                                     \
        for (ptrdiff_t s = 0; s < 2 * n_slices; s++) {  /* half slices: 8 lanes */  \
            const ptrdiff_t h = 8 * (s % 2), k0 = ptr[s / 2], k1 = ptr[s / 2 + 1];  \
            T a[8];                                                                 \
            for (int l = 0; l < 8; l++) a[l] = acc[8 * s + l];                      \
            for (ptrdiff_t k = k0; k < k1; k++) {                                   \
                const T* dk = d + TSB_SELL_C * k + h;                               \
                const int* ik = ix + TSB_SELL_C * k + h;                            \
                for (int l = 0; l < 8; l++) a[l] = a[l] + dk[l] * x[ik[l]];         \
            }                                                                       \
            for (int l = 0; l < 8; l++) acc[8 * s + l] = a[l];                      \
        }                                                                           \
    }

TSB_SELL_DEFINE_C(f32, float)
TSB_SELL_DEFINE_C(f64, double)

#if TSB_SELL_X86
/* The gather of W lanes of x at W consecutive indices, per instruction set and
   dtype (W = the vector's width: 8 or 4 in AVX2, 16 or 8 in AVX-512). */
__attribute__((target("avx2")))
static inline __m256 tsb_sell_gather_f32_avx2(const float* x, const int* i) {
    return _mm256_i32gather_ps(x, _mm256_loadu_si256((const __m256i*)i), 4);
}

__attribute__((target("avx2")))
static inline __m256d tsb_sell_gather_f64_avx2(const double* x, const int* i) {
    return _mm256_i32gather_pd(x, _mm_loadu_si128((const __m128i*)i), 8);
}

__attribute__((target("avx512f")))
static inline __m512 tsb_sell_gather_f32_avx512(const float* x, const int* i) {
    return _mm512_i32gather_ps(_mm512_loadu_si512(i), x, 4);
}

__attribute__((target("avx512f")))
static inline __m512d tsb_sell_gather_f64_avx512(const double* x, const int* i) {
    return _mm512_i32gather_pd(_mm256_loadu_si256((const __m256i*)i), x, 8);
}

/* A slice's 16 lanes in 16 / W vectors of W lanes (V): one accumulator each, one
   gather, one multiply and one add per vector and k-row. P is the intrinsics'
   prefix and width (_mm256, _mm512), S their dtype suffix (ps, pd). */
#define TSB_SELL_DEFINE_VEC(SUFFIX, ISA, TARGET, T, V, W, P, S)                     \
    __attribute__((target(TARGET)))                                                 \
    static void tsb_sell_##SUFFIX##_##ISA(ptrdiff_t n_slices, const int* ptr,       \
                                          const T* d, const int* ix, const T* x,    \
                                          T* acc) {                                 \
        for (ptrdiff_t s = 0; s < n_slices; s++) {                                  \
            V a[TSB_SELL_C / (W)];                                                  \
            for (int q = 0; q < TSB_SELL_C / (W); q++)                              \
                a[q] = P##_loadu_##S(acc + TSB_SELL_C * s + (W) * q);               \
            for (ptrdiff_t k = ptr[s]; k < ptr[s + 1]; k++) {                       \
                const T* dk = d + TSB_SELL_C * k;                                   \
                const int* ik = ix + TSB_SELL_C * k;                                \
                for (int q = 0; q < TSB_SELL_C / (W); q++) {                        \
                    V xq = tsb_sell_gather_##SUFFIX##_##ISA(x, ik + (W) * q);       \
                    a[q] = P##_add_##S(a[q], P##_mul_##S(P##_loadu_##S(dk + (W) * q), \
                                                         xq));                      \
                }                                                                   \
            }                                                                       \
            for (int q = 0; q < TSB_SELL_C / (W); q++)                              \
                P##_storeu_##S(acc + TSB_SELL_C * s + (W) * q, a[q]);               \
        }                                                                           \
    }

TSB_SELL_DEFINE_VEC(f32, avx2, "avx2", float, __m256, 8, _mm256, ps)
TSB_SELL_DEFINE_VEC(f64, avx2, "avx2", double, __m256d, 4, _mm256, pd)
TSB_SELL_DEFINE_VEC(f32, avx512, "avx512f", float, __m512, 16, _mm512, ps)
TSB_SELL_DEFINE_VEC(f64, avx512, "avx512f", double, __m512d, 8, _mm512, pd)
#endif

/* The product of every slice with the instruction set isa (tsb_esn_sell_isa). */
#if TSB_SELL_X86
#define TSB_SELL_DISPATCH_X86(SUFFIX)                                               \
    if (isa == 2) { tsb_sell_##SUFFIX##_avx512(n_slices, ptr, d, ix, x, acc); return; } \
    if (isa == 1) { tsb_sell_##SUFFIX##_avx2(n_slices, ptr, d, ix, x, acc); return; }
#else
#define TSB_SELL_DISPATCH_X86(SUFFIX)
#endif

#define TSB_SELL_DEFINE_DISPATCH(SUFFIX, T)                                         \
    static void tsb_sell_##SUFFIX(int isa, ptrdiff_t n_slices, const int* ptr,      \
                                  const T* d, const int* ix, const T* x, T* acc) {  \
        TSB_SELL_DISPATCH_X86(SUFFIX)                                               \
        (void)isa;                                                                  \
        tsb_sell_##SUFFIX##_c(n_slices, ptr, d, ix, x, acc);                        \
    }

TSB_SELL_DEFINE_DISPATCH(f32, float)
TSB_SELL_DEFINE_DISPATCH(f64, double)

#endif /* TSBPTT_ESN_SELL_H */
