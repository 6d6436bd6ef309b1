# LSTM forward and backward time loops.
#
# Design:
# - Gate order i, f, g, o along the G = 4H axis; W packed (F + H + 1, 4H) as
#   [W_x; W_h; b] (docs/kernel_layout.md). i, f, o = sigmoid, g = tanh,
#   c' = f*c + i*g, h' = o*tanh(c').
# - Arrays are batch-major (B, T, .). The rows of one time step inside a chunk are
#   T*G elements apart, which is just a leading dimension for BLAS: the recurrent
#   GEMM reads h_prev[r0:r1, t] and accumulates into gates[r0:r1, t] in place.
# - `gates` first holds x @ W_x + b for every step (one GEMM per chunk before the
#   loop); each step adds h @ W_h (one GEMM) and activates it in place (a fused
#   element-wise pass), so it ends up holding the activated gates the backward needs.
# - tanh(c) is recomputed in the backward instead of being cached (one array less).
# - Backward reuses dh0/dc0 as the running gradients of the state, so after the loop
#   they hold the gradients of the initial state; `work` (B, H) is scratch.
# - Steps t >= lengths[b] copy the state through, write Y = 0, and get a zero gate
#   gradient, so they add nothing to the weight gradients.
from cython cimport floating
from cython.parallel cimport prange

from ._activations cimport sigmoid, tanh_
from ._blas cimport gemm
from ._common cimport (check_common, check_shape, copy_row, input_grad,
                       input_projection, n_chunks_of, sum_partials,
                       weight_grad_partial, zero_row)


cdef void _activate(floating* a, const floating* c_in, floating* c_out,
                    floating* h_out, floating* y, Py_ssize_t H) noexcept nogil:
    """One valid step of one sample: a (4H,) pre-activations -> activated gates."""
    cdef Py_ssize_t j
    for j in range(2 * H):                      # i, f
        a[j] = sigmoid(a[j])
    for j in range(2 * H, 3 * H):               # g
        a[j] = tanh_(a[j])
    for j in range(3 * H, 4 * H):               # o
        a[j] = sigmoid(a[j])
    for j in range(H):
        c_out[j] = a[H + j] * c_in[j] + a[j] * a[2 * H + j]
    for j in range(H):
        h_out[j] = a[3 * H + j] * tanh_(c_out[j])
    copy_row(y, h_out, H)


cdef void _forward_chunk(const floating* X, const floating* W, const floating* h0,
                         const floating* c0, const Py_ssize_t* lengths,
                         floating* gates, floating* h_prev, floating* cell,
                         floating* Y, floating* h_T, floating* c_T,
                         Py_ssize_t r0, Py_ssize_t r1, Py_ssize_t T, Py_ssize_t F,
                         Py_ssize_t H) noexcept nogil:
    cdef Py_ssize_t G = 4 * H, nb = r1 - r0, r, t, row
    cdef const floating* c_in
    cdef floating* h_out
    input_projection(X + r0 * T * F, W, nb * T, F, H, G, gates + r0 * T * G)
    for r in range(r0, r1):
        copy_row(h_prev + r * T * H, h0 + r * H, H)
    for t in range(T):
        gemm(False, False, <int>nb, <int>G, <int>H, 1, h_prev + (r0 * T + t) * H,
             <int>(T * H), W + F * G, <int>G, 1, gates + (r0 * T + t) * G, <int>(T * G))
        for r in range(r0, r1):
            row = r * T + t
            c_in = c0 + r * H if t == 0 else cell + (row - 1) * H
            h_out = h_prev + (row + 1) * H if t + 1 < T else h_T + r * H
            if t < lengths[r]:
                _activate(gates + row * G, c_in, cell + row * H, h_out, Y + row * H, H)
            else:
                copy_row(cell + row * H, c_in, H)
                copy_row(h_out, h_prev + row * H, H)
                zero_row(Y + row * H, H)
    for r in range(r0, r1):
        copy_row(c_T + r * H, cell + (r * T + T - 1) * H, H)


