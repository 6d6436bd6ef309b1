"""Regenerate the CSV files bundled in ``tsbptt/datasets/data``.

Run from anywhere::

    python tools/make_datasets.py            # writes into tsbptt/datasets/data
    python tools/make_datasets.py --out DIR  # writes into DIR instead

The three synthetic series (electricity load, stock prices, sensor temperatures) are
drawn from ``numpy.random.default_rng(SEED)`` with ``SEED = 20240101``, one generator
per series (seeded ``SEED + k``), so regenerating one does not depend on the others.
The air passengers file is written from the literal values below (Box & Jenkins,
series G). Every CSV is written with ``"\\n"`` line endings and a fixed float format,
so that two runs give byte-identical files; ``tests/test_datasets.py`` checks that the
bundled files are exactly what this script produces.

Only numpy and pandas are needed. The functions ``air_passengers``,
``electricity_load``, ``stock_prices`` and ``sensor_temperatures`` return the frames
that are written; ``csv_text`` gives the exact text of each file.
"""
import argparse
from pathlib import Path

import numpy as np
import pandas as pd

SEED = 20240101
"""Base seed; series ``k`` (electricity 1, stocks 2, sensors 3) uses ``SEED + k``."""

DATA_DIR = Path(__file__).resolve().parents[1] / "tsbptt" / "datasets" / "data"

# Monthly totals of international airline passengers, thousands, Jan 1949 - Dec 1960
# (Box, Jenkins & Reinsel, series G; R's datasets::AirPassengers).
AIR_PASSENGERS = [
    112, 118, 132, 129, 121, 135, 148, 148, 136, 119, 104, 118,  # 1949
    115, 126, 141, 135, 125, 149, 170, 170, 158, 133, 114, 140,  # 1950
    145, 150, 178, 163, 172, 178, 199, 199, 184, 162, 146, 166,  # 1951
    171, 180, 193, 181, 183, 218, 230, 242, 209, 191, 172, 194,  # 1952
    196, 196, 236, 235, 229, 243, 264, 272, 237, 211, 180, 201,  # 1953
    204, 188, 235, 227, 234, 264, 302, 293, 259, 229, 203, 229,  # 1954
    242, 233, 267, 269, 270, 315, 364, 347, 312, 274, 237, 278,  # 1955
    284, 277, 317, 313, 318, 374, 413, 405, 355, 306, 271, 306,  # 1956
    315, 301, 356, 348, 355, 422, 465, 467, 404, 347, 305, 336,  # 1957
    340, 318, 362, 348, 363, 435, 491, 505, 404, 359, 310, 337,  # 1958
    360, 342, 406, 396, 420, 472, 548, 559, 463, 407, 362, 405,  # 1959
    417, 391, 419, 461, 472, 535, 622, 606, 508, 461, 390, 432,  # 1960
]

# file name -> (builder, float format written to the CSV)
_FILES = {}


def _register(filename, float_format):
    def decorate(func):
        _FILES[filename] = (func, float_format)
        return func
    return decorate


def _ar1(rng, n, phi, sigma):
    """A stationary Gaussian AR(1) path ``e_t = phi e_{t-1} + sigma z_t``."""
    z = rng.standard_normal(n)
    out = np.empty(n)
    out[0] = z[0] * sigma / np.sqrt(1.0 - phi * phi)
    for t in range(1, n):
        out[t] = phi * out[t - 1] + sigma * z[t]
    return out


def _bump(x, center, width):
    """A Gaussian bump of height 1."""
    return np.exp(-0.5 * ((x - center) / width) ** 2)


@_register("air_passengers.csv", None)
def air_passengers():
    """Box & Jenkins series G, monthly 1949-01 .. 1960-12 (real data).

    Returns
    -------
    DataFrame with columns ``month`` (month starts) and ``passengers`` (int64,
    thousands)
    """
    month = pd.date_range("1949-01-01", periods=len(AIR_PASSENGERS), freq="MS")
    return pd.DataFrame({"month": month,
                         "passengers": np.asarray(AIR_PASSENGERS, dtype=np.int64)})


@_register("electricity_load.csv", "%.1f")
def electricity_load():
    """Synthetic hourly electricity load (MW) and air temperature (C), 16 weeks.

    Temperature: a seasonal level rising from about 3 C (January) to about 12 C
    (late April), a daily cycle of +-4 C peaking at 15:00 and AR(1) weather noise
    (hourly phi 0.98, stationary sd about 2.8 C).

    Load: 900 MW base with a slow decline of 50 MW over the 16 weeks; a daily
    profile with a morning peak near 08:00, an evening peak near 18:30 and a daytime
    plateau, damped to 70 % on weekends, which also lose 60 MW of base load;
    heating demand of 18 MW per degree below 15 C; AR(1) noise (phi 0.9,
    stationary sd about 23 MW). Both columns are rounded to 0.1.

    Returns
    -------
    DataFrame with columns ``timestamp`` (hourly from 2024-01-01 00:00, 2688
    rows), ``load_mw`` and ``temperature_c``
    """
    rng = np.random.default_rng(SEED + 1)
    timestamp = pd.date_range("2024-01-01", periods=16 * 7 * 24, freq="h")
    n = len(timestamp)
    frac = np.arange(n) / (n - 1)  # 0 .. 1 over the whole span
    hour = timestamp.hour.to_numpy().astype(np.float64)
    weekend = timestamp.day_of_week.to_numpy() >= 5

    temperature = (3.0 + 9.0 * frac
                   + 4.0 * np.cos(2 * np.pi * (hour - 15.0) / 24.0)
                   + _ar1(rng, n, phi=0.98, sigma=0.55))

    daily = (180.0 * _bump(hour, 8.0, 1.5) + 260.0 * _bump(hour, 18.5, 2.0)
             + 150.0 * 0.5 * (np.tanh(hour - 6.5) - np.tanh(hour - 22.5)))
    daily = np.where(weekend, 0.7 * daily, daily)
    base = 900.0 - 50.0 * frac - 60.0 * weekend
    heating = 18.0 * np.maximum(15.0 - temperature, 0.0)
    load = base + daily + heating + _ar1(rng, n, phi=0.9, sigma=10.0)

    return pd.DataFrame({"timestamp": timestamp,
                         "load_mw": np.round(load, 1),
                         "temperature_c": np.round(temperature, 1)})


