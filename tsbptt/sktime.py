"""A native sktime forecaster around :class:`tsbptt.Forecaster`.

Importing :mod:`tsbptt` never imports this module (nor sktime); importing this
module needs sktime::

    from tsbptt.sktime import TsbpttForecaster

Design
------
sktime hands over a Series on a RangeIndex, an integer index, a DatetimeIndex or a
PeriodIndex. The adapter checks that the index is a regular grid and gives the
wrapped :class:`~tsbptt.Forecaster` the grid positions ``0 .. n - 1`` instead of
the labels: every index type is then the same integer series to tsbptt, and the
labels of a forecast are sktime's own ``fh.to_absolute_index(cutoff)``, so a
PeriodIndex comes back a PeriodIndex. The season a DatetimeIndex or PeriodIndex
implies (monthly: 12, ...) is kept as ``season_``.

``fh`` counts in the index's units, as sktime does: on an integer index of step 2,
``fh=[2, 4]`` are the next two grid steps (an ``fh`` between them is refused).
``X`` is matched by column name (a reordered ``X`` is reordered; a missing column
is refused by name). Forecasts read the steps ``1 .. max(fh)`` after the cutoff and
keep those in ``fh``,
so any set of future steps, contiguous or not, is served by one forecast. ``X``
columns are future-known covariates (sktime's convention: ``X`` at a forecast's
time is given to ``predict``).

Intervals are split conformal (the forecaster's ``interval='conformal'``): a model
fitted on the data before a cut-off forecasts the held-back origins, and its
errors per horizon step give the half-widths. Where the series is too short for a
single held-back window, or a coverage needs more held-back windows than there
are (``ceil((m + 1) * coverage) > m``), or a step lies beyond the calibrated
horizon, the interval falls back to a random walk's: the forecast plus or minus
``z * sigma * sqrt(h)``, ``sigma`` the standard deviation of the training series'
one-step changes — wide, honest about what so little data can say, and never
undefined. ``interval_method_`` says which one the fit allows.
"""
from numbers import Integral

import numpy as np
import pandas as pd
from scipy.stats import norm
from sklearn.base import clone

try:
    from sktime.forecasting.base import BaseForecaster
except ModuleNotFoundError as exc:  # an optional extra: say what to install
    raise ModuleNotFoundError(
        "tsbptt.sktime needs sktime (pandas < 3.1): pip install 'sktime>=1.2', or "
        "pip install 'tsbptt[interop]'", name=exc.name) from exc

from sklearn.utils._param_validation import InvalidParameterError

from .estimators import LSTMRegressor
from .forecasting import Forecaster
from .forecasting._panel import _step_of
from .forecasting.windowing import infer_season
from .utils._validation import plain_label

__all__ = ["TsbpttForecaster"]

#: sktime checks this adapter fails, as {regular expression of the check id: reason}
#: (see the class docstring); found with sktime 1.2 and pandas 2.3.
EXPECTED_FAILURES = {
    r"test_predict_time_index_with_X\[.*fh=\[2 5\].*\]":
        "the check passes X only on the forecast steps 2 and 5; forecasting step 5 "
        "needs X on steps 1 to 5 (recursive: each step's covariates; direct: every "
        "step's future covariates in the window), and made-up rows would give "
        "made-up forecasts, so the adapter refuses, naming the first missing step",
}


