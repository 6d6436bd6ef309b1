"""Parameter initialisation for the recurrent cells.

Per gate block: Glorot/Xavier uniform input weights, orthogonal recurrent weights,
zero biases except the LSTM forget gate (bias 1, so early in training the cell
remembers rather than forgets; Jozefowicz et al. 2015). Values are drawn in float64
and then cast, so float32 and float64 layers with the same seed start from the same
numbers up to rounding.
"""
import numpy as np

from .._kernels import cell_kernels

#: Columns per block of the orthogonal initialisation's QR: the reflectors of a block
#: reach the rest of the matrix in three products (LAPACK's blocked dgeqrf / dorgqr).
QR_BLOCK = 32


def glorot_uniform(rng, fan_in, fan_out):
    """Array (fan_in, fan_out) from U(-a, a) with a = sqrt(6 / (fan_in + fan_out))."""
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=(fan_in, fan_out))


def orthogonal(rng, n):
    """A random (n, n) orthogonal matrix, uniformly distributed (Haar measure)."""
    q, r_diag = householder_qr(rng.standard_normal((n, n)))
    # Fix the signs so that the distribution is uniform (Mezzadri 2007).
    return q * np.sign(r_diag)


def householder_qr(A, block=QR_BLOCK):
    """Q and the diagonal of R in A = QR, for a square float64 ``A`` (overwritten).

    Blocked Householder QR, as LAPACK's dgeqrf and dorgqr, with every product in
    the kernels' own micro-kernels (each element summed in one fixed order) and the
    rest in element-wise NumPy: the bits do not depend on the BLAS NumPy loaded.
    ``np.linalg.qr`` gave initial weights, and so every fit, that changed in the
    last bits with OpenBLAS's kernel (``OPENBLAS_CORETYPE``). A (1024, 1024) matrix
    takes about as long as LAPACK's (0.2 s on one core).

    Parameters
    ----------
    A : ndarray of shape (n, n), float64, C-contiguous
    block : int, default=QR_BLOCK

    Returns
    -------
    Q : ndarray of shape (n, n)
    r_diag : ndarray of shape (n,)
    """
    n = A.shape[0]
    kernels = cell_kernels("lstm")
    gemm, tn_add = kernels.microkernel_gemm, kernels.microkernel_gemm_tn_add
    r_diag, blocks, row = np.empty(n), [], np.empty((1, n))  # row: v^T of some columns
    for j0 in range(0, n, block):
        b = min(block, n - j0)
        V, taus = np.zeros((n - j0, b)), np.zeros(b)  # reflectors I - tau v v^T
        for i in range(b):
            k = j0 + i
            x = A[k:, k]
            norm = np.sqrt(np.sum(x * x))
            r_diag[k] = alpha = -norm if x[0] >= 0 else norm  # no cancellation in v[0]
            v = x.copy()
            v[0] -= alpha
            vv = np.sum(v * v)
            taus[i] = tau = 0.0 if vv == 0 else 2.0 / vv
            V[i:, i] = v
            if i + 1 < b and tau:  # the reflector applied to the block's other columns
                rest, v_rest = A[k:, k + 1:j0 + b], row[:, :b - i - 1]
                gemm(v[None, :], rest, v_rest)
                tn_add((-tau * v)[None, :], v_rest, rest)
        # T upper triangular with H_j0 ... H_j0+b-1 = I - V T V^T (LAPACK's dlarft):
        # column i is -tau_i T[:i, :i] (V[:, :i]^T v_i)
        T = np.zeros((b, b))
        for i in range(b):
            T[i, i] = taus[i]
            if i:
                vtv, t_vtv = np.zeros((i, 1)), np.empty((i, 1))
                tn_add(V[:, :i], V[:, i:i + 1], vtv)
                gemm(T[:i, :i], vtv, t_vtv)
                T[:i, i] = -taus[i] * t_vtv[:, 0]
        if j0 + b < n:  # the columns right of the block: H_block^T applied
            _apply_block(V, np.ascontiguousarray(T.T), A[j0:, j0 + b:], gemm, tn_add)
        blocks.append((j0, V, T))
    Q = np.eye(n)
    for j0, V, T in reversed(blocks):  # Q = H_0 H_1 ... H_n-1, the last block first
        _apply_block(V, T, Q[j0:, j0:], gemm, tn_add)
    return Q, r_diag


def _apply_block(V, T, C, gemm, tn_add):
    """C <- (I - V T V^T) C in place, in three products.

    Parameters
    ----------
    V : ndarray of shape (m, b), the block's reflectors
    T : ndarray of shape (b, b), C-contiguous
    C : ndarray of shape (m, n), a view of unit stride along its rows
    gemm, tn_add : the kernels' ``microkernel_gemm`` and ``microkernel_gemm_tn_add``
    """
    VtC = np.zeros((V.shape[1], C.shape[1]))
    tn_add(V, C, VtC)
    TVtC = np.empty_like(VtC)
    gemm(T, VtC, TVtC)
    tn_add(np.ascontiguousarray(-V.T), TVtC, C)


def init_cell_params(cell, input_size, hidden_size, rng, dtype):
    """Fresh parameters of one recurrent layer.

    Parameters
    ----------
    cell : tsbptt.engine._cells._Cell
    input_size, hidden_size : int
    rng : numpy.random.RandomState
    dtype : numpy dtype

    Returns
    -------
    dict of ndarray
        ``W`` of shape (input_size + hidden_size + 1, n_gates * hidden_size), packed
        as [W_x; W_h; b]; GRU also ``b_hn`` of shape (hidden_size,).
    """
    F, H, G = input_size, hidden_size, cell.n_gates
    W = np.zeros((F + H + 1, G * H))
    for k in range(G):
        block = slice(k * H, (k + 1) * H)
        W[:F, block] = glorot_uniform(rng, F, H)
        W[F:F + H, block] = orthogonal(rng, H)
    if cell.name == "lstm":
        W[F + H, H:2 * H] = 1.0  # forget gate
    params = {"W": np.ascontiguousarray(W, dtype=dtype)}
    if cell.name == "gru":
        params["b_hn"] = np.zeros(H, dtype=dtype)
    return params
