# LSTM forward and backward time loops.
#
# Design:
# - Gate order i, f, g, o along G = 4H; W packed (F + H + 1, 4H) as [W_x; W_h; b]
#   (docs/kernel_layout.md). i, f, o = sigmoid, g = tanh, c' = f*c + i*g,
#   h' = o*tanh(c').
# - X, Y, dY, dX and the states are batch-major (B, T, .). The training caches (xh,
#   gates, cell) are chunk by chunk, time-major inside a chunk: (r, t) is row
#   step_row(r0, nb, t, T) + r - r0 (_common.pxd), so one step's rows are consecutive
#   and the next step's follow (no prefetch needed for them going forward). xh's
#   row (b, t) = [x_t, h_{t-1}, 1], filled step by step: one product per step of the
#   step's rows with W gives the pre-activations with the input, recurrent and bias
#   terms together; the element-wise pass activates them while they are in cache.
#   W is packed once per call into the micro-kernels' panels (_microkernels.h).
# - Backward per step: gate gradients dA_t for the chunk's rows, then one product
#   dA_t @ W[:F+H]^T gives [dx_t, dh_{t-1}] together, from W[:F+H]^T packed (from
#   W) once per call (with F <= DOT_DX_MAX_F, in the vector builds, the product gives
#   dh_{t-1} only and each row's dx_t is F dot products of length 4H; a dX of
#   shape (0, T, F) asks for no dx at all: a fit's first layer, whose input
#   gradient nobody reads, and the product makes dh_{t-1} only). dA rows go into a
#   block buffer; every BLOCK_STEPS steps one product adds xh_blk^T @ dA_blk to the
#   chunk's weight-gradient accumulator (the ones column makes its last row the bias
#   gradient); xh_blk is the block's xh rows as they stand, already in dA's order.
# - The backward needs tanh(c_t); it divides h_t = o_t * tanh(c_t) by o_t, several
#   times cheaper than tanh: h_t is the h part of xh's row (b, t + 1), or the forward's h_T (the
#   one extra cache, (B, H)) at the last step. o_t is a sigmoid, so it is > 0 unless
#   it underflowed; dividing by max(o_t, smallest normal number of the dtype) keeps
#   0/0 out, and every use of tanh(c_t) is multiplied by o_t again, so such a step's
#   error is below that smallest normal number.
# - Steps t >= lengths[b] copy the state through, write Y = 0 and dX = 0, and get a
#   zero gate gradient, so they add nothing to the weight gradients.
# - lstm_infer: the forward for prediction, without caches: a chunk's xh rows are
#   reused for every step (h written in place), c lives in c_T; the same product
#   and _activate as lstm_forward, so the same bits.
from cython cimport floating
from cython.parallel cimport prange
from libc.float cimport DBL_MIN, FLT_MIN

from ._activations cimport lstm_h_row, sigmoid_row, tanh_row
from ._common cimport (BLOCK_STEPS, PREFETCH_READ_L2, PREFETCH_WRITE,
                       add_clip_norm, check_common, check_dims,
                       TSB_VEC, copy_row, dot_row, fill_xh_step, gemm_step, gemm_tn_add,
                       infer_rows, n_chunks_of, pack_b, pack_bt, packed_size, prefetch_row,
                       step_row, tn_work_size, zero_row)

import numpy as np

#: Up to this many input features the backward makes dx_t by dot products, row by
#: row, and the step product makes dh only: F columns of the product would take a
#: whole (masked) vector per multiply-add of a narrow column tail, a dot product
#: one vector per 16 of the 4H terms. Vector builds only: the portable build's tile
#: is 4 scalar columns wide, so its narrow tail costs no more than its columns.
cdef enum:
    DOT_DX_MAX_F = 2


cdef void _activate(const floating* pre, floating* a, const floating* c_in,
                    floating* c_out, floating* h_out, floating* y,
                    Py_ssize_t H) noexcept nogil:
    """One valid step of one sample: pre (4H,) pre-activations -> a, activated."""
    cdef Py_ssize_t j
    sigmoid_row(a, pre, 2 * H)                  # i, f
    tanh_row(a + 2 * H, pre + 2 * H, H)         # g
    sigmoid_row(a + 3 * H, pre + 3 * H, H)      # o
    for j in range(H):
        c_out[j] = a[H + j] * c_in[j] + a[j] * a[2 * H + j]
    lstm_h_row(h_out, a + 3 * H, c_out, H)
    copy_row(y, h_out, H)


