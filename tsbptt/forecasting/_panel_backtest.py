"""Rolling-origin evaluation of many series at once, on one time axis.

A panel (a dict of Series, a Series with a (series id, time) MultiIndex, or a long
DataFrame) is cut at the same time for every series: at each cutoff the
forecaster is fitted on every series' steps up to it and forecasts the
``horizon`` steps after it. The result is one long frame in the layout of
Nixtla's ``cross_validation`` (series id, time, cutoff, actual, one column per
model, interval bounds), with metrics per series and pooled.

:func:`panel_splits` gives the same cuts as row positions, for
:class:`tsbptt.RollingOrigin` under ``GridSearchCV``.
"""
import warnings
from contextlib import contextmanager

import numpy as np
import pandas as pd
from sklearn.base import clone

from ..utils._progress import ProgressReporter
from ..utils._validation import check_int, is_quieted, user_stacklevel
from ._forecaster import reads_future_X
from ._panel import Entry, frame_to_long, in_zone_of, on_grid, to_entries, to_output
from ._parallel import parallel_map
from .metrics import mae, mape, _mase_or_nan, rmse, smape
from .windowing import infer_season

__all__ = ["check_on_index", "is_panel", "panel_backtest", "panel_splits", "settings_of"]


def settings_of(forecaster):
    """The Forecaster whose settings (horizon, strategy, freq, estimator, ...) a
    backtest reads: ``forecaster`` itself, or the template of a
    :class:`~tsbptt.forecasting.local.LocalModels`, whose members are its clones."""
    template = getattr(forecaster, "_template", None)  # LocalModels (which imports this)
    return forecaster if template is None else template()


def _last_times(fitted):
    """Series key -> the time of its last known step, in a fitted Forecaster or a
    fitted LocalModels (one Forecaster of one series per key)."""
    members = getattr(fitted, "forecasters_", None)
    if members is None:
        return {k: tail.y.index[-1] for k, tail in fitted.tails_.items()}
    return {k: next(iter(f.tails_.values())).y.index[-1] for k, f in members.items()}


def _a_forecaster(fitted):
    """A fitted Forecaster of a backtest's model: itself, or a LocalModels' first
    member (its members share the template's covariates)."""
    members = getattr(fitted, "forecasters_", None)
    return fitted if members is None else next(iter(members.values()))


def is_panel(y):
    """Whether ``y`` holds many series: a dict, a long Series or a DataFrame."""
    return (isinstance(y, (dict, pd.DataFrame))
            or (isinstance(y, pd.Series) and isinstance(y.index, pd.MultiIndex)))


def _long(forecaster, y, X):
    """The panel as a long Series and its covariates on the same index (a long
    frame's other columns, static features included)."""
    if isinstance(y, pd.DataFrame) and not isinstance(y.index, pd.MultiIndex):
        if X is not None:
            raise ValueError("y is a long DataFrame: give its covariates as its other "
                             "columns, not as X")
        return frame_to_long(y, forecaster.id_col, forecaster.time_col,
                             forecaster.target_col)
    if isinstance(y, dict):
        names = ["series", "time"]
        # one zone made by two libraries (zoneinfo's and dateutil's Europe/Berlin) in
        # one object, as a fit does: their labels did not join, and pd.concat made
        # an index of objects
        first = next(iter(y.values()), None)
        if isinstance(first, pd.Series):  # (anything else: the fit names it)
            xs = X if isinstance(X, dict) else {}
            moved = {k: in_zone_of(first.index, Entry(k, s, xs.get(k), 0))
                     for k, s in y.items() if isinstance(s, pd.Series)}
            y = {k: moved[k].y if k in moved else s for k, s in y.items()}
            if isinstance(X, dict):
                X = {k: moved[k].X if k in moved and moved[k].X is not None else x
                     for k, x in X.items()}
        y = to_output(list(y.items()), "dict", names)
        if X is not None:
            if not isinstance(X, dict) or set(X) != set(y.index.get_level_values(0)):
                raise ValueError("with a dict y, X must be a dict with the same keys")
            X = to_output([(k, X[k]) for k in pd.unique(y.index.get_level_values(0))],
                          "dict", names)
    if not isinstance(y, pd.Series) or y.index.nlevels != 2:
        raise TypeError("a panel is a dict of Series, a Series with a (series id, time) "
                        f"MultiIndex or a long DataFrame; got {type(y).__name__}")
    check_on_index(X, y, "y's (series id, time) index")
    return y, X


