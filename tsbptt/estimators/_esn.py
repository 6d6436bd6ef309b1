"""Echo-state networks: a fixed random reservoir read out by a ridge regression.

The reservoir is never trained: its states come from the compiled kernel
:func:`tsbptt._kernels._esn.esn_states` (deterministic for any thread count, a row
alone or in a batch), and fitting is one ridge regression of the targets on the
states, solved in float64 with the BLAS held to one thread (so its bits do not
depend on the BLAS thread count either).

Three modes:

- **windows / sequences** (:meth:`ESNRegressor.fit`, :meth:`~ESNRegressor.predict`):
  every sample runs the reservoir from the zero state; the readout sees its final
  state (``state='final'``) or its mean state after the washout (``'mean'``), and,
  with ``include_inputs``, the inputs of its last step (or of every step of a
  2D window: the window itself, as a Ridge on the lags would see it). The same input forms as the
  other estimators: 2D windows, 3D arrays, ragged lists.
- **per-step targets** (3D ``X`` with ``y`` of shape (n, T[, n_outputs])): every
  sequence runs once; the readout learns every step's target from that step's
  state (and inputs) after the washout. :meth:`~ESNRegressor.predict_sequence`
  continues from given states, which is how ``Forecaster(strategy='stateful')``
  fits an ESN in one reservoir pass over each series and forecasts from the
  state at its end.
- **stateful** (:meth:`~ESNRegressor.fit_series`, :meth:`~ESNRegressor.update_series`,
  :meth:`~ESNRegressor.predict_series`): one long series, no windows. The reservoir
  runs once through it, driven by exogenous inputs ``X`` and, with
  ``output_feedback``, by the previous value of the series (teacher forcing); the
  readout learns every step after the washout. Forecasts continue from the end of
  the series, feeding the model's own predictions back.
"""
import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, RegressorMixin, _fit_context
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _get_feature_names, check_array, check_is_fitted

from .._kernels._esn import esn_states
from ..engine._threads import all_blas_single_threaded, resolve_n_threads
from ..engine.trainer import warn_not_data_parallel
from ..utils._validation import (INPUT_NOISE_FLOOR, check_memory, refuse_bool_numbers,
                                 reject_masked, user_stacklevel)
from ._base import N_THREADS_CONSTRAINTS
from ._esn_readout import ridge_gcv
from ._esn_spectral import random_reservoir, spectral_radius
from ._esn_state import ESNState
from ._inputs import in_dtype, to_sequences
from ._state import undone_on_failure
from ._streaming import check_made_by, mark_made_by
from ._tags import Capabilities
from ._targets import check_weights, mean_scale, per_step_targets, targets_per_step

__all__ = ["ESNRegressor", "DEFAULT_ALPHAS", "ridge_gcv"]

#: The ridge penalties the default ``alpha`` chooses from by generalized
#: cross-validation.
DEFAULT_ALPHAS = tuple(10.0 ** k for k in range(-10, 3))


def _alphas_ok(value):
    a = np.asarray(value, dtype=float) if not isinstance(value, str) else None
    return a is not None and a.ndim == 1 and a.size > 0 and np.all(np.isfinite(a)) \
        and np.all(a > 0)


#: Fitted attributes of one mode only, dropped by a fit of the other: a model file
#: holds those of its mode, and one with stale ones of the other was refused at load.
SERIES_ATTRIBUTES = ("reservoir_state_", "_last_y", "n_exog_", "target_mean_",
                     "target_scale_", "_exog_names")
WINDOW_ATTRIBUTES = ("n_features_in_", "feature_names_in_", "n_channels_", "n_steps_")
#: The parameters a fitted reservoir's predictions read: changed by set_params after
#: fit, they are refused by name at predict and save (they gave other predictions, or
#: NumPy's shape errors, and a file that did not predict as the model had).
FITTED_PARAMS = ("n_reservoir", "leak_rate", "washout", "include_inputs", "state",
                 "output_feedback", "scale_inputs", "n_channels")


def _exog_names(X):
    """X's column names as a list of str, or None (no names, or not all str: as
    scikit-learn, such names are not checked)."""
    try:
        names = _get_feature_names(X)
    except TypeError:  # names of mixed types
        return None
    return None if names is None else [str(c) for c in names]


