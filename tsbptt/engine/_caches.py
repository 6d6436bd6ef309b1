"""Typed containers the engine passes between its forward and backward passes.

A forward pass returns a cache, the matching backward pass reads it; nothing else
looks inside. Each cell's cache holds the arrays its kernel fills (their layout is
the kernel's, see ``docs/kernel_layout.md``), and the cell that wrote it reads it
back (:meth:`tsbptt.engine._cells._Cell.state_at`), so the layout is known in one
place. Fields are plain NumPy arrays (and ``chunk``, an int); the classes add no
behaviour.

The kernels lay the training caches (``xh``, ``gates``, ``cell``, ``hn``) out chunk by
chunk, time-major inside a chunk: they have the shape (B, T, width), but the row
for sample r at step t of the chunk of rows [r0, r0 + nb) is the flat row
``r0 * T + t * nb + (r - r0)``, so one step's rows are consecutive for the kernels.
:func:`step_rows` and :func:`batch_major` read them back.
"""
from dataclasses import dataclass

import numpy as np

__all__ = ["BackwardWork", "BidirectionalCache", "GRUCache", "HeadCache", "LSTMCache",
           "NetworkCache", "RNNCache", "batch_major", "step_rows"]


def step_rows(a, chunk, t):
    """The rows of step ``t`` of a training cache, in sample order.

    Parameters
    ----------
    a : ndarray of shape (B, T, width)
        A cache array as the kernels lay it out (chunk by chunk, time-major inside
        a chunk).
    chunk : int
        Rows per chunk of the call that filled it (``RNNCache.chunk``).
    t : int
        The step, 0 <= t < T.

    Returns
    -------
    ndarray of shape (B, width)
        A new C-contiguous array: row ``r`` is sample r's row at step t.
    """
    B, T, width = a.shape
    flat = a.reshape(B * T, width)
    out = np.empty((B, width), dtype=a.dtype)
    for r0 in range(0, B, chunk):
        nb = min(chunk, B - r0)
        start = r0 * T + t * nb
        out[r0:r0 + nb] = flat[start:start + nb]
    return out


def batch_major(a, chunk):
    """A training cache in batch-major order (see :func:`step_rows`).

    Parameters
    ----------
    a : ndarray of shape (B, T, width)
        A training cache in the kernels' chunk-time-major order.
    chunk : int
        The rows per chunk it was filled with (the cache's ``chunk``).

    Returns
    -------
    out : ndarray of shape (B, T, width)
        A new array: ``out[r, t]`` is sample r's row at step t.
    """
    B, T, width = a.shape
    flat = a.reshape(B * T, width)
    out = np.empty_like(a)
    for r0 in range(0, B, chunk):
        nb = min(chunk, B - r0)
        out[r0:r0 + nb] = flat[r0 * T:(r0 + nb) * T].reshape(T, nb, width).transpose(1, 0, 2)
    return out


@dataclass(slots=True)
class RNNCache:
    """What a cell's backward needs from its forward (the Elman cell's, as is).

    Attributes
    ----------
    W : ndarray of shape (F + H + 1, G * H)
        The weights the forward used (G gates).
    lengths : ndarray of intp of shape (B,)
    xh : ndarray of shape (B, T, F + H + 1)
        Every step's input row ``[x_t, h_{t-1}, 1]`` (chunk-time-major, see the
        module's notes; so are ``gates``, ``cell`` and ``hn``).
    gates : ndarray of shape (B, T, G * H)
        Every step's activated gates (the RNN's h_t).
    chunk : int
        Rows per chunk of the forward that filled the arrays: where each row is.
    """

    W: np.ndarray
    lengths: np.ndarray
    xh: np.ndarray
    gates: np.ndarray
    chunk: int


@dataclass(slots=True, kw_only=True)
class GRUCache(RNNCache):
    """:class:`RNNCache` plus ``hn`` (B, T, H): the GRU's recurrent product
    ``W_hn h_{t-1} + b_hn`` before the reset gate multiplies it."""

    hn: np.ndarray


@dataclass(slots=True, kw_only=True)
class LSTMCache(RNNCache):
    """:class:`RNNCache` plus the cell state: ``c0`` (B, H) the initial one,
    ``cell`` (B, T, H) every step's, ``h_T`` (B, H) a copy of the final h."""

    c0: np.ndarray
    cell: np.ndarray
    h_T: np.ndarray = None  # set after the kernel call


@dataclass(slots=True)
class BidirectionalCache:
    """The two directions' caches and the index that reverses each sequence."""

    forward: RNNCache
    backward: RNNCache
    rev: tuple


@dataclass(slots=True)
class HeadCache:
    """The dense head's input (after dropout) and its dropout mask (or None)."""

    Z: np.ndarray
    m_head: np.ndarray = None


@dataclass(slots=True)
class NetworkCache:
    """A network's forward: one cache per recurrent layer, the dropout masks that
    were applied around each layer, the lengths, the top layer's output shape
    (B, T, D) and the head's cache (None for the recurrent layers alone)."""

    caches: list
    in_masks: list
    out_masks: list
    lengths: np.ndarray
    shape: tuple
    head: HeadCache = None


@dataclass(slots=True)
class BackwardWork:
    """Arrays and sizes of one backward kernel call that every cell shares.

    Attributes
    ----------
    chunk : int
        Rows per chunk: the cache's (``RNNCache.chunk``), on which the kernels' row
        order depends.
    n_chunks : int
    rows : int
        Rows of one gradient block: ``BLOCK_STEPS * min(chunk, B)``.
    dX : ndarray of shape (B, T, F), or (0, T, F)
        OUT: the gradient of the input; no rows when it is not wanted (the
        kernels then skip its products).
    scratch : tuple of ndarray
        WORK: the kernel's per-chunk work arrays (the block of gate-gradient rows
        first; the block's input rows are read from the cache where they stand);
        kept for the next call of the same shape.
    spec : tsbptt.engine._cells._WorkSpec
        The call's chunking and work-array shapes; ``spec.give(scratch)`` keeps them.
    n_clipped : ndarray of intp of shape (B,)
        OUT: entries clipped by ``clip_step``, per sample.
    delta_sq : ndarray of shape (B, T)
        OUT: the squared norm of dL/dh_t before clipping.
    """

    chunk: int
    n_chunks: int
    rows: int
    dX: np.ndarray
    scratch: tuple
    spec: object
    n_clipped: np.ndarray
    delta_sq: np.ndarray
