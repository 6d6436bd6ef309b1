# Elman RNN (tanh) forward and backward time loops.
#
# Design:
# - h' = tanh(x W_x + h W_h + b); W packed (F + H + 1, H) as [W_x; W_h; b]
#   (docs/kernel_layout.md). The same skeleton as the LSTM kernel with G = H:
#   `gates` holds x W_x + b for all steps (one GEMM per chunk), each step adds
#   h W_h in place (one GEMM) and applies tanh, so it ends up holding h_t.
# - Backward reuses dh0 as the running gradient of the state; `work` is scratch.
# - Steps t >= lengths[b] copy the state through, write Y = 0 and get zero gradients.
from cython cimport floating
from cython.parallel cimport prange

from ._activations cimport tanh_
from ._blas cimport gemm
from ._common cimport (check_common, check_shape, copy_row, input_grad,
                       input_projection, n_chunks_of, sum_partials,
                       weight_grad_partial, zero_row)


cdef void _forward_chunk(const floating* X, const floating* W, const floating* h0,
                         const Py_ssize_t* lengths, floating* gates, floating* h_prev,
                         floating* Y, floating* h_T, Py_ssize_t r0, Py_ssize_t r1,
                         Py_ssize_t T, Py_ssize_t F, Py_ssize_t H) noexcept nogil:
    cdef Py_ssize_t nb = r1 - r0, r, t, row, j
    cdef floating* a
    cdef floating* h_out
    input_projection(X + r0 * T * F, W, nb * T, F, H, H, gates + r0 * T * H)
    for r in range(r0, r1):
        copy_row(h_prev + r * T * H, h0 + r * H, H)
    for t in range(T):
        gemm(False, False, <int>nb, <int>H, <int>H, 1, h_prev + (r0 * T + t) * H,
             <int>(T * H), W + F * H, <int>H, 1, gates + (r0 * T + t) * H, <int>(T * H))
        for r in range(r0, r1):
            row = r * T + t
            h_out = h_prev + (row + 1) * H if t + 1 < T else h_T + r * H
            if t < lengths[r]:
                a = gates + row * H
                for j in range(H):
                    a[j] = tanh_(a[j])
                copy_row(h_out, a, H)
                copy_row(Y + row * H, a, H)
            else:
                copy_row(h_out, h_prev + row * H, H)
                zero_row(Y + row * H, H)


def rnn_forward(const floating[:, :, ::1] X,      # IN  (B, T, F)
                const floating[:, ::1] W,         # IN  (F + H + 1, H)
                const floating[:, ::1] h0,        # IN  (B, H)
                const Py_ssize_t[::1] lengths,    # IN  (B,)
                floating[:, :, ::1] gates,        # OUT (B, T, H) h_t at valid steps
                floating[:, :, ::1] h_prev,       # OUT (B, T, H) state entering step t
                floating[:, :, ::1] Y,            # OUT (B, T, H)
                floating[:, ::1] h_T,             # OUT (B, H)
                Py_ssize_t chunk_size, int n_threads):
    """Elman RNN forward over a batch; see the module header for the layout."""
    cdef Py_ssize_t B = X.shape[0], T = X.shape[1], F = X.shape[2]
    cdef Py_ssize_t H = h0.shape[1], k, n_chunks
    check_common(B, T, F, H, chunk_size, n_threads, lengths)
    for name, arr, shape in (
            ("W", W, (F + H + 1, H)), ("h0", h0, (B, H)), ("gates", gates, (B, T, H)),
            ("h_prev", h_prev, (B, T, H)), ("Y", Y, (B, T, H)), ("h_T", h_T, (B, H))):
        check_shape(name, tuple(arr.shape[:arr.ndim]), shape)
    n_chunks = n_chunks_of(B, chunk_size)
    with nogil:
        for k in prange(n_chunks, num_threads=n_threads, schedule='static'):
            _forward_chunk(&X[0, 0, 0], &W[0, 0], &h0[0, 0], &lengths[0],
                           &gates[0, 0, 0], &h_prev[0, 0, 0], &Y[0, 0, 0], &h_T[0, 0],
                           k * chunk_size, min(B, (k + 1) * chunk_size), T, F, H)


