"""A global model trained on a panel larger than memory, one partition at a time.

:func:`fit_partitions` reads a long panel (one row per series and step:
``id_col``, ``time_col``, ``target_col``) partition by partition — a Dask
DataFrame's partitions, or any sequence of pandas DataFrames or of
``dask.delayed`` objects that compute to them — and feeds the lag windows of
each partition to the estimator's ``partial_fit``: one pass over the partitions
per epoch, so only one partition and its windows are in memory at a time.

Design
------
- The rows must be sorted by series, then time, across the partitions (what
  ``set_index``/``sort_values`` and most writers give), one step apart within a
  series (dates on the grid of the frequency its first rows show, other times at
  one fixed step: a gap is refused, naming it); a series may straddle partition
  boundaries. The last ``lags + horizon - 1`` rows of the series that
  a partition ends with are carried into the next, so exactly the windows of
  the whole panel are built, each once, in the panel's order
  (:func:`partition_windows`; a test compares them with the whole panel's).
- Scaling: each series is standardised by its mean and standard deviation,
  computed in a first pass (counts, means and squared deviations combined
  partition by partition, Chan et al.'s formula), and forecasts mapped back.
- Estimators: anything with ``partial_fit(X, y)`` on 2D windows — tsbptt's
  regressors (one epoch per call; they fit their input scaling on the first
  call, so the per-series standardisation matters), ``SGDRegressor`` (horizon
  1), ``MLPRegressor``. Ridge and other batch-only models have none: a
  TypeError says so before any partition is read.
"""
from numbers import Integral

import numpy as np
import pandas as pd
from sklearn.base import clone

from ._panel import quiet_infer_freq

__all__ = ["PartitionedModel", "fit_partitions", "partition_windows"]

#: Rows of one series in one partition from which its dates' frequency is read
#: (enough for business days to show a weekend).
FREQ_ROWS = 8


def _partitions(data):
    """The partitions of ``data`` as a list of lazy or eager pieces."""
    if hasattr(data, "to_delayed") and hasattr(data, "npartitions"):
        return list(data.to_delayed())
    if isinstance(data, pd.DataFrame):
        return [data]
    if isinstance(data, (list, tuple)) and data:
        return list(data)
    raise TypeError("data must be a dask DataFrame, a pandas DataFrame, or a non-empty "
                    f"list of (delayed) pandas DataFrames, got {type(data).__name__}")


def _load(part, columns, i):
    frame = part.compute() if hasattr(part, "compute") else part
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"partition {i} is a {type(frame).__name__}, not a DataFrame")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"partition {i} lacks the columns {missing}; it has "
                         f"{list(frame.columns)}")
    values = _numbers(frame[columns[2]], f"partition {i}: column {columns[2]!r}")
    if not np.all(np.isfinite(values)):
        raise ValueError(f"partition {i}: column {columns[2]!r} holds NaN or infinite "
                         "values")
    if frame[columns[1]].isna().any():  # a missing time compares as neither < nor >
        raise ValueError(f"partition {i}: column {columns[1]!r} holds missing times")
    return frame[columns[0]].to_numpy(), frame[columns[1]].to_numpy(), values


def _numbers(column, where):
    """A column's values as float64; TypeError naming ``where`` if they are not
    numbers (NumPy's "could not convert string to float" named neither)."""
    try:
        return column.to_numpy(np.float64)
    except (TypeError, ValueError):
        bad = column[pd.to_numeric(column, errors="coerce").isna() & column.notna()]
        first = f", e.g. {bad.iloc[0]!r}" if len(bad) else ""
        raise TypeError(f"{where} holds values that are not numbers (dtype "
                        f"{column.dtype}){first}") from None


def _runs(ids):
    """Start positions of each run of equal ids, and the end."""
    if not len(ids):
        return np.zeros(1, np.intp)
    change = np.flatnonzero(ids[1:] != ids[:-1]) + 1
    return np.concatenate([[0], change, [len(ids)]])


