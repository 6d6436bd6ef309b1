"""Forecast pandas time series with any regressor: dated forecasts and intervals.

:class:`Forecaster` turns one series or many (see :mod:`tsbptt.forecasting._panel`
for the layouts) into lag windows, fits a clone of the wrapped regressor — a tsbptt
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
regressor is by default wrapped in :class:`tsbptt.forecasting._window_model.WindowModel`:
each window's target values are made scale-free (centred on the window's last
value, divided by its spread) and the mean of two ridge regressions, on those
windows and on the lags as given, is the linear part the network corrects.
"""
import sys
import time
import warnings
from typing import Any
from numbers import Integral, Real

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from . import transforms
from ._intervals import _Intervals
from ._panel import (
    FILL_METHODS,
    _index_kind,
    continuations,
    frame_to_long,
    last_labels,
    in_rows_of,
    long_to_user,
    future_index,
    future_labels,
    named,
    split_static,
    split_future,
    to_entries,
    to_output,
    y_name,
)
from ._panel_scaling import _PanelScaling
from ._parts import _joined, _kept, _MemberWarnings, _names, _warn_once
from ._saving import read_forecaster, save_forecaster
from ._strategies import _key_order, _Strategies
from ..estimators import capabilities
from ..utils._validation import (INPUT_NOISE_FLOOR, below_floor, check_window_length,
                                 refuse_bool_numbers, scale_or_unit, user_stacklevel,
                                 warn_small_spread)
from ._window_model import WindowModel, budget_sets_epochs, is_network
from .baselines import SeasonalNaive
from .metrics import mae
from .windowing import CALENDAR_FEATURES, calendar_features, infer_season

__all__ = ["Forecaster", "load_forecaster"]


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


#: The parameters forecasts are read under as the fit used them (the others a fit
#: turns into fitted attributes: ``lags_``, ``channels_``, the scaling). A set_params
#: after fit that changes one is refused by name at predict, update and save.
FITTED_PARAMS = ("horizon", "strategy", "interval", "interval_per_series")


def reads_future_X(forecaster, X):
    """``X`` for ``forecaster``'s predict where the caller holds every covariate of
    the forecast steps (a backtest, a scorer): None for a fitted forecaster whose
    covariates are all past-only, which reads none of them there and refuses an X.
    One fitted without covariates gets X, and refuses it: it was given for nothing."""
    future = getattr(forecaster, "_future", None)  # None: another kind of forecaster
    past_only = (future is not None and not len(future)
                 and len(getattr(forecaster, "exog_names_", ())) > 0)
    return None if past_only else X


def limits_of(bounds):
    """A forecaster's ``bounds`` as (low, high) floats, -inf and inf for no limit;
    refused by name unless None or two numbers or Nones with low < high."""
    if bounds is None:
        return -np.inf, np.inf
    ends = list(bounds) if isinstance(bounds, (tuple, list)) else None
    ok = ends is not None and len(ends) == 2 and all(
        v is None or (isinstance(v, Real) and not isinstance(v, (bool, np.bool_))
                      and np.isfinite(v)) for v in ends)
    low, high = ((-np.inf if ends[0] is None else float(ends[0]),
                  np.inf if ends[1] is None else float(ends[1])) if ok else (0, 0))
    if not ok or not low < high:
        raise ValueError(f"bounds must be (low, high), each a finite number or None and "
                         f"low < high, e.g. (0, None); got {bounds!r}")
    return low, high


def _warn_made_up(entries, fill, step, freq):
    """Warn where ``fill`` made up most of a series (143 readings filled to 995
    steps, say): a step read wrong, not a few missing readings; and where it made
    up a series' last values, which the forecasts start from (with
    ``'interpolate'`` too: nothing comes after them to interpolate to)."""
    ends = [e for e in entries if e.n_trailing]
    if ends:
        e = ends[0]
        where = "y" if e.key is None else f"series {e.key!r}"
        more = f" (and {len(ends) - 1} more series)" if len(ends) > 1 else ""
        why = " (nothing comes after them to interpolate to)" if fill == "interpolate" \
            else ""
        warnings.warn(f"fill={fill!r} filled the last {e.n_trailing} value(s) of {where}"
                      f"{more} by carrying the last reading forward{why}: the forecasts "
                      "start from made-up values; drop the missing rows at the end to "
                      "forecast from the last reading", UserWarning,
                      stacklevel=user_stacklevel())
    most = [e for e in entries if e.n_filled > len(e.y) / 2]
    if most:
        e = most[0]
        where = "y" if e.key is None else f"series {e.key!r}"
        # a PeriodIndex's step by its period alias ('M'), which freq= takes, not by
        # its offset's ('ME')
        shown = (e.y.index.freqstr if isinstance(e.y.index, pd.PeriodIndex)
                 else getattr(step, "freqstr", step))
        question = (f"is freq={freq!r} right?" if freq is not None else
                    f"is the step read from it right ({shown}; pass freq= if not)?")
        warnings.warn(f"fill={fill!r} made up {e.n_filled} of the {len(e.y)} steps of "
                      f"{where} (n_filled_): most of it is invented; {question}",
                      UserWarning, stacklevel=user_stacklevel())


