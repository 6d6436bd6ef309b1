"""Forecaster: dated forecasts, both strategies, any regressor, bad input."""
import re

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.linear_model import LinearRegression, Ridge

from tsbptt import LSTMRegressor
from tsbptt.forecasting import Forecaster, load_forecaster
from tsbptt.forecasting.backtesting import backtest

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _ar_series(n=300, freq="h", seed=0, noise=0.0):
    """y_t = 0.6 y_{t-1} + 0.3 y_{t-2} + 1 (+ noise): lags=2 explain it exactly."""
    rng = np.random.default_rng(seed)
    y = np.empty(n)
    y[:2] = [1.0, 2.0]
    for t in range(2, n):
        y[t] = 0.6 * y[t - 1] + 0.3 * y[t - 2] + 1 + noise * rng.standard_normal()
    return pd.Series(y, index=pd.date_range("2024-01-01", periods=n, freq=freq),
                     name="load")


@pytest.mark.parametrize("strategy,horizon", [("direct", 5), ("recursive", 1)])
def test_exact_on_a_series_that_two_lags_determine(strategy, horizon):
    # sin(w t) obeys y_t = 2 cos(w) y_{t-1} - y_{t-2} exactly: a linear model on two
    # lags recovers the recursion and must continue the wave to rounding
    w, n = 0.3, 200
    y = pd.Series(5 + np.sin(w * np.arange(n)),
                  index=pd.date_range("2024-01-01", periods=n, freq="h"), name="load")
    f = Forecaster(LinearRegression(), lags=2, horizon=horizon, strategy=strategy).fit(y)
    pred = f.predict(5)
    assert pred.name == "load"
    assert list(pred.index) == list(pd.date_range(y.index[-1] + pd.Timedelta("1h"),
                                                  periods=5, freq="h"))
    np.testing.assert_allclose(pred.to_numpy(), 5 + np.sin(w * np.arange(n, n + 5)),
                               rtol=0, atol=1e-8)


def test_integer_index_and_a_tsbptt_estimator():
    y = _ar_series(200, noise=0.1).reset_index(drop=True)
    y.index = pd.RangeIndex(10, 410, 2)
    f = Forecaster(LSTMRegressor(8, max_iter=5, random_state=0), lags=12, horizon=3)
    pred = f.fit(y).predict()
    assert list(pred.index) == [410, 412, 414] and np.isfinite(pred).all()


def test_past_covariates_and_parameters():
    y = _ar_series(120, noise=0.1)
    X = pd.DataFrame({"temp": np.sin(np.arange(120) / 5)}, index=y.index)
    f = Forecaster(LSTMRegressor(4, max_iter=2, random_state=0), lags=6, horizon=2)
    f.fit(y, X)
    assert f.estimator_.n_channels == 2 and f.exog_names_ == ["temp"]
    assert f.feature_names_[:2] == ["load_lag6", "temp_lag6"]
    assert len(f.predict()) == 2
    g = clone(f).set_params(estimator__hidden_size=3, lags=4)
    assert g.get_params()["estimator__hidden_size"] == 3 and g.lags == 4
    with pytest.raises(ValueError, match="recursive strategy feeds its forecasts back"):
        Forecaster(Ridge(), lags=3, strategy="recursive").fit(y, X)


def test_bad_input():
    y = _ar_series(50)
    with pytest.raises(ValueError, match="not regular at frequency"):
        Forecaster(Ridge(), lags=3).fit(y.drop(y.index[10]), None)
    irregular = y.copy()
    irregular.index = y.index[:-1].append(pd.DatetimeIndex(["2030-01-01"]))
    with pytest.raises(ValueError, match="cannot be inferred|not regular"):
        Forecaster(Ridge(), lags=3).fit(irregular)
    with pytest.raises(ValueError, match="too short"):
        Forecaster(Ridge(), lags=60).fit(y)
    with pytest.raises(ValueError, match="missing or infinite"):
        Forecaster(Ridge(), lags=3).fit(y.where(y.index != y.index[7]))
    f = Forecaster(Ridge(), lags=3, horizon=2).fit(y)
    with pytest.raises(ValueError, match="beyond the direct strategy's horizon=2"):
        f.predict(3)
    with pytest.raises(TypeError, match="y must be a pandas Series"):
        Forecaster(Ridge()).fit(y.to_numpy())
    with pytest.raises(ValueError, match="X must be a DataFrame on exactly y's index"):
        Forecaster(Ridge(), lags=3).fit(y, pd.DataFrame({"a": np.ones(50)}))


