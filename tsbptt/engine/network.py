"""A recurrent network: stacked (optionally bidirectional) recurrent layers + a dense head.

Two ways to read the recurrent outputs:

- many-to-one: the head reads each sequence's last valid step (for a bidirectional
  layer, the forward direction at the last valid step and the backward direction at
  step 0, i.e. both directions after reading the whole sequence) and predicts
  ``output_size`` values per sequence (several horizons or targets at once);
- many-to-many: the head reads every step and predicts ``output_size`` values per
  valid step (sequence labelling, next-value prediction at every step).

Dropout (inverted, active only when ``training=True``): ``dropout`` on the outputs
of every recurrent layer but the last and on the head's input, a fresh mask per
element; ``input_dropout`` on each recurrent layer's input with the same mask at
every step (variational dropout, Gal & Ghahramani 2016).
"""
import numpy as np
from sklearn.utils import check_random_state

from .._kernels import cell_kernels
from ..utils._validation import check_positive_int
from ._caches import HeadCache, NetworkCache
from .layers import RecurrentStack, _check_clip, check_lengths, check_sequences
from .init import glorot_uniform

#: Values of one layer's outputs a prediction keeps at once: a long sequence is run
#: in pieces of time this long (B * steps * H values), each layer's state carried
#: from piece to piece, so its memory is the outputs plus one piece's, not
#: O(B * T * H) (a (1, 200000, 1) float64 sequence of H = 32 held 51 MB of hidden
#: outputs). A piece has PREDICT_PIECE_MIN_STEPS steps at least, so a large batch
#: holds B * 64 * H. The pieces give the bits of one pass (the kernels' pieces
#: property, see layers.py).
PREDICT_PIECE_VALUES = 1 << 18
#: Steps of a piece at least: each piece is one kernel call per layer, whose fixed
#: costs one-step pieces (a large batch) paid at every step (5-20% slower)
PREDICT_PIECE_MIN_STEPS = 64

__all__ = ["Network"]


def _check_rate(name, p):
    if not (0.0 <= p < 1.0):
        raise ValueError(f"{name} must be in [0, 1), got {p!r}")
    return float(p)


def _mask(rng, shape, p, dtype):
    """Inverted-dropout mask: 0 with probability p, else 1 / (1 - p)."""
    return ((rng.random_sample(shape) >= p) / (1.0 - p)).astype(dtype)


