# GRU forward and backward time loops.
#
# Design:
# - The cuDNN/PyTorch formulation, with the reset gate applied AFTER the recurrent
#   matmul: r = sig(x W_xr + b_r + h W_hr), z = sig(x W_xz + b_z + h W_hz),
#   hn = h W_hn + b_hn, n = tanh(x W_xn + b_n + r * hn), h' = (1 - z) * n + z * h.
#   Gate order r, z, n along G = 3H; W packed (F + H + 1, 3H) as [W_x; W_h; b] and a
#   separate recurrent candidate bias b_hn (H,) (docs/kernel_layout.md).
# - Because r multiplies h W_hn, the recurrent product cannot be added into the
#   input projection in place as for the LSTM: each step's GEMM writes into `rec`
#   (B, 3H) scratch and the element-wise pass combines the two. hn is cached.
# - The backward needs two gate-gradient arrays: dgx feeds dX, dW_x and b, dgh
#   (which differs from dgx in the n block by the factor r) feeds dW_h, dh and b_hn.
# - Steps t >= lengths[b] copy the state through, write Y = 0 and get zero gradients.
from cython cimport floating
from cython.parallel cimport prange

from ._activations cimport sigmoid, tanh_
from ._blas cimport gemm
from ._common cimport (check_common, check_shape, column_sums, copy_row, input_grad,
                       input_projection, n_chunks_of, sum_partials,
                       weight_grad_partial, zero_row)


cdef void _activate(floating* a, const floating* q, const floating* b_hn,
                    const floating* hp, floating* hn, floating* h_out, floating* y,
                    Py_ssize_t H) noexcept nogil:
    """One valid step of one sample: a (3H,) input part, q (3H,) recurrent part."""
    cdef Py_ssize_t j
    for j in range(2 * H):                      # r, z
        a[j] = sigmoid(a[j] + q[j])
    for j in range(H):
        hn[j] = q[2 * H + j] + b_hn[j]
    for j in range(H):                          # n
        a[2 * H + j] = tanh_(a[2 * H + j] + a[j] * hn[j])
    for j in range(H):
        h_out[j] = (1 - a[H + j]) * a[2 * H + j] + a[H + j] * hp[j]
    copy_row(y, h_out, H)


cdef void _forward_chunk(const floating* X, const floating* W, const floating* b_hn,
                         const floating* h0, const Py_ssize_t* lengths,
                         floating* gates, floating* h_prev, floating* hn, floating* Y,
                         floating* h_T, floating* rec, Py_ssize_t r0, Py_ssize_t r1,
                         Py_ssize_t T, Py_ssize_t F, Py_ssize_t H) noexcept nogil:
    cdef Py_ssize_t G = 3 * H, nb = r1 - r0, r, t, row
    cdef floating* h_out
    input_projection(X + r0 * T * F, W, nb * T, F, H, G, gates + r0 * T * G)
    for r in range(r0, r1):
        copy_row(h_prev + r * T * H, h0 + r * H, H)
    for t in range(T):
        gemm(False, False, <int>nb, <int>G, <int>H, 1, h_prev + (r0 * T + t) * H,
             <int>(T * H), W + F * G, <int>G, 0, rec + r0 * G, <int>G)
        for r in range(r0, r1):
            row = r * T + t
            h_out = h_prev + (row + 1) * H if t + 1 < T else h_T + r * H
            if t < lengths[r]:
                _activate(gates + row * G, rec + r * G, b_hn, h_prev + row * H,
                          hn + row * H, h_out, Y + row * H, H)
            else:
                zero_row(hn + row * H, H)
                copy_row(h_out, h_prev + row * H, H)
                zero_row(Y + row * H, H)


