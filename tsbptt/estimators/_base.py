"""scikit-learn estimators: LSTM, GRU and RNN regressors and classifiers.

The six classes share one base; the cell type is the only difference. They follow
scikit-learn's conventions: ``__init__`` only stores its arguments, ``fit``
validates them against ``_parameter_constraints`` and the data with
``validate_data``, fitted attributes end in ``_``, ``fit`` returns ``self``.
Inputs are sequences (see :mod:`tsbptt._inputs`): 2D windows (what every
scikit-learn tool passes), 3D arrays, or lists of sequences of different lengths.

Training is :func:`tsbptt.engine.train`; inputs (and, for regressors, targets) are
standardised with statistics of the training data only, and the model predicts in
the original units.
"""
import warnings
from numbers import Integral, Real

import numpy as np
from scipy.special import log_softmax, softmax
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.metrics import r2_score
from sklearn.utils.validation import check_is_fitted, column_or_1d

from ._inputs import to_sequences
from ..utils._validation import check_memory, refuse_bool_numbers, reject_complex
from ._targets import (check_weights, mean_scale, per_step_targets, target_ndim,
                       targets_per_step)
from ..utils._progress import ProgressReporter, stop_reason
from ._state import FittedState, load_model, save_model
from ._streaming import RecurrentState, step
from ..engine import (LOSSES, Network, Objective, TrainOptions, build_optimizer,
                     time_ordered_split, train)
from ..engine._threads import MAX_THREADS
from ..engine.network import param_shapes
from ..engine.schedules import Constant

__all__ = ["LSTMRegressor", "GRURegressor", "RNNRegressor", "LSTMClassifier",
           "GRUClassifier", "RNNClassifier", "RecurrentState"]


def _store(est, params):
    """Store __init__'s arguments unchanged, as scikit-learn requires."""
    for name, value in params.items():
        if name not in ("self", "__class__"):
            setattr(est, name, value)