def _when(t):
    """A time as a message says it: datetime64 as a Timestamp's text."""
    return pd.Timestamp(t) if isinstance(t, np.datetime64) else t


def _series_stats(parts, columns, freq=None):
    """Per series: (count, mean, M2) over every partition, the series order, and
    the frequency of its dates (from its first :data:`FREQ_ROWS` rows, across
    partitions). A series whose times are not one step apart (a gap, an irregular
    index) is refused: its windows would join steps that are not neighbours.
    ``freq``: every series' step, where given (dated series)."""
    stats, order, last, last_time, freqs = {}, [], None, None, {}
    pending, steps = {}, {}  # first dates before a frequency shows; number steps
    for i, part in enumerate(parts):
        ids, times, y = _load(part, columns, i)
        bounds = _runs(ids)
        for a, b in zip(bounds[:-1], bounds[1:]):
            key = ids[a]
            if key in stats and key != last:
                raise ValueError(f"series {key!r} appears again in partition {i} after "
                                 "other series: sort the rows by series, then time")
            if key == last and not times[a] > last_time:  # continued from a partition before
                raise ValueError(f"series {key!r} is not in increasing time order: "
                                 f"partition {i} begins it at {_when(times[a])}, not "
                                 f"after {_when(last_time)}, where an earlier partition "
                                 "ends it")
            # each time against the one before, not np.diff(...) <= 0: NumPy 1.x
            # compares no datetime64 difference with the integer 0
            if np.any(times[a + 1:b] <= times[a:b - 1]):
                raise ValueError(f"series {key!r} is not in increasing time order in "
                                 f"partition {i}")
            n, m, m2 = b - a, float(np.mean(y[a:b])), float(np.sum((y[a:b] - y[a:b].mean())
                                                                   ** 2))
            if key in stats:  # Chan et al.: combine two parts' moments
                n0, m0, s0 = stats[key]
                d, tot = m - m0, n0 + n
                stats[key] = (tot, m0 + d * n / tot, s0 + m2 + d * d * n0 * n / tot)
            else:
                stats[key] = (n, m, m2)
                order.append(key)
            if freq is not None and isinstance(times[a], (np.datetime64, pd.Timestamp)):
                freqs.setdefault(key, freq)
            _check_steps(key, times[a:b], last_time if key == last else None,
                         f"partition {i}", freqs, pending, steps)
            last, last_time = key, times[b - 1]
    for key, seen in pending.items():  # series of fewer than FREQ_ROWS dates: checked
        # against what they show, not recorded (five weekdays show days, not business
        # days, which would then refuse the weekend in predict's rows)
        if len(seen) >= 3 and _datetime_freq(seen) is None:
            raise _irregular(key, seen, None, "its dates")
    return stats, order, freqs


def _check_steps(key, run, prev, where, freqs, pending, steps):
    """Refuse a run of one series' times (``prev``: the time an earlier partition
    ended the series with; ``where`` they are, for the message) whose times are not
    one step apart: dates on the grid of the series' frequency, other times at one
    fixed step. ``freqs``, ``pending`` and ``steps`` carry what earlier runs of the
    series showed, and are updated."""
    idx = pd.Index(run)
    if isinstance(idx, pd.DatetimeIndex):
        freq = freqs.get(key)
        if freq is None:  # the first dates: gathered until FREQ_ROWS show a frequency
            seen = pending.pop(key, None)
            idx = idx if seen is None else seen.append(idx)
            if len(idx) < FREQ_ROWS:
                pending[key] = idx
                return
            freqs[key] = freq = _datetime_freq(idx[:FREQ_ROWS])
            if freq is None:
                raise _irregular(key, idx, None, where)
        elif prev is not None:
            idx = pd.Index([prev]).append(idx)
        _on_grid(key, idx, freq, where)
        return
    t = np.asarray(run) if prev is None else np.concatenate([[prev], run])
    if isinstance(pd.Index(t), (pd.PeriodIndex, pd.TimedeltaIndex)):
        t = pd.Index(t).asi8  # periods' ordinals, timedeltas' nanoseconds: integers
    d = np.diff(t)
    if not len(d):
        return
    step = steps.setdefault(key, d[0])
    if d.dtype.kind == "f":  # a difference is exact to about an ulp of the times
        atol = 8 * np.finfo(np.float64).eps * float(np.max(np.abs(t)))
        off = ~np.isclose(d, step, rtol=1e-9, atol=atol)
    else:  # integers; periods and other objects by their own equality
        off = np.asarray(d != step, dtype=bool)
    if off.any():
        j = int(np.flatnonzero(off)[0]) + 1
        raise ValueError(f"series {key!r} is not at one step of {_when(step)} in {where}: "
                         f"after {_when(t[j - 1])} comes {_when(t[j])} (a gap, or an "
                         "irregular index); fill or resample it first")


