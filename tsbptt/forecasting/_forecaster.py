"""Forecast pandas time series with any regressor: dated forecasts and intervals.

:class:`Forecaster` turns one series or many (see :mod:`tsbptt._panel` for the
layouts) into lag windows, fits a clone of the wrapped regressor — a tsbptt
estimator or any scikit-learn regressor, so an LSTM and a Ridge can be compared on
the same windows — and returns forecasts indexed by the future timestamps.

Design
------
Every series is scaled on its own (mean and standard deviation of its training
data, after an optional log or Box-Cox transform) and turned into a matrix of
*channels*, one row per time step ``t``::

    [ y_t, past-only covariates at t, future-known covariates at t + L,
      calendar features at t + L, one-hot series id ]

where ``L`` is how far the model looks ahead (the horizon for ``'direct'``, 1 for
``'recursive'`` and ``'stateful'``). Leading the future-known covariates by ``L``
puts the values of the forecast steps themselves into the last input rows of a
window, and nothing else from after the origin. A window is ``lags`` consecutive
rows, flattened time-major (the layout of the estimators' ``n_channels``), so
scikit-learn regressors see the same numbers as the recurrent ones. A tsbptt
regressor is by default wrapped in :class:`tsbptt._window_model.WindowModel`:
each window's target values are made scale-free (centred on the window's last
value, divided by its spread) and a ridge regression on the same windows is the
linear part the network corrects.
"""
import sys
from numbers import Integral, Real

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from . import transforms
from ._parts import (
    _by_series,
    _conformal_quantile,
    _joined,
    _names,
    _Scaled,
    _stack_states,
    _warn_once,
)
from ._panel import (
    FILL_METHODS,
    Entry,
    continuations,
    future_index,
    split_future,
    to_entries,
    to_output,
    y_name,
)
from ..utils._validation import check_window_length, mean_std, refuse_bool_numbers
from ._window_model import MAX_WINDOWS, WindowModel, apply_budget, is_network
from .metrics import mae
from .windowing import CALENDAR_FEATURES, calendar_features, check_numeric, infer_season

__all__ = ["Forecaster"]


def _check_multi_output(estimator, strategy, horizon, interval):
    """Refuse, before any fitting, an ensemble that fits only one target where the
    direct strategy (or quantile intervals) trains several per window."""
    if strategy != "direct" or (horizon == 1 and interval != "quantile"):
        return
    ensemble = sys.modules.get("sklearn.ensemble")  # loaded if the user built one
    if ensemble and isinstance(estimator, (ensemble.VotingRegressor,
                                           ensemble.StackingRegressor)):
        name = type(estimator).__name__
        raise ValueError(
            f"{name} fits a single target, but strategy='direct' with horizon={horizon} "
            f"trains {horizon} targets per window (one per step). Use "
            f"strategy='recursive' (a one-step {name}, its forecasts fed back), or fit "
            "one Forecaster per network and average their forecasts; "
            f"MultiOutputRegressor({name}(...)) also works but fits one ensemble per "
            "step")


def _set_channels(est, n_channels):
    """Set ``n_channels`` on a tsbptt network and on every network nested in ``est``
    (a VotingRegressor's members, a Pipeline's last step): a nested one left at 1
    would read each window's channels as extra time steps."""
    params = est.get_params()
    keys = [k for k in params if k == "n_channels"
            or k.endswith("__n_channels") and is_network(params[k[:-len("__n_channels")]])]
    if keys:
        est.set_params(**{k: n_channels for k in keys})


