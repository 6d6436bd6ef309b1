"""The regressors: LSTMRegressor, GRURegressor and RNNRegressor.

One output per target column (several horizons or several targets), or one per
quantile with ``loss='quantile'``; targets given at every step make a per-step
(sequence-to-sequence) model. Shared behaviour is in :mod:`._base`; the three
classes differ only in their cell.
"""
from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp
from numbers import Real
from numpy.typing import ArrayLike
from sklearn.base import RegressorMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ..engine import LOSSES
from ..utils._validation import reject_complex, reject_masked
from ._base import Sequences, _BaseRecurrent
from ._docs import fill_doc
from ._streaming import (RecurrentState, RecurrentStream, check_made_by, mark_made_by,
                         step_from)
from ._targets import check_weights, mean_scale, per_step_targets, targets_per_step

if TYPE_CHECKING:  # typing.Self is Python >= 3.11
    from typing import Self

__all__ = ["GRURegressor", "LSTMRegressor", "RNNRegressor"]


def r2(y, pred, sample_weight=None):
    """``sklearn.metrics.r2_score(y, pred, sample_weight=sample_weight)`` (the
    outputs' R^2 averaged, 1 or 0 for a constant output), without its input
    checks: early stopping scores the validation tail every epoch.

    Parameters
    ----------
    y, pred : ndarray of shape (n_samples,) or (n_samples, n_outputs)
    sample_weight : ndarray of shape (n_samples,) or None

    Returns
    -------
    float
    """
    if len(y) < 2:  # as r2_score: undefined
        return float("nan")
    y = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
    pred = np.asarray(pred, dtype=np.float64).reshape(y.shape)
    w = np.ones((len(y), 1)) if sample_weight is None else \
        np.asarray(sample_weight, dtype=np.float64).reshape(-1, 1)
    num = (w * (y - pred) ** 2).sum(axis=0)
    den = (w * (y - np.average(y, axis=0, weights=w[:, 0])) ** 2).sum(axis=0)
    safe = den != 0
    scores = np.where(num == 0, 1.0, 0.0)  # a constant output: exact or not
    scores[safe] = 1 - num[safe] / den[safe]
    return float(np.mean(scores))


def _outputs(n, per_step):
    """'1 output per sequence', '3 outputs per time step'."""
    return f"{n} output{'s' * (n != 1)} per {'time step' if per_step else 'sequence'}"


