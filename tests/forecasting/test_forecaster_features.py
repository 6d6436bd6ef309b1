"""Forecaster: future-known covariates, calendar features, many series, the
stateful strategy, frequency handling and data-safety errors."""
import re
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression, Ridge

from tsbptt import (ESNRegressor, Forecaster, GRURegressor, LSTMRegressor, backtest,
                    calendar_features)

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

W = 0.3


def _hours(n, start="2024-01-01"):
    return pd.date_range(start, periods=n, freq="h")


def _wave(n=200, noise=0.0, seed=0, start="2024-01-01", name="load"):
    rng = np.random.default_rng(seed)
    return pd.Series(5 + np.sin(W * np.arange(n)) + noise * rng.standard_normal(n),
                     index=_hours(n, start), name=name)


def test_future_known_covariates_enter_at_the_forecast_steps():
    # y_t = 3 plan_t + 1 with plan unpredictable from the past: only plan's values at
    # the forecast steps themselves can give exact forecasts, and they must
    n = 150
    rng = np.random.default_rng(1)
    plan = rng.standard_normal(n + 4)
    idx = _hours(n + 4)
    y = pd.Series(3 * plan[:n] + 1, index=idx[:n], name="load")
    X = pd.DataFrame({"plan": plan[:n]}, index=idx[:n])
    future = pd.DataFrame({"plan": plan[n:]}, index=idx[n:])
    for strategy, horizon in (("direct", 4), ("recursive", 4)):
        f = Forecaster(LinearRegression(), lags=4, horizon=horizon, strategy=strategy,
                       future_exog=["plan"]).fit(y, X)
        pred = f.predict(4, X=future)
        np.testing.assert_allclose(pred.to_numpy(), 3 * plan[n:] + 1, atol=1e-8)
        assert f.channels_ == ["load", f"plan_lead{f._lead}"]
    # a wrong future frame is named, never silently misaligned
    f = Forecaster(LinearRegression(), lags=4, horizon=4, future_exog=["plan"]).fit(y, X)
    with pytest.raises(ValueError, match="must give the future-known covariates"):
        f.predict()
    with pytest.raises(ValueError, match="does not cover the forecast steps"):
        f.predict(X=future.iloc[:3])
    shifted = future.set_axis(future.index + pd.Timedelta("1h"))
    with pytest.raises(ValueError, match="does not cover the forecast steps"):
        f.predict(X=shifted)
    holed = future.copy()
    holed.iloc[1, 0] = np.nan
    # the column named, as fit names it
    with pytest.raises(ValueError, match="column 'plan' of X has a missing or infinite "
                                         "value at Timestamp"):
        f.predict(X=holed)
    holed.iloc[1, 0] = np.inf  # called "missing" before
    with pytest.raises(ValueError, match="column 'plan' of X has a missing or infinite"):
        f.predict(X=holed)
    # a repeated step: .loc gave two rows for it, each later step the covariates of
    # the step before (a stale row and its revision, a common sight in planned data)
    for repeated, step in ((pd.concat([future.iloc[:2], future.iloc[1:]]), future.index[1]),
                           (pd.concat([future.iloc[[0]] * 5, future]), future.index[0])):
        with pytest.raises(ValueError, match=re.escape(
                f"X has more than one row for the forecast step {step!r}")):
            f.predict(X=repeated)
    f2 = Forecaster(LinearRegression(), lags=4, horizon=4, future_exog=["plan"],
                    calendar=["hour"]).fit(y, X)  # once a bare NumPy shape error
    with pytest.raises(ValueError, match="more than one row for the forecast step"):
        f2.predict(X=pd.concat([future.iloc[:2], future.iloc[1:]]))


def test_past_only_covariates_never_see_the_future():
    # the target is the covariate one step later: with past-only covariates the
    # model must not get the forecast step's value (so it cannot be exact)
    n = 200
    rng = np.random.default_rng(2)
    x = rng.standard_normal(n + 1)
    y = pd.Series(x[1:], index=_hours(n), name="y")
    X = pd.DataFrame({"x": x[:-1]}, index=y.index)
    f = Forecaster(LinearRegression(), lags=3, horizon=1).fit(y, X)
    assert f.channels_ == ["y", "x"]
    tail = f.tails_[None]  # the last lags steps, up to step n - 1
    windows = f._windows(f._scaled(tail, None, 1), np.array([len(tail) - 1]))
    # the last input row holds x at the origin, which is y's value there: no leak
    assert windows[0, -1] == pytest.approx((x[n - 1] - f.exog_mean_[0, 0])
                                           / f.exog_scale_[0, 0])


def test_calendar_features_and_a_daily_pattern():
    idx = _hours(24 * 30)
    y = pd.Series(10 + 3 * np.sin(2 * np.pi * idx.hour / 24), index=idx, name="temp")
    cal = calendar_features(idx[:3], ["hour", "dayofweek"])
    assert list(cal.columns) == ["hour_sin", "hour_cos", "dayofweek_sin", "dayofweek_cos"]
    np.testing.assert_allclose(cal["hour_sin"], np.sin(2 * np.pi * np.arange(3) / 24))
    np.testing.assert_allclose(calendar_features(idx[:2], "month", cyclical=False)["month"],
                               [1, 1])
    # one lag of a constant-amplitude daily cycle plus the hour of the target step:
    # a linear model on the cyclical hour encoding is exact at any horizon
    f = Forecaster(LinearRegression(), lags=6, horizon=6, calendar=["hour"]).fit(y)
    pred = f.predict()
    future = pred.index
    np.testing.assert_allclose(pred, 10 + 3 * np.sin(2 * np.pi * future.hour / 24),
                               atol=1e-8)
    with pytest.raises(ValueError, match="unknown calendar features"):
        Forecaster(Ridge(), calendar=["fortnight"]).fit(y)
    with pytest.raises(ValueError, match=r"calendar=\['hour'\] needs dated times \(a "
                                         r"DatetimeIndex or a PeriodIndex\), got RangeIndex"):
        Forecaster(Ridge(), lags=3, calendar=["hour"]).fit(y.reset_index(drop=True))
    # a PeriodIndex reads as its periods' starts: the same features, the same forecasts
    hourly = y.set_axis(y.index.to_period("h"))
    by_period = Forecaster(LinearRegression(), lags=6, horizon=6, calendar=["hour"])
    np.testing.assert_allclose(by_period.fit(hourly).predict().to_numpy(), pred.to_numpy(),
                               rtol=0, atol=1e-12)
    assert by_period.predict().index.equals(future.to_period("h"))
    with pytest.raises(ValueError, match="use lags >= horizon"):
        Forecaster(Ridge(), lags=3, horizon=6, calendar=["hour"]).fit(y)


