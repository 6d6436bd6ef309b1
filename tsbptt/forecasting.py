"""Forecast a pandas time series with any regressor over lag windows.

:class:`Forecaster` turns a Series (and past-only covariates) into windows with
:func:`tsbptt.make_windows`, fits a clone of the wrapped regressor on them — a
tsbptt estimator or any scikit-learn regressor, so an LSTM and a Ridge can be
compared on the same windows — and returns forecasts as a Series indexed by the
future timestamps. pandas is converted to arrays here and only here.

Scope today: one series; the ``'direct'`` (one output per horizon step) and
``'recursive'`` (one step, fed back) strategies; past-only covariates with the
direct strategy. Future-known covariates, many series, intervals and backtests
are still to come.
"""
from dataclasses import dataclass
from numbers import Integral

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from .metrics import mae, mape, mase, rmse, smape
from .windowing import make_windows

__all__ = ["Backtest", "Forecaster", "backtest"]


def _time_step(index, freq):
    """The step between consecutive labels, checked to be regular.

    Returns a pandas offset for a DatetimeIndex, an int for an integer index.
    """
    if isinstance(index, pd.DatetimeIndex):
        inferred = freq if freq is not None else index.freq
        if inferred is None and len(index) >= 3:
            inferred = pd.infer_freq(index)
        if inferred is None and len(index) >= 3:
            # irregular: take the most common step, to point at the first gap
            inferred = pd.Series(np.diff(index.asi8)).mode().iloc[0]
            inferred = pd.Timedelta(int(inferred), "ns") if inferred > 0 else None
        if inferred is None:
            raise ValueError("the frequency of y's DatetimeIndex cannot be inferred "
                             "(gaps or irregular steps?); pass freq=... or resample")
        step = pd.tseries.frequencies.to_offset(inferred)
        expected = pd.date_range(index[0], periods=len(index), freq=step)
        if not expected.equals(index):
            bad = int(np.flatnonzero(np.asarray(expected != index))[0])
            raise ValueError(f"y's index is not regular at frequency {step.freqstr}: "
                             f"{index[bad]!r} where {expected[bad]!r} was expected "
                             "(a gap or a duplicate); fill or resample it first")
        return step
    if pd.api.types.is_integer_dtype(index):
        steps = np.diff(np.asarray(index))
        if len(steps) and not np.all(steps == steps[0]):
            bad = int(np.flatnonzero(steps != steps[0])[0]) + 1
            raise ValueError(f"y's integer index is not regular: {index[bad]!r} after "
                             f"{index[bad - 1]!r}")
        return int(steps[0]) if len(steps) else 1
    raise ValueError(f"y needs a DatetimeIndex or an integer index, got "
                     f"{type(index).__name__}")


