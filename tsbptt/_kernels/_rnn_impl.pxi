# Elman RNN (tanh) forward and backward time loops.
#
# Design:
# - h' = tanh(x W_x + h W_h + b); W packed (F + H + 1, H) as [W_x; W_h; b]
#   (docs/kernel_layout.md). The same skeleton as the LSTM kernel with G = H:
#   xh's row (b, t) = [x_t, h_{t-1}, 1], the caches chunk by chunk, time-major inside
#   a chunk (step_row), one product of a step's xh rows with W per step into the
#   chunk's `pre` scratch (contiguous, in cache), then tanh into `gates` (h_t).
# - Backward per step: da = dL/dh_t * (1 - h_t^2); one product da @ W[:F+H]^T gives
#   [dx_t, dh_{t-1}] (from W[:F+H]^T; dh_{t-1} alone, from W_h^T, when dX has
#   shape (0, T, F): no input gradient asked for); every BLOCK_STEPS steps one product
#   adds xh_blk^T @ da_blk to the chunk's weight-gradient accumulator (last row: the
#   bias), xh_blk being the block's xh rows where they stand. W and W[:F+H]^T (from
#   W) are packed once per call (_microkernels.h).
# - Steps t >= lengths[b] copy the state through, write Y = 0, dX = 0, and get zero
#   gradients.
# - rnn_infer: the forward for prediction, without caches; rnn_forward's bits.
from cython cimport floating
from cython.parallel cimport prange

from ._activations cimport tanh_row
from ._common cimport (BLOCK_STEPS, PREFETCH_READ, PREFETCH_WRITE,
                       add_clip_norm, check_common, check_dims,
                       copy_row, fill_xh_step, gemm_step, gemm_tn_add, infer_rows,
                       n_chunks_of, pack_b, pack_bt, packed_size, prefetch_row, step_row,
                       tn_work_size, zero_row)

import numpy as np


cdef void _forward_chunk(const floating* X, const floating* W, const floating* h0,
                         const Py_ssize_t* lengths, floating* xh, floating* gates,
                         floating* Y, floating* h_T, floating* pre, Py_ssize_t r0,
                         Py_ssize_t r1, Py_ssize_t T, Py_ssize_t F, Py_ssize_t H) noexcept nogil:
    cdef Py_ssize_t K = F + H + 1, nb = r1 - r0, r, t, row, bm
    cdef floating* a
    cdef floating* h_out
    for t in range(T):
        row = step_row(r0, nb, t, T)
        fill_xh_step(X, h0, xh + row * K, r0, r1, t, T, F, H)
        gemm_step(nb, H, K, xh + row * K, K, W, pre, H)
        for r in range(r0, r1):
            row = step_row(r0, nb, t, T) + r - r0  # the caches' row; nb rows a step
            bm = r * T + t                         # Y's row
            if t + 1 < T:  # the cache rows of step t + 1 follow: no prefetch needed
                prefetch_row(Y + (bm + 1) * H, H, PREFETCH_WRITE)
            h_out = xh + (row + nb) * K + F if t + 1 < T else h_T + r * H
            if t < lengths[r]:
                a = gates + row * H
                tanh_row(a, pre + (r - r0) * H, H)
                copy_row(h_out, a, H)
                copy_row(Y + bm * H, a, H)
            else:
                copy_row(h_out, xh + row * K + F, H)
                zero_row(Y + bm * H, H)


