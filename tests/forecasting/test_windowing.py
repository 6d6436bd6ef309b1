"""make_windows: alignment (property-based), names, views, and bad input."""
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sklearn.linear_model import Ridge

from tsbptt import Forecaster
from tsbptt.forecasting.windowing import infer_season, make_windows


@settings(max_examples=150, deadline=None)
@given(n=st.integers(2, 60), lags=st.integers(1, 8), horizon=st.integers(1, 5),
       stride=st.integers(1, 4), gap=st.integers(0, 3), n_exog=st.integers(0, 2),
       n_future=st.integers(0, 2), as_3d=st.booleans())
def test_every_window_is_aligned(n, lags, horizon, stride, gap, n_exog, n_future, as_3d):
    if n < lags + gap + horizon:
        with pytest.raises(ValueError, match="too short"):
            make_windows(pd.Series(np.arange(n, dtype=float)), lags, horizon, stride, gap)
        return
    idx = pd.date_range("2024-01-01", periods=n, freq="h")
    # value encodes (column, row), so any misalignment shows
    frame = pd.DataFrame({f"c{j}": 1000.0 * j + np.arange(n) for j in
                          range(1 + n_exog + n_future)}, index=idx)
    exog = [f"c{j}" for j in range(1, 1 + n_exog)]
    future = [f"c{j}" for j in range(1 + n_exog, 1 + n_exog + n_future)]
    w = make_windows(frame, lags, horizon, stride, gap, target="c0", exog=exog or None,
                     future_exog=future or None, as_3d=as_3d)
    X = w.X if as_3d else w.X.to_numpy().reshape(len(w.y), lags, 1 + n_exog)
    origins = np.asarray(w.origins.map(idx.get_loc))
    assert origins[-1] == n - 1 - gap - horizon            # the latest window is kept
    assert np.all(np.diff(origins) == stride) and origins[0] - stride < lags - 1
    for k, o in enumerate(origins):
        for f, col in enumerate(["c0"] + exog):
            np.testing.assert_array_equal(X[k, :, f], frame[col].iloc[o - lags + 1:o + 1])
        np.testing.assert_array_equal(w.y.iloc[k], frame["c0"].iloc[o + gap + 1:
                                                                    o + gap + 1 + horizon])
        if future:
            F = w.X_future if as_3d else w.X_future.to_numpy().reshape(
                len(w.y), horizon, n_future)
            for f, col in enumerate(future):
                np.testing.assert_array_equal(
                    F[k, :, f], frame[col].iloc[o + gap + 1:o + gap + 1 + horizon])
    assert list(w.y.index) == list(w.origins)


def test_names_layout_and_views():
    idx = pd.date_range("2024-01-01", periods=30, freq="D")
    df = pd.DataFrame({"load": np.arange(30.0), "temp": np.arange(30.0) + 100}, index=idx)
    w = make_windows(df, lags=3, horizon=2, target="load", exog=["temp"])
    assert list(w.X.columns) == ["load_lag3", "temp_lag3", "load_lag2", "temp_lag2",
                                 "load_lag1", "temp_lag1"]
    assert list(w.y.columns) == ["load_step1", "load_step2"]
    assert w.origins[0] == idx[2] and w.origins[-1] == idx[27]
    big = pd.Series(np.random.default_rng(0).standard_normal(200_000))
    w3 = make_windows(big, lags=48, as_3d=True)
    assert w3.X.shape == (200_000 - 48, 48, 1)
    assert not w3.X.flags.writeable and w3.X.base is not None  # a view, no copy per window
    np.testing.assert_array_equal(w3.X[5, :, 0], big.to_numpy()[5:53])


