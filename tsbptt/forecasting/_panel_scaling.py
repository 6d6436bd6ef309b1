"""Per-series scaling of a Forecaster's entries (a mixin of the Forecaster).

:class:`_PanelScaling` turns the :class:`tsbptt.forecasting._panel.Entry` list of
one or many series into :class:`_Scaled` series: y and every covariate column
standardised per series, the calendar and future-known channels laid out over the
series' steps and its forecast horizon, and the static features beside them.
Series of one length that view one run of a panel's values array are scaled
together, a row each, with the same bits as one call per series.
"""
import numpy as np

from . import transforms
from ._panel import future_index, zones_differ
from ..utils._validation import (INPUT_NOISE_FLOOR, below_floor, mean_std, plain_label,
                                 scale_or_unit, warn_small_spread)
from ._checks import check_numeric
from .windowing import calendar_features

__all__ = []


class _Scaled:
    """One series, scaled, with its future-known channels over ``n + n_future`` steps.

    Attributes: ``key``, ``times`` (n,) (the labels, sortable), ``y`` (n,),
    ``past`` (n, p), ``fut`` (n + n_future, q) and ``static`` (k,).
    """

    def __init__(self, key, times, y, past, fut, static, entry=None):
        self.key, self.times, self.y = key, times, y
        self.past, self.fut, self.static = past, fut, static
        self._entry = entry

    @property
    def index(self):
        """The pandas labels of the steps (made from the entry when read)."""
        return self._entry.y.index

    def channels(self, t, lead, y=None):
        """Channel rows for the time steps ``t`` (an int array): (len(t), C)."""
        def take(a, rows):  # a zero-width block has no rows to run out of
            return a[rows] if a.shape[1] else np.empty((len(rows), 0))

        yv = self.y[t] if y is None else y
        if not (self.past.shape[1] or self.fut.shape[1] or len(self.static)):
            return np.asarray(yv, dtype=np.float64).reshape(len(t), 1)  # y alone
        return np.column_stack([yv, take(self.past, t), take(self.fut, t + lead),
                                np.broadcast_to(self.static, (len(t), len(self.static)))])


def _series_mean_std(values):
    """:func:`mean_std` of each array in ``values`` (a list, or a 2D array of one
    series a row): two arrays of shape (n,).

    Series of one length are done together, a row each: NumPy sums a contiguous
    row as it sums a 1D array, so the figures are bitwise those of one call per
    series; a group that overflows is redone series by series."""
    mean, std = np.empty(len(values)), np.empty(len(values))
    lengths = np.full(len(values), values.shape[1]) if isinstance(values, np.ndarray) \
        else np.array([len(v) for v in values])
    for n in np.unique(lengths):
        rows = np.flatnonzero(lengths == n)
        M = values if isinstance(values, np.ndarray) else np.stack([values[i] for i in rows])
        with np.errstate(over="ignore", invalid="ignore"):
            m = np.mean(M, axis=1)
            s = np.sqrt(np.mean((M - m[:, None]) ** 2, axis=1))
        if not (np.isfinite(m).all() and np.isfinite(s).all()):
            m, s = (np.array(v) for v in zip(*(mean_std(values[i]) for i in rows)))
        mean[rows], std[rows] = m, s
    return mean, std


def _block_rows(entries):
    """The values of entries that view one run of a block, all of one length, as
    a 2D view (one series a row), or None."""
    views = [e._view for e in entries]
    if not views or any(v is None or v[0] is not views[0][0] for v in views):
        return None
    a, b = np.array([v[1] for v in views]), np.array([v[2] for v in views])
    n = b[0] - a[0]
    if not ((b - a == n).all() and (a[1:] == b[:-1]).all()):
        return None
    return views[0][0].values[a[0]:b[-1]].astype(np.float64, copy=False).reshape(-1, n)


