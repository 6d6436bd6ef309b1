"""The bundled datasets: contents, indexes, the signals they are meant to carry, and
that tools/make_datasets.py regenerates the files exactly."""
import importlib.util
import re
import warnings
from importlib.resources import files
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import tsbptt
from tsbptt import datasets

MAKE_DATASETS = Path(__file__).resolve().parents[1] / "tools" / "make_datasets.py"

LOADERS = {
    "air_passengers": datasets.load_air_passengers,
    "electricity_load": datasets.load_electricity_load,
    "stock_prices": datasets.load_stock_prices,
    "sensor_temperatures": datasets.load_sensor_temperatures,
}


@pytest.fixture(scope="module")
def make_datasets():
    """tools/make_datasets.py, imported as a module from the repository."""
    if not MAKE_DATASETS.exists():
        pytest.skip(f"{MAKE_DATASETS} is not there (not a source checkout)")
    spec = importlib.util.spec_from_file_location("make_datasets", MAKE_DATASETS)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _infer_freq(index):
    """``pd.infer_freq`` as a string, under pandas 2 and 3 alike."""
    with warnings.catch_warnings():
        # pandas 3.x announces that infer_freq will return an offset.
        warnings.filterwarnings("ignore", message=".*BaseOffset object instead of")
        inferred = pd.infer_freq(index)
    return getattr(inferred, "freqstr", inferred)


def _check_regular(index, freq):
    """A sorted, unique, NaT-free DatetimeIndex that carries and infers ``freq``."""
    assert isinstance(index, pd.DatetimeIndex)
    assert index.dtype.kind == "M"
    # pandas' own default resolution for dates (ns with pandas 2, us with pandas 3).
    assert index.unit == pd.date_range("2000-01-01", periods=1).unit
    assert index.tz is None
    assert not index.hasnans
    assert index.is_monotonic_increasing and index.is_unique
    assert index.freqstr == freq
    assert _infer_freq(index) == freq
    expected = pd.date_range(index[0], periods=len(index), freq=freq)
    np.testing.assert_array_equal(index.asi8, expected.asi8)


# ---------------------------------------------------------------------------------
# The package surface
# ---------------------------------------------------------------------------------

def test_public_api():
    assert "datasets" in tsbptt.__all__
    assert tsbptt.datasets is datasets
    assert sorted(datasets.__all__) == datasets.__all__
    assert set(datasets.__all__) == {"list_datasets", "make_mackey_glass",
                                     *(f"load_{n}" for n in LOADERS)}
    for name in datasets.__all__:
        assert getattr(datasets, name).__doc__


def test_list_datasets():
    described = datasets.list_datasets()
    assert set(described) == set(LOADERS)
    for name, line in described.items():
        assert "\n" not in line
        kind = "real" if name == "air_passengers" else "synthetic"
        assert line.startswith(kind + ":")
        if kind == "synthetic":
            assert "CC0" in line
        assert getattr(datasets, f"load_{name}") is LOADERS[name]
    described.clear()  # a copy: the module's table is untouched
    assert len(datasets.list_datasets()) == len(LOADERS)


def test_files_are_package_resources():
    data = files("tsbptt.datasets") / "data"
    for name in LOADERS:
        resource = data / f"{name}.csv"
        assert resource.is_file()
        assert resource.read_bytes().isascii()
        assert b"\r" not in resource.read_bytes()
        assert len(resource.read_bytes()) < 150_000
    assert (files("tsbptt.datasets") / "README.md").is_file()


# ---------------------------------------------------------------------------------
# Air passengers (real)
# ---------------------------------------------------------------------------------

def test_air_passengers():
    y = datasets.load_air_passengers()
    assert isinstance(y, pd.Series)
    assert y.name == "passengers" and y.index.name == "month"
    assert y.shape == (144,)
    assert y.dtype == np.int64
    _check_regular(y.index, "MS")
    assert y.index[0] == pd.Timestamp("1949-01-01")
    assert y.index[-1] == pd.Timestamp("1960-12-01")
    assert y.sum() == 40363
    assert round(y.mean(), 2) == 280.30
    assert (y.iloc[0], y.iloc[-1]) == (112, 432)
    assert y.max() == 622 and y.idxmax() == pd.Timestamp("1960-07-01")
    assert y.min() == 104 and y.idxmin() == pd.Timestamp("1949-11-01")
    # Each year's total is larger than the year before (the series' trend).
    assert y.groupby(y.index.year).sum().is_monotonic_increasing


