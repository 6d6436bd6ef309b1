"""The training loop: epochs of minibatch updates with clipping, validation,
early stopping, NaN safety and a per-epoch history.

:func:`train` drives a :class:`~tsbptt.engine.network.Network` with one of the
BPTT schedules of :mod:`tsbptt.engine.bptt`. What it guarantees:

- the same ``random_state`` gives bitwise identical weights, for any thread count
  (the kernels are thread-count invariant; shuffling and dropout draw from one
  seeded generator);
- weights never hold NaN or infinity: an update whose gradients or result are not
  finite is undone, training stops, the best (or last finite) weights are put
  back and a :class:`RuntimeWarning` says what to try;
- Ctrl-C stops training cleanly with the best weights so far;
- with early stopping, the weights of the best validation epoch are restored.
"""
import time
import warnings
from dataclasses import dataclass, field

import numpy as np

from .bptt import full_bptt, truncated_bptt
from .clipping import clip_by_global_norm, clip_by_value, global_norm

__all__ = ["TrainOptions", "evaluate", "time_ordered_split", "train"]


@dataclass
class TrainOptions:
    """How to train; every field has the meaning of the estimator parameter of the
    same name (see the estimators' docstrings)."""

    batch_size: int = 32
    max_iter: int = 100
    shuffle: bool = True
    bptt_steps: int = None
    bptt_stride: int = None
    checkpoint_every: int = None
    clip_norm: float = None
    clip_value: float = None
    clip_step: float = None
    early_stopping: bool = False
    n_iter_no_change: int = 10
    tol: float = 1e-4
    n_threads: int = None
    verbose: int = 0
    callback: object = None
    history: list = field(default_factory=list)


def _snapshot(params):
    return {k: v.copy() for k, v in params.items()}


def _restore(params, snap):
    for k, v in snap.items():
        params[k][...] = v


def _all_finite(arrays):
    return all(np.isfinite(a).all() for a in arrays)


class _Stop(Exception):
    """Raised inside an epoch to end training (non-finite loss or update)."""


def _batches(n, batch_size, rng, shuffle):
    order = rng.permutation(n) if shuffle else np.arange(n)
    return [order[i:i + batch_size] for i in range(0, n, batch_size)]


def _apply(net, optimizer, grads, lr, opts, counters):
    """Clip, check and apply one update; raise _Stop if anything is not finite."""
    norm = global_norm(grads)
    if not np.isfinite(norm):
        raise _Stop("the gradients are not finite")
    counters["norm_sum"] += norm
    counters["norm_max"] = max(counters["norm_max"], norm)
    counters["n_updates"] += 1
    if opts.clip_value is not None:
        counters["clipped_value"] += clip_by_value(grads, opts.clip_value)
    if opts.clip_norm is not None:
        counters["clipped_norm"] += clip_by_global_norm(grads, opts.clip_norm)
    names = list(net.params)
    before = [net.params[k].copy() for k in names]
    optimizer.step([grads[k] for k in names], learning_rate=lr)
    if not _all_finite(net.params.values()):
        for k, b in zip(names, before):
            net.params[k][...] = b
        raise _Stop("an update made the weights non-finite")


def _run_epoch(net, data, loss, optimizer, lr, opts, rng, counters):
    """One pass over the training data; returns the weighted mean loss."""
    X, y, lengths, w = data
    total, weight = 0.0, 0.0
    training = net.dropout > 0 or net.input_dropout > 0
    for idx in _batches(X.shape[0], opts.batch_size, rng, opts.shuffle):
        wb = None if w is None else w[idx]
        bw = float(len(idx) if wb is None else wb.sum())
        if opts.bptt_steps is not None and opts.bptt_steps < X.shape[1]:
            # Long sequences: never copy a whole batch of them, only windows.
            k2 = opts.bptt_steps
            k1 = opts.bptt_stride or k2
            for value, grads, stats in truncated_bptt(
                    net, X, loss.window_fn(net, y, wb, X.shape[1], rows=idx), k1, k2,
                    rows=idx, clip_step=opts.clip_step, training=training, rng=rng,
                    n_threads=opts.n_threads):
                if not np.isfinite(value):
                    raise _Stop("the loss is not finite")
                counters["clipped_step"] += int(sum(s.sum() for s in stats["n_clipped"]))
                _apply(net, optimizer, grads, lr, opts, counters)
                total, weight = total + value * bw, weight + bw
        else:
            Xb, yb, lb = np.ascontiguousarray(X[idx]), y[idx], lengths[idx]
            value, grads, stats = full_bptt(
                net, Xb, lb, loss.batch_fn(net, yb, lb, wb),
                checkpoint_every=opts.checkpoint_every, clip_step=opts.clip_step,
                training=training, rng=rng, n_threads=opts.n_threads)
            if not np.isfinite(value):
                raise _Stop("the loss is not finite")
            counters["clipped_step"] += int(sum(s.sum() for s in stats["n_clipped"]))
            _apply(net, optimizer, grads, lr, opts, counters)
            total, weight = total + value * bw, weight + bw
    return total / weight


