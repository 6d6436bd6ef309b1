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
   at a time, 8 chains of adds in flight (16 accumulators spill). GCC's own vectorisation of this loop (SSE2, gathers emulated
   lane by lane) measured 3x slower than the scalar code, so it is turned off. */
#if defined(__GNUC__) && !defined(__clang__)
#define TSB_SELL_SCALAR __attribute__((optimize("no-tree-vectorize")))
#else
#define TSB_SELL_SCALAR
#endif

TSB_SELL_SCALAR
static void tsb_sell_f32_c(ptrdiff_t n_slices, const int* ptr, const float* d,
                           const int* ix, const float* x, float* acc) {
    for (ptrdiff_t s = 0; s < 2 * n_slices; s++) {  /* half slices: 8 lanes */
        const ptrdiff_t h = 8 * (s % 2), k0 = ptr[s / 2], k1 = ptr[s / 2 + 1];
        float a[8];
        for (int l = 0; l < 8; l++) a[l] = acc[8 * s + l];
        for (ptrdiff_t k = k0; k < k1; k++) {
            const float* dk = d + TSB_SELL_C * k + h;
            const int* ik = ix + TSB_SELL_C * k + h;
            for (int l = 0; l < 8; l++) a[l] = a[l] + dk[l] * x[ik[l]];
        }
        for (int l = 0; l < 8; l++) acc[8 * s + l] = a[l];
    }
}

TSB_SELL_SCALAR
static void tsb_sell_f64_c(ptrdiff_t n_slices, const int* ptr, const double* d,
                           const int* ix, const double* x, double* acc) {
    for (ptrdiff_t s = 0; s < 2 * n_slices; s++) {  /* half slices: 8 lanes */
        const ptrdiff_t h = 8 * (s % 2), k0 = ptr[s / 2], k1 = ptr[s / 2 + 1];
        double a[8];
        for (int l = 0; l < 8; l++) a[l] = acc[8 * s + l];
        for (ptrdiff_t k = k0; k < k1; k++) {
            const double* dk = d + TSB_SELL_C * k + h;
            const int* ik = ix + TSB_SELL_C * k + h;
            for (int l = 0; l < 8; l++) a[l] = a[l] + dk[l] * x[ik[l]];
        }
        for (int l = 0; l < 8; l++) acc[8 * s + l] = a[l];
    }
}

#if TSB_SELL_X86
__attribute__((target("avx2")))
static void tsb_sell_f32_avx2(ptrdiff_t n_slices, const int* ptr, const float* d,
                              const int* ix, const float* x, float* acc) {
    for (ptrdiff_t s = 0; s < n_slices; s++) {
        __m256 a0 = _mm256_loadu_ps(acc + TSB_SELL_C * s);
        __m256 a1 = _mm256_loadu_ps(acc + TSB_SELL_C * s + 8);
        for (ptrdiff_t k = ptr[s]; k < ptr[s + 1]; k++) {
            const float* dk = d + TSB_SELL_C * k;
            const int* ik = ix + TSB_SELL_C * k;
            __m256 x0 = _mm256_i32gather_ps(x, _mm256_loadu_si256((const __m256i*)ik), 4);
            __m256 x1 = _mm256_i32gather_ps(
                x, _mm256_loadu_si256((const __m256i*)(ik + 8)), 4);
            a0 = _mm256_add_ps(a0, _mm256_mul_ps(_mm256_loadu_ps(dk), x0));
            a1 = _mm256_add_ps(a1, _mm256_mul_ps(_mm256_loadu_ps(dk + 8), x1));
        }
        _mm256_storeu_ps(acc + TSB_SELL_C * s, a0);
        _mm256_storeu_ps(acc + TSB_SELL_C * s + 8, a1);
    }
}

