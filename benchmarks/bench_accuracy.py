"""Forecast accuracy and fit time over ten series: baselines vs default networks.

Every model runs in a :class:`tsbptt.Forecaster` on the same rolling origins,
refitted on the past only at every origin. Reported per series: MASE (the
in-sample seasonal naive forecast's error as the unit) and the fit time of all
the refits, for seasonal naive, Ridge on the lags, the default LSTM and GRU
Forecasters (every setting at its default but ``horizon`` and ``random_state``)
and the automatic choice (:class:`tsbptt.AutoForecaster`, when present). The
summary row is the geometric mean of MASE relative to seasonal naive. Each
MASE comes with its standard error over the origins (the origins are ``horizon``
apart, so their forecasts do not overlap): a difference within two of them is
noise. Everything runs on one thread (the networks' ``n_threads=1`` and BLAS
limited to one thread with threadpoolctl, Ridge included), so fit-time ratios
compare one core with one core.

    python benchmarks/bench_accuracy.py --quick          # 2 origins per series
    python benchmarks/bench_accuracy.py                  # 3-24 origins per series
    python benchmarks/bench_accuracy.py --fit-time       # one 4,000-step fit, 5 repeats
    python benchmarks/bench_accuracy.py --json acc.json --models naive ridge lstm
    python benchmarks/bench_accuracy.py --models naive --intervals  # 90% intervals

The series: the bundled ones (electricity load, sensor temperature, air
passengers, a stock close) and generated ones (trend + season, a random walk,
level shifts, spikes, two seasonalities, a nonlinear seasonal series), each with
a fixed seed. No data is downloaded.
"""
import argparse
import json
import time
import warnings

import numpy as np
import pandas as pd
from _common import tsbptt
from sklearn.linear_model import Ridge
from threadpoolctl import threadpool_limits

from tsbptt import (ESNRegressor, Forecaster, GRURegressor, LSTMRegressor, backtest,
                    datasets)
from tsbptt import SeasonalNaive

try:  # the automatic choice, where this version has it
    from tsbptt import AutoForecaster
except ImportError:
    AutoForecaster = None


