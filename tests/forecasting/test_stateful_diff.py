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
    np.testing.assert_array_equal(model.estimator_.X_[:, :, 2], X[:, :, 0])  # the level

    pred, states = model.predict_sequence(X)
    expected = levels[:, :-1] + mean + scale * 0.5 * (seen - mean) / scale
    np.testing.assert_allclose(pred, expected)
    # the wrapped model's states, then the last level read
    assert len(states) == 2 and states[0][0].tolist() == [[4], [4]]
    np.testing.assert_array_equal(states[1][0], levels[:, 3:4])


def test_the_scale_of_equal_changes_is_a_millionth_of_the_levels():
    X = (2.0 * np.arange(6.0))[None, :-1, None]
    model = DifferencedSequenceModel(_Recorder(gain=0.5)).fit(X, 2.0 * np.arange(1.0, 6.0)[None])
    assert model.change_mean_ == 2.0 and model.change_scale_ == 8e-6  # the largest level: 8
    pred = model.predict(X)
    # the model's output (here half its input, 0: every change is the mean) scaled down
    np.testing.assert_allclose(pred, X[:, :, 0] + 2.0, rtol=0, atol=1e-12)
    zeros = DifferencedSequenceModel(_Recorder()).fit(np.zeros((1, 5, 1)), np.zeros((1, 5)))
    assert zeros.change_mean_ == 0.0 and zeros.change_scale_ == 1e-6


@pytest.mark.parametrize("make", [
    lambda: GRURegressor(8, max_iter=30, random_state=0),
    lambda: LSTMRegressor(8, max_iter=30, random_state=0)])
def test_a_straight_line_is_continued(make):
    # a scale of 1 for equal changes left the network's own error (~0.03 of the
    # scaled levels) at twice the drift: a line of slope 2 was forecast to fall
    y = pd.Series(3.0 + 2 * np.arange(200.0), index=pd.date_range("2024", periods=200,
                                                                  freq="D"))
    f = _fit(Forecaster(make(), lags=14, horizon=5, strategy="stateful",
                        transform="diff"), y)
    np.testing.assert_allclose(f.predict().to_numpy(), 3.0 + 2 * np.arange(200.0, 205.0),
                               rtol=0, atol=1e-3)


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


def test_an_esn_keeps_its_final_states_and_the_last_level():
    rng = np.random.default_rng(2)
    X = np.cumsum(rng.normal(size=(2, 30, 1)), axis=1)
    model = DifferencedSequenceModel(ESNRegressor(n_reservoir=30, random_state=0)).fit(
        X[:, :-1], X[:, 1:, 0])
    _, states = model.predict_sequence(X[:, :-1])
    assert len(model.final_states_) == len(states) == 2
    for a, b in zip(model.final_states_, states):
        for u, v in zip(a, b):
            np.testing.assert_array_equal(u, v)
    recorded = DifferencedSequenceModel(_Recorder()).fit(X[:, :-1], X[:, 1:, 0])
    assert not hasattr(recorded, "final_states_")  # the wrapped model has none


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
    for kw, said in (({"transform": "seasonal_diff"}, "transform='seasonal_diff' needs"),
                     ({"transform": ("log", "seasonal_diff")},
                      r"transform=\('log', 'seasonal_diff'\) needs"),
                     ({"scaling": "window", "transform": "diff"}, "scaling='window' needs")):
        with pytest.raises(ValueError, match=r"strategy='stateful' reads whole series, "
                                             r"not windows: " + said) as info:
            Forecaster(LSTMRegressor(2, max_iter=1), lags=4, strategy="stateful",
                       **kw).fit(y)
        # only the setting at fault is named
        assert ("scaling" in str(info.value)) == ("scaling" in kw)


def _panel(n=150):
    rng = np.random.default_rng(5)
    idx = pd.date_range("2024-01-01", periods=n + 4, freq="h")
    ys = {k: pd.Series(20 + slope * np.arange(n) + rng.normal(0, 0.3, n), index=idx[:n])
          for k, slope in (("a", 0.2), ("b", -0.1), ("c", 0.0))}
    Xs = {k: pd.DataFrame({"plan": np.cos(np.arange(n + 4) / 5.0) + i}, index=idx)
          for i, k in enumerate(ys)}
    return ys, Xs


def test_a_panel_with_covariates_forecasts_alike_after_update_and_a_file(tmp_path):
    ys, Xs = _panel()
    f = _fit(Forecaster(GRURegressor(5, max_iter=3, random_state=0, dtype="float64"),
                        lags=12, horizon=2, strategy="stateful", transform="diff",
                        future_exog=["plan"], calendar=["hour"], series_id=True),
             {k: y.iloc[:140] for k, y in ys.items()},
             {k: X.iloc[:140] for k, X in Xs.items()})
    assert f.estimator_.estimator_.n_features_in_ == 1 + 1 + 2 + 3 + 1  # the level last
    future = {k: X.iloc[150:152] for k, X in Xs.items()}
    expected = f.predict(X=future, history={k: y for k, y in ys.items()},
                         history_X={k: X.iloc[:150] for k, X in Xs.items()})
    path = tmp_path / "panel.npz"
    f.save(path)
    g = load_forecaster(path)
    for model in (f, g):
        model.update({k: y.iloc[140:150] for k, y in ys.items()},
                     {k: X.iloc[140:150] for k, X in Xs.items()})
        pd.testing.assert_series_equal(model.predict(X=future), expected, check_exact=True)


@pytest.mark.parametrize("edit, said", [
    (lambda m: m["model"].update(change_scale=-1.0), "bad change_mean 0.* or change_scale -1.0"),
    (lambda m: m["model"].update(change_mean="1e3"), "bad change_mean '1e3'"),
    (lambda m: m["model"].update(change_scale=float("nan")), "change_scale 'nan'"),
    (lambda m: m["params"].update(transform=None), r"the model \('differenced'\) is not what "
                                                   r"strategy='stateful' and transform=None fit"),
])
def test_a_file_with_a_bad_model_of_the_changes_is_refused(tmp_path, edit, said):
    from tsbptt.persistence import write_model_file
    f = _fit(Forecaster(LSTMRegressor(3, max_iter=2, random_state=0), lags=8, horizon=2,
                        strategy="stateful", transform="diff"), _trend(80))
    f.save(tmp_path / "f.npz")
    arrays, meta = read_model_file(tmp_path / "f.npz", lambda n: True,
                                   format="tsbptt-forecaster", format_version=(1, 2, 3))
    for k in ("format", "format_version", "tsbptt_version", "checksum"):
        meta.pop(k)
    edit(meta)
    write_model_file(tmp_path / "bad.npz", arrays, meta, format="tsbptt-forecaster",
                     format_version=3)
    with pytest.raises(ValueError, match="bad forecaster file .*" + said):
        load_forecaster(tmp_path / "bad.npz")