cdef void _forward_chunk(const floating* X, const floating* W, const floating* h0,
                         const floating* c0, const Py_ssize_t* lengths, floating* xh,
                         floating* gates, floating* cell, floating* Y, floating* h_T,
                         floating* c_T, floating* pre, Py_ssize_t r0, Py_ssize_t r1,
                         Py_ssize_t T, Py_ssize_t F, Py_ssize_t H) noexcept nogil:
    cdef Py_ssize_t G = 4 * H, K = F + H + 1, nb = r1 - r0, r, t, row, bm
    cdef const floating* c_in
    cdef floating* h_out
    for t in range(T):
        row = step_row(r0, nb, t, T)
        fill_xh_step(X, h0, xh + row * K, r0, r1, t, T, F, H)
        gemm_step(nb, G, K, xh + row * K, K, W, pre, G)
        for r in range(r0, r1):
            row = step_row(r0, nb, t, T) + r - r0  # the caches' row; nb rows a step
            bm = r * T + t                         # Y's row
            if t + 1 < T:  # the cache rows of step t + 1 follow: no prefetch needed
                prefetch_row(Y + (bm + 1) * H, H, PREFETCH_WRITE)
            c_in = c0 + r * H if t == 0 else cell + (row - nb) * H
            h_out = xh + (row + nb) * K + F if t + 1 < T else h_T + r * H
            if t < lengths[r]:
                _activate(pre + (r - r0) * G, gates + row * G, c_in, cell + row * H, h_out,
                          Y + bm * H, H)
            else:
                copy_row(cell + row * H, c_in, H)
                copy_row(h_out, xh + row * K + F, H)
                zero_row(Y + bm * H, H)
    for r in range(r0, r1):
        copy_row(c_T + r * H, cell + (step_row(r0, nb, T - 1, T) + r - r0) * H, H)


def lstm_forward(const floating[:, :, ::1] X not None,  # IN  (B, T, F)
                 const floating[:, ::1] W not None,     # IN  (F + H + 1, 4H)
                 const floating[:, ::1] h0 not None,    # IN  (B, H)
                 const floating[:, ::1] c0 not None,    # IN  (B, H)
                 const Py_ssize_t[::1] lengths not None,  # IN  (B,)
                 floating[:, :, ::1] xh not None,       # OUT (B, T, F + H + 1) [x_t, h_{t-1}, 1]
                 floating[:, :, ::1] gates not None,    # OUT (B, T, 4H) activated i, f, g, o
                 floating[:, :, ::1] cell not None,     # OUT (B, T, H) cell state after step t
                 floating[:, :, ::1] Y not None,        # OUT (B, T, H)
                 floating[:, ::1] h_T not None,         # OUT (B, H)
                 floating[:, ::1] c_T not None,         # OUT (B, H)
                 floating[:, :, ::1] pre not None,      # WORK (n_chunks, chunk, 4H)
                 Py_ssize_t chunk_size, int n_threads):
    """LSTM forward over a batch; see the module header for the layout."""
    cdef Py_ssize_t B = X.shape[0], T = X.shape[1], F = X.shape[2]
    cdef Py_ssize_t H = h0.shape[1], G = 4 * H, k, n_chunks
    cdef floating[::1] Wp
    check_common(B, T, F, G, chunk_size, n_threads, lengths)
    check_dims("W", W.shape, 2, F + H + 1, G, 0)
    check_dims("h0", h0.shape, 2, B, H, 0)
    check_dims("c0", c0.shape, 2, B, H, 0)
    check_dims("xh", xh.shape, 3, B, T, F + H + 1)
    check_dims("gates", gates.shape, 3, B, T, G)
    check_dims("cell", cell.shape, 3, B, T, H)
    check_dims("Y", Y.shape, 3, B, T, H)
    check_dims("h_T", h_T.shape, 2, B, H, 0)
    check_dims("c_T", c_T.shape, 2, B, H, 0)
    check_dims("pre", pre.shape, 3, n_chunks_of(B, chunk_size), min(chunk_size, B), G)
    n_chunks = n_chunks_of(B, chunk_size)
    Wp = np.empty(packed_size(&pre[0, 0, 0], F + H + 1, G),
                  dtype=np.float32 if floating is float else np.float64)
    with nogil:
        pack_b(F + H + 1, G, &W[0, 0], G, &Wp[0])
        for k in prange(n_chunks, num_threads=min(n_threads, n_chunks),
                        schedule='dynamic'):
            _forward_chunk(&X[0, 0, 0], &Wp[0], &h0[0, 0], &c0[0, 0], &lengths[0],
                           &xh[0, 0, 0], &gates[0, 0, 0], &cell[0, 0, 0], &Y[0, 0, 0],
                           &h_T[0, 0], &c_T[0, 0], &pre[k, 0, 0], k * chunk_size,
                           min(B, (k + 1) * chunk_size), T, F, H)


