"""ESNRegressor inside the Forecaster, like any regressor."""
import numpy as np
import pandas as pd

from tsbptt import ESNRegressor, Forecaster


def _series(n=400):
    t = np.arange(n)
    return pd.Series(10 + 3 * np.sin(2 * np.pi * t / 24) + np.sin(2 * np.pi * t / 7),
                     index=pd.date_range("2024-01-01", periods=n, freq="h"))


def test_forecaster_with_esn_continues_a_periodic_series():
    y = _series()
    f = Forecaster(ESNRegressor(n_reservoir=100, random_state=0), lags=48, horizon=6)
    pred = f.fit(y.iloc[:-6]).predict()
    assert list(pred.index) == list(y.index[-6:])
    np.testing.assert_allclose(pred.to_numpy(), y.iloc[-6:].to_numpy(), atol=0.05)
    # a clone of the same settings predicts the same bits
    again = Forecaster(ESNRegressor(n_reservoir=100, random_state=0), lags=48, horizon=6)
    assert np.array_equal(again.fit(y.iloc[:-6]).predict().to_numpy(), pred.to_numpy())


def test_forecaster_sets_the_channels_of_exogenous_windows():
    y = _series()
    X = pd.DataFrame({"x": np.cos(np.arange(len(y)) / 5)}, index=y.index)
    target = y + 2 * X["x"]
    f = Forecaster(ESNRegressor(n_reservoir=60, random_state=0), lags=24, horizon=3,
                   strategy="recursive", future_exog=["x"])
    f.fit(target.iloc[:-3], X=X.iloc[:-3])
    pred = f.predict(X=X.iloc[-3:])
    assert f.estimator_.n_channels_ == len(f.channels_) > 1
    np.testing.assert_allclose(pred.to_numpy(), target.iloc[-3:].to_numpy(), atol=0.25)