def test_many_series_dict_and_long_layouts_agree():
    a = _wave(160, noise=0.05)
    b = 2 * _wave(160, noise=0.05, seed=1) + 1
    ys = {"north": a, "south": b}
    f = Forecaster(Ridge(1e-3), lags=6, horizon=3).fit(ys)
    pred = f.predict()
    assert pred.index.names == ["series", "time"]
    assert list(pred.index.get_level_values(0).unique()) == ["north", "south"]
    assert list(pred.xs("south").index) == list(_hours(3, a.index[-1] + pd.Timedelta("1h")))
    long = pd.concat(ys, names=["sensor", "time"])
    g = Forecaster(Ridge(1e-3), lags=6, horizon=3).fit(long)
    pred_long = g.predict()
    assert pred_long.index.names == ["sensor", "time"]
    np.testing.assert_array_equal(pred_long.to_numpy(), pred.to_numpy())
    # one global model over per-series standardised data: a series that is an
    # affine copy of another gets the affine copy of its forecast
    h = Forecaster(Ridge(1e-3), lags=6, horizon=3).fit({"a": a, "b": 2 * a + 1})
    p = h.predict()
    np.testing.assert_allclose(p.xs("b"), 2 * p.xs("a") + 1, rtol=1e-12)


def test_series_id_feature_and_unknown_series():
    a, b = _wave(120), _wave(120, seed=3) * 0 + 7 + np.arange(120) % 2  # two behaviours
    f = Forecaster(Ridge(1e-6), lags=4, series_id=True).fit({"a": a, "b": b})
    assert f.channels_[-2:] == ["series=a", "series=b"]
    assert f.estimator_.n_features_in_ == 4 * 3
    with pytest.raises(ValueError, match="series 'c' was not seen in fit"):
        f.predict(history={"c": a})
    with pytest.raises(ValueError, match="every series must have the same frequency"):
        Forecaster(Ridge(), lags=3).fit({"a": a, "b": a.resample("2h").mean()})
    # ids 1 and '1' gave two columns 'series=1': fit passed, predict failed in Ridge
    with pytest.raises(ValueError, match=r"the ids 1 and '1' read the same \('1'\)"):
        Forecaster(Ridge(), lags=4, series_id=True).fit({1: a, "1": b})
    Forecaster(Ridge(), lags=4).fit({1: a, "1": b}).predict()  # without ids: apart


def test_recursive_and_direct_on_a_tsbptt_model_many_series():
    ys = {k: _wave(100, noise=0.05, seed=i) for i, k in enumerate("xyz")}
    f = Forecaster(GRURegressor(4, max_iter=3, random_state=0), lags=8, horizon=2,
                   strategy="recursive", series_id=True).fit(ys)
    assert f.estimator_.n_channels == 4
    pred = f.predict(5)
    assert pred.shape == (15,) and np.isfinite(pred).all()


def test_stateful_carries_the_state_forward():
    y = _wave(300, noise=0.02)
    f = Forecaster(LSTMRegressor(16, max_iter=60, learning_rate=1e-2, random_state=0),
                   lags=24, horizon=6, strategy="stateful").fit(y)
    assert f.estimator_.bptt_steps == 24 and f.estimator_.per_step_
    pred = f.predict(6)
    # the stored state equals re-reading the whole series from the start
    again = f.predict(6, history=y)
    np.testing.assert_allclose(again.to_numpy(), pred.to_numpy(), rtol=1e-6)
    truth = 5 + np.sin(W * np.arange(300, 306))
    naive = np.full(6, y.iloc[-1])
    assert np.abs(pred - truth).mean() < 0.5 * np.abs(naive - truth).mean()
    with pytest.raises(ValueError, match="needs a tsbptt recurrent regressor"):
        Forecaster(Ridge(), strategy="stateful").fit(y)
    with pytest.raises(ValueError, match="series of equal length"):
        Forecaster(LSTMRegressor(2, max_iter=1), lags=4, strategy="stateful").fit(
            {"a": y, "b": y.iloc[:200]})
    with pytest.raises(ValueError, match=r"early_stopping=False \(one sequence per "
                                         r"series\); got early_stopping=True"):
        Forecaster(LSTMRegressor(2, early_stopping=True), lags=4,
                   strategy="stateful").fit(y)


