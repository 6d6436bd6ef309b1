"""AutoForecaster with and without the week as a second season, on hourly series.

With a step that divides a day, AutoForecaster's default candidates include
seasonal naive and ridge at the week (168 hourly steps, windows of a week)
beside the day's five. This script backtests both choices in one run, so
that they share the series, the origins and the machine: ``candidates=`` the
day's five (the default before the week was added) against the default.

    python benchmarks/bench_auto_week.py              # 7 origins a series
    python benchmarks/bench_auto_week.py --origins 3  # quicker

Series: two simulated sites' hourly load (a working day, a low weekend and
holidays, a temperature effect, Europe/Berlin and America/New_York, crossing
a daylight saving change) and one's solar output (zero every night), the
bundled electricity load and a sensor's temperature, two added seasonalities
(24 and 168) and a random walk. Reported: mean absolute error and MASE
(season 24) of AutoForecaster refitted at every origin (72 hours apart,
horizon 24), and the fit time of all the refits. Everything runs on one
thread. No data is downloaded.
"""
import argparse
import time
import warnings

import numpy as np
import pandas as pd
from _common import tsbptt  # noqa: F401 (the tree's tsbptt, as the other scripts)
from threadpoolctl import threadpool_limits

from tsbptt import AutoForecaster, backtest, datasets
from tsbptt.forecasting.auto import DEFAULT_CANDIDATES


def _site(tz, seed, scale):
    """A site's hourly load and solar output from 2024-06-01 to 2024-11-15."""
    idx = pd.date_range("2024-06-01", "2024-11-15", freq="h", tz=tz, inclusive="left")
    rng = np.random.default_rng(seed)
    h, dow, doy = idx.hour.to_numpy(), idx.day_of_week.to_numpy(), idx.day_of_year.to_numpy()
    ar = np.zeros(len(idx))
    e = rng.standard_normal(len(idx))
    for i in range(1, len(idx)):
        ar[i] = 0.97 * ar[i - 1] + 0.5 * e[i]
    temp = (10 - 10 * np.cos(2 * np.pi * (doy - 15) / 365)
            + 4 * np.sin(2 * np.pi * (h - 9) / 24) + ar)
    daily = np.where((h >= 7) & (h <= 21), 1.0, 0.6) + 0.15 * np.sin(2 * np.pi * (h - 6) / 24)
    holidays = pd.to_datetime(["2024-10-03", "2024-11-01"])
    off = (dow >= 5) | np.isin(idx.normalize().tz_localize(None), holidays)
    load = scale * daily * np.where(off, 0.8, 1.0) * (1 + 0.02 * np.abs(temp - 16)) \
        + 3 * rng.standard_normal(len(idx))
    daylight = 12 + 4 * np.sin(2 * np.pi * (doy - 80) / 365)
    x = (h + 0.5 - 13.0) / (daylight / 2)
    cloud = np.clip(1 - 0.5 * np.abs(np.repeat(rng.standard_normal(len(idx) // 24 + 2),
                                                24)[:len(idx)]), 0.1, 1)
    solar = np.where(np.abs(x) < 1, np.cos(np.pi / 2 * np.clip(x, -1, 1)), 0.0) * 50 * cloud
    return pd.Series(load, idx, name="load"), pd.Series(solar, idx, name="solar")


def _series():
    rng = np.random.default_rng(7)
    berlin_load, berlin_solar = _site("Europe/Berlin", 0, 100.0)
    ny_load, _ = _site("America/New_York", 1, 80.0)
    s = datasets.load_sensor_temperatures()
    sensor = s[s["sensor"] == "s1"].set_index("time")["temperature_c"].iloc[-1500:]
    t = np.arange(2400)
    hours = pd.date_range("2024-01-01", periods=2400, freq="h")
    return {"load, Berlin (simulated)": berlin_load,
            "load, New York (simulated)": ny_load,
            "solar, Berlin (simulated)": berlin_solar,
            "electricity load (bundled)": datasets.load_electricity_load(),
            "sensor temperature (bundled)": sensor.asfreq("h"),
            "two seasonalities, 24 and 168": pd.Series(
                10 + 3 * np.sin(2 * np.pi * t / 24) + 2 * np.sin(2 * np.pi * t / 168)
                + rng.standard_normal(2400), hours),
            "random walk": pd.Series(np.cumsum(rng.standard_normal(2400)), hours)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--origins", type=int, default=7)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    print(f"{'series':<32} {'day only: MAE':>14} {'MASE':>6} {'time':>6}   "
          f"{'with the week: MAE':>19} {'MASE':>6} {'time':>6}")
    with threadpool_limits(1):
        for name, y in _series().items():
            initial = len(y) - 72 * (args.origins - 1) - 24
            row = []
            for candidates in (DEFAULT_CANDIDATES, None):
                start = time.perf_counter()
                bt = backtest(AutoForecaster(horizon=24, candidates=candidates,
                                             random_state=0, n_threads=1),
                              y, initial=initial, step=72, horizon=24, refit=True,
                              season=24)
                row.append((bt.metrics["mae"], bt.metrics["mase"],
                            time.perf_counter() - start))
            (a, b, c), (d, e, f) = row
            print(f"{name:<32} {a:>14.3f} {b:>6.3f} {c:>5.0f}s   {d:>19.3f} {e:>6.3f} "
                  f"{f:>5.0f}s", flush=True)


if __name__ == "__main__":
    main()
