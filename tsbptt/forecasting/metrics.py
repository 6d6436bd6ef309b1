"""Forecast accuracy: MAE, RMSE, MAPE, sMAPE and MASE (and MASE's scale).

Every function takes array-likes of the same shape (flattened) and returns a float.
Two pandas objects are paired by their index labels, as pandas pairs them, where
their labels are the same in another order; labels that differ are refused. Two
DataFrames are paired by their column labels too (a wide frame's columns are its
series). A default RangeIndex (a long frame's rows) cannot say which row is which:
sort both alike (e.g. by series and time) before scoring them.
"""
import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from ..utils._validation import check_positive_int, plain_label
from ._checks import real_numbers

__all__ = ["mae", "rmse", "mape", "smape", "mase", "naive_scale"]


def _aligned(y_true, y_pred):
    """``y_pred`` in ``y_true``'s label order when both are pandas objects on the
    same labels in another order (they were paired by position, silently: a panel's
    forecasts come grouped by series, test data is often sorted by time)."""
    pandas = (pd.Series, pd.DataFrame)
    if not (isinstance(y_true, pandas) and isinstance(y_pred, pandas)):
        return y_pred
    one_column = [s[:1] if len(s) == 2 and s[1] == 1 else s
                  for s in (y_true.shape, y_pred.shape)]
    if len(one_column[0]) != len(one_column[1]):  # a wide frame against a long Series
        raise ValueError(f"y_true has shape {y_true.shape} and y_pred {y_pred.shape}: "
                         "flattened, their values would pair by position across series; "
                         "give both in one layout (wide, one column a series: "
                         "y_pred.unstack(0); or long: y_true.stack())")
    if isinstance(y_true, pd.DataFrame) and isinstance(y_pred, pd.DataFrame):
        y_pred = _same_columns(y_true.columns, y_pred)
    a, b = y_true.index, y_pred.index
    if isinstance(a, pd.DatetimeIndex) and isinstance(b, pd.DatetimeIndex) \
            and (a.tz is None) != (b.tz is None):
        raise ValueError(f"y_true's times are {'in time zone ' + str(a.tz) if a.tz else 'naive'}"
                         f", y_pred's {'in time zone ' + str(b.tz) if b.tz else 'naive'}: give "
                         "both alike (.tz_localize(), .tz_convert())")
    if isinstance(a, pd.DatetimeIndex) and isinstance(b, pd.DatetimeIndex) \
            and a.tz is not None and not a.equals(b):
        # the same instants shown in another zone are the same steps
        y_pred = y_pred.set_axis(b.tz_convert(a.tz))
        b = y_pred.index
    if (a.equals(b) or isinstance(a, pd.RangeIndex) or isinstance(b, pd.RangeIndex)
            or len(a) != len(b) or not len(a)):  # sizes: _pair's message
        return y_pred
    if not (a.is_unique and b.is_unique):
        raise ValueError("y_true's and y_pred's index labels differ or are in another "
                         "order, and repeat, so they cannot be paired by label: give "
                         "both the same labels in the same order")
    if a.sort_values().equals(b.sort_values()):
        return y_pred.reindex(a)
    missing = a.difference(b)
    first = plain_label(missing[0] if len(missing) else a[0])
    raise ValueError(f"y_true and y_pred are on different index labels ({first!r} of "
                     "y_true is not in y_pred's): score the forecasts against the "
                     "actual values of the same steps")


def _same_columns(columns, y_pred):
    """``y_pred`` with its columns in the order ``columns`` names them (two frames
    of the same columns in another order were paired by position, silently)."""
    if y_pred.columns.equals(columns) or isinstance(columns, pd.RangeIndex) \
            or isinstance(y_pred.columns, pd.RangeIndex):  # unnamed: by position
        return y_pred
    if columns.is_unique and y_pred.columns.is_unique and len(columns) == len(
            y_pred.columns) and columns.isin(y_pred.columns).all():  # any label types
        return y_pred[columns]
    raise ValueError(f"y_true and y_pred have different columns ({list(columns)[:5]} "
                     f"and {list(y_pred.columns)[:5]}): score the forecasts of each "
                     "series against its own actual values")


def _naive_errors(y_train, season):
    """|y_t - y_{t - season}| within each training series, NaN where a pair has a
    missing value or crosses no series: a 2D y_train holds one series a column
    (time down the rows), a Series with a MultiIndex (id, ..., time) one series
    per id, each oldest first."""
    if isinstance(y_train, (pd.Series, pd.DataFrame)) \
            and isinstance(y_train.index, pd.MultiIndex):  # long: one series per id
        values = y_train.astype(np.float64)
        ids = list(range(y_train.index.nlevels - 1))
        before = values.groupby(level=ids, sort=False, dropna=False).shift(season)
        return np.abs(values.to_numpy() - before.to_numpy()).ravel()
    train = np.asarray(y_train, dtype=np.float64)
    train = train.reshape(len(train), -1) if train.ndim > 1 else train.ravel()
    return np.abs(train[season:] - train[:-season]).ravel()


def _pair(y_true, y_pred):
    y_pred = _aligned(y_true, y_pred)
    # booleans and strings were converted (True as 1.0, "2" as 2.0) and scored
    a, f = real_numbers(y_true, "y_true").ravel(), real_numbers(y_pred, "y_pred").ravel()
    if a.shape != f.shape or a.size == 0:
        raise ValueError(f"y_true and y_pred need the same, non-zero size, got "
                         f"{a.size} and {f.size}")
    for name, v in (("y_true", a), ("y_pred", f)):
        bad = np.flatnonzero(~np.isfinite(v))
        if len(bad):
            raise ValueError(f"y_true and y_pred must be finite; {name} has {v[bad[0]]} "
                             f"at position {bad[0]} (flattened)")
    return a, f


