"""One step at a time: streams over a fitted recurrent estimator.

:meth:`LSTMRegressor.stream` returns a :class:`RecurrentStream`: the fitted network,
its input scaling, its head and its output transform, with the state of one or
more streams, run by one compiled call per observation
(:class:`tsbptt._kernels._stream.Stepper`). ``predict_step`` (and the classifiers'
``predict_proba_step``) run the same compiled step from a state the caller passes
and gets back (:class:`RecurrentState`). Either way a step runs the very kernels,
with the same input scaling, that ``predict_sequence`` runs, so feeding a series one
observation at a time gives, bitwise, what one call over the whole series gives.

What a stream checks. Once, when it is made or its state is set: that the model is
fitted and unidirectional, the weights, the scaling and the state (shapes, dtype,
finite). At every step: x_t's shape, and that every scaled value is finite (refused
with the position and the value before the state moves). The stream re-reads the
estimator's weights when a partial_fit or a warm start has changed them since (the
state is kept); after a cold fit it refuses to step until reset, since its state
was computed by the old network. Weights edited in place by hand are not noticed:
make a new stream then.

Where a state came from. Every state ``predict_step`` and ``predict_sequence`` hand
out remembers the network that computed it (:func:`mark_made_by`), and one given
back to a network with other weights is refused (:func:`check_made_by`).
"""
import threading
import weakref
from typing import NamedTuple

import numpy as np
from sklearn.utils.validation import check_is_fitted

from .._kernels import cell_kernels
from .._kernels._stream import STREAM_MAX_QUANTILES, Stepper

__all__ = ["RecurrentState", "RecurrentStream"]


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
        """A deep copy (new arrays), still known as the same network's state."""
        out = RecurrentState(tuple(a.copy() for a in self.h),
                             None if self.c is None else tuple(a.copy() for a in self.c))
        made = _made_by(self.h[0]) if self.h else None
        if made is not None:
            mark_made_by(out.h, made)
        return out

    def to_states(self):
        """The per-layer list that ``predict_sequence`` takes as ``initial_states``."""
        if self.c is None:
            return [(h,) for h in self.h]
        return [(h, c) for h, c in zip(self.h, self.c)]

    @classmethod
    def from_states(cls, states):
        """A state from the ``states`` list that ``predict_sequence`` returns (a
        RecurrentState comes back as a copy: it is a tuple too, and read as a list
        of layers it mixed up its h and c)."""
        if isinstance(states, RecurrentState):
            return states.copy()
        if not isinstance(states, (list, tuple)) or not states:
            raise TypeError(f"states must be the non-empty list predict_sequence returns, "
                            f"got {type(states).__name__}")
        h = tuple(np.array(s[0]) for s in states)
        c = tuple(np.array(s[1]) for s in states) if len(states[0]) == 2 else None
        made = _made_by(states[0][0]) if len(states[0]) else None
        if made is not None:  # the copies are the same network's state
            mark_made_by(h, made)
        return cls(h, c)


#: The network that computed each state the estimators hand out (predict_step,
#: predict_sequence): id of the state's first h array -> (weak reference to that
#: array, the network). Entries whose array is gone are swept when the table has
#: doubled since the last sweep (no callback per array: predict_step makes one
#: state a call, and a callback cost as much as the rest of the bookkeeping); an
#: entry keeps its network alive until then (a network replaced by a cold fit).
_MADE_BY = {}
_SWEEP_AT = [1024]  # table size that triggers the next sweep


def mark_made_by(h, network):
    """Remember that ``network`` computed the state whose h arrays are ``h``."""
    if not h:
        return
    _MADE_BY[id(h[0])] = (weakref.ref(h[0]), network)
    if len(_MADE_BY) >= _SWEEP_AT[0]:
        for key in [k for k, (ref, _) in list(_MADE_BY.items()) if ref() is None]:
            _MADE_BY.pop(key, None)
        _SWEEP_AT[0] = max(1024, 2 * len(_MADE_BY))


def _made_by(array):
    """The maker :func:`mark_made_by` recorded for ``array``, or None."""
    entry = _MADE_BY.get(id(array))
    return entry[1] if entry is not None and entry[0]() is array else None


def _same_weights(a, b):
    """Whether two makers of states compute the same states: the same network or
    its copy; for a tuple of arrays (an ESN's reservoir), the same values."""
    if a is b:
        return True
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(_same_array(x, y) for x, y in zip(a, b))
    pa, pb = getattr(a, "params", None), getattr(b, "params", None)
    if pa is None or pb is None:
        return False
    return pa.keys() == pb.keys() and all(np.array_equal(pa[k], pb[k]) for k in pa)


def _same_array(x, y):
    if x is y:
        return True
    if hasattr(x, "toarray") or hasattr(y, "toarray"):  # scipy sparse
        return type(x) is type(y) and x.shape == y.shape and (x != y).nnz == 0
    return np.array_equal(x, y)


