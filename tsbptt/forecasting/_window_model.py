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
2. **A linear part** that the network corrects: the network learns its
   residual. By default the mean of two ridge regressions (penalties chosen by
   leave-one-out from a grid): one on the normalised windows and their scale,
   clipped to a range around its training range (beyond it scale-free: it follows
   a trend or a walk, and a window k times wider gets a forecast k times wider,
   not k**2), one on the lags centred on the
   last value plus that value, clipped to its training range (inside it, a
   Ridge on the raw lags: it sees the level; beyond it, still shift-free). On
   the accuracy benchmark the average beat the scale-free part alone and
   choosing between the two on the validation tail (``linear='auto'``; see
   benchmarks/reports/accuracy.md). On a time-ordered validation tail the network's
   correction is weighted by its least-squares weight clipped to [0, 1]
   (``network_weight_``; 0 switches the network off): on trends and random
   walks the network is never worse than its linear part there.
"""
import inspect
import time
from numbers import Integral, Real

import numpy as np
from sklearn import get_config
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.linear_model import Ridge
from sklearn.pipeline import Pipeline
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, has_fit_parameter

from ..engine._threads import all_blas_single_threaded
from ..estimators import capabilities
from ._parts import _MemberWarnings

#: The ridge penalties the linear part chooses from (efficient leave-one-out); a
#: large one shrinks it toward the base, the last value or the seasonal naive one.
_ALPHAS = np.logspace(-3, 4, 15)

#: From this many windows and columns both, the leave-one-out ridge decomposes the
#: Gram matrix of the smaller side (eigh) instead of the windows (thin SVD): 4-5x
#: faster (a Forecaster with series_id over 100 series, 4,100 windows x 4,848
#: columns: 60 s an SVD, 11-17 s the Gram and eigh, one BLAS thread), at the price
#: of the squared condition number, which the smallest penalty (1e-3, on inputs of
#: unit spread) keeps harmless. Below it the SVD, whose bits every smaller fit keeps.
GRAM_FROM = 1024

#: The fewest windows of the validation tail that weigh the network's correction
#: (a fifth of 23 windows, rounded); with fewer the linear part forecasts alone. On
#: 5 to 6 quarters and a horizon of 4 the tail was one window, or none, and a
#: network fitted on one or two windows was added whole (an economist's trial).
MIN_VALIDATION_WINDOWS = 5

__all__ = ["BUDGET", "LINEAR_WINDOWS", "MAX_WINDOWS", "WindowModel", "apply_budget",
           "is_network", "loo_alpha", "loo_ridge", "window_base", "window_stats"]


def loo_alpha(X, Y, alphas=_ALPHAS):
    """The ridge penalty (intercept unpenalised) with the least leave-one-out
    squared error, summed over the outputs: scikit-learn's ``RidgeCV(alphas)``
    choice, from one thin SVD of the centred inputs (or, when both sides reach
    :data:`GRAM_FROM`, one eigendecomposition of their smaller Gram matrix) instead
    of one decomposition per penalty.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    Y : ndarray of shape (n_samples, n_outputs)
    alphas : sequence of float, default: 15 values from 1e-3 to 1e4

    Returns
    -------
    float
    """
    return loo_ridge(X, Y, alphas).alpha


def loo_ridge(X, Y, alphas=_ALPHAS, weights=None):
    """``Ridge(loo_alpha(X, Y, alphas)).fit(X, Y)``, from the same decomposition.

    The chosen penalty's coefficients come from the decomposition that scored
    the penalties: no second decomposition of the data.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
    Y : ndarray of shape (n_samples, n_outputs)
    alphas : sequence of float, default: 15 values from 1e-3 to 1e4

    Returns
    -------
    Ridge
        Fitted (``coef_`` of shape (n_outputs, n_features), or (n_features,) for
        one output, and ``intercept_`` of shape (n_outputs,)), equal to
        ``Ridge(alpha).fit(X, Y)``'s to rounding.
    """
    # one BLAS thread: an SVD and a product summed over all the windows split their
    # sums by thread count, and a joblib worker (n_jobs) runs one thread where this
    # process may run several: the same bits in both
    with all_blas_single_threaded():
        return _loo_ridge(X, Y, alphas, weights)


def _loo_ridge(X, Y, alphas, weights=None):
    alphas = np.asarray(alphas, dtype=np.float64)
    n, H = Y.shape
    if weights is None:
        x_mean, y_mean = X.mean(axis=0), Y.mean(axis=0)
        Xc, Yc = X - x_mean, Y - y_mean
        lead = np.full(n, 1.0 / n)  # the intercept's share of the hat diagonal
    else:  # rows scaled by sqrt(w) about the weighted means, as RidgeCV does
        w = np.asarray(weights, dtype=np.float64)
        x_mean, y_mean = w @ X / w.sum(), w @ Y / w.sum()
        root = np.sqrt(w)[:, None]
        Xc, Yc = (X - x_mean) * root, (Y - y_mean) * root
        lead = w / w.sum()
    gram = min(Xc.shape) >= GRAM_FROM
    errors, coef_of = (_loo_errors_gram if gram else _loo_errors_svd)(Xc, Yc, alphas, lead)
    errors[~np.isfinite(errors)] = np.inf
    best = int(np.argmin(errors))
    coef = coef_of(alphas[best])  # (n_features, n_outputs)
    ridge = Ridge(float(alphas[best]))
    ridge.coef_ = coef[:, 0] if H == 1 else coef.T  # as Ridge.fit stores one output
    ridge.intercept_ = y_mean - x_mean @ coef
    ridge.n_features_in_, ridge.n_iter_ = X.shape[1], None
    # how it was solved, in RidgeCV's words (gcv_mode 'svd' or 'eigen'; Ridge itself
    # has no 'eigen' solver: this ridge was not fitted by Ridge.fit)
    ridge.solver_ = "eigen" if gram else "svd"
    return ridge


def _loo_errors_svd(Xc, Yc, alphas, lead):
    """Leave-one-out squared errors of ridge fits of centred ``Yc`` on centred
    ``Xc``, one per penalty, from the thin SVD Xc = U diag(s) Vt; and a function
    of a penalty giving its coefficients (n_features, n_outputs). ``lead``: the
    intercept's share of the hat matrix's diagonal."""
    U, s, Vt = np.linalg.svd(Xc, full_matrices=False)
    UtY, U2, s2 = U.T @ Yc, U ** 2, s ** 2

    def fit_and_hat(alpha, out):
        shrink = s2 / (s2 + alpha)
        return np.matmul(U, shrink[:, None] * UtY, out=out), U2 @ shrink + lead

    return (_loo_errors(Yc, alphas, fit_and_hat),
            lambda alpha: (Vt.T * (s / (s2 + alpha))) @ UtY)


def _loo_errors_gram(Xc, Yc, alphas, lead):
    """:func:`_loo_errors_svd` from the eigendecomposition of the Gram matrix of
    Xc's smaller side: Xc Xc^T = U diag(s^2) U^T with fewer windows than columns,
    else Xc^T Xc = V diag(s^2) V^T, with B = Xc V standing for U diag(s)."""
    n, p = Xc.shape
    if n <= p:
        s2, U = np.linalg.eigh(Xc @ Xc.T)
        s2 = np.maximum(s2, 0.0)  # rounding leaves the null space at +-1e-12
        UtY, U2 = U.T @ Yc, U ** 2

        def fit_and_hat(alpha, out):
            shrink = s2 / (s2 + alpha)
            return np.matmul(U, shrink[:, None] * UtY, out=out), U2 @ shrink + lead

        # V diag(s / (s^2 + a)) U^T = Xc^T U diag(1 / (s^2 + a)) U^T
        return (_loo_errors(Yc, alphas, fit_and_hat),
                lambda alpha: Xc.T @ (U @ (UtY / (s2 + alpha)[:, None])))
    s2, V = np.linalg.eigh(Xc.T @ Xc)
    s2 = np.maximum(s2, 0.0)
    B = Xc @ V  # U diag(s): no division by the zero singular values
    BtY, B2 = B.T @ Yc, B ** 2

    def fit_and_hat(alpha, out):  # U diag(s^2 / (s^2 + a)) U^T = B diag(1 / (s^2 + a)) B^T
        d = 1.0 / (s2 + alpha)
        return np.matmul(B, d[:, None] * BtY, out=out), B2 @ d + lead

    return (_loo_errors(Yc, alphas, fit_and_hat),
            lambda alpha: V @ (BtY / (s2 + alpha)[:, None]))


def _loo_errors(Yc, alphas, fit_and_hat):
    """Sum of squared leave-one-out residuals (Yc - fit) / (1 - hat) for each
    penalty, ``fit_and_hat(alpha, out)`` writing the fitted values into ``out``
    and returning them with the hat matrix's diagonal (intercept included)."""
    errors = np.empty(len(alphas))
    resid = np.empty_like(Yc)  # one buffer, written in place: the same numbers as
    for i, alpha in enumerate(alphas):  # fresh arrays, without their page faults
        _, hat = fit_and_hat(alpha, resid)
        with np.errstate(divide="ignore", invalid="ignore"):  # hat = 1: no left-out fit
            np.subtract(Yc, resid, out=resid)
            np.divide(resid, (1.0 - hat)[:, None], out=resid)
            errors[i] = np.sum(np.square(resid, out=resid))
    return errors


