"""LocalModels and backtest_series on a long DataFrame (Nixtla's layout: one row per
series and time step), in and out, as the Forecaster takes and returns it."""
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import Ridge

from tsbptt import Forecaster
from tsbptt.forecasting.local import LocalModels, backtest_series


def _frame(n_series=3, T=80, id_col="unique_id", time_col="ds", target_col="y"):
    rng = np.random.default_rng(0)
    t = np.arange(T)
    return pd.DataFrame({
        id_col: np.repeat([f"s{k}" for k in range(n_series)], T),
        time_col: np.tile(pd.date_range("2024-01-01", periods=T, freq="h"), n_series),
        target_col: np.concatenate([5 + k + np.sin(2 * np.pi * t / 6) * (1 + k)
                                    + rng.normal(0, .1, T) for k in range(n_series)]),
        "temp": rng.normal(size=n_series * T)})


def _long_series(frame, id_col="unique_id", time_col="ds", target_col="y"):
    indexed = frame.set_index([id_col, time_col])
    return indexed[target_col], indexed.drop(columns=[target_col])


def test_a_long_frame_in_and_out_equals_the_long_series_layout():
    frame = _frame().drop(columns="temp")
    template = Forecaster(Ridge(alpha=0.5), lags=6, horizon=3)
    local = LocalModels(template).fit(frame)
    assert local.long_frame_ and local.layout_ == "long"
    pred = local.predict()
    assert isinstance(pred, pd.DataFrame)
    assert list(pred.columns) == ["unique_id", "ds", "y"]
    y, _ = _long_series(frame)
    ref = LocalModels(template).fit(y).predict()
    np.testing.assert_array_equal(pred["y"].to_numpy(), ref.to_numpy())
    np.testing.assert_array_equal(pred["unique_id"].to_numpy(),
                                  ref.index.get_level_values(0).to_numpy())
    assert pd.DatetimeIndex(pred["ds"]).equals(ref.index.get_level_values(1))
    # the layout a global Forecaster gives for the same frame
    glob = Forecaster(Ridge(alpha=0.5), lags=6, horizon=3).fit(frame).predict()
    assert list(glob.columns) == list(pred.columns)
    pd.testing.assert_frame_equal(glob[["unique_id", "ds"]], pred[["unique_id", "ds"]])


def test_column_names_covariates_and_future_covariates_as_a_long_frame():
    names = dict(id_col="store", time_col="hour", target_col="sales")
    frame = _frame(**names)
    train = frame.groupby("store").head(70)
    future = frame.groupby("store").tail(10).iloc[:, :2].assign(
        temp=frame.groupby("store").tail(10)["temp"].to_numpy())
    template = Forecaster(Ridge(), lags=6, horizon=2, future_exog=["temp"])
    local = LocalModels(template, **names).fit(train)
    pred = local.predict(2, X=future)
    assert list(pred.columns) == ["store", "hour", "sales"]
    assert len(pred) == 3 * 2
    # the same through the long Series layout and a (series id, time) X
    y, X = _long_series(train, **{k: v for k, v in names.items()})
    Xf = future.set_index(["store", "hour"])
    ref = LocalModels(template).fit(y, X).predict(2, X=Xf)
    np.testing.assert_array_equal(pred["sales"].to_numpy(), ref.to_numpy())
    for key in ["s0", "s1", "s2"]:  # each member saw its series and its covariate
        alone = Forecaster(Ridge(), lags=6, horizon=2, future_exog=["temp"]).fit(
            y.loc[key], X.loc[key]).predict(2, X=Xf.loc[key])
        np.testing.assert_array_equal(pred.loc[pred["store"] == key, "sales"].to_numpy(),
                                      alone.to_numpy())


