"""One or many pandas time series, checked and made regular, for the Forecaster.

The forecaster accepts one Series, a dict of Series, or a Series with a two-level
MultiIndex (series id, time) — the long layout ``frame.set_index([id, time])[value]``
— with covariates in the same layout. This module turns any of them into a list of
:class:`Entry` (one per series) on regular indexes (scaled into series by
:mod:`._panel_scaling`), and turns forecasts back into the layout the user gave.
Nothing is reordered: series keep the order in which they first appear, and every
check names the series and the label it failed at.
"""
import contextvars
import warnings
from contextlib import contextmanager

import numpy as np
import pandas as pd

from ..utils._validation import plain_label
from ._checks import check_numeric, check_order

__all__ = ["Entry", "continuations", "future_index", "last_labels", "named", "plain_integers",
           "split_future", "to_entries", "to_output"]

#: How the series being read and its covariates are named in messages: ('y', 'X'),
#: or the arguments of the method reading them (:func:`named`).
_WORDS = contextvars.ContextVar("tsbptt_series_words", default=("y", "X"))


@contextmanager
def named(y_word, X_word):
    """Name the series ``y_word`` and its covariates ``X_word`` in the messages of
    what runs inside (``'history'``, ``'history_X'`` for predict's history; they
    said ``y`` whatever the argument)."""
    token = _WORDS.set((y_word, X_word))
    try:
        yield
    finally:
        _WORDS.reset(token)

FILL_METHODS = ("ffill", "interpolate")


class _Block:
    """Many series in one values array grouped by series (offsets given by the
    entries that view it): ``values`` (N,), ``index`` the time labels (N,),
    ``times`` the same as a sortable NumPy array, ``X`` a DataFrame on ``index``
    or None, ``name`` y's name."""

    def __init__(self, values, index, X, name):
        self.values, self.index, self.X, self.name = values, index, X, name
        self.times = _sortable(index)


def _sortable(index):
    """A time index as a NumPy array that sorts like it (no copy for a
    DatetimeIndex or an integer index; ordinals for a PeriodIndex)."""
    if isinstance(index, pd.PeriodIndex):
        return index.asi8
    return index.to_numpy()


class Entry:
    """One series: ``key`` (None for a lone Series), ``y`` and covariates ``X``
    (None or a DataFrame on y's index), how many steps ``fill`` filled in, and
    how many of them end the series (``n_trailing``: filled from the past alone).

    An entry either holds its pandas objects or views rows ``a:b`` of a
    :class:`_Block`; then ``y`` and ``X`` are made only when read, and
    ``values``, ``times`` and ``len`` (what the forecaster's hot paths read)
    never make them.
    """

    def __init__(self, key, y, X=None, n_filled=0, n_trailing=0):
        self.key, self._y, self._X, self.n_filled = key, y, X, n_filled
        self.n_trailing = n_trailing
        self._view = None

    @classmethod
    def view(cls, key, block, a, b):
        entry = cls(key, None)
        entry._view = (block, a, b)
        return entry

    @property
    def y(self):
        if self._y is None:
            block, a, b = self._view
            self._y = pd.Series(block.values[a:b], index=block.index[a:b], name=block.name,
                                copy=False)
        return self._y

    @property
    def X(self):
        if self._X is None and self._view is not None and self._view[0].X is not None:
            block, a, b = self._view
            self._X = block.X.iloc[a:b]
        return self._X

    @property
    def values(self):
        """y's values as float64: (n,)."""
        if self._view is not None:
            block, a, b = self._view
            return block.values[a:b].astype(np.float64, copy=False)
        return self._y.to_numpy(np.float64)

    @property
    def times(self):
        """y's labels as a sortable NumPy array: (n,)."""
        if self._view is not None:
            block, a, b = self._view
            return block.times[a:b]
        return _sortable(self._y.index)

    @property
    def last_label(self):
        if self._view is not None:
            block, _, b = self._view
            return block.index[b - 1]
        return self._y.index[-1]

    def head(self, k):
        """The entry of the first ``k`` steps."""
        if self._view is not None:
            block, a, _ = self._view
            return Entry.view(self.key, block, a, a + k)
        return Entry(self.key, self._y.iloc[:k], None if self._X is None else self._X.iloc[:k],
                     self.n_filled)

    def __len__(self):
        if self._view is not None:
            return self._view[2] - self._view[1]
        return len(self._y)


def last_labels(entries):
    """The last label of each entry, as an Index: one take from the block when the
    entries view one (no pandas scalar per series)."""
    views = [e._view for e in entries]
    if views and all(v is not None and v[0] is views[0][0] for v in views):
        return views[0][0].index[np.array([b - 1 for _, _, b in views])]
    return pd.Index([e.last_label for e in entries])


def _where(key):
    return _WORDS.get()[0] if key is None else f"series {key!r}"


def _where_X(key):
    return _WORDS.get()[1] if key is None else f"{_WORDS.get()[1]} of series {key!r}"


#: Labels in each stretch of an index with gaps that pd.infer_freq reads: enough
#: for a business-day series to show a weekend.
FREQ_STRETCH = 24


def quiet_infer_freq(index):
    """``pd.infer_freq(index)`` without pandas 3.1's notice of a future return type."""
    with warnings.catch_warnings():  # pandas 3.1 announces an offset return
        warnings.filterwarnings("ignore", "A future version of pandas will "
                                "return a BaseOffset")
        return pd.infer_freq(index)


