"""The training loop: epochs of minibatch updates with clipping, validation,
early stopping, NaN safety and a per-epoch history.

:func:`train` drives a :class:`~tsbptt.engine.network.Network` with one of the
BPTT schedules of :mod:`tsbptt.engine.bptt`. What it guarantees:

- the same ``random_state`` gives bitwise identical weights, for any thread count
  (the kernels are thread-count invariant; shuffling and dropout draw from one
  seeded generator);
- weights never hold NaN or infinity: an update whose gradients or result are not
  finite is undone, training stops, the best epoch's weights (or the diverging
  epoch's starting ones) are put back and a :class:`RuntimeWarning` says what to try;
- Ctrl-C stops training cleanly with the best weights so far (inside a workflow
  of many fits, :func:`interrupts_stop_every_fit`, it propagates);
- with early stopping, the weights of the best validation epoch are restored.
"""
import contextlib
import contextvars
import time
import warnings
from dataclasses import dataclass
from numbers import Real
from typing import NamedTuple

import numpy as np

from .._kernels import all_finite
from ..utils._validation import (check_int, check_memory, check_positive_int,
                                 user_stacklevel)
from .bptt import full_bptt, truncated_bptt
from ._threads import all_blas_single_threaded
from .clipping import clip_by_global_norm, clip_by_value, global_norm
from .layers import check_lengths
from .losses import check_sample_weight

__all__ = ["EpochCounters", "TrainOptions", "TrainingData", "evaluate",
           "interrupts_stop_every_fit", "time_ordered_split", "train"]

#: Who runs an epoch's updates: None for this process (:func:`_run_epoch`), or an
#: object whose ``run_epoch`` takes the same arguments (set by
#: :class:`tsbptt.engine.data_parallel.DataParallel` for data-parallel training).
epoch_runner = contextvars.ContextVar("tsbptt_epoch_runner", default=None)


#: Whether Ctrl-C during training ends only that fit, which keeps its best weights
#: (True), or propagates (False: inside a workflow of many fits, which it stops).
_interrupt_ends_the_fit = contextvars.ContextVar("tsbptt_interrupt_ends_the_fit",
                                                 default=True)


@contextlib.contextmanager
def interrupts_stop_every_fit():
    """Context manager: within it Ctrl-C (KeyboardInterrupt) during training
    propagates, after the cut epoch is undone, instead of ending that fit alone: a
    backtest, one model per series or a model search stops, where otherwise each
    of its fits would be cut short in turn and scored as if trained."""
    token = _interrupt_ends_the_fit.set(False)
    try:
        yield
    finally:
        _interrupt_ends_the_fit.reset(token)


def warn_not_data_parallel(estimator, how):
    """Warn where a fit inside a ``DataParallel`` block trains in this process as
    usual (it has no epochs of BPTT to spread): ``how`` says how it trains. The
    warning names the caller's line, the first outside tsbptt and scikit-learn."""
    if epoch_runner.get() is not None:
        warnings.warn(f"{type(estimator).__name__} trains {how}, not by epochs of BPTT: "
                      "DataParallel does not spread it; it trains in this process",
                      UserWarning, stacklevel=user_stacklevel())


