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
from .estimators import (GRUClassifier, GRURegressor, LSTMClassifier, LSTMRegressor,
                         RecurrentState, RNNClassifier, RNNRegressor)

from .persistence import load_model, save_model
from . import metrics, returns
from . import datasets
from .backtesting import Backtest, RollingOrigin, backtest
from .forecasting import Forecaster
from .auto import AutoForecaster
from .windowing import Windows, calendar_features, infer_season, make_windows

__all__ = ["AutoForecaster", "Backtest", "Forecaster", "GRUClassifier", "GRURegressor",
           "LSTMClassifier", "LSTMRegressor", "RNNClassifier", "RNNRegressor",
           "RecurrentState", "RollingOrigin", "Windows", "backtest", "calendar_features",
           "datasets", "get_config", "infer_season", "load_model", "make_windows", "metrics",
           "returns", "save_model", "show_config"]