def _freq_around_gaps(index):
    """The frequency of a DatetimeIndex with gaps, or None.

    pd.infer_freq reads the whole index and fails at a gap. Stretches of
    FREQ_STRETCH labels at five places may miss them: each frequency read there
    is a candidate, and the one whose grid holds every label with the fewest
    labels in all wins (business days over calendar days, months over the most
    common Timedelta, which would fill weekends or drift off month ends).
    """
    n, w = len(index), min(FREQ_STRETCH, len(index))
    candidates = {quiet_infer_freq(index[a:a + w])
                  for a in {0, (n - w) // 4, (n - w) // 2, 3 * (n - w) // 4, n - w}}
    best = None
    for freq in candidates - {None}:
        # a grid far longer than the labels is no series with gaps (one stray label
        # a year on, at seconds): not built
        at = _grid_positions(index, pd.tseries.frequencies.to_offset(freq), 20 * n + 100)
        if at is not None and (best is None or at[-1] + 1 < best[0]):
            best = (at[-1] + 1, freq)
    return None if best is None else best[1]


def _why_irregular(got, expected, freq, guessed, holidays=False, on_grid=True):
    """The end of the message for a label ``got`` where ``expected`` was due: a gap to
    fill, labels closer than the given freq, or steps that are no multiple of the most
    common one: a frequency pandas cannot infer, which filling would not mend.
    ``holidays``: business days read from the data, a weekday missing: a holiday
    calendar's day off looks the same as a gap (and filling it forecasts on holidays).
    ``on_grid``: whether ``got`` is a whole number of steps after ``expected`` (a
    gap), or off the step's grid (a drifting month offset, another anchor)."""
    if got < expected:
        what = f"freq={freq!r}" if freq is not None else "the frequency read from it"
        return (f"(the labels are closer together than {what}); pass a finer freq, or "
                "resample it first (y.resample(freq).mean())")
    if guessed:
        return ("(at its most common step; its steps are uneven, or it has no weekend: "
                "pandas could not infer the frequency, and filling would invent values); "
                "pass the frequency, freq=... (semi-month ends 'SME'; business days 'B', or "
                "with holidays a CustomBusinessDay)")
    if not on_grid:
        months = "months" in getattr(freq, "kwds", {})
        return ("(not a whole number of steps after the labels before it: they are not "
                "on this step's grid, which filling cannot mend); pass the step they "
                "have as freq" + (" (month ends step by 'ME'; DateOffset(months=1) "
                                  "drifts from the 31st to the 29th)" if months else "")
                + ", or leave freq=None")
    if holidays:
        return ("(a gap, or a holiday); if the series skips holidays, pass its frequency, "
                "freq=pd.offsets.CustomBusinessDay(holidays=[...]) or "
                "CustomBusinessDay(calendar=...); if values are missing, pass "
                "fill='interpolate' or fill='ffill'")
    return ("(a gap); pass fill='interpolate' or fill='ffill' to fill gaps, or resample "
            "first (y.resample(freq).mean())")


def _weekdays_only(index, common):
    """Whether labels a day apart at their most common step (``common``) skip every
    weekend over at least two weeks: business days, whatever days they also skip."""
    return (common == pd.Timedelta("1D") and index[-1] - index[0] >= pd.Timedelta("14D")
            and bool((index.day_of_week < 5).all()))


def _monthly_on_one_day(index):
    """``pd.DateOffset(months=1)`` (``MonthBegin`` on the 1st at midnight) for labels
    on one day of the month at one time, mostly a calendar month apart (monthly data
    on the 15th, which no pandas alias steps; a longer step is a gap, which the
    caller then names), else None."""
    steps = np.diff(np.asarray(index.year) * 12 + np.asarray(index.month))
    if (steps >= 1).all() and np.median(steps) == 1 and \
            (index.day == index.day[0]).all() and (index.time == index.time[0]).all():
        at_start = index[0] == index[0].normalize() and index[0].day == 1
        return pd.offsets.MonthBegin() if at_start else pd.DateOffset(months=1)
    return None


_DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _week_without(index, expected):
    """The end of the message where a daily series never has some weekdays and the
    label due falls on one of them (a Sunday-to-Thursday working week): a
    CustomBusinessDay of its weekmask, not a fill, which would invent those days."""
    days = sorted(set(np.asarray(index.day_of_week).tolist()))
    if len(days) == 7 or days == [0, 1, 2, 3, 4] or len(index) < 14 or \
            expected.day_of_week in days or (index.normalize() != index).any():
        return None  # Monday to Friday: business days, which the other messages cover
    mask = " ".join(_DAY_NAMES[d] for d in days)
    return (f"(the series has no {', '.join(_DAY_NAMES[d] for d in range(7) if d not in days)}"
            f"); if it skips them every week, pass its frequency, freq=pd.offsets."
            f"CustomBusinessDay(weekmask={mask!r}) (with holidays=[...] if it skips those "
            "too); if values are missing, pass fill='interpolate' or fill='ffill'")


def _stray_weekend(index, step):
    """The end of the message where a day-stepped series of weekdays has a few rows
    on a weekend (one Saturday among a year of trading days): read as daily data
    with gaps, filling would invent every weekend, and the forecasts fall on them."""
    if isinstance(step, (pd.offsets.BusinessDay, pd.offsets.CustomBusinessDay)):
        daily = step.n == 1
    else:
        try:
            daily = pd.Timedelta(step) == pd.Timedelta("1D")
        except (ValueError, TypeError):
            daily = False
    weekend = np.asarray(index.day_of_week >= 5)
    n = int(weekend.sum())
    # daily data has two days in seven on a weekend; business days none
    if not daily or len(index) < 20 or n == 0 or n > 0.05 * len(index):
        return None
    first = index[weekend][0]
    falls = "1 falls" if n == 1 else f"{n} fall"
    return (f"(its other labels are business days, but {falls} on a weekend, the "
            f"first {first!r}, a {first.day_name()}); if the data are business days, "
            f"drop {'them' if n > 1 else 'it'} (y[y.index.day_of_week < 5]): filling "
            "would invent every weekend's values and forecast on weekends")


def _offset(freq, period=False):
    """The user's ``freq`` as a pandas offset, refused by name where pandas cannot
    read it. With ``period``, a period alias too ('Q', 'Q-MAR', 'M', 'Y': a
    PeriodIndex's own ``freqstr``, which pandas no longer reads as an offset)."""
    if period and isinstance(freq, str):
        try:
            return pd.PeriodDtype(freq).freq
        except (ValueError, TypeError):
            pass  # an offset alias ('QE', 'ME'), read below
    try:
        return pd.tseries.frequencies.to_offset(freq)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"freq={freq!r} is not a pandas frequency ({exc}); pass one such "
                         "as 'h', 'D', 'B', 'MS', 'ME' or an offset object") from None


def _step_of(index, freq, key, allow_gaps):
    """The step between consecutive labels: a pandas offset for a DatetimeIndex, an
    int for an integer index. Without ``allow_gaps`` the index must be regular."""
    if isinstance(index, pd.DatetimeIndex):
        if isinstance(freq, (int, np.integer)):
            raise ValueError(f"freq={freq!r} is an integer step, but {_where(key)} has a "
                             "DatetimeIndex: pass a pandas frequency such as 'h' or 'D'")
        inferred = freq if freq is not None else index.freq
        if inferred is None and len(index) >= 3:
            inferred = quiet_infer_freq(index)
        if inferred is None and len(index) >= 3:
            inferred = _freq_around_gaps(index)
        if inferred is None and len(index) >= 3:
            inferred = _monthly_on_one_day(index)
        guessed = False
        if inferred is None and len(index) >= 3:
            # irregular: take the most common step, to point at the first gap
            steps = pd.Series(index[1:] - index[:-1])
            common = steps.mode().iloc[0]
            inferred = common if common > pd.Timedelta(0) else None
            if _weekdays_only(index, common):
                # business days with a holiday in every stretch _freq_around_gaps
                # reads (a US calendar over two years): read as days, filling
                # invented every weekend and the forecasts fell on them
                inferred = pd.offsets.BDay()
            # steps that are no multiple of it, or days that skip every weekend but
            # span too little to tell business days: not gaps but a frequency
            # pandas cannot read (filling would invent values)
            guessed = inferred is common and bool(
                (steps % common).any() or (common == pd.Timedelta("1D")
                                           and (index.day_of_week < 5).all()))
        if inferred is None:
            raise ValueError(f"the frequency of {_where(key)}'s DatetimeIndex cannot be "
                             "inferred (too short or irregular); pass freq=...")
        step = _offset(inferred) if freq is not None else \
            pd.tseries.frequencies.to_offset(inferred)
        if not allow_gaps:
            expected = calendar_range(index[0], periods=len(index), freq=step)
            if not expected.equals(index):
                bad = int(np.flatnonzero(np.asarray(expected != index))[0])
                # business days read from the data: a missing weekday may be a holiday
                holidays = freq is None and isinstance(step, pd.offsets.BusinessDay)
                on = index[bad] < expected[bad] or _whole_steps_after(
                    expected[bad], index[bad], step, min(len(index) + 2, 10_000))
                why = _why_irregular(index[bad], expected[bad], freq, guessed, holidays,
                                     on_grid=on)
                week = _week_without(index, expected[bad]) if freq is None else None
                if week is not None:
                    why = week
                why = _stray_weekend(index, step) or why
                if bad == 0 and freq is not None:  # the grid starts off the first label
                    own = quiet_infer_freq(index) if len(index) >= 3 else None
                    why = (f"(the first label is not on the grid of freq={freq!r}: the "
                           "labels fall on another anchor); pass the index's own frequency"
                           f"{f', freq={own!r}' if own else ''}, or leave freq=None")
                raise ValueError(f"{_where(key)}'s index is not regular at frequency "
                                 f"{step.freqstr}: {index[bad]!r} where {expected[bad]!r} "
                                 f"was expected {why}")
        return step
    if isinstance(index, pd.PeriodIndex):
        if freq is not None and (isinstance(freq, (int, np.integer)) or
                                 _offset(freq, period=True) != index.freq):
            raise ValueError(f"freq={freq!r} differs from the frequency {index.freqstr!r} "
                             f"of {_where(key)}'s PeriodIndex: leave freq=None")
        steps = np.diff(index.asi8)
        if not allow_gaps and len(steps) and not np.all(steps == index.freq.n):
            bad = int(np.flatnonzero(steps != index.freq.n)[0]) + 1
            raise ValueError(f"{_where(key)}'s PeriodIndex is not regular: "
                             f"{index[bad]!r} after {index[bad - 1]!r} (a gap); pass "
                             "fill='interpolate' or fill='ffill' to fill gaps")
        return index.freq
    if pd.api.types.is_integer_dtype(index):
        if freq is not None and not isinstance(freq, (int, np.integer)):
            raise ValueError(f"freq={freq!r} is a pandas frequency, but {_where(key)} has "
                             "an integer index: pass an integer step, or freq=None")
        steps = np.diff(np.asarray(index))
        step = int(freq) if isinstance(freq, (int, np.integer)) else (
            int(pd.Series(steps).mode().iloc[0]) if len(steps) else 1)
        if not allow_gaps and len(steps) and not np.all(steps == step):
            bad = int(np.flatnonzero(steps != step)[0]) + 1
            gaps = bool(np.all((steps > 0) & (steps % step == 0)))  # whole steps missing
            raise ValueError(f"{_where(key)}'s integer index is not regular at step {step}: "
                             f"{plain_label(index[bad])!r} after "
                             f"{plain_label(index[bad - 1])!r}; " + (
                                 "pass fill='interpolate' or fill='ffill' to fill gaps"
                                 if gaps else f"its labels are not whole steps of {step} "
                                 "apart, which filling cannot mend: pass the step they "
                                 "have as freq, or leave freq=None"))
        return step
    raise TypeError(f"{_where(key)} needs a DatetimeIndex or an integer index, got "
                    f"{type(index).__name__} (a PeriodIndex works too)")


def calendar_range(start, end=None, *, periods=None, freq):
    """``pd.date_range``, with a step onto a local time that a time zone skips or
    repeats (a daylight-saving change at midnight, for daily steps) refused in words:
    pandas' own error named the time, not what to do."""
    try:
        return pd.date_range(start, end, periods=periods, freq=freq)
    except ValueError as exc:  # pandas' NonExistentTimeError / AmbiguousTimeError
        if "nonexistent" not in str(exc) and "ambiguous" not in str(exc).lower():
            raise
        tz = getattr(start, "tz", None)
        raise ValueError(f"steps of {pd.tseries.frequencies.to_offset(freq).freqstr} in "
                         f"the time zone {tz} reach a local time the zone skips or repeats "
                         f"({exc}); give the series in UTC (.tz_convert('UTC')) or as "
                         "local times without a zone (.tz_localize(None))") from None


def _fixed_length(step):
    """``step`` as a Timedelta where it has one fixed length (hours, minutes: a
    Tick, not a calendar day, which a time zone's DST change makes 23 or 25 hours),
    else None."""
    if isinstance(step, pd.offsets.Tick) and not isinstance(step, pd.offsets.Day):
        return pd.Timedelta(step)
    return None


def _whole_steps_after(expected, got, step, cap):
    """Whether label ``got`` (after ``expected``) is a whole number of ``step``
    after it, a gap between them, rather than off the step's grid (a drifting
    month offset, another anchor). A calendar offset is walked at most ``cap``
    steps; a label further on is taken for a gap (bounded work, whatever the
    distance of a stray label)."""
    if isinstance(expected, pd.Period):
        return True  # periods step by whole periods
    if isinstance(step, (int, np.integer)) or _fixed_length(step) is not None:
        return _grid_positions(pd.Index([expected, got]), step, np.inf) is not None
    grid = calendar_range(expected, periods=cap, freq=step)
    return bool(got > grid[-1] or grid.isin([got]).any())


def _grid_positions(index, step, cap):
    """The positions of ``index``'s labels on ``step``'s grid from its first label,
    or None where one is off the grid or the grid would hold more than ``cap``
    labels (never built beyond that)."""
    if _fixed_length(step) is not None:  # in the index's own time unit, s to ns
        length, span = _fixed_length(step), index - index[0]
        if (span % length != pd.Timedelta(0)).any() or span[-1] // length > cap:
            return None
        return np.asarray(span // length)
    if isinstance(step, (int, np.integer)) or isinstance(index, pd.PeriodIndex):
        if isinstance(index, pd.PeriodIndex):
            if index.freq != step:
                return None
            span, unit = np.asarray(index.asi8 - index.asi8[0]), step.n
        else:
            span, unit = np.asarray(index) - index[0], int(step)
        if (span % unit).any() or span[-1] // unit > cap:
            return None
        return span // unit
    grid = calendar_range(index[0], periods=cap + 1, freq=step)
    at = grid.get_indexer(index)
    return None if grid[-1] < index[-1] or (at < 0).any() else at


def _grid(index, step):
    if isinstance(step, int):
        return pd.Index(np.arange(index[0], index[-1] + 1, step))
    if isinstance(index, pd.PeriodIndex):
        return pd.period_range(index[0], index[-1], freq=step)
    return calendar_range(index[0], index[-1], freq=step)


def in_rows_of(index, y):
    """``y`` in the order of ``index`` where it holds the same rows in another order
    (a panel's test rows sorted by time, then series), else ``y`` as it is."""
    if (not index.equals(y.index) and len(index) == len(y)
            and index.isin(y.index).all()):
        return y.reindex(index)
    return y


def on_grid(y, freq, key=None):
    """``y`` (one series, time index) reindexed to its regular grid, NaN at the steps
    it lacks: what steps apart means for a series with gaps (MASE's naive pairs)."""
    grid = _grid(y.index, _step_of(y.index, freq, key, allow_gaps=True))
    return y if len(grid) == len(y) else y.reindex(grid)


def _check_order(index, key):
    if index.hasnans:  # before the order: NaT and <NA> do not compare
        pos = int(np.flatnonzero(index.isna())[0])
        raise ValueError(f"{_where(key)} has a missing time ({index[pos]}) at position "
                         f"{pos}; drop that row or give its time")
    check_order(index, _where(key), labels="timestamps", order="by time",
                hint="; aggregate them first (y.groupby(level=0).mean())",
                sort="sort it with .sort_index() first" if key is None else
                "sort the panel first: .sort_index() for Series, a long DataFrame by "
                "its id and time columns (.sort_values([id_col, time_col]))")


def _check_values(frame, key, finite=True):
    """Check y (the first column) and its covariates, each named as itself."""
    hint = "; pass fill='interpolate' or fill='ffill' to fill missing values"
    check_numeric(frame.iloc[:, :1], _where(key), finite=finite, hint=hint)
    check_numeric(frame.iloc[:, 1:], _where_X(key), finite=finite, hint=hint)


def _regular(entry, freq, fill):
    """Check an entry and, with ``fill``, reindex it to its regular grid and fill
    the gaps and missing values; returns (entry, step)."""
    y, X, key = entry.y, entry.X, entry.key
    if not (isinstance(y.index, (pd.DatetimeIndex, pd.PeriodIndex))
            or pd.api.types.is_integer_dtype(y.index)):  # before the order: '10' < '9'
        raise TypeError(f"{_where(key)} needs a DatetimeIndex or an integer index, got "
                        f"{type(y.index).__name__} of dtype {y.index.dtype} (a PeriodIndex "
                        "works too)")
    _check_order(y.index, key)
    if len(y) < 2:
        raise ValueError(f"{_where(key)} has {len(y)} value(s); a series needs at least 2")
    step = _step_of(y.index, freq, key, allow_gaps=fill is not None)
    # an unnamed y is column 'y' here (as in messages), not 0, which X may also use
    ycol = y.to_frame(y_name(y))
    frame = ycol if X is None else pd.concat([ycol, X], axis=1)
    if fill is not None:
        grid = _grid(y.index, step).rename(y.index.name)  # the forecasts keep the name
        off = ~y.index.isin(grid)
        if off.any():
            raise ValueError(f"{_where(key)} has a timestamp off its {step!r} grid: "
                             f"{y.index[np.flatnonzero(off)[0]]!r}; resample it first"
                             + ("" if freq is not None else
                                " or pass freq=... (its frequency: 'B', 'MS', ...)"))
        frame = frame.reindex(grid)
        _check_values(frame, key, finite=False)  # only numbers can be filled
        frame = frame.astype(np.float64).replace([np.inf, -np.inf], np.nan)
        gaps = frame.iloc[:, 0].isna().to_numpy()
        missing = int(gaps.sum())
        # the last known value ends a run of missing ones at the end, if any
        known = np.flatnonzero(~gaps)
        trailing = len(gaps) - (int(known[-1]) + 1 if len(known) else 0)
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
                      None if X is None else frame.iloc[:, 1:], missing, trailing)
    else:
        _check_values(frame, key)
    return entry, step


def _is_float_frame(values):
    """Whether every column of a 2D array or frame is real, non-bool and finite."""
    frame = values if isinstance(values, pd.DataFrame) else pd.DataFrame(values)
    for col in frame.columns:
        dtype = frame[col].dtype
        if (not pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype)
                or pd.api.types.is_complex_dtype(dtype)):
            return False
    return bool(np.isfinite(frame.to_numpy(np.float64, na_value=np.nan)).all())


