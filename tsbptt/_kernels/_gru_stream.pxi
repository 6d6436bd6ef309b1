# The GRU's exports to the compiled stepper (_stream_api.pxd, _stream.pyx): one step
# of one layer is this build's _infer_chunk for T = 1, the code gru_infer and
# gru_forward run. W is packed in three blocks as gru_infer packs it (r and z from
# [x, h, 1]; the candidate's x W_xn and h W_hn apart). Work per chunk of nb rows:
# xh (nb, F + H + 1), pre (nb, 4H), act (4H).
include "_stream_cell.pxi"


cdef void _stream_layer_f32(const StreamLayer* L, const void* X, const void* h0,
                            const void* c0, const Py_ssize_t* ones, void* h1, void* c1,
                            void* work, Py_ssize_t r0, Py_ssize_t r1) noexcept nogil:
    cdef Py_ssize_t nb = r1 - r0
    cdef float* xh = <float*>work
    cdef float* pre = xh + nb * (L.F + L.H + 1)
    _infer_chunk(<const float*>X, <const float*>L.W, <const float*>L.Wp, L.off2, L.off3,
                 <const float*>L.b_hn, <const float*>h0, ones, <float*>NULL,
                 <float*>h1, xh, pre, pre + nb * 4 * L.H, r0, r1, 1, L.F, L.H)


cdef void _stream_layer_f64(const StreamLayer* L, const void* X, const void* h0,
                            const void* c0, const Py_ssize_t* ones, void* h1, void* c1,
                            void* work, Py_ssize_t r0, Py_ssize_t r1) noexcept nogil:
    cdef Py_ssize_t nb = r1 - r0
    cdef double* xh = <double*>work
    cdef double* pre = xh + nb * (L.F + L.H + 1)
    _infer_chunk(<const double*>X, <const double*>L.W, <const double*>L.Wp, L.off2,
                 L.off3, <const double*>L.b_hn, <const double*>h0, ones, <double*>NULL,
                 <double*>h1, xh, pre, pre + nb * 4 * L.H, r0, r1, 1, L.F, L.H)


def stream_work_size(Py_ssize_t F, Py_ssize_t H, Py_ssize_t rows):
    """Elements of the work buffer one step of `rows` rows needs."""
    return rows * (F + H + 1 + 4 * H) + 4 * H


def stream_pack(const floating[:, ::1] W not None,  # IN (F + H + 1, 3H)
                const floating[::1] b_hn not None):  # IN (H,), only checked here
    """W packed in gru_infer's three blocks: (Wp, off2, off3)."""
    cdef Py_ssize_t G = W.shape[1], H = G // 3, F = W.shape[0] - H - 1, off2, off3
    cdef floating[::1] Wp
    cdef floating* like = NULL  # picks the dtype of packed_size
    if G != 3 * H or F < 1 or b_hn.shape[0] != H:
        raise ValueError(f"W of shape {tuple(W.shape)[:2]} and b_hn of shape "
                         f"{(b_hn.shape[0],)} are not a GRU layer's")
    off2 = packed_size(like, F + H + 1, 2 * H)
    off3 = off2 + packed_size(like, F, H)
    Wp = np.empty(off3 + packed_size(like, H, H),
                  dtype=np.float32 if floating is float else np.float64)
    pack_b(F + H + 1, 2 * H, &W[0, 0], G, &Wp[0])
    pack_b(F, H, &W[0, 2 * H], G, &Wp[off2])
    pack_b(H, H, &W[F, 2 * H], G, &Wp[off3])
    return np.asarray(Wp), off2, off3