def test_covariates_off_ys_index_are_told_where_they_differ():
    # "X must be a DataFrame on exactly y's index" alone left the user to find the
    # row; the history and the future in one X (a common slip) was told the same
    idx = pd.date_range("2020-01-01", periods=40, freq="D")
    y = pd.Series(np.arange(40.0), index=idx)
    longer = pd.DataFrame({"p": np.arange(42.0)},
                          index=pd.date_range("2019-12-31", periods=42, freq="D"))
    with pytest.raises(ValueError, match=re.escape(
            "X must be a DataFrame on exactly y's index (one row per step of y); it holds "
            "every step of y and 2 more: give X.loc[y.index] here, and the steps after y "
            "to predict(X=...)")):
        Forecaster(Ridge(), lags=4).fit(y, longer)
    with pytest.raises(ValueError, match=re.escape(
            "; row 0 of X is Timestamp('2020-01-02 00:00:00') where y has "
            "Timestamp('2020-01-01 00:00:00')")):
        Forecaster(Ridge(), lags=4).fit(y, longer.iloc[2:])
    with pytest.raises(ValueError, match=re.escape("; X has 39 rows, y 40")):
        Forecaster(Ridge(), lags=4).fit(y, longer.iloc[1:40])
    with pytest.raises(ValueError, match=re.escape(
            "X['a'] must be a DataFrame on exactly y['a']'s index; it holds every step of "
            "y['a'] and 2 more: give X['a'].loc[y['a'].index] here")):
        Forecaster(Ridge(), lags=4).fit({"a": y}, {"a": longer})
    f = Forecaster(Ridge(), lags=4).fit(y.iloc[:30], longer.iloc[1:31])
    with pytest.raises(ValueError, match=re.escape(
            "X_new must be a DataFrame on exactly y_new's index (one row per step of "
            "y_new); it holds every step of y_new and 1 more")):
        f.update(y.iloc[30:], longer.iloc[31:])


def test_chosen_lags_and_a_short_calibration_are_told_what_to_change():
    y = pd.Series(np.arange(40.0) + np.sin(np.arange(40.0)),
                  index=pd.date_range("2020-01-01", periods=40, freq="QS"))
    # the lags were chosen, not given: the message said "lags=1" alone
    with pytest.raises(ValueError, match=re.escape(
            "y has 40 steps, too short for lags=1 (chosen for lags=None: twice the "
            "season, at least 8, at most half of what the shortest series leaves after a "
            "horizon) and horizon=2000 (needs at least 2001)")):
        Forecaster(Ridge(), horizon=2000).fit(y)
    with pytest.raises(ValueError, match=re.escape("too short for lags=3 and horizon=50")):
        Forecaster(Ridge(), lags=3, horizon=50).fit(y)
    # the calibration fraction that would do, by its name
    with pytest.raises(ValueError, match=re.escape(
            "too few windows to calibrate a 90% interval: 6 held-back origins, 9 needed "
            "(calibration=0.2 holds back the last 20% of the 29 origins); use "
            "calibration=0.32 or more, a longer series or a lower coverage")):
        Forecaster(Ridge(), horizon=4, interval="conformal").fit(y)
    f = Forecaster(Ridge(), horizon=4, interval="conformal", calibration=0.32).fit(y)
    assert f.predict_interval().shape == (4, 3)


def test_metrics_against_formulas():
    from tsbptt import metrics
    a, f = np.array([1.0, 2.0, 4.0]), np.array([2.0, 2.0, 3.0])
    assert metrics.mae(a, f) == pytest.approx(2 / 3)
    assert metrics.rmse(a, f) == pytest.approx(np.sqrt(2 / 3))
    # the squares overflow, the root need not (it was inf, with a RuntimeWarning)
    assert metrics.rmse([1e200, 0.0], [-1e200, 0.0]) == pytest.approx(2e200 / np.sqrt(2))
    assert metrics.rmse([1e-200, 0.0], [0.0, 0.0]) == pytest.approx(1e-200 / np.sqrt(2))
    # booleans and strings were converted and scored (True as 1.0, "2" as 2.0)
    for bad, what in (([True, False], "dtype bool"), (["1", "2"], "dtype <U1"),
                      (np.array([1.0, "x"], dtype=object), "'x'"),
                      (pd.Series(["1", "2"], dtype=object), "'1'"),
                      (pd.Series([True, 2.0], dtype=object), "True"),
                      (pd.DataFrame({"a": [1.0, 2.0], "b": [True, False]}), "dtype bool")):
        with pytest.raises(ValueError, match=re.escape(f"y_pred must be numbers, got {what}")):
            metrics.mae(np.ones(np.size(bad)), bad)
    assert metrics.mae(np.array([1, 2], dtype=object), pd.Series([1.0, 1.0])) == 0.5
    with pytest.raises(ValueError, match=re.escape("y_true has nan at position 1")):
        metrics.mae(pd.Series([1.0, None], dtype="Float64"), [1.0, 1.0])
    assert metrics.mape(a, f) == pytest.approx(100 * (1 + 0 + 0.25) / 3)
    assert metrics.smape(a, f) == pytest.approx(100 * (2 / 3 + 0 + 2 / 7) / 3)
    train = np.array([1.0, 3.0, 2.0, 4.0])  # naive in-sample MAE = (2 + 1 + 2) / 3
    assert metrics.mase(a, f, train) == pytest.approx((2 / 3) / (5 / 3))
    assert metrics.smape([0.0], [0.0]) == 0.0
    with pytest.raises(ValueError, match="MAPE is undefined"):
        metrics.mape([0.0, 1.0], [1.0, 1.0])
    with pytest.raises(ValueError, match="same, non-zero size"):
        metrics.mae([1.0], [1.0, 2.0])
    # arrays of two axes each pair by shape (a transposed forecast was scored)
    with pytest.raises(ValueError, match=re.escape("y_true has shape (2, 3) and y_pred "
                                                   "(3, 2): flattened, their values")):
        metrics.rmse(np.ones((2, 3)), np.zeros((3, 2)))
    # a column against a flat array, or size-1 axes, still pair as the docs say
    assert metrics.mae(np.ones((3, 1)), np.zeros(3)) == 1.0
    assert metrics.mae(np.ones((1, 2, 3)), np.zeros((2, 3, 1))) == 1.0
    assert metrics.mae(np.ones((2, 3)), np.zeros(6)) == 1.0
    with pytest.raises(ValueError, match="seasonal naive forecast is exact"):
        metrics.mase(a, f, [1.0, 1.0, 1.0])
    # a missing value leaves its pairs out (it once made the score NaN silently)
    assert metrics.mase(a, f, [1.0, np.nan, 3.0, 5.0]) == pytest.approx((2 / 3) / 2)
    with pytest.raises(ValueError, match="no pair of values season=1 apart"):
        metrics.mase(a, f, [1.0, np.nan, 3.0, np.nan])
    with pytest.raises(ValueError, match="y_train contains infinity"):
        metrics.mase(a, f, [1.0, np.inf, 3.0, 4.0])