def test_intervals_and_score_on_long_frames():
    frame = _frame().drop(columns="temp")
    train, test = frame.groupby("unique_id").head(70), frame.groupby("unique_id").tail(10)
    local = LocalModels(Forecaster(Ridge(), lags=6, horizon=10, interval="conformal")
                        ).fit(train)
    out = local.predict_interval(coverage=0.8)
    assert list(out.columns) == ["unique_id", "ds", "forecast", "lower", "upper"]
    assert out.attrs["coverage"] == 0.8
    assert (out["lower"] <= out["forecast"]).all() and (out["forecast"] <= out["upper"]).all()
    pred = local.predict()
    expected = -np.mean(np.abs(test["y"].to_numpy() - pred["y"].to_numpy()))
    assert local.score(test) == pytest.approx(expected, rel=1e-12)
    y_test, _ = _long_series(test)
    assert local.score(y_test) == local.score(test)
    # the same rows sorted by time, then series: Forecaster.score took them, and
    # LocalModels.score refused them as not the steps after the training data
    by_time = y_test.sort_index(level=1, kind="stable")
    assert not by_time.index.equals(y_test.index)
    assert local.score(by_time) == local.score(y_test)


def test_long_frame_errors_name_the_problem():
    frame = _frame().drop(columns="temp")
    with pytest.raises(ValueError, match=r"without the column\(s\) \['series'\].*"
                                         r"id_col='series'"):
        LocalModels(Forecaster(Ridge(), lags=6), id_col="series").fit(frame)
    with pytest.raises(ValueError, match="y is a long DataFrame: give its covariates as "
                                         "its other columns"):
        LocalModels(Forecaster(Ridge(), lags=6)).fit(frame, X=frame[["y"]])
    with pytest.raises(ValueError, match="id_col"):
        LocalModels(Forecaster(Ridge(), lags=6), id_col=3).fit(frame)
    # a wide frame on a time index is told how to give its series
    wide = pd.DataFrame({"v": np.arange(30.0)}, index=pd.date_range("2024", periods=30))
    with pytest.raises(ValueError, match=r"it has \['v'\]; a DataFrame is read as a long "
                                         r"panel: for one series on this time index give "
                                         r"a Series \(frame\['column'\]\)"):
        Forecaster(Ridge(), lags=6).fit(wide)
    # times of two zones in one column are named (it was "needs a DatetimeIndex")
    mixed = frame.copy()
    mixed["ds"] = [t.tz_localize("Europe/Berlin" if k == "s0" else "UTC")
                   for k, t in zip(mixed["unique_id"], mixed["ds"])]
    with pytest.raises(ValueError, match=r"y's column 'ds' mixes time zones \(\['Europe/"
                                         r"Berlin', 'UTC'\]\): convert its times to one"):
        Forecaster(Ridge(), lags=6).fit(mixed)


def test_backtest_series_on_a_long_frame():
    frame = _frame(n_series=2).drop(columns="temp")
    f = Forecaster(Ridge(), lags=6, horizon=2)
    results, forecasts = backtest_series(f, frame, initial=60, step=5, horizon=2)
    y, _ = _long_series(frame)
    ref_results, ref_forecasts = backtest_series(f, y, initial=60, step=5, horizon=2)
    assert list(results) == ["s0", "s1"]
    pd.testing.assert_frame_equal(forecasts, ref_forecasts, check_exact=True)


def test_local_models_name_a_bad_series_before_fitting_any(monkeypatch):
    # a too-short or NaN series failed after every other series' model was fitted,
    # with a message that said "y", not which series
    from tsbptt.forecasting import local
    fits, fit_one = [], local._fit_one
    monkeypatch.setattr(local, "_fit_one",
                        lambda *args: fits.append(args[1]) or fit_one(*args))
    idx = pd.date_range("2024-01-01", periods=80, freq="h")
    panel = {f"s{k}": pd.Series(np.sin(np.arange(80.0) + k), index=idx) for k in range(4)}
    short = dict(panel, s3=panel["s3"].iloc[:30])
    with pytest.raises(ValueError, match=r"series 's3': y has 30 steps, too short for "
                                         r"lags=48 and horizon=6 \(needs at least 54\)"):
        LocalModels(Forecaster(Ridge(), lags=48, horizon=6)).fit(short)
    holed = dict(panel, s2=panel["s2"].where(panel["s2"].index != idx[9]))
    with pytest.raises(ValueError, match="series 's2': column 'y' of y has a missing"):
        LocalModels(Forecaster(Ridge(), lags=4)).fit(holed)
    assert fits == []
    # the template's own parameters first, as a lone Forecaster names them
    with pytest.raises(ValueError, match="The 'horizon' parameter of Forecaster must be"):
        LocalModels(Forecaster(Ridge(), lags=4, horizon="3")).fit(panel)
    # a lone series' messages say "y", with no series to name
    with pytest.raises(ValueError, match=r"^y has 30 steps, too short for lags=48"):
        LocalModels(Forecaster(Ridge(), lags=48, horizon=6)).fit(short["s3"])
    # a forecaster of the user's own, with no parameter constraints, is fitted as is
    from sklearn.base import BaseEstimator

    class LastValue(BaseEstimator):
        def fit(self, y, X=None):
            self.last_ = float(y.iloc[-1])
            return self

        def predict(self, steps=None, X=None):
            return pd.Series([self.last_])

    assert LocalModels(LastValue()).fit(panel).predict().shape == (4,)
    # what only a fit finds is named too
    with pytest.raises(ValueError, match="series 's0': future_exog names columns that X "
                                         "does not have"):
        LocalModels(Forecaster(Ridge(), lags=4, future_exog=["plan"])).fit(panel)