def _flat_window_weights(scale, groups=None, floor=0.0):
    """Each window's weight in the fits on normalised targets: 1, but for windows
    flatter than their series' reference, (scale / reference)**2; the reference
    is the median scale of the series' windows that are not flat (above
    ``floor``, the scale a flat window is given), or of all of them where all
    are (``groups``: a series id per window; None: one series). A flat window's
    targets are divided by its small (or floored) scale: a series of mostly zeros
    gave normalised targets of +-500 that held 99.9% of the squared error, and the
    ridge fitted those windows alone. The weight brings such a window's error back
    towards the series' own units, where the others' already are; a smooth series
    in a panel of noisy ones keeps its own reference. Over all windows, the median
    was the floor itself where more than half are flat (demand on 3% of the days):
    every weight was 1, and a window ridge forecast up to 30 for sales of 0 to 9."""
    groups = np.zeros(len(scale), dtype=np.intp) if groups is None else groups
    ids, inverse = np.unique(groups, return_inverse=True)
    medians = np.empty(len(ids))
    for k in range(len(ids)):
        own = scale[inverse == k]
        moving = own[own > floor]
        medians[k] = np.median(moving if len(moving) else own)
    return np.minimum(1.0, scale / medians[inverse]) ** 2


def _sample_weight_of(estimator, weights):
    """The fit argument that gives ``estimator`` the windows' ``weights``, or {} where
    it does not weigh samples itself: a tsbptt network or echo-state network, a
    scikit-learn model whose fit takes ``sample_weight`` and wraps no other model (a
    wrapper's may be refused by what it wraps: MultiOutputRegressor around
    KNeighborsRegressor), or a Pipeline ending in such a model. Unweighted, the flat
    windows of intermittent demand, their targets divided by a floored scale, held
    the fit: a window ridge forecast 9.7 on average for data in [0, 12] of mean 0.5."""
    if weights is None:
        return {}
    if isinstance(estimator, Pipeline) and not get_config().get(
            "enable_metadata_routing", False):  # routed, a step must ask for them
        name, last = estimator.steps[-1]
        return ({f"{name}__sample_weight": weights}
                if last != "passthrough" and _sample_weight_of(last, weights) else {})
    if not has_fit_parameter(estimator, "sample_weight"):
        return {}
    wraps = any(hasattr(v, "fit") for v in estimator.get_params(deep=False).values())
    return {"sample_weight": weights} if is_network(estimator) or not wraps else {}


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
    with np.errstate(over="ignore", invalid="ignore"):
        spread = yw.std(axis=1)
    over = ~np.isfinite(spread) & np.isfinite(yw).all(axis=1)
    if over.any():  # squares past the float64 range (values from ~1e154): scaled first
        top = np.abs(yw[over]).max(axis=1, keepdims=True)
        spread[over] = top[:, 0] * (yw[over] / top).std(axis=1)
    return loc, np.maximum(spread, floor)


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
_FORECASTER_HINTS = ("_progress_label", "_defer_convergence_warning", "_quiet_small_spread")