cdef void _backward_chunk(const floating* X, const floating* W,
                          const Py_ssize_t* lengths, const floating* gates,
                          const floating* h_prev, const floating* dY, floating* dX,
                          floating* dh, floating* dgates, floating* work,
                          floating* partial, Py_ssize_t r0, Py_ssize_t r1,
                          Py_ssize_t T, Py_ssize_t F, Py_ssize_t H) noexcept nogil:
    cdef Py_ssize_t nb = r1 - r0, r, t, row, j
    cdef const floating* a
    cdef const floating* dy
    cdef floating* da
    cdef floating* dhr
    for t in range(T - 1, -1, -1):
        for r in range(r0, r1):
            row = r * T + t
            da = dgates + row * H
            if t < lengths[r]:
                a = gates + row * H
                dy = dY + row * H
                dhr = dh + r * H
                for j in range(H):
                    da[j] = (dhr[j] + dy[j]) * (1 - a[j] * a[j])
            else:
                zero_row(da, H)
        gemm(False, True, <int>nb, <int>H, <int>H, 1, dgates + (r0 * T + t) * H,
             <int>(T * H), W + F * H, <int>H, 0, work + r0 * H, <int>H)
        for r in range(r0, r1):
            if t < lengths[r]:
                copy_row(dh + r * H, work + r * H, H)
    input_grad(dgates + r0 * T * H, W, nb * T, F, H, dX + r0 * T * F)
    weight_grad_partial(X + r0 * T * F, h_prev + r0 * T * H, dgates + r0 * T * H,
                        dgates + r0 * T * H, nb * T, F, H, H, partial)


def rnn_backward(const floating[:, :, ::1] X,       # IN  (B, T, F)
                 const floating[:, ::1] W,          # IN  (F + H + 1, H)
                 const Py_ssize_t[::1] lengths,     # IN  (B,)
                 const floating[:, :, ::1] gates,   # IN  (B, T, H) from the forward
                 const floating[:, :, ::1] h_prev,  # IN  (B, T, H) from the forward
                 const floating[:, :, ::1] dY,      # IN  (B, T, H)
                 const floating[:, ::1] dh_T,       # IN  (B, H)
                 floating[:, :, ::1] dX,            # OUT (B, T, F)
                 floating[:, ::1] dh0,              # OUT (B, H)
                 floating[:, ::1] dW,               # OUT (F + H + 1, H)
                 floating[:, :, ::1] dgates,        # WORK (B, T, H)
                 floating[:, ::1] work,             # WORK (B, H)
                 floating[:, :, ::1] partial,       # WORK (n_chunks, F + H + 1, H)
                 Py_ssize_t chunk_size, int n_threads):
    """Elman RNN backward through all steps; see the module header for the layout."""
    cdef Py_ssize_t B = X.shape[0], T = X.shape[1], F = X.shape[2]
    cdef Py_ssize_t H = dh_T.shape[1], k, n_chunks
    check_common(B, T, F, H, chunk_size, n_threads, lengths)
    n_chunks = n_chunks_of(B, chunk_size)
    for name, arr, shape in (
            ("W", W, (F + H + 1, H)), ("gates", gates, (B, T, H)),
            ("h_prev", h_prev, (B, T, H)), ("dY", dY, (B, T, H)), ("dh_T", dh_T, (B, H)),
            ("dX", dX, (B, T, F)), ("dh0", dh0, (B, H)), ("dW", dW, (F + H + 1, H)),
            ("dgates", dgates, (B, T, H)), ("work", work, (B, H)),
            ("partial", partial, (n_chunks, F + H + 1, H))):
        check_shape(name, tuple(arr.shape[:arr.ndim]), shape)
    dh0[...] = dh_T
    with nogil:
        for k in prange(n_chunks, num_threads=n_threads, schedule='static'):
            _backward_chunk(&X[0, 0, 0], &W[0, 0], &lengths[0], &gates[0, 0, 0],
                            &h_prev[0, 0, 0], &dY[0, 0, 0], &dX[0, 0, 0], &dh0[0, 0],
                            &dgates[0, 0, 0], &work[0, 0], &partial[k, 0, 0],
                            k * chunk_size, min(B, (k + 1) * chunk_size), T, F, H)
        sum_partials(&partial[0, 0, 0], n_chunks, (F + H + 1) * H, &dW[0, 0], n_threads)
