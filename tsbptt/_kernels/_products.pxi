# The micro-kernels of this build called on whole arrays, for the tests
# (tests/test_microkernels.py); the time loops call them through _common.pxd.
from ._common cimport TSB_ISA, tsb_tile_cols_f32, tsb_tile_cols_f64, tsb_tile_rows


def microkernel_tiles():
    """This build's micro-kernel: {'isa', 'rows', 'cols_float32', 'cols_float64'}."""
    return {"isa": TSB_ISA.decode(), "rows": tsb_tile_rows,
            "cols_float32": tsb_tile_cols_f32, "cols_float64": tsb_tile_cols_f64}


cdef int check_rows(str name, Py_ssize_t stride, Py_ssize_t itemsize) except -1:
    if stride != itemsize:
        raise ValueError(f"{name} must have unit stride along its rows, got a stride of "
                         f"{stride} bytes")
    return 0


def microkernel_gemm(const floating[:, :] A not None,  # IN  (m, k), any row stride
                     const floating[:, :] B not None,  # IN  (k, n), unit stride along
                                                       #     rows or along columns
                     floating[:, :] C not None):       # OUT (m, n), any row stride
    """C = A @ B: B packed, then the step product's micro-kernel. A B with unit
    stride along its columns (a transposed view, as the backward's W[:F+H]^T) is
    packed by the transposing pack."""
    cdef Py_ssize_t m = A.shape[0], k = A.shape[1], n = B.shape[1]
    cdef floating[::1] Bp
    cdef bint transposed = B.strides[0] == sizeof(floating) and B.strides[1] != B.strides[0]
    check_rows("A", A.strides[1], sizeof(floating))
    if not transposed and B.strides[1] != sizeof(floating):
        raise ValueError(f"B must have unit stride along its rows or along its columns, "
                         f"got strides of {B.strides[0]} and {B.strides[1]} bytes")
    check_rows("C", C.strides[1], sizeof(floating))
    check_dims("B", B.shape, 2, k, n, 0)
    check_dims("C", C.shape, 2, m, n, 0)
    if m < 1 or n < 1:
        raise ValueError(f"need m >= 1 and n >= 1, got m={m}, n={n}")
    Bp = np.empty(packed_size(&C[0, 0], k, n),
                  dtype=np.float32 if floating is float else np.float64)
    if k > 0 and transposed:
        pack_bt(k, n, &B[0, 0], B.strides[1] // sizeof(floating), &Bp[0])
    elif k > 0:
        pack_b(k, n, &B[0, 0], B.strides[0] // sizeof(floating), &Bp[0])
    gemm_step(m, n, k, &A[0, 0] if k > 0 else <floating*>NULL, A.strides[0] // sizeof(floating),
              &Bp[0], &C[0, 0], C.strides[0] // sizeof(floating))


def microkernel_gemm_tn_add(const floating[:, :] A not None,  # IN  (k, m), any row stride
                            const floating[:, :] B not None,  # IN  (k, n), any row stride
                            floating[:, :] C not None):       # IN/OUT (m, n), any row stride
    """C += A.T @ B: the weight-gradient product's micro-kernel."""
    cdef Py_ssize_t k = A.shape[0], m = A.shape[1], n = B.shape[1]
    cdef floating[::1] work
    check_rows("A", A.strides[1], sizeof(floating))
    check_rows("B", B.strides[1], sizeof(floating))
    check_rows("C", C.strides[1], sizeof(floating))
    check_dims("B", B.shape, 2, k, n, 0)
    check_dims("C", C.shape, 2, m, n, 0)
    if m < 1 or n < 1 or k < 1:
        raise ValueError(f"need m, n, k >= 1, got m={m}, n={n}, k={k}")
    work = np.empty(tn_work_size(&C[0, 0], m, k),
                    dtype=np.float32 if floating is float else np.float64)
    gemm_tn_add(m, n, k, &A[0, 0], A.strides[0] // sizeof(floating), &B[0, 0],
                B.strides[0] // sizeof(floating), &C[0, 0], C.strides[0] // sizeof(floating),
                &work[0])
