"""From a pandas time series to aligned windows of inputs and targets.

A window ends at its forecast origin, row ``i`` of the series: its inputs are the
``lags`` rows ``i - lags + 1 .. i`` of the target and of the past-only covariates
(``exog``), its targets the ``horizon`` values of the target at rows
``i + gap + 1 .. i + gap + horizon``, and its future-known covariates
(``future_exog``: calendar features, planned values) are taken at those same target
rows, since they are known in advance. Nothing from after the origin enters the
inputs but the future-known covariates.

Origins run every ``stride`` rows and are aligned to the end of the series, so the
most recent window is always kept. The 3D output is a read-only strided view of
the series (no copy per window), so millions of points window in bounded memory.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..utils._validation import check_int, check_window_length
from ._checks import check_numeric, check_order
from ._panel import _freq_around_gaps, _grid, _step_of, future_index, quiet_infer_freq

__all__ = ["CALENDAR_FEATURES", "Windows", "calendar_features", "infer_season",
           "make_windows"]


@dataclass
class Windows:
    """The result of :func:`make_windows`.

    Attributes
    ----------
    X : DataFrame of shape (n_windows, lags * n_features) or ndarray of shape
        (n_windows, lags, n_features)
        Inputs, oldest step first; 2D columns are named ``{column}_lag{k}`` (k = 1
        is the origin), time-major: all features of one step, then the next step,
        the layout of the estimators' ``n_channels``.
    y : DataFrame of shape (n_windows, horizon)
        Targets, columns ``{target}_step{s}``, s steps after the origin.
    origins : Index
        The index label of each window's last input row (the forecast origin).
    X_future : DataFrame or ndarray or None
        Future-known covariates at the target steps: 2D columns
        ``{column}_step{s}``, or (n_windows, horizon, n_future) for ``as_3d``.
    """

    X: object
    y: pd.DataFrame
    origins: pd.Index
    X_future: object = None


#: Calendar features and their periods (for the sine/cosine encoding).
CALENDAR_FEATURES = {"minute": 60, "hour": 24, "dayofweek": 7, "dayofmonth": 31,
                     "dayofyear": 366, "weekofyear": 53, "month": 12, "quarter": 4}


def calendar_features(index: pd.DatetimeIndex, features: tuple[str, ...] | list[str] = (
        "hour", "dayofweek", "month"), cyclical: bool = True) -> pd.DataFrame:
    """Calendar features of a DatetimeIndex: known for any future date.

    Parameters
    ----------
    index : DatetimeIndex or PeriodIndex
        A period's features are those of its start (a quarter's month: its first).
    features : sequence of str, default=("hour", "dayofweek", "month")
        Names from :data:`CALENDAR_FEATURES`.
    cyclical : bool, default=True
        Encode each feature as a sine/cosine pair over its period (so 23:00 is
        next to 00:00 and December next to January): columns ``hour_sin``,
        ``hour_cos``, ... Otherwise the plain integers (``hour``, ...).

    Returns
    -------
    DataFrame of shape (len(index), 2 * len(features)) or (len(index), len(features))
        On ``index``.
    """
    if not isinstance(index, (pd.DatetimeIndex, pd.PeriodIndex)):
        raise TypeError(f"calendar features need a DatetimeIndex or a PeriodIndex, got "
                        f"{type(index).__name__}")
    on = index
    if isinstance(index, pd.PeriodIndex):
        index = index.to_timestamp(how="start")
    features = [features] if isinstance(features, str) else list(features)
    unknown = [f for f in features if f not in CALENDAR_FEATURES]
    if unknown or not features:
        raise ValueError(f"unknown calendar features {unknown or features!r}; choose "
                         f"from {list(CALENDAR_FEATURES)}")
    columns = {}
    for name in features:
        if name == "dayofmonth":
            values = index.day
        elif name == "weekofyear":
            values = index.isocalendar().week.to_numpy()
        else:
            values = getattr(index, {"dayofweek": "day_of_week",
                                     "dayofyear": "day_of_year"}.get(name, name))
        values = np.asarray(values, dtype=np.float64)
        if cyclical:
            angle = 2 * np.pi * values / CALENDAR_FEATURES[name]
            columns[f"{name}_sin"], columns[f"{name}_cos"] = np.sin(angle), np.cos(angle)
        else:
            columns[name] = values
    return pd.DataFrame(columns, index=on)


_SEASON_OF_OFFSET = (  # (offset types, steps per cycle) for a step of n == 1
    ((pd.offsets.BusinessDay,), 5),
    ((pd.offsets.Day,), 7),
    ((pd.offsets.Week,), 52),
    ((pd.offsets.MonthBegin, pd.offsets.MonthEnd, pd.offsets.BusinessMonthBegin,
      pd.offsets.BusinessMonthEnd), 12),
    ((pd.offsets.QuarterBegin, pd.offsets.QuarterEnd, pd.offsets.BQuarterBegin,
      pd.offsets.BQuarterEnd), 4),
)


#: pd.DateOffset fields of whole calendar steps, and the offset that steps alike (a
#: monthly step whatever its day); finer fields (days to nanoseconds) are Timedeltas
_OFFSET_OF_FIELD = {"years": pd.offsets.YearBegin, "months": pd.offsets.MonthBegin,
                    "weeks": pd.offsets.Week}
_TICK_FIELDS = ("days", "hours", "minutes", "seconds", "milliseconds", "microseconds",
                "nanoseconds")


def _alias_offset(offset):
    """A ``pd.DateOffset`` step of one whole field (``months=1``, ``hours=6``) as the
    offset of the alias that steps alike (``MonthBegin()``, ``Hour(6)``), or None (two
    fields, a field that pins a date such as ``day=15``, or no step at all)."""
    fields = offset.kwds or {"days": 1}  # a bare DateOffset() steps one calendar day
    if len(fields) != 1:
        return None
    ((field, count),) = fields.items()
    if not count or not offset.n:
        return None
    if field in _OFFSET_OF_FIELD and count == int(count):
        return _OFFSET_OF_FIELD[field](offset.n * int(count))
    if field in _TICK_FIELDS:
        return pd.tseries.frequencies.to_offset(pd.Timedelta(**{field: offset.n * count}))
    return None


def infer_season(step: pd.DateOffset | pd.Timedelta | str | int | None) -> int:
    """The usual seasonal period of a series with this step.

    A step that divides a day (15 minutes to 12 hours) has a daily cycle (30
    minutes: 48, hourly: 24); daily data a weekly one (7), business days 5,
    weekly data a yearly one (52; a step of 7 days or 168 hours too), monthly 12,
    quarterly 4. Anything else
    (yearly data, multiples such as 2 days, steps under 15 minutes, an integer
    index) has no default season: 1. A ``pd.DateOffset`` of one whole field
    has the season of the alias that steps alike: ``pd.DateOffset(months=1)``
    (monthly data on the 15th) 12 as ``'MS'``, ``days=1`` 7, ``hours=1`` 24.

    Parameters
    ----------
    step : str, DateOffset, Timedelta, int or None
        The step between consecutive observations (``Forecaster.step_``).

    Returns
    -------
    int
    """
    if step is None or isinstance(step, (int, np.integer)):
        return 1
    offset = pd.tseries.frequencies.to_offset(step)
    if type(offset) is pd.DateOffset:  # not its subclasses (MonthBegin, ...)
        offset = _alias_offset(offset)
        if offset is None:
            return 1
    if isinstance(offset, (pd.offsets.Tick, pd.offsets.Day)) and \
            pd.Timedelta(offset) == pd.Timedelta(days=7):
        return 52  # '7D' or '168h': weekly, as the 'W-WED' pandas infers from the labels
    # a Day is a Tick before pandas 3, a calendar day (weekly cycle) in both
    if isinstance(offset, pd.offsets.Tick) and not isinstance(offset, pd.offsets.Day):
        if pd.Timedelta(offset) == pd.Timedelta(days=1):  # '24h', a one-day Timedelta
            return 7
        steps_per_day, rest = divmod(pd.Timedelta(days=1), pd.Timedelta(offset))
        return int(steps_per_day) if rest == pd.Timedelta(0) and 2 <= steps_per_day <= 96 \
            else 1
    if offset.n != 1:
        return 1
    for kinds, season in _SEASON_OF_OFFSET:
        if isinstance(offset, kinds):
            return season
    return 1


def _columns(data, spec, name):
    """Covariate columns: names of columns of ``data``, or a frame on its index."""
    if spec is None:
        return pd.DataFrame(index=data.index)
    if isinstance(spec, (pd.DataFrame, pd.Series)):
        frame = spec.to_frame() if isinstance(spec, pd.Series) else spec
        if not frame.index.equals(data.index):
            raise ValueError(f"{name} must have the same index as data: it does not "
                             f"(first difference at {_first_difference(frame.index, data.index)})")
        return frame
    cols = [spec] if isinstance(spec, str) else list(spec)
    missing = [c for c in cols if c not in getattr(data, "columns", [])]
    if missing:
        raise ValueError(f"{name} names columns that data does not have: {missing}")
    return data[cols]


def _first_difference(a, b):
    n = min(len(a), len(b))
    diff = np.flatnonzero(np.asarray(a[:n]) != np.asarray(b[:n]))
    return repr(a[diff[0]]) if diff.size else f"length {len(a)} vs {len(b)}"


def _check_series(frame, what):
    """Numeric, finite values on a sorted, unique index."""
    check_order(frame.index, what)
    check_numeric(frame, what)


def _departure(index, step):
    """The first label of ``index`` off the grid of ``step`` from its first label:
    (position, the label expected there), or None."""
    expected = index[:1].append(future_index(index[0], step, len(index) - 1))
    off = np.flatnonzero(np.asarray(index != expected))
    return (int(off[0]), expected[off[0]]) if off.size else None


def _check_no_gaps(index):
    """A DatetimeIndex or PeriodIndex must be regular, at the step the Forecaster reads
    from it (calendar steps in calendar terms): a window across a gap would mix steps."""
    if isinstance(index, pd.PeriodIndex):
        if len(index) < 2:
            return
    elif not isinstance(index, pd.DatetimeIndex) or len(index) < 3 or index.freq is not None \
            or quiet_infer_freq(index) is not None:
        return
    step = _step_of(index, None, None, allow_gaps=True)
    off = _departure(index, step)
    if off is None:
        return
    if isinstance(index, pd.DatetimeIndex) and not index.isin(_grid(index, step)).all():
        # labels off the grid of the step read (the most common Timedelta of months, or
        # of days across a DST change): the labels up to there may read as a calendar
        # frequency whose grid holds every label, and a label it misses is the gap
        own = _freq_around_gaps(index[:max(off[0], 2) + 1])
        own = None if own is None else pd.tseries.frequencies.to_offset(own)
        if own is not None and index.isin(_grid(index, own)).all():
            step, off = own, _departure(index, own) or off
    bad, expected = off
    if isinstance(index, pd.PeriodIndex):  # its freq prints 'ME' for months 'M'
        at, mend = index.freqstr, ("Reindex it to every period first (data.reindex("
                                   "pd.period_range(data.index[0], data.index[-1], "
                                   "freq=data.index.freq)))")
    else:
        at, mend = step.freqstr, "Resample it first (data.resample(freq).mean())"
        missing = []
        if (isinstance(step, pd.offsets.BusinessDay) or (
                isinstance(step, (pd.offsets.Tick, pd.offsets.Day))
                and pd.Timedelta(step) == pd.Timedelta("1D"))) and (index.day_of_week < 5).all():
            # weekdays only (plain business days pandas reads itself): business days
            # with holidays, whose frequency pandas cannot read without being told
            missing = pd.bdate_range(index[0], index[-1], normalize=False).difference(index)
        if len(missing):
            raise ValueError(f"data's DatetimeIndex holds weekdays only, but not every one: "
                             f"{missing[0]!r} is missing. If the series skips holidays, give "
                             "the index its frequency first: data.index.freq = "
                             "pd.offsets.CustomBusinessDay(holidays=[...]); otherwise fill "
                             "the missing days")
    raise ValueError(f"data's {type(index).__name__} is not regular: {index[bad]!r} follows "
                     f"{index[bad - 1]!r}, where {expected!r} was expected at step {at}; a "
                     f"window across a gap would mix steps. {mend} and fill the gaps")


def _target_frame(data, target):
    if isinstance(data, pd.Series):
        name = data.name if data.name is not None else "y"
        if target not in (None, name):
            raise ValueError(f"target={target!r} but data is a Series named {name!r}")
        return data.to_frame(name), name
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data must be a pandas Series or DataFrame, got "
                        f"{type(data).__name__}")
    if target is None:
        if data.shape[1] != 1:
            raise ValueError(f"data has {data.shape[1]} columns: say which is the "
                             f"target with target=..., one of {list(data.columns)}")
        target = data.columns[0]
    if target not in data.columns:
        raise ValueError(f"target={target!r} is not a column of data: "
                         f"{list(data.columns)}")
    return data[[target]], target


def make_windows(data: pd.Series | pd.DataFrame, lags: int, horizon: int = 1,
                 stride: int = 1, gap: int = 0, target: str | None = None,
                 exog: list[str] | None = None, future_exog: list[str] | None = None,
                 as_3d: bool = False) -> Windows:
    """Cut a time series into aligned (inputs, targets) windows.

    Parameters
    ----------
    data : Series or DataFrame
        Sorted by its index (a DatetimeIndex, a RangeIndex or any ordered index),
        without duplicates, missing or complex values; a DatetimeIndex or a
        PeriodIndex must be regular at the step the Forecaster reads from it (a gap,
        a missing step or period, is refused: a window across it would mix steps;
        months, business days and days of 23 or 25 hours are steps of the calendar).
    lags : int >= 1
        Steps of input per window; more than the series holds is refused before
        anything is allocated.
    horizon : int >= 1, default=1
        Steps of target per window.
    stride : int >= 1, default=1
        Steps between consecutive forecast origins (aligned to the series' end).
    gap : int >= 0, default=0
        Steps skipped between the origin and the first target.
    target : column label or None
        Which column is forecast (not needed for a Series or one column).
    exog : column labels, Series or DataFrame, default=None
        Past-only covariates, known up to the origin: they join the target's lags.
    future_exog : column labels, Series or DataFrame, default=None
        Covariates known in advance, taken at the target steps.
    as_3d : bool, default=False
        Inputs as a read-only (n_windows, lags, n_features) view instead of a
        DataFrame.

    Returns
    -------
    Windows
    """
    lags, horizon = check_int("lags", lags, 1), check_int("horizon", horizon, 1)
    stride, gap = check_int("stride", stride, 1), check_int("gap", gap, 0)
    tgt, target = _target_frame(data, target)
    past = pd.concat([tgt, _columns(data, exog, "exog")], axis=1)
    fut = _columns(data, future_exog, "future_exog")
    if past.columns.duplicated().any():
        raise ValueError(f"exog repeats the target or a column: {list(past.columns)}")
    both = [c for c in fut.columns if c in past.columns]
    if both or fut.columns.duplicated().any():
        raise ValueError(f"future_exog repeats the target, an exog column or itself: "
                         f"{both or list(fut.columns)}; a column is past-only (exog) or "
                         "known in advance (future_exog), and the target never is")
    _check_series(pd.concat([past, fut], axis=1), "data")
    _check_no_gaps(past.index)
    n = len(past)
    check_window_length(n, lags, horizon, gap)
    last = n - 1 - gap - horizon  # the last origin with all its targets
    first = (lags - 1) + (last - (lags - 1)) % stride
    origins = np.arange(first, last + 1, stride)
    values = past.to_numpy(dtype=np.float64)
    windows = np.lib.stride_tricks.sliding_window_view(values, lags, axis=0)
    X3 = windows[first - lags + 1:last - lags + 2:stride].transpose(0, 2, 1)
    y_pos = origins[:, None] + gap + 1 + np.arange(horizon)[None, :]
    y = pd.DataFrame(values[y_pos, 0], index=past.index[origins],
                     columns=[f"{target}_step{gap + h}" for h in range(1, horizon + 1)])
    X_future = None
    if fut.shape[1]:
        F3 = fut.to_numpy(dtype=np.float64)[y_pos]  # (n_windows, horizon, n_future)
        X_future = F3 if as_3d else pd.DataFrame(
            F3.reshape(len(origins), -1), index=y.index,
            columns=[f"{c}_step{gap + h}" for h in range(1, horizon + 1)
                     for c in fut.columns])
    if not as_3d:
        X3 = pd.DataFrame(X3.reshape(len(origins), -1), index=y.index,
                          columns=[f"{c}_lag{k}" for k in range(lags, 0, -1)
                                   for c in past.columns])
    return Windows(X=X3, y=y, origins=past.index[origins], X_future=X_future)
