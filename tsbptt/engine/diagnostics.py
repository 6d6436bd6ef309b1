"""How far back the gradient reaches: dL/dh_t step by step, from the kernels.

The backward kernels record the squared norm of dL/dh_t at every step (before any
clipping), so the diagnostic costs one ordinary forward and backward pass.
"""
import numpy as np

from .bptt import full_bptt

__all__ = ["gradient_flow"]


def gradient_flow(net, X, lengths, loss_fn, *, layer=-1, n_threads=None):
    """Norm of dLoss/dh_t against the number of steps back from each sequence's end.

    Parameters
    ----------
    net : Network
    X : ndarray of shape (B, T, F), validated
    lengths : ndarray of intp of shape (B,)
    loss_fn : callable, ``loss_fn(out) -> (value, d_out)``
    layer : int, default=-1
        Which recurrent layer (the last by default, the one the head reads).
    n_threads : int or None

    Returns
    -------
    dict
        ``steps_back`` (T,) = 0, 1, ..., T - 1 (0 is each sequence's last step);
        ``norm`` (T,): root mean square over sequences of |dL/dh_t| at that many
        steps back (sequences shorter than that do not count; NaN where none
        reach); ``ratio`` (T,): ``norm / norm[0]``.
    """
    _, _, stats = full_bptt(net, X, lengths, loss_fn, n_threads=n_threads)
    delta_sq = stats["delta_sq"][layer]
    B, T = delta_sq.shape
    k = lengths[:, None] - 1 - np.arange(T)[None, :]  # steps back of (b, t)
    valid = k >= 0
    sums = np.bincount(k[valid], weights=delta_sq[valid], minlength=T)[:T]
    counts = np.bincount(k[valid], minlength=T)[:T]
    with np.errstate(invalid="ignore", divide="ignore"):
        norm = np.sqrt(sums / counts)
        ratio = norm / norm[0]
    return {"steps_back": np.arange(T), "norm": norm, "ratio": ratio}