def check_on_index(X, y, what):
    """Refuse covariates ``X`` unless a DataFrame on exactly ``y``'s index (a
    backtest cuts both by position), saying so where only the row order differs."""
    if X is None or (isinstance(X, pd.DataFrame) and X.index.equals(y.index)):
        return
    hint = ""
    if isinstance(X, pd.DataFrame) and len(X) == len(y) and X.index.is_unique:
        at = X.index.get_indexer(y.index)
        if (at == np.arange(len(y))).all():  # the same labels, in order: not alike
            hint = (f": X's index has the labels of y's, but it is {type(X.index).__name__}"
                    f" of dtype {X.index.dtype} and y's {type(y.index).__name__} of dtype "
                    f"{y.index.dtype}; give them one dtype")
        elif (at >= 0).all():
            hint = (": X holds y's rows in another order; X.reindex(y.index) puts them "
                    "in y's")
    raise ValueError(f"X must be a DataFrame on exactly {what}{hint}")


def _cutoffs(times, initial, step, horizon):
    """Positions in the sorted time grid of each cutoff (the last training step)."""
    n = len(times)
    if initial + horizon > n:
        raise ValueError(f"initial={initial} + horizon={horizon} exceeds the panel's "
                         f"{n} time steps")
    return list(range(initial - 1, n - horizon, step))


def panel_splits(times, initial, step, horizon, max_splits=None):
    """(train, test) row positions of a long panel, cut on time for every series.

    Parameters
    ----------
    times : array-like of shape (n_rows,)
        The time label of each row (any order, any number of series).
    initial, step, horizon : int
        Time steps of the first training part, between cutoffs, and tested.
    max_splits : int or None
        Keep only the last ``max_splits`` cutoffs.

    Returns
    -------
    list of (ndarray, ndarray)
    """
    t = np.asarray(times)
    grid = np.unique(t)
    cuts = _cutoffs(grid, initial, step, horizon)
    if max_splits is not None:
        cuts = cuts[-max_splits:]
    codes = np.searchsorted(grid, t)
    return [(np.flatnonzero(codes <= c),
             np.flatnonzero((codes > c) & (codes <= c + horizon))) for c in cuts]


def _forecast_at(fitted, y, X, grid, c, horizon, coverage, own_horizon):
    """The forecasts after cutoff ``grid[c]`` with the actuals beside them
    (``own_horizon``: the forecaster's horizon, read over by a direct one)."""
    ended = [k for k, last in _last_times(fitted).items() if last < grid[c]]
    if ended:  # before predict, whose own error would ask for covariates past its end
        raise ValueError(f"series {ended[0]!r} ends before the cutoff {grid[c]!r}: every "
                         "series must reach each cutoff (use a later initial, or leave "
                         "the series out)")
    t = y.index.get_level_values(1)
    fh = max(horizon, own_horizon)
    fut_X = reads_future_X(_a_forecaster(fitted), None if X is None else
                           X[(t > grid[c]) & (t <= grid[min(c + fh, len(grid) - 1)])])
    if coverage is None:
        pred = fitted.predict(horizon, X=fut_X).to_frame("forecast")
    else:
        pred = fitted.predict_interval(horizon, X=fut_X, coverage=coverage)
    check_finite_forecasts(pred, f"the cutoff {grid[c]!r}")
    actual = y.reindex(pred.index)
    if actual.isna().any():
        key, when = actual.index[np.flatnonzero(actual.isna().to_numpy())[0]]
        raise ValueError(f"series {key!r} has no actual value at {when!r}, "
                         f"{horizon} steps after the cutoff {grid[c]!r}: every series "
                         "must cover the steps it is scored on")
    return pred, actual


def check_training_data(forecaster, y, X):
    """The checks a fit of ``forecaster`` makes of the series (missing values, gaps,
    repeated or unordered times, covariates on y's index, ...; see
    :func:`~tsbptt.forecasting._panel.to_entries`), on the rows the backtest's last
    fit reads: before the first fit, not after the earlier origins' ones. Returns
    the series' step, as the fit reads it."""
    return to_entries(y, X, freq=getattr(forecaster, "freq", None),
                      fill=getattr(forecaster, "fill", None))[2]


def mase_season(season, forecaster, step, initial):
    """The seasonal period MASE's naive forecast is scaled with: ``season`` as
    given, or for None the forecaster's own (its ``season``, or the one its fit
    infers from ``step``), 1 where the first ``initial`` steps hold fewer than
    two such seasons: a scale from a handful of seasonal differences (one, for
    53 weeks) swung MASE by 3x between initial=53 and 60."""
    if season is not None:
        season = check_int("season", season, 1)
        if initial <= season:  # MASE's in-sample naive forecast needs a season of data
            raise ValueError(f"initial={initial} must exceed season={season}")
        return season
    own = forecaster.season if forecaster.season is not None else infer_season(step)
    return own if initial >= 2 * own else 1


