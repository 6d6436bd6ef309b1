"""Typed containers the engine passes between its forward and backward passes.

A forward pass returns a cache, the matching backward pass reads it; nothing else
looks inside. Each cell's cache holds the arrays its kernel fills (their layout is
the kernel's, see ``docs/kernel_layout.md``), and the cell that wrote it reads it
back (:meth:`tsbptt.engine._cells._Cell.state_at`), so the layout is known in one
place. Fields are plain NumPy arrays; the classes add no behaviour.
"""
from dataclasses import dataclass

import numpy as np

__all__ = ["BackwardWork", "BidirectionalCache", "GRUCache", "HeadCache", "LSTMCache",
           "NetworkCache", "RNNCache"]


@dataclass(slots=True)
class RNNCache:
    """What a cell's backward needs from its forward (the Elman cell's, as is).

    Attributes
    ----------
    W : ndarray of shape (F + H + 1, G * H)
        The weights the forward used (G gates).
    lengths : ndarray of intp of shape (B,)
    xh : ndarray of shape (B, T, F + H + 1)
        Every step's input row ``[x_t, h_{t-1}, 1]``.
    gates : ndarray of shape (B, T, G * H)
        Every step's activated gates (the RNN's h_t).
    """

    W: np.ndarray
    lengths: np.ndarray
    xh: np.ndarray
    gates: np.ndarray


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
        Rows per work chunk (:func:`tsbptt.engine._threads.chunk_rows`).
    n_chunks : int
    rows : int
        Rows of one gradient block: ``BLOCK_STEPS * min(chunk, B)``.
    dX : ndarray of shape (B, T, F), or (0, T, F)
        OUT: the gradient of the input; no rows when it is not wanted (the
        kernels then skip its products).
    scratch : tuple of ndarray
        WORK: the kernel's per-chunk work arrays, first the block of input rows
        (n_chunks, rows, F + H + 1) for the weight-gradient product; kept for the
        next call of the same shape.
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
