"""Gradient clipping over a dict of gradient arrays (in place).

Per-step clipping of the BPTT delta happens inside the kernels (``clip_step``);
these two act on the full gradients before the optimizer step.
"""
import numpy as np

from ..utils._validation import check_real

__all__ = ["global_norm", "clip_by_global_norm", "clip_by_value"]


def global_norm(grads):
    """The 2-norm of all gradients taken together (float64 accumulation).

    NumPy reductions, not BLAS: a BLAS dot would wake the BLAS thread pool, whose
    spinning threads then compete with the kernels' OpenMP threads. Finite
    gradients give a finite norm: where their squares overflow (float64 entries
    from about 1e154 up) they are divided by their largest entry first. Any NaN
    or infinite entry gives a NaN or infinite norm."""
    with np.errstate(over="ignore"):
        norm = float(np.sqrt(sum(float(np.sum(np.square(g, dtype=np.float64)))
                                 for g in grads.values())))
    if norm == np.inf:
        top = max((float(np.max(np.abs(g))) for g in grads.values() if g.size), default=0.0)
        if np.isfinite(top):
            norm = top * float(np.sqrt(sum(float(np.sum(np.square(g / top, dtype=np.float64)))
                                           for g in grads.values())))
    return norm


def clip_by_global_norm(grads, max_norm, norm=None):
    """Scale every gradient by ``max_norm / norm`` when the global norm exceeds it.

    Like ``torch.nn.utils.clip_grad_norm_``: the direction is kept, only the length
    shrinks. Returns whether clipping fired. The scale's guard against a zero norm
    is ``norm + 1e-12`` where torch's is ``norm + 1e-6``, so the clipped norm is
    ``max_norm`` closer than torch's (relative gap from torch's about
    ``1e-6 / norm``; for a tiny ``max_norm`` such as 1e-8 torch's falls well short).

    Parameters
    ----------
    grads : dict of ndarray, modified in place
    max_norm : float
        A positive finite number (a negative one flipped the gradients' sign).
    norm : float or None
        The global norm if already computed.

    Returns
    -------
    bool
    """
    max_norm = check_real("max_norm", max_norm, 0, closed="neither")
    norm = global_norm(grads) if norm is None else norm
    if norm <= max_norm:
        return False
    scale = max_norm / (norm + 1e-12)
    for g in grads.values():
        g *= g.dtype.type(scale)
    return True


def clip_by_value(grads, clip_value):
    """Clip every gradient element to [-clip_value, clip_value]; returns how many were.

    Parameters
    ----------
    grads : dict of ndarray, modified in place
    clip_value : float
        A positive finite number (a negative one set every entry to it, NaN made
        them all NaN).

    Returns
    -------
    int
    """
    clip_value = check_real("clip_value", clip_value, 0, closed="neither")
    n = 0
    for g in grads.values():
        n += int(np.count_nonzero(np.abs(g) > clip_value))
        np.clip(g, -clip_value, clip_value, out=g)
    return n
