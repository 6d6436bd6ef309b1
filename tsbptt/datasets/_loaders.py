"""Loaders of the CSV files in ``tsbptt/datasets/data``.

Each loader reads its file afresh (so callers may mutate what they get), parses the
ISO 8601 timestamps, checks that they are regular at the stated frequency and sets
that frequency on the index. The files and their provenance are described in
``tsbptt/datasets/README.md``; ``tools/make_datasets.py`` in the source repository
regenerates them.
"""
from __future__ import annotations

from importlib.resources import files

import numpy as np
import pandas as pd

__all__ = ["list_datasets", "load_air_passengers", "load_electricity_load",
           "load_sensor_temperatures", "load_stock_prices"]

_PACKAGE = "tsbptt.datasets"

_DESCRIPTIONS = {
    "air_passengers": "real: monthly international airline passengers (thousands), "
                      "1949-1960, Box & Jenkins series G; statistical facts, not "
                      "copyrightable, redistributed widely (see README)",
    "electricity_load": "synthetic: hourly electricity load (MW) with air temperature "
                        "(C), 16 weeks from 2024-01-01; CC0",
    "sensor_temperatures": "synthetic: hourly temperatures of 4 sensors in long "
                           "format, 8 weeks from 2024-03-01; CC0",
    "stock_prices": "synthetic: daily closing prices (USD) on business days, "
                    "2019-2022, GARCH(1,1) returns with jumps; CC0",
}


def list_datasets() -> dict[str, str]:
    """The bundled datasets, each with a one-line description.

    Returns
    -------
    dict
        Name (the loader is ``load_<name>``) -> description, which says whether the
        data are real or synthetic and under which license they are distributed.

    Examples
    --------
    >>> from tsbptt.datasets import list_datasets
    >>> sorted(list_datasets())
    ['air_passengers', 'electricity_load', 'sensor_temperatures', 'stock_prices']
    """
    return dict(_DESCRIPTIONS)


def _read_csv(filename, time_column):
    """Read one bundled CSV, with ``time_column`` parsed as timezone-naive datetime64.

    The resolution is pandas' default for parsed dates (nanoseconds with pandas 2,
    microseconds with pandas 3), the same as ``pd.date_range`` gives, so that the
    indexes line up with ones the caller builds.
    """
    resource = files(_PACKAGE) / "data" / filename
    with resource.open("rb") as fh:
        return pd.read_csv(fh, parse_dates=[time_column], date_format="ISO8601")


def _regular_index(stamps, freq, source):
    """``stamps`` as a DatetimeIndex carrying ``freq``, after checking regularity."""
    stamps = pd.DatetimeIndex(stamps)
    expected = pd.date_range(stamps[0], periods=len(stamps), freq=freq,
                             name=stamps.name, unit=stamps.unit)
    if not stamps.equals(expected):
        raise ValueError(f"{source}: the timestamps are not regular at freq {freq!r}")
    return expected


def load_air_passengers() -> pd.Series:
    """Monthly totals of international airline passengers, 1949-1960 (real data).

    The classic Box & Jenkins "airline" series (series G): 144 monthly totals, in
    thousands of passengers, January 1949 to December 1960, with a rising trend and
    a multiplicative yearly seasonality.

    Returns
    -------
    Series
        Named ``"passengers"``, int64 values (thousands of passengers), 144 rows, on
        a DatetimeIndex named ``"month"`` of month starts 1949-01-01 ..
        1960-12-01 with ``freq="MS"``.

    Notes
    -----
    Provenance: Box, G. E. P. and Jenkins, G. M. (1976), *Time Series Analysis:
    Forecasting and Control*, revised edition, Holden-Day, series G (also in the
    third edition with G. C. Reinsel, 1994); usually traced back to Brown, R. G.
    (1963), *Smoothing, Forecasting and Prediction of Discrete Time Series*,
    Prentice-Hall. The same values ship with R as ``datasets::AirPassengers``.

    License: a statistical record of facts, which is not copyrightable as such; the
    series has been redistributed widely (R, statsmodels, many textbooks) without
    restriction. Please cite Box & Jenkins when you use it.

    Examples
    --------
    >>> from tsbptt.datasets import load_air_passengers
    >>> y = load_air_passengers()
    >>> len(y), y.index.freqstr, int(y.iloc[0]), int(y.iloc[-1])
    (144, 'MS', 112, 432)
    """
    frame = _read_csv("air_passengers.csv", "month")
    index = _regular_index(frame["month"], "MS", "air_passengers.csv")
    return pd.Series(frame["passengers"].to_numpy(dtype="int64"), index=index,
                     name="passengers")