def test_fill_option_and_frequency_errors():
    y = _wave(100)
    gappy = y.drop(y.index[[10, 11, 40]])
    with pytest.raises(ValueError, match="not regular at frequency h.*fill='interpolate'"):
        Forecaster(Ridge(), lags=3).fit(gappy)
    f = Forecaster(Ridge(), lags=3, fill="interpolate").fit(gappy)
    assert f.n_filled_ == {None: 3}
    g = Forecaster(Ridge(), lags=3, fill="ffill").fit(y.where(y.index != y.index[98]))
    assert g.n_filled_ == {None: 1}
    filled = g.tails_[None].y  # the last lags steps: 97, 98 (filled) and 99
    assert filled.iloc[1] == y.iloc[97] and filled.index.equals(y.index[-3:])
    with pytest.raises(ValueError, match="off its"):
        Forecaster(Ridge(), lags=3, fill="ffill").fit(
            y.rename(index={y.index[3]: y.index[3] + pd.Timedelta("30min")}))
    with pytest.raises(ValueError, match="duplicated timestamps"):
        Forecaster(Ridge(), lags=3).fit(pd.concat([y.iloc[:5], y.iloc[4:]]))
    with pytest.raises(ValueError, match="not sorted by time"):
        Forecaster(Ridge(), lags=3).fit(y.iloc[::-1])
    with pytest.raises(ValueError, match="missing or infinite value at.*fill="):
        Forecaster(Ridge(), lags=3).fit(y.where(y.index != y.index[5]))
    with pytest.raises(ValueError, match="starts with missing values"):
        Forecaster(Ridge(), lags=3, fill="ffill").fit(y.where(y.index != y.index[0]))
    two = pd.Series([1.0, 2.0], index=pd.DatetimeIndex(["2024-01-01", "2024-01-03"]))
    with pytest.raises(ValueError, match="cannot be inferred.*pass freq="):
        Forecaster(Ridge(), lags=1, horizon=1).fit(two)
    X = pd.DataFrame({"name": ["a"] * 100}, index=y.index)
    with pytest.raises(ValueError, match="column 'name' of X is not numeric"):
        Forecaster(Ridge(), lags=3).fit(y, X)
    with pytest.raises(ValueError, match="future_exog names columns that X does not have"):
        Forecaster(Ridge(), lags=3, future_exog=["plan"]).fit(y)
    # a repeated name once made the covariate two channels of every window
    plan = pd.DataFrame({"plan": np.arange(100.0)}, index=y.index)
    with pytest.raises(ValueError, match=re.escape("future_exog names ['plan'] more than "
                                                   "once")):
        Forecaster(Ridge(), lags=3, future_exog=["plan", "plan"]).fit(y, plan)
    with pytest.raises(ValueError, match=re.escape("static_features names ['size'] more "
                                                   "than once")):
        Forecaster(Ridge(), lags=3, static_features=["size", "size"]).fit(y, plan)
    with pytest.raises(TypeError, match="DatetimeIndex or an integer index"):
        Forecaster(Ridge(), lags=3).fit(y.set_axis(y.index.astype(str)))


@pytest.mark.parametrize("freq, season", [("B", 5), ("D", 7), ("W-SUN", 52), ("MS", 12),
                                          ("ME", 12), ("15min", 96)])
def test_a_gap_does_not_hide_the_frequency(freq, season):
    # pd.infer_freq fails at a gap; the most common step it fell back on filled
    # a business-day series' weekends, took daily data for 24-hour steps (season
    # 1) and could not fill monthly data at all
    n = 60
    idx = pd.date_range("2023-01-02", periods=n, freq=freq)
    y = pd.Series(np.arange(float(n)) + np.sin(np.arange(n)), index=idx)
    gappy = y.drop(idx[[30, 41]])
    f = Forecaster(Ridge(), lags=4, horizon=3, fill="ffill").fit(gappy)
    assert f.step_ == pd.tseries.frequencies.to_offset(freq) and f.season_ == season
    assert f.n_filled_ == {None: 2}
    expected = pd.date_range(idx[-1], periods=4, freq=freq)[1:]
    np.testing.assert_array_equal(f.predict().index, expected)
    panel = Forecaster(Ridge(), lags=4, horizon=3, fill="ffill").fit({"a": gappy, "b": y})
    assert panel.step_ == f.step_
    with pytest.raises(ValueError, match=rf"not regular at frequency {f.step_.freqstr}: "):
        Forecaster(Ridge(), lags=4, horizon=3).fit(gappy)


def test_score_and_pickle_with_many_series():
    import pickle
    ys = {"a": _wave(120), "b": 3 * _wave(120) - 2}
    f = Forecaster(LinearRegression(), lags=2, horizon=3).fit(
        {k: v.iloc[:100] for k, v in ys.items()})
    later = {k: v.iloc[100:103] for k, v in ys.items()}
    assert f.score(later) == pytest.approx(0.0, abs=1e-8)  # the wave is exact
    with pytest.raises(ValueError, match="right after the training series"):
        f.score({k: v.iloc[101:104] for k, v in ys.items()})
    g = pickle.loads(pickle.dumps(f))
    np.testing.assert_array_equal(g.predict().to_numpy(), f.predict().to_numpy())


# -- review regressions ---------------------------------------------------------------

def test_history_shorter_than_lags_in_any_series_is_an_error():
    # a later series shorter than lags used to wrap its window around (negative rows)
    # and forecast silently from the wrong dates
    y = {"a": _wave(60), "b": _wave(60, seed=1) + 3}
    f = Forecaster(Ridge(), lags=10, horizon=3).fit(y)
    with pytest.raises(ValueError, match="history of series 'b' has 5 steps, fewer than "
                                         "lags=10"):
        f.predict(history={"a": y["a"], "b": y["b"].iloc[:5]})


def test_failed_refit_leaves_an_unfitted_forecaster():
    from sklearn.exceptions import NotFittedError

    f = Forecaster(Ridge(), lags=10, horizon=3).fit(_wave(60))
    daily = pd.Series(np.arange(8.0), pd.date_range("2025-01-01", periods=8, freq="D"),
                      name="load")
    with pytest.raises(ValueError, match="too short"):
        f.fit(daily)
    # not the old model's tails dated with the new daily step
    with pytest.raises(NotFittedError):
        f.predict()
    assert not [k for k in vars(f) if k.endswith("_")]
    f.fit(_wave(60))  # and it fits again
    assert f.predict().index[0] == _hours(61)[-1]


