"""One model per series of a panel: :class:`LocalModels`, fitted in parallel.

A global :class:`~tsbptt.forecasting.Forecaster` fits one model on the windows of
every series; ``LocalModels(Forecaster(...))`` fits a clone per series instead
(the classical statistical setting, and what a baseline of a global model should
be compared with). Its ``fit``, ``predict``, ``predict_interval``, ``update`` and
``score`` take and return the same layouts as the Forecaster's (a dict of Series, a
long Series with a (series id, time) MultiIndex, or a long DataFrame with the columns
``id_col``, ``time_col``, ``target_col``, Nixtla's layout), so the two are
interchangeable, in :func:`~tsbptt.forecasting.backtesting.backtest` too.

The series are independent, so every series is one joblib job
(:func:`~tsbptt.forecasting._parallel.parallel_map`): ``n_jobs`` spreads them
over local processes, and ``joblib.parallel_config(backend="dask")`` over a Dask
cluster. Each clone sees only its series, so the fitted models are bitwise those
of fitting each series alone, whatever ``n_jobs`` and the backend.

Why a wrapper rather than ``Forecaster(per_series=True)``: the Forecaster's
state (one scaling per series, one model, one calibration) is that of a global
model; a wrapper keeps both classes simple, and each member is a complete,
ordinary Forecaster (``forecasters_[key]``) that can be inspected, saved or
backtested on its own.
"""
from contextlib import contextmanager
from numbers import Integral

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone, is_classifier, is_regressor
from sklearn.utils._param_validation import HasMethods
from sklearn.utils.validation import check_is_fitted

from ._forecaster import reads_future_X
from ._panel import (_entries, _zone_name, check_indexed_alike, frame_to_long, in_rows_of,
                     in_zone_of, long_to_user, split_future, to_entries, to_output)
from ._parallel import check_n_jobs, parallel_map
from .backtesting import backtest
from ..utils._validation import check_window_length, small_spread_once_in

__all__ = ["LocalModels", "backtest_series"]


def _fit_one(forecaster, key, y, X):
    with _naming(key):
        return clone(forecaster).fit(y, X)


@contextmanager
def _naming(key):
    """Prefix a ValueError or TypeError raised inside with the series it is about
    (a lone series' messages say "y")."""
    try:
        yield
    except (ValueError, TypeError) as exc:
        if key is None or type(exc) not in (ValueError, TypeError):
            raise  # a lone series' messages already say "y"
        raise type(exc)(f"series {key!r}: {exc}") from exc


def _check_before_fitting(forecaster, entries):
    """The template's parameters, then every series' data (index, missing values,
    length for an integer ``lags``), before any model is fitted: a bad last series
    once failed after all the others' fits."""
    template = clone(forecaster)
    if is_regressor(template) or is_classifier(template):
        # Ridge().fit(y, X=None) read the series as the features and failed on a
        # missing y, named after the first series
        raise ValueError(f"forecaster must be a forecaster of a series (a tsbptt "
                         f"Forecaster), got {type(template).__name__}, a scikit-learn "
                         f"model of windows: wrap it, LocalModels(Forecaster("
                         f"{type(template).__name__}(...), lags=...))")
    if hasattr(template, "_parameter_constraints"):  # its own errors first
        template._validate_params()
    if getattr(template, "static_features", None):
        raise ValueError(f"static_features={template.static_features!r}: a static "
                         "feature is one value per series, which a model of one series "
                         "cannot learn from; drop it here, or fit one Forecaster over all "
                         "the series, which can")
    freq, fill, lags, horizon = (getattr(template, k, None)
                                 for k in ("freq", "fill", "lags", "horizon"))
    steps = []
    for e in entries:
        with _naming(e.key):
            (checked,), _, step = to_entries(e.y, e.X, freq=freq, fill=fill)
            if isinstance(lags, Integral):  # None: read from each series
                check_window_length(len(checked.y), lags, horizon or 1, what="y")
        steps.append(step)
    return _templates(forecaster, entries, steps, freq, fill)


def _templates(forecaster, entries, steps, freq, fill):
    """The template of each series' model: ``forecaster``, or, where a series reads
    at another step than the panel as a whole (a ticker listed five sessions ago
    reads as daily, Monday to Friday), a clone told the panel's step, as a global
    Forecaster reads it (series of other frequencies keep their own)."""
    if freq is not None or len(set(steps)) < 2 or "freq" not in forecaster.get_params():
        return [forecaster] * len(entries)
    try:
        _, _, common = to_entries({i: e.y for i, e in enumerate(entries)},
                                  None if entries[0].X is None else
                                  {i: e.X for i, e in enumerate(entries)}, fill=fill)
    except (ValueError, TypeError):  # series of other frequencies: each its own
        return [forecaster] * len(entries)
    told = clone(forecaster).set_params(freq=common)
    return [forecaster if s == common else told for s in steps]


