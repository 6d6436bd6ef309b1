"""The shared base of the six estimators: parameters, inputs, the training loop.

The regressors (:mod:`._regressors`) and the classifiers (:mod:`._classifiers`)
derive from :class:`_BaseRecurrent`; within a family the cell type is the only
difference. They follow scikit-learn's conventions: ``__init__`` only stores its
arguments, ``fit`` validates them against ``_parameter_constraints`` and the data
with ``validate_data``, fitted attributes end in ``_``, ``fit`` returns ``self``.
Inputs are sequences (see :mod:`._inputs`): 2D windows (what every scikit-learn
tool passes), 3D arrays, or lists of sequences of different lengths.

Training is :func:`tsbptt.engine.train`; inputs (and, for regressors, targets) are
standardised with statistics of the training data only, and the model predicts in
the original units.

A new estimator family (another cell, another training rule) derives from
:class:`_BaseRecurrent`, sets ``_cell``, spells its parameters out in its own
``__init__`` (scikit-learn reads them from the signature), adds them to
``_parameter_constraints`` and documents them (:mod:`._docs`);
``tests/test_docstrings.py`` fails until every parameter is documented.
"""
from __future__ import annotations

import os
import warnings
from functools import partial
from numbers import Integral, Real
from typing import TYPE_CHECKING, Sequence, Union

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ..engine import (Network, Objective, TrainingData, TrainOptions, build_optimizer,
                      time_ordered_split, train)
from ..engine._threads import MAX_THREADS
from ..engine.network import param_shapes
from ..engine.schedules import Constant
from ..utils._progress import ProgressReporter, stop_reason
from ..utils._validation import (check_memory, is_positive_int, refuse_bool_numbers,
                                 user_stacklevel)
from ._inputs import in_dtype, to_sequences
from ._state import FittedState, load_model, save_model, undone_on_failure
from ._tags import Capabilities
from ._targets import mean_scale
from ..utils._validation import INPUT_NOISE_FLOOR

if TYPE_CHECKING:  # typing.Self is Python >= 3.11
    from typing import Self

__all__ = ["Sequences"]

#: What the estimators take as X: 2D windows, a 3D array, or a list of 2D sequences.
Sequences = Union[ArrayLike, Sequence[ArrayLike]]


def _positive_int_or_tuple(value):
    if isinstance(value, (tuple, list)):
        return len(value) > 0 and all(is_positive_int(v) for v in value)
    return is_positive_int(value)


#: scikit-learn's constraints of an ``n_threads`` parameter: None, 1 .. MAX_THREADS,
#: or -1 .. -MAX_THREADS (all cores but ``-n - 1``), as the engine reads it.
N_THREADS_CONSTRAINTS = [Interval(Integral, -MAX_THREADS, -1, closed="both"),
                         Interval(Integral, 1, MAX_THREADS, closed="both"), None]

#: The parameters that shape a fitted network, say what its outputs mean or how its
#: inputs are read. A set_params after fit must not change them under the fitted
#: weights: predict and save read them as fitted, and a continued fit refuses a change.
ARCHITECTURE_PARAMS = ("hidden_size", "num_layers", "bidirectional", "loss", "quantiles",
                       "dtype", "n_channels", "scale_inputs", "scale_target")
#: The parameters an optimizer is built from (``learning_rate`` is read at every
#: epoch): a continued fit whose values differ builds a new optimizer.
OPTIMIZER_PARAMS = ("optimizer", "weight_decay", "l1", "momentum", "nesterov")


