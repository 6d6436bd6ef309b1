"""Rolling-origin evaluation of a Forecaster, and a matching CV splitter.

:func:`backtest` refits (or only moves) a forecaster at a series of origins and
scores what it forecasts after each against what happened; :class:`RollingOrigin`
yields the same (train, test) splits for ``GridSearchCV``, so the forecaster's own
parameters (lags, strategy, the wrapped model's) are tuned without leaking the
future.
"""
from __future__ import annotations

import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.model_selection import BaseCrossValidator

from ..engine.trainer import interrupts_stop_every_fit
from ..utils._progress import ProgressReporter
from ..utils._validation import (check_int, is_quieted, small_spread_once_in,
                                 user_stacklevel)
from ._forecaster import reads_future_X
from ._parallel import check_n_jobs, parallel_map
from ._panel import x_in_zone_of_y, on_grid, plain_integers
from ._intervals import _needed
from ._panel_backtest import (check_finite_forecasts, check_on_index, check_training_data,
                              is_panel, mase_season, panel_backtest, panel_splits,
                              settings_of)
from .metrics import mae, mape, _mase_or_nan, rmse, smape

__all__ = ["Backtest", "RollingOrigin", "backtest"]


def _origins(n, initial, step, horizon):
    """Training lengths (origin = the last training step) of a rolling origin."""
    initial, step = check_int("initial", initial, 1), check_int("step", step, 1)
    horizon = check_int("horizon", horizon, 1)
    if initial + horizon > n:
        raise ValueError(f"initial={initial} + horizon={horizon} exceeds the series' "
                         f"{n} steps")
    return range(initial, n - horizon + 1, step)


