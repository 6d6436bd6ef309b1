"""Learning-rate schedules: the rate for an epoch, given the history so far.

Settings outside their range are refused when the schedule is built, by name."""
import math

from ..utils._validation import check_int, check_real

__all__ = ["Constant", "StepDecay", "Cosine", "ReduceOnPlateau", "SCHEDULES"]


class Constant:
    """The same rate every epoch."""

    def __init__(self, learning_rate):
        self.learning_rate = check_real("learning_rate", learning_rate, 0)

    def rate(self, epoch, monitored=None):
        """Learning rate for ``epoch`` (0-based); ``monitored`` is last epoch's loss."""
        return self.learning_rate


class StepDecay(Constant):
    """Multiply the rate by ``gamma`` every ``step_size`` epochs."""

    def __init__(self, learning_rate, step_size=10, gamma=0.5):
        super().__init__(learning_rate)
        self.step_size = check_int("step_size", step_size, 1)
        self.gamma = check_real("gamma", gamma, 0, 1, closed="right")

    def rate(self, epoch, monitored=None):
        return self.learning_rate * self.gamma ** (epoch // self.step_size)


class Cosine(Constant):
    """Cosine annealing from the rate down to ``min_rate`` (at most the rate) over
    ``n_epochs`` (at least 1)."""

    def __init__(self, learning_rate, n_epochs, min_rate=0.0):
        super().__init__(learning_rate)
        self.n_epochs = check_int("n_epochs", n_epochs, 1)
        self.min_rate = check_real("min_rate", min_rate, 0, self.learning_rate)

    def rate(self, epoch, monitored=None):
        frac = min(epoch, self.n_epochs) / self.n_epochs
        return self.min_rate + 0.5 * (self.learning_rate - self.min_rate) * (
            1 + math.cos(math.pi * frac))


class ReduceOnPlateau(Constant):
    """Multiply the rate by ``factor`` when the monitored loss has not improved by
    more than ``min_delta`` for ``patience`` epochs (never below ``min_rate``)."""

    def __init__(self, learning_rate, factor=0.5, patience=5, min_delta=0.0, min_rate=0.0):
        super().__init__(learning_rate)
        self.factor = check_real("factor", factor, 0, 1, closed="neither")
        self.patience = check_int("patience", patience, 0)
        self.min_delta = check_real("min_delta", min_delta, 0)
        self.min_rate = check_real("min_rate", min_rate, 0)
        self._current, self._best, self._bad = self.learning_rate, math.inf, 0

    def rate(self, epoch, monitored=None):
        if monitored is not None:
            if monitored < self._best - self.min_delta:
                self._best, self._bad = monitored, 0
            else:
                self._bad += 1
                if self._bad > self.patience:
                    self._current = max(self.min_rate, self._current * self.factor)
                    self._bad = 0
        return self._current


SCHEDULES = {"constant": Constant, "step": StepDecay, "cosine": Cosine,
             "plateau": ReduceOnPlateau}