def _positive_int_or_tuple(value):
    if isinstance(value, (tuple, list)):
        return len(value) > 0 and all(
            isinstance(v, Integral) and not isinstance(v, bool) and v >= 1 for v in value)
    return isinstance(value, Integral) and not isinstance(value, bool) and value >= 1


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
        "scale_inputs": ["boolean"],
        "shuffle": ["boolean"],
        "n_threads": [Interval(Integral, -MAX_THREADS, -1, closed="both"),
                      Interval(Integral, 1, MAX_THREADS, closed="both"), None],
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
        tags.non_deterministic = False
        return tags

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
        if reset:  # a cold fit: whatever fails below leaves no half-fitted model
            for name in ("network_", "n_channels_", "dtype_", "input_kind_"):
                self.__dict__.pop(name, None)
        dtype = np.dtype(self.dtype if reset else self.dtype_)
        X3, lengths, kind = to_sequences(self, X, reset=reset, dtype=dtype)
        if reset:
            self.input_kind_, self.n_channels_, self.dtype_ = kind, self.n_channels, dtype.name
        return X3, lengths

    def _fit_input_scaling(self, X3, lengths, w):
        """Per-feature mean and scale over the valid steps of the training data,
        weighted by the sample weights (a weight of 2 counts like a repeated sample)."""
        F = X3.shape[2]
        if not self.scale_inputs:
            self.input_mean_, self.input_scale_ = np.zeros(F), np.ones(F)
            return
        valid = np.arange(X3.shape[1])[None, :] < lengths[:, None]
        weights = None if w is None else np.broadcast_to(w[:, None], valid.shape)[valid]
        self.input_mean_, self.input_scale_ = mean_scale(X3[valid].astype(np.float64),
                                                          weights, name="X")

    def _scale_inputs(self, X3, lengths):
        """Standardised copy; padding past each sequence's end stays exactly 0."""
        Xs = (X3 - self.input_mean_) / self.input_scale_
        if lengths.min() < X3.shape[1]:  # only a list of sequences has padding
            Xs[np.arange(X3.shape[1])[None, :] >= lengths[:, None]] = 0
        return np.ascontiguousarray(Xs, dtype=np.dtype(self.dtype_))

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
    def params_(self):
        """The learned weights, by name, as plain NumPy arrays (the live ones)."""
        check_is_fitted(self)
        return self.network_.params

    def _new_optimizer(self):
        opts = dict(weight_decay=self.weight_decay, l1=self.l1)
        if self.optimizer == "sgd":
            opts.update(momentum=self.momentum, nesterov=self.nesterov)
        elif self.optimizer == "rmsprop":
            opts.update(momentum=self.momentum)
        return build_optimizer(self.optimizer, self.network_.params, self.learning_rate,
                               **opts)

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

    def _initialize(self, n_outputs):
        self._check_hidden_size()
        # weights, gradients and an optimizer's two moments, before allocating any
        check_memory(param_shapes(self._cell, self._network_input_size(), self.hidden_size,
                                  n_outputs, num_layers=self.num_layers,
                                  bidirectional=self.bidirectional).values(),
                     self.dtype_, 4, f"hidden_size={self.hidden_size!r} with num_layers="
                     f"{self.num_layers} and {self._network_input_size()} inputs")
        rs = check_random_state(self.random_state)
        self.network_ = self._new_network(n_outputs, rs.randint(np.iinfo(np.int32).max))
        self._rng = np.random.RandomState(rs.randint(np.iinfo(np.int32).max))
        self._optimizer = self._new_optimizer()
        self.n_iter_, self.t_ = 0, 0
        self.loss_curve_, self.history_ = [], []
        self.best_loss_ = np.inf
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
        val = None
        idx, val_idx = self._split(len(X3), incremental)
        if val_idx is not None:
            val = (X3[val_idx], Y[val_idx], lengths[val_idx],
                   None if w is None else w[val_idx])
        data = (np.ascontiguousarray(X3[idx]), Y[idx], lengths[idx],
                None if w is None else w[idx])
        progress = self._progress(val, max_iter)
        history = None
        try:
            history = train(self.network_, Objective(self._loss()), self._optimizer,
                            Constant(self.learning_rate), data,
                            self._options(max_iter, progress), validation=val,
                            rng=self._rng, start_epoch=self.n_iter_)
        finally:
            # partial_fit's single epochs have no reason to stop worth a line
            progress.close(None if not history or incremental else stop_reason(
                history[-1]["stopped"], len(history), max_iter, val is not None))
        self._record(history, len(idx), val is not None)
        return history

    def _progress(self, val, max_iter):
        """The engine's per-epoch callback of one ``_train`` call: scores the
        validation tail (``record["val_score"]``) and reports progress (see
        :mod:`tsbptt._progress`). Call its ``close()`` once training returns."""
        # a Forecaster names each of its fits (e.g. "fit 1/2: calibration model")
        label = getattr(self, "_progress_label", None) or type(self).__name__
        reporter = ProgressReporter(max_iter, self.verbose, label=label)

        def callback(record):
            if val is not None:
                record["val_score"] = self._score_prepared(*val)
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
        if validated and done and self.validation_scores_ is not None:
            self.validation_scores_.extend(h["val_score"] for h in done)
            # the epoch whose weights early stopping kept: the lowest validation loss
            kept = min(range(len(done)), key=lambda i: done[i]["val_loss"])
            self.best_validation_score_ = done[kept]["val_score"]

    def _warn_if_not_converged(self, history, max_iter):
        if history and history[-1]["stopped"] is None and len(history) == max_iter:
            message = (f"{type(self).__name__}: max_iter ({max_iter}) reached and the "
                       "optimization hasn't converged yet.")
            # a Forecaster gathers its members' notes into one warning
            if getattr(self, "_defer_convergence_warning", False):
                self._convergence_note = message
            else:
                warnings.warn(message, ConvergenceWarning)

    def _forward(self, X3, lengths):
        """Network outputs for prepared sequences: the forward-only kernels, so a
        row's outputs are the same bits alone or in any batch."""
        return self.network_.predict_outputs(X3, lengths,
                                             n_threads=self.n_threads).astype(np.float64)

    def save(self, path):
        """Write the fitted model to ``path`` as a safe ``.npz`` file (no pickle).

        See :func:`tsbptt.save_model`.
        """
        save_model(self, path)

    @classmethod
    def load(cls, path):
        """Read a model written by :meth:`save`; it predicts bitwise identically."""
        est = load_model(path)
        if not isinstance(est, cls):
            raise TypeError(f"{path!r} holds a {type(est).__name__}, not a {cls.__name__}")
        return est

    def _prepared(self, X):
        if "network_" not in self.__dict__:  # a fitted model pays one lookup
            check_is_fitted(self)
        X3, lengths = self._sequences(X, reset=False)
        return self._scale_inputs(X3, lengths), lengths


