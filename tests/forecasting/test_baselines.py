"""The seasonal naive baseline: exact values, inside the Forecaster, sklearn checks."""
import numpy as np
import pandas as pd
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from tsbptt import Forecaster
from tsbptt.forecasting.baselines import SeasonalNaive


def test_repeats_the_value_one_season_back():
    X = np.arange(2 * 8, dtype=float).reshape(2, 8)  # 8 lags, oldest first
    y = np.zeros((2, 5))
    pred = SeasonalNaive(season=3).fit(X, y).predict(X)
    # step h repeats lag 3 * ceil(h / 3) - h + 1: lags 3, 2, 1, 3, 2
    np.testing.assert_array_equal(pred[0], [5, 6, 7, 5, 6])
    assert SeasonalNaive().fit(X, y[:, 0]).predict(X).tolist() == [7, 15]
    # with two channels per step the target is the first of each step
    X2 = np.arange(8, dtype=float).reshape(1, 8)  # 4 steps x (target, covariate)
    assert SeasonalNaive(2, n_channels=2).fit(X2, [[0.0, 0.0]]).predict(X2).tolist() \
        == [[4.0, 6.0]]
    with pytest.raises(ValueError, match="fewer than season=12"):
        SeasonalNaive(12).fit(X, y)
    with pytest.raises(ValueError, match="not a multiple of n_channels=3"):
        SeasonalNaive(1, n_channels=3).fit(X, y)


def test_in_a_forecaster_it_continues_the_season():
    idx = pd.date_range("2024-01-01", periods=24 * 10, freq="h")
    rng = np.random.default_rng(0)
    day = rng.standard_normal(24)
    y = pd.Series(np.tile(day, 10) + np.repeat(np.arange(10.0), 24), index=idx)
    pred = Forecaster(SeasonalNaive(24), lags=24, horizon=30).fit(y).predict()
    np.testing.assert_allclose(pred.to_numpy(), np.r_[y.iloc[-24:], y.iloc[-24:-18]],
                               rtol=0, atol=1e-12)


@parametrize_with_checks([SeasonalNaive()])
def test_sklearn_compatible(estimator, check):
    check(estimator)
