"""One small class per cell type: allocate caches and call the compiled kernels.

These classes hold no parameters and validate nothing; :mod:`tsbptt.engine.layers`
checks user input before anything reaches them. Everything is batch-major
``(B, T, .)`` and C-contiguous; the layout is in ``docs/kernel_layout.md``.
"""
import numpy as np

from .._kernels import _gru, _lstm, _rnn
from ._threads import chunk_rows, single_threaded_blas


class _Cell:
    """Common interface. Subclasses set ``name``, ``n_gates``, ``state_names``."""

    name = None
    n_gates = None
    #: Names of the recurrent state arrays, in the order they travel in a tuple.
    state_names = ("h",)

    def param_shapes(self, input_size, hidden_size):
        """Shapes of the parameter arrays, by name."""
        return {"W": (input_size + hidden_size + 1, self.n_gates * hidden_size)}

    def forward(self, X, params, state0, lengths, n_threads):
        """Run the kernel forward.

        Returns
        -------
        Y : ndarray of shape (B, T, H)
        state : tuple of ndarray of shape (B, H)
        cache : dict, everything :meth:`backward` needs
        """
        raise NotImplementedError

    def backward(self, cache, dY, d_state, n_threads):
        """Run the kernel backward.

        Returns
        -------
        dX : ndarray of shape (B, T, F)
        d_state0 : tuple of ndarray of shape (B, H)
        grads : dict of ndarray, same keys and shapes as the parameters
        """
        raise NotImplementedError


def _empty(shape, dtype):
    return np.empty(shape, dtype=dtype)


def _partials(B, chunk, shape, dtype):
    n_chunks = -(-B // chunk)
    return np.empty((n_chunks,) + shape, dtype=dtype)


class LSTMCell(_Cell):
    """Long short-term memory; gates i, f, g, o; state (h, c)."""

    name = "lstm"
    n_gates = 4
    state_names = ("h", "c")

    def forward(self, X, params, state0, lengths, n_threads):
        B, T, _ = X.shape
        W = params["W"]
        h0, c0 = state0
        H = h0.shape[1]
        dt = X.dtype
        chunk = chunk_rows(B)
        cache = dict(X=X, W=W, c0=c0, lengths=lengths, chunk=chunk,
                     gates=_empty((B, T, 4 * H), dt), h_prev=_empty((B, T, H), dt),
                     cell=_empty((B, T, H), dt))
        Y, h_T, c_T = _empty((B, T, H), dt), _empty((B, H), dt), _empty((B, H), dt)
        with single_threaded_blas():
            _lstm.lstm_forward(X, W, h0, c0, lengths, cache["gates"], cache["h_prev"],
                               cache["cell"], Y, h_T, c_T, chunk, n_threads)
        return Y, (h_T, c_T), cache

    def backward(self, cache, dY, d_state, n_threads):
        X, W, chunk = cache["X"], cache["W"], cache["chunk"]
        B, T, F = X.shape
        H = cache["c0"].shape[1]
        dt = X.dtype
        dX, dh0, dc0, dW = (_empty((B, T, F), dt), _empty((B, H), dt),
                            _empty((B, H), dt), _empty(W.shape, dt))
        with single_threaded_blas():
            _lstm.lstm_backward(
                X, W, cache["c0"], cache["lengths"], cache["gates"], cache["h_prev"],
                cache["cell"], dY, d_state[0], d_state[1], dX, dh0, dc0, dW,
                _empty((B, T, 4 * H), dt), _empty((B, H), dt),
                _partials(B, chunk, W.shape, dt), chunk, n_threads)
        return dX, (dh0, dc0), {"W": dW}


class GRUCell(_Cell):
    """Gated recurrent unit, reset gate after the recurrent matmul (cuDNN/PyTorch)."""

    name = "gru"
    n_gates = 3

    def param_shapes(self, input_size, hidden_size):
        shapes = super().param_shapes(input_size, hidden_size)
        shapes["b_hn"] = (hidden_size,)
        return shapes

    def forward(self, X, params, state0, lengths, n_threads):
        B, T, _ = X.shape
        W, b_hn = params["W"], params["b_hn"]
        (h0,) = state0
        H = h0.shape[1]
        dt = X.dtype
        chunk = chunk_rows(B)
        cache = dict(X=X, W=W, lengths=lengths, chunk=chunk,
                     gates=_empty((B, T, 3 * H), dt), h_prev=_empty((B, T, H), dt),
                     hn=_empty((B, T, H), dt))
        Y, h_T = _empty((B, T, H), dt), _empty((B, H), dt)
        with single_threaded_blas():
            _gru.gru_forward(X, W, b_hn, h0, lengths, cache["gates"], cache["h_prev"],
                             cache["hn"], Y, h_T, _empty((B, 3 * H), dt), chunk,
                             n_threads)
        return Y, (h_T,), cache

    def backward(self, cache, dY, d_state, n_threads):
        X, W, chunk = cache["X"], cache["W"], cache["chunk"]
        B, T, F = X.shape
        H = cache["hn"].shape[2]
        dt = X.dtype
        dX, dh0, dW, db_hn = (_empty((B, T, F), dt), _empty((B, H), dt),
                              _empty(W.shape, dt), _empty((H,), dt))
        with single_threaded_blas():
            _gru.gru_backward(
                X, W, cache["lengths"], cache["gates"], cache["h_prev"], cache["hn"],
                dY, d_state[0], dX, dh0, dW, db_hn, _empty((B, T, 3 * H), dt),
                _empty((B, T, 3 * H), dt), _empty((B, H), dt),
                _partials(B, chunk, W.shape, dt), _partials(B, chunk, (H,), dt),
                chunk, n_threads)
        return dX, (dh0,), {"W": dW, "b_hn": db_hn}


class RNNCell(_Cell):
    """Elman recurrent network with tanh."""

    name = "rnn"
    n_gates = 1

    def forward(self, X, params, state0, lengths, n_threads):
        B, T, _ = X.shape
        W = params["W"]
        (h0,) = state0
        H = h0.shape[1]
        dt = X.dtype
        chunk = chunk_rows(B)
        cache = dict(X=X, W=W, lengths=lengths, chunk=chunk,
                     gates=_empty((B, T, H), dt), h_prev=_empty((B, T, H), dt))
        Y, h_T = _empty((B, T, H), dt), _empty((B, H), dt)
        with single_threaded_blas():
            _rnn.rnn_forward(X, W, h0, lengths, cache["gates"], cache["h_prev"], Y, h_T,
                             chunk, n_threads)
        return Y, (h_T,), cache

    def backward(self, cache, dY, d_state, n_threads):
        X, W, chunk = cache["X"], cache["W"], cache["chunk"]
        B, T, F = X.shape
        H = cache["h_prev"].shape[2]
        dt = X.dtype
        dX, dh0, dW = _empty((B, T, F), dt), _empty((B, H), dt), _empty(W.shape, dt)
        with single_threaded_blas():
            _rnn.rnn_backward(
                X, W, cache["lengths"], cache["gates"], cache["h_prev"], dY, d_state[0],
                dX, dh0, dW, _empty((B, T, H), dt), _empty((B, H), dt),
                _partials(B, chunk, W.shape, dt), chunk, n_threads)
        return dX, (dh0,), {"W": dW}


CELLS = {cls.name: cls() for cls in (LSTMCell, GRUCell, RNNCell)}
