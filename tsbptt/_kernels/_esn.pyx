# Echo-state network reservoir: leaky-tanh states of a batch of sequences.
#
#   x_t = (1 - leak) x_{t-1} + leak * tanh(W_in u_t + W x_{t-1} + b + W_fb y_t)
#
# y_t is the value fed back at step t (the caller shifts it: the target or output
# of step t - 1). W is sparse, in CSR form: at the default connectivity (10%) it
# does a tenth of the dense product's multiply-adds (benchmarks/bench_esn.py).
#
# Determinism. The batch is cut into chunks of CHUNK rows, a number that depends on
# nothing (not the thread count, not the batch size); OpenMP threads take whole
# chunks. Inside a chunk every row is computed with the same sequence of
# operations: each pre-activation starts from b[i] and adds the input terms in
# feature order, the reservoir terms in CSR order, then the feedback terms, one
# multiply and one add each (the baseline build has no FMA contraction). So a
# row's states are the same bits alone or in any batch, on any number of threads.
# The element-wise loops always run over all CHUNK lanes (rows past the batch's end
# hold finite junk that is never stored), so every value takes the same path
# through the vectorised tanh (libmvec, _simd_math.h) whatever its lane.
from cython cimport floating
from cython.parallel cimport prange

import numpy as np

from ._activations cimport tanh_
from ._openmp_helpers cimport omp_get_thread_num

#: Rows of the batch one thread advances together (their state is kept transposed,
#: unit x row, so every weight is loaded once per chunk and step).
cdef enum:
    CHUNK = 16
ROWS_PER_CHUNK = CHUNK
# CHUNK again, as a variable: GCC unrolls a loop of a known 16 iterations fully and
# then cannot call the SIMD tanh (libmvec) in it; a trip count it cannot see keeps
# the loop, vectorised (16 is a multiple of every vector width, so no lane ever
# takes a scalar remainder path).
cdef Py_ssize_t _LANES = CHUNK