def check_finite_forecasts(pred, after):
    """Refuse an origin's forecasts (frame of forecast, and lower and upper with
    intervals) with a missing or infinite value, naming the origin (``after``): the
    metrics would refuse them only once every origin had been fitted, naming none."""
    values = pred.to_numpy(dtype=np.float64)
    bad = np.argwhere(~np.isfinite(values))
    if len(bad):
        row, col = bad[0]
        raise ValueError(f"the forecaster forecast {values[row, col]} ({pred.columns[col]})"
                         f" for {pred.index[row]!r}, after {after}: a backtest scores "
                         "finite forecasts only; check the model (predict gives the "
                         "same after a fit on the data up to there)")


def _metrics(a, f, train, season):
    out = {"mae": mae(a, f), "rmse": rmse(a, f), "smape": smape(a, f)}
    out["mase"] = _mase_or_nan(a, f, train, season)
    if not np.any(a == 0):
        out["mape"] = mape(a, f)
    return out


def panel_backtest(forecaster, y, X, *, initial, step, horizon, refit, season, coverage,
                   verbose, n_jobs=None):
    """:func:`tsbptt.backtest` on a panel; returns (forecasts, metrics, per_series,
    the season MASE was scaled with)."""
    y, X = _long(forecaster, y, X)
    settings = settings_of(forecaster)
    t = y.index.get_level_values(1)
    grid = t.unique().sort_values()
    cuts = _cutoffs(grid, initial, step, horizon)
    if X is not None and settings.future_exog and settings.strategy == "direct" \
            and settings.horizon > horizon:
        # as for one series: the direct model reads its future-known covariates over
        # all of its own horizon, so keep the cutoffs whose covariates X holds
        cuts = [c for c in cuts if c + settings.horizon < len(grid)]
        if not cuts:
            raise ValueError(f"no cutoff leaves the forecaster's horizon="
                             f"{settings.horizon} steps of future-known covariates in X "
                             f"({len(grid)} time steps, initial={initial}); use a smaller "
                             "initial")
    last = t <= grid[cuts[-1]]  # every row a fit reads, checked before the first
    ids = y.index.get_level_values(0)
    unseen = ids.unique().difference(ids[last])
    if len(unseen):  # it was left out of every fit and every score, without a word
        start = t[ids == unseen[0]].min()
        raise ValueError(f"series {unseen[0]!r} starts at {start!r}, after the last "
                         f"cutoff {grid[cuts[-1]]!r}: no fit reads it and no cutoff "
                         "scores it; leave it out of the backtest")
    season = mase_season(season, settings, check_training_data(
        settings, y[last], None if X is None else X[last]), initial)
    progress = ProgressReporter(len(cuts), verbose, label="backtest", unit="cutoff")
    try:
        table = _run_cutoffs(forecaster, y, X, grid, cuts, horizon, refit, coverage,
                             progress, n_jobs)
    finally:
        progress.close()
    return (table,) + _scores(forecaster, table, y, season, coverage) + (season,)


def _run_cutoffs(forecaster, y, X, grid, cuts, horizon, refit, coverage, progress,
                 n_jobs=None):
    """The long forecast frame of every cutoff; with ``refit`` the cutoffs are
    independent jobs (``n_jobs``, see :mod:`tsbptt.forecasting._parallel`)."""
    if refit:
        # pandas builds a MultiIndex's lookup (and its uniqueness) lazily: built by two
        # threads at once (the threading backend), pandas 2.2 then found "a non-unique
        # multi-index"; built here, before the jobs share y
        y.index.get_indexer(y.index[:1])
        jobs = [(forecaster, None, y, X, grid, c, horizon, coverage) for c in cuts]
        rows = parallel_map(_cutoff_rows, jobs, n_jobs,
                            on_result=lambda _: progress.update({}))
        return pd.concat(rows, ignore_index=True)
    t = y.index.get_level_values(1)
    rows, fitted, fitted_end = [], None, None
    for c in cuts:  # one fit, moved from cutoff to cutoff: in order
        past = t <= grid[c]
        with _at_cutoff(grid[c]):
            if fitted is None:
                fitted = clone(forecaster).fit(y[past], None if X is None else X[past])
            else:  # the first fit, moved to this cutoff
                fitted.update(y[past & (t > fitted_end)],
                              None if X is None else X[past & (t > fitted_end)])
        fitted_end = grid[c]
        rows.append(_cutoff_rows(forecaster, fitted, y, X, grid, c, horizon, coverage))
        progress.update({})
    return pd.concat(rows, ignore_index=True)


