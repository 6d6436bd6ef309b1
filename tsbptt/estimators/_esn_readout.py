"""The echo-state network's readout: a ridge regression whose penalty is chosen by
generalized cross-validation, solved through one eigendecomposition of the
centred Gram matrix (float64, whatever the dtype of the states)."""
import numpy as np
from scipy.linalg import eigh_tridiagonal, lapack

from .._kernels._esn import centre_rows, column_means, tridiagonal_reflect

__all__ = ["ridge_gcv"]

#: Rows per panel of the readout's Gram matrix (:func:`_centred_gram`): a float64
#: panel of ~200 features is 1.6 MB, within the L2 cache between the centring and
#: the syrk. Measured on 3,951 x 201 (float32 states, under load, interleaved
#: medians of 40 with the caches flushed): 512 rows 7.49 ms, 1,024 7.14, 2,048
#: 7.28; a syrk over all rows at once (no centring pass) is no faster than 2,048.
GRAM_ROWS = 1024

#: LAPACK's divide-and-conquer tridiagonal eigensolver, which SciPy wraps from 1.16
#: on (the project supports 1.11 and later): None where it does not, and
#: :func:`_tridiagonal_eigh` takes ``eigh_tridiagonal``'s ``stemr`` instead (the
#: same decomposition to rounding, other bits).
_DSTEVD = getattr(lapack, "dstevd", None)


def ridge_gcv(Phi, Y, w, alphas):
    """Ridge regression with an intercept, the penalty chosen by generalized
    cross-validation (Golub, Heath & Wahba, 1979) when several are given, among
    those that spend at most half the samples' degrees of freedom (see
    :func:`_gcv_choice`).

    One eigendecomposition of the centred, weighted Gram matrix serves every
    candidate: with ``A = sqrt(w) (Phi - mean)``, ``A'A = V diag(s) V'`` and
    ``Q = V' A' b``, the residual sum of squares of penalty ``a`` is
    ``|b|^2 - sum Q^2 (s + 2a) / (s + a)^2`` and its degrees of freedom are
    ``1 + sum s / (s + a)``; GCV is ``n RSS / (n - dof)^2`` with ``n`` the sum of
    the weights, so a weight of 2 is exactly a repeated row. A penalty of 0 is
    the minimum-norm least-squares fit. These are the singular values and
    vectors of ``A`` (``s`` their squares): the same choice and solution as an
    SVD of ``A``, for one (p, p) eigendecomposition instead of an (n, p) SVD.

    ``A'A`` is accumulated in float64 over panels of :data:`GRAM_ROWS` rows,
    centred (and weighted) one panel at a time, so a float32 ``Phi`` (or its
    column blocks) is never copied whole. The eigendecomposition is LAPACK's
    ``dsyevd`` in its own steps minus the last (:func:`_tridiagonal_eigh`): ``V``
    is applied to ``A'b`` and to the solution, never formed.

    Parameters
    ----------
    Phi : ndarray of shape (n, p), or list of ndarrays of shapes (n, p_j)
        The design matrix, or its column blocks (left to right); float32 or
        float64.
    Y : ndarray of shape (n,) or (n, k)
    w : ndarray of shape (n,) or None
    alphas : list of float >= 0

    Returns
    -------
    coef : ndarray (p, k); intercept : ndarray (k,); alpha : float
    """
    parts = [np.asarray(P) for P in (Phi if isinstance(Phi, (list, tuple)) else [Phi])]
    n_rows = len(parts[0])
    Y = np.asarray(Y, dtype=np.float64).reshape(n_rows, -1)
    unweighted = w is None
    w = np.ones(n_rows) if unweighted else np.asarray(w, dtype=np.float64)
    n = w.sum()
    if np.any(w < 0) or not n > 0:
        raise ValueError("sample_weight must be >= 0 with a positive sum, got weights "
                         f"from {w.min():.3g} to {w.max():.3g} summing to {n:.3g}")
    if unweighted:
        x_mean = np.concatenate([_column_means(P) for P in parts])
        y_mean, sw = Y.mean(axis=0), None
        b = Y - y_mean
    else:
        x_mean = np.concatenate([w @ P.astype(np.float64, copy=False) for P in parts]) / n
        y_mean, sw = w @ Y / n, np.sqrt(w)
        b = (Y - y_mean) * sw[:, None]
    G, q = _centred_gram(parts, x_mean, sw, b)
    s, Z, c, tau = _tridiagonal_eigh(G)
    s = np.maximum(s, 0.0)
    tridiagonal_reflect(c, tau, q, True)     # q <- Q'q, G = Q T Q'
    Q = Z.T @ q                              # (p, k): V'q with V = Q Z
    alpha = _gcv_choice(s, Q, float(np.sum(b * b)), n, alphas)
    if alpha > 0:
        gain = 1.0 / (s + alpha)
    else:  # minimum-norm least squares
        gain = np.where(s > s.max() * len(s) * np.finfo(float).eps, 1.0 / np.where(
            s > 0, s, 1.0), 0.0)
    coef = np.ascontiguousarray(Z @ (Q * gain[:, None]))
    tridiagonal_reflect(c, tau, coef, False)  # V (...) = Q Z (...)
    return coef, y_mean - x_mean @ coef, alpha


