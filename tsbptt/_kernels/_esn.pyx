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
from libc.math cimport log, sqrt

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


cdef inline floating _pre1(const floating[:, :, ::1] U, const floating[:, ::1] W_in,
                           const floating[::1] W_data, const int[::1] W_indices,
                           const int[::1] W_indptr, const floating[::1] bias,
                           const floating[:, ::1] W_fb, const floating[:, :, ::1] Y_fb,
                           const floating* xs, Py_ssize_t b, Py_ssize_t t,
                           Py_ssize_t i) noexcept nogil:
    """Pre-activation of unit i of row b at step t, in a chunk lane's order: b[i],
    the input terms in feature order, the reservoir terms in CSR order, then the
    feedback terms."""
    cdef Py_ssize_t f, o, p
    cdef floating a = bias[i]
    for f in range(W_in.shape[1]):
        a = a + W_in[i, f] * U[b, t, f]
    for p in range(W_indptr[i], W_indptr[i + 1]):
        a = a + W_data[p] * xs[W_indices[p]]
    for o in range(W_fb.shape[1]):
        a = a + W_fb[i, o] * Y_fb[b, t, o]
    return a


cdef inline void _pre4(const floating[:, :, ::1] U, const floating[:, ::1] W_in,
                       const floating[::1] W_data, const int[::1] W_indices,
                       const int[::1] W_indptr, const floating[::1] bias,
                       const floating[:, ::1] W_fb, const floating[:, :, ::1] Y_fb,
                       const floating* xs, Py_ssize_t b, Py_ssize_t t, Py_ssize_t i,
                       floating* out) noexcept nogil:
    """_pre1 of units i .. i+3, their four chains of adds side by side (the CSR
    terms up to the shortest row's count together, then each row's rest): the
    same operations in the same order per unit, but four independent chains in
    flight instead of one, which the one-row path is latency-bound on."""
    cdef Py_ssize_t f, o, q
    cdef Py_ssize_t s0 = W_indptr[i], s1 = W_indptr[i + 1], s2 = W_indptr[i + 2]
    cdef Py_ssize_t s3 = W_indptr[i + 3], e3 = W_indptr[i + 4]
    cdef Py_ssize_t m = min(min(s1 - s0, s2 - s1), min(s3 - s2, e3 - s3))
    cdef floating a0 = bias[i], a1 = bias[i + 1], a2 = bias[i + 2], a3 = bias[i + 3]
    cdef floating u
    for f in range(W_in.shape[1]):
        u = U[b, t, f]
        a0 = a0 + W_in[i, f] * u
        a1 = a1 + W_in[i + 1, f] * u
        a2 = a2 + W_in[i + 2, f] * u
        a3 = a3 + W_in[i + 3, f] * u
    for q in range(m):
        a0 = a0 + W_data[s0 + q] * xs[W_indices[s0 + q]]
        a1 = a1 + W_data[s1 + q] * xs[W_indices[s1 + q]]
        a2 = a2 + W_data[s2 + q] * xs[W_indices[s2 + q]]
        a3 = a3 + W_data[s3 + q] * xs[W_indices[s3 + q]]
    for q in range(s0 + m, s1):
        a0 = a0 + W_data[q] * xs[W_indices[q]]
    for q in range(s1 + m, s2):
        a1 = a1 + W_data[q] * xs[W_indices[q]]
    for q in range(s2 + m, s3):
        a2 = a2 + W_data[q] * xs[W_indices[q]]
    for q in range(s3 + m, e3):
        a3 = a3 + W_data[q] * xs[W_indices[q]]
    for o in range(W_fb.shape[1]):
        u = Y_fb[b, t, o]
        a0 = a0 + W_fb[i, o] * u
        a1 = a1 + W_fb[i + 1, o] * u
        a2 = a2 + W_fb[i + 2, o] * u
        a3 = a3 + W_fb[i + 3, o] * u
    out[0] = a0
    out[1] = a1
    out[2] = a2
    out[3] = a3


