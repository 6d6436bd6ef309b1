"""What the regressors return beyond a point forecast: quantiles (ordered, coverage, the
median as the point forecast, saved and loaded), per-step sequences continued from their
returned states, and the R^2 that early stopping reports."""

import numpy as np
import pytest

from tsbptt import GRURegressor, LSTMRegressor

# The networks stop at max_iter on purpose: the warning is tested in test_estimators.py.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

def test_quantile_loss_predicts_ordered_quantiles_with_the_right_coverage(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((600, 6))
    y = X[:, -1] + 0.5 * rng.standard_normal(600)
    m = LSTMRegressor(8, loss="quantile", quantiles=(0.1, 0.5, 0.9), max_iter=40,
                      learning_rate=1e-2, random_state=0).fit(X[:400], y[:400])
    q = m.predict_quantiles(X[400:])
    assert q.shape == (200, 3) and np.all(np.diff(q, axis=1) >= 0)
    np.testing.assert_array_equal(m.predict(X[400:]), q[:, 1])   # the median
    below, above = np.mean(y[400:] < q[:, 0]), np.mean(y[400:] > q[:, 2])
    assert 0.03 < below < 0.2 and 0.03 < above < 0.2
    m.save(tmp_path / "q.npz")
    back = LSTMRegressor.load(tmp_path / "q.npz")
    assert back.quantiles == (0.1, 0.5, 0.9)
    np.testing.assert_array_equal(back.predict_quantiles(X[400:]), q)
    for bad in [(0.5, 0.1), (0.1, float("nan"), 0.9), (float("nan"),)]:  # NaN: no fit
        with pytest.raises(ValueError, match="quantiles must be increasing levels"):
            LSTMRegressor(loss="quantile", quantiles=bad, max_iter=1).fit(X, y)
    with pytest.raises(ValueError, match="predict_quantiles needs loss='quantile'"):
        LSTMRegressor(4, max_iter=1).fit(X, y).predict_quantiles(X)


def test_predict_sequence_continues_from_returned_states():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((3, 40, 2))
    Y = np.cumsum(X[:, :, 0], axis=1) * 0.1
    m = GRURegressor(6, max_iter=3, random_state=0, per_step=True).fit(X, Y)
    whole, states = m.predict_sequence(X)
    first, mid = m.predict_sequence(X[:, :15])
    rest, end = m.predict_sequence(X[:, 15:], mid)
    np.testing.assert_array_equal(np.concatenate([first, rest], axis=1), whole)
    for a, b in zip(end[0], states[0]):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(whole, m.predict(X), rtol=1e-6)
    with pytest.raises(ValueError, match="fitted with per-step targets"):
        GRURegressor(4, max_iter=1).fit(X, Y[:, -1]).predict_sequence(X)


@pytest.mark.parametrize("cls", [GRURegressor, LSTMRegressor])
def test_predict_sequence_keeps_no_training_caches_and_the_same_bits(cls, monkeypatch):
    # it ran the training forward, whose caches took 178.5 MB on a (1, 200000, 1)
    # LSTM of H = 32 (benchmarks/bench_inference.py's memory row): 27.7 MB now
    rng = np.random.default_rng(2)
    X = rng.standard_normal((4, 30, 2))
    m = cls(5, num_layers=2, max_iter=2, random_state=0, per_step=True).fit(X, X[:, :, 0])
    X3, lengths = m._prepared(X[:, :12])
    out, expected_states, _ = m.network_.forward(X3, lengths)
    first, states = m.predict_sequence(X[:, :12])
    np.testing.assert_array_equal(first, m._unscale(m._point(out.astype(np.float64)))[..., 0])
    for a, b in zip(states, expected_states):
        for u, v in zip(a, b):
            np.testing.assert_array_equal(u, v)

    def training_forward(*args, **kwargs):
        raise AssertionError("predict_sequence ran the training forward")

    monkeypatch.setattr(type(m.network_), "forward", training_forward)
    rest, _ = m.predict_sequence(X[:, 12:], states)
    whole, _ = m.predict_sequence(X)
    np.testing.assert_array_equal(np.concatenate([first, rest], axis=1), whole)
    from tsbptt import RecurrentState  # the stream's state is taken as well
    again, _ = m.predict_sequence(X[:, 12:], RecurrentState.from_states(states))
    np.testing.assert_array_equal(again, rest)


def test_quantile_point_forecast_is_the_median_predict_quantiles_gives():
    # a barely trained network's quantiles cross; predict() used to return the raw
    # 0.5 output while predict_quantiles() sorts them, so the Forecaster's predict()
    # and predict_interval()["forecast"] disagreed
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 6))
    y = X[:, -1] + rng.normal(size=200)
    for Y in (y, np.c_[y, -y]):
        m = GRURegressor(4, max_iter=1, loss="quantile", quantiles=(0.05, 0.5, 0.95),
                         random_state=0).fit(X, Y)
        q = m.predict_quantiles(X)
        np.testing.assert_allclose(m.predict(X), q[..., 1], rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("shape,weighted", [((40,), False), ((40, 3), True),
                                            ((7, 1), True), ((25, 4), False)])
def test_validation_r2_is_sklearns_r2_score(shape, weighted):
    # the R^2 early stopping reports each epoch, without r2_score's input checks:
    # weights, several outputs (averaged), a constant output predicted exactly
    # (1) or not (0), and one sample (undefined: nan)
    from sklearn.metrics import r2_score

    from tsbptt.estimators._regressors import r2
    rng = np.random.default_rng(sum(shape))
    y = rng.normal(size=shape)
    pred = y + rng.normal(0, 0.5, shape)
    w = rng.uniform(0.1, 2, shape[0]) if weighted else None
    if y.ndim == 2 and y.shape[1] > 2:
        y[:, 1] = 3.0
        pred[:, 1] = 3.0   # constant and exact: 1
        y[:, 2] = -1.0     # constant, not exact: 0
    want = r2_score(y, pred, sample_weight=w)
    assert r2(y, pred, w) == pytest.approx(want, rel=1e-12, abs=1e-15)
    assert np.isnan(r2(y[:1], pred[:1]))