@dataclass
class TrainOptions:
    """How to train; every field has the meaning of the estimator parameter of the
    same name (see the estimators' docstrings), but ``tol``: here ``tol=0`` still
    stops after ``n_iter_no_change`` epochs without any improvement (the estimators
    turn ``tol=0`` without early stopping into ``n_iter_no_change=max_iter``, every
    epoch run). :meth:`validate` checks them.
    ``callback(record)`` is called after every epoch; ``score_validation(outputs)``
    turns the network's forward-only outputs on the validation data into the
    record's ``val_score`` (the same pass gives ``val_loss``)."""

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
    callback: object = None
    score_validation: object = None

    def validate(self, n_steps):
        """Raise ValueError naming the first bad option; ``n_steps`` is T."""
        for name in ("batch_size", "max_iter", "n_iter_no_change"):
            check_positive_int(name, getattr(self, name))
        for name in ("bptt_steps", "bptt_stride", "checkpoint_every"):
            if getattr(self, name) is not None:
                check_positive_int(name, getattr(self, name))
        for name in ("clip_norm", "clip_value", "clip_step"):
            v = getattr(self, name)
            if v is not None and not (isinstance(v, Real) and not isinstance(v, (bool, np.bool_))
                                      and 0 < v < np.inf):  # True would clip at 1
                raise ValueError(f"{name} must be a positive number or None, got {v!r}")
        for name in ("shuffle", "early_stopping"):  # "no" would be truthy: on
            if not isinstance(getattr(self, name), (bool, np.bool_)):
                raise ValueError(f"{name} must be True or False, got "
                                 f"{getattr(self, name)!r}")
        if self.bptt_stride is not None and self.bptt_steps is None:
            raise ValueError("bptt_stride needs bptt_steps (the truncation length k2)")
        if self.bptt_stride is not None and self.bptt_stride > self.bptt_steps:
            raise ValueError(f"bptt_stride ({self.bptt_stride}) must not exceed "
                             f"bptt_steps ({self.bptt_steps})")
        if self.bptt_steps is not None and self.bptt_steps > n_steps:
            raise ValueError(f"bptt_steps ({self.bptt_steps}) is larger than the "
                             f"sequences ({n_steps} steps)")
        if not (isinstance(self.tol, Real) and self.tol >= 0):
            raise ValueError(f"tol must be a number >= 0, got {self.tol!r}")

    def truncates(self, n_steps):
        """Whether sequences of ``n_steps`` steps train by truncated BPTT: windows
        shorter than them, or updates every ``bptt_stride`` steps within them (a
        stride was ignored when ``bptt_steps`` equalled the length)."""
        return self.bptt_steps is not None and (self.bptt_stride or self.bptt_steps) < n_steps


class TrainingData(NamedTuple):
    """The arrays :func:`train` and :func:`evaluate` read.

    Attributes
    ----------
    X : ndarray of shape (N, T, F)
        C-contiguous, of the network's dtype.
    y : ndarray
        The targets as the loss reads them: (N, n_outputs), (N, T, n_outputs) per
        step, or class indices (N,) or (N, T).
    lengths : ndarray of intp of shape (N,)
    sample_weight : ndarray of shape (N,) or None
    """

    X: np.ndarray
    y: np.ndarray
    lengths: np.ndarray
    sample_weight: np.ndarray = None


@dataclass
class EpochCounters:
    """What one epoch's updates add up, for its history record."""

    norm_sum: float = 0.0
    norm_max: float = 0.0
    n_updates: int = 0
    clipped_norm: int = 0
    clipped_value: int = 0
    clipped_step: int = 0

    def record(self, epoch, train_loss, val_loss, lr, t0):
        """The epoch's history record (a dict: it becomes ``history_``)."""
        n = self.n_updates
        return dict(epoch=epoch + 1, train_loss=train_loss, val_loss=val_loss,
                    learning_rate=lr, grad_norm=self.norm_sum / n if n else 0.0,
                    grad_norm_max=self.norm_max, clipped_norm=self.clipped_norm,
                    clipped_value=self.clipped_value, clipped_step=self.clipped_step,
                    n_updates=n, wall_time=time.perf_counter() - t0, stopped=None)


def _snapshot(params):
    return {k: v.copy() for k, v in params.items()}


def _restore(params, snap):
    for k, v in snap.items():
        params[k][...] = v


class _Stop(Exception):
    """Raised inside an epoch to end training (non-finite loss or update)."""


def _batches(n, batch_size, rng, shuffle):
    order = rng.permutation(n) if shuffle else np.arange(n)
    return [order[i:i + batch_size] for i in range(0, n, batch_size)]


def _row_weight(net, w, n_steps):
    """Total weight of the rows a loss value averages: samples, or valid steps.

    ``n_steps`` (B,) counts each sequence's rows (1 each for many-to-one)."""
    return float(np.sum(n_steps if w is None else w * n_steps))


