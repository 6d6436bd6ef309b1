"""Targets and weights of the estimators: per-step or per-sequence, scaling.

The rules the regressors and classifiers share for reading ``y`` and
``sample_weight``, kept apart from the estimator classes.
"""
import warnings

import numpy as np
from sklearn.utils.validation import _check_sample_weight

from ..utils._validation import (below_floor, mean_std, reject_complex, reject_masked,
                                 scale_or_unit, user_stacklevel, warn_small_spread)

__all__ = ["check_weights", "mean_scale", "per_step_targets", "target_ndim",
           "targets_per_step"]


def targets_per_step(kind, y, lengths, T, labels, per_step="auto"):
    """Whether y holds one target per time step (sequence labelling).

    ``per_step`` (the estimators' parameter) True or False says so; ``'auto'``
    reads it from the shapes, the same rule for regressors and classifiers: with
    3D X, a y of shape (n_samples, n_timesteps[, n_outputs]) (its second axis is
    X's time axis); with a list X, a list of per-sequence targets whose lengths
    differ or are the sequences' own lengths. Anything else is one target (row)
    per sequence. So with 3D X a 2D y is per-step exactly when its width is the
    number of time steps: for a regressor, whose y may as well hold that many
    outputs per sequence, ``'auto'`` warns then (a (n, 24, F) window with the next
    24 values as y was silently a per-step model, y[:, t] read from steps 0..t).
    """
    if per_step is not None and not isinstance(per_step, str):  # True or False
        if per_step and kind not in ("3d", "list"):
            raise ValueError("per_step=True needs 3D X (n_samples, n_timesteps, "
                             "n_features) or a list of sequences: 2D X holds windows, "
                             "one target row each")
        _check_said(bool(per_step), kind, y, lengths, T)
        return bool(per_step)
    if kind == "3d":
        shape = np.asarray(y).shape
        per_step_2d = len(shape) == 2 and shape[1] == T and T > 1
        if per_step_2d and not labels:
            _warn_per_step(f"y of shape {shape}, as wide as X has time steps ({T}), is")
        return per_step_2d or (not labels and len(shape) == 3)
    if kind == "list" and isinstance(y, (list, tuple)) and len(y) == len(lengths) \
            and all(np.ndim(yi) >= 1 for yi in y):
        lens = [len(yi) for yi in y]
        if len(set(lens)) > 1:
            return True
        own = all(n == m for n, m in zip(lens, lengths))
        if own and not labels and lens[0] > 1 and all(np.ndim(yi) == 1 for yi in y):
            _warn_per_step(f"y, a list of targets of length {lens[0]} as long as every "
                           "sequence, is")
        return own
    return False


def _check_said(per_step, kind, y, lengths, T):
    """Refuse a y whose shape cannot be read as ``per_step`` says, in its words
    (NumPy's "inhomogeneous shape", or a sequence's targets of shape (), said
    nothing of per_step)."""
    ragged = isinstance(y, (list, tuple)) and len({np.shape(yi) for yi in y}) > 1
    if per_step:
        shape = np.shape(y) if not ragged else None
        if shape is not None and (len(shape) < 2 or (kind == "3d" and shape[1] != T)):
            raise ValueError(f"per_step=True, but y of shape {shape} holds no target per "
                             f"time step: give it the shape (n_samples, n_timesteps"
                             f"[, n_outputs]) (here n_timesteps={T}), or a list of "
                             "(T_i,) arrays for a list X")
    elif ragged or (kind == "list" and isinstance(y, (list, tuple))
                    and len(y) and np.ndim(y[0]) >= 2):
        raise ValueError("per_step=False, but y holds a sequence of targets for each "
                         "sample (arrays of different lengths, or 2D): one target row "
                         "per sequence is (n_samples,) or (n_samples, n_outputs)")


def _warn_per_step(what):
    warnings.warn(f"{what} read as one target per time step (per_step='auto'); if it "
                  "holds that many outputs per sequence, pass per_step=False, and "
                  "per_step=True to say it is per step (no warning)", UserWarning,
                  stacklevel=user_stacklevel())


