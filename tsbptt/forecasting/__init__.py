"""The forecasting layer: the estimators at work on pandas Series and DataFrames.

Windows from Series/DataFrames (:mod:`~tsbptt.forecasting.windowing`), the
:class:`Forecaster` and its strategies, intervals, panels, baselines, metrics,
transforms and backtests. Everything below this layer takes NumPy arrays.

``Forecaster`` and ``load_forecaster``, and the submodules, are imported at their
first use (:mod:`tsbptt.utils._lazy`), so that a light module of this layer
(``windowing``, which the command line reads for its help) does not import
scikit-learn with them.
"""
from typing import TYPE_CHECKING as _TYPE_CHECKING

from ..utils._lazy import lazy_attributes as _lazy_attributes

if _TYPE_CHECKING:  # what the names are, for type checkers and editors
    from ._forecaster import Forecaster, load_forecaster

__all__ = ["Forecaster", "load_forecaster"]

__getattr__, __dir__ = _lazy_attributes(__name__, dict.fromkeys(__all__, "._forecaster"))