def test_tuple_dict_keys_stay_one_series_level():
    y = {("north", 1): _wave(60), ("south", 2): _wave(60, seed=1) + 3}
    f = Forecaster(Ridge(), lags=6, horizon=2).fit(y)
    pred = f.predict()
    assert pred.index.nlevels == 2 and pred.index.names == ["series", "time"]
    assert list(pred.index.get_level_values(0).unique()) == [("north", 1), ("south", 2)]
    assert isinstance(pred.index.get_level_values(1), pd.DatetimeIndex)
    ahead = {k: _wave(62, seed=s).iloc[60:] + 3 * s for s, k in enumerate(y)}
    assert np.isfinite(f.score(ahead))


def test_empty_long_y_is_an_error():
    empty = pd.Series([], dtype=float, index=pd.MultiIndex.from_arrays(
        [pd.Index([], dtype=object), pd.DatetimeIndex([])], names=["id", "time"]))
    with pytest.raises(ValueError, match="y is empty"):
        Forecaster(Ridge(), lags=3).fit(empty)


def test_freq_of_the_wrong_kind_for_the_index_is_an_error():
    ints = pd.Series(np.sin(np.arange(40.0)), index=np.arange(0, 80, 2), name="y")
    with pytest.raises(ValueError, match="freq='h' is a pandas frequency, but y has an "
                                         "integer index"):
        Forecaster(Ridge(), lags=3, freq="h").fit(ints)  # used to be ignored
    with pytest.raises(ValueError, match="freq=2 is an integer step, but y has a "
                                         "DatetimeIndex"):
        Forecaster(Ridge(), lags=3, freq=2).fit(_wave(40))
    with pytest.raises(ValueError, match="not regular at step 3"):
        Forecaster(Ridge(), lags=3, freq=3).fit(ints)


def test_dict_X_of_series_at_predict_and_history_X_alone():
    rng = np.random.default_rng(0)
    idx = _hours(63)
    plan = pd.Series(rng.standard_normal(63), idx, name="plan")
    y = {"a": _wave(60), "b": _wave(60, seed=1)}
    X = {k: plan.iloc[:60] for k in y}
    f = Forecaster(Ridge(), lags=4, horizon=3, future_exog=["plan"]).fit(y, X)
    as_series = f.predict(X={k: plan.iloc[60:] for k in y})  # Series, as fit accepts
    as_frames = f.predict(X={k: plan.iloc[60:].to_frame() for k in y})
    pd.testing.assert_series_equal(as_series, as_frames)
    with pytest.raises(ValueError, match="history_X was given without history"):
        f.predict(X={k: plan.iloc[60:] for k in y}, history_X=X)


def test_a_text_index_is_named_as_the_problem_not_its_order():
    y = pd.Series(np.arange(20.0), index=[str(i) for i in range(20)], name="y")
    with pytest.raises(TypeError, match="needs a DatetimeIndex or an integer index, got "
                                        "Index"):
        Forecaster(Ridge(), lags=3).fit(y)  # used to say "'10' comes after '9'"


def test_unnamed_y_with_a_covariate_column_named_0():
    """pandas names an unnamed Series' column 0; X's first column is often 0 too."""
    t = np.arange(40, dtype=float)
    y = pd.Series(np.sin(t / 3))
    X = pd.DataFrame({0: np.cos(t / 3)})
    f = Forecaster(Ridge(), lags=4, horizon=2, future_exog=[0]).fit(y.iloc[:38], X.iloc[:38])
    named = Forecaster(Ridge(), lags=4, horizon=2, future_exog=["c"]).fit(
        y.iloc[:38], X.iloc[:38].set_axis(["c"], axis=1))
    np.testing.assert_array_equal(f.predict(X=X.iloc[38:]).to_numpy(),
                                  named.predict(X=X.iloc[38:].set_axis(["c"], axis=1)))


def test_inputs_that_failed_deep_inside_are_refused_by_name():
    y = _wave(60)
    X = pd.DataFrame([[1.0, 2.0]] * 60, index=y.index, columns=["temp", "temp"])
    for kw in ({}, {"future_exog": ["temp"]}, {"fill": "ffill"}):  # an AttributeError
        with pytest.raises(ValueError, match="X has more than one column named 'temp': "
                                             "give each covariate one column"):
            Forecaster(Ridge(), lags=3, **kw).fit(y, X)
    # a panel whose series are indexed differently: pandas' comparison errors, late
    for other, kind in ((y.tz_localize("UTC"), "dates in time zone UTC"),
                        (y.to_period("h"), "periods of h"),
                        (y.reset_index(drop=True), "integers")):
        with pytest.raises(ValueError, match=re.escape(
                f"series 'b' is indexed by {kind}, the first series by dates without a "
                "time zone: index every series alike")):
            Forecaster(Ridge(), lags=3).fit({"a": y, "b": other})
    f = Forecaster(Ridge(), lags=3).fit(y.iloc[:50])
    with pytest.raises(ValueError, match="the new values are dates in time zone UTC, the "
                                         "fitted ones dates without a time zone"):
        f.update(y.iloc[50:].tz_localize("UTC"))  # a bare pandas TypeError


def test_covariates_given_to_a_forecaster_fitted_without_any_are_refused():
    # they were silently unread (the user most likely forgot them at fit)
    y = _wave(60)
    X = pd.DataFrame({"plan": np.arange(60.0)}, index=y.index)
    f = Forecaster(Ridge(), lags=3, horizon=2).fit(y.iloc[:50])
    with pytest.raises(ValueError, match="X was given, but the forecaster was fitted "
                                         "without covariates"):
        f.predict(X=X.iloc[50:52])
    with pytest.raises(ValueError, match="fitted without covariates"):
        f.score(y.iloc[50:52], X.iloc[50:52])  # a scorer's X, given for nothing
    # fitted with past-only covariates, X on the forecast steps goes as unread: it
    # changed nothing, silently (the user most likely forgot future_exog)
    g = Forecaster(Ridge(), lags=3, horizon=2, interval="conformal").fit(y.iloc[:50],
                                                                         X.iloc[:50])
    with pytest.raises(ValueError, match=r"X was given, but the forecaster reads no "
                                         r"covariate on the forecast steps: its covariates "
                                         r"\['plan'\] are past-only"):
        g.predict(X=X.iloc[50:52])
    with pytest.raises(ValueError, match="reads no covariate on the forecast steps"):
        g.predict_interval(X=X.iloc[50:52])
    # a backtest and a scorer hold every covariate of the test steps: they read
    # the past-only ones up to each origin and hand none on
    bt = backtest(g, y, X, initial=50, step=2)
    first = bt.forecasts[bt.forecasts["origin"] == y.index[49]]["forecast"].to_numpy()
    np.testing.assert_array_equal(first, g.predict().to_numpy())
    assert g.score(y.iloc[50:52], X.iloc[50:52]) == g.score(y.iloc[50:52])