def test_metrics_pair_pandas_objects_by_their_labels():
    # they were paired by position: a panel's forecasts come grouped by series, test
    # data is often sorted by time, and the score was silently another
    from tsbptt import metrics
    idx = pd.MultiIndex.from_product([["a", "b"], pd.date_range("2024", periods=3)])
    actual = pd.Series([1.0, 2.0, 4.0, 10.0, 20.0, 40.0], index=idx)
    forecast = actual + [0.5, -0.5, 1.0, 2.0, -2.0, 4.0]
    by_time = actual.sort_index(level=1)
    for name in ("mae", "rmse", "smape", "mape"):
        score = getattr(metrics, name)
        assert score(by_time, forecast) == score(actual, forecast)
        assert score(forecast.sort_index(level=1), actual) == pytest.approx(
            score(forecast, actual), rel=1e-15)  # summed in another order
    assert metrics.mae(by_time, forecast) == pytest.approx(10 / 6)
    assert metrics.mase(by_time, forecast, [1.0, 2.0, 3.0]) == pytest.approx(10 / 6)
    with pytest.raises(ValueError, match=r"on different index labels \(\('b', Timestamp"):
        metrics.mae(actual, forecast.set_axis(idx.set_levels(["a", "c"], level=0)))
    # the same instants in another zone are the same steps (they were "not in
    # y_pred's"); a zone against none is refused in words
    berlin = pd.Series([1.0, 2.0, 4.0], index=pd.date_range("2024-03-31", periods=3,
                                                            freq="h", tz="Europe/Berlin"))
    utc = (berlin + [0.5, -1.0, 3.0]).tz_convert("UTC")
    assert metrics.mae(berlin, utc) == metrics.mae(berlin, utc.iloc[::-1]) == pytest.approx(1.5)
    with pytest.raises(ValueError, match="y_true's times are in time zone Europe/Berlin, "
                                         "y_pred's naive: give both alike"):
        metrics.mae(berlin, utc.tz_localize(None))
    # a wide frame against a panel's long forecasts paired by position across series
    # (a perfect forecast scored 66); a one-column frame and a Series still pair
    wide = actual.unstack(0)
    with pytest.raises(ValueError, match=r"y_true has shape \(3, 2\) and y_pred \(6,\): "
                                         r"flattened, their values would pair by position"):
        metrics.mae(wide, actual)
    assert metrics.mae(wide, actual.unstack(0)) == 0.0
    assert metrics.mae(wide[["a"]], actual.loc["a"] + 1.0) == 1.0
    dup = pd.Series([1.0, 2.0, 3.0], index=[1, 1, 2])
    with pytest.raises(ValueError, match="and repeat, so they cannot be paired by label"):
        metrics.mae(dup, dup.iloc[::-1])
    with pytest.raises(ValueError, match="same, non-zero size"):
        metrics.mae(dup.iloc[:0], pd.Series([1.0], index=[5]))
    # positions where a pandas object has no labels to go by (a long frame's rows)
    assert metrics.mae(actual.reset_index(drop=True), forecast.to_numpy()) == \
        pytest.approx(10 / 6)


