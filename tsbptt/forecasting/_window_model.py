"""Scale-free lag windows for a network, with a linear part it corrects.

:class:`WindowModel` wraps a regressor over the Forecaster's flattened windows
``(n_windows, lags * n_channels)`` (the target is channel 0 of every step):

1. **Per-window normalisation** (instance normalisation, "RevIN": Kim et al.,
   2022). Each window's target values are centred on the window's last value (or
   mean) and divided by their standard deviation, floored so that a flat window
   does not explode; the targets are expressed the same way, relative to a
   *base* (the centre, or with ``season`` the seasonal naive forecast, which is
   seasonal differencing), and the outputs are mapped back exactly:
   ``y = base + scale * output``. A series that trends or wanders therefore
   never leaves the range the network was trained on.
2. **A linear part** (a ridge regression on the same normalised windows and
   their scale, its penalty chosen by leave-one-out from a grid) that
   the network corrects: the network learns its residual. On a time-ordered
   validation tail the corrected forecast must beat the linear one, otherwise
   the network is switched off (``use_network_``): on trends and random walks the
   network is never worse than its linear part there.
"""
import inspect
import time
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Ridge
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ..estimators import capabilities

#: The ridge penalties the linear part chooses from (efficient leave-one-out); a
#: large one shrinks it toward the base, the last value or the seasonal naive one.
_ALPHAS = np.logspace(-3, 4, 15)

__all__ = ["BUDGET", "LINEAR_WINDOWS", "MAX_WINDOWS", "WindowModel", "apply_budget",
           "is_network", "loo_alpha", "window_base", "window_stats"]


def loo_alpha(X, Y, alphas=_ALPHAS):
    """The ridge penalty (intercept unpenalised) with the least leave-one-out
    squared error, summed over the outputs: scikit-learn's ``RidgeCV(alphas)``
    choice, from one thin SVD of the centred inputs instead of one
    decomposition per penalty.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    Y : ndarray of shape (n_samples, n_outputs)
    alphas : sequence of float, default: 15 values from 1e-3 to 1e4

    Returns
    -------
    float
    """
    n = len(X)
    Xc, Yc = X - X.mean(axis=0), Y - Y.mean(axis=0)
    U, s, _ = np.linalg.svd(Xc, full_matrices=False)
    UtY, U2, s2 = U.T @ Yc, U ** 2, s ** 2
    errors = []
    for alpha in alphas:
        shrink = s2 / (s2 + alpha)
        hat = U2 @ shrink + 1.0 / n  # the hat matrix's diagonal, intercept included
        with np.errstate(divide="ignore", invalid="ignore"):  # hat = 1: no left-out fit
            resid = (Yc - U @ (shrink[:, None] * UtY)) / (1.0 - hat)[:, None]
            err = float(np.sum(resid ** 2))
        errors.append(err if np.isfinite(err) else np.inf)
    return float(alphas[int(np.argmin(errors))])


def window_stats(yw, center="last", floor=1e-2, scale=True):
    """Centre and scale of each window's target values.

    Parameters
    ----------
    yw : ndarray of shape (n_windows, lags)
        Target values, oldest first (the last column is the forecast origin).
    center : {'last', 'mean', None}, default='last'
        None: 0 (no centring).
    floor : float, default=1e-2
        The smallest scale (a flat window is divided by this, not by 0).
    scale : bool, default=True
        False: a scale of 1 (centring only).

    Returns
    -------
    loc, scale : ndarray of shape (n_windows,)
    """
    if center is None:
        loc = np.zeros(len(yw))
    else:
        loc = yw[:, -1] if center == "last" else yw.mean(axis=1)
    if not scale:
        return loc, np.ones(len(yw))
    return loc, np.maximum(yw.std(axis=1), floor)


def window_base(yw, loc, horizon, season=None):
    """What each target is expressed relative to: (n_windows, horizon).

    Without ``season``, the window's centre ``loc`` for every step; with it, the
    seasonal naive forecast (the value one season before each step, read from the
    window: lag ``season * ceil(h / season) - h + 1``, lag 1 being the origin).
    """
    if season is None:
        return np.repeat(loc[:, None], horizon, axis=1)
    h = np.arange(1, horizon + 1)
    lag = season * np.ceil(h / season).astype(int) - h + 1
    return yw[:, yw.shape[1] - lag]


#: What a Forecaster tells the network it fits (its progress label, and to defer
#: its ConvergenceWarning to the Forecaster's one summary), kept across the clone.
_FORECASTER_HINTS = ("_progress_label", "_defer_convergence_warning")