class RollingOrigin(BaseCrossValidator):
    """Rolling-origin splits of one series: train on the first ``initial``,
    ``initial + step``, ... steps, test on the ``horizon`` steps after each.

    Use it with ``GridSearchCV(Forecaster(...), params, cv=RollingOrigin(...))``:
    :meth:`Forecaster.score` scores the steps right after the training data.

    Parameters
    ----------
    initial : int
        Training steps of the first split.
    step : int, default=1
        Steps between origins.
    horizon : int, default=1
        Test steps per split.
    max_splits : int or None, default=None
        Keep only the last ``max_splits`` origins.
    time_col : str, default='ds'
        The time column of a long DataFrame panel.

    A panel (a Series or DataFrame with a (series id, time) MultiIndex, or a long
    DataFrame with ``time_col``) is split on time, the same cutoff for every
    series: ``initial``, ``step`` and ``horizon`` count steps of the panel's time
    axis, the training rows are every row up to the cutoff and the test rows the
    ``horizon`` time steps after it. Other DataFrames are one series' rows, but one
    with a column of times that repeat is refused (a long panel whose time column
    is not ``time_col``: its rows would be counted as one series' steps), and so
    is a dict of series.

    Score with ``scoring=None`` (:meth:`Forecaster.score`): scikit-learn's scoring
    strings call ``predict(X_test)``, which a Forecaster reads as a number of
    steps.
    """

    def __init__(self, initial: int, step: int = 1, horizon: int = 1,
                 max_splits: int | None = None, time_col: str = "ds") -> None:
        self.initial = initial
        self.step = step
        self.horizon = horizon
        self.max_splits = max_splits
        self.time_col = time_col

    def _lengths(self, n):
        lengths = list(_origins(n, self.initial, self.step, self.horizon))
        if self.max_splits is not None:
            lengths = lengths[-check_int("max_splits", self.max_splits, 1):]
        return lengths

    def _panel(self, X):
        """The time labels of a panel's rows, or None for one series."""
        if isinstance(X, (pd.Series, pd.DataFrame)) and isinstance(X.index, pd.MultiIndex):
            if X.index.nlevels != 2:
                raise ValueError("a panel needs a two-level (series id, time) MultiIndex, "
                                 f"got {X.index.nlevels} levels")
            return X.index.get_level_values(1)
        if isinstance(X, pd.DataFrame) and self.time_col in X.columns:
            return X[self.time_col]
        if isinstance(X, pd.DataFrame):
            # one series' rows (covariates, features), unless a column of times
            # repeats: a long panel whose time column is named otherwise, which split
            # by rows had its series' steps counted as one series' (silently)
            for column in X.columns:
                values = X[column]
                if (pd.api.types.is_datetime64_any_dtype(values)
                        and values.duplicated().any()):
                    raise ValueError(
                        f"X looks like a long panel: its column {column!r} holds times "
                        f"that repeat, and RollingOrigin splits a long panel on "
                        f"time_col={self.time_col!r}, which X lacks; pass "
                        f"RollingOrigin(..., time_col={column!r})")
        if isinstance(X, dict):
            raise TypeError("RollingOrigin splits rows, and a dict of series has none: "
                            "give the panel as a long Series with a (series id, time) "
                            "MultiIndex or a long DataFrame (pd.concat(panel, names="
                            "['unique_id', 'ds']))")
        return None

    def _panel_splits(self, times):
        max_splits = (None if self.max_splits is None
                      else check_int("max_splits", self.max_splits, 1))
        return panel_splits(times, check_int("initial", self.initial, 1),
                            check_int("step", self.step, 1),
                            check_int("horizon", self.horizon, 1), max_splits)

    def split(self, X, y=None, groups=None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield (train, test) integer positions in time order (for a panel: the
        rows of every series up to each cutoff, and the ``horizon`` time steps
        after it)."""
        times = self._panel(X)
        if times is not None:
            yield from self._panel_splits(times)
            return
        for length in self._lengths(len(X)):
            yield np.arange(length), np.arange(length, length + self.horizon)

    def get_n_splits(self, X=None, y=None, groups=None) -> int:
        """The number of splits :meth:`split` yields for ``X``.

        Parameters
        ----------
        X : Series, DataFrame or array-like
            The data :meth:`split` will split (a panel: its cutoffs are counted).
        y, groups : ignored
            For scikit-learn's splitter interface.

        Returns
        -------
        int

        Raises
        ------
        ValueError
            If ``X`` is None: the number depends on its length.
        """
        if X is None:
            raise ValueError("RollingOrigin needs X to count its splits")
        times = self._panel(X)
        if times is not None:
            return len(self._panel_splits(times))
        return len(self._lengths(len(X)))


@dataclass
class Backtest:
    """The result of :func:`backtest`.

    Attributes
    ----------
    forecasts : DataFrame
        One row per (origin, step): ``origin`` (the last training timestamp),
        ``time``, ``step``, ``actual`` and ``forecast`` (and ``lower``,
        ``upper`` when intervals were asked for, their coverage in
        ``attrs['coverage']``, as from ``predict_interval``).
    metrics : dict
        ``mae``, ``rmse``, ``smape``, ``mase`` (and ``mape`` when no actual is 0,
        ``coverage`` — the fraction of actuals inside their interval — with
        intervals) over all rows.
    per_series : DataFrame or None
        For a panel: the same metrics for each series (one row per series id).
    season : int
        The seasonal period of MASE's naive forecast (see :func:`backtest`).

    Notes
    -----
    For a panel, ``forecasts`` is a long frame in the layout of Nixtla's
    ``cross_validation``: the forecaster's ``id_col`` and ``time_col``,
    ``cutoff`` (the last training time), its ``target_col`` (the actual), one
    column named after the model (its estimator's class) and, with intervals,
    ``{model}-lo-{pct}`` and ``{model}-hi-{pct}`` (``pct`` the coverage in
    percent: 90 for 0.9, 97.5 for 0.975). The pooled ``mase`` is the mean of the
    series' MASE (each scaled by its own in-sample naive error, over its steps up
    to the first cutoff it is scored at).
    """

    forecasts: pd.DataFrame
    metrics: dict
    per_series: pd.DataFrame = None
    season: int = 1


@small_spread_once_in  # a note of the forecaster's, once, not once an origin
def backtest(forecaster, y: pd.Series, X: pd.DataFrame | None = None, *, initial: int,
             step: int = 1, horizon: int | None = None, refit: bool = True,
             season: int | None = None, coverage: float | None = None, verbose: int = 0,
             n_jobs: int | None = None) -> Backtest:
    """Rolling-origin evaluation of one series: fit up to each origin, forecast
    what follows, compare.

    Parameters
    ----------
    forecaster : Forecaster or LocalModels
        With :class:`~tsbptt.forecasting.local.LocalModels`, every fit fits one
        model per series (on one series: its template, the same backtest); the
        cutoffs, the table and the metrics are those of a global Forecaster's, so
        the two compare row by row.
    y : Series, or a panel: a dict of Series, a Series with a (series id, time)
        MultiIndex or a long DataFrame (the forecaster's ``id_col``, ``time_col``,
        ``target_col``). A panel is cut at the same times for every series.
    X : DataFrame on y's index, default=None
        Covariates: the forecaster's ``future_exog`` columns are read over the
        forecast steps too, as a forecast made at that origin would have them.
    initial : int
        Steps of the first training series; the first origin is its last step
        (for a panel: steps of the panel's time axis, the union of its labels).
    step : int, default=1
        Steps between origins.
    horizon : int, default=None (the forecaster's)
        Steps scored after each origin. A direct forecaster with ``future_exog``
        and a longer horizon reads X over its whole horizon, so the last origins
        are those where X still covers it.
    refit : bool, default=True
        Refit at every origin; with False, fit once on the first ``initial`` steps
        and only move the window (much faster; the model never sees later data).
    season : int or None, default=None
        The seasonal period of MASE's naive forecast. None: the forecaster's
        own (its ``season``, or the one its fit infers from y's step: 12 for
        monthly data, 24 for hourly), as the command line's ``tsbptt backtest``
        scores; 1 (the naive forecast) where the first ``initial`` steps hold
        fewer than two seasons. ``Backtest.season`` says which was used.
    coverage : float or None, default=None
        Also forecast intervals of this coverage (the forecaster needs
        ``interval`` set) and report their empirical coverage.
    verbose : int >= 0 or bool, default=0
        1: the origins done and left, and the time left, on one line redrawn at a
        terminal or in a notebook; 2: one line per origin (see
        :mod:`tsbptt.utils._progress`).
    n_jobs : int or None, default=None
        Origins (a panel's cutoffs, with ``refit``) run in parallel through
        joblib (None: one after the other, or what ``joblib.parallel_config``
        says; -1: every core or worker), so
        ``with joblib.parallel_config(backend="dask"):`` runs them on a Dask
        cluster. The results are bitwise those of ``n_jobs=1`` (see
        :mod:`tsbptt.forecasting._parallel`).

    Returns
    -------
    Backtest
    """
    with interrupts_stop_every_fit():  # Ctrl-C stops the backtest, not one of its fits
        return _backtest(forecaster, y, X, initial=initial, step=step, horizon=horizon,
                         refit=refit, season=season, coverage=coverage, verbose=verbose,
                         n_jobs=n_jobs)


def _backtest(forecaster, y, X, *, initial, step, horizon, refit, season, coverage,
              verbose, n_jobs):
    n_jobs = check_n_jobs(n_jobs)
    verbose = (int(verbose) if isinstance(verbose, (bool, np.bool_))  # as scikit-learn's
               else check_int("verbose", verbose, 0))
    settings = settings_of(forecaster)
    _check_request(settings, horizon, coverage, refit)
    if is_panel(y):
        table, metrics, per_series, season = panel_backtest(
            forecaster, y, X, initial=check_int("initial", initial, 1),
            step=check_int("step", step, 1),
            horizon=check_int("horizon", settings.horizon if horizon is None
                              else horizon, 1),
            refit=refit, season=season, coverage=coverage,
            verbose=verbose, n_jobs=n_jobs)
        return Backtest(forecasts=_with_coverage(table, coverage), metrics=metrics,
                        per_series=per_series, season=season)
    if not isinstance(y, pd.Series):
        raise TypeError(f"y must be a pandas Series or a panel, got {type(y).__name__}")
    forecaster = settings  # one series: LocalModels fits its template on it
    # an Int64 index as the forecasts' int64 labels (pandas tells them apart)
    y = y.set_axis(plain_integers(y.index))
    if isinstance(X, pd.DataFrame):
        # X in UTC for y in Europe/Berlin (the same instants) is read as fit reads it
        X = x_in_zone_of_y(X.set_axis(plain_integers(X.index)), y.index)
    check_on_index(X, y, "y's index")
    horizon = forecaster.horizon if horizon is None else horizon
    origins = _origins(len(y), initial, step, horizon)
    if season is not None:  # a bad one, before any other check
        check_int("season", season, 1)
    if X is not None and forecaster.future_exog and forecaster.strategy == "direct" \
            and forecaster.horizon > horizon:
        # the direct model reads its future-known covariates over all of its own
        # horizon: keep the origins whose covariates X holds
        origins = [o for o in origins if o + forecaster.horizon <= len(y)]
        if not origins:
            raise ValueError(f"no origin leaves the forecaster's horizon="
                             f"{forecaster.horizon} steps of future-known covariates "
                             f"in X ({len(y)} steps, initial={initial}); use a smaller "
                             "initial")
    _check_actuals(y, origins, horizon)
    # every row a fit reads, checked once here: a missing value in a later origin's
    # training part failed only after the earlier origins' fits
    season = mase_season(season, forecaster, check_training_data(
        forecaster, y.iloc[:origins[-1]], None if X is None else X.iloc[:origins[-1]]),
        initial)
    progress = ProgressReporter(len(origins), verbose, label="backtest", unit="origin")
    try:
        rows = _run_origins(forecaster, y, X, origins, horizon, refit, coverage, progress,
                            n_jobs)
    finally:
        progress.close()
    table = pd.concat(rows, ignore_index=True)
    a, f = table["actual"], table["forecast"]
    metrics = {"mae": mae(a, f), "rmse": rmse(a, f), "smape": smape(a, f)}
    # the naive pairs are season steps apart in time: missing rows (which a
    # forecaster's fill accepts) are missing values, not skipped
    train = on_grid(y.iloc[:initial], getattr(forecaster, "freq", None))
    metrics["mase"] = _mase_or_nan(a, f, train.to_numpy(np.float64), season)
    if np.isnan(metrics["mase"]) and not is_quieted("undefined mase"):
        warnings.warn(f"MASE is undefined: the seasonal naive forecast (season={season}) "
                      "is exact on the first initial steps (their missing values left "
                      "out), or no pair of them season apart is without a missing "
                      "value; metrics['mase'] is nan", RuntimeWarning, stacklevel=user_stacklevel())
    if not np.any(a == 0):
        metrics["mape"] = mape(a, f)
    if coverage is not None:
        metrics["coverage"] = float(np.mean((a >= table["lower"]) & (a <= table["upper"])))
    return Backtest(forecasts=_with_coverage(table, coverage), metrics=metrics,
                    season=season)


def _with_coverage(table, coverage):
    """The forecast table, its intervals' coverage in ``attrs`` as predict_interval
    gives it (a plot's legend reads it)."""
    if coverage is not None:
        table.attrs["coverage"] = float(coverage)
    return table


def _check_actuals(y, origins, horizon):
    """Every step the backtest scores has an actual value: a missing one (which a
    forecaster with ``fill=`` trains through) failed the metrics after every fit."""
    try:
        values = y.to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError):  # not numbers: the first fit says so
        return
    for o in origins:
        bad = np.flatnonzero(~np.isfinite(values[o:o + horizon]))
        if len(bad):
            raise ValueError(f"y has no actual value at {y.index[o + bad[0]]!r}, which "
                             f"the origin after {y.index[o - 1]!r} is scored on: every "
                             "step a backtest scores needs one (fill y, or start the "
                             "scored steps after it with a later initial)")


def _check_request(forecaster, horizon, coverage, refit):
    """What every origin's fit would refuse, refused before the first fit."""
    if not isinstance(refit, (bool, np.bool_)):  # refit='no' is truthy: refits
        raise ValueError(f"refit must be True or False, got {refit!r}")
    if coverage is not None:
        if not (isinstance(coverage, Real) and 0 < coverage < 1):
            raise ValueError(f"coverage must be a number in (0, 1) or None, got {coverage!r}")
        if not hasattr(forecaster, "predict_interval"):
            raise ValueError(f"coverage={coverage!r} asks for intervals, but "
                             f"{type(forecaster).__name__} makes none (it has no "
                             "predict_interval): leave coverage=None")
        origins = getattr(forecaster, "n_origins", "none")  # AutoForecaster's
        if origins != "none" and (origins is None or origins < _needed(coverage)):
            raise ValueError(f"coverage={coverage!r} asks for intervals from "
                             f"{type(forecaster).__name__}'s own backtest errors, which "
                             f"need n_origins={_needed(coverage)} or more (it has "
                             f"n_origins={origins!r}): set it, or leave coverage=None")
        if getattr(forecaster, "interval", "unknown") is None:
            raise ValueError(f"coverage={coverage!r} asks for intervals, but the "
                             "forecaster has interval=None: set interval='conformal' "
                             "(or 'quantile') on it, or leave coverage=None")
        own_coverage = getattr(forecaster, "coverage", None)
        if getattr(forecaster, "interval", None) == "quantile" and isinstance(
                own_coverage, Real) and not np.isclose(coverage, own_coverage):
            raise ValueError(f"coverage={coverage!r}, but the forecaster's quantile "
                             f"intervals are fitted for coverage={own_coverage}: "
                             f"backtest with coverage={own_coverage}, set the "
                             "forecaster's coverage, or use interval='conformal'")
    own = getattr(forecaster, "horizon", None)
    if (horizon is not None and getattr(forecaster, "strategy", None) == "direct"
            and isinstance(own, Integral) and isinstance(horizon, Integral) and horizon > own):
        raise ValueError(f"horizon={horizon} exceeds the forecaster's horizon={own}: a "
                         f"direct forecaster predicts at most {own} steps; backtest with "
                         f"horizon <= {own}, or set the forecaster's horizon or "
                         "strategy='recursive'")


def _run_origins(forecaster, y, X, origins, horizon, refit, coverage, progress,
                 n_jobs=None):
    """The forecast table of each origin (see :func:`backtest`), in origin order."""
    fitted = None
    if not refit:  # one model, fitted once on the first origin's data, moved along
        fitted = clone(forecaster).fit(y.iloc[:origins[0]],
                                       None if X is None else X.iloc[:origins[0]])
    # the first origin forecasts from the fit's own end, the others from a history
    jobs = [(forecaster, fitted, i > 0, y, X, origin, horizon, coverage)
            for i, origin in enumerate(origins)]
    return parallel_map(_origin_rows, jobs, n_jobs, on_result=lambda _: progress.update({}))


def _origin_rows(forecaster, fitted, move, y, X, origin, horizon, coverage):
    """Fit a clone of ``forecaster`` up to ``origin`` (or, given ``fitted``, move it
    there when ``move``) and tabulate its forecasts."""
    hist_X = None if X is None else X.iloc[:origin]
    if fitted is None:
        fitted = clone(forecaster).fit(y.iloc[:origin], hist_X)
    # the covariate rows of the forecast steps (the forecaster reads only its
    # future-known columns there, and none if it has none)
    fut_X = reads_future_X(fitted, None if X is None else
                           X.iloc[origin:origin + max(horizon, forecaster.horizon)])
    at = {"history": y.iloc[:origin], "history_X": hist_X} if move else {}
    if coverage is None:
        pred = fitted.predict(horizon, X=fut_X, **at).to_frame("forecast")
    else:
        pred = fitted.predict_interval(horizon, X=fut_X, coverage=coverage, **at)
    check_finite_forecasts(pred, f"the origin {y.index[origin - 1]!r}")
    actual = y.iloc[origin:origin + horizon]
    if not pred.index.equals(actual.index):
        k = next((i for i, (a, b) in enumerate(zip(pred.index, actual.index)) if a != b),
                 min(len(pred), len(actual)))
        expected = pred.index[k] if k < len(pred) else None
        found = actual.index[k] if k < len(actual) else "the end of y"
        raise ValueError(f"y has no row at {expected!r}, step {k + 1} after the origin "
                         f"{y.index[origin - 1]!r} (the next row is at {found!r}): a "
                         "backtest scores each origin's next rows as its forecast steps, "
                         "so y must have a row at every step it is scored on; fill the "
                         "gap (y.asfreq(...) and a fill of your choice), or start the "
                         "origins after it (initial counts rows)")
    table = pd.DataFrame({"origin": y.index[origin - 1], "time": actual.index,
                          "step": np.arange(1, horizon + 1),
                          "actual": actual.to_numpy()})
    return pd.concat([table, pred.reset_index(drop=True)], axis=1)
