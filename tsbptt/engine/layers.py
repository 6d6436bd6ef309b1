"""Recurrent layers over batches of sequences: single, bidirectional and stacked.

A layer's ``forward`` validates its input, runs the compiled kernel and returns the
outputs, the final state and a cache; ``backward`` takes the cache and the gradients
of the outputs and of the final state and returns the gradients of the input, of the
initial state and of every parameter. Nothing here loops over time: the kernels do.

Shapes: ``X`` (batch, time, features), ``Y`` (batch, time, hidden) (twice hidden for
a bidirectional layer), states (batch, hidden), ``lengths`` (batch,) integers in
[1, time]. Padding past a sequence's length is ignored but must be finite.
"""
from numbers import Real

import numpy as np
from sklearn.utils import check_random_state

from .._kernels import all_finite
from ..utils._validation import check_positive_int
from ._caches import BidirectionalCache
from ._cells import CELLS
from ._threads import resolve_n_threads
from .init import init_cell_params

__all__ = ["RecurrentLayer", "Bidirectional", "RecurrentStack"]


def _check_dtype(dtype):
    dt = np.dtype(dtype)
    if dt not in (np.float32, np.float64):
        raise ValueError(f"dtype must be 'float32' or 'float64', got {dtype!r}")
    return dt


def _check_cell(cell):
    if cell not in CELLS:
        raise ValueError(f"cell must be one of {sorted(CELLS)}, got {cell!r}")
    return CELLS[cell]


def _check_array(name, a, dtype):
    """A C-contiguous array of exactly ``dtype`` with finite values (a copy if needed)."""
    a = np.asarray(a)
    if a.dtype != dtype:  # the common case, a matching dtype, is one comparison
        if a.dtype.kind != "f" or a.dtype not in (np.float32, np.float64):
            raise TypeError(
                f"{name} must be a float32 or float64 array, got dtype {a.dtype}")
        raise TypeError(
            f"{name} has dtype {a.dtype}, but the layer computes in {dtype}; "
            f"convert it with .astype(np.{dtype})")
    a = np.ascontiguousarray(a)
    if not all_finite(a):
        raise ValueError(
            f"{name} contains NaN or infinity; every value must be finite, "
            "including padding past a sequence's length (use 0)")
    return a


def check_sequences(X, input_size, dtype):
    """Validate a batch of sequences (batch, time, features)."""
    X = np.asarray(X)
    if X.ndim != 3:
        raise ValueError(
            f"X must be a 3D array (batch, time, features), got shape {X.shape}")
    if X.shape[0] < 1 or X.shape[1] < 1:
        raise ValueError(
            f"X must hold at least one sequence of at least one step, got shape {X.shape}")
    if X.shape[2] != input_size:
        raise ValueError(
            f"X has {X.shape[2]} features, but the layer expects {input_size}")
    return _check_array("X", X, dtype)


def check_lengths(lengths, batch, time, name="lengths"):
    """Validate per-sample lengths; None means every sequence is ``time`` long.

    ``name`` is the argument's name in the messages (e.g. the validation data's)."""
    if lengths is None:  # np.full takes twice as long: a small call's costs count
        full = np.empty(batch, dtype=np.intp)
        full.fill(time)
        return full
    arr = np.asarray(lengths)
    if arr.shape != (batch,):
        raise ValueError(f"{name} must have shape ({batch},), got {arr.shape}")
    if arr.dtype.kind not in "iu":
        if arr.dtype.kind == "f" and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
            pass  # whole numbers stored as floats are fine
        else:
            raise TypeError(f"{name} must be integers, got dtype {arr.dtype}")
    bad = np.flatnonzero((arr < 1) | (arr > time))
    if bad.size:
        b = bad[0]
        raise ValueError(
            f"{name}[{b}] = {arr[b]} is outside [1, {time}] (the number of time steps)")
    return np.ascontiguousarray(arr, dtype=np.intp)