def target_ndim(y):
    """Dimensions of y, counting a list of per-sequence arrays as one more than
    its elements (any array-like; never calls numpy functions on y itself)."""
    if y is None:
        return 0
    if isinstance(y, (list, tuple)) and len(y) and hasattr(y[0], "__len__") \
            and not isinstance(y[0], str):
        return 1 + np.asarray(y[0]).ndim
    return np.asarray(y).ndim


def per_step_targets(y, lengths, T):
    """Per-step targets padded to (n, T, n_outputs); each must match its sequence."""
    n = len(lengths)
    seqs = list(y) if isinstance(y, (list, tuple)) else [np.asarray(y)[i] for i in range(n)]
    if len(seqs) != n:
        raise ValueError(f"y has {len(seqs)} target sequences for {n} input sequences")
    out = None
    for i, yi in enumerate(seqs):
        reject_masked(yi, f"y[{i}]")
        reject_complex(yi, f"y[{i}]")
        yi = np.asarray(yi, dtype=np.float64)
        yi = yi[:, None] if yi.ndim == 1 else yi
        if yi.ndim != 2 or len(yi) != (lengths[i] if isinstance(y, (list, tuple)) else T):
            raise ValueError(f"the targets of sequence {i} have shape {yi.shape}; expected "
                             f"({lengths[i]},) or ({lengths[i]}, n_outputs)")
        if out is None:
            out = np.zeros((n, T, yi.shape[1]))
        if yi.shape[1] != out.shape[2]:
            raise ValueError(f"the targets of sequence {i} have {yi.shape[1]} outputs, "
                             f"the first had {out.shape[2]}")
        if not np.isfinite(yi[:lengths[i]]).all():
            raise ValueError("Input y contains NaN or infinity.")
        out[i, :lengths[i]] = yi[:lengths[i]]
    return out


def mean_scale(values, weights, name="y", floor=0.0, warn=True):
    """Weighted mean and standard deviation of the rows of ``values``, per column;
    a scale of 1 where a column is constant (:func:`scale_or_unit`; inputs pass
    ``floor=INPUT_NOISE_FLOOR``, and a varying column left unscaled by it is named
    in a SmallSpreadWarning unless ``warn`` is False).

    Raises a ValueError naming ``name`` if the statistics are not finite (a spread
    beyond the float64 range), so no model is fitted with infinite scaling."""
    if weights is not None and not np.sum(weights) > 0:
        raise ValueError("sample_weight is 0 for every training sample (the samples "
                         "before the validation tail): nothing to learn from")
    mean, std = mean_std(values, weights)
    if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(std))):
        raise ValueError(f"{name} spans more than the float64 range (largest magnitude "
                         f"{np.max(np.abs(values)):.3g}): its mean and standard deviation "
                         f"overflow; divide {name} by a constant first")
    tiny = np.flatnonzero(below_floor(mean, std, len(values), floor))
    if tiny.size and warn:
        warn_small_spread(f"{name} column(s) {tiny[:5].tolist()}", " (standard deviation "
                          f"{float(np.ravel(std)[tiny[0]]):.3g})")
    return mean, scale_or_unit(mean, std, len(values), floor).reshape(np.shape(std))


def check_weights(sample_weight, n):
    """``sample_weight`` as n float64 weights, each >= 0 and their sum finite (None
    stays None): a negative weight has no meaning in a mean loss, and the first
    negative one or an overflowing sum is named here, not by a later step."""
    if sample_weight is None:
        return None
    reject_masked(sample_weight, "sample_weight")
    reject_complex(sample_weight, "sample_weight")
    w = _check_sample_weight(sample_weight, np.empty((n, 1)), dtype=np.float64)
    negative = np.flatnonzero(w < 0)
    if negative.size:
        first = int(negative[0])
        raise ValueError(f"sample_weight must be >= 0, got {float(w[first])!r} for sample "
                         f"{first}")
    with np.errstate(over="ignore"):
        total = w.sum()
    if not np.isfinite(total):
        raise ValueError(f"sample_weight sums to more than the float64 range (largest "
                         f"weight {w.max():.4g}); divide the weights by a constant")
    return w