def check_made_by(h, est, name, maker=lambda est: est.network_):
    """Refuse a state that a network with other weights than ``est``'s computed
    (``maker``: the part of ``est`` that computes its states): another estimator's,
    or this one's before a cold fit (a new network). The same network after a
    partial_fit or a warm start (learning on) passes, as does a copy with the same
    weights (a pickle, ``load_model``); so do states built by hand, whose origin is
    unknown."""
    made = _made_by(h[0]) if h else None
    if made is not None and made is not est.__dict__.get("network_") \
            and not _same_weights(made, maker(est)):
        raise ValueError(
            f"{name} was computed by another network (another estimator's, or this "
            "one's before a fit without warm_start, which makes a new network): its "
            "numbers mean nothing to this one. Start from None (zeros), or from a "
            "state of this fit (predict_sequence over the series so far)")


def _check_stepping(est, method):
    if "network_" not in est.__dict__:
        check_is_fitted(est)
    if est.network_.bidirectional:
        raise ValueError(f"{method} needs a unidirectional model (this one was fitted "
                         "with bidirectional=True): a bidirectional layer reads every "
                         "sequence backwards from its end, which a stream has not "
                         "reached yet")


def _weights_token(est):
    """What changes whenever fit or partial_fit writes the weights: the network
    object (a cold fit makes a new one) and the samples and epochs trained on."""
    d = est.__dict__
    return d.get("network_"), d.get("t_"), len(d.get("history_") or ())


def new_stepper(est, method, n_streams=1):
    """A compiled stepper over ``est``'s network as it is now (weights copied)."""
    _check_stepping(est, method)
    net = est.network_
    layers = net.stack.layers
    cell = layers[0].cell.name
    outputs = est._stream_outputs()
    if outputs.get("n_quantiles", 1) > STREAM_MAX_QUANTILES:
        raise ValueError(f"{method} steps models of at most {STREAM_MAX_QUANTILES} "
                         f"quantiles; this one was fitted with {outputs['n_quantiles']} "
                         "(quantiles=...): use predict (or predict_sequence), or fewer "
                         "quantiles")
    return Stepper(cell_kernels(cell), cell_kernels("lstm"),
                   [(layer.params["W"], layer.params.get("b_hn")) for layer in layers],
                   net.head["W"], net.head["b"], est.input_mean_, est.input_scale_,
                   lstm=cell == "lstm", n_streams=n_streams, **outputs)


#: The stepper predict_step uses, per estimator: id -> (weak reference, token,
#: stepper, its lock).
_SHARED = {}


def shared_stepper(est, method):
    """The stepper of ``est``'s current weights, made once and kept while they last,
    and the lock to hold while calling it.

    The stepper scales its input into buffers of its own, then runs; between the two
    it allocates the new state, and an allocation may run the garbage collector,
    whose finalizers may let another thread in. A call holds the lock while it
    steps, and a call that finds it held steps a stepper of its own, so that no
    call reads another's input."""
    entry = _SHARED.get(id(est))
    if entry is not None and entry[0]() is est and entry[1] == _weights_token(est):
        return entry[2], entry[3]
    stepper, lock = new_stepper(est, method), threading.Lock()
    key = id(est)
    _SHARED[key] = (weakref.ref(est, lambda _, key=key: _SHARED.pop(key, None)),
                    _weights_token(est), stepper, lock)
    return stepper, lock


def step_from(est, x_t, state, method):
    """One step of ``est`` from ``state`` (None: zeros): (output, new RecurrentState).

    The output is the forecast in y's units for a regressor, the raw network outputs
    (float64) for a classifier; see :meth:`Stepper.step_from` for its shape."""
    stepper, lock = shared_stepper(est, method)
    if state is None:
        h_in = c_in = None
    elif isinstance(state, RecurrentState):
        check_made_by(state.h, est, "state")
        h_in, c_in = state.h, state.c
    else:
        raise TypeError("state must be None or the RecurrentState a previous step "
                        f"returned, got {type(state).__name__} (a predict_sequence "
                        "states list converts with RecurrentState.from_states)")
    if lock.acquire(False):  # (not blocking)
        try:
            out, h, c = stepper.step_from(x_t, h_in, c_in, state is not None)
        finally:
            lock.release()
    else:  # another thread is mid-step on it (or a finalizer run mid-step is here):
        # a stepper of its own, rather than a wait (or a deadlock)
        out, h, c = new_stepper(est, method).step_from(x_t, h_in, c_in, state is not None)
    mark_made_by(h, est.network_)
    return out, RecurrentState(h, c)