# ---------------------------------------------------------------------------------
# Electricity load (synthetic)
# ---------------------------------------------------------------------------------

def test_electricity_load_shapes():
    load = datasets.load_electricity_load()
    assert isinstance(load, pd.Series)
    assert load.name == "load_mw" and load.index.name == "timestamp"
    assert load.shape == (16 * 7 * 24,)
    assert load.dtype == np.float64
    _check_regular(load.index, "h")
    assert load.index[0] == pd.Timestamp("2024-01-01 00:00")
    assert load.index[-1] == pd.Timestamp("2024-04-21 23:00")
    assert load.notna().all()
    assert 500 < load.min() and load.max() < 2000  # MW of a mid-sized utility

    frame = datasets.load_electricity_load(with_temperature=True)
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns) == ["load_mw", "temperature_c"]
    assert (frame.dtypes == np.float64).all()
    _check_regular(frame.index, "h")
    assert frame.notna().all().all()
    pd.testing.assert_series_equal(frame["load_mw"], load)
    assert -25 < frame["temperature_c"].min() and frame["temperature_c"].max() < 30
    # Values carry one decimal.
    np.testing.assert_allclose(frame.to_numpy() * 10, np.round(frame.to_numpy() * 10),
                               atol=1e-6)


@pytest.mark.parametrize("bad", ["no", 1, None])
def test_electricity_load_with_temperature_is_a_bool(bad):
    # "no" is truthy: it returned the two-column frame
    with pytest.raises(TypeError, match=re.escape(f"with_temperature must be True or "
                                                  f"False, got {bad!r}")):
        datasets.load_electricity_load(with_temperature=bad)


def test_electricity_load_daily_and_weekly_patterns():
    load = datasets.load_electricity_load()
    by_hour = load.groupby(load.index.hour).mean()
    assert by_hour[18] > by_hour[3] + 150  # evening peak over the night trough
    assert by_hour[8] > by_hour[3] + 150  # morning peak
    assert by_hour.idxmin() in range(6)
    weekend = load.index.day_of_week >= 5
    assert load[~weekend].mean() > load[weekend].mean() + 50


def test_electricity_load_falls_as_it_gets_warmer_in_the_cold():
    frame = datasets.load_electricity_load(with_temperature=True)
    daily = frame.resample("D").mean()
    cold = daily[daily["temperature_c"] < 15]
    assert len(cold) > 50
    assert cold["load_mw"].corr(cold["temperature_c"]) < -0.5
    # Also hour by hour once the daily profile is taken out.
    cold_hours = frame[frame["temperature_c"] < 15]
    hours = cold_hours.index.hour
    residual = cold_hours - cold_hours.groupby(hours).transform("mean")
    assert residual["load_mw"].corr(residual["temperature_c"]) < -0.3


# ---------------------------------------------------------------------------------
# Stock prices (synthetic)
# ---------------------------------------------------------------------------------

def test_stock_prices():
    close = datasets.load_stock_prices()
    assert isinstance(close, pd.Series)
    assert close.name == "close" and close.index.name == "date"
    assert close.dtype == np.float64
    _check_regular(close.index, "B")
    assert close.index[0] == pd.Timestamp("2019-01-02")
    assert close.index[-1] == pd.Timestamp("2022-12-30")
    assert len(close) == len(pd.bdate_range("2019-01-02", "2022-12-30")) == 1043
    assert close.iloc[0] == 100.0
    assert close.notna().all() and (close > 0).all()
    np.testing.assert_allclose(close * 100, np.round(close * 100), atol=1e-6)
    r = tsbptt.forecasting.returns.log_returns(close)
    assert 0.005 < r.std() < 0.04
    assert abs(r.mean()) < 0.002
    # Volatility clustering: squared returns are autocorrelated.
    assert (r ** 2).autocorr(lag=1) > 0.05


# ---------------------------------------------------------------------------------
# Sensor temperatures (synthetic, long format)
# ---------------------------------------------------------------------------------

