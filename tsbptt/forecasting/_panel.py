"""One or many pandas time series, checked and made regular, for the Forecaster.

The forecaster accepts one Series, a dict of Series, or a Series with a two-level
MultiIndex (series id, time) — the long layout ``frame.set_index([id, time])[value]``
— with covariates in the same layout. This module turns any of them into a list of
:class:`Entry` (one per series) on regular indexes, and turns forecasts back into
the layout the user gave. Nothing is reordered: series keep the order in which they
first appear, and every check names the series and the label it failed at.
"""
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .windowing import check_numeric, check_order

__all__ = ["Entry", "continuations", "future_index", "split_future", "to_entries",
           "to_output"]

FILL_METHODS = ("ffill", "interpolate")


@dataclass
class Entry:
    """One series: ``key`` (None for a lone Series), ``y`` and covariates ``X``
    (None or a DataFrame on y's index), and how many steps ``fill`` filled in."""

    key: object
    y: pd.Series
    X: object = None
    n_filled: int = 0


def _where(key):
    return "y" if key is None else f"series {key!r}"


def _step_of(index, freq, key, allow_gaps):
    """The step between consecutive labels: a pandas offset for a DatetimeIndex, an
    int for an integer index. Without ``allow_gaps`` the index must be regular."""
    if isinstance(index, pd.DatetimeIndex):
        if isinstance(freq, (int, np.integer)):
            raise ValueError(f"freq={freq!r} is an integer step, but {_where(key)} has a "
                             "DatetimeIndex: pass a pandas frequency such as 'h' or 'D'")
        inferred = freq if freq is not None else index.freq
        if inferred is None and len(index) >= 3:
            with warnings.catch_warnings():  # pandas 3.1 announces an offset return
                warnings.filterwarnings("ignore", "A future version of pandas will "
                                        "return a BaseOffset")
                inferred = pd.infer_freq(index)
        if inferred is None and len(index) >= 3:
            # irregular: take the most common step, to point at the first gap
            common = pd.Series(index[1:] - index[:-1]).mode().iloc[0]
            inferred = common if common > pd.Timedelta(0) else None
        if inferred is None:
            raise ValueError(f"the frequency of {_where(key)}'s DatetimeIndex cannot be "
                             "inferred (too short or irregular); pass freq=...")
        step = pd.tseries.frequencies.to_offset(inferred)
        if not allow_gaps:
            expected = pd.date_range(index[0], periods=len(index), freq=step)
            if not expected.equals(index):
                bad = int(np.flatnonzero(np.asarray(expected != index))[0])
                raise ValueError(
                    f"{_where(key)}'s index is not regular at frequency {step.freqstr}: "
                    f"{index[bad]!r} where {expected[bad]!r} was expected (a gap); pass "
                    "fill='interpolate' or fill='ffill' to fill gaps, or resample first "
                    "(y.resample(freq).mean())")
        return step
    if pd.api.types.is_integer_dtype(index):
        if freq is not None and not isinstance(freq, (int, np.integer)):
            raise ValueError(f"freq={freq!r} is a pandas frequency, but {_where(key)} has "
                             "an integer index: pass an integer step, or freq=None")
        steps = np.diff(np.asarray(index))
        step = int(freq) if isinstance(freq, (int, np.integer)) else (
            int(pd.Series(steps).mode().iloc[0]) if len(steps) else 1)
        if not allow_gaps and len(steps) and not np.all(steps == step):
            bad = int(np.flatnonzero(steps != step)[0]) + 1
            raise ValueError(f"{_where(key)}'s integer index is not regular at step {step}: "
                             f"{index[bad]!r} after {index[bad - 1]!r}; pass "
                             "fill='interpolate' or fill='ffill' to fill gaps")
        return step
    raise TypeError(f"{_where(key)} needs a DatetimeIndex or an integer index, got "
                    f"{type(index).__name__}")


def _grid(index, step):
    if isinstance(step, int):
        return pd.Index(np.arange(index[0], index[-1] + 1, step))
    return pd.date_range(index[0], index[-1], freq=step)


def _check_order(index, key):
    check_order(index, _where(key), labels="timestamps", order="by time",
                hint="; aggregate them first (y.groupby(level=0).mean())")


def _check_values(frame, key, finite=True):
    check_numeric(frame, _where(key), finite=finite,
                  hint="; pass fill='interpolate' or fill='ffill' to fill missing values")