def _time_codes(index):
    """The labels of a time index as int64 codes (nanoseconds or the index's unit for
    a DatetimeIndex, ordinals for a PeriodIndex, the integers themselves)."""
    if isinstance(index, (pd.DatetimeIndex, pd.PeriodIndex)):
        return index.asi8
    return np.asarray(index, dtype=np.int64)


def _step_code(step, index):
    """The step as a difference of :func:`_time_codes`, or None when it has no fixed
    size (months, business days)."""
    if isinstance(step, int):
        return step
    if isinstance(index, pd.PeriodIndex):
        return step.n if step.base == index.freq.base else None
    if isinstance(step, pd.offsets.Day) and index.tz is None:  # a calendar day
        delta = pd.Timedelta(days=step.n)
    elif isinstance(step, pd.offsets.Tick):
        delta = pd.Timedelta(step)
    else:
        return None
    return int(delta.as_unit(index.unit).asm8.view(np.int64))


def _id_codes(index):
    """``pd.factorize`` of a MultiIndex's first level (codes in order of first
    appearance, and the keys), from the index's own codes: the ids themselves
    (5 M strings for a big panel) are neither built nor hashed again."""
    level_codes, level = index.codes[0], index.levels[0]
    if not len(level_codes) or (level_codes < 0).any():  # a missing id: per series
        return np.asarray(level_codes, dtype=np.intp), level
    steps = np.diff(level_codes)
    if (steps >= 0).all():  # grouped and in level order (a sorted index): no hashing
        first = level_codes[np.flatnonzero(np.r_[True, steps != 0])]
        if len(first) == len(level):  # every level used: the codes are the ranks
            return np.asarray(level_codes, dtype=np.intp), level
    else:
        first = pd.unique(level_codes)  # the level positions in order of appearance
    rank = np.empty(len(level), dtype=np.intp)
    rank[first] = np.arange(len(first))
    return rank[level_codes], level[first]


