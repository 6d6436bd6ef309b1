"""Deterministic reduction of per-chunk gradient accumulators.

``sum_chunks(partial, out, n_threads)`` sums ``partial`` (n_chunks, size) over its
chunks in the order 0, 1, ... for every element, whatever the thread count;
``BLOCK_STEPS`` is the backward kernels' weight-gradient block length. Both are
compiled into the LSTM modules (``_reduce.pxi``); this is the baseline build's.
"""
from ._lstm import kernel_block_steps, sum_chunks

__all__ = ["BLOCK_STEPS", "sum_chunks"]

#: Steps per weight-gradient block in the backward kernels (see _common.pxd).
BLOCK_STEPS = kernel_block_steps()