def _call(model, method, kwargs, key=None):
    with _naming(key):  # which of many series refused its covariates, say
        return getattr(model, method)(**kwargs)


class LocalModels(BaseEstimator):
    """Fit a clone of a forecaster on each series of a panel, in parallel.

    Parameters
    ----------
    forecaster : Forecaster
        The template; cloned once per series in ``fit`` (its ``series_id`` has
        nothing to tell apart and is ignored by each lone-series clone).
    n_jobs : int or None, default=None
        Series fitted (and forecast) at once, through joblib: None runs them one
        after the other unless a ``joblib.parallel_config`` says otherwise, -1
        uses every core or Dask worker.
    id_col, time_col, target_col : str, default='unique_id', 'ds', 'y'
        The columns of a long DataFrame ``y`` (one row per series and time step;
        its other columns are covariates): forecasts then come back as a
        DataFrame with the columns ``id_col``, ``time_col`` and ``target_col``
        (``forecast``, ``lower``, ``upper`` for intervals), as from the
        Forecaster. Future covariates ``X`` may be given the same way.

    Attributes
    ----------
    forecasters_ : dict
        Series key -> the fitted Forecaster of that series, in ``series_`` order.
    series_ : list
        The series keys, in the order of ``y``.
    layout_ : {'single', 'dict', 'long'}
        The layout of ``y``; forecasts come back in it.
    long_frame_ : bool
        Whether ``y`` was a long DataFrame (forecasts come back as one).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from sklearn.linear_model import Ridge
    >>> from tsbptt import Forecaster
    >>> from tsbptt.forecasting.local import LocalModels
    >>> t = np.arange(60)
    >>> panel = {k: pd.Series(np.sin(t / (3 + k)) + k, index=t) for k in range(3)}
    >>> models = LocalModels(Forecaster(Ridge(), lags=6, horizon=2)).fit(panel)
    >>> models.predict().shape
    (6,)
    """

    _parameter_constraints = {
        "forecaster": [HasMethods(["fit", "predict"])],
        "n_jobs": [Integral, None],  # check_n_jobs refuses 0 and booleans
        "id_col": [str],
        "time_col": [str],
        "target_col": [str],
    }

    def __init__(self, forecaster, *, n_jobs=None, id_col="unique_id", time_col="ds",
                 target_col="y"):
        self.forecaster = forecaster
        self.n_jobs = n_jobs
        self.id_col = id_col
        self.time_col = time_col
        self.target_col = target_col

    def _template(self):
        """The Forecaster whose settings a backtest reads: the backtests find a
        LocalModels by this method (``_panel_backtest.settings_of``, which cannot
        import this module); keep its name."""
        return self.forecaster

    def _from_frame(self, y, X, what="y"):
        """A long DataFrame ``y`` (or future covariates ``X`` as one) -> the long
        Series layout; any other layout as it is."""
        if isinstance(y, pd.DataFrame):
            if X is not None:
                raise ValueError(f"{what} is a long DataFrame: give its covariates as its "
                                 "other columns, not as a separate X")
            return frame_to_long(y, self.id_col, self.time_col, self.target_col, what)
        if isinstance(X, pd.DataFrame) and not isinstance(X.index, pd.MultiIndex) \
                and self.id_col in X.columns and self.time_col in X.columns:
            X = frame_to_long(X, self.id_col, self.time_col, None, "X")[1]
        return y, X

    def _to_user(self, out):
        """Forecasts in the layout of the training data (a long frame if it was one)."""
        return long_to_user(out, self.long_frame_)

    @small_spread_once_in  # one note for all the series' forecasters
    def fit(self, y, X=None):
        """Fit one clone of ``forecaster`` per series.

        Parameters
        ----------
        y : Series, dict of Series, Series with a (series id, time) MultiIndex, or
            a long DataFrame (columns ``id_col``, ``time_col``, ``target_col`` and
            covariates)
        X : DataFrame in y's layout (dict of DataFrames for a dict y), default=None

        Returns
        -------
        self
        """
        self._validate_params()
        check_n_jobs(self.n_jobs)
        long_frame = isinstance(y, pd.DataFrame)
        y, X = self._from_frame(y, X)
        entries, layout = _entries(y, X)
        check_indexed_alike(entries)  # the forecasts share one index: one zone object
        entries = [in_zone_of(entries[0].y.index, e) for e in entries]
        keys = [e.key for e in entries]
        if len(set(keys)) != len(keys):
            raise ValueError("y's series ids must be unique; got repeated ids")
        templates = _check_before_fitting(self.forecaster, entries)
        fitted = parallel_map(_fit_one, [(t, e.key, e.y, e.X)
                                         for t, e in zip(templates, entries)], self.n_jobs)
        self.series_, self.layout_, self.long_frame_ = keys, layout, long_frame
        self.forecasters_ = dict(zip(keys, fitted))
        self._index_names = (list(y.index.names) if layout == "long"
                             else ["series", entries[0].y.index.name or "time"])
        return self

    def _per_series(self, method, steps, X, **extra):
        check_is_fitted(self)
        X = self._from_frame(None, X)[1]
        futures = split_future(X, self.layout_, self.series_)
        jobs = [(self.forecasters_[k], method, dict(steps=steps, X=futures[k], **extra),
                 k) for k in self.series_]
        out = parallel_map(_call, jobs, self.n_jobs)
        return to_output(list(zip(self.series_, out)), self.layout_, self._index_names)

    def predict(self, steps=None, X=None):
        """Forecast ``steps`` steps after each series.

        Parameters
        ----------
        steps : int, default=None (the forecaster's horizon)
        X : DataFrame in y's layout, default=None
            The future-known covariates of each series on its forecast steps.

        Returns
        -------
        Series or DataFrame
            As :meth:`Forecaster.predict`: one series, or many with a (series id,
            time) MultiIndex, in ``series_`` order; a long DataFrame if ``y`` was.
        """
        return self._to_user(self._per_series("predict", steps, X))

    def predict_interval(self, steps=None, X=None, coverage=None):
        """Forecasts with intervals (the forecaster needs ``interval`` set).

        Parameters
        ----------
        steps : int, default=None (the forecaster's horizon)
        X : DataFrame in y's layout, default=None
            The future-known covariates of each series on its forecast steps.
        coverage : float in (0, 1) or None, default=None
            The intervals' coverage (None: the forecaster's ``coverage``), as in
            :meth:`Forecaster.predict_interval`.

        Returns
        -------
        DataFrame
            Columns ``forecast``, ``lower``, ``upper``, laid out as :meth:`predict`.
        """
        out = self._per_series("predict_interval", steps, X, coverage=coverage)
        first = self.forecasters_[self.series_[0]]
        out.attrs["coverage"] = float(first.coverage if coverage is None else coverage)
        return self._to_user(out)

    def update(self, y_new, X_new=None):
        """Append newly observed values to the series they belong to (see
        :meth:`Forecaster.update`): no refit, the next forecasts start after them.

        Parameters
        ----------
        y_new : Series, dict of Series, Series with a (series id, time) MultiIndex,
            or a long DataFrame, in the layout of the training data
            The values right after each updated series' known ones; any of the
            fitted series may be updated, and none other.
        X_new : DataFrame in y's layout, default=None
            The covariates on y_new's steps (needed when fitted with covariates).

        Returns
        -------
        self
        """
        check_is_fitted(self)
        y_new, X_new = self._from_frame(y_new, X_new, "y_new")
        entries, _ = _entries(y_new, X_new)
        unknown = [e.key for e in entries if e.key not in self.forecasters_]
        if unknown:
            raise ValueError(f"y_new holds series {unknown[:5]!r} that were not fitted "
                             f"(the fitted series: {self.series_[:5]!r}"
                             f"{', ...' if len(self.series_) > 5 else ''}); fit again to "
                             "add series")
        # what an update changes, kept: a series refused after others were updated
        # puts them all back, as one Forecaster's update of a panel is all or nothing
        kept = {e.key: (dict(self.forecasters_[e.key].tails_),
                        getattr(self.forecasters_[e.key], "states_", None))
                for e in entries}
        try:
            for e in entries:
                with _naming(e.key):
                    self.forecasters_[e.key].update(e.y, e.X)
        except BaseException:
            for key, (tails, states) in kept.items():
                member = self.forecasters_[key]
                member.tails_ = tails
                if states is not None:
                    member.states_ = states
            raise
        return self

    def score(self, y, X=None):
        """Negative mean absolute error of forecasting ``y``, the steps right after
        each training series (all series pooled, as :meth:`Forecaster.score`).

        Parameters
        ----------
        y : the layout of the training data
            The same number of steps for every fitted series, matched by id in
            any order.
        X : DataFrame in y's layout, default=None
            Future-known covariates over y's steps.

        Returns
        -------
        float
            Higher is better, as scikit-learn's scorers expect.
        """
        check_is_fitted(self)
        y, X = self._from_frame(y, X)
        entries, _ = _entries(y, X)
        keys = [e.key for e in entries]
        if set(keys) != set(self.series_) or len(keys) != len(self.series_):
            # matched by id, in any order, as Forecaster.score matches them
            raise ValueError(f"y must hold the fitted series {self.series_!r}, got "
                             f"{keys!r}")
        steps = {len(e.y) for e in entries}
        if len(steps) != 1:
            raise ValueError(f"y must hold as many steps for every series, got {steps}")
        # a scorer holds every covariate of the test steps (see Forecaster.score)
        first = self.forecasters_[self.series_[0]]
        pred = self._per_series("predict", steps.pop(), reads_future_X(first, X))
        if isinstance(y, dict):
            y = to_output(list(y.items()), "dict", self._index_names)
        y = in_rows_of(pred.index, y)  # as Forecaster.score takes them
        if not pred.index.equals(y.index):
            raise ValueError("y must hold the steps right after the training series")
        return -float(np.mean(np.abs(y.to_numpy(np.float64) - pred.to_numpy(np.float64))))