class _RegressorBase(RegressorMixin, _BaseRecurrent):
    """Regression: one output per target column (several horizons or targets)."""

    _parameter_constraints = {
        **_BaseRecurrent._parameter_constraints,
        "loss": [StrOptions({"squared_error", "absolute_error", "huber", "quantile"})],
        "huber_delta": [Interval(Real, 0, None, closed="neither")],
        "quantiles": [tuple, list],
        "scale_target": ["boolean"],
    }

    def __init__(self, hidden_size: int | tuple[int, ...] = 32, *,
                 loss: str = "squared_error", huber_delta: float = 1.0,
                 quantiles: tuple[float, ...] = (0.05, 0.5, 0.95),
                 scale_target: bool = True, num_layers: int = 1,
                 bidirectional: bool = False, dropout: float = 0.0,
                 optimizer: str = "adam", learning_rate: float = 1e-3,
                 momentum: float = 0.9, nesterov: bool = False, batch_size: int = 32,
                 max_iter: int = 200, tol: float = 1e-4, n_iter_no_change: int = 10,
                 early_stopping: bool = False, validation_fraction: float = 0.1,
                 validation_gap: int = 0, bptt_steps: int | None = None,
                 bptt_stride: int | None = None, clip_norm: float | None = None,
                 clip_value: float | None = None, clip_step: float | None = None,
                 weight_decay: float = 0.0, l1: float = 0.0,
                 checkpoint_every: int | None = None, n_channels: int = 1,
                 per_step: str | bool = "auto",
                 scale_inputs: bool = True, shuffle: bool = True,
                 n_threads: int | None = None, dtype: str = "float32",
                 random_state: int | np.random.RandomState | None = None,
                 verbose: int = 0, warm_start: bool = False) -> None:
        self.hidden_size = hidden_size
        self.loss = loss
        self.huber_delta = huber_delta
        self.quantiles = quantiles
        self.scale_target = scale_target
        self.num_layers = num_layers
        self.bidirectional = bidirectional
        self.dropout = dropout
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.nesterov = nesterov
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.validation_gap = validation_gap
        self.bptt_steps = bptt_steps
        self.bptt_stride = bptt_stride
        self.clip_norm = clip_norm
        self.clip_value = clip_value
        self.clip_step = clip_step
        self.weight_decay = weight_decay
        self.l1 = l1
        self.checkpoint_every = checkpoint_every
        self.n_channels = n_channels
        self.per_step = per_step
        self.scale_inputs = scale_inputs
        self.shuffle = shuffle
        self.n_threads = n_threads
        self.dtype = dtype
        self.random_state = random_state
        self.verbose = verbose
        self.warm_start = warm_start

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

    def __tsbptt_capabilities__(self):
        return replace(super().__tsbptt_capabilities__(), quantile_loss=True,
                       stateful=True)

    def _check_saved_params(self):
        super()._check_saved_params()
        if self.loss == "quantile":
            self._checked_quantiles()

    def _checked_quantiles(self):
        q = np.asarray(self.quantiles, dtype=float).ravel()
        # ~(0 < q < 1), not (q <= 0) | (q >= 1): a NaN level must fail the test too
        if q.size == 0 or np.any(~((q > 0) & (q < 1))) or np.any(~(np.diff(q) > 0)):
            raise ValueError("quantiles must be increasing levels strictly between 0 and "
                             f"1, got {self.quantiles!r}")
        return q

    def _n_quantiles(self):
        """Network outputs per target: one per quantile with the quantile loss."""
        return (len(self._fitted_param("quantiles"))
                if self._fitted_param("loss") == "quantile" else 1)

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
        k = int(np.argmin(np.abs(np.asarray(self._fitted_param("quantiles")) - 0.5)))
        return np.sort(out.reshape(out.shape[:-1] + (-1, K)), axis=-1)[..., k]

    def _targets(self, y, lengths, T, kind, per_step=None):
        """Targets as (n, n_outputs), or (n, T, n_outputs) for per-step targets
        (``kind``: the form of this call's X; ``per_step``: how to read them; None:
        as the parameter says).

        Per-step targets (sequence labelling, next value at every step) are a 3D y
        for 3D X, or a list of (T_i,) or (T_i, n_outputs) arrays for a list X."""
        n = len(lengths)
        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the "
                             "target y is None")
        if sp.issparse(y):  # np.asarray made it an object array: "not numeric"
            raise TypeError("Sparse data was passed for y, but dense data is required. "
                            "Use '.toarray()' to convert to a dense numpy array.")
        per_step = targets_per_step(kind, y, lengths, T, labels=False,
                                    per_step=self.per_step if per_step is None
                                    else per_step)
        if per_step:
            return per_step_targets(y, lengths, T), True
        reject_masked(y, "y")
        y = np.asarray(y)
        given = y.shape  # (as given, before a 1D y becomes a column)
        reject_complex(y, "y")
        try:
            y = y.astype(np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"Unknown label type: a regressor needs numeric targets, got "
                             f"y of dtype {y.dtype}") from None
        if y.ndim == 1:
            y = y[:, None]
        if y.ndim != 2 or len(y) != n:
            raise ValueError(f"y must have shape ({n},) or ({n}, n_outputs), got {given}")
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
        return self._score_outputs(self._forward(X3, lengths), Y, lengths, w)

    def _score_outputs(self, out, Y, lengths, w):
        """R^2 of the network's outputs ``out`` on prepared (scaled) targets."""
        pred = self._point(np.asarray(out, dtype=np.float64))
        if Y.ndim == 3:  # per step: score the valid steps
            valid = np.arange(Y.shape[1])[None, :] < lengths[:, None]
            rows_w = None if w is None else np.broadcast_to(w[:, None], valid.shape)[valid]
            return r2(Y[valid], pred[valid], rows_w)
        return r2(Y, pred, w)

    def _fit_steps(self, first, X, y, sample_weight, max_iter, incremental):
        X3, lengths, kind = self._sequences(X, reset=first)
        if not first and X3.shape[2] != self.network_.input_size:
            raise ValueError(f"X has {X3.shape[2]} features per step, but the fitted "
                             f"network expects {self.network_.input_size}")
        self._check_bptt(X3.shape[1])
        y, per_step = self._targets(y, lengths, X3.shape[1], kind)
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
            raise ValueError(f"y has {_outputs(y.shape[-1], per_step)}, the model was "
                             f"fitted with {_outputs(self.n_outputs_, self.per_step_)}")
        history = self._train(self._scale_inputs(X3, lengths), self._scaled_targets(y),
                              lengths, w, max_iter, incremental)
        return history

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: Sequences, y: ArrayLike, sample_weight: ArrayLike | None = None
            ) -> Self:
        """Train on sequences X and targets y.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps * n_channels), or of shape
            (n_samples, n_timesteps, n_features), or list of arrays (T_i, n_features)
            The training sequences: 2D windows (split into ``n_channels`` features
            per step), a 3D array, or sequences of different lengths.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            One target row per sequence; or per step: (n_samples, n_timesteps,
            n_outputs) for 3D X, a list of (T_i,) or (T_i, n_outputs) arrays for a
            list X. With 3D X a 2D y as wide as X has time steps (more than one)
            is one target per step, (n_samples, n_timesteps), with a warning:
            n_outputs equal to n_timesteps cannot be told from it, so say which
            with ``per_step``.
        sample_weight : array-like of shape (n_samples,), default=None
            A weight per sequence (a weight of 2 counts like a repeated sample).

        Returns
        -------
        self : object
            The fitted estimator.
        """
        history = self._fit_or_continue(X, y, sample_weight, self.max_iter, False)
        self._warn_if_not_converged(history, self.max_iter)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X: Sequences, y: ArrayLike,
                    sample_weight: ArrayLike | None = None) -> Self:
        """One epoch over the given samples (the first call also initialises).

        The input and target scaling is fitted on the first call's samples and kept
        afterwards: make the first batch representative, or set
        ``scale_inputs=False, scale_target=False`` and scale the data yourself.

        Parameters
        ----------
        X : array-like or list of arrays
            Sequences, as for :meth:`fit`.
        y : array-like
            Targets, as for :meth:`fit`.
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : object
        """
        self._fit_or_continue(X, y, sample_weight, 1, True)
        return self

    def predict(self, X: Sequences) -> np.ndarray | list[np.ndarray]:
        """Predictions in the units of y.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps * n_channels), or of shape
            (n_samples, n_timesteps, n_features), or list of arrays (T_i, n_features)
            The sequences, in the form they had at ``fit``.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_outputs); for per-step
        targets (n_samples, n_timesteps[, n_outputs]) (0 past a sequence's end),
        or, for a list X, a list of (T_i,[ n_outputs]) arrays. One target column
        gives (n_samples,) whether y was 1D or (n_samples, 1), as scikit-learn's
        MLPRegressor does.
        """
        X3, lengths = self._prepared(X)
        return self._finish(X, self._unscale(self._point(self._forward(X3, lengths))),
                            lengths)

    def predict_quantiles(self, X: Sequences) -> np.ndarray | list[np.ndarray]:
        """Every quantile of a model fitted with ``loss='quantile'``, in y's units.

        Quantiles that cross (a lower level above a higher one, which the pinball
        loss does not forbid) are put back in order by sorting each row, which can
        only bring them closer to the true quantiles (Chernozhukov et al., 2010).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps * n_channels), or of shape
            (n_samples, n_timesteps, n_features), or list of arrays (T_i, n_features)
            The sequences, in the form they had at ``fit``.

        Returns
        -------
        quantiles : ndarray of shape (n_samples, n_quantiles), or (n_samples, n_outputs,
        n_quantiles) for several targets; per-step models add the time axis after
        the samples (a list of per-sequence arrays for a list X).
        """
        check_is_fitted(self)
        if self._fitted_param("loss") != "quantile":
            raise ValueError(f"predict_quantiles needs loss='quantile', this model was "
                             f"fitted with loss={self._fitted_param('loss')!r}")
        X3, lengths = self._prepared(X)
        out = self._forward(X3, lengths)
        K = self._n_quantiles()
        q = out.reshape(out.shape[:-1] + (self.n_outputs_, K))
        q = np.sort(q * self.target_scale_[:, None] + self.target_mean_[:, None], axis=-1)
        return self._finish(X, q if self.n_outputs_ > 1 else q[..., 0, :], lengths,
                            squeeze=False)

    def predict_sequence(self, X: ArrayLike, initial_states: list | None = None
                         ) -> tuple[np.ndarray, list]:
        """Run per-step models on from given states: the stateful forecast step.

        Unlike :meth:`predict`, the sequences may start from the final states of an
        earlier call, so a long series can be fed in pieces (or one step at a
        time, feeding forecasts back) without re-reading it: the pieces give
        bitwise one call's results, and a row's results do not depend on the
        other rows of its batch. No training caches are kept: a long sequence
        costs its outputs and the states.

        Parameters
        ----------
        X : ndarray of shape (n_sequences, n_timesteps, n_features)
            The next steps of each sequence.
        initial_states : list, RecurrentState or None, default=None
            The ``states`` returned by a previous call on the same rows, or a
            stream's :class:`RecurrentState` (None: zeros).

        Returns
        -------
        pred : ndarray of shape (n_sequences, n_timesteps[, n_outputs])
            Point predictions at every step, in y's units.
        states : list
            Every layer's state after the last step, to pass on.
        """
        check_is_fitted(self)
        if not getattr(self, "per_step_", False) or self.network_.bidirectional:
            why = ("was fitted with bidirectional=True" if self.network_.bidirectional
                   else "was fitted on one target per sequence")
            raise ValueError(f"predict_sequence needs a unidirectional model fitted with "
                             f"per-step targets (y of shape (n_samples, n_timesteps)); "
                             f"this one {why}")
        X = np.asarray(X)
        if X.ndim != 3:
            raise ValueError(f"X must be 3D (n_sequences, n_timesteps, n_features), got "
                             f"shape {X.shape}")
        X3, lengths = self._prepared(X)
        if isinstance(initial_states, RecurrentState):
            initial_states = initial_states.to_states()
        if isinstance(initial_states, list) and initial_states and \
                isinstance(initial_states[0], tuple) and initial_states[0]:
            check_made_by((initial_states[0][0],), self, "initial_states")  # first h
        out, states = self.network_.predict_with_states(X3, lengths, initial_states,
                                                        n_threads=self.n_threads)
        mark_made_by((states[0][0],), self.network_)  # by the first layer's h
        pred = self._unscale(self._point(out.astype(np.float64)))
        return (pred[..., 0] if self.n_outputs_ == 1 else pred), states

    def predict_step(self, x_t: ArrayLike, state: RecurrentState | None = None
                     ) -> tuple[float | np.ndarray, RecurrentState]:
        """Consume one observation per sequence and predict: the streaming step.

        The output at this step, bitwise as :meth:`predict_sequence` computes it
        over the whole series; for a model fitted on windows, after a window's last
        step, :meth:`predict`'s value for it. One compiled call (see
        :meth:`stream`, which also keeps the state for you and skips checking it
        at every step).

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
        return step_from(self, x_t, state, "predict_step")

    def stream(self, state: RecurrentState | None = None, n_streams: int | None = None
               ) -> RecurrentStream:
        """A stream over this model: one compiled call per new observation.

        ``stream.step(x_t)`` consumes one observation per stream and returns the
        forecast after it, as :meth:`predict_step` does, but the stream keeps the
        state itself (``stream.state`` reads it) and checks only x_t per step: the
        cheapest way to follow a live series.

        Parameters
        ----------
        state : RecurrentState or None, default=None
            Where the streams start: None for the start of a series, or a state from
            :meth:`predict_step`, from another stream, or
            ``RecurrentState.from_states`` of :meth:`predict_sequence`'s states.
        n_streams : int or None, default=None
            Streams read side by side (one row of x_t each); None: the state's, or
            1.

        Returns
        -------
        RecurrentStream

        Examples
        --------
        >>> import numpy as np
        >>> from tsbptt import GRURegressor
        >>> X = np.sin(np.arange(400) / 5).reshape(20, 20)
        >>> model = GRURegressor(8, max_iter=5, random_state=0).fit(X[:, :-1], X[:, -1])
        >>> stream = model.stream()
        >>> for value in X[0, :-1]:
        ...     y_hat = stream.step(value)
        >>> bool(y_hat == model.predict(X[:1, :-1])[0])
        True
        """
        return RecurrentStream(self, state, n_streams)

    def _stream_outputs(self):
        """How the compiled stepper turns network outputs into forecasts."""
        K = self._n_quantiles()
        k = int(np.argmin(np.abs(np.asarray(self._fitted_param("quantiles")) - 0.5))) \
            if K > 1 else 0
        return {"target_mean": self.target_mean_, "target_scale": self.target_scale_,
                "n_quantiles": K, "point_index": k}

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

    def score(self, X: Sequences, y: ArrayLike, sample_weight: ArrayLike | None = None
              ) -> float:
        """R^2 of the predictions (over every valid step for per-step targets).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps * n_channels), or of shape
            (n_samples, n_timesteps, n_features), or list of arrays (T_i, n_features)
            The sequences, in the form they had at ``fit``.
        y : array-like
            The true targets, as for :meth:`fit`.
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        score : float
        """
        if not getattr(self, "per_step_", False):
            return super().score(X, y, sample_weight)
        X3, lengths, kind = self._sequences(X, reset=False)
        # y read as the model was fitted (per step), not as the parameter says now,
        # and by the form of this X (a list where it was fitted on a 3D array)
        Y, _ = self._targets(y, lengths, X3.shape[1], kind, per_step=True)
        w = check_weights(sample_weight, len(X3))
        return self._score_prepared(self._scale_inputs(X3, lengths),
                                    self._scaled_targets(Y), lengths, w)


_REGRESSOR_PARAMETERS = """\
hidden_size : int or tuple of int, default=32
    Units of each recurrent layer's state h; a tuple gives each layer its own
    size (and the number of layers).
