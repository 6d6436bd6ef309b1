"""tsbptt: recurrent networks trained by (truncated) backpropagation through time.

Cython + OpenMP kernels for LSTM, GRU and simple RNN cells under scikit-learn
estimators.
"""
from ._version import __version__ as __version__  # the one version source

try:
    from ._kernels import _openmp_helpers  # noqa: F401  (the smallest compiled module)
except ImportError as exc:  # pragma: no cover - depends on how tsbptt was installed
    raise ImportError(
        f"tsbptt's compiled kernels could not be imported from {__path__[0]!r}. "
        "If that is the source checkout rather than the installed package: build "
        "it in place (`pip install -e .`), or start Python outside the checkout. "
        "For the tests run `pytest`, not `python -m pytest`, which puts the "
        "current folder first on sys.path."
    ) from exc

from ._config import get_config, show_config
from .estimators import (ESNClassifier, ESNRegressor, GRUClassifier, GRURegressor, LagLayout,
                         LSTMClassifier, LSTMRegressor, RecurrentState, RecurrentStream,
                         RNNClassifier, RNNRegressor, RTRLRegressor, load_model, save_model)
from .forecasting import metrics, returns
from . import datasets
from .forecasting.backtesting import Backtest, RollingOrigin, backtest
from .forecasting import Forecaster, load_forecaster
from .forecasting.baselines import SeasonalNaive
from .forecasting.local import LocalModels
from .forecasting.auto import AutoForecaster
from .forecasting.windowing import Windows, calendar_features, infer_season, make_windows

__all__ = [
    "AutoForecaster", "Backtest", "backtest", "calendar_features", "datasets", "ESNClassifier",
    "ESNRegressor",
    "Forecaster", "get_config", "GRUClassifier", "GRURegressor", "infer_season", "LagLayout",
    "load_forecaster", "load_model", "LocalModels",
    "LSTMClassifier", "LSTMRegressor", "make_windows", "metrics", "RecurrentState",
    "RecurrentStream", "returns",
    "RNNClassifier", "RNNRegressor", "RollingOrigin", "RTRLRegressor", "save_model",
    "SeasonalNaive", "show_config", "Windows",
]
