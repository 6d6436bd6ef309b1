"""Online learning from a stream by real-time recurrent learning (RTRL).

:class:`RTRLRegressor` learns one observation at a time: at every step it
predicts, takes the loss against the target, and updates the weights from that
step's gradient (:mod:`tsbptt.engine.rtrl`; exact while the weights stay fixed,
RTRL's usual approximation as they change online), carrying the state and the
sensitivities dh/dtheta to the next step. There is no window and no truncation,
so a dependency of any length can be learned, at a cost per step of O(H^4) for
the tanh RNN (about G times that for the GRU and twice again for the LSTM).

It is its own class rather than a ``gradient='rtrl'`` option of the six BPTT
estimators: those train on batches of windows for many epochs with input and
target scaling fitted up front, while an online learner sees each observation
once, in order, and cannot know the data's statistics in advance; the two share
the engine (network, optimizers, losses) but not the training loop.
"""
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from .._kernels import all_finite
from ..engine import Network, build_optimizer
from ..engine._threads import all_blas_single_threaded
from ..engine.losses import MSE
from ..engine.rtrl import RTRLTrainer, check_rtrl_memory
from ..engine.trainer import warn_not_data_parallel
from ..utils._validation import refuse_bool_numbers
from ._state import undone_on_failure
from ._tags import Capabilities

__all__ = ["RTRLRegressor"]


#: The parameters that shape RTRLRegressor's network: fixed once it is fitted.
_ARCHITECTURE = ("cell", "hidden_size", "dtype")
#: The parameters its optimizer is built from.
_OPTIMIZER = ("optimizer", "weight_decay", "momentum", "nesterov")


