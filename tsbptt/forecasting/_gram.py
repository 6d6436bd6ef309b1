"""A scikit-learn ``Ridge`` fitted on a panel's windows without their design matrix.

The Forecaster's windows of many series (``n`` windows of ``p`` lag features, ``H``
targets) are gathered in chunks of rows, and only the normal equations are kept:
the column sums and the Gram matrix of ``[X | Y]``, ``(p + H)^2`` numbers. Memory
stays at one chunk whatever the number of series (100,000 hourly series of 500
steps make 48 M windows: 9 GB as one matrix, which ``Ridge.fit`` then copies
twice), and the time is one pass of BLAS over the windows. The solve is the one
``Ridge(solver='cholesky')`` makes on the centred data, so the fitted ``coef_`` and
``intercept_`` agree with ``Ridge.fit`` on the same windows to rounding.
"""
from numbers import Real

import numpy as np
from scipy import linalg
from scipy.linalg.blas import dsyrk
from sklearn.linear_model import Ridge

from ..engine._threads import all_blas_single_threaded

__all__ = ["CHUNK_ROWS", "chunk_rows", "fits_by_chunks", "gram_of_chunks",
           "ridge_from_gram", "run_sums"]

#: windows per chunk at most: 65,536 x (24 + 24) float64 is 25 MB
CHUNK_ROWS = 65536
#: bytes per chunk at most: wider windows come in fewer rows
CHUNK_BYTES = CHUNK_ROWS * 48 * 8


def chunk_rows(width):
    """Windows per chunk of ``width`` columns: :data:`CHUNK_ROWS`, fewer for windows
    wider than 48 columns (200 covariates x 48 lags made 5 GB chunks)."""
    return max(1, min(CHUNK_ROWS, CHUNK_BYTES // (8 * width)))


def fits_by_chunks(est):
    """Whether ``est`` is a plain scikit-learn ``Ridge`` this module fits the same
    way ``Ridge.fit`` would (dense data, the Cholesky solve, a positive penalty)."""
    if type(est) is not Ridge:  # a subclass may change fit
        return False
    alpha = est.alpha
    return (isinstance(alpha, Real) and not isinstance(alpha, bool) and alpha > 0
            and np.isfinite(alpha) and est.solver in ("auto", "cholesky")
            and not est.positive)


def gram_of_chunks(chunks, width, sums=True):
    """The Gram matrix, column sums and row count of windows given in chunks.

    Parameters
    ----------
    chunks : iterable of ndarray, each (m, width) float64
    width : int
    sums : bool, default=True
        False: the caller has the column sums (``s`` is then zeros).

    Returns
    -------
    G : ndarray (width, width), s : ndarray (width,), n : int
    """
    G, s, n = np.zeros((width, width)), np.zeros(width), 0
    for Z in chunks:
        # Z^T Z into the upper triangle (Z.T is Fortran-ordered: no copy); the
        # column sums as a product too (a reduction over rows is slower). On one
        # BLAS thread, as the library's other products: OpenBLAS's threaded syrk
        # crashed the interpreter (SIGSEGV) on a 24,072-column matrix (4.6 GB, 2
        # threads), and on a busy 2-core machine ran ~5x slower than one thread
        with all_blas_single_threaded():
            G = dsyrk(1.0, Z.T, beta=1.0, c=G, trans=0, lower=0, overwrite_c=1)
        if sums:
            s += np.ones(len(Z)) @ Z
        n += len(Z)
    # the lower triangle from the upper, in place and in blocks of rows: whole-matrix
    # temporaries (np.triu) held three more copies of a matrix that can be GBs
    for a in range(0, width, 256):
        G[a:a + 256, :a] = G[:a, a:a + 256].T
        block = G[a:a + 256, a:a + 256]
        lower = np.tril_indices(len(block), -1)
        block[lower] = block.T[lower]
    return G, s, n


def run_sums(values, starts, width):
    """The column sums of the windows ``values[u:u + width]`` for every ``u`` in
    ``starts``, from one running sum of ``values`` (a window's columns are
    ``width`` consecutive values, and consecutive starts form runs).

    Parameters
    ----------
    values : ndarray (N,) float64
    starts : ndarray of int (n,)
    width : int

    Returns
    -------
    ndarray (width,)
    """
    total = np.concatenate([[0.0], np.cumsum(values)])
    first = np.flatnonzero(np.r_[True, np.diff(starts) != 1])
    lo = starts[first][:, None] + np.arange(width)[None, :]
    count = np.diff(np.r_[first, len(starts)])[:, None]
    return (total[lo + count] - total[lo]).sum(axis=0)


def ridge_from_gram(est, G, s, n, shift, feature_names, n_targets_1d):
    """Fit ``est`` (see :func:`fits_by_chunks`) from the normal equations of its
    windows ``[X | Y]`` (the p features, then the H targets).

    Parameters
    ----------
    est : Ridge
        Unfitted; its parameters are validated as ``fit`` validates them.
    G, s, n : the Gram matrix (p + H, p + H), column sums (p + H,) and number of the
        windows less ``shift`` (:func:`gram_of_chunks`)
    shift : ndarray of shape (p + H,)
        What the windows' columns were shifted by: a value near their means, so
        that the sums of products lose no digits to the centring.
    feature_names : list of str, length p
        Stored as ``feature_names_in_`` (what ``fit`` on a DataFrame stores).
    n_targets_1d : bool
        Whether the target is one column given as a 1D ``y`` (``coef_`` of shape
        (p,) and a float ``intercept_``), as ``fit`` would store them.

    Returns
    -------
    est : Ridge, fitted
    """
    est._validate_params()
    if not n:
        raise ValueError("no window to fit the model on")
    p = len(feature_names)
    d = s / n  # the mean less the shift
    if est.fit_intercept:
        G -= n * np.outer(d, d)
        offset = shift + d
    else:  # back to the raw sums of products
        G += np.outer(shift, s) + np.outer(s, shift) + n * np.outer(shift, shift)
        offset = np.zeros_like(shift)
    A = G[:p, :p].copy()
    A.flat[::p + 1] += est.alpha
    # one BLAS thread: LAPACK's blocked factorisation sums in an order that follows
    # the thread count, and a backtest's workers (one thread each) must give the
    # bits of the parent
    with all_blas_single_threaded():
        try:
            coef = linalg.solve(A, G[:p, p:], assume_a="pos", overwrite_a=True).T
        except linalg.LinAlgError:  # as Ridge's Cholesky solve falls back: least squares
            coef = linalg.lstsq(G[:p, :p] + est.alpha * np.eye(p), G[:p, p:])[0].T
    if n_targets_1d:
        coef = coef[0]
    intercept = offset[p:] - coef @ offset[:p] if est.fit_intercept else 0.0
    if n_targets_1d and est.fit_intercept:
        intercept = intercept[0]
    est.coef_, est.intercept_ = coef, intercept
    est.n_iter_, est.solver_ = None, "cholesky"
    est.n_features_in_ = p
    est.feature_names_in_ = np.asarray(feature_names, dtype=object)
    return est