#: Offsets with holidays: a time level that carries one says what its labels do not
_CUSTOM = (pd.offsets.CustomBusinessDay, pd.offsets.CustomBusinessHour,
           pd.offsets.CustomBusinessMonthBegin, pd.offsets.CustomBusinessMonthEnd)


def _fast_long(y, X, freq):
    """The entries of a long ``y`` (and its step) in one pass over its arrays, or
    None when a check fails or the layout needs the per-series path, which then
    names the series and the label at fault.

    The rows are grouped by series id (stably, so each series keeps its order) into
    one values array with offsets; order, regularity and finiteness are checked on
    the whole arrays at once, and each Entry holds views of them.
    """
    times = y.index.get_level_values(1)
    if not (isinstance(times, (pd.DatetimeIndex, pd.PeriodIndex))
            or pd.api.types.is_integer_dtype(times)) or times.hasnans:
        return None
    if freq is None and isinstance(getattr(y.index.levels[1], "freq", None), _CUSTOM):
        return None  # a holiday calendar the labels do not show: the level's, per series
    codes, keys = _id_codes(y.index)
    if not len(codes) or (codes < 0).any():
        return None
    order = None
    if (np.diff(codes) < 0).any():  # rows of a series apart: group them, stably
        order = np.argsort(codes, kind="stable")
        codes, times = codes[order], times[order]
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
    offsets = np.r_[starts, len(codes)]
    if np.diff(offsets).min() < 2:
        return None
    t = _time_codes(times)
    inside = np.ones(len(t) - 1, dtype=bool)
    inside[starts[1:] - 1] = False  # a step from one series to the next is no step
    d = np.diff(t)[inside]
    if not (d > 0).all():
        return None
    step = _step_of(times[offsets[0]:offsets[1]], freq, keys[0], allow_gaps=False)
    code = _step_code(step, times)
    if code is None or not (d == code).all():
        return None
    values = y.to_numpy() if order is None else y.to_numpy()[order]
    xv = None
    if X is not None:
        xv = pd.DataFrame(X.to_numpy() if order is None else X.to_numpy()[order],
                          index=times, columns=X.columns).astype(X.dtypes.to_dict())
        if not _is_float_frame(xv):
            return None
    if not _is_float_frame(pd.DataFrame({0: values})):
        return None
    block = _Block(values, times, xv, y.name)
    entries = [Entry.view(k, block, a, b)
               for k, a, b in zip(keys.tolist() if isinstance(keys, np.ndarray) else keys,
                                  offsets[:-1].tolist(), offsets[1:].tolist())]
    return entries, step