class Forecaster(_Strategies, _Intervals, _PanelScaling, BaseEstimator):
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
        (truncated BPTT, the state carried across windows), or an
        :class:`~tsbptt.ESNRegressor` (one reservoir run over each series, a ridge
        readout of every step's state after a washout of ``lags`` steps, with
        ``training='auto'`` and ``washout`` at its default); forecasts carry the
        hidden (reservoir) state forward from the end of the series instead of
        re-reading a window.
    future_exog : list of str, default=None
        Columns of ``X`` known in advance (planned values, holidays): at predict
        time ``X`` must give them for the forecast steps. The other columns of
        ``X`` are past-only (known up to the forecast origin; direct strategy only).
    calendar : list of str, default=None
        Calendar features of the (future) timestamps, sine/cosine encoded, from
        :data:`tsbptt.forecasting.windowing.CALENDAR_FEATURES` (e.g. ``['hour', 'dayofweek']``).
    series_id : bool, default=False
        With many series, add a one-hot series identifier to every step, its
        columns in the order of the series ids (``channels_``). (A panel's
        windows are laid out by series id too, not in the order the series come
        in, and ``'stateful'``'s sequences are stacked in that order, so every
        strategy fits the same model, bit for bit, in any order of the series.
        Forecasts of a tsbptt network keep those bits; another model's, and
        conformal bands, may differ in the last bit, as a row's result can with
        its position in a batch.)
    interval : {None, 'conformal', 'quantile'}, default=None
        How :meth:`predict_interval` works. ``'conformal'`` (any model, any
        strategy): a copy of the model is fitted on the data before a cut-off
        time (the same for every series) and its errors at every origin after it
        calibrate symmetric intervals per horizon step. With many series the
        errors are pooled over the series, each standardised by its own
        scaling: the coverage holds over the series together, and for one series
        only as far as its errors, relative to its spread, are like the others'
        (a series whose noise is a smaller part of its spread gets wider bands
        than it needs, one whose noise is a larger part narrower ones).
        ``'quantile'`` (tsbptt regressors, direct
        strategy): the network outputs the ``(1 - coverage) / 2``, 0.5 and
        ``(1 + coverage) / 2`` quantiles (pinball loss), so bands follow the
        noise level of each window, and the same held-back part conformalises
        them (Romano et al., 2019: widened or narrowed by how often the actuals
        fell outside); point forecasts are the median.
    interval_per_series : bool, default=False
        With many series, calibrate each series' bands on its own held-back
        errors only (a per-series split-conformal quantile, "Mondrian" by
        series), so that the coverage holds for each series, not only over them
        together: pooled, a wave whose noise is a small part of its spread got a
        band five times too wide, and pure noise beside it 79% coverage for 90%
        (per series: 94% and 85%). Each series then needs enough held-back
        origins for the coverage (9 for 90%, 19 for 95%), and its bands are as
        coarse as its own errors are few. A series whose errors grow after the
        calibration period (a trend past the levels the model learned) is then
        under-covered: its own held-back errors were smaller (a trial's trend:
        45% for 90%; pooled, its band was 20 times its noise wide instead).
    coverage : float, default=0.9
        The interval's nominal coverage (fixed at fit time for ``'quantile'``).
    calibration : float, default=0.2
        Fraction of the forecast origins, pooled over the series and the latest
        in time, held out to calibrate the intervals. A coverage c needs at least
        c / (1 - c) of them (9 for 90%, 19 for 95%): fit raises ValueError below.
    season : int, default=None
        The seasonal period in steps; None infers it from the series' step with
        :func:`tsbptt.forecasting.windowing.infer_season` (hourly: 24, daily: 7, monthly: 12,
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
    bounds : tuple (low, high) or None, default=None
        The range the series' values lie in, either end None for no limit:
        ``(0, None)`` for sales, counts, prices or loads, ``(0, 100)`` for a
        percentage. Forecasts and interval bounds are clipped to it (a clipped
        forecast is never further from a value in the range, and a clipped
        interval covers every value in the range it covered); fit, ``update`` and
        ``predict(history=...)`` refuse values outside it. None: no clipping.
    transform : str or tuple of str, default=None
        Target transforms: ``'log'`` or ``'boxcox'`` (exponent fitted per series
        by maximum likelihood; both need positive values), applied before scaling;
        and ``'diff'`` or ``'seasonal_diff'`` (targets relative to the origin's
        value, or to the value one season earlier), applied on the windows
        (direct and recursive). E.g. ``('log', 'seasonal_diff')``. Every one is
        inverted exactly, interval bounds included, so quantiles stay quantiles;
        but a mean does not stay a mean: after ``'log'`` or ``'boxcox'`` the point
        forecast of a model of the mean (a squared loss) is the inverse of the
        transformed mean, a median-like value below the mean of a right-skewed
        series (on lognormal(0, 1) data 1.00 where the mean is 1.65). With
        ``strategy='stateful'``, ``'diff'`` makes the model read and forecast each
        step's change, the changes standardised by their mean (the drift) and
        spread: a trend is then
        carried past the levels seen in training, where a model of the levels
        saturates; stationary seasonal series are better on levels (forecast
        errors of changes add up over the steps), and on the benchmark's random
        walk the levels scored better too, within two standard errors
        (``benchmarks/reports/accuracy.md``).
    linear : bool, default=True
        For tsbptt regressors (direct and recursive): a linear part (the mean of a
        ridge regression on the scale-free windows and one on the lags) that the
        network learns to correct; the correction is weighted by what it gains
        on the time-ordered validation tail (0: dropped; see
        :class:`tsbptt.forecasting._window_model.WindowModel`). Other regressors ignore it.
    training : {'auto', 'as_given'}, default='auto'
        ``'auto'``: the parameters of a tsbptt regressor left at their defaults
        take the forecasting budget
        :data:`tsbptt.forecasting._window_model.BUDGET` (early stopping on the latest 20% of
        the windows, at most 40 epochs, stopping after 3 without improvement, batch 64,
        rate 3e-3), and the network trains on at most 600 windows evenly spaced in
        time (the linear part on all of them up to 12,000, evenly spaced beyond);
        parameters set to other values are kept. A parameter is read as left at its
        default when it equals the default (an estimator cannot tell
        ``max_iter=200`` or ``early_stopping=False`` passed by hand from the
        default): to train with such a value, pass ``training='as_given'``, which
        takes the estimator as it is.
    n_seeds : int, default=1
        For tsbptt regressors (direct and recursive): train this many networks with
        consecutive seeds and forecast the median of their outputs (see
        :class:`tsbptt.forecasting._window_model.WindowModel`).
    max_time : float or None, default=None
        For tsbptt regressors (direct and recursive): seconds each model's
        networks may train, turned once into a number of epochs (the
        ``max_iter_`` of ``estimator_``). Opt-in because the result then depends
        on the machine's speed and load; refit with that ``max_iter`` to reproduce.
    freq : str or DateOffset or int or None, default=None
        The series' step, if it cannot be inferred from the index.
    id_col, time_col, target_col : str, default='unique_id', 'ds', 'y'
        With a long DataFrame ``y`` (one row per series and time step, as Nixtla's
        libraries take it): the columns of the series id, the time and the
        target; its other columns are the covariates ``X``. Forecasts then come
        back as a DataFrame with the columns ``id_col``, ``time_col`` and
        ``target_col`` (``forecast``, ``lower``, ``upper`` for intervals).
    static_features : list of str, default=None
        Covariate columns that are constant within each series (a store's size,
        a sensor's site): read once per series, standardised over the series and
        given to every step beside the one-hot ``series_id``; not needed at
        predict time.
    fill : {None, 'ffill', 'interpolate'}, default=None
        None: gaps in the index and missing values are errors. Otherwise each
        series is reindexed to its regular grid and the holes filled (forward, or
        linear in time); ``n_filled_`` says how many values were filled. Note that
        ``'interpolate'`` reads the value after a gap, so windows ending inside a
        gap see a little of their future; ``'ffill'`` only looks back.

    Attributes
    ----------
    estimator_ : estimator
        The fitted model: for an LSTM, GRU or RNN regressor with the direct or
        recursive strategy, a :class:`tsbptt.forecasting._window_model.WindowModel`
        around the fitted clone (its ``estimator_``, or ``estimators_`` with
        ``n_seeds``), which adds the window scaling and the linear part (not with
        ``linear=False`` and ``scaling='global'``); a WindowModel too where
        ``transform`` differences or ``scaling='window'`` (an ESNRegressor's
        default: window scaling, no linear part); with the stateful
        strategy and ``transform='diff'``, a
        :class:`tsbptt.forecasting._sequence_diff.DifferencedSequenceModel` around
        it (the network is its ``estimator_``); otherwise the fitted clone of
        ``estimator``.
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
    target_lambda_ : list of (float or None)
        Per series, the Box-Cox exponent of ``transform`` (0 for ``'log'``).
    n_filled_ : dict
        Per series, how many target values ``fill`` filled in.
    target_mean_, target_scale_ : ndarray of shape (n_series,)
        Each series' scaling, in ``series_`` order: y = mean + scale * standardised
        (of the transformed y with a log or Box-Cox ``transform``).
    residuals_ : ndarray of shape (n_calibration, horizon) or None
        The calibration scores, standardised: forecast errors (``'conformal'``), or
        how far each actual fell outside its quantile band (``'quantile'``).
    residual_series_ : ndarray of int of shape (n_calibration,) or None
        With ``interval_per_series``, the series (its position in ``series_``) of
        each row of ``residuals_``.
    static_ : DataFrame or None
        The ``static_features`` of each series (one row per series id), as given.
    static_values_ : ndarray of shape (n_series, n_static) or None
        The same, standardised over the series, in ``series_`` order: the static
        channels every step carries.
    long_frame_ : bool
        Whether ``fit`` got a long DataFrame (forecasts then come back as one).
    network_weight_ : float or None
        The weight of the network's correction of the linear part in the
        forecasts (with ``n_seeds`` > 1, of the seeds' median), set by how much it
        helped on the validation tail (the latest windows, the network's
        ``validation_fraction`` of them with early stopping, else 20%): 0 where the
        network was dropped (the linear part forecasts alone), 1 where its whole
        correction is kept, also where it was not measured (a quantile loss, or
        too few windows for a tail); None where there is no linear part to
        correct (a model other than a tsbptt network, or ``linear=False``). Read
        from ``estimator_``.
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
        "interval_per_series": ["boolean"],
        "coverage": [Interval(Real, 0, 1, closed="neither")],
        "calibration": [Interval(Real, 0, 1, closed="neither")],
        "season": [Interval(Integral, 1, None, closed="left"), None],
        "scaling": [StrOptions({"auto", "window", "global"}), None],
        "bounds": [tuple, list, None],
        "transform": [str, list, tuple, None],
        "linear": ["boolean"],
        "training": [StrOptions({"auto", "as_given"})],
        "n_seeds": [Interval(Integral, 1, None, closed="left")],
        "max_time": [Interval(Real, 0, None, closed="neither"), None],
        "freq": [str, pd.offsets.BaseOffset, Interval(Integral, 1, None, closed="left"), None],
        "fill": [StrOptions(set(FILL_METHODS)), None],
        "id_col": [str],
        "time_col": [str],
        "target_col": [str],
        "static_features": [list, tuple, str, None],
    }

    def __init__(self, estimator: Any, lags: int | None = None, horizon: int = 1,
                 strategy: str = "direct", *, future_exog: list[str] | None = None,
                 calendar: list[str] | None = None, series_id: bool = False,
                 interval: str | None = None, interval_per_series: bool = False,
                 coverage: float = 0.9, calibration: float = 0.2,
                 season: int | None = None,
                 scaling: str | None = "auto",
                 bounds: tuple[float | None, float | None] | None = None,
                 transform: str | tuple[str, ...] | None = None, linear: bool = True,
                 training: str = "auto", n_seeds: int = 1,
                 max_time: float | None = None, freq: Any = None, fill: str | None = None,
                 id_col: str = "unique_id", time_col: str = "ds", target_col: str = "y",
                 static_features: list[str] | None = None) -> None:
        self.estimator = estimator
        self.lags = lags
        self.horizon = horizon
        self.strategy = strategy
        self.future_exog = future_exog
        self.calendar = calendar
        self.series_id = series_id
        self.interval = interval
        self.interval_per_series = interval_per_series
        self.coverage = coverage
        self.calibration = calibration
        self.season = season
        self.scaling = scaling
        self.bounds = bounds
        self.transform = transform
        self.linear = linear
        self.training = training
        self.n_seeds = n_seeds
        self.max_time = max_time
        self.freq = freq
        self.fill = fill
        self.id_col = id_col
        self.time_col = time_col
        self.target_col = target_col
        self.static_features = static_features

    def _validate_params(self):
        super()._validate_params()
        refuse_bool_numbers(self)
        for name in ("future_exog", "static_features"):  # each would be a channel twice
            names = _names(getattr(self, name))
            repeated = list(dict.fromkeys(n for n in names if names.count(n) > 1))
            if repeated:
                raise ValueError(f"{name} names {repeated} more than once")
        self._limits()

    def _limits(self):
        """``bounds`` as (low, high) floats (see :func:`limits_of`)."""
        return limits_of(self.bounds)

    def _check_in_bounds(self, entries, what):
        """Refuse values of ``entries`` outside ``bounds``, naming the first."""
        low, high = self._limits()
        if low == -np.inf and high == np.inf:
            return
        for e in entries:
            values = e.values
            out = np.flatnonzero((values < low) | (values > high))
            if len(out):
                where = what if e.key is None else f"{what} of series {e.key!r}"
                raise ValueError(f"{where} has {float(values[out[0]])!r} at "
                                 f"{e.y.index[out[0]]!r}, outside bounds={self.bounds!r}; "
                                 "give bounds the series' values keep to, or None")

    # -- settings ---------------------------------------------------------------------
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
            raise ValueError(f"{self._lags_set()} < horizon={self.horizon}: the window "
                             "would not hold the future-known covariates of every "
                             "forecast step; use lags >= horizon")
        if self.interval_per_series and self.interval is None:
            raise ValueError("interval_per_series=True calibrates intervals, but "
                             "interval=None makes none: set interval='conformal' (or "
                             "'quantile'), or leave interval_per_series=False")
        if self.interval == "quantile":
            if self.strategy != "direct":
                raise ValueError("interval='quantile' needs strategy='direct' (feeding a "
                                 "median back loses the spread of the earlier steps); "
                                 "use interval='conformal'")
            if not capabilities(self.estimator).quantile_loss:
                raise ValueError(f"interval='quantile' needs a tsbptt regressor (trained "
                                 f"with the pinball loss); {type(self.estimator).__name__} "
                                 "is not one: use interval='conformal'")
        _check_multi_output(self.estimator, self.strategy, self.horizon, self.interval)
        if capabilities(self.estimator).stream:
            # trained on the windows as one stream of rows, its state carried from
            # window to window, then asked for each forecast from the zero state
            raise ValueError(f"{type(self.estimator).__name__} learns one stream online "
                             "(its rows consecutive observations), and a Forecaster's "
                             "windows are independent samples: fit it on the series "
                             "itself (X the readings in time order, y the next ones), "
                             "or give the Forecaster LSTMRegressor, GRURegressor or "
                             "RNNRegressor")
        if self.strategy == "stateful" and not capabilities(self.estimator).stateful:
            raise ValueError(f"strategy='stateful' needs a tsbptt recurrent regressor "
                             f"or ESNRegressor, "
                             f"got {type(self.estimator).__name__}")
        if (self.n_seeds > 1 or self.max_time is not None) and (
                self.strategy == "stateful" or not is_network(self.estimator)):
            raise ValueError(f"n_seeds={self.n_seeds!r} and max_time={self.max_time!r} "
                             "need a tsbptt regressor and strategy='direct' or "
                             f"'recursive' (got {type(self.estimator).__name__}, "
                             f"strategy={self.strategy!r})")
        names = transforms.check_transform(self.transform)
        if self.strategy == "stateful":
            if self.scaling == "window":
                raise ValueError("strategy='stateful' reads whole series, not windows: "
                                 "scaling='window' needs strategy='direct' or "
                                 "'recursive'")
            if transforms.difference_of(names) == "seasonal_diff":
                raise ValueError(f"strategy='stateful' reads whole series, not windows: "
                                 f"transform={self.transform!r} needs strategy='direct' "
                                 "or 'recursive' (a stateful model takes transform='diff')")
        if transforms.difference_of(names) == "seasonal_diff" and self.lags_ < self.season_:
            raise ValueError(f"transform='seasonal_diff' reads a season of "
                             f"{self.season_} steps, the windows hold {self._lags_set()}; "
                             "use lags >= season")
        return past, future, calendar

    def _lags_set(self):
        """``lags_`` for a message, saying where it came from when it was chosen."""
        said = vars(self).get("_lags_said")  # a wrapper's words for its choice
        if said is not None:
            return f"lags={self.lags_} ({said})"
        if self.lags is not None:
            return f"lags={self.lags_}"
        return (f"lags={self.lags_} (chosen for lags=None: twice the season, at least "
                "8, at most half of what the shortest series leaves after a horizon)")

    def _warn_under_a_season(self, entries, lens):
        """Warn where ``lags=None`` had to choose windows shorter than the season
        for a series too short for more (a panel's own warning names the one
        series that did it): on 27 months a default LSTM scored MASE 7.67 against
        seasonal naive's 0.49, its windows 4 steps long, and nothing said so."""
        if self.lags_ >= self.season_ or self.strategy == "stateful":
            return  # a season fits, or the model reads the whole series anyway
        # the series whose own room holds no season's window: one alone among
        # longer ones is named by _warn_short_series
        short = [e.key for e, n in zip(entries, lens)
                 if (int(n) - self.horizon) // 2 < self.season_]
        if len(entries) > 1 and len(short) == 1:
            return
        # the same words at every origin of a backtest (no step counts): once
        what = ("y is" if len(entries) == 1 else "the series are"
                if len(short) == len(entries) else
                f"series {short[:3]}{' ...' if len(short) > 3 else ''} ({len(short)} of "
                f"{len(entries)}) are")
        warnings.warn(
            f"{what} too short for windows of a season beside horizon={self.horizon}: "
            f"lags=None chose windows shorter than the season of {self.season_} "
            "(lags_), so the model cannot read a season back. Give a longer series or "
            f"a shorter horizon, or compare with SeasonalNaive({self.season_}) in a "
            "backtest", UserWarning, stacklevel=user_stacklevel())

    def _warn_short_series(self, entries, lens, default, room):
        """Warn where the shortest series of a panel alone cut every series' windows
        below the default lags: one 12-step series among 150-step ones took them from
        14 to 2, under the season, and the panel's forecasts got 2.6 times worse."""
        if len(lens) < 2 or room >= default:
            return
        shortest = int(np.argmin(lens))
        next_room = (int(np.partition(lens, 1)[1]) - self.horizon) // 2
        if next_room <= room:  # not one series' doing
            return
        below = (f", under the season of {self.season_}" if self.lags_ < self.season_
                 else "")
        warnings.warn(
            f"series {entries[shortest].key!r} has {lens[shortest]} steps, so lags=None "
            f"chose lags={self.lags_} for every series (the default would be {default})"
            f"{below}; the other series have {int(np.partition(lens, 1)[1])} steps or "
            "more. Leave that series out (or forecast it apart, e.g. with LocalModels), "
            "or give lags explicitly", UserWarning, stacklevel=user_stacklevel())

    def _resolve_shape(self, entries):
        """The season, the window length and the scaling this fit uses."""
        self.season_ = infer_season(self.step_) if self.season is None else self.season
        if self.lags is None:
            lens = np.array([len(e) for e in entries])
            default = max(2 * self.season_, 8)
            room = (int(lens.min()) - self.horizon) // 2
            self.lags_ = max(1, min(default, room))
            self._warn_short_series(entries, lens, default, room)
            self._warn_under_a_season(entries, lens)
        else:
            self.lags_ = self.lags
        # tsbptt's sequence models, echo-state networks too (they were scaled
        # globally: a trend past the training range sent an ESN's forecasts to
        # 3.5 times the largest value seen)
        sequence_model = capabilities(self.estimator).stateful
        if self.scaling == "auto":
            self.scaling_ = ("window" if sequence_model and self.strategy != "stateful"
                             else "global")
        else:
            self.scaling_ = self.scaling

    # -- data ---------------------------------------------------------------------------
    # -- fit ----------------------------------------------------------------------------
    def fit(self, y: Any, X: Any = None) -> "Forecaster":
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
            with _MemberWarnings(self._convergence_notes):  # scikit-learn members'
                self._fit(y, X)
            _warn_once(self._convergence_notes, budgeted=self.training == "auto"
                       and is_network(self.estimator)
                       and budget_sets_epochs(self.estimator),
                       said=vars(self).get("_convergence_said"))
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
            vars(self).pop("_member_label", None)

    _FIT_PRIVATE = ("_past", "_future", "_calendar", "_one_hot", "_index_names", "_moves",
                    "_positions_cache", "_id_columns_cache", "_fitted_params")

    def _record_fitted_params(self):
        """Keep :data:`FITTED_PARAMS` as fitted, and ``coverage`` with quantile
        intervals (its quantiles were fitted; a conformal band takes any coverage)."""
        names = FITTED_PARAMS + (("coverage",) if self.interval == "quantile" else ())
        self._fitted_params = {k: getattr(self, k) for k in names}

    def _check_fitted(self):
        """check_is_fitted, then refuse a fitted parameter set_params changed since:
        predict read it as it is now (another band, or NumPy's shape errors)."""
        check_is_fitted(self)
        for name, value in vars(self).get("_fitted_params", {}).items():
            now = getattr(self, name)
            if now != value:
                raise ValueError(f"{name}={now!r} differs from the fitted forecaster's "
                                 f"{name}={value!r}: its model was fitted with it; set it "
                                 "back, or fit anew")

    def _from_user(self, y, X, what="y", fitting=False):
        """A long DataFrame ``y`` -> the long Series layout and its covariates (the
        static features left out); any other layout as it is."""
        if isinstance(y, pd.DataFrame):
            if X is not None:
                raise ValueError(f"{what} is a long DataFrame: give its covariates as its "
                                 f"other columns, not as a separate {what}_X / X")
            y, X = frame_to_long(y, self.id_col, self.time_col, self.target_col, what)
        elif isinstance(X, pd.DataFrame) and not isinstance(X.index, pd.MultiIndex) \
                and self.id_col in X.columns and self.time_col in X.columns:
            X = frame_to_long(X, self.id_col, self.time_col, None, "X")[1]
        static = _names(self.static_features)
        if static and not fitting and isinstance(X, pd.DataFrame) \
                and any(c in X.columns for c in static):  # read once, at fit
            X = X.drop(columns=[c for c in static if c in X.columns])
            X = X if X.shape[1] else None
        return y, X

    def _to_user(self, out):
        """Forecasts in the layout of the training data (a long frame if it was one)."""
        return long_to_user(out, self.long_frame_)

    def _fit_static(self, y, X):
        """Take the static features out of X; their values per series, standardised
        over the series (``static_``, raw, and ``static_values_``)."""
        names = _names(self.static_features)
        self.static_, self.static_values_ = None, None
        if not names:
            return X
        X, static = split_static(y, X, names)
        self.static_ = static
        mean, std = static.mean().to_numpy(), static.std(ddof=0).to_numpy()
        tiny = below_floor(mean, std, len(static), INPUT_NOISE_FLOOR)
        if tiny.any():
            warn_small_spread(f"static feature(s) {list(static.columns[tiny])}",
                              " over the series")
        std = scale_or_unit(mean, std, len(static), INPUT_NOISE_FLOOR)  # as a covariate's
        self.static_values_ = (static.to_numpy() - mean) / std
        return X

    def _fit(self, y, X):
        self.long_frame_ = isinstance(y, pd.DataFrame)
        y, X = self._from_user(y, X, fitting=True)
        X = self._fit_static(y, X)
        entries, self.layout_, self.step_ = to_entries(y, X, freq=self.freq,
                                                       fill=self.fill)
        self.exog_names_ = [] if entries[0].X is None else list(entries[0].X.columns)
        self._resolve_shape(entries)
        self._past, self._future, self._calendar = self._check_settings(self.exog_names_)
        if self._calendar and not isinstance(entries[0].y.index,
                                             (pd.DatetimeIndex, pd.PeriodIndex)):
            raise ValueError(f"calendar={self.calendar!r} needs dated times (a "
                             f"DatetimeIndex or a PeriodIndex), got "
                             f"{type(entries[0].y.index).__name__} of dtype "
                             f"{entries[0].y.index.dtype}")
        self.name_ = y_name(entries[0].y)
        self.series_ = [e.key for e in entries]
        if self.static_ is not None:  # in series_ order
            self.static_values_ = self.static_values_[
                self.static_.index.get_indexer(pd.Index(self.series_, tupleize_cols=False))]
        self._one_hot = self.series_id and len(entries) > 1
        if self._one_hot:  # each series' column is named by its id's text
            by_text = {}
            for k in self.series_:
                if str(k) in by_text:
                    raise ValueError(
                        f"series_id=True names each series' input column by its id, and "
                        f"the ids {by_text[str(k)]!r} and {k!r} read the same "
                        f"({str(k)!r}): give the series distinct ids")
                by_text[str(k)] = k
        self.n_filled_ = {e.key: e.n_filled for e in entries}
        _warn_made_up(entries, self.fill, self.step_, self.freq)
        self._index_names = (list(y.index.names) if self.layout_ == "long"
                             else ["series", entries[0].y.index.name or "time"])
        self._check_lengths(entries)
        self._check_in_bounds(entries, "y")
        self._fit_scaling(entries)
        calendar_columns = [] if not self._calendar else list(
            calendar_features(pd.DatetimeIndex([]), self._calendar).columns)
        self.channels_ = ([self.name_] + self._past
                          + [f"{c}_lead{self._lead}" for c in self._future]
                          + [f"{c}_lead{self._lead}" for c in calendar_columns]
                          + ([f"series={self.series_[j]}" for j in _key_order(self.series_)]
                             if self._one_hot else [])
                          + _names(self.static_features))
        repeated = pd.Index(self.channels_)[pd.Index(self.channels_).duplicated()]
        if len(repeated) and not is_network(self.estimator):
            # a scikit-learn model reads the columns by name: they would clash
            raise ValueError(f"two of the model's inputs would be named {repeated[0]!r}: "
                             "a covariate's name clashes with one the forecaster makes "
                             f"(its inputs: {self.channels_}); rename that covariate")
        self.feature_names_ = [f"{c}_lag{k}" for k in range(self.lags_, 0, -1)
                               for c in self.channels_]
        data = self._scaled_all(entries)
        self.residuals_, self.residual_series_ = (self._calibrate(entries, data)
                                                  if self.interval else (None, None))
        n = 2 if self.interval else 1
        self.estimator_ = self._fit_model(data, [len(s.y) - 1 for s in data],
                                          f"fit {n}/{n}: final model")
        self.tails_ = {e.key: _kept(e, self.lags_) for e in entries}
        self._record_fitted_params()
        if self.strategy == "stateful":  # where forecasts start from
            # an ESN keeps the states its fit ended in: the same steps (0 .. n - 2 of
            # every series) and bitwise the same states, without a second pass; its
            # rows are in the order the model was fitted in, the keys' (_fit_model)
            known = getattr(self.estimator_, "final_states_", None)
            if known is not None:
                back = np.argsort(_key_order([s.key for s in data]))
                known = [tuple(a[back] for a in layer) for layer in known]
            self.states_ = known if known is not None else self._states_before(
                self.estimator_, [(s, len(s.y) - 1) for s in data])
        return self

    def _check_lengths(self, data):
        """Every series long enough for one window; before anything sized by lags."""
        lens = np.array([len(s) for s in data])
        for i in np.flatnonzero(lens < self.lags_ + self.horizon)[:1]:  # the first short one
            s = data[i]
            check_window_length(len(s), self.lags_, self.horizon,
                                what="y" if s.key is None else f"series {s.key!r}",
                                lags_said=self._lags_set())
        if self.strategy == "stateful" and (lens != lens[0]).any():
            raise ValueError("strategy='stateful' trains all series together with "
                             "truncated BPTT, which needs series of equal length; give "
                             "series over the same dates, or use 'direct' or 'recursive'")

    _SCALING = ("target_mean_", "target_scale_", "exog_mean_", "exog_scale_",
                "target_lambda_")

    @staticmethod
    def _where(key):
        return "y" if key is None else f"series {key!r}"

    # -- forecasting --------------------------------------------------------------------
    def _check_steps(self, steps):
        steps = self.horizon if steps is None else steps
        if isinstance(steps, (pd.Series, pd.DataFrame, list, dict)) or (
                isinstance(steps, np.ndarray) and steps.ndim):
            # a scikit-learn scorer ('neg_mean_absolute_error', make_scorer) calls
            # predict(X_test): every candidate of a search then scored NaN
            raise TypeError(f"steps must be a positive integer, got a "
                            f"{type(steps).__name__}: predict forecasts the steps after "
                            "the training data and takes no test inputs. In a "
                            "scikit-learn search, leave scoring=None (Forecaster.score "
                            "scores the steps after each training split); scoring "
                            "strings and make_scorer call predict(X_test)")
        if not isinstance(steps, (int, np.integer)) or isinstance(steps, bool) or steps < 1:
            raise ValueError(f"steps must be a positive integer, got {steps!r}")
        if self.strategy == "direct" and steps > self.horizon:
            raise ValueError(f"steps={steps} is beyond the direct strategy's "
                             f"horizon={self.horizon}; refit with a longer horizon or "
                             "use strategy='recursive'")
        return int(steps)

    def _position(self):
        """``(tails_, states_)`` as one :meth:`update` left them. Another thread's
        update swaps both; its count of moves (``_moves``, odd while it swaps) tells
        a read that straddled it, which reads again: a predict sees the pair before
        an update or after it, never the old tails with the new states."""
        while True:
            moves = vars(self).get("_moves", 0)
            if moves % 2 == 0:
                pair = self.tails_, vars(self).get("states_")
                if vars(self).get("_moves", 0) == moves:
                    return pair
            time.sleep(0)  # let the update finish

    def _origins(self, steps, X, history, history_X):
        """The series to forecast from, scaled with their future channels; the jobs
        (one per series, at its last step) and, for 'stateful', the states there."""
        tails, known_states = self._position()
        _, X = self._from_user(None, X)
        if X is not None and not self.exog_names_:  # it would go unread
            raise ValueError("X was given, but the forecaster was fitted without "
                             "covariates: fit with X to use them (naming the columns "
                             "known in advance in future_exog)")
        if X is not None and not self._future:  # as unread: the covariates are past-only
            raise ValueError(f"X was given, but the forecaster reads no covariate on the "
                             f"forecast steps: its covariates {self.exog_names_} are "
                             "past-only (known up to the forecast origin). Leave X out, "
                             "or refit naming the columns known in advance in "
                             "future_exog")
        if history is not None:
            history, history_X = self._from_user(history, history_X, "history")
        if history is None:
            if history_X is not None:
                raise ValueError("history_X was given without history: pass the history "
                                 "it belongs to (or leave both out)")
            entries = [tails[k] for k in self.series_]
        else:
            with named("history", "history_X"):
                entries, layout, step = to_entries(history, history_X, freq=self.freq,
                                                   fill=self.fill)
            if layout != self.layout_ or step != self.step_:
                raise ValueError(f"history must be laid out like the training data "
                                 f"({self.layout_}, step {self.step_!r}); got {layout}, "
                                 f"step {step!r}")
            fitted = _index_kind(tails[self.series_[0]].y.index)
            if _index_kind(entries[0].y.index) != fitted:  # the panel's share one
                raise ValueError(f"history is indexed by {_index_kind(entries[0].y.index)}, "
                                 f"the training data by {fitted}: give them alike "
                                 "(tz_convert, tz_localize)")
            cols = [] if entries[0].X is None else list(entries[0].X.columns)
            if cols != self.exog_names_:
                raise ValueError(f"history_X has columns {cols}, the model was fitted "
                                 f"with {self.exog_names_}")
        futures = split_future(X, self.layout_, [e.key for e in entries])
        n_future = self.horizon if self.strategy == "direct" else steps
        data = self._scaled_all(entries, futures, n_future)
        if history is not None:
            self._check_in_bounds(entries, "history")
        short = [s for s in data if len(s.y) < self.lags_] if history is not None else []
        if short:  # a shorter window would wrap around to the end of the series
            s = short[0]
            raise ValueError(f"history{'' if s.key is None else f' of series {s.key!r}'} "
                             f"has {len(s.y)} steps, fewer than {self._lags_set()}")
        jobs = [(s, len(s.y) - 1) for s in data]
        states = None
        if self.strategy == "stateful":
            states = (known_states if history is None
                      else self._states_before(self.estimator_, jobs))
        return entries, jobs, states

    def _dated(self, entries, values, steps, columns=None):
        """Standardised forecasts (n_series, steps[, k]) -> dated pandas, y's units."""
        pos = np.array([self._positions[e.key] for e in entries])
        shape = (-1, 1) + (1,) * (values.ndim - 2)
        v = (values * self.target_scale_[pos].reshape(shape)
             + self.target_mean_[pos].reshape(shape))
        lambdas = [self.target_lambda_[j] for j in pos]
        if any(lam is not None for lam in lambdas):
            v = np.stack([transforms.inverse(row, lam) for row, lam in zip(v, lambdas)])
        elif isinstance(self.estimator_, SeasonalNaive) and not self.estimator_.drift \
                and not transforms.difference_of(transforms.check_transform(self.transform)):
            # the values it repeats, as observed: scaled and back they came within
            # an ulp of them (-2.8e-17 for a 0, which sMAPE scores as a 200% miss)
            h = np.arange(1, steps + 1)
            s = self.estimator_.season
            lag = s * np.ceil(h / s).astype(np.intp) - h + 1
            observed = np.stack([e.values[len(e) - lag] for e in entries])
            if v.ndim == 2:
                v = observed.astype(v.dtype)
            else:  # the forecast column beside its interval's bounds
                v = v.copy()
                v[..., 0] = observed
        lasts = last_labels(entries)
        # y's own name (None for an unnamed y, not 'y'); series of other names: none
        names = {e.y.name for e in entries}
        name = names.pop() if len(names) == 1 else None
        if self.layout_ == "single":  # one series: its dates keep their freq and names
            index = future_index(lasts[0], self.step_, steps).rename(entries[0].y.index.name)
        else:
            times = future_labels(lasts, self.step_, steps)
            ids = pd.Index([e.key for e in entries], tupleize_cols=False).repeat(steps)
            index = pd.MultiIndex.from_arrays([ids, times], names=self._index_names)
        low, high = self._limits()
        if low > -np.inf or high < np.inf:  # a copy: v may be the model's own array
            v = np.clip(v, low, high)
        flat = v.reshape(len(entries) * steps, *v.shape[2:])
        if columns is None:
            return pd.Series(flat, index=index, name=name)
        return pd.DataFrame(flat, index=index, columns=columns)

    @property
    def network_weight_(self) -> float | None:
        """The weight of the network's correction (see the class' Attributes)."""
        check_is_fitted(self, "estimator_")
        model = self.estimator_
        if not isinstance(model, WindowModel) or model.linear_kind_ is None:
            return None
        return float(model.network_weight_)

    def predict(self, steps: int | None = None, X: Any = None, history: Any = None,
                history_X: Any = None) -> Any:
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
            Indexed by the future timestamps (or integer labels), named like y
            and its index (None where y's is None); for many series, with a
            (series id, time) MultiIndex.
        """
        self._check_fitted()
        return self._to_user(self._predict(steps, X, history, history_X))

    def _predict(self, steps, X, history, history_X):
        steps = self._check_steps(steps)
        entries, jobs, states = self._origins(steps, X, history, history_X)
        return self._dated(entries, self._forecast(self.estimator_, jobs, steps, states),
                           steps)

    def update(self, y_new: Any, X_new: Any = None) -> "Forecaster":
        """Append newly observed values: the next forecasts start after them.

        The fitted model, its scaling and its calibration are unchanged (no
        refit); only where forecasts start from moves. For ``'stateful'`` the
        hidden state is carried over the new steps from where it stood, without
        re-reading the series; ``predict()`` afterwards gives, bitwise, what
        ``predict(history=<the longer series>)`` gives. A ``predict`` in another
        thread meanwhile forecasts from the position before the update or after
        it, never a mix; two updates at once are not supported (guard them with a
        lock).

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
        self._check_fitted()
        y_new, X_new = self._from_user(y_new, X_new, "y_new")
        with named("y_new", "X_new"):
            new = continuations(y_new, X_new, self.layout_, self.step_, self.tails_,
                                self.exog_names_)
        self._check_in_bounds(new, "y_new")
        if self.strategy == "stateful":
            states = self._carried_states(new)
        # only what forecasting reads is kept: the last lags steps; new objects, both
        # swapped in while the count of moves is odd (see _position)
        tails = {**self.tails_, **{e.key: _joined(self.tails_[e.key], e, self.lags_)
                                   for e in new}}
        moves = vars(self).get("_moves", 0)
        self._moves = moves + 1
        self.tails_ = tails
        if self.strategy == "stateful":
            self.states_ = states
        self._moves = moves + 2
        return self

    def score(self, y: Any, X: Any = None) -> float:
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

        Returns
        -------
        float
            Minus the mean absolute error of the forecasts of ``y``'s steps, over
            every series and step, in y's units.
        """
        self._check_fitted()
        y, X = self._from_user(y, X)
        if isinstance(y, dict):
            y = to_output(list(y.items()), "dict", self._index_names)
        if not isinstance(y, pd.Series):
            raise TypeError(f"y must be a pandas Series, got {type(y).__name__}")
        # a scorer holds every covariate of the test steps; the past-only ones are
        # not read there
        pred = self._predict(len(y) // len(self.series_), reads_future_X(self, X), None,
                             None)
        y = in_rows_of(pred.index, y)
        if not pred.index.equals(y.index):
            raise ValueError("y must hold the steps right after the training series: "
                             f"expected {list(pred.index[:2])}..., got "
                             f"{list(y.index[:2])}...")
        return -mae(y.to_numpy(), pred.to_numpy())

    def save(self, path: Any) -> None:
        """Write the fitted forecaster to ``path`` (a ``.npz`` file, no pickle).

        Everything forecasting reads is kept: the fitted model (a tsbptt network
        as its own model file, see :func:`tsbptt.save_model`; a linear
        scikit-learn model or :class:`SeasonalNaive` as its coefficients), each
        series' scaling and transform, the calendar and season settings, the
        intervals' calibration scores, static features, the last ``lags`` steps of
        every series and the stateful strategy's hidden states. Read it back with
        :func:`tsbptt.load_forecaster`.

        Parameters
        ----------
        path : str or os.PathLike

        Raises
        ------
        ValueError
            If the wrapped model cannot be stored without pickle (another
            scikit-learn regressor, or a subclass of a stored one), one of its
            parameters cannot (an array that is not finite numbers), a series id
            is not a string or integer, or the index's time zone has no name a
            file can keep (IANA, UTC or a fixed offset); nothing is written then.

        Warns
        -----
        UserWarning
            If the model's ``random_state`` is a ``np.random.RandomState``: the
            file keeps it as None (the loaded forecaster forecasts the same, but
            refitting it will not repeat this one's fits; pass an integer).
        """
        self._check_fitted()
        save_forecaster(self, path)


def load_forecaster(path: Any) -> Forecaster:
    """Read a forecaster written by :meth:`Forecaster.save`.

    The file is read with ``allow_pickle=False``; its members, checksum, values
    and parameters are checked (a tsbptt network inside by
    :func:`tsbptt.load_model`) before the forecaster is returned.

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    Forecaster
        Fitted; it forecasts, gives intervals and takes updates as the saved one.

    Raises
    ------
    ValueError
        If the file is not a forecaster file or is damaged (the message names it).
    FileNotFoundError
        If there is no file at ``path``.
    """
    return read_forecaster(Forecaster, path)
