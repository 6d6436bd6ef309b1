"""Target transforms of the Forecaster: log and Box-Cox, fitted per series.

A transform is applied to each series before it is standardised and windowed
and inverted on every forecast, interval bounds included. Both are increasing
maps, so the inverse of a quantile (an interval bound) is the quantile of the
inverse: intervals keep their coverage exactly. A mean is not kept: the inverse of
a forecast of the transformed series' mean is a median-like value, below the
series' mean where it is skewed to the right. Differencing is done on the
windows instead (see :mod:`tsbptt.forecasting._window_model`).
"""
import numpy as np
from scipy import optimize, special, stats

__all__ = ["TRANSFORMS", "check_positive", "check_transform", "difference_of",
           "fit_lambda", "forward", "inverse", "power_of"]

#: The range of Box-Cox exponents a fit chooses from: from the reciprocal (-1) to the
#: square (2), as R's forecast package does; beyond them the transformed values
#: bunch together (or spread) by orders of magnitude.
LAMBDA_BOUNDS = (-1.0, 2.0)

#: The names ``Forecaster(transform=...)`` accepts; at most one of each group.
TRANSFORMS = {"log": "power", "boxcox": "power", "diff": "difference",
              "seasonal_diff": "difference"}


def check_transform(transform):
    """``transform`` as a tuple of names; ValueError naming what is wrong."""
    if transform is None:
        return ()
    names = (transform,) if isinstance(transform, str) else tuple(transform)
    bad = [t for t in names if t not in TRANSFORMS]
    if bad:
        raise ValueError(f"transform={transform!r}: unknown {bad}; choose from "
                         f"{list(TRANSFORMS)} (or a pair such as ('log', 'seasonal_diff'))")
    for group in ("power", "difference"):
        chosen = [t for t in names if TRANSFORMS[t] == group]
        if len(chosen) > 1:
            raise ValueError(f"transform={transform!r} names more than one {group} "
                             f"transform: {chosen}")
    return names


def power_of(names):
    """'log', 'boxcox' or None: the power transform among ``names``."""
    return next((t for t in names if TRANSFORMS[t] == "power"), None)


def difference_of(names):
    """'diff', 'seasonal_diff' or None: the differencing among ``names``."""
    return next((t for t in names if TRANSFORMS[t] == "difference"), None)


def check_positive(y, kind, where):
    """Raise unless every value of the Series ``y`` is positive (log, Box-Cox)."""
    values = y.to_numpy(np.float64)
    bad = np.flatnonzero(~(values > 0))
    if bad.size:
        raise ValueError(f"transform={kind!r} needs positive values; {where} has "
                         f"{float(values[bad[0]])!r} at {y.index[bad[0]]!r}")


def fit_lambda(values, kind):
    """The Box-Cox exponent of one series (maximum likelihood), 0 for 'log', None
    for no power transform."""
    if kind is None:
        return None
    if kind == "log":
        return 0.0
    values = np.asarray(values, dtype=np.float64)
    # the likelihood's maximum within LAMBDA_BOUNDS (R's forecast::BoxCox.lambda
    # searches the same range): unbounded, a level shift in a series near 100 gave
    # -10.3, a transform whose values span 1e-22, read as a constant series
    result = optimize.minimize_scalar(lambda lam: -stats.boxcox_llf(lam, values),
                                      bounds=LAMBDA_BOUNDS, method="bounded",
                                      options={"xatol": 1e-6})
    return float(result.x)


def forward(values, lam):
    """Transform ``values`` (any shape) with exponent ``lam`` (None: unchanged)."""
    if lam is None:
        return np.asarray(values, dtype=np.float64)
    return special.boxcox(values, lam)


def inverse(values, lam):
    """The exact inverse of :func:`forward`; values outside the transform's range
    (possible for a forecast) are taken to its edge, so the result is finite."""
    if lam is None:
        return np.asarray(values, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    if lam > 0:
        values = np.maximum(values, -1.0 / lam)
    elif lam < 0:
        values = np.minimum(values, (1e-12 - 1.0) / lam)
    return special.inv_boxcox(values, lam)
