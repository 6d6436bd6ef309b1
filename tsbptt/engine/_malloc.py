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

:func:`settle_malloc` frees one 28 MB block before the first forward pass (training
or prediction) of the process: arrays up to that size then come from the heap, and
up to twice that of freed heap stays mapped at the top of each malloc arena, i.e. for
each thread that trains or predicts (resident memory a process keeps, as any program
that frees such an array does; only pages something in the process touched). The
first version of this block, 16 MB (c6d331e, unreleased), left steps whose arrays
total 32-56 MB faulting their pages in again: a (64, 100, 16, 256) LSTM step took
3,918 page faults and 141.6 ms, against none and 133.8 ms (report section "settle").
Steps whose arrays total more than that, or which use an array above 32 MB (glibc
always maps those afresh), still give some back; at those sizes the faults are a few
percent of the step. The block only acts if glibc maps it: in a process whose heap
already has that much free, nothing changes. Other allocators are left as they are,
and so is a glibc told its thresholds (``MALLOC_TRIM_THRESHOLD_`` and the like, as
Dask's nanny sets for its workers, or ``GLIBC_TUNABLES``), which then adapts no
more. (A pool keeping the arrays, tried in the same round, saved no more and cost
1-8%; one keeping only the arrays above 32 MB, tried on 2026-12-04, saved 1-3% of
the largest grid row's step and was not worth its code.)
"""
import numpy as np

#: The freed block's size, well below glibc's cap on the thresholds it adapts to
#: (DEFAULT_MMAP_THRESHOLD_MAX, 32 MB on 64-bit): the mapped chunk, the request plus a
#: header rounded up to whole pages (64 KB on some aarch64 kernels, 2 MB with glibc's
#: hugetlb tunable), must stay below it, not at it (the flag bits count).
SETTLE_BYTES = 28 << 20

_settled = False


def settle_malloc():
    """Allocate and free one SETTLE_BYTES block, once per process (cheap after)."""
    global _settled
    if not _settled:
        _settled = True
        try:
            _free_one_block(SETTLE_BYTES)
        except MemoryError:  # a tight address-space limit: only speed was at stake,
            pass  # and the fit that asked should not fail on it


def _free_one_block(nbytes):
    np.empty(nbytes, np.uint8)  # mapped, then freed at once: glibc adapts