class RecurrentLayer:
    """One recurrent layer (LSTM, GRU or tanh RNN) over batches of sequences.

    Parameters
    ----------
    cell : {'lstm', 'gru', 'rnn'}
    input_size : int
        Features per time step, F.
    hidden_size : int
        Hidden units, H.
    dtype : {'float64', 'float32'}, default='float64'
    random_state : int, RandomState or None, default=None
        Seeds the initialisation (Glorot input weights, orthogonal recurrent
        weights, zero biases but the LSTM forget gate's 1).

    Attributes
    ----------
    params : dict of ndarray
        ``W`` of shape (F + H + 1, G * H) packed as [W_x; W_h; b] with G = 4, 3, 1
        gates (see docs/kernel_layout.md); GRU also ``b_hn`` of shape (H,).
    """

    def __init__(self, cell, input_size, hidden_size, *, dtype="float64",
                 random_state=None):
        self.cell = _check_cell(cell)
        self.input_size = check_positive_int("input_size", input_size)
        self.hidden_size = check_positive_int("hidden_size", hidden_size)
        self.dtype = _check_dtype(dtype)
        self.params = init_cell_params(self.cell, self.input_size, self.hidden_size,
                                       check_random_state(random_state), self.dtype)

    @property
    def output_size(self):
        return self.hidden_size

    def _check_state(self, state, batch, name):
        n = len(self.cell.state_names)
        if state is None:  # views of one allocation: a small call's fixed costs count
            zeros = np.zeros((n, batch, self.hidden_size), self.dtype)
            if n == 1:  # indexing: tuple(zeros) iterates, 1.8x the time for these
                return (zeros[0],)
            return (zeros[0], zeros[1]) if n == 2 else tuple(zeros)
        if not isinstance(state, (tuple, list)) or len(state) != n:
            raise ValueError(
                f"{name} must be a tuple of {n} arrays "
                f"({', '.join(self.cell.state_names)}) for a {self.cell.name} layer")
        out = []
        for s_name, s in zip(self.cell.state_names, state):
            s = np.asarray(s)
            if s.shape != (batch, self.hidden_size):
                raise ValueError(
                    f"{name} ({s_name}) has shape {s.shape}, expected "
                    f"({batch}, {self.hidden_size})")
            out.append(_check_array(f"{name} ({s_name})", s, self.dtype))
        return tuple(out)

    def forward(self, X, lengths=None, initial_state=None, n_threads=None):
        """Run the layer over a batch.

        Parameters
        ----------
        X : ndarray of shape (B, T, F)
        lengths : array-like of int of shape (B,), default=None (all T)
        initial_state : tuple of ndarray of shape (B, H), default=None (zeros)
            ``(h0,)``, or ``(h0, c0)`` for an LSTM.
        n_threads : int or None, default=None (all available cores)

        Returns
        -------
        Y : ndarray of shape (B, T, H)
            Zero at steps past a sequence's length.
        state : tuple of ndarray of shape (B, H)
            The state after each sequence's last step.
        cache : RNNCache, GRUCache or LSTMCache
            Pass it to :meth:`backward`.
        """
        X = check_sequences(X, self.input_size, self.dtype)
        B, T, _ = X.shape
        lengths = check_lengths(lengths, B, T)
        state0 = self._check_state(initial_state, B, "initial_state")
        return self.run_forward(X, lengths, state0, n_threads)

    def run_forward(self, X, lengths, initial_state=None, n_threads=None):
        """:meth:`forward` without validation, for the engine's own calls.

        ``X`` must be C-contiguous of the layer's dtype; ``lengths`` an intp array
        with values in [0, T] (a length of 0 passes the state through).
        """
        if initial_state is None:
            initial_state = self._check_state(None, X.shape[0], "initial_state")
        return self.cell.forward(X, self.params, initial_state, lengths,
                                 resolve_n_threads(n_threads))

    def run_infer(self, X, lengths, initial_state=None, n_threads=None,
                  keep_outputs=True):
        """:meth:`run_forward` for prediction: no training caches are kept.

        Returns
        -------
        Y : ndarray of shape (B, T, H), or None when not ``keep_outputs``
            Bitwise :meth:`run_forward`'s.
        state : tuple of ndarray of shape (B, H)
        """
        if initial_state is None:
            initial_state = self._check_state(None, X.shape[0], "initial_state")
        return self.cell.infer(X, self.params, initial_state, lengths,
                               resolve_n_threads(n_threads), keep_outputs)

    def cache_width(self):
        """Values per sample and step that a training forward over the layer keeps
        for its backward (see ``_Cell.cache_width``)."""
        return self.cell.cache_width(self.input_size, self.hidden_size)

    def state_at(self, cache, offset):
        """The state entering local step ``offset`` of the forward that made
        ``cache`` (0 <= offset < T); the cell knows where its cache keeps it."""
        return self.cell.state_at(cache, offset)

    def new_accumulators(self, batch):
        """Zeroed gradient accumulators for :meth:`run_backward` over ``batch`` rows."""
        return self.cell.new_accumulators(batch, self.params)

    def reduce_accumulators(self, acc, n_threads=None):
        """The gradients that the accumulators hold, keyed like ``params``."""
        return self.cell.reduce_accumulators(acc, resolve_n_threads(n_threads))

    def backward(self, cache, dY, d_state=None, n_threads=None, clip_step=None,
                 stats=None):
        """Backpropagate through every step of the batch that made ``cache``.

        Parameters
        ----------
        cache : RNNCache, GRUCache or LSTMCache
            From :meth:`forward`.
        dY : ndarray of shape (B, T, H)
            Gradient of the loss with respect to every output (ignored past a
            sequence's length).
        d_state : tuple of ndarray of shape (B, H), default=None (zeros)
            Gradient with respect to the final state.
        n_threads : int or None, default=None
        clip_step : float or None, default=None
            Clip dL/dh_t element-wise to [-clip_step, clip_step] at every step.
        stats : dict or None, default=None
            If a dict, receives ``delta_sq`` (B, T), the squared norm of dL/dh_t
            at every step before clipping (0 past a sequence's end), and
            ``n_clipped`` (B,), how many entries were clipped per sample.

        Returns
        -------
        dX : ndarray of shape (B, T, F)
        d_initial_state : tuple of ndarray of shape (B, H)
        grads : dict of ndarray, the same keys and shapes as ``params``
        """
        B, T, _ = cache.xh.shape
        dY = _check_array("dY", dY, self.dtype)
        if dY.shape != (B, T, self.hidden_size):
            raise ValueError(f"dY has shape {dY.shape}, expected {(B, T, self.hidden_size)}")
        d_state = self._check_state(d_state, B, "d_state")
        return self.run_backward(cache, dY, d_state, n_threads, _check_clip(clip_step),
                                 stats)

    def run_backward(self, cache, dY, d_state=None, n_threads=None, clip_step=None,
                     stats=None, acc=None, need_dx=True):
        """:meth:`backward` without validation, for the engine's own calls.

        With ``acc`` (from :meth:`new_accumulators`) the weight gradients are added
        into it and None is returned in their place: consecutive pieces of a
        sequence, backpropagated last piece first into the same accumulators, give
        exactly the gradients of one call over the whole sequence (bitwise, when
        every piece but the last is a multiple of 16 steps long). ``need_dx=False``
        returns None for dX and skips its products (a network's first layer in a
        fit); the other results keep their bits.
        """
        B = cache.xh.shape[0]
        if d_state is None:
            d_state = self._check_state(None, B, "d_state")
        dY = np.ascontiguousarray(dY, dtype=self.dtype)
        dX, d_state0, grads, info = self.cell.backward(
            cache, dY, d_state, resolve_n_threads(n_threads), clip_step or 0.0, acc,
            need_dx)
        if stats is not None:
            stats.update(info)
        return dX, d_state0, grads