def _regular(entry, freq, fill):
    """Check an entry and, with ``fill``, reindex it to its regular grid and fill
    the gaps and missing values; returns (entry, step)."""
    y, X, key = entry.y, entry.X, entry.key
    if not (isinstance(y.index, pd.DatetimeIndex)
            or pd.api.types.is_integer_dtype(y.index)):  # before the order: '10' < '9'
        raise TypeError(f"{_where(key)} needs a DatetimeIndex or an integer index, got "
                        f"{type(y.index).__name__} of dtype {y.index.dtype}")
    _check_order(y.index, key)
    if len(y) < 2:
        raise ValueError(f"{_where(key)} has {len(y)} value(s); a series needs at least 2")
    step = _step_of(y.index, freq, key, allow_gaps=fill is not None)
    # an unnamed y is column 'y' here (as in messages), not 0, which X may also use
    ycol = y.to_frame(y_name(y))
    frame = ycol if X is None else pd.concat([ycol, X], axis=1)
    if fill is not None:
        grid = _grid(y.index, step)
        off = ~y.index.isin(grid)
        if off.any():
            raise ValueError(f"{_where(key)} has a timestamp off its {step!r} grid: "
                             f"{y.index[np.flatnonzero(off)[0]]!r}; resample it first")
        frame = frame.reindex(grid)
        _check_values(frame, key, finite=False)  # only numbers can be filled
        frame = frame.astype(np.float64).replace([np.inf, -np.inf], np.nan)
        missing = int(frame.iloc[:, 0].isna().sum())
        if fill == "ffill":
            frame = frame.ffill()
        else:
            frame = frame.interpolate(method="time" if isinstance(grid, pd.DatetimeIndex)
                                      else "index", limit_area="inside").ffill()
        if frame.isna().to_numpy().any():
            col = frame.columns[np.flatnonzero(frame.isna().any().to_numpy())[0]]
            raise ValueError(f"column {col!r} of {_where(key)} starts with missing "
                             "values, which cannot be filled from the past; drop them")
        entry = Entry(key, frame.iloc[:, 0].rename(y.name),
                      None if X is None else frame.iloc[:, 1:], missing)
    else:
        _check_values(frame, key)
    return entry, step


def _entries(y, X):
    """Split the user's layout into entries; returns (entries, layout)."""
    if isinstance(y, pd.Series) and isinstance(y.index, pd.MultiIndex):
        if y.index.nlevels != 2:
            raise ValueError(f"a long y needs a two-level MultiIndex (series id, time), "
                             f"got {y.index.nlevels} levels")
        keys = pd.unique(y.index.get_level_values(0))
        if not len(keys):
            raise ValueError("y is empty: give at least one series")
        if X is not None and not (isinstance(X, pd.DataFrame) and X.index.equals(y.index)):
            raise ValueError("X must be a DataFrame on exactly y's (series id, time) index")
        return [Entry(k, y.xs(k, level=0).rename(y.name),
                      None if X is None else X.xs(k, level=0)) for k in keys], "long"
    if isinstance(y, pd.Series):
        if X is not None:
            X = X.to_frame() if isinstance(X, pd.Series) else X
            if not isinstance(X, pd.DataFrame) or not X.index.equals(y.index):
                raise ValueError("X must be a DataFrame on exactly y's index (one row "
                                 "per step of y)")
        return [Entry(None, y, X)], "single"
    if isinstance(y, dict):
        if not y:
            raise ValueError("y is an empty dict: give at least one series")
        if X is not None and (not isinstance(X, dict) or set(X) != set(y)):
            raise ValueError("with a dict y, X must be a dict with the same keys: "
                             f"y has {sorted(map(repr, y))}, X has "
                             f"{sorted(map(repr, X)) if isinstance(X, dict) else type(X)}")
        out = []
        for k, s in y.items():
            if not isinstance(s, pd.Series):
                raise TypeError(f"y[{k!r}] must be a pandas Series, got {type(s).__name__}")
            Xk = None if X is None else X[k]
            Xk = Xk.to_frame() if isinstance(Xk, pd.Series) else Xk
            if Xk is not None and (not isinstance(Xk, pd.DataFrame)
                                   or not Xk.index.equals(s.index)):
                raise ValueError(f"X[{k!r}] must be a DataFrame on exactly y[{k!r}]'s index")
            out.append(Entry(k, s, Xk))
        return out, "dict"
    raise TypeError(f"y must be a pandas Series (a MultiIndex (series id, time) for "
                    f"many series) or a dict of Series, got {type(y).__name__}")


def to_entries(y, X=None, *, freq=None, fill=None):
    """Checked, regular entries of one or many series.

    Parameters
    ----------
    y : Series, dict of Series, or Series with a MultiIndex (series id, time)
    X : DataFrame in y's layout (dict of DataFrames for a dict y), default=None
    freq : str, DateOffset, int or None
        The step, if it cannot be inferred (an int for an integer index).
    fill : {None, 'ffill', 'interpolate'}
        None: gaps and missing values are errors. Otherwise reindex each series to
        its regular grid and fill (forward, or linear in time; covariates too).

    Returns
    -------
    entries : list of Entry
    layout : {'single', 'dict', 'long'}
    step : DateOffset or int
        The common step of every series.
    """
    entries, layout = _entries(y, X)
    out, step = [], None
    columns = None if entries[0].X is None else list(entries[0].X.columns)
    for e in entries:
        cols = None if e.X is None else list(e.X.columns)
        if cols != columns:
            raise ValueError(f"{_where(e.key)} has covariates {cols}, the first series "
                             f"{columns}: give every series the same columns")
        if e.X is not None and y_name(e.y) in cols:
            raise ValueError(f"X has a column named like y ({y_name(e.y)!r})")
        e, s = _regular(e, freq, fill)
        if step is not None and s != step:
            raise ValueError(f"{_where(e.key)} has step {s!r}, the first series {step!r}: "
                             "every series must have the same frequency")
        out.append(e)
        step = s
    return out, layout, step


