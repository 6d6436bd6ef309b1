"""The training engine: layers over the compiled kernels, the network, losses,
optimizers, BPTT schedules (full, checkpointed, truncated) and the training loop."""
from ..utils._lazy import lazy_attributes as _lazy_attributes
from .bptt import full_bptt, truncated_bptt, truncation_windows
from .diagnostics import gradient_flow
from .layers import Bidirectional, RecurrentLayer, RecurrentStack
from .losses import LOSSES, Objective
from .network import Network
from .optimizers import OPTIMIZERS, bias_free_mask, build_optimizer
from .schedules import SCHEDULES
from .trainer import TrainingData, TrainOptions, evaluate, time_ordered_split, train

__all__ = ["Bidirectional", "LOSSES", "Network", "OPTIMIZERS", "Objective",
           "RecurrentLayer", "RecurrentStack", "SCHEDULES", "TrainingData", "TrainOptions",
           "bias_free_mask", "build_optimizer", "evaluate", "full_bptt", "gradient_flow",
           "time_ordered_split", "train", "truncated_bptt", "truncation_windows"]

# submodules beyond those imported above (rtrl, data_parallel, ...) at first read, as
# tsbptt's eager imports once made them attributes
__getattr__, __dir__ = _lazy_attributes(__name__, {})
