"""Every warning tsbptt gives names the line of the user's code that led to it
(``warnings.warn``'s stacklevel), not a line inside tsbptt or scikit-learn: a
warning that points at ``_base.py:447`` says nothing of which call to fix."""
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import Ridge

from tsbptt import (ESNClassifier, ESNRegressor, Forecaster, GRUClassifier, LSTMRegressor,
                    RNNRegressor, backtest, save_model)

rng = np.random.default_rng(0)
X = rng.standard_normal((40, 6))
y = X[:, -2:].sum(1)
X_tiny = rng.standard_normal((40, 6, 2))
X_tiny[..., 1] = 1e-13 * rng.standard_normal((40, 6))  # a column of rounding noise
frames = [pd.DataFrame(rng.random((5, 2)), columns=["a", "b"]) for _ in range(10)]
days = pd.date_range("2020-01-01", periods=120, freq="D")
noise = pd.Series(rng.standard_normal(120), days)
flat = pd.Series(np.ones(120), days)  # the seasonal naive forecast is exact: no MASE


def _seeded_by_a_random_state():
    return LSTMRegressor(4, max_iter=1, random_state=np.random.RandomState(0))


CASES = {
    "not converged": (lambda tmp: RNNRegressor(4, max_iter=2, random_state=0).fit(X, y),
                      "max_iter"),
    "diverged": (lambda tmp: RNNRegressor(16, max_iter=5, random_state=0, optimizer="sgd",
                                          learning_rate=1e6).fit(X, y * 1e3),
                 "Training stopped"),
    "rounding-noise column": (lambda tmp: LSTMRegressor(4, max_iter=1).fit(X_tiny, y),
                              "vary by at most"),
    "rounding-noise column, classifier": (
        lambda tmp: GRUClassifier(4, max_iter=1, early_stopping=True).fit(X_tiny, y > 0),
        "vary by at most"),
    "rounding-noise column, partial_fit": (
        lambda tmp: LSTMRegressor(4).partial_fit(X_tiny, y), "vary by at most"),
    "feature names dropped": (
        lambda tmp: LSTMRegressor(4, max_iter=1).fit(frames, np.arange(10.0)).predict(
            [f.to_numpy() for f in frames]), "does not have valid feature names"),
    "est.save of a RandomState": (
        lambda tmp: _seeded_by_a_random_state().fit(X, y).save(tmp / "a.npz"),
        "saved as None"),
    "save_model of a RandomState": (
        lambda tmp: save_model(_seeded_by_a_random_state().fit(X, y), tmp / "b.npz"),
        "saved as None"),
    "Forecaster.save of a RandomState": (
        lambda tmp: Forecaster(_seeded_by_a_random_state(), lags=4).fit(noise).save(
            tmp / "c.npz"), "saved as None"),
    "a Forecaster's network not converged": (
        lambda tmp: Forecaster(LSTMRegressor(4, max_iter=1, random_state=0), lags=4,
                               training="as_given").fit(noise), "did not converge"),
    "backtest MASE undefined": (
        lambda tmp: backtest(Forecaster(Ridge(), lags=4, horizon=2), flat, initial=100,
                             season=1), "MASE is undefined"),
    "panel backtest MASE undefined": (
        lambda tmp: backtest(Forecaster(Ridge(), lags=4, horizon=2),
                             {"a": flat, "b": noise}, initial=100, season=1),
        "MASE is undefined"),
    "a short series sets the lags": (
        lambda tmp: Forecaster(Ridge(), horizon=2).fit({"a": noise, "b": noise.iloc[-14:]}),
        "lags=None chose"),
    "labels as a column": (
        lambda tmp: GRUClassifier(4, max_iter=1).fit(X, (y > 0)[:, None]),
        "A column-vector y was passed"),
    "labels as a column, ESN": (
        lambda tmp: ESNClassifier(20, random_state=0).fit(X, (y > 0)[:, None]),
        "A column-vector y was passed"),
    "a reservoir without a cycle": (
        lambda tmp: ESNRegressor(n_reservoir=2, sparsity=0.9, random_state=0).fit(X, y),
        "no cycle"),
}


@pytest.mark.parametrize("case", CASES)
def test_a_warning_names_the_users_line(case, tmp_path):
    call, text = CASES[case]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call(tmp_path)
    ours = [w for w in caught if text in str(w.message)]
    assert ours, [str(w.message) for w in caught]
    for w in caught:  # every warning of the call, not only the one looked for
        assert w.filename == __file__, (w.filename, w.lineno, str(w.message)[:80])