cdef void _gate_grads(const floating* a, const floating* h, const floating* c_prev,
                      const floating* dh, floating* dc, floating* da, floating* tc,
                      Py_ssize_t H) noexcept nogil:
    """One valid step of one sample: the gates a and output h of step t, dL/dh_t (dh)
    and the running dc -> da (4H,). tanh(c_t) = h_t / o_t (see the module header).

    The vector builds make it in the one loop, kept in a register; the portable build
    (-O2) vectorises only the two-loop form, through the scratch row tc (H,). The
    arithmetic, and so every bit, is the same either way."""
    cdef Py_ssize_t j
    cdef floating dcj, i, f, g, o, t
    cdef floating one = 1  # a typed 1: a bare literal would make float32 maths double
    cdef floating tiny = FLT_MIN if floating is float else DBL_MIN
    if not TSB_VEC:
        for j in range(H):
            o = a[3 * H + j]
            tc[j] = h[j] / (o if o > tiny else tiny)
    for j in range(H):
        i = a[j]
        f = a[H + j]
        g = a[2 * H + j]
        o = a[3 * H + j]
        t = h[j] / (o if o > tiny else tiny) if TSB_VEC else tc[j]
        dcj = dc[j] + dh[j] * o * (one - t * t)
        da[j] = dcj * g * i * (one - i)
        da[H + j] = dcj * c_prev[j] * f * (one - f)
        da[2 * H + j] = dcj * i * (one - g * g)
        da[3 * H + j] = dh[j] * t * o * (one - o)
        dc[j] = dcj * f