def lstm_forward(const floating[:, :, ::1] X,      # IN  (B, T, F)
                 const floating[:, ::1] W,         # IN  (F + H + 1, 4H)
                 const floating[:, ::1] h0,        # IN  (B, H)
                 const floating[:, ::1] c0,        # IN  (B, H)
                 const Py_ssize_t[::1] lengths,    # IN  (B,)
                 floating[:, :, ::1] gates,        # OUT (B, T, 4H) activated i, f, g, o
                 floating[:, :, ::1] h_prev,       # OUT (B, T, H) state entering step t
                 floating[:, :, ::1] cell,         # OUT (B, T, H) cell state after step t
                 floating[:, :, ::1] Y,            # OUT (B, T, H)
                 floating[:, ::1] h_T,             # OUT (B, H)
                 floating[:, ::1] c_T,             # OUT (B, H)
                 Py_ssize_t chunk_size, int n_threads):
    """LSTM forward over a batch; see the module header for the layout."""
    cdef Py_ssize_t B = X.shape[0], T = X.shape[1], F = X.shape[2]
    cdef Py_ssize_t H = h0.shape[1], k, n_chunks
    check_common(B, T, F, 4 * H, chunk_size, n_threads, lengths)
    for name, arr, shape in (
            ("W", W, (F + H + 1, 4 * H)), ("h0", h0, (B, H)), ("c0", c0, (B, H)),
            ("gates", gates, (B, T, 4 * H)), ("h_prev", h_prev, (B, T, H)),
            ("cell", cell, (B, T, H)), ("Y", Y, (B, T, H)), ("h_T", h_T, (B, H)),
            ("c_T", c_T, (B, H))):
        check_shape(name, tuple(arr.shape[:arr.ndim]), shape)
    n_chunks = n_chunks_of(B, chunk_size)
    with nogil:
        for k in prange(n_chunks, num_threads=n_threads, schedule='static'):
            _forward_chunk(&X[0, 0, 0], &W[0, 0], &h0[0, 0], &c0[0, 0], &lengths[0],
                           &gates[0, 0, 0], &h_prev[0, 0, 0], &cell[0, 0, 0],
                           &Y[0, 0, 0], &h_T[0, 0], &c_T[0, 0],
                           k * chunk_size, min(B, (k + 1) * chunk_size), T, F, H)


cdef void _gate_grads(const floating* a, const floating* c, const floating* c_prev,
                      const floating* dy, floating* dh, floating* dc, floating* da,
                      floating* tc, Py_ssize_t H) noexcept nogil:
    """One valid step of one sample: dh, dc (running, IN/OUT) -> da (4H,)."""
    cdef Py_ssize_t j
    cdef floating dhj, dcj, i, f, g, o
    for j in range(H):
        tc[j] = tanh_(c[j])
    for j in range(H):
        dhj = dh[j] + dy[j]
        i = a[j]
        f = a[H + j]
        g = a[2 * H + j]
        o = a[3 * H + j]
        dcj = dc[j] + dhj * o * (1 - tc[j] * tc[j])
        da[j] = dcj * g * i * (1 - i)
        da[H + j] = dcj * c_prev[j] * f * (1 - f)
        da[2 * H + j] = dcj * i * (1 - g * g)
        da[3 * H + j] = dhj * tc[j] * o * (1 - o)
        dc[j] = dcj * f


cdef void _backward_chunk(const floating* X, const floating* W, const floating* c0,
                          const Py_ssize_t* lengths, const floating* gates,
                          const floating* h_prev, const floating* cell,
                          const floating* dY, floating* dX, floating* dh, floating* dc,
                          floating* dgates, floating* work, floating* partial,
                          Py_ssize_t r0, Py_ssize_t r1, Py_ssize_t T, Py_ssize_t F,
                          Py_ssize_t H) noexcept nogil:
    cdef Py_ssize_t G = 4 * H, nb = r1 - r0, r, t, row
    cdef const floating* c_prev
    for t in range(T - 1, -1, -1):
        for r in range(r0, r1):
            row = r * T + t
            if t < lengths[r]:
                c_prev = c0 + r * H if t == 0 else cell + (row - 1) * H
                _gate_grads(gates + row * G, cell + row * H, c_prev, dY + row * H,
                            dh + r * H, dc + r * H, dgates + row * G, work + r * H, H)
            else:
                zero_row(dgates + row * G, G)
        # dh_{t-1} = da_t @ W_h^T for the samples still inside their sequence.
        gemm(False, True, <int>nb, <int>H, <int>G, 1, dgates + (r0 * T + t) * G,
             <int>(T * G), W + F * G, <int>G, 0, work + r0 * H, <int>H)
        for r in range(r0, r1):
            if t < lengths[r]:
                copy_row(dh + r * H, work + r * H, H)
    input_grad(dgates + r0 * T * G, W, nb * T, F, G, dX + r0 * T * F)
    weight_grad_partial(X + r0 * T * F, h_prev + r0 * T * H, dgates + r0 * T * G,
                        dgates + r0 * T * G, nb * T, F, H, G, partial)


