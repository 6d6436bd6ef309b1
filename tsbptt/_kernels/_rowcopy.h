/* Short row copies without a call into libc.
 *
 * The kernels copy a few rows of F, H or F + H + 1 elements per sample and step
 * (the input rows into xh and the weight-gradient block, h into Y, dx and dh out of
 * the step product's rows). At H = 32 a memcpy call costs about as much as the copy
 * itself, thousands of times per kernel call; these copy in vector registers, with a
 * masked tail in the AVX2 and AVX-512 builds. A copy moves bits: the results are
 * those of memcpy. Source and destination must not overlap.
 */
#ifndef TSBPTT_ROWCOPY_H
#define TSBPTT_ROWCOPY_H

#include <stddef.h>
#include <string.h>
#if defined(__AVX512F__) || defined(__AVX2__)
#include <immintrin.h>
#endif

static inline void tsb_copy_f32(float* dst, const float* src, ptrdiff_t n)
{
#if defined(__AVX512F__)
    ptrdiff_t i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(dst + i, _mm512_loadu_ps(src + i));
    if (i < n) {
        __mmask16 m = (__mmask16)((1u << (n - i)) - 1u);
        _mm512_mask_storeu_ps(dst + i, m, _mm512_maskz_loadu_ps(m, src + i));
    }
#elif defined(__AVX2__)
    ptrdiff_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(dst + i, _mm256_loadu_ps(src + i));
    if (i < n) {
        __m256i m = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(n - i)),
                                       _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
        _mm256_maskstore_ps(dst + i, m, _mm256_maskload_ps(src + i, m));
    }
#else
    memcpy(dst, src, (size_t)n * sizeof(float));
#endif
}

static inline void tsb_copy_f64(double* dst, const double* src, ptrdiff_t n)
{
#if defined(__AVX512F__)
    ptrdiff_t i = 0;
    for (; i + 8 <= n; i += 8) _mm512_storeu_pd(dst + i, _mm512_loadu_pd(src + i));
    if (i < n) {
        __mmask8 m = (__mmask8)((1u << (n - i)) - 1u);
        _mm512_mask_storeu_pd(dst + i, m, _mm512_maskz_loadu_pd(m, src + i));
    }
#elif defined(__AVX2__)
    ptrdiff_t i = 0;
    for (; i + 4 <= n; i += 4) _mm256_storeu_pd(dst + i, _mm256_loadu_pd(src + i));
    if (i < n) {
        __m256i m = _mm256_cmpgt_epi64(_mm256_set1_epi64x((long long)(n - i)),
                                       _mm256_setr_epi64x(0, 1, 2, 3));
        _mm256_maskstore_pd(dst + i, m, _mm256_maskload_pd(src + i, m));
    }
#else
    memcpy(dst, src, (size_t)n * sizeof(double));
#endif
}

#endif /* TSBPTT_ROWCOPY_H */