def load_electricity_load(with_temperature: bool = False) -> pd.Series | pd.DataFrame:
    """Hourly electricity load of a synthetic utility, 16 weeks of winter and spring.

    2688 hourly values from 2024-01-01 00:00 to 2024-04-21 23:00 (timezone-naive).
    The load has a daily profile with a morning peak near 08:00 and an evening
    peak near 18:30, lower demand on weekends, a slow decline towards spring and
    heating demand that grows as the temperature falls below about 15 C, plus
    autocorrelated noise. The temperature has a daily cycle (warmest around 15:00),
    a seasonal rise from about 3 C to 12 C and autocorrelated weather noise.

    Parameters
    ----------
    with_temperature : bool, default False
        Also return the temperature, an exogenous feature known to drive the load.

    Returns
    -------
    Series or DataFrame
        A float64 Series named ``"load_mw"`` (megawatts, 0.1 MW resolution); with
        ``with_temperature=True`` a DataFrame with columns ``["load_mw",
        "temperature_c"]`` (degrees Celsius, 0.1 C resolution). The index is a
        DatetimeIndex named ``"timestamp"`` with ``freq="h"``.

    Notes
    -----
    Provenance: synthetic, generated by ``tools/make_datasets.py`` (seeded with
    ``numpy.random.default_rng(20240101 + 1)``), where the model and all its
    parameters are spelled out. No real measurements were used.

    License: CC0 1.0 (public domain dedication), generated by the tsbptt project.

    Examples
    --------
    >>> from tsbptt.datasets import load_electricity_load
    >>> load_electricity_load(with_temperature=True).shape
    (2688, 2)
    """
    if not isinstance(with_temperature, (bool, np.bool_)):  # "no" is truthy
        raise TypeError(f"with_temperature must be True or False, got {with_temperature!r}")
    frame = _read_csv("electricity_load.csv", "timestamp")
    frame.index = _regular_index(frame.pop("timestamp"), "h", "electricity_load.csv")
    if with_temperature:
        return frame[["load_mw", "temperature_c"]].astype("float64")
    return frame["load_mw"].astype("float64")


def load_stock_prices() -> pd.Series:
    """Daily closing prices of a synthetic stock, business days 2019-2022.

    1043 closes on every Monday to Friday from 2019-01-02 to 2022-12-30 (exchange
    holidays are not removed), starting at 100.00 USD. The log returns follow a
    GARCH(1,1) process (volatility clustering, about 1.5 % daily volatility in the
    long run) with a small drift and occasional jumps.

    Returns
    -------
    Series
        Named ``"close"``, float64 prices in US dollars rounded to cents, on a
        DatetimeIndex named ``"date"`` with ``freq="B"``.

    Notes
    -----
    Provenance: synthetic, generated by ``tools/make_datasets.py`` (seeded with
    ``numpy.random.default_rng(20240101 + 2)``). It is not the price of any real
    security. Forecast its log returns (:func:`tsbptt.returns.log_returns`) rather
    than the prices.

    License: CC0 1.0 (public domain dedication), generated by the tsbptt project.

    Examples
    --------
    >>> from tsbptt.datasets import load_stock_prices
    >>> close = load_stock_prices()
    >>> len(close), close.index.freqstr, float(close.iloc[0])
    (1043, 'B', 100.0)
    """
    frame = _read_csv("stock_prices.csv", "date")
    index = _regular_index(frame["date"], "B", "stock_prices.csv")
    return pd.Series(frame["close"].to_numpy(dtype="float64"), index=index,
                     name="close")


def load_sensor_temperatures() -> pd.DataFrame:
    """Hourly temperatures of four synthetic sensors, in long format.

    Sensors ``"s1"`` .. ``"s4"``, each with 1344 hourly readings over 8 weeks from
    2024-03-01 00:00. Every sensor has its own level, amplitude and phase of a
    daily cycle, a slow linear drift and autocorrelated noise: many related series
    for one global model.

    Returns
    -------
    DataFrame
        5376 rows with columns ``["sensor", "time", "temperature_c"]``: the sensor
        id (strings), the timestamp (datetime64, regular hourly within each
        sensor) and the temperature in degrees Celsius (float64, 0.1 C resolution);
        sorted by sensor then time, with a RangeIndex.

    Notes
    -----
    Provenance: synthetic, generated by ``tools/make_datasets.py`` (seeded with
    ``numpy.random.default_rng(20240101 + 3)``), with the per-sensor parameters in
    its ``SENSORS`` table.

    License: CC0 1.0 (public domain dedication), generated by the tsbptt project.

    Examples
    --------
    >>> from tsbptt.datasets import load_sensor_temperatures
    >>> frame = load_sensor_temperatures()
    >>> frame.groupby("sensor").size().to_dict()
    {'s1': 1344, 's2': 1344, 's3': 1344, 's4': 1344}
    """
    frame = _read_csv("sensor_temperatures.csv", "time")
    frame = frame[["sensor", "time", "temperature_c"]]
    frame = frame.sort_values(["sensor", "time"], kind="stable", ignore_index=True)
    for sensor, times in frame.groupby("sensor", sort=False)["time"]:
        _regular_index(times, "h", f"sensor_temperatures.csv, sensor {sensor!r}")
    frame["temperature_c"] = frame["temperature_c"].astype("float64")
    return frame
