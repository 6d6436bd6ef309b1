# GRU forward and backward time loops.
#
# Design:
# - The cuDNN/PyTorch formulation, with the reset gate applied AFTER the recurrent
#   matmul: r = sig(x W_xr + b_r + h W_hr), z = sig(x W_xz + b_z + h W_hz),
#   hn = h W_hn + b_hn, n = tanh(x W_xn + b_n + r * hn), h' = (1 - z) * n + z * h.
#   Gate order r, z, n along G = 3H; W packed (F + H + 1, 3H) as [W_x; W_h; b] and a
#   separate recurrent candidate bias b_hn (H,) (docs/kernel_layout.md).
# - xh's row (b, t) = [x_t, h_{t-1}, 1] and the caches' row order (chunk by chunk,
#   time-major inside a chunk: step_row) as for the LSTM. Because r multiplies h W_hn, the
#   candidate's input and recurrent parts must stay apart: per step one product gives
#   r and z (input, recurrent and bias together), one gives x W_xn and one h W_hn
#   (cached as hn, with b_hn added). The three weight blocks, and the two of
#   W[:F+H]^T the backward reads (packed from W), are packed once per call
#   (_microkernels.h).
# - The backward has two gate-gradient blocks: dgx feeds dX, W_x and b; dgh (equal
#   to dgx except the n block, multiplied by r) feeds dh, W_h and b_hn. Weight
#   gradients are added block by block of BLOCK_STEPS steps, as for the LSTM, from
#   the block's xh rows where they stand.
# - Steps t >= lengths[b] copy the state through, write Y = 0, dX = 0 and get zero
#   gradients.
# - gru_infer: the forward for prediction, without caches (xh of a chunk's rows, h
#   in place, h W_hn beside the pre-activations); the same bits as gru_forward.
from cython cimport floating
from cython.parallel cimport prange

from ._activations cimport gru_n_row, sigmoid_row
from ._common cimport (BLOCK_STEPS, PREFETCH_READ_L2, PREFETCH_WRITE,
                       add_clip_norm, check_common, check_dims,
                       copy_row, fill_xh_step, gemm_step, gemm_tn_add, infer_rows,
                       n_chunks_of, pack_b, pack_bt, packed_size, prefetch_row, step_row,
                       tn_work_size, zero_row)

import numpy as np


cdef void _activate(const floating* pre, floating* a, floating* hn,
                    const floating* b_n, const floating* b_hn, const floating* hp,
                    floating* h_out, floating* y, Py_ssize_t H) noexcept nogil:
    """One valid step of one sample. pre (3H,): r, z pre-activations and x W_xn;
    hn (H,): h W_hn, to which b_hn is added; a (3H,) receives r, z, n."""
    cdef Py_ssize_t j
    cdef floating one = 1  # a typed 1: a bare literal would make float32 maths double
    sigmoid_row(a, pre, 2 * H)                  # r, z
    for j in range(H):
        hn[j] = hn[j] + b_hn[j]
    gru_n_row(a + 2 * H, pre + 2 * H, b_n, a, hn, H)  # n
    for j in range(H):
        h_out[j] = (one - a[H + j]) * a[2 * H + j] + a[H + j] * hp[j]
    copy_row(y, h_out, H)


