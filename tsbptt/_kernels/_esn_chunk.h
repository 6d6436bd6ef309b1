/* The echo-state reservoir's pre-activations for a chunk of 16 rows (the batch path).
 *
 * The state of a chunk is kept position x lane: row q of xs holds the 16 lanes
 * (rows of the batch) of the unit at position q of the SELL-16 packing
 * (_esn_sell.h, _esn.pyx's _Packed: units sorted by their number of CSR terms,
 * padded with weight -0.0 at the index n_pad, a row of xs that holds +0.0 in
 * every lane). So one vector (or 2 / 4, by width and dtype) holds one unit's 16
 * lanes, and a CSR term is one broadcast weight times one row of xs, added to
 * that unit's accumulator.
 *
 * For every position q < 16 n_slices and lane l < 16:
 *   acc[16 q + l] = bias[q] + sum_f w_in[f][q] u[16 f + l]         (feature order)
 *                 + sum_k d[16 k + j] xs[ix[16 k + j] + l]           (CSR order)
 *                 + sum_o w_fb[o][q] y[16 o + l]                    (feedback order)
 * with j = q % 16, k over the slice's k-rows (ix: the packed index times 16,
 * the offset of the row of xs, so the address needs no shift), one multiply then one add per
 * term, left to right: exactly the scalar batch path's order, so each lane gets
 * the bits it got from it (a padded term adds (-0.0) * (+0.0) = -0.0, which
 * leaves any sum unchanged, bit for bit). Multiply, then add, never fused: the
 * module is compiled with -ffp-contract=off, which the AVX2 / AVX-512 functions
 * below inherit, so every instruction set gives the same bits and the choice
 * (tsb_esn_sell_isa) only changes the speed.
 *
 * The scalar path summed each unit's terms in one dependent chain of adds (one
 * term per add latency). Here G units of a slice are advanced together, k-row by
 * k-row (G x the vectors per unit independent chains, 8 in every version), so the
 * adds' latency is hidden; each unit still adds its own terms in its own order.
 *
 * f32 and f64 versions are stamped from one macro per instruction set.
 */
#ifndef TSBPTT_ESN_CHUNK_H
#define TSBPTT_ESN_CHUNK_H

#include <stddef.h>
#include <stdlib.h>

#include <stdint.h>
#include <string.h>

#include "_esn_sell.h"  /* TSB_SELL_C (16), TSB_SELL_X86, tsb_esn_sell_isa */

/* The k-row loop of G units (positions q0 .. q0 + G - 1 of slice s), NV vectors
   of VN lanes per unit. VEC, SET1, LOAD, STORE, ADD, MUL: the vector type and its
   operations; T the scalar type. Arguments as tsb_chunk_<T> (below). */
#define TSB_CHUNK_BODY(T, VEC, SET1, LOAD, STORE, ADD, MUL, G, NV, VN)                  \
    for (ptrdiff_t s = 0; s < n_slices; s++) {                                          \
        for (ptrdiff_t g0 = 0; g0 < TSB_SELL_C; g0 += (G)) {                            \
            const ptrdiff_t q0 = TSB_SELL_C * s + g0;                                   \
            VEC a[(G)][(NV)];                                                           \
            _Pragma("GCC unroll 16") for (int g = 0; g < (G); g++)                      \
                _Pragma("GCC unroll 4") for (int v = 0; v < (NV); v++)                  \
                    a[g][v] = SET1(bias[q0 + g]);                                       \
            for (ptrdiff_t f = 0; f < n_in; f++) {                                      \
                const T* wf = w_in + f * n_pad + q0;                                    \
                const T* uf = u + TSB_SELL_C * f;                                       \
                _Pragma("GCC unroll 16") for (int g = 0; g < (G); g++) {                \
                    const VEC w = SET1(wf[g]);                                          \
                    _Pragma("GCC unroll 4") for (int v = 0; v < (NV); v++)              \
                        a[g][v] = ADD(a[g][v], MUL(w, LOAD(uf + (VN) * v)));            \
                }                                                                       \
            }                                                                           \
            for (ptrdiff_t k = ptr[s]; k < ptr[s + 1]; k++) {                           \
                const T* dk = d + TSB_SELL_C * k + g0;                                  \
                const int* ik = ix + TSB_SELL_C * k + g0;                               \
                _Pragma("GCC unroll 16") for (int g = 0; g < (G); g++) {                \
                    const VEC w = SET1(dk[g]);                                          \
                    const T* xr = xs + ik[g];                   \
                    _Pragma("GCC unroll 4") for (int v = 0; v < (NV); v++)              \
                        a[g][v] = ADD(a[g][v], MUL(w, LOAD(xr + (VN) * v)));            \
                }                                                                       \
            }                                                                           \
            for (ptrdiff_t o = 0; o < n_fb; o++) {                                      \
                const T* wo = w_fb + o * n_pad + q0;                                    \
                const T* yo = y + TSB_SELL_C * o;                                       \
                _Pragma("GCC unroll 16") for (int g = 0; g < (G); g++) {                \
                    const VEC w = SET1(wo[g]);                                          \
                    _Pragma("GCC unroll 4") for (int v = 0; v < (NV); v++)              \
                        a[g][v] = ADD(a[g][v], MUL(w, LOAD(yo + (VN) * v)));            \
                }                                                                       \
            }                                                                           \
            _Pragma("GCC unroll 16") for (int g = 0; g < (G); g++)                      \
                _Pragma("GCC unroll 4") for (int v = 0; v < (NV); v++)                  \
                    STORE(acc + TSB_SELL_C * (q0 + g) + (VN) * v, a[g][v]);             \
        }                                                                               \
    }