def gru_forward(const floating[:, :, ::1] X,      # IN  (B, T, F)
                const floating[:, ::1] W,         # IN  (F + H + 1, 3H)
                const floating[::1] b_hn,         # IN  (H,)
                const floating[:, ::1] h0,        # IN  (B, H)
                const Py_ssize_t[::1] lengths,    # IN  (B,)
                floating[:, :, ::1] gates,        # OUT (B, T, 3H) activated r, z, n
                floating[:, :, ::1] h_prev,       # OUT (B, T, H) state entering step t
                floating[:, :, ::1] hn,           # OUT (B, T, H) h W_hn + b_hn
                floating[:, :, ::1] Y,            # OUT (B, T, H)
                floating[:, ::1] h_T,             # OUT (B, H)
                floating[:, ::1] rec,             # WORK (B, 3H)
                Py_ssize_t chunk_size, int n_threads):
    """GRU forward over a batch; see the module header for the layout."""
    cdef Py_ssize_t B = X.shape[0], T = X.shape[1], F = X.shape[2]
    cdef Py_ssize_t H = h0.shape[1], G = 3 * H, k, n_chunks
    check_common(B, T, F, G, chunk_size, n_threads, lengths)
    for name, arr, shape in (
            ("W", W, (F + H + 1, G)), ("b_hn", b_hn, (H,)), ("h0", h0, (B, H)),
            ("gates", gates, (B, T, G)), ("h_prev", h_prev, (B, T, H)),
            ("hn", hn, (B, T, H)), ("Y", Y, (B, T, H)), ("h_T", h_T, (B, H)),
            ("rec", rec, (B, G))):
        check_shape(name, tuple(arr.shape[:arr.ndim]), shape)
    n_chunks = n_chunks_of(B, chunk_size)
    with nogil:
        for k in prange(n_chunks, num_threads=n_threads, schedule='static'):
            _forward_chunk(&X[0, 0, 0], &W[0, 0], &b_hn[0], &h0[0, 0], &lengths[0],
                           &gates[0, 0, 0], &h_prev[0, 0, 0], &hn[0, 0, 0],
                           &Y[0, 0, 0], &h_T[0, 0], &rec[0, 0],
                           k * chunk_size, min(B, (k + 1) * chunk_size), T, F, H)


cdef void _gate_grads(const floating* a, const floating* hp, const floating* hn,
                      const floating* dy, floating* dh, floating* dgx, floating* dgh,
                      Py_ssize_t H) noexcept nogil:
    """One valid step of one sample. dh (IN/OUT): in dL/dh_t less dY, out dh * z."""
    cdef Py_ssize_t j
    cdef floating dhj, r, z, n, dan, daz, dar
    for j in range(H):
        dhj = dh[j] + dy[j]
        r = a[j]
        z = a[H + j]
        n = a[2 * H + j]
        dan = dhj * (1 - z) * (1 - n * n)
        daz = dhj * (hp[j] - n) * z * (1 - z)
        dar = dan * hn[j] * r * (1 - r)
        dgx[j] = dar
        dgx[H + j] = daz
        dgx[2 * H + j] = dan
        dgh[j] = dar
        dgh[H + j] = daz
        dgh[2 * H + j] = dan * r
        dh[j] = dhj * z


cdef void _backward_chunk(const floating* X, const floating* W,
                          const Py_ssize_t* lengths, const floating* gates,
                          const floating* h_prev, const floating* hn, const floating* dY,
                          floating* dX, floating* dh, floating* dgx, floating* dgh,
                          floating* work, floating* partial, floating* partial_bhn,
                          Py_ssize_t r0, Py_ssize_t r1, Py_ssize_t T, Py_ssize_t F,
                          Py_ssize_t H) noexcept nogil:
    cdef Py_ssize_t G = 3 * H, nb = r1 - r0, r, t, row, j
    cdef floating* dhr
    cdef floating* wr
    for t in range(T - 1, -1, -1):
        for r in range(r0, r1):
            row = r * T + t
            if t < lengths[r]:
                _gate_grads(gates + row * G, h_prev + row * H, hn + row * H,
                            dY + row * H, dh + r * H, dgx + row * G, dgh + row * G, H)
            else:
                zero_row(dgx + row * G, G)
                zero_row(dgh + row * G, G)
        gemm(False, True, <int>nb, <int>H, <int>G, 1, dgh + (r0 * T + t) * G,
             <int>(T * G), W + F * G, <int>G, 0, work + r0 * H, <int>H)
        for r in range(r0, r1):
            if t < lengths[r]:
                dhr = dh + r * H
                wr = work + r * H
                for j in range(H):
                    dhr[j] = dhr[j] + wr[j]
    input_grad(dgx + r0 * T * G, W, nb * T, F, G, dX + r0 * T * F)
    weight_grad_partial(X + r0 * T * F, h_prev + r0 * T * H, dgx + r0 * T * G,
                        dgh + r0 * T * G, nb * T, F, H, G, partial)
    column_sums(dgh + r0 * T * G + 2 * H, nb * T, H, G, partial_bhn)


