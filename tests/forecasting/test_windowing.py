"""make_windows: alignment (property-based), names, views, and bad input."""
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tsbptt.forecasting.windowing import make_windows


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
