# Whether an array holds only finite values, in one pass over its bits; compiled into
# each build of the LSTM module (included by _lstm_impl.pxi), and called through
# tsbptt._kernels.all_finite, which runs the chosen build's. The layers check every
# input array this way before a kernel call: np.isfinite(a).all() first writes a bool
# array as large as the input, then reads it back, which made the finiteness checks of
# X and dY the largest Python-side cost of a small training step.
from cython cimport floating
from libc.stdint cimport uint32_t, uint64_t
from libc.string cimport memcpy


cdef inline uint32_t _bad_f32(float x) noexcept nogil:
    """The sign bit set if ``x`` is NaN or infinite, else 0 (from its bits)."""
    cdef uint32_t bits
    memcpy(&bits, &x, sizeof(bits))  # the bits of x; a cast pointer would break aliasing
    return ((bits & 0x7f800000u) + 0x00800000u) & 0x80000000u


cdef inline uint64_t _bad_f64(double x) noexcept nogil:
    """The sign bit set if ``x`` is NaN or infinite, else 0 (from its bits)."""
    cdef uint64_t bits
    memcpy(&bits, &x, sizeof(bits))
    return ((bits & 0x7ff0000000000000u) + 0x0010000000000000u) & 0x8000000000000000u


def all_finite(const floating[::1] a not None):  # IN  (n,)
    """True if no element of ``a`` is NaN or infinite (True for no elements).

    A float is NaN or infinite exactly when its exponent bits are all ones. Adding
    one unit of the exponent's lowest bit to the exponent field then carries into
    the sign bit, which no finite value's sum reaches; the OR of those sign bits over
    the array is the answer. Plain integer operations with no branch and no compare,
    so the loop vectorises in every build (SSE2 included).
    """
    cdef Py_ssize_t i = 0, k, n = a.shape[0]
    cdef uint32_t acc32[16]
    cdef uint64_t acc64[16]
    cdef bint finite
    if n == 0:
        return True
    # 16 partial ORs, in a fixed-length inner loop: the vector builds keep them in
    # registers, and the baseline build's -O2 (which vectorises no loop that needs a
    # scalar remainder) still vectorises the inner loop whole.
    with nogil:
        if floating is float:
            for k in range(16):
                acc32[k] = 0
            while i + 16 <= n:
                for k in range(16):
                    acc32[k] = acc32[k] | _bad_f32(a[i + k])
                i += 16
            while i < n:
                acc32[0] = acc32[0] | _bad_f32(a[i])
                i += 1
            for k in range(1, 16):
                acc32[0] = acc32[0] | acc32[k]
            finite = acc32[0] == 0
        else:
            for k in range(16):
                acc64[k] = 0
            while i + 16 <= n:
                for k in range(16):
                    acc64[k] = acc64[k] | _bad_f64(a[i + k])
                i += 16
            while i < n:
                acc64[0] = acc64[0] | _bad_f64(a[i])
                i += 1
            for k in range(1, 16):
                acc64[0] = acc64[0] | acc64[k]
            finite = acc64[0] == 0
    return finite
