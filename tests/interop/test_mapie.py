"""tsbptt's conformal intervals against MAPIE's split conformal regression.

The Forecaster's ``interval='conformal'`` holds back the latest origins, fits a
calibration model on the data before them and takes, per step, the
ceil((m + 1) * coverage)-th smallest absolute error. MAPIE's
``SplitConformalRegressor`` given that same (prefit) calibration model and the same
held-back origins must give the same half-width.
"""
import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, RegressorMixin

from tsbptt import Forecaster, GRURegressor

mapie_regression = pytest.importorskip("mapie.regression")

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


class _FromOrigin(RegressorMixin, BaseEstimator):
    """A fitted one-step Forecaster as a regressor of the origin position: row
    ``[o]`` of X forecasts the step after position ``o`` of ``y``."""

    def __init__(self, forecaster=None, y=None):
        self.forecaster = forecaster
        self.y = y

    def fit(self, X, y=None):
        self.fitted_ = True
        return self

    def predict(self, X):
        return np.array([self.forecaster.predict(1, history=self.y.iloc[:int(o) + 1]).iloc[0]
                         for o in np.asarray(X)[:, 0]])


def _calibration_cut(n, lags, calibration):
    """The last position the calibration model sees (Forecaster._calibrate, one series,
    horizon 1): the origin at the (1 - calibration) quantile of all origins."""
    origins = np.arange(lags - 1, n - 1)
    return int(origins[min(len(origins) - 1, int(np.floor((1 - calibration) * len(origins))))])


@pytest.mark.slow
@pytest.mark.parametrize("coverage", [0.8, 0.9])
def test_half_width_equals_mapie_split_conformal(coverage):
    n, lags, cal = 90, 6, 0.3
    t = np.arange(n)
    y = pd.Series(np.sin(t / 5) + 0.2 * np.random.default_rng(0).normal(size=n), name="y")
    params = dict(lags=lags, horizon=1, strategy="direct", scaling="global",
                  linear=False, training="as_given")
    net = GRURegressor(hidden_size=4, max_iter=10, random_state=0, n_threads=1)
    ours = Forecaster(net, interval="conformal", calibration=cal, **params).fit(y)
    band = ours.predict_interval(1, coverage=coverage)
    half = float((band["upper"] - band["lower"]).iloc[0]) / 2

    cut = _calibration_cut(n, lags, cal)
    model = Forecaster(net, **params).fit(y.iloc[:cut + 1])  # the calibration model
    held_back = np.arange(cut, n - 1)[:, None]  # origins; each forecasts the next step
    assert len(held_back) == ours.residuals_.shape[0]
    prefit = _FromOrigin(model, y).fit(held_back)
    mapie = mapie_regression.SplitConformalRegressor(
        prefit, confidence_level=coverage, prefit=True)
    mapie.conformalize(held_back, y.to_numpy()[held_back[:, 0] + 1])
    _, interval = mapie.predict_interval(np.array([[n - 1]]))
    mapie_half = float(interval[0, 1, 0] - interval[0, 0, 0]) / 2
    # tsbptt converts the scores from the calibration model's scaling to the final
    # fit's (their spreads differ here), so the band is in y's units, as MAPIE's is
    assert ours.target_scale_[0] != model.target_scale_[0]
    np.testing.assert_allclose(half, mapie_half, rtol=1e-10)
