"""Learning-rate schedules: the rate for an epoch, given the history so far."""
import math

__all__ = ["Constant", "StepDecay", "Cosine", "ReduceOnPlateau", "SCHEDULES"]


class Constant:
    """The same rate every epoch."""

    def __init__(self, learning_rate):
        self.learning_rate = float(learning_rate)

    def rate(self, epoch, monitored=None):
        """Learning rate for ``epoch`` (0-based); ``monitored`` is last epoch's loss."""
        return self.learning_rate


class StepDecay(Constant):
    """Multiply the rate by ``gamma`` every ``step_size`` epochs."""

    def __init__(self, learning_rate, step_size=10, gamma=0.5):
        super().__init__(learning_rate)
        if step_size < 1 or not 0 < gamma <= 1:
            raise ValueError(f"need step_size >= 1 and 0 < gamma <= 1, got {step_size}, {gamma}")
        self.step_size, self.gamma = int(step_size), float(gamma)

    def rate(self, epoch, monitored=None):
        return self.learning_rate * self.gamma ** (epoch // self.step_size)


class Cosine(Constant):
    """Cosine annealing from the rate to ``min_rate`` over ``n_epochs``."""

    def __init__(self, learning_rate, n_epochs, min_rate=0.0):
        super().__init__(learning_rate)
        self.n_epochs, self.min_rate = max(1, int(n_epochs)), float(min_rate)

    def rate(self, epoch, monitored=None):
        frac = min(epoch, self.n_epochs) / self.n_epochs
        return self.min_rate + 0.5 * (self.learning_rate - self.min_rate) * (
            1 + math.cos(math.pi * frac))


class ReduceOnPlateau(Constant):
    """Multiply the rate by ``factor`` when the monitored loss has not improved by
    more than ``min_delta`` for ``patience`` epochs (never below ``min_rate``)."""

    def __init__(self, learning_rate, factor=0.5, patience=5, min_delta=0.0, min_rate=0.0):
        super().__init__(learning_rate)
        if not 0 < factor < 1:
            raise ValueError(f"factor must be in (0, 1), got {factor!r}")
        self.factor, self.patience = float(factor), int(patience)
        self.min_delta, self.min_rate = float(min_delta), float(min_rate)
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