def test_metrics_pair_wide_frames_by_column_and_scale_each_series_apart():
    # two frames of the same columns in another order were paired by position (an
    # exact forecast scored 198), and a wide or long y_train's naive errors mixed
    # series (the last value of one against the first of the next)
    from tsbptt import metrics
    idx = pd.date_range("2024-01-01", periods=3, freq="D")
    actual = pd.DataFrame({"s1": [1.0, 2.0, 3.0], "s2": [100.0, 200.0, 300.0]}, index=idx)
    for name in ("mae", "rmse", "smape", "mape"):
        assert getattr(metrics, name)(actual, actual[["s2", "s1"]]) == 0.0
    assert metrics.mae(actual, actual[["s2", "s1"]] + [1.0, 3.0]) == pytest.approx(2.0)
    with pytest.raises(ValueError, match=r"y_true and y_pred have different columns "
                                         r"\(\['s1', 's2'\] and \['x', 'y'\]\)"):
        metrics.mae(actual, actual.set_axis(["x", "y"], axis=1))
    # unnamed columns say nothing: by position, as an ndarray would be
    assert metrics.mae(actual, pd.DataFrame(actual.to_numpy() + 1, index=idx)) == 1.0
    train = pd.DataFrame({"s1": [1.0, 2.0, 3.0, 4.0], "s2": [10.0, 20.0, 30.0, 40.0]})
    scale = np.mean([1, 1, 1, 10, 10, 10])  # each column's own changes
    assert metrics.naive_scale(train) == scale
    # mase of many series is the mean of each one's own MASE (pooled errors over the
    # pooled scale, 1 / 5.5, made it depend on the series' scales): (1/1 + 1/10) / 2
    assert metrics.mase(actual, actual + 1.0, train) == pytest.approx((1 + 0.1) / 2)
    assert metrics.mase(actual, actual + 1.0, train.to_numpy()) == pytest.approx(0.55)
    long = train.melt(var_name="id", ignore_index=False).set_index("id", append=True)
    long = long["value"].swaplevel().sort_index(level=1, sort_remaining=False)
    assert metrics.naive_scale(long) == scale  # the rows interleaved by time
    assert metrics.naive_scale(long.to_frame()) == scale  # a long frame's one column
    mixed = actual.set_axis([1, "s2"], axis=1)  # labels of mixed types (sort failed)
    assert metrics.mae(mixed, mixed[["s2", 1]]) == 0.0
    assert metrics.mase(actual, actual + 1.0, long) == pytest.approx(0.55)  # per series
    assert np.isnan(metrics.naive_scale([1.0, np.nan, 3.0]))
    # an infinity is refused wherever it is (inf - inf was a NaN pair, left out),
    # and finite values 2e308 apart overflow the scale, said so by mase
    for bad in ([np.inf, np.inf], [1.0, np.nan, np.inf]):
        with pytest.raises(ValueError, match="y_train contains infinity"):
            metrics.naive_scale(bad)
    assert metrics.naive_scale([1e308, -1e308]) == np.inf
    with pytest.raises(ValueError, match="errors on y_train overflow float64"):
        metrics.mase([1.0], [2.0], [1e308, -1e308, 1e308])


@pytest.mark.parametrize("refit", [True, False])
def test_backtest_rolls_the_origin_without_leaking(refit):
    from tsbptt.forecasting.backtesting import backtest
    w, n = 0.3, 120
    y = pd.Series(5 + np.sin(w * np.arange(n)),
                  index=pd.date_range("2024-01-01", periods=n, freq="D"), name="s")
    bt = backtest(Forecaster(LinearRegression(), lags=2, horizon=3), y, initial=80,
                  step=10, refit=refit, season=21)
    table = bt.forecasts
    assert list(table["origin"].unique()) == list(y.index[[79, 89, 99, 109]])
    assert len(table) == 4 * 3 and list(table["step"][:3]) == [1, 2, 3]
    np.testing.assert_array_equal(table["actual"], y.loc[table["time"]].to_numpy())
    assert (table["time"] > table["origin"]).all()
    np.testing.assert_allclose(table["forecast"], table["actual"], atol=1e-7)
    assert bt.metrics["mae"] < 1e-7 and bt.metrics["mase"] < 1e-6
    assert set(bt.metrics) == {"mae", "rmse", "smape", "mase", "mape"}
    with pytest.raises(ValueError, match="exceeds the series' 120 steps"):
        backtest(Forecaster(Ridge(), lags=2, horizon=2), y, initial=119, horizon=2)


def test_returns_round_trip():
    from tsbptt.forecasting.returns import log_returns, prices_from_log_returns
    idx = pd.date_range("2024-01-01", periods=6, freq="B")
    prices = pd.Series([100.0, 101.0, 99.0, 102.0, 102.0, 105.0], index=idx, name="px")
    r = log_returns(prices)
    assert list(r.index) == list(idx[1:]) and r.iloc[0] == pytest.approx(np.log(1.01))
    back = prices_from_log_returns(prices.iloc[0], r)
    np.testing.assert_allclose(back.to_numpy(), prices.iloc[1:].to_numpy(), rtol=1e-12)
    with pytest.raises(ValueError, match="prices must be positive and finite"):
        log_returns(prices.where(prices != 99.0, 0.0))
    with pytest.raises(ValueError, match="last_price must be a positive real number"):
        prices_from_log_returns(-1.0, r)
    # an ndarray in, an ndarray out (its annotation says so; it raised AttributeError)
    np.testing.assert_array_equal(prices_from_log_returns(prices.iloc[0], r.to_numpy()),
                                  back.to_numpy())
    with pytest.raises(ValueError, match=r"last_price must be a positive real number \(an "
                                         r"int or a float\), got '100'"):
        prices_from_log_returns("100", r)
    # booleans were read as 1.0 (every return 0), strings converted silently
    for bad in ((prices > 100), prices.astype(str), prices.astype(str).astype(object)):
        with pytest.raises(ValueError, match="prices must be numbers, got "):
            log_returns(bad)
    # numbers held as objects are numbers
    pd.testing.assert_series_equal(log_returns(prices.astype(object)), r)
    with pytest.raises(TypeError, match="returns must be a pandas Series or a 1D ndarray, "
                                        "got list"):
        prices_from_log_returns(100.0, [0.01])
    # a NaN return made every later price NaN, silently
    for bad, what in ((r.where(r.index != r.index[2]), f"(nan) at {r.index[2]!r}"),
                      (np.array([0.01, np.inf]), "(inf) at 1")):
        with pytest.raises(ValueError, match=re.escape(
                f"returns has a missing or infinite value {what}")):
            prices_from_log_returns(100.0, bad)
    for bad in (np.array([True]), np.array(["0.01"]), pd.Series([0.01j]),
                pd.Series(["0.01"], dtype=object)):
        with pytest.raises(ValueError, match="returns must be numbers, got "):
            prices_from_log_returns(100.0, bad)
    np.testing.assert_array_equal(prices_from_log_returns(100.0, r.astype(object)),
                                  prices_from_log_returns(100.0, r))


