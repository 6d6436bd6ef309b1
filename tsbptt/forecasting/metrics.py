"""Forecast accuracy: MAE, RMSE, MAPE, sMAPE and MASE.

Every function takes array-likes of the same shape (flattened) and returns a float.
"""
import numpy as np

__all__ = ["mae", "rmse", "mape", "smape", "mase"]


def _pair(y_true, y_pred):
    a = np.asarray(y_true, dtype=np.float64).ravel()
    f = np.asarray(y_pred, dtype=np.float64).ravel()
    if a.shape != f.shape or a.size == 0:
        raise ValueError(f"y_true and y_pred need the same, non-zero size, got "
                         f"{a.size} and {f.size}")
    if not (np.isfinite(a).all() and np.isfinite(f).all()):
        raise ValueError("y_true and y_pred must be finite")
    return a, f


def mae(y_true, y_pred):
    """Mean absolute error."""
    a, f = _pair(y_true, y_pred)
    return float(np.mean(np.abs(a - f)))


def rmse(y_true, y_pred):
    """Root mean squared error."""
    a, f = _pair(y_true, y_pred)
    return float(np.sqrt(np.mean((a - f) ** 2)))


def mape(y_true, y_pred):
    """Mean absolute percentage error, in percent. Undefined if an actual is 0."""
    a, f = _pair(y_true, y_pred)
    if np.any(a == 0):
        raise ValueError("MAPE is undefined when an actual value is 0; use sMAPE or MASE")
    return float(100 * np.mean(np.abs((a - f) / a)))


def smape(y_true, y_pred):
    """Symmetric MAPE in percent (0 to 200): mean of 2|a - f| / (|a| + |f|), with 0/0
    counted as 0."""
    a, f = _pair(y_true, y_pred)
    denom = np.abs(a) + np.abs(f)
    ratio = np.divide(2 * np.abs(a - f), denom, out=np.zeros_like(denom), where=denom > 0)
    return float(100 * np.mean(ratio))


def mase(y_true, y_pred, y_train, season=1):
    """Mean absolute scaled error: MAE over the in-sample MAE of the seasonal naive
    forecast (y_t = y_{t - season}) on the training series. Below 1 beats it."""
    a, f = _pair(y_true, y_pred)
    train = np.asarray(y_train, dtype=np.float64).ravel()
    if not isinstance(season, (int, np.integer)) or season < 1:
        raise ValueError(f"season must be a positive integer, got {season!r}")
    if train.size <= season:
        raise ValueError(f"y_train has {train.size} values, needs more than "
                         f"season={season}")
    scale = np.mean(np.abs(train[season:] - train[:-season]))
    if scale == 0:
        raise ValueError("MASE is undefined: the seasonal naive forecast is exact on "
                         "y_train")
    return float(np.mean(np.abs(a - f)) / scale)