@_register("stock_prices.csv", "%.2f")
def stock_prices():
    """Synthetic daily closing prices (USD), business days 2019-01-02 .. 2022-12-30.

    Log returns ``r_t = mu + sigma_t z_t + J_t`` with ``mu = 0.0003``, a GARCH(1,1)
    variance ``sigma_t^2 = omega + 0.08 (r_{t-1} - mu)^2 + 0.90 sigma_{t-1}^2``
    whose long-run daily volatility is 1.5 %, and jumps ``J_t ~ N(-0.01, 0.04^2)``
    on about 1 % of days. The first close is 100.00; prices are rounded to cents.
    Every Monday-Friday is a business day (exchange holidays are not removed).

    Returns
    -------
    DataFrame with columns ``date`` and ``close``
    """
    rng = np.random.default_rng(SEED + 2)
    date = pd.bdate_range("2019-01-02", "2022-12-30")
    n = len(date)
    mu, alpha, beta, long_run_vol = 0.0003, 0.08, 0.90, 0.015
    omega = long_run_vol ** 2 * (1.0 - alpha - beta)
    z = rng.standard_normal(n)
    jump = np.where(rng.random(n) < 0.01, rng.normal(-0.01, 0.04, n), 0.0)

    r = np.zeros(n)  # r[0] = 0: the first close is the starting price
    var = long_run_vol ** 2
    for t in range(1, n):
        var = omega + alpha * (r[t - 1] - mu) ** 2 + beta * var
        r[t] = mu + np.sqrt(var) * z[t] + jump[t]
    close = 100.0 * np.exp(np.cumsum(r))
    return pd.DataFrame({"date": date, "close": np.round(close, 2)})


# sensor id -> (level C, daily amplitude C, hour of the daily maximum, drift C/week)
SENSORS = {
    "s1": (19.0, 1.5, 14.0, 0.10),
    "s2": (21.5, 3.0, 16.0, -0.05),
    "s3": (17.0, 2.2, 13.0, 0.20),
    "s4": (23.0, 4.0, 15.5, 0.03),
}


@_register("sensor_temperatures.csv", "%.1f")
def sensor_temperatures():
    """Synthetic hourly temperatures of four sensors, 8 weeks from 2024-03-01.

    Each sensor ``k`` reads ``level_k + amplitude_k cos(2 pi (hour - peak_k) / 24)
    + drift_k * weeks + e_t`` with AR(1) noise ``e_t`` (phi 0.8, stationary sd
    0.25 C); the parameters are in ``SENSORS``. Rounded to 0.1 C.

    Returns
    -------
    DataFrame in long format with columns ``time``, ``sensor`` and
    ``temperature_c``, sorted by sensor then time (4 x 1344 rows)
    """
    rng = np.random.default_rng(SEED + 3)
    time = pd.date_range("2024-03-01", periods=8 * 7 * 24, freq="h")
    n = len(time)
    hour = time.hour.to_numpy().astype(np.float64)
    weeks = np.arange(n) / (7 * 24)
    frames = []
    for sensor, (level, amplitude, peak, drift) in SENSORS.items():
        noise = _ar1(rng, n, phi=0.8, sigma=0.25 * np.sqrt(1 - 0.8 ** 2))
        temperature = (level + amplitude * np.cos(2 * np.pi * (hour - peak) / 24.0)
                       + drift * weeks + noise)
        frames.append(pd.DataFrame({"time": time, "sensor": sensor,
                                    "temperature_c": np.round(temperature, 1)}))
    return pd.concat(frames, ignore_index=True)


def csv_text(filename):
    """The exact text of one bundled CSV file, as this script writes it.

    Parameters
    ----------
    filename : str
        One of ``"air_passengers.csv"``, ``"electricity_load.csv"``,
        ``"stock_prices.csv"``, ``"sensor_temperatures.csv"``.

    Returns
    -------
    str
    """
    builder, float_format = _FILES[filename]
    frame = builder()
    # Timestamps as ISO 8601 dates or date-times, without seconds.
    first = frame.columns[0]
    stamps = frame[first]
    fmt = "%Y-%m-%d" if (stamps == stamps.dt.normalize()).all() else "%Y-%m-%dT%H:%M"
    frame = frame.assign(**{first: stamps.dt.strftime(fmt)})
    return frame.to_csv(index=False, float_format=float_format, lineterminator="\n")


def filenames():
    """Names of the files this script writes, in the order it writes them."""
    return list(_FILES)


def main(argv=None):
    """Write every CSV file into ``--out`` (default: the package's data folder)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DATA_DIR,
                        help=f"output folder (default: {DATA_DIR})")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for filename in filenames():
        path = args.out / filename
        text = csv_text(filename)
        path.write_bytes(text.encode("ascii"))
        print(f"wrote {path} ({len(text.encode('ascii'))} bytes)")


if __name__ == "__main__":
    main()
