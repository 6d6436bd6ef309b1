"""Panels: the grouped fast path, long frames, PeriodIndex, static features, and
rolling-origin evaluation on one time axis (backtest, RollingOrigin, GridSearchCV)."""
import re
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV

from tsbptt import (ESNRegressor, Forecaster, GRURegressor, RollingOrigin, backtest,
                    load_forecaster)
from tsbptt.forecasting import _panel
from tsbptt.forecasting.metrics import mae

IDS = ["a", "b", "c"]


def _frame(T=120, ids=IDS, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(T)
    return pd.DataFrame({
        "unique_id": np.repeat(ids, T),
        "ds": np.tile(pd.date_range("2024-01-01", periods=T, freq="D"), len(ids)),
        "y": np.concatenate([k + k * np.sin(2 * np.pi * t / 7) + rng.normal(0, .1, T)
                             for k in range(1, len(ids) + 1)])})


def _long(df):
    return df.set_index(["unique_id", "ds"])["y"]


def test_grouped_fast_path_matches_the_per_series_path(monkeypatch):
    y = _long(_frame())
    f = Forecaster(Ridge(), lags=7, horizon=3, interval="conformal", calibration=0.3)
    fast = f.fit(y).predict_interval()
    assert isinstance(_panel.to_entries(y)[0][0]._view, tuple)  # the grouped block
    monkeypatch.setattr(_panel, "_fast_long", lambda *a: None)
    slow = Forecaster(**f.get_params(deep=False)).fit(y).predict_interval()
    pd.testing.assert_frame_equal(fast, slow, check_exact=True)
    # rows of a series apart (sorted by time, then id): grouped stably, same result
    monkeypatch.undo()
    mixed = y.sort_index(level=[1, 0])
    pd.testing.assert_frame_equal(Forecaster(**f.get_params(deep=False)).fit(mixed).predict_interval(),
                                  fast, check_exact=True)


def test_grouped_fast_path_with_covariates_and_periods_matches(monkeypatch):
    n, T = 3, 60
    months = pd.period_range("2018-01", periods=T, freq="M")
    index = pd.MultiIndex.from_arrays([np.repeat(["x", "y", "z"], T), np.tile(months, n)],
                                      names=["id", "month"])
    rng = np.random.default_rng(3)
    y = pd.Series(5 + rng.normal(0, 1, n * T).cumsum() / 10, index=index, name="sales")
    X = pd.DataFrame({"price": rng.uniform(1, 2, n * T), "promo": rng.integers(0, 2, n * T)},
                     index=index)
    f = Forecaster(Ridge(), lags=12, horizon=3, future_exog=["promo"], season=12)
    future = pd.DataFrame({"promo": [1, 0, 1] * n}, index=pd.MultiIndex.from_arrays(
        [np.repeat(["x", "y", "z"], 3), np.tile(pd.period_range("2023-01", periods=3,
                                                                freq="M"), n)]))
    fast = f.fit(y, X).predict(X=future)
    assert isinstance(_panel.to_entries(y, X)[0][0]._view, tuple)
    assert isinstance(fast.index.get_level_values(1), pd.PeriodIndex)
    monkeypatch.setattr(_panel, "_fast_long", lambda *a: None)
    slow = Forecaster(**f.get_params(deep=False)).fit(y, X).predict(X=future)
    pd.testing.assert_series_equal(fast, slow, check_exact=True)


@pytest.mark.parametrize("bad, match", [
    (lambda y: y.drop(("b", pd.Timestamp("2024-01-10"))),
     # pandas 3 names a day's step '24h', pandas 2 'D'
     r"series 'b''s index is not regular at frequency (24h|D): Timestamp\('2024-01-11"),
    (lambda y: y.where(~((y.index.get_level_values(0) == "c")
                         & (y.index.get_level_values(1) == "2024-02-01"))),
     r"column 'y' of series 'c' has a missing or infinite value at Timestamp\('2024-02-01"),
])
def test_grouped_fast_path_errors_name_the_series_and_label(bad, match):
    with pytest.raises(ValueError, match=match):
        Forecaster(Ridge(), lags=7).fit(bad(_long(_frame())))


@pytest.mark.parametrize("layout", ["long frame", "multiindex", "local"])
@pytest.mark.parametrize("row, key", [(119, "a"), (239, "b"), (200, "b")])
def test_a_missing_time_in_a_panel_is_refused_by_series_and_row(layout, row, key):
    # pandas codes a missing time -1 in the MultiIndex, which the per-series take read
    # as the panel's latest time: the last row of series 'b' (239) was trained on and
    # forecast from as if observed on the last day; a mid-series one (200) was
    # reported as a duplicated timestamp, and one of the first series (119) failed
    # inside pandas ("Neither `start` nor `end` can be NaT")
    from tsbptt import LocalModels
    df = _frame()
    df.loc[row, "ds"] = pd.NaT
    data = _long(df) if layout == "multiindex" else df
    model = Forecaster(Ridge(), lags=3, horizon=2)
    model = LocalModels(model) if layout == "local" else model
    with pytest.raises(ValueError, match=rf"series '{key}' has a missing time in row {row} "
                                         r"of y; drop that row or give its time"):
        model.fit(data)


@pytest.mark.parametrize("index", [
    pd.date_range("2024-01-01", periods=20, freq="D").where(np.arange(20) != 19),
    pd.Index(list(range(19)) + [None], dtype="Int64")])
def test_a_missing_time_in_a_series_is_named(index):
    # a NaT was reported as "not sorted: NaT comes after ...", an Int64 <NA> crashed
    # with "boolean value of NA is ambiguous"
    y = pd.Series(np.arange(20.0), index=index)
    with pytest.raises(ValueError, match=r"y has a missing time \((NaT|<NA>)\) at "
                                         r"position 19; drop that row or give its time"):
        Forecaster(Ridge(), lags=3, horizon=2).fit(y)


def test_days_onto_a_skipped_local_midnight_are_refused_in_words():
    # America/Santiago moves its clocks at midnight: 2024-09-08 00:00 does not exist.
    # Fitted up to the day before, predict failed with pandas' NonExistentTimeError;
    # a series across it (stamped 01:00 that day) failed inside pandas at fit
    if isinstance(pd.offsets.Day(), pd.offsets.Tick):
        pytest.skip("before pandas 3 a day is 24 hours: it never lands on a skipped midnight")
    advice = (r"steps of D in the time zone America/Santiago reach a local time the zone "
              r"skips or repeats \(2024-09-08 00:00:00 is a nonexistent time.*\); give the "
              r"series in UTC \(.tz_convert\('UTC'\)\) or as local times without a zone")
    days = pd.date_range("2024-08-01", "2024-09-20", freq="D")
    y = pd.Series(np.arange(len(days), dtype=float),
                  index=days.tz_localize("America/Santiago", nonexistent="shift_forward"))
    f = Forecaster(Ridge(), lags=7, horizon=3).fit(y.iloc[:38])
    with pytest.raises(ValueError, match=advice):
        f.predict()
    with pytest.raises(ValueError, match=advice):
        Forecaster(Ridge(), lags=7, horizon=3).fit(y)
    # in UTC, as advised, the same days forecast
    assert len(Forecaster(Ridge(), lags=7, horizon=3).fit(y.iloc[:38].tz_convert("UTC"))
               .predict()) == 3


def test_panel_forecasts_take_a_name_only_the_series_share():
    # a dict of series named 'a' and 'b' gave forecasts named 'a', b's too
    idx = pd.date_range("2024", periods=50, freq="D")
    named = {k: pd.Series(np.arange(50.0) * (i + 1), idx, name=n)
             for i, (k, n) in enumerate([("a", "a"), ("b", "b")])}
    assert Forecaster(Ridge(), lags=3, horizon=2).fit(named).predict().name is None
    same = {k: s.rename("load") for k, s in named.items()}
    assert Forecaster(Ridge(), lags=3, horizon=2).fit(same).predict().name == "load"


def test_long_dataframe_in_and_out():
    df = _frame()
    df["temp"] = np.arange(len(df), dtype=float) % 5
    f = Forecaster(Ridge(), lags=7, horizon=3).fit(df)
    out = f.predict()
    assert list(out.columns) == ["unique_id", "ds", "y"] and len(out) == 9
    assert f.exog_names_ == ["temp"]
    ref = Forecaster(Ridge(), lags=7, horizon=3).fit(
        _long(df), df.set_index(["unique_id", "ds"])[["temp"]]).predict()
    np.testing.assert_array_equal(out["y"].to_numpy(), ref.to_numpy())
    np.testing.assert_array_equal(out["ds"].to_numpy(), ref.index.get_level_values(1))
    renamed = df.rename(columns={"unique_id": "store", "ds": "day", "y": "sales"})
    g = Forecaster(Ridge(), lags=7, horizon=3, id_col="store", time_col="day",
                   target_col="sales").fit(renamed)
    assert list(g.predict().columns) == ["store", "day", "sales"]
    with pytest.raises(ValueError, match=r"without the column\(s\) \['unique_id', 'y'\]"):
        Forecaster(Ridge(), lags=7).fit(renamed.rename(columns={"day": "ds"}))
    with pytest.raises(ValueError, match="give its covariates as its other columns"):
        Forecaster(Ridge(), lags=7).fit(df, df[["temp"]])


def test_period_index_in_and_out_same_numbers_as_an_integer_index():
    n = 72
    values = 10 + np.sin(2 * np.pi * np.arange(n) / 12) + 0.01 * np.arange(n)
    months = pd.Series(values, index=pd.period_range("2015-01", periods=n, freq="M"))
    ints = pd.Series(values, index=pd.RangeIndex(n))
    kw = dict(lags=12, horizon=6, season=12, interval="conformal")
    fm = Forecaster(Ridge(), **kw).fit(months)
    fi = Forecaster(Ridge(), **kw).fit(ints)
    pm, pi = fm.predict_interval(), fi.predict_interval()
    assert isinstance(pm.index, pd.PeriodIndex) and pm.index[0] == pd.Period("2021-01", "M")
    np.testing.assert_array_equal(pm.to_numpy(), pi.to_numpy())
    assert Forecaster(Ridge(), lags=12).fit(months).season_ == 12
    fm.update(pd.Series([11.0], index=pd.period_range("2021-01", periods=1, freq="M")))
    assert fm.predict().index[0] == pd.Period("2021-02", "M")
    gap = months.drop(months.index[30])
    with pytest.raises(ValueError, match=r"PeriodIndex is not regular: Period\('2017-08'"):
        Forecaster(Ridge(), lags=12).fit(gap)


def test_static_features_are_standardised_channels():
    df = _frame()
    df["size"] = np.repeat([1.0, 2.0, 6.0], 120)
    f = Forecaster(Ridge(), lags=7, horizon=3, static_features=["size"],
                   series_id=True).fit(df)
    assert f.channels_ == ["y", "series=a", "series=b", "series=c", "size"]
    sizes = np.array([1.0, 2.0, 6.0])
    np.testing.assert_allclose(f.static_values_.ravel(),
                               (sizes - sizes.mean()) / sizes.std())
    tail = f.tails_["c"]  # its last lags steps
    window = f._windows(f._scaled(tail), np.array([len(tail) - 1]))
    np.testing.assert_allclose(window[0, 4::5], f.static_values_[2, 0])
    np.testing.assert_array_equal(window[0, 1::5], 0.0)
    np.testing.assert_array_equal(window[0, 3::5], 1.0)
    assert len(f.predict()) == 9  # no static column needed at predict time
    df.loc[5, "size"] = 9.0
    with pytest.raises(ValueError, match="static feature 'size' changes within series 'a'"):
        Forecaster(Ridge(), lags=7, static_features=["size"]).fit(df)
    with pytest.raises(ValueError, match=r"names columns the data does not have: \['area'\]"):
        Forecaster(Ridge(), lags=7, static_features=["area"]).fit(df)
    # a static feature of rounding noise is left as it is, and said to be
    df = _frame()
    df["size"] = np.repeat([0.0, 3e-13, -3e-13], 120)
    with pytest.warns(UserWarning, match=r"static feature\(s\) \['size'\] vary by at most "
                                         "1e-12 over the series: taken for rounding noise"):
        f = Forecaster(Ridge(), lags=7, static_features=["size"]).fit(df)
    np.testing.assert_array_equal(f.static_values_.ravel(), [0.0, 3e-13, -3e-13])


def test_panel_backtest_long_frame_layout_and_metrics():
    df = _frame()
    f = Forecaster(Ridge(), lags=14, horizon=3, interval="conformal")
    b = backtest(f, df, initial=80, step=10, horizon=3, coverage=0.8, season=7)
    t = b.forecasts
    assert list(t.columns) == ["unique_id", "ds", "cutoff", "y", "Ridge", "Ridge-lo-80",
                               "Ridge-hi-80"]
    cutoffs = pd.date_range("2024-01-01", periods=120, freq="D")[[79, 89, 99, 109]]
    assert list(t["cutoff"].unique()) == list(cutoffs) and len(t) == 4 * 3 * 3
    # one cutoff by hand: fit on every series up to it, forecast the next 3 days
    y = _long(df)
    first = t[t["cutoff"] == cutoffs[0]]
    ref = Forecaster(**f.get_params(deep=False)).fit(y[y.index.get_level_values(1) <= cutoffs[0]])
    np.testing.assert_array_equal(first["Ridge"], ref.predict_interval(3, coverage=0.8)
                                  ["forecast"].to_numpy())
    np.testing.assert_array_equal(first["y"], y.loc[list(zip(first["unique_id"],
                                                             first["ds"]))])
    assert b.metrics["mae"] == pytest.approx(mae(t["y"], t["Ridge"]))
    for key in IDS:
        part = t[t["unique_id"] == key]
        assert b.per_series.loc[key, "mae"] == pytest.approx(mae(part["y"], part["Ridge"]))
        inside = (part["y"] >= part["Ridge-lo-80"]) & (part["y"] <= part["Ridge-hi-80"])
        assert b.per_series.loc[key, "coverage"] == pytest.approx(inside.mean())
    assert b.metrics["mase"] == pytest.approx(b.per_series["mase"].mean())
    # a level that is not a whole percent keeps its digits (0.975 was named 98)
    b = backtest(f, df, initial=100, step=10, horizon=3, coverage=0.975, season=7)
    assert list(b.forecasts.columns[-2:]) == ["Ridge-lo-97.5", "Ridge-hi-97.5"]
    assert 0 <= b.metrics["coverage"] <= 1


def test_panel_backtest_scales_a_later_series_by_its_own_first_part():
    # a series first scored at a later cutoff had no steps before the first cutoff,
    # so its MASE was NaN and the warning blamed an exact naive forecast
    rng = np.random.default_rng(8)

    def walk(start, n):
        return pd.Series(30 + rng.standard_normal(n).cumsum(),
                         index=pd.date_range(start, periods=n, freq="D"))

    panel = {"early": walk("2023-01-01", 200), "late": walk("2023-04-01", 110)}
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        b = backtest(Forecaster(Ridge(), lags=7, horizon=3), panel, initial=60, step=10,
                     horizon=3, season=1)
    t = b.forecasts
    for key, s in panel.items():
        part = t[t["unique_id"] == key]
        first = s[s.index <= part["cutoff"].min()]
        assert b.per_series.loc[key, "mase"] == pytest.approx(
            mae(part["y"], part["Ridge"]) / np.mean(np.abs(np.diff(first.to_numpy()))))
    assert t[t["unique_id"] == "late"]["cutoff"].min() > t["cutoff"].min()


@pytest.mark.parametrize("tz", ["Europe/Berlin", "America/New_York", "UTC", None])
def test_panel_forecast_dates_in_a_time_zone_are_the_single_series_dates(tz):
    # a panel's labels are built from UTC codes: they must not be read as the zone's
    # wall clock (which shifted them by the UTC offset), across a DST change too
    idx = pd.date_range("2024-03-09", periods=48, freq="h", tz=tz)
    y = pd.Series(np.arange(48.0), index=idx)
    single = Forecaster(Ridge(), lags=4, horizon=30).fit(y).predict().index
    panel = Forecaster(Ridge(), lags=4, horizon=30).fit({"a": y, "b": y * 2}).predict().index
    assert single[0] == idx[-1] + pd.Timedelta(hours=1)
    for key in ("a", "b"):
        labels = pd.DatetimeIndex(panel[panel.get_level_values(0) == key].get_level_values(1))
        np.testing.assert_array_equal(labels.asi8, single.asi8)
        assert str(labels.tz) == str(single.tz)
    b = backtest(Forecaster(Ridge(), lags=4, horizon=3), {"a": y, "b": y * 2},
                 initial=30, step=5, horizon=3)
    assert len(b.forecasts) == 2 * 3 * 4


@pytest.mark.parametrize("dtype", [np.uint64, np.int32, np.int64])
def test_integer_labels_of_any_width_forecast_integer_labels(dtype):
    y = pd.Series(np.arange(30.0), index=pd.Index(np.arange(30, dtype=dtype)))
    for fitted in (y, {"a": y}):
        labels = Forecaster(Ridge(), lags=4, horizon=2).fit(fitted).predict().index
        labels = labels.get_level_values(-1)
        assert labels.dtype.kind in "iu" and list(labels) == [30, 31]


def test_uint64_labels_past_int64_keep_their_values_and_overflow_is_refused(tmp_path):
    start = 2**63 + 10  # past int64's largest value: read as int64, these turn negative
    labels = np.uint64(start) + np.arange(30, dtype=np.uint64)
    y = pd.Series(np.arange(30.0), index=pd.Index(labels))
    long = pd.DataFrame({"unique_id": np.repeat(["a", "b"], 30),
                         "ds": np.r_[y.index, y.index], "y": np.r_[y, 2 * y]})
    for fitted in (y, long):
        f = Forecaster(Ridge(), lags=4, horizon=2).fit(fitted)
        f.save(tmp_path / "f.npz")  # a file kept them as int64 too
        labels = load_forecaster(tmp_path / "f.npz").predict()
        labels = labels.index if isinstance(fitted, pd.Series) else labels["ds"]
        assert labels.dtype == np.uint64
        assert [int(v) for v in labels] == [start + 30, start + 31] * (len(labels) // 2)
    # a panel of int64 and uint64 series: one label type in the file (the two were
    # concatenated as float64, 30 steps off near 2**60), and in the forecasts
    small = pd.Series(np.arange(30.0), index=pd.Index(np.arange(30)))
    for big in (y, y.set_axis(np.uint64(2**60) + np.arange(30, dtype=np.uint64))):
        f = Forecaster(Ridge(), lags=4, horizon=2).fit({"s": small, "b": big})
        f.save(tmp_path / "mixed.npz")
        pd.testing.assert_series_equal(load_forecaster(tmp_path / "mixed.npz").predict(),
                                       f.predict(), check_exact=True)
        assert [int(t) for _, t in f.predict().index] == [30, 31] + [
            int(big.index[-1]) + 1, int(big.index[-1]) + 2]
    top = pd.Series(np.arange(30.0), index=pd.Index(np.iinfo(np.int64).max - 29 + np.arange(30)))
    with pytest.raises(ValueError, match="pass the largest int64 label"):
        Forecaster(Ridge(), lags=4, horizon=2).fit(top).predict()


@pytest.mark.parametrize("refit", [True, False])
def test_panel_backtest_keeps_the_cutoffs_whose_future_covariates_x_holds(refit):
    # a direct model reads X over all its own horizon: as for one series, the last
    # cutoffs are dropped (the panel once failed after fitting the earlier ones)
    idx = pd.date_range("2024-01-01", periods=100, freq="h")
    rng = np.random.default_rng(0)
    y = {k: pd.Series(rng.standard_normal(100), index=idx) for k in "ab"}
    X = {k: pd.DataFrame({"f": rng.standard_normal(100)}, index=idx) for k in "ab"}
    f = Forecaster(Ridge(), lags=12, horizon=6, future_exog=["f"])
    one = backtest(f, y["a"], X["a"], initial=80, step=5, horizon=3, refit=refit)
    panel = backtest(f, y, X, initial=80, step=5, horizon=3, refit=refit)
    np.testing.assert_array_equal(panel.forecasts["cutoff"].unique(),
                                  one.forecasts["origin"].unique())
    with pytest.raises(ValueError, match="no cutoff leaves the forecaster's horizon=6"):
        backtest(f, y, X, initial=95, step=5, horizon=3)


def test_panel_backtest_without_refit_moves_the_first_fit():
    y = {k: s.droplevel(0) for k, s in _long(_frame()).groupby(level=0)}
    f = Forecaster(Ridge(), lags=14, horizon=2)
    b = backtest(f, y, initial=80, step=15, horizon=2, refit=False, season=7)
    fitted = Forecaster(Ridge(), lags=14, horizon=2).fit({k: s.iloc[:80] for k, s in y.items()})
    last = b.forecasts[b.forecasts["cutoff"] == b.forecasts["cutoff"].max()]
    cut = int(np.flatnonzero(y["a"].index == last["cutoff"].iloc[0])[0]) + 1
    expected = fitted.predict(2, history={k: s.iloc[:cut] for k, s in y.items()})
    np.testing.assert_array_equal(last["Ridge"].to_numpy(), expected.to_numpy())
    assert list(b.forecasts.columns[:2]) == ["unique_id", "ds"]


def test_panel_backtest_refuses_a_series_without_actuals():
    df = _frame()
    df = df[~((df["unique_id"] == "b") & (df["ds"] > "2024-04-19"))]
    with pytest.raises(ValueError, match="series 'b' has no actual value at"):
        backtest(Forecaster(Ridge(), lags=7, horizon=3), df, initial=100, step=10,
                 horizon=3)
    df = df[~((df["unique_id"] == "b") & (df["ds"] > "2024-04-15"))]
    with pytest.raises(ValueError, match="series 'b' ends before the cutoff"):
        backtest(Forecaster(Ridge(), lags=7, horizon=3), df, initial=100, step=10,
                 horizon=3)
    # with covariates known in advance too (it asked for b's covariates past its end)
    df = df.assign(temp=np.cos(np.arange(len(df))))
    with pytest.raises(ValueError, match="series 'b' ends before the cutoff"):
        backtest(Forecaster(Ridge(), lags=7, horizon=3, future_exog=["temp"]), df,
                 initial=100, step=10, horizon=3)


def test_panel_backtest_refuses_a_series_that_starts_after_the_last_cutoff():
    # it was left out of every fit and every score, without a word
    df = _frame()
    times = df["ds"].drop_duplicates().sort_values()
    late = df[df["unique_id"] == "a"].tail(5).assign(unique_id="late")
    with pytest.raises(ValueError, match=r"series 'late' starts at Timestamp\('"
                                         f"{times.iloc[-5]:%Y-%m-%d}.*after the last "
                                         "cutoff .*: no fit reads it and no cutoff scores "
                                         "it; leave it out of the backtest"):
        backtest(Forecaster(Ridge(), lags=7, horizon=3), pd.concat([df, late]),
                 initial=100, step=10, horizon=3)


class _CountingRidge(Ridge):
    fits = 0

    def fit(self, X, y, sample_weight=None):
        type(self).fits += 1
        return super().fit(X, y, sample_weight)


@pytest.mark.parametrize("refit", [True, False])
@pytest.mark.parametrize("panel", [False, True])
def test_backtest_checks_every_training_row_before_the_first_fit(panel, refit):
    # a missing value (or a gap) in a later origin's training part was found only
    # after the earlier origins' fits (minutes of them with a network); with
    # refit=False the message spoke of a "history" the user never passed
    n = 300
    y = pd.Series(10 + np.sin(np.arange(n) / 4),
                  index=pd.date_range("2024-01-01", periods=n, freq="h")).astype("Float64")
    y.iloc[270] = pd.NA  # read by the 4th origin's fit only; no origin scores it
    data = {"a": y.fillna(1.0), "b": y} if panel else y
    where = "series 'b'" if panel else "y"
    _CountingRidge.fits = 0
    with pytest.raises(ValueError, match=f"column 'y' of {where} has a missing or infinite "
                                         r"value at Timestamp\('2024-01-12 06:00:00'\)"):
        backtest(Forecaster(_CountingRidge(), lags=24, horizon=6), data, initial=200,
                 step=24, horizon=6, refit=refit)
    assert _CountingRidge.fits == 0
    gap = y.fillna(1.0).drop(y.index[270])
    with pytest.raises(ValueError, match="not regular at frequency h"):
        backtest(Forecaster(_CountingRidge(), lags=24, horizon=6),
                 {"a": y.fillna(1.0), "b": gap} if panel else gap, initial=200, step=24,
                 horizon=6, refit=refit)
    assert _CountingRidge.fits == 0
    # a missing value no fit reads (after the last origin's training part) is no error
    late = y.fillna(1.0)
    late.iloc[290] = pd.NA  # the last origin is 272, its scored steps end at 277
    b = backtest(Forecaster(Ridge(), lags=24, horizon=6),
                 {"a": y.fillna(1.0), "b": late} if panel else late, initial=200, step=24,
                 horizon=6, refit=refit)
    assert len(b.forecasts) == 4 * 6 * (2 if panel else 1)


def test_panel_backtest_keeps_a_series_whose_id_is_missing():
    # Forecaster and LocalModels keep a NaN id as a series of its own; backtest
    # scored it in its forecasts and left it out of per_series and the pooled MASE
    # (pandas' groupby drops NaN keys), while the pooled MAE counted it
    rng = np.random.default_rng(0)
    t = pd.date_range("2024-01-01", periods=100, freq="h")
    long = pd.concat([pd.DataFrame({"unique_id": i, "ds": t, "y": rng.standard_normal(100)
                                    * (k + 1)}) for k, i in enumerate(["a", "b", "c"])],
                     ignore_index=True)
    named = backtest(Forecaster(Ridge(), lags=24, horizon=2), long, initial=80, step=10,
                     horizon=2)
    long["unique_id"] = long["unique_id"].replace({"c": np.nan})
    b = backtest(Forecaster(Ridge(), lags=24, horizon=2), long, initial=80, step=10,
                 horizon=2)
    assert b.per_series.index[:2].tolist() == ["a", "b"] and pd.isna(b.per_series.index[2])
    # the same scores (to rounding: the windows are laid out by id, and NaN's place
    # among the ids is not "c"'s)
    np.testing.assert_allclose(b.per_series.to_numpy(), named.per_series.to_numpy(),
                               rtol=1e-12)
    assert b.metrics == pytest.approx(named.metrics, rel=1e-12)
    assert b.metrics["mase"] == b.per_series["mase"].mean()


def test_panel_backtest_of_one_zone_from_two_libraries():
    # zoneinfo's and dateutil's Europe/Berlin: a fit unifies them; backtest's
    # pd.concat made an index of objects and refused the panel
    dateutil_tz = pytest.importorskip("dateutil.tz")
    t = pd.date_range("2024-03-25", periods=24 * 10, freq="h", tz="Europe/Berlin")
    wave = np.sin(np.arange(len(t)) * 2 * np.pi / 24)
    a = pd.Series(wave, index=t)
    b = pd.Series(2 * wave, index=t.tz_convert(dateutil_tz.gettz("Europe/Berlin")))
    got = backtest(Forecaster(Ridge(), lags=24, horizon=3), {"a": a, "b": b},
                   initial=200, step=12, horizon=3)
    same = backtest(Forecaster(Ridge(), lags=24, horizon=3),
                    {"a": a, "b": b.tz_convert("Europe/Berlin")}, initial=200, step=12,
                    horizon=3)
    pd.testing.assert_frame_equal(got.forecasts, same.forecasts)
    assert str(got.forecasts["ds"].dt.tz) == "Europe/Berlin"


def test_covariates_on_ys_instants_in_another_zone_are_read_in_ys():
    # fit refused X on the very instants of y in UTC (or in y's zone made by another
    # library) as "not on exactly y's index", while predict read such X; X without a
    # zone against y with one is refused, saying so
    t = pd.date_range("2024-03-25", periods=24 * 8, freq="h", tz="Europe/Berlin")
    rng = np.random.default_rng(0)
    y = pd.Series(np.sin(np.arange(len(t)) / 4) + rng.normal(0, .1, len(t)), index=t)
    X = pd.DataFrame({"x": rng.standard_normal(len(t))}, index=t)
    expected = Forecaster(Ridge(), lags=12, horizon=2).fit(y, X).predict()
    ns = X.set_axis(X.index.as_unit("ns").tz_convert("UTC"))  # another unit too
    for other in (X.tz_convert("UTC"), X.tz_convert("Asia/Tokyo"), ns):
        got = Forecaster(Ridge(), lags=12, horizon=2).fit(y, other).predict()
        pd.testing.assert_series_equal(got, expected, check_exact=True)
        panel = Forecaster(Ridge(), lags=12, horizon=2).fit({"a": y}, {"a": other})
        np.testing.assert_array_equal(panel.predict().to_numpy(), expected.to_numpy())
    with pytest.raises(ValueError, match=r"on exactly y's index .*its times are dates "
                                         r"without a time zone, y's dates in time zone "
                                         r"Europe/Berlin"):
        Forecaster(Ridge(), lags=12, horizon=2).fit(y, X.tz_localize(None))
    # a nanosecond off y's instants is not y's index (no unit conversion rounds it away)
    with pytest.raises(ValueError, match=r"on exactly y's index \(one row per step of y\); "
                                         r"row 0 of X is Timestamp\('2024-03-24 "
                                         r"23:00:00.000000001\+0000', tz='UTC'\) where y "
                                         r"has Timestamp\('2024-03-25 00:00:00\+0100'"):
        Forecaster(Ridge(), lags=12, horizon=2).fit(
            y, ns.set_axis(ns.index + pd.Timedelta(1, "ns")))


def test_a_long_frames_messages_say_how_to_fix_it():
    df = _frame(T=40)
    shuffled = df.sample(frac=1, random_state=0).reset_index(drop=True)
    # .sort_index(), which the message gave, does nothing to a long frame's rows
    with pytest.raises(ValueError, match=r"is not sorted by time: .*sort the panel first: "
                                         r"\.sort_index\(\) for Series, a long DataFrame by "
                                         r"its id and time columns"):
        Forecaster(Ridge(), lags=7, horizon=2).fit(shuffled)
    Forecaster(Ridge(), lags=7, horizon=2).fit(shuffled.sort_values(["unique_id", "ds"]))
    with pytest.raises(ValueError, match=r"without the column\(s\) \['unique_id', 'ds'\] "
                                         r".*its index holds \['unique_id', 'ds'\]: "
                                         r"\.reset_index\(\) makes them columns"):
        Forecaster(Ridge(), lags=7, horizon=2).fit(df.set_index(["unique_id", "ds"]))
    with pytest.raises(ValueError, match=r"without the column\(s\) \['unique_id', 'ds', "
                                         r"'y'\] .*it has \['value'\]$"):  # y: not in the index
        Forecaster(Ridge(), lags=7, horizon=2).fit(
            df.rename(columns={"y": "value"}).set_index(["unique_id", "ds"]))


def test_rolling_origin_splits_a_panel_on_time():
    df = _frame(T=30).sort_values(["ds", "unique_id"])  # rows interleaved by time
    cv = RollingOrigin(20, step=4, horizon=3)
    splits = list(cv.split(df))
    assert cv.get_n_splits(df) == len(splits) == 2
    days = pd.date_range("2024-01-01", periods=30, freq="D")
    for (train, test), cut in zip(splits, [19, 23]):
        assert set(df["ds"].iloc[train]) == set(days[:cut + 1])
        assert set(df["ds"].iloc[test]) == set(days[cut + 1:cut + 4])
        assert len(train) == 3 * (cut + 1) and len(test) == 9
    y = _long(_frame(T=30))
    assert [len(te) for _, te in RollingOrigin(20, step=4, horizon=3).split(y)] == [9] * 2


@pytest.mark.parametrize("layout", ["long_series", "frame"])
def test_panel_grid_search_picks_the_better_candidate(layout):
    df = _frame()
    data = _long(df) if layout == "long_series" else df.sort_values(["ds", "unique_id"])
    cv = RollingOrigin(80, step=10, horizon=3)
    search = GridSearchCV(Forecaster(Ridge(), horizon=3), {"lags": [1, 14]}, cv=cv,
                          error_score="raise").fit(data)
    scores = search.cv_results_["mean_test_score"]
    assert np.isfinite(scores).all() and search.best_params_ == {"lags": 14}
    # the same cuts as the panel backtest: the score is minus its pooled MAE
    b = backtest(Forecaster(Ridge(), lags=14, horizon=3), df, initial=80, step=10,
                 horizon=3, season=7)
    assert scores[1] == pytest.approx(-b.metrics["mae"])


def test_series_ids_from_the_index_codes_keep_first_appearance_order():
    from tsbptt.forecasting._panel import _id_codes
    rng = np.random.default_rng(5)
    t = pd.date_range("2024-01-01", periods=30, freq="h")
    parts = {k: pd.Series(rng.normal(size=30) + i, index=t, name="y")
             for i, k in enumerate(["zeta", "alpha", "mid", "beta"])}
    long = pd.concat(parts, names=["id", "ds"])
    # rows of the series interleaved, and a slice that leaves an unused level value
    shuffled = long.iloc[rng.permutation(len(long))].sort_index(level=1, kind="stable")
    sliced = shuffled[shuffled.index.get_level_values(0) != "mid"]
    assert "mid" in sliced.index.levels[0]
    # sorted by id (the codes' own order): all levels used, and one left unused
    ordered = long.sort_index()
    ordered_sliced = ordered[ordered.index.get_level_values(0) != "mid"]
    assert "mid" in ordered_sliced.index.levels[0]
    for y in (long, shuffled, sliced, ordered, ordered_sliced):
        codes, keys = _id_codes(y.index)
        ref_codes, ref_keys = pd.factorize(y.index.get_level_values(0))
        np.testing.assert_array_equal(codes, ref_codes)
        assert list(keys) == list(ref_keys)
    f = Forecaster(Ridge(), lags=4, horizon=2).fit(sliced)
    assert f.series_ == list(pd.unique(sliced.index.get_level_values(0)))
    as_dict = Forecaster(Ridge(), lags=4, horizon=2).fit(
        {k: v for k, v in parts.items() if k != "mid"}).predict()
    # the same forecasts as from the dict layout, series in first-appearance order
    pd.testing.assert_series_equal(f.predict().sort_index(), as_dict.sort_index(),
                                   check_names=False, rtol=1e-9)


def _argsort_order(times, sample=None):
    order = np.argsort(np.concatenate(times), kind="stable")
    return order if sample is None else order[sample(len(order))]


@pytest.mark.parametrize("kind", ["aligned", "ragged", "offset", "empty_series", "off_grid",
                                  "integers", "long_grid", "tz"])
@pytest.mark.parametrize("sample", [None, lambda n: np.arange(n - 1, -1, -7)[::-1]])
def test_time_order_is_the_stable_argsort(kind, sample):
    from tsbptt.forecasting._strategies import _time_order
    base = pd.date_range("2024-01-01", periods=40, freq="h").to_numpy()
    if kind == "aligned":  # the closed form: rank r is window r // S of series r % S
        times = [base[5:35] for _ in range(6)]
    elif kind == "ragged":  # different starts, one end: the sort
        times = [base[i:35] for i in (0, 3, 3, 9, 1)]
    elif kind == "offset":  # same lengths, shifted: the sort
        times = [base[i:i + 20] for i in (0, 2, 1)]
    elif kind == "off_grid":  # one series half a step off the others' grid
        times = [base[3:30], base[:20] + np.timedelta64(30, "m"), base[1:30]]
    elif kind == "integers":
        times = [np.arange(i, 50, dtype=np.int64) * 5 for i in (4, 0, 9)]
    elif kind == "long_grid":  # more steps than 16 bits hold: the times are sorted
        times = [np.arange(i, 700_000, 7, dtype=np.int64) for i in (14, 0)]
    elif kind == "tz":  # tz-aware labels come as objects: sorted as they are
        stamps = pd.date_range("2024-01-01", periods=40, freq="h", tz="UTC").to_numpy()
        times = [stamps[i:35] for i in (4, 0, 9)]
    else:
        times = [base[:0], base[:0]]
    got = _time_order(times, sample)
    np.testing.assert_array_equal(got, _argsort_order(times, sample))
    if kind == "aligned" and sample is None:  # series by series at each time
        assert got[:7].tolist() == [0, 30, 60, 90, 120, 150, 1]


def test_grid_positions_only_on_one_short_grid():
    from tsbptt.forecasting._strategies import _grid_positions
    base = pd.date_range("2024-01-01", periods=40, freq="h").to_numpy()
    times = [base[5:30], base[2:10]]
    grid = _grid_positions(np.concatenate(times), times)
    assert grid.dtype == np.uint16
    assert grid.tolist() == list(range(3, 28)) + list(range(0, 8))
    off = [base[5:30], base[2:10] + np.timedelta64(1, "m")]
    assert _grid_positions(np.concatenate(off), off) is None
    long = [np.array([0, 1]), np.array([2 ** 16])]
    assert _grid_positions(np.concatenate(long), long) is None


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("calendar", [None, ["hour"]])
def test_network_windows_of_an_aligned_panel_are_those_of_the_sort(monkeypatch, calendar):
    from tsbptt import GRURegressor
    from tsbptt.forecasting import _strategies
    T, ids = 80, [f"s{i}" for i in range(5)]
    index = pd.MultiIndex.from_arrays(
        [np.repeat(ids, T), np.tile(pd.date_range("2024-01-01", periods=T, freq="h"), 5)])
    rng = np.random.default_rng(0)
    y = pd.Series(rng.normal(size=5 * T).cumsum(), index=index)
    params = dict(estimator=GRURegressor(hidden_size=4, max_iter=2, random_state=0),
                  lags=8, horizon=3, calendar=calendar)
    fast = Forecaster(**params).fit(y)
    assert fast.estimator_.max_windows is not None  # the sampled windows only
    monkeypatch.setattr(_strategies, "_time_order", _argsort_order)
    slow = Forecaster(**params).fit(y)
    np.testing.assert_array_equal(fast.estimator_.linear_.coef_, slow.estimator_.linear_.coef_)
    pd.testing.assert_series_equal(fast.predict(), slow.predict(), check_exact=True)


@pytest.mark.parametrize("n_future", [0, 4])
def test_scaled_all_is_scaled_series_by_series(n_future):
    y = _long(_frame(T=50, ids=["a", "b", "c", "d"]))
    f = Forecaster(Ridge(), lags=7, horizon=3).fit(y)
    by_key = {e.key: e for e in _panel.to_entries(y)[0]}
    tails = [by_key[k] for k in f.series_]
    for entries in (tails,  # one run of the block
                    [tails[2], tails[0], tails[3]],  # apart and reordered
                    [e.head(k) for e, k in zip(tails, (20, 31, 50, 12))]):  # ragged heads
        fast = f._scaled_all(entries, None, n_future)
        slow = [f._scaled(e, None, n_future) for e in entries]
        for a, b in zip(fast, slow, strict=True):
            assert a.key == b.key and a._entry is b._entry
            np.testing.assert_array_equal(a.y, b.y, strict=True)
            np.testing.assert_array_equal(a.times, b.times, strict=True)
            assert a.past.shape == b.past.shape and a.fut.shape == b.fut.shape
            np.testing.assert_array_equal(a.static, b.static, strict=True)
            np.testing.assert_array_equal(a.channels(np.arange(5), 1),
                                          b.channels(np.arange(5), 1), strict=True)


def test_scaled_all_refuses_an_unknown_series():
    y = _long(_frame(T=50))
    f = Forecaster(Ridge(), lags=7, horizon=3).fit(y)
    other = _long(_frame(T=50, ids=["a", "zz"]))
    with pytest.raises(ValueError, match="series 'zz' was not seen in fit"):
        f.predict(history=other)


def test_window_starts_of_some_windows_are_those_of_all():
    from tsbptt.forecasting._strategies import _window_starts
    lens, H, L = np.array([30, 12, 25, 40]), 3, 5
    n_win = np.array([23, 0, 10, 33])  # the second series has none (a late start)
    has = np.flatnonzero(n_win)
    starts, y_starts = _window_starts(lens, n_win, has, H, L)
    # by hand: series 0's rows 0.., series 2's after series 0's 27 readable rows
    assert starts[:2].tolist() == [0, 1] and starts[23] == 27
    assert y_starts[0] == L and y_starts[23] == 30 + 12 + L
    assert len(starts) == len(y_starts) == n_win.sum()
    which = np.array([65, 0, 22, 23, 32, 33, 40])
    some = _window_starts(lens, n_win, has, H, L, which)
    np.testing.assert_array_equal(some[0], starts[which])
    np.testing.assert_array_equal(some[1], y_starts[which])


def test_short_series_error_names_the_first_short_series():
    parts = [_long(_frame(T=T, ids=[k])) for k, T in (("a", 40), ("b", 9), ("c", 6))]
    with pytest.raises(ValueError, match=r"series 'b' has 9 steps, too short for lags=7 "
                                         r"and horizon=3 \(needs at least 10\)"):
        Forecaster(Ridge(), lags=7, horizon=3).fit(pd.concat(parts))


def test_a_long_panel_splits_into_each_series_rows_in_their_order():
    # split by one sort (y.xs per series read the whole index each time: quadratic);
    # the same series, rows, labels and dtypes as xs gives, ids in the order they come
    times = pd.to_datetime(["2024-01-01", "2024-01-01", "2024-01-02", "2024-01-02",
                            "2024-01-01"]).tz_localize("UTC")
    idx = pd.MultiIndex.from_arrays([["b", "a", "b", "a", "c"], times], names=["id", "ts"])
    y = pd.Series(pd.array([1.0, 2.0, None, 4.0, 5.0], dtype="Float64"), index=idx,
                  name="v")
    X = pd.DataFrame({"x": [1, 2, 3, 4, 5]}, index=idx)
    entries, layout = _panel._entries(y, X)
    assert layout == "long" and [e.key for e in entries] == ["b", "a", "c"]
    for e in entries:
        pd.testing.assert_series_equal(e.y, y.xs(e.key, level=0).rename("v"))
        pd.testing.assert_frame_equal(e.X, X.xs(e.key, level=0))
    # a missing id is a series of its own (the sort's first version dropped its rows)
    ids = pd.Index(["a", np.nan, "a", np.nan], dtype=object)
    holed = pd.Series([1.0, 2.0, 3.0, 4.0], index=pd.MultiIndex.from_arrays(
        [ids, [0, 0, 1, 1]], names=["id", "t"]))
    entries, _ = _panel._entries(holed, None)
    assert len(entries) == 2 and entries[0].key == "a" and pd.isna(entries[1].key)
    assert entries[1].y.tolist() == [2.0, 4.0]
    # the time level's freq, as xs keeps it: a holiday calendar's step
    cbd = pd.offsets.CustomBusinessDay(holidays=["2024-05-27"])
    days = pd.date_range("2024-05-20", periods=10, freq=cbd)
    grid = pd.Series(np.arange(20.0), index=pd.MultiIndex.from_product([["a", "b"], days]))
    entries, _ = _panel._entries(grid, None)
    assert all(e.y.index.freq == cbd for e in entries)
    f = Forecaster(Ridge(), lags=3, horizon=2, fill="ffill").fit(grid)
    assert f.step_ == cbd and f.n_filled_ == {"a": 0, "b": 0}
    # without fill too (the one-pass path read the labels alone: "not regular at B")
    g = Forecaster(Ridge(), lags=3, horizon=2).fit(grid.iloc[np.r_[0:5, 10:15]])
    assert g.step_ == cbd
    assert list(g.predict().loc["a"].index) == list(days[5:7])  # 05-28 after 05-24


def test_one_short_series_cutting_every_windows_lags_is_warned_of():
    # lags=None takes at most half of what the shortest series leaves: one 12-step
    # series among 150-step ones cut every series' windows from 14 to 2, under the
    # season of 7, silently, and the panel's MASE went from 0.82 to 2.13
    idx = pd.date_range("2024-01-01", periods=150, freq="D")
    rng = np.random.default_rng(0)
    panel = {f"s{i}": pd.Series(np.sin(2 * np.pi * np.arange(150) / 7) + rng.normal(0, .1, 150),
                                index=idx) for i in range(3)}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert Forecaster(Ridge(), horizon=3).fit(panel).lags_ == 14
    panel["new"] = panel["s0"].iloc[-12:]
    with pytest.warns(UserWarning, match=re.escape(
            "series 'new' has 12 steps, so lags=None chose lags=4 for every series (the "
            "default would be 14), under the season of 7; the other series have 150 "
            "steps or more")):
        assert Forecaster(Ridge(), horizon=3).fit(panel).lags_ == 4
    with warnings.catch_warnings():  # given lags: no warning
        warnings.simplefilter("error")
        Forecaster(Ridge(), lags=4, horizon=3).fit(panel)
    # every series as short: not one series' doing, but still windows under a season
    # (the default LSTM scored 7.67 against seasonal naive's 0.49 so, unwarned)
    with pytest.warns(UserWarning, match=re.escape(
            "the series are too short for windows of a season beside horizon=3: lags=None "
            "chose windows shorter than the season of 7 (lags_)")):
        Forecaster(Ridge(), horizon=3).fit({k: s.iloc[-12:] for k, s in panel.items()})


@pytest.mark.parametrize("strategy,series_id", [("direct", False), ("direct", True),
                                               ("stateful", False), ("stateful+diff", False)])
@pytest.mark.parametrize("make", [lambda: Ridge(),
                                  lambda: GRURegressor(hidden_size=4, max_iter=3,
                                                       random_state=0, n_threads=1),
                                  lambda: ESNRegressor(20, random_state=0)])
def test_a_panels_forecasts_do_not_depend_on_the_order_of_its_series(make, series_id,
                                                                     strategy):
    # the windows' time order broke its ties in the caller's series order, and a
    # network's subsample, validation tail and shuffle followed it: the same panel in
    # reversed order forecast up to 0.4 standard deviations apart. With series_id,
    # the one-hot columns followed that order too (rounding-level differences).
    rng = np.random.default_rng(0)
    panel = {}
    for k, n in zip(["b", "a", "d", "c"], [90, 120, 100, 120]):
        idx = pd.date_range("2024-01-01", periods=n, freq="D") + pd.Timedelta(days=120 - n)
        panel[k] = pd.Series(np.sin(np.arange(n) / 3) * (1 + ord(k) % 3) + rng.normal(0, .2, n),
                             index=idx)
    # stateful: one sequence per series, in key order too; an ESN's forecasts start
    # from the states its fit ended in, which must go back to their series
    strategy, _, transform = strategy.partition("+")
    if strategy == "stateful":
        if isinstance(make(), Ridge):
            pytest.skip("a stateful forecaster needs a recurrent model")
        panel = {k: s.iloc[-90:] for k, s in panel.items()}  # aligned: one length
    fits = [Forecaster(make(), lags=8, horizon=2, series_id=series_id, strategy=strategy,
                       transform=transform or None)
            .fit(dict(order)) for order in (panel.items(), reversed(panel.items()))]
    forecasts = [f.predict().sort_index() for f in fits]
    pd.testing.assert_series_equal(forecasts[0], forecasts[1], check_exact=True)
    assert fits[0].channels_ == fits[1].channels_
    if series_id:
        assert fits[0].channels_[1:] == ["series=a", "series=b", "series=c", "series=d"]


@pytest.mark.parametrize("series_id", [False, True])
def test_dir_of_a_fitted_forecaster_reads_every_attribute(series_id):
    # scikit-learn's __dir__ keeps the names hasattr finds; a property that raised a
    # KeyError without series_id broke dir(), and sktime's get_fitted_params with it
    y = {k: s.droplevel(0) for k, s in _long(_frame(T=40)).groupby(level=0)}
    for data in (y, y["a"]):
        f = Forecaster(Ridge(), lags=7, horizon=2, series_id=series_id).fit(data)
        names = dir(f)
        assert {"estimator_", "series_", "network_weight_"} <= set(names)
        assert f.network_weight_ is None


@pytest.mark.parametrize("order", ["long first", "short first"])
def test_a_newly_listed_series_takes_the_panels_business_day_step(order):
    # five sessions, Monday to Friday, read alone as daily: the panel was refused as
    # "series 'B' has step <Day>, the first series <BusinessDay>"
    idx = pd.DatetimeIndex(pd.bdate_range("2024-01-01", periods=60).values)  # no freq
    a = pd.Series(100 + np.arange(60.0), index=idx)
    b = pd.Series(50 + np.arange(5.0), index=idx[-5:])
    panel = {"A": a, "B": b} if order == "long first" else {"B": b, "A": a}
    f = Forecaster(Ridge(), lags=3).fit(panel)
    assert f.step_ == pd.offsets.BusinessDay()
    # the forecasts skip the weekend: Friday 2024-03-22, then Monday
    assert set(f.predict().index.get_level_values(1)) == {pd.Timestamp("2024-03-25")}
    # a series at another step is still refused
    with pytest.raises(ValueError, match="every series must have the same frequency"):
        Forecaster(Ridge(), lags=2).fit({**panel, "C": a.asfreq("W-FRI")})


def test_a_stray_weekend_row_among_business_days_is_named_not_filled():
    # one Saturday made the series daily with gaps, and the advice was to fill them:
    # 21 invented weekend values and forecasts on Saturday and Sunday
    idx = pd.bdate_range("2023-01-02", periods=60).append(
        pd.DatetimeIndex(["2023-01-14"])).sort_values()
    y = pd.Series(100 + np.arange(61.0), index=idx)
    said = (r"its other labels are business days, but 1 falls on a weekend, the first "
            r"Timestamp\('2023-01-14 00:00:00'\), a Saturday\); if the data are business "
            r"days, drop it \(y\[y.index.day_of_week < 5\]\)")
    for freq in (None, "B"):
        with pytest.raises(ValueError, match=said):
            Forecaster(Ridge(), lags=10, freq=freq).fit(y)
    f = Forecaster(Ridge(), lags=10).fit(y[y.index.day_of_week < 5])
    assert f.step_ == pd.offsets.BusinessDay()
    # daily data with a missing day is a gap, as before
    daily = pd.Series(np.arange(60.0), pd.date_range("2023-01-01", periods=61).delete(30))
    with pytest.raises(ValueError, match=r"\(a gap\); pass fill="):
        Forecaster(Ridge(), lags=10).fit(daily)


def test_a_backtest_names_the_cutoff_where_a_later_series_is_too_short():
    rng = np.random.default_rng(0)
    idx = pd.bdate_range("2024-01-01", periods=200)
    panel = {"A": pd.Series(100 + rng.standard_normal(200).cumsum(), index=idx),
             "B": pd.Series(50 + rng.standard_normal(95).cumsum(), index=idx[105:])}
    for refit, what in ((True, "has 5 steps, too short"), (False, "was not seen in fit")):
        with pytest.raises(ValueError, match=r"^at the cutoff Timestamp\('2024-0.*"
                           + what + r".*a series that starts later must be long enough"):
            backtest(Forecaster(Ridge(), lags=10, horizon=3), panel, initial=100,
                     step=10, horizon=3, refit=refit)


def test_two_holiday_calendars_are_told_apart_in_the_message():
    # "series 'UK' has step <CustomBusinessDay>, the first series <CustomBusinessDay>"
    us = pd.offsets.CustomBusinessDay(holidays=["2024-01-15", "2024-02-19"])
    uk = pd.offsets.CustomBusinessDay(holidays=["2024-03-29"])
    panel = {k: pd.Series(np.arange(60.0), pd.date_range("2024-01-02", periods=60, freq=c))
             for k, c in (("US", us), ("UK", uk))}
    with pytest.raises(ValueError, match=re.escape(
            "series 'UK' has step <CustomBusinessDay: weekmask 'Mon Tue Wed Thu Fri', 1 "
            "holiday, a holiday on 2024-03-29>, the first series <CustomBusinessDay: "
            "weekmask 'Mon Tue Wed Thu Fri', 2 holidays, a holiday on 2024-01-15>")):
        Forecaster(Ridge(), lags=5).fit(panel)


def test_a_backtest_says_when_covariates_hold_ys_rows_in_another_order():
    idx = pd.date_range("2024-01-01", periods=60, freq="h")
    y = pd.concat({k: pd.Series(np.sin(np.arange(60) / 3 + i), idx)
                   for i, k in enumerate("ab")}, names=["id", "time"])
    X = pd.DataFrame({"temp": np.arange(120.0)}, index=y.index)
    f = Forecaster(Ridge(), lags=4)
    for shuffled, what in ((X.sort_index(level=1), "y's \\(series id, time\\) index"),
                           (X.loc["a"].iloc[::-1], "y's index")):
        target = y if what.startswith("y's \\(") else y.loc["a"]
        with pytest.raises(ValueError, match=f"X must be a DataFrame on exactly {what}: X "
                           r"holds y's rows in another order; X.reindex\(y.index\)"):
            backtest(f, target, shuffled, initial=40, step=10)
    backtest(f, y, X.sort_index(level=1).reindex(y.index), initial=40, step=10)


def test_a_fill_does_not_make_a_series_of_another_step_fit_the_panels():
    # with fill, a weekly series became "regular" at business days: 4 rows, 16 filled
    idx = pd.bdate_range("2024-01-01", periods=60)
    a = pd.Series(np.arange(60.0), index=pd.DatetimeIndex(idx.values))
    weekly = pd.Series(np.arange(4.0), index=pd.DatetimeIndex(
        pd.date_range("2024-02-05", periods=4, freq="W-MON").values))
    for fill in (None, "ffill", "interpolate"):
        with pytest.raises(ValueError, match="every series must have the same frequency"):
            Forecaster(Ridge(), lags=2, fill=fill).fit({"A": a, "W": weekly})
    # a new listing with a missing day is filled at the panel's step, as its others
    b = pd.Series(np.arange(6.0), index=a.index[-7:].delete(3))
    f = Forecaster(Ridge(), lags=2, fill="ffill").fit({"A": a, "B": b})
    assert f.step_ == pd.offsets.BusinessDay() and f.n_filled_ == {"A": 0, "B": 1}


def test_a_series_too_short_to_read_its_step_takes_the_panels_or_says_why_not():
    idx = pd.DatetimeIndex(pd.bdate_range("2024-01-01", periods=60).values)
    a = pd.Series(np.arange(60.0), index=idx)
    two = pd.Series([1.0, 2.0], index=idx[-2:])  # Thursday, Friday: no step of its own
    entries, _, step = _panel.to_entries({"A": a, "B": two})
    assert step == pd.offsets.BusinessDay() and len(entries[1].y) == 2
    # where the panel's step does not fit it either, its own refusal is the message
    odd = pd.Series([1.0, 2.0, 3.0], index=idx[[-5, -3, -2]] + pd.Timedelta("1h"))
    with pytest.raises(ValueError, match="series 'C'"):
        _panel.to_entries({"A": a, "C": odd})


def test_a_label_off_the_steps_grid_is_not_called_a_gap():
    # month ends with freq=DateOffset(months=1): Mar 31 where the drifting offset
    # expected Mar 29 was "a gap; pass fill=", which cannot mend it
    y = pd.Series(np.arange(24.0), index=pd.date_range("2024-01-31", periods=24, freq="ME"))
    with pytest.raises(ValueError, match=re.escape(
            "(not a whole number of steps after the labels before it: they are not on "
            "this step's grid, which filling cannot mend); pass the step they have as "
            "freq (month ends step by 'ME'; DateOffset(months=1) drifts")):
        Forecaster(Ridge(), lags=3, freq=pd.DateOffset(months=1)).fit(y)
    assert Forecaster(Ridge(), lags=3, freq="ME").fit(y).predict().index[0] == \
        pd.Timestamp("2026-01-31")
    hourly = pd.Series(np.arange(40.0), pd.date_range("2024-01-01", periods=41,
                                                      freq="h").delete(20))
    with pytest.raises(ValueError, match=r"\(a gap\); pass fill="):
        Forecaster(Ridge(), lags=3).fit(hourly)
    off = hourly.set_axis(hourly.index.where(hourly.index != hourly.index[25],
                                             hourly.index[25] + pd.Timedelta("30min")))
    with pytest.raises(ValueError, match=r"frequency h: .*not a whole number of steps"):
        Forecaster(Ridge(), lags=3, freq="h").fit(off.drop(off.index[20:25]))


def test_a_stray_label_far_off_is_refused_without_walking_to_it():
    # one label a year and a half after fifty seconds: the checks built every
    # second in between (3 s here, gigabytes for longer spans)
    import time
    idx = pd.date_range("2020-01-01", periods=50, freq="s").append(
        pd.DatetimeIndex(["2021-06-01"]))
    start = time.perf_counter()
    with pytest.raises(ValueError, match="not regular"):
        _panel.to_entries(pd.Series(np.arange(51.0), idx))
    ints = {"A": pd.Series(np.arange(100.0)),
            "B": pd.Series(np.arange(50.0), index=np.arange(50) * 1_000_000)}
    with pytest.raises(ValueError, match="every series must have the same frequency"):
        _panel.to_entries(ints)
    assert time.perf_counter() - start < 1.0  # (seconds before; milliseconds now)


def test_an_empty_series_in_a_panel_is_refused_by_name():
    a = pd.Series(np.arange(60.0), pd.DatetimeIndex(pd.bdate_range("2024-01-01",
                                                                   periods=60).values))
    for empty in (pd.Series([], dtype=float, index=pd.DatetimeIndex([])),):
        with pytest.raises(ValueError, match=r"series 'E' has 0 value\(s\)"):
            Forecaster(Ridge(), lags=3).fit({"A": a, "E": empty})


def test_nullable_and_numpy_integer_indexes_pair_as_the_same_labels():
    y = pd.Series(np.sin(np.arange(40) / 3), index=pd.Index(np.arange(40), dtype="Int64"))
    X = pd.DataFrame({"x": np.arange(40.0)}, index=np.arange(40))
    f = Forecaster(Ridge(), lags=3).fit(y, X)  # it said "X must be ... on exactly y's"
    assert f.predict().index.dtype == np.int64
    Forecaster(Ridge(), lags=3).fit({"a": y, "b": y}, {"a": X, "b": X})
    big = pd.Index([2**63 + 1, 2**63 + 2], dtype="UInt64")  # (int64 wrapped them)
    assert list(_panel.plain_integers(big)) == [2**63 + 1, 2**63 + 2]
    # a backtest names a dtype that differs, not a row order
    from tsbptt.forecasting._panel_backtest import check_on_index
    with pytest.raises(ValueError, match=r"X's index has the labels of y's, but it is "
                                         r"Index of dtype Int32 and y's"):
        check_on_index(X.set_axis(X.index.astype("Int32")), y.set_axis(np.arange(40)),
                       "y's index")


def test_update_calls_a_label_off_the_grid_after_the_due_one_no_gap():
    h = pd.Series(np.arange(48.0), pd.date_range("2024-01-01", periods=48, freq="h"))
    f = Forecaster(Ridge(), lags=3).fit(h)
    last = h.index[-1]
    with pytest.raises(ValueError, match=r"\(a label the fitted step <Hour> does not "
                                         r"have\)"):
        f.update(pd.Series([1.0, 2.0], index=[last + pd.Timedelta("90min"),
                                              last + pd.Timedelta("150min")]))
    with pytest.raises(ValueError, match=r"\(a gap\)"):
        f.update(pd.Series([1.0], index=[last + pd.Timedelta("3h")]))


@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns"])
def test_gaps_are_read_alike_in_every_time_unit(unit):
    # the grid positions were counted in nanoseconds on an index in seconds: a
    # series with a gap then had no frequency that fitted it
    idx = pd.date_range("2024-01-01", periods=40, freq="h", unit=unit).delete([10, 11])
    expected = np.r_[np.arange(10), np.arange(12, 40)]
    np.testing.assert_array_equal(_panel._grid_positions(idx, pd.offsets.Hour(), 100),
                                  expected)
    assert _panel._grid_positions(idx, pd.offsets.Hour(2), 100) is None
    y = pd.Series(np.arange(38.0), index=idx)
    f = Forecaster(Ridge(), lags=3, fill="interpolate").fit(y)
    assert f.step_ == pd.offsets.Hour() and f.n_filled_ == {None: 2}
    with pytest.raises(ValueError, match=r"\(a gap\)"):
        Forecaster(Ridge(), lags=3).fit(y)