cdef void _backward_chunk(const floating* Wp, const floating* Wx, const floating* c0,
                          const floating* h_T, const Py_ssize_t* lengths, const floating* xh,
                          const floating* gates, const floating* cell,
                          const floating* dY, floating* dX, floating* dh, floating* dc,
                          floating* dW, floating* blk_da,
                          floating* work, floating* tn_work, floating clip,
                          Py_ssize_t* n_clipped, floating* delta_sq, bint dh_only,
                          Py_ssize_t r0, Py_ssize_t r1,
                          Py_ssize_t T, Py_ssize_t F, Py_ssize_t H) noexcept nogil:
    cdef Py_ssize_t G = 4 * H, K = F + H + 1, nb = r1 - r0, r, t, row, bm, s, f
    cdef const floating* c_prev
    cdef const floating* h_t
    cdef floating* da
    for t in range(T - 1, -1, -1):
        s = t % BLOCK_STEPS
        for r in range(r0, r1):
            row = step_row(r0, nb, t, T) + r - r0
            bm = r * T + t
            # the rows step t - 1 will read: still named, as the stream runs
            # backwards (measured: 2.7% slower at (64, 50, 8, 64) without)
            if t > 0:
                prefetch_row(dY + (bm - 1) * H, H, PREFETCH_READ_L2)
                prefetch_row(gates + (row - nb) * G, G, PREFETCH_READ_L2)
                prefetch_row(xh + (row - nb) * K, K, PREFETCH_READ_L2)
                if t > 1:
                    prefetch_row(cell + (row - 2 * nb) * H, H, PREFETCH_READ_L2)
            da = blk_da + (s * nb + r - r0) * G
            if t < lengths[r]:
                n_clipped[r] += add_clip_norm(dh + r * H, dY + bm * H, H, clip,
                                              delta_sq + bm)
                c_prev = c0 + r * H if t == 0 else cell + (row - nb) * H
                h_t = xh + (row + nb) * K + F if t + 1 < T else h_T + r * H
                _gate_grads(gates + row * G, h_t, c_prev, dh + r * H, dc + r * H, da,
                            work + (r - r0) * (F + H), H)
            else:
                delta_sq[bm] = 0
                zero_row(da, G)
        if dh_only:  # dh_{t-1} = dA_t @ W_h^T; dx_t row by row (DOT_DX_MAX_F) or none
            gemm_step(nb, H, G, blk_da + s * nb * G, G, Wp, work, H)
            for r in range(r0, r1):
                da = blk_da + (s * nb + r - r0) * G
                if Wx != NULL:
                    for f in range(F):
                        dX[(r * T + t) * F + f] = dot_row(da, Wx + f * G, G)
                if t < lengths[r]:
                    copy_row(dh + r * H, work + (r - r0) * H, H)
        else:  # [dx_t, dh_{t-1}] = dA_t @ W[:F+H]^T
            gemm_step(nb, F + H, G, blk_da + s * nb * G, G, Wp, work, F + H)
            for r in range(r0, r1):
                copy_row(dX + (r * T + t) * F, work + (r - r0) * (F + H), F)
                if t < lengths[r]:
                    copy_row(dh + r * H, work + (r - r0) * (F + H) + F, H)
        if s == 0:  # the block [t, t + BLOCK_STEPS) is complete; its xh rows are
            # consecutive, in blk_da's row order, so they need no gathering
            gemm_tn_add(K, G, min(T - t, BLOCK_STEPS) * nb, xh + step_row(r0, nb, t, T) * K,
                        K, blk_da, G, dW, G, tn_work)