def _backtest_one(forecaster, key, y, X, kwargs):
    # the series are the parallel jobs; each one's origins run in its job
    with _naming(key):
        return backtest(forecaster, y, X, n_jobs=1, **kwargs)


def backtest_series(forecaster, y, X=None, *, n_jobs=None, **kwargs):
    """:func:`~tsbptt.forecasting.backtesting.backtest` of every series of a
    panel, one model per series, the series in parallel.

    Parameters
    ----------
    forecaster : Forecaster
    y : Series, dict of Series, Series with a (series id, time) MultiIndex, or a
        long DataFrame with the forecaster's ``id_col``, ``time_col`` and
        ``target_col`` columns (its other columns are covariates)
    X : DataFrame in y's layout, default=None
    n_jobs : int or None, default=None
        Series backtested at once through joblib (see :class:`LocalModels`);
        each series' own origins run one after the other.
    **kwargs
        ``backtest``'s keywords (``initial``, ``step``, ``horizon``, ``refit``,
        ``season``, ``coverage``).

    Returns
    -------
    results : dict
        Series key -> its :class:`~tsbptt.forecasting.backtesting.Backtest`, in the
        order of ``y``; bitwise those of backtesting each series alone.
    forecasts : DataFrame
        Every series' forecast rows, a ``series`` column first.
    """
    n_jobs = check_n_jobs(n_jobs)
    if "verbose" in kwargs or "n_jobs" in kwargs:
        raise TypeError("backtest_series runs each series' backtest quietly on one job; "
                        "drop verbose and pass n_jobs only once")
    if isinstance(y, pd.DataFrame):
        if X is not None:
            raise ValueError("y is a long DataFrame: give its covariates as its other "
                             "columns, not as a separate X")
        y, X = frame_to_long(y, forecaster.id_col, forecaster.time_col,
                             forecaster.target_col)
    entries, _ = _entries(y, X)
    # each series is backtested alone (any index kinds), but the table shares one
    # origin and one time column: one zone, whichever library made it
    zones = sorted({_zone_name(e.y.index.tz) for e in entries
                    if getattr(e.y.index, "tz", None) is not None})
    if len(zones) > 1:
        raise ValueError(f"the series are in the time zones {zones}: the table's origin "
                         "and time columns would mix them; give every series in one zone "
                         "(tz_convert)")
    entries = [in_zone_of(entries[0].y.index, e) for e in entries]
    out = parallel_map(_backtest_one, [(forecaster, e.key, e.y, e.X, kwargs) for e in entries],
                       n_jobs)
    results = {e.key: r for e, r in zip(entries, out)}
    # one concat, then the key column once (a frame per series cost 1 ms each here,
    # serial time in the client while the workers idle)
    forecasts = pd.concat([r.forecasts for r in out], ignore_index=True)
    forecasts.insert(0, "series", pd.Series(
        [e.key for e, r in zip(entries, out) for _ in range(len(r.forecasts))]))
    return results, forecasts
