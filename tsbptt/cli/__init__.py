"""The ``tsbptt`` command line: ``demo``, ``forecast``, ``backtest``, ``datasets``."""
from ._main import main

__all__ = ["main"]