cdef void _forward_chunk(const floating* X, const floating* W, const floating* Wp,
                         Py_ssize_t off2, Py_ssize_t off3, const floating* b_hn,
                         const floating* h0, const Py_ssize_t* lengths, floating* xh,
                         floating* gates, floating* hn, floating* Y, floating* h_T,
                         floating* pre, Py_ssize_t r0, Py_ssize_t r1, Py_ssize_t T,
                         Py_ssize_t F, Py_ssize_t H) noexcept nogil:
    cdef Py_ssize_t G = 3 * H, K = F + H + 1, nb = r1 - r0, r, t, row, bm
    cdef const floating* b_n = W + (F + H) * G + 2 * H
    cdef floating* h_out
    cdef const floating* xh_t
    for t in range(T):
        row = step_row(r0, nb, t, T)
        xh_t = xh + row * K
        fill_xh_step(X, h0, xh + row * K, r0, r1, t, T, F, H)
        gemm_step(nb, 2 * H, K, xh_t, K, Wp, pre, G)
        gemm_step(nb, H, F, xh_t, K, Wp + off2, pre + 2 * H, G)
        gemm_step(nb, H, H, xh_t + F, K, Wp + off3, hn + row * H, H)
        for r in range(r0, r1):
            row = step_row(r0, nb, t, T) + r - r0  # the caches' row; nb rows a step
            bm = r * T + t                         # Y's row
            if t + 1 < T:  # the cache rows of step t + 1 follow: no prefetch needed
                prefetch_row(Y + (bm + 1) * H, H, PREFETCH_WRITE)
            h_out = xh + (row + nb) * K + F if t + 1 < T else h_T + r * H
            if t < lengths[r]:
                _activate(pre + (r - r0) * G, gates + row * G, hn + row * H, b_n, b_hn,
                          xh + row * K + F, h_out, Y + bm * H, H)
            else:
                zero_row(hn + row * H, H)
                copy_row(h_out, xh + row * K + F, H)
                zero_row(Y + bm * H, H)


def gru_forward(const floating[:, :, ::1] X not None,  # IN  (B, T, F)
                const floating[:, ::1] W not None,     # IN  (F + H + 1, 3H)
                const floating[::1] b_hn not None,     # IN  (H,)
                const floating[:, ::1] h0 not None,    # IN  (B, H)
                const Py_ssize_t[::1] lengths not None,  # IN  (B,)
                floating[:, :, ::1] xh not None,       # OUT (B, T, F + H + 1) [x_t, h_{t-1}, 1]
                floating[:, :, ::1] gates not None,    # OUT (B, T, 3H) activated r, z, n
                floating[:, :, ::1] hn not None,       # OUT (B, T, H) h W_hn + b_hn
                floating[:, :, ::1] Y not None,        # OUT (B, T, H)
                floating[:, ::1] h_T not None,         # OUT (B, H)
                floating[:, :, ::1] pre not None,      # WORK (n_chunks, chunk, 3H)
                Py_ssize_t chunk_size, int n_threads):
    """GRU forward over a batch; see the module header for the layout."""
    cdef Py_ssize_t B = X.shape[0], T = X.shape[1], F = X.shape[2]
    cdef Py_ssize_t H = h0.shape[1], G = 3 * H, k, n_chunks, off2, off3
    cdef floating[::1] Wp
    check_common(B, T, F, G, chunk_size, n_threads, lengths)
    check_dims("W", W.shape, 2, F + H + 1, G, 0)
    check_dims("b_hn", b_hn.shape, 1, H, 0, 0)
    check_dims("h0", h0.shape, 2, B, H, 0)
    check_dims("xh", xh.shape, 3, B, T, F + H + 1)
    check_dims("gates", gates.shape, 3, B, T, G)
    check_dims("hn", hn.shape, 3, B, T, H)
    check_dims("Y", Y.shape, 3, B, T, H)
    check_dims("h_T", h_T.shape, 2, B, H, 0)
    check_dims("pre", pre.shape, 3, n_chunks_of(B, chunk_size), min(chunk_size, B), G)
    n_chunks = n_chunks_of(B, chunk_size)
    off2 = packed_size(&pre[0, 0, 0], F + H + 1, 2 * H)
    off3 = off2 + packed_size(&pre[0, 0, 0], F, H)
    Wp = np.empty(off3 + packed_size(&pre[0, 0, 0], H, H),
                  dtype=np.float32 if floating is float else np.float64)
    with nogil:
        pack_b(F + H + 1, 2 * H, &W[0, 0], G, &Wp[0])
        pack_b(F, H, &W[0, 2 * H], G, &Wp[off2])
        pack_b(H, H, &W[F, 2 * H], G, &Wp[off3])
        for k in prange(n_chunks, num_threads=min(n_threads, n_chunks),
                        schedule='dynamic'):
            _forward_chunk(&X[0, 0, 0], &W[0, 0], &Wp[0], off2, off3, &b_hn[0], &h0[0, 0],
                           &lengths[0],
                           &xh[0, 0, 0], &gates[0, 0, 0], &hn[0, 0, 0], &Y[0, 0, 0],
                           &h_T[0, 0], &pre[k, 0, 0], k * chunk_size,
                           min(B, (k + 1) * chunk_size), T, F, H)