loss : {'squared_error', 'absolute_error', 'huber', 'quantile'}, \
default='squared_error'
    The training loss, on the standardised targets. 'quantile' trains one
    output per level in ``quantiles`` with the pinball loss; see
    :meth:`predict_quantiles`.
huber_delta : float, default=1.0
    Where the Huber loss turns from squared to absolute (standardised units).
quantiles : tuple of float, default=(0.05, 0.5, 0.95)
    Increasing levels in (0, 1) for ``loss='quantile'``; :meth:`predict`
    returns the level nearest the median.
scale_target : bool, default=True
    Standardise every target column with the training data's mean and
    standard deviation; predictions are returned in y's units either way."""

_REGRESSOR_ATTRIBUTES = """\
n_outputs_ : int
    Number of target columns.
target_mean_, target_scale_ : ndarray of shape (n_outputs_,)
    The target standardisation (0 and 1 with ``scale_target=False``)."""


_regressor_doc = fill_doc(regressor_parameters=_REGRESSOR_PARAMETERS,
                          regressor_attributes=_REGRESSOR_ATTRIBUTES)


@_regressor_doc
class LSTMRegressor(_RegressorBase):
    """Regressor with LSTM cells, trained by backpropagation through time.

    Long short-term memory (Hochreiter & Schmidhuber, 1997), gates i, f, g, o as
    in PyTorch's ``nn.LSTM``: the cell state c carries information over long
    spans, at four gate products per step. Inputs are sequences: 2D windows
    (what every scikit-learn tool passes), 3D arrays, or lists of sequences of
    different lengths (see :mod:`tsbptt.estimators`). Inputs and targets are
    standardised with statistics of the training data; predictions are in y's
    units.

    Parameters
    ----------
    {regressor_parameters}
    {common_parameters}

    Attributes
    ----------
    {regressor_attributes}
    {common_attributes}

    See Also
    --------
    GRURegressor : the same with GRU cells (three gates, no cell state).
    RNNRegressor : the same with tanh cells (cheapest, short memory).
    tsbptt.Forecaster : forecasts of pandas series with these models.

    Notes
    -----
    {name_table}

    Examples
    --------
    >>> import numpy as np
    >>> from tsbptt import LSTMRegressor
    >>> rng = np.random.RandomState(0)
    >>> X = rng.standard_normal((64, 10))          # 64 windows of 10 steps
    >>> y = X[:, -3:].sum(axis=1)                   # the sum of the last 3 steps
    >>> model = LSTMRegressor(8, max_iter=30, random_state=0).fit(X, y)
    >>> model.predict(X[:2]).shape
    (2,)
    >>> model.loss_curve_[-1] < model.loss_curve_[0]
    True
    """

    _cell = "lstm"


