"""Forecast accuracy on the bundled data: seasonal naive vs Ridge vs LSTM vs GRU.

Every model runs in the same :class:`tsbptt.Forecaster` (same windows, same
scaling, same calendar features) and the same rolling-origin backtest, so the
MASE columns compare like with like. MASE < 1 beats the in-sample seasonal naive
forecast; the seasonal naive row is the out-of-sample baseline to beat.

    python benchmarks/bench_accuracy.py            # the table in benchmarks/README.md
    python benchmarks/bench_accuracy.py --quick    # fewer epochs and seeds
    python benchmarks/bench_accuracy.py --json accuracy.json

It then measures the empirical coverage of 90% intervals (conformal, and
conformalised quantile networks) over the last 14 days of the electricity load.

The networks are trained with ``--seeds`` random states; the table gives the
median MASE over them (and the spread), with the threads stated in the header.
"""
import argparse
import json
import time
import warnings

import numpy as np
from _common import tsbptt
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Ridge

from tsbptt import Forecaster, GRURegressor, LSTMRegressor, backtest, datasets
from tsbptt.baselines import SeasonalNaive


def _tasks():
    """(name, series, forecaster settings, backtest settings, network settings)."""
    load = datasets.load_electricity_load()
    air = np.log(datasets.load_air_passengers().astype(float)).rename("log_passengers")
    sensors = datasets.load_sensor_temperatures()
    s1 = sensors[sensors["sensor"] == "s1"].set_index("time")["temperature_c"]
    s1.index.freq = "h"
    return [
        ("electricity load (hourly, 24 h ahead)", load,
         dict(lags=48, horizon=24, calendar=["hour", "dayofweek"]),
         dict(initial=len(load) - 14 * 24, step=24, refit=False, season=24),
         dict(hidden_size=32, learning_rate=3e-3, batch_size=64)),
        ("sensor s1 temperature (hourly, 24 h ahead)", s1,
         dict(lags=48, horizon=24, calendar=["hour"]),
         dict(initial=len(s1) - 7 * 24, step=24, refit=False, season=24),
         dict(hidden_size=32, learning_rate=3e-3, batch_size=64)),
        ("air passengers, log (monthly, 12 months ahead)", air,
         dict(lags=24, horizon=12, calendar=["month"]),
         dict(initial=108, step=3, refit=True, season=12),
         dict(hidden_size=16, learning_rate=1e-2, batch_size=16)),
    ]


def run(epochs, seeds, n_threads):
    rows = []
    for name, y, fc, bt, net in _tasks():
        models = [("seasonal naive", lambda s: SeasonalNaive(bt["season"])),
                  ("ridge", lambda s: Ridge(1.0))]
        for label, cls in (("lstm", LSTMRegressor), ("gru", GRURegressor)):
            models.append((label, lambda s, cls=cls: cls(max_iter=epochs, random_state=s,
                                                         n_threads=n_threads, **net)))
        for label, make in models:
            scores, seconds = [], []
            for seed in (seeds if label in ("lstm", "gru") else [0]):
                t0 = time.perf_counter()
                result = backtest(Forecaster(make(seed), **fc), y, **bt)
                seconds.append(time.perf_counter() - t0)
                scores.append(result.metrics["mase"])
            rows.append(dict(task=name, model=label, mase=float(np.median(scores)),
                             mase_min=min(scores), mase_max=max(scores),
                             seconds=float(np.median(seconds)), seeds=len(scores)))
            print(f"{name:<48} {label:<15} MASE {rows[-1]['mase']:.3f} "
                  f"[{rows[-1]['mase_min']:.3f}, {rows[-1]['mase_max']:.3f}]  "
                  f"{rows[-1]['seconds']:.1f} s", flush=True)
    return rows


def coverage(epochs, n_threads):
    """Empirical coverage and mean width of 90% intervals over the last 14 days of
    the bundled electricity load (336 forecasts), per model and interval method."""
    y = datasets.load_electricity_load()
    net = dict(hidden_size=32, learning_rate=3e-3, batch_size=64, random_state=0,
               n_threads=n_threads)
    models = [("ridge", lambda: Ridge(1.0), ("conformal",))]
    models += [(label, lambda cls=cls: cls(max_iter=epochs, **net), ("conformal", "quantile"))
               for label, cls in (("lstm", LSTMRegressor), ("gru", GRURegressor))]
    rows = []
    for label, make, methods in models:
        for method in methods:
            f = Forecaster(make(), lags=48, horizon=24, calendar=["hour", "dayofweek"],
                           interval=method, coverage=0.9)
            bt = backtest(f, y, initial=len(y) - 14 * 24, step=24, refit=False,
                          season=24, coverage=0.9)
            width = float((bt.forecasts["upper"] - bt.forecasts["lower"]).mean())
            rows.append(dict(model=label, interval=method,
                             coverage=bt.metrics["coverage"], mean_width=width))
            print(f"90% interval, electricity load: {label:<6} {method:<10} coverage "
                  f"{rows[-1]['coverage']:.3f}  mean width {width:.0f} MW", flush=True)
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--quick", action="store_true", help="10 epochs, 1 seed")
    parser.add_argument("--json", metavar="PATH")
    args = parser.parse_args()
    epochs, seeds = (10, 1) if args.quick else (args.epochs, args.seeds)
    print(f"tsbptt {tsbptt.__version__}; {epochs} epochs; {seeds} seed(s); threads "
          f"{args.threads or 'default'}; MASE: median over seeds [min, max]")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        rows = run(epochs, list(range(seeds)), args.threads)
        intervals = coverage(30 if not args.quick else 10, args.threads)
    print("\n| task | seasonal naive | ridge | lstm | gru |\n|---|---|---|---|---|")
    for task in dict.fromkeys(r["task"] for r in rows):
        got = {r["model"]: r for r in rows if r["task"] == task}
        cells = [f"{got[m]['mase']:.3f}" for m in ("seasonal naive", "ridge", "lstm", "gru")]
        print(f"| {task} | " + " | ".join(cells) + " |")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"mase": rows, "intervals": intervals}, fh, indent=1)


if __name__ == "__main__":
    main()