def test_bad_input():
    s = pd.Series([1.0, 2.0, 3.0, 4.0, 5.0], index=pd.date_range("2024", periods=5))
    with pytest.raises(ValueError, match="too short for lags=4, gap=0 and horizon=2"):
        make_windows(s, 4, horizon=2)
    with pytest.raises(ValueError, match="not sorted by its index"):
        make_windows(s.iloc[[0, 2, 1, 3, 4]], 2)
    with pytest.raises(ValueError, match="duplicated index labels"):
        make_windows(pd.Series([1.0, 2, 3], index=[0, 0, 1]), 1)
    with pytest.raises(ValueError, match="missing or infinite value at"):
        make_windows(s.where(s != 3), 2)
    with pytest.raises(ValueError, match="is not numeric"):
        make_windows(pd.DataFrame({"y": s, "txt": list("abcde")}), 2, target="y",
                     exog=["txt"])
    with pytest.raises(ValueError, match="say which is the target"):
        make_windows(pd.DataFrame({"a": s, "b": s}), 2)
    with pytest.raises(ValueError, match="exog names columns that data does not have"):
        make_windows(s.to_frame("y"), 2, exog=["nope"])
    with pytest.raises(ValueError, match="must have the same index as data"):
        make_windows(s, 2, exog=pd.Series(np.ones(5), name="x"))
    frame = pd.DataFrame({"y": s, "a": s * 2})
    for kw, named in [(dict(future_exog=["y"]), r"\['y'\]"),  # the target: a leak
                      (dict(exog=["a"], future_exog=["a"]), r"\['a'\]"),
                      (dict(future_exog=["a", "a"]), r"\['a', 'a'\]")]:
        with pytest.raises(ValueError, match="future_exog repeats the target, an exog "
                                             f"column or itself: {named}"):
            make_windows(frame, 2, target="y", **kw)
    for name, bad in [("lags", 0), ("horizon", 1.5), ("stride", 0), ("gap", -1)]:
        kw = dict(lags=2, horizon=1, stride=1, gap=0)
        kw[name] = bad
        with pytest.raises(ValueError, match=f"{name} must be an integer"):
            make_windows(s, **kw)
    with pytest.raises(TypeError, match="must be a pandas Series or DataFrame"):
        make_windows(np.arange(5.0), 2)


def test_a_regular_index_the_forecaster_reads_is_windowed():
    # daily values stamped at midnight UTC, shown in Berlin: every step is 24 h, but the
    # wall-clock hour moves at DST, so pandas infers no frequency (this raised IndexError)
    utc = pd.date_range("2024-03-20", periods=20, freq="D", tz="UTC")
    y = pd.Series(np.arange(20.0), index=utc.tz_convert("Europe/Berlin"), name="v")
    w = make_windows(y, lags=3, horizon=2)
    np.testing.assert_array_equal(w.X.to_numpy(), np.arange(3)[None, :] + np.arange(16)[:, None])
    np.testing.assert_array_equal(w.y.to_numpy(), np.arange(3, 5)[None, :]
                                  + np.arange(16)[:, None])
    assert w.origins.equals(y.index[2:18])
    from tsbptt.forecasting._panel import quiet_infer_freq
    if y.index.freq is None and quiet_infer_freq(y.index) is None:  # pandas 2 keeps 'D'
        # (a day of wall time, which these labels are not): the Forecaster then refuses
        assert Forecaster(Ridge(), lags=3).fit(y).step_ == pd.Timedelta("24h")  # it agrees


def test_a_gap_in_a_period_index_is_refused():
    idx = pd.period_range("2020-01", periods=10, freq="M")
    y = pd.Series(np.arange(10.0), index=idx, name="v")
    with pytest.raises(ValueError, match=re.escape(
            "data's PeriodIndex is not regular: Period('2020-06', 'M') follows "
            "Period('2020-04', 'M'), where Period('2020-05', 'M') was expected at step M; "
            "a window across a gap would mix steps. Reindex it to every period first")):
        make_windows(y.drop(idx[4]), lags=3)
    with pytest.raises(ValueError, match=re.escape(
            "Period('2020Q3', 'Q-DEC') follows Period('2020Q1', 'Q-DEC')")):
        make_windows(pd.Series([1.0, 2.0], index=pd.PeriodIndex(["2020Q1", "2020Q3"],
                                                                 freq="Q")), lags=1)
    w = make_windows(y, lags=3)  # a regular PeriodIndex as before
    np.testing.assert_array_equal(w.y.to_numpy()[:, 0], np.arange(3.0, 10.0))
    assert w.origins.equals(idx[2:9])