#define TSB_CHUNK_ARGS(T)                                                               \
    ptrdiff_t n_slices, const int* ptr, const T* d, const int* ix, const T* bias,       \
    ptrdiff_t n_in, const T* w_in, const T* u, ptrdiff_t n_fb, const T* w_fb,           \
    const T* y, const T* xs, T* acc

/* Portable C: one unit at a time, its 16 lanes in an array the compiler keeps in
   vector registers (SSE2: 4 / 8 of them, as many independent chains; contiguous
   loads, no gathers). Two units interleaved measured slower: GCC then kept the
   accumulators in memory. */
#define TSB_CHUNK_C(T)                                                                  \
    static void tsb_chunk_##T##_c(TSB_CHUNK_ARGS(T)) {                                  \
        const ptrdiff_t n_pad = TSB_SELL_C * n_slices;                                  \
        for (ptrdiff_t q = 0; q < n_pad; q++) {                                         \
            const ptrdiff_t s = q / TSB_SELL_C, j = q % TSB_SELL_C;                     \
            T a[TSB_SELL_C];                                                            \
            for (int l = 0; l < TSB_SELL_C; l++) a[l] = bias[q];                        \
            for (ptrdiff_t f = 0; f < n_in; f++) {                                      \
                const T w = w_in[f * n_pad + q];                                        \
                for (int l = 0; l < TSB_SELL_C; l++)                                    \
                    a[l] = a[l] + w * u[TSB_SELL_C * f + l];                            \
            }                                                                           \
            for (ptrdiff_t k = ptr[s]; k < ptr[s + 1]; k++) {                           \
                const T w = d[TSB_SELL_C * k + j];                                      \
                const T* xr = xs + ix[TSB_SELL_C * k + j];                              \
                for (int l = 0; l < TSB_SELL_C; l++) a[l] = a[l] + w * xr[l];           \
            }                                                                           \
            for (ptrdiff_t o = 0; o < n_fb; o++) {                                      \
                const T w = w_fb[o * n_pad + q];                                        \
                for (int l = 0; l < TSB_SELL_C; l++)                                    \
                    a[l] = a[l] + w * y[TSB_SELL_C * o + l];                            \
            }                                                                           \
            for (int l = 0; l < TSB_SELL_C; l++) acc[TSB_SELL_C * q + l] = a[l];        \
        }                                                                               \
    }

TSB_CHUNK_C(float)
TSB_CHUNK_C(double)

#if TSB_SELL_X86
#define TSB_CHUNK_SIMD(T, ISA, TARGET, VEC, SET1, LOAD, STORE, ADD, MUL, G, NV, VN)     \
    __attribute__((target(TARGET)))                                                    \
    static void tsb_chunk_##T##_##ISA(TSB_CHUNK_ARGS(T)) {                              \
        const ptrdiff_t n_pad = TSB_SELL_C * n_slices;                                  \
        TSB_CHUNK_BODY(T, VEC, SET1, LOAD, STORE, ADD, MUL, G, NV, VN)                  \
    }

TSB_CHUNK_SIMD(float, avx512, "avx512f", __m512, _mm512_set1_ps, _mm512_loadu_ps,
               _mm512_storeu_ps, _mm512_add_ps, _mm512_mul_ps, 8, 1, 16)
TSB_CHUNK_SIMD(double, avx512, "avx512f", __m512d, _mm512_set1_pd, _mm512_loadu_pd,
               _mm512_storeu_pd, _mm512_add_pd, _mm512_mul_pd, 4, 2, 8)
TSB_CHUNK_SIMD(float, avx2, "avx2", __m256, _mm256_set1_ps, _mm256_loadu_ps,
               _mm256_storeu_ps, _mm256_add_ps, _mm256_mul_ps, 4, 2, 8)
TSB_CHUNK_SIMD(double, avx2, "avx2", __m256d, _mm256_set1_pd, _mm256_loadu_pd,
               _mm256_storeu_pd, _mm256_add_pd, _mm256_mul_pd, 2, 4, 4)
#endif

/* The pre-activations of every position with the instruction set isa
   (tsb_esn_sell_isa: 2 AVX-512F, 1 AVX2, 0 C). u: (n_in, 16), y: (n_fb, 16),
   xs: (16 n_slices + 1, 16), acc: (16 n_slices, 16); w_in, w_fb: (n_in | n_fb,
   16 n_slices); bias: (16 n_slices,). */