def test_log_returns_refuse_unsorted_prices_and_keep_series_apart():
    from tsbptt.forecasting.returns import log_returns
    idx = pd.date_range("2024-01-01", periods=4, freq="B")
    p = pd.Series([100.0, 110.0, 99.0, 120.0], index=idx, name="close")
    # newest first (a common download): the returns came back negated, a day early
    with pytest.raises(ValueError, match=r"prices is not sorted by its index: "
                                         r"Timestamp\('2024-01-03 00:00:00'\) comes after"):
        log_returns(p.iloc[::-1])
    with pytest.raises(ValueError, match="prices has duplicated index labels"):
        log_returns(p.iloc[[0, 1, 1, 2]])
    # a (ticker, date) panel: each ticker's own returns, never one across tickers,
    # on the rows as given (here interleaved by date)
    panel = pd.concat({"AAA": p, "BBB": p * 10}).sort_index(level=1, sort_remaining=False)
    got = log_returns(panel)
    expected = np.log(p / p.shift(1)).iloc[1:].to_numpy()
    assert list(got.index) == [(k, d) for d in idx[1:] for k in ("AAA", "BBB")]
    np.testing.assert_allclose(got.xs("AAA").to_numpy(), expected, rtol=1e-14)
    np.testing.assert_allclose(got.xs("BBB").to_numpy(), expected, rtol=1e-14)
    with pytest.raises(ValueError, match=r"prices of series 'BBB' is not sorted by time"):
        log_returns(pd.concat({"AAA": p, "BBB": p.iloc[::-1]}))


def test_grid_search_tunes_the_forecaster_without_leaking():
    from sklearn.model_selection import GridSearchCV, TimeSeriesSplit
    w, n = 0.3, 150
    rng = np.random.default_rng(0)
    y = pd.Series(5 + np.sin(w * np.arange(n)) + 0.01 * rng.standard_normal(n),
                  index=pd.date_range("2024-01-01", periods=n, freq="D"), name="s")
    search = GridSearchCV(Forecaster(Ridge(alpha=1e-6), horizon=4),
                          {"lags": [1, 2, 6]}, cv=TimeSeriesSplit(3, test_size=4))
    search.fit(y)
    assert search.best_params_["lags"] in (2, 6)          # one lag cannot follow a wave
    assert search.cv_results_["mean_test_score"][0] < -0.05
    f = Forecaster(Ridge(), lags=2, horizon=3).fit(y.iloc[:100])
    assert f.score(y.iloc[100:103]) <= 0
    with pytest.raises(ValueError, match="right after the training series"):
        f.score(y.iloc[101:104])


def test_forecast_dates_of_one_series_keep_their_freq():
    y = pd.Series(np.sin(np.arange(120) / 4),
                  index=pd.date_range("2024-01-01", periods=120, freq="h"))
    fc = Forecaster(Ridge(), lags=8, horizon=3).fit(y).predict()
    assert fc.index.freq == pd.tseries.frequencies.to_offset("h")
    assert list(fc.index) == list(pd.date_range("2024-01-06", periods=3, freq="h"))


def test_backtest_of_a_filled_series_scores_mase_on_its_finite_pairs():
    # the training part is the series as given, NaN included: the fix that made
    # mase refuse NaN once failed such a backtest after every fit
    from tsbptt import backtest
    from tsbptt.forecasting import metrics
    y = pd.Series(np.sin(np.arange(120) / 4) + 2,
                  index=pd.date_range("2024-01-01", periods=120, freq="h"))
    y.iloc[30] = np.nan
    for data in (y, {"a": y, "b": y}):
        b = backtest(Forecaster(Ridge(), lags=8, horizon=2, fill="interpolate"), data,
                     initial=60, step=20)
        assert np.isfinite(b.metrics["mase"])
    one = backtest(Forecaster(Ridge(), lags=8, horizon=2, fill="interpolate"), y,
                   initial=60, step=20)
    f = one.forecasts
    assert one.season == 24  # hourly data: the forecaster's season
    assert one.metrics["mase"] == pytest.approx(
        metrics.mase(f["actual"], f["forecast"], y.iloc[:60].to_numpy(), season=24))