def _rows_per_sample(net, lengths):
    """The rows a loss averages per sequence: its valid steps, or 1 (many-to-one)."""
    return lengths if net.many_to_many else np.ones(len(lengths))


def relative_weights(net, data):
    """``data`` with its sample weights divided by their mean over the rows a loss
    averages (samples, or valid steps).

    A minibatch's loss then divides its weighted sum by its row count (the losses'
    ``relative``), so that a sample counts by its weight against the whole training
    set's, not against its batch's: a weight of 2 counts like a repeated sample
    whatever the batch size, and a batch of light samples takes a small step.
    Normalised by its own weights, each batch would be a full-weight step: with
    batches of one weight level (unshuffled, or by chance) the weights would not
    count at all.
    """
    w = data.sample_weight
    if w is None:
        return data
    rows = _rows_per_sample(net, data.lengths)
    n_rows = float(np.sum(rows))
    if n_rows == 0:
        return data
    total = _row_weight(net, w, rows)
    if not np.isfinite(total):  # the weights' own sum was checked, not per step
        raise ValueError("sample_weight times the sequences' valid steps overflows "
                         "float64: give smaller weights (only their ratios count)")
    return data._replace(sample_weight=w / (total / n_rows))


def _apply(net, optimizer, grads, lr, opts, counters):
    """Clip, check and apply one update; raise _Stop if anything is not finite."""
    norm = global_norm(grads)
    if not np.isfinite(norm):
        raise _Stop("the gradients are not finite")
    counters.norm_sum += norm
    counters.norm_max = max(counters.norm_max, norm)
    counters.n_updates += 1
    if opts.clip_value is not None:
        counters.clipped_value += clip_by_value(grads, opts.clip_value)
    if opts.clip_norm is not None:
        counters.clipped_norm += clip_by_global_norm(grads, opts.clip_norm)
    names = list(net.params)
    before = [net.params[k].copy() for k in names]
    optimizer.step([grads[k] for k in names], learning_rate=lr)
    if not all(all_finite(net.params[k]) for k in names):
        for k, b in zip(names, before):
            net.params[k][...] = b
        raise _Stop("an update made the weights non-finite")


def _update(net, optimizer, value, grads, stats, lr, opts, counters):
    if not np.isfinite(value):
        raise _Stop("the loss is not finite")
    counters.clipped_step += int(sum(s.sum() for s in stats["n_clipped"]))
    _apply(net, optimizer, grads, lr, opts, counters)


def _run_epoch(net, data, loss, optimizer, lr, opts, rng, counters):
    """One pass over the training data; returns the weighted mean loss."""
    X, y, lengths, w = data
    T = X.shape[1]
    total, weight = 0.0, 0.0
    training = net.dropout > 0 or net.input_dropout > 0
    truncated = opts.truncates(T)
    for idx in _batches(X.shape[0], opts.batch_size, rng, opts.shuffle):
        wb = None if w is None else w[idx]
        if wb is not None and not wb.sum() > 0:
            # nothing in this batch counts: no update, its rows in the mean only
            weight += _row_weight(net, None, _rows_per_sample(net, lengths[idx]))
            continue
        if truncated:
            # Long sequences: never copy a whole batch of them, only windows.
            k2 = opts.bptt_steps
            k1 = opts.bptt_stride or k2
            for start, loss_start, stop, (value, grads, stats) in truncated_bptt(
                    net, X, loss.window_fn(net, y, wb, T, rows=idx, relative=True), k1, k2,
                    rows=idx, clip_step=opts.clip_step, training=training, rng=rng,
                    n_threads=opts.n_threads, with_windows=True):
                _update(net, optimizer, value, grads, stats, lr, opts, counters)
                rows = np.full(len(idx), stop - loss_start if net.many_to_many else 1)
                bw = _row_weight(net, None, rows)  # relative weights: the rows' share
                total, weight = total + value * bw, weight + bw
        else:
            Xb, yb, lb = np.ascontiguousarray(X[idx]), y[idx], lengths[idx]
            value, grads, stats = full_bptt(
                net, Xb, lb, loss.batch_fn(net, yb, lb, wb, relative=True),
                checkpoint_every=opts.checkpoint_every, clip_step=opts.clip_step,
                training=training, rng=rng, n_threads=opts.n_threads)
            _update(net, optimizer, value, grads, stats, lr, opts, counters)
            bw = _row_weight(net, None, _rows_per_sample(net, lb))
            total, weight = total + value * bw, weight + bw
    if weight == 0:
        raise ValueError("no training sample has a positive weight")
    return total / weight