def _label(x):
    """A label as the user wrote it: 7, not np.int64(7)."""
    return x.item() if isinstance(x, np.generic) else x


def _check_continues(old, new, step, key):
    """Raise unless ``new``'s labels are the next ones after ``old``'s last label."""
    where, index = _where(key), new.index
    if type(index) is not type(old.index) and not (  # an int index of another width
            pd.api.types.is_integer_dtype(index) and isinstance(step, int)):
        raise TypeError(f"the new values of {where} have a {type(index).__name__}, the "
                        f"fitted ones a {type(old.index).__name__}")
    _check_order(index, key)
    last = old.index[-1]
    expected = future_index(last, step, len(index))
    if index[0] <= last:
        raise ValueError(f"the new values of {where} overlap the known ones: they start at "
                         f"{_label(index[0])!r}, the known ones end at {_label(last)!r}; "
                         f"pass only the values after it (from {_label(expected[0])!r})")
    if not index.equals(expected):
        bad = int(np.flatnonzero(np.asarray(index != expected))[0])
        what = "a gap" if bad == 0 else f"not at the fitted step {step!r}"
        raise ValueError(f"the new values of {where} must continue it at step {step!r}: "
                         f"{_label(index[bad])!r} where {_label(expected[bad])!r} was "
                         f"expected ({what})")


def continuations(y_new, X_new, layout, step, tails, exog_names):
    """Checked new values that continue each known series (any subset of them).

    Parameters
    ----------
    y_new, X_new : the new values and their covariates, in the fitted layout
    layout : {'single', 'dict', 'long'}
    step : DateOffset or int
    tails : dict of Entry, the known series by key
    exog_names : list of str, the fitted covariate columns

    Returns
    -------
    list of Entry
        The new part of each updated series.
    """
    if isinstance(y_new, pd.Series) and len(y_new) == 0:
        raise ValueError("y_new is empty: give at least one new value")
    entries, got = _entries(y_new, X_new)
    if got != layout:
        raise ValueError(f"y_new must be laid out like the training data ({layout}), "
                         f"got {got}")
    for e in entries:
        if e.key not in tails:
            raise ValueError(f"series {e.key!r} was not seen in fit "
                             f"(known: {list(tails)[:10]})")
        cols = [] if e.X is None else list(e.X.columns)
        if cols != exog_names:
            raise ValueError(f"X_new has columns {cols} for {_where(e.key)}, the model was "
                             f"fitted with {exog_names}")
        if len(e.y) == 0:
            raise ValueError(f"y_new has no value for {_where(e.key)}")
        _check_continues(tails[e.key].y, e.y, step, e.key)
        frame = e.y.to_frame() if e.X is None else pd.concat([e.y.to_frame(), e.X], axis=1)
        check_numeric(frame, f"the new values of {_where(e.key)}")
    return entries


def y_name(y):
    return y.name if y.name is not None else "y"


def future_index(last, step, steps):
    """The ``steps`` labels after ``last``."""
    if isinstance(step, int):
        return pd.Index(last + step * np.arange(1, steps + 1))
    return pd.date_range(last + step, periods=steps, freq=step)


def split_future(X, layout, keys):
    """Future covariates in the user's layout -> {key: DataFrame or None}."""
    if X is None:
        return {k: None for k in keys}
    if layout == "single":
        X = X.to_frame() if isinstance(X, pd.Series) else X
        if not isinstance(X, pd.DataFrame):
            raise TypeError(f"X must be a DataFrame, got {type(X).__name__}")
        return {None: X}
    if layout == "dict":
        if not isinstance(X, dict):
            raise TypeError(f"X must be a dict of DataFrames like y, got {type(X).__name__}")
        return {k: X[k].to_frame() if isinstance(X.get(k), pd.Series) else X.get(k)
                for k in keys}
    if not isinstance(X, pd.DataFrame) or X.index.nlevels != 2:
        raise TypeError("X must be a DataFrame with a (series id, time) MultiIndex")
    have = set(X.index.get_level_values(0))
    return {k: X.xs(k, level=0) if k in have else None for k in keys}


def to_output(values, layout, names):
    """Per-series Series/DataFrames -> the user's layout.

    ``values`` is a list of (key, Series or DataFrame); a lone series comes back as
    it is, many as one object with a (series id, time) MultiIndex."""
    if layout == "single":
        return values[0][1]
    keys = [k for k, _ in values]
    if not any(isinstance(k, tuple) for k in keys):
        return pd.concat([v for _, v in values], keys=keys, names=names)
    # pd.concat would spread tuple keys over several levels: keep one id level
    out = pd.concat([v for _, v in values])
    ids = pd.Index(keys, tupleize_cols=False).repeat([len(v) for _, v in values])
    out.index = pd.MultiIndex.from_arrays([ids, out.index], names=names)
    return out