def plain_integers(index):
    """A nullable integer index (``Int64``, as ``convert_dtypes`` or ``read_csv``'s
    ``numpy_nullable`` backend give it) as NumPy int64, the labels forecasts get:
    pandas' ``equals`` tells the two apart, so an update or a backtest found no
    step where one was ("58 where 58 was expected")."""
    if isinstance(index.dtype, pd.api.extensions.ExtensionDtype) \
            and pd.api.types.is_integer_dtype(index.dtype) and not index.hasnans:
        # (UInt64 labels above 2**63 do not fit int64)
        return index.astype(np.uint64 if pd.api.types.is_unsigned_integer_dtype(
            index.dtype) else np.int64)
    return index


def _on_plain_integers(obj):
    """``obj`` (a Series or DataFrame, or None) on :func:`plain_integers` labels."""
    if obj is None or not hasattr(obj, "index") or isinstance(obj.index, pd.MultiIndex):
        return obj
    index = plain_integers(obj.index)
    return obj if index is obj.index else obj.set_axis(index)


def _entries(y, X):
    """Split the user's layout into entries; returns (entries, layout). Messages
    name the arguments as :func:`named` says (``y`` and ``X`` unless told)."""
    yw, Xw = _WORDS.get()
    if isinstance(y, pd.Series) and isinstance(y.index, pd.MultiIndex):
        if y.index.nlevels != 2:
            raise ValueError(f"a long {yw} needs a two-level MultiIndex (series id, "
                             f"time), got {y.index.nlevels} levels")
        # keys as they come, a missing id (NaN, None) one of them as pd.unique has it
        codes, keys = pd.factorize(y.index.get_level_values(0), use_na_sentinel=False)
        if not len(keys):
            raise ValueError(f"{yw} is empty: give at least one series")
        if X is not None and not (isinstance(X, pd.DataFrame) and X.index.equals(y.index)):
            raise ValueError(f"{Xw} must be a DataFrame on exactly {yw}'s (series id, time) "
                             "index")
        # each series' rows in their order, from one sort (y.xs per series read the
        # whole index each time: 0.64 ms a series, quadratic in the panel's size)
        order = np.argsort(codes, kind="stable")
        bounds = np.searchsorted(codes[order], np.arange(len(keys) + 1))
        # labels taken from the time level, as xs takes them: a run of it keeps the
        # level's freq (a CustomBusinessDay's holidays), which _step_of reads
        level, level_codes = y.index.levels[1], y.index.codes[1]
        if (level_codes < 0).any():  # a missing time: take() would read -1 as the last
            row = int(np.flatnonzero(level_codes < 0)[0])
            raise ValueError(f"{_where(keys[codes[row]])} has a missing time in row "
                             f"{row} of {yw}; drop that row or give its time")
        values = y.array  # its dtype kept
        entries = []
        for k, a, b in zip(keys, bounds[:-1].tolist(), bounds[1:].tolist()):
            rows = order[a:b]
            times = plain_integers(level.take(level_codes[rows]).rename(y.index.names[1]))
            entries.append(Entry(k, pd.Series(values[rows], index=times, name=y.name),
                                 None if X is None else X.iloc[rows].set_axis(times)))
        return entries, "long"
    if isinstance(y, pd.Series):
        y, X = _on_plain_integers(y), _on_plain_integers(X)  # (before comparing them)
        if X is not None:
            X = x_in_zone_of_y(X.to_frame() if isinstance(X, pd.Series) else X, y.index)
            if not isinstance(X, pd.DataFrame) or not X.index.equals(y.index):
                raise ValueError(f"{Xw} must be a DataFrame on exactly {yw}'s index (one "
                                 f"row per step of {yw})"
                                 f"{_how_x_differs(X, y.index, yw, Xw)}")
        return [Entry(None, y, X)], "single"
    if isinstance(y, dict):
        if not y:
            raise ValueError(f"{yw} is an empty dict: give at least one series")
        if X is not None and (not isinstance(X, dict) or set(X) != set(y)):
            raise ValueError(f"with a dict {yw}, {Xw} must be a dict with the same keys: "
                             f"{yw} has {sorted(map(repr, y))}, {Xw} has "
                             f"{sorted(map(repr, X)) if isinstance(X, dict) else type(X)}")
        out = []
        for k, s in y.items():
            if not isinstance(s, pd.Series):
                raise TypeError(f"{yw}[{k!r}] must be a pandas Series, got "
                                f"{type(s).__name__}")
            s, Xk = _on_plain_integers(s), _on_plain_integers(None if X is None else X[k])
            Xk = x_in_zone_of_y(Xk.to_frame() if isinstance(Xk, pd.Series) else Xk, s.index)
            if Xk is not None and (not isinstance(Xk, pd.DataFrame)
                                   or not Xk.index.equals(s.index)):
                raise ValueError(f"{Xw}[{k!r}] must be a DataFrame on exactly "
                                 f"{yw}[{k!r}]'s index"
                                 f"{_how_x_differs(Xk, s.index, f'{yw}[{k!r}]', f'{Xw}[{k!r}]')}")
            out.append(Entry(k, s, Xk))
        return out, "dict"
    raise TypeError(f"{_where(None)} must be a pandas Series (a MultiIndex (series id, "
                    f"time) for many series) or a dict of Series, got {type(y).__name__}")


