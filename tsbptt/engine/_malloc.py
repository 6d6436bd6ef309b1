"""Let glibc's malloc keep a training step's large arrays: one freed block first.

glibc serves a request above its mmap threshold (128 KB in a fresh process) with
fresh pages and unmaps them when the array is freed. Freeing such a block raises the
threshold to that block's size (up to 32 MB) and the heap's trim threshold to twice
that, but in a fresh process the largest array freed so far is one of the step's
own, and twice it is less than a step frees in all: the top of the heap was handed
back to the system after every step and faulted in again at the next. A bare
(64, 50, 8, 64) LSTM step took 8.90 ms with 1,639 page faults, 5.19 ms with none once
settled, and a fit of 4,096 windows of (48, 1) at H = 64, batch 64, 2.02 s instead of
1.08 s (``benchmarks/bench_malloc.py``; benchmarks/reports/training_step.md,
"malloc"). How much a process paid depended on what it had freed before (torch's
allocations, in the same process, hid it from the benchmarks).

:func:`settle_malloc` frees one block of just under 32 MB, the largest glibc adapts
to, before the first forward pass (training or prediction) of the process: arrays
up to that size then come from the heap, and up to twice that of freed heap stays
mapped (resident memory a process keeps, as any program that frees such an array
does; only memory the steps did use). Until 2026-12-04 the block was 16 MB, which
left steps whose arrays total 32-64 MB faulting their pages in again: a (64, 100,
16, 256) LSTM step took ~3,970 page faults and 7-8% more time (report section
"settle"). Steps whose arrays total more than 64 MB, or which use an array above
32 MB (glibc always maps those afresh), still give some back; at those sizes the
faults are a few percent of the step. Other allocators are left as they are, and so
is a glibc told its thresholds (``MALLOC_TRIM_THRESHOLD_`` and the like, as Dask's
nanny sets for its workers, or ``GLIBC_TUNABLES``), which then adapts no more. (A
pool keeping the arrays, tried in the same round, saved no more and cost 1-8%; one
keeping only the arrays above 32 MB, tried on 2026-12-04, saved 1-3% of the largest
grid row's step and was not worth its code.)
"""
import numpy as np

#: The freed block's size: the largest whose mapping glibc's thresholds rise to. Its cap
#: (DEFAULT_MMAP_THRESHOLD_MAX, 32 MB on 64-bit) bounds the mapped chunk, which is the
#: request plus a header, rounded up to whole pages.
SETTLE_BYTES = (32 << 20) - (64 << 10)

_settled = False


def settle_malloc():
    """Allocate and free one SETTLE_BYTES block, once per process (cheap after)."""
    global _settled
    if not _settled:
        _settled = True
        _free_one_block(SETTLE_BYTES)


def _free_one_block(nbytes):
    np.empty(nbytes, np.uint8)  # mapped, then freed at once: glibc adapts
