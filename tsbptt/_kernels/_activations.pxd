# Scalar activations shared by the cell kernels, one source for float32 and float64.
#
# They are inline so GCC can vectorise the gate loops that call them; exp and the
# float64 tanh come from _simd_math.h (libmvec SIMD variants where available), the
# cells' float32 tanh is _simd_math.h's own rational tsb_tanhf (libm_tanh keeps the
# C library's for the echo-state reservoir). Literals are cast to `floating` so float32
# loops never get promoted to double.
from cython cimport floating

cdef extern from "_simd_math.h" nogil:
    float expf(float x)
    double exp(double x)
    float tanhf(float x)
    double tanh(double x)
    float tsb_tanhf(float x)


cdef inline floating sigmoid(floating x) noexcept nogil:
    # exp(-x) overflows to inf for very negative x, giving exactly 0: no NaN.
    if floating is float:
        return (<float>1.0) / ((<float>1.0) + expf(-x))
    else:
        return 1.0 / (1.0 + exp(-x))


cdef inline floating tanh_(floating x) noexcept nogil:
    if floating is float:
        return tsb_tanhf(x)
    else:
        return tanh(x)


cdef inline floating libm_tanh(floating x) noexcept nogil:
    # The C library's tanhf / tanh (glibc's libmvec where vectorised): the echo-state
    # reservoir's, whose wide AVX2 path calls glibc's 8-wide tanhf and must give the
    # same bits.
    if floating is float:
        return tanhf(x)
    else:
        return tanh(x)