class Forecaster(BaseEstimator):
    """Forecast one series or many from their last ``lags`` steps.

    Parameters
    ----------
    estimator : regressor
        A tsbptt regressor or any scikit-learn regressor; cloned in ``fit``. With
        ``strategy='direct'`` and ``horizon > 1`` it must accept a 2D ``y``.
    lags : int, default=None
        Past steps per input window (for ``'stateful'``: the truncation length of
        BPTT when the estimator's ``bptt_steps`` is None). None: twice the season,
        at least 8, and at most half of what the shortest series leaves after
        one horizon (``lags_``).
    horizon : int, default=1
        Steps forecast at once by ``'direct'``; for the other strategies the
        default number of steps of :meth:`predict` and the steps the conformal
        intervals are calibrated for.
    strategy : {'direct', 'recursive', 'stateful'}, default='direct'
        ``'direct'``: one output per horizon step. ``'recursive'``: a one-step
        model whose forecasts are fed back as inputs. ``'stateful'``: a tsbptt
        recurrent regressor trained on each whole series with per-step targets
        (truncated BPTT, the state carried across windows); forecasts carry the
        hidden state forward from the end of the series instead of re-reading a
        window.
    future_exog : list of str, default=None
        Columns of ``X`` known in advance (planned values, holidays): at predict
        time ``X`` must give them for the forecast steps. The other columns of
        ``X`` are past-only (known up to the forecast origin; direct strategy only).
    calendar : list of str, default=None
        Calendar features of the (future) timestamps, sine/cosine encoded, from
        :data:`tsbptt.windowing.CALENDAR_FEATURES` (e.g. ``['hour', 'dayofweek']``).
    series_id : bool, default=False
        With many series, add a one-hot series identifier to every step.
    interval : {None, 'conformal', 'quantile'}, default=None
        How :meth:`predict_interval` works. ``'conformal'`` (any model, any
        strategy): a copy of the model is fitted on the data before a cut-off
        time (the same for every series) and its errors at every origin after it
        calibrate symmetric intervals per horizon step. ``'quantile'`` (tsbptt regressors, direct
        strategy): the network outputs the ``(1 - coverage) / 2``, 0.5 and
        ``(1 + coverage) / 2`` quantiles (pinball loss), so bands follow the
        noise level of each window, and the same held-back part conformalises
        them (Romano et al., 2019: widened or narrowed by how often the actuals
        fell outside); point forecasts are the median.
    coverage : float, default=0.9
        The interval's nominal coverage (fixed at fit time for ``'quantile'``).
    calibration : float, default=0.2
        Fraction of the forecast origins, pooled over the series and the latest
        in time, held out to calibrate the intervals.
    season : int, default=None
        The seasonal period in steps; None infers it from the series' step with
        :func:`tsbptt.windowing.infer_season` (hourly: 24, daily: 7, monthly: 12,
        ...; an integer index: 1). Sets the default ``lags`` and the
        ``'seasonal_diff'`` transform (``season_``).
    scaling : {'auto', 'window', 'global', None}, default='auto'
        ``'global'``: standardise each series and covariate with its training
        mean and standard deviation. ``'window'``: that, and then each input
        window's target values are centred on the window's last value and
        divided by their standard deviation (floored at 1% of the series' spread),
        the targets likewise, and the forecasts mapped back (instance
        normalisation, Kim et al., 2022), so a series that trends or wanders
        never leaves the range the model learned. ``'auto'``: ``'window'`` for
        tsbptt regressors (direct and recursive), ``'global'`` for the others.
        None: no scaling. Forecasts always come back in the series' units.
    transform : str or tuple of str, default=None
        Target transforms: ``'log'`` or ``'boxcox'`` (exponent fitted per series
        by maximum likelihood; both need positive values), applied before scaling;
        and ``'diff'`` or ``'seasonal_diff'`` (targets relative to the origin's
        value, or to the value one season earlier), applied on the windows
        (direct and recursive). E.g. ``('log', 'seasonal_diff')``. Every one is
        inverted exactly, interval bounds included.
    linear : bool, default=True
        For tsbptt regressors (direct and recursive): fit a ridge regression on
        the same (scaled) windows and train the network on what it leaves; the
        network is dropped if it does not improve on it over the time-ordered
        validation tail (see :class:`tsbptt._window_model.WindowModel`).
        Other regressors ignore it.
    training : {'auto', 'as_given'}, default='auto'
        ``'auto'``: the parameters of a tsbptt regressor left at their defaults
        take the forecasting budget
        :data:`tsbptt._window_model.BUDGET` (early stopping on the latest 20% of
        the windows, at most 100 epochs, batch 64, rate 3e-3), and the network
        trains on at most 2,000 windows evenly spaced in time (the linear part on
        all); parameters you set are kept. ``'as_given'``: the estimator as it is.
    freq : str or DateOffset or int or None, default=None
        The series' step, if it cannot be inferred from the index.
    fill : {None, 'ffill', 'interpolate'}, default=None
        None: gaps in the index and missing values are errors. Otherwise each
        series is reindexed to its regular grid and the holes filled (forward, or
        linear in time); ``n_filled_`` says how many values were filled. Note that
        ``'interpolate'`` reads the value after a gap, so windows ending inside a
        gap see a little of their future; ``'ffill'`` only looks back.

    Attributes
    ----------
    estimator_ : the fitted clone of ``estimator``
    feature_names_ : list of str
        The columns of the windows the model sees (``{channel}_lag{k}``).
    channels_ : list of str
        The channels of one time step.
    series_ : list
        The series keys (``[None]`` for a lone Series).
    step_ : DateOffset or int
    lags_, season_ : int
        The window length and seasonal period used (``lags``, ``season`` or
        the inferred ones).
    scaling_ : {'window', 'global', None}
        The scaling used.
    target_lambda_ : list of float or None
        Per series, the Box-Cox exponent of ``transform`` (0 for ``'log'``).
    n_filled_ : dict
        Per series, how many target values ``fill`` filled in.
    target_mean_, target_scale_ : ndarray of shape (n_series,)
        Each series' scaling, in ``series_`` order: y = mean + scale * standardised
        (of the transformed y with a log or Box-Cox ``transform``).
    residuals_ : ndarray of shape (n_calibration, horizon) or None
        The calibration scores, standardised: forecast errors (``'conformal'``), or
        how far each actual fell outside its quantile band (``'quantile'``).
    """

    _parameter_constraints = {
        "estimator": [HasMethods(["fit", "predict"])],
        "lags": [Interval(Integral, 1, None, closed="left"), None],
        "horizon": [Interval(Integral, 1, None, closed="left")],
        "strategy": [StrOptions({"direct", "recursive", "stateful"})],
        "future_exog": [list, tuple, str, None],
        "calendar": [list, tuple, str, None],
        "series_id": ["boolean"],
        "interval": [StrOptions({"conformal", "quantile"}), None],
        "coverage": [Interval(Real, 0, 1, closed="neither")],
        "calibration": [Interval(Real, 0, 1, closed="neither")],
        "season": [Interval(Integral, 1, None, closed="left"), None],
        "scaling": [StrOptions({"auto", "window", "global"}), None],
        "transform": [str, list, tuple, None],
        "linear": ["boolean"],
        "training": [StrOptions({"auto", "as_given"})],
        "freq": [str, pd.DateOffset, Interval(Integral, 1, None, closed="left"), None],
        "fill": [StrOptions(set(FILL_METHODS)), None],
    }

    def __init__(self, estimator, lags=None, horizon=1, strategy="direct", *,
                 future_exog=None, calendar=None, series_id=False, interval=None,
                 coverage=0.9, calibration=0.2, season=None, scaling="auto",
                 transform=None, linear=True, training="auto", freq=None, fill=None):
        self.estimator = estimator
        self.lags = lags
        self.horizon = horizon
        self.strategy = strategy
        self.future_exog = future_exog
        self.calendar = calendar
        self.series_id = series_id
        self.interval = interval
        self.coverage = coverage
        self.calibration = calibration
        self.season = season
        self.scaling = scaling
        self.transform = transform
        self.linear = linear
        self.training = training
        self.freq = freq
        self.fill = fill

    def _validate_params(self):
        super()._validate_params()
        refuse_bool_numbers(self)

    # -- settings ---------------------------------------------------------------------
    @property
    def _lead(self):
        """Steps the model forecasts at once, which is also how far ahead of its row
        a future-known channel is read."""
        return self.horizon if self.strategy == "direct" else 1

    def _check_settings(self, X_columns):
        future, calendar = _names(self.future_exog), _names(self.calendar)
        unknown = [c for c in future if c not in X_columns]
        if unknown:
            raise ValueError(f"future_exog names columns that X does not have: {unknown} "
                             f"(X has {X_columns})")
        bad = [c for c in calendar if c not in CALENDAR_FEATURES]
        if bad:
            raise ValueError(f"unknown calendar features {bad}; choose from "
                             f"{list(CALENDAR_FEATURES)}")
        past = [c for c in X_columns if c not in future]
        if past and self.strategy != "direct":
            raise ValueError(f"the {self.strategy} strategy feeds its forecasts back and "
                             f"would need future values of the past-only covariates "
                             f"{past}; use strategy='direct', or declare them "
                             "future_exog if they are known in advance")
        if (future or calendar) and self.lags_ < self._lead:
            raise ValueError(f"lags={self.lags_} < horizon={self.horizon}: the window "
                             "would not hold the future-known covariates of every "
                             "forecast step; use lags >= horizon")
        if self.interval == "quantile":
            if self.strategy != "direct":
                raise ValueError("interval='quantile' needs strategy='direct' (feeding a "
                                 "median back loses the spread of the earlier steps); "
                                 "use interval='conformal'")
            if "quantiles" not in self.estimator.get_params():
                raise ValueError(f"interval='quantile' needs a tsbptt regressor (trained "
                                 f"with the pinball loss); {type(self.estimator).__name__} "
                                 "is not one: use interval='conformal'")
        _check_multi_output(self.estimator, self.strategy, self.horizon, self.interval)
        if self.strategy == "stateful" and not hasattr(self.estimator, "predict_sequence"):
            raise ValueError(f"strategy='stateful' needs a tsbptt recurrent regressor, "
                             f"got {type(self.estimator).__name__}")
        names = transforms.check_transform(self.transform)
        if self.strategy == "stateful" and (self.scaling == "window"
                                            or transforms.difference_of(names)):
            raise ValueError(f"strategy='stateful' reads whole series, not windows: "
                             f"scaling={self.scaling!r} and transform={self.transform!r} "
                             "need strategy='direct' or 'recursive'")
        if transforms.difference_of(names) == "seasonal_diff" and self.lags_ < self.season_:
            raise ValueError(f"transform='seasonal_diff' reads a season of "
                             f"{self.season_} steps, the windows hold lags={self.lags_}; "
                             "use lags >= season")
        return past, future, calendar

    def _resolve_shape(self, entries):
        """The season, the window length and the scaling this fit uses."""
        self.season_ = infer_season(self.step_) if self.season is None else self.season
        if self.lags is None:
            room = (min(len(e.y) for e in entries) - self.horizon) // 2
            self.lags_ = max(1, min(max(2 * self.season_, 8), room))
        else:
            self.lags_ = self.lags
        network = is_network(self.estimator)
        if self.scaling == "auto":
            self.scaling_ = ("window" if network and self.strategy != "stateful"
                             else "global")
        else:
            self.scaling_ = self.scaling

    def _new_estimator(self, n_steps=None, label=None):
        est = clone(self.estimator)
        if hasattr(type(est), "_progress"):  # tsbptt's own estimators
            est._defer_convergence_warning = True  # one warning per Forecaster fit
            if label is not None:
                est._progress_label = f"{label} ({type(est).__name__})"
        network = is_network(est)
        if network and self.training == "auto":
            apply_budget(est, stateful=self.strategy == "stateful")
        params = est.get_params()
        if self.strategy == "stateful":
            if params.get("bidirectional") or params.get("early_stopping"):
                raise ValueError("strategy='stateful' needs bidirectional=False and "
                                 "early_stopping=False (one sequence per series)")
            if params.get("bptt_steps") is None:
                est.set_params(bptt_steps=min(self.lags_, n_steps))
        else:
            _set_channels(est, len(self.channels_))
        if self.interval == "quantile":
            a = (1 - self.coverage) / 2
            est.set_params(loss="quantile", quantiles=(a, 0.5, 1 - a))
        if self.strategy == "stateful":
            return est
        diff = transforms.difference_of(transforms.check_transform(self.transform))
        linear = self.linear and network
        if self.scaling_ != "window" and not diff and not linear:
            return est
        window = self.scaling_ == "window"
        return WindowModel(
            est, n_channels=len(self.channels_),
            center="last" if window or diff else None, scale_windows=window,
            season=self.season_ if diff == "seasonal_diff" else None, linear=linear,
            validation_fraction=params.get("validation_fraction", 0.2)
            if params.get("early_stopping") else 0.2,
            max_windows=MAX_WINDOWS if network and self.training == "auto" else None)

    # -- data ---------------------------------------------------------------------------
    def _fit_scaling(self, entries):
        """Per series (rows, in ``series_`` order): the mean and scale of y and of
        every covariate column."""
        names = self.exog_names_
        power = transforms.power_of(transforms.check_transform(self.transform))
        for e in entries:
            if power:
                transforms.check_positive(e.y, power, self._where(e.key))
        self.target_lambda_ = [transforms.fit_lambda(e.y.to_numpy(np.float64), power)
                               for e in entries]
        y = [transforms.forward(e.y.to_numpy(np.float64), lam)
             for e, lam in zip(entries, self.target_lambda_)]
        X = [np.empty((len(e.y), 0)) if e.X is None else e.X[names].to_numpy(np.float64)
             for e in entries]
        if self.scaling_ is not None:  # mean_std: a series of 1e300 must not overflow to NaN
            self.target_mean_, self.target_scale_ = (
                np.array(v, dtype=np.float64) for v in zip(*map(mean_std, y)))
            stats = [mean_std(v) for v in X]
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
        # a constant series or column: leave it centred, not divided by zero
        self.target_scale_[self.target_scale_ <= 1e-12] = 1.0
        self.exog_scale_[self.exog_scale_ <= 1e-12] = 1.0

    def _scaled(self, entry, future_X=None, n_future=0):
        """Scale a series with the fitted statistics; future-known channels over
        its steps and ``n_future`` more (from ``future_X``, the calendar)."""
        key = entry.key
        if key not in self.series_:
            raise ValueError(f"series {key!r} was not seen in fit "
                             f"(known: {self.series_[:10]})")
        i = self.series_.index(key)
        lam = self.target_lambda_[i]
        if lam is not None:
            transforms.check_positive(entry.y, transforms.power_of(
                transforms.check_transform(self.transform)), self._where(key))
        y = ((transforms.forward(entry.y.to_numpy(np.float64), lam) - self.target_mean_[i])
             / self.target_scale_[i])
        n = len(y)
        index = entry.y.index
        full_index = index.append(future_index(index[-1], self.step_, n_future)) \
            if n_future else index

        def cols(names, frame):
            if not names:
                return np.empty((len(frame), 0))
            cols = [self.exog_names_.index(c) for c in names]
            return ((frame[names].to_numpy(np.float64) - self.exog_mean_[i, cols])
                    / self.exog_scale_[i, cols])

        X = entry.X if entry.X is not None else pd.DataFrame(index=index)
        past = cols(self._past, X)
        fut = cols(self._future, X)
        if n_future and self._future:
            fut = np.vstack([fut, cols(self._future, self._future_rows(
                key, future_X, full_index[n:]))])
        elif n_future:
            fut = np.vstack([fut, np.empty((n_future, 0))])
        if self._calendar:
            fut = np.hstack([fut, calendar_features(full_index, self._calendar).to_numpy()])
        static = np.zeros(len(self.series_) if self._one_hot else 0)
        if self._one_hot:
            static[self.series_.index(key)] = 1.0
        return _Scaled(key, index, y, past, fut, static)

    def _future_rows(self, key, future_X, needed):
        where = "X" if key is None else f"X of series {key!r}"
        if future_X is None:
            raise ValueError(f"{where} must give the future-known covariates "
                             f"{self._future} for the forecast steps {needed[0]!r} .. "
                             f"{needed[-1]!r}")
        missing = needed.difference(future_X.index)
        if len(missing):
            raise ValueError(f"{where} does not cover the forecast steps: missing "
                             f"{list(missing[:3])}{' ...' if len(missing) > 3 else ''}")
        absent = [c for c in self._future if c not in future_X.columns]
        if absent:
            raise ValueError(f"{where} lacks the future-known columns {absent}")
        rows = future_X.loc[needed, self._future]
        check_numeric(rows, where, finite=False)  # numbers, not complex; finite below
        bad = ~np.isfinite(rows.to_numpy(np.float64, na_value=np.nan))
        if bad.any():
            first = needed[np.flatnonzero(bad.any(1))[0]]
            raise ValueError(f"{where} has a missing value at {first!r}")
        return rows

    def _windows(self, s, origins):
        """Flattened input windows ending at ``origins``: (len(origins), lags * C)."""
        t = origins[:, None] - self.lags_ + 1 + np.arange(self.lags_)[None, :]
        rows = s.channels(t.ravel(), self._lead)
        return rows.reshape(len(origins), -1)

    # -- fit ----------------------------------------------------------------------------
    def fit(self, y, X=None):
        """Fit on one series or many, with optional covariates.

        Parameters
        ----------
        y : Series with a regular DatetimeIndex or integer index, a dict of such
            Series, or a Series with a MultiIndex (series id, time)
        X : DataFrame in y's layout (dict of DataFrames for a dict y), default=None
            Covariates on y's steps: the ``future_exog`` columns are known in
            advance, the others only up to each forecast origin.

        Returns
        -------
        self
        """
        self._validate_params()
        self._convergence_notes = []  # the members' ConvergenceWarnings, deferred
        try:
            self._fit(y, X)
            _warn_once(self._convergence_notes)
            return self
        except BaseException:
            # a failed (re)fit leaves an unfitted forecaster, never a mix of the old
            # fit and the new data (old model, new step: silently wrong dates)
            for name in [k for k in vars(self) if k in self._FIT_PRIVATE
                         or (k.endswith("_") and not k.startswith("__"))]:
                delattr(self, name)
            raise
        finally:
            vars(self).pop("_convergence_notes", None)

    _FIT_PRIVATE = ("_past", "_future", "_calendar", "_one_hot", "_index_names")

    def _fit(self, y, X):
        entries, self.layout_, self.step_ = to_entries(y, X, freq=self.freq,
                                                       fill=self.fill)
        self.exog_names_ = [] if entries[0].X is None else list(entries[0].X.columns)
        self._resolve_shape(entries)
        self._past, self._future, self._calendar = self._check_settings(self.exog_names_)
        if self._calendar and not isinstance(entries[0].y.index, pd.DatetimeIndex):
            raise ValueError("calendar features need a DatetimeIndex")
        self.name_ = y_name(entries[0].y)
        self.series_ = [e.key for e in entries]
        self._one_hot = self.series_id and len(entries) > 1
        self.n_filled_ = {e.key: e.n_filled for e in entries}
        self._index_names = (list(y.index.names) if self.layout_ == "long"
                             else ["series", entries[0].y.index.name or "time"])
        self._check_lengths(entries)
        self._fit_scaling(entries)
        calendar_columns = [] if not self._calendar else list(
            calendar_features(pd.DatetimeIndex([]), self._calendar).columns)
        self.channels_ = ([self.name_] + self._past
                          + [f"{c}_lead{self._lead}" for c in self._future]
                          + [f"{c}_lead{self._lead}" for c in calendar_columns]
                          + ([f"series={k}" for k in self.series_] if self._one_hot else []))
        self.feature_names_ = [f"{c}_lag{k}" for k in range(self.lags_, 0, -1)
                               for c in self.channels_]
        data = [self._scaled(e) for e in entries]
        self.residuals_ = self._calibrate(entries, data) if self.interval else None
        n = 2 if self.interval else 1
        self.estimator_ = self._fit_model(data, [len(s.y) - 1 for s in data],
                                          f"fit {n}/{n}: final model")
        self.tails_ = {e.key: e for e in entries}
        if self.strategy == "stateful":  # where forecasts start from
            self.states_ = self._states_before(self.estimator_,
                                               [(s, len(s.y) - 1) for s in data])
        return self

    def _check_lengths(self, data):
        """Every series long enough for one window; before anything sized by lags."""
        for s in data:
            check_window_length(len(s.y), self.lags_, self.horizon,
                                what="y" if s.key is None else f"series {s.key!r}")
        if self.strategy == "stateful" and len({len(s.y) for s in data}) > 1:
            raise ValueError("strategy='stateful' trains all series together with "
                             "truncated BPTT, which needs series of equal length; give "
                             "series over the same dates, or use 'direct' or 'recursive'")

    def _fit_model(self, data, last, label=None):
        """Fit a new model on each series' steps up to ``last[i]`` (inclusive);
        ``label`` names the fit in the model's progress lines."""
        if self.strategy == "stateful":
            T = last[0]
            X3 = np.stack([s.channels(np.arange(T), 1) for s in data])
            Y = np.stack([s.y[1:T + 1] for s in data])
            return self._noted(self._new_estimator(T, label).fit(X3, Y))
        H = self._lead
        Xs, Ys, when = [], [], []
        for s, stop in zip(data, last):
            origins = np.arange(self.lags_ - 1, stop - H + 1)
            if not len(origins):  # a series that starts after a calibration cut-off
                continue
            Xs.append(self._windows(s, origins))
            Ys.append(s.y[origins[:, None] + 1 + np.arange(H)[None, :]])
            when.append(s.index[origins])
        # in time order across series, so a model's validation tail is the latest
        order = np.argsort(np.concatenate([w.to_numpy() for w in when]), kind="stable")
        Xw = pd.DataFrame(np.concatenate(Xs)[order], columns=self.feature_names_)
        Y = np.concatenate(Ys)[order]
        return self._noted(self._new_estimator(label=label).fit(Xw, Y[:, 0] if H == 1
                                                                else Y))

    def _noted(self, model):
        """A fitted member, its deferred convergence note moved to the Forecaster's
        list; later fits of the member warn as usual again."""
        # a window model keeps the network's template (estimator) and the fitted
        # network (estimator_): neither may defer the warnings of a later fit
        members = ((model.estimator, model.estimator_) if isinstance(model, WindowModel)
                   else (model,))
        note = vars(members[-1]).pop("_convergence_note", None)
        if note is not None and hasattr(self, "_convergence_notes"):
            self._convergence_notes.append(note)
        for member in members:
            vars(member).pop("_defer_convergence_warning", None)
        return model

    _SCALING = ("target_mean_", "target_scale_", "exog_mean_", "exog_scale_",
                "target_lambda_")

    @staticmethod
    def _where(key):
        return "y" if key is None else f"series {key!r}"

    def _calibrate(self, entries, data):
        """Scores of a model fitted on the data before a cut-off time, forecasting
        every origin from then on: (n_origins, horizon), standardised.

        The cut-off is a time, the same for every series, so that no series'
        data after it teaches the calibration model about another's held-back
        part; it leaves the last ``calibration`` fraction of all origins held back.
        The data before it is all the calibration model sees, its scaling included.
        """
        H, first = self.horizon, self.lags_ - 1
        times = [s.index[first:len(s.y) - H] for s in data]  # each series' origins
        pooled = np.sort(np.concatenate([t.to_numpy() for t in times]))
        t_cut = pooled[min(len(pooled) - 1,
                           int(np.floor((1 - self.calibration) * len(pooled))))]
        # the last step at or before the cut-off: the calibration model's data ends there
        stops = [int(s.index.searchsorted(t_cut, side="right")) - 1 for s in data]
        if self.strategy == "stateful":  # one sequence length for every series
            stops = [min(stops)] * len(data)
        origins = [(i, o) for i, (s, stop) in enumerate(zip(data, stops))
                   for o in range(max(first, stop), len(s.y) - H)]
        cuts = [min(stop, len(s.y) - 1) for s, stop in zip(data, stops)]
        if sum(max(0, c - H - first + 1) for c in cuts) < 1 or not origins:
            raise ValueError(f"too few windows to calibrate intervals ({len(pooled)} "
                             "origins in all); use a longer series or interval=None")
        needed = int(np.ceil(self.coverage / (1 - self.coverage) - 1e-9))
        if len(origins) < needed:
            raise ValueError(f"too few windows to calibrate a {self.coverage:.0%} interval: "
                             f"{len(origins)} held-back origins, {needed} needed; use a "
                             "longer series or a larger calibration fraction")
        final = {name: getattr(self, name) for name in self._SCALING}
        try:
            # a series that starts after the cut-off is scaled by its first window,
            # which its first held-back origin knows
            known = [max(c, first) + 1 for c in cuts]
            self._fit_scaling([Entry(e.key, e.y.iloc[:k],
                                     None if e.X is None else e.X.iloc[:k])
                               for e, k in zip(entries, known)])
            data = [self._scaled(e) for e in entries]
            jobs = [(data[i], o) for i, o in origins]
            model = self._fit_model(data, cuts, "fit 1/2: calibration model")
            actual = np.stack([s.y[o + 1:o + 1 + H] for s, o in jobs])
            if self.interval == "quantile":
                # conformalised quantile regression (Romano et al., 2019): how far the
                # actual falls outside the predicted band (negative: inside)
                q = self._direct(model, jobs, "predict_quantiles").reshape(len(jobs), H, 3)
                return np.maximum(q[..., 0] - actual, actual - q[..., 2])
            states = (self._states_before(model, jobs) if self.strategy == "stateful"
                      else None)
            return actual - self._forecast(model, jobs, H, states)
        finally:
            for name, value in final.items():
                setattr(self, name, value)

    # -- forecasting --------------------------------------------------------------------
    def _states_before(self, model, jobs):
        """A stateful model's states before each job's origin (after steps 0 .. o - 1
        of its series): each series is read once, in pieces between its origins."""
        per_job = [None] * len(jobs)
        for s, pos, origins in _by_series(jobs):
            states, done = None, 0
            for o, j in sorted(zip(origins.tolist(), pos.tolist())):
                if o > done:
                    piece = s.channels(np.arange(done, o), 1)[None]
                    states = model.predict_sequence(piece, states)[1]
                    done = o
                per_job[j] = states
        return _stack_states(per_job)

    def _forecast(self, model, jobs, steps, states=None):
        """Standardised forecasts of ``steps`` steps after each (series, origin) job:
        (len(jobs), steps). ``states`` (stateful) are the states before each origin."""
        if self.strategy == "direct":
            return self._direct(model, jobs, "predict").reshape(len(jobs), -1)[:, :steps]
        out = np.empty((len(jobs), steps))
        if self.strategy == "recursive":
            window = self._job_windows(jobs)
            C = len(self.channels_)
            for k in range(steps):
                out[:, k] = np.ravel(model.predict(pd.DataFrame(
                    window, columns=self.feature_names_)))
                if k + 1 < steps:  # the next row, its y the forecast just made
                    window = np.hstack([window[:, C:], self._job_rows(jobs, k + 1,
                                                                      out[:, k])])
            return out
        # stateful: the origin's own row, then the forecasts fed back one by one
        rows = self._job_rows(jobs, 0)
        for k in range(steps):
            pred, states = model.predict_sequence(rows[:, None, :], states)
            out[:, k] = pred[:, -1]
            if k + 1 < steps:
                rows = self._job_rows(jobs, k + 1, out[:, k])
        return out

    def _job_windows(self, jobs):
        """The flattened window ending at each job's origin, in job order."""
        out = np.empty((len(jobs), self.lags_ * len(self.channels_)))
        for s, pos, origins in _by_series(jobs):
            out[pos] = self._windows(s, origins)
        return out

    def _job_rows(self, jobs, after, y=None):
        """The channel row ``after`` steps past each job's origin (one-step lead), with
        ``y`` (one value per job) in its target channel instead of the series'."""
        out = np.empty((len(jobs), len(self.channels_)))
        for s, pos, origins in _by_series(jobs):
            out[pos] = s.channels(origins + after, 1, y=None if y is None else y[pos])
        return out

    def _direct(self, model, jobs, method):
        X = pd.DataFrame(self._job_windows(jobs), columns=self.feature_names_)
        return np.asarray(getattr(model, method)(X), dtype=np.float64)

    def _check_steps(self, steps):
        steps = self.horizon if steps is None else steps
        if not isinstance(steps, (int, np.integer)) or isinstance(steps, bool) or steps < 1:
            raise ValueError(f"steps must be a positive integer, got {steps!r}")
        if self.strategy == "direct" and steps > self.horizon:
            raise ValueError(f"steps={steps} is beyond the direct strategy's "
                             f"horizon={self.horizon}; refit with a longer horizon or "
                             "use strategy='recursive'")
        return int(steps)

    def _origins(self, steps, X, history, history_X):
        """The series to forecast from, scaled with their future channels; the jobs
        (one per series, at its last step) and, for 'stateful', the states there."""
        if history is None:
            if history_X is not None:
                raise ValueError("history_X was given without history: pass the history "
                                 "it belongs to (or leave both out)")
            entries = [self.tails_[k] for k in self.series_]
        else:
            entries, layout, step = to_entries(history, history_X, freq=self.freq,
                                               fill=self.fill)
            if layout != self.layout_ or step != self.step_:
                raise ValueError(f"history must be laid out like the training data "
                                 f"({self.layout_}, step {self.step_!r}); got {layout}, "
                                 f"step {step!r}")
            cols = [] if entries[0].X is None else list(entries[0].X.columns)
            if cols != self.exog_names_:
                raise ValueError(f"history_X has columns {cols}, the model was fitted "
                                 f"with {self.exog_names_}")
        futures = split_future(X, self.layout_, [e.key for e in entries])
        n_future = self.horizon if self.strategy == "direct" else steps
        data = [self._scaled(e, futures[e.key], n_future) for e in entries]
        short = [s for s in data if len(s.y) < self.lags_] if history is not None else []
        if short:  # a shorter window would wrap around to the end of the series
            s = short[0]
            raise ValueError(f"history{'' if s.key is None else f' of series {s.key!r}'} "
                             f"has {len(s.y)} steps, fewer than lags={self.lags_}")
        jobs = [(s, len(s.y) - 1) for s in data]
        states = None
        if self.strategy == "stateful":
            states = (self.states_ if history is None
                      else self._states_before(self.estimator_, jobs))
        return entries, jobs, states

    def _dated(self, entries, values, steps, columns=None):
        """Standardised forecasts (n_series, steps[, k]) -> dated pandas, y's units."""
        out = []
        for i, e in enumerate(entries):
            j = self.series_.index(e.key)
            v = transforms.inverse(values[i] * self.target_scale_[j] + self.target_mean_[j],
                                   self.target_lambda_[j])
            index = future_index(e.y.index[-1], self.step_, steps)
            out.append((e.key, pd.Series(v, index=index, name=self.name_) if columns is None
                        else pd.DataFrame(v, index=index, columns=columns)))
        return to_output(out, self.layout_, self._index_names)

    def predict(self, steps=None, X=None, history=None, history_X=None):
        """Forecast the ``steps`` steps after the end of each series.

        Parameters
        ----------
        steps : int, default=None (the horizon)
        X : DataFrame in y's layout, default=None
            The future-known covariates (``future_exog``) on the forecast steps'
            timestamps (for the direct strategy: all ``horizon`` of them).
        history : Series (or y's layout), default=None
            Forecast after the end of this data instead of the training data (same
            frequency; its last ``lags`` steps are read, or, for 'stateful', all of
            it), without refitting: how a backtest moves its origin with
            ``refit=False``.
        history_X : DataFrame, default=None
            The covariates of ``history``.

        Returns
        -------
        Series
            Indexed by the future timestamps (or integer labels), named like y;
            for many series, with a (series id, time) MultiIndex.
        """
        check_is_fitted(self)
        steps = self._check_steps(steps)
        entries, jobs, states = self._origins(steps, X, history, history_X)
        return self._dated(entries, self._forecast(self.estimator_, jobs, steps, states),
                           steps)

    def update(self, y_new, X_new=None):
        """Append newly observed values: the next forecasts start after them.

        The fitted model, its scaling and its calibration are unchanged (no
        refit); only where forecasts start from moves. For ``'stateful'`` the
        hidden state is carried over the new steps from where it stood, without
        re-reading the series; ``predict()`` afterwards gives, bitwise, what
        ``predict(history=<the longer series>)`` gives.

        Parameters
        ----------
        y_new : Series in y's layout (dict or long layout for many series)
            The values right after the known ones, at the fitted frequency: no
            gap, no overlap, finite. With many series any of them may be updated.
        X_new : DataFrame in y's layout, default=None
            The covariates on y_new's steps (needed when fitted with covariates).

        Returns
        -------
        self
        """
        check_is_fitted(self)
        new = continuations(y_new, X_new, self.layout_, self.step_, self.tails_,
                            self.exog_names_)
        if self.strategy == "stateful":
            states = self._carried_states(new)
        # only what forecasting reads is kept: the last lags steps
        self.tails_.update({e.key: _joined(self.tails_[e.key], e, self.lags_) for e in new})
        if self.strategy == "stateful":
            self.states_ = states
        return self

    def _carried_states(self, new):
        """``states_`` moved over the new steps of the updated series (one sequence
        each, as :meth:`_states_before` reads them)."""
        states = [tuple(a.copy() for a in layer) for layer in self.states_]
        for e in new:
            i = self.series_.index(e.key)
            # the rows from the old origin to the step before the new one; a row reads
            # its future-known channels one step ahead, inside the new values
            part = _joined(self.tails_[e.key], e, len(e.y) + 1)
            rows = self._scaled(part).channels(np.arange(len(e.y)), 1)[None]
            mine = [tuple(a[i:i + 1] for a in layer) for layer in states]
            _, after = self.estimator_.predict_sequence(rows, mine)
            for layer, s in zip(states, after):
                for a, b in zip(layer, s):
                    a[i:i + 1] = b
        return states

    def predict_interval(self, steps=None, X=None, coverage=None, history=None,
                         history_X=None):
        """Forecasts with a prediction interval (needs ``interval`` set before fit).

        Parameters
        ----------
        steps, X, history, history_X : as in :meth:`predict`
        coverage : float, default=None (the ``coverage`` parameter)
            Nominal probability that the actual value falls in [lower, upper]. Any
            value for conformal intervals; the fitted one for quantile intervals.

        Returns
        -------
        DataFrame
            Columns ``forecast``, ``lower`` and ``upper``, indexed as
            :meth:`predict`'s output; ``attrs['coverage']`` holds the coverage.
        """
        check_is_fitted(self)
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
            widen = _conformal_quantile(self.residuals_[:, :steps], coverage)
            values = np.stack([q[..., 1], np.minimum(q[..., 0] - widen, q[..., 1]),
                               np.maximum(q[..., 2] + widen, q[..., 1])], axis=-1)
        else:
            f = self._forecast(self.estimator_, jobs, steps, states)
            half = _conformal_quantile(np.abs(self.residuals_[:, :steps]), coverage)
            values = np.stack([f, f - half, f + half], axis=-1)
        out = self._dated(entries, values, steps, ["forecast", "lower", "upper"])
        out.attrs["coverage"] = float(coverage)
        return out

    def score(self, y, X=None):
        """Negative mean absolute error of forecasting ``y``, the steps right after
        the training series (higher is better, as scikit-learn's scorers expect).

        With ``TimeSeriesSplit(n_splits, test_size=horizon)`` this makes the
        forecaster tunable with ``GridSearchCV`` (lags, strategy, the wrapped
        model's parameters) without looking into the future.

        Parameters
        ----------
        y : Series (or y's layout from fit), the same number of steps per series
        X : DataFrame, default=None
            Future-known covariates over y's steps.
        """
        check_is_fitted(self)
        if isinstance(y, dict):
            y = to_output(list(y.items()), "dict", self._index_names)
        if not isinstance(y, pd.Series):
            raise TypeError(f"y must be a pandas Series, got {type(y).__name__}")
        pred = self.predict(len(y) // len(self.series_), X=X)
        if not pred.index.equals(y.index):
            raise ValueError("y must hold the steps right after the training series: "
                             f"expected {list(pred.index[:2])}..., got "
                             f"{list(y.index[:2])}...")
        return -mae(y.to_numpy(), pred.to_numpy())