class _Reservoir(ESNState, BaseEstimator):
    """The reservoir, the input scaling, the readout and the window features that
    :class:`ESNRegressor` and :class:`~tsbptt.ESNClassifier` share (the
    parameters are described in :class:`ESNRegressor`)."""

    _parameter_constraints = {
        "n_reservoir": [Interval(Integral, 1, None, closed="left")],
        "spectral_radius": [Interval(Real, 0, None, closed="left")],
        "input_scaling": [Interval(Real, 0, None, closed="left")],
        "leak_rate": [Interval(Real, 0, 1, closed="right")],
        "sparsity": [Interval(Real, 0, 1, closed="left")],
        "washout": [Interval(Integral, 0, None, closed="left")],
        "alpha": [Interval(Real, 0, None, closed="left"), "array-like"],
        "bias_scaling": [Interval(Real, 0, None, closed="left")],
        "output_feedback": ["boolean"],
        "feedback_scaling": [Interval(Real, 0, None, closed="left")],
        "include_inputs": ["boolean", StrOptions({"window", "auto"})],
        "state": [StrOptions({"final", "mean"})],
        "n_channels": [Interval(Integral, 1, None, closed="left")],
        "per_step": [StrOptions({"auto"}), "boolean"],
        "scale_inputs": ["boolean"],
        "n_threads": N_THREADS_CONSTRAINTS,
        "dtype": [StrOptions({"float32", "float64"})],
        "random_state": ["random_state"],
    }

    def __init__(self, n_reservoir=200, *, spectral_radius=0.9, input_scaling=0.3,
                 leak_rate=1.0, sparsity=0.9, washout=0, alpha=DEFAULT_ALPHAS,
                 bias_scaling=0.5, output_feedback=False, feedback_scaling=0.3,
                 include_inputs="auto", state="final", n_channels=1, per_step="auto",
                 scale_inputs=True, n_threads=None, dtype="float32", random_state=None):
        self.n_reservoir = n_reservoir
        self.spectral_radius = spectral_radius
        self.input_scaling = input_scaling
        self.leak_rate = leak_rate
        self.sparsity = sparsity
        self.washout = washout
        self.alpha = alpha
        self.bias_scaling = bias_scaling
        self.output_feedback = output_feedback
        self.feedback_scaling = feedback_scaling
        self.include_inputs = include_inputs
        self.state = state
        self.n_channels = n_channels
        self.per_step = per_step
        self.scale_inputs = scale_inputs
        self.n_threads = n_threads
        self.dtype = dtype
        self.random_state = random_state

    # -- validation and tags ------------------------------------------------------------
    @classmethod
    def _get_param_names(cls):
        """scikit-learn's list of the parameters, read from ``__init__``'s signature
        once per class: sklearn inspects it at every ``get_params`` (~0.25 ms), which
        a Forecaster's fit calls five times (clone, set_params, validation). Kept
        in the class's own ``__dict__``: a subclass reads its own ``__init__``."""
        names = cls.__dict__.get("_param_names_read")
        if names is None:
            names = tuple(super()._get_param_names())
            cls._param_names_read = names
        return list(names)

    def _validate_params(self):
        super()._validate_params()
        refuse_bool_numbers(self)
        if not isinstance(self.alpha, Real) and not _alphas_ok(self.alpha):
            raise ValueError(f"The 'alpha' parameter of {type(self).__name__} must be a "
                             "float >= 0 or a non-empty 1D sequence of finite floats > 0. "
                             f"Got {self.alpha!r} instead.")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        tags.input_tags.three_d_array = True  # (n_samples, n_steps, n_features)
        tags.non_deterministic = False
        return tags

    def __sklearn_is_fitted__(self):
        return hasattr(self, "coef_")

    def _record_fitted_params(self):
        self._fitted_params = {k: getattr(self, k) for k in FITTED_PARAMS}

    def _check_fitted_params(self):
        """Raise if set_params changed one of :data:`FITTED_PARAMS` since fit."""
        for name, value in vars(self).get("_fitted_params", {}).items():
            if getattr(self, name) != value:
                raise ValueError(f"{name}={getattr(self, name)!r} differs from the fitted "
                                 f"model's {name}={value!r}: the reservoir and its readout "
                                 "were fitted with it; set it back, or fit anew")

    # -- the reservoir ------------------------------------------------------------------
    def _init_reservoir(self, n_inputs, n_feedback):
        """Draw W_in_, W_, bias_, W_fb_ (float64 draws, stored in dtype_)."""
        warn_not_data_parallel(self, "by one ridge solve")  # every fit comes here
        rs = check_random_state(self.random_state)
        N, dtype = self.n_reservoir, np.dtype(self.dtype_)
        # the draw shuffles all N * N positions (int64): refused here, by name, not
        # by NumPy's failed allocation
        check_memory([(N, N)], np.int64, 1, f"n_reservoir={N}",
                     held="the draw of its reservoir")
        W = random_reservoir(N, 1.0 - self.sparsity, rs)  # CSR, sorted indices
        radius = spectral_radius(W)
        if radius > 0:
            W.data *= self.spectral_radius / radius
        elif self.spectral_radius > 0:  # no cycle among the drawn connections
            warnings.warn(
                f"the drawn reservoir (n_reservoir={N}, sparsity={self.sparsity!r}) has "
                "no cycle of connections: its spectral radius is 0 and cannot be scaled "
                f"to spectral_radius={self.spectral_radius!r}, so each state forgets "
                f"the inputs within {N} steps; use more units or a lower sparsity",
                UserWarning, stacklevel=user_stacklevel())
        with np.errstate(over="ignore"):  # an overflow is refused below, by name
            drawn = {"spectral_radius": W.data.astype(dtype),
                     "input_scaling": (rs.uniform(-1, 1, (N, n_inputs))
                                       * self.input_scaling).astype(dtype),
                     "bias_scaling": (rs.uniform(-1, 1, N) * self.bias_scaling).astype(dtype),
                     "feedback_scaling": (rs.uniform(-1, 1, (N, n_feedback))
                                          * self.feedback_scaling).astype(dtype)}
        for name, weights in drawn.items():
            if not np.isfinite(weights).all():
                raise ValueError(
                    f"{name}={getattr(self, name)!r} overflows the reservoir's {dtype} "
                    f"weights (at most {np.finfo(dtype).max:.4g} in magnitude); use a "
                    "smaller value")
        self.W_ = sp.csr_matrix((drawn["spectral_radius"], W.indices, W.indptr), shape=(N, N))
        self.W_in_, self.bias_ = drawn["input_scaling"], drawn["bias_scaling"]
        self.W_fb_ = drawn["feedback_scaling"]

    def _run(self, U, lengths, x0=None, Y_fb=None, states=False):
        """The kernel over prepared inputs: (final, mean or None, states or None)."""
        dtype = np.dtype(self.dtype_)
        B, T = U.shape[:2]
        N = self.n_reservoir
        x = np.zeros((B, N), dtype) if x0 is None else np.array(x0, dtype=dtype)
        n_fb = self.W_fb_.shape[1]
        # the series methods' inputs and fed-back values come standardised in float64:
        # one beyond float32's range would make the state NaN, and a stateful model
        # would keep it
        U = in_dtype(U, dtype)
        Y_fb = np.zeros((B, T, n_fb), dtype) if Y_fb is None else in_dtype(Y_fb, dtype, "y")
        lengths = np.asarray(lengths, np.intp)
        # the kernel writes every state of a row's length: zeros only for padding
        # (np.zeros of a reused heap block is a memset of every state)
        if not states:
            all_states = None
        elif len(lengths) and lengths.min() == T:
            all_states = np.empty((B, T, N), dtype)
        else:
            all_states = np.zeros((B, T, N), dtype)
        mean = np.zeros((B, N), dtype) if self.state == "mean" and not states else None
        W = self.W_
        esn_states(U, lengths,
                   self.W_in_, W.data, W.indices.astype(np.int32, copy=False),
                   W.indptr.astype(np.int32, copy=False), self.bias_, self.W_fb_, Y_fb,
                   float(self.leak_rate), x, states=all_states, mean=mean,
                   washout=self.washout, n_threads=int(resolve_n_threads(self.n_threads)))
        return x, mean, all_states

    # -- readout ------------------------------------------------------------------------
    def _fit_readout(self, Phi, Y, w):
        """Ridge of Y on Phi (an array, or a list of its column blocks) in float64,
        BLAS on one thread: coef_, intercept_, alpha_."""
        alphas = [float(self.alpha)] if isinstance(self.alpha, Real) else \
            [float(a) for a in np.asarray(self.alpha, dtype=float)]
        with all_blas_single_threaded():
            coef, intercept, self.alpha_ = ridge_gcv(Phi, Y, w, alphas)
        self.coef_, self.intercept_ = coef.T, intercept

    def _readout(self, Phi):
        """Phi @ coef_.T + intercept_, each row summed alone (NumPy's pairwise sum
        over a contiguous axis), so a row's prediction never depends on the batch:
        a BLAS product would block differently for different numbers of rows."""
        Phi = np.asarray(Phi, np.float64)
        return (Phi[:, None, :] * self.coef_[None]).sum(axis=2) + self.intercept_

    def _scale(self, X3, lengths):
        Xs = (X3 - self.input_mean_) / self.input_scale_
        if lengths.min() < X3.shape[1]:  # padding of ragged lists stays exactly 0
            Xs[np.arange(X3.shape[1])[None, :] >= lengths[:, None]] = 0
        return in_dtype(Xs, np.dtype(self.dtype_))

    def _fit_scaling(self, rows, w=None, name="X"):
        """input_mean_, input_scale_ from rows (n, F) of the training inputs."""
        if self.scale_inputs:
            self.input_mean_, self.input_scale_ = mean_scale(
                np.asarray(rows, np.float64), w, name=name, floor=INPUT_NOISE_FLOOR,
                warn=not getattr(self, "_quiet_small_spread", False))
        else:
            self.input_mean_ = np.zeros(rows.shape[1])
            self.input_scale_ = np.ones(rows.shape[1])

    # -- windows and sequences ----------------------------------------------------------
    def _sequences(self, X, reset):
        if reset:  # a fit on windows: nothing of an earlier fit, of either mode
            for name in ("coef_", "n_channels_", "dtype_", "input_kind_", "mode_",
                         "per_step_", "final_states_") + SERIES_ATTRIBUTES:
                self.__dict__.pop(name, None)
            self._record_fitted_params()
        else:
            self._check_fitted_params()
        dtype = np.dtype(self.dtype if reset else self.dtype_)
        X3, lengths, kind = to_sequences(self, X, reset=reset)
        if reset:
            self.input_kind_, self.n_channels_, self.dtype_ = kind, self.n_channels, dtype.name
        return X3, lengths

    def _features(self, U, lengths):
        """Readout features of prepared sequences: [state, last inputs]."""
        self._check_mean_lengths(lengths)
        final, mean, _ = self._run(U, lengths)
        parts = [final if self.state == "final" else mean]
        inputs = self.include_inputs
        if inputs == "auto":
            inputs = "window" if self.input_kind_ == "2d" else True
        if inputs == "window":
            if lengths.min() < U.shape[1] or U.shape[1] != self.n_steps_:
                raise ValueError(f"include_inputs='window' needs sequences of the "
                                 f"{self.n_steps_} steps of the training data, got "
                                 f"lengths {lengths.min()} .. {U.shape[1]}")
            parts.append(U.reshape(len(U), -1))
        elif inputs:
            parts.append(U[np.arange(len(U)), lengths - 1])
        return np.hstack(parts)

    def _check_mean_lengths(self, lengths):
        """With ``state='mean'``, every sequence must outlast the washout: a state
        averaged over no step is zeros, and the readout would read the intercept
        alone (fit and predict alike)."""
        if self.state == "mean" and len(lengths) and lengths.min() <= self.washout:
            raise ValueError(f"washout={self.washout} leaves no step of the shortest "
                             f"sequence ({lengths.min()} steps) for state='mean'; "
                             "lower washout or use longer sequences")

    def _refuse_feedback(self):
        if self.output_feedback:
            series = (" Use fit_series for one long series, or output_feedback=False"
                      if hasattr(self, "fit_series") else " Use output_feedback=False")
            raise ValueError("output_feedback=True feeds the previous target back at "
                             f"every step; windows have one target each.{series}")

    def _window_features_for_fit(self, X3, lengths, w):
        """Scaling and reservoir drawn from the training sequences; their readout
        features (one row per sequence)."""
        self._check_mean_lengths(lengths)  # before the reservoir is drawn
        valid = np.arange(X3.shape[1])[None, :] < lengths[:, None]
        rows_w = None if w is None else np.broadcast_to(w[:, None], valid.shape)[valid]
        self._fit_scaling(X3[valid], rows_w)
        self._init_reservoir(X3.shape[2], 0)
        self.n_steps_ = int(lengths.max())
        self.mode_, self.per_step_ = "windows", False
        return self._features(self._scale(X3, lengths), lengths)