def mae(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Mean absolute error.

    Parameters
    ----------
    y_true : array-like
        The actual values (flattened).
    y_pred : array-like of the same size
        The forecasts.

    Returns
    -------
    float
    """
    a, f = _pair(y_true, y_pred)
    return float(np.mean(np.abs(a - f)))


def rmse(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Root mean squared error.

    Parameters
    ----------
    y_true : array-like
        The actual values (flattened).
    y_pred : array-like of the same size
        The forecasts.

    Returns
    -------
    float
    """
    a, f = _pair(y_true, y_pred)
    e = a - f
    with np.errstate(over="ignore", under="ignore"):
        out = float(np.sqrt(np.mean(e ** 2)))
    big = np.abs(e).max()
    if np.isinf(out) or (out == 0 and big > 0):  # the squares overflowed or
        out = float(big * np.sqrt(np.mean((e / big) ** 2)))  # underflowed, the root need not
    return out


def mape(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Mean absolute percentage error, in percent. Undefined if an actual is 0.

    Parameters
    ----------
    y_true : array-like
        The actual values (flattened).
    y_pred : array-like of the same size
        The forecasts.

    Returns
    -------
    float
    """
    a, f = _pair(y_true, y_pred)
    if np.any(a == 0):
        raise ValueError("MAPE is undefined when an actual value is 0; use sMAPE or MASE")
    return float(100 * np.mean(np.abs((a - f) / a)))


def smape(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Symmetric MAPE in percent (0 to 200): mean of 2|a - f| / (|a| + |f|), with 0/0
    counted as 0.

    Parameters
    ----------
    y_true : array-like
        The actual values (flattened).
    y_pred : array-like of the same size
        The forecasts.

    Returns
    -------
    float
    """
    a, f = _pair(y_true, y_pred)
    denom = np.abs(a) + np.abs(f)
    ratio = np.divide(2 * np.abs(a - f), denom, out=np.zeros_like(denom), where=denom > 0)
    return float(100 * np.mean(ratio))


def mase(y_true: ArrayLike, y_pred: ArrayLike, y_train: ArrayLike,
         season: int = 1) -> float:
    """Mean absolute scaled error: MAE over the in-sample MAE of the seasonal naive
    forecast (y_t = y_{t - season}) on the training series. Below 1 beats it.

    Parameters
    ----------
    y_true : array-like
        The actual values (flattened).
    y_pred : array-like of the same size
        The forecasts.
    y_train : array-like
        The training series the naive forecast is scored on, oldest first. A
        pair (y_t, y_{t - season}) with a missing value (NaN) is left out of the
        naive forecast's error (a series a Forecaster fills); an infinity is refused.
        Many series: a 2D array or DataFrame of one series a column, or a Series
        or DataFrame with a MultiIndex (id, ..., time) (each column a variable of
        every id's series); the naive forecast is taken within each series and its
        errors pooled.
    season : int, default=1
        The seasonal period (1: the naive forecast y_t = y_{t-1}).

    Returns
    -------
    float
    """
    a, f = _pair(y_true, y_pred)
    train = np.asarray(y_train, dtype=np.float64).ravel()
    if np.isinf(train).any():
        raise ValueError("y_train contains infinity")
    season = check_positive_int("season", season)
    if train.size <= season:
        raise ValueError(f"y_train has {train.size} values, needs more than "
                         f"season={season}")
    scale = naive_scale(y_train, season)
    if np.isnan(scale):
        raise ValueError(f"y_train has no pair of values season={season} apart without "
                         "a missing value")
    if scale == 0:
        raise ValueError("MASE is undefined: the seasonal naive forecast is exact on "
                         "y_train")
    if scale == np.inf:
        raise ValueError("the seasonal naive forecast's errors on y_train overflow "
                         "float64 (its values are up to 2e308 apart): divide y_train, "
                         "y_true and y_pred by a constant first")
    return float(np.mean(np.abs(a - f)) / scale)


def naive_scale(y_train: ArrayLike, season: int = 1) -> float:
    """MASE's scale: the in-sample MAE of the seasonal naive forecast on y_train
    (laid out as :func:`mase` reads it), pairs with a missing value left out.

    Parameters
    ----------
    y_train : array-like
        The training series, oldest first; many series as :func:`mase` takes them.
    season : int, default=1
        The seasonal period.

    Returns
    -------
    float
        NaN where no pair is left (too short a series, or missing values); 0 where
        the naive forecast is exact, and MASE undefined.
    """
    season = check_positive_int("season", season)
    if np.isinf(np.asarray(y_train, dtype=np.float64)).any():
        raise ValueError("y_train contains infinity")
    with np.errstate(over="ignore"):  # finite values 2e308 apart: an infinite scale
        errors = _naive_errors(y_train, season)
    errors = errors[~np.isnan(errors)]
    return float(np.mean(errors)) if errors.size else float("nan")


def _mase_or_nan(y_true, y_pred, y_train, season=1):
    """:func:`mase`, or NaN where it is undefined (a backtest's scale: the first
    training part too short, exact for the seasonal naive forecast, or without a
    pair free of missing values); its caller says so."""
    if np.size(y_train) <= season or not naive_scale(y_train, season) > 0:
        return float("nan")
    return mase(y_true, y_pred, y_train, season)