def test_backtest_mase_pairs_steps_in_time_across_missing_rows():
    # a series with rows missing (fill accepts it) was paired by row position for
    # MASE's naive scale: pairs across the gap were not a season apart, and a
    # forecast off by the trend's weekly rise scored 0.11 instead of 1
    from tsbptt import SeasonalNaive, backtest
    idx = pd.date_range("2022-01-01", periods=120, freq="D")
    y = pd.Series(10 + np.tile([0, 5, 1, 7, 2, 9, 3], 18)[:120] + 0.01 * np.arange(120),
                  index=idx)
    dropped = y.drop(y.index[[20, 21, 22]])
    fc = Forecaster(SeasonalNaive(7), lags=14, horizon=7, fill="ffill")
    one = backtest(fc, dropped, initial=60, step=7, season=7).metrics
    panel = backtest(fc, {"a": dropped, "b": y}, initial=63, step=7, season=7)
    # every forecast misses by the week's rise (0.07), and so does the naive
    # forecast in time over the first 63 days, pairs touching the gap left out
    assert one["mae"] == pytest.approx(0.07)
    assert one["mase"] == pytest.approx(1.0)
    assert panel.per_series["mase"].to_numpy() == pytest.approx([1.0, 1.0])


def test_backtest_names_the_origin_of_a_forecast_that_is_not_finite():
    # the metrics refused the NaN forecasts only after every origin's fit, naming
    # neither the forecasts nor an origin
    from sklearn.base import BaseEstimator, RegressorMixin

    from tsbptt import backtest

    class NaNAfter(RegressorMixin, BaseEstimator):
        """Forecasts NaN once fitted on more than 60 windows."""

        def fit(self, X, y):
            self.n_ = len(X)
            return self

        def predict(self, X):
            return np.full(len(X), np.nan if self.n_ > 60 else 1.0)

    y = pd.Series(np.random.default_rng(0).normal(5, 1, 90),
                  index=pd.date_range("2022-01-01", periods=90, freq="D"))
    f = Forecaster(NaNAfter(), lags=7, horizon=1)
    with pytest.raises(ValueError, match=re.escape(
            "the forecaster forecast nan (forecast) for Timestamp('2022-03-11 00:00:00'), "
            "after the origin Timestamp('2022-03-10 00:00:00')")):
        backtest(f, y, initial=59, step=10)
    with pytest.raises(ValueError, match=re.escape(
            "forecast nan (forecast) for ('a', Timestamp('2022-03-01 00:00:00')), after "
            "the cutoff Timestamp('2022-02-28 00:00:00')")):  # both series' windows
        backtest(f, {"a": y.iloc[10:], "b": y}, initial=59, step=10)


def test_editing_the_data_after_fit_does_not_change_the_forecasts():
    # the fitted forecaster held the caller's Series and DataFrames (or views of
    # their values), so an edit in place after fit changed its forecasts
    y = _ar_series(60, freq="D")
    X = pd.DataFrame({"x": np.arange(60.0)}, index=y.index)
    long = pd.concat({"a": y, "b": 2 * y}, names=["id", "ds"])
    cases = [(lambda: (y.copy(), X.copy()), lambda d: d[1].iloc.__setitem__((-3, 0), 1e6)),
             (lambda: (y.copy(), None), lambda d: d[0].iloc.__setitem__(slice(-3, None), 500)),
             (lambda: ({"a": y.copy(), "b": y * 2}, None),
              lambda d: d[0]["a"].iloc.__setitem__(slice(-3, None), 500)),
             (lambda: (long.copy(), None),  # a long Series: the grouped fast path
              lambda d: d[0].iloc.__setitem__(slice(-3, None), 500))]
    for make, edit in cases:
        data = make()
        f = Forecaster(LinearRegression(), lags=4, horizon=2).fit(*data)
        before = f.predict()
        edit(data)
        pd.testing.assert_frame_equal(pd.DataFrame(f.predict()), pd.DataFrame(before))


@pytest.mark.parametrize("workflow", ["backtest", "backtest without refits", "local models",
                                      "one fit"])