class _BaseRecurrent(FittedState, BaseEstimator):
    """Shared parameters, input handling and the training loop glue."""

    _cell = None
    _parameter_constraints = {
        "hidden_size": [Interval(Integral, 1, None, closed="left"), tuple, list],
        "num_layers": [Interval(Integral, 1, None, closed="left")],
        "bidirectional": ["boolean"],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "optimizer": [StrOptions({"adam", "adamw", "sgd", "rmsprop", "adagrad",
                                  "adadelta"})],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "momentum": [Interval(Real, 0, 1, closed="left")],
        "nesterov": ["boolean"],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "validation_gap": [Interval(Integral, 0, None, closed="left")],
        "bptt_steps": [Interval(Integral, 1, None, closed="left"), None],
        "bptt_stride": [Interval(Integral, 1, None, closed="left"), None],
        "clip_norm": [Interval(Real, 0, None, closed="neither"), None],
        "clip_value": [Interval(Real, 0, None, closed="neither"), None],
        "clip_step": [Interval(Real, 0, None, closed="neither"), None],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "l1": [Interval(Real, 0, None, closed="left")],
        "checkpoint_every": [Interval(Integral, 1, None, closed="left"), None],
        "n_channels": [Interval(Integral, 1, None, closed="left")],
        "per_step": [StrOptions({"auto"}), "boolean"],
        "scale_inputs": ["boolean"],
        "shuffle": ["boolean"],
        "n_threads": N_THREADS_CONSTRAINTS,
        "dtype": [StrOptions({"float32", "float64"})],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
    }

    # No __init__ here: scikit-learn reads each estimator's parameters from its own
    # __init__ signature, so the regressor and the classifier spell theirs out in full.

    def _validate_params(self):
        super()._validate_params()
        refuse_bool_numbers(self)

    # -- tags and fitted state ------------------------------------------------------
    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.input_tags.three_d_array = True  # (n_samples, n_steps, n_features)
        tags.non_deterministic = False
        return tags

    def __tsbptt_capabilities__(self):
        """What the layers above may rely on (see :mod:`._tags`)."""
        return Capabilities(recurrent=True, channels=True, reports_progress=True)

    def __sklearn_clone__(self):
        """scikit-learn's clone, keeping ``_given_params``: the parameters set
        explicitly (by the command line, which knows its flags), which a
        Forecaster's training budget must not take for defaults
        (``forecasting._window_model.apply_budget``)."""
        new = super().__sklearn_clone__()
        if "_given_params" in vars(self):
            new._given_params = self._given_params
        return new

    def __sklearn_is_fitted__(self):
        return hasattr(self, "network_")

    def _check_saved_params(self):
        """The checks of ``fit`` beyond ``_validate_params``, for a loaded model."""
        self._check_hidden_size()

    # -- data -------------------------------------------------------------------------
    def _check_hidden_size(self):
        if not _positive_int_or_tuple(self.hidden_size):
            raise ValueError(f"The 'hidden_size' parameter of {type(self).__name__} must "
                             "be a positive int or a non-empty tuple of positive ints. "
                             f"Got {self.hidden_size!r} instead.")
        if isinstance(self.hidden_size, (tuple, list)) and \
                self.num_layers not in (1, len(self.hidden_size)):
            raise ValueError(f"hidden_size={tuple(self.hidden_size)!r} names "
                             f"{len(self.hidden_size)} layers but num_layers="
                             f"{self.num_layers}; give one or the other")

    def _sequences(self, X, reset):
        """``X`` as (X3, lengths, kind): kind is this call's form of X ('2d', '3d'
        or 'list'), which may differ from the fitted ``input_kind_`` (a list where
        the model was fitted on a 3D array): y is read by it."""
        if reset:  # a cold fit: whatever fails below leaves no half-fitted model
            for name in ("network_", "n_channels_", "dtype_", "input_kind_"):
                self.__dict__.pop(name, None)
        dtype = np.dtype(self.dtype if reset else self.dtype_)
        X3, lengths, kind = to_sequences(self, X, reset=reset)
        if reset:
            self.input_kind_, self.n_channels_, self.dtype_ = kind, self.n_channels, dtype.name
        return X3, lengths, kind

    def _fit_input_scaling(self, X3, lengths, w):
        """Per-feature mean and scale over the valid steps of the training data,
        weighted by the sample weights (a weight of 2 counts like a repeated sample)."""
        F = X3.shape[2]
        if not self.scale_inputs:
            self.input_mean_, self.input_scale_ = np.zeros(F), np.ones(F)
            return
        valid = np.arange(X3.shape[1])[None, :] < lengths[:, None]
        weights = None if w is None else np.broadcast_to(w[:, None], valid.shape)[valid]
        # inside a Forecaster, which names its own covariates: quiet
        self.input_mean_, self.input_scale_ = mean_scale(
            X3[valid], weights, name="X", floor=INPUT_NOISE_FLOOR,
            warn=not getattr(self, "_quiet_small_spread", False))

    def _scale_inputs(self, X3, lengths):
        """Standardised copy; padding past each sequence's end stays exactly 0."""
        Xs = (X3 - self.input_mean_) / self.input_scale_
        if lengths.min() < X3.shape[1]:  # only a list of sequences has padding
            Xs[np.arange(X3.shape[1])[None, :] >= lengths[:, None]] = 0
        return in_dtype(Xs, np.dtype(self.dtype_))

    def _check_bptt(self, T):
        if self.bptt_steps is not None and self.bptt_steps > T:
            raise ValueError(f"bptt_steps={self.bptt_steps} is larger than the "
                             f"sequences ({T} time steps)")
        if self.bptt_stride is not None and (self.bptt_steps is None
                                             or self.bptt_stride > self.bptt_steps):
            raise ValueError(f"bptt_stride={self.bptt_stride} needs bptt_steps >= it, got "
                             f"bptt_steps={self.bptt_steps}")

    # -- the network and the training loop --------------------------------------------
    def _network_input_size(self):
        return self.n_features_in_ if self.input_kind_ != "2d" else self.n_channels_

    def _new_network(self, n_outputs, seed):
        return Network(self._cell, self._network_input_size(), self.hidden_size, n_outputs,
                       num_layers=self.num_layers, bidirectional=self.bidirectional,
                       many_to_many=getattr(self, "per_step_", False),
                       dropout=self.dropout, dtype=self.dtype_, random_state=seed)

    @property
    def params_(self) -> dict[str, np.ndarray]:
        """The learned weights, by name, as plain NumPy arrays (the live ones)."""
        check_is_fitted(self)
        return self.network_.params

    def _new_optimizer(self):
        opts = dict(weight_decay=self.weight_decay, l1=self.l1)
        if self.optimizer == "sgd":
            opts.update(momentum=self.momentum, nesterov=self.nesterov)
        elif self.optimizer == "rmsprop":
            opts.update(momentum=self.momentum)
        optimizer = build_optimizer(self.optimizer, self.network_.params,
                                    self.learning_rate, **opts)
        # what it was built from, once built: a refused setting leaves the record
        # of the optimizer kept
        self._optimizer_params = {k: getattr(self, k) for k in OPTIMIZER_PARAMS}
        return optimizer

    def _continue_optimizer(self):
        """A continued fit keeps the optimizer and its moments, unless set_params
        changed what it was built from (:data:`OPTIMIZER_PARAMS`): then the new
        values take effect in a new optimizer (they were silently ignored)."""
        now = {k: getattr(self, k) for k in OPTIMIZER_PARAMS}
        # a model pickled before this record: taken as built with today's values
        if vars(self).setdefault("_optimizer_params", now) != now:
            self._optimizer = self._new_optimizer()

    def _options(self, max_iter, callback):
        return TrainOptions(
            batch_size=self.batch_size, max_iter=max_iter, shuffle=self.shuffle,
            bptt_steps=self.bptt_steps, bptt_stride=self.bptt_stride,
            checkpoint_every=self.checkpoint_every, clip_norm=self.clip_norm,
            clip_value=self.clip_value, clip_step=self.clip_step,
            early_stopping=self.early_stopping,
            n_iter_no_change=(self.n_iter_no_change if self.early_stopping or
                              self.tol > 0 else max_iter),
            tol=self.tol, n_threads=self.n_threads, callback=callback)

    def _fit_or_continue(self, X, y, sample_weight, max_iter, incremental, **kwargs):
        """A cold fit (a fresh network) or a continued one (warm start, partial_fit),
        by the subclass's ``_fit_steps(first, ...)``; returns its history.

        A cold fit that fails puts the estimator back as it was, every attribute:
        a check that fails after the network is built (the trainer's) leaves no
        half-fitted model, and a model fitted before keeps its fit. A continued fit
        refuses first a network shape that set_params changed.
        """
        first = not (incremental or self.warm_start) or not hasattr(self, "network_")
        if not first:
            self._check_architecture()
            history = self._fit_steps(first, X, y, sample_weight, max_iter, incremental,
                                      **kwargs)
            self._record_architecture()  # the same shape; a point loss may have changed
            return history
        with undone_on_failure(self):
            vars(self).pop("_architecture", None)  # the parameters as they are now
            return self._fit_steps(first, X, y, sample_weight, max_iter, incremental,
                                   **kwargs)

    def __setstate__(self, state):
        super().__setstate__(state)
        # joblib's pickler writes each array apart: the optimizer came back holding
        # copies of the weights, and partial_fit or a warm start updated those,
        # silently, while predict read the network's
        if "_optimizer" in state and "network_" in state:
            self._optimizer.rebind(self.network_.params.values())

    def _record_architecture(self):
        """Keep :data:`ARCHITECTURE_PARAMS` as the network is built with them (a
        list as a tuple: a copy the caller's list cannot change)."""
        params = self.get_params(deep=False)
        self._architecture = {k: tuple(params[k]) if isinstance(params[k], list)
                              else params[k] for k in ARCHITECTURE_PARAMS if k in params}

    def _fitted_param(self, name):
        """A parameter of :data:`ARCHITECTURE_PARAMS` as the fitted network has it
        (the parameter itself before a fit, or when a fresh fit starts)."""
        architecture = vars(self).get("_architecture") or {}
        return architecture[name] if name in architecture else getattr(self, name)

    def _check_architecture(self):
        """Refuse to continue training a network whose shape set_params changed: a
        list or a tuple of the same sizes is the same network, and the point losses
        (all but 'quantile') give the same outputs."""
        def shape_of(name, value):
            if isinstance(value, list):
                return tuple(value)
            return "point" if name == "loss" and value != "quantile" else value

        for name, fitted in (vars(self).get("_architecture") or {}).items():
            now = getattr(self, name)
            if name == "quantiles" and self._fitted_param("loss") != "quantile":
                continue  # unread without the quantile loss
            if name == "n_channels" and self.input_kind_ != "2d":
                continue  # read from 2D windows only
            if shape_of(name, now) != shape_of(name, fitted):
                raise ValueError(
                    f"{name}={now!r} differs from the fitted network's {name}={fitted!r}: "
                    "warm_start and partial_fit continue the fitted network; set it "
                    "back, or fit anew (warm_start=False)")

    def _params_for_json(self):
        # the file describes the fitted network, whatever set_params did since
        params = super()._params_for_json()
        params.update({k: list(v) if isinstance(v, tuple) else v
                       for k, v in (vars(self).get("_architecture") or {}).items()})
        return params

    def _initialize(self, n_outputs):
        self._check_hidden_size()
        self._record_architecture()
        # weights, gradients and an optimizer's two moments, before allocating any
        check_memory(param_shapes(self._cell, self._network_input_size(), self.hidden_size,
                                  n_outputs, num_layers=self.num_layers,
                                  bidirectional=self.bidirectional).values(),
                     self.dtype_, 4, f"hidden_size={self.hidden_size!r} with num_layers="
                     f"{self.num_layers} and {self._network_input_size()} inputs",
                     held="4 copies of its weights (weights, gradients, optimizer state)")
        rs = check_random_state(self.random_state)
        self.network_ = self._new_network(n_outputs, rs.randint(np.iinfo(np.int32).max))
        self._rng = np.random.RandomState(rs.randint(np.iinfo(np.int32).max))
        self._optimizer = self._new_optimizer()
        self.n_iter_, self.t_ = 0, 0
        self.loss_curve_, self.history_ = [], []
        # NaN until an epoch completes (a fit stopped in its first leaves it so)
        self.loss_, self.best_loss_ = np.nan, np.inf
        # as scikit-learn's MLP: None unless a validation tail is scored
        self.validation_scores_ = [] if self.early_stopping else None
        self.best_validation_score_ = None

    def _split(self, n, incremental):
        """Training and validation indices: the time-ordered tail validates."""
        if self.early_stopping and not incremental:
            return time_ordered_split(n, self.validation_fraction, self.validation_gap)
        return np.arange(n), None

    def _train(self, X3, Y, lengths, w, max_iter, incremental=False):
        """Train on prepared arrays; the time-ordered tail validates if asked."""
        # a continued fit refused before its first update (here, or by the engine's
        # checks of the data) keeps the optimizer it had, moments and all
        kept = (vars(self).get("_optimizer"), vars(self).get("_optimizer_params"))
        # a training setting, not a shape: a continued fit takes the value set now
        dropout, self.network_.dropout = self.network_.dropout, float(self.dropout)
        steps = None
        try:
            self._continue_optimizer()
            steps = self._optimizer.t
            return self._train_with(X3, Y, lengths, w, max_iter, incremental)
        except BaseException:
            if steps is None or self._optimizer.t == steps:  # no update: as it was
                self.network_.dropout = dropout
            if self._optimizer is not kept[0] and self._optimizer.t == 0:
                self._optimizer, self._optimizer_params = kept
            raise

    def _train_with(self, X3, Y, lengths, w, max_iter, incremental):
        """:meth:`_train` with the optimizer set."""
        val = None
        idx, val_idx = self._split(len(X3), incremental)
        if val_idx is not None:
            val = TrainingData(X3[val_idx], Y[val_idx], lengths[val_idx],
                               None if w is None else w[val_idx])
        data = TrainingData(np.ascontiguousarray(X3[idx]), Y[idx], lengths[idx],
                            None if w is None else w[idx])
        progress = self._progress(max_iter)
        opts = self._options(max_iter, progress)
        if val is not None:  # scored from the outputs that give the validation loss
            opts.score_validation = partial(self._score_outputs, Y=val.y,
                                            lengths=val.lengths, w=val.sample_weight)
        history, finished = [], False
        try:
            train(self.network_, Objective(self._loss()), self._optimizer,
                  Constant(self.learning_rate), data, opts, validation=val,
                  rng=self._rng, start_epoch=self.n_iter_, history=history)
            finished = True
        finally:
            # an exception (a callback's broken pipe) leaves the weights of the epochs
            # completed: a continued fit records them (a cold one is undone whole)
            self._record(history, len(idx), val is not None)
            # partial_fit's single epochs have no reason to stop worth a line
            progress.close(None if not finished or not history or incremental else
                           stop_reason(history[-1]["stopped"], len(history), max_iter,
                                       val is not None))
        return history

    def _progress(self, max_iter):
        """The engine's per-epoch callback of one ``_train`` call: reports progress
        (see :mod:`tsbptt.utils._progress`). Call its ``close()`` once training returns."""
        # a Forecaster names each of its fits (e.g. "fit 1/2: calibration model")
        label = getattr(self, "_progress_label", None) or type(self).__name__
        reporter = ProgressReporter(max_iter, self.verbose, label=label)

        def callback(record):
            reporter.update(record)
        callback.close = reporter.close
        return callback

    def _record(self, history, n_train, validated):
        """Fitted attributes from the engine's records; an epoch cut short (Ctrl-C,
        non-finite loss) stays in history_ but counts in neither n_iter_ nor the
        curves."""
        self.history_.extend(history)
        done = [h for h in history if np.isfinite(h["train_loss"])]
        self.n_iter_ += len(done)
        self.t_ += len(done) * n_train
        self.loss_curve_.extend(h["train_loss"] for h in done)
        if done:
            self.loss_ = done[-1]["train_loss"]
            self.best_loss_ = min(self.best_loss_, min(self.loss_curve_))
        # validation_scores_ keeps one score per counted epoch once any epoch had
        # one: NaN for the epochs of calls without validation (a warm start that
        # switched early_stopping on or off)
        if validated and done:
            if self.validation_scores_ is None:
                self.validation_scores_ = [np.nan] * (self.n_iter_ - len(done))
            self.validation_scores_.extend(h["val_score"] for h in done)
            # the epoch whose weights early stopping kept: the lowest validation loss
            kept = min(range(len(done)), key=lambda i: done[i]["val_loss"])
            self.best_validation_score_ = done[kept]["val_score"]
        elif not validated and done:  # (a call refused before an epoch changes nothing)
            if self.validation_scores_ is not None:
                self.validation_scores_.extend(np.nan for _ in done)
            self.best_validation_score_ = None  # this call kept no validated epoch

    def _warn_if_not_converged(self, history, max_iter):
        if history and history[-1]["stopped"] is None and len(history) == max_iter:
            message = (f"{type(self).__name__}: max_iter ({max_iter}) reached and the "
                       "optimization hasn't converged yet.")
            # a Forecaster gathers its members' notes into one warning
            if getattr(self, "_defer_convergence_warning", False):
                self._convergence_note = message
            else:
                warnings.warn(message, ConvergenceWarning, stacklevel=user_stacklevel())

    def _forward(self, X3, lengths):
        """Network outputs for prepared sequences: the forward-only kernels, so a
        row's outputs are the same bits alone or in any batch."""
        return self.network_.predict_outputs(X3, lengths,
                                             n_threads=self.n_threads).astype(np.float64)

    def save(self, path: str | os.PathLike) -> None:
        """Write the fitted model to ``path`` as a safe ``.npz`` file (no pickle).

        Parameters
        ----------
        path : str or os.PathLike
            The file to write; see :func:`tsbptt.save_model` (what it holds: not
            the optimizer's state, which a pickle keeps).
        """
        save_model(self, path)

    @classmethod
    def load(cls, path: str | os.PathLike) -> Self:
        """Read a model written by :meth:`save`; it predicts bitwise identically.

        Parameters
        ----------
        path : str or os.PathLike

        Returns
        -------
        estimator : an instance of this class

        Raises
        ------
        TypeError
            If the file holds another class of estimator.
        """
        est = load_model(path)
        if not isinstance(est, cls):
            raise TypeError(f"{path!r} holds a {type(est).__name__}, not a {cls.__name__}")
        return est

    def _prepared(self, X):
        if "network_" not in self.__dict__:  # a fitted model pays one lookup
            check_is_fitted(self)
        X3, lengths, _ = self._sequences(X, reset=False)
        return self._scale_inputs(X3, lengths), lengths