def rnn_forward(const floating[:, :, ::1] X not None,  # IN  (B, T, F)
                const floating[:, ::1] W not None,     # IN  (F + H + 1, H)
                const floating[:, ::1] h0 not None,    # IN  (B, H)
                const Py_ssize_t[::1] lengths not None,  # IN  (B,)
                floating[:, :, ::1] xh not None,       # OUT (B, T, F + H + 1) [x_t, h_{t-1}, 1]
                floating[:, :, ::1] gates not None,    # OUT (B, T, H) h_t at valid steps
                floating[:, :, ::1] Y not None,        # OUT (B, T, H)
                floating[:, ::1] h_T not None,         # OUT (B, H)
                floating[:, :, ::1] pre not None,      # WORK (n_chunks, chunk, H)
                Py_ssize_t chunk_size, int n_threads):
    """Elman RNN forward over a batch; see the module header for the layout."""
    cdef Py_ssize_t B = X.shape[0], T = X.shape[1], F = X.shape[2]
    cdef Py_ssize_t H = h0.shape[1], k, n_chunks
    cdef floating[::1] Wp
    check_common(B, T, F, H, chunk_size, n_threads, lengths)
    check_dims("W", W.shape, 2, F + H + 1, H, 0)
    check_dims("h0", h0.shape, 2, B, H, 0)
    check_dims("xh", xh.shape, 3, B, T, F + H + 1)
    check_dims("gates", gates.shape, 3, B, T, H)
    check_dims("Y", Y.shape, 3, B, T, H)
    check_dims("h_T", h_T.shape, 2, B, H, 0)
    check_dims("pre", pre.shape, 3, n_chunks_of(B, chunk_size), min(chunk_size, B), H)
    n_chunks = n_chunks_of(B, chunk_size)
    Wp = np.empty(packed_size(&pre[0, 0, 0], F + H + 1, H),
                  dtype=np.float32 if floating is float else np.float64)
    with nogil:
        pack_b(F + H + 1, H, &W[0, 0], H, &Wp[0])
        for k in prange(n_chunks, num_threads=min(n_threads, n_chunks),
                        schedule='dynamic'):
            _forward_chunk(&X[0, 0, 0], &Wp[0], &h0[0, 0], &lengths[0], &xh[0, 0, 0],
                           &gates[0, 0, 0], &Y[0, 0, 0], &h_T[0, 0], &pre[k, 0, 0],
                           k * chunk_size,
                           min(B, (k + 1) * chunk_size), T, F, H)


cdef void _backward_chunk(const floating* Wp, const Py_ssize_t* lengths,
                          const floating* xh, const floating* gates, const floating* dY,
                          floating* dX, floating* dh, floating* dW,
                          floating* blk_da, floating* work, floating* tn_work,
                          floating clip,
                          Py_ssize_t* n_clipped, floating* delta_sq, Py_ssize_t r0,
                          Py_ssize_t r1, Py_ssize_t T, Py_ssize_t F, Py_ssize_t H) noexcept nogil:
    # without dX the product makes dh only: columns [nx, nx + H) of its rows
    cdef Py_ssize_t K = F + H + 1, nb = r1 - r0, r, t, row, bm, s, j
    cdef Py_ssize_t nx = F if dX != NULL else 0
    cdef const floating* a
    cdef floating* da
    cdef floating* dhr
    cdef floating one = 1  # a typed 1: a bare literal would make float32 maths double
    for t in range(T - 1, -1, -1):
        s = t % BLOCK_STEPS
        for r in range(r0, r1):
            row = step_row(r0, nb, t, T) + r - r0  # the caches' row
            bm = r * T + t                         # dY's row
            if t > 0:  # the rows step t - 1 will read (a backward stream: still named)
                prefetch_row(gates + (row - nb) * H, H, PREFETCH_READ)
                prefetch_row(dY + (bm - 1) * H, H, PREFETCH_READ)
                prefetch_row(xh + (row - nb) * K, K, PREFETCH_READ)
            da = blk_da + (s * nb + r - r0) * H
            if t < lengths[r]:
                dhr = dh + r * H
                n_clipped[r] += add_clip_norm(dhr, dY + bm * H, H, clip, delta_sq + bm)
                a = gates + row * H
                for j in range(H):
                    da[j] = dhr[j] * (one - a[j] * a[j])
            else:
                delta_sq[bm] = 0
                zero_row(da, H)
        gemm_step(nb, nx + H, H, blk_da + s * nb * H, H, Wp, work, nx + H)
        for r in range(r0, r1):
            if nx:
                copy_row(dX + (r * T + t) * F, work + (r - r0) * (F + H), F)
            if t < lengths[r]:
                copy_row(dh + r * H, work + (r - r0) * (nx + H) + nx, H)
        if s == 0:  # the block's xh rows are consecutive, in blk_da's row order
            gemm_tn_add(K, H, min(T - t, BLOCK_STEPS) * nb, xh + step_row(r0, nb, t, T) * K,
                        K, blk_da, H, dW, H, tn_work)


