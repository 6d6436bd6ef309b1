"""Capabilities are declared by the estimators, not guessed from parameter names."""
import pytest
from sklearn.linear_model import Ridge

from tsbptt import (GRUClassifier, GRURegressor, LSTMClassifier, LSTMRegressor,
                    RNNClassifier, RNNRegressor)
from tsbptt.estimators import Capabilities, capabilities


@pytest.mark.parametrize("cls", [LSTMRegressor, GRURegressor, RNNRegressor])
def test_regressors_declare_everything(cls):
    assert capabilities(cls()) == Capabilities(
        recurrent=True, channels=True, quantile_loss=True, stateful=True,
        reports_progress=True)


@pytest.mark.parametrize("cls", [LSTMClassifier, GRUClassifier, RNNClassifier])
def test_classifiers_have_no_quantiles_and_no_predict_sequence(cls):
    assert capabilities(cls()) == Capabilities(recurrent=True, channels=True,
                                               reports_progress=True)


def test_other_estimators_declare_nothing():
    assert capabilities(Ridge()) == Capabilities()

    class LooksLikeOne(Ridge):
        """Has the parameter names of a tsbptt regressor but declares nothing."""

        def __init__(self, hidden_size=8, n_channels=1, quantiles=(0.5,)):
            self.hidden_size, self.n_channels, self.quantiles = (hidden_size, n_channels,
                                                                 quantiles)

        def predict_sequence(self, X):
            return X

    assert capabilities(LooksLikeOne()) == Capabilities()