def test_one_zone_made_by_two_libraries_keeps_one_time_level_and_zones_are_checked():
    # zoneinfo's and dateutil's Europe/Berlin: LocalModels' forecasts got an object
    # time level (no .tz_convert), where Forecaster converts one to the other; and
    # backtest_series took series in two zones, its time columns then objects
    utc = pd.date_range("2024-03-29", periods=48, freq="h", tz="UTC")
    a = pd.Series(np.arange(48.0), index=utc.tz_convert("Europe/Berlin"), name="v")
    b = pd.Series(np.arange(48.0), index=utc.tz_convert("dateutil/Europe/Berlin"), name="v")
    f = Forecaster(Ridge(), lags=6, horizon=2)
    local = LocalModels(f).fit({"a": a, "b": b}).predict()
    glob = f.fit({"a": a, "b": b}).predict()
    np.testing.assert_array_equal(local.index.levels[1].asi8, glob.index.levels[1].asi8)
    assert str(local.index.levels[1].dtype) == "datetime64[ns, Europe/Berlin]".replace(
        "ns", a.index.unit)
    _, table = backtest_series(f, {"a": a, "b": b}, initial=30, step=5)
    assert str(table["time"].dtype).endswith("Europe/Berlin]")
    with pytest.raises(ValueError, match=r"the series are in the time zones \['Europe/"
                                         r"Berlin', 'UTC'\]: the table's origin and time "
                                         r"columns would mix them"):
        backtest_series(f, {"a": a, "u": a.tz_convert("UTC")}, initial=30, step=5)
    # other index kinds: each series is backtested alone, as before
    m = pd.Series(np.arange(40.0), index=pd.period_range("2020-01", periods=40, freq="M"))
    q = pd.Series(np.arange(40.0), index=pd.period_range("2010Q1", periods=40, freq="Q"))
    results, table = backtest_series(Forecaster(Ridge(), lags=4), {"m": m, "q": q},
                                     initial=20, step=5)
    assert list(results) == ["m", "q"] and set(table["series"]) == {"m", "q"}


def test_static_features_in_a_model_per_series_are_refused_saying_why():
    # each clone got one series, and was told static features "need many series in
    # the long layout (a long DataFrame ...)" though a long DataFrame was given
    frame = _frame()
    frame["size"] = frame["unique_id"].map({"s0": 1.0, "s1": 2.0, "s2": 3.0})
    template = Forecaster(Ridge(), lags=6, horizon=2, static_features=["size"])
    with pytest.raises(ValueError, match=r"static_features=\['size'\]: a static feature is "
                                         r"one value per series, which a model of one "
                                         r"series cannot learn from"):
        LocalModels(template).fit(frame.drop(columns="temp"))
    assert len(template.fit(frame.drop(columns="temp")).predict()) == 6  # global: fine


def test_backtest_series_names_the_series_an_error_is_about():
    # "initial=70 + horizon=7 exceeds the series' 60 steps" named none of them
    frame = _frame()
    y, _ = _long_series(frame)
    short = y.drop(y.loc["s1"].index[:30].map(lambda t: ("s1", t)))
    with pytest.raises(ValueError, match=r"^series 's1': initial=60 \+ horizon=2 exceeds"):
        backtest_series(Forecaster(Ridge(), lags=6, horizon=2), short, initial=60)
