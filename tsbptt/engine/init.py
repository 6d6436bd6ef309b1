"""Parameter initialisation for the recurrent cells.

Per gate block: Glorot/Xavier uniform input weights, orthogonal recurrent weights,
zero biases except the LSTM forget gate (bias 1, so early in training the cell
remembers rather than forgets; Jozefowicz et al. 2015). Values are drawn in float64
and then cast, so float32 and float64 layers with the same seed start from the same
numbers up to rounding.
"""
import numpy as np

from ._threads import all_blas_single_threaded


def glorot_uniform(rng, fan_in, fan_out):
    """Array (fan_in, fan_out) from U(-a, a) with a = sqrt(6 / (fan_in + fan_out))."""
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=(fan_in, fan_out))


def orthogonal(rng, n):
    """A random (n, n) orthogonal matrix, uniformly distributed (Haar measure)."""
    # LAPACK on one BLAS thread: a few milliseconds, where a multi-threaded BLAS
    # sharing the cores with other work (or with OpenMP threads still spinning after
    # a kernel call) took up to half a second per matrix, all of it serial in a fit.
    with all_blas_single_threaded():
        q, r = np.linalg.qr(rng.standard_normal((n, n)))
    # Fix the signs so that the distribution is uniform (Mezzadri 2007).
    return q * np.sign(np.diag(r))


def init_cell_params(cell, input_size, hidden_size, rng, dtype):
    """Fresh parameters of one recurrent layer.

    Parameters
    ----------
    cell : tsbptt.engine._cells._Cell
    input_size, hidden_size : int
    rng : numpy.random.RandomState
    dtype : numpy dtype

    Returns
    -------
    dict of ndarray
        ``W`` of shape (input_size + hidden_size + 1, n_gates * hidden_size), packed
        as [W_x; W_h; b]; GRU also ``b_hn`` of shape (hidden_size,).
    """
    F, H, G = input_size, hidden_size, cell.n_gates
    W = np.zeros((F + H + 1, G * H))
    for k in range(G):
        block = slice(k * H, (k + 1) * H)
        W[:F, block] = glorot_uniform(rng, F, H)
        W[F:F + H, block] = orthogonal(rng, H)
    if cell.name == "lstm":
        W[F + H, H:2 * H] = 1.0  # forget gate
    params = {"W": np.ascontiguousarray(W, dtype=dtype)}
    if cell.name == "gru":
        params["b_hn"] = np.zeros(H, dtype=dtype)
    return params
