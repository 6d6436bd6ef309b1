"""Forecaster(strategy='stateful', transform='diff'): a sequence model of the changes."""
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.exceptions import ConvergenceWarning

from tsbptt import ESNRegressor, Forecaster, GRURegressor, LSTMRegressor, load_forecaster
from tsbptt.forecasting._panel import Entry
from tsbptt.forecasting._sequence_diff import DifferencedSequenceModel
from tsbptt.persistence import read_model_file


class _Recorder(RegressorMixin, BaseEstimator):
    """A sequence model that keeps what it was fitted on and predicts, at every
    step, its input's channel 0 times ``gain`` (its state: the steps read so far)."""

    def __init__(self, gain=0.5):
        self.gain = gain

    def fit(self, X, y):
        self.X_, self.y_ = np.array(X), np.array(y)
        return self

    def predict_sequence(self, X, initial_states=None):
        done = np.zeros((len(X), 1)) if initial_states is None else initial_states[0][0]
        return self.gain * X[:, :, 0], [(done + X.shape[1],)]


def _trend(n=300, slope=0.5, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n, dtype=float)
    return pd.Series(10 + slope * t + rng.normal(0, 0.2, n),
                     index=pd.date_range("2024-01-01", periods=n, freq="h"), name="load")


def _fit(forecaster, y, X=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return forecaster.fit(y, X)


def test_the_model_reads_and_learns_standardised_changes():
    levels = np.array([[1.0, 3.0, 4.0, 8.0, 9.0], [0.0, -1.0, 1.0, 0.0, 2.0]])
    other = np.arange(10.0).reshape(2, 5)
    X = np.stack([levels[:, :-1], other[:, :-1]], axis=2)  # (2, 4, 2): level, covariate
    y = levels[:, 1:]
    model = DifferencedSequenceModel(_Recorder()).fit(X, y)
    change = np.diff(levels, axis=1)  # the targets' changes: y_{t+1} - y_t
    mean, scale = change.mean(), change.std()
    assert model.change_mean_ == pytest.approx(mean) and model.change_scale_ == pytest.approx(scale)
    np.testing.assert_allclose(model.estimator_.y_, (change - mean) / scale)
    # the input's changes: y_t - y_{t-1}, the first one taken as the mean change
    seen = np.concatenate([np.full((2, 1), mean), change[:, :-1]], axis=1)
    np.testing.assert_allclose(model.estimator_.X_[:, :, 0], (seen - mean) / scale)
    np.testing.assert_array_equal(model.estimator_.X_[:, :, 1], X[:, :, 1])  # untouched

    pred, states = model.predict_sequence(X)
    expected = levels[:, :-1] + mean + scale * 0.5 * (seen - mean) / scale
    np.testing.assert_allclose(pred, expected)
    # the wrapped model's states, then the last level read
    assert len(states) == 2 and states[0][0].tolist() == [[4], [4]]
    np.testing.assert_array_equal(states[1][0], levels[:, 3:4])


def test_a_straight_line_is_not_divided_by_a_zero_spread():
    X = (2.0 * np.arange(6.0))[None, :-1, None]
    model = DifferencedSequenceModel(_Recorder(gain=0.0)).fit(X, 2.0 * np.arange(1.0, 6.0)[None])
    assert model.change_mean_ == 2.0 and model.change_scale_ == 1.0
    pred, _ = model.predict_sequence(X)
    np.testing.assert_array_equal(pred, X[:, :, 0] + 2.0)  # the line, continued


@pytest.mark.parametrize("make", [
    lambda: LSTMRegressor(6, max_iter=5, random_state=0, dtype="float64"),
    lambda: ESNRegressor(n_reservoir=40, random_state=0)])
def test_pieces_with_carried_states_give_one_pass_bitwise(make):
    rng = np.random.default_rng(1)
    X = np.cumsum(rng.normal(size=(2, 40, 1)), axis=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = DifferencedSequenceModel(make()).fit(X[:, :-1], X[:, 1:, 0])
    whole, end = model.predict_sequence(X)
    first, states = model.predict_sequence(X[:, :17])
    rest, end2 = model.predict_sequence(X[:, 17:], states)
    np.testing.assert_array_equal(np.concatenate([first, rest], axis=1), whole)
    for a, b in zip(end, end2):
        for u, v in zip(a, b):
            np.testing.assert_array_equal(u, v)


def test_a_trend_is_carried_past_the_levels_it_was_trained_on():
    y = _trend()
    truth = 10 + 0.5 * np.arange(300, 306)
    errors = {}
    for transform in (None, "diff"):
        f = _fit(Forecaster(LSTMRegressor(8, max_iter=30, random_state=0), lags=24,
                            horizon=6, strategy="stateful", transform=transform), y)
        pred = f.predict()
        errors[transform] = np.abs(pred.to_numpy() - truth).mean()
        # the state kept at fit is the whole series read again
        pd.testing.assert_series_equal(f.predict(history=y), pred, check_exact=True)
    naive = np.abs(y.iloc[-1] - truth).mean()  # 1.75: half a unit a step
    assert errors["diff"] < 0.1 * naive
    assert errors[None] > 2 * naive  # the model of the levels saturates below them


def test_update_carries_the_previous_level_bitwise():
    y = _trend(200)
    f = _fit(Forecaster(GRURegressor(5, max_iter=3, random_state=0, dtype="float64"),
                        lags=12, horizon=3, strategy="stateful", transform="diff"),
             y.iloc[:150])
    expected = f.predict(history=y.iloc[:170])
    f.update(y.iloc[150:161]).update(y.iloc[161:170])
    pd.testing.assert_series_equal(f.predict(), expected, check_exact=True)
    whole = f._scaled(Entry(None, y.iloc[:170]))
    again = f._states_before(f.estimator_, [(whole, 169)])
    assert len(f.states_) == 2  # the GRU layer's (h,), then (prev,)
    for a, b in zip(f.states_, again):
        for u, v in zip(a, b):
            np.testing.assert_array_equal(u, v)


def test_conformal_bands_widen_with_the_horizon_on_a_random_walk():
    rng = np.random.default_rng(3)
    y = pd.Series(100 + np.cumsum(rng.normal(0, 1, 600)),
                  index=pd.bdate_range("2020-01-01", periods=600))
    f = _fit(Forecaster(GRURegressor(6, max_iter=5, random_state=0), lags=20, horizon=5,
                        strategy="stateful", transform="diff", interval="conformal",
                        calibration=0.3), y)
    band = f.predict_interval()
    half = (band["upper"] - band["lower"]).to_numpy() / 2
    # the scores are errors of the levels (the changes cumulated), which spread
    # like sqrt(h) on a random walk: the last step's band is clearly the widest
    assert half[-1] > 1.5 * half[0]
    assert (band["lower"] < band["forecast"]).all() and (band["forecast"] < band["upper"]).all()


def test_saved_and_loaded_it_forecasts_the_same_bits(tmp_path):
    y = _trend(200)
    f = _fit(Forecaster(LSTMRegressor(4, max_iter=3, random_state=0), lags=12, horizon=3,
                        strategy="stateful", transform="diff", interval="conformal"), y)
    path = tmp_path / "f.npz"
    f.save(path)
    g = load_forecaster(path)
    assert isinstance(g.estimator_, DifferencedSequenceModel)
    assert g.estimator_.change_mean_ == f.estimator_.change_mean_
    pd.testing.assert_frame_equal(g.predict_interval(), f.predict_interval(), check_exact=True)
    new = _trend(203).iloc[200:]
    pd.testing.assert_series_equal(g.update(new).predict(), f.update(new).predict(),
                                   check_exact=True)
    meta = read_model_file(path, lambda n: True, format="tsbptt-forecaster",
                           format_version=(1, 2, 3))[1]
    assert meta["format_version"] == 3  # readers of formats 1 and 2 refuse it as newer
    with pytest.raises(ValueError, match=r"has model format 3, this .* reads format 1 and 2;"):
        read_model_file(path, lambda n: True, format="tsbptt-forecaster",
                        format_version=(1, 2))


def test_what_a_stateful_model_cannot_difference_is_refused():
    y = _trend(200)
    for kw in ({"transform": "seasonal_diff"}, {"transform": ("log", "seasonal_diff")},
               {"scaling": "window"}):
        with pytest.raises(ValueError, match=r"strategy='stateful' reads whole series.*"
                                             r"takes transform='diff'"):
            Forecaster(LSTMRegressor(2, max_iter=1), lags=4, strategy="stateful",
                       **kw).fit(y)