@pytest.mark.parametrize("index, missing, step", [
    # months of 28 to 31 days, read as a Timedelta, left their grid at February
    (pd.date_range("2020-01-01", periods=10, freq="MS"), 4, "MS"),
    (pd.DatetimeIndex(list(pd.date_range("2020-01-31", periods=10, freq="ME"))), 6, "ME"),
    # local midnights: the 23-hour day of the DST change is no gap
    (pd.date_range("2024-03-20", periods=20, freq="D", tz="Europe/Berlin"), 14, "D"),
])
def test_a_calendar_gap_is_named_where_it_is(index, missing, step):
    y = pd.Series(np.arange(len(index) - 1.0), index=index.delete(missing))
    with pytest.raises(ValueError, match=re.escape(
            f"data's DatetimeIndex is not regular: {index[missing + 1]!r} follows "
            f"{index[missing - 1]!r}, where {index[missing]!r} was expected at step {step};")):
        make_windows(y, lags=3)


@pytest.mark.parametrize("offset, alias", [
    (pd.DateOffset(months=1), "MS"), (pd.DateOffset(days=1), "D"),
    (pd.DateOffset(), "D"), (pd.DateOffset(hours=1), "h"), (pd.DateOffset(hours=6), "6h"),
    (pd.DateOffset(minutes=30), "30min"), (pd.DateOffset(weeks=1), "W"),
    (pd.DateOffset(years=1), "YS"), (pd.DateOffset(months=2), "2MS"),
    (pd.DateOffset(n=2, months=1), "2MS"), (pd.DateOffset(days=2), "2D")])
def test_a_date_offset_step_has_the_season_of_its_alias(offset, alias):
    assert infer_season(offset) == infer_season(alias)


def test_monthly_data_on_the_15th_has_a_yearly_season():
    seasons = {pd.DateOffset(months=1): 12, pd.DateOffset(days=1): 7,
               pd.DateOffset(hours=1): 24, pd.DateOffset(minutes=30): 48,
               pd.DateOffset(weeks=1): 52, pd.DateOffset(months=1, day=15): 1}
    assert {o: infer_season(o) for o in seasons} == seasons
    t = np.arange(60)
    y = pd.Series(10 + np.sin(2 * np.pi * t / 12), index=pd.DatetimeIndex(
        [f"{2019 + i // 12}-{i % 12 + 1:02d}-15" for i in t]))
    f = Forecaster(Ridge(), horizon=3, freq=pd.DateOffset(months=1)).fit(y)
    assert (f.season_, f.lags_) == (12, 24)  # as for the same data on the 1st ('MS')


def test_a_step_of_seven_days_is_weekly_whichever_way_it_is_spelled():
    # '7D' (an index carrying its freq) had season 1, the same labels without freq
    # (inferred 'W-WED') 52: another season, other default lags, another model
    assert {s: infer_season(s) for s in ("7D", "168h", "W-WED", "14D")} == \
        {"7D": 52, "168h": 52, "W-WED": 52, "14D": 1}
    idx = pd.date_range("2020-01-01", periods=120, freq="7D")
    y = pd.Series(np.sin(np.arange(120) / 3), index=idx)
    from sklearn.linear_model import Ridge

    from tsbptt import Forecaster
    with_freq = Forecaster(Ridge()).fit(y)
    without = Forecaster(Ridge()).fit(y.set_axis(pd.DatetimeIndex(list(idx))))
    assert (with_freq.season_, with_freq.lags_) == (without.season_, without.lags_)
