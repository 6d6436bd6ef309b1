"""The echo-state network's reservoir: its draw, and the spectral radius it is
scaled by (exact for small reservoirs, a deterministic power-iteration estimate
above)."""
import numpy as np
import scipy.sparse as sp

from .._kernels._esn import power_log_norms
from ..engine._threads import all_blas_single_threaded

__all__ = ["random_reservoir", "spectral_radius"]

#: Above this reservoir size the spectral radius is a power-iteration estimate
#: (:func:`spectral_radius`), not a dense eigendecomposition.
DENSE_EIGEN_MAX = 64
#: Sparse products of that power iteration.
POWER_STEPS = 200


def spectral_radius(W):
    """Largest |eigenvalue| of a sparse matrix: exact (dense) up to
    :data:`DENSE_EIGEN_MAX` units, above that a power-iteration estimate.

    The estimate is the mean log growth of ``|W^k v|`` over iterations
    ``POWER_STEPS / 2 .. POWER_STEPS`` from a fixed start vector (all ones): a
    fixed sequence of float64 sparse products, so the same bits on every run and
    thread count. It tolerates a complex-conjugate dominant pair (where the
    direction never settles but the growth rate does), and lands within ~2% of
    the true radius for random reservoirs of 200-1,000 units (usually below it).
    The products run compiled (:func:`~tsbptt._kernels._esn.power_log_norms`):
    1.8 ms at N=200 on a loaded machine, where the same iteration through
    scipy.sparse took 4.2 ms and ARPACK ~20-40 ms
    (``benchmarks/bench_esn.py --parts 5``).
    """
    if W.nnz == 0:
        return 0.0
    if W.shape[0] <= DENSE_EIGEN_MAX:
        with all_blas_single_threaded():
            return float(np.max(np.abs(np.linalg.eigvals(W.toarray()))))
    W = sp.csr_matrix(W, dtype=np.float64)
    logs = power_log_norms(W.data, W.indices.astype(np.int32, copy=False),
                           W.indptr.astype(np.int32, copy=False), POWER_STEPS)
    if not np.isfinite(logs[-1]):  # nilpotent: every eigenvalue is 0
        return 0.0
    return float(np.exp(logs[POWER_STEPS // 2:].mean()))


def random_reservoir(n, density, rs):
    """The (n, n) reservoir of ``scipy.sparse.random(n, n, density, format='csr',
    random_state=rs, data_rvs=lambda k: rs.uniform(-1, 1, k))``, bit for bit and
    leaving ``rs`` in the same state: the same draws (positions by
    ``rs.choice(n * n, k, replace=False)``, column-major, then the values), put
    in CSR order (sorted column indices) by one argsort instead of scipy's COO
    construction, conversion and checks (~0.3 ms of ~1.8 at n=200; the rest is
    the position draw, a shuffle of all n * n positions, which fixes every
    reservoir of a given ``random_state``). The draw is tsbptt's own from here on:
    the same whatever SciPy is installed.

    Parameters
    ----------
    n : int
        Reservoir size.
    density : float in [0, 1]
        Fraction of nonzero weights: ``round(density * (n * n))`` of them.
    rs : numpy.random.RandomState
        Advanced exactly as ``scipy.sparse.random`` advances it.

    Returns
    -------
    W : scipy.sparse.csr_matrix of shape (n, n), float64, int32 indices
    """
    # density * (n * n), as SciPy 1.17 rounds it; density * n * n (older SciPy)
    # differs in the last bit for a few pairs, and so would k.
    k = int(round(density * (n * n)))
    ind = rs.choice(n * n, size=k, replace=False)
    vals = rs.uniform(-1.0, 1.0, k)
    col, row = np.divmod(ind, n)
    order = np.argsort(row * n + col)      # the keys are distinct: any sort agrees
    indptr = np.zeros(n + 1, np.int32)
    np.cumsum(np.bincount(row, minlength=n), out=indptr[1:])
    return sp.csr_matrix((vals[order], col[order].astype(np.int32), indptr),
                         shape=(n, n))
