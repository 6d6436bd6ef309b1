"""tsbptt inside skforecast: with LagLayout a network reads make_windows' sequences."""
import numpy as np
import pandas as pd
import pytest
from sklearn.pipeline import make_pipeline

from tsbptt import LagLayout, LSTMRegressor, make_windows

pytest.importorskip("skforecast")
from skforecast.recursive import (ForecasterRecursive,  # noqa: E402
                                  ForecasterRecursiveMultiSeries)

pytestmark = [pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning"),
              pytest.mark.filterwarnings("ignore::UserWarning")]

SEEN = []


class Spy(LSTMRegressor):
    """Records the X each fit receives (what the network is trained on)."""

    def fit(self, X, y, **kw):
        SEEN.append(np.array(X, copy=True))
        return super().fit(X, y, **kw)


def _data(n=50, seed=0):
    rng = np.random.default_rng(seed)
    y = pd.Series(rng.normal(size=n).cumsum(), name="y")
    exog = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n)})
    return y, exog


def _expected(y, exog, lags):
    """make_windows' windows of y, with exog at the target step at every step."""
    w = make_windows(pd.concat([y, exog], axis=1), lags=lags, target="y",
                     future_exog=list(exog.columns), as_3d=True)
    future = np.broadcast_to(w.X_future[:, :1, :], (len(w.X), lags, exog.shape[1]))
    return np.concatenate([w.X, future], axis=2)


def test_forecaster_recursive_feeds_make_windows_sequences():
    y, exog = _data()
    L = 6
    SEEN.clear()
    pipe = make_pipeline(LagLayout(L, n_static=2), Spy(hidden_size=3, max_iter=2))
    f = ForecasterRecursive(pipe, lags=L)
    f.fit(y=y, exog=exog)
    expected = _expected(y, exog, L)
    assert SEEN[-1].shape == expected.shape == (len(y) - L, L, 3)
    np.testing.assert_array_equal(SEEN[-1], expected)
    pred = f.predict(steps=3, exog=_data(53)[1].iloc[50:].set_axis(pd.RangeIndex(50, 53)))
    assert list(pred.index) == [50, 51, 52] and np.isfinite(pred).all()


def test_without_layout_the_network_reads_time_backwards():
    """What the issue saw: without LagLayout the exog columns are two more 'steps'
    and the newest lag is the first step."""
    y, exog = _data()
    SEEN.clear()
    ForecasterRecursive(Spy(hidden_size=3, max_iter=2), lags=6).fit(y=y, exog=exog)
    assert SEEN[-1].shape == (len(y) - 6, 8)  # 2D: read as 8 steps of one channel
    first = _expected(y, exog, 6)[0]
    np.testing.assert_array_equal(SEEN[-1][0, :6], first[::-1, 0])


def test_multiseries_one_hot_levels_are_static_inputs():
    y1, _ = _data(seed=1)
    y2, _ = _data(seed=2)
    series = pd.DataFrame({"s1": y1.to_numpy(), "s2": y2.to_numpy()})
    L = 5
    SEEN.clear()
    pipe = make_pipeline(LagLayout(L, n_static=2), Spy(hidden_size=3, max_iter=2))
    f = ForecasterRecursiveMultiSeries(pipe, lags=L, encoding="onehot")
    f.fit(series=series)
    X3 = SEEN[-1]
    assert X3.shape == (2 * (len(series) - L), L, 3)
    expected = []
    for k, name in enumerate(series):
        w = make_windows(series[name].rename("y"), lags=L, as_3d=True).X
        onehot = np.zeros((len(w), L, 2))
        onehot[:, :, k] = 1
        expected.append(np.concatenate([w, onehot], axis=2))
    np.testing.assert_array_equal(X3, np.concatenate(expected))
    pred = f.predict(steps=2)
    assert len(pred) == 4 and np.isfinite(pred["pred"]).all()
