"""Plots: forecasts with their intervals, training curves, gradient flow.

matplotlib is optional (``pip install 'tsbptt[plot]'``); it is imported when a
function is called, never at ``import tsbptt``. Every function draws on the Axes
given (or on a new figure), labels it, and returns the Axes; none calls
``plt.show()``, so the figures work in scripts, notebooks and tests alike.
"""

import numpy as np
import pandas as pd

from .utils._validation import check_positive_int

__all__ = ["date_axis", "plot_forecast", "plot_gradient_flow", "plot_history"]

_CELL_NAMES = {"lstm": "LSTM", "gru": "GRU", "rnn": "RNN"}
_MISSING = "plotting needs matplotlib: pip install 'tsbptt[plot]'"


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(_MISSING) from exc
    return plt


def _axes(ax, figsize):
    if ax is not None:
        return ax
    _, ax = _pyplot().subplots(figsize=figsize, layout="constrained")
    return ax


def _one_series(obj, what):
    """``obj`` as a single-level Series (or DataFrame for the interval)."""
    if obj is None:
        return None
    if isinstance(obj, pd.DataFrame) and what != "interval":
        if obj.shape[1] != 1:
            raise ValueError(f"{what} must be a Series (one series per plot), got a "
                             f"DataFrame with {obj.shape[1]} columns")
        obj = obj.iloc[:, 0]
    if not isinstance(obj, (pd.Series, pd.DataFrame)):
        raise TypeError(f"{what} must be a pandas Series, got {type(obj).__name__}")
    if isinstance(obj.index, pd.MultiIndex):
        first = obj.index.get_level_values(0)[0] if len(obj) else "id"
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


def date_axis(ax, tz=None):
    """Concise, automatically spaced date ticks on the x axis of ``ax``, in the
    data's time zone ``tz`` (matplotlib's default, UTC, put 11:00+01:00 at 10:00)."""
    import matplotlib.dates as mdates
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
        For a MultiIndex (many series): select one with ``.xs(id)`` first; for an
        interval without ``'lower'``/``'upper'`` columns; for dated and undated
        indexes mixed.
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
    if history_tail is not None:
        check_positive_int("history_tail", history_tail)
        history = history.iloc[-history_tail:]
    parts = [p for p in (history, forecast, actual, interval) if p is not None]
    dated = {isinstance(p.index, pd.DatetimeIndex) for p in parts if len(p)}
    if len(dated) > 1:
        raise ValueError("history, forecast, actual and interval must all be indexed "
                         "by dates, or all by numbers; got a mix")

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


def _records(estimator_or_history):
    history = getattr(estimator_or_history, "history_", estimator_or_history)
    if isinstance(history, pd.DataFrame):
        history = history.to_dict("records")
    if not isinstance(history, (list, tuple)):
        raise TypeError("plot_history needs a fitted estimator (with history_) or its "
                        f"list of epoch records, got {type(estimator_or_history).__name__}")
    if not history:
        raise ValueError("no epochs to plot: fit the estimator first")
    return history


def plot_history(estimator_or_history, ax=None):
    """Draw the training (and validation) loss per epoch.

    Parameters
    ----------
    estimator_or_history : estimator or list of dict
        A fitted tsbptt estimator (its ``history_`` is used) or such a list: one
        dict per epoch with ``'epoch'``, ``'train_loss'`` and optionally
        ``'val_loss'`` (None when no validation set was scored).
    ax : matplotlib.axes.Axes or None, default=None
        Where to draw; None makes a new figure.

    Returns
    -------
    matplotlib.axes.Axes
        Lines "training loss", and when present "validation loss" and a marker
        at the lowest validation loss (the weights early stopping keeps). The y
        axis is logarithmic when the losses span more than two decades.
    """
    history = _records(estimator_or_history)
    epochs = np.array([h["epoch"] for h in history], dtype=float)
    train = np.array([np.nan if h.get("train_loss") is None else h["train_loss"]
                      for h in history], dtype=float)
    val = np.array([np.nan if h.get("val_loss") is None else h["val_loss"]
                    for h in history], dtype=float)
    marker = "o" if len(epochs) <= 30 else None

    ax = _axes(ax, (7, 4))
    from matplotlib.ticker import MaxNLocator

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


def plot_gradient_flow(curves, ax=None):
    """Draw how the gradient fades going back in time, one line per cell.

    Parameters
    ----------
    curves : dict of str to ndarray of shape (T,)
        Cell name -> ``|dL/dh_t|`` at ``k`` steps back divided by its value at
        the last step (``k = 0``), as ``tsbptt.engine.gradient_flow(...)["ratio"]``
        (a whole ``gradient_flow`` result dict is accepted too). The legend
        spells ``'lstm'``, ``'gru'`` and ``'rnn'`` in capitals, other names as
        given. Non-positive
        and NaN values are left out of the log-scale plot.
    ax : matplotlib.axes.Axes or None, default=None
        Where to draw; None makes a new figure.

    Returns
    -------
    matplotlib.axes.Axes
        x: steps back, y: the ratio on a log scale.
    """
    if not curves:
        raise ValueError("curves is empty: give at least one cell's curve")
    ax = _axes(ax, (7, 4))
    for name, curve in curves.items():
        if isinstance(curve, dict):
            curve = curve["ratio"]
        y = np.asarray(curve, dtype=float).ravel()
        y = np.where(y > 0, y, np.nan)
        ax.plot(np.arange(len(y)), y, lw=1.8, label=_CELL_NAMES.get(name, str(name)))
    ax.set_yscale("log")
    ax.set_xlabel("steps back from the last step")
    ax.set_ylabel(r"$|\partial L / \partial h_t|$ relative to the last step")
    ax.set_title("Gradient flow back in time")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(loc="best")
    return ax