cdef void _gate_grads(const floating* a, const floating* hp, const floating* hn,
                      floating* dh, floating* dgx, floating* dgh,
                      Py_ssize_t H) noexcept nogil:
    """One valid step of one sample. dh (IN/OUT): in dL/dh_t, out dL/dh_t * z."""
    cdef Py_ssize_t j
    cdef floating r, z, n, dan, daz, dar
    cdef floating one = 1
    for j in range(H):
        r = a[j]
        z = a[H + j]
        n = a[2 * H + j]
        dan = dh[j] * (one - z) * (one - n * n)
        daz = dh[j] * (hp[j] - n) * z * (one - z)
        dar = dan * hn[j] * r * (one - r)
        dgx[j] = dar
        dgx[H + j] = daz
        dgx[2 * H + j] = dan
        dgh[j] = dar
        dgh[H + j] = daz
        dgh[2 * H + j] = dan * r
        dh[j] = dh[j] * z


cdef void _add_block_grads(const floating* xh_blk, const floating* blk_dgx,
                           const floating* blk_dgh, Py_ssize_t rows, Py_ssize_t F,
                           Py_ssize_t H, floating* dW, floating* db_hn,
                           floating* tn_work) noexcept nogil:
    """dW += [x^T dgx; h^T dgh; 1^T dgx] and db_hn += 1^T dgh_n over a block's rows."""
    cdef Py_ssize_t G = 3 * H, K = F + H + 1
    gemm_tn_add(F, G, rows, xh_blk, K, blk_dgx, G, dW, G, tn_work)
    gemm_tn_add(H, G, rows, xh_blk + F, K, blk_dgh, G, dW + F * G, G, tn_work)
    gemm_tn_add(1, G, rows, xh_blk + F + H, K, blk_dgx, G, dW + (F + H) * G, G, tn_work)
    gemm_tn_add(1, H, rows, xh_blk + F + H, K, blk_dgh + 2 * H, G, db_hn, H, tn_work)


