/* Three float32 sigmoid forms for the LSTM gate pass, timed in one process.
 *
 *   div:  1 / (1 + expf(-x))              (the kernels' form, _activations.pxd)
 *   tanh: 0.5 * tanhf(0.5 * x) + 0.5      (one libmvec call, no divide)
 *   rcp:  e = expf(-x), then 1 / (1 + e) by the reciprocal estimate (rcp14 / rcp)
 *         and one Newton step in fused multiply-adds (no vdivps); e = inf -> 0
 *
 * Each loop runs over a row of n values (n = 96 ... 768: 3H at H = 32 ... 256) as
 * the kernels' gate loops do, compiled as the kernels are (libmvec through
 * _simd_math.h, no -ffast-math). Prints ns per element (best of 7 rounds) and each
 * form's largest error against a double-precision sigmoid on [-87, 87].
 *
 *   gcc -O3 -fno-math-errno -Itsbptt/_kernels -mavx2 -mfma -mavx512f -mavx512dq \
 *       -mavx512vl -mavx512bw -mprefer-vector-width=512 \
 *       benchmarks/bench_sigmoid_forms.c -o /tmp/sigmoid_forms -lm && /tmp/sigmoid_forms
 *   (drop the -mavx512* flags for the AVX2 build's figures)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include "_simd_math.h"
#include "_row_timing.h"
#if defined(__AVX512F__) || (defined(__AVX2__) && defined(__FMA__))
#include <immintrin.h>
#endif

/* y[0:n] = 1 / (1 + y[0:n]) without a division in the vector builds */
static void inv_1p(float* y, long n)
{
    long i = 0;
#if defined(__AVX512F__)
    const __m512 one = _mm512_set1_ps(1.0f), inf = _mm512_set1_ps(INFINITY);
    for (; i + 16 <= n; i += 16) {
        __m512 d = _mm512_add_ps(one, _mm512_loadu_ps(y + i));
        __m512 r = _mm512_rcp14_ps(d);
        r = _mm512_fmadd_ps(r, _mm512_fnmadd_ps(d, r, one), r);
        r = _mm512_mask_mov_ps(r, _mm512_cmp_ps_mask(d, inf, _CMP_EQ_OQ), _mm512_setzero_ps());
        _mm512_storeu_ps(y + i, r);
    }
#elif defined(__AVX2__) && defined(__FMA__)
    const __m256 one = _mm256_set1_ps(1.0f), inf = _mm256_set1_ps(INFINITY);
    for (; i + 8 <= n; i += 8) {
        __m256 d = _mm256_add_ps(one, _mm256_loadu_ps(y + i));
        __m256 r = _mm256_rcp_ps(d);
        r = _mm256_fmadd_ps(r, _mm256_fnmadd_ps(d, r, one), r);
        _mm256_storeu_ps(y + i, _mm256_andnot_ps(_mm256_cmp_ps(d, inf, _CMP_EQ_OQ), r));
    }
#endif
    for (; i < n; i++) y[i] = 1.0f / (1.0f + y[i]);
}

__attribute__((noinline)) static void sig_div(const float* restrict x, float* restrict y, long n)
{
    for (long j = 0; j < n; j++) y[j] = 1.0f / (1.0f + expf(-x[j]));
}

__attribute__((noinline)) static void sig_tanh(const float* restrict x, float* restrict y, long n)
{
    for (long j = 0; j < n; j++) y[j] = 0.5f * tanhf(0.5f * x[j]) + 0.5f;
}

__attribute__((noinline)) static void sig_rcp(const float* restrict x, float* restrict y, long n)
{
    for (long j = 0; j < n; j++) y[j] = expf(-x[j]);
    inv_1p(y, n);
}

int main(void)
{
    row_fn forms[3] = {sig_div, sig_tanh, sig_rcp};
    const char* names[3] = {"div", "tanh", "rcp"};
    long big = 1 << 22;
    float* x = malloc(big * sizeof(float));
    float* y = malloc(big * sizeof(float));
    float* w = malloc(4096 * sizeof(float));
    for (long i = 0; i < big; i++) x[i] = -87.0f + 174.0f * (float)i / (float)big;
    srand(1);
    for (int i = 0; i < 4096; i++) w[i] = 8.0f * ((float)rand() / (float)RAND_MAX - 0.5f);
    for (int k = 0; k < 3; k++) {
        forms[k](x, y, big);
        double worst = 0;
        for (long i = 0; i < big; i++) {
            double t = 1.0 / (1.0 + exp(-(double)x[i]));
            double rel = fabs(y[i] - t) / t;
            if (rel > worst) worst = rel;
        }
        printf("%-5s largest relative error %.3g (%.2f x 2^-24)\n", names[k], worst,
               worst * 16777216.0);
    }
    for (long n = 96; n <= 768; n *= 2) {
        double best[3];
        time_rows(3, forms, w, y, n, best);
        printf("n=%4ld  ns/element: div %.3f  tanh %.3f  rcp %.3f\n", n, best[0], best[1],
               best[2]);
    }
    return 0;
}
