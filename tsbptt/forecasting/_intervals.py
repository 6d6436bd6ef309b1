"""Prediction intervals of the Forecaster: conformal calibration and its maths.

``interval='conformal'``: a copy of the model is fitted on the data before a
cut-off time (the same for every series) and its standardised errors at every
origin after it are the calibration scores; a band is the split-conformal
quantile of their absolute values per horizon step. ``interval='quantile'``: the
network outputs three quantiles and the same held-back origins widen or narrow
them (conformalised quantile regression, Romano et al., 2019).

:class:`_Intervals` is a mixin of :class:`tsbptt.forecasting.Forecaster`.
"""
from numbers import Real
from typing import Any

import numpy as np



def _needed(coverage):
    """The fewest calibration scores m whose ceil((m + 1) * coverage) <= m."""
    return int(np.ceil(coverage / (1 - coverage) - 1e-9))


def _conformal_quantile(abs_residuals, coverage, of=""):
    """Per column, the ceil((m + 1) * coverage)-th smallest of m residuals: the
    split-conformal bound (Lei et al., 2018), valid for exchangeable errors; at
    least the smallest (a coverage below 1 / (m + 1) asks for less). ``of`` names
    whose residuals they are in an error (`` of series 'a'``)."""
    m = abs_residuals.shape[0]
    # 1e-9: 10 * 0.9 is 9, not 9.000...1; rank 0 read the row [-1], the largest
    rank = max(1, int(np.ceil((m + 1) * coverage - 1e-9)))
    if rank > m:
        raise ValueError(f"coverage={coverage} needs at least {_needed(coverage)} "
                         f"calibration windows{of}, there are {m}: use a larger "
                         "calibration fraction or a longer series")
    return np.sort(abs_residuals, axis=0)[rank - 1]