def test_ctrl_c_stops_a_workflow_of_many_fits_but_ends_one_fit_gracefully(
        workflow, monkeypatch):
    # each fit caught Ctrl-C and kept its best weights, so a backtest (or one model
    # per series) went on, cutting one fit short per press and scoring it as trained
    import warnings

    import tsbptt.engine.trainer as trainer
    from tsbptt import GRURegressor, LocalModels, backtest
    epochs, run_epoch = [], trainer._run_epoch

    def pressed_on_the_third_epoch(*args, **kwargs):
        epochs.append(1)
        if len(epochs) == 3:
            raise KeyboardInterrupt
        return run_epoch(*args, **kwargs)

    monkeypatch.setattr(trainer, "_run_epoch", pressed_on_the_third_epoch)
    y = pd.Series(np.sin(np.arange(300) / 5), pd.date_range("2024", periods=300, freq="h"))
    f = Forecaster(GRURegressor(4, max_iter=5, random_state=0), lags=12, horizon=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence
        if workflow == "one fit":  # alone, a fit still ends with its best weights
            with pytest.warns(RuntimeWarning, match="Training interrupted at epoch 3"):
                f.fit(y)
            assert len(f.predict()) == 3
            return
        with pytest.raises(KeyboardInterrupt):
            if workflow.startswith("backtest"):  # without refits: its one fit
                backtest(f, y, initial=250, step=10, horizon=3,
                         refit=workflow == "backtest")
            else:
                LocalModels(f).fit({"a": y, "b": y * 2})
    assert len(epochs) == 3  # nothing ran after the press


@pytest.mark.parametrize("bad", [-1, 0.5, "1", None])
def test_a_backtest_refuses_a_bad_verbose_by_name(bad):
    y = pd.Series(np.arange(40.0), index=pd.date_range("2024-01-01", periods=40, freq="D"))
    with pytest.raises(ValueError, match=re.escape(f"verbose must be an integer >= 0, "
                                                   f"got {bad!r}")):
        backtest(Forecaster(Ridge(), lags=4), y, initial=30, verbose=bad)


def test_a_backtest_refuses_a_missing_actual_before_any_fit():
    # a forecaster with fill= trains through a missing value, so the backtest ran
    # every origin's fit and then failed in its metrics, without saying where
    from tsbptt import backtest
    y = _ar_series(120, freq="D")
    y.iloc[100] = np.nan
    fits = []

    class Counting(LinearRegression):
        def fit(self, X, y):
            fits.append(1)
            return super().fit(X, y)

    f = Forecaster(Counting(), lags=4, horizon=3, fill="interpolate")
    with pytest.raises(ValueError, match=re.escape(
            f"y has no actual value at {y.index[100]!r}, which the origin after "
            f"{y.index[97]!r} is scored on")):
        backtest(f, y, initial=80, step=3)
    assert fits == []
    # scored steps that avoid it: fine
    assert len(backtest(f, y, initial=101, step=3).forecasts) > 0


def test_a_single_series_forecast_is_named_like_y_and_its_index(tmp_path):
    # the index name was dropped (panels kept theirs) and an unnamed y came back 'y'
    y = _ar_series(60, freq="D").rename("sales").rename_axis("date")
    f = Forecaster(LinearRegression(), lags=4, horizon=2, interval="conformal",
                   calibration=0.5).fit(y)
    for out in (f.predict(), f.predict_interval(coverage=0.8)):
        assert out.index.name == "date"
    assert f.predict().name == "sales"
    unnamed = y.rename(None).rename_axis(None)
    f = Forecaster(LinearRegression(), lags=4, horizon=2).fit(unnamed)
    out = f.predict()
    assert out.name is None and out.index.name is None
    # a saved forecaster names them alike (it said 'y'), and so does a panel
    path = tmp_path / "f.npz"
    f.save(path)
    pd.testing.assert_series_equal(load_forecaster(path).predict(), out, check_exact=True)
    assert Forecaster(LinearRegression(), lags=4, horizon=2).fit(
        {"a": unnamed, "b": 2 * unnamed}).predict().name is None


@pytest.mark.parametrize("strategy, horizon", [("direct", 1), ("recursive", 3)])
def test_wrappers_that_take_target_columns_fit_one_step_models(strategy, horizon):
    # a one-step model's target went in as a 1D array, which MultiOutputRegressor
    # refuses ("y must have at least two dimensions") and RegressorChain failed on
    # with a bare IndexError
    from sklearn.multioutput import MultiOutputRegressor, RegressorChain
    y = pd.Series(np.sin(np.arange(200) / 3) + np.random.default_rng(0).normal(0, .1, 200),
                  index=pd.date_range("2020-01-01", periods=200, freq="D"))
    plain = Forecaster(Ridge(), lags=8, horizon=horizon, strategy=strategy).fit(y).predict()
    for wrapper in (MultiOutputRegressor(Ridge()), RegressorChain(Ridge())):
        got = Forecaster(wrapper, lags=8, horizon=horizon, strategy=strategy).fit(y)
        np.testing.assert_allclose(got.predict().to_numpy(), plain.to_numpy(), rtol=1e-12)


@pytest.mark.parametrize("index", [pd.date_range("2020-01-01", periods=40, name="date"),
                                   pd.period_range("2000-01", periods=40, freq="M",
                                                   name="month"),
                                   pd.RangeIndex(40, name="step")])
def test_fill_keeps_the_name_of_the_time_index(index):
    # the filled grid had no name: forecasts lost it with any fill, gaps or not
    y = pd.Series(np.sin(np.arange(40) / 3), index=index, name="sales")
    for fill in (None, "ffill", "interpolate"):
        f = Forecaster(Ridge(), lags=4, horizon=3, fill=fill)
        assert f.fit(y.drop(y.index[[5, 6]]) if fill else y).predict().index.name == \
            index.name
        assert f.fit({"a": y, "b": y}).predict().index.names == ["series", index.name]


def test_freq_takes_a_period_index_own_alias_and_names_one_pandas_cannot_read():
    # freq=y.index.freqstr ('Q-DEC') on a PeriodIndex failed as "Invalid frequency:
    # Q-DEC" (pandas reads period aliases only as periods)
    y = pd.Series(np.sin(np.arange(40) / 3),
                  index=pd.period_range("2000Q1", periods=40, freq="Q"))
    expected = Forecaster(Ridge(), lags=4, horizon=3).fit(y).predict()
    for freq in (y.index.freqstr, "Q", "QE", y.index.freq):
        pd.testing.assert_series_equal(
            Forecaster(Ridge(), lags=4, horizon=3, freq=freq).fit(y).predict(), expected)
    with pytest.raises(ValueError, match=r"freq='Q-MAR' differs from the frequency "
                                         r"'Q-DEC' of y's PeriodIndex"):
        Forecaster(Ridge(), lags=4, freq="Q-MAR").fit(y)
    daily = pd.Series(np.arange(40.0), pd.date_range("2020-01-01", periods=40))
    for data in (y, daily):
        with pytest.raises(ValueError, match=r"^freq='bogus' is not a pandas frequency "
                                             r"\(.*\); pass one such as 'h', 'D'"):
            Forecaster(Ridge(), lags=4, freq="bogus").fit(data)


def test_backtest_scales_mase_by_the_forecasters_season_by_default():
    # backtest's MASE read season=1 unless told, while the command line's read the
    # forecaster's: on monthly CPI a Ridge five times better than seasonal naive
    # scored MASE 1.93, "worse than naive" (an economist's trial)
    from tsbptt.forecasting import metrics
    idx = pd.date_range("2005-01-01", periods=120, freq="MS")
    t = np.arange(120.0)
    y = pd.Series(100 + 0.3 * t + 2 * np.sin(2 * np.pi * t / 12), index=idx)
    f = Forecaster(Ridge(), lags=24, horizon=6)
    b = backtest(f, y, initial=90, step=6)
    assert b.season == 12
    table = b.forecasts
    assert b.metrics["mase"] == pytest.approx(metrics.mase(
        table["actual"], table["forecast"], y.iloc[:90].to_numpy(), season=12), rel=1e-12)
    one = backtest(f, y, initial=90, step=6, season=1)
    assert one.season == 1 and one.metrics["mase"] != b.metrics["mase"]
    # the forecaster's own season, given, wins over the inferred one
    assert backtest(Forecaster(Ridge(), lags=24, horizon=6, season=4), y, initial=90,
                    step=6).season == 4
    # a first fit of fewer than two seasons: the naive forecast's scale (one
    # seasonal difference, at 13 months, made a scale MASE swung 3x on)
    for initial, season in ((12, 1), (13, 1), (23, 1), (24, 12)):
        assert backtest(Forecaster(Ridge(), lags=4, horizon=2), y.iloc[:40],
                        initial=initial, step=4).season == season
    with pytest.raises(ValueError, match="initial=12 must exceed season=12"):
        backtest(f, y, initial=12, season=12)
    panel = backtest(f, {"a": y, "b": 2 * y}, initial=90, step=6)
    assert panel.season == 12


def test_bounds_clip_forecasts_and_intervals_and_refuse_values_outside():
    # count data forecast below 0, lower bounds too (a retail analyst's trial);
    # bounds=(0, None) says the series' range and clips every output to it
    rng = np.random.default_rng(0)
    idx = pd.date_range("2022-01-01", periods=300, freq="D")
    y = pd.Series((rng.random(300) < 0.3) * rng.poisson(3, 300), index=idx, dtype=float)
    kw = dict(lags=14, horizon=7, interval="conformal")
    free = Forecaster(Ridge(), **kw).fit(y)
    bounded = Forecaster(Ridge(), bounds=(0, None), **kw).fit(y)
    band, clipped = free.predict_interval(), bounded.predict_interval()
    assert (band["lower"] < 0).any()  # the case at hand
    pd.testing.assert_frame_equal(clipped, band.clip(lower=0), check_exact=True)
    pd.testing.assert_series_equal(bounded.predict(), free.predict().clip(lower=0),
                                   check_exact=True)
    top = Forecaster(Ridge(), bounds=[None, 2.5], **kw).fit(y.clip(upper=2.5))
    assert top.predict_interval()["upper"].max() <= 2.5
    # values outside the bounds: the bounds are wrong, or the data
    with pytest.raises(ValueError, match=re.escape(
            "y has -1.0 at Timestamp('2022-01-04 00:00:00'), outside bounds=(0, None); "
            "give bounds the series' values keep to, or None")):
        Forecaster(Ridge(), bounds=(0, None), **kw).fit(y.where(y.index != idx[3], -1.0))
    with pytest.raises(ValueError, match=r"^y_new has -2\.0 at "):
        bounded.update(pd.Series([1.0, -2.0], index=pd.date_range(idx[-1], periods=3,
                                                                     freq="D")[1:]))
    with pytest.raises(ValueError, match=r"^history has -1\.0 at "):
        bounded.predict(history=y.iloc[:100].where(y.index[:100] != idx[50], -1.0))
    with pytest.raises(ValueError, match="The 'bounds' parameter of Forecaster must be"):
        Forecaster(Ridge(), bounds=0).fit(y)
    for bad in ((1, 0), (0,), (0, np.inf), ("0", None), (True, None), (None, None, 1)):
        with pytest.raises(ValueError, match=re.escape("bounds must be (low, high), each a "
                                                       f"finite number or None and low < "
                                                       f"high, e.g. (0, None); got {bad!r}")):
            Forecaster(Ridge(), bounds=bad).fit(y)