def _on_grid(key, idx, freq, where):
    """Refuse dates ``idx`` of one series that are not consecutive at ``freq``."""
    expected = pd.date_range(idx[0], periods=len(idx), freq=freq)
    if not expected.equals(idx):
        raise _irregular(key, idx, expected, where)


#: Steps no run of dates shows, for the refusals' advice.
_FREQ_EXAMPLES = ("pd.offsets.CustomBusinessDay(holidays=...) for business days with "
                  "holidays, pd.DateOffset(months=1) for the 15th of each month")


def _irregular(key, idx, expected, where):
    """The error for one series' dates that are not regular (at ``expected``)."""
    if expected is None:
        return ValueError(f"series {key!r} shows no regular frequency in {where} (its "
                          f"dates start {[str(t) for t in idx[:4]]}): fill or resample "
                          f"it first, or give its step as freq= ({_FREQ_EXAMPLES})")
    j = int(np.flatnonzero(np.asarray(expected != idx))[0])
    return ValueError(f"series {key!r} is not regular at its frequency {expected.freqstr!r} "
                      f"in {where}: after {idx[j - 1]} comes {idx[j]}, where {expected[j]} "
                      "was due (a gap, or an irregular index); fill or resample it first, "
                      f"or give the step as freq= ({_FREQ_EXAMPLES})")


def _scales(stats):
    mean = {k: s[1] for k, s in stats.items()}
    std = {k: float(np.sqrt(s[2] / s[0])) if s[0] > 0 else 1.0 for k, s in stats.items()}
    return mean, {k: v if v > 0 else 1.0 for k, v in std.items()}


def partition_windows(parts, lags, horizon, columns, mean, std):
    """Yield each partition's windows ``(X (n, lags), Y (n, horizon))``.

    The windows of a series that began in earlier partitions read those rows
    through the carried tail, so the windows of all partitions are exactly those
    of the whole panel, in its order. ``parts`` as :func:`fit_partitions` takes
    them; ``columns`` = (id, time, target); ``mean``/``std`` per series key.
    """
    need = lags + horizon
    carry_key, carry = None, np.empty(0)
    for i, part in enumerate(parts):
        ids, _, y = _load(part, columns, i)
        bounds = _runs(ids)
        Xs, Ys = [], []
        for j, (a, b) in enumerate(zip(bounds[:-1], bounds[1:])):
            key = ids[a]
            z = (y[a:b] - mean[key]) / std[key]
            if j == 0 and key == carry_key:
                z = np.concatenate([carry, z])
            if len(z) >= need:
                w = np.lib.stride_tricks.sliding_window_view(z, need)
                Xs.append(w[:, :lags])
                Ys.append(w[:, lags:])
            if j == len(bounds) - 2:  # the series this partition ends with
                carry_key, carry = key, z[-(need - 1):] if need > 1 else z[:0]
        if Xs:
            yield np.concatenate(Xs), np.concatenate(Ys)
        else:
            yield np.empty((0, lags)), np.empty((0, horizon))