def lstm_backward(const floating[:, ::1] W not None,        # IN  (F + H + 1, 4H)
                  const floating[:, ::1] c0 not None,       # IN  (B, H)
                  const floating[:, ::1] h_T not None,      # IN  (B, H) forward's final h
                  const Py_ssize_t[::1] lengths not None,   # IN  (B,)
                  const floating[:, :, ::1] xh not None,    # IN  (B, T, F + H + 1) forward's
                  const floating[:, :, ::1] gates not None,  # IN  (B, T, 4H) forward's
                  const floating[:, :, ::1] cell not None,  # IN  (B, T, H) forward's
                  const floating[:, :, ::1] dY not None,    # IN  (B, T, H)
                  const floating[:, ::1] dh_T not None,     # IN  (B, H)
                  const floating[:, ::1] dc_T not None,     # IN  (B, H)
                  floating[:, :, ::1] dX not None,          # OUT (B, T, F); (0, T, F): none
                  floating[:, ::1] dh0 not None,            # OUT (B, H)
                  floating[:, ::1] dc0 not None,            # OUT (B, H)
                  floating[:, :, ::1] dW_acc not None,      # IN/OUT (n_chunks, F + H + 1, 4H)
                  floating[:, :, ::1] blk_da not None,      # WORK (n_chunks, 16 * chunk, 4H)
                  floating[:, :, ::1] work not None,        # WORK (n_chunks, chunk, F + H)
                  floating clip_step,                       # IN  clip dL/dh_t to +-clip_step if > 0
                  Py_ssize_t[::1] n_clipped not None,       # IN/OUT (B,) entries clipped, added
                  floating[:, ::1] delta_sq not None,       # OUT (B, T) |dL/dh_t|^2 before clipping
                  Py_ssize_t chunk_size,  # the forward's: the caches' row order
                  int n_threads):
    """LSTM backward through all steps; see the module header for the layout.

    Weight gradients are ADDED to the per-chunk accumulators ``dW_acc``; sum them
    with ``sum_chunks`` (``_reduce.pxi``). A ``dX`` with no rows skips the input
    gradient; every other output keeps its bits.
    """
    cdef Py_ssize_t B = xh.shape[0], T = xh.shape[1], H = c0.shape[1]
    cdef Py_ssize_t F = xh.shape[2] - H - 1, G = 4 * H, K = F + H + 1, k, n_chunks
    check_common(B, T, F, G, chunk_size, n_threads, lengths)
    n_chunks = n_chunks_of(B, chunk_size)
    cdef Py_ssize_t rows_blk = BLOCK_STEPS * min(chunk_size, B)
    cdef floating[::1] Wp
    cdef floating[:, ::1] tn_work
    check_dims("W", W.shape, 2, F + H + 1, G, 0)
    check_dims("c0", c0.shape, 2, B, H, 0)
    check_dims("h_T", h_T.shape, 2, B, H, 0)
    check_dims("gates", gates.shape, 3, B, T, G)
    check_dims("cell", cell.shape, 3, B, T, H)
    check_dims("dY", dY.shape, 3, B, T, H)
    check_dims("dh_T", dh_T.shape, 2, B, H, 0)
    check_dims("dc_T", dc_T.shape, 2, B, H, 0)
    cdef bint want_dx = dX.shape[0] > 0
    check_dims("dX", dX.shape, 3, B if want_dx else 0, T, F)
    check_dims("dh0", dh0.shape, 2, B, H, 0)
    check_dims("dc0", dc0.shape, 2, B, H, 0)
    check_dims("dW_acc", dW_acc.shape, 3, n_chunks, K, G)
    check_dims("blk_da", blk_da.shape, 3, n_chunks, rows_blk, G)
    check_dims("work", work.shape, 3, n_chunks, min(chunk_size, B), F + H)
    check_dims("n_clipped", n_clipped.shape, 1, B, 0, 0)
    check_dims("delta_sq", delta_sq.shape, 2, B, T, 0)
    if F < 1:
        raise ValueError(f"xh has {xh.shape[2]} columns, expected F + H + 1 with F >= 1")
    dh0[...] = dh_T
    dc0[...] = dc_T
    dt = np.float32 if floating is float else np.float64
    # portable build: dx from the product (see DOT_DX_MAX_F)
    cdef bint dot_dx = want_dx and TSB_VEC and F <= DOT_DX_MAX_F
    cdef bint dh_only = dot_dx or not want_dx
    Wp = np.empty(packed_size(&dh0[0, 0], G, H if dh_only else F + H), dtype=dt)
    tn_work = np.empty((n_chunks, tn_work_size(&dh0[0, 0], K, rows_blk)), dtype=dt)
    cdef const floating* wx = &W[0, 0] if dot_dx else NULL  # W_x (F, 4H), the dx rows'
    cdef floating* dx = &dX[0, 0, 0] if want_dx else NULL
    with nogil:
        if dh_only:  # the product makes dh only, from W_h^T
            pack_bt(G, H, &W[F, 0], G, &Wp[0])
        else:
            pack_bt(G, F + H, &W[0, 0], G, &Wp[0])
        for k in prange(n_chunks, num_threads=min(n_threads, n_chunks),
                        schedule='dynamic'):
            _backward_chunk(&Wp[0], wx, &c0[0, 0], &h_T[0, 0], &lengths[0], &xh[0, 0, 0],
                            &gates[0, 0, 0], &cell[0, 0, 0], &dY[0, 0, 0], dx,
                            &dh0[0, 0], &dc0[0, 0], &dW_acc[k, 0, 0],
                            &blk_da[k, 0, 0], &work[k, 0, 0], &tn_work[k, 0], clip_step,
                            &n_clipped[0], &delta_sq[0, 0], dh_only, k * chunk_size,
                            min(B, (k + 1) * chunk_size), T, F, H)