cdef void _backward_chunk(const floating* Wp, Py_ssize_t off_h, const Py_ssize_t* lengths,
                          const floating* xh, const floating* gates, const floating* hn,
                          const floating* dY, floating* dX, floating* dh, floating* dW,
                          floating* db_hn, floating* blk_dgx,
                          floating* blk_dgh, floating* work, floating* tn_work,
                          floating clip,
                          Py_ssize_t* n_clipped, floating* delta_sq, Py_ssize_t r0,
                          Py_ssize_t r1, Py_ssize_t T, Py_ssize_t F, Py_ssize_t H) noexcept nogil:
    cdef Py_ssize_t G = 3 * H, K = F + H + 1, nb = r1 - r0, r, t, row, bm, s, j, off
    cdef floating* dhr
    cdef floating* wr
    for t in range(T - 1, -1, -1):
        s = t % BLOCK_STEPS
        for r in range(r0, r1):
            row = step_row(r0, nb, t, T) + r - r0  # the caches' row
            bm = r * T + t                         # dY's row
            if t > 0:  # the rows step t - 1 will read (a backward stream: still named)
                prefetch_row(gates + (row - nb) * G, G, PREFETCH_READ_L2)
                prefetch_row(hn + (row - nb) * H, H, PREFETCH_READ_L2)
                prefetch_row(dY + (bm - 1) * H, H, PREFETCH_READ_L2)
                prefetch_row(xh + (row - nb) * K, K, PREFETCH_READ_L2)
            off = (s * nb + r - r0) * G
            if t < lengths[r]:
                n_clipped[r] += add_clip_norm(dh + r * H, dY + bm * H, H, clip,
                                              delta_sq + bm)
                _gate_grads(gates + row * G, xh + row * K + F, hn + row * H, dh + r * H,
                            blk_dgx + off, blk_dgh + off, H)
            else:
                delta_sq[bm] = 0
                zero_row(blk_dgx + off, G)
                zero_row(blk_dgh + off, G)
        # dx_t = dgx @ W_x^T (zero rows past a sequence's end give dX = 0), if asked for
        if dX != NULL:
            gemm_step(nb, F, G, blk_dgx + s * nb * G, G, Wp, dX + (r0 * T + t) * F, T * F)
        # dh_{t-1} = dh * z + dgh @ W_h^T
        gemm_step(nb, H, G, blk_dgh + s * nb * G, G, Wp + off_h, work, H)
        for r in range(r0, r1):
            if t < lengths[r]:
                dhr = dh + r * H
                wr = work + (r - r0) * H
                for j in range(H):
                    dhr[j] = dhr[j] + wr[j]
        if s == 0:  # the block's xh rows are consecutive, in blk_dgx's row order
            _add_block_grads(xh + step_row(r0, nb, t, T) * K, blk_dgx, blk_dgh,
                             min(T - t, BLOCK_STEPS) * nb, F, H, dW, db_hn, tn_work)


