"""Baseline forecasts to beat, as regressors over the Forecaster's windows.

A baseline that is a scikit-learn regressor over the same lag windows runs through
the same :class:`tsbptt.Forecaster`, :func:`tsbptt.backtest` and command line as
the networks, so every comparison is like for like.
"""
from __future__ import annotations

from numbers import Integral

import numpy as np
from numpy.typing import ArrayLike
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted, validate_data

from ..estimators import Capabilities
from ..utils._validation import refuse_bool_numbers

__all__ = ["SeasonalNaive"]


class SeasonalNaive(RegressorMixin, BaseEstimator):
    """The seasonal naive forecast: each step repeats the value one season earlier.

    For the forecast ``h`` steps after the origin it returns the last observed
    value at the same phase of the season: lag ``season * ceil(h / season) - h + 1``
    of the window (lag 1 is the origin). With ``season=1`` it is the naive
    (persistence) forecast. It learns nothing; ``fit`` only records the shapes.

    With ``drift``, each forecast adds the window's mean change per season once
    for every season it reaches ahead (``ceil(h / season)`` times): the mean of
    ``x[t] - x[t - season]`` over the window, which is the difference of the
    sums of its last and first ``season`` values over ``lags - season``. With
    ``season=1`` that is the drift method (the naive forecast plus the window's
    mean step), a straight line through the window's first and last values,
    with the direct strategy (recursively, each step's window holds the
    forecasts before it, and their slope); with a season, a trend carried on at
    each phase of it.

    Parameters
    ----------
    season : int, default=1
        The seasonal period in steps (24 for hourly data with a daily cycle, 12
        for monthly data with a yearly one).
    n_channels : int, default=1
        Channels per window step (the Forecaster's ``channels_``); the target is
        the first channel of each step.
    drift : bool, default=False
        Add the window's mean change per season (see above); the windows must
        hold more than one season.

    Examples
    --------
    >>> from tsbptt import Forecaster
    >>> from tsbptt import SeasonalNaive
    >>> f = Forecaster(SeasonalNaive(season=24), lags=24, horizon=24)  # doctest: +SKIP
    """

    _parameter_constraints = {
        "season": [Interval(Integral, 1, None, closed="left")],
        "n_channels": [Interval(Integral, 1, None, closed="left")],
        "drift": ["boolean"],
    }

    def __init__(self, season: int = 1, n_channels: int = 1, drift: bool = False) -> None:
        self.season = season
        self.n_channels = n_channels
        self.drift = drift

    def __tsbptt_capabilities__(self):
        """It reads 2D windows as ``n_channels`` features per step (see
        :mod:`tsbptt.estimators._tags`)."""
        return Capabilities(channels=True)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True   # one output per horizon step
        tags.regressor_tags.poor_score = True  # a rule: no fit to random data
        return tags

    def fit(self, X: ArrayLike, y: ArrayLike) -> SeasonalNaive:
        """Record the window length and the number of steps to forecast.

        Parameters
        ----------
        X : array-like of shape (n_windows, lags * n_channels)
        y : array-like of shape (n_windows,) or (n_windows, horizon)

        Returns
        -------
        self
        """
        self._validate_params()
        refuse_bool_numbers(self)
        X, y = validate_data(self, X, y, multi_output=True, y_numeric=True)
        if X.shape[1] % self.n_channels:
            raise ValueError(f"X has {X.shape[1]} columns, not a multiple of "
                             f"n_channels={self.n_channels}")
        lags = X.shape[1] // self.n_channels
        if lags < self.season:
            raise ValueError(f"the windows hold {lags} steps, fewer than season="
                             f"{self.season}: use lags >= season")
        if self.drift and lags <= self.season:
            raise ValueError(f"drift=True reads the change over the window, which holds "
                             f"{lags} steps: use lags > season={self.season}")
        self.lags_ = lags
        self.n_outputs_ = 1 if y.ndim == 1 else y.shape[1]
        self._single = y.ndim == 1
        return self

    def predict(self, X: ArrayLike) -> np.ndarray:
        """The seasonal naive forecast of each horizon step.

        Returns
        -------
        ndarray of shape (n_windows,) or (n_windows, horizon)
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False)
        h = np.arange(1, self.n_outputs_ + 1)
        ahead = np.ceil(h / self.season).astype(int)  # seasons ahead
        lag = self.season * ahead - h + 1
        out = X[:, (self.lags_ - lag) * self.n_channels]
        if self.drift:
            target = X[:, 0::self.n_channels]
            s, L = self.season, self.lags_
            change = (target[:, L - s:].sum(axis=1) - target[:, :s].sum(axis=1)) / (L - s)
            out = out + change[:, None] * ahead
        return out[:, 0] if self._single else out