cdef void _infer_chunk(const floating* X, const floating* Wp, const floating* h0,
                       const floating* c0, const Py_ssize_t* lengths, floating* Y,
                       floating* h_T, floating* c_T, floating* xh, floating* pre,
                       floating* act, Py_ssize_t r0, Py_ssize_t r1, Py_ssize_t T,
                       Py_ssize_t F, Py_ssize_t H) noexcept nogil:
    cdef Py_ssize_t G = 4 * H, K = F + H + 1, nb = r1 - r0, r, t
    cdef floating* y
    for r in range(r0, r1):
        copy_row(c_T + r * H, c0 + r * H, H)
    for t in range(T):
        infer_rows(X, h0, xh, r0, r1, t, T, F, H)
        gemm_step(nb, G, K, xh, K, Wp, pre, G)
        for r in range(r0, r1):
            y = Y + (r * T + t) * H if Y != NULL else act + G
            if t < lengths[r]:  # h and c are updated in place
                _activate(pre + (r - r0) * G, act, c_T + r * H, c_T + r * H,
                          xh + (r - r0) * K + F, y, H)
            elif Y != NULL:
                zero_row(y, H)
    for r in range(r0, r1):
        copy_row(h_T + r * H, xh + (r - r0) * K + F, H)


def lstm_infer(const floating[:, :, ::1] X not None,  # IN  (B, T, F)
               const floating[:, ::1] W not None,     # IN  (F + H + 1, 4H)
               const floating[:, ::1] h0 not None,    # IN  (B, H)
               const floating[:, ::1] c0 not None,    # IN  (B, H)
               const Py_ssize_t[::1] lengths not None,  # IN  (B,)
               floating[:, :, ::1] Y not None,        # OUT (B, T, H); (0, T, H): not kept
               floating[:, ::1] h_T not None,         # OUT (B, H)
               floating[:, ::1] c_T not None,         # OUT (B, H)
               floating[:, :, ::1] xh not None,       # WORK (n_chunks, chunk, F + H + 1)
               floating[:, :, ::1] pre not None,      # WORK (n_chunks, chunk, 4H)
               floating[:, ::1] act not None,         # WORK (n_chunks, 5H)
               Py_ssize_t chunk_size, int n_threads):
    """LSTM forward without training caches: memory O(chunk * (F + H)) besides the
    outputs. Y, h_T and c_T are bitwise those of lstm_forward."""
    cdef Py_ssize_t B = X.shape[0], T = X.shape[1], F = X.shape[2]
    cdef Py_ssize_t H = h0.shape[1], G = 4 * H, k, n_chunks, rows
    cdef floating[::1] Wp
    cdef floating* y0 = NULL
    check_common(B, T, F, G, chunk_size, n_threads, lengths)
    n_chunks, rows = n_chunks_of(B, chunk_size), min(chunk_size, B)
    check_dims("W", W.shape, 2, F + H + 1, G, 0)
    check_dims("h0", h0.shape, 2, B, H, 0)
    check_dims("c0", c0.shape, 2, B, H, 0)
    if Y.shape[0] > 0:
        check_dims("Y", Y.shape, 3, B, T, H)
        y0 = &Y[0, 0, 0]
    check_dims("h_T", h_T.shape, 2, B, H, 0)
    check_dims("c_T", c_T.shape, 2, B, H, 0)
    check_dims("xh", xh.shape, 3, n_chunks, rows, F + H + 1)
    check_dims("pre", pre.shape, 3, n_chunks, rows, G)
    check_dims("act", act.shape, 2, n_chunks, 5 * H, 0)
    Wp = np.empty(packed_size(&pre[0, 0, 0], F + H + 1, G),
                  dtype=np.float32 if floating is float else np.float64)
    with nogil:
        pack_b(F + H + 1, G, &W[0, 0], G, &Wp[0])
        for k in prange(n_chunks, num_threads=min(n_threads, n_chunks),
                        schedule='dynamic'):
            _infer_chunk(&X[0, 0, 0], &Wp[0], &h0[0, 0], &c0[0, 0], &lengths[0], y0,
                         &h_T[0, 0], &c_T[0, 0], &xh[k, 0, 0], &pre[k, 0, 0], &act[k, 0],
                         k * chunk_size, min(B, (k + 1) * chunk_size), T, F, H)


include "_products.pxi"
include "_reduce.pxi"
include "_finite.pxi"
include "_activation_values.pxi"