class TsbpttForecaster(BaseForecaster):
    """sktime forecaster: a tsbptt network (or any regressor) forecasting from lag windows.

    Parameters
    ----------
    estimator : regressor, default=None
        Passed to :class:`tsbptt.Forecaster`; None: ``LSTMRegressor()``.
    lags : int, default=None
        Steps per input window; None: the forecaster's default (twice the season,
        at least 8, at most half of what the series leaves after one horizon).
    strategy : {'recursive', 'direct', 'stateful'}, default='recursive'
        ``'recursive'``: one-step model fed back, any ``fh``. ``'direct'``: one
        output per step up to ``max(fh)``, which must then be given to ``fit``.
        ``'stateful'``: a tsbptt recurrent regressor or ESN reading the whole
        series, its state carried to the cutoff (as in :class:`tsbptt.Forecaster`).
    horizon : int, default=None
        Steps the conformal intervals are calibrated for (and, for ``'direct'``,
        forecast), counted on the series' grid; None: ``max(fh)`` when ``fit`` gets
        ``fh``, else 1.
    interval : {'conformal', None}, default='conformal'
        How ``predict_interval`` works (None: always the random-walk fallback).
    calibration : float, default=0.2
        Fraction of the forecast origins held back to calibrate the intervals.
    season : int, default=None
        Seasonal period; None: inferred from a DatetimeIndex's or PeriodIndex's
        frequency (1 for integer indexes).
    scaling, transform, linear, training :
        As in :class:`tsbptt.Forecaster`.

    Attributes
    ----------
    forecaster_ : tsbptt.Forecaster
        The fitted forecaster, on grid positions.
    season_ : int
    interval_method_ : {'conformal', 'random_walk'}
        ``'random_walk'`` when the series is too short to hold back a window.

    Notes
    -----
    ``update`` never refits: ``update(y_new)`` (with ``update_params`` True or
    False) appends the new values through :meth:`tsbptt.Forecaster.update`, so the
    next forecasts start after them with the same model and calibration; call
    ``fit`` to retrain. Values at or before the cutoff in ``y_new`` are already
    known and are skipped.

    sktime's ``check_estimator`` passes but for the checks in
    ``tsbptt.sktime.EXPECTED_FAILURES`` (each with its reason):

    - ``test_predict_time_index_with_X`` with ``fh=[2, 5]``: the check passes ``X``
      only on the two forecast steps; recursive forecasting (and the direct strategy,
      which reads every step's future covariates) needs ``X`` on steps 1 to 5, and
      inventing the missing rows would forecast from made-up covariates, so the
      adapter refuses with a message naming the first missing step.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from tsbptt import LSTMRegressor
    >>> from tsbptt.sktime import TsbpttForecaster
    >>> y = pd.Series(np.sin(np.arange(60) / 3), name="y")
    >>> net = LSTMRegressor(hidden_size=4, max_iter=5, random_state=0)
    >>> f = TsbpttForecaster(net, lags=6).fit(y, fh=[1, 2, 5])
    >>> f.predict().index.tolist()
    [60, 61, 64]
    """

    _tags = {
        "y_inner_mtype": "pd.Series",
        "X_inner_mtype": "pd.DataFrame",
        "scitype:y": "univariate",
        "capability:multivariate": False,
        "capability:exogenous": True,
        "requires-fh-in-fit": False,
        "X-y-must-have-same-index": True,
        "capability:missing_values": False,
        "capability:insample": False,
        "capability:pred_int": True,
        "capability:pred_int:insample": False,
        "capability:update": True,  # update moves the origin, never refits
        "authors": ["tsbptt developers"],
        "maintainers": ["tsbptt developers"],
    }
    # the adapter keeps what it needs (the forecaster's tails), not sktime's copy of y
    _config = {"remember_data": False}

    def __init__(self, estimator=None, lags=None, strategy="recursive", horizon=None,
                 interval="conformal", calibration=0.2, season=None, scaling="auto",
                 transform=None, linear=True, training="auto"):
        self.estimator = estimator
        self.lags = lags
        self.strategy = strategy
        self.horizon = horizon
        self.interval = interval
        self.calibration = calibration
        self.season = season
        self.scaling = scaling
        self.transform = transform
        self.linear = linear
        self.training = training
        super().__init__()
        self._y = self._X = None  # sktime's record of the data, off by _config
        if strategy == "direct":
            self.set_tags(**{"requires-fh-in-fit": True})

    # -- the grid: labels <-> positions ------------------------------------------------
    def _grid(self, n, first=0):
        """``n`` labels of the fitted series' regular grid from position ``first``."""
        start, step = (self._start if first == 0 else self._label_at(first)), self._step
        if isinstance(start, pd.Period):
            return pd.period_range(start, periods=n, freq=step)
        if isinstance(start, pd.Timestamp):
            return pd.date_range(start, periods=n, freq=step)
        return pd.Index(start + step * np.arange(n))

    def _set_grid(self, index):
        if len(index) < 2:
            raise ValueError(f"y has {len(index)} value(s); a series needs at least 2")
        self._start = index[0]
        if isinstance(index, pd.PeriodIndex):
            self._step = index.freq
        elif isinstance(index, pd.DatetimeIndex) or pd.api.types.is_integer_dtype(index):
            # the Forecaster's reading: the frequency of gap-free stretches, or the most
            # common step, so that a gap is named where it starts
            try:
                self._step = getattr(index, "freq", None) or _step_of(index, None, None,
                                                                      allow_gaps=True)
            except ValueError:
                raise ValueError("y's DatetimeIndex has no regular frequency; resample "
                                 "it first (y.resample(freq).mean())") from None
        else:
            raise TypeError(f"y needs a RangeIndex, an integer, DatetimeIndex or PeriodIndex, "
                            f"got {type(index).__name__}")
        self._consecutive(index, 0, "y")

    def _positions(self, index, what, n):
        """Grid positions of ``index``'s labels among the first ``n`` grid labels;
        every label must lie on them."""
        pos = self._grid(n).get_indexer(index)
        if (pos < 0).any():
            bad = plain_label(index[int(np.flatnonzero(pos < 0)[0])])
            raise ValueError(f"{what} has the label {bad!r}, which is not on the regular "
                             f"grid from {plain_label(self._start)!r} at step "
                             f"{plain_label(self._step)!r} (a gap or an irregular index); "
                             "resample it first")
        return pd.Index(pos.astype(np.int64))

    def _consecutive(self, index, first, what):
        """Grid positions ``first, first + 1, ...`` of ``index``, whose labels must be
        those grid labels: a gap is named where it starts."""
        expected = self._grid(len(index), first)
        same = np.asarray(expected == index)
        if not same.all():
            i = int(np.flatnonzero(~same)[0])
            after = f"after {plain_label(index[i - 1])!r} comes" if i else "it starts at"
            raise ValueError(f"{what} is not on the regular grid at step "
                             f"{plain_label(self._step)!r}: {after} "
                             f"{plain_label(index[i])!r}, where {plain_label(expected[i])!r} "
                             "was due (a gap or an irregular index); fill or resample it "
                             "first")
        return pd.Index(np.arange(first, first + len(index), dtype=np.int64))

    def _columns(self, X, what):
        """X's fitted columns, by name and in the fitted order (inside, X's columns are
        x0, x1, ...: an X reordered or renamed was read by position)."""
        fitted = getattr(self, "_X_columns", None)
        if fitted is None:  # pickled before the names were kept: by position, as then
            return X
        missing = [c for c in fitted if c not in X.columns]
        if missing:
            raise ValueError(f"{what} lacks the columns {[plain_label(c) for c in missing]} "
                             f"it was fitted with ({[plain_label(c) for c in fitted]})")
        return X[fitted]

    def _label_at(self, k):
        """The grid's label at position ``k``."""
        start, step = self._start, self._step
        if isinstance(start, pd.Period):
            return start + k
        return start + k * step

    # -- fit, update -----------------------------------------------------------------------
    def _fit(self, y, X, fh):
        H = self.horizon
        if H is not None and not (isinstance(H, Integral) and not isinstance(H, bool)
                                  and H >= 1):
            raise ValueError(f"horizon must be an int >= 1 or None, got {H!r}")
        if self.interval not in ("conformal", None):
            raise ValueError(f"interval must be 'conformal' or None, got {self.interval!r}")
        self._set_grid(y.index)
        self._n_known = len(y)  # where the forecasts' grid steps start (_grid_steps)
        step = self._step
        self.season_ = self.season if self.season is not None else (
            infer_season(step) if not isinstance(step, Integral) else 1)
        reach = None if fh is None else int(self._grid_steps(fh).max())
        if H is not None and self.strategy == "direct" and reach is not None and reach > H:
            raise ValueError(f"fh reaches {reach} steps of the index, horizon={H}: the "
                             "direct strategy forecasts horizon steps; raise horizon or "
                             "leave it None")
        self.horizon_ = int(H) if H is not None else max(1, reach or 1)
        self._X_columns = None if X is None else list(X.columns)
        if X is not None:  # sktime lets X cover more than y: its rows on y's steps
            X = X.reindex(y.index)
        yp = _inner(y.set_axis(pd.RangeIndex(len(y))))
        Xp = None if X is None else _inner(X.set_axis(yp.index))
        self.interval_method_ = "conformal" if self.interval == "conformal" else "random_walk"
        try:
            try:
                self.forecaster_ = self._forecaster(self.interval, Xp).fit(yp, Xp)
            except ValueError as exc:
                if (self.interval != "conformal"
                        or "too few windows to calibrate" not in str(exc)):
                    raise
                self.interval_method_ = "random_walk"  # too short to hold a window back
                self.forecaster_ = self._forecaster(None, Xp).fit(yp, Xp)
        except InvalidParameterError as exc:  # the parameters are this class's
            raise InvalidParameterError(str(exc).replace(
                " of Forecaster ", f" of {type(self).__name__} ")) from None
        diffs = np.diff(y.to_numpy(dtype=np.float64))
        self.sigma_ = float(np.std(diffs, ddof=1)) if len(diffs) > 1 else float(
            np.abs(diffs).sum())
        self._n_known, self._exog, self._name = len(y), X is not None, y.name
        return self

    def _forecaster(self, interval, X):
        est = LSTMRegressor() if self.estimator is None else clone(self.estimator)
        future = None if X is None else list(X.columns)
        return Forecaster(est, lags=self.lags, horizon=self.horizon_,
                          strategy=self.strategy, future_exog=future, interval=interval,
                          coverage=0.5, calibration=self.calibration, season=self.season_,
                          scaling=self.scaling, transform=self.transform,
                          linear=self.linear, training=self.training)

    def update(self, y, X=None, update_params=True):
        """sktime's ``update``; one that fails leaves the forecaster as it was.

        sktime moves the cutoff (and, with ``remember_data``, stores the new values)
        before :meth:`_update` reads them, and on many series it updates each
        series' forecaster in turn. Where the values are refused (a gap, X missing,
        one bad series among good ones), or the call is interrupted, everything the
        call changed is put back: the cutoff, every series' forecaster and the
        tsbptt forecasters inside them. A forecaster left part-updated would date
        later forecasts from a cutoff its model never reached, or forecast some
        series from values the caller was told were refused.
        """
        saved = _update_snapshot(self)
        try:
            return super().update(y, X=X, update_params=update_params)
        except BaseException:
            for obj, state in saved:
                # put back first, then drop what the update added: a second
                # interrupt here never leaves an emptied object
                obj.__dict__.update(state)
                for name in [k for k in obj.__dict__ if k not in state]:
                    del obj.__dict__[name]
            raise

    def _update(self, y, X=None, update_params=True):
        # the values up to the last one the forecaster knows are skipped
        new = np.asarray(y.index > self._label_at(self._n_known - 1))
        if not new.any():
            return self
        if self._exog and X is None:
            fitted = getattr(self, "_X_columns", None)
            raise ValueError("the forecaster was fitted with X"
                             + ("" if fitted is None else
                                f" (columns {[plain_label(c) for c in fitted]})")
                             + "; update needs X on the new steps")
        pos = self._consecutive(y.index[new], self._n_known, "y")
        y_new = _inner(y[new].set_axis(pos))
        X_new = None if not self._exog else _inner(
            self._columns(X, "X").reindex(y.index)[new].set_axis(pos))
        self.forecaster_.update(y_new, X_new)
        self._n_known = int(pos[-1]) + 1
        return self

    # -- forecasts -----------------------------------------------------------------------
    def _grid_steps(self, fh):
        """``fh`` as grid steps after the cutoff: sktime counts an integer index's
        horizon in its labels' units (``fh=2`` on a step of 2 is the next label)."""
        rel = fh.to_relative(self.cutoff).to_numpy().astype(np.int64)
        step = self._step
        if isinstance(step, Integral) and step != 1:
            off = rel % step != 0
            if off.any():
                raise ValueError(f"fh={rel.tolist()} counts in the index's units; "
                                 f"{int(rel[off][0])} is not a multiple of its step "
                                 f"{step}, so no label on the grid")
            rel = rel // step
        elif (rel >= 1).all() and len(rel):  # dates: sktime rounds one between labels
            labels = fh.to_absolute_index(self.cutoff)
            due = self._grid(int(rel.max()), self._n_known)[rel - 1]
            off = np.flatnonzero(np.asarray(labels != due))
            if off.size:
                raise ValueError(f"fh holds {labels[off[0]]}, which is not on the series' "
                                 f"grid (step {step}): the grid label there is "
                                 f"{due[off[0]]}")
        return rel

    def _steps(self, fh):
        rel = self._grid_steps(fh)
        if (rel < 1).any():
            raise NotImplementedError(f"in-sample forecasts (fh={list(rel)}) are not "
                                      "supported; give steps after the cutoff")
        if self.strategy == "direct" and rel.max() > self.horizon_:
            raise ValueError(f"fh reaches {rel.max()} steps, the direct strategy was fitted "
                             f"for {self.horizon_}; refit with that fh")
        return rel

    def _future_X(self, X, steps):
        """X on the future grid positions ``n .. n + steps - 1`` (all of them needed)."""
        if not self._exog:
            return None
        if X is None:
            raise ValueError("the forecaster was fitted with X; predict needs X for the "
                             "forecast steps")
        X = self._columns(X, "X")
        X = X[np.asarray(X.index > self._label_at(self._n_known - 1))]  # the past: known
        pos = self._positions(X.index, "X", self._n_known + steps + len(X))
        need = np.arange(self._n_known, self._n_known + steps)
        missing = np.setdiff1d(need, pos)
        if missing.size:
            label = plain_label(self._grid(int(missing[0]) + 1)[-1])
            raise ValueError(f"X has no row for the forecast step {label!r}; give X on "
                             f"every step up to the last one of fh")
        return _inner(X.set_axis(pos).loc[need])

    def _predict(self, fh, X):
        rel = self._steps(fh)
        steps = int(rel.max()) if self.strategy != "direct" else self.horizon_
        pred = self.forecaster_.predict(steps, X=self._future_X(X, steps))
        values = pred.to_numpy()[rel - 1]
        return pd.Series(values, index=fh.to_absolute_index(self.cutoff), name=self._name)

    def _predict_interval(self, fh, X, coverage):
        rel = self._steps(fh)
        steps = int(rel.max()) if self.strategy != "direct" else self.horizon_
        Xf = self._future_X(X, steps)
        point = self.forecaster_.predict(steps, X=Xf).to_numpy()[rel - 1]
        cols = self._get_columns(method="predict_interval", coverage=coverage)
        out = pd.DataFrame(index=fh.to_absolute_index(self.cutoff), columns=cols,
                           dtype=np.float64)
        for j, c in enumerate(coverage):
            lower, upper = self._bounds(rel, point, c, Xf)
            out.iloc[:, 2 * j], out.iloc[:, 2 * j + 1] = lower, upper
        return out

    def _bounds(self, rel, point, coverage, Xf):
        """Conformal bounds where the calibration holds them, random walk's elsewhere."""
        half = norm.ppf((1 + coverage) / 2) * self.sigma_ * np.sqrt(rel)
        lower, upper = point - half, point + half
        if self.interval_method_ != "conformal" or coverage <= 0:
            # coverage 0 (predict_quantiles' median, alpha=0.5): the forecast itself
            return lower, upper
        m = self.forecaster_.residuals_.shape[0]
        H = min(self.horizon_, int(rel.max()))
        if int(np.ceil((m + 1) * coverage - 1e-9)) > m:
            return lower, upper
        band = self.forecaster_.predict_interval(H, X=Xf, coverage=coverage)
        inside = rel <= H
        lower[inside] = band["lower"].to_numpy()[rel[inside] - 1]
        upper[inside] = band["upper"].to_numpy()[rel[inside] - 1]
        return lower, upper

    @classmethod
    def get_test_params(cls, parameter_set="default"):
        """Small, fast settings for sktime's test suite.

        Returns
        -------
        list of dict
        """
        net = LSTMRegressor(hidden_size=4, max_iter=5, random_state=0, n_threads=1)
        return [{"estimator": net, "lags": 3},
                {"estimator": net, "lags": 6, "strategy": "direct", "linear": False,
                 "scaling": "global", "calibration": 0.3}]


