# The cell-independent half of a cell module's exports to the compiled stepper
# (_stream_api.pxd): the head's product and packing, and the capsules. Included by
# each _<cell>_stream.pxi after it defines _stream_layer_f32 / _stream_layer_f64.
from cpython.pycapsule cimport PyCapsule_New

from ._common cimport TSB_ISA
from ._stream_api cimport StreamLayer


cdef void _stream_gemm_f32(Py_ssize_t m, Py_ssize_t n, Py_ssize_t k, const void* a,
                           Py_ssize_t lda, const void* packed, void* c,
                           Py_ssize_t ldc) noexcept nogil:
    gemm_step(m, n, k, <const float*>a, lda, <const float*>packed, <float*>c, ldc)


cdef void _stream_gemm_f64(Py_ssize_t m, Py_ssize_t n, Py_ssize_t k, const void* a,
                           Py_ssize_t lda, const void* packed, void* c,
                           Py_ssize_t ldc) noexcept nogil:
    gemm_step(m, n, k, <const double*>a, lda, <const double*>packed, <double*>c, ldc)


def stream_pack_b(const floating[:, ::1] B not None):  # IN (k, n)
    """B packed for the micro-kernels, as microkernel_gemm packs it (1D array)."""
    cdef floating* like = NULL  # picks the dtype of packed_size
    cdef floating[::1] Bp = np.empty(packed_size(like, B.shape[0], B.shape[1]),
                                     dtype=np.float32 if floating is float else np.float64)
    pack_b(B.shape[0], B.shape[1], &B[0, 0], B.shape[1], &Bp[0])
    return np.asarray(Bp)


def stream_exports():
    """This build's step and product functions, as PyCapsules for _stream.pyx:
    {'layer': (float32, float64), 'gemm': (float32, float64), 'isa': str}."""
    return {
        "layer": (PyCapsule_New(<void*>_stream_layer_f32, b"tsbptt.stream_layer", NULL),
                  PyCapsule_New(<void*>_stream_layer_f64, b"tsbptt.stream_layer", NULL)),
        "gemm": (PyCapsule_New(<void*>_stream_gemm_f32, b"tsbptt.stream_gemm", NULL),
                 PyCapsule_New(<void*>_stream_gemm_f64, b"tsbptt.stream_gemm", NULL)),
        "isa": TSB_ISA.decode(),
    }