def _cutoff_rows(forecaster, fitted, y, X, grid, c, horizon, coverage):
    """The long forecast frame of cutoff ``grid[c]`` (``fitted``: None fits a clone
    of ``forecaster`` on the data up to it)."""
    if fitted is None:
        past = y.index.get_level_values(1) <= grid[c]
        with _at_cutoff(grid[c]):
            fitted = clone(forecaster).fit(y[past], None if X is None else X[past])
    settings = settings_of(forecaster)
    model = type(settings.estimator).__name__
    id_col, time_col, target_col = (forecaster.id_col, forecaster.time_col,
                                    forecaster.target_col)
    pred, actual = _forecast_at(fitted, y, X, grid, c, horizon, coverage, settings.horizon)
    table = pd.DataFrame({id_col: pred.index.get_level_values(0),
                          time_col: pred.index.get_level_values(1),
                          "cutoff": grid[c], target_col: actual.to_numpy(),
                          model: pred["forecast"].to_numpy()})
    if coverage is not None:
        pct = _level_name(coverage)
        table[f"{model}-lo-{pct}"] = pred["lower"].to_numpy()
        table[f"{model}-hi-{pct}"] = pred["upper"].to_numpy()
    return table


@contextmanager
def _at_cutoff(when):
    """Say at which cutoff a fit (or a move) refused the data: a series listed
    after the first cutoff is too short there, or unknown to a fit made before."""
    try:
        yield
    except ValueError as exc:
        if type(exc) is not ValueError:
            raise
        message = str(exc)
        if "too short" in message or "not seen in fit" in message:
            message += (" (a series that starts later must be long enough to fit on at "
                        "every cutoff, and with refit=False known to the first fit: "
                        "use a later initial, or backtest that series apart)")
        raise ValueError(f"at the cutoff {when!r}: {message}") from exc


def _scores(forecaster, table, y, season, coverage):
    """Metrics pooled over the panel and per series (``y``: the long panel; MASE's
    in-sample scale is each series' steps up to the first cutoff it is scored at,
    so a series that starts later is scaled by its own first training part)."""
    id_col, target_col = forecaster.id_col, forecaster.target_col
    settings = settings_of(forecaster)
    model = type(settings.estimator).__name__
    # dropna=False: a series whose id is missing (NaN) is a series too, as in a fit
    series = {_na_key(k): s for k, s in y.groupby(level=0, sort=False, dropna=False)}
    per_series = {}
    for key, part in table.groupby(id_col, sort=False, dropna=False):
        s = series[_na_key(key)]
        train = s[s.index.get_level_values(1) <= part["cutoff"].min()].droplevel(0)
        # season steps apart in time, as for one series (backtesting.py)
        train = on_grid(train, settings.freq, key).to_numpy(np.float64)
        m = _metrics(part[target_col].to_numpy(), part[model].to_numpy(), train, season)
        if coverage is not None:
            m["coverage"] = _inside(part, target_col, model, coverage)
        per_series[key] = m
    per_series = pd.DataFrame.from_dict(per_series, orient="index")
    per_series.index.name = id_col
    a, f = table[target_col].to_numpy(), table[model].to_numpy()
    metrics = {"mae": mae(a, f), "rmse": rmse(a, f), "smape": smape(a, f),
               "mase": float(per_series["mase"].mean())}
    if per_series["mase"].isna().any():
        undefined = list(per_series.index[per_series["mase"].isna()])
        if not is_quieted("undefined mase"):
            warnings.warn(f"MASE is undefined for series {undefined[:5]}: their seasonal "
                          f"naive forecast (season={season}) is exact on their steps up "
                          "to the first cutoff they are scored at, or they have no pair "
                          "of steps season apart there; metrics['mase'] averages the "
                          "others", RuntimeWarning, stacklevel=user_stacklevel())
        metrics["mase"] = float(per_series["mase"].mean(skipna=True))
    if not np.any(a == 0):
        metrics["mape"] = mape(a, f)
    if coverage is not None:
        metrics["coverage"] = _inside(table, target_col, model, coverage)
    return metrics, per_series


class _MissingId:
    """The dictionary key of a missing series id: NaN is not equal to itself."""


_MISSING_ID = _MissingId()


def _na_key(key):
    """``key`` as a dictionary key: a missing id (NaN, None) is one key."""
    return _MISSING_ID if not isinstance(key, tuple) and pd.isna(key) else key


def _level_name(coverage):
    """The level in the interval columns' names, in percent as Nixtla writes it:
    90 for 0.9, 97.5 for 0.975 (not rounded to a whole percent: 0.975 and 0.98
    had one name)."""
    return f"{round(100 * coverage, 10):.12g}"


def _inside(table, target_col, model, coverage):
    pct = _level_name(coverage)
    a = table[target_col]
    inside = (a >= table[f"{model}-lo-{pct}"]) & (a <= table[f"{model}-hi-{pct}"])
    return float(np.mean(inside))