@_regressor_doc
class GRURegressor(_RegressorBase):
    """Regressor with GRU cells, trained by backpropagation through time.

    Gated recurrent unit (Cho et al., 2014) with the reset gate applied after the
    recurrent product, as in PyTorch's ``nn.GRU`` and cuDNN: three gate products
    per step and no separate cell state, so a little cheaper than an LSTM.
    Inputs are sequences: 2D windows, 3D arrays, or lists of sequences of
    different lengths (see :mod:`tsbptt.estimators`). Inputs and targets are
    standardised with statistics of the training data; predictions are in y's
    units.

    Parameters
    ----------
    {regressor_parameters}
    {common_parameters}

    Attributes
    ----------
    {regressor_attributes}
    {common_attributes}

    See Also
    --------
    LSTMRegressor : the same with LSTM cells.
    RNNRegressor : the same with tanh cells.

    Notes
    -----
    {name_table}

    Examples
    --------
    >>> import numpy as np
    >>> from tsbptt import GRURegressor
    >>> rng = np.random.RandomState(0)
    >>> X = rng.standard_normal((64, 10, 2))        # 64 sequences, 10 steps, 2 features
    >>> Y = np.cumsum(X[..., :1], axis=1)           # a running sum: a target per step
    >>> model = GRURegressor(8, max_iter=20, random_state=0).fit(X, Y)
    >>> model.predict(X[:3]).shape                  # per-step predictions
    (3, 10)
    """

    _cell = "gru"


