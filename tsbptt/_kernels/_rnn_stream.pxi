# The Elman RNN's exports to the compiled stepper (_stream_api.pxd, _stream.pyx):
# one step of one layer is this build's _infer_chunk for T = 1, the code rnn_infer
# and rnn_forward run. Work per chunk of nb rows: xh (nb, F + H + 1), pre (nb, H).
include "_stream_cell.pxi"


cdef void _stream_layer_f32(const StreamLayer* L, const void* X, const void* h0,
                            const void* c0, const Py_ssize_t* ones, void* h1, void* c1,
                            void* work, Py_ssize_t r0, Py_ssize_t r1) noexcept nogil:
    cdef float* xh = <float*>work
    _infer_chunk(<const float*>X, <const float*>L.Wp, <const float*>h0, ones,
                 <float*>NULL, <float*>h1, xh, xh + (r1 - r0) * (L.F + L.H + 1), r0, r1,
                 1, L.F, L.H)


cdef void _stream_layer_f64(const StreamLayer* L, const void* X, const void* h0,
                            const void* c0, const Py_ssize_t* ones, void* h1, void* c1,
                            void* work, Py_ssize_t r0, Py_ssize_t r1) noexcept nogil:
    cdef double* xh = <double*>work
    _infer_chunk(<const double*>X, <const double*>L.Wp, <const double*>h0, ones,
                 <double*>NULL, <double*>h1, xh, xh + (r1 - r0) * (L.F + L.H + 1), r0,
                 r1, 1, L.F, L.H)


def stream_work_size(Py_ssize_t F, Py_ssize_t H, Py_ssize_t rows):
    """Elements of the work buffer one step of `rows` rows needs."""
    return rows * (F + H + 1 + H)


def stream_pack(const floating[:, ::1] W not None, b_hn=None):  # IN (F + H + 1, H)
    """W packed as rnn_infer packs it: (Wp, off2, off3) with unused offsets 0."""
    return stream_pack_b(W), 0, 0