class PartitionedModel:
    """A global model fitted by :func:`fit_partitions`.

    Attributes
    ----------
    estimator_ : the fitted estimator
    lags_, horizon_ : int
    mean_, std_ : dict
        Per series key, the standardisation of its target.
    n_windows_ : int
        Windows per epoch.
    columns_ : tuple of str
        (id_col, time_col, target_col).
    freqs_ : dict
        Per series key, the pandas frequency of its dates in the training data
        (None where they show none: integer times, or too few rows in a partition).
    """

    def __init__(self, estimator, lags, horizon, columns, mean, std, n_windows,
                 freqs=None):
        self.estimator_, self.lags_, self.horizon_ = estimator, lags, horizon
        self.columns_, self.mean_, self.std_, self.n_windows_ = columns, mean, std, n_windows
        self.freqs_ = {} if freqs is None else freqs

    def predict(self, last):
        """Forecast ``horizon_`` steps after the end of each series of ``last``.

        Parameters
        ----------
        last : DataFrame or dask DataFrame
            The long layout of the training data, with at least the last
            ``lags_`` rows of each series to forecast (sorted by time within a
            series), e.g. ``ddf.groupby(id_col).tail(lags)`` where dask's groupby has
            ``tail`` (not 2024.1's); a dask DataFrame is computed here: it is a few
            rows a series.

        Returns
        -------
        DataFrame
            Columns ``id_col``, ``step`` (1 .. horizon), ``time_col`` (the
            ``step``-th time after the last: by the series' frequency in the training
            data, such as a month or a business day, where its dates show one, else
            by its last step) and ``forecast``.
        """
        id_col, time_col, target_col = self.columns_
        if hasattr(last, "compute") and not isinstance(last, pd.DataFrame):
            last = last.compute()
        if not isinstance(last, pd.DataFrame):
            raise TypeError(f"last must be a DataFrame (pandas or dask), got "
                            f"{type(last).__name__}")
        missing = [c for c in self.columns_ if c not in last.columns]
        if missing:
            raise ValueError(f"last lacks the columns {missing}; it has "
                             f"{list(last.columns)}")
        rows, keys, times = [], [], []
        # dropna=False: a series whose id is missing was trained on as one
        for key, g in last.groupby(id_col, sort=False, dropna=False):
            if _missing(key):  # groupby gives NaN for a None id: the trained one's
                key = next((k for k in self.mean_ if _missing(k)), key)
            if key not in self.mean_:
                raise ValueError(f"series {key!r} was not in the training data")
            if len(g) < max(self.lags_, 2):
                raise ValueError(f"series {key!r} has {len(g)} rows; give at least "
                                 f"{max(self.lags_, 2)}")
            t = pd.Index(g[time_col])
            if t.hasnans or not (t.is_monotonic_increasing and t.is_unique):
                raise ValueError(f"last: series {key!r} is not in increasing time order: "
                                 "sort the rows by series, then time")
            # a model pickled before freqs_ existed has none
            freq = getattr(self, "freqs_", {}).get(key)
            tail = t[-self.lags_:] if self.lags_ > 1 else t[-2:]
            _check_steps(key, tail, None, "last", {} if freq is None else {key: freq},
                         {}, {})
            y = _numbers(g[target_col], f"last: column {target_col!r}")[-self.lags_:]
            if not np.all(np.isfinite(y)):
                raise ValueError(f"series {key!r}: its last {self.lags_} values of "
                                 f"{target_col!r} hold NaN or infinite values")
            rows.append((y - self.mean_[key]) / self.std_[key])
            keys.append(key)
            times.append(_next_times(t, self.horizon_, freq))
        pred = np.asarray(self.estimator_.predict(np.stack(rows)), np.float64)
        pred = pred.reshape(len(keys), self.horizon_)
        steps = np.arange(1, self.horizon_ + 1)
        # each id as it is: integers stay integers, 1 and '1' apart, tuples whole
        ids = pd.Index(keys, tupleize_cols=False).repeat(self.horizon_)
        return pd.DataFrame({
            id_col: ids,
            "step": np.tile(steps, len(keys)),
            time_col: [v for t in times for v in t],
            "forecast": (pred * np.array([self.std_[k] for k in keys])[:, None]
                         + np.array([self.mean_[k] for k in keys])[:, None]).ravel()})


