# Row-major GEMM over scipy's BLAS, callable without the GIL, for float32 and float64.
#
# BLAS is column-major; a row-major C (m x n) = op(A) (m x k) @ op(B) (k x n) is the
# column-major product C^T = op(B)^T @ op(A)^T, so the operands swap places. Leading
# dimensions are row strides in elements, which lets the kernels address "rows of
# one time step" inside (batch, time, features) arrays without copying.
from cython cimport floating
from scipy.linalg.cython_blas cimport sgemm, dgemm


cdef inline void gemm(bint trans_a, bint trans_b, int m, int n, int k,
                      floating alpha, const floating* a, int lda,
                      const floating* b, int ldb,
                      floating beta, floating* c, int ldc) noexcept nogil:
    """C = alpha * op(A) @ op(B) + beta * C, all row-major; op(X) = X.T if trans_x."""
    cdef char ta = b'T' if trans_b else b'N'
    cdef char tb = b'T' if trans_a else b'N'
    if m <= 0 or n <= 0:
        return
    if floating is float:
        sgemm(&ta, &tb, &n, &m, &k, &alpha, <float*>b, &ldb, <float*>a, &lda,
              &beta, c, &ldc)
    else:
        dgemm(&ta, &tb, &n, &m, &k, &alpha, <double*>b, &ldb, <double*>a, &lda,
              &beta, c, &ldc)
