"""The training engine's building blocks: recurrent layers over the compiled kernels."""
from .layers import Bidirectional, RecurrentLayer, RecurrentStack

__all__ = ["Bidirectional", "RecurrentLayer", "RecurrentStack"]
