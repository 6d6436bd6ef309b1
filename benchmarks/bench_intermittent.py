"""Forecasts of intermittent demand: sales on a few days in a hundred.

Retail long tails sell on a few days a month; most of a model's input windows
are then all zeros. This script backtests, on simulated daily demand with sales
on 3%, 5%, 10% and 30% of the days (Poisson quantities, more on weekends; three
seeds each) and on a regular series as a control, the seasonal naive forecast,
a window-scaled ridge (``Forecaster(Ridge(), scaling='window')``, the scaling the
networks use by default) and the default LSTM Forecaster, and reports each one's
mean absolute error and the range of its forecasts.

    python benchmarks/bench_intermittent.py            # every share, three seeds
    python benchmarks/bench_intermittent.py --no-lstm  # the two fast models alone

Every series has 730 days; the models are fitted on the first 590 and move
their window over the next 140, forecasting 14 days at each of 10 origins
(``backtest(..., refit=False)``). One thread. No data is downloaded.
"""
import argparse
import time
import warnings

import numpy as np
import pandas as pd
from _common import tsbptt  # noqa: F401 (the tree's tsbptt, as the other scripts)
from sklearn.linear_model import Ridge
from threadpoolctl import threadpool_limits

from tsbptt import Forecaster, LSTMRegressor, SeasonalNaive, backtest


def _series(share, seed):
    """730 days of demand sold on ``share`` of the days (1.0: a regular series)."""
    rng = np.random.default_rng(seed)
    idx = pd.date_range("2022-01-01", periods=730, freq="D")
    if share == 1.0:
        y = 20 + 5 * np.sin(np.arange(730) * 2 * np.pi / 7) + np.cumsum(
            rng.standard_normal(730))
    else:
        weekend = 1 + 0.5 * (idx.dayofweek >= 5)
        y = (rng.random(730) < share) * rng.poisson(3 * weekend)
    return pd.Series(y, index=idx, dtype=float)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-lstm", action="store_true", help="leave the LSTM out")
    args = parser.parse_args()
    models = {"seasonal naive": lambda: Forecaster(SeasonalNaive(7), lags=14, horizon=14),
              "window ridge": lambda: Forecaster(Ridge(), horizon=14, scaling="window")}
    if not args.no_lstm:
        models["default LSTM"] = lambda: Forecaster(
            LSTMRegressor(random_state=0, n_threads=1), horizon=14)
    print(f"tsbptt {tsbptt.__version__}, one thread; MAE [lowest, highest forecast]")
    print("| days with sales | seed | " + " | ".join(models) + " |")
    print("|---|---|" + "---|" * len(models))
    start = time.perf_counter()
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for share in (0.03, 0.05, 0.1, 0.3, 1.0):
            for seed in range(3):
                y = _series(share, seed)
                cells = []
                for make in models.values():
                    bt = backtest(make(), y, initial=590, step=14, horizon=14,
                                  refit=False, season=7)
                    f = bt.forecasts["forecast"]
                    cells.append(f"{bt.metrics['mae']:.3f} [{f.min():.2f}, {f.max():.2f}]")
                label = "all (regular)" if share == 1.0 else f"{100 * share:g}%"
                print(f"| {label} | {seed} | " + " | ".join(cells) + " |", flush=True)
    print(f"({time.perf_counter() - start:.0f} s)")


if __name__ == "__main__":
    main()
