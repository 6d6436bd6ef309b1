# Deterministic reduction of per-chunk gradient accumulators, compiled into each
# build of the LSTM module (included by _lstm_impl.pxi); tsbptt._kernels._reduce
# re-exports the baseline build's. A module of its own cost a translation unit of
# Cython's memoryview support (about 9 s of compiling) for a 20-line loop.
#
# Each element is summed over chunks in the order 0, 1, ..., whatever the number of
# threads that run the loop, so the result never depends on the thread count (nor
# on the build: additions only, no contraction to fuse).


def kernel_block_steps():
    """Steps per weight-gradient block in the backward kernels (_common.pxd)."""
    return BLOCK_STEPS


def sum_chunks(const floating[:, ::1] partial not None,  # IN  (n_chunks, size)
               floating[::1] out not None,               # OUT (size,)
               int n_threads):
    """out = partial[0] + partial[1] + ..., summed in that order for every element."""
    cdef Py_ssize_t n_parts = partial.shape[0], size = partial.shape[1], e, k
    cdef floating s
    if out.shape[0] != size:
        raise ValueError(f"out has {out.shape[0]} elements, expected {size}")
    if n_parts < 1 or n_threads < 1:
        raise ValueError(f"need n_chunks >= 1 and n_threads >= 1, got {n_parts}, {n_threads}")
    with nogil:
        for e in prange(size, num_threads=n_threads, schedule='static'):
            s = partial[0, e]
            for k in range(1, n_parts):
                s = s + partial[k, e]
            out[e] = s