cdef void _row(const floating[:, :, ::1] U, const Py_ssize_t[::1] lengths,
               const floating[:, ::1] W_in, const floating[::1] W_data,
               const int[::1] W_indices, const int[::1] W_indptr,
               const floating[::1] bias, const floating[:, ::1] W_fb,
               const floating[:, :, ::1] Y_fb, floating leak,
               floating[:, ::1] x, floating[:, :, ::1] states, floating[:, ::1] mean,
               bint want_states, bint want_mean, Py_ssize_t washout,
               Py_ssize_t b, floating* work) noexcept nogil:
    """Advance the single row b: a chunk of one row, 1/CHUNK of a chunk's work.

    The pre-activations of CHUNK consecutive units are summed four units at a time
    (each unit in the same order of operations as a chunk's lane), then go through
    the same CHUNK-lane tanh loop as a chunk's, so the bits equal the row's in any
    batch.
    """
    cdef Py_ssize_t N = W_in.shape[0]
    cdef Py_ssize_t n_pad = (N + CHUNK - 1) // CHUNK * CHUNK
    cdef Py_ssize_t i, i0, blk, k, f, t, T = lengths[b]
    cdef floating* xs = work                  # (n_pad,) state entering the step
    cdef floating* xn = work + n_pad          # (n_pad,) state after the step
    cdef floating* tot = work + 2 * n_pad     # (n_pad,) sum of the kept states
    cdef floating acc[CHUNK]
    cdef floating keep = 1 - leak
    cdef Py_ssize_t lanes = _LANES
    for i in range(3 * n_pad):
        work[i] = 0
    for i in range(N):
        xs[i] = x[b, i]
    for t in range(T):
        for blk in range(n_pad // CHUNK):
            i0 = blk * CHUNK
            k = 0
            while k < CHUNK:
                i = i0 + k
                if i + 4 <= N:
                    _pre4(U, W_in, W_data, W_indices, W_indptr, bias, W_fb, Y_fb, xs,
                          b, t, i, &acc[k])
                    k = k + 4
                else:
                    acc[k] = _pre1(U, W_in, W_data, W_indices, W_indptr, bias, W_fb,
                                   Y_fb, xs, b, t, i) if i < N else 0
                    k = k + 1
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


def power_log_norms(const double[::1] W_data not None, const int[::1] W_indices not None,
                    const int[::1] W_indptr not None, Py_ssize_t steps):
    """Power iteration of a square CSR matrix from the all-ones direction.

    ``v_0 = 1 / sqrt(N)``; at each step ``u = W v`` (each row summed from 0.0 in
    CSR order), ``logs[k] = log |u|`` (the squares summed in index order) and
    ``v = u / |u|``. A fixed sequence of float64 operations: the same bits on
    every run and thread count.

    Parameters
    ----------
    W_data, W_indices, W_indptr : the (N, N) matrix in CSR form (int32 indices,
        checked to lie in [0, N)).
    steps : int >= 0, the number of products.

    Returns
    -------
    logs : ndarray of shape (steps,)
        ``log |W v_k|``; the iteration stops at the first zero norm (a nilpotent
        matrix), whose step and the later ones hold -inf.
    """
    cdef Py_ssize_t N = W_indptr.shape[0] - 1
    if N < 1 or W_indptr[0] != 0 or W_indptr[N] != W_data.shape[0] \
            or W_indices.shape[0] != W_data.shape[0] or steps < 0:
        raise ValueError("W_data, W_indices and W_indptr are not one square CSR matrix")
    if np.any(np.diff(np.asarray(W_indptr)) < 0):
        raise ValueError("W_indptr must be non-decreasing")
    if W_data.shape[0] and not (0 <= np.min(W_indices) and np.max(W_indices) < N):
        raise ValueError(f"W_indices must lie in [0, {N})")
    logs_arr = np.full(steps, -np.inf)
    v_arr = np.full(N, 1.0 / np.sqrt(N))
    u_arr = np.empty(N)
    cdef double[::1] logs = logs_arr, v = v_arr, u = u_arr
    cdef Py_ssize_t i, p, k
    cdef double a, norm
    with nogil:
        for k in range(steps):
            norm = 0.0
            for i in range(N):
                a = 0.0
                for p in range(W_indptr[i], W_indptr[i + 1]):
                    a = a + W_data[p] * v[W_indices[p]]
                u[i] = a
                norm = norm + a * a
            if norm == 0.0:
                break
            norm = sqrt(norm)
            logs[k] = log(norm)
            for i in range(N):
                v[i] = u[i] / norm
    return logs_arr