def gru_backward(const floating[:, :, ::1] X,       # IN  (B, T, F)
                 const floating[:, ::1] W,          # IN  (F + H + 1, 3H)
                 const Py_ssize_t[::1] lengths,     # IN  (B,)
                 const floating[:, :, ::1] gates,   # IN  (B, T, 3H) from the forward
                 const floating[:, :, ::1] h_prev,  # IN  (B, T, H) from the forward
                 const floating[:, :, ::1] hn,      # IN  (B, T, H) from the forward
                 const floating[:, :, ::1] dY,      # IN  (B, T, H)
                 const floating[:, ::1] dh_T,       # IN  (B, H)
                 floating[:, :, ::1] dX,            # OUT (B, T, F)
                 floating[:, ::1] dh0,              # OUT (B, H)
                 floating[:, ::1] dW,               # OUT (F + H + 1, 3H)
                 floating[::1] db_hn,               # OUT (H,)
                 floating[:, :, ::1] dgx,           # WORK (B, T, 3H)
                 floating[:, :, ::1] dgh,           # WORK (B, T, 3H)
                 floating[:, ::1] work,             # WORK (B, H)
                 floating[:, :, ::1] partial,       # WORK (n_chunks, F + H + 1, 3H)
                 floating[:, ::1] partial_bhn,      # WORK (n_chunks, H)
                 Py_ssize_t chunk_size, int n_threads):
    """GRU backward through all steps; see the module header for the layout."""
    cdef Py_ssize_t B = X.shape[0], T = X.shape[1], F = X.shape[2]
    cdef Py_ssize_t H = dh_T.shape[1], G = 3 * H, k, n_chunks
    check_common(B, T, F, G, chunk_size, n_threads, lengths)
    n_chunks = n_chunks_of(B, chunk_size)
    for name, arr, shape in (
            ("W", W, (F + H + 1, G)), ("gates", gates, (B, T, G)),
            ("h_prev", h_prev, (B, T, H)), ("hn", hn, (B, T, H)),
            ("dY", dY, (B, T, H)), ("dh_T", dh_T, (B, H)), ("dX", dX, (B, T, F)),
            ("dh0", dh0, (B, H)), ("dW", dW, (F + H + 1, G)), ("db_hn", db_hn, (H,)),
            ("dgx", dgx, (B, T, G)), ("dgh", dgh, (B, T, G)), ("work", work, (B, H)),
            ("partial", partial, (n_chunks, F + H + 1, G)),
            ("partial_bhn", partial_bhn, (n_chunks, H))):
        check_shape(name, tuple(arr.shape[:arr.ndim]), shape)
    dh0[...] = dh_T
    with nogil:
        for k in prange(n_chunks, num_threads=n_threads, schedule='static'):
            _backward_chunk(&X[0, 0, 0], &W[0, 0], &lengths[0], &gates[0, 0, 0],
                            &h_prev[0, 0, 0], &hn[0, 0, 0], &dY[0, 0, 0],
                            &dX[0, 0, 0], &dh0[0, 0], &dgx[0, 0, 0], &dgh[0, 0, 0],
                            &work[0, 0], &partial[k, 0, 0], &partial_bhn[k, 0],
                            k * chunk_size, min(B, (k + 1) * chunk_size), T, F, H)
        sum_partials(&partial[0, 0, 0], n_chunks, (F + H + 1) * G, &dW[0, 0], n_threads)
        sum_partials(&partial_bhn[0, 0], n_chunks, H, &db_hn[0], n_threads)