#define TSB_CHUNK_DISPATCH(T)                                                           \
    static void tsb_chunk_##T(int isa, TSB_CHUNK_ARGS(T)) {                             \
        TSB_CHUNK_X86_CASES(T)                                                          \
        (void)isa;                                                                      \
        tsb_chunk_##T##_c(n_slices, ptr, d, ix, bias, n_in, w_in, u, n_fb, w_fb, y,     \
                          xs, acc);                                                     \
    }
#if TSB_SELL_X86
#define TSB_CHUNK_X86_CASES(T)                                                          \
    if (isa == 2) {                                                                     \
        tsb_chunk_##T##_avx512(n_slices, ptr, d, ix, bias, n_in, w_in, u, n_fb, w_fb,   \
                               y, xs, acc);                                             \
        return;                                                                         \
    }                                                                                   \
    if (isa == 1) {                                                                     \
        tsb_chunk_##T##_avx2(n_slices, ptr, d, ix, bias, n_in, w_in, u, n_fb, w_fb, y,  \
                             xs, acc);                                                  \
        return;                                                                         \
    }
#else
#define TSB_CHUNK_X86_CASES(T)
#endif

TSB_CHUNK_DISPATCH(float)
TSB_CHUNK_DISPATCH(double)

/* The leaky tanh of the float32 states, 8 lanes at a time:
 *   xn[i] = keep * xs[i] + leak * tanhf(acc[i]),  i < n (a multiple of 16).
 * The portable step (_esn.pyx) runs the same expression through glibc's 4-wide
 * tanhf (_ZGVbN4v_tanhf, the baseline build's vectorisation); its 8-wide AVX2
 * twin _ZGVdN8v_tanhf returns the same bits for all 2^32 inputs (glibc 2.36,
 * checked exhaustively: tsb_glibc_tanhf_width_mismatches,
 * tests/kernels/test_esn_chunk_path.py, and again on a sample when the module
 * loads, see _esn.pyx's TANHF_WIDE). The AVX-512 16-wide variant does not (64.6 M
 * inputs differ in the last bit), nor do the float64 variants: they are not used.
 * 0 where libmvec is not available (the condition of _simd_math.h). */
/* Where _simd_math.h declares glibc's vector variants (the same test). */
#if TSB_SELL_X86 && !defined(__clang__) && defined(__GLIBC__) && \
    defined(__GLIBC_MINOR__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 35)) && \
    !defined(TSBPTT_NO_LIBMVEC)
#define TSB_TANHF_WIDE 1
#pragma GCC push_options
#pragma GCC target("avx2")
extern __m256 _ZGVdN8v_tanhf(__m256);
extern __m128 _ZGVbN4v_tanhf(__m128);

static void tsb_leaky_tanhf_avx2(ptrdiff_t n, float keep, float leak, const float* xs,
                                 const float* acc, float* xn) {
    const __m256 vk = _mm256_set1_ps(keep), vl = _mm256_set1_ps(leak);
    for (ptrdiff_t i = 0; i < n; i += 8) {
        const __m256 t = _ZGVdN8v_tanhf(_mm256_loadu_ps(acc + i));
        _mm256_storeu_ps(xn + i, _mm256_add_ps(_mm256_mul_ps(vk, _mm256_loadu_ps(xs + i)),
                                               _mm256_mul_ps(vl, t)));
    }
}

/* The float32 inputs of bit pattern start, start + step, ... < stop (at most
   2^32) on which glibc's 8-wide and 4-wide tanhf give different bits (the echo-state
   reservoir's; the cells' own tsb_tanhf is another function). */
static int64_t tsb_glibc_tanhf_width_mismatches(int64_t start, int64_t stop,
                                                int64_t step) {
    int64_t bad = 0;
    float in[8], r4[8], r8[8];
    uint32_t bits[8];
    for (int64_t b = start; b < stop; b += 8 * step) {
        for (int l = 0; l < 8; l++) {
            const int64_t v = b + l * step;
            bits[l] = (uint32_t)(v < stop ? v : start);
        }
        memcpy(in, bits, sizeof in);
        _mm_storeu_ps(r4, _ZGVbN4v_tanhf(_mm_loadu_ps(in)));
        _mm_storeu_ps(r4 + 4, _ZGVbN4v_tanhf(_mm_loadu_ps(in + 4)));
        _mm256_storeu_ps(r8, _ZGVdN8v_tanhf(_mm256_loadu_ps(in)));
        for (int l = 0; l < 8; l++) bad += memcmp(r4 + l, r8 + l, sizeof(float)) != 0;
    }
    return bad;
}
#pragma GCC pop_options
#else
#define TSB_TANHF_WIDE 0
static void tsb_leaky_tanhf_avx2(ptrdiff_t n, float keep, float leak, const float* xs,
                                 const float* acc, float* xn) {
    /* never called: TANHF_WIDE_BUILT is False in a build without it */
    (void)n; (void)keep; (void)leak; (void)xs; (void)acc; (void)xn;
    abort();
}
static int64_t tsb_glibc_tanhf_width_mismatches(int64_t start, int64_t stop,
                                                int64_t step) {
    (void)start; (void)stop; (void)step;
    return -1;
}
#endif

#endif /* TSBPTT_ESN_CHUNK_H */