def _check_clip(clip_step):
    """``clip_step`` as a float, 0.0 for None (off); the one check of every entry
    point that takes it (a non-positive or non-finite value turned clipping off)."""
    if clip_step is None:
        return 0.0
    # True is a Real: it would clip at 1.0
    if not (isinstance(clip_step, Real) and not isinstance(clip_step, (bool, np.bool_))
            and clip_step > 0 and np.isfinite(clip_step)):
        raise ValueError(f"clip_step must be a positive finite number or None, "
                         f"got {clip_step!r}")
    return float(clip_step)


def _reverse_index(lengths, T):
    """Index arrays that reverse each sequence within its own length.

    Step t < L of a sequence of length L maps to L - 1 - t; padding stays in
    place. The map is its own inverse.
    """
    t = np.arange(T)[None, :]
    L = lengths[:, None]
    rows = np.broadcast_to(np.arange(len(lengths))[:, None], (len(lengths), T))
    return rows, np.where(t < L, L - 1 - t, t)


class Bidirectional:
    """A forward and a backward recurrent layer, outputs concatenated.

    The backward layer reads each sequence reversed within its own length, so
    padding never enters it first. Output shape (B, T, 2H): ``Y[..., :H]`` from the
    forward direction, ``Y[..., H:]`` from the backward one, both aligned with the
    input's time steps. The state is ``(forward_state, backward_state)``.

    Parameters are those of :class:`RecurrentLayer`.
    """

    def __init__(self, cell, input_size, hidden_size, *, dtype="float64",
                 random_state=None):
        rng = check_random_state(random_state)
        self.forward_layer = RecurrentLayer(cell, input_size, hidden_size, dtype=dtype,
                                            random_state=rng)
        self.backward_layer = RecurrentLayer(cell, input_size, hidden_size, dtype=dtype,
                                             random_state=rng)
        self.input_size = self.forward_layer.input_size
        self.hidden_size = self.forward_layer.hidden_size
        self.dtype = self.forward_layer.dtype

    @property
    def output_size(self):
        return 2 * self.hidden_size

    def cache_width(self):
        """Values per sample and step of a training forward's caches: both
        directions', and the concatenated outputs."""
        return (self.forward_layer.cache_width() + self.backward_layer.cache_width()
                + self.output_size)

    @property
    def params(self):
        """Parameters as one dict, keys prefixed ``forward.`` and ``backward.``."""
        out = {f"forward.{k}": v for k, v in self.forward_layer.params.items()}
        out.update({f"backward.{k}": v for k, v in self.backward_layer.params.items()})
        return out

    def forward(self, X, lengths=None, initial_state=None, n_threads=None):
        """See :meth:`RecurrentLayer.forward`; Y has 2H features."""
        X = check_sequences(X, self.input_size, self.dtype)
        B, T, _ = X.shape
        lengths = check_lengths(lengths, B, T)
        if initial_state is None:
            initial_state = (None, None)
        elif not isinstance(initial_state, (tuple, list)) or len(initial_state) != 2:
            raise ValueError("initial_state of a bidirectional layer must be a pair "
                             "(forward_state, backward_state)")
        states = [layer._check_state(s, B, "initial_state")
                  for layer, s in zip((self.forward_layer, self.backward_layer),
                                      initial_state)]
        return self.run_forward(X, lengths, states, n_threads)

    def run_forward(self, X, lengths, initial_state=None, n_threads=None):
        """:meth:`forward` without validation, for the engine's own calls."""
        initial_state = (None, None) if initial_state is None else initial_state
        rev = _reverse_index(lengths, X.shape[1])
        Y_f, s_f, c_f = self.forward_layer.run_forward(X, lengths, initial_state[0],
                                                       n_threads)
        Y_r, s_b, c_b = self.backward_layer.run_forward(
            np.ascontiguousarray(X[rev]), lengths, initial_state[1], n_threads)
        Y = np.concatenate([Y_f, Y_r[rev]], axis=2)
        return Y, (s_f, s_b), BidirectionalCache(forward=c_f, backward=c_b, rev=rev)

    def run_infer(self, X, lengths, initial_state=None, n_threads=None,
                  keep_outputs=True):
        """:meth:`run_forward` for prediction, without caches; Y is always kept."""
        initial_state = (None, None) if initial_state is None else initial_state
        rev = _reverse_index(lengths, X.shape[1])
        Y_f, s_f = self.forward_layer.run_infer(X, lengths, initial_state[0], n_threads)
        Y_r, s_b = self.backward_layer.run_infer(
            np.ascontiguousarray(X[rev]), lengths, initial_state[1], n_threads)
        return np.concatenate([Y_f, Y_r[rev]], axis=2), (s_f, s_b)

    def backward(self, cache, dY, d_state=None, n_threads=None, clip_step=None,
                 stats=None):
        """See :meth:`RecurrentLayer.backward`; grads keyed like :attr:`params`.

        ``stats`` receives ``delta_sq`` summed over both directions (aligned with
        the input's steps) and ``n_clipped`` summed over both directions.
        """
        H = self.hidden_size
        dY = np.asarray(dY)
        if dY.ndim != 3 or dY.shape[2] != 2 * H:
            raise ValueError(f"dY must have shape (B, T, {2 * H}), got {dY.shape}")
        B = dY.shape[0]
        d_state = (None, None) if d_state is None else d_state
        if not isinstance(d_state, (tuple, list)) or len(d_state) != 2:
            raise ValueError("d_state of a bidirectional layer must be a pair "
                             "(forward_state, backward_state)")
        d_state = [layer._check_state(s, B, "d_state")
                   for layer, s in zip((self.forward_layer, self.backward_layer), d_state)]
        dY = _check_array("dY", dY, self.dtype)
        return self.run_backward(cache, dY, d_state, n_threads, _check_clip(clip_step),
                                 stats)

    def run_backward(self, cache, dY, d_state=None, n_threads=None, clip_step=None,
                     stats=None, acc=None, need_dx=True):
        """:meth:`backward` without validation; ``acc`` is a pair of accumulators;
        ``need_dx=False``: no input gradient (None)."""
        H = self.hidden_size
        d_state = (None, None) if d_state is None else d_state
        acc = (None, None) if acc is None else acc
        rev = cache.rev
        s_f, s_b = {}, {}
        dX_f, ds_f, g_f = self.forward_layer.run_backward(
            cache.forward, dY[:, :, :H], d_state[0], n_threads, clip_step, s_f, acc[0],
            need_dx)
        dX_r, ds_b, g_b = self.backward_layer.run_backward(
            cache.backward, dY[:, :, H:][rev], d_state[1], n_threads, clip_step, s_b,
            acc[1], need_dx)
        if stats is not None:
            stats.update(delta_sq=s_f["delta_sq"] + s_b["delta_sq"][rev],
                         n_clipped=s_f["n_clipped"] + s_b["n_clipped"])
        grads = None
        if g_f is not None:
            grads = {f"forward.{k}": v for k, v in g_f.items()}
            grads.update({f"backward.{k}": v for k, v in g_b.items()})
        dX = dX_f + dX_r[rev] if need_dx else None
        return dX, (ds_f, ds_b), grads