def gru_backward(const floating[:, ::1] W not None,        # IN  (F + H + 1, 3H)
                 const Py_ssize_t[::1] lengths not None,   # IN  (B,)
                 const floating[:, :, ::1] xh not None,    # IN  (B, T, F + H + 1) forward's
                 const floating[:, :, ::1] gates not None,  # IN  (B, T, 3H) forward's
                 const floating[:, :, ::1] hn not None,    # IN  (B, T, H) forward's
                 const floating[:, :, ::1] dY not None,    # IN  (B, T, H)
                 const floating[:, ::1] dh_T not None,     # IN  (B, H)
                 floating[:, :, ::1] dX not None,          # OUT (B, T, F); (0, T, F): none
                 floating[:, ::1] dh0 not None,            # OUT (B, H)
                 floating[:, :, ::1] dW_acc not None,      # IN/OUT (n_chunks, F + H + 1, 3H)
                 floating[:, ::1] db_hn_acc not None,      # IN/OUT (n_chunks, H)
                 floating[:, :, ::1] blk_dgx not None,     # WORK (n_chunks, 16 * chunk, 3H)
                 floating[:, :, ::1] blk_dgh not None,     # WORK (n_chunks, 16 * chunk, 3H)
                 floating[:, :, ::1] work not None,        # WORK (n_chunks, chunk, H)
                 floating clip_step,                       # IN  clip dL/dh_t to +-clip_step if > 0
                 Py_ssize_t[::1] n_clipped not None,       # IN/OUT (B,) entries clipped, added
                 floating[:, ::1] delta_sq not None,       # OUT (B, T) |dL/dh_t|^2 before clipping
                 Py_ssize_t chunk_size,  # the forward's: the caches' row order
                 int n_threads):
    """GRU backward through all steps; weight gradients are ADDED to the accumulators.
    A ``dX`` with no rows skips the input gradient; every other output keeps its bits."""
    cdef Py_ssize_t B = xh.shape[0], T = xh.shape[1], H = dh_T.shape[1]
    cdef Py_ssize_t F = xh.shape[2] - H - 1, G = 3 * H, K = F + H + 1, k, n_chunks
    check_common(B, T, F, G, chunk_size, n_threads, lengths)
    n_chunks = n_chunks_of(B, chunk_size)
    cdef Py_ssize_t rows_blk = BLOCK_STEPS * min(chunk_size, B), off_h
    cdef floating[::1] Wp
    cdef floating[:, ::1] tn_work
    check_dims("W", W.shape, 2, F + H + 1, G, 0)
    check_dims("gates", gates.shape, 3, B, T, G)
    check_dims("hn", hn.shape, 3, B, T, H)
    check_dims("dY", dY.shape, 3, B, T, H)
    check_dims("dh_T", dh_T.shape, 2, B, H, 0)
    cdef bint want_dx = dX.shape[0] > 0
    check_dims("dX", dX.shape, 3, B if want_dx else 0, T, F)
    cdef floating* dx = &dX[0, 0, 0] if want_dx else NULL
    check_dims("dh0", dh0.shape, 2, B, H, 0)
    check_dims("dW_acc", dW_acc.shape, 3, n_chunks, K, G)
    check_dims("db_hn_acc", db_hn_acc.shape, 2, n_chunks, H, 0)
    check_dims("blk_dgx", blk_dgx.shape, 3, n_chunks, rows_blk, G)
    check_dims("blk_dgh", blk_dgh.shape, 3, n_chunks, rows_blk, G)
    check_dims("work", work.shape, 3, n_chunks, min(chunk_size, B), H)
    check_dims("n_clipped", n_clipped.shape, 1, B, 0, 0)
    check_dims("delta_sq", delta_sq.shape, 2, B, T, 0)
    if F < 1:
        raise ValueError(f"xh has {xh.shape[2]} columns, expected F + H + 1 with F >= 1")
    dh0[...] = dh_T
    dt = np.float32 if floating is float else np.float64
    off_h = packed_size(&dh0[0, 0], G, F)
    Wp = np.empty(off_h + packed_size(&dh0[0, 0], G, H), dtype=dt)
    tn_work = np.empty((n_chunks, tn_work_size(&dh0[0, 0], K, rows_blk)), dtype=dt)
    with nogil:
        pack_bt(G, F, &W[0, 0], G, &Wp[0])
        pack_bt(G, H, &W[F, 0], G, &Wp[off_h])
        for k in prange(n_chunks, num_threads=min(n_threads, n_chunks),
                        schedule='dynamic'):
            _backward_chunk(&Wp[0], off_h, &lengths[0], &xh[0, 0, 0], &gates[0, 0, 0],
                            &hn[0, 0, 0], &dY[0, 0, 0], dx, &dh0[0, 0],
                            &dW_acc[k, 0, 0], &db_hn_acc[k, 0],
                            &blk_dgx[k, 0, 0], &blk_dgh[k, 0, 0], &work[k, 0, 0],
                            &tn_work[k, 0], clip_step, &n_clipped[0], &delta_sq[0, 0],
                            k * chunk_size,
                            min(B, (k + 1) * chunk_size), T, F, H)


cdef void _infer_chunk(const floating* X, const floating* W, const floating* Wp,
                       Py_ssize_t off2, Py_ssize_t off3, const floating* b_hn,
                       const floating* h0, const Py_ssize_t* lengths, floating* Y,
                       floating* h_T, floating* xh, floating* pre, floating* act,
                       Py_ssize_t r0, Py_ssize_t r1, Py_ssize_t T, Py_ssize_t F,
                       Py_ssize_t H) noexcept nogil:
    """pre rows hold [r, z, x W_xn | h W_hn] (3H + H); h is updated in place in xh."""
    cdef Py_ssize_t G = 3 * H, K = F + H + 1, nb = r1 - r0, r, t, P = 4 * H
    cdef const floating* b_n = W + (F + H) * G + 2 * H
    cdef floating* y
    cdef floating* p
    for t in range(T):
        infer_rows(X, h0, xh, r0, r1, t, T, F, H)
        gemm_step(nb, 2 * H, K, xh, K, Wp, pre, P)
        gemm_step(nb, H, F, xh, K, Wp + off2, pre + 2 * H, P)
        gemm_step(nb, H, H, xh + F, K, Wp + off3, pre + G, P)
        for r in range(r0, r1):
            y = Y + (r * T + t) * H if Y != NULL else act + G
            p = pre + (r - r0) * P
            if t < lengths[r]:
                _activate(p, act, p + G, b_n, b_hn, xh + (r - r0) * K + F,
                          xh + (r - r0) * K + F, y, H)
            elif Y != NULL:
                zero_row(y, H)
    for r in range(r0, r1):
        copy_row(h_T + r * H, xh + (r - r0) * K + F, H)


