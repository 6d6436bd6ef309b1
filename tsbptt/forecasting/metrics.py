"""Forecast accuracy: MAE, RMSE, MAPE, sMAPE and MASE.

Every function takes array-likes of the same shape (flattened) and returns a float.
Two pandas objects are paired by their index labels, as pandas pairs them, where
their labels are the same in another order; labels that differ are refused. A
default RangeIndex (a long frame's rows) cannot say which row is which: sort both
alike (e.g. by series and time) before scoring them.
"""
import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from ..utils._validation import check_positive_int, plain_label

__all__ = ["mae", "rmse", "mape", "smape", "mase"]


def _aligned(y_true, y_pred):
    """``y_pred`` in ``y_true``'s label order when both are pandas objects on the
    same labels in another order (they were paired by position, silently: a panel's
    forecasts come grouped by series, test data is often sorted by time)."""
    pandas = (pd.Series, pd.DataFrame)
    if not (isinstance(y_true, pandas) and isinstance(y_pred, pandas)):
        return y_pred
    a, b = y_true.index, y_pred.index
    if (a.equals(b) or isinstance(a, pd.RangeIndex) or isinstance(b, pd.RangeIndex)
            or len(a) != len(b) or not len(a)):  # sizes: _pair's message
        return y_pred
    if not (a.is_unique and b.is_unique):
        raise ValueError("y_true's and y_pred's index labels differ or are in another "
                         "order, and repeat, so they cannot be paired by label: give "
                         "both the same labels in the same order")
    if a.sort_values().equals(b.sort_values()):
        return y_pred.reindex(a)
    missing = a.difference(b)
    first = plain_label(missing[0] if len(missing) else a[0])
    raise ValueError(f"y_true and y_pred are on different index labels ({first!r} of "
                     "y_true is not in y_pred's): score the forecasts against the "
                     "actual values of the same steps")


def _pair(y_true, y_pred):
    y_pred = _aligned(y_true, y_pred)
    a = np.asarray(y_true, dtype=np.float64).ravel()
    f = np.asarray(y_pred, dtype=np.float64).ravel()
    if a.shape != f.shape or a.size == 0:
        raise ValueError(f"y_true and y_pred need the same, non-zero size, got "
                         f"{a.size} and {f.size}")
    if not (np.isfinite(a).all() and np.isfinite(f).all()):
        raise ValueError("y_true and y_pred must be finite")
    return a, f


def mae(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Mean absolute error.

    Parameters
    ----------
    y_true : array-like
        The actual values (flattened).
    y_pred : array-like of the same size
        The forecasts.

    Returns
    -------
    float
    """
    a, f = _pair(y_true, y_pred)
    return float(np.mean(np.abs(a - f)))


def rmse(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Root mean squared error.

    Parameters
    ----------
    y_true : array-like
        The actual values (flattened).
    y_pred : array-like of the same size
        The forecasts.

    Returns
    -------
    float
    """
    a, f = _pair(y_true, y_pred)
    return float(np.sqrt(np.mean((a - f) ** 2)))


def mape(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Mean absolute percentage error, in percent. Undefined if an actual is 0.

    Parameters
    ----------
    y_true : array-like
        The actual values (flattened).
    y_pred : array-like of the same size
        The forecasts.

    Returns
    -------
    float
    """
    a, f = _pair(y_true, y_pred)
    if np.any(a == 0):
        raise ValueError("MAPE is undefined when an actual value is 0; use sMAPE or MASE")
    return float(100 * np.mean(np.abs((a - f) / a)))


def smape(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Symmetric MAPE in percent (0 to 200): mean of 2|a - f| / (|a| + |f|), with 0/0
    counted as 0.

    Parameters
    ----------
    y_true : array-like
        The actual values (flattened).
    y_pred : array-like of the same size
        The forecasts.

    Returns
    -------
    float
    """
    a, f = _pair(y_true, y_pred)
    denom = np.abs(a) + np.abs(f)
    ratio = np.divide(2 * np.abs(a - f), denom, out=np.zeros_like(denom), where=denom > 0)
    return float(100 * np.mean(ratio))


def mase(y_true: ArrayLike, y_pred: ArrayLike, y_train: ArrayLike,
         season: int = 1) -> float:
    """Mean absolute scaled error: MAE over the in-sample MAE of the seasonal naive
    forecast (y_t = y_{t - season}) on the training series. Below 1 beats it.

    Parameters
    ----------
    y_true : array-like
        The actual values (flattened).
    y_pred : array-like of the same size
        The forecasts.
    y_train : array-like
        The training series the naive forecast is scored on, oldest first. A
        pair (y_t, y_{t - season}) with a missing value (NaN) is left out of the
        naive forecast's error (a series a Forecaster fills); an infinity is refused.
    season : int, default=1
        The seasonal period (1: the naive forecast y_t = y_{t-1}).

    Returns
    -------
    float
    """
    a, f = _pair(y_true, y_pred)
    train = np.asarray(y_train, dtype=np.float64).ravel()
    if np.isinf(train).any():
        raise ValueError("y_train contains infinity")
    season = check_positive_int("season", season)
    if train.size <= season:
        raise ValueError(f"y_train has {train.size} values, needs more than "
                         f"season={season}")
    errors = np.abs(train[season:] - train[:-season])
    errors = errors[~np.isnan(errors)]  # pairs with a missing value: left out
    if errors.size == 0:
        raise ValueError(f"y_train has no pair of values season={season} apart without "
                         "a missing value")
    scale = np.mean(errors)
    if scale == 0:
        raise ValueError("MASE is undefined: the seasonal naive forecast is exact on "
                         "y_train")
    return float(np.mean(np.abs(a - f)) / scale)
