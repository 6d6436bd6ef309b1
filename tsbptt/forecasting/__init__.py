"""The forecasting layer, the only one that uses pandas.

Windows from Series/DataFrames (:mod:`~tsbptt.forecasting.windowing`), the
:class:`Forecaster` and its strategies, intervals, panels, baselines, metrics,
transforms and backtests. Everything below this layer takes NumPy arrays.

``Forecaster`` and ``load_forecaster`` are imported at their first use (PEP 562), so
that a light module of this layer (``windowing``, which the command line reads for
its help) does not import scikit-learn with them.
"""
from importlib import import_module

__all__ = ["Forecaster", "load_forecaster"]


def __getattr__(name):
    """``Forecaster`` and ``load_forecaster`` from ``_forecaster``, at first use."""
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module("._forecaster", __name__), name)
    globals()[name] = value
    return value
