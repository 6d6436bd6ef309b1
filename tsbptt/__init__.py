"""tsbptt: recurrent networks trained by (truncated) backpropagation through time.

Cython + OpenMP kernels for LSTM, GRU and simple RNN cells under scikit-learn
estimators.

The public names below are imported when first used (PEP 562): ``import tsbptt``
alone loads the compiled kernels' smallest module and no scikit-learn, SciPy or
pandas, so ``tsbptt --help`` and ``tsbptt --version`` answer at once (they took
1.6 s, most of it importing scikit-learn). ``from tsbptt import LSTMRegressor``
and ``tsbptt.LSTMRegressor`` work as with eager imports.
"""
from typing import TYPE_CHECKING as _TYPE_CHECKING

from .utils._lazy import lazy_attributes as _lazy_attributes
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

#: Each public name and the module that defines it (a module's own name: the module).
_PUBLIC = {
    "get_config": "._config", "show_config": "._config",
    **{name: ".estimators" for name in (
        "ESNClassifier", "ESNRegressor", "GRUClassifier", "GRURegressor", "LagLayout",
        "LSTMClassifier", "LSTMRegressor", "RecurrentState", "RecurrentStream",
        "RNNClassifier", "RNNRegressor", "RTRLRegressor", "load_model", "save_model")},
    "metrics": ".forecasting.metrics", "returns": ".forecasting.returns",
    "datasets": ".datasets",
    "Backtest": ".forecasting.backtesting", "RollingOrigin": ".forecasting.backtesting",
    "backtest": ".forecasting.backtesting",
    "Forecaster": ".forecasting", "load_forecaster": ".forecasting",
    "SeasonalNaive": ".forecasting.baselines", "LocalModels": ".forecasting.local",
    "AutoForecaster": ".forecasting.auto",
    "SmallSpreadWarning": ".utils._validation",
    **{name: ".forecasting.windowing" for name in (
        "Windows", "calendar_features", "infer_season", "make_windows")},
}
#: Subpackages readable as attributes after ``import tsbptt`` alone, as the eager
#: imports made them (``tsbptt.sktime`` needs sktime: it stays an explicit import).
_SUBPACKAGES = ("cli", "engine", "estimators", "forecasting", "persistence", "plotting",
                "utils")

if _TYPE_CHECKING:  # what the names are, for type checkers and editors
    from . import datasets
    from ._config import get_config, show_config
    from .estimators import (ESNClassifier, ESNRegressor, GRUClassifier, GRURegressor,
                             LagLayout, LSTMClassifier, LSTMRegressor, RecurrentState,
                             RecurrentStream, RNNClassifier, RNNRegressor, RTRLRegressor,
                             load_model, save_model)
    from .forecasting import Forecaster, load_forecaster, metrics, returns
    from .forecasting.auto import AutoForecaster
    from .forecasting.backtesting import Backtest, RollingOrigin, backtest
    from .forecasting.baselines import SeasonalNaive
    from .forecasting.local import LocalModels
    from .forecasting.windowing import Windows, calendar_features, infer_season, make_windows
    from .utils._validation import SmallSpreadWarning

__all__ = [
    "AutoForecaster", "Backtest", "backtest", "calendar_features", "datasets", "ESNClassifier",
    "ESNRegressor",
    "Forecaster", "get_config", "GRUClassifier", "GRURegressor", "infer_season", "LagLayout",
    "load_forecaster", "load_model", "LocalModels",
    "LSTMClassifier", "LSTMRegressor", "make_windows", "metrics", "RecurrentState",
    "RecurrentStream", "returns",
    "RNNClassifier", "RNNRegressor", "RollingOrigin", "RTRLRegressor", "save_model",
    "SeasonalNaive", "show_config", "SmallSpreadWarning", "Windows",
]


__getattr__, __dir__ = _lazy_attributes(__name__, _PUBLIC, _SUBPACKAGES)
