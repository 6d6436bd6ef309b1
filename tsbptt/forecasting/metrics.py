"""Forecast accuracy: MAE, RMSE, MAPE, sMAPE and MASE (and MASE's scale).

Every function takes array-likes of the same size (flattened) and returns a float
(two arrays of two or more axes each must have the same shape, size-1 axes aside);
:func:`mase` with many training series scores each series apart and averages them.
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
from ._checks import real_numbers, rows_by_series

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
    a, f = real_numbers(y_true, "y_true"), real_numbers(y_pred, "y_pred")
    shapes = [tuple(n for n in v.shape if n != 1) for v in (a, f)]
    if min(map(len, shapes)) > 1 and shapes[0] != shapes[1]:
        # (2, 3) against (3, 2) flattened pairs values of different rows and columns
        raise ValueError(f"y_true has shape {a.shape} and y_pred {f.shape}: flattened, "
                         "their values would pair by position across rows and columns; "
                         "give both the same shape")
    a, f = a.ravel(), f.ravel()
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

    With many training series, the mean over the series of each one's MASE: its
    forecasts' MAE over its own naive forecast's, so that a series of prices near
    6e5 weighs no more than one near 0.01 (as ``tsbptt.backtest`` on a panel and
    sktime's ``mean_absolute_scaled_error`` average them).

    Parameters
    ----------
    y_true : array-like
        The actual values (flattened against one training series). Against many,
        in a layout that names each series: a DataFrame (or 2D array) of shape
        (n_steps, n_series), one column a series, or a Series (or one-column
        DataFrame) with a MultiIndex (id, ..., time), its rows in any order. A
        series is matched to ``y_train``'s of the same column label or id (a wide
        frame's column to a long ``y_train``'s id too), or by position where the
        columns of either are unnamed (a 2D array, a RangeIndex) and both are wide;
        a series ``y_train`` lacks is refused, and so is a 1D ``y_true`` (which
        series is it?). ``y_train``'s series ``y_true`` lacks are not scored.
    y_pred : array-like of the same size
        The forecasts, in ``y_true``'s layout (pandas objects paired by label).
    y_train : array-like
        The training series the naive forecast is scored on, oldest first. A
        pair (y_t, y_{t - season}) with a missing value (NaN) is left out of the
        naive forecast's error (a series a Forecaster fills); an infinity is refused.
        Many series: a 2D array or DataFrame of shape (n_steps, n_series), one
        series a column, or a Series or DataFrame with a MultiIndex (id, ..., time),
        each id's rows a series in the order given (a long DataFrame of several
        columns: one series per id and column, keyed ``(id, column)``). One column
        or one id is one series.
    season : int, default=1
        The seasonal period (1: the naive forecast y_t = y_{t-1}).

    Returns
    -------
    float

    Raises
    ------
    ValueError
        Where MASE is undefined: the naive forecast exact on the training series,
        or no pair of its values ``season`` apart without a missing value. With
        many series, where it is so for one of them, named (as for one series;
        ``tsbptt.backtest`` instead warns and averages the others): score the
        others without it.
    """
    many = _layout(y_train)
    if many is not None and len(many[0]) > 1:
        return _mean_mase(y_true, y_pred, y_train, many, season)
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


def _layout(values):
    """The series ``values`` holds, as ``(keys, groups, kind)``: ``groups[k]`` the
    positions of series ``keys[k]``'s values in ``values`` flattened (row-major),
    in row order; ``kind`` 'long' (keys: ids), 'wide' (column labels) or
    'positions' (a 2D array's, or a RangeIndex's, columns: only their order says
    which is which). None for a 1D layout: one series, or values of unknown series."""
    if isinstance(values, (pd.Series, pd.DataFrame)) \
            and isinstance(values.index, pd.MultiIndex):  # long: one series per id
        ids, rows = rows_by_series(values.index)
        if not isinstance(values, pd.DataFrame) or values.shape[1] == 1:
            return ids, rows, "long"
        c = values.shape[1]  # several columns: a series per id and column
        keys = pd.Index([(*(i if isinstance(i, tuple) else (i,)), col)
                         for i in ids for col in values.columns])
        return keys, [r * c + j for r in rows for j in range(c)], "long"
    shape = np.shape(values)
    if len(shape) < 2:
        return None
    n, c = shape[0], int(np.prod(shape[1:]))
    named = isinstance(values, pd.DataFrame) and not isinstance(values.columns, pd.RangeIndex)
    keys = values.columns if named else pd.RangeIndex(c)
    return keys, [np.arange(n) * c + j for j in range(c)], "wide" if named else "positions"


