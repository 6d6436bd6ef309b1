/* Timing of element-wise row functions for the C benchmarks (bench_sigmoid_forms.c,
 * bench_tanhf.c): each form runs over one row of n values as the kernels' gate loops
 * do, the forms interleaved round by round so that they share the machine's load. */
#ifndef TSBPTT_BENCH_ROW_TIMING_H
#define TSBPTT_BENCH_ROW_TIMING_H

#include <time.h>

/* y[0:n] = f(x[0:n]) */
typedef void (*row_fn)(const float* restrict x, float* restrict y, long n);

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

/* best[k] = the least ns per element of forms[k] on rows of n values of w, over 7
 * rounds of about 2e7 elements each. */
static void time_rows(int n_forms, const row_fn* forms, const float* w, float* y, long n,
                      double* best)
{
    long reps = 20000000 / n;
    for (int k = 0; k < n_forms; k++) best[k] = 1e9;
    for (int r = 0; r < 7; r++)
        for (int k = 0; k < n_forms; k++) {
            double t = now();
            for (long i = 0; i < reps; i++) {
                forms[k](w, y, n);
                __asm__ volatile("" : : "r"(y) : "memory");
            }
            t = (now() - t) / reps / n * 1e9;
            if (t < best[k]) best[k] = t;
        }
}

#endif /* TSBPTT_BENCH_ROW_TIMING_H */