cdef void _row(const floating[:, :, ::1] U, const Py_ssize_t[::1] lengths,
               const floating[:, ::1] W_in, const floating[::1] W_data,
               const int[::1] W_indices, const int[::1] W_indptr,
               const floating[::1] bias, const floating[:, ::1] W_fb,
               const floating[:, :, ::1] Y_fb, floating leak,
               floating[:, ::1] x, floating[:, :, ::1] states, floating[:, ::1] mean,
               bint want_states, bint want_mean, Py_ssize_t washout,
               Py_ssize_t b, floating* work) noexcept nogil:
    """Advance the single row b: a chunk of one row, 1/CHUNK of a chunk's work.

    The pre-activations of CHUNK consecutive units are summed one by one (in the
    same order of operations as a chunk's lane), then go through the same
    CHUNK-lane tanh loop as a chunk's, so the bits equal the row's in any batch.
    """
    cdef Py_ssize_t N = W_in.shape[0], F = W_in.shape[1], n_fb = W_fb.shape[1]
    cdef Py_ssize_t n_pad = (N + CHUNK - 1) // CHUNK * CHUNK
    cdef Py_ssize_t i, i0, blk, k, f, o, p, t, T = lengths[b]
    cdef floating* xs = work                  # (n_pad,) state entering the step
    cdef floating* xn = work + n_pad          # (n_pad,) state after the step
    cdef floating* tot = work + 2 * n_pad     # (n_pad,) sum of the kept states
    cdef floating acc[CHUNK]
    cdef floating a, keep = 1 - leak
    cdef Py_ssize_t lanes = _LANES
    for i in range(3 * n_pad):
        work[i] = 0
    for i in range(N):
        xs[i] = x[b, i]
    for t in range(T):
        for blk in range(n_pad // CHUNK):
            i0 = blk * CHUNK
            for k in range(CHUNK):
                i = i0 + k
                a = 0
                if i < N:
                    a = bias[i]
                    for f in range(F):
                        a = a + W_in[i, f] * U[b, t, f]
                    for p in range(W_indptr[i], W_indptr[i + 1]):
                        a = a + W_data[p] * xs[W_indices[p]]
                    for o in range(n_fb):
                        a = a + W_fb[i, o] * Y_fb[b, t, o]
                acc[k] = a
            for k in range(lanes):
                xn[i0 + k] = keep * xs[i0 + k] + leak * tanh_(acc[k])
        for i in range(N):
            xs[i] = xn[i]
        if want_states:
            for i in range(N):
                states[b, t, i] = xn[i]
        if want_mean and t >= washout:
            for i in range(N):
                tot[i] = tot[i] + xn[i]
    for i in range(N):
        x[b, i] = xs[i]
    if want_mean:
        f = max(T - washout, 0)  # steps in the mean
        for i in range(N):
            mean[b, i] = tot[i] / f if f > 0 else 0


cdef void _chunk(const floating[:, :, ::1] U, const Py_ssize_t[::1] lengths,
                 const floating[:, ::1] W_in, const floating[::1] W_data,
                 const int[::1] W_indices, const int[::1] W_indptr,
                 const floating[::1] bias, const floating[:, ::1] W_fb,
                 const floating[:, :, ::1] Y_fb, floating leak,
                 floating[:, ::1] x, floating[:, :, ::1] states, floating[:, ::1] mean,
                 bint want_states, bint want_mean, Py_ssize_t washout,
                 Py_ssize_t b0, Py_ssize_t nb, floating* work) noexcept nogil:
    """Advance rows b0 .. b0+nb-1 through all their steps."""
    cdef Py_ssize_t N = W_in.shape[0], F = W_in.shape[1], n_fb = W_fb.shape[1]
    cdef Py_ssize_t i, j, k, f, o, p, t, T_chunk = 0
    cdef floating* xs = work                  # (N, CHUNK) state entering the step
    cdef floating* xn = work + N * CHUNK      # (N, CHUNK) state after the step
    cdef floating* tot = work + 2 * N * CHUNK  # (N, CHUNK) sum of the kept states
    cdef floating acc[CHUNK]                  # pre-activations of unit i
    cdef floating w, keep = 1 - leak
    cdef Py_ssize_t lanes = _LANES
    if nb == 1:
        _row(U, lengths, W_in, W_data, W_indices, W_indptr, bias, W_fb, Y_fb, leak, x,
             states, mean, want_states, want_mean, washout, b0, work)
        return
    for i in range(3 * N * CHUNK):
        work[i] = 0
    for k in range(nb):
        T_chunk = max(T_chunk, lengths[b0 + k])
        for i in range(N):
            xs[i * CHUNK + k] = x[b0 + k, i]
    for t in range(T_chunk):
        for i in range(N):
            for k in range(CHUNK):
                acc[k] = bias[i]
            for f in range(F):
                w = W_in[i, f]
                for k in range(nb):
                    acc[k] = acc[k] + w * U[b0 + k, t, f]
            # the hot loop: all CHUNK lanes (a fixed trip count the compiler unrolls;
            # the lanes past nb hold finite junk that is never stored)
            for p in range(W_indptr[i], W_indptr[i + 1]):
                w = W_data[p]
                j = W_indices[p]
                for k in range(CHUNK):
                    acc[k] = acc[k] + w * xs[j * CHUNK + k]
            for o in range(n_fb):
                w = W_fb[i, o]
                for k in range(nb):
                    acc[k] = acc[k] + w * Y_fb[b0 + k, t, o]
            for k in range(lanes):
                xn[i * CHUNK + k] = keep * xs[i * CHUNK + k] + leak * tanh_(acc[k])
        for k in range(nb):
            if t >= lengths[b0 + k]:  # past this row's end: its state stays
                continue
            for i in range(N):
                xs[i * CHUNK + k] = xn[i * CHUNK + k]
            if want_states:
                for i in range(N):
                    states[b0 + k, t, i] = xn[i * CHUNK + k]
            if want_mean and t >= washout:
                for i in range(N):
                    tot[i * CHUNK + k] = tot[i * CHUNK + k] + xn[i * CHUNK + k]
    for k in range(nb):
        for i in range(N):
            x[b0 + k, i] = xs[i * CHUNK + k]
        if want_mean:
            f = max(lengths[b0 + k] - washout, 0)  # steps in the mean
            for i in range(N):
                mean[b0 + k, i] = tot[i * CHUNK + k] / f if f > 0 else 0


def _check_shapes(U, lengths, W_in, W_data, W_indices, W_indptr, bias, W_fb, Y_fb, x,
                  states, mean):
    B, T, F = U.shape[0], U.shape[1], U.shape[2]
    N, n_fb = W_in.shape[0], W_fb.shape[1]
    expected = {"lengths": (lengths, (B,)), "W_in": (W_in, (N, F)),
                "W_indptr": (W_indptr, (N + 1,)), "bias": (bias, (N,)),
                "W_fb": (W_fb, (N, n_fb)), "Y_fb": (Y_fb, (B, T, n_fb)), "x": (x, (B, N))}
    if states is not None:
        expected["states"] = (states, (B, T, N))
    if mean is not None:
        expected["mean"] = (mean, (B, N))
    for name, (arr, shape) in expected.items():
        if tuple(arr.shape[:len(shape)]) != shape:
            raise ValueError(f"{name} has shape {tuple(arr.shape[:len(shape)])}, "
                             f"expected {shape}")
    if W_data.shape[0] != W_indices.shape[0] or W_indptr[0] != 0 \
            or W_indptr[N] != W_data.shape[0]:
        raise ValueError("W_data, W_indices and W_indptr are not one CSR matrix")
    if W_data.shape[0] and not (0 <= np.min(W_indices) and np.max(W_indices) < N):
        raise ValueError(f"W_indices must lie in [0, {N})")
    if np.any(np.diff(np.asarray(W_indptr)) < 0):
        raise ValueError("W_indptr must be non-decreasing")
    if B and not (1 <= np.min(lengths) and np.max(lengths) <= T):
        raise ValueError(f"lengths must lie in [1, {T}]")


def esn_states(const floating[:, :, ::1] U not None,
               const Py_ssize_t[::1] lengths not None,
               const floating[:, ::1] W_in not None,
               const floating[::1] W_data not None,
               const int[::1] W_indices not None,
               const int[::1] W_indptr not None,
               const floating[::1] bias not None,
               const floating[:, ::1] W_fb not None,
               const floating[:, :, ::1] Y_fb not None,
               double leak,
               floating[:, ::1] x not None,
               floating[:, :, ::1] states=None,
               floating[:, ::1] mean=None,
               Py_ssize_t washout=0, int n_threads=1):
    """Run the reservoir over a batch of sequences (see the module comment).

    Parameters
    ----------
    U : (B, T, F) inputs.  lengths : (B,) intp in [1, T]; steps past a row's end
        leave its state unchanged (and its ``states`` untouched).
    W_in : (N, F).  W_data, W_indices, W_indptr : the (N, N) reservoir in CSR form
        (int32 indices).  bias : (N,).  W_fb : (N, n_fb), n_fb >= 0.
    Y_fb : (B, T, n_fb) values fed back at each step.  leak : the leak rate.
    x : (B, N) IN the initial states, OUT the states after each row's last step.
    states : (B, T, N) or None; OUT every valid step's state.
    mean : (B, N) or None; OUT the mean state over steps washout .. lengths[b]-1
        (0 where there are none).
    washout : steps left out of ``mean``.  n_threads : OpenMP threads (>= 1).
    """
    _check_shapes(U, lengths, W_in, W_data, W_indices, W_indptr, bias, W_fb, Y_fb, x,
                  states, mean)
    if n_threads < 1 or washout < 0:
        raise ValueError(f"need n_threads >= 1 and washout >= 0, got {n_threads}, "
                         f"{washout}")
    cdef Py_ssize_t B = U.shape[0], N = W_in.shape[0], c
    cdef Py_ssize_t n_chunks = (B + CHUNK - 1) // CHUNK
    cdef int threads = <int>max(1, min(n_threads, n_chunks))
    cdef bint want_states = states is not None, want_mean = mean is not None
    dtype = np.float32 if floating is float else np.float64
    work_arr = np.zeros((threads, 3 * N * CHUNK), dtype=dtype)
    cdef floating[:, ::1] work = work_arr
    cdef floating lk = <floating>leak
    if B == 0:
        return
    with nogil:
        for c in prange(n_chunks, num_threads=threads, schedule='dynamic'):
            _chunk(U, lengths, W_in, W_data, W_indices, W_indptr, bias, W_fb, Y_fb, lk,
                   x, states, mean, want_states, want_mean, washout, c * CHUNK,
                   min(CHUNK, B - c * CHUNK), &work[omp_get_thread_num(), 0])