class RecurrentStream:
    """A fitted recurrent estimator reading one or more streams, one step at a time.

    Made by the estimators' ``stream`` method (e.g. :meth:`LSTMRegressor.stream`).
    Each :meth:`step` consumes one new observation per stream and returns the
    forecast made after it, in one compiled call: for a model fitted with per-step
    targets, the same bits that ``predict_sequence`` gives over the whole series,
    without re-reading it; for one fitted on windows, at a window's last step, the
    bits of ``predict`` on that window (steps past a window's length read a longer
    history than the model was trained on, and match no ``predict`` call).

    Parameters
    ----------
    estimator : fitted unidirectional LSTM/GRU/RNN regressor or classifier
    state : RecurrentState or None, default=None
        Where the streams start (None: zeros, i.e. the start of a series).
    n_streams : int or None, default=None
        Streams read side by side; None takes the state's, or 1.

    Attributes
    ----------
    estimator : the estimator it reads
    n_streams : int
    n_features : int
        Values per observation (``n_channels`` for a model fitted on 2D windows).

    Notes
    -----
    The stream copies the weights and the scaling when it is made, and again when
    a ``partial_fit`` or a warm-started ``fit`` of the estimator has changed them
    since the last step: the state carries over, as the network goes on learning.
    After a cold ``fit`` (a new network) the state belongs to the network that
    computed it, so :meth:`step` refuses until the stream is reset (``reset()``, or
    ``reset(state)`` with a state of the new network). Weights edited in place by
    hand (``params_``) are not noticed, here or by ``predict_step``, which keeps
    such a copy too: make a new stream then (``est.stream(state=old.state)``),
    whose steps read them.
    """

    def __init__(self, estimator, state=None, n_streams=None):
        self.estimator = estimator
        # classifiers turn the raw outputs into probabilities; regressors have none
        self._transform = getattr(estimator, "_stream_transform", None)
        self._stepper = new_stepper(estimator, "stream")
        self._token = _weights_token(estimator)
        self.reset(state, n_streams)

    def reset(self, state=None, n_streams=None):
        """Start again from ``state`` (None: zeros for ``n_streams`` streams).

        Parameters
        ----------
        state : RecurrentState or None, default=None
        n_streams : int or None, default=None
            None: the state's number of sequences; without a state, the streams
            read so far (1 for a new stream): a reset of 3 streams keeps 3.

        Returns
        -------
        self
        """
        if state is None:
            if n_streams is None:  # the streams read so far (a new stepper has 1),
                n_streams = self._stepper.n_streams  # before a refit's new stepper
            if isinstance(n_streams, (bool, np.bool_)) or not isinstance(
                    n_streams, (int, np.integer)) or n_streams < 1:
                raise ValueError(f"n_streams must be a positive int, got {n_streams!r}")
        if _weights_token(self.estimator) != self._token:  # refitted: read it anew
            self._stepper = new_stepper(self.estimator, "stream")
            self._token = _weights_token(self.estimator)
        if state is None:
            self._stepper.reset(int(n_streams))
            return self
        if not isinstance(state, RecurrentState):
            raise TypeError(f"state must be None or a RecurrentState, got "
                            f"{type(state).__name__} (a predict_sequence states list "
                            "converts with RecurrentState.from_states)")
        if n_streams is not None and n_streams != state.n_sequences:
            raise ValueError(f"n_streams={n_streams!r} but the state holds "
                             f"{state.n_sequences} sequence(s)")
        check_made_by(state.h, self.estimator, "state")
        self._stepper.set_state(state.h, state.c)
        return self

    @property
    def n_streams(self):
        return self._stepper.n_streams

    @property
    def n_features(self):
        return self._stepper.n_inputs

    @property
    def state(self):
        """The state after the last step: a RecurrentState of new arrays (editing
        them changes nothing here; assign a state to load one), known as the
        state of the network the stream read: after a cold fit of the estimator,
        ``predict_step`` and another stream refuse it, as the stream itself does."""
        h, c = self._stepper.get_state()
        mark_made_by(h, self._token[0])
        return RecurrentState(h, c)

    @state.setter
    def state(self, state):
        self.reset(state)

    def _refresh(self):
        """A new stepper for the estimator's new weights, with the state kept: only
        where the same network learned on (partial_fit, a warm start)."""
        if _weights_token(self.estimator)[0] is not self._token[0]:
            raise ValueError(
                "the estimator was fitted anew since this stream's state was made (a "
                "fit without warm_start makes a new network): the state was computed "
                "by the old network and means nothing to the new one; reset the stream "
                "(stream.reset(), or stream.reset(state) with a state of the new model) "
                "or make a new one (est.stream())")
        h, c = self._stepper.get_state()
        stepper = new_stepper(self.estimator, "stream")
        stepper.set_state(h, c)
        self._stepper, self._token = stepper, _weights_token(self.estimator)

    def step(self, x_t):
        """Consume one observation per stream; return the forecast after it.

        Parameters
        ----------
        x_t : float or array-like of shape (n_features,) or (n_streams, n_features)
            One observation (a scalar for one feature); with several streams, one
            row per stream.

        Returns
        -------
        y_hat : float or ndarray
            Regressors: in y's units (the point forecast for the quantile loss), a
            float for one stream and one target, else (n_outputs,), (n_streams,)
            or (n_streams, n_outputs). Classifiers: the class probabilities,
            (n_classes,) or (n_streams, n_classes).
        """
        if _weights_token(self.estimator) != self._token:
            self._refresh()
        out = self._stepper.step(x_t)
        return out if self._transform is None else self._transform(out)

    def __reduce__(self):
        # pickle and copy: the estimator and the state (the compiled stepper is
        # rebuilt from them)
        return type(self), (self.estimator, self.state)

    def __repr__(self):
        return (f"RecurrentStream({type(self.estimator).__name__}, n_streams="
                f"{self.n_streams}, n_features={self.n_features})")
