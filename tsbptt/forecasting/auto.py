"""Choose a forecaster by a rolling-origin backtest on the training data only.

:class:`AutoForecaster` backtests a few candidates (seasonal naive, naive, a
ridge regression on the lags, the default LSTM Forecaster with scale-free or with
globally standardised windows; with hourly to 15-minute steps, also seasonal
naive and ridge at the week, a second season) over origins in the last 20% of the
series it is fitted on (at most 250 of them). The origins are split into
``n_folds`` consecutive blocks; each candidate is refitted before every block on
the data before it only, and moves
its window over the block's origins. The forecast is the mean of the best
``n_best`` candidates by backtest error (three by default), leaving out any whose
error is above ``within`` times the best's: a candidate that clearly wins is
kept alone, one that clearly loses (a network that cannot follow a random walk)
is never averaged in. Each member is refitted on all the data; the choice and
every score are kept as attributes.

Why a mean and not the winner: on ``benchmarks/bench_accuracy.py`` (ten series,
every choice made on the training part only) the backtest winner often lost on
the test part, by up to 27% against the better of seasonal naive and Ridge; the
mean of the best three stayed within 5% of it on every series (see
benchmarks/reports/accuracy.md and ``bench_auto_choice.py``, which replays the rules).
"""
from __future__ import annotations

from numbers import Integral, Real

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.linear_model import Ridge
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ._intervals import _conformal_quantile, _needed
from ._panel import FILL_METHODS, to_entries
from .backtesting import backtest
from .baselines import SeasonalNaive
from ..engine.trainer import interrupts_stop_every_fit
from ..estimators import GRURegressor, LSTMRegressor
from ..estimators._base import N_THREADS_CONSTRAINTS
from ..estimators._state import undone_on_failure
from ..utils._validation import quieted, refuse_bool_numbers
from ._forecaster import Forecaster, limits_of
from ._window_model import BUDGET
from .windowing import _alias_offset, infer_season

__all__ = ["AutoForecaster", "MeanForecaster", "default_origins"]

#: The candidates' names. 'drift': the seasonal naive forecast plus the window's
#: mean change per season (a trend carried on; with season 1, the drift method).
#: The networks: LSTM or GRU Forecasters at their defaults (scale-free windows), or
#: with ``scaling='global'`` (for a stationary series whose level matters); the
#: default choice is among the first six.
CANDIDATES = ("seasonal naive", "naive", "drift", "ridge", "lstm", "lstm global", "gru",
              "gru global", "seasonal naive weekly", "ridge weekly")
DEFAULT_CANDIDATES = CANDIDATES[:6]
#: With a step that divides a day, the week is a second season (a load's weekends):
#: these two read it, with windows of one week, where the series is long enough
WEEKLY = ("seasonal naive weekly", "ridge weekly")
NETWORKS = ("lstm", "lstm global", "gru", "gru global")
#: Backtest origins at most when ``n_origins`` is None: a choice between five
#: candidates is settled long before (each origin costs one forecast per candidate)
MAX_ORIGINS = 250

class MeanForecaster:
    """The mean of several forecasters' forecasts (an AutoForecaster's choice of
    more than one candidate).

    Parameters
    ----------
    forecasters : list of Forecaster
        Unfitted; :meth:`fit` fits each on the same data.

    Attributes
    ----------
    forecasters : list of Forecaster
        Fitted by :meth:`fit`.
    """

    def __init__(self, forecasters):
        self.forecasters = forecasters

    def fit(self, y, X=None):
        """Fit every member on ``y`` (and ``X``); returns self."""
        for f in self.forecasters:
            f.fit(y, X)
        return self

    def predict(self, steps=None, X=None, history=None, history_X=None):
        """The mean of the members' :meth:`Forecaster.predict`."""
        preds = [f.predict(steps, X=X, history=history, history_X=history_X)
                 for f in self.forecasters]
        return sum(preds[1:], preds[0]) / len(preds)