def _tridiagonal_eigh(G):
    """``eigh`` of a symmetric G (lower triangle read) in LAPACK's own steps,
    without the last: ``dsytrd`` (G = Q T Q'), then ``dstevd`` (T = Z diag(s) Z',
    divide and conquer, as ``dsyevd`` does), leaving ``V = Q Z`` unformed: the
    readout needs V on two vectors only (:func:`tridiagonal_reflect`), which
    saves ``dsyevd``'s back-transformation (2 p^3 flops; ~1.5 ms of ~4 at p=201).
    A SciPy before 1.16 wraps no ``dstevd``: there the tridiagonal step is
    ``eigh_tridiagonal``'s ``stemr`` (the same decomposition to rounding).

    Returns
    -------
    s : (p,) ascending eigenvalues; Z : (p, p); c, tau : the reflectors of Q.
    """
    c, d, e, tau, info = lapack.dsytrd(G, lower=1)
    if info == 0:
        if len(d) == 1:  # dstevd's wrapper wants one off-diagonal entry even here
            return d, np.ones((1, 1)), c, tau
        if _DSTEVD is None:  # SciPy before 1.16 wraps no dstevd: LAPACK's stemr
            try:  # named, not the default driver, which is stevd from SciPy 1.16
                s, Z = eigh_tridiagonal(d, e, check_finite=False, lapack_driver="stemr")
            except np.linalg.LinAlgError as exc:
                raise np.linalg.LinAlgError(
                    f"the readout's eigendecomposition failed ({exc})") from None
            return s, Z, c, tau
        s, Z, info = _DSTEVD(d, e, compute_v=1)
    if info != 0:
        raise np.linalg.LinAlgError(f"the readout's eigendecomposition failed "
                                    f"(LAPACK info {info})")
    return s, Z, c, tau


def _gcv_choice(s, Q, bb, n, alphas):
    """The penalty of ``alphas`` with the least GCV score among those that spend at
    most half the samples' degrees of freedom (``dof <= n / 2``, ``n`` the sum of
    the weights, as in the score itself: a weight of 2 is a repeated row; the
    largest penalty where none does), the first of ties; the only one, unscored,
    if there is one.

    GCV rewards a fit that all but interpolates when the samples are few beside
    the reservoir (105 after the washout of a 208-week series, 201 columns): it
    chose 90.6 degrees of freedom of 105, and the readout fed its own forecasts
    back in a stateful forecast reached 75,163 for counts below 2,757. With many
    samples (thousands, as on Mackey-Glass) the cap binds nowhere."""
    if len(alphas) == 1:
        return alphas[0]
    best, alpha = np.inf, None
    for a in alphas:
        dof = 1.0 + np.sum(s / (s + a))
        if dof > n / 2:
            continue
        rss = bb - np.sum(Q * Q * ((s + 2 * a) / (s + a) ** 2)[:, None])
        score = n * max(rss, 0.0) / max(n - dof, 1e-12) ** 2
        if score < best:
            best, alpha = score, a
    return max(alphas) if alpha is None else alpha


def _centred_gram(parts, x_mean, sw, b):
    """``(A'A, A'b)`` in float64 for ``A = sw (Phi - x_mean)``, ``Phi`` the column
    blocks ``parts`` side by side: panels of rows centred into one float64 buffer,
    each panel's ``A'A`` one symmetric rank-k update (NumPy calls the BLAS's syrk
    for ``A.T @ A``)."""
    n, p = len(b), len(x_mean)
    G, q, tmp = np.zeros((p, p)), np.zeros((p, b.shape[1])), np.empty((p, p))
    buf = np.empty((min(GRAM_ROWS, n), p))
    for r0 in range(0, n, GRAM_ROWS):
        A = buf[:min(GRAM_ROWS, n - r0)]
        rows = slice(r0, r0 + len(A))
        c0 = 0
        for P in parts:
            _centre(P, rows, x_mean[c0:c0 + P.shape[1]], A, c0)
            c0 += P.shape[1]
        if sw is not None:
            A *= sw[rows, None]
        G += np.matmul(A.T, A, out=tmp)
        q += A.T @ b[rows]
    return G, q


def _compiled(P):
    """Whether P goes through the compiled passes (float32/float64, rows
    contiguous); other arrays take NumPy's, which give the same bits."""
    return bool(P.dtype in (np.float32, np.float64) and P.ndim == 2 and len(P)
                and (P.shape[1] <= 1 or P.strides[1] == P.itemsize)
                and P.strides[0] % P.itemsize == 0)


def _column_means(P):
    """``P.mean(axis=0, dtype=np.float64)`` (the same bits; compiled, without
    NumPy's casting buffers: ~3x faster on float32 states). NumPy sums a single
    column pairwise, several columns row by row: the compiled pass does the
    latter, so a single column stays with NumPy."""
    if P.ndim != 2 or P.shape[1] < 2 or not _compiled(P):
        return P.mean(axis=0, dtype=np.float64)
    out = np.empty(P.shape[1])
    column_means(P, out)
    return out


def _centre(P, rows, shift, A, c0):
    """``A[:, c0:c0 + m] = P[rows] - shift`` in float64, ``rows`` a slice of
    ``len(A)`` rows (the bits of ``np.subtract``; compiled where it can be)."""
    if _compiled(P):
        centre_rows(P, rows.start, shift, A, c0)
    else:
        np.subtract(P[rows], shift, out=A[:, c0:c0 + P.shape[1]])
