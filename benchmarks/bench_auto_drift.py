"""AutoForecaster with and without the 'drift' candidate, on short series.

'drift' (SeasonalNaive with ``drift=True``: the value one season back plus the
window's mean change per season) joined AutoForecaster's default candidates
after a trial on short official statistics, where every default candidate lost
to a straight line on trending quarterly and annual data. This script scores
both candidate sets in one run, so that they share the series, the cuts and
the machine: the default candidates without 'drift' (the default before it
was added) against the default.

    python benchmarks/bench_auto_drift.py              # 3 cuts a series
    python benchmarks/bench_auto_drift.py --cuts 1     # quicker

Series (each with a fixed seed; no data is downloaded): quarterly output with
a trend and a season (40 and 80 quarters), annual output with a trend and a
random walk around it (50 years), monthly prices with a trend and a season
(120 months), and, as controls without a trend, a quarterly seasonal series,
a daily random walk and the bundled air passengers. At each cut the model is
fitted on the steps before it and scored on the next ``horizon`` (4 for
quarters, 5 for years, 12 for months, 7 for days); cuts are ``horizon`` apart,
the last at the end. Reported: MAE per series (mean over the cuts) and its
ratio to the set without 'drift', and the geometric mean of the ratios.
Everything runs on one thread.
"""
import argparse
import time
import warnings

import numpy as np
import pandas as pd
from _common import tsbptt  # noqa: F401 (the tree's tsbptt, as the other scripts)
from threadpoolctl import threadpool_limits

from tsbptt import AutoForecaster, datasets
from tsbptt.forecasting.auto import DEFAULT_CANDIDATES


def _series():
    """(name, series, horizon) of every benchmark series."""
    out = []
    for n, seed in ((40, 0), (40, 1), (80, 2)):
        r = np.random.default_rng(seed)
        t = np.arange(n)
        y = (100 + 1.5 * t + 4 * np.tile([0.0, 2.0, -1.0, -3.0], n)[:n]
             + r.normal(0, 0.8, n) + np.cumsum(r.normal(0, 0.3, n)))
        out.append((f"quarterly output, trend ({n}, seed {seed})",
                    pd.Series(y, index=pd.period_range("2000Q1", periods=n, freq="Q")), 4))
    for seed in (3, 4):
        r = np.random.default_rng(seed)
        t = np.arange(50)
        y = 50 + 3 * t + np.cumsum(r.normal(0, 2, 50))
        out.append((f"annual output, trend (50, seed {seed})",
                    pd.Series(y, index=pd.period_range("1975", periods=50, freq="Y")), 5))
    r = np.random.default_rng(5)
    t = np.arange(120)
    y = 100 * np.exp(0.002 * t) + 0.8 * np.sin(2 * np.pi * t / 12) + np.cumsum(
        r.normal(0, 0.15, 120))
    out.append(("monthly prices, trend (120)",
                pd.Series(y, index=pd.period_range("2010-01", periods=120, freq="M")), 12))
    r = np.random.default_rng(6)
    y = 20 + 5 * np.tile([0.0, 2.0, -1.0, -3.0], 15) + r.normal(0, 1, 60)
    out.append(("quarterly seasonal, no trend (60)",
                pd.Series(y, index=pd.period_range("2005Q1", periods=60, freq="Q")), 4))
    r = np.random.default_rng(7)
    out.append(("random walk (daily, 300)",
                pd.Series(100 + np.cumsum(r.normal(0, 1, 300)),
                          index=pd.date_range("2023-01-01", periods=300, freq="D")), 7))
    out.append(("air passengers (monthly)", datasets.load_air_passengers().astype(float), 12))
    return out


def _mae(candidates, y, horizon, cuts):
    """Mean absolute error of AutoForecaster (``candidates``; None: the default)
    fitted before each cut and scored on the ``horizon`` steps after it."""
    errors = []
    for k in range(cuts, 0, -1):
        end = len(y) - (k - 1) * horizon
        train, test = y.iloc[:end - horizon], y.iloc[end - horizon:end]
        auto = AutoForecaster(horizon=horizon, candidates=candidates, random_state=0,
                              n_threads=1).fit(train)
        errors.append(np.abs(auto.predict().to_numpy() - test.to_numpy()).mean())
    return float(np.mean(errors))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cuts", type=int, default=3, help="cuts a series (default 3)")
    args = parser.parse_args()
    without = tuple(c for c in DEFAULT_CANDIDATES if c != "drift")
    print(f"tsbptt {tsbptt.__version__}; without: {without}; with: the default "
          f"{DEFAULT_CANDIDATES}; {args.cuts} cut(s) a series, one thread")
    print("| series | MAE without drift | MAE with drift (default) | ratio |")
    print("|---|---|---|---|")
    ratios, start = [], time.perf_counter()
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, y, horizon in _series():
            before = _mae(without, y, horizon, args.cuts)
            after = _mae(None, y, horizon, args.cuts)
            ratios.append(after / before)
            print(f"| {name} | {before:.4g} | {after:.4g} | {after / before:.3f} |",
                  flush=True)
    print(f"| **geometric mean of the ratios** | | | "
          f"{float(np.exp(np.mean(np.log(ratios)))):.3f} |")
    print(f"({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