def default_origins(n_steps, horizon, holdout=0.2):
    """The backtest origins AutoForecaster's ``n_origins=None`` asks for first: as
    many as the last ``holdout`` of ``n_steps`` hold, at least 3, at most
    :data:`MAX_ORIGINS` (a series too short for them gets fewer)."""
    return min(MAX_ORIGINS, max(3, int(holdout * n_steps) // horizon))


def _count(n, noun):
    """``n`` and ``noun``, in the plural unless ``n`` is 1: "1 origin", "3 steps"."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _scores(folds):
    """name -> [(actual, forecast) per fold]: the mean absolute errors of each fold,
    and over all the folds."""
    errors = {k: [np.abs(a - f) for a, f in v] for k, v in folds.items()}
    return ({k: [float(np.mean(e)) for e in v] for k, v in errors.items()},
            {k: float(np.mean(np.concatenate(v))) for k, v in errors.items()})


class AutoForecaster(BaseEstimator):
    """A Forecaster chosen among baselines and networks by backtesting its own data.

    Parameters
    ----------
    horizon : int, default=1
        Steps forecast at once, and scored after each backtest origin.
    season : int, default=None
        The seasonal period; None infers it from the index (see
        :func:`tsbptt.forecasting.windowing.infer_season`).
    lags : int, default=None
        Window length of every candidate (a 'weekly' one named in ``candidates``
        reads a week; with ``lags`` given they are no default candidates); None:
        the Forecaster's default (twice the season, at least 8), at most half of
        what the backtest's first fit leaves after a horizon, so that a short
        series can be backtested.
    candidates : sequence of str, default=None
        A subset of ``('seasonal naive', 'naive', 'drift', 'ridge', 'lstm', 'lstm
        global', 'gru', 'gru global', 'seasonal naive weekly', 'ridge weekly')``
        ('drift': :class:`SeasonalNaive` with ``drift=True``, a trend carried on
        at each phase of the season; 'ridge': ``Ridge(1.0)`` on the globally
        scaled lags, as a Forecaster scales a scikit-learn model; a network named
        'global' is fitted with ``scaling='global'``, the other networks with
        scale-free windows; a 'weekly' one
        reads the week as its season, with windows of a week); None: the first
        six ('naive' only when the season is longer than 1, 'drift' where the
        window is longer than the season), and the two weekly ones where ``season`` is inferred
        (and ``lags`` not given) from a step that divides a day (hourly: a week
        of 168 steps, the weekend of a load that the day's 24 miss) and the
        backtest's first fit holds a week and two horizons. Named, they need a
        season equal to the steps in a day (inferred or given: 288 for 5-minute
        data, whose inferred season is 1).
    n_origins : int, default=None
        Backtest origins, ``horizon`` steps apart, at the end of the training data;
        None: as many as the last ``holdout`` of the steps hold, at least 3 and at
        most :data:`MAX_ORIGINS` (250: a long series' backtest is then the latest
        250 horizons; 4,166 origins of 500,000 hourly steps took two minutes); a
        series too short for 3 gets as many as its first fit leaves room for (1
        or 2; ``len(origins_)`` says how many).
    holdout : float, default=0.2
        With ``n_origins=None``, the fraction of the latest steps scored (at
        most :data:`MAX_ORIGINS` horizons of them).
    n_folds : int, default=3
        The origins are split into this many consecutive blocks (fewer when there
        are fewer origins); each candidate is fitted once per block, on the steps
        before the block's first origin, and moves its window over the block's
        origins. More folds: a choice less tied to one training cut, at one fit
        per fold and candidate.
    refit : bool, default=False
        Refit each candidate at every origin (``n_folds`` is then ignored).
    n_best : int, default=3
        The forecast is the mean of the forecasts of the ``n_best`` candidates with
        the least mean absolute backtest error (fewer when fewer are within
        ``within``); 1: the best alone.
    within : float, default=1.5
        Only candidates whose backtest error is at most ``within`` times the best
        one's are averaged: a candidate that wins by more than that is chosen
        alone, and one that loses by more is never averaged in.
    random_state : int or None, default=None
        Seed of the networks.
    n_threads : int or None, default=None
        Threads of the networks.
    freq : str or DateOffset or int or None, default=None
        As :class:`tsbptt.Forecaster`'s.
    fill : {None, 'ffill', 'interpolate'}, default=None
        As :class:`tsbptt.Forecaster`'s, done once before the backtest: the
        candidates are scored against the filled series and fitted on it.
    bounds : tuple (low, high) or None, default=None
        As :class:`tsbptt.Forecaster`'s (``(0, None)`` for sales or counts): every
        candidate's forecasts are clipped to it, in the backtest and after.

    Attributes
    ----------
    choice_ : str
        The chosen candidates, best first, joined by ``' + '`` (``'ridge +
        lstm'``: the mean of the two), or one candidate's name.
    members_ : list of str
        The chosen candidates, best first.
    scores_ : dict
        Candidate name -> mean absolute error over the backtest origins; with more
        than one member, also ``choice_`` -> the error of the members' mean
        forecast over the same origins (from their backtest forecasts, no extra
        fit).
    fold_scores_ : dict
        The same names -> list of the mean absolute errors of each fold.
    forecaster_ : Forecaster or MeanForecaster
        The chosen candidate (or the mean of the chosen ones), fitted on all the
        data.
    season_ : int
    origins_ : Index
        The last training timestamp of each backtest origin (all inside the data
        ``fit`` was given).
    n_filled_ : int
        How many values ``fill`` filled in (0 without it).
    residuals_ : ndarray of shape (n_origins, horizon)
        The choice's backtest errors (actual minus forecast), one row an origin,
        one column a step ahead: the scores of :meth:`predict_interval`.
    """

    _parameter_constraints = {  # noqa: RUF012 (scikit-learn's convention)
        "horizon": [Interval(Integral, 1, None, closed="left")],
        "season": [Interval(Integral, 1, None, closed="left"), None],
        "lags": [Interval(Integral, 1, None, closed="left"), None],
        "candidates": [list, tuple, None],
        "n_origins": [Interval(Integral, 1, None, closed="left"), None],
        "holdout": [Interval(Real, 0, 1, closed="neither")],
        "n_folds": [Interval(Integral, 1, None, closed="left")],
        "refit": ["boolean"],
        "n_best": [Interval(Integral, 1, None, closed="left")],
        "within": [Interval(Real, 1, None, closed="left")],
        "random_state": ["random_state"],
        "n_threads": N_THREADS_CONSTRAINTS,
        "freq": [str, pd.offsets.BaseOffset, Interval(Integral, 1, None, closed="left"), None],
        "fill": [StrOptions(set(FILL_METHODS)), None],
        "bounds": [tuple, list, None],
    }

    def __init__(self, horizon: int = 1, *, season: int | None = None,
                 lags: int | None = None, candidates: tuple[str, ...] | None = None,
                 n_origins: int | None = None, holdout: float = 0.2, n_folds: int = 3,
                 refit: bool = False, n_best: int = 3, within: float = 1.5,
                 random_state: int | None = None, n_threads: int | None = None,
                 freq: str | int | None = None, fill: str | None = None,
                 bounds: tuple[float | None, float | None] | None = None) -> None:
        self.horizon = horizon
        self.season = season
        self.lags = lags
        self.candidates = candidates
        self.n_origins = n_origins
        self.holdout = holdout
        self.n_folds = n_folds
        self.refit = refit
        self.n_best = n_best
        self.within = within
        self.random_state = random_state
        self.n_threads = n_threads
        self.freq = freq
        self.fill = fill
        self.bounds = bounds

    # what backtest() reads of a forecaster
    strategy = "direct"
    future_exog = None

    def _candidate(self, name, season, lags):
        # a weekly one reads a week whatever lags says
        said = (f"AutoForecaster's {name!r} reads windows of a week" if name in WEEKLY
                else None if self.lags is not None
                else "the window AutoForecaster's candidates share for lags=None: twice "
                     "the season, at least 8, at most half of its first backtest fit")
        if name in WEEKLY:  # one week: the season and the window
            season = lags = self._week
            name = name.removesuffix(" weekly")
        net = {"random_state": self.random_state, "n_threads": self.n_threads}
        model = {"seasonal naive": lambda: SeasonalNaive(season),
                 "naive": lambda: SeasonalNaive(1),
                 "drift": lambda: SeasonalNaive(season, drift=True),
                 "ridge": lambda: Ridge(1.0),
                 "lstm": lambda: LSTMRegressor(**net),
                 "gru": lambda: GRURegressor(**net)}[name.removesuffix(" global")]()
        member = Forecaster(model, lags=lags, horizon=self.horizon, season=season,
                            freq=self.freq, bounds=self.bounds,
                            scaling="global" if name.endswith("global") else "auto")
        if said is not None:  # its messages say where a lags never given came from
            member._lags_said = said
        return member

    def _names(self, season, no_week, lags):
        """The candidates backtested (``no_week``: why the week does not fit the
        data, or None where it does; ``lags``: the window every other candidate
        reads, which 'drift' needs longer than a season)."""
        weekly = no_week is None
        if self.candidates is None:
            return [c for c in DEFAULT_CANDIDATES if (c != "naive" or season > 1)
                    and (c != "drift" or lags > season)] + (list(WEEKLY) if weekly else [])
        names = list(self.candidates)
        bad = [c for c in names if c not in CANDIDATES]
        if bad or not names:
            raise ValueError(f"candidates={self.candidates!r}: unknown {bad}; choose "
                             f"from {list(CANDIDATES)}")
        asked = [c for c in names if c in WEEKLY]
        if asked and not weekly:
            raise ValueError(f"candidates {asked} read a week as a second season: "
                             f"{no_week}")
        return names

    @staticmethod
    def _weekly_season(step, season):
        """(the week in steps, None) where the step divides a day into ``season``
        steps (a second season beside the day's), else (None, why not)."""
        try:  # pd.DateOffset(hours=1) steps as 'h' does
            offset = pd.tseries.frequencies.to_offset(step)
            if type(offset) is pd.DateOffset:
                offset = _alias_offset(offset)
            per_day = pd.Timedelta(days=1) / pd.Timedelta(offset)
        except (TypeError, ValueError, AttributeError):
            per_day = None
        if season > 1 and per_day == season:
            return 7 * season, None
        if per_day is None:  # an integer index, or steps of no fixed length
            return None, ("the series' times have no fixed step in days (an integer "
                          "index, or months): a week needs dated times of a step that "
                          "divides a day")
        return None, (f"the season ({season}) is not the number of the series' steps in "
                      f"a day ({per_day:g}); give season= as that number")

    def fit(self, y: pd.Series | pd.DataFrame, X: pd.DataFrame | None = None
            ) -> AutoForecaster:
        """Backtest the candidates on ``y``, then fit the best on all of it.

        Parameters
        ----------
        y : Series with a regular DatetimeIndex or integer index
        X : None
            Covariates are not supported (the argument keeps the Forecaster's
            signature, so :func:`tsbptt.backtest` can refit an AutoForecaster).

        Returns
        -------
        self
        """
        self._validate_params()
        refuse_bool_numbers(self)
        limits_of(self.bounds)  # before any backtest
        if X is not None:
            raise ValueError("AutoForecaster takes no covariates (X); use a Forecaster "
                             "with future_exog / past covariates")
        if not isinstance(y, pd.Series) or isinstance(y.index, pd.MultiIndex):
            raise TypeError(f"AutoForecaster fits one series (a pandas Series), got "
                            f"{type(y).__name__}")
        # Ctrl-C stops the search, not one of its fits; a refit cut short (or failing)
        # keeps the previous fit whole, not a mix of old and new attributes
        with interrupts_stop_every_fit(), undone_on_failure(self):
            return self._fit(y)

    def _fit(self, y):
        self.n_filled_ = 0
        if self.fill is not None:  # once: the backtests score the filled series
            (entry,), _, _ = to_entries(y, freq=self.freq, fill=self.fill)
            y, self.n_filled_ = entry.y, int(entry.n_filled)
        folds, origins, steps = self._backtest_all(y)
        self.fold_scores_, self.scores_ = _scores(folds)
        self.origins_ = pd.Index(origins)
        self.members_ = self._choose()
        self.choice_ = " + ".join(self.members_)
        chosen = folds[self.members_[0]]
        if len(self.members_) > 1:  # the mean's own backtest error, for the record
            chosen = [(a, sum(folds[m][i][1] for m in self.members_) / len(self.members_))
                      for i, (a, _) in enumerate(folds[self.members_[0]])]
            fold, score = _scores({self.choice_: chosen})
            self.fold_scores_.update(fold)
            self.scores_.update(score)
        # the choice's backtest errors, one row an origin: its intervals' scores
        error = np.concatenate([a - f for a, f in chosen])
        self.residuals_ = np.stack([error[steps == h] for h in range(1, self.horizon + 1)],
                                   axis=1)
        season, lags = self.season_, self._window
        members = [self._candidate(m, season, lags) for m in self.members_]
        for name, member in zip(self.members_, members):  # its warning, in its words
            member._convergence_said = (
                f"AutoForecaster (the chosen {name!r})",
                "AutoForecaster trains its networks within the forecasting budget (at "
                f"most {BUDGET['max_iter']} epochs); to train longer, fit a Forecaster "
                "with that model and training='as_given'")
        self.forecaster_ = (members[0] if len(members) == 1
                            else MeanForecaster(members)).fit(y)
        for member in members:  # a refit of the member itself is the user's own
            vars(member).pop("_convergence_said", None)
        return self

    def _lags(self, first_fit):
        """``lags``, or the Forecaster's default (twice the season, at least 8) at
        most half of what the backtest's first fit (``first_fit`` steps) leaves after
        a horizon: every candidate, backtested and final, reads one window length."""
        if self.lags is not None:
            return self.lags
        return max(1, min(max(2 * self.season_, 8), (first_fit - self.horizon) // 2))

    def _backtest_all(self, y):
        """Set ``season_``; backtest every candidate on ``y``: name ->
        [(actual, forecast) of each fold], the origins, and each row's step ahead."""
        step = to_entries(y, freq=self.freq)[2]
        self.season_ = infer_season(step) if self.season is None else self.season
        season = self.season_
        n_origins = self.n_origins or default_origins(len(y), self.horizon, self.holdout)
        if self.n_origins is None and not self._origins_fit(len(y), n_origins):
            # a short series: as many origins as fit (it was refused below three,
            # even where one or two would do: most yearly series of 30 years)
            n_origins = next((k for k in range(n_origins - 1, 0, -1)
                              if self._origins_fit(len(y), k)), n_origins)
        initial = len(y) - n_origins * self.horizon
        self._week, no_week = self._weekly_season(step, season)
        if self._week is not None and initial < self._week + 2 * self.horizon:
            no_week = (f"the backtest's first fit ({_count(initial, 'step')}) is shorter "
                       f"than a week's window and two horizons "
                       f"({self._week + 2 * self.horizon}): give a longer series, or "
                       "fewer origins (n_origins)")
        self._window = lags = self._lags(initial)
        names = self._names(season, no_week, lags)
        if self.candidates is None and (self.season is not None or self.lags is not None):
            names = [n for n in names if n not in WEEKLY]  # season, windows as given
        need = max(lags + 2 * self.horizon, season + 1)
        if self.lags is None and lags < season:  # the windows must hold a season
            room = (f"the first fit's {_count(initial, 'step')} leave room for windows of "
                    f"{_count(lags, 'step')}" if initial > self.horizon else
                    f"they leave {_count(max(initial, 0), 'step')} for the first fit")
            raise ValueError(f"y has {len(y)} steps: too short to backtest "
                             f"{_count(n_origins, 'origin')} of horizon={self.horizon}: "
                             f"{room}, fewer than a season ({season}); "
                             f"give a longer series or a shorter horizon"
                             f"{self._fewer_origins(len(y), n_origins)}, or fit a Forecaster")
        if initial < need:
            given = "" if self.lags is None else f" with lags={lags}"
            raise ValueError(f"y has {len(y)} steps: too short to backtest "
                             f"{_count(n_origins, 'origin')} of horizon={self.horizon}{given} "
                             f"(needs at least {need + n_origins * self.horizon})"
                             f"{self._fewer_origins(len(y), n_origins)}")
        if "drift" in names and lags <= season:  # named: the defaults leave it out
            raise ValueError(f"candidate 'drift' reads the change over its window, "
                             f"which holds {_count(lags, 'step')}, no more than the "
                             f"season ({season}): give lags > season, or a longer series")
        folds = {}
        for name in names:  # each row's step ahead: the same for every candidate
            folds[name], origins, steps = self._backtest(name, y, initial, season, lags)
        return folds, origins, steps

    def _origins_fit(self, n_steps, k):
        """Whether a series of ``n_steps`` holds ``k`` backtest origins: a first fit
        of windows of a season (or of ``lags``; longer than a season where 'drift'
        is named among the candidates) and two horizons."""
        initial = n_steps - k * self.horizon
        lags = self._lags(initial)
        drift = self.candidates is not None and "drift" in self.candidates
        return ((self.lags is not None or lags >= self.season_ + drift)
                and initial >= max(lags + 2 * self.horizon, self.season_ + 1))

    def _fewer_origins(self, n_steps, n_origins):
        """A hint naming the most origins a series of ``n_steps`` allows, where fewer
        than ``n_origins`` (at least one) would do."""
        for k in range(n_origins - 1, 0, -1):
            if self._origins_fit(n_steps, k):
                return f" (or backtest fewer origins: n_origins={k})"
        return ""

    def _backtest(self, name, y, initial, season, lags):
        """(actual, forecast) arrays of each fold, the origins, and each row's step
        ahead (all folds' rows, in order)."""
        starts = np.arange(initial, len(y), self.horizon)
        folds = ([starts] if self.refit else
                 np.array_split(starts, min(self.n_folds, len(starts))))
        errors, origins, steps = [], [], []
        for block in folds:
            end = min(block[-1] + self.horizon, len(y))
            # the choice reads MAE, never MASE; the candidates' backtest fits train
            # within the forecasting budget by design, and the warning named a "final
            # model" and advised a parameter AutoForecaster does not have (the final
            # fit still warns). Quieted in this thread only: catch_warnings swapped
            # the process's filters, and two fits in two threads left them for good
            with quieted("undefined mase", "convergence"):
                bt = backtest(self._candidate(name, season, lags), y.iloc[:end],
                              initial=int(block[0]), step=self.horizon,
                              refit=self.refit, season=season)
            f = bt.forecasts
            errors.append((f["actual"].to_numpy(), f["forecast"].to_numpy()))
            origins.extend(f["origin"].drop_duplicates())
            steps.append(f["step"].to_numpy())
        return errors, origins, np.concatenate(steps)

    def _choose(self):
        """The best ``n_best`` candidates within ``within`` of the best, best first
        (ties: in the order of the candidates)."""
        scores = {k: v for k, v in self.scores_.items() if " + " not in k}
        ranked = sorted(scores, key=scores.get)  # stable: ties keep the order
        best = scores[ranked[0]]
        return [k for k in ranked if scores[k] <= self.within * best][:self.n_best]

    @property
    def network_loses_(self) -> bool | None:
        """Whether the best network scored worse than seasonal naive (None when one
        of them was not a candidate)."""
        check_is_fitted(self)
        nets = [v for k, v in self.scores_.items() if k in NETWORKS]
        if not nets or "seasonal naive" not in self.scores_:
            return None
        return min(nets) > self.scores_["seasonal naive"]

    def summary(self) -> str:
        """One line: the choice and every candidate's backtest error."""
        check_is_fitted(self)
        scores = ", ".join(f"{k} {v:.4g}" for k, v in
                           sorted(self.scores_.items(), key=lambda kv: kv[1]))
        mean = ("" if len(self.members_) == 1 else
                f"the mean of the {len(self.members_)} best within {self.within:g} times "
                "the best's error: on unseen data such a mean held up better than the "
                "backtest's winner alone; ")
        week = ("" if not any(m in WEEKLY for m in self.members_) else
                f", the weekly ones' {self._week}")
        return (f"chose {self.choice_} ({mean}season {self.season_}{week}; mean absolute "
                f"error over {len(self.origins_)} backtest origins of the training data: "
                f"{scores})")

    def predict(self, steps: int | None = None, X: pd.DataFrame | None = None,
                history: pd.Series | pd.DataFrame | None = None,
                history_X: pd.DataFrame | None = None) -> pd.Series | pd.DataFrame:
        """The chosen forecaster's :meth:`Forecaster.predict`."""
        check_is_fitted(self)
        return self.forecaster_.predict(steps, X=X, history=history, history_X=history_X)

    def predict_interval(self, steps: int | None = None, X: pd.DataFrame | None = None,
                         coverage: float = 0.9, history: pd.Series | None = None,
                         history_X: pd.DataFrame | None = None) -> pd.DataFrame:
        """Forecasts with a prediction interval from the choice's own backtest.

        The backtest that chose the forecast scored it at every origin on data its
        fits had not seen: the interval is the forecast plus or minus the
        split-conformal quantile of those absolute errors, step by step ahead
        (``residuals_``, one row an origin); no extra fit. It needs m origins
        with ``ceil((m + 1) * coverage) <= m``: 9 for 90%, 19 for 95%.

        Parameters
        ----------
        steps, X, history, history_X : as in :meth:`predict`
            ``steps`` at most ``horizon`` (the backtest scored those).
        coverage : float in (0, 1), default=0.9
            Nominal probability that the actual value falls in [lower, upper].

        Returns
        -------
        DataFrame
            Columns ``forecast``, ``lower`` and ``upper`` on :meth:`predict`'s
            index, clipped to ``bounds``; ``attrs['coverage']`` holds the coverage.

        Raises
        ------
        ValueError
            If ``coverage`` is not in (0, 1), ``steps`` exceeds ``horizon``, or the
            backtest had too few origins for the coverage (the message says how
            many ``n_origins`` to give).
        """
        check_is_fitted(self)
        if isinstance(coverage, (bool, np.bool_)) or not isinstance(coverage, Real) \
                or not 0 < coverage < 1:
            raise ValueError(f"coverage must lie strictly between 0 and 1, got {coverage!r}")
        n = self.horizon if steps is None else steps
        if isinstance(n, Integral) and not isinstance(n, (bool, np.bool_)) \
                and n > self.horizon:
            raise ValueError(f"the backtest scored {self.horizon} steps ahead (horizon), "
                             f"steps={steps} asks for more")
        forecast = self.predict(steps, X=X, history=history, history_X=history_X)
        m = len(self.residuals_)
        if np.ceil((m + 1) * coverage - 1e-9) > m:
            # where the series held no more (n_origins=None took what fit), more
            # origins cannot be asked for: name the coverage these allow
            most = (f"; the series held {m}, which allow a coverage of at most "
                    f"{m / (m + 1):.3g}" if self.n_origins is None and m < 3 else "")
            raise ValueError(f"coverage={coverage} needs at least {_needed(coverage)} "
                             f"backtest origins, AutoForecaster scored {m}: fit with "
                             f"n_origins={_needed(coverage)} or more (or a larger "
                             f"holdout){most}")
        half = _conformal_quantile(np.abs(self.residuals_[:, :len(forecast)]), coverage)
        low, high = limits_of(self.bounds)
        out = pd.DataFrame({"forecast": forecast,
                            "lower": np.clip(forecast.to_numpy() - half, low, high),
                            "upper": np.clip(forecast.to_numpy() + half, low, high)},
                           index=forecast.index)
        out.attrs["coverage"] = float(coverage)
        return out
