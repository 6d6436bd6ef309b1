"""Stock series: forecast returns, not prices.

Prices wander without a fixed level, which tanh networks (and most models) cannot
extrapolate; log returns are close to stationary. Forecast ``log_returns(prices)``
and turn the forecast back into prices with :func:`prices_from_log_returns`.
"""
from __future__ import annotations

from numbers import Real

import numpy as np
import pandas as pd

from ..utils._validation import plain_label
from ._checks import check_order, real_numbers

__all__ = ["log_returns", "prices_from_log_returns"]


def log_returns(prices: pd.Series) -> pd.Series:
    """``log(p_t / p_{t-1})`` for every step after the first.

    Parameters
    ----------
    prices : Series of positive numbers
        Sorted by time, oldest first (a newest-first download gives each return's
        negative, dated a step early, so it is refused: sort it first). With a
        MultiIndex (id, ..., time), the long layout of many series, each
        series' returns are taken apart, over its own rows in time order.

    Returns
    -------
    Series, without each series' first step, on the rows of the others (in the
    order given)
    """
    if not isinstance(prices, pd.Series):
        raise TypeError(f"prices must be a pandas Series, got {type(prices).__name__}")
    values = real_numbers(prices, "prices")
    bad = ~(np.isfinite(values) & (values > 0))
    if bad.any():
        raise ValueError(f"prices must be positive and finite; {values[bad][0]!r} at "
                         f"{prices.index[np.flatnonzero(bad)[0]]!r}")
    index = prices.index
    if not isinstance(index, pd.MultiIndex):
        check_order(index, "prices", hint=" (one row a time step)")
        return pd.Series(np.diff(np.log(values)), index=index[1:], name=prices.name)
    # many series: each series' rows, wherever they are, against its previous row
    times = index.get_level_values(-1)
    ids = list(range(index.nlevels - 1))
    rows = pd.Series(np.arange(len(index))).groupby(
        [index.get_level_values(i) for i in ids], sort=False, dropna=False).indices
    prev = np.full(len(index), -1)
    for key, pos in rows.items():
        check_order(times[pos], f"prices of series {plain_label(key)!r}", order="by time",
                    hint=" (one row a time step)")
        prev[pos[1:]] = pos[:-1]
    later = np.flatnonzero(prev >= 0)
    log_p = np.log(values)
    return pd.Series(log_p[later] - log_p[prev[later]], index=index[later], name=prices.name)


def prices_from_log_returns(last_price: float, returns: pd.Series | np.ndarray
                            ) -> pd.Series | np.ndarray:
    """Prices implied by compounding forecast log returns from a last known price.

    Parameters
    ----------
    last_price : float > 0
        The price at the forecast origin.
    returns : Series or 1D ndarray
        Forecast log returns of the following steps.

    Returns
    -------
    Series on the index of ``returns`` (an ndarray for an ndarray)
    """
    if isinstance(last_price, (bool, np.bool_)) or not isinstance(last_price, Real) \
            or not (np.isfinite(last_price) and last_price > 0):
        raise ValueError(f"last_price must be a positive real number (an int or a float), "
                         f"got {last_price!r}")
    if not isinstance(returns, (pd.Series, np.ndarray)) or returns.ndim != 1:
        raise TypeError(f"returns must be a pandas Series or a 1D ndarray, got "
                        f"{type(returns).__name__}"
                        f"{f' of shape {returns.shape}' if hasattr(returns, 'shape') else ''}")
    r = _finite_returns(returns)
    prices = last_price * np.exp(np.cumsum(r))
    if isinstance(returns, pd.Series):
        return pd.Series(prices, index=returns.index, name=returns.name)
    return prices


def _finite_returns(returns):
    """``returns`` as float64, refused unless numbers and finite: a NaN return made
    every later price NaN, silently."""
    r = real_numbers(returns, "returns")
    bad = np.flatnonzero(~np.isfinite(r))
    if len(bad):
        at = returns.index[bad[0]] if isinstance(returns, pd.Series) else int(bad[0])
        raise ValueError(f"returns has a missing or infinite value ({r[bad[0]]}) at "
                         f"{at!r}: every price after it would be NaN or infinite")
    return r
