"""One step at a time: the state a recurrent estimator carries between observations.

:meth:`LSTMRegressor.predict_step` (and the other estimators' ``predict_step`` /
``predict_proba_step``) consume one observation per sequence and return the
network's output at that step with the state after it. The step runs the same
layers, the same kernels and the same input scaling as ``predict_sequence``, so
feeding a series one observation at a time gives, bitwise, what one call over the
whole series gives. Nothing of the step is kept: the returned state is the only
memory, ``layers * n * hidden_size`` values (twice that for an LSTM).
"""
import math
from functools import lru_cache
from typing import NamedTuple

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ..engine._threads import MIN_CHUNK_ROWS

__all__ = ["RecurrentState"]


class RecurrentState(NamedTuple):
    """The state of a unidirectional recurrent network after a step.

    Attributes
    ----------
    h : tuple of ndarray of shape (n_sequences, hidden_size_l)
        Every layer's hidden state, first layer first.
    c : tuple of ndarray of shape (n_sequences, hidden_size_l) or None
        Every layer's cell state (LSTM only; None for GRU and RNN).

    The arrays are the step's own (never the estimator's); :meth:`copy` gives
    independent ones, e.g. to branch a forecast and keep the original.
    """

    h: tuple
    c: tuple = None

    @property
    def n_sequences(self):
        """How many sequences (rows) the state holds."""
        return self.h[0].shape[0]

    def copy(self):
        """A deep copy (new arrays)."""
        return RecurrentState(tuple(a.copy() for a in self.h),
                              None if self.c is None else tuple(a.copy() for a in self.c))

    def to_states(self):
        """The per-layer list that ``predict_sequence`` takes as ``initial_states``."""
        if self.c is None:
            return [(h,) for h in self.h]
        return [(h, c) for h, c in zip(self.h, self.c)]

    @classmethod
    def from_states(cls, states):
        """A state from the ``states`` list that ``predict_sequence`` returns."""
        if not isinstance(states, (list, tuple)) or not states:
            raise TypeError(f"states must be the non-empty list predict_sequence returns, "
                            f"got {type(states).__name__}")
        h = tuple(np.array(s[0]) for s in states)
        c = tuple(np.array(s[1]) for s in states) if len(states[0]) == 2 else None
        return cls(h, c)


def _all_finite(a):
    """np.isfinite(a).all(), cheaper for the small arrays of a step: a dot product
    is finite unless an element is not (or it overflows, then the exact check)."""
    return math.isfinite(np.vdot(a, a)) or bool(np.isfinite(a).all())


@lru_cache(maxsize=16)
def _ones(n):
    """Read-only lengths of n one-step sequences (the same few sizes every step)."""
    out = np.ones(n, dtype=np.intp)
    out.setflags(write=False)
    return out


def _check_stepping(est, method):
    if "network_" not in est.__dict__:  # the usual case costs one lookup
        check_is_fitted(est)
    if est.network_.bidirectional:
        raise ValueError(f"{method} needs a unidirectional model: a bidirectional layer "
                         "reads every sequence backwards from its end, which a stream "
                         "has not reached yet")


def _bad_value(x, xs):
    """The first input value whose scaled value is not finite, as 'x_t[i, j] = v'."""
    where = np.unravel_index(int(np.flatnonzero(~np.isfinite(xs))[0]), xs.shape)
    return f"x_t[{', '.join(map(str, where))}] = {x[where]!r}"


