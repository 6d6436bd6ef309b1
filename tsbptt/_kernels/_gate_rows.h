/* The gate passes' element-wise rows that call exp or tanh, one function per
 * formula, float32 (_f32) and float64 (_f64), with restrict pointers.
 *
 * Why restrict: written as plain loops over pointers the compiler cannot prove
 * apart, GCC vectorised them behind a run-time overlap test: the vector body (glibc's
 * SIMD exp and tanh, libmvec) when the arrays were far apart, a scalar loop (the
 * scalar functions) when they sat within a vector of each other. The SIMD and the
 * scalar functions do not always return the same bits, so an output could change by
 * an ulp with where malloc had put the cache and work arrays (float64, AVX-512 build,
 * H = 5 seen: tests/kernels/test_array_placement.py). Here every array an output
 * row is computed from is declared apart from it, there is no run-time test, and
 * which elements take the vector body and which the loop's tail depends on n alone.
 *
 * The callers pass arrays that do not overlap the output row (the restrict
 * contract). Each formula is written as the Cython loops wrote it, so the bits of
 * the vector body are those of before.
 */
#ifndef TSBPTT_GATE_ROWS_H
#define TSBPTT_GATE_ROWS_H

#include <stddef.h>

#include "_simd_math.h"

#define TSB_GATE_ROWS(S, T, EXP, TANH)                                                \
/* out[j] = 1 / (1 + exp(-x[j])) */                                                 \
static inline void tsb_sigmoid_row_##S(T* restrict out, const T* restrict x,         \
                                       ptrdiff_t n) {                                \
    for (ptrdiff_t j = 0; j < n; j++)                                                \
        out[j] = (T)1 / ((T)1 + EXP(-x[j]));                                         \
}                                                                                    \
/* out[j] = tanh(x[j]) */                                                            \
static inline void tsb_tanh_row_##S(T* restrict out, const T* restrict x,            \
                                    ptrdiff_t n) {                                   \
    for (ptrdiff_t j = 0; j < n; j++)                                                \
        out[j] = TANH(x[j]);                                                         \
}                                                                                    \
/* The LSTM's output: h[j] = o[j] * tanh(c[j]) */                                    \
static inline void tsb_lstm_h_row_##S(T* restrict h, const T* restrict o,            \
                                      const T* restrict c, ptrdiff_t n) {            \
    for (ptrdiff_t j = 0; j < n; j++)                                                \
        h[j] = o[j] * TANH(c[j]);                                                    \
}                                                                                    \
/* The GRU's candidate: out[j] = tanh(xn[j] + b_n[j] + r[j] * hn[j]) */              \
static inline void tsb_gru_n_row_##S(T* restrict out, const T* restrict xn,          \
                                     const T* restrict b_n, const T* restrict r,     \
                                     const T* restrict hn, ptrdiff_t n) {            \
    for (ptrdiff_t j = 0; j < n; j++)                                                \
        out[j] = TANH(xn[j] + b_n[j] + r[j] * hn[j]);                                \
}

TSB_GATE_ROWS(f32, float, expf, tsb_tanhf)
TSB_GATE_ROWS(f64, double, exp, tanh)

#undef TSB_GATE_ROWS

#endif /* TSBPTT_GATE_ROWS_H */
