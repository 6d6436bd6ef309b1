"""The forecasting layer, the only one that uses pandas.

Windows from Series/DataFrames (:mod:`~tsbptt.forecasting.windowing`), the
:class:`Forecaster` and its strategies, intervals, panels, baselines, metrics,
transforms and backtests. Everything below this layer takes NumPy arrays.
"""
from ._forecaster import Forecaster, load_forecaster

__all__ = ["Forecaster", "load_forecaster"]
