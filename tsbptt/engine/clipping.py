"""Gradient clipping over a dict of gradient arrays (in place).

Per-step clipping of the BPTT delta happens inside the kernels (``clip_step``);
these two act on the full gradients before the optimizer step.
"""
import numpy as np

__all__ = ["global_norm", "clip_by_global_norm", "clip_by_value"]


def global_norm(grads):
    """The 2-norm of all gradients taken together (float64 accumulation).

    NumPy reductions, not BLAS: a BLAS dot would wake the BLAS thread pool, whose
    spinning threads then compete with the kernels' OpenMP threads."""
    return float(np.sqrt(sum(float(np.sum(np.square(g, dtype=np.float64)))
                             for g in grads.values())))


def clip_by_global_norm(grads, max_norm, norm=None):
    """Scale every gradient by ``max_norm / norm`` when the global norm exceeds it.

    Like ``torch.nn.utils.clip_grad_norm_``: the direction is kept, only the length
    shrinks. Returns whether clipping fired.

    Parameters
    ----------
    grads : dict of ndarray, modified in place
    max_norm : float
    norm : float or None
        The global norm if already computed.

    Returns
    -------
    bool
    """
    norm = global_norm(grads) if norm is None else norm
    if norm <= max_norm:
        return False
    scale = max_norm / (norm + 1e-12)
    for g in grads.values():
        g *= g.dtype.type(scale)
    return True


def clip_by_value(grads, clip_value):
    """Clip every gradient element to [-clip_value, clip_value]; returns how many were."""
    n = 0
    for g in grads.values():
        n += int(np.count_nonzero(np.abs(g) > clip_value))
        np.clip(g, -clip_value, clip_value, out=g)
    return n
