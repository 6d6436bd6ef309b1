"""Large arrays of the training step, kept from one step to the next of a fit.

A training step allocates its caches, outputs and gradients afresh: several
arrays of (B, T, width) per layer. malloc serves arrays that large from fresh
pages (mmap), or returns the freed top of its heap to the system once the step
frees more than its trim threshold; either way every page is faulted in and
zeroed by the kernel again at the next step. On the 2-core development machine a
(64, 50, 8, 64) LSTM step spent 45% of its time in page faults (9.2 ms a step,
5.0 ms with malloc told to keep its memory), and a (64, 48, 1) fit 13% (see
benchmarks/reports/training_step.md). How much a step pays depends on what else
the process allocated, so it also swung the benchmarks.

A :class:`BufferPool` keeps those arrays for the next request of the same shape:
:func:`train` runs a fit inside one, and :func:`empty` / :func:`zeros` take from the
pool active in the calling thread, or from NumPy when none is. A kept array is
handed out again only when nothing else refers to it: no cache, no view, no
memoryview, no caller (CPython's reference count says so, checked under a lock).
So the pool changes no result: a kernel writes every element of an output before
reading it, which the tests check by poisoning reused arrays with NaN.

The pool lives as long as the fit, so its memory is held no longer than the
arrays it replaces were needed: at most one step's arrays per shape in use, plus
those of a last short batch, and never over ``max_bytes``.
"""
import contextvars
import math
import sys
import threading
from collections import OrderedDict

import numpy as np

__all__ = ["BufferPool", "empty", "zeros"]

#: Arrays smaller than this come from NumPy: malloc serves them from its heap
#: without page faults, faster than the pool's bookkeeping.
POOL_MIN_BYTES = 1 << 16
#: Most bytes a pool holds, in use or free (a larger array is never pooled).
POOL_MAX_BYTES = 1 << 30

#: The pool :func:`empty` and :func:`zeros` take from, per thread (None: NumPy).
_active = contextvars.ContextVar("tsbptt_buffer_pool", default=None)


def _refcount_of_item(arrays, i):
    """CPython's reference count of ``arrays[i]``, as :meth:`BufferPool._take_free`
    sees it; the baseline :data:`_FREE_REFS` is measured the same way."""
    return sys.getrefcount(arrays[i])


#: The reference count of an array that only its pool's list refers to.
_FREE_REFS = _refcount_of_item([np.empty(0)], 0)


class BufferPool:
    """Arrays kept for the next request of the same shape and dtype.

    Parameters
    ----------
    max_bytes : int, default=POOL_MAX_BYTES
        Most bytes of arrays the pool holds. When a new array would pass it, free
        arrays are dropped (the least recently requested shape first); if that
        is not enough, the new array is handed out without being kept.

    Notes
    -----
    ``with pool:`` makes it the calling thread's (and context's) active pool for
    :func:`empty` and :func:`zeros`; pools nest. Leaving the outermost ``with``
    keeps the arrays; :meth:`clear` drops them.
    """

    def __init__(self, max_bytes=POOL_MAX_BYTES):
        self.max_bytes = int(max_bytes)
        self._arrays = OrderedDict()  # (shape, dtype) -> list of kept arrays
        self._nbytes = 0
        self._lock = threading.Lock()
        self._entered = threading.local()  # per thread: the tokens of its `with`s

    @property
    def nbytes(self):
        """Bytes of the arrays the pool holds, in use or free."""
        return self._nbytes

    def empty(self, shape, dtype):
        """An array like ``np.empty(shape, dtype)``, kept by the pool if large.

        Its contents are undefined: those of a previous use, if it is one.
        """
        dtype = np.dtype(dtype)
        nbytes = math.prod(shape) * dtype.itemsize
        if not self._keeps(nbytes):
            return np.empty(shape, dtype)
        key = (tuple(shape), dtype)
        with self._lock:
            kept = self._arrays.get(key)
            if kept is not None:
                self._arrays.move_to_end(key)
                i = self._take_free(kept)
                if i is not None:
                    return kept[i]
            a = np.empty(shape, dtype)
            if self._make_room(nbytes):
                self._arrays.setdefault(key, []).append(a)
                self._nbytes += nbytes
            return a

    def zeros(self, shape, dtype):
        """An array like ``np.zeros(shape, dtype)``, kept by the pool if large."""
        if not self._keeps(math.prod(shape) * np.dtype(dtype).itemsize):
            return np.zeros(shape, dtype)  # calloc: no second pass over the memory
        a = self.empty(shape, dtype)
        a.fill(0)
        return a

    def _keeps(self, nbytes):
        return POOL_MIN_BYTES <= nbytes <= self.max_bytes

    def clear(self):
        """Drop every kept array (those in use stay valid for their holders)."""
        with self._lock:
            self._arrays.clear()
            self._nbytes = 0

    @staticmethod
    def _take_free(kept):
        """Index of an array of ``kept`` that nothing outside the pool refers to."""
        for i in range(len(kept)):
            if _refcount_of_item(kept, i) <= _FREE_REFS:
                return i
        return None

    def _make_room(self, nbytes):
        """Drop free arrays, oldest shapes first, until ``nbytes`` more fit."""
        for key in list(self._arrays):
            if self._nbytes + nbytes <= self.max_bytes:
                break
            kept = self._arrays[key]
            while self._nbytes + nbytes > self.max_bytes:
                i = self._take_free(kept)
                if i is None:
                    break
                self._nbytes -= kept.pop(i).nbytes
            if not kept:
                del self._arrays[key]
        return self._nbytes + nbytes <= self.max_bytes

    def __enter__(self):
        tokens = getattr(self._entered, "tokens", None)
        if tokens is None:
            tokens = self._entered.tokens = []
        tokens.append(_active.set(self))
        return self

    def __exit__(self, *exc):
        _active.reset(self._entered.tokens.pop())
        return False


def empty(shape, dtype):
    """``np.empty(shape, dtype)``, from the active :class:`BufferPool` if any."""
    pool = _active.get()
    if pool is None:
        return np.empty(shape, dtype)
    return pool.empty(shape, dtype)


def zeros(shape, dtype):
    """``np.zeros(shape, dtype)``, from the active :class:`BufferPool` if any."""
    pool = _active.get()
    if pool is None:
        return np.zeros(shape, dtype)
    return pool.zeros(shape, dtype)