def gru_infer(const floating[:, :, ::1] X not None,  # IN  (B, T, F)
              const floating[:, ::1] W not None,     # IN  (F + H + 1, 3H)
              const floating[::1] b_hn not None,     # IN  (H,)
              const floating[:, ::1] h0 not None,    # IN  (B, H)
              const Py_ssize_t[::1] lengths not None,  # IN  (B,)
              floating[:, :, ::1] Y not None,        # OUT (B, T, H); (0, T, H): not kept
              floating[:, ::1] h_T not None,         # OUT (B, H)
              floating[:, :, ::1] xh not None,       # WORK (n_chunks, chunk, F + H + 1)
              floating[:, :, ::1] pre not None,      # WORK (n_chunks, chunk, 4H)
              floating[:, ::1] act not None,         # WORK (n_chunks, 4H)
              Py_ssize_t chunk_size, int n_threads):
    """GRU forward without training caches; Y and h_T bitwise those of gru_forward."""
    cdef Py_ssize_t B = X.shape[0], T = X.shape[1], F = X.shape[2]
    cdef Py_ssize_t H = h0.shape[1], G = 3 * H, k, n_chunks, rows, off2, off3
    cdef floating[::1] Wp
    cdef floating* y0 = NULL
    check_common(B, T, F, G, chunk_size, n_threads, lengths)
    n_chunks, rows = n_chunks_of(B, chunk_size), min(chunk_size, B)
    check_dims("W", W.shape, 2, F + H + 1, G, 0)
    check_dims("b_hn", b_hn.shape, 1, H, 0, 0)
    check_dims("h0", h0.shape, 2, B, H, 0)
    if Y.shape[0] > 0:
        check_dims("Y", Y.shape, 3, B, T, H)
        y0 = &Y[0, 0, 0]
    check_dims("h_T", h_T.shape, 2, B, H, 0)
    check_dims("xh", xh.shape, 3, n_chunks, rows, F + H + 1)
    check_dims("pre", pre.shape, 3, n_chunks, rows, 4 * H)
    check_dims("act", act.shape, 2, n_chunks, 4 * H, 0)
    off2 = packed_size(&h_T[0, 0], F + H + 1, 2 * H)
    off3 = off2 + packed_size(&h_T[0, 0], F, H)
    Wp = np.empty(off3 + packed_size(&h_T[0, 0], H, H),
                  dtype=np.float32 if floating is float else np.float64)
    with nogil:
        pack_b(F + H + 1, 2 * H, &W[0, 0], G, &Wp[0])
        pack_b(F, H, &W[0, 2 * H], G, &Wp[off2])
        pack_b(H, H, &W[F, 2 * H], G, &Wp[off3])
        for k in prange(n_chunks, num_threads=min(n_threads, n_chunks),
                        schedule='dynamic'):
            _infer_chunk(&X[0, 0, 0], &W[0, 0], &Wp[0], off2, off3, &b_hn[0], &h0[0, 0],
                         &lengths[0], y0, &h_T[0, 0], &xh[k, 0, 0], &pre[k, 0, 0],
                         &act[k, 0], k * chunk_size, min(B, (k + 1) * chunk_size), T, F, H)