def clone_with_hints(estimator):
    """``clone(estimator)`` with the Forecaster's hints (:data:`_FORECASTER_HINTS`),
    which are private, so clone drops them."""
    member = clone(estimator)
    for hint in _FORECASTER_HINTS:
        if hint in vars(estimator):
            setattr(member, hint, getattr(estimator, hint))
    return member


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
    linear : {True, 'mean', 'window', 'lags', 'auto', False}, default=True
        The linear part, fitted first; the estimator learns its residual.
        ``'window'``: a ridge regression on the normalised windows, with each
        window's scale as one more input (a spread that grows with the level, as
        in a multiplicative season; the centre is left out, so a shift of the
        whole series shifts the forecast with it). ``'lags'``: a ridge
        regression on the windows as given (the Forecaster's globally scaled
        lags), which sees the level; its centre input is clipped to the range
        seen in training, so that beyond it the forecast shifts with the series
        (see ``level_range_``). ``'mean'`` (also True): the mean of the two.
        ``'auto'``: whichever of the three, each fitted on the windows before the
        last ``validation_fraction``, forecasts those last ones best. False: no
        linear part.
    shrink : bool, default=True
        With a linear part: weight the estimator's correction by its
        least-squares weight against the linear part's residual over the last
        ``validation_fraction`` of the windows (in time order), clipped to [0,
        1]. False: weight 1 if it lowers the squared error there, else 0. Where
        that tail holds fewer than :data:`MIN_VALIDATION_WINDOWS` windows, or no
        window is left before it, the weight is 0: the linear part forecasts
        alone. A quantile network (``loss='quantile'``) is always kept whole, for
        its bands.
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
    linear_kind_ : {'window', 'lags', 'mean'} or None
        The linear part used (None without one).
    linear_ : fitted Ridge or None
        On the normalised windows ('window' and 'mean').
    linear_lags_ : fitted Ridge or None
        On the lags ('lags' and 'mean'), centred, plus the clipped centre.
    level_range_ : tuple of float
        With ``linear_lags_`` and centring: the smallest and largest window centre
        in training (the centre input is clipped to it).
    scale_range_ : tuple of float
        The range of the window scales in training, widened by its width on either
        side (not below 0): the scale input of ``linear_`` is clipped to it. Its output is
        multiplied by the scale again, so an unclipped input made forecasts grow
        with the scale's square (an outlier of 1e10 in the lags forecast ~1e20,
        and recursive forecasts overflowed); within the widened range a series
        whose swings grow with its level (multiplicative seasonality) keeps the
        growth the ridge learned.
    network_weight_ : float
        The weight of the estimator's correction in the forecasts, in [0, 1].
    use_network_ : bool
        Whether predictions include the estimator's correction (weight > 0).
    validation_mse_ : dict or None
        ``{'linear': ..., 'network': ..., 'weighted': ...}`` on the validation tail
        (normalised units): the linear part alone, plus the whole correction,
        plus the weighted one.
    """

    _parameter_constraints = {  # noqa: RUF012 (scikit-learn's convention)
        "estimator": [HasMethods(["fit", "predict"])],
        "n_channels": [Interval(Integral, 1, None, closed="left")],
        "center": [StrOptions({"last", "mean"}), None],
        "scale_windows": ["boolean"],
        "season": [Interval(Integral, 1, None, closed="left"), None],
        "linear": ["boolean", StrOptions({"window", "lags", "mean", "auto"})],
        "shrink": ["boolean"],
        "floor": [Interval(Real, 0, None, closed="neither")],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "max_windows": [Interval(Integral, 1, None, closed="left"), None],
        "n_seeds": [Interval(Integral, 1, None, closed="left")],
        "max_time": [Interval(Real, 0, None, closed="neither"), None],
    }

    def __init__(self, estimator, n_channels=1, center="last", scale_windows=True,
                 season=None, linear=True, shrink=True, floor=1e-2,
                 validation_fraction=0.2, max_windows=None, n_seeds=1, max_time=None):
        self.estimator = estimator
        self.n_channels = n_channels
        self.center = center
        self.scale_windows = scale_windows
        self.season = season
        self.linear = linear
        self.shrink = shrink
        self.floor = floor
        self.validation_fraction = validation_fraction
        self.max_windows = max_windows
        self.n_seeds = n_seeds
        self.max_time = max_time

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def _normalised(self, X, horizon, fitting=False):
        """(normalised X, base (n, horizon), scale (n,), the linear part's inputs:
        normalised X with each window's scale appended, clipped to
        ``scale_range_``, which ``fitting`` sets)."""
        X = np.asarray(X, dtype=np.float64)
        C = self.n_channels
        yw = X[:, 0::C]
        if self.season is not None and self.season > yw.shape[1]:
            raise ValueError(f"season={self.season} is longer than the windows' "
                             f"{yw.shape[1]} steps: use lags >= season")
        loc, scale = window_stats(yw, self.center, self.floor, self.scale_windows)
        Xn = X.copy()
        Xn[:, 0::C] = (yw - loc[:, None]) / scale[:, None]
        if fitting:  # the training range, widened by its own width on either side
            lo, hi = float(scale.min()), float(scale.max())
            self.scale_range_ = (max(lo - (hi - lo), 0.0), hi + (hi - lo))
        bounds = getattr(self, "scale_range_", None)  # None: a file saved before it
        return (Xn, window_base(yw, loc, horizon, self.season), scale,
                np.column_stack([Xn, scale if bounds is None else np.clip(scale, *bounds)]))

    def fit(self, X, y, groups=None):
        """Fit on windows ``X`` (n_windows, lags * n_channels) and targets ``y``
        (n_windows,) or (n_windows, horizon), rows in time order; ``groups``
        (n_windows,): each window's series, whose windows' median scale its flatness
        is judged against (None: one series).

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
            groups = None if groups is None else np.asarray(groups)[rows]
        self._single = y.ndim == 1
        Y = y[:, None] if self._single else y
        X = np.asarray(X, dtype=np.float64)
        Xn, base, scale, Xl = self._normalised(X, Y.shape[1], fitting=True)
        Yn = (Y - base) / scale[:, None]
        weights = (_flat_window_weights(scale, groups, self.floor) if self.scale_windows
                   else None)
        n_val = max(1, round(len(Yn) * self.validation_fraction))
        self.linear_ = self.linear_lags_ = self.linear_kind_ = None
        lin = np.zeros_like(Yn)
        if self.linear:
            self._fit_linear(X, Xl, Y, Yn, base, scale, n_val, weights)
            lin = self._linear_part(X, Xl, base, scale)
        target = Yn - lin
        rows = self._training_rows(len(Xn))
        self.estimators_ = self._fit_members(
            Xn[rows], target[rows, 0] if self._single else target[rows],
            None if weights is None else weights[rows])
        self.estimator_ = self.estimators_[0]
        self._n_outputs = Y.shape[1]
        self.network_weight_, self.validation_mse_ = 1.0, None
        quantile = getattr(self.estimator_, "loss", None) == "quantile"
        if self.linear and not quantile:  # bands need the network
            if len(Yn) - n_val < 1 or n_val < MIN_VALIDATION_WINDOWS:
                # no tail to tell whether it helps: a network fitted on a few
                # windows (one, for 5 quarters and a horizon of 4) was added whole
                self.network_weight_ = 0.0
            else:
                tail = slice(len(Yn) - n_val, None)
                self._weigh_network(target[tail], self._correction(Xn[tail]),
                                    None if weights is None else weights[tail])
        self.use_network_ = self.network_weight_ > 0
        return self

    def _fit_linear(self, X, Xl, Y, Yn, base, scale, n_val, weights=None):
        """The linear part: ridge on the normalised windows ('window'), on the
        centred lags and the clipped level (see :meth:`_lag_inputs`; 'lags') or the
        mean of the two ('mean', also True); ``linear='auto'`` takes whichever of
        the three forecasts the time-ordered tail best when fitted on the windows
        before it ('mean' when the windows are too few to tell)."""
        kind = {True: "mean", "auto": "mean"}.get(self.linear, self.linear)
        if self.linear == "auto" and len(Yn) > n_val + X.shape[1]:  # a head to fit on
            head, tail = slice(0, len(Yn) - n_val), slice(len(Yn) - n_val, None)
            win = loo_ridge(Xl[head], Yn[head], weights=None if weights is None
                            else weights[head])
            A, B, _ = self._lag_inputs(X[head], Y[head])  # the head's level range
            lags = loo_ridge(A, B)
            A, _, shift = self._lag_inputs(X[tail])
            preds = {"window": base[tail] + scale[tail, None]
                     * win.predict(Xl[tail]).reshape(Yn[tail].shape),
                     "lags": shift[:, None] + lags.predict(A).reshape(Y[tail].shape)}
            preds["mean"] = (preds["window"] + preds["lags"]) / 2
            errors = {k: float(np.mean((Y[tail] - p) ** 2)) for k, p in preds.items()}
            kind = min(errors, key=errors.get)
        self.linear_kind_ = kind
        self.linear_ = loo_ridge(Xl, Yn, weights=weights) if kind in ("window", "mean") \
            else None
        self.linear_lags_ = None
        if kind in ("lags", "mean"):
            A, B, _ = self._lag_inputs(X, Y)
            self.linear_lags_ = loo_ridge(A, B)

    def _lag_inputs(self, X, Y=None):
        """The lags part's inputs and targets, and each window's centre (n_windows,).

        The target values are centred on the window's centre, which is given as
        one more input, clipped to the range it had in training (``level_range_``,
        set when ``Y`` is given): inside that range this is a ridge regression on
        the lags as given (the level can pull the forecast, as in a mean-reverting
        series); beyond it, a shift of the whole series shifts the forecast with
        it, as the scale-free part does. Without centring (``center=None``): the
        windows as given.
        """
        if self.center is None:
            return X, Y, np.zeros(len(X))
        C = self.n_channels
        shift, _ = window_stats(X[:, 0::C], self.center, scale=False)
        if Y is not None:
            self.level_range_ = (float(shift.min()), float(shift.max()))
        A = X.copy()
        A[:, 0::C] -= shift[:, None]
        A = np.column_stack([A, np.clip(shift, *self.level_range_)])
        return A, None if Y is None else Y - shift[:, None], shift

    def _weigh_network(self, target, corr, weights=None):
        """How much of the network's correction to add: the least-squares weight
        of ``corr`` against what the linear part leaves on the validation tail,
        clipped to [0, 1] (0: the network is switched off); windows weighted as the
        linear part weighs them."""
        w = np.ones(len(target)) if weights is None else weights
        w = w.reshape((-1,) + (1,) * (target.ndim - 1)) / w.mean()
        denom = float(np.sum(w * corr ** 2))
        weight = float(np.clip(np.sum(w * target * corr) / denom, 0.0, 1.0)) \
            if denom > 0 else 0.0
        self.validation_mse_ = {
            "linear": float(np.mean(w * target ** 2)),
            "network": float(np.mean(w * (target - corr) ** 2)),
            "weighted": float(np.mean(w * (target - weight * corr) ** 2))}
        self.network_weight_ = weight if self.shrink else float(
            self.validation_mse_["network"] < self.validation_mse_["linear"])

    def _member(self, seed):
        member = clone_with_hints(self.estimator)
        if self.n_seeds > 1 and "random_state" in member.get_params():
            member.set_params(random_state=seed)
        return member

    def _seeds(self):
        """The members' seeds: random_state + i for an int, None for None, drawn
        from a RandomState instance otherwise."""
        if hasattr(self.estimator, "_parameter_constraints"):  # a bad seed named
            self.estimator._validate_params()
        base = self.estimator.get_params().get("random_state")
        if base is None or isinstance(base, Integral):
            # NumPy takes seeds below 2**32: the members' wrap round
            return [None if base is None else (int(base) + i) % 2**32
                    for i in range(self.n_seeds)]
        return [int(v) for v in base.randint(np.iinfo(np.int32).max, size=self.n_seeds)]

    def _fit_members(self, X, y, weights=None):
        """Fit the n_seeds members, each within the max_time budget's epochs, with
        the windows' ``weights`` where the estimator takes them itself."""
        self.max_iter_, members = None, []
        weighted = _sample_weight_of(self.estimator, weights)
        for i, seed in enumerate(self._seeds()):
            member = self._member(seed)
            if self.max_time is not None:
                if self.max_iter_ is None:
                    self.max_iter_ = self._epochs_within(member, X, y)
                member.set_params(max_iter=self.max_iter_)
            members.append(member.fit(X, y, **weighted))
            if i:  # only the first member's note reaches the Forecaster's summary
                for name in ("_defer_convergence_warning", "_convergence_note"):
                    vars(member).pop(name, None)
        return members

    def _epochs_within(self, member, X, y):
        """How many epochs of ``member`` fit in max_time (shared by n_seeds
        members), from one epoch timed on a copy; the copy's epoch is counted."""
        probe = clone(member).set_params(max_iter=1)
        # one epoch does not converge, by design: a tsbptt network keeps its note,
        # a scikit-learn one's warning goes to a list dropped (in this thread only;
        # catch_warnings swapped the process's filters under other threads)
        probe._defer_convergence_warning = True
        t0 = time.perf_counter()
        with _MemberWarnings([]):
            probe.fit(X, y)
        epoch = max(time.perf_counter() - t0, 1e-9)
        per_member = (self.max_time - epoch) / self.n_seeds
        return int(min(member.get_params()["max_iter"], max(1, per_member // epoch)))

    def _correction(self, Xn):
        """The members' median prediction: (n_windows, n_outputs)."""
        preds = [self._raw(m.predict(Xn), len(Xn)) for m in self.estimators_]
        return preds[0] if len(preds) == 1 else np.median(preds, axis=0)

    def _training_rows(self, n):
        """``max_windows`` rows spread over the ``n``, the last among them."""
        return _evenly(n, self.max_windows)

    def sample_rows(self, n):
        """The rows of ``n`` windows (in time order) that :meth:`fit` reads: all
        of them, or with ``max_windows`` at most ``LINEAR_WINDOWS * max_windows``
        spread evenly over them (and their seasons) ending with the latest.
        Fitting on ``X[rows]`` is fitting on ``X``."""
        return _evenly(n, None if self.max_windows is None
                       else LINEAR_WINDOWS * self.max_windows)

    @staticmethod
    def _raw(pred, n):
        return np.asarray(pred, dtype=np.float64).reshape(n, -1)

    def _linear_part(self, X, Xl, base, scale):
        """The linear part's forecast in normalised units: (n_windows, horizon)."""
        parts = []
        if self.linear_ is not None:
            parts.append(self.linear_.predict(Xl).reshape(base.shape))
        if self.linear_lags_ is not None:
            A, _, shift = self._lag_inputs(X)
            pred = shift[:, None] + self.linear_lags_.predict(A).reshape(base.shape)
            parts.append((pred - base) / scale[:, None])
        return sum(parts) / len(parts) if parts else np.zeros_like(base)

    def predict(self, X):
        """Forecasts in the units of ``y``: (n_windows,) or (n_windows, horizon)."""
        check_is_fitted(self)
        X, Xn, base, scale, Xl = self._prepared(X)
        out = self._linear_part(X, Xl, base, scale)
        if self.use_network_:
            out = out + self.network_weight_ * self._correction(Xn)
        out = base + scale[:, None] * out
        return out[:, 0] if self._single else out

    def _prepared(self, X):
        X = np.asarray(X, dtype=np.float64)
        return (X, *self._normalised(X, self._n_outputs))

    def predict_quantiles(self, X):
        """The estimator's quantiles (loss='quantile') in y's units, the linear part
        added to every level: (n_windows, n_quantiles) or (n_windows, horizon,
        n_quantiles)."""
        check_is_fitted(self)
        X, Xn, base, scale, Xl = self._prepared(X)
        q = np.median([np.asarray(m.predict_quantiles(Xn), dtype=np.float64).reshape(
            len(Xn), base.shape[1], -1) for m in self.estimators_], axis=0)
        q = q + self._linear_part(X, Xl, base, scale)[..., None]
        out = base[..., None] + scale[:, None, None] * q
        return out[:, 0] if self._single else out


#: What ``Forecaster(training='auto')`` gives a tsbptt regressor's parameters that
#: are left at their defaults: early stopping on the time-ordered tail, and a
#: larger batch and rate, so that a fit takes seconds.
BUDGET = {"max_iter": 40, "early_stopping": True, "validation_fraction": 0.2,
          "n_iter_no_change": 3, "learning_rate": 3e-3, "batch_size": 64}

#: How many windows ``training='auto'`` lets a network train on (WindowModel's
#: ``max_windows``).
MAX_WINDOWS = 600


#: With ``max_windows``, how many windows per network window the linear part and
#: the validation tail read (WindowModel.sample_rows): 12,000 for the default 600,
#: far more than a ridge regression of a few dozen inputs needs.
LINEAR_WINDOWS = 20


#: The golden ratio's fraction: :func:`_evenly` moves each pick this much of a
#: stretch further into its stretch than the last, modulo one (a low-discrepancy
#: sequence).
_GOLDEN = 0.6180339887498949


def _evenly(n, most):
    """``most`` of ``n`` rows in time order (all of them for ``most`` None or >= n):
    one in each of ``most`` stretches of whole rows, as equal as whole rows allow,
    counted back from the last row, which is always taken, at a place in its
    stretch that moves on by the golden ratio's fraction from one to the next.

    Spread evenly, and over every phase of any season: every ``ceil(n / most)``-th
    row, the picks aliased with a season whose period shared a factor with the
    stride (hourly rows every 24th: one hour of the day; every 84th: two), and a
    network trained on them forecast a clean sine 0.8 off."""
    if most is None or n <= most:
        return np.arange(n)
    # stretch i holds the rows counted back from the last in [start_i, start_i+1):
    # whole rows, disjoint, at least one each, so the picks are distinct and sorted
    start = (np.arange(most + 1) * n) // most
    i = np.arange(most)
    back = start[:-1] + ((i * _GOLDEN) % 1.0 * (start[1:] - start[:-1])).astype(np.int64)
    return (n - 1 - back)[::-1]


def is_network(estimator):
    """Whether ``estimator`` is a tsbptt recurrent network (it declares so)."""
    return capabilities(estimator).recurrent


#: Below this many training windows ``training='auto'`` leaves early stopping off:
#: a validation tail of a fifth of them would be one or two windows (none left to
#: train on, at one window: a fit of a series just long enough for its lags and
#: horizon failed, naming a validation_fraction the user never set).
MIN_VALIDATED_WINDOWS = 10


def _class_defaults(estimator):
    """The defaults of ``estimator``'s class's parameters, by name."""
    return {name: p.default for name, p in
            inspect.signature(type(estimator).__init__).parameters.items()}


def _left_at_default(estimator):
    """The names of ``estimator``'s :data:`BUDGET` parameters that equal their class
    defaults and were not given explicitly: an estimator's ``_given_params`` (set by
    the command line, which knows its flags; kept by ``clone``) names those that
    were."""
    defaults = _class_defaults(estimator)
    given = vars(estimator).get("_given_params", ())
    params = estimator.get_params()
    return {k for k in BUDGET if k in params and k in defaults and k not in given
            and params[k] == defaults[k]}


def budget_sets_epochs(estimator):
    """Whether :func:`apply_budget` replaces ``estimator``'s ``max_iter`` (left at its
    class default)."""
    return "max_iter" in _left_at_default(estimator)


def apply_budget(estimator, stateful=False, n_windows=None):
    """Set the :data:`BUDGET` values on the parameters of ``estimator`` (in place)
    that are at their class defaults (:func:`_left_at_default`); a stateful fit, or
    one of fewer than :data:`MIN_VALIDATED_WINDOWS` windows (``n_windows``), keeps
    early stopping off."""
    left = _left_at_default(estimator)
    unvalidated = stateful or (n_windows is not None and n_windows < MIN_VALIDATED_WINDOWS)
    estimator.set_params(**{
        k: v for k, v in BUDGET.items()
        if k in left and not (unvalidated and k in ("early_stopping", "validation_fraction",
                                                    "n_iter_no_change"))})
    return estimator
