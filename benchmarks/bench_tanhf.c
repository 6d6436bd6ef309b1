/* The kernels' float32 tanh (tsb_tanhf, _simd_math.h) against glibc's tanhf: time and
 * error, compiled as the kernels are (libmvec through _simd_math.h, no -ffast-math).
 *
 *   time:  ns per element over rows of n values (n = 32 ... 256: H at the grid's
 *          hidden sizes, as the LSTM's two tanh loops run them), best of 7 rounds;
 *   sweep: the largest error in units in the last place (ulp) against tanh in double
 *          over every positive float (and +inf, and one NaN, which must stay NaN),
 *          the count of floats more than 1 ulp off and of results above 1. tanh is
 *          odd and both functions keep the sign, so the negatives give the same.
 *          The sweep runs the vectorised loop; tsb_tanhf's scalar form gives the same
 *          bits (tests/kernels/test_activations.py).
 *
 *   gcc -O3 -fno-math-errno -Itsbptt/_kernels -mavx2 -mfma \
 *       benchmarks/bench_tanhf.c -o /tmp/bench_tanhf -lm && /tmp/bench_tanhf
 *   (add -mavx512f -mavx512dq -mavx512vl -mavx512bw -mprefer-vector-width=512 for the
 *   AVX-512 build, or drop -mavx2 -mfma and add -ffp-contract=off for the portable
 *   one; `/tmp/bench_tanhf LO HI` sweeps only the bit patterns [LO, HI), so that
 *   several processes can share the sweep, and skips the timing)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "_simd_math.h"
#include "_row_timing.h"

__attribute__((noinline)) static void own(const float* restrict x, float* restrict y, long n)
{
    for (long j = 0; j < n; j++) y[j] = tsb_tanhf(x[j]);
}

__attribute__((noinline)) static void glibc(const float* restrict x, float* restrict y, long n)
{
    for (long j = 0; j < n; j++) y[j] = tanhf(x[j]);
}

/* Error of f over the bit patterns [lo, hi) of positive floats. */
static void sweep(const char* name, row_fn f, uint64_t lo, uint64_t hi)
{
    const long chunk = 1 << 20;
    float* x = malloc(chunk * sizeof(float));
    float* y = malloc(chunk * sizeof(float));
    double worst = 0;
    float worst_at = 0;
    long over_1ulp = 0, above_1 = 0, nan_lost = 0;
    for (uint64_t b = lo; b < hi; b += chunk) {
        long n = 0;
        for (uint64_t k = b; k < b + chunk && k < hi; k++, n++) {
            uint32_t bits = (uint32_t)k;
            memcpy(&x[n], &bits, sizeof bits);
        }
        f(x, y, n);
        for (long i = 0; i < n; i++) {
            if (x[i] != x[i]) {
                nan_lost += y[i] == y[i];
                continue;
            }
            double want = tanh((double)x[i]);
            int e;
            frexp(want, &e);
            double ulp = fabs(want) < 1.17549435e-38 ? ldexp(1.0, -149) : ldexp(1.0, e - 24);
            double err = fabs((double)y[i] - want) / ulp;
            over_1ulp += err > 1.0;
            above_1 += y[i] > 1.0f;
            if (err > worst) {
                worst = err;
                worst_at = x[i];
            }
        }
    }
    printf("%-6s bits [%#llx, %#llx): largest error %.3f ulp at %.9g; %ld floats over "
           "1 ulp, %ld above 1, %ld NaN lost\n", name, (unsigned long long)lo,
           (unsigned long long)hi, worst, worst_at, over_1ulp, above_1, nan_lost);
    free(x);
    free(y);
}

int main(int argc, char** argv)
{
    row_fn forms[2] = {own, glibc};
    const char* names[2] = {"own", "glibc"};
    /* every positive float, +inf (0x7f800000) and one NaN (0x7f800001) */
    uint64_t lo = 0, hi = 0x7f800002ull;
    if (argc == 3) {
        lo = strtoull(argv[1], NULL, 0);
        hi = strtoull(argv[2], NULL, 0);
    } else {
        float* w = malloc(4096 * sizeof(float));
        float* y = malloc(4096 * sizeof(float));
        srand(1);
        /* gate pre-activations and cell states: mostly within a few units of 0 */
        for (int i = 0; i < 4096; i++) w[i] = 8.0f * ((float)rand() / (float)RAND_MAX - 0.5f);
        for (long n = 32; n <= 256; n *= 2) {
            double best[2];
            time_rows(2, forms, w, y, n, best);
            printf("n=%4ld  ns/element: own %.3f  glibc %.3f  (glibc / own %.2f)\n", n,
                   best[0], best[1], best[1] / best[0]);
        }
        free(w);
        free(y);
    }
    for (int k = 0; k < 2; k++) sweep(names[k], forms[k], lo, hi);
    return 0;
}
