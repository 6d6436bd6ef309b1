"""tsbptt inside mlforecast: with LagLayout a network reads make_windows' sequences."""
import numpy as np
import pandas as pd
import pytest
from sklearn.pipeline import make_pipeline

from tsbptt import LagLayout, LSTMRegressor, make_windows

pytest.importorskip("mlforecast")
from mlforecast import MLForecast  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

SEEN = []


class Spy(LSTMRegressor):
    """Records the X each fit receives (what the network is trained on)."""

    def fit(self, X, y, **kw):
        SEEN.append(np.array(X, copy=True))
        return super().fit(X, y, **kw)


def day_of_week(ds):
    return ds % 7


def _panel(n=40):
    rng = np.random.default_rng(0)
    frames = [pd.DataFrame({"unique_id": uid, "ds": np.arange(n),
                            "y": rng.normal(size=n).cumsum(), "size": size,
                            "price": rng.normal(size=n)})
              for uid, size in (("a", 1.0), ("b", 2.0))]
    return pd.concat(frames, ignore_index=True)


def _expected(df, L):
    """Per series: make_windows of y; then size, price and the day of week at the
    target step, the same at every step."""
    out = []
    for _, s in df.groupby("unique_id", sort=True):
        s = s.set_index("ds").assign(dow=lambda d: day_of_week(d.index.to_numpy()))
        w = make_windows(s[["y", "price", "dow"]], lags=L, target="y",
                         future_exog=["price", "dow"], as_3d=True)
        size = np.full((len(w.X), L, 1), s["size"].iloc[0])
        future = np.broadcast_to(w.X_future[:, :1, :], (len(w.X), L, 2))
        # mlforecast's columns: size, price (leading), lags, dow (trailing)
        out.append(np.concatenate([w.X, size, future[..., :1], future[..., 1:]], axis=2))
    return np.concatenate(out)


def test_mlforecast_feeds_make_windows_sequences():
    df, L = _panel(), 4
    SEEN.clear()
    pipe = make_pipeline(LagLayout(L, n_static=3, n_leading=2),
                         Spy(hidden_size=3, max_iter=2))
    m = MLForecast(models={"net": pipe}, freq=1, lags=list(range(1, L + 1)),
                   date_features=[day_of_week])
    m.fit(df, static_features=["size"])
    assert m.ts.features_order_ == ["size", "price", "lag1", "lag2", "lag3", "lag4",
                                    "day_of_week"]
    expected = _expected(df, L)
    assert SEEN[-1].shape == expected.shape == (2 * (40 - L), L, 4)
    np.testing.assert_array_equal(SEEN[-1], expected)
    future = pd.DataFrame({"unique_id": ["a", "a", "b", "b"], "ds": [40, 41, 40, 41],
                           "price": [0.1, 0.2, 0.3, 0.4]})
    pred = m.predict(2, X_df=future)
    assert len(pred) == 4 and np.isfinite(pred["net"]).all()
