# Pieces shared by the LSTM, GRU and RNN kernels.
#
# Every kernel splits the batch into fixed-size chunks of rows (the size depends on
# the batch only, never on the thread count); one OpenMP thread runs the whole time
# loop of a chunk with single-threaded BLAS. Weight gradients are computed per chunk
# into `partial[k]` and then summed in chunk order, element by element, so results
# are bitwise identical for any number of threads.
#
# W is packed as (F + H + 1, G) with G = gates * H: rows [0, F) input weights,
# rows [F, F + H) recurrent weights, row F + H the bias (see docs/kernel_layout.md).
from cython cimport floating
from cython.parallel cimport prange
from libc.string cimport memcpy, memset

from ._blas cimport gemm


cdef inline int check_shape(str name, tuple got, tuple expected) except -1:
    """Raise ValueError unless an argument has the expected shape."""
    if got != expected:
        raise ValueError(f"{name} has shape {got}, expected {expected}")
    return 0


cdef inline int check_common(Py_ssize_t B, Py_ssize_t T, Py_ssize_t F, Py_ssize_t G,
                             Py_ssize_t chunk_size, int n_threads,
                             const Py_ssize_t[::1] lengths) except -1:
    """Validate the scalar arguments and lengths before any work starts."""
    cdef Py_ssize_t b
    if B < 1 or T < 1:
        raise ValueError(f"need at least one sample and one time step, got B={B}, T={T}")
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
    if n_threads < 1:
        raise ValueError(f"n_threads must be >= 1, got {n_threads}")
    check_shape("lengths", (lengths.shape[0],), (B,))
    for b in range(B):
        if lengths[b] < 1 or lengths[b] > T:
            raise ValueError(
                f"lengths[{b}] = {lengths[b]} is outside [1, {T}] (T = time steps)")
    if B * T >= 2 ** 31 or T * max(F, G) >= 2 ** 31:
        raise ValueError(f"B={B}, T={T} is too large for 32-bit BLAS indexing; "
                         "split the batch or the sequence")
    return 0


cdef inline Py_ssize_t n_chunks_of(Py_ssize_t B, Py_ssize_t chunk_size) noexcept nogil:
    return (B + chunk_size - 1) // chunk_size


cdef inline void input_projection(const floating* X, const floating* W,
                                  Py_ssize_t rows, Py_ssize_t F, Py_ssize_t H,
                                  Py_ssize_t G, floating* out) noexcept nogil:
    """out (rows, G) = X (rows, F) @ W_x + b: the input part of every step at once."""
    cdef const floating* bias = W + (F + H) * G
    cdef Py_ssize_t r
    for r in range(rows):
        memcpy(out + r * G, bias, G * sizeof(floating))
    gemm(False, False, <int>rows, <int>G, <int>F, 1, X, <int>F, W, <int>G, 1, out, <int>G)


cdef inline void column_sums(const floating* A, Py_ssize_t rows, Py_ssize_t n,
                             Py_ssize_t lda, floating* out) noexcept nogil:
    """out (n,) = sum over rows of A (rows, n), rows taken in order."""
    cdef Py_ssize_t r, j
    cdef const floating* a
    memset(out, 0, n * sizeof(floating))
    for r in range(rows):
        a = A + r * lda
        for j in range(n):
            out[j] = out[j] + a[j]


cdef inline void weight_grad_partial(const floating* X, const floating* h_prev,
                                     const floating* dA_x, const floating* dA_h,
                                     Py_ssize_t rows, Py_ssize_t F, Py_ssize_t H,
                                     Py_ssize_t G, floating* P) noexcept nogil:
    """P (F+H+1, G) = [X^T dA_x; h_prev^T dA_h; column sums of dA_x] over `rows` rows."""
    gemm(True, False, <int>F, <int>G, <int>rows, 1, X, <int>F, dA_x, <int>G, 0, P, <int>G)
    gemm(True, False, <int>H, <int>G, <int>rows, 1, h_prev, <int>H, dA_h, <int>G, 0,
         P + F * G, <int>G)
    column_sums(dA_x, rows, G, G, P + (F + H) * G)


cdef inline void input_grad(const floating* dA_x, const floating* W, Py_ssize_t rows,
                            Py_ssize_t F, Py_ssize_t G, floating* dX) noexcept nogil:
    """dX (rows, F) = dA_x (rows, G) @ W_x^T."""
    gemm(False, True, <int>rows, <int>F, <int>G, 1, dA_x, <int>G, W, <int>G, 0, dX, <int>F)


cdef inline void sum_partials(const floating* partial, Py_ssize_t n_parts,
                              Py_ssize_t size, floating* out, int n_threads) noexcept nogil:
    """out (size,) = sum_k partial[k] (n_parts, size), always in the order k = 0, 1, ..."""
    cdef Py_ssize_t e, k
    cdef floating s
    for e in prange(size, num_threads=n_threads, schedule='static'):
        s = partial[e]
        for k in range(1, n_parts):
            s = s + partial[k * size + e]
        out[e] = s


cdef inline void copy_row(floating* dst, const floating* src, Py_ssize_t n) noexcept nogil:
    memcpy(dst, src, n * sizeof(floating))


cdef inline void zero_row(floating* dst, Py_ssize_t n) noexcept nogil:
    memset(dst, 0, n * sizeof(floating))