def test_dates_in_another_time_zone_are_refused_naming_both_zones():
    # the same instants in another zone: update ended in a bare IndexError, a
    # history was read with its calendar features in the other zone (forecasts off by
    # up to 2.7 on a +-10 wave, silently), and a panel's labels mixed two zones
    berlin = _wave(80).tz_localize("Europe/Berlin")
    f = Forecaster(Ridge(), lags=4, calendar=["hour"]).fit(berlin.iloc[:60])
    with pytest.raises(ValueError, match=re.escape(
            "the new values are dates in time zone UTC, the fitted ones dates in time zone "
            "Europe/Berlin: give them alike (tz_convert, tz_localize)")):
        f.update(berlin.iloc[60:].tz_convert("UTC"))
    for history, kind in ((berlin.tz_convert("UTC"), "dates in time zone UTC"),
                          (berlin.tz_localize(None), "dates without a time zone")):
        with pytest.raises(ValueError, match=re.escape(
                f"history is indexed by {kind}, the training data by dates in time zone "
                "Europe/Berlin")):
            f.predict(history=history)
    pd.testing.assert_series_equal(f.predict(history=berlin),
                                   f.update(berlin.iloc[60:]).predict())
    with pytest.raises(ValueError, match=re.escape(
            "series 'b' is indexed by dates in time zone UTC, the first series by dates in "
            "time zone Europe/Berlin")):
        Forecaster(Ridge(), lags=4).fit({"a": berlin, "b": berlin.tz_convert("UTC")})

    from tsbptt import LocalModels
    with pytest.raises(ValueError, match="series 'b' is indexed by dates in time zone UTC"):
        LocalModels(Forecaster(Ridge(), lags=4)).fit({"a": berlin,
                                                      "b": berlin.tz_convert("UTC")})


def test_messages_name_the_argument_that_holds_the_bad_value():
    y = _wave(60)
    f = Forecaster(Ridge(), lags=3).fit(y.iloc[:50])
    with pytest.raises(ValueError, match="y_new is not sorted by time"):
        f.update(y.iloc[50:].iloc[::-1])
    with pytest.raises(TypeError, match="y_new must be a pandas Series"):
        f.update(y.iloc[50:].to_numpy())
    with pytest.raises(TypeError, match="history must be a pandas Series"):
        f.predict(history=y.to_numpy())
    with pytest.raises(ValueError, match="column 'load' of history has a missing"):
        f.predict(history=y.where(y.index != y.index[30]))
    flag = pd.DataFrame({"holiday": y.index.day_of_week == 6}, index=y.index)
    with pytest.raises(ValueError, match=r"column 'holiday' of X is boolean \(dtype bool\); "
                                         r"pass it as numbers: \.astype\(float\)"):
        Forecaster(Ridge(), lags=3).fit(y, flag)
    g = Forecaster(Ridge(), lags=3).fit(y, flag.astype(float))
    holed = flag.astype(float)
    holed.iloc[9, 0] = np.nan
    with pytest.raises(ValueError, match="column 'holiday' of history_X has a missing"):
        g.predict(history=y, history_X=holed)
    g = Forecaster(Ridge(), lags=3).fit(y.iloc[:50], flag.astype(float).iloc[:50])
    with pytest.raises(ValueError, match="column 'holiday' of X_new has a missing"):
        new_X = flag.astype(float).iloc[50:]
        new_X.iloc[2, 0] = np.nan
        g.update(y.iloc[50:], new_X)


def test_an_irregular_index_is_told_apart_from_a_gap():
    # every irregular index was called "a gap" with fill= as the cure: filling then
    # invented the weekends of business days with holidays, or semi-month values
    days = pd.bdate_range("2024-01-01", periods=40)
    holidays = pd.Series(np.arange(38.0), index=days.delete([5, 20]))
    semi = pd.Series(np.arange(30.0), index=pd.DatetimeIndex(  # no freq: as read from a file
        pd.date_range("2024-01-15", periods=30, freq="SME").to_numpy()))
    with pytest.raises(ValueError, match=r"pandas could not infer the frequency, and "
                                         r"filling would invent values\); pass the "
                                         r"frequency, freq=\.\.\."):
        Forecaster(Ridge(), lags=3).fit(semi)
    # weekdays only: business days, whose missing weekdays may be holidays
    with pytest.raises(ValueError, match=r"not regular at frequency B: .* \(a gap, or a "
                                         r"holiday\); if the series skips holidays"):
        Forecaster(Ridge(), lags=3).fit(holidays)
    assert len(Forecaster(Ridge(), lags=3, freq="SME").fit(semi).predict()) == 1
    daily = _wave(60).resample("D").mean()
    with pytest.raises(ValueError, match=r"'2024-01-03 00:00:00'\) was expected \(the labels "
                                         r"are closer together than freq='2D'\); pass a "
                                         r"finer freq"):
        Forecaster(Ridge(), lags=1, freq="2D").fit(daily)
    gappy = _wave(100).drop(_wave(100).index[50])
    with pytest.raises(ValueError, match=r"\(a gap\); pass fill='interpolate'"):
        Forecaster(Ridge(), lags=3).fit(gappy)