def x_in_zone_of_y(X, index):
    """``X`` with its times in the zone of ``index`` (y's) where they are the very
    instants of ``index`` in another zone (UTC, or the same zone made by another
    library): as a forecast's X in any zone is read at its instants."""
    x_index = getattr(X, "index", None)
    if (isinstance(x_index, pd.DatetimeIndex) and isinstance(index, pd.DatetimeIndex)
            and x_index.tz is not None and index.tz is not None
            and len(x_index) == len(index) and not x_index.equals(index)):
        # compared in the finer of the two units (ns against pandas 3's default us,
        # say), into which the coarser converts without loss
        finer = max(x_index.unit, index.unit, key=["s", "ms", "us", "ns"].index)
        try:
            same = x_index.as_unit(finer).tz_convert(index.tz).equals(index.as_unit(finer))
        except (ValueError, OverflowError):  # out of the finer unit's range
            return X
        if same:
            return X.set_axis(index)
    return X


def zones_differ(X, index):
    """A hint where ``X``'s times and y's differ in having a time zone."""
    x_tz = getattr(getattr(X, "index", None), "tz", None)
    if isinstance(getattr(X, "index", None), pd.DatetimeIndex) and \
            isinstance(index, pd.DatetimeIndex) and (x_tz is None) != (index.tz is None):
        return (f"; its times are {_index_kind(X.index)}, y's {_index_kind(index)}: "
                "give them alike (tz_localize, tz_convert)")
    return ""


def _how_x_differs(X, index, yw, Xw):
    """For the end of a message: where the covariates ``X`` (named ``Xw``) differ
    from y's ``index`` (y named ``yw``): in having a time zone, in holding rows
    before or after y's (the history and the future in one frame, a common
    slip), or at the first label that differs."""
    if not isinstance(X, pd.DataFrame) or zones_differ(X, index):
        return zones_differ(X, index)
    x = X.index
    try:
        holds_y = len(x) > len(index) and bool(index.isin(x).all())
    except (TypeError, ValueError):  # labels of kinds that do not compare
        holds_y = False
    if holds_y:
        return (f"; it holds every step of {yw} and {len(x) - len(index)} more: give "
                f"{Xw}.loc[{yw}.index] here, and the steps after {yw} to predict(X=...)")
    n = min(len(x), len(index))
    try:
        same = np.asarray(x[:n] == index[:n], dtype=bool) if n else np.ones(0, bool)
    except (TypeError, ValueError):  # labels of kinds that do not compare
        return ""
    if not same.all():
        i = int(np.flatnonzero(~same)[0])
        return (f"; row {i} of {Xw} is {plain_label(x[i])!r} where {yw} has "
                f"{plain_label(index[i])!r}")
    return f"; {Xw} has {len(x)} rows, {yw} {len(index)}"


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
    for key, frame in (X.items() if isinstance(X, dict) else [(None, X)]):
        _check_unique_columns(frame, key)
    if (fill is None and isinstance(y, pd.Series) and isinstance(y.index, pd.MultiIndex)
            and y.index.nlevels == 2 and (X is None or (isinstance(X, pd.DataFrame)
                                                        and X.index.equals(y.index)))):
        fast = _fast_long(y, X, freq)
        if fast is not None:
            entries, step = fast
            if entries[0].X is not None and y_name(entries[0].y) in entries[0].X.columns:
                raise ValueError(f"X has a column named like y ({y_name(entries[0].y)!r})")
            return entries, "long", step
    entries, layout = _entries(y, X)
    out, step = [], None
    columns = None if entries[0].X is None else list(entries[0].X.columns)
    check_indexed_alike(entries)
    entries = [in_zone_of(entries[0].y.index, e) for e in entries]
    read = []  # each series regular at its own step, or why not
    for e in entries:
        cols = None if e.X is None else list(e.X.columns)
        if cols != columns:
            raise ValueError(f"{_where(e.key)} has covariates {cols}, the first series "
                             f"{columns}: give every series the same columns")
        if e.X is not None and y_name(e.y) in cols:
            raise ValueError(f"X has a column named like y ({y_name(e.y)!r})")
        try:
            read.append(_regular(e, freq, fill))
        except ValueError as exc:
            if freq is not None:
                raise
            read.append((e, exc))
    steps = {r for _, r in read if not isinstance(r, Exception)}
    if freq is None and steps and (len(steps) > 1
                                   or any(isinstance(r, Exception) for _, r in read)):
        # one series' own labels may not tell its step (a ticker listed five sessions
        # ago reads as daily, Monday to Friday): the panel's step is the longest
        # series', where every series is regular at it
        read = _at_common_step(entries, read, fill)
    for e, s in read:
        if isinstance(s, Exception):
            raise s
        if s != read[0][1]:
            raise ValueError(f"{_where(e.key)} has step {_step_words(s, read[0][1])}, the "
                             f"first series {_step_words(read[0][1], s)}: every series "
                             "must have the same frequency")
        out.append(e)
        step = s
    return out, layout, step


def _step_words(step, other):
    """``step`` as a message shows it beside ``other``: two holiday calendars print
    alike (<CustomBusinessDay>), so say the weekmask and a holiday only one has."""
    if not (isinstance(step, pd.offsets.CustomBusinessDay)
            and isinstance(other, pd.offsets.CustomBusinessDay) and repr(step) == repr(other)):
        return repr(step)
    own = sorted(set(step.holidays) - set(other.holidays))
    extra = f", a holiday on {pd.Timestamp(own[0]):%Y-%m-%d}" if own else ""
    n = len(step.holidays)
    return f"<CustomBusinessDay: weekmask {step.weekmask!r}, {n} holiday{'s' * (n != 1)}{extra}>"


