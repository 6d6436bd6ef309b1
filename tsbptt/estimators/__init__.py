"""The scikit-learn layer: recurrent regressors and classifiers over the engine.

Estimators validate and convert their inputs (NumPy arrays, 3D sequences, ragged
lists), then call the engine; they never see pandas.
"""
from ._base import (GRUClassifier, GRURegressor, LSTMClassifier, LSTMRegressor,
                    RNNClassifier, RNNRegressor)
from ._esn import ESNRegressor
from ._layout import LagLayout
from ._online import RTRLRegressor
from ._streaming import RecurrentState

__all__ = ["ESNRegressor", "GRUClassifier", "GRURegressor", "LagLayout", "LSTMClassifier",
           "LSTMRegressor", "RNNClassifier", "RNNRegressor", "RTRLRegressor", "RecurrentState"]