class _Intervals:
    """Calibration at fit time and :meth:`predict_interval` (a mixin)."""

    def _bands(self, scores, coverage, entries):
        """The conformal quantile of ``scores`` (n_calibration, steps) for each
        entry's series: pooled (steps,), or with ``interval_per_series`` from its
        own rows (n_entries, steps)."""
        rows = getattr(self, "residual_series_", None)
        if rows is None:
            return _conformal_quantile(scores, coverage)
        return np.stack([_conformal_quantile(
            scores[rows == self._positions[e.key]], coverage,
            "" if e.key is None else f" of series {e.key!r}") for e in entries])

    def _calibrate(self, entries, data):
        """Scores of a model fitted on the data before a cut-off time, forecasting
        every origin from then on: (n_origins, horizon), standardised; and, with
        ``interval_per_series``, the series (position) of each row, else None.

        The cut-off is a time, the same for every series, so that no series'
        data after it teaches the calibration model about another's held-back
        part; it leaves the last ``calibration`` fraction of all origins held back.
        The data before it is all the calibration model sees, its scaling included.
        """
        H, first = self.horizon, self.lags_ - 1
        times = [s.times[first:len(s.y) - H] for s in data]  # each series' origins
        pooled = np.sort(np.concatenate(times))
        t_cut = pooled[min(len(pooled) - 1,
                           int(np.floor((1 - self.calibration) * len(pooled))))]
        # the last step at or before the cut-off: the calibration model's data ends there
        stops = [int(s.times.searchsorted(t_cut, side="right")) - 1 for s in data]
        seen = None  # the latest time the calibration model sees, where it matters
        if self.strategy == "stateful":  # one sequence length for every series
            stops = [min(stops)] * len(data)
            if stops[0] >= 0:
                # a cut by position reaches later times in a series whose dates are
                # later: another series' held-back origins start after them, not at
                # the same position
                seen = max(s.times[min(stops[0], len(s.y) - 1)] for s in data)
        origins = [(i, o) for i, (s, stop) in enumerate(zip(data, stops))
                   for o in range(max(first, stop), len(s.y) - H)
                   if seen is None or s.times[o] >= seen]
        cuts = [min(stop, len(s.y) - 1) for s, stop in zip(data, stops)]
        if sum(max(0, c - H - first + 1) for c in cuts) < 1 or not origins:
            raise ValueError(f"too few windows to calibrate intervals ({len(pooled)} "
                             "origins in all); use a longer series or interval=None")
        needed = _needed(self.coverage)
        if len(origins) < needed:
            # the fraction that would hold back enough of today's origins, if any
            enough = np.ceil(100 * needed / len(pooled)) / 100
            larger = (f"calibration={enough:g} or more" if enough < 1
                      else "a larger calibration")
            raise ValueError(f"too few windows to calibrate a {100 * self.coverage:.10g}% "
                             f"interval: {len(origins)} held-back origins, {needed} needed "
                             f"(calibration={self.calibration:g} holds back the last "
                             f"{100 * self.calibration:g}% of the {len(pooled)} origins); "
                             f"use {larger}, a longer series or a lower coverage")
        rows = np.array([i for i, _ in origins])
        counts = np.bincount(rows, minlength=len(data))
        if self.interval_per_series and counts.min() < needed:
            i = int(np.argmin(counts))
            raise ValueError(f"too few windows to calibrate a {100 * self.coverage:.10g}% "
                             f"interval per series: series {data[i].key!r} has {counts[i]} "
                             f"held-back origins, {needed} needed; use a larger "
                             "calibration fraction, longer series, or "
                             "interval_per_series=False (pooled over the series)")
        final = {name: getattr(self, name) for name in self._SCALING}
        try:
            # a series that starts after the cut-off is scaled by its first window,
            # which its first held-back origin knows
            known = [max(c, first) + 1 for c in cuts]
            # the final model's Box-Cox exponents: scores from another transformed
            # space would not convert to the final one by a scale ratio
            self._fit_scaling([e.head(k) for e, k in zip(entries, known)],
                              lambdas=final["target_lambda_"], warn=False)
            data = self._scaled_all(entries)
            jobs = [(data[i], o) for i, o in origins]
            model = self._fit_model(data, cuts, "fit 1/2: calibration model")
            actual = np.stack([s.y[o + 1:o + 1 + H] for s, o in jobs])
            if self.interval == "quantile":
                # conformalised quantile regression (Romano et al., 2019): how far the
                # actual falls outside the predicted band (negative: inside)
                q = self._direct(model, jobs, "predict_quantiles").reshape(len(jobs), H, 3)
                scores = np.maximum(q[..., 0] - actual, actual - q[..., 2])
            else:
                states = (self._states_before(model, jobs) if self.strategy == "stateful"
                          else None)
                scores = actual - self._forecast(model, jobs, H, states)
            # the scores are in the calibration model's standardised units; the
            # bands are added in the final model's (scaled by all the data)
            scores = scores * (self.target_scale_[rows] / final["target_scale_"][rows])[:, None]
            bad = np.flatnonzero(~np.isfinite(scores).all(axis=1))
            if len(bad):  # NaN scores made NaN bands, with only NumPy's warning
                s, o = jobs[bad[0]]
                where = "" if s.key is None else f" of series {s.key!r}"
                raise ValueError(f"the calibration model forecast a missing or infinite "
                                 f"value at {len(bad)} of {len(jobs)} held-back origins, "
                                 f"the first after {s.times[o]!r}{where}: intervals "
                                 "cannot be calibrated on them; check the model (its "
                                 "predict on the data up to there gives the same)")
            return scores, (rows if self.interval_per_series else None)
        finally:
            for name, value in final.items():
                setattr(self, name, value)

    def predict_interval(self, steps: int | None = None, X: Any = None,
                         coverage: float | None = None, history: Any = None,
                         history_X: Any = None) -> Any:
        """Forecasts with a prediction interval (needs ``interval`` set before fit).

        Parameters
        ----------
        steps, X, history, history_X : as in :meth:`predict`
        coverage : float, default=None (the ``coverage`` parameter)
            Nominal probability that the actual value falls in [lower, upper]
            (with many series, over the series together, or for each series with
            ``interval_per_series``: see ``interval`` in the class docstring). For
            conformal intervals any value the held-back origins can calibrate:
            with m of them (``residuals_.shape[0]``; per series, its own rows of
            ``residual_series_``), up to m / (m + 1) (m = 9 for 90%, 19 for 95%); a
            higher one raises ValueError, naming the series. For quantile
            intervals, the fitted one.

        Returns
        -------
        DataFrame
            Columns ``forecast``, ``lower`` and ``upper``, indexed as
            :meth:`predict`'s output; ``attrs['coverage']`` holds the coverage.
        """
        self._check_fitted()
        if self.interval is None:
            raise ValueError("predict_interval needs interval='conformal' or "
                             "interval='quantile', set before fit")
        coverage = self.coverage if coverage is None else coverage
        if not isinstance(coverage, Real) or not 0 < coverage < 1:
            raise ValueError(f"coverage must lie strictly between 0 and 1, got {coverage!r}")
        steps = self._check_steps(steps)
        if steps > self.horizon:
            raise ValueError(f"intervals were calibrated for {self.horizon} steps "
                             f"(horizon), steps={steps} asks for more")
        entries, jobs, states = self._origins(steps, X, history, history_X)
        if self.interval == "quantile":
            if not np.isclose(coverage, self.coverage):
                raise ValueError(f"quantile intervals were fitted for coverage="
                                 f"{self.coverage}; refit for coverage={coverage} or "
                                 "use interval='conformal'")
            q = self._direct(self.estimator_, jobs, "predict_quantiles")
            q = q.reshape(len(jobs), -1, 3)[:, :steps]  # (series, step, (lo, mid, hi))
            widen = self._bands(self.residuals_[:, :steps], coverage, entries)
            values = np.stack([q[..., 1], np.minimum(q[..., 0] - widen, q[..., 1]),
                               np.maximum(q[..., 2] + widen, q[..., 1])], axis=-1)
        else:
            f = self._forecast(self.estimator_, jobs, steps, states)
            half = self._bands(np.abs(self.residuals_[:, :steps]), coverage, entries)
            values = np.stack([f, f - half, f + half], axis=-1)
        out = self._dated(entries, values, steps, ["forecast", "lower", "upper"])
        out.attrs["coverage"] = float(coverage)
        return self._to_user(out)