def _at_common_step(entries, read, fill):
    """Every entry read at the step of the longest series whose own step was read,
    or ``read`` as it is where one is not regular at it (its own refusal, or the
    steps that differ, then say what is wrong). A series read at another step of
    its own must step mostly by one common step, on its grid: a fill would make a
    weekly series regular at business days by inventing four days a week."""
    # (read holds the series as read, filled at their own steps: look at the labels
    # as given)
    known = [(len(e.y), -i, s) for i, (e, (_, s)) in enumerate(zip(entries, read))
             if not isinstance(s, Exception)]
    if not known:
        return read
    step = max(known, key=lambda k: k[:2])[2]
    try:
        for e, (_, own) in zip(entries, read):
            if not isinstance(own, Exception) and own == step:
                continue
            if len(e.y) < 2:  # (its own refusal says so)
                return read
            at = _grid_positions(e.y.index, step, 2 * len(e.y) + 2)
            if at is None or np.median(np.diff(at)) != 1:
                return read
        return [_regular(e, step, fill) for e in entries]
    except (ValueError, TypeError):
        return read


def _check_unique_columns(X, key):
    """Refuse covariates with two columns of one name (a column then read as a
    DataFrame failed deep inside with an AttributeError)."""
    if isinstance(X, pd.DataFrame) and X.columns.duplicated().any():
        name = X.columns[X.columns.duplicated()][0]
        where = "X" if key is None else f"X[{key!r}]"
        raise ValueError(f"{where} has more than one column named {name!r}: give each "
                         "covariate one column")


def check_indexed_alike(entries):
    """Raise unless every series is indexed alike (:func:`_index_kind`): unlike
    indexes failed later with pandas' own errors, and forecasts of series in two
    time zones shared one index level, their labels shown in one zone."""
    kind = _index_kind(entries[0].y.index)
    for e in entries:
        if _index_kind(e.y.index) != kind:
            raise ValueError(f"{_where(e.key)} is indexed by {_index_kind(e.y.index)}, the "
                             f"first series by {kind}: index every series alike")


def in_zone_of(index, entry):
    """``entry`` with its labels in ``index``'s time zone object when both are in
    one zone made by two libraries (zoneinfo's and dateutil's Europe/Berlin): their
    labels compare equal but do not join, and a panel's forecasts mixed them."""
    tz, own = getattr(index, "tz", None), getattr(entry.y.index, "tz", None)
    if tz is None or own is None or repr(tz) == repr(own) or \
            _zone_name(tz) != _zone_name(own):  # another zone is refused, not converted
        return entry
    X = None if entry.X is None else entry.X.tz_convert(tz)
    return Entry(entry.key, entry.y.tz_convert(tz), X, entry.n_filled, entry.n_trailing)


def _zone_name(tz):
    """A time zone's name, the same whichever library made it (zoneinfo, dateutil
    and pytz objects of one zone print differently)."""
    name = getattr(tz, "key", None) or getattr(tz, "zone", None)  # zoneinfo, dateutil; pytz
    if isinstance(name, str):
        return name
    return "UTC" if type(tz).__name__ == "tzutc" else str(tz)


def _index_kind(index):
    """How a series is indexed, in words: what every series of a panel, and new
    values or a history given after fit, must share with the fitted series (dates
    in another zone would read other calendar features, and label forecasts in it)."""
    if isinstance(index, pd.DatetimeIndex):
        return "dates without a time zone" if index.tz is None else \
            f"dates in time zone {_zone_name(index.tz)}"
    if isinstance(index, pd.PeriodIndex):
        return f"periods of {index.freqstr}"
    if pd.api.types.is_integer_dtype(index):
        return "integers"
    return f"a {type(index).__name__} of {index.dtype}"


def _new_values(key):
    return "the new values" if key is None else f"the new values of series {key!r}"