def _missing(key):
    """Whether a series id is missing (None or NaN; never an error for a tuple)."""
    return key is None or (isinstance(key, float) and key != key) or key is pd.NA


def _datetime_freq(times):
    """The frequency ``times`` show, or None (not datetimes, fewer than 3, none)."""
    if not isinstance(times, pd.DatetimeIndex) or len(times) < 3:
        return None
    try:
        return quiet_infer_freq(times)
    except (TypeError, ValueError):
        return None


def _next_times(times, horizon, freq=None):
    """The ``horizon`` times after the last of ``times`` (one series, sorted): by
    ``freq`` (the series' frequency in training) where ``times`` lie on its grid,
    else by the frequency they show, else by their last difference. A month or a
    business day is a step of no fixed length: three Wednesday-to-Friday business
    days show a day, which only the training data tells from a business day."""
    if isinstance(times, pd.DatetimeIndex):
        on_grid = freq is not None and pd.date_range(
            times[0], periods=len(times), freq=freq).equals(times)
        freq = freq if on_grid else _datetime_freq(times)
        if freq is not None:
            return list(pd.date_range(times[-1], periods=horizon + 1, freq=freq)[1:])
    step = times[-1] - times[-2]
    return [times[-1] + s * step for s in range(1, horizon + 1)]


def fit_partitions(estimator, data, *, lags, horizon=1, epochs=1, id_col="unique_id",
                   time_col="ds", target_col="y", freq=None):
    """Train a clone of ``estimator`` on the lag windows of a long panel, one
    partition at a time (see the module's notes).

    Parameters
    ----------
    estimator : regressor with ``partial_fit``
    data : dask DataFrame, pandas DataFrame, or list of (delayed) DataFrames
        Long layout, sorted by series then time across the partitions.
    lags : int
        Input steps per window.
    horizon : int, default=1
        Target steps per window (a 2D target when > 1).
    epochs : int, default=1
        Passes over the partitions; each partition is one ``partial_fit`` call.
    id_col, time_col, target_col : str, default 'unique_id', 'ds', 'y'
    freq : str or pandas offset, default=None
        The step of every series' dates, where their first rows cannot show it:
        business days with holidays (``pd.offsets.CustomBusinessDay(holidays=...)``),
        for instance. None: each series' own, read from its first
        :data:`FREQ_ROWS` dates.

    Returns
    -------
    PartitionedModel
    """
    for name, v in (("lags", lags), ("horizon", horizon), ("epochs", epochs)):
        if not isinstance(v, Integral) or isinstance(v, bool) or v < 1:
            raise ValueError(f"{name} must be a positive integer, got {v!r}")
    if not hasattr(estimator, "partial_fit"):
        raise TypeError(f"{type(estimator).__name__} has no partial_fit: use a tsbptt "
                        "regressor, SGDRegressor or MLPRegressor to train on partitions")
    parts, columns = _partitions(data), (id_col, time_col, target_col)
    if freq is not None:
        try:
            freq = pd.tseries.frequencies.to_offset(freq)
        except (TypeError, ValueError):
            raise ValueError(f"freq must be a pandas frequency, got {freq!r}") from None
    stats, _, freqs = _series_stats(parts, columns, freq)
    mean, std = _scales(stats)
    model, n_windows = clone(estimator), 0
    for _ in range(epochs):
        n_windows = 0
        for X, Y in partition_windows(parts, lags, horizon, columns, mean, std):
            if len(X):
                model.partial_fit(X, Y[:, 0] if horizon == 1 else Y)
                n_windows += len(X)
    if n_windows == 0:
        raise ValueError(f"no series has lags + horizon = {lags + horizon} rows: nothing "
                         "to train on")
    return PartitionedModel(model, lags, horizon, columns, mean, std, n_windows, freqs)