def _infers_dateutil_zones():
    """Whether pandas reads labels in a dateutil zone: pandas 2.2 and 2.3 raise an
    AttributeError inside pd.infer_freq on them (and misplace such labels in
    date_range), 3.1 does not."""
    from tsbptt.forecasting._panel import quiet_infer_freq
    try:
        quiet_infer_freq(pd.date_range("2024-01-01", periods=3, freq="h",
                                       tz="dateutil/Europe/Berlin"))
    except AttributeError:
        return False
    return True


@pytest.mark.skipif(not _infers_dateutil_zones(),
                    reason="this pandas does not read labels in a dateutil zone")
def test_one_zone_made_by_two_libraries_is_one_zone():
    # labels are converted to the fitted series' zone object: they compare equal but
    # do not join, update's check of them ended in an IndexError, and a panel's
    # forecasts mixed the two
    berlin = _wave(80).tz_localize("Europe/Berlin")
    f = Forecaster(Ridge(), lags=4, calendar=["hour"]).fit(berlin.iloc[:60])
    dateutil_berlin = berlin.tz_convert("dateutil/Europe/Berlin")
    pd.testing.assert_series_equal(f.predict(history=dateutil_berlin),
                                   f.predict(history=berlin), check_index_type=False)
    both = {"a": berlin.iloc[:60], "b": dateutil_berlin.iloc[:60]}
    g = Forecaster(Ridge(), lags=4).fit(both)
    g.update({"a": berlin.iloc[60:], "b": dateutil_berlin.iloc[60:]})
    labels = g.predict().index.get_level_values(1)
    assert isinstance(labels, pd.DatetimeIndex) and str(labels.tz) == "Europe/Berlin"
    h = Forecaster(Ridge(), lags=4).fit(berlin.iloc[:60])
    pd.testing.assert_series_equal(h.update(dateutil_berlin.iloc[60:]).predict(),
                                   h.predict(history=berlin))


def test_monthly_data_on_one_day_of_the_month_is_read_as_monthly():
    # pandas has no alias for "monthly on the 15th": the Forecaster guessed 744 h and
    # called March 15th an irregular label, advising "a finer freq"
    idx = pd.DatetimeIndex(  # no freq: as read from a file
        pd.date_range("2020-01-15", periods=48, freq=pd.DateOffset(months=1)).to_numpy())
    y = pd.Series(np.arange(48.0), index=idx)
    f = Forecaster(Ridge(), lags=12, horizon=3).fit(y)
    assert f.step_ == pd.DateOffset(months=1) and f.season_ == 12
    assert [str(d.date()) for d in f.predict().index] == ["2024-01-15", "2024-02-15",
                                                          "2024-03-15"]
    # a missing month is still a gap, named where it is (a short series' gap was put
    # on the first label off a 744-hour grid), and fill= fills it
    short = y.iloc[:10].drop(idx[4])
    with pytest.raises(ValueError, match=r"Timestamp\('2020-06-15 00:00:00'\) where "
                                         r"Timestamp\('2020-05-15 00:00:00'\) was expected "
                                         r"\(a gap\)"):
        Forecaster(Ridge(), lags=2, horizon=1).fit(short)
    assert Forecaster(Ridge(), lags=2, horizon=1, fill="ffill").fit(short).n_filled_ == {
        None: 1}


def test_a_week_without_some_days_is_told_its_weekmask_not_to_fill():
    # a Sunday-to-Thursday working week was called a gap, with advice to fill it,
    # which would invent Fridays and Saturdays
    days = pd.date_range("2024-01-01", periods=120, freq="D")
    days = days[days.day_of_week.isin([6, 0, 1, 2, 3])]
    y = pd.Series(np.sin(np.arange(len(days))), index=days)
    mask = "Mon Tue Wed Thu Sun"
    with pytest.raises(ValueError, match=re.escape(
            f"(the series has no Fri, Sat); if it skips them every week, pass its "
            f"frequency, freq=pd.offsets.CustomBusinessDay(weekmask='{mask}')")):
        Forecaster(Ridge(), lags=10, horizon=3).fit(y)
    f = Forecaster(Ridge(), lags=10, horizon=3,
                   freq=pd.offsets.CustomBusinessDay(weekmask=mask)).fit(y)
    assert f.predict().index.day_name().tolist() == ["Tuesday", "Wednesday", "Thursday"]


def test_a_covariate_named_like_a_made_input_is_refused_at_fit():
    # the user's own 'hour_sin' next to calendar=['hour'] made two inputs named
    # 'hour_sin_lead1': fit passed and predict failed inside scikit-learn
    idx = pd.date_range("2024-01-01", periods=120, freq="h")
    y = pd.Series(np.sin(np.arange(120) / 5), index=idx, name="load")
    X = pd.DataFrame({"hour_sin": np.sin(2 * np.pi * idx.hour / 24)}, index=idx)
    with pytest.raises(ValueError, match=r"two of the model's inputs would be named "
                                         r"'hour_sin_lead1': a covariate's name clashes"):
        Forecaster(Ridge(), lags=24, horizon=3, strategy="recursive",
                   future_exog=["hour_sin"], calendar=["hour"]).fit(y, X)
    # a tsbptt network reads its inputs by position: the names do not clash there
    from tsbptt import GRURegressor
    net = Forecaster(GRURegressor(3, max_iter=2, random_state=0), lags=24, horizon=3,
                     future_exog=["hour_sin"], calendar=["hour"]).fit(y, X)
    assert len(net.predict(X=X.iloc[:3].set_axis(pd.date_range(
        idx[-1] + pd.Timedelta("1h"), periods=3, freq="h")))) == 3


