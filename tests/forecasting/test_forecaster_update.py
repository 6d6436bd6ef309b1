"""Forecaster.update: new observations move the forecast origin without a refit."""
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Ridge

from tsbptt import Forecaster, GRURegressor, LSTMRegressor
from tsbptt.forecasting._panel import Entry


def _series(n=160, freq="h", seed=0):
    rng = np.random.RandomState(seed)
    t = np.arange(n)
    values = 10 + 3 * np.sin(2 * np.pi * t / 24) + 0.05 * t + rng.randn(n) * 0.3
    return pd.Series(values, index=pd.date_range("2024-01-01", periods=n, freq=freq),
                     name="load")


def _fit(forecaster, y, X=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return forecaster.fit(y, X)


def _model(strategy):
    est = LSTMRegressor(6, max_iter=3, random_state=0, dtype="float64")
    return Forecaster(est, lags=12, horizon=3, strategy=strategy)


@pytest.mark.parametrize("strategy", ["direct", "recursive", "stateful"])
def test_update_equals_predicting_from_the_longer_history(strategy):
    y = _series()
    f = _fit(_model(strategy), y.iloc[:120])
    # the network: inside the window model for direct and recursive, bare for stateful
    net = f.estimator_ if strategy == "stateful" else f.estimator_.estimator_
    params = {k: v.copy() for k, v in net.params_.items()}
    expected = f.predict(history=y.iloc[:140])
    assert f.update(y.iloc[120:140]) is f
    got = f.predict()
    pd.testing.assert_series_equal(got, expected, check_exact=True)
    assert got.index[0] == y.index[140]
    for k, v in net.params_.items():  # the model itself is unchanged
        np.testing.assert_array_equal(v, params[k])
    # one reading at a time lands on the same forecast, bitwise
    g = _fit(_model(strategy), y.iloc[:120])
    for t in range(120, 140):
        g.update(y.iloc[t:t + 1])
    pd.testing.assert_series_equal(g.predict(), expected, check_exact=True)
    assert len(g.tails_[None].y) == 12  # only what forecasting reads is kept


@pytest.mark.parametrize("strategy", ["direct", "recursive"])
def test_update_with_values_past_1e154_scales_the_forecast(strategy):
    # the window's spread overflowed (its squares): forecasts were -inf (direct) or
    # the ridge failed on NaN inputs (recursive). Windows are scaled, so a window
    # multiplied by 1e200 forecasts 1e100 times what the same window times 1e100
    # does (whose squares do not overflow; both scales lie far past the training
    # range, to whose top the linear part's scale input is clipped).
    y = _series()
    f = _fit(_model(strategy), y.iloc[:120])
    tail = y.iloc[120:132]
    shape = (tail - tail.iloc[-1]).to_numpy()
    got = {}
    for k, big in enumerate((1e100, 1e200)):
        f.update(pd.Series(shape * big, index=tail.index + 12 * k * tail.index.freq))
        got[big] = f.predict().to_numpy()
    assert np.isfinite(got[1e200]).all()
    np.testing.assert_allclose(got[1e200], got[1e100] * 1e100, rtol=1e-12)


def test_stateful_update_carries_the_state_bitwise():
    y = _series()
    f = _fit(_model("stateful"), y.iloc[:120])
    f.update(y.iloc[120:131]).update(y.iloc[131:150])
    # what predict(history=...) computes: the whole series read again, in one piece
    whole = f._scaled(Entry(None, y.iloc[:150]))
    expected = f._states_before(f.estimator_, [(whole, 149)])
    for a, b in zip(f.states_, expected):
        for u, v in zip(a, b):
            np.testing.assert_array_equal(u, v)


@pytest.mark.parametrize("strategy", ["direct", "stateful"])
def test_update_with_future_covariates_and_calendar(strategy):
    y = _series()
    X = pd.DataFrame({"temp": np.cos(np.arange(len(y)) / 7.0)}, index=y.index)
    est = GRURegressor(5, max_iter=2, random_state=0, dtype="float64")
    f = _fit(Forecaster(est, lags=12, horizon=2, strategy=strategy, future_exog=["temp"],
                        calendar=["hour"]), y.iloc[:120], X.iloc[:120])
    future = X.iloc[135:137]
    expected = f.predict(X=future, history=y.iloc[:135], history_X=X.iloc[:135])
    f.update(y.iloc[120:135], X.iloc[120:135])
    pd.testing.assert_series_equal(f.predict(X=future), expected, check_exact=True)
    with pytest.raises(ValueError, match=r"X_new has columns \[\] for y_new, the model was "
                                         r"fitted with \['temp'\]"):
        f.update(y.iloc[135:136])


def test_update_some_of_many_series():
    a, b = _series(seed=1), _series(seed=2) * 2
    f = _fit(Forecaster(Ridge(), lags=6, horizon=2), {"a": a.iloc[:100], "b": b.iloc[:100]})
    before = f.predict()
    f.update({"b": b.iloc[100:110]})
    after = f.predict()
    pd.testing.assert_series_equal(after.loc["a"], before.loc["a"], check_exact=True,
                                   check_freq=False)
    expected = f.predict(history={"a": a.iloc[:100], "b": b.iloc[:110]})
    pd.testing.assert_series_equal(after, expected, check_exact=True)
    assert after.loc["b"].index[0] == b.index[110]
    with pytest.raises(ValueError, match=r"series 'c' was not seen in fit"):
        f.update({"c": b.iloc[110:111]})
    with pytest.raises(ValueError, match=r"y_new must be laid out like the training data "
                                         r"\(dict\), got single"):
        f.update(b.iloc[110:111])


def test_integer_index():
    y = pd.Series(_series().to_numpy(), index=np.arange(0, 320, 2))
    f = _fit(Forecaster(Ridge(), lags=5, horizon=2), y.iloc[:100])
    expected = f.predict(history=y.iloc[:103])
    pd.testing.assert_series_equal(f.update(y.iloc[100:103]).predict(), expected,
                                   check_exact=True)
    with pytest.raises(ValueError, match=r"continue it at step 2: 208 where 206 was "
                                         r"expected \(a gap\)"):
        f.update(y.iloc[104:105])


@pytest.mark.parametrize("where", [0, -1])
def test_stateful_update_refuses_a_value_the_network_cannot_read(where):
    # 1e39 is finite in float64 but not in a float32 network once scaled: accepted,
    # it made every later predict fail until a refit (the last new value is read
    # first by the next forecast; an earlier one by the update itself)
    y = _series()
    f = _fit(Forecaster(LSTMRegressor(6, max_iter=3, random_state=0, dtype="float32"),
                        lags=12, horizon=3, strategy="stateful"), y.iloc[:120])
    before = f.predict()
    states = [tuple(a.copy() for a in layer) for layer in f.states_]
    bad = y.iloc[120:123].copy()
    bad.iloc[where] = 1e39
    with pytest.raises(ValueError, match=r"the model cannot read the new values of y_new "
                                         r"\(Timestamp\('2024-01-06 00:00:00'\) to "
                                         r"Timestamp\('2024-01-06 02:00:00'\)\): .*float32"
                                         r".* Nothing was updated"):
        f.update(bad)
    pd.testing.assert_series_equal(f.predict(), before, check_exact=True)
    for a, b in zip(f.states_, states):
        for u, v in zip(a, b):
            np.testing.assert_array_equal(u, v)
    # the forecaster goes on from where it stood
    expected = f.predict(history=y.iloc[:123])
    pd.testing.assert_series_equal(f.update(y.iloc[120:123]).predict(), expected,
                                   check_exact=True)
    # the same value is read by a float64 network
    g = _fit(_model("stateful"), y.iloc[:120]).update(bad)
    assert np.isfinite(g.predict()).all()
    # many series: the last new values are tried together, the refusal names its own
    p = _fit(Forecaster(LSTMRegressor(6, max_iter=3, random_state=0, dtype="float32"),
                        lags=12, horizon=3, strategy="stateful"),
             {"a": y.iloc[:120], "b": y.iloc[:120] * 2})
    kept = p.predict()
    with pytest.raises(ValueError, match=r"cannot read the new values of series 'b' of "
                                         r"y_new"):
        p.update({"a": y.iloc[120:123], "b": bad * 10})
    pd.testing.assert_series_equal(p.predict(), kept, check_exact=True)


@pytest.fixture
def fitted():
    return _fit(Forecaster(Ridge(), lags=6, horizon=2), _series().iloc[:100])


@pytest.mark.parametrize("make, err, msg", [
    (lambda y: y.iloc[101:103], ValueError,
     r"must continue it at step <Hour>: Timestamp\('2024-01-05 05:00:00'\) where "
     r"Timestamp\('2024-01-05 04:00:00'\) was expected \(a gap\)"),
    (lambda y: y.iloc[99:103], ValueError,
     r"overlap the known ones: they start at Timestamp\('2024-01-05 03:00:00'\), the "
     r"known ones end at Timestamp\('2024-01-05 03:00:00'\); pass only the values after "
     r"it \(from Timestamp\('2024-01-05 04:00:00'\)\)"),
    (lambda y: y.iloc[[100, 102, 104]], ValueError,
     r"Timestamp\('2024-01-05 06:00:00'\) where Timestamp\('2024-01-05 05:00:00'\) was "
     r"expected \(a gap\)"),
    # a label off the grid is no gap (it was called one): no fill mends it
    (lambda y: pd.Series([1.0, 2.0], index=[y.index[100], y.index[100]
                                            + pd.Timedelta("30min")], name=y.name),
     ValueError,
     r"Timestamp\('2024-01-05 04:30:00'\) where Timestamp\('2024-01-05 05:00:00'\) was "
     r"expected \(a label the fitted step <Hour> does not have\)"),
    (lambda y: y.iloc[100:103].where(y.index[100:103] != y.index[101]), ValueError,
     r"column 'load' of the new values has a missing or infinite value at "
     r"Timestamp\('2024-01-05 05:00:00'\)"),
    (lambda y: y.iloc[100:102].replace(y.iloc[101], np.inf), ValueError,
     "missing or infinite value"),
    (lambda y: y.iloc[100:100], ValueError, "y_new is empty: give at least one new value"),
    (lambda y: y.iloc[[102, 101]], ValueError, "is not sorted by time"),
    (lambda y: y.iloc[100:102].to_numpy(), TypeError,
     "y_new must be a pandas Series .* got ndarray"),
    (lambda y: pd.Series([1.0], index=[100]), TypeError,
     "the new values have a Index, the fitted ones a DatetimeIndex"),
    (lambda y: y.iloc[100:102].astype(str), ValueError,
     "column 'load' of the new values is not numeric"),
])
def test_bad_updates(fitted, make, err, msg):
    y = _series()
    before = fitted.predict()
    with pytest.raises(err, match=msg):
        fitted.update(make(y))
    pd.testing.assert_series_equal(fitted.predict(), before, check_exact=True)


def test_update_needs_a_fit_and_matching_covariates(fitted):
    from sklearn.exceptions import NotFittedError
    with pytest.raises(NotFittedError, match="not fitted yet"):
        Forecaster(Ridge()).update(_series().iloc[:2])
    y = _series()
    with pytest.raises(ValueError, match=r"X_new has columns \['a'\] for y_new, the model "
                                         r"was fitted with \[\]"):
        fitted.update(y.iloc[100:102], pd.DataFrame({"a": [1.0, 2.0]},
                                                    index=y.index[100:102]))


def test_misaligned_covariates_are_named_by_their_argument():
    # the messages said X and y (fit's words) for history_X and X_new
    y = _series(80)
    X = pd.DataFrame({"z": np.arange(80.0)}, index=y.index)
    f = Forecaster(Ridge(), lags=4, horizon=3, future_exog=["z"]).fit(y.iloc[:50],
                                                                        X.iloc[:50])
    with pytest.raises(ValueError, match="history_X must be a DataFrame on exactly "
                                         "history's index"):
        f.predict(X=X.iloc[50:53], history=y.iloc[30:50], history_X=X.iloc[31:51])
    with pytest.raises(ValueError, match="X_new must be a DataFrame on exactly y_new's "
                                         "index"):
        f.update(y.iloc[50:53], X.iloc[51:54])
    g = Forecaster(Ridge(), lags=4, horizon=3).fit({"a": y.iloc[:50]})
    with pytest.raises(TypeError, match=r"y_new\['a'\] must be a pandas Series"):
        g.update({"a": y.iloc[50:53].to_numpy()})

def test_stateful_many_series_update_one():
    a, b = _series(seed=1), _series(seed=2) * 2
    f = _fit(_model("stateful"), {"a": a.iloc[:120], "b": b.iloc[:120]})
    kept = [tuple(x.copy() for x in layer) for layer in f.states_]
    f.update({"a": a.iloc[120:127]})
    expected = f.predict(history={"a": a.iloc[:127], "b": b.iloc[:120]})
    pd.testing.assert_series_equal(f.predict(), expected, check_exact=True)
    for layer, old in zip(f.states_, kept):  # series b's state (row 1) did not move
        for x, y in zip(layer, old):
            np.testing.assert_array_equal(x[1], y[1])
            assert not np.array_equal(x[0], y[0])


def test_long_layout_update():
    a, b = _series(seed=1), _series(seed=2) * 2
    long = pd.concat({"a": a, "b": b}, names=["sensor", "time"])
    t = long.index.get_level_values("time")
    f = _fit(Forecaster(Ridge(), lags=6, horizon=2), long[t < a.index[100]])
    new = long[(t >= a.index[100]) & (t < a.index[104])]
    expected = f.predict(history=long[t < a.index[104]])
    pd.testing.assert_series_equal(f.update(new).predict(), expected, check_exact=True)
    assert f.predict().loc["a"].index[0] == a.index[104]


def test_a_nullable_integer_index_updates_and_backtests_as_an_int64_one():
    # Int64 labels (convert_dtypes, read_csv's numpy_nullable backend) were fitted,
    # then update said "58 where 58 was expected" and backtest "no row at None"
    from tsbptt import backtest
    values = np.sin(np.arange(60) / 3)
    nullable = pd.Series(values, index=pd.Index(pd.array(np.arange(60), dtype="Int64"),
                                                name="k"))
    plain = pd.Series(values, index=pd.Index(np.arange(60), name="k"))
    f = Forecaster(Ridge(), lags=4, horizon=3)
    moved = f.fit(nullable.iloc[:-2]).update(nullable.iloc[-2:]).predict()
    pd.testing.assert_series_equal(
        moved, f.fit(plain.iloc[:-2]).update(plain.iloc[-2:]).predict())
    assert moved.index.dtype == np.int64
    for y in (nullable, pd.concat({"a": nullable, "b": 2 * nullable}, names=["id", "k"])):
        twin = plain if y is nullable else pd.concat({"a": plain, "b": 2 * plain},
                                                     names=["id", "k"])
        got = backtest(f, y, initial=50, step=3).metrics
        assert got == backtest(f, twin, initial=50, step=3).metrics


def test_new_periods_of_another_frequency_are_refused_by_name():
    # pandas' IncompatibleFrequency ("Input has different freq=Q-DEC ...") named nothing
    y = pd.Series(np.arange(40.0), index=pd.period_range("2000Q1", periods=40, freq="Q"))
    f = Forecaster(Ridge(), lags=4, horizon=3).fit(y.iloc[:-1])
    with pytest.raises(ValueError, match="the new values are periods of Q-MAR, the fitted "
                                         "ones of Q-DEC"):
        f.update(pd.Series([0.5], index=pd.PeriodIndex(["2009Q4"], freq="Q-MAR")))


def test_a_fill_that_makes_up_most_of_the_series_warns():
    full = pd.date_range("2020-01-01", periods=1000, freq="h")
    y = pd.Series(np.sin(np.arange(143) / 3), index=full[::7])
    with pytest.warns(UserWarning, match=r"fill='ffill' made up 852 of the 995 steps of y "
                                         r"\(n_filled_\): most of it is invented; is "
                                         r"freq='h' right\?"):
        f = Forecaster(Ridge(), lags=4, freq="h", fill="ffill").fit(y)
    # thirty hourly readings, twenty days apart: hourly, with a long gap
    sparse = pd.Series(np.arange(60.0), index=full[:30].append(full[500:530]))
    with pytest.warns(UserWarning, match=r"most of it is invented; is the step read from "
                                         r"it right \(h; pass freq= if not\)\?"):
        Forecaster(Ridge(), lags=4, fill="ffill").fit(sparse)
    assert f.n_filled_ == {None: 852}
    # a PeriodIndex's step as freq= takes it, 'M', not its offset's 'ME'
    quarterly = pd.Series(np.arange(67.0), pd.period_range("2000-01", periods=199,
                                                           freq="M")[::3])
    with pytest.warns(UserWarning, match=r"made up 132 of the 199 steps of y .* read "
                                         r"from it right \(M; pass freq= if not\)\?"):
        Forecaster(Ridge(), lags=4, fill="ffill").fit(quarterly)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Forecaster(Ridge(), lags=4, fill="ffill").fit(y.drop(y.index[[5, 9]]))


def test_a_predict_during_an_update_reads_the_position_before_it_or_after_it():
    # a stateful predict read the old tails and, after another thread's update had
    # swapped them, the new states: forecasts at the old dates of neither position
    import copy

    from tsbptt import ESNRegressor
    idx = pd.date_range("2024-01-01", periods=320, freq="5min")
    y = pd.Series(np.sin(np.arange(320) / 20), index=idx)
    f = Forecaster(ESNRegressor(n_reservoir=30, random_state=0), lags=12, horizon=3,
                   strategy="stateful").fit(y.iloc[:300])
    before = copy.deepcopy(f).predict()
    after = copy.deepcopy(f).update(y.iloc[300:301]).predict()
    scaled_all, moved = f._scaled_all, []

    def update_meanwhile(*args, **kwargs):  # as another thread's update, mid-predict
        if not moved:
            moved.append(f.update(y.iloc[300:301]))
        return scaled_all(*args, **kwargs)

    f._scaled_all = update_meanwhile
    pd.testing.assert_series_equal(f.predict(), before)  # the position it started from
    del f._scaled_all
    pd.testing.assert_series_equal(f.predict(), after)
    assert f._moves == 2


def test_a_reading_that_is_no_number_is_named_with_its_series_in_a_long_panel():
    # "column 'y' of y_new is not numeric (dtype object)" named no sensor
    idx = pd.date_range("2024-01-01", periods=50, freq="5min")
    panel = pd.concat({f"s{k}": pd.Series(np.sin(np.arange(50) / 5 + k), index=idx)
                       for k in range(3)}, names=["sensor", "time"])
    f = Forecaster(Ridge(), lags=4).fit(panel)
    new = pd.concat({f"s{k}": pd.Series([0.1], index=idx[-1:] + pd.Timedelta("5min"),
                                        dtype=object) for k in range(3)},
                    names=["sensor", "time"])
    new.iloc[1] = "n/a"
    with pytest.raises(ValueError, match=r"of y_new is not numeric \(dtype object\): "
                                         r"'n/a' at \('s1', Timestamp\('2024-01-01 04:10"):
        f.update(new)