def evaluate(net, loss, data, batch_size=256, n_threads=None, outputs=None):
    """Weighted mean loss of ``net`` on :class:`TrainingData`, without dropout.

    The mean is over samples (many-to-one) or over valid steps (many-to-many),
    weighted by the sample weights, whatever the batch size. ``outputs``: the
    network's outputs on ``data``'s X, already computed (no forward pass then).

    Raises
    ------
    ValueError
        Where ``data`` holds a NaN or infinite value in X or in a target the loss
        reads, lengths out of range, targets of the wrong shape or negative weights:
        all checked before any forward pass (a NaN target made the mean NaN).
    """
    return _evaluate(net, loss, _check_samples(net, loss, TrainingData(*data)),
                     batch_size, n_threads, outputs)


def _evaluate(net, loss, data, batch_size=256, n_threads=None, outputs=None):
    """:func:`evaluate` on data :func:`_check_samples` has checked."""
    X, y, lengths, w = data
    total, weight = 0.0, 0.0
    for s in range(0, X.shape[0], batch_size):
        sl = slice(s, s + batch_size)
        wb = None if w is None else w[sl]
        if wb is not None and not wb.sum() > 0:
            continue
        if outputs is not None:
            out = outputs[sl]
        else:
            out, _, _ = net.forward(np.ascontiguousarray(X[sl]), lengths[sl],
                                    n_threads=n_threads)
        value, _ = loss.batch_fn(net, y[sl], lengths[sl], wb)(out)
        rows = lengths[sl] if net.many_to_many else np.ones(out.shape[0])
        bw = _row_weight(net, wb, rows)
        total, weight = total + value * bw, weight + bw
    if weight == 0:
        raise ValueError("no sample of data has a positive weight: its weighted mean "
                         "loss is undefined")
    return total / weight


def _validate(net, loss, validation, opts):
    """(loss, score) on the validation data (None, None without it); with
    ``opts.score_validation`` one forward-only pass serves both."""
    if validation is None:
        return None, None
    if opts.score_validation is None:
        return _evaluate(net, loss, validation, n_threads=opts.n_threads), None
    X, _, lengths, _ = validation
    out = net.predict_outputs(np.ascontiguousarray(X), np.asarray(lengths, dtype=np.intp),
                              n_threads=opts.n_threads)
    return (_evaluate(net, loss, validation, outputs=out),
            opts.score_validation(out))


def _check_targets_finite(net, y, lengths, name):
    """Raise unless every target the loss reads is finite (many-to-many: the steps
    within each sequence's length); a NaN target made the loss NaN, a vague stop in
    training and a NaN validation loss that early stopping took for no change."""
    y = np.asarray(y)
    if y.dtype.kind == "O":  # numbers held as objects: read as floats where they are
        try:
            y = y.astype(np.float64)
        except (TypeError, ValueError):
            return
    if y.dtype.kind not in "fc":  # integers (class labels) are finite
        return
    finite = np.isfinite(y)
    if finite.all():  # the usual case: no (N, T) temporaries for a long series
        return
    finite = finite.reshape(y.shape[0], -1)
    if net.many_to_many:
        T = y.shape[1]
        past_end = np.arange(T)[None, :] >= lengths[:, None]
        finite = (finite.reshape(y.shape[0], T, -1) | past_end[..., None]).reshape(
            y.shape[0], -1)
    bad = np.flatnonzero(~finite.all(axis=1))
    if bad.size:
        raise ValueError(f"{name} contains NaN or infinity (sample {bad[0]}); every "
                         "target must be finite")