class WindowModel(RegressorMixin, BaseEstimator):
    """A regressor on per-window normalised windows, correcting a linear part.

    Parameters
    ----------
    estimator : regressor
        Learns what the linear part leaves (or, with ``linear=False``, the
        normalised targets themselves); cloned in ``fit``.
    n_channels : int, default=1
        Channels per window step; the target is channel 0.
    center : {'last', 'mean', None}, default='last'
        Each window is centred on its last target value or on their mean (None:
        not centred).
    scale_windows : bool, default=True
        Divide each window by its own standard deviation (False: centre only).
    season : int or None, default=None
        Express the targets relative to the seasonal naive forecast (seasonal
        differencing, exact to invert) instead of the window's centre.
    linear : bool, default=True
        Fit a ridge regression on the normalised windows, with each window's
        scale as one more input (a spread that grows with the level, as in a
        multiplicative season; the centre is left out, so a shift of the whole
        series shifts the forecast with it), first; the estimator
        learns its residual, and is dropped if it does not improve on it over
        the last ``validation_fraction`` of the windows (in time order); a
        quantile network (``loss='quantile'``) is always kept, for its bands.
    floor : float, default=1e-2
        The smallest window scale, in the units of the inputs (the Forecaster
        passes globally standardised values, so 1% of the series' spread).
    validation_fraction : float, default=0.2
        The time-ordered tail that decides whether the network helps.
    max_windows : int or None, default=None
        Train the estimator on at most this many windows, evenly spaced in time
        and ending with the latest (overlapping windows repeat each other). The
        linear part and the validation tail then read at most
        ``LINEAR_WINDOWS * max_windows`` windows, spaced the same way: a panel of
        thousands of series costs what its network costs, not a ridge
        regression and a network forecast over every window. None: all of them.
    n_seeds : int, default=1
        Fit this many clones of the estimator, with seeds ``random_state``,
        ``random_state + 1``, ... (an int seed; None: unseeded), and use the median
        of their corrections (and of their quantiles).
    max_time : float or None, default=None
        Seconds the estimator's training may take (all members together; the
        linear part is not counted). The budget is turned into epochs once: one
        epoch of the first member is timed on a throw-away copy, and every member
        trains for at most ``max_iter_`` epochs (never more than its
        ``max_iter``; early stopping may end it sooner). Results then depend on
        the machine's speed and load: to reproduce a fit, pass
        ``max_iter=max_iter_`` and leave ``max_time`` None. Needs an estimator
        with ``max_iter`` (a tsbptt network).

    Attributes
    ----------
    estimator_ : fitted clone of ``estimator``
        The first member.
    estimators_ : list of fitted clones of ``estimator``
        All ``n_seeds`` members.
    max_iter_ : int or None
        The epochs the ``max_time`` budget allowed each member (None without it).
    linear_ : fitted Ridge or None
    use_network_ : bool
        Whether predictions include the estimator's correction.
    validation_mse_ : dict
        ``{'linear': ..., 'network': ...}`` on the validation tail (normalised units).
    """

    _parameter_constraints = {  # noqa: RUF012 (scikit-learn's convention)
        "estimator": [HasMethods(["fit", "predict"])],
        "n_channels": [Interval(Integral, 1, None, closed="left")],
        "center": [StrOptions({"last", "mean"}), None],
        "scale_windows": ["boolean"],
        "season": [Interval(Integral, 1, None, closed="left"), None],
        "linear": ["boolean"],
        "floor": [Interval(Real, 0, None, closed="neither")],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "max_windows": [Interval(Integral, 1, None, closed="left"), None],
        "n_seeds": [Interval(Integral, 1, None, closed="left")],
        "max_time": [Interval(Real, 0, None, closed="neither"), None],
    }

    def __init__(self, estimator, n_channels=1, center="last", scale_windows=True,
                 season=None, linear=True, floor=1e-2, validation_fraction=0.2,
                 max_windows=None, n_seeds=1, max_time=None):
        self.estimator = estimator
        self.n_channels = n_channels
        self.center = center
        self.scale_windows = scale_windows
        self.season = season
        self.linear = linear
        self.floor = floor
        self.validation_fraction = validation_fraction
        self.max_windows = max_windows
        self.n_seeds = n_seeds
        self.max_time = max_time

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def _normalised(self, X, horizon):
        """(normalised X, base (n, horizon), scale (n,), the linear part's inputs:
        normalised X with each window's scale appended)."""
        X = np.asarray(X, dtype=np.float64)
        C = self.n_channels
        yw = X[:, 0::C]
        if self.season is not None and self.season > yw.shape[1]:
            raise ValueError(f"season={self.season} is longer than the windows' "
                             f"{yw.shape[1]} steps: use lags >= season")
        loc, scale = window_stats(yw, self.center, self.floor, self.scale_windows)
        Xn = X.copy()
        Xn[:, 0::C] = (yw - loc[:, None]) / scale[:, None]
        return (Xn, window_base(yw, loc, horizon, self.season), scale,
                np.column_stack([Xn, scale]))

    def fit(self, X, y):
        """Fit on windows ``X`` (n_windows, lags * n_channels) and targets ``y``
        (n_windows,) or (n_windows, horizon), rows in time order.

        Returns
        -------
        self
        """
        self._validate_params()
        if self.max_time is not None and "max_iter" not in self.estimator.get_params():
            raise ValueError(f"max_time={self.max_time!r} needs an estimator trained in "
                             f"epochs (a max_iter parameter); "
                             f"{type(self.estimator).__name__} has none")
        y = np.asarray(y, dtype=np.float64)
        rows = self.sample_rows(len(y))
        if len(rows) < len(y):
            X, y = np.asarray(X, dtype=np.float64)[rows], y[rows]
        self._single = y.ndim == 1
        Y = y[:, None] if self._single else y
        Xn, base, scale, Xl = self._normalised(X, Y.shape[1])
        Yn = (Y - base) / scale[:, None]
        self.linear_ = (Ridge(loo_alpha(Xl, Yn)).fit(Xl, Yn) if self.linear else None)
        lin = self.linear_.predict(Xl) if self.linear else np.zeros_like(Yn)
        target = Yn - lin
        rows = self._training_rows(len(Xn))
        self.estimators_ = self._fit_members(
            Xn[rows], target[rows, 0] if self._single else target[rows])
        self.estimator_ = self.estimators_[0]
        self._n_outputs = Y.shape[1]
        self.use_network_ = True
        self.validation_mse_ = None
        n_val = max(1, round(len(Yn) * self.validation_fraction))
        quantile = getattr(self.estimator_, "loss", None) == "quantile"
        if self.linear and len(Yn) > n_val and not quantile:  # bands need the network
            tail = slice(len(Yn) - n_val, None)
            corr = self._correction(Xn[tail])
            self.validation_mse_ = {
                "linear": float(np.mean(target[tail] ** 2)),
                "network": float(np.mean((target[tail] - corr) ** 2))}
            self.use_network_ = (self.validation_mse_["network"]
                                 < self.validation_mse_["linear"])
        return self

    def _member(self, seed):
        member = clone(self.estimator)
        for hint in _FORECASTER_HINTS:  # private, so clone drops them
            if hint in vars(self.estimator):
                setattr(member, hint, getattr(self.estimator, hint))
        if self.n_seeds > 1 and "random_state" in member.get_params():
            member.set_params(random_state=seed)
        return member

    def _seeds(self):
        """The members' seeds: random_state + i for an int, None for None, drawn
        from a RandomState instance otherwise."""
        base = self.estimator.get_params().get("random_state")
        if base is None or isinstance(base, Integral):
            return [None if base is None else int(base) + i for i in range(self.n_seeds)]
        return [int(v) for v in base.randint(np.iinfo(np.int32).max, size=self.n_seeds)]

    def _fit_members(self, X, y):
        """Fit the n_seeds members, each within the max_time budget's epochs."""
        self.max_iter_, members = None, []
        for i, seed in enumerate(self._seeds()):
            member = self._member(seed)
            if self.max_time is not None:
                if self.max_iter_ is None:
                    self.max_iter_ = self._epochs_within(member, X, y)
                member.set_params(max_iter=self.max_iter_)
            members.append(member.fit(X, y))
            if i:  # only the first member's note reaches the Forecaster's summary
                for name in ("_defer_convergence_warning", "_convergence_note"):
                    vars(member).pop(name, None)
        return members

    def _epochs_within(self, member, X, y):
        """How many epochs of ``member`` fit in max_time (shared by n_seeds
        members), from one epoch timed on a copy; the copy's epoch is counted."""
        probe = clone(member).set_params(max_iter=1)
        t0 = time.perf_counter()
        with warnings.catch_warnings():  # one epoch does not converge, by design
            warnings.simplefilter("ignore", ConvergenceWarning)
            probe.fit(X, y)
        epoch = max(time.perf_counter() - t0, 1e-9)
        per_member = (self.max_time - epoch) / self.n_seeds
        return int(min(member.get_params()["max_iter"], max(1, per_member // epoch)))

    def _correction(self, Xn):
        """The members' median prediction: (n_windows, n_outputs)."""
        preds = [self._raw(m.predict(Xn), len(Xn)) for m in self.estimators_]
        return preds[0] if len(preds) == 1 else np.median(preds, axis=0)

    def _training_rows(self, n):
        """Every ``ceil(n / max_windows)``-th row, counted back from the last."""
        return _evenly(n, self.max_windows)

    def sample_rows(self, n):
        """The rows of ``n`` windows (in time order) that :meth:`fit` reads: all
        of them, or with ``max_windows`` at most ``LINEAR_WINDOWS * max_windows``
        evenly spaced ones ending with the latest. Fitting on ``X[rows]`` is
        fitting on ``X``."""
        return _evenly(n, None if self.max_windows is None
                       else LINEAR_WINDOWS * self.max_windows)

    @staticmethod
    def _raw(pred, n):
        return np.asarray(pred, dtype=np.float64).reshape(n, -1)

    def _linear_part(self, Xl, shape):
        return self.linear_.predict(Xl).reshape(shape) if self.linear else 0.0

    def predict(self, X):
        """Forecasts in the units of ``y``: (n_windows,) or (n_windows, horizon)."""
        check_is_fitted(self)
        Xn, base, scale, Xl = self._prepared(X)
        out = self._linear_part(Xl, base.shape)
        if self.use_network_:
            out = out + self._correction(Xn)
        out = base + scale[:, None] * out
        return out[:, 0] if self._single else out

    def _prepared(self, X):
        return self._normalised(X, self._n_outputs)

    def predict_quantiles(self, X):
        """The estimator's quantiles (loss='quantile') in y's units, the linear part
        added to every level: (n_windows, n_quantiles) or (n_windows, horizon,
        n_quantiles)."""
        check_is_fitted(self)
        Xn, base, scale, Xl = self._prepared(X)
        q = np.median([np.asarray(m.predict_quantiles(Xn), dtype=np.float64).reshape(
            len(Xn), base.shape[1], -1) for m in self.estimators_], axis=0)
        q = q + np.asarray(self._linear_part(Xl, base.shape))[..., None]
        out = base[..., None] + scale[:, None, None] * q
        return out[:, 0] if self._single else out


#: What ``Forecaster(training='auto')`` gives a tsbptt regressor's parameters that
#: are left at their defaults: early stopping on the time-ordered tail, and a
#: larger batch and rate, so that a fit takes seconds.
BUDGET = {"max_iter": 40, "early_stopping": True, "validation_fraction": 0.2,
          "n_iter_no_change": 5, "learning_rate": 3e-3, "batch_size": 64}

#: How many windows ``training='auto'`` lets a network train on (WindowModel's
#: ``max_windows``).
MAX_WINDOWS = 600


#: With ``max_windows``, how many windows per network window the linear part and
#: the validation tail read (WindowModel.sample_rows): 12,000 for the default 600,
#: far more than a ridge regression of a few dozen inputs needs.
LINEAR_WINDOWS = 20


def _evenly(n, most):
    """Every ``ceil(n / most)``-th of ``n`` rows, counted back from the last (all
    of them for ``most`` None or >= n)."""
    if most is None or n <= most:
        return np.arange(n)
    stride = -(-n // most)
    return np.arange(n - 1, -1, -stride)[::-1]


def is_network(estimator):
    """Whether ``estimator`` is a tsbptt recurrent network (it declares so)."""
    return capabilities(estimator).recurrent


def apply_budget(estimator, stateful=False):
    """Set the :data:`BUDGET` values on the parameters of ``estimator`` (in place)
    that are at their class defaults; a stateful fit keeps early stopping off."""
    defaults = {name: p.default for name, p in
                inspect.signature(type(estimator).__init__).parameters.items()}
    params = estimator.get_params()
    estimator.set_params(**{
        k: v for k, v in BUDGET.items()
        if k in params and params[k] == defaults.get(k, v)
        and not (stateful and k in ("early_stopping", "validation_fraction",
                                    "n_iter_no_change"))})
    return estimator