class Forecaster(BaseEstimator):
    """Forecast a Series from its last ``lags`` values (and past-only covariates).

    Parameters
    ----------
    estimator : regressor
        A tsbptt estimator or any scikit-learn regressor; cloned in ``fit``. With
        ``strategy='direct'`` and ``horizon > 1`` it must accept a 2D ``y``.
    lags : int, default=24
        Past steps per input window.
    horizon : int, default=1
        Steps the direct strategy forecasts at once (recursive: the default
        number of steps of :meth:`predict`).
    strategy : {'direct', 'recursive'}, default='direct'
        ``'direct'``: one output per horizon step. ``'recursive'``: a one-step
        model whose forecasts are fed back as inputs.
    scale : bool, default=True
        Standardise the series and each covariate with the mean and standard
        deviation of the training data; forecasts come back in the series' units.
    freq : str or DateOffset or None, default=None
        The series' frequency, if it cannot be inferred from the index.

    Attributes
    ----------
    estimator_ : the fitted clone of ``estimator``
    n_covariates_ : int
    """

    _parameter_constraints = {
        "estimator": [HasMethods(["fit", "predict"])],
        "lags": [Interval(Integral, 1, None, closed="left")],
        "horizon": [Interval(Integral, 1, None, closed="left")],
        "strategy": [StrOptions({"direct", "recursive"})],
        "scale": ["boolean"],
        "freq": [str, pd.DateOffset, None],
    }

    def __init__(self, estimator, lags=24, horizon=1, strategy="direct", scale=True,
                 freq=None):
        self.estimator = estimator
        self.lags = lags
        self.horizon = horizon
        self.strategy = strategy
        self.scale = scale
        self.freq = freq

    def _frame(self, y, X):
        if not isinstance(y, pd.Series):
            raise TypeError(f"y must be a pandas Series, got {type(y).__name__}")
        name = y.name if y.name is not None else "y"
        frame = y.to_frame(name)
        if X is not None:
            X = X.to_frame() if isinstance(X, pd.Series) else X
            if not isinstance(X, pd.DataFrame) or not X.index.equals(y.index):
                raise ValueError("X must be a DataFrame on exactly y's index "
                                 "(past-only covariates, one row per step of y)")
            if name in X.columns:
                raise ValueError(f"X has a column named like y ({name!r})")
            frame = pd.concat([frame, X], axis=1)
        return frame, name

    def fit(self, y, X=None):
        """Fit on a Series ``y`` and optional past-only covariates ``X``.

        Parameters
        ----------
        y : Series with a regular DatetimeIndex or integer index
        X : DataFrame on y's index, default=None

        Returns
        -------
        self
        """
        self._validate_params()
        frame, name = self._frame(y, X)
        if X is not None and self.strategy == "recursive":
            raise ValueError("the recursive strategy would need the covariates' future "
                             "values, which past-only covariates do not have; use "
                             "strategy='direct'")
        self.step_ = _time_step(frame.index, self.freq)
        values = frame.astype(np.float64)
        if self.scale:
            std = values.std(ddof=0)
            self.mean_, self.scale_ = values.mean(), std.where(std > 0, 1.0)
        else:
            self.mean_ = pd.Series(0.0, index=values.columns)
            self.scale_ = pd.Series(1.0, index=values.columns)
        scaled = (values - self.mean_) / self.scale_
        steps = self.horizon if self.strategy == "direct" else 1
        w = make_windows(scaled, self.lags, horizon=steps, target=name,
                         exog=list(frame.columns[1:]) or None)
        self.n_covariates_ = frame.shape[1] - 1
        est = clone(self.estimator)
        if "n_channels" in est.get_params():
            est.set_params(n_channels=1 + self.n_covariates_)
        target = w.y.to_numpy()
        self.estimator_ = est.fit(w.X, target[:, 0] if steps == 1 else target)
        self.feature_names_ = list(w.X.columns)
        self.name_, self.last_index_ = name, frame.index[-1]
        self.last_window_ = scaled.to_numpy()[-self.lags:]
        return self

    def _window_of(self, y, X):
        """The scaled last ``lags`` rows of a history, with the fitted scaling."""
        frame, _ = self._frame(y, X)
        if frame.shape[1] != 1 + self.n_covariates_ or len(frame) < self.lags:
            raise ValueError(f"the history needs {self.lags} steps and "
                             f"{self.n_covariates_} covariates, got {frame.shape}")
        scaled = (frame.astype(np.float64) - self.mean_.to_numpy()) / self.scale_.to_numpy()
        return scaled.to_numpy()[-self.lags:], frame.index[-1]

    def _future_index(self, last, steps):
        if isinstance(self.step_, int):
            return pd.RangeIndex(last + self.step_, last + (steps + 1) * self.step_,
                                 self.step_)
        return pd.date_range(last + self.step_, periods=steps, freq=self.step_)

    def _predict_window(self, window):
        row = pd.DataFrame(window.reshape(1, -1), columns=self.feature_names_)
        return np.ravel(self.estimator_.predict(row))

    def predict(self, steps=None, history=None, history_X=None):
        """Forecast the ``steps`` steps after the end of the training series.

        Parameters
        ----------
        steps : int, default=None (the horizon)
        history : Series, default=None
            Forecast after the end of this series instead (same frequency; its last
            ``lags`` steps are read), without refitting: how a backtest moves its
            origin with ``refit=False``.
        history_X : DataFrame, default=None
            The covariates of ``history``.

        Returns
        -------
        Series
            Indexed by the future timestamps (or integer labels), named like y.
        """
        check_is_fitted(self)
        window, last = self.last_window_, self.last_index_
        if history is not None:
            window, last = self._window_of(history, history_X)
        steps = self.horizon if steps is None else steps
        if not isinstance(steps, (int, np.integer)) or steps < 1:
            raise ValueError(f"steps must be a positive integer, got {steps!r}")
        if self.strategy == "direct":
            if steps > self.horizon:
                raise ValueError(f"steps={steps} is beyond the direct strategy's "
                                 f"horizon={self.horizon}; refit with a longer horizon "
                                 "or use strategy='recursive'")
            forecast = self._predict_window(window)[:steps]
        else:
            window = window[:, 0].copy()
            forecast = np.empty(steps)
            for k in range(steps):
                forecast[k] = self._predict_window(window)[0]
                window = np.append(window[1:], forecast[k])
        values = forecast * self.scale_.iloc[0] + self.mean_.iloc[0]
        return pd.Series(values, index=self._future_index(last, steps), name=self.name_)


    def score(self, y, X=None):
        """Negative mean absolute error of forecasting ``y``, the steps right after
        the training series (higher is better, as scikit-learn's scorers expect).

        With ``TimeSeriesSplit(n_splits, test_size=horizon)`` this makes the
        forecaster tunable with ``GridSearchCV`` (lags, strategy, the wrapped
        model's parameters) without looking into the future.
        """
        check_is_fitted(self)
        if not isinstance(y, pd.Series):
            raise TypeError(f"y must be a pandas Series, got {type(y).__name__}")
        pred = self.predict(len(y))
        if not pred.index.equals(y.index):
            raise ValueError("y must hold the steps right after the training series: "
                             f"expected {list(pred.index[:2])}..., got "
                             f"{list(y.index[:2])}...")
        return -mae(y.to_numpy(), pred.to_numpy())