def _inner(frame):
    """y as a Series named 'y', X's columns as 'x0', 'x1', ...: sktime's names (often
    0, 1, ... for both) may collide, and the forecaster keys channels by name."""
    if isinstance(frame, pd.Series):
        return frame.rename("y")
    return frame.set_axis([f"x{i}" for i in range(frame.shape[1])], axis=1)


def _update_snapshot(adapter):
    """``[(object, its attributes)]`` for everything an update of ``adapter`` may
    change: the adapter's own attributes (sktime's cutoff, data, per-series
    forecasters), its tsbptt Forecaster's and, on many series, the same for each
    series' adapter. Dicts are copied: some are changed in place (the Forecaster's
    ``tails_``, which ``update`` extends; sktime's ``_converter_store_y``, reset
    from the new y before ``_update`` runs, which names the forecasts' columns).
    Everything else an update replaces rather than changes, so shallow copies
    suffice."""
    saved = [(adapter, _copied_dicts(adapter.__dict__))]
    inner = adapter.__dict__.get("forecaster_")
    if inner is not None:
        saved.append((inner, _copied_dicts(inner.__dict__)))
    per_series = adapter.__dict__.get("forecasters_")
    if isinstance(per_series, pd.DataFrame):
        for each in per_series.to_numpy().ravel():
            if isinstance(each, TsbpttForecaster):
                saved += _update_snapshot(each)
    return saved


def _copied_dicts(attributes):
    """A copy of ``attributes`` whose dict values are copies too (one level)."""
    return {k: dict(v) if isinstance(v, dict) else v for k, v in attributes.items()}
