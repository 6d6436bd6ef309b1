"""Plots: forecasts with their intervals, training curves, gradient flow.

matplotlib is optional (``pip install 'tsbptt[plot]'``); it is imported when a
function is called, never at ``import tsbptt``. Every function draws on the Axes
given (or on a new figure), labels it, and returns the Axes; none calls
``plt.show()``, so the figures work in scripts, notebooks and tests alike.
"""

import importlib
from collections.abc import Mapping

import numpy as np
import pandas as pd

from .utils._validation import check_positive_int

__all__ = ["date_axis", "plot_forecast", "plot_gradient_flow", "plot_history"]

_CELL_NAMES = {"lstm": "LSTM", "gru": "GRU", "rnn": "RNN"}
_MISSING = "plotting needs matplotlib: pip install 'tsbptt[plot]'"


def _matplotlib(module="matplotlib.pyplot"):
    """``module`` of matplotlib, or an ImportError that says how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(_MISSING) from exc


def _pyplot():
    return _matplotlib("matplotlib.pyplot")


def _axes(ax, figsize):
    if ax is not None:
        return ax
    _, ax = _pyplot().subplots(figsize=figsize, layout="constrained")
    return ax


def _plain(value):
    """A NumPy scalar as the Python value it holds, to show in advice:
    ``1``, not ``np.int64(1)``."""
    return value.item() if isinstance(value, np.generic) else value


def _select_one_hint(frame, what):
    """How to take one series out of a DataFrame of several columns."""
    columns = list(frame.columns)
    if {"unique_id", "ds"} <= set(columns):  # Nixtla's long layout (Forecaster.predict)
        rest = [c for c in columns if c not in ("unique_id", "ds")]
        value = "y" if "y" in rest else (rest[0] if rest else "y")
        first = _plain(frame["unique_id"].iloc[0]) if len(frame) else "id"
        return (f"; for a long frame of many series, take one series' rows indexed by "
                f"time, e.g. {what}[{what}['unique_id'] == {first!r}]"
                f".set_index('ds')[{value!r}]")
    return (f"; select one column, e.g. {what}[{_plain(columns[0])!r}], or for a long "
            f"frame of many series one series' rows indexed by time: "
            f"{what}[{what}[id_col] == id].set_index(time_col)[value_col]")


def _one_series(obj, what):
    """``obj`` as a single-level Series (or DataFrame for the interval)."""
    if obj is None:
        return None
    if isinstance(obj, pd.DataFrame) and what != "interval":
        if obj.shape[1] != 1:
            hint = _select_one_hint(obj, what) if obj.shape[1] else ""
            raise ValueError(f"{what} must be a Series (one series per plot), got a "
                             f"DataFrame with {obj.shape[1]} columns{hint}")
        obj = obj.iloc[:, 0]
    if not isinstance(obj, (pd.Series, pd.DataFrame)):
        raise TypeError(f"{what} must be a pandas Series, got {type(obj).__name__}")
    if isinstance(obj.index, pd.MultiIndex):
        first = _plain(obj.index.get_level_values(0)[0]) if len(obj) else "id"
        raise ValueError(  # noqa: TRY004 - a wrong shape of data, not a wrong type
            f"{what} has a MultiIndex {list(obj.index.names)} (many series): "
            "plot_forecast draws one series per plot; select one series with "
            f".xs(id), e.g. {what}.xs({first!r})")
    if isinstance(obj.index, pd.PeriodIndex):
        obj = obj.copy()
        obj.index = obj.index.to_timestamp()
    return obj


def _x(index):
    """Values matplotlib converts itself: datetimes for dates, numbers otherwise."""
    if isinstance(index, pd.DatetimeIndex):
        return index.to_pydatetime() if index.tz is not None else index.to_numpy()
    return np.asarray(index)


def _check_zones(parts):
    """Dated parts all tz-aware or all naive: pandas refuses to compare the two,
    and matplotlib would draw the naive times as UTC, hours off the aware ones.
    Aware parts in different zones are fine: they are instants all the same."""
    dated = [(what, p.index.tz) for what, p in parts
             if len(p) and isinstance(p.index, pd.DatetimeIndex)]
    if not dated:
        return
    ref, ref_tz = dated[0]
    for what, tz in dated[1:]:
        if (tz is None) == (ref_tz is None):
            continue
        naive, aware, zone = (what, ref, ref_tz) if tz is None else (ref, what, tz)
        zone = str(zone)
        raise ValueError(
            f"{what}'s index is {'tz-naive' if tz is None else f'tz-aware ({tz})'} but "
            f"{ref}'s is {'tz-naive' if ref_tz is None else f'tz-aware ({ref_tz})'}: "
            "pandas cannot compare the two, and the naive times would be drawn as UTC. "
            f"Give both a zone, e.g. {naive}.tz_localize({zone!r}) if {naive}'s times "
            f"are local times there, or {naive}.tz_localize('UTC').tz_convert({zone!r}) "
            f"if they are UTC; or drop the zone with {aware}.tz_localize(None)")


def _check_order(index, what):
    """A line drawn through an index that goes back in time zig-zags."""
    if index.is_monotonic_increasing and index.is_unique:
        return
    if not index.is_unique:
        repeated = _plain(index[index.duplicated()][0])
        raise ValueError(
            f"{what}'s index must be increasing without repeats; {repeated!r} repeats. "
            "A backtest's forecasts repeat a time once per origin that reaches it: "
            "select one origin first, e.g. forecasts[forecasts.origin == origin] "
            "(forecasts.cutoff for a panel)")
    back = np.flatnonzero(~np.asarray(index[1:] >= index[:-1]))[0] + 1
    raise ValueError(f"{what}'s index must be increasing without repeats; "
                     f"{_plain(index[back])!r} (position {back}) comes after "
                     f"{_plain(index[back - 1])!r}: sort it first ({what}.sort_index())")


def date_axis(ax, tz=None):
    """Concise, automatically spaced date ticks on the x axis of ``ax``.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        The Axes whose x axis holds dates.
    tz : str, tzinfo or None, default=None
        The data's time zone, in which the ticks are labelled (matplotlib's
        default, UTC, put 11:00+01:00 at 10:00). None: UTC.
    """
    mdates = _matplotlib("matplotlib.dates")
    locator = mdates.AutoDateLocator(tz=tz)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, tz=tz))


def _coverage_label(interval):
    cov = interval.attrs.get("coverage")
    if cov is None:
        return "interval"
    cov = float(cov)
    pct = cov * 100 if cov <= 1 else cov
    return f"{pct:g}% interval"


def plot_forecast(history, forecast, interval=None, actual=None, ax=None, title=None,
                  history_tail=None):
    """Draw a series, its forecast, the forecast interval and the true values.

    Parameters
    ----------
    history : pandas.Series of shape (n_history,)
        The data the model saw, indexed by time (DatetimeIndex, PeriodIndex or
        integers).
    forecast : pandas.Series of shape (horizon,)
        Point forecasts, indexed by the future timestamps (as
        :meth:`tsbptt.Forecaster.predict` returns them).
    interval : pandas.DataFrame of shape (horizon, 2) or None, default=None
        Columns ``'lower'`` and ``'upper'`` on the forecast's index, drawn as a
        shaded band. Labelled e.g. "90% interval" when ``interval.attrs`` holds a
        ``'coverage'`` (0.9 or 90), else "interval".
    actual : pandas.Series of shape (n_actual,) or None, default=None
        The true values over the forecast period, for comparison.
    ax : matplotlib.axes.Axes or None, default=None
        Where to draw; None makes a new figure.
    title : str or None, default=None
    history_tail : int or None, default=None
        Show only the last ``history_tail`` points of ``history``.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    ValueError
        For a MultiIndex (many series): select one with ``.xs(id)`` first; for a
        DataFrame of several columns (e.g. a long ``unique_id``, ``ds``, ``y``
        frame): select one series first; for an interval without
        ``'lower'``/``'upper'`` columns; for dated and undated indexes mixed, or
        tz-aware and tz-naive dates mixed (aware ones in different zones are
        fine); for an index that is not increasing or repeats a value (e.g. a
        backtest's forecasts from several origins: select one origin).
    """
    history = _one_series(history, "history")
    forecast = _one_series(forecast, "forecast")
    actual = _one_series(actual, "actual")
    interval = _one_series(interval, "interval")
    if interval is not None and (not isinstance(interval, pd.DataFrame)
                                 or not {"lower", "upper"} <= set(interval.columns)):
        got = list(interval.columns) if isinstance(interval, pd.DataFrame) else "a Series"
        raise ValueError(f"interval must be a DataFrame with columns 'lower' and 'upper', "
                         f"got {got}")
    named = [(what, p) for what, p in (("history", history), ("forecast", forecast),
                                       ("actual", actual), ("interval", interval))
             if p is not None]
    for what, p in named:
        _check_order(p.index, what)
    if history_tail is not None:
        check_positive_int("history_tail", history_tail)
        history = history.iloc[-history_tail:]
        named[0] = ("history", history)
    parts = [p for _, p in named]
    dated = {isinstance(p.index, pd.DatetimeIndex) for p in parts if len(p)}
    if len(dated) > 1:
        raise ValueError("history, forecast, actual and interval must all be indexed "
                         "by dates, or all by numbers; got a mix")
    _check_zones(named)

    ax = _axes(ax, (9, 4))
    # a line through one point is invisible: one point gets a marker
    ax.plot(_x(history.index), history.to_numpy(), color="C0", lw=1.5, ms=3,
            marker="o" if len(history) == 1 else None, label="history")
    if interval is not None:
        x, lower = _x(interval.index), interval["lower"].to_numpy(float)
        upper = interval["upper"].to_numpy(float)
        if len(interval) == 1:  # a band one step wide has no area: a bar instead
            ax.vlines(x, lower, upper, color="C1", alpha=0.35, lw=6,
                      label=_coverage_label(interval))
        else:
            ax.fill_between(x, lower, upper, color="C1", alpha=0.2, lw=0,
                            label=_coverage_label(interval))
    if actual is not None:
        ax.plot(_x(actual.index), actual.to_numpy(), color="0.15", lw=1.2, ls="--", ms=3,
                marker="o" if len(actual) == 1 else None, label="actual")
    ax.plot(_x(forecast.index), forecast.to_numpy(), color="C1", lw=2,
            marker="o" if len(forecast) <= 30 else None, ms=3, label="forecast")
    if dated == {True}:
        date_axis(ax, next(p.index.tz for p in parts if len(p)))
    index_name = history.index.name
    ax.set_xlabel(index_name if index_name else ("date" if dated == {True} else "step"))
    ax.set_ylabel(str(history.name) if history.name is not None else "value")
    if title is not None:
        ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="best")
    return ax


def _find_history(obj):
    """Follow ``estimator_`` (or ``forecaster_``, an AutoForecaster's choice) from
    ``obj`` (a Forecaster holds a WindowModel that holds the network) to the first
    model with ``history_``. Returns the path walked and that model, or the list
    of members of a model of several networks (``estimators_``, as with
    ``n_seeds > 1``), or the last model reached."""
    path, seen = "", set()
    while not hasattr(obj, "history_") and id(obj) not in seen:
        seen.add(id(obj))
        members = getattr(obj, "estimators_", None)
        if (isinstance(members, (list, tuple)) and len(members) > 1
                and hasattr(members[0], "history_")):
            return path + ".estimators_", list(members)
        inner = next((a for a in ("estimator_", "forecaster_")
                      if getattr(obj, a, None) is not None), None)
        if inner is None:
            break
        obj, path = getattr(obj, inner), f"{path}.{inner}"
    return path, obj


def _records(estimator_or_history):
    history, given = estimator_or_history, type(estimator_or_history).__name__
    if not isinstance(history, (list, tuple, pd.DataFrame)):
        path, found = _find_history(history)
        name = given.lower() + path
        if isinstance(found, list):
            raise ValueError(
                f"the {given} holds {len(found)} networks in {path[1:]} (n_seeds="
                f"{len(found)}), each with its own training history: plot one, e.g. "
                f"plot_history({name}[0])")
        if not hasattr(found, "history_"):
            where = (f"; its model {name} is a {type(found).__name__}, which keeps none"
                     if path else "")
            # scikit-learn's test of fitted: attributes ending in "_"
            if hasattr(found, "fit") and not any(
                    k.endswith("_") and not k.startswith("__")
                    for k in getattr(found, "__dict__", {})):
                where += f"; the {type(found).__name__} is not fitted: call fit first"
            raise TypeError(
                "plot_history needs a fitted tsbptt network (its history_ holds the "
                "epochs), a fitted Forecaster around one (the network is "
                "forecaster.estimator_.estimator_) or a list of epoch records, got "
                f"{given}{where}")
        history = found.history_
    if isinstance(history, pd.DataFrame):
        history = history.to_dict("records")
    if not isinstance(history, (list, tuple)):
        raise TypeError(f"plot_history: the {given}'s history_ must be a list of epoch "
                        f"records, got {type(history).__name__}")
    if not history:
        raise ValueError("no epochs to plot: fit the estimator first")
    return history


def plot_history(estimator_or_history, ax=None):
    """Draw the training (and validation) loss per epoch.

    Parameters
    ----------
    estimator_or_history : estimator, Forecaster or list of dict
        A fitted tsbptt estimator (its ``history_`` is used); a fitted model
        around one, such as a :class:`tsbptt.Forecaster` of a tsbptt network (its
        ``history_`` is found through ``estimator_``: the Forecaster's
        ``estimator_.estimator_``; an AutoForecaster's through ``forecaster_``);
        or such a list: one dict per epoch with ``'epoch'``, ``'train_loss'`` and
        optionally ``'val_loss'`` (None when no validation set was scored). A
        model of several networks (a Forecaster with ``n_seeds > 1``) is refused:
        pass one of them, e.g. ``forecaster.estimator_.estimators_[0]``.
    ax : matplotlib.axes.Axes or None, default=None
        Where to draw; None makes a new figure.

    Returns
    -------
    matplotlib.axes.Axes
        Lines "training loss", and when present "validation loss" and a marker
        at the lowest validation loss (the weights early stopping keeps). The y
        axis is logarithmic when the losses span more than two decades.

    Raises
    ------
    TypeError
        For an object with no training history (not fitted, or not a network).
    ValueError
        For no epochs, or a model of several networks (``n_seeds > 1``).
    """
    history = _records(estimator_or_history)
    epochs = np.array([h["epoch"] for h in history], dtype=float)
    train = np.array([np.nan if h.get("train_loss") is None else h["train_loss"]
                      for h in history], dtype=float)
    val = np.array([np.nan if h.get("val_loss") is None else h["val_loss"]
                    for h in history], dtype=float)
    marker = "o" if len(epochs) <= 30 else None

    ax = _axes(ax, (7, 4))
    MaxNLocator = _matplotlib("matplotlib.ticker").MaxNLocator

    ax.plot(epochs, train, color="C0", marker=marker, ms=3, label="training loss")
    losses = train[np.isfinite(train)]
    if np.isfinite(val).any():
        ax.plot(epochs, val, color="C1", marker=marker, ms=3, label="validation loss")
        best = np.nanargmin(val)
        ax.plot(epochs[best], val[best], ls="none", marker="*", ms=12, color="C3",
                label=f"lowest validation loss (epoch {epochs[best]:g})")
        losses = np.concatenate([losses, val[np.isfinite(val)]])
    if len(losses) and losses.min() > 0 and losses.max() / losses.min() > 100:
        ax.set_yscale("log")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.set_title("Training history")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="best")
    return ax


def _is_flow_result(obj):
    """Whether ``obj`` is one ``tsbptt.engine.gradient_flow`` result."""
    return isinstance(obj, Mapping) and {"steps_back", "ratio"} <= set(obj)


def _flow_ratio(curve, name):
    if isinstance(curve, Mapping):
        if "ratio" not in curve:
            raise ValueError(f"curves[{name!r}] is a dict without 'ratio' (keys "
                             f"{list(curve)}): give a gradient_flow result or its "
                             "'ratio' array")
        curve = curve["ratio"]
    y = np.asarray(curve, dtype=float).ravel()
    return np.where(y > 0, y, np.nan)


def plot_gradient_flow(curves, ax=None):
    """Draw how the gradient fades going back in time, one line per cell.

    Parameters
    ----------
    curves : dict of str to ndarray of shape (T,), or a gradient_flow result
        Cell name -> ``|dL/dh_t|`` at ``k`` steps back divided by its value at
        the last step (``k = 0``), as ``tsbptt.engine.gradient_flow(...)["ratio"]``
        (a whole ``gradient_flow`` result dict is accepted too). The legend
        spells ``'lstm'``, ``'gru'`` and ``'rnn'`` in capitals, other names as
        given. One ``gradient_flow`` result passed as it is (not in a dict) is
        drawn as one line labelled "gradient flow", with no legend: to name it,
        pass ``{"lstm": result}``. Non-positive and NaN values are left out of
        the log-scale plot.
    ax : matplotlib.axes.Axes or None, default=None
        Where to draw; None makes a new figure.

    Returns
    -------
    matplotlib.axes.Axes
        x: steps back, y: the ratio on a log scale.

    Raises
    ------
    TypeError
        For ``curves`` not a dict (e.g. a list or an array).
    ValueError
        For an empty dict, or a value that is a dict without ``'ratio'``.
    """
    if not isinstance(curves, Mapping):
        raise TypeError("curves must be a dict of name -> curve (an array of the "
                        "ratio per step back) or gradient_flow result, e.g. "
                        f"{{'lstm': gradient_flow(...)}}; got {type(curves).__name__}")
    if not curves:
        raise ValueError("curves is empty: give at least one cell's curve")
    # one result as it is, not in a dict: its keys are not cell names
    single = _is_flow_result(curves)
    named = {"gradient flow": curves} if single else curves
    lines = [(_CELL_NAMES.get(name, str(name)), _flow_ratio(curve, name))
             for name, curve in named.items()]
    ax = _axes(ax, (7, 4))
    for label, y in lines:
        ax.plot(np.arange(len(y)), y, lw=1.8, label=label)
    ax.set_yscale("log")
    ax.set_xlabel("steps back from the last step")
    ax.set_ylabel(r"$|\partial L / \partial h_t|$ relative to the last step")
    ax.set_title("Gradient flow back in time")
    ax.grid(True, which="major", alpha=0.3)
    if not single:
        ax.legend(loc="best")
    return ax