class RecurrentStack:
    """Recurrent layers stacked: the output sequence of one is the input of the next.

    Parameters
    ----------
    cell : {'lstm', 'gru', 'rnn'}
    input_size : int
    hidden_size : int or tuple of int
        One int per layer; an int is repeated ``num_layers`` times.
    num_layers : int, default=1
        Ignored when ``hidden_size`` is a tuple.
    bidirectional : bool, default=False
    dtype : {'float64', 'float32'}, default='float64'
    random_state : int, RandomState or None, default=None

    Attributes
    ----------
    layers : list of RecurrentLayer or Bidirectional
    """

    def __init__(self, cell, input_size, hidden_size, *, num_layers=1,
                 bidirectional=False, dtype="float64", random_state=None):
        if isinstance(hidden_size, (tuple, list)):
            sizes = [check_positive_int("hidden_size", h) for h in hidden_size]
            if not sizes:
                raise ValueError("hidden_size must name at least one layer, got ()")
        else:
            sizes = [check_positive_int("hidden_size", hidden_size)] * \
                check_positive_int("num_layers", num_layers)
        rng = check_random_state(random_state)
        kind = Bidirectional if bidirectional else RecurrentLayer
        self.layers = []
        size_in = input_size
        for h in sizes:
            layer = kind(cell, size_in, h, dtype=dtype, random_state=rng)
            self.layers.append(layer)
            size_in = layer.output_size
        self.input_size = self.layers[0].input_size
        self.dtype = self.layers[0].dtype

    @property
    def output_size(self):
        return self.layers[-1].output_size

    def cache_width(self):
        """Values per sample and step of a training forward's caches, all layers."""
        return sum(layer.cache_width() for layer in self.layers)

    @property
    def params(self):
        """All parameters, keys ``'<layer index>.<name>'``; the arrays are shared."""
        return {f"{i}.{k}": v for i, layer in enumerate(self.layers)
                for k, v in layer.params.items()}

    def forward(self, X, lengths=None, initial_states=None, n_threads=None):
        """Run every layer.

        Parameters
        ----------
        X : ndarray of shape (B, T, F)
        lengths : array-like of int of shape (B,), default=None
        initial_states : list, default=None
            One initial state per layer (each as that layer's ``forward`` takes it).
        n_threads : int or None, default=None

        Returns
        -------
        Y : ndarray of shape (B, T, output_size)
        states : list, the final state of each layer
        caches : list
        """
        X = check_sequences(X, self.input_size, self.dtype)
        lengths = check_lengths(lengths, X.shape[0], X.shape[1])
        if initial_states is None:
            initial_states = [None] * len(self.layers)
        if len(initial_states) != len(self.layers):
            raise ValueError(f"initial_states must hold {len(self.layers)} states, "
                             f"got {len(initial_states)}")
        states, caches = [], []
        Y = X
        for layer, s0 in zip(self.layers, initial_states):
            Y, s, c = layer.forward(Y, lengths, s0, n_threads)
            states.append(s)
            caches.append(c)
        return Y, states, caches

    def backward(self, caches, dY, d_states=None, n_threads=None):
        """Backpropagate through all layers.

        Returns
        -------
        dX : ndarray of shape (B, T, F)
        d_initial_states : list, per layer
        grads : dict keyed like :attr:`params`
        """
        if d_states is None:
            d_states = [None] * len(self.layers)
        grads, d_init = {}, [None] * len(self.layers)
        for i in range(len(self.layers) - 1, -1, -1):
            dY, d_init[i], g = self.layers[i].backward(caches[i], dY, d_states[i],
                                                       n_threads)
            grads.update({f"{i}.{k}": v for k, v in g.items()})
        return dY, d_init, grads