def test_business_days_with_a_holiday_in_every_stretch_stay_business_days():
    # two years of a US holiday calendar put a holiday in every stretch the
    # frequency is read from: the step fell back to a day, and fill= invented 208
    # weekends without a word and forecast on Saturdays (an economist's trial)
    from pandas.tseries.holiday import USFederalHolidayCalendar
    holidays = USFederalHolidayCalendar().holidays("2023-01-01", "2024-12-31")
    idx = pd.bdate_range("2023-01-02", "2024-12-31").difference(holidays)
    y = pd.Series(np.cumsum(np.random.default_rng(0).standard_normal(len(idx))), index=idx)
    f = Forecaster(Ridge(), lags=5, horizon=5, fill="ffill").fit(y)
    assert f.step_ == pd.offsets.BDay() and f.season_ == 5
    inside = holidays[(holidays > idx[0]) & (holidays < idx[-1])]
    assert f.n_filled_ == {None: int((inside.day_of_week < 5).sum())}
    assert (f.predict().index.day_of_week < 5).all()
    with pytest.raises(ValueError, match=re.escape(
            "not regular at frequency B: Timestamp('2023-01-17 00:00:00') where "
            "Timestamp('2023-01-16 00:00:00') was expected (a gap, or a holiday)")):
        Forecaster(Ridge(), lags=5, horizon=5).fit(y)
    # under two weeks of weekdays: too short to tell business days; not called a
    # gap to fill (filling would invent the weekend)
    short = pd.Series(np.arange(9.0), index=pd.bdate_range("2024-01-01",
                                                            periods=10).delete(7))
    with pytest.raises(ValueError, match="or it has no weekend: pandas could not infer "
                                         "the frequency, and filling would invent values"):
        Forecaster(Ridge(), lags=2).fit(short)
    # days with weekends among them stay days
    days = pd.Series(np.arange(60.0), index=pd.date_range("2024-01-01", periods=60,
                                                          freq="D")).drop(
        pd.date_range("2024-01-05", periods=10, freq="5D"))
    assert Forecaster(Ridge(), lags=3, fill="ffill").fit(days).step_ == pd.Timedelta("1D")


def test_business_days_with_holidays_are_told_how_to_give_their_frequency():
    # a holiday calendar's days off, read from data without index.freq, were called
    # "a gap" with advice to fill them: filling invented holiday values and the
    # forecasts fell on a holiday
    from pandas.tseries.holiday import USFederalHolidayCalendar
    from tsbptt import make_windows
    cbd = pd.offsets.CustomBusinessDay(calendar=USFederalHolidayCalendar())
    idx = pd.DatetimeIndex(list(pd.date_range(end="2024-08-30", periods=80, freq=cbd)))
    y = pd.Series(np.arange(80.0), index=idx, name="v")
    with pytest.raises(ValueError, match=re.escape(
            "(a gap, or a holiday); if the series skips holidays, pass its frequency, "
            "freq=pd.offsets.CustomBusinessDay(holidays=[...])")):
        Forecaster(Ridge(), lags=5, horizon=3).fit(y)
    f = Forecaster(Ridge(), lags=5, horizon=3, freq=cbd).fit(y)
    assert [str(d.date()) for d in f.predict().index] == ["2024-09-03", "2024-09-04",
                                                          "2024-09-05"]
    with pytest.raises(ValueError, match=re.escape(
            "data's DatetimeIndex holds weekdays only, but not every one: "
            "Timestamp('2024-05-27 00:00:00') is missing. If the series skips holidays, "
            "give the index its frequency first: data.index.freq = "
            "pd.offsets.CustomBusinessDay(holidays=[...])")):
        make_windows(y, 5, 2)
    y.index.freq = cbd  # as the message says
    assert make_windows(y, 5, 2).X.shape == (74, 5)
    # a series stamped at 09:00 is told its missing day at 09:00; weekdays all there
    # but one stamp off the grid: the general message (the weekday one crashed)
    nine = y.set_axis(y.index + pd.Timedelta("9h"))
    with pytest.raises(ValueError, match=re.escape("Timestamp('2024-05-27 09:00:00') is "
                                                   "missing")):
        make_windows(nine, 5, 2)
    weekdays = pd.bdate_range("2024-05-01", periods=30)
    odd = pd.Series(np.arange(31.0), index=weekdays.append(
        pd.DatetimeIndex(["2024-05-06 12:00"])).sort_values())
    with pytest.raises(ValueError, match="DatetimeIndex is not regular"):
        make_windows(odd, 3, 1)
    # every day of the week: not business days, the advice stays the same as before
    daily = pd.Series(np.arange(30.0), index=pd.date_range("2024-01-01", periods=31,
                                                           freq="D").delete(10))
    with pytest.raises(ValueError, match=r"mix steps\. Resample it first"):
        make_windows(daily, 3, 1)
    with pytest.raises(ValueError, match=re.escape("(a gap); pass fill=")):
        Forecaster(Ridge(), lags=3).fit(daily)


@pytest.mark.parametrize("index, freq, own", [
    (pd.date_range("2020-01-05", periods=30, freq="W-SUN"), "W-MON", "W-SUN"),
    (pd.date_range("2020-01-01", periods=30, freq="MS"), "ME", "MS"),
])
def test_a_freq_on_another_anchor_is_named_as_such(index, freq, own):
    # the message said the labels were closer together than freq: they are not
    y = pd.Series(np.arange(30.0), index=index)
    with pytest.raises(ValueError, match=re.escape(
            f"(the first label is not on the grid of freq={freq!r}: the labels fall on "
            f"another anchor); pass the index's own frequency, freq={own!r}")):
        Forecaster(LinearRegression(), lags=3, horizon=2, freq=freq).fit(y)


def test_an_integer_step_that_the_labels_do_not_keep_is_not_called_a_gap():
    y = pd.Series(np.arange(30.0))
    with pytest.raises(ValueError, match="its labels are not whole steps of 2 apart, "
                                         "which filling cannot mend"):
        Forecaster(LinearRegression(), lags=3, horizon=2, freq=2).fit(y)
    # whole steps missing: a gap, which filling mends
    with pytest.raises(ValueError, match="pass fill='interpolate' or fill='ffill'"):
        Forecaster(LinearRegression(), lags=3, horizon=2, freq=1).fit(y.drop(7))