def _series():
    """(name, series, season, horizon) for every benchmark series."""
    rng = np.random.default_rng(7)
    load = datasets.load_electricity_load()
    air = datasets.load_air_passengers().astype(float)
    s = datasets.load_sensor_temperatures()
    s1 = s[s["sensor"] == "s1"].set_index("time")["temperature_c"]
    s1.index.freq = "h"
    stock = datasets.load_stock_prices()
    out = [("electricity load (hourly)", load, 24, 24),
           ("sensor temperature (hourly)", s1.iloc[-1500:], 24, 24),
           ("air passengers (monthly)", air, 12, 12),
           ("stock close (business day)", stock, 5, 5)]
    n = 1200
    t = np.arange(n, dtype=float)
    day = pd.date_range("2020-01-01", periods=n, freq="D")
    hour = pd.date_range("2020-01-01", periods=n, freq="h")
    out.append(("trend + weekly season (daily)", pd.Series(
        50 + 0.05 * t + 5 * np.sin(2 * np.pi * t / 7) + rng.normal(0, 1, n),
        index=day, name="y"), 7, 7))
    out.append(("random walk (business day)", pd.Series(
        100 + np.cumsum(rng.normal(0, 1, n)),
        index=pd.bdate_range("2020-01-01", periods=n), name="y"), 5, 5))
    shifts = np.repeat(rng.normal(0, 8, n // 200 + 1), 200)[:n]
    out.append(("level shifts + daily season (hourly)", pd.Series(
        20 + shifts + 3 * np.sin(2 * np.pi * t / 24) + rng.normal(0, 1, n),
        index=hour, name="y"), 24, 24))
    spikes = np.where(t % 24 == 8, 30.0, 0.0) * rng.uniform(0.7, 1.3, n)
    out.append(("periodic spikes (hourly)", pd.Series(
        5 + spikes + rng.normal(0, 0.5, n), index=hour, name="y"), 24, 24))
    m = 2400
    u = np.arange(m, dtype=float)
    out.append(("two seasonalities (30 min)", pd.Series(
        10 + 3 * np.sin(2 * np.pi * u / 48) + 2 * np.sin(2 * np.pi * u / 336)
        + rng.normal(0, 0.5, m),
        index=pd.date_range("2020-01-01", periods=m, freq="30min"), name="y"), 48, 48))
    x = np.zeros(n)
    noise = rng.normal(0, 0.3, n)
    for i in range(1, n):  # threshold AR on top of a daily cycle
        x[i] = (0.9 * x[i - 1] if x[i - 1] < 0.5 else -0.6 * x[i - 1]) + noise[i]
    out.append(("nonlinear (threshold AR + season, hourly)", pd.Series(
        10 + 2 * np.sin(2 * np.pi * t / 24) ** 3 + x, index=hour, name="y"), 24, 24))
    return out


def _models(season, horizon, seed):
    """label -> a new forecaster; the networks' settings are their defaults."""
    lags = 2 * season
    models = {
        "naive": lambda: Forecaster(SeasonalNaive(season), lags=lags, horizon=horizon),
        "ridge": lambda: Forecaster(Ridge(1.0), lags=lags, horizon=horizon),
        "lstm": lambda: Forecaster(LSTMRegressor(random_state=seed, n_threads=1),
                                   lags=lags, horizon=horizon),
        "gru": lambda: Forecaster(GRURegressor(random_state=seed, n_threads=1),
                                  lags=lags, horizon=horizon),
    }
    # not in the default run: the echo-state network on windows and in one pass, and
    # the stateful strategy on the levels and on the changes
    models["esn"] = lambda: Forecaster(ESNRegressor(random_state=seed), lags=lags,
                                       horizon=horizon)
    models["esn-stateful"] = lambda: Forecaster(ESNRegressor(random_state=seed), lags=lags,
                                                horizon=horizon, strategy="stateful")
    for label, transform in (("stateful", None), ("stateful-diff", "diff")):
        models[label] = (lambda transform=transform: Forecaster(
            LSTMRegressor(random_state=seed, n_threads=1), lags=lags, horizon=horizon,
            strategy="stateful", transform=transform))
    if AutoForecaster is not None:
        models["auto"] = lambda: AutoForecaster(horizon=horizon, season=season,
                                                random_state=seed, n_threads=1)
    return models


def run(names, n_origins, seed, only=None):
    rows = []
    for name, y, season, horizon in _series():
        if only and not any(word in name for word in only):
            continue
        n = n_origins or _origins(len(y), horizon)
        initial = len(y) - n * horizon
        for label, make in _models(season, horizon, seed).items():
            if label not in names:
                continue
            t0, c0 = time.perf_counter(), time.process_time()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                result = backtest(make(), y, initial=initial, step=horizon, refit=True,
                                  season=season)
            seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
            mase, se = _mase_and_se(result)
            rows.append({"series": name, "model": label, "mase": mase, "se": se,
                         "seconds": seconds, "cpu": cpu, "n": len(y), "season": season,
                         "horizon": horizon, "origins": n,
                         "forecasts": len(result.forecasts)})
            print(f"{name:<42} {label:<13} MASE {mase:7.3f} +- {se:5.3f}  "
                  f"{seconds:7.1f} s  ({cpu:6.1f} CPU s)", flush=True)
    return rows


def _origins(n_steps, horizon):
    """The default number of origins: at least 120 forecasts and 8 origins, at
    most the last quarter of the series (at least 2 origins)."""
    return max(2, min(max(8, -(-120 // horizon)), n_steps // 4 // horizon))


def _mase_and_se(result):
    """MASE and its standard error over the origins (each origin's MAE in the
    backtest's MASE unit; origins ``horizon`` apart do not overlap)."""
    mase = result.metrics["mase"]
    unit = result.metrics["mae"] / mase
    f = result.forecasts
    per_origin = (f["actual"] - f["forecast"]).abs().groupby(f["origin"]).mean() / unit
    se = per_origin.std(ddof=1) / np.sqrt(len(per_origin)) if len(per_origin) > 1 else np.nan
    return float(mase), float(se)


def fit_time(repeats=5, n=4000):
    """Median seconds of one fit on an hourly series of ``n`` steps (lags 48,
    horizon 24), Ridge and the default LSTM and GRU Forecasters, one thread."""
    rng = np.random.default_rng(0)
    t = np.arange(n)
    y = pd.Series(10 + 3 * np.sin(2 * np.pi * t / 24) + np.cumsum(rng.normal(0, .2, n))
                  + rng.normal(0, .5, n), index=pd.date_range("2020", periods=n, freq="h"))
    makes = {"ridge": lambda: Ridge(1.0),
             "lstm": lambda: LSTMRegressor(random_state=0, n_threads=1),
             "gru": lambda: GRURegressor(random_state=0, n_threads=1)}
    times = {k: [] for k in makes}
    cpu = {k: [] for k in makes}
    for _ in range(repeats):  # interleaved, so a burst of load hits all alike
        for label, make in makes.items():
            t0, c0 = time.perf_counter(), time.process_time()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                Forecaster(make(), lags=48, horizon=24).fit(y)
            times[label].append(time.perf_counter() - t0)
            cpu[label].append(time.process_time() - c0)
    med = {k: float(np.median(v)) for k, v in times.items()}
    med_cpu = {k: float(np.median(v)) for k, v in cpu.items()}
    for k, v in med.items():
        print(f"fit on {n} hourly steps: {k:<6} median {v:6.3f} s of {repeats}  "
              f"({v / med['ridge']:5.1f}x Ridge); CPU {med_cpu[k]:6.3f} s "
              f"({med_cpu[k] / med_cpu['ridge']:5.1f}x)", flush=True)
    return {"wall": med, "cpu": med_cpu}


def coverage(n_threads=1):
    """Empirical coverage and mean width of 90% intervals over the last 14 days of
    the bundled electricity load (336 forecasts), per model and interval method."""
    y = datasets.load_electricity_load()
    net = {"random_state": 0, "n_threads": n_threads}
    models = [("ridge", lambda: Ridge(1.0), ("conformal",))]
    models += [(label, lambda cls=cls: cls(**net), ("conformal", "quantile"))
               for label, cls in (("lstm", LSTMRegressor), ("gru", GRURegressor))]
    rows = []
    for label, make, methods in models:
        for method in methods:
            f = Forecaster(make(), lags=48, horizon=24, calendar=["hour", "dayofweek"],
                           interval=method, coverage=0.9)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                bt = backtest(f, y, initial=len(y) - 14 * 24, step=24, refit=False,
                              season=24, coverage=0.9)
            width = float((bt.forecasts["upper"] - bt.forecasts["lower"]).mean())
            rows.append({"model": label, "interval": method,
                         "coverage": bt.metrics["coverage"], "mean_width": width,
                         "mase": bt.metrics["mase"]})
            print(f"90% interval, electricity load: {label:<6} {method:<10} coverage "
                  f"{rows[-1]['coverage']:.3f}  mean width {width:.0f} MW  "
                  f"MASE {rows[-1]['mase']:.3f}", flush=True)
    return rows


def table(rows):
    """The markdown table: MASE per series, geometric mean relative to naive, time."""
    models = list(dict.fromkeys(r["model"] for r in rows))
    series = list(dict.fromkeys(r["series"] for r in rows))
    got = {(r["series"], r["model"]): r for r in rows}
    lines = ["| series | forecasts | " + " | ".join(models) + " |",
             "|---|---|" + "---|" * len(models)]
    for s in series:
        n = next(got[s, m]["forecasts"] for m in models if (s, m) in got)
        lines.append(f"| {s} | {n} | " + " | ".join(
            f"{got[s, m]['mase']:.3f} ({got[s, m]['se']:.3f})" if (s, m) in got else "-"
            for m in models) + " |")
    gm = []
    for m in models:
        rel = [got[s, m]["mase"] / got[s, "naive"]["mase"] for s in series
               if (s, m) in got and (s, "naive") in got]
        gm.append(f"{np.exp(np.mean(np.log(rel))):.3f}" if rel else "-")
    lines.append("| **geometric mean relative to naive** | | " + " | ".join(gm) + " |")
    secs = [sum(got[s, m]["seconds"] for s in series if (s, m) in got) for m in models]
    lines.append("| time for all fits (s) | | " + " | ".join(f"{v:.1f}" for v in secs)
                 + " |")
    cpu = [sum(got[s, m].get("cpu", np.nan) for s in series if (s, m) in got)
           for m in models]
    lines.append("| CPU time for all fits (s) | | " + " | ".join(f"{v:.1f}" for v in cpu)
                 + " |")
    if "ridge" in models:
        r = models.index("ridge")
        lines.append("| time relative to Ridge | | " + " | ".join(
            f"{v / secs[r]:.1f}x" for v in secs) + " |")
        lines.append("| CPU time relative to Ridge | | " + " | ".join(
            f"{v / cpu[r]:.1f}x" for v in cpu) + " |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 origins per series")
    parser.add_argument("--origins", type=int, default=None,
                        help="origins per series (default: at least 8 and 120 "
                             "forecasts, within the last quarter of the series)")
    parser.add_argument("--seed", type=int, default=0)
    # choices: a misspelt name would otherwise match nothing and run no model
    parser.add_argument("--models", nargs="*", metavar="MODEL",
                        choices=["naive", "ridge", "lstm", "gru", "auto", "stateful",
                                 "stateful-diff", "esn", "esn-stateful"],
                        default=["naive", "ridge", "lstm", "gru", "auto"],
                        help="any of naive ridge lstm gru auto stateful stateful-diff "
                             "esn esn-stateful (auto where this version has "
                             "AutoForecaster; stateful: the LSTM with "
                             "strategy='stateful', on the levels or with "
                             "transform='diff'; esn: ESNRegressor at its defaults, on "
                             "windows or stateful; default: all but the stateful and "
                             "esn ones)")
    parser.add_argument("--series", nargs="+", metavar="WORD",
                        help="only the series whose name contains one of these")
    parser.add_argument("--intervals", action="store_true",
                        help="also the coverage of 90%% intervals on the electricity "
                             "load's last 14 days (models with their defaults)")
    parser.add_argument("--fit-time", action="store_true",
                        help="only the median fit time on a 4,000-step hourly series")
    parser.add_argument("--json", metavar="PATH")
    args = parser.parse_args()
    with threadpool_limits(1):  # one core each: the networks' n_threads=1, BLAS too
        out = _main(args)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(out, fh, indent=1)


def _main(args):
    if args.fit_time:
        return {"fit_time": fit_time()}
    n_origins = 2 if args.quick else args.origins
    print(f"tsbptt {tsbptt.__version__}; {n_origins or 'default'} rolling origins "
          f"per series, "
          f"step = horizon = season, refit at each; one thread (networks and BLAS), "
          f"random_state={args.seed}")
    rows = run(args.models, n_origins, args.seed, args.series) if args.models else []
    if rows:
        print()
        print(table(rows))
    intervals = coverage() if args.intervals else None
    return {"mase": rows, "intervals": intervals}


if __name__ == "__main__":
    main()