def _check_samples(net, loss, data, name=""):
    """Lengths, targets and sample weights of one data set, for the whole set at
    once: a message then names a sample's own index, not its place in a shuffled
    minibatch. ``name``: '' or "the validation data's ". Returns ``data`` with the
    lengths and weights as checked (None lengths: every sequence whole; lists as
    arrays), which the epochs then read."""
    X, y, lengths, w = data
    N, T = X.shape[0], X.shape[1]
    X = np.asarray(X)
    if X.dtype in (np.float32, np.float64) and not all_finite(X):
        # the layer's own check came at the first forward of that data: for the
        # validation data's, after a whole epoch of training, and naming "X"
        raise ValueError(f"{name}X contains NaN or infinity; every value must be "
                         "finite, including padding past a sequence's length (use 0)")
    lengths = check_lengths(lengths, N, T, name=f"{name}lengths")
    loss.check_targets(net, y, N, T, name=f"{name}y")
    _check_targets_finite(net, y, lengths, f"{name}y")
    if w is not None:
        w = check_sample_weight(w, N, name=f"{name}sample_weight")
    return data._replace(lengths=lengths, sample_weight=w)


def _check_data(net, loss, data, opts, validation=None, optimizer=None):
    X, y, lengths, w = data
    mine = list(net.params.values())
    theirs = getattr(optimizer, "params", mine)
    if len(theirs) != len(mine) or any(a is not b for a, b in zip(theirs, mine)):
        # it would update arrays the network does not read: training a no-op
        raise ValueError("the optimizer was not built on this network's parameters: "
                         "build it on list(net.params.values()), in that order")
    frozen = [k for k, v in net.params.items() if not v.flags.writeable]
    if frozen:  # an update would fail half-way, and its undo with it
        raise ValueError(f"the network's weights are read-only ({frozen[0]}, e.g. a model "
                         "loaded with joblib.load(..., mmap_mode='r')): it predicts, but "
                         "training it needs its own copy (copy.deepcopy(model), or load it "
                         "without mmap_mode)")
    opts.validate(X.shape[1])
    data = _check_samples(net, loss, data)
    X, y, lengths, w = data
    if w is not None and not w.sum() > 0:
        raise ValueError("no training sample has a positive weight")
    if validation is not None:
        validation = _check_samples(net, loss, validation, name="the validation data's ")
        if validation.sample_weight is not None and not validation.sample_weight.sum() > 0:
            raise ValueError("no validation sample has a positive weight: the validation "
                             "data's sample_weight is 0 throughout, so it cannot score "
                             "the network (give its samples weight, or train without it)")
    truncated = opts.truncates(X.shape[1])
    # what asked for truncation: bptt_steps below the length, or a stride within it
    asked = f"bptt_steps={opts.bptt_steps}" + (
        f", bptt_stride={opts.bptt_stride}" if opts.bptt_stride is not None else "")
    if truncated and np.any(lengths != X.shape[1]):
        raise ValueError(f"truncated BPTT ({asked}) needs sequences of equal length; "
                         "pad them to one length and train with bptt_steps=None, or "
                         "cut them into equally long pieces")
    if truncated and opts.checkpoint_every is not None:
        raise ValueError(f"checkpoint_every applies to full BPTT; with {asked} only "
                         "bptt_steps steps are cached anyway")
    _check_cache_memory(net, X.shape[0], X.shape[1], opts)
    return data, validation