class ESNRegressor(RegressorMixin, _Reservoir):
    """Echo-state network regressor: a leaky-tanh reservoir and a ridge readout.

    The reservoir state follows

    ``x_t = (1 - leak_rate) x_{t-1} + leak_rate * tanh(W_in u_t + W x_{t-1} + b
    + W_fb y_{t-1})``

    with fixed random weights: ``W`` sparse with spectral radius
    ``spectral_radius``, ``W_in``, ``b`` and ``W_fb`` uniform in ``[-s, s]`` for
    their scaling ``s``. Inputs ``u_t`` are standardised first (``scale_inputs``).
    Only the linear readout is learned.

    Parameters
    ----------
    n_reservoir : int, default=200
        Reservoir units N.
    spectral_radius : float, default=0.9
        Largest absolute eigenvalue of ``W`` (< 1 for the echo-state property
        with ``leak_rate=1``).
    input_scaling : float, default=0.3
        Half-width of the uniform input weights (inputs are standardised).
    leak_rate : float in (0, 1], default=1.0
        1 is the plain tanh reservoir; smaller values slow the states down.
    sparsity : float in [0, 1), default=0.9
        Fraction of ``W``'s entries that are zero (connectivity ``1 - sparsity``).
    washout : int, default=0
        Leading steps whose states the readout never sees: in the stateful mode,
        the first steps of the series; with ``state='mean'``, the first steps of
        each sequence (which must then be longer). Ignored with ``state='final'``.
    alpha : float or array-like of floats, default=DEFAULT_ALPHAS
        Ridge penalty of the readout. A sequence of candidates (the default is
        ``1e-10, 1e-9, ..., 100``) picks one by generalized cross-validation
        (one eigendecomposition for all candidates, see :func:`ridge_gcv`) among
        those that spend at most half the samples' degrees of freedom (on few
        samples beside the reservoir GCV all but interpolated); the choice is
        ``alpha_``. 0 is the minimum-norm least-squares readout.
    bias_scaling : float, default=0.5
        Half-width of the uniform reservoir biases.
    output_feedback : bool, default=False
        Feed the previous value of the target back into the reservoir (stateful
        mode only: windows have no per-step outputs; ``fit`` refuses it).
    feedback_scaling : float, default=0.3
        Half-width of the uniform feedback weights ``W_fb``.
    include_inputs : bool, 'window' or 'auto', default='auto'
        Give the readout the (standardised) inputs too: True, those of each
        sequence's last step; 'window', those of every step (sequences of one
        length: 2D windows or a 3D array, the same number of steps at predict);
        'auto', 'window' for 2D windows and True for 3D arrays and lists. With
        'window' the readout contains a ridge regression on the lags, and the
        reservoir adds what the lags alone cannot say. With per-step targets
        and in the stateful mode any true value gives the current step's inputs.
    state : {'final', 'mean'}, default='final'
        Which state of a window or sequence the readout sees, for one target
        per sequence. With per-step targets and in the stateful mode each
        step's readout sees that step's state, whatever this says.
    n_channels : int, default=1
        Channels of 2D windows (columns ``t * n_channels + c``), as in
        :class:`~tsbptt.LSTMRegressor`.
    per_step : {'auto', True, False}, default='auto'
        Whether y holds one target per time step, as in
        :class:`~tsbptt.LSTMRegressor` (``'auto'`` reads it from the shapes and
        warns where a 2D y is as wide as X has time steps).
    scale_inputs : bool, default=True
        Standardise each input feature with the training data's mean and deviation.
    n_threads : int or None, default=None
        OpenMP threads of the reservoir kernel; None uses the available cores,
        ``-k`` all but ``k - 1``. The results never depend on it.
    dtype : {'float32', 'float64'}, default='float32'
        Precision of the reservoir; the readout is always solved in float64.
    random_state : int, RandomState or None, default=None
        Seeds the reservoir weights.

    Attributes
    ----------
    W_in_ : ndarray (N, n_inputs); W_ : scipy.sparse.csr_matrix (N, N);
    bias_ : ndarray (N,); W_fb_ : ndarray (N, n_outputs) or (N, 0)
        The reservoir, in ``dtype_``.
    coef_ : ndarray of shape (n_outputs, n_readout); intercept_ : (n_outputs,)
        The readout (float64), over ``[state, inputs]``.
    alpha_ : float
        The ridge penalty used.
    n_outputs_ : int
    n_steps_ : int
        Steps of the longest training sequence (windows mode).
    mode_ : {'windows', 'series'}
    final_states_ : list
        Per-step targets: ``[(x,)]``, the reservoir states after each training
        sequence's last step, bitwise what ``predict_sequence(X)[1]`` returns.
    reservoir_state_ : ndarray of shape (N,)
        Stateful mode: the state after the last step seen (fit_series,
        update_series).

    Examples
    --------
    >>> import numpy as np
    >>> from tsbptt import ESNRegressor
    >>> X = np.sin(np.arange(220) / 5)[np.arange(200)[:, None] + np.arange(20)]
    >>> y = np.sin((np.arange(200) + 20) / 5)
    >>> esn = ESNRegressor(random_state=0).fit(X, y)
    >>> float(np.abs(esn.predict(X) - y).max()) < 1e-3
    True
    """

    def __tsbptt_capabilities__(self):
        """It reads 2D windows as ``n_channels`` features per step, and, fitted
        with per-step targets, runs on from given states (:meth:`predict_sequence`,
        the Forecaster's ``strategy='stateful'``); see
        :mod:`tsbptt.estimators._tags`. It is not trained by epochs."""
        return Capabilities(channels=True, stateful=True)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def _window_targets(self, y, n):
        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the "
                             "target y is None")
        reject_masked(y, "y")
        y = check_array(y, ensure_2d=False, dtype=np.float64, input_name="y")
        if y.ndim not in (1, 2) or len(y) != n:
            raise ValueError(f"y must have shape ({n},) or ({n}, n_outputs), got {y.shape}")
        return y

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the readout on windows or sequences X and targets y.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_timesteps * n_channels), or of shape
            (n_samples, n_timesteps, n_features), or list of arrays (T_i, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            One target row per sequence; or per step: (n_samples, n_timesteps) or
            (n_samples, n_timesteps, n_outputs) for 3D X. With 3D X a 2D y as wide
            as X has time steps (more than one) is one target per step: n_outputs
            equal to n_timesteps cannot be told from it (``'auto'`` warns; say which
            with ``per_step``).
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self
        """
        with undone_on_failure(self):  # a refused refit keeps the last fit
            self._refuse_feedback()
            X3, lengths = self._sequences(X, reset=True)
            if y is not None and targets_per_step(self.input_kind_, y, lengths, X3.shape[1],
                                                  labels=False, per_step=self.per_step):
                return self._fit_per_step(X3, lengths, y, sample_weight)
            y = self._window_targets(y, len(X3))
            w = check_weights(sample_weight, len(X3))
            Phi = self._window_features_for_fit(X3, lengths, w)
            self.n_outputs_, self._y_ndim = (1 if y.ndim == 1 else y.shape[1]), y.ndim
            self._fit_readout(Phi, y, w)
            return self

    def predict(self, X):
        """Predictions for windows or sequences X, in the units of y.

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_outputs)
        """
        check_is_fitted(self)
        if self.mode_ != "windows":
            raise ValueError("this ESNRegressor was fitted with fit_series; use "
                             "predict_series (or fit it on windows)")
        X3, lengths = self._sequences(X, reset=False)
        if self.per_step_:
            pred = self._per_step_predict(self._scale(X3, lengths), lengths)[0]
            pred[np.arange(pred.shape[1])[None, :] >= lengths[:, None]] = 0
            pred = pred[..., 0] if self._y_ndim == 1 else pred
            if isinstance(X, (list, tuple)):
                return [p[:n] for p, n in zip(pred, lengths)]
            return pred
        out = self._readout(self._features(self._scale(X3, lengths), lengths))
        return out[:, 0] if self._y_ndim == 1 else out

    # -- per-step targets (sequence to sequence) ----------------------------------------
    def _fit_per_step(self, X3, lengths, y, sample_weight):
        """The readout of every step's state (after the washout) to that step's
        target: one reservoir run per sequence, no windows."""
        Y = per_step_targets(y, lengths, X3.shape[1])  # (n, T, n_outputs)
        self._y_ndim = 1 if np.ndim(y[0]) == 1 else 2
        w = check_weights(sample_weight, len(X3))
        T = X3.shape[1]
        valid = np.arange(T)[None, :] < lengths[:, None]
        if not np.any(valid[:, self.washout:]):
            raise ValueError(f"washout={self.washout} leaves no step of the longest "
                             f"sequence ({lengths.max()} steps) to learn from")
        rows_w = None if w is None else np.broadcast_to(w[:, None], valid.shape)[valid]
        self._fit_scaling(X3[valid], rows_w)
        self._init_reservoir(X3.shape[2], 0)
        self.n_steps_ = int(lengths.max())
        self.n_outputs_, self.per_step_, self.mode_ = Y.shape[2], True, "windows"
        U = self._scale(X3, lengths)
        x, _, states = self._run(U, lengths, states=True)
        self.final_states_ = [(x,)]  # as predict_sequence(X) would return them
        keep = valid & (np.arange(T)[None, :] >= self.washout)
        self._fit_readout(self._step_parts(states, U, keep, lengths), Y[keep],
                          None if rows_w is None else
                          np.broadcast_to(w[:, None], valid.shape)[keep])
        return self

    def _step_parts(self, states, U, keep, lengths):
        """The column blocks of ``_step_features(states, U)[keep]``: views of one
        sequence's kept steps (a slice), copies of the kept rows otherwise."""
        rows = (0, slice(self.washout, lengths[0])) if len(states) == 1 else keep
        parts = [states[rows]]
        if self.include_inputs and U.shape[2]:
            parts.append(U[rows].astype(states.dtype, copy=False))
        return parts

    def _step_features(self, states, U):
        """(B, T, N [+ F]) readout features of every step: its state and, with any
        true ``include_inputs``, its (standardised) inputs."""
        if self.include_inputs and U.shape[2]:
            return np.concatenate([states, U.astype(states.dtype, copy=False)], axis=2)
        return states

    def _per_step_predict(self, U, lengths, x0=None):
        """(pred (B, T, n_outputs), final states (B, N)) from prepared inputs."""
        x, _, states = self._run(U, lengths, x0=x0, states=True)
        Phi = self._step_features(states, U)
        B, T = Phi.shape[:2]
        pred = self._readout(Phi.reshape(B * T, -1)).reshape(B, T, -1)
        return pred, x

    def predict_sequence(self, X, initial_states=None):
        """Run a model fitted with per-step targets on from given reservoir states.

        The stateful forecast step (what ``Forecaster(strategy='stateful')``
        calls): the sequences continue from the states an earlier call returned,
        so a long series can be fed in pieces, or one step at a time feeding
        forecasts back, and give bitwise what one call over the whole series
        gives (the kernel's rows never depend on their batch).

        Parameters
        ----------
        X : ndarray of shape (n_sequences, n_timesteps, n_features)
            The next steps of each sequence.
        initial_states : list or None, default=None
            The ``states`` of a previous call on the same rows: ``[(x,)]`` with
            ``x`` of shape (n_sequences, n_reservoir); None starts from zeros.

        Returns
        -------
        pred : ndarray of shape (n_sequences, n_timesteps[, n_outputs])
            The predictions of every step, in y's units.
        states : list
            ``[(x,)]``: the reservoir states after the last step.
        """
        check_is_fitted(self)
        if not getattr(self, "per_step_", False):
            raise ValueError("predict_sequence needs a model fitted with per-step "
                             "targets (y of shape (n_samples, n_timesteps))")
        X = np.asarray(X)
        if X.ndim != 3:
            raise ValueError(f"X must be 3D (n_sequences, n_timesteps, n_features), got "
                             f"shape {X.shape}")
        X3, lengths = self._sequences(X, reset=False)
        x0 = None if initial_states is None else self._initial_reservoir(initial_states,
                                                                        len(X3))
        pred, x = self._per_step_predict(self._scale(X3, lengths), lengths, x0)
        mark_made_by((x,), self._state_maker())
        return (pred[..., 0] if self.n_outputs_ == 1 else pred), [(x,)]

    def _state_maker(self):
        """What the reservoir states depend on: its weights and the input scaling."""
        return (self.W_, self.W_in_, self.bias_, self.input_mean_, self.input_scale_)

    def _initial_reservoir(self, initial_states, n):
        """predict_sequence's ``initial_states`` checked: ``[(x,)]``, x (n, N) of
        finite numbers, computed by this reservoir (where that is known)."""
        shape = (n, self.n_reservoir)
        if not isinstance(initial_states, (list, tuple)) or len(initial_states) != 1 \
                or not isinstance(initial_states[0], (list, tuple)) \
                or len(initial_states[0]) != 1 or np.shape(initial_states[0][0]) != shape:
            got = ([tuple(np.shape(a) for a in layer) if isinstance(layer, (list, tuple))
                    else np.shape(layer) for layer in initial_states]
                   if isinstance(initial_states, (list, tuple)) else
                   type(initial_states).__name__)
            raise ValueError(f"initial_states must be [(x,)] with x of shape {shape}, "
                             f"got {got}")
        x0 = initial_states[0][0]
        check_made_by((x0,), self, "initial_states", type(self)._state_maker)
        x0 = np.asarray(x0)
        if x0.dtype.kind not in "fiu":
            raise TypeError(f"initial_states must hold numbers, got dtype {x0.dtype}")
        if not np.isfinite(x0).all():
            raise ValueError("initial_states contains NaN or infinity")
        return x0

    # -- the stateful mode --------------------------------------------------------------
    def _series_inputs(self, y, X, reset):
        """Validated (y2 (T, O) float64, X2 (T, F) or None)."""
        reject_masked(y, "y")
        reject_masked(X, "X")
        y = check_array(y, ensure_2d=False, dtype=np.float64, input_name="y")
        if y.ndim not in (1, 2) or len(y) < 1:
            raise ValueError(f"y must be a series of shape (n_steps,) or (n_steps, "
                             f"n_outputs), got {y.shape}")
        y2 = y[:, None] if y.ndim == 1 else y
        if X is not None:
            names = _exog_names(X)
            if not reset:
                self._check_exog_names(names)
            X = check_array(X, dtype=np.float64, input_name="X")
            if len(X) != len(y2):
                raise ValueError(f"X has {len(X)} rows but y has {len(y2)} steps; X[t] "
                                 "must be the inputs of step t")
        if reset:
            self._y_ndim = y.ndim
            self._exog_names = None if X is None else names
            self._record_fitted_params()
            return y2, X
        self._check_series_like_fit(y2, X)
        return y2, X

    def _check_exog_names(self, names):
        """X's column names against fit_series' (a DataFrame's columns are read by
        position: reordered or other columns would drive the reservoir wrongly)."""
        fitted = getattr(self, "_exog_names", None)
        if fitted is None or names is None:
            return
        if list(names) != list(fitted):
            raise ValueError(f"X has the columns {list(names)}, but fit_series saw "
                             f"{list(fitted)}: give the same columns, in that order")

    def _check_series_like_fit(self, y2, X):
        self._check_fitted_params()
        if y2.shape[1] != self.n_outputs_:
            raise ValueError(f"y has {y2.shape[1]} outputs, the model was fitted with "
                             f"{self.n_outputs_}")
        if (X is None) != (self.n_exog_ == 0) or (X is not None and
                                                 X.shape[1] != self.n_exog_):
            raise ValueError(f"the model was fitted with {self.n_exog_} exogenous "
                             f"input columns; X gives "
                             f"{0 if X is None else X.shape[1]}")

    def _drive(self, y2, X, y_prev):
        """Inputs U (1, T, F) and fed-back values (1, T, O) of a teacher-forced run."""
        T = len(y2)
        if X is None:
            U = np.zeros((1, T, 0))
        else:
            U = ((X - self.input_mean_) / self.input_scale_)[None]
        fb = np.zeros((1, T, self.W_fb_.shape[1]))
        if self.output_feedback:
            ys = (y2 - self.target_mean_) / self.target_scale_
            in_dtype(ys, np.dtype(self.dtype_), "y")  # the last one too: fed back next
            fb[0, 0] = y_prev
            fb[0, 1:] = ys[:-1]
        return U, fb

    def _series_features(self, states, U):
        parts = [states[0]]
        if self.include_inputs and U.shape[2]:
            parts.append(U[0])
        return np.hstack(parts)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_series(self, y, X=None):
        """Fit on one long series, stateful: no windows, one reservoir run.

        The reservoir starts from the zero state and runs through every step t,
        driven by ``X[t]`` (if given) and, with ``output_feedback``, by the
        observed ``y[t-1]`` (teacher forcing; 0 before the first step). The
        readout learns ``y[t]`` from the state after step t (and ``X[t]`` with
        ``include_inputs``) for every t >= ``washout``.

        Parameters
        ----------
        y : array-like of shape (n_steps,) or (n_steps, n_outputs)
            The series, oldest first.
        X : array-like of shape (n_steps, n_features), default=None
            Exogenous inputs known at each step. Without X the reservoir needs
            ``output_feedback=True``: nothing else would drive it.

        Returns
        -------
        self
        """
        with undone_on_failure(self):  # a refused refit keeps the last fit
            if X is None and not self.output_feedback:
                raise ValueError("fit_series without X needs output_feedback=True: "
                                 "nothing else drives the reservoir")
            for name in ("coef_", "input_kind_", "mode_", "final_states_") + WINDOW_ATTRIBUTES \
                    + SERIES_ATTRIBUTES:
                self.__dict__.pop(name, None)
            self.dtype_, self.per_step_ = self.dtype, False
            y2, X = self._series_inputs(y, X, reset=True)
            if len(y2) <= self.washout:
                raise ValueError(f"washout={self.washout} leaves none of the {len(y2)} "
                                 "steps of y to learn from")
            self.n_exog_ = 0 if X is None else X.shape[1]
            self.n_outputs_ = y2.shape[1]
            if X is None:
                self.input_mean_, self.input_scale_ = np.zeros(0), np.ones(0)
            else:
                self._fit_scaling(X)
            if self.output_feedback:
                self.target_mean_, self.target_scale_ = mean_scale(y2, None)
            self._init_reservoir(self.n_exog_, self.n_outputs_ if self.output_feedback else 0)
            U, fb = self._drive(y2, X, np.zeros(y2.shape[1]))
            x, _, states = self._run(U, [len(y2)], Y_fb=fb, states=True)
            self.mode_ = "series"
            parts = [states[0, self.washout:]]
            if self.include_inputs and U.shape[2]:  # the blocks of _series_features
                parts.append(U[0, self.washout:])
            self._fit_readout(parts, y2[self.washout:], None)
            self.reservoir_state_, self._last_y = x[0], y2[-1].copy()  # not the caller's
            return self

    def _check_series_fitted(self):
        check_is_fitted(self)
        if self.mode_ != "series":
            raise ValueError("this ESNRegressor was fitted on windows; call fit_series "
                             "first for the stateful mode")
        self._check_fitted_params()

    def update_series(self, y, X=None):
        """Advance the state through newly observed steps (no refit).

        Parameters
        ----------
        y : array-like of shape (n_new,) or (n_new, n_outputs)
            Values observed after the series seen so far.
        X : array-like of shape (n_new, n_features), default=None
            Their exogenous inputs (required if the model was fitted with X).

        Returns
        -------
        predictions : ndarray of shape (n_new,) or (n_new, n_outputs)
            The one-step-ahead predictions of those steps, each made before its
            value was seen.
        """
        self._check_series_fitted()
        y2, X = self._series_inputs(y, X, reset=False)
        y_prev = ((self._last_y - self.target_mean_) / self.target_scale_
                  if self.output_feedback else None)
        U, fb = self._drive(y2, X, y_prev)
        x, _, states = self._run(U, [len(y2)], x0=self.reservoir_state_[None], Y_fb=fb,
                                 states=True)
        pred = self._readout(self._series_features(states, U))
        self.reservoir_state_, self._last_y = x[0], y2[-1].copy()  # not the caller's
        return pred[:, 0] if self._y_ndim == 1 else pred

    def predict_series(self, n_steps=None, X=None):
        """Forecast the steps after the series seen so far (the state is kept).

        With ``output_feedback`` each prediction is fed back as the next step's
        previous value (free-running generation).

        Parameters
        ----------
        n_steps : int, default=None
            Steps to forecast; None means ``len(X)``.
        X : array-like of shape (n_steps, n_features), default=None
            Exogenous inputs of those steps (required if fitted with X).

        Returns
        -------
        ndarray of shape (n_steps,) or (n_steps, n_outputs)
        """
        self._check_series_fitted()
        if X is not None:
            self._check_exog_names(_exog_names(X))
            reject_masked(X, "X")
            X = check_array(X, dtype=np.float64, input_name="X")
            n_steps = len(X) if n_steps is None else n_steps
        if not isinstance(n_steps, Integral) or isinstance(n_steps, bool) or n_steps < 1:
            raise ValueError(f"n_steps must be a positive int, got {n_steps!r}")
        self._check_series_like_fit(np.zeros((0, self.n_outputs_)), X)
        if X is not None and len(X) != n_steps:
            raise ValueError(f"X has {len(X)} rows for n_steps={n_steps}")
        x = self.reservoir_state_[None].copy()
        y_prev = self._last_y
        out = np.empty((n_steps, self.n_outputs_))
        for t in range(n_steps):
            U = np.zeros((1, 1, 0)) if X is None else \
                ((X[t] - self.input_mean_) / self.input_scale_)[None, None]
            fb = np.zeros((1, 1, self.W_fb_.shape[1]))
            if self.output_feedback:
                fb[0, 0] = (y_prev - self.target_mean_) / self.target_scale_
            x, _, states = self._run(U, [1], x0=x, Y_fb=fb, states=True)
            out[t] = y_prev = self._readout(self._series_features(states, U))[0]
        return out[:, 0] if self._y_ndim == 1 else out
