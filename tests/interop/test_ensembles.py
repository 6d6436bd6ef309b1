"""VotingRegressor / StackingRegressor of tsbptt networks: what works, and the
clear refusal where scikit-learn's ensembles cannot fit a multi-output target."""
import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import StackingRegressor, VotingRegressor
from sklearn.linear_model import Ridge
from sklearn.multioutput import MultiOutputRegressor

from tsbptt import Forecaster, GRURegressor, LSTMRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _members():
    return [("lstm", LSTMRegressor(hidden_size=3, max_iter=3, random_state=0, n_threads=1)),
            ("gru", GRURegressor(hidden_size=3, max_iter=3, random_state=1, n_threads=1))]


def _series(n=80):
    t = np.arange(n)
    idx = pd.date_range("2024-01-01", periods=n, freq="D")
    y = pd.Series(np.sin(t / 4) + 0.1 * np.random.default_rng(0).normal(size=n), idx,
                  name="y")
    X = pd.DataFrame({"promo": (t % 7 == 0).astype(float)}, index=idx)
    return y, X


@pytest.mark.parametrize("ensemble", [
    lambda: VotingRegressor(_members()),
    lambda: StackingRegressor(_members(), final_estimator=Ridge()),
])
def test_direct_multi_step_is_refused_with_what_to_use(ensemble):
    y, _ = _series()
    name = type(ensemble()).__name__
    with pytest.raises(ValueError, match=rf"{name} fits a single target, but "
                                         r"strategy='direct' with horizon=3 trains 3 "
                                         r"targets per window .* Use strategy='recursive'"):
        Forecaster(ensemble(), lags=8, horizon=3).fit(y)


@pytest.mark.parametrize("ensemble", [
    lambda: VotingRegressor(_members()),
    lambda: StackingRegressor(_members(), final_estimator=Ridge(), cv=2),
])
def test_recursive_ensemble_gives_each_network_the_channels(ensemble):
    """The suggested way works, and every nested network reads the window's two
    channels (target, future-known covariate) as channels, not as extra steps."""
    y, X = _series()
    f = Forecaster(ensemble(), lags=8, horizon=3, strategy="recursive",
                   future_exog=["promo"])
    f.fit(y.iloc[:-3], X.iloc[:-3])
    assert len(f.channels_) == 2
    for member in f.estimator_.estimators_:
        assert member.n_channels_ == 2
        assert member.n_features_in_ == 16  # 8 steps x 2 channels, as 2D windows
    pred = f.predict(3, X=X.iloc[-3:])
    assert pred.index.equals(y.index[-3:]) and np.isfinite(pred).all()


def test_voting_prediction_is_the_members_mean():
    rng = np.random.default_rng(3)
    X, y = rng.normal(size=(40, 6)), rng.normal(size=40)
    vote = VotingRegressor(_members()).fit(X, y)
    alone = [est.fit(X, y).predict(X) for _, est in _members()]
    np.testing.assert_allclose(vote.predict(X), np.mean(alone, axis=0), rtol=1e-12)


def test_multi_output_targets_through_multioutput_regressor():
    """Standalone, scikit-learn's ensembles refuse a 2D y with their own message;
    MultiOutputRegressor around them fits one ensemble per column, each column's
    prediction that of an ensemble fitted on that column alone."""
    rng = np.random.default_rng(4)
    X, Y = rng.normal(size=(30, 6)), rng.normal(size=(30, 2))
    with pytest.raises(ValueError, match="y should be a 1d array"):
        VotingRegressor(_members()).fit(X, Y)
    multi = MultiOutputRegressor(VotingRegressor(_members())).fit(X, Y)
    assert multi.predict(X).shape == (30, 2)
    second = VotingRegressor(_members()).fit(X, Y[:, 1]).predict(X)
    np.testing.assert_array_equal(multi.predict(X)[:, 1], second)