def _check_cache_memory(net, n_samples, T, opts):
    """Refuse, before any step, batches whose training caches cannot fit in this
    machine's memory (NumPy's own MemoryError came at the first forward, or the
    machine swapped)."""
    batch = min(opts.batch_size, n_samples)
    steps = T
    if opts.truncates(T):
        steps = opts.bptt_steps
    elif opts.checkpoint_every is not None:
        steps = min(opts.checkpoint_every, T)
    shapes = [(batch, steps, net.stack.cache_width())]
    if net.many_to_many:  # the outputs of every step a pass holds, and their gradient
        shapes.append((batch, steps if opts.truncates(T) else T, 2 * net.output_size))
    check_memory(shapes, net.dtype, 1,
                 f"training on batches of {batch} sequences of {T} steps (batch_size="
                 f"{opts.batch_size})", held=f"the caches of {steps} steps at least",
                 hint="; lower batch_size, or cache fewer steps with bptt_steps "
                      "(truncated BPTT) or checkpoint_every")


def train(net, loss, optimizer, schedule, data, opts, *, validation=None, rng=None,
          start_epoch=0, history=None):
    """Train ``net`` in place.

    Parameters
    ----------
    net : Network
    loss : tsbptt.engine.losses.Objective
        Builds the loss functions of a batch (``batch_fn``) and of a truncated
        window (``window_fn``).
    optimizer : tsbptt.engine.optimizers.Optimizer
        Built on ``list(net.params.values())`` in that order.
    schedule : tsbptt.engine.schedules.Constant (or subclass)
    data : TrainingData
        Or a tuple (X, y, lengths, sample_weight) in that order.
    opts : TrainOptions
    validation : TrainingData or None
        Scored after every epoch; early stopping watches it when given.
    rng : numpy.random.RandomState or None
        Shuffling and dropout; None seeds one with 0.
    start_epoch : int, default=0
        Epochs already done (warm start): schedules continue from there.
    history : list or None, default=None
        The list to append each completed epoch's record to (and return). An
        exception other than the stops below propagates after undoing the epoch it
        cut short (weights, optimizer state, draws): the list then holds the epochs
        the weights have had.

    Returns
    -------
    list of dict
        One record per completed epoch: ``epoch``, ``train_loss``, ``val_loss`` (or
        None), ``learning_rate``, ``grad_norm`` (mean global norm before clipping),
        ``grad_norm_max``, ``clipped_norm`` (updates whose norm was clipped),
        ``clipped_value`` (gradient entries clipped), ``clipped_step`` (dL/dh_t
        entries clipped), ``n_updates``, ``wall_time`` (seconds), ``val_score`` (with
        ``opts.score_validation`` and validation data) and ``stopped``:
        None, or on the last record ``'converged'`` (no improvement for
        ``n_iter_no_change`` epochs), ``'non-finite'`` or ``'interrupted'``. A
        stop during the first epoch leaves one record with ``n_updates`` so far.
    """
    data = TrainingData(*data)
    validation = None if validation is None else TrainingData(*validation)
    data, validation = _check_data(net, loss, data, opts, validation, optimizer)
    data = relative_weights(net, data)
    rng = np.random.RandomState(0) if rng is None else rng
    history = [] if history is None else history
    with all_blas_single_threaded():
        _train_epochs(net, loss, optimizer, schedule, data, opts, validation, rng,
                      start_epoch, history)
    return history


