"""Stock series: forecast returns, not prices.

Prices wander without a fixed level, which tanh networks (and most models) cannot
extrapolate; log returns are close to stationary. Forecast ``log_returns(prices)``
and turn the forecast back into prices with :func:`prices_from_log_returns`. Many
series go in the long layout, a Series with a MultiIndex (id, ..., time), each
series apart::

    r = log_returns(prices)                      # prices: (ticker, date) rows
    forecast = Forecaster(Ridge(), lags=5).fit(r).predict()
    path = prices_from_log_returns(prices.groupby(level=0).last(), forecast)
"""
from __future__ import annotations

from collections.abc import Mapping
from numbers import Real

import numpy as np
import pandas as pd

from ..utils._validation import plain_label
from ._checks import check_order, real_numbers, rows_by_series

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


def prices_from_log_returns(last_price: float | Mapping | pd.Series,
                            returns: pd.Series | np.ndarray) -> pd.Series | np.ndarray:
    """Prices implied by compounding forecast log returns from a last known price.

    Parameters
    ----------
    last_price : float > 0, or dict or Series of them keyed by series id
        The price at the forecast origin. For many series, each one's: a dict or
        a Series keyed by series id (as the ids of ``returns``' MultiIndex, a
        tuple of its levels but the last where there are several), such as
        ``prices.groupby(level=0).last()``; ids ``returns`` lacks are left unused.
    returns : Series or 1D ndarray
        Forecast log returns of the following steps. Many series: a Series with
        a MultiIndex (id, ..., time), as ``Forecaster.predict`` gives for a panel
        (a dict of Series is refused, as :func:`log_returns` refuses it:
        ``pd.concat`` it), each series compounded apart from its own last price,
        over its rows in time order (its times sorted, as :func:`log_returns`
        requires).

    Returns
    -------
    Series on the index of ``returns``, in its row order (an ndarray for an ndarray)
    """
    if isinstance(returns, Mapping):
        raise TypeError("returns is a dict; give many series in the long layout that "
                        "log_returns takes and Forecaster.predict returns: "
                        "pd.concat(returns) (a Series with a MultiIndex (series id, "
                        "time)), with last_price a dict keyed alike")
    if isinstance(returns, pd.Series) and isinstance(returns.index, pd.MultiIndex):
        return _panel_prices(last_price, returns)
    if isinstance(last_price, (Mapping, pd.Series)):
        raise ValueError(f"last_price is a {type(last_price).__name__} of prices by series "
                         "id, which needs returns of many series (a Series with a "
                         "MultiIndex (id, ..., time)); for one series give its one last "
                         "price")
    _check_price(last_price, "last_price")
    if not isinstance(returns, (pd.Series, np.ndarray)) or returns.ndim != 1:
        raise TypeError(f"returns must be a pandas Series or a 1D ndarray, got "
                        f"{type(returns).__name__}"
                        f"{f' of shape {returns.shape}' if hasattr(returns, 'shape') else ''}")
    r = _finite_returns(returns)
    prices = last_price * np.exp(np.cumsum(r))
    if isinstance(returns, pd.Series):
        return pd.Series(prices, index=returns.index, name=returns.name)
    return prices


def _check_price(value, what):
    """Refuse ``value`` unless a positive, finite real number (not a bool)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, Real) \
            or not (np.isfinite(value) and value > 0):
        raise ValueError(f"{what} must be a positive real number (an int or a float), "
                         f"got {value!r}")


def _panel_prices(last_price, returns):
    """:func:`prices_from_log_returns` of a long ``returns`` (MultiIndex (id, ...,
    time)): each series compounded from its own last price, in time order."""
    index = returns.index
    ids, groups = rows_by_series(index)
    level = 0 if index.nlevels == 2 else list(range(index.nlevels - 1))
    if not isinstance(last_price, (Mapping, pd.Series)):
        # one price for every series compounded each from another series' price
        raise ValueError(f"returns holds {len(ids)} series (a MultiIndex (id, ..., "
                         f"time)), so last_price must give one last price per series: a "
                         f"dict or a Series keyed by series id, e.g. "
                         f"prices.groupby(level={level}).last(); got {last_price!r}")
    known = pd.Index(list(last_price.keys())) if isinstance(last_price, Mapping) \
        else last_price.index
    if not known.is_unique:
        raise ValueError(f"last_price has the series id "
                         f"{plain_label(known[known.duplicated()][0])!r} twice")
    prices = list(last_price.values()) if isinstance(last_price, Mapping) \
        else list(last_price)
    where = known.get_indexer(ids)
    if (where < 0).any():
        missing = plain_label(ids[int(np.flatnonzero(where < 0)[0])])
        raise ValueError(f"last_price has no price for series {missing!r} of returns: "
                         f"give every series' last price, e.g. "
                         f"prices.groupby(level={level}).last()")
    r = _finite_returns(returns)
    times = index.get_level_values(-1)
    out = np.empty(len(r))
    for j, rows in enumerate(groups):
        key = plain_label(ids[j])
        check_order(times[rows], f"returns of series {key!r}", order="by time",
                    hint=" (one row a time step)")
        _check_price(prices[where[j]], f"last_price of series {key!r}")
        out[rows] = prices[where[j]] * np.exp(np.cumsum(r[rows]))
    return pd.Series(out, index=index, name=returns.name)


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