def rnn_backward(const floating[:, ::1] W not None,        # IN  (F + H + 1, H)
                 const Py_ssize_t[::1] lengths not None,   # IN  (B,)
                 const floating[:, :, ::1] xh not None,    # IN  (B, T, F + H + 1) forward's
                 const floating[:, :, ::1] gates not None,  # IN  (B, T, H) forward's
                 const floating[:, :, ::1] dY not None,    # IN  (B, T, H)
                 const floating[:, ::1] dh_T not None,     # IN  (B, H)
                 floating[:, :, ::1] dX not None,          # OUT (B, T, F); (0, T, F): none
                 floating[:, ::1] dh0 not None,            # OUT (B, H)
                 floating[:, :, ::1] dW_acc not None,      # IN/OUT (n_chunks, F + H + 1, H)
                 floating[:, :, ::1] blk_da not None,      # WORK (n_chunks, 16 * chunk, H)
                 floating[:, :, ::1] work not None,        # WORK (n_chunks, chunk, F + H)
                 floating clip_step,                       # IN  clip dL/dh_t to +-clip_step if > 0
                 Py_ssize_t[::1] n_clipped not None,       # IN/OUT (B,) entries clipped, added
                 floating[:, ::1] delta_sq not None,       # OUT (B, T) |dL/dh_t|^2 before clipping
                 Py_ssize_t chunk_size,  # the forward's: the caches' row order
                 int n_threads):
    """Elman RNN backward through all steps; weight gradients are ADDED to dW_acc.
    A ``dX`` with no rows skips the input gradient; every other output keeps its bits."""
    cdef Py_ssize_t B = xh.shape[0], T = xh.shape[1], H = dh_T.shape[1]
    cdef Py_ssize_t F = xh.shape[2] - H - 1, K = F + H + 1, k, n_chunks
    check_common(B, T, F, H, chunk_size, n_threads, lengths)
    n_chunks = n_chunks_of(B, chunk_size)
    cdef Py_ssize_t rows_blk = BLOCK_STEPS * min(chunk_size, B)
    cdef floating[::1] Wp
    cdef floating[:, ::1] tn_work
    check_dims("W", W.shape, 2, F + H + 1, H, 0)
    check_dims("gates", gates.shape, 3, B, T, H)
    check_dims("dY", dY.shape, 3, B, T, H)
    check_dims("dh_T", dh_T.shape, 2, B, H, 0)
    cdef bint want_dx = dX.shape[0] > 0
    cdef Py_ssize_t nx = F if want_dx else 0
    check_dims("dX", dX.shape, 3, B if want_dx else 0, T, F)
    cdef floating* dx = &dX[0, 0, 0] if want_dx else NULL
    check_dims("dh0", dh0.shape, 2, B, H, 0)
    check_dims("dW_acc", dW_acc.shape, 3, n_chunks, K, H)
    check_dims("blk_da", blk_da.shape, 3, n_chunks, rows_blk, H)
    check_dims("work", work.shape, 3, n_chunks, min(chunk_size, B), F + H)
    check_dims("n_clipped", n_clipped.shape, 1, B, 0, 0)
    check_dims("delta_sq", delta_sq.shape, 2, B, T, 0)
    if F < 1:
        raise ValueError(f"xh has {xh.shape[2]} columns, expected F + H + 1 with F >= 1")
    dh0[...] = dh_T
    dt = np.float32 if floating is float else np.float64
    Wp = np.empty(packed_size(&dh0[0, 0], H, nx + H), dtype=dt)
    tn_work = np.empty((n_chunks, tn_work_size(&dh0[0, 0], K, rows_blk)), dtype=dt)
    with nogil:
        pack_bt(H, nx + H, &W[F - nx, 0], H, &Wp[0])
        for k in prange(n_chunks, num_threads=min(n_threads, n_chunks),
                        schedule='dynamic'):
            _backward_chunk(&Wp[0], &lengths[0], &xh[0, 0, 0], &gates[0, 0, 0],
                            &dY[0, 0, 0], dx, &dh0[0, 0], &dW_acc[k, 0, 0],
                            &blk_da[k, 0, 0], &work[k, 0, 0],
                            &tn_work[k, 0], clip_step, &n_clipped[0], &delta_sq[0, 0],
                            k * chunk_size,
                            min(B, (k + 1) * chunk_size), T, F, H)