@dataclass
class Backtest:
    """The result of :func:`backtest`.

    Attributes
    ----------
    forecasts : DataFrame
        One row per (origin, step): ``origin`` (the last training timestamp),
        ``time``, ``step``, ``actual`` and ``forecast``.
    metrics : dict
        ``mae``, ``rmse``, ``smape``, ``mase`` (and ``mape`` when no actual is 0)
        over all rows.
    """

    forecasts: pd.DataFrame
    metrics: dict


def backtest(forecaster, y, X=None, *, initial, step=1, horizon=None, refit=True,
             season=1):
    """Rolling-origin evaluation: fit up to each origin, forecast what follows.

    Parameters
    ----------
    forecaster : Forecaster
    y : Series
    X : DataFrame, default=None
        Past-only covariates on y's index.
    initial : int
        Steps of the first training series; the first origin is its last step.
    step : int, default=1
        Steps between origins.
    horizon : int, default=None (the forecaster's)
    refit : bool, default=True
        Refit at every origin; with False, fit once on the first ``initial`` steps
        and only move the window.
    season : int, default=1
        The seasonal period of MASE's naive forecast.

    Returns
    -------
    Backtest
    """
    horizon = forecaster.horizon if horizon is None else horizon
    n = len(y)
    for name, value, low in (("initial", initial, 1), ("step", step, 1),
                             ("horizon", horizon, 1)):
        if not isinstance(value, (int, np.integer)) or value < low:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if initial + horizon > n:
        raise ValueError(f"initial={initial} + horizon={horizon} exceeds the series' "
                         f"{n} steps")
    rows, fitted = [], None
    for origin in range(initial, n - horizon + 1, step):
        hist_X = None if X is None else X.iloc[:origin]
        if refit or fitted is None:
            fitted = clone(forecaster).fit(y.iloc[:origin], hist_X)
            pred = fitted.predict(horizon)
        else:
            pred = fitted.predict(horizon, history=y.iloc[:origin], history_X=hist_X)
        actual = y.iloc[origin:origin + horizon]
        if not pred.index.equals(actual.index):
            raise ValueError(f"forecast dates {list(pred.index[:2])} do not match the "
                             f"series' {list(actual.index[:2])} at origin {origin}")
        rows.append(pd.DataFrame({"origin": y.index[origin - 1], "time": actual.index,
                                  "step": np.arange(1, horizon + 1),
                                  "actual": actual.to_numpy(),
                                  "forecast": pred.to_numpy()}))
    table = pd.concat(rows, ignore_index=True)
    a, f = table["actual"], table["forecast"]
    metrics = {"mae": mae(a, f), "rmse": rmse(a, f), "smape": smape(a, f),
               "mase": mase(a, f, y.iloc[:initial], season)}
    if not np.any(a == 0):
        metrics["mape"] = mape(a, f)
    return Backtest(forecasts=table, metrics=metrics)