class _RegressorBase(RegressorMixin, _BaseRecurrent):
    """Regression: one output per target column (several horizons or targets)."""

    _parameter_constraints = {
        **_BaseRecurrent._parameter_constraints,
        "loss": [StrOptions({"squared_error", "absolute_error", "huber", "quantile"})],
        "huber_delta": [Interval(Real, 0, None, closed="neither")],
        "quantiles": [tuple, list],
        "scale_target": ["boolean"],
    }

    def __init__(self, hidden_size=32, *, loss="squared_error", huber_delta=1.0,
                 quantiles=(0.05, 0.5, 0.95), scale_target=True, num_layers=1,
                 bidirectional=False, dropout=0.0,
                 optimizer="adam", learning_rate=1e-3, momentum=0.9, nesterov=False,
                 batch_size=32, max_iter=200, tol=1e-4, n_iter_no_change=10,
                 early_stopping=False, validation_fraction=0.1, validation_gap=0,
                 bptt_steps=None, bptt_stride=None, clip_norm=None, clip_value=None,
                 clip_step=None, weight_decay=0.0, l1=0.0, checkpoint_every=None,
                 n_channels=1, scale_inputs=True, shuffle=True, n_threads=None,
                 dtype="float32", random_state=None, verbose=0, warm_start=False):
        _store(self, locals())

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def _loss(self):
        if self.loss == "huber":
            return LOSSES["huber"](self.huber_delta)
        if self.loss == "quantile":
            return LOSSES["quantile"](self._checked_quantiles())
        return LOSSES[self.loss]()

    def _check_saved_params(self):
        super()._check_saved_params()
        if self.loss == "quantile":
            self._checked_quantiles()

    def _checked_quantiles(self):
        q = np.asarray(self.quantiles, dtype=float).ravel()
        if q.size == 0 or np.any((q <= 0) | (q >= 1)) or np.any(np.diff(q) <= 0):
            raise ValueError("quantiles must be increasing levels strictly between 0 and "
                             f"1, got {self.quantiles!r}")
        return q

    def _n_quantiles(self):
        """Network outputs per target: one per quantile with the quantile loss."""
        return len(self.quantiles) if self.loss == "quantile" else 1

    def _network_outputs(self):
        return self.n_outputs_ * self._n_quantiles()

    def _point(self, out):
        """The point forecast among the network's outputs (scaled units): with the
        quantile loss, the quantile nearest the median, else the outputs as they are.
        Crossed quantiles are sorted first, as in :meth:`predict_quantiles`, so the
        point forecast is the one that method returns at that level."""
        K = self._n_quantiles()
        if K == 1:
            return out
        k = int(np.argmin(np.abs(np.asarray(self.quantiles) - 0.5)))
        return np.sort(out.reshape(out.shape[:-1] + (-1, K)), axis=-1)[..., k]

    def _targets(self, y, lengths, T):
        """Targets as (n, n_outputs), or (n, T, n_outputs) for per-step targets.

        Per-step targets (sequence labelling, next value at every step) are a 3D y
        for 3D X, or a list of (T_i,) or (T_i, n_outputs) arrays for a list X."""
        n = len(lengths)
        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the "
                             "target y is None")
        per_step = targets_per_step(self.input_kind_, y, lengths, T, labels=False)
        if per_step:
            return per_step_targets(y, lengths, T), True
        y = np.asarray(y)
        reject_complex(y, "y")
        try:
            y = y.astype(np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"Unknown label type: a regressor needs numeric targets, got "
                             f"y of dtype {y.dtype}") from None
        if y.ndim == 1:
            y = y[:, None]
        if y.ndim != 2 or len(y) != n:
            raise ValueError(f"y must have shape ({n},) or ({n}, n_outputs), got {y.shape}")
        if not np.isfinite(y).all():
            raise ValueError("Input y contains NaN or infinity.")
        return y, False

    def _fit_target_scaling(self, y, lengths, w):
        if self.scale_target:
            if y.ndim == 3:  # per step: the valid steps, each with its sample's weight
                valid = np.arange(y.shape[1])[None, :] < lengths[:, None]
                rows_w = None if w is None else np.broadcast_to(w[:, None],
                                                                valid.shape)[valid]
                self.target_mean_, self.target_scale_ = mean_scale(y[valid], rows_w)
            else:
                self.target_mean_, self.target_scale_ = mean_scale(y, w)
        else:
            self.target_mean_ = np.zeros(y.shape[-1])
            self.target_scale_ = np.ones(y.shape[-1])

    def _scaled_targets(self, y):
        with np.errstate(over="ignore"):
            scaled = (y - self.target_mean_) / self.target_scale_
        if not np.isfinite(scaled).all():  # y's spread beyond the float64 range
            raise ValueError(f"y spans more than the float64 range (largest magnitude "
                             f"{np.max(np.abs(y)):.3g}); divide y by a constant first")
        return scaled.astype(self.dtype)

    def _unscale(self, out):
        return out * self.target_scale_ + self.target_mean_

    def _score_prepared(self, X3, Y, lengths, w):
        pred = self._point(self._forward(X3, lengths))
        if Y.ndim == 3:  # per step: score the valid steps
            valid = np.arange(Y.shape[1])[None, :] < lengths[:, None]
            rows_w = None if w is None else np.broadcast_to(w[:, None], valid.shape)[valid]
            return r2_score(Y[valid], pred[valid], sample_weight=rows_w)
        return r2_score(Y, pred, sample_weight=w)

    def _fit_or_continue(self, X, y, sample_weight, max_iter, incremental):
        first = not (incremental or self.warm_start) or not hasattr(self, "network_")
        X3, lengths = self._sequences(X, reset=first)
        if not first and X3.shape[2] != self.network_.input_size:
            raise ValueError(f"X has {X3.shape[2]} features per step, but the fitted "
                             f"network expects {self.network_.input_size}")
        self._check_bptt(X3.shape[1])
        y, per_step = self._targets(y, lengths, X3.shape[1])
        w = check_weights(sample_weight, len(X3))
        if first:  # scaling statistics from the training part only, never the tail
            self.per_step_ = per_step
            tr, _ = self._split(len(X3), incremental)
            w_tr = None if w is None else w[tr]
            self._fit_input_scaling(X3[tr], lengths[tr], w_tr)
            self._fit_target_scaling(y[tr], lengths[tr], w_tr)
            if self.loss == "quantile":
                self._checked_quantiles()
            self.n_outputs_ = y.shape[-1]
            self._initialize(self._network_outputs())
        elif per_step != self.per_step_ or y.shape[-1] != self.n_outputs_:
            raise ValueError(f"y has {y.shape[-1]} outputs{' per step' * per_step}, the "
                             f"model was fitted with {self.n_outputs_}"
                             f"{' per step' * self.per_step_}")
        history = self._train(self._scale_inputs(X3, lengths), self._scaled_targets(y),
                              lengths, w, max_iter, incremental)
        return history

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Train on sequences X and targets y.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps * n_channels), or of shape
            (n_samples, n_timesteps, n_features), or list of arrays (T_i, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self
        """
        history = self._fit_or_continue(X, y, sample_weight, self.max_iter, False)
        self._warn_if_not_converged(history, self.max_iter)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """One epoch over the given samples (the first call also initialises).

        The input and target scaling is fitted on the first call's samples and kept
        afterwards: make the first batch representative, or set
        ``scale_inputs=False, scale_target=False`` and scale the data yourself.
        """
        self._fit_or_continue(X, y, sample_weight, 1, True)
        return self

    def predict(self, X):
        """Predictions in the units of y.

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_outputs); for per-step
        targets (n_samples, n_timesteps[, n_outputs]) (0 past a sequence's end),
        or, for a list X, a list of (T_i,[ n_outputs]) arrays.
        """
        X3, lengths = self._prepared(X)
        return self._finish(X, self._unscale(self._point(self._forward(X3, lengths))),
                            lengths)

    def predict_quantiles(self, X):
        """Every quantile of a model fitted with ``loss='quantile'``, in y's units.

        Quantiles that cross (a lower level above a higher one, which the pinball
        loss does not forbid) are put back in order by sorting each row, which can
        only bring them closer to the true quantiles (Chernozhukov et al., 2010).

        Returns
        -------
        ndarray of shape (n_samples, n_quantiles), or (n_samples, n_outputs,
        n_quantiles) for several targets; per-step models add the time axis after
        the samples (a list of per-sequence arrays for a list X).
        """
        check_is_fitted(self)
        if self.loss != "quantile":
            raise ValueError(f"predict_quantiles needs loss='quantile', this model was "
                             f"fitted with loss={self.loss!r}")
        X3, lengths = self._prepared(X)
        out = self._forward(X3, lengths)
        K = self._n_quantiles()
        q = out.reshape(out.shape[:-1] + (self.n_outputs_, K))
        q = np.sort(q * self.target_scale_[:, None] + self.target_mean_[:, None], axis=-1)
        return self._finish(X, q if self.n_outputs_ > 1 else q[..., 0, :], lengths,
                            squeeze=False)

    def predict_sequence(self, X, initial_states=None):
        """Run per-step models on from given states: the stateful forecast step.

        Unlike :meth:`predict`, the sequences may start from the final states of an
        earlier call, so a long series can be fed in pieces (or one step at a
        time, feeding forecasts back) without re-reading it. Rows are not padded
        to a fixed batch, so a row's result can differ in the last bits with the
        batch it is in.

        Parameters
        ----------
        X : ndarray of shape (n_sequences, n_timesteps, n_features)
        initial_states : list or None, default=None
            The ``states`` returned by a previous call on the same rows (None: zeros).

        Returns
        -------
        pred : ndarray of shape (n_sequences, n_timesteps[, n_outputs])
            Point predictions at every step, in y's units.
        states : list
            Every layer's state after the last step, to pass on.
        """
        check_is_fitted(self)
        if not getattr(self, "per_step_", False) or self.bidirectional:
            raise ValueError("predict_sequence needs a unidirectional model fitted with "
                             "per-step targets (y of shape (n_samples, n_timesteps))")
        X = np.asarray(X)
        if X.ndim != 3:
            raise ValueError(f"X must be 3D (n_sequences, n_timesteps, n_features), got "
                             f"shape {X.shape}")
        X3, lengths = self._prepared(X)
        out, states, _ = self.network_.forward(X3, lengths, initial_states,
                                               n_threads=self.n_threads)
        pred = self._unscale(self._point(out.astype(np.float64)))
        return (pred[..., 0] if self.n_outputs_ == 1 else pred), states

    def predict_step(self, x_t, state=None):
        """Consume one observation per sequence and predict: the streaming step.

        The output at this step, bitwise as :meth:`predict_sequence` computes it
        over the whole series; for a model fitted on windows, after a window's last
        step, :meth:`predict`'s value for it (to rounding while predict pads).

        Parameters
        ----------
        x_t : array-like of shape (n_features,) or (n_sequences, n_features)
            One observation (a scalar for one feature), or one per stream;
            ``n_features`` is ``n_channels`` for a model fitted on 2D windows.
        state : RecurrentState or None, default=None
            What the previous call returned for the same streams (None: zeros).

        Returns
        -------
        y_hat : float or ndarray of shape (n_outputs,), (n_sequences,) or
            (n_sequences, n_outputs)
            In y's units (the point forecast for the quantile loss).
        state : RecurrentState
            The state after this step (new arrays), for the next call.
        """
        out, state, single = step(self, x_t, state, "predict_step")
        pred = self._unscale(self._point(out))
        if single:
            return (pred[0, 0] if self.n_outputs_ == 1 else pred[0]), state
        return (pred[:, 0] if self.n_outputs_ == 1 else pred), state

    def _finish(self, X, pred, lengths, squeeze=True):
        """Zero past each sequence's end, drop a single output axis, split a list."""
        per_step = getattr(self, "per_step_", False)
        if per_step:
            pred[np.arange(pred.shape[1])[None, :] >= lengths[:, None]] = 0
        if squeeze and self.n_outputs_ == 1:
            pred = pred[..., 0]
        if pred.ndim >= 2 and per_step and isinstance(X, (list, tuple)):
            return [p[:n] for p, n in zip(pred, lengths)]
        return pred

    def score(self, X, y, sample_weight=None):
        """R^2 of the predictions (over every valid step for per-step targets)."""
        if not getattr(self, "per_step_", False):
            return super().score(X, y, sample_weight)
        X3, lengths = self._prepared(X)
        Y, _ = self._targets(y, lengths, X3.shape[1])
        w = check_weights(sample_weight, len(X3))
        return self._score_prepared(X3, self._scaled_targets(Y), lengths, w)


class _ClassifierBase(ClassifierMixin, _BaseRecurrent):
    """Classification of whole sequences (or of every step) with a softmax."""

    _parameter_constraints = {
        **_BaseRecurrent._parameter_constraints,
        "loss": [StrOptions({"cross_entropy"})],
    }

    def __init__(self, hidden_size=32, *, loss="cross_entropy", num_layers=1,
                 bidirectional=False, dropout=0.0, optimizer="adam", learning_rate=1e-3,
                 momentum=0.9, nesterov=False, batch_size=32, max_iter=200, tol=1e-4,
                 n_iter_no_change=10, early_stopping=False, validation_fraction=0.1,
                 validation_gap=0, bptt_steps=None, bptt_stride=None, clip_norm=None,
                 clip_value=None, clip_step=None, weight_decay=0.0, l1=0.0,
                 checkpoint_every=None, n_channels=1, scale_inputs=True, shuffle=True,
                 n_threads=None, dtype="float32", random_state=None, verbose=0,
                 warm_start=False):
        _store(self, locals())

    def _loss(self):
        return LOSSES[self.loss]()

    def _labels(self, y, n, classes=None, first=True):
        y = column_or_1d(y, warn=True)
        if len(y) != n:
            raise ValueError(f"y has {len(y)} labels for {n} samples")
        check_classification_targets(y)
        if first:
            self._encoder = LabelEncoder().fit(y if classes is None else classes)
            self.classes_ = self._encoder.classes_
            if len(self.classes_) < 2:
                raise ValueError(f"{type(self).__name__} needs samples of at least 2 "
                                 f"classes in the data, but the data contain only one "
                                 f"class: {self.classes_[0]!r}")
        elif classes is not None and not np.array_equal(np.unique(classes), self.classes_):
            raise ValueError(f"classes={np.unique(classes)!r} is not the same as "
                             f"classes_={self.classes_!r} from the first call")
        unknown = np.setdiff1d(np.unique(y), self.classes_)
        if unknown.size:
            raise ValueError(f"y contains labels not in classes: {unknown[:5]}")
        return self._encoder.transform(y).astype(np.intp)

    def _step_labels(self, y, lengths, T, classes, first):
        """Per-step labels (n, T) as class indices (0 past a sequence's end)."""
        n = len(lengths)
        seqs = list(y) if isinstance(y, (list, tuple)) else [np.asarray(y)[i]
                                                             for i in range(n)]
        if len(seqs) != n:
            raise ValueError(f"y has {len(seqs)} label sequences for {n} input sequences")
        for i, yi in enumerate(seqs):
            if np.ndim(yi) != 1 or len(yi) != lengths[i]:
                raise ValueError(f"the labels of sequence {i} have shape {np.shape(yi)}; "
                                 f"expected ({lengths[i]},)")
        flat = np.concatenate([np.asarray(yi)[:n_i] for yi, n_i in zip(seqs, lengths)])
        codes = self._labels(flat, len(flat), classes, first)
        out = np.zeros((n, T), dtype=np.intp)
        out[np.arange(T)[None, :] < lengths[:, None]] = codes
        return out


    def _score_prepared(self, X3, Y, lengths, w):
        pred = np.argmax(self._forward(X3, lengths), axis=-1)
        if Y.ndim == 2:  # per step: accuracy over the valid steps
            valid = np.arange(Y.shape[1])[None, :] < lengths[:, None]
            rows_w = None if w is None else np.broadcast_to(w[:, None], valid.shape)[valid]
            return float(np.average(pred[valid] == Y[valid], weights=rows_w))
        return float(np.average(pred == Y, weights=w))

    def _fit_or_continue(self, X, y, sample_weight, max_iter, incremental, classes=None):
        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the "
                             "target y is None")
        first = not (incremental or self.warm_start) or not hasattr(self, "network_")
        if incremental and first and classes is None:
            raise ValueError("classes must be passed on the first call to partial_fit")
        X3, lengths = self._sequences(X, reset=first)
        self._check_bptt(X3.shape[1])
        per_step = targets_per_step(self.input_kind_, y, lengths, X3.shape[1], labels=True)
        if first:
            self.per_step_ = per_step
        elif per_step != self.per_step_:
            raise ValueError("the model was fitted with "
                             f"{'per-step' if self.per_step_ else 'per-sequence'} labels")
        labels = (self._step_labels(y, lengths, X3.shape[1], classes, first) if per_step
                  else self._labels(y, len(X3), classes, first))
        w = check_weights(sample_weight, len(X3))
        if first:  # scaling statistics from the training part only, never the tail
            tr, _ = self._split(len(X3), incremental)
            self._fit_input_scaling(X3[tr], lengths[tr], None if w is None else w[tr])
            self.n_outputs_ = 1
            self._initialize(len(self.classes_))
        return self._train(self._scale_inputs(X3, lengths), labels, lengths, w, max_iter,
                           incremental)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Train on sequences X and class labels y (any hashable labels).

        Parameters
        ----------
        X : see :meth:`LSTMRegressor.fit`
        y : array-like of shape (n_samples,)
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self
        """
        if target_ndim(y) == 1 and type_of_target(y) == "continuous":
            raise ValueError("Unknown label type: continuous. Maybe you are trying to "
                             "fit a classifier, which expects discrete classes on a "
                             "regression target with continuous values.")
        history = self._fit_or_continue(X, y, sample_weight, self.max_iter, False)
        self._warn_if_not_converged(history, self.max_iter)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """One epoch over the given samples; pass ``classes`` on the first call.

        The input scaling is fitted on the first call's samples and kept afterwards.
        """
        self._fit_or_continue(X, y, sample_weight, 1, True, classes)
        return self

    def _per_sequence(self, X, out, lengths):
        """Per-step outputs as a list of (T_i, ...) arrays for a list X."""
        if getattr(self, "per_step_", False) and isinstance(X, (list, tuple)):
            return [o[:n] for o, n in zip(out, lengths)]
        return out

    def predict_log_proba(self, X):
        """Log-probabilities of the classes, shape (n_samples, n_classes), or per step
        (n_samples, n_timesteps, n_classes) (a list of (T_i, n_classes) for a list X)."""
        X3, lengths = self._prepared(X)
        return self._per_sequence(X, log_softmax(self._forward(X3, lengths), axis=-1),
                                  lengths)

    def predict_proba(self, X):
        """Probabilities of the classes; shapes as :meth:`predict_log_proba`."""
        X3, lengths = self._prepared(X)
        return self._per_sequence(X, softmax(self._forward(X3, lengths), axis=-1), lengths)

    def predict_proba_step(self, x_t, state=None):
        """Class probabilities after one more observation per sequence.

        See :meth:`LSTMRegressor.predict_step` for ``x_t`` and ``state``.

        Returns
        -------
        proba : ndarray of shape (n_classes,) or (n_sequences, n_classes)
        state : RecurrentState
        """
        out, state, single = step(self, x_t, state, "predict_proba_step")
        proba = softmax(out, axis=-1)
        return (proba[0] if single else proba), state

    def predict(self, X):
        """The most probable class of each sequence (n_samples,), or of each step
        (n_samples, n_timesteps) (a list of (T_i,) arrays for a list X)."""
        X3, lengths = self._prepared(X)
        pred = self.classes_[np.argmax(self._forward(X3, lengths), axis=-1)]
        return self._per_sequence(X, pred, lengths)

    def score(self, X, y, sample_weight=None):
        """Accuracy (over every valid step for per-step labels)."""
        if not getattr(self, "per_step_", False):
            return super().score(X, y, sample_weight)
        X3, lengths = self._prepared(X)
        labels = self._step_labels(y, lengths, X3.shape[1], None, False)
        return self._score_prepared(X3, labels, lengths,
                                    check_weights(sample_weight, len(X3)))


_DOC = """{kind} with {cell} cells, trained by backpropagation through time.

    See :class:`tsbptt.estimators` for the input forms. Parameters follow
    ``sklearn.neural_network.MLPRegressor`` where they mean the same thing;
    ``bptt_steps``/``bptt_stride`` are k2/k1 of truncated BPTT (None: full BPTT),
    ``clip_norm``/``clip_value``/``clip_step`` clip the gradient by global norm, by
    value and, per step, dL/dh_t; ``checkpoint_every`` trades compute for memory;
    ``n_channels`` splits 2D rows into (steps, channels), time-major; ``dtype`` is
    the computation's precision.
    """


def _make(name, base, cell, kind):
    cls = type(name, (base,), {"_cell": cell, "__doc__": _DOC.format(kind=kind,
                                                                     cell=cell.upper()),
                               "__module__": __name__})
    return cls


LSTMRegressor = _make("LSTMRegressor", _RegressorBase, "lstm", "Regressor")
GRURegressor = _make("GRURegressor", _RegressorBase, "gru", "Regressor")
RNNRegressor = _make("RNNRegressor", _RegressorBase, "rnn", "Regressor")
LSTMClassifier = _make("LSTMClassifier", _ClassifierBase, "lstm", "Classifier")
GRUClassifier = _make("GRUClassifier", _ClassifierBase, "gru", "Classifier")
RNNClassifier = _make("RNNClassifier", _ClassifierBase, "rnn", "Classifier")