def _check_continues(old, new, step, key, expected_after=None):
    """Raise unless ``new``'s labels are the next ones after ``old``'s last label.
    ``expected_after``: ``future_index``, or a cache of it (a panel's series mostly
    end at the same label)."""
    where, index = _new_values(key), new.index
    if type(index) is not type(old.index) and not (  # an int index of another width
            pd.api.types.is_integer_dtype(index) and isinstance(step, int)):
        raise TypeError(f"{where} have a {type(index).__name__}, the "
                        f"fitted ones a {type(old.index).__name__}")
    if _index_kind(index) != _index_kind(old.index) and isinstance(index, pd.DatetimeIndex):
        raise ValueError(f"{where} are {_index_kind(index)}, the fitted "
                         f"ones {_index_kind(old.index)}: give them alike "
                         "(tz_convert, tz_localize)")
    if isinstance(index, pd.PeriodIndex) and index.freq != old.index.freq:
        # (pandas refused to compare them: "Input has different freq")
        raise ValueError(f"{where} are periods of {index.freqstr}, the fitted ones of "
                         f"{old.index.freqstr}: give them at the fitted frequency")
    _check_order(index, key)
    last = old.index[-1]
    expected = (expected_after or future_index)(last, step, len(index))
    if index[0] <= last:
        raise ValueError(f"{where} overlap the known ones: they start at "
                         f"{plain_label(index[0])!r}, the known ones end at {plain_label(last)!r}; "
                         f"pass only the values after it (from {plain_label(expected[0])!r})")
    if not index.equals(expected):
        differ = np.flatnonzero(np.asarray(index != expected))
        bad = int(differ[0]) if differ.size else 0
        # a label before the one due is off the step's grid (a Saturday in business
        # days), which no fill mends; one after it leaves a gap
        gap = index[bad] > expected[bad] and _whole_steps_after(
            expected[bad], index[bad], step, min(len(index) + 2, 10_000))
        what = "a gap" if gap else f"a label the fitted step {step!r} does not have"
        raise ValueError(f"{where} must continue it at step {step!r}: "
                         f"{plain_label(index[bad])!r} where {plain_label(expected[bad])!r} was "
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
    # a long panel's values are checked once, after the loop (per series, 0.3 ms
    # each); the label of a bad value names its series
    whole = layout == "long"
    known = {}  # labels expected next, by (last label and its zone, step, length)

    def expected_after(last, step, n):
        key = (last, repr(getattr(last, "tzinfo", None)), step, n)
        if key not in known:
            known[key] = future_index(last, step, n)
        return known[key]

    for i, e in enumerate(entries):
        if e.key not in tails:
            raise ValueError(f"series {e.key!r} was not seen in fit "
                             f"(known: {list(tails)[:10]})")
        cols = [] if e.X is None else list(e.X.columns)
        if cols != exog_names:
            raise ValueError(f"X_new has columns {cols} for {_where(e.key)}, the model was "
                             f"fitted with {exog_names}")
        if len(e.y) == 0:
            raise ValueError(f"y_new has no value for {_where(e.key)}")
        entries[i] = e = in_zone_of(tails[e.key].y.index, e)
        _check_continues(tails[e.key].y, e.y, step, e.key, expected_after)
        if not whole:
            check_numeric(e.y.to_frame(), _new_values(e.key))
            if e.X is not None:  # named as the argument that holds them
                check_numeric(e.X, _where_X(e.key))
    if whole:
        check_numeric(y_new.to_frame(), "y_new")
        if X_new is not None:
            check_numeric(X_new, "X_new")
    return entries


def long_to_user(out, long_frame):
    """Forecasts ``out`` in the layout of the training data: a long frame (the index
    levels as columns, ``attrs`` kept) if the model was fitted on one, else as they are."""
    if not long_frame:
        return out
    attrs = dict(out.attrs)
    out = out.reset_index()
    out.attrs.update(attrs)
    return out


def frame_to_long(frame, id_col, time_col, target_col=None, what="y"):
    """A long DataFrame (one row per series and time step, Nixtla's layout) -> the
    long Series layout.

    Parameters
    ----------
    frame : DataFrame with columns ``id_col``, ``time_col`` (and ``target_col``)
    id_col, time_col, target_col : str
        The columns of the series id, the time and the target (None: ``frame``
        holds covariates only).
    what : str
        How the frame is named in errors.

    Returns
    -------
    y : Series with a (series id, time) MultiIndex, or None without ``target_col``
    X : DataFrame of the other columns on the same index, or None if there are none
    """
    needed = [id_col, time_col] + ([] if target_col is None else [target_col])
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        on_times = isinstance(frame.index, (pd.DatetimeIndex, pd.PeriodIndex))
        raise ValueError(f"{what} is a long DataFrame without the column(s) {missing} "
                         f"(id_col={id_col!r}, time_col={time_col!r}, "
                         f"target_col={target_col!r}); it has {list(frame.columns)}" + (
                             "; a DataFrame is read as a long panel: for one series on "
                             "this time index give a Series (frame['column']), for "
                             "several a dict of Series" if on_times else
                             f"; its index holds {missing}: .reset_index() makes them "
                             "columns" if set(missing) <= set(frame.index.names) else ""))
    times = frame[time_col]
    if times.dtype == object:  # Timestamps of several zones do not make one dtype
        zones = sorted({_zone_name(t.tz) for t in times if getattr(t, "tz", None) is not None})
        if len(zones) > 1:
            raise ValueError(f"{what}'s column {time_col!r} mixes time zones ({zones}): "
                             f"convert its times to one zone first "
                             f"(pd.to_datetime({what}[{time_col!r}], utc=True)"
                             ".dt.tz_convert(zone))")
    indexed = frame.set_index([id_col, time_col])
    y = None if target_col is None else indexed[target_col]
    rest = indexed if target_col is None else indexed.drop(columns=[target_col])
    return y, (rest if rest.shape[1] else None)


def split_static(y, X, names):
    """Take the static covariates ``names`` out of a long ``X``.

    Returns
    -------
    X : DataFrame or None
        The other covariates (None if there are none).
    static : DataFrame
        One row per series id (in order of first appearance), the ``names`` columns.
    """
    if not (isinstance(y, pd.Series) and isinstance(y.index, pd.MultiIndex)):
        raise ValueError("static_features need many series in the long layout (a long "
                         "DataFrame, or a Series with a (series id, time) MultiIndex and "
                         "its covariates X)")
    missing = [c for c in names if X is None or c not in X.columns]
    if missing:
        raise ValueError(f"static_features names columns the data does not have: "
                         f"{missing} (covariates: {[] if X is None else list(X.columns)})")
    part = X[names]
    check_numeric(part, "the static features")
    groups = part.groupby(level=0, sort=False)
    varying = groups.nunique(dropna=False).max()
    if (varying > 1).any():
        col = varying.index[np.flatnonzero((varying > 1).to_numpy())[0]]
        counts = groups[col].nunique(dropna=False)
        raise ValueError(f"static feature {col!r} changes within series "
                         f"{counts.index[np.flatnonzero(counts.to_numpy() > 1)[0]]!r}: a "
                         "static feature has one value per series (pass it as a covariate)")
    rest = X.drop(columns=names)
    return (rest if rest.shape[1] else None), groups.first().astype(np.float64)


def y_name(y):
    return y.name if y.name is not None else "y"


def future_index(last, step, steps):
    """The ``steps`` labels after ``last``."""
    if isinstance(step, int):
        return _integer_labels(np.asarray([last]), step, steps)
    if isinstance(last, pd.Period):
        return pd.period_range(last + step, periods=steps, freq=step)
    try:
        start = last + step
    except ValueError:  # a local time the zone skips: calendar_range says so
        return calendar_range(last, periods=steps + 1, freq=step)[1:]
    return calendar_range(start, periods=steps, freq=step)


def future_labels(lasts, step, steps):
    """The ``steps`` labels after each of ``lasts`` (an Index of last labels), one
    series after another: an Index of ``len(lasts) * steps`` labels."""
    if isinstance(step, int):
        return _integer_labels(np.asarray(lasts), step, steps)
    code = _step_code(step, lasts) if isinstance(lasts, (pd.DatetimeIndex, pd.PeriodIndex)) \
        else None
    if code is None:  # a step of no fixed size (months): label by label
        return future_index(lasts[0], step, steps).append(
            [future_index(last, step, steps) for last in lasts[1:]])
    codes = (_time_codes(lasts)[:, None] + code * np.arange(1, steps + 1)[None, :]).ravel()
    if isinstance(lasts, pd.DatetimeIndex):
        # the codes count from the epoch in UTC: read as UTC, then shown in the
        # series' zone (tz= on naive values would read them as its wall clock)
        labels = pd.DatetimeIndex(codes.view(f"M8[{lasts.unit}]"))
        return labels if lasts.tz is None else labels.tz_localize("UTC").tz_convert(lasts.tz)
    return pd.PeriodIndex.from_ordinals(codes, freq=lasts.freq)


def _integer_labels(lasts, step, steps):
    """The ``steps`` integer labels after each of ``lasts`` (an int or uint array), one
    series after another, in the labels' own kind: uint64 labels stay uint64 (in int64
    those past its largest value turned negative, and a Python int with int64 steps
    made float64). Labels past the kind's range are refused, not wrapped around."""
    # a panel may mix int64 and uint64 series (an object array here)
    values = lasts if lasts.dtype.kind in "iu" else np.array([int(v) for v in lasts])
    top, low = int(values.max()), int(values.min())
    unsigned = (lasts.dtype.kind == "u" or top > np.iinfo(np.int64).max) and low >= 0
    kind = np.dtype(np.uint64 if unsigned else np.int64)
    if top + step * steps > np.iinfo(kind).max:
        raise ValueError(f"the {steps} labels after {top} at step {step} pass the largest "
                         f"{kind} label, {np.iinfo(kind).max}: number the series from a "
                         "smaller label")
    ahead = np.arange(1, steps + 1, dtype=kind) * kind.type(step)
    return pd.Index((lasts.astype(kind)[:, None] + ahead[None, :]).ravel())


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