@_regressor_doc
class RNNRegressor(_RegressorBase):
    """Regressor with simple tanh (Elman) cells, trained by backpropagation through time.

    ``h_t = tanh(W [x_t, h_{t-1}, 1])``, as PyTorch's ``nn.RNN``: one product per
    step, the cheapest cell, with a short memory (gradients through many steps
    vanish or explode; see ``clip_step`` and ``bptt_steps``). Inputs are
    sequences: 2D windows, 3D arrays, or lists of sequences of different lengths
    (see :mod:`tsbptt.estimators`). Inputs and targets are standardised with
    statistics of the training data; predictions are in y's units.

    Parameters
    ----------
    {regressor_parameters}
    {common_parameters}

    Attributes
    ----------
    {regressor_attributes}
    {common_attributes}

    See Also
    --------
    LSTMRegressor : the same with LSTM cells (long memory).
    GRURegressor : the same with GRU cells.

    Notes
    -----
    {name_table}

    Examples
    --------
    >>> import numpy as np
    >>> from tsbptt import RNNRegressor
    >>> rng = np.random.RandomState(0)
    >>> X = rng.standard_normal((64, 8))
    >>> y = np.c_[X[:, -1], X[:, -2]]               # two targets
    >>> model = RNNRegressor(8, loss="quantile", quantiles=(0.1, 0.5, 0.9),
    ...                      max_iter=20, random_state=0).fit(X, y)
    >>> model.predict_quantiles(X[:4]).shape        # (samples, targets, quantiles)
    (4, 2, 3)
    """

    _cell = "rnn"