def _train_epochs(net, loss, optimizer, schedule, data, opts, validation, rng,
                  start_epoch, history):
    """The epoch loop of :func:`train`, on checked arguments: appends each
    completed epoch's record to ``history``."""
    runner = epoch_runner.get()
    run_epoch = _run_epoch if runner is None else runner.run_epoch
    best_score, best_weights, bad_epochs, last_monitored = np.inf, None, 0, None
    best_start = None  # the weights the best epoch started from
    stopped = None
    for epoch in range(start_epoch, start_epoch + opts.max_iter):
        lr = schedule.rate(epoch, last_monitored)
        counters = EpochCounters()
        t0 = time.perf_counter()
        epoch_start = _snapshot(net.params)
        # an epoch cut short is undone whole: its updates leave no trace in the
        # optimizer's moments nor in the draws of the next epoch
        optimizer_start, rng_start = optimizer.snapshot(), rng.get_state()
        try:
            train_loss = run_epoch(net, data, loss, optimizer, lr, opts, rng, counters)
            val_loss, val_score = _validate(net, loss, validation, opts)
            record = counters.record(epoch, train_loss, val_loss, lr, t0)
            if val_score is not None:
                record["val_score"] = val_score
            history.append(record)
            if opts.callback is not None:
                opts.callback(record)
        except _Stop as why:
            # The failing update was undone, but the weights it started from may be
            # finite and still overflow the outputs (a loss that became inf): the
            # best epoch's weights, or this epoch's start, are the last known good.
            # Without validation an epoch's loss was measured along the way from its
            # start, not on its end: a diverging epoch's end can be far worse than its
            # loss says (|w| ~ 1e46 after a loss of 0.3), so its start is restored.
            _undo_epoch(history, epoch, optimizer, optimizer_start, rng, rng_start)
            good = best_weights if validation is not None else best_start
            _restore(net.params, good if good is not None else epoch_start)
            warnings.warn(
                f"Training stopped at epoch {epoch + 1}: {why}. The weights of the best "
                "epoch so far (with no validation data, those it started from; or this "
                "epoch's start) were restored. Try a lower "
                "learning_rate, gradient clipping (clip_norm=1.0) or scaling the inputs.",
                RuntimeWarning, stacklevel=user_stacklevel())
            stopped = "non-finite"
        except KeyboardInterrupt:
            _undo_epoch(history, epoch, optimizer, optimizer_start, rng, rng_start)
            if not _interrupt_ends_the_fit.get():  # a workflow of many fits: stop it
                _restore(net.params, epoch_start)
                raise
            _restore(net.params, best_weights if best_weights is not None else epoch_start)
            warnings.warn(f"Training interrupted at epoch {epoch + 1}; the model keeps "
                          "the best weights so far.", RuntimeWarning, stacklevel=user_stacklevel())
            stopped = "interrupted"
        except BaseException:
            # anything else (a callback's broken pipe, MemoryError) propagates; the
            # weights and optimizer are left as the completed epochs in `history` left
            # them, so a continued fit's records still describe its weights
            _undo_epoch(history, epoch, optimizer, optimizer_start, rng, rng_start)
            _restore(net.params, epoch_start)
            raise
        if stopped is not None:
            if not history or history[-1]["epoch"] != epoch + 1:
                history.append(counters.record(epoch, np.nan, None, lr, t0))
            break
        monitored = last_monitored = val_loss if validation is not None else train_loss
        if monitored < best_score:
            # Keep the best weights on any improvement; tol only decides whether the
            # improvement counts against n_iter_no_change.
            bad_epochs = 0 if monitored < best_score - opts.tol else bad_epochs + 1
            best_score, best_weights = monitored, _snapshot(net.params)
            best_start = epoch_start
        else:
            bad_epochs += 1
        if bad_epochs >= opts.n_iter_no_change:
            stopped = "converged"
            break
    # (a non-finite stop restored its own choice: without validation data, not the
    # best epoch's end)
    if opts.early_stopping and best_weights is not None and stopped != "non-finite":
        _restore(net.params, best_weights)
    if history:
        history[-1]["stopped"] = stopped


def _undo_epoch(history, epoch, optimizer, optimizer_start, rng, rng_start):
    """Undo an epoch cut short: its record (appended before the callback that may
    have raised), the optimizer's updates and the generator's draws."""
    if history and history[-1]["epoch"] == epoch + 1:
        history.pop()
    optimizer.restore(optimizer_start)
    rng.set_state(rng_start)


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
    # a negative gap would hand validation rows (and one past the end) to training
    gap = check_int("gap", gap, 0)
    n_val = max(1, int(round(n_samples * validation_fraction)))
    n_train = n_samples - n_val - gap
    if n_train < 1:
        raise ValueError(
            f"{n_samples} samples leave no training data after a validation tail of "
            f"{n_val} and a gap of {gap}; lower validation_fraction or validation_gap")
    return np.arange(n_train), np.arange(n_samples - n_val, n_samples)