def test_sensor_temperatures():
    frame = datasets.load_sensor_temperatures()
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns) == ["sensor", "time", "temperature_c"]
    assert isinstance(frame.index, pd.RangeIndex)
    assert frame.index.equals(pd.RangeIndex(4 * 8 * 7 * 24))
    assert frame["time"].dtype.kind == "M"
    assert frame["temperature_c"].dtype == np.float64
    assert frame.notna().all().all()
    assert list(frame["sensor"].unique()) == ["s1", "s2", "s3", "s4"]
    assert frame["sensor"].map(type).eq(str).all()
    # Sorted by sensor, then time.
    ordered = frame.sort_values(["sensor", "time"], ignore_index=True)
    pd.testing.assert_frame_equal(frame, ordered)

    means = {}
    for sensor, part in frame.groupby("sensor"):
        assert len(part) == 8 * 7 * 24
        times = pd.DatetimeIndex(part["time"])
        assert times[0] == pd.Timestamp("2024-03-01 00:00")
        assert _infer_freq(times) == "h"
        assert times.is_monotonic_increasing and times.is_unique
        by_hour = part.groupby(times.hour)["temperature_c"].mean()
        assert by_hour.max() - by_hour.min() > 2  # a daily cycle
        assert 12 <= by_hour.idxmax() <= 17  # warmest in the afternoon
        means[sensor] = part["temperature_c"].mean()
    # The sensors differ in level.
    assert max(means.values()) - min(means.values()) > 3


# ---------------------------------------------------------------------------------
# Fresh objects, and regenerating the files
# ---------------------------------------------------------------------------------

@pytest.mark.parametrize("loader", [
    datasets.load_air_passengers,
    datasets.load_electricity_load,
    lambda: datasets.load_electricity_load(with_temperature=True),
    datasets.load_stock_prices,
    datasets.load_sensor_temperatures,
], ids=["air_passengers", "electricity_load", "electricity_load+temperature",
        "stock_prices", "sensor_temperatures"])
def test_loaders_return_new_objects(loader):
    first = loader()
    reference = loader()
    assert first is not reference
    if isinstance(first, pd.Series):
        first.iloc[:] = 0
        first.index.name = "changed"
        first.name = "changed"
        check = pd.testing.assert_series_equal
    else:
        first.iloc[:, -1] = 0
        first["extra"] = 1
        check = pd.testing.assert_frame_equal
    check(loader(), reference)
    assert not np.shares_memory(loader().to_numpy(), reference.to_numpy())


@pytest.mark.parametrize("name", list(LOADERS))
def test_make_datasets_regenerates_the_files_exactly(make_datasets, name):
    filename = f"{name}.csv"
    assert filename in make_datasets.filenames()
    bundled = (files("tsbptt.datasets") / "data" / filename).read_bytes()
    assert make_datasets.csv_text(filename).encode("ascii") == bundled


def test_make_datasets_frames_match_the_loaders(make_datasets):
    air = make_datasets.air_passengers().set_index("month")["passengers"]
    pd.testing.assert_series_equal(datasets.load_air_passengers(), air,
                                   check_freq=False)
    assert make_datasets.AIR_PASSENGERS == datasets.load_air_passengers().tolist()

    electricity = make_datasets.electricity_load().set_index("timestamp")
    pd.testing.assert_frame_equal(
        datasets.load_electricity_load(with_temperature=True), electricity,
        check_freq=False)

    stocks = make_datasets.stock_prices().set_index("date")["close"]
    pd.testing.assert_series_equal(datasets.load_stock_prices(), stocks,
                                   check_freq=False)

    sensors = make_datasets.sensor_temperatures()[["sensor", "time", "temperature_c"]]
    pd.testing.assert_frame_equal(datasets.load_sensor_temperatures(), sensors)


def test_make_datasets_main_writes_the_files(make_datasets, tmp_path, capsys):
    make_datasets.main(["--out", str(tmp_path)])
    assert "wrote" in capsys.readouterr().out
    data = files("tsbptt.datasets") / "data"
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == sorted(f"{name}.csv" for name in LOADERS)
    for filename in written:
        assert (tmp_path / filename).read_bytes() == (data / filename).read_bytes()


def test_irregular_timestamps_are_refused():
    from tsbptt.datasets._loaders import _regular_index

    stamps = pd.Series(pd.to_datetime(["2024-01-01 00:00", "2024-01-01 01:00",
                                       "2024-01-01 03:00"]), name="t")
    with pytest.raises(ValueError, match="not regular at freq 'h'"):
        _regular_index(stamps, "h", "some.csv")
    index = _regular_index(stamps.iloc[:2], "h", "some.csv")
    assert index.freqstr == "h" and index.name == "t"
