# The LSTM's exports to the compiled stepper (_stream_api.pxd, _stream.pyx): one step
# of one layer is this build's _infer_chunk for T = 1, so a streaming step computes
# exactly what lstm_infer (predict) and lstm_forward (predict_sequence) compute.
# Work per chunk of nb rows: xh (nb, F + H + 1), pre (nb, 4H), act (5H).
include "_stream_cell.pxi"


cdef void _stream_layer_f32(const StreamLayer* L, const void* X, const void* h0,
                            const void* c0, const Py_ssize_t* ones, void* h1, void* c1,
                            void* work, Py_ssize_t r0, Py_ssize_t r1) noexcept nogil:
    cdef Py_ssize_t nb = r1 - r0
    cdef float* xh = <float*>work
    cdef float* pre = xh + nb * (L.F + L.H + 1)
    _infer_chunk(<const float*>X, <const float*>L.Wp, <const float*>h0,
                 <const float*>c0, ones, <float*>NULL, <float*>h1, <float*>c1, xh, pre,
                 pre + nb * 4 * L.H, r0, r1, 1, L.F, L.H)


cdef void _stream_layer_f64(const StreamLayer* L, const void* X, const void* h0,
                            const void* c0, const Py_ssize_t* ones, void* h1, void* c1,
                            void* work, Py_ssize_t r0, Py_ssize_t r1) noexcept nogil:
    cdef Py_ssize_t nb = r1 - r0
    cdef double* xh = <double*>work
    cdef double* pre = xh + nb * (L.F + L.H + 1)
    _infer_chunk(<const double*>X, <const double*>L.Wp, <const double*>h0,
                 <const double*>c0, ones, <double*>NULL, <double*>h1, <double*>c1, xh,
                 pre, pre + nb * 4 * L.H, r0, r1, 1, L.F, L.H)


def stream_work_size(Py_ssize_t F, Py_ssize_t H, Py_ssize_t rows):
    """Elements of the work buffer one step of `rows` rows needs."""
    return rows * (F + H + 1 + 4 * H) + 5 * H


def stream_pack(const floating[:, ::1] W not None, b_hn=None):  # IN (F + H + 1, 4H)
    """W packed as lstm_infer packs it: (Wp, off2, off3) with unused offsets 0."""
    return stream_pack_b(W), 0, 0