class RTRLRegressor(RegressorMixin, BaseEstimator):
    """A recurrent regressor that learns online from a stream, by RTRL.

    The rows of ``X`` are consecutive observations of one stream and ``y[t]`` is
    the target at step t (e.g. the next value, or a value seen ``d`` steps ago):
    a 2D X is one stream of (n_steps, n_features), not the windows of one sample
    per row that the other regressors read it as (and a Forecaster refuses it).
    :meth:`partial_fit` learns them in order, one weight update per observation,
    and keeps the recurrent state, the sensitivities and the optimizer's moments
    for the next call, so feeding a stream in pieces is the same as feeding it at
    once; :meth:`fit` starts afresh, and :meth:`reset_state` starts a new stream
    with what was learned. Inputs and targets are used as given
    (no scaling: an online learner cannot know the stream's statistics up front);
    scale them to about unit size.

    Parameters
    ----------
    cell : {'rnn', 'gru', 'lstm'}, default='rnn'
    hidden_size : int, default=16
        Hidden units H. The cost per step grows as H^4: keep it small (see
        ``benchmarks/reports/rtrl.md``).
    optimizer : {'adam', 'adamw', 'sgd', 'rmsprop', 'adagrad', 'adadelta'}, default='adam'
    learning_rate : float, default=1e-3
    momentum : float, default=0.9
        For 'sgd' and 'rmsprop'.
    nesterov : bool, default=False
        For 'sgd'.
    weight_decay : float, default=0.0
    clip_norm : float or None, default=1.0
        Clip each step's gradient by global norm; a single observation's gradient
        can be large.
    dtype : {'float64', 'float32'}, default='float64'
    random_state : int, RandomState or None, default=None
        Seeds the initial weights. The same seed and stream give bitwise the same
        weights for any thread count (NumPy's BLAS, which RTRL's products use, is
        held at one thread); another BLAS kernel (``OPENBLAS_CORETYPE``) can change
        the last bits.

    Attributes
    ----------
    network_ : tsbptt.engine.Network
        One unidirectional layer and a linear head, many-to-many.
    n_features_in_ : int
    n_outputs_ : int
    n_steps_ : int
        Observations learned so far.
    loss_curve_ : list of float
        Per :meth:`partial_fit` call, the mean squared error of the predictions
        made before each update (the prequential error).
    loss_ : float
        The last entry of ``loss_curve_``.
    state_ : tuple of ndarray
        The recurrent state after the last observation learned (see the property).
    """

    _parameter_constraints = {
        "cell": [StrOptions({"rnn", "gru", "lstm"})],
        "hidden_size": [Interval(Integral, 1, None, closed="left")],
        "optimizer": [StrOptions({"adam", "adamw", "sgd", "rmsprop", "adagrad",
                                  "adadelta"})],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "momentum": [Interval(Real, 0, 1, closed="left")],
        "nesterov": ["boolean"],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "clip_norm": [Interval(Real, 0, None, closed="neither"), None],
        "dtype": [StrOptions({"float32", "float64"})],
        "random_state": ["random_state"],
    }

    #: for :func:`tsbptt.save_model`, which refuses it with this reason
    _not_saved_because = ("its online state (the sensitivities dh/dtheta and the "
                          "optimizer's moments) has no file format yet; keep the fitted "
                          "object, or copy network_.params")

    def __init__(self, cell="rnn", hidden_size=16, *, optimizer="adam", learning_rate=1e-3,
                 momentum=0.9, nesterov=False, weight_decay=0.0, clip_norm=1.0,
                 dtype="float64", random_state=None):
        self.cell = cell
        self.hidden_size = hidden_size
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.nesterov = nesterov
        self.weight_decay = weight_decay
        self.clip_norm = clip_norm
        self.dtype = dtype
        self.random_state = random_state

    def _validate_params(self):
        super()._validate_params()
        refuse_bool_numbers(self)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.non_deterministic = False
        return tags

    def __sklearn_is_fitted__(self):
        return hasattr(self, "network_")

    def __tsbptt_capabilities__(self):
        """It learns one stream: its rows are consecutive observations."""
        return Capabilities(stream=True)

    # -- data -------------------------------------------------------------------------
    def _stream(self, X, y, reset):
        if isinstance(X, (list, tuple)) and len(X) and len(getattr(X[0], "shape", ())) >= 2:
            raise ValueError(f"X is a list of {len(X)} arrays: RTRLRegressor learns one "
                             "stream, X of shape (n_steps, n_features); learn several "
                             "one after another with partial_fit, or one model each")
        if len(getattr(X, "shape", ())) == 3:  # (never np.ndim: array-likes refuse it)
            raise ValueError(f"X has shape {X.shape}: RTRLRegressor learns one "
                             "stream, X of shape (n_steps, n_features) (X[0] for a batch "
                             "of one); the BPTT regressors take batches of sequences")
        X, y = validate_data(self, X, y, reset=reset, dtype=np.float64, multi_output=True,
                             y_numeric=True)
        y = y.reshape(len(y), -1)
        if not reset and y.shape[1] != self.n_outputs_:
            raise ValueError(f"y has {y.shape[1]} outputs per step, the model was fitted "
                             f"with {self.n_outputs_}")
        dt = np.dtype(self.dtype_ if not reset else self.dtype)
        with np.errstate(over="ignore"):  # an overflow is refused below, by name
            out = np.ascontiguousarray(X, dtype=dt), np.ascontiguousarray(y, dtype=dt)
        for name, a, given in zip("Xy", out, (X, y)):
            if not all_finite(a):
                raise ValueError(f"{name} holds values beyond the {dt} range (largest "
                                 f"magnitude {np.abs(given).max():.4g}); scale it, or use "
                                 "dtype='float64'")
        # a target whose squared error overflows fails its step mid-stream, after the
        # steps before it were learned: refused before any work instead
        limit = np.sqrt(np.finfo(dt).max) / 16
        if y.size and np.abs(y).max() > limit:
            raise ValueError(f"y holds a value whose squared error would overflow {dt} "
                             f"(largest magnitude {np.abs(y).max():.4g}, at most "
                             f"{limit:.3g}); scale it")
        return out

    def _initialize(self, n_outputs):
        # before the weights: an orthogonal draw of a huge H takes minutes
        check_rtrl_memory(self.cell, self.n_features_in_, self.hidden_size, 1, self.dtype)
        rs = check_random_state(self.random_state)
        self.n_outputs_ = n_outputs
        self.dtype_ = self.dtype
        self.network_ = Network(self.cell, self.n_features_in_, self.hidden_size, n_outputs,
                                many_to_many=True, dtype=self.dtype,
                                random_state=rs.randint(np.iinfo(np.int32).max))
        self._trainer = RTRLTrainer(self.network_, self._new_optimizer(), MSE(),
                                    clip_norm=self.clip_norm)
        self._fitted = {k: getattr(self, k) for k in _ARCHITECTURE}
        self.n_steps_ = 0
        self.loss_curve_ = []

    def _new_optimizer(self):
        opts = dict(weight_decay=self.weight_decay)
        if self.optimizer == "sgd":
            opts.update(momentum=self.momentum, nesterov=self.nesterov)
        elif self.optimizer == "rmsprop":
            opts.update(momentum=self.momentum)
        optimizer = build_optimizer(self.optimizer, self.network_.params,
                                    self.learning_rate, **opts)
        # recorded once built: a refused setting keeps the record of the one kept
        self._optimizer_params = {k: getattr(self, k) for k in _OPTIMIZER}
        return optimizer

    def _continue(self):
        """Before a later partial_fit: refuse a network that set_params reshaped
        (it went on training the old one, which predict kept)."""
        fitted = vars(self).setdefault("_fitted", {k: getattr(self, k) for k in _ARCHITECTURE})
        for name, value in fitted.items():
            now = getattr(self, name)
            if now != value:  # dtype too: fit takes 'float32' and 'float64' alone
                raise ValueError(f"{name}={now!r} differs from the fitted network's "
                                 f"{name}={value!r}: partial_fit continues the fitted "
                                 "network; set it back, or fit anew")

    def _continue_optimizer(self):
        """The optimizer's settings as they are now: a new optimizer where
        :data:`_OPTIMIZER` changed, learning_rate and clip_norm in place (after the
        data's checks: a refused piece keeps the moments)."""
        self._trainer.clip_norm = self.clip_norm  # (checked first: a refusal keeps all)
        now = {k: getattr(self, k) for k in _OPTIMIZER}
        if vars(self).setdefault("_optimizer_params", now) != now:
            self._trainer.optimizer = self._new_optimizer()
        self._trainer.optimizer.learning_rate = float(self.learning_rate)

    def __setstate__(self, state):
        super().__setstate__(state)
        # joblib's pickler writes each array apart: point the optimizer at the
        # network's weights again (it updated copies predict never read)
        if "_trainer" in state:
            self._trainer.optimizer.rebind(self.network_.params.values())

    # -- learning -----------------------------------------------------------------------
    def _learn(self, X, y, whole_fit=False):
        """Learn the stream's steps one by one (``whole_fit``: in ``fit``, which is
        undone as a whole where a step fails)."""
        warn_not_data_parallel(self, "online, one step at a time")
        losses, start = np.empty(len(X)), self.n_steps_
        # RTRL's products go through NumPy's BLAS: one thread, the same bits for any
        # thread count (and small products gain nothing from more)
        try:
            with all_blas_single_threaded():
                for t in range(len(X)):
                    _, losses[t] = self._trainer.learn(X[t:t + 1], y[t:t + 1])
                    self.n_steps_ += 1
        except FloatingPointError as exc:  # say what of this call is kept
            if whole_fit:  # (the advice to fit afresh is for partial_fit's streams)
                raise FloatingPointError(
                    f"{str(exc).split('; the largest weight')[0]}. The fit is undone: "
                    "the estimator is as it was before it") from None
            raise FloatingPointError(
                f"{exc}. Online learning keeps what it learned: the {t} step(s) of this "
                f"call before it were learned (n_steps_={self.n_steps_}), and the "
                "state has read this step") from None
        finally:  # a pass cut short (Ctrl-C) records the steps it learned
            done = self.n_steps_ - start
            if done:
                self.loss_curve_.append(float(losses[:done].mean()))
                self.loss_ = self.loss_curve_[-1]
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Learn a stream from the start: fresh weights, zero state, one pass.

        Parameters
        ----------
        X : array-like of shape (n_steps, n_features)
            Consecutive observations, oldest first.
        y : array-like of shape (n_steps,) or (n_steps, n_outputs)
            The target at each step.

        Returns
        -------
        self
        """
        with undone_on_failure(self):  # a refit that fails (Ctrl-C) keeps the last fit
            for name in ("network_", "n_features_in_", "n_outputs_"):
                self.__dict__.pop(name, None)
            X, y = self._stream(X, y, reset=True)
            self._initialize(y.shape[1])
            return self._learn(X, y, whole_fit=True)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y):
        """Continue the stream: learn these observations after the previous ones.

        The first call initialises (as :meth:`fit`); later calls carry the state,
        the sensitivities and the optimizer on, so the stream may come in pieces of
        any size, down to one observation. A ``learning_rate`` or ``clip_norm``
        set since applies from here; a changed ``optimizer``, ``weight_decay``,
        ``momentum`` or ``nesterov`` starts a new optimizer; a changed ``cell``,
        ``hidden_size`` or ``dtype`` is refused.

        Parameters
        ----------
        X : array-like of shape (n_steps, n_features)
        y : array-like of shape (n_steps,) or (n_steps, n_outputs)

        Returns
        -------
        self
        """
        first = not hasattr(self, "network_")
        if first:  # a first call refused (its data, its optimizer) leaves no model
            with undone_on_failure(self):
                X, y = self._stream(X, y, reset=True)
                self._initialize(y.shape[1])
        else:
            # scikit-learn validates a fitted model's partial_fit no more: a
            # learning_rate set to -0.5 since was taken (gradient ascent)
            self._validate_params()
            self._continue()
            X, y = self._stream(X, y, reset=False)
            self._continue_optimizer()
        return self._learn(X, y)

    def reset_state(self):
        """Start a new stream: the next :meth:`partial_fit` reads its first step
        from the zero state, as :meth:`fit` does, and keeps what was learned.

        The weights, the optimizer's moments and ``n_steps_`` stay; the recurrent
        state and the sensitivities (dh/dtheta, which belong to the old stream's
        past) go back to zero. For a stream that restarts (a sensor replaced, the
        next day's session), where carrying the last state across would join two
        streams that are not one.

        Returns
        -------
        self
        """
        check_is_fitted(self)
        self._trainer.tracker.reset()
        return self

    # -- prediction -------------------------------------------------------------------
    def predict(self, X):
        """Predictions at every step of a stream read from the zero state, no learning.

        Parameters
        ----------
        X : array-like of shape (n_steps, n_features)

        Returns
        -------
        ndarray of shape (n_steps,) or (n_steps, n_outputs)
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=np.float64)
        X = np.ascontiguousarray(X[None], dtype=np.dtype(self.dtype_))
        lengths = np.full(1, X.shape[1], dtype=np.intp)
        out = self.network_.predict_outputs(X, lengths)[0].astype(np.float64)
        return out[:, 0] if self.n_outputs_ == 1 else out

    @property
    def state_(self):
        """The recurrent state after the last observation learned: ``(h,)`` or
        ``(h, c)``, arrays of shape (1, hidden_size) (copies)."""
        check_is_fitted(self)
        return tuple(s.copy() for s in self._trainer.tracker.state)