def _mean_mase(y_true, y_pred, y_train, train_layout, season):
    """:func:`mase` against many training series: the mean of each series' MASE."""
    train = np.asarray(y_train, dtype=np.float64).ravel()
    if np.isinf(train).any():
        raise ValueError("y_train contains infinity")
    season = check_positive_int("season", season)
    y_pred = _aligned(y_true, y_pred)  # in y_true's row and column order
    a, f = _pair(y_true, y_pred)
    shapes = [s[:1] if len(s) == 2 and s[1] == 1 else s
              for s in (np.shape(y_true), np.shape(y_pred))]
    if shapes[0] != shapes[1]:  # flattened alike, they would pair across series
        raise ValueError(f"y_true has shape {np.shape(y_true)} and y_pred "
                         f"{np.shape(y_pred)}: against many training series, give both "
                         "in one layout, one column or one id a series")
    layout = _layout(y_true)
    if layout is None:
        raise ValueError(f"y_true is one series of shape {np.shape(y_true)}, and y_train "
                         f"holds {len(train_layout[0])}: which is it? Give y_true and "
                         "y_pred one column a series (as y_train's) or a MultiIndex "
                         "(id, ..., time), or score one series against its own training "
                         "series: mase(y_true, y_pred, y_train[column])")
    which = _match_series(layout, train_layout)
    scores = []
    keys = layout[0] if train_layout[2] == "positions" else train_layout[0][which]
    for k, g in enumerate(layout[1]):
        key = plain_label(keys[k])
        scale = _series_scale(train[train_layout[1][which[k]]], season, key)
        scores.append(np.mean(np.abs(a[g] - f[g])) / scale)
    return float(np.mean(scores))


def _match_series(layout, train_layout):
    """For each of y_true's series, the position of its training series."""
    (keys, _, kind), (train_keys, _, train_kind) = layout, train_layout
    for name, k in (("y_true", keys), ("y_train", train_keys)):
        if not k.is_unique:
            raise ValueError(f"{name} has the series {plain_label(k[k.duplicated()][0])!r}"
                             " twice: give each series once")
    if "positions" in (kind, train_kind):  # a column's position is all there is
        if "long" not in (kind, train_kind) and len(keys) == len(train_keys):
            return np.arange(len(keys))  # as _same_columns pairs unnamed columns
        raise ValueError(f"y_true holds {len(keys)} series and y_train "
                         f"{len(train_keys)}, and the columns of one have no labels (a "
                         "2D array, a RangeIndex): those pair by position only with as "
                         "many columns, never with a MultiIndex's ids; label both "
                         "alike (named columns, or ids)")
    which = train_keys.get_indexer(keys)
    if (which < 0).any():
        first = plain_label(keys[int(np.flatnonzero(which < 0)[0])])
        raise ValueError(f"y_true's series {first!r} is not among y_train's "
                         f"({[plain_label(k) for k in train_keys[:5]]}"
                         f"{', ...' if len(train_keys) > 5 else ''}): score each series "
                         "against its own training series, labelled alike")
    return which


def _series_scale(values, season, key):
    """The naive scale of training series ``key`` (1D ``values``), refused where
    MASE would be undefined or overflow, as :func:`mase` refuses one series'."""
    if values.size <= season:
        raise ValueError(f"y_train's series {key!r} has {values.size} values, needs "
                         f"more than season={season}")
    with np.errstate(over="ignore"):  # finite values 2e308 apart: an infinite scale
        errors = np.abs(values[season:] - values[:-season])
    errors = errors[~np.isnan(errors)]
    if not errors.size:
        raise ValueError(f"y_train's series {key!r} has no pair of values "
                         f"season={season} apart without a missing value")
    scale = float(np.mean(errors))
    if scale == 0:
        raise ValueError(f"MASE is undefined for series {key!r}: the seasonal naive "
                         "forecast is exact on its training values; score the other "
                         "series without it")
    if scale == np.inf:
        raise ValueError(f"the seasonal naive forecast's errors on y_train's series "
                         f"{key!r} overflow float64 (its values are up to 2e308 apart): "
                         "divide y_train, y_true and y_pred by a constant first")
    return scale


def naive_scale(y_train: ArrayLike, season: int = 1) -> float:
    """MASE's scale: the in-sample MAE of the seasonal naive forecast on y_train
    (laid out as :func:`mase` reads it), pairs with a missing value left out.

    Parameters
    ----------
    y_train : array-like
        The training series, oldest first; many series as :func:`mase` takes them,
        the naive forecast taken within each and their errors pooled into one
        scale (:func:`mase` scales each series by its own instead:
        ``naive_scale(y_train[column])``).
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
    """:func:`mase` of one training series, or NaN where it is undefined (a
    backtest's scale, per series on a panel: the first training part too short,
    exact for the seasonal naive forecast, or without a pair free of missing
    values); its caller says so."""
    if np.size(y_train) <= season or not naive_scale(y_train, season) > 0:
        return float("nan")
    return mase(y_true, y_pred, y_train, season)
