"""The scikit-learn layer: recurrent regressors and classifiers over the engine.

Estimators validate and convert their inputs (NumPy arrays, 3D sequences, ragged
lists), then call the engine; they never see pandas.
"""
from ._classifiers import GRUClassifier, LSTMClassifier, RNNClassifier
from ._esn import ESNRegressor
from ._esn_classifier import ESNClassifier
from ._layout import LagLayout
from ._online import RTRLRegressor
from ._regressors import GRURegressor, LSTMRegressor, RNNRegressor
from ._state import load_model, save_model
from ._streaming import RecurrentState, RecurrentStream
from ._tags import Capabilities, capabilities

__all__ = ["ESNClassifier", "ESNRegressor", "GRUClassifier", "GRURegressor", "LagLayout",
           "LSTMClassifier", "LSTMRegressor", "RNNClassifier", "RNNRegressor",
           "RTRLRegressor", "RecurrentState", "RecurrentStream", "load_model", "save_model",
           "Capabilities", "capabilities"]