def _check_x(est, x_t):
    """x_t as scaled network input (n, 1, F) of the estimator's dtype, and whether
    it was a single observation (1D, or a scalar for one feature)."""
    F = est.network_.input_size
    x = np.asarray(x_t)
    if x.dtype.kind not in "fiub":
        raise TypeError(f"x_t must hold numbers, got an array of dtype {x.dtype}")
    single = x.ndim < 2
    if x.ndim == 0 and F == 1:
        x = x.reshape(1, 1)
    elif x.ndim == 1:
        x = x.reshape(1, -1)
    if x.ndim != 2 or x.shape[1] != F or x.shape[0] < 1:
        raise ValueError(f"x_t must have shape ({F},) (one observation of {F} features) "
                         f"or (n_sequences, {F}), got shape {np.shape(x_t)}")
    if x.dtype.kind != "f" or x.dtype.itemsize > 8:  # as check_array: ints via float64
        x = x.astype(np.float64)
    dt = est.network_.dtype
    # the arithmetic of _scale_inputs, element by element: the same bits
    xs = ((x.astype(dt, copy=False) - est.input_mean_) / est.input_scale_).astype(dt)
    if not _all_finite(xs):
        raise ValueError(f"x_t must be finite in the model's dtype ({dt.name}) after "
                         f"scaling: {_bad_value(x, xs)}")
    return xs.reshape(x.shape[0], 1, F), single


def _check_part(name, arrays, layers, n, dt):
    if not isinstance(arrays, tuple) or len(arrays) != len(layers):
        raise ValueError(f"state.{name} must be a tuple of {len(layers)} arrays (one per "
                         f"layer), got {type(arrays).__name__} of length "
                         f"{len(arrays) if hasattr(arrays, '__len__') else '?'}")
    out = []
    for i, (a, layer) in enumerate(zip(arrays, layers)):
        if not isinstance(a, np.ndarray) or a.dtype != dt:
            raise TypeError(f"state.{name}[{i}] must be a {dt.name} ndarray (the model's "
                            f"dtype), got {getattr(a, 'dtype', type(a).__name__)}")
        if a.shape != (n, layer.hidden_size):
            raise ValueError(f"state.{name}[{i}] has shape {a.shape}, expected "
                             f"({n}, {layer.hidden_size}) for {n} sequence(s)")
        if not _all_finite(a):
            raise ValueError(f"state.{name}[{i}] contains NaN or infinity")
        out.append(a if a.flags.c_contiguous else np.ascontiguousarray(a))
    return out


def _check_state(est, state, n):
    """The per-layer initial states (list of tuples) from a RecurrentState, or None."""
    if state is None:
        return None
    if not isinstance(state, RecurrentState):
        raise TypeError("state must be None or the RecurrentState a previous step "
                        f"returned, got {type(state).__name__} (a predict_sequence "
                        "states list converts with RecurrentState.from_states)")
    layers, dt = est.network_.stack.layers, est.network_.dtype
    h = _check_part("h", state.h, layers, n, dt)
    if est.network_.stack.layers[0].cell.name != "lstm":
        if state.c is not None:
            raise ValueError("state.c must be None: only an LSTM has a cell state")
        return [(a,) for a in h]
    if state.c is None:
        raise ValueError("state.c is None, but an LSTM's state needs its cell states")
    return list(zip(h, _check_part("c", state.c, layers, n, dt)))


def step(est, x_t, state, method):
    """Run one step of a fitted estimator's network.

    Returns
    -------
    out : ndarray of shape (n, n_network_outputs), float64, before any unscaling
    state : RecurrentState
    single : bool
        x_t was one observation: drop the sequence axis of the result.
    """
    _check_stepping(est, method)
    X, single = _check_x(est, x_t)
    n = X.shape[0]
    states = _check_state(est, state, n)
    net = est.network_
    lengths = _ones(n)
    # rows that fit one chunk run on one thread whatever n_threads says (same bits)
    threads = 1 if n <= MIN_CHUNK_ROWS else est.n_threads
    Y, new, _ = net.forward_layers(X, lengths, states, n_threads=threads)
    out, _ = net.head_forward(Y if net.many_to_many else Y[:, 0], lengths)
    out = (out if out.ndim == 2 else out.reshape(n, -1)).astype(np.float64)
    if len(new[0]) == 2:
        new_state = RecurrentState(tuple(s[0] for s in new), tuple(s[1] for s in new))
    else:
        new_state = RecurrentState(tuple(s[0] for s in new))
    return out, new_state, single