cdef void _infer_chunk(const floating* X, const floating* Wp, const floating* h0,
                       const Py_ssize_t* lengths, floating* Y, floating* h_T,
                       floating* xh, floating* pre, Py_ssize_t r0, Py_ssize_t r1,
                       Py_ssize_t T, Py_ssize_t F, Py_ssize_t H) noexcept nogil:
    cdef Py_ssize_t K = F + H + 1, nb = r1 - r0, r, t
    cdef floating* h
    for t in range(T):
        infer_rows(X, h0, xh, r0, r1, t, T, F, H)
        gemm_step(nb, H, K, xh, K, Wp, pre, H)
        for r in range(r0, r1):
            if t < lengths[r]:  # h is updated in place
                h = xh + (r - r0) * K + F
                tanh_row(h, pre + (r - r0) * H, H)
                if Y != NULL:
                    copy_row(Y + (r * T + t) * H, h, H)
            elif Y != NULL:
                zero_row(Y + (r * T + t) * H, H)
    for r in range(r0, r1):
        copy_row(h_T + r * H, xh + (r - r0) * K + F, H)


def rnn_infer(const floating[:, :, ::1] X not None,  # IN  (B, T, F)
              const floating[:, ::1] W not None,     # IN  (F + H + 1, H)
              const floating[:, ::1] h0 not None,    # IN  (B, H)
              const Py_ssize_t[::1] lengths not None,  # IN  (B,)
              floating[:, :, ::1] Y not None,        # OUT (B, T, H); (0, T, H): not kept
              floating[:, ::1] h_T not None,         # OUT (B, H)
              floating[:, :, ::1] xh not None,       # WORK (n_chunks, chunk, F + H + 1)
              floating[:, :, ::1] pre not None,      # WORK (n_chunks, chunk, H)
              Py_ssize_t chunk_size, int n_threads):
    """Elman RNN forward without training caches; Y and h_T bitwise rnn_forward's."""
    cdef Py_ssize_t B = X.shape[0], T = X.shape[1], F = X.shape[2]
    cdef Py_ssize_t H = h0.shape[1], k, n_chunks, rows
    cdef floating[::1] Wp
    cdef floating* y0 = NULL
    check_common(B, T, F, H, chunk_size, n_threads, lengths)
    n_chunks, rows = n_chunks_of(B, chunk_size), min(chunk_size, B)
    check_dims("W", W.shape, 2, F + H + 1, H, 0)
    check_dims("h0", h0.shape, 2, B, H, 0)
    if Y.shape[0] > 0:
        check_dims("Y", Y.shape, 3, B, T, H)
        y0 = &Y[0, 0, 0]
    check_dims("h_T", h_T.shape, 2, B, H, 0)
    check_dims("xh", xh.shape, 3, n_chunks, rows, F + H + 1)
    check_dims("pre", pre.shape, 3, n_chunks, rows, H)
    Wp = np.empty(packed_size(&h_T[0, 0], F + H + 1, H),
                  dtype=np.float32 if floating is float else np.float64)
    with nogil:
        pack_b(F + H + 1, H, &W[0, 0], H, &Wp[0])
        for k in prange(n_chunks, num_threads=min(n_threads, n_chunks),
                        schedule='dynamic'):
            _infer_chunk(&X[0, 0, 0], &Wp[0], &h0[0, 0], &lengths[0], y0, &h_T[0, 0],
                         &xh[k, 0, 0], &pre[k, 0, 0], k * chunk_size,
                         min(B, (k + 1) * chunk_size), T, F, H)
