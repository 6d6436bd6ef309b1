# The contract between the compiled stepper (_stream.pyx) and the cell modules.
#
# Every build of every cell module (_lstm, _lstm_avx2, _lstm_avx512, _gru, ...)
# includes _<cell>_stream.pxi, which exports as PyCapsules (names below) one step
# of one layer, running that build's own forward-only chunk function (_infer_chunk)
# for T = 1, and the head's product (gemm_step). _stream.pyx is built once and calls
# them through these pointers: a streaming step runs the very code, compiled with the
# very flags, that predict and predict_sequence run, so its results are the same
# bits.
from libc.stddef cimport ptrdiff_t

ctypedef struct StreamLayer:
    Py_ssize_t F           # inputs per row (the layer below's H above layer 0)
    Py_ssize_t H           # hidden units
    Py_ssize_t off2, off3  # GRU: where the candidate's packed blocks start in Wp
    const void* W          # the layer's W (F + H + 1, G), C-contiguous
    const void* Wp         # W packed by the cell module's stream_pack
    const void* b_hn       # GRU: the recurrent candidate bias (H,); else NULL

# One step of one layer for rows [r0, r1): X (n, F), h0/c0 (n, H) in; h1/c1 (n, H)
# out (c0/c1 are read/written by the LSTM only); ones: n lengths of 1; work: the
# cell module's stream_work_size(F, H, r1 - r0) elements. X, h0, c0, h1, c1 are
# whole (n, .) arrays indexed by the absolute row; h1/c1 must not be h0/c0.
ctypedef void (*stream_layer_fn)(const StreamLayer* L, const void* X, const void* h0,
                                 const void* c0, const Py_ssize_t* ones, void* h1,
                                 void* c1, void* work, Py_ssize_t r0,
                                 Py_ssize_t r1) noexcept nogil

# C (m, n) = A (m, k) @ B (k, n), B packed by the cell module's stream_pack_b.
ctypedef void (*stream_gemm_fn)(Py_ssize_t m, Py_ssize_t n, Py_ssize_t k, const void* a,
                                Py_ssize_t lda, const void* packed, void* c,
                                Py_ssize_t ldc) noexcept nogil
