# Activations shared by the kernels, one source for float32 and float64.
#
# The cells' gate passes call them a row at a time (sigmoid_row, tanh_row, ...,
# below): C loops in _gate_rows.h that GCC vectorises, with exp and the float64 tanh
# from _simd_math.h (libmvec SIMD variants where available) and the float32 tanh
# _simd_math.h's own rational tsb_tanhf. libm_tanh keeps the C library's tanh for the
# echo-state reservoir.
from cython cimport floating

cdef extern from "_simd_math.h" nogil:
    float expf(float x)
    double exp(double x)
    float tanhf(float x)
    double tanh(double x)
    float tsb_tanhf(float x)

cdef extern from "_gate_rows.h" nogil:
    void tsb_sigmoid_row_f32(float* out, const float* x, Py_ssize_t n)
    void tsb_sigmoid_row_f64(double* out, const double* x, Py_ssize_t n)
    void tsb_tanh_row_f32(float* out, const float* x, Py_ssize_t n)
    void tsb_tanh_row_f64(double* out, const double* x, Py_ssize_t n)
    void tsb_lstm_h_row_f32(float* h, const float* o, const float* c, Py_ssize_t n)
    void tsb_lstm_h_row_f64(double* h, const double* o, const double* c, Py_ssize_t n)
    void tsb_gru_n_row_f32(float* out, const float* xn, const float* b_n, const float* r,
                           const float* hn, Py_ssize_t n)
    void tsb_gru_n_row_f64(double* out, const double* xn, const double* b_n,
                           const double* r, const double* hn, Py_ssize_t n)


cdef inline floating libm_tanh(floating x) noexcept nogil:
    # The C library's tanhf / tanh (glibc's libmvec where vectorised): the echo-state
    # reservoir's, whose wide AVX2 path calls glibc's 8-wide tanhf and must give the
    # same bits.
    if floating is float:
        return tanhf(x)
    else:
        return tanh(x)


# Whole rows of the gate passes (_gate_rows.h): a cell's loop that calls exp or tanh
# goes through these, never a loop of its own, so that no result depends on where
# the arrays sit (the header says why). ``out`` must not overlap the other arguments.
cdef inline void sigmoid_row(floating* out, const floating* x,
                             Py_ssize_t n) noexcept nogil:
    """out[j] = sigmoid(x[j]), j < n."""
    if floating is float:
        tsb_sigmoid_row_f32(out, x, n)
    else:
        tsb_sigmoid_row_f64(out, x, n)


cdef inline void tanh_row(floating* out, const floating* x, Py_ssize_t n) noexcept nogil:
    """out[j] = tanh(x[j]), j < n."""
    if floating is float:
        tsb_tanh_row_f32(out, x, n)
    else:
        tsb_tanh_row_f64(out, x, n)


cdef inline void lstm_h_row(floating* h, const floating* o, const floating* c,
                            Py_ssize_t n) noexcept nogil:
    """h[j] = o[j] * tanh(c[j]), j < n: the LSTM's output."""
    if floating is float:
        tsb_lstm_h_row_f32(h, o, c, n)
    else:
        tsb_lstm_h_row_f64(h, o, c, n)


cdef inline void gru_n_row(floating* out, const floating* xn, const floating* b_n,
                           const floating* r, const floating* hn,
                           Py_ssize_t n) noexcept nogil:
    """out[j] = tanh(xn[j] + b_n[j] + r[j] * hn[j]), j < n: the GRU's candidate."""
    if floating is float:
        tsb_gru_n_row_f32(out, xn, b_n, r, hn, n)
    else:
        tsb_gru_n_row_f64(out, xn, b_n, r, hn, n)