def lstm_backward(const floating[:, :, ::1] X,       # IN  (B, T, F)
                  const floating[:, ::1] W,          # IN  (F + H + 1, 4H)
                  const floating[:, ::1] c0,         # IN  (B, H)
                  const Py_ssize_t[::1] lengths,     # IN  (B,)
                  const floating[:, :, ::1] gates,   # IN  (B, T, 4H) from the forward
                  const floating[:, :, ::1] h_prev,  # IN  (B, T, H) from the forward
                  const floating[:, :, ::1] cell,    # IN  (B, T, H) from the forward
                  const floating[:, :, ::1] dY,      # IN  (B, T, H)
                  const floating[:, ::1] dh_T,       # IN  (B, H)
                  const floating[:, ::1] dc_T,       # IN  (B, H)
                  floating[:, :, ::1] dX,            # OUT (B, T, F)
                  floating[:, ::1] dh0,              # OUT (B, H)
                  floating[:, ::1] dc0,              # OUT (B, H)
                  floating[:, ::1] dW,               # OUT (F + H + 1, 4H)
                  floating[:, :, ::1] dgates,        # WORK (B, T, 4H)
                  floating[:, ::1] work,             # WORK (B, H)
                  floating[:, :, ::1] partial,       # WORK (n_chunks, F + H + 1, 4H)
                  Py_ssize_t chunk_size, int n_threads):
    """LSTM backward through all steps; see the module header for the layout."""
    cdef Py_ssize_t B = X.shape[0], T = X.shape[1], F = X.shape[2]
    cdef Py_ssize_t H = c0.shape[1], G = 4 * H, k, n_chunks
    check_common(B, T, F, G, chunk_size, n_threads, lengths)
    n_chunks = n_chunks_of(B, chunk_size)
    for name, arr, shape in (
            ("W", W, (F + H + 1, G)), ("c0", c0, (B, H)), ("gates", gates, (B, T, G)),
            ("h_prev", h_prev, (B, T, H)), ("cell", cell, (B, T, H)),
            ("dY", dY, (B, T, H)), ("dh_T", dh_T, (B, H)), ("dc_T", dc_T, (B, H)),
            ("dX", dX, (B, T, F)), ("dh0", dh0, (B, H)), ("dc0", dc0, (B, H)),
            ("dW", dW, (F + H + 1, G)), ("dgates", dgates, (B, T, G)),
            ("work", work, (B, H)), ("partial", partial, (n_chunks, F + H + 1, G))):
        check_shape(name, tuple(arr.shape[:arr.ndim]), shape)
    dh0[...] = dh_T
    dc0[...] = dc_T
    with nogil:
        for k in prange(n_chunks, num_threads=n_threads, schedule='static'):
            _backward_chunk(&X[0, 0, 0], &W[0, 0], &c0[0, 0], &lengths[0],
                            &gates[0, 0, 0], &h_prev[0, 0, 0], &cell[0, 0, 0],
                            &dY[0, 0, 0], &dX[0, 0, 0], &dh0[0, 0], &dc0[0, 0],
                            &dgates[0, 0, 0], &work[0, 0], &partial[k, 0, 0],
                            k * chunk_size, min(B, (k + 1) * chunk_size), T, F, H)
        sum_partials(&partial[0, 0, 0], n_chunks, (F + H + 1) * G, &dW[0, 0], n_threads)
