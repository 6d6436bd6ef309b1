/* The ESN readout's design-matrix passes: float64 column sums of a float32 or
 * float64 matrix (for its column means) and one panel of it centred into float64.
 *
 * Every value is an exact cast, one subtraction, or one add into its column's
 * float64 sum in row order: vectorising across the columns changes no bit, so
 * the AVX-512F, AVX2 and portable versions (chosen at run time, as in
 * _esn_sell.h) return the same bits as NumPy's P.mean(axis=0, dtype=float64) and
 * np.subtract(P, shift, out=...) (tests/kernels/test_esn_panel.py). The portable
 * baseline build converted ~1 value per ns here: AVX-512F does 8 per iteration.
 */
#ifndef TSBPTT_ESN_PANEL_H
#define TSBPTT_ESN_PANEL_H

#include <stddef.h>

#if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__)
#define TSB_PANEL_X86 1
#include <immintrin.h>
#else
#define TSB_PANEL_X86 0
#endif

/* acc[j] += (double)src[j], j < m; dst[j] = (double)src[j] - sh[j], j < m. */
#define TSB_PANEL_DEFINE_C(SUFFIX, T)                                               \
    static void tsb_colsum_##SUFFIX##_c(const T* src, ptrdiff_t m, double* acc) {   \
        for (ptrdiff_t j = 0; j < m; j++) acc[j] = acc[j] + (double)src[j];         \
    }                                                                               \
    static void tsb_centre_##SUFFIX##_c(const T* src, ptrdiff_t m, const double* sh,\
                                        double* dst) {                              \
        for (ptrdiff_t j = 0; j < m; j++) dst[j] = (double)src[j] - sh[j];          \
    }

TSB_PANEL_DEFINE_C(f32, float)
TSB_PANEL_DEFINE_C(f64, double)

#if TSB_PANEL_X86
/* 8 values of src as 8 doubles, per dtype and instruction set. */
__attribute__((target("avx512f")))
static inline __m512d tsb_panel_load8_f32_avx512(const float* p) {
    return _mm512_cvtps_pd(_mm256_loadu_ps(p));
}
__attribute__((target("avx512f")))
static inline __m512d tsb_panel_load8_f64_avx512(const double* p) {
    return _mm512_loadu_pd(p);
}
__attribute__((target("avx2")))
static inline __m256d tsb_panel_load4_f32_avx2(const float* p) {
    return _mm256_cvtps_pd(_mm_loadu_ps(p));
}
__attribute__((target("avx2")))
static inline __m256d tsb_panel_load4_f64_avx2(const double* p) {
    return _mm256_loadu_pd(p);
}

/* W doubles per vector V; the remainder (< W columns) in scalar code. */
#define TSB_PANEL_DEFINE_VEC(SUFFIX, ISA, TARGET, T, V, W, P, LOAD)                 \
    __attribute__((target(TARGET)))                                                 \
    static void tsb_colsum_##SUFFIX##_##ISA(const T* src, ptrdiff_t m, double* acc) { \
        ptrdiff_t j = 0;                                                            \
        for (; j + (W) <= m; j += (W))                                              \
            P##_storeu_pd(acc + j, P##_add_pd(P##_loadu_pd(acc + j), LOAD(src + j))); \
        for (; j < m; j++) acc[j] = acc[j] + (double)src[j];                        \
    }                                                                               \
    __attribute__((target(TARGET)))                                                 \
    static void tsb_centre_##SUFFIX##_##ISA(const T* src, ptrdiff_t m,              \
                                            const double* sh, double* dst) {        \
        ptrdiff_t j = 0;                                                            \
        for (; j + (W) <= m; j += (W))                                              \
            P##_storeu_pd(dst + j, P##_sub_pd(LOAD(src + j), P##_loadu_pd(sh + j))); \
        for (; j < m; j++) dst[j] = (double)src[j] - sh[j];                         \
    }

TSB_PANEL_DEFINE_VEC(f32, avx512, "avx512f", float, __m512d, 8, _mm512,
                     tsb_panel_load8_f32_avx512)
TSB_PANEL_DEFINE_VEC(f64, avx512, "avx512f", double, __m512d, 8, _mm512,
                     tsb_panel_load8_f64_avx512)
TSB_PANEL_DEFINE_VEC(f32, avx2, "avx2", float, __m256d, 4, _mm256,
                     tsb_panel_load4_f32_avx2)
TSB_PANEL_DEFINE_VEC(f64, avx2, "avx2", double, __m256d, 4, _mm256,
                     tsb_panel_load4_f64_avx2)
#define TSB_PANEL_DISPATCH_X86(NAME, SUFFIX, ...)                                   \
    if (isa == 2) { NAME##_##SUFFIX##_avx512(__VA_ARGS__); continue; }              \
    if (isa == 1) { NAME##_##SUFFIX##_avx2(__VA_ARGS__); continue; }
#else
#define TSB_PANEL_DISPATCH_X86(NAME, SUFFIX, ...)
#endif

/* Over n rows of a row-major matrix (row stride ld elements): acc[j] += the
   column sums, in row order; dst rows (stride ldd) = the rows minus sh. isa: 2
   AVX-512F, 1 AVX2, 0 portable (tsb_esn_sell_isa: the caller clamps it). */
#define TSB_PANEL_DEFINE_ROWS(SUFFIX, T)                                            \
    static void tsb_colsum_rows_##SUFFIX(int isa, const T* src, ptrdiff_t n,        \
                                         ptrdiff_t m, ptrdiff_t ld, double* acc) {  \
        for (ptrdiff_t r = 0; r < n; r++) {                                         \
            TSB_PANEL_DISPATCH_X86(tsb_colsum, SUFFIX, src + r * ld, m, acc)        \
            tsb_colsum_##SUFFIX##_c(src + r * ld, m, acc);                          \
        }                                                                           \
        (void)isa;                                                                  \
    }                                                                               \
    static void tsb_centre_rows_##SUFFIX(int isa, const T* src, ptrdiff_t n,        \
                                         ptrdiff_t m, ptrdiff_t ld, const double* sh, \
                                         double* dst, ptrdiff_t ldd) {              \
        for (ptrdiff_t r = 0; r < n; r++) {                                         \
            TSB_PANEL_DISPATCH_X86(tsb_centre, SUFFIX, src + r * ld, m, sh,         \
                                   dst + r * ldd)                                   \
            tsb_centre_##SUFFIX##_c(src + r * ld, m, sh, dst + r * ldd);            \
        }                                                                           \
        (void)isa;                                                                  \
    }

TSB_PANEL_DEFINE_ROWS(f32, float)
TSB_PANEL_DEFINE_ROWS(f64, double)

#endif /* TSBPTT_ESN_PANEL_H */
