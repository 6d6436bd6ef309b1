"""Let glibc's malloc keep a training step's large arrays: one freed block first.

glibc serves a request above its mmap threshold (128 KB in a fresh process) with
fresh pages and hands them back to the system when the array is freed; the first
time it frees such a block it raises the threshold to that block's size (up to 32
MB) and its heap's trim threshold to twice that, and from then on keeps memory of
that size in its heap. So how much a training step pays for its arrays (the caches,
outputs and gradients, allocated afresh every step) depended on what the process
had freed before: a bare (64, 50, 8, 64) LSTM step took 9.6 ms and 1,645 page faults
in a fresh process, 6.0 ms and none once a large block had been freed (as torch's
allocations did when it ran in the same process, which hid this from the
benchmarks), and a (4096 windows of (48, 1), H = 64, batch 64) fit up to 1.5 s
instead of 0.9 s (benchmarks/reports/training_step.md, "malloc").

:func:`settle_malloc` frees one 16 MB block before the first training step of the
process, so every process starts in the adapted state: arrays up to 16 MB come from
the heap, and up to 32 MB of freed heap stays mapped. That is what glibc does by
itself in any program that frees a 16 MB array; other allocators are left as they
are, and so is a glibc told its thresholds (``MALLOC_TRIM_THRESHOLD_`` and the
like, as Dask's nanny sets for its workers), which then adapts no more. (Keeping
the arrays in a pool of our own, tried in the same round, saved no more and cost
1-8%.)
"""
import numpy as np

#: The freed block's size: above glibc's initial mmap threshold, under its 32 MB cap.
SETTLE_BYTES = 16 << 20

_settled = False


def settle_malloc():
    """Allocate and free one SETTLE_BYTES block, once per process (cheap after)."""
    global _settled
    if not _settled:
        _settled = True
        _free_one_block(SETTLE_BYTES)


def _free_one_block(nbytes):
    np.empty(nbytes, np.uint8)  # mapped, then freed at once: glibc adapts