def test_a_chosen_lags_is_named_as_chosen():
    y = _wave(30)
    with pytest.raises(ValueError, match=re.escape(
            "lags=9 (chosen for lags=None: twice the season, at least 8, at most half of "
            "what the shortest series leaves after a horizon) < horizon=12")):
        Forecaster(LinearRegression(), horizon=12, calendar=["dayofweek"]).fit(y)


def test_a_single_target_regressor_in_the_direct_strategy_is_told_what_to_use():
    from sklearn.ensemble import GradientBoostingRegressor
    from sklearn.multioutput import MultiOutputRegressor
    y = _wave(80)
    with pytest.raises(ValueError, match=r"GradientBoostingRegressor fits a single target, "
                                         r"but strategy='direct' with horizon=3 trains 3 "
                                         r"targets per window.*MultiOutputRegressor"):
        Forecaster(GradientBoostingRegressor(n_estimators=5), lags=4, horizon=3).fit(y)
    # another refusal of the regressor's stays its own (it was reported as this one)
    from sklearn.utils._param_validation import InvalidParameterError
    with pytest.raises(InvalidParameterError, match="'n_estimators' parameter"):
        Forecaster(GradientBoostingRegressor(n_estimators=0), lags=4, horizon=3).fit(y)
    # as the message says: one model per step, or fed back
    for f in (Forecaster(MultiOutputRegressor(GradientBoostingRegressor(n_estimators=5)),
                         lags=4, horizon=3),
              Forecaster(GradientBoostingRegressor(n_estimators=5), lags=4, horizon=3,
                         strategy="recursive")):
        assert len(f.fit(y).predict()) == 3


def test_covariates_in_another_zone_are_read_at_their_instants_or_named():
    # y in Europe/Berlin, its covariates exported in UTC: fit, predict and update
    # read them at their instants, and backtest refused them; covariates without
    # a zone are refused with the reason, in predict too
    n = 24 * 20
    idx = pd.date_range("2024-03-20", periods=n + 24, freq="h", tz="Europe/Berlin")
    rng = np.random.default_rng(3)
    plan = rng.standard_normal(n + 24)
    y = pd.Series(3 * plan[:n] + 1 + 0.01 * rng.standard_normal(n), idx[:n], name="load")
    X = pd.DataFrame({"plan": plan[:n]}, index=idx[:n])
    f = Forecaster(Ridge(), lags=24, horizon=24, future_exog=["plan"])
    local = backtest(f, y, X, initial=n - 72, step=24, horizon=24)
    in_utc = backtest(f, y, X.tz_convert("UTC"), initial=n - 72, step=24, horizon=24)
    pd.testing.assert_frame_equal(in_utc.forecasts, local.forecasts)
    future = pd.DataFrame({"plan": plan[n:]}, index=idx[n:])
    f.fit(y, X)
    with pytest.raises(ValueError, match="does not cover the forecast steps: missing .*; "
                                         "its times are dates without a time zone, y's "
                                         "dates in time zone Europe/Berlin"):
        f.predict(X=future.tz_localize(None))


@pytest.mark.parametrize("fill", ["interpolate", "ffill"])
def test_a_made_up_last_value_is_warned_of(fill):
    # the newest value, the one the forecasts start from, missing: interpolate
    # carried the one before forward, without a word (an economist's trial)
    y = pd.Series(np.arange(60.0), index=pd.period_range("2015-01", periods=60, freq="M"))
    y.iloc[-2:] = np.nan
    why = " (nothing comes after them to interpolate to)" if fill == "interpolate" else ""
    with pytest.warns(UserWarning, match=re.escape(
            f"fill={fill!r} filled the last 2 value(s) of y by carrying the last reading "
            f"forward{why}: the forecasts start from made-up values; drop the missing "
            "rows at the end to forecast from the last reading")):
        f = Forecaster(Ridge(), lags=12, fill=fill).fit(y)
    assert f.tails_[None].y.iloc[-1] == 57.0
    panel = {"a": y, "b": y.fillna(0.0), "c": y}
    with pytest.warns(UserWarning, match=r"of series 'a' \(and 1 more series\)"):
        Forecaster(Ridge(), lags=12, fill=fill).fit(panel)
    # a gap inside the series is filled as before, without this warning
    inner = y.fillna(0.0)
    inner.iloc[30] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Forecaster(Ridge(), lags=12, fill=fill).fit(inner)


def test_windows_under_a_season_are_warned_of_for_one_series():
    # 27 months and a horizon of 18: lags=None chose windows of 4 steps, and a
    # default LSTM scored MASE 7.67 against seasonal naive's 0.49 (an accuracy audit)
    y = pd.Series(np.arange(27.0), index=pd.period_range("2020-01", periods=27, freq="M"))
    message = re.escape("y is too short for windows of a season beside horizon=18: "
                        "lags=None chose windows shorter than the season of 12 (lags_)")
    with pytest.warns(UserWarning, match=message):
        assert Forecaster(Ridge(), horizon=18).fit(y).lags_ == 4
    with warnings.catch_warnings():  # a season fits, lags given, or stateful: none
        warnings.simplefilter("error")
        Forecaster(Ridge(), horizon=1).fit(y)
        Forecaster(Ridge(), horizon=18, lags=4).fit(y)
        Forecaster(ESNRegressor(random_state=0), horizon=18, strategy="stateful").fit(y)
    # two short series among long ones: named (neither warning named them)
    long_ = pd.Series(np.arange(150.0), index=pd.period_range("2000-01", periods=150,
                                                              freq="M"))
    panel = {**{k: long_ for k in "abcde"}, "s1": y.iloc[-20:], "s2": y.iloc[-20:]}
    with pytest.warns(UserWarning, match=re.escape(
            "series ['s1', 's2'] (2 of 7) are too short for windows of a season beside "
            "horizon=6")):
        Forecaster(Ridge(), horizon=6).fit(panel)