class Network:
    """Recurrent layers and a dense head, with forward and backward passes.

    Parameters
    ----------
    cell : {'lstm', 'gru', 'rnn'}
    input_size : int
    hidden_size : int or tuple of int
    output_size : int
    num_layers : int, default=1
    bidirectional : bool, default=False
    many_to_many : bool, default=False
    dropout : float, default=0.0
    input_dropout : float, default=0.0
    dtype : {'float64', 'float32'}, default='float64'
    random_state : int, RandomState or None, default=None

    Attributes
    ----------
    params : dict of ndarray
        The recurrent layers' (``rnn.<layer>.<name>``) and the head's
        (``head.W`` (D, output_size), ``head.b`` (output_size,)) parameters; the
        arrays are the live ones, updated in place by optimizers.
    """

    def __init__(self, cell, input_size, hidden_size, output_size, *, num_layers=1,
                 bidirectional=False, many_to_many=False, dropout=0.0,
                 input_dropout=0.0, dtype="float64", random_state=None):
        rng = check_random_state(random_state)
        self.stack = RecurrentStack(cell, input_size, hidden_size, num_layers=num_layers,
                                    bidirectional=bidirectional, dtype=dtype,
                                    random_state=rng)
        self.dtype = self.stack.dtype
        self.bidirectional = bool(bidirectional)
        self.many_to_many = bool(many_to_many)
        self.dropout = _check_rate("dropout", dropout)
        self.input_dropout = _check_rate("input_dropout", input_dropout)
        D = self.stack.output_size
        self.output_size = check_positive_int("output_size", output_size)
        self.head = {"W": glorot_uniform(rng, D, self.output_size).astype(self.dtype),
                     "b": np.zeros(self.output_size, dtype=self.dtype)}

    @property
    def input_size(self):
        return self.stack.input_size

    @property
    def params(self):
        out = {f"rnn.{k}": v for k, v in self.stack.params.items()}
        out.update({f"head.{k}": v for k, v in self.head.items()})
        return out

    def _gather_last(self, Y, lengths):
        """Head input of each sequence (B, D) and where it came from."""
        B = Y.shape[0]
        rows = np.arange(B)
        last = lengths - 1
        if not self.bidirectional:
            return Y[rows, last], last
        H = Y.shape[2] // 2
        return np.concatenate([Y[rows, last, :H], Y[:, 0, H:]], axis=1), last

    def forward(self, X, lengths=None, initial_states=None, *, training=False,
                rng=None, n_threads=None, input_masks=None):
        """Run the network.

        Parameters
        ----------
        X : ndarray of shape (B, T, F)
        lengths : array-like of int of shape (B,), default=None
        initial_states : list or None, default=None
            One state per recurrent layer (see :class:`RecurrentStack`).
        training : bool, default=False
            Apply dropout.
        rng : numpy.random.RandomState, default=None
            Draws the dropout masks; needed when training with dropout.
        n_threads : int or None, default=None
        input_masks : list or None, default=None
            Variational dropout masks from :meth:`draw_input_masks`, to keep the
            same ones over several calls (pieces or windows of one sequence).

        Returns
        -------
        out : ndarray of shape (B, output_size), or (B, T, output_size) for
            many-to-many (zero past each sequence's end)
        states : list, the final state of every layer
        cache : NetworkCache, for :meth:`backward`
        """
        X = check_sequences(X, self.input_size, self.dtype)
        lengths = check_lengths(lengths, X.shape[0], X.shape[1])
        self.check_dropout_rng(training, rng)
        initial_states = self.check_states(initial_states, X.shape[0])
        Y, states, cache = self.forward_layers(X, lengths, initial_states,
                                               training=training, rng=rng,
                                               n_threads=n_threads,
                                               input_masks=input_masks)
        Z = Y if self.many_to_many else self._gather_last(Y, lengths)[0]
        out, cache.head = self.head_forward(Z, lengths, training=training, rng=rng)
        return out, states, cache

    def predict_outputs(self, X, lengths, n_threads=None):
        """The network's output for prediction: no dropout and no training caches.

        Parameters
        ----------
        X : ndarray of shape (B, T, F), C-contiguous, of the network's dtype
        lengths : ndarray of intp of shape (B,), values in [1, T]
        n_threads : int or None, default=None

        Returns
        -------
        out : ndarray of shape (B, output_size), or (B, T, output_size) for
            many-to-many; each row's bits depend on its own sequence only.
        """
        if not self.bidirectional:
            return self._predict_in_pieces(X, lengths, None, n_threads)[0]
        Y = X
        for layer in self.stack.layers:
            Y, _ = layer.run_infer(Y, lengths, None, n_threads)
        Z = Y if self.many_to_many else self._gather_last(Y, lengths)[0]
        return self.head_forward(Z, lengths)[0]

    def _predict_in_pieces(self, X, lengths, states, n_threads):
        """Unidirectional prediction in pieces of time, bitwise one pass's.

        A piece holds :data:`PREDICT_PIECE_VALUES` of a layer's outputs, and at
        least :data:`PREDICT_PIECE_MIN_STEPS` steps; a call within the budget is
        one piece.

        Parameters
        ----------
        X : ndarray of shape (B, T, F), C-contiguous, of the network's dtype
        lengths : ndarray of intp of shape (B,), values in [1, T]
        states : list or None
            One initial state per layer (checked), or None for zeros.
        n_threads : int or None

        Returns
        -------
        out : ndarray of shape (B, output_size), or (B, T, output_size) for
            many-to-many
        states : list, the final state of every layer
        """
        layers = self.stack.layers
        B, T, _ = X.shape
        widest = max(layer.output_size for layer in layers)
        piece = T if B * T * widest <= PREDICT_PIECE_VALUES else max(
            PREDICT_PIECE_MIN_STEPS, PREDICT_PIECE_VALUES // (B * widest))
        states = list(states) if states else [None] * len(layers)
        whole = piece >= T
        if self.many_to_many and not whole:
            out = np.empty((B, T, self.output_size), self.dtype)
        for t0 in range(0, T, piece):
            t1 = min(T, t0 + piece)
            Y = X if whole else np.ascontiguousarray(X[:, t0:t1])
            # a piece's lengths: the steps of each sequence in it (0 passes the state)
            local = lengths if whole else np.clip(lengths - t0, 0, t1 - t0)
            for i, layer in enumerate(layers):
                # a many-to-one network's last layer: its final h is the output at
                # each sequence's last step, and its outputs are not needed
                keep = self.many_to_many or i + 1 < len(layers)
                Y, states[i] = layer.run_infer(Y, local, states[i], n_threads,
                                               keep_outputs=keep)
            if self.many_to_many:
                part = self.head_forward(Y, local)[0]
                if whole:
                    out = part
                else:
                    out[:, t0:t1] = part
        if not self.many_to_many:
            out = self.head_forward(states[-1][0], lengths)[0]
        return out, states

    def predict_with_states(self, X, lengths=None, initial_states=None, n_threads=None):
        """:meth:`forward` for prediction from given states: no dropout and no
        training caches, run in pieces of time (:data:`PREDICT_PIECE_VALUES`), so a
        long sequence costs its outputs and one piece's more (the training forward kept
        O(B * T * G) of caches: 178.5 MB against 6.1 MB on a (1, 200000, 1) LSTM of
        H = 32, ``benchmarks/bench_inference.py``). Unidirectional layers only.

        Parameters
        ----------
        X : ndarray of shape (B, T, F)
        lengths : array-like of int of shape (B,), default=None
        initial_states : list or None, default=None
            One state per recurrent layer, as :meth:`forward` takes them.
        n_threads : int or None, default=None

        Returns
        -------
        out : ndarray, as :meth:`forward` returns it (bitwise)
        states : list, the final state of every layer
        """
        if self.bidirectional:
            raise ValueError("predict_with_states runs unidirectional layers only")
        X = check_sequences(X, self.input_size, self.dtype)
        lengths = check_lengths(lengths, X.shape[0], X.shape[1])
        states = self.check_states(initial_states, X.shape[0])
        return self._predict_in_pieces(X, lengths, states, n_threads)

    def check_dropout_rng(self, training, rng):
        """Raise unless training with dropout has a random generator."""
        if training and (self.dropout > 0 or self.input_dropout > 0) and rng is None:
            raise ValueError("training with dropout needs a random generator `rng`")

    def check_states(self, states, batch):
        """Validate one initial state per layer (None: zeros), as each layer takes it."""
        layers = self.stack.layers
        if states is None:
            return None
        if not isinstance(states, (list, tuple)) or len(states) != len(layers):
            raise ValueError(f"initial_states must be a list of {len(layers)} states, "
                             "one per recurrent layer")
        out = []
        for layer, s in zip(layers, states):
            if hasattr(layer, "forward_layer"):
                if s is None:
                    out.append(None)
                    continue
                if not isinstance(s, (list, tuple)) or len(s) != 2:
                    raise ValueError("the state of a bidirectional layer is a pair "
                                     "(forward_state, backward_state)")
                out.append(tuple(sub._check_state(x, batch, "initial_state")
                                 for sub, x in zip((layer.forward_layer,
                                                    layer.backward_layer), s)))
            else:
                out.append(layer._check_state(s, batch, "initial_state"))
        return out

    def draw_input_masks(self, batch, rng):
        """Variational dropout masks, one (batch, 1, features) array per layer."""
        if self.input_dropout == 0:
            return [None] * len(self.stack.layers)
        return [_mask(rng, (batch, 1, layer.input_size), self.input_dropout, self.dtype)
                for layer in self.stack.layers]

    def forward_layers(self, X, lengths, initial_states=None, *, training=False,
                       rng=None, n_threads=None, input_masks=None):
        """The recurrent layers only, on validated input.

        Parameters
        ----------
        X : ndarray of shape (B, T, F), C-contiguous, of the network's dtype
        lengths : ndarray of intp of shape (B,)
            In [0, T]; 0 passes a sequence's state through (pieces of a sequence
            that ended earlier).
        initial_states : list or None
        training, rng, n_threads : see :meth:`forward`
        input_masks : list or None
            See :meth:`forward`; drawn here when training without them.

        Returns
        -------
        Y : ndarray of shape (B, T, D), the last layer's outputs
        states : list, each layer's final state
        cache : NetworkCache, without the head's part
        """
        B = X.shape[0]
        layers = self.stack.layers
        if initial_states is None:
            initial_states = [None] * len(layers)
        if training and input_masks is None:
            input_masks = self.draw_input_masks(B, rng)
        caches, in_masks, out_masks, states = [], [], [], []
        Y = X
        for i, layer in enumerate(layers):
            m_in = input_masks[i] if training else None
            if m_in is not None:
                Y = Y * m_in
            Y, s, c = layer.run_forward(Y, lengths, initial_states[i], n_threads)
            m_out = None
            if training and self.dropout > 0 and i + 1 < len(layers):
                m_out = _mask(rng, Y.shape, self.dropout, self.dtype)
                Y = Y * m_out
            in_masks.append(m_in)
            out_masks.append(m_out)
            caches.append(c)
            states.append(s)
        cache = NetworkCache(caches=caches, in_masks=in_masks, out_masks=out_masks,
                             lengths=lengths, shape=Y.shape)
        return Y, states, cache

    def head_forward(self, Z, lengths, *, training=False, rng=None):
        """The dense head.

        Parameters
        ----------
        Z : ndarray of shape (B, D), or (B, T, D) for many-to-many
        lengths : ndarray of intp of shape (B,)
        training, rng : see :meth:`forward`

        Returns
        -------
        out : ndarray of shape (B, output_size) or (B, T, output_size)
        cache : HeadCache, for :meth:`head_backward`
        """
        m_head = None
        if training and self.dropout > 0:
            m_head = _mask(rng, Z.shape, self.dropout, self.dtype)
            Z = Z * m_head
        # the kernels' own product, not BLAS (nor einsum): a row's bits then depend
        # neither on the batch it is in nor on the BLAS NumPy loaded, and one step
        # of the compiled stepper (_kernels/_stream.pyx) gives the same bits
        Z2 = np.ascontiguousarray(Z.reshape(-1, Z.shape[-1]))
        out = np.empty((Z2.shape[0], self.head["W"].shape[1]), self.dtype)
        cell_kernels("lstm").microkernel_gemm(Z2, np.ascontiguousarray(self.head["W"]), out)
        out += self.head["b"]
        if self.many_to_many:
            out = out.reshape(Z.shape[:-1] + (out.shape[1],))
            out[np.arange(out.shape[1])[None, :] >= lengths[:, None]] = 0
        return out, HeadCache(Z=Z, m_head=m_head)

    def head_backward(self, cache, d_out, lengths):
        """Gradients of the head's parameters and of its input.

        Parameters
        ----------
        cache : HeadCache from :meth:`head_forward`
        d_out : ndarray, the shape of the head's output
        lengths : ndarray of intp of shape (B,)

        Returns
        -------
        grads : dict, ``head.W`` (D, output_size) and ``head.b`` (output_size,)
        dZ : ndarray, the shape of the head's input
        """
        d_out = np.asarray(d_out, dtype=self.dtype)
        Z = cache.Z
        expected = Z.shape[:-1] + (self.output_size,)
        if d_out.shape != expected:  # (1, T, P) would broadcast over the batch
            raise ValueError(f"d_out has shape {d_out.shape}, expected the outputs' "
                             f"shape {expected}")
        if self.many_to_many:
            T = d_out.shape[1]
            d_out = np.where((np.arange(T)[None, :] < lengths[:, None])[..., None],
                             d_out, 0)
        # the kernels' own products, as head_forward's: BLAS's changed the gradients'
        # last bits with the BLAS NumPy loaded (OpenBLAS's kernel, for one)
        Z2 = np.ascontiguousarray(Z.reshape(-1, Z.shape[-1]))
        d2 = np.ascontiguousarray(d_out.reshape(-1, self.output_size))
        kernels = cell_kernels("lstm")
        dW = np.zeros((Z2.shape[1], self.output_size), self.dtype)
        kernels.microkernel_gemm_tn_add(Z2, d2, dW)
        grads = {"head.W": dW, "head.b": d2.sum(axis=0)}
        dZ = np.empty((d2.shape[0], Z2.shape[1]), self.dtype)
        kernels.microkernel_gemm(d2, self.head["W"].T, dZ)
        dZ = dZ.reshape(d_out.shape[:-1] + (Z2.shape[1],))
        if cache.m_head is not None:
            dZ = dZ * cache.m_head
        return grads, dZ

    def scatter_last(self, dZ, lengths, shape):
        """Put dZ (B, D) back where :meth:`_gather_last` read it.

        Returns
        -------
        dY : ndarray of shape ``shape`` = (B, T, D), zero elsewhere
        """
        B, T, D = shape
        dY = np.zeros((B, T, D), dtype=self.dtype)
        rows, last = np.arange(B), lengths - 1
        if self.bidirectional:
            H = D // 2
            dY[rows, last, :H] = dZ[:, :H]
            dY[:, 0, H:] += dZ[:, H:]
        else:
            dY[rows, last] = dZ
        return dY

    def backward(self, cache, d_out, d_states=None, *, clip_step=None, n_threads=None,
                 stats=None):
        """Gradients of every parameter given the gradient of the output.

        Parameters
        ----------
        cache : NetworkCache from :meth:`forward`
        d_out : ndarray, the shape of ``out``
        d_states : list or None, default=None
            Gradients with respect to the final states (truncated BPTT).
        clip_step : float or None, default=None
            Per-step clipping of dL/dh_t in every recurrent layer: a positive
            finite number, or None for none.
        n_threads : int or None, default=None
        stats : dict or None, default=None
            If a dict, receives per layer ``delta_sq`` (B, T) and ``n_clipped`` (B,)
            as lists (first layer first).

        Returns
        -------
        grads : dict of ndarray, keyed like :attr:`params`
        d_initial_states : list
        """
        _check_clip(clip_step)
        lengths = cache.lengths
        grads, dZ = self.head_backward(cache.head, d_out, lengths)
        dY = dZ if self.many_to_many else self.scatter_last(dZ, lengths, cache.shape)
        g, d_init = self.backward_layers(cache, dY, d_states, clip_step=clip_step,
                                         n_threads=n_threads, stats=stats)
        grads.update(g)
        return grads, d_init

    def backward_layers(self, cache, dY, d_states=None, *, clip_step=None,
                        n_threads=None, stats=None, acc=None):
        """Backward through the recurrent layers from dY (B, T, D) at the top.

        ``acc`` (a list of per-layer accumulators, see
        :meth:`RecurrentLayer.run_backward`) makes the weight gradients add up in
        place instead of being returned. Returns (grads, d_initial_states).
        """
        layers = self.stack.layers
        d_states = [None] * len(layers) if d_states is None else d_states
        d_init, grads = [None] * len(layers), {}
        layer_stats = [dict() for _ in layers]
        for i in range(len(layers) - 1, -1, -1):
            if cache.out_masks[i] is not None:
                dY = dY * cache.out_masks[i]
            # the first layer's input gradient is never read: not computed
            dY, d_init[i], g = layers[i].run_backward(
                cache.caches[i], dY, d_states[i], n_threads, clip_step,
                layer_stats[i], None if acc is None else acc[i], need_dx=i > 0)
            if cache.in_masks[i] is not None and i > 0:
                dY = dY * cache.in_masks[i]
            if g is not None:
                grads.update({f"rnn.{i}.{k}": v for k, v in g.items()})
        if stats is not None:
            stats["delta_sq"] = [s.get("delta_sq") for s in layer_stats]
            stats["n_clipped"] = [s.get("n_clipped") for s in layer_stats]
        return grads, d_init


def param_shapes(cell, input_size, hidden_size, output_size, *, num_layers=1,
                 bidirectional=False):
    """The shapes of a :class:`Network`'s parameters, by name, without building it.

    Lets a caller check stored weights (e.g. a model file) before allocating any.

    Returns
    -------
    dict of tuple
    """
    from ._cells import CELLS
    sizes = (list(hidden_size) if isinstance(hidden_size, (tuple, list))
             else [hidden_size] * num_layers)
    shapes, size_in = {}, input_size
    for i, h in enumerate(sizes):
        layer = CELLS[cell].param_shapes(size_in, h)
        if bidirectional:
            for direction in ("forward", "backward"):
                shapes.update({f"rnn.{i}.{direction}.{k}": v for k, v in layer.items()})
            size_in = 2 * h
        else:
            shapes.update({f"rnn.{i}.{k}": v for k, v in layer.items()})
            size_in = h
    shapes["head.W"] = (size_in, output_size)
    shapes["head.b"] = (output_size,)
    return shapes