def evaluate(net, loss, data, batch_size=256, n_threads=None):
    """Weighted mean loss of ``net`` on (X, y, lengths, w), without dropout."""
    X, y, lengths, w = data
    total, weight = 0.0, 0.0
    for s in range(0, X.shape[0], batch_size):
        sl = slice(s, s + batch_size)
        out, _, _ = net.forward(np.ascontiguousarray(X[sl]), lengths[sl],
                                n_threads=n_threads)
        wb = None if w is None else w[sl]
        value, _ = loss.batch_fn(net, y[sl], lengths[sl], wb)(out)
        bw = float(out.shape[0] if wb is None else wb.sum())
        total, weight = total + value * bw, weight + bw
    return total / weight


def train(net, loss, optimizer, schedule, data, opts, *, validation=None, rng=None,
          start_epoch=0):
    """Train ``net`` in place.

    Parameters
    ----------
    net : Network
    loss : tsbptt.engine.objectives.Objective
        Builds the loss functions of a batch (``batch_fn``) and of a truncated
        window (``window_fn``).
    optimizer : tsbptt.engine.optimizers.Optimizer
        Built on ``list(net.params.values())`` in that order.
    schedule : tsbptt.engine.schedules.Constant (or subclass)
    data : tuple (X, y, lengths, sample_weight)
        X (N, T, F) C-contiguous; y the targets; lengths (N,) intp; weights or None.
    opts : TrainOptions
    validation : tuple like ``data`` or None
        Scored after every epoch; early stopping watches it when given.
    rng : numpy.random.RandomState
    start_epoch : int, default=0
        Epochs already done (warm start): schedules continue from there.

    Returns
    -------
    list of dict
        One record per epoch: ``epoch``, ``train_loss``, ``val_loss`` (or None),
        ``learning_rate``, ``grad_norm`` (mean global norm before clipping),
        ``grad_norm_max``, ``clipped_norm`` (updates whose norm was clipped),
        ``clipped_value`` (gradient entries clipped), ``clipped_step``
        (dL/dh_t entries clipped), ``n_updates`` and ``wall_time`` (seconds).
        Training status goes in ``stopped``: None, ``'converged'``,
        ``'non-finite'`` or ``'interrupted'`` on the last record.
    """
    history = []
    best_score, best_weights, bad_epochs = np.inf, None, 0
    last_monitored = None
    stopped = None
    for epoch in range(start_epoch, start_epoch + opts.max_iter):
        lr = schedule.rate(epoch, last_monitored)
        counters = dict(norm_sum=0.0, norm_max=0.0, n_updates=0, clipped_norm=0,
                        clipped_value=0, clipped_step=0)
        t0 = time.perf_counter()
        epoch_start = _snapshot(net.params)
        try:
            train_loss = _run_epoch(net, data, loss, optimizer, lr, opts, rng, counters)
        except _Stop as why:
            # The failing update was undone: the weights are the last finite ones.
            warnings.warn(
                f"Training stopped at epoch {epoch + 1}: {why}. The last finite weights "
                "were restored. Try a lower learning_rate, gradient clipping "
                "(clip_norm=1.0) or scaling the inputs.", RuntimeWarning, stacklevel=3)
            stopped = "non-finite"
            break
        except KeyboardInterrupt:
            _restore(net.params, best_weights if best_weights is not None else epoch_start)
            warnings.warn(f"Training interrupted at epoch {epoch + 1}; the model keeps "
                          "the best weights so far.", RuntimeWarning, stacklevel=3)
            stopped = "interrupted"
            break
        val_loss = (evaluate(net, loss, validation, n_threads=opts.n_threads)
                    if validation is not None else None)
        n_updates = counters["n_updates"]
        record = dict(epoch=epoch + 1, train_loss=train_loss, val_loss=val_loss,
                      learning_rate=lr,
                      grad_norm=counters["norm_sum"] / n_updates if n_updates else 0.0,
                      grad_norm_max=counters["norm_max"],
                      clipped_norm=counters["clipped_norm"],
                      clipped_value=counters["clipped_value"],
                      clipped_step=counters["clipped_step"], n_updates=n_updates,
                      wall_time=time.perf_counter() - t0, stopped=None)
        history.append(record)
        if opts.callback is not None:
            opts.callback(record)
        monitored = val_loss if validation is not None else train_loss
        last_monitored = monitored
        if monitored < best_score - opts.tol:
            best_score, bad_epochs = monitored, 0
            best_weights = _snapshot(net.params)
        else:
            bad_epochs += 1
        if bad_epochs >= opts.n_iter_no_change:
            stopped = "converged"
            break
    if opts.early_stopping and best_weights is not None:
        _restore(net.params, best_weights)
    if history:
        history[-1]["stopped"] = stopped
    return history


def time_ordered_split(n_samples, validation_fraction, gap=0):
    """Indices of a training head and a validation tail, in time order.

    For time series the validation set must come after the training set, never
    be drawn at random from it; ``gap`` samples between the two are dropped so
    that overlapping windows cannot leak the validation targets into training.

    Parameters
    ----------
    n_samples : int
    validation_fraction : float in (0, 1)
    gap : int, default=0

    Returns
    -------
    train_idx, val_idx : ndarray of int
    """
    if not 0 < validation_fraction < 1:
        raise ValueError(f"validation_fraction must be in (0, 1), got {validation_fraction!r}")
    n_val = max(1, int(round(n_samples * validation_fraction)))
    n_train = n_samples - n_val - gap
    if n_train < 1:
        raise ValueError(
            f"{n_samples} samples leave no training data after a validation tail of "
            f"{n_val} and a gap of {gap}; lower validation_fraction or validation_gap")
    return np.arange(n_train), np.arange(n_samples - n_val, n_samples)