class _PanelScaling:
    """Per-series scaling of a Forecaster's entries into :class:`_Scaled` series
    with their channels (a mixin of :class:`tsbptt.forecasting.Forecaster`)."""

    def _fit_scaling(self, entries, lambdas=None, warn=True):
        """Per series (rows, in ``series_`` order): the mean and scale of y and of
        every covariate column. ``lambdas``: the power transform's exponents to keep
        (an interval's calibration model works in the final model's transformed
        space), None to fit them."""
        names = self.exog_names_
        power = transforms.power_of(transforms.check_transform(self.transform))
        for e in entries:
            if power:
                transforms.check_positive(e.y, power, self._where(e.key))
        if power:
            self.target_lambda_ = ([transforms.fit_lambda(e.values, power) for e in entries]
                                   if lambdas is None else list(lambdas))
            y = [transforms.forward(e.values, lam)
                 for e, lam in zip(entries, self.target_lambda_)]
        else:  # no transform: no call per series
            self.target_lambda_ = [None] * len(entries)
            y = _block_rows(entries)
            y = [e.values for e in entries] if y is None else y
        X = ([e.X[names].to_numpy(np.float64) for e in entries] if names
             else [np.empty((0, 0))] * len(entries))
        if self.scaling_ is not None:  # mean_std: a series of 1e300 must not overflow to NaN
            self.target_mean_, self.target_scale_ = _series_mean_std(y)
            stats = ([mean_std(v) for v in X] if names
                     else [(np.empty(0), np.empty(0))] * len(X))
            self.exog_mean_ = np.array([m for m, _ in stats]).reshape(len(X), -1)
            self.exog_scale_ = np.array([s for _, s in stats]).reshape(len(X), -1)
        else:
            self.target_mean_, self.target_scale_ = np.zeros(len(y)), np.ones(len(y))
            self.exog_mean_ = np.zeros((len(X), len(names)))
            self.exog_scale_ = np.ones((len(X), len(names)))
        for name in ("target", "exog"):
            stats = np.concatenate([getattr(self, f"{name}_mean_").ravel(),
                                    getattr(self, f"{name}_scale_").ravel()])
            if not np.isfinite(stats).all():
                raise ValueError(f"the {'y' if name == 'target' else 'X'} values span "
                                 "more than the float64 range: their mean and standard "
                                 "deviation overflow; divide them by a constant first")
        # a spread that is a constant's rounding: left centred, not divided by ~0
        n = np.array([len(v) for v in y])
        self.target_scale_ = scale_or_unit(self.target_mean_, self.target_scale_, n)
        tiny = below_floor(self.exog_mean_, self.exog_scale_, n[:, None],
                           INPUT_NOISE_FLOOR).reshape(self.exog_scale_.shape)
        if tiny.any() and warn:  # the calibration model's refit says it again: quiet
            first = int(np.flatnonzero(tiny.any(axis=1))[0])
            where = "" if entries[first].key is None else \
                f" (series {plain_label(entries[first].key)!r} first)"
            columns = [c for c, t in zip(names, tiny.any(axis=0)) if t]
            warn_small_spread(f"covariate(s) {columns}", where)
        self.exog_scale_ = scale_or_unit(self.exog_mean_, self.exog_scale_, n[:, None],
                                         INPUT_NOISE_FLOOR)

    @property
    def _positions(self):
        """Each series key's position in ``series_`` (a dict, so a lookup does not
        grow with the number of series)."""
        cached = vars(self).get("_positions_cache")
        if cached is None or cached[0] is not self.series_:
            cached = (self.series_, {k: i for i, k in enumerate(self.series_)})
            self._positions_cache = cached
        return cached[1]

    @property
    def _id_columns(self):
        """With ``series_id``: each series key's column among the one-hot ones, as
        ``channels_`` names them (``series=<key>``, in key order; a file of a
        forecaster fitted before that keeps its order)."""
        cached = vars(self).get("_id_columns_cache")
        if cached is None or cached[0] is not self.channels_:
            slot = {c: j for j, c in enumerate(
                c for c in self.channels_ if isinstance(c, str) and c.startswith("series="))}
            # without series_id: none (dir() and hasattr() read every property, and a
            # KeyError escapes them)
            cached = (self.channels_, {k: slot[f"series={k}"] for k in self.series_
                                       if f"series={k}" in slot})
            self._id_columns_cache = cached
        return cached[1]

    def _scaled(self, entry, future_X=None, n_future=0):
        """Scale a series with the fitted statistics; future-known channels over
        its steps and ``n_future`` more (from ``future_X``, the calendar)."""
        key = entry.key
        i = self._positions.get(key)
        if i is None:
            raise ValueError(f"series {key!r} was not seen in fit "
                             f"(known: {self.series_[:10]})")
        lam = self.target_lambda_[i]
        if lam is not None:
            transforms.check_positive(entry.y, transforms.power_of(
                transforms.check_transform(self.transform)), self._where(key))
        y = (transforms.forward(entry.values, lam) - self.target_mean_[i]) / self.target_scale_[i]
        n = len(y)
        # the labels themselves are only needed to read covariates and the calendar
        index = entry.y.index if self._future or self._calendar else None
        full_index = (index.append(future_index(index[-1], self.step_, n_future))
                      if n_future and index is not None else index)

        def cols(names, frame):
            if not names:
                return np.empty((n if frame is None else len(frame), 0))
            cols = [self.exog_names_.index(c) for c in names]
            return ((frame[names].to_numpy(np.float64) - self.exog_mean_[i, cols])
                    / self.exog_scale_[i, cols])

        past = cols(self._past, entry.X)
        fut = cols(self._future, entry.X)
        if n_future and self._future:
            fut = np.vstack([fut, cols(self._future, self._future_rows(
                key, future_X, full_index[n:]))])
        elif n_future:
            fut = np.empty((n + n_future, 0))
        if self._calendar:
            fut = np.hstack([fut, calendar_features(full_index, self._calendar).to_numpy()])
        static = np.zeros(len(self.series_) if self._one_hot else 0)
        if self._one_hot:
            static[self._id_columns[key]] = 1.0
        if self.static_values_ is not None:
            static = np.concatenate([static, self.static_values_[i]])
        return _Scaled(key, entry.times, y, past, fut, static, entry)

    def _scaled_all(self, entries, futures=None, n_future=0):
        """:meth:`_scaled` of every entry (``futures``: each key's future X, or
        None). Series of y alone that view one block are scaled in one pass over
        its values (elementwise, so bitwise as series by series), leaving a few
        microseconds of Python per series instead of a few dozen."""
        views = [e._view for e in entries]
        positions = self._positions
        idx = [positions.get(e.key) for e in entries]
        plain = (not (self._past or self._future or self._calendar or self._one_hot)
                 and self.static_values_ is None and len(entries) > 1
                 and not transforms.power_of(transforms.check_transform(self.transform))
                 and all(v is not None and v[0] is views[0][0] for v in views)
                 and None not in idx)
        if not plain:
            return [self._scaled(e, None if futures is None else futures[e.key], n_future)
                    for e in entries]
        block = views[0][0]
        idx = np.array(idx)
        mean, scale = self.target_mean_[idx], self.target_scale_[idx]
        rows = _block_rows(entries)  # (series, steps): no repeat of the statistics
        if rows is not None:
            y = ((rows - mean[:, None]) / scale[:, None]).ravel()
            lens = np.full(len(entries), rows.shape[1])
            a = np.array([v[1] for v in views])
        else:
            a = np.array([v[1] for v in views])
            lens = np.array([v[2] for v in views]) - a
            values = np.concatenate([block.values[i:i + n] for i, n in
                                     zip(a.tolist(), lens.tolist())]).astype(np.float64, copy=False)
            y = (values - np.repeat(mean, lens)) / np.repeat(scale, lens)
        b = a + lens
        ends = np.cumsum(lens).tolist()
        none = np.empty((int(lens.max()) + n_future, 0))
        static = np.zeros(0)
        return [_Scaled(e.key, block.times[i:j], y[k - n:k], none[:n], none[:n + n_future],
                        static, e)
                for e, i, j, k, n in zip(entries, a.tolist(), b.tolist(), ends, lens.tolist())]

    def _future_rows(self, key, future_X, needed):
        where = "X" if key is None else f"X of series {key!r}"
        if future_X is None:
            raise ValueError(f"{where} must give the future-known covariates "
                             f"{self._future} for the forecast steps {needed[0]!r} .. "
                             f"{needed[-1]!r}")
        missing = needed.difference(future_X.index)
        if len(missing):
            raise ValueError(f"{where} does not cover the forecast steps: missing "
                             f"{list(missing[:3])}{' ...' if len(missing) > 3 else ''}"
                             f"{zones_differ(future_X, needed)}")
        absent = [c for c in self._future if c not in future_X.columns]
        if absent:
            raise ValueError(f"{where} lacks the future-known columns {absent}")
        # a repeated label gave .loc two rows for one step, and every later step
        # the covariates of the step before
        repeated = future_X.index[future_X.index.duplicated()].intersection(needed)
        if len(repeated):
            raise ValueError(f"{where} has more than one row for the forecast step "
                             f"{repeated[0]!r}: give one row per step")
        rows = future_X.loc[needed, self._future]
        check_numeric(rows, where, finite=False)  # numbers, not complex; finite below
        bad = ~np.isfinite(rows.to_numpy(np.float64, na_value=np.nan))
        if bad.any():  # the first such step, and its column (fit's message names it)
            row = np.flatnonzero(bad.any(1))[0]
            column = self._future[np.flatnonzero(bad[row])[0]]
            raise ValueError(f"column {column!r} of {where} has a missing or infinite "
                             f"value at {needed[row]!r}")
        return rows