__attribute__((target("avx2")))
static void tsb_sell_f64_avx2(ptrdiff_t n_slices, const int* ptr, const double* d,
                              const int* ix, const double* x, double* acc) {
    for (ptrdiff_t s = 0; s < n_slices; s++) {
        __m256d a[4];
        for (int q = 0; q < 4; q++) a[q] = _mm256_loadu_pd(acc + TSB_SELL_C * s + 4 * q);
        for (ptrdiff_t k = ptr[s]; k < ptr[s + 1]; k++) {
            const double* dk = d + TSB_SELL_C * k;
            const int* ik = ix + TSB_SELL_C * k;
            for (int q = 0; q < 4; q++) {
                __m256d xq = _mm256_i32gather_pd(
                    x, _mm_loadu_si128((const __m128i*)(ik + 4 * q)), 8);
                a[q] = _mm256_add_pd(a[q], _mm256_mul_pd(_mm256_loadu_pd(dk + 4 * q), xq));
            }
        }
        for (int q = 0; q < 4; q++) _mm256_storeu_pd(acc + TSB_SELL_C * s + 4 * q, a[q]);
    }
}

__attribute__((target("avx512f")))
static void tsb_sell_f32_avx512(ptrdiff_t n_slices, const int* ptr, const float* d,
                                const int* ix, const float* x, float* acc) {
    for (ptrdiff_t s = 0; s < n_slices; s++) {
        __m512 a = _mm512_loadu_ps(acc + TSB_SELL_C * s);
        for (ptrdiff_t k = ptr[s]; k < ptr[s + 1]; k++) {
            __m512 xk = _mm512_i32gather_ps(_mm512_loadu_si512(ix + TSB_SELL_C * k), x, 4);
            a = _mm512_add_ps(a, _mm512_mul_ps(_mm512_loadu_ps(d + TSB_SELL_C * k), xk));
        }
        _mm512_storeu_ps(acc + TSB_SELL_C * s, a);
    }
}

__attribute__((target("avx512f")))
static void tsb_sell_f64_avx512(ptrdiff_t n_slices, const int* ptr, const double* d,
                                const int* ix, const double* x, double* acc) {
    for (ptrdiff_t s = 0; s < n_slices; s++) {
        __m512d a0 = _mm512_loadu_pd(acc + TSB_SELL_C * s);
        __m512d a1 = _mm512_loadu_pd(acc + TSB_SELL_C * s + 8);
        for (ptrdiff_t k = ptr[s]; k < ptr[s + 1]; k++) {
            const double* dk = d + TSB_SELL_C * k;
            const int* ik = ix + TSB_SELL_C * k;
            __m512d x0 = _mm512_i32gather_pd(_mm256_loadu_si256((const __m256i*)ik), x, 8);
            __m512d x1 = _mm512_i32gather_pd(
                _mm256_loadu_si256((const __m256i*)(ik + 8)), x, 8);
            a0 = _mm512_add_pd(a0, _mm512_mul_pd(_mm512_loadu_pd(dk), x0));
            a1 = _mm512_add_pd(a1, _mm512_mul_pd(_mm512_loadu_pd(dk + 8), x1));
        }
        _mm512_storeu_pd(acc + TSB_SELL_C * s, a0);
        _mm512_storeu_pd(acc + TSB_SELL_C * s + 8, a1);
    }
}
#endif

/* The product of every slice with the instruction set isa (tsb_esn_sell_isa). */
static void tsb_sell_f32(int isa, ptrdiff_t n_slices, const int* ptr, const float* d,
                         const int* ix, const float* x, float* acc) {
#if TSB_SELL_X86
    if (isa == 2) { tsb_sell_f32_avx512(n_slices, ptr, d, ix, x, acc); return; }
    if (isa == 1) { tsb_sell_f32_avx2(n_slices, ptr, d, ix, x, acc); return; }
#endif
    (void)isa;
    tsb_sell_f32_c(n_slices, ptr, d, ix, x, acc);
}

static void tsb_sell_f64(int isa, ptrdiff_t n_slices, const int* ptr, const double* d,
                         const int* ix, const double* x, double* acc) {
#if TSB_SELL_X86
    if (isa == 2) { tsb_sell_f64_avx512(n_slices, ptr, d, ix, x, acc); return; }
    if (isa == 1) { tsb_sell_f64_avx2(n_slices, ptr, d, ix, x, acc); return; }
#endif
    (void)isa;
    tsb_sell_f64_c(n_slices, ptr, d, ix, x, acc);
}

#endif /* TSBPTT_ESN_SELL_H */
