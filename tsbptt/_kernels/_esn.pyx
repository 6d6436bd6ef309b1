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
#
# One row alone (the stateful fits: one long series) is a chunk of one lane, so
# it runs its own path, 16 units at a time instead of 16 rows (_row): the CSR
# terms packed into SELL-16 slices (_esn_sell.h), one vector accumulator per
# slice and a gather of the state at each slice's k-th indices, every unit
# adding exactly its own terms in CSR order (the same bits as its batch lane,
# on every instruction set). AVX-512 / AVX2 are picked at run time inside this
# one portable module (function target attributes), as they only change speed.
# 4,000 steps at N=200 float32: ~7-9 ms against ~13-14 ms for the four scalar
# chains it replaced (benchmarks/README.md, "Echo-state networks").
#
# A chunk of 2 .. 16 rows (_chunk) runs on the same packing, its state kept
# position x lane: one vector (or 2 / 4) holds a unit's 16 lanes, and a CSR term
# is a broadcast weight times a row of the state. _esn_chunk.h advances 8 such
# chains at once (AVX-512F / AVX2 / C, chosen at run time like the row path's,
# CHUNK_ISA), each unit still adding its own terms in CSR order: the bits of the
# scalar lane-by-lane loop it replaced, ~4x faster at N=200 float32. The float32
# leaky tanh of both paths takes glibc's 8-wide tanhf where the CPU has AVX2
# (TANHF_WIDE): the same bits as the 4-wide one for every float32 input.
from cython cimport floating
from cython.parallel cimport prange
from libc.math cimport log, sqrt

import numpy as np

from ._activations cimport libm_tanh
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


cdef extern from "_esn_sell.h" nogil:
    int tsb_esn_sell_isa()
    void tsb_sell_f32(int isa, Py_ssize_t n_slices, const int* ptr, const float* d,
                      const int* ix, const float* x, float* acc)
    void tsb_sell_f64(int isa, Py_ssize_t n_slices, const int* ptr, const double* d,
                      const int* ix, const double* x, double* acc)


cdef extern from "_esn_chunk.h" nogil:
    void tsb_chunk_float(int isa, Py_ssize_t n_slices, const int* ptr, const float* d,
                         const int* ix, const float* bias, Py_ssize_t n_in,
                         const float* w_in, const float* u, Py_ssize_t n_fb,
                         const float* w_fb, const float* y, const float* xs, float* acc)
    void tsb_chunk_double(int isa, Py_ssize_t n_slices, const int* ptr, const double* d,
                          const int* ix, const double* bias, Py_ssize_t n_in,
                          const double* w_in, const double* u, Py_ssize_t n_fb,
                          const double* w_fb, const double* y, const double* xs,
                          double* acc)
    int TSB_TANHF_WIDE
    void tsb_leaky_tanhf_avx2(Py_ssize_t n, float keep, float leak, const float* xs,
                              const float* acc, float* xn)
    long long tsb_glibc_tanhf_width_mismatches(long long start, long long stop, long long step)


cdef extern from "_esn_panel.h" nogil:
    void tsb_colsum_rows_f32(int isa, const float* src, Py_ssize_t n, Py_ssize_t m,
                             Py_ssize_t ld, double* acc)
    void tsb_colsum_rows_f64(int isa, const double* src, Py_ssize_t n, Py_ssize_t m,
                             Py_ssize_t ld, double* acc)
    void tsb_centre_rows_f32(int isa, const float* src, Py_ssize_t n, Py_ssize_t m,
                             Py_ssize_t ld, const double* sh, double* dst, Py_ssize_t ldd)
    void tsb_centre_rows_f64(int isa, const double* src, Py_ssize_t n, Py_ssize_t m,
                             Py_ssize_t ld, const double* sh, double* dst, Py_ssize_t ldd)


#: Instruction set of the one-row product (_esn_sell.h: 2 AVX-512F, 1 AVX2, 0 C).
#: Every choice gives the same bits; the tests set it to compare them.
ROW_ISA_AVAILABLE = tsb_esn_sell_isa()
ROW_ISA = ROW_ISA_AVAILABLE
#: Instruction set of the batch path's pre-activations (_esn_chunk.h, the same
#: choices and the same bits on each).
CHUNK_ISA = ROW_ISA_AVAILABLE


def _tanhf_mismatches(long long start, long long stop, long long step):
    """How many float32 bit patterns start, start + step, ... < stop (<= 2**32)
    get other bits from glibc's 8-wide tanhf than from its 4-wide one (-1 where
    the module has no 8-wide tanhf; _esn_chunk.h)."""
    if not (0 <= start and stop <= 2 ** 32 and step >= 1):
        raise ValueError(f"need 0 <= start, stop <= 2**32, step >= 1; got {start}, "
                         f"{stop}, {step}")
    cdef long long bad
    with nogil:
        bad = tsb_glibc_tanhf_width_mismatches(start, stop, step)
    return bad


#: float32 leaky tanh 8 lanes at a time (AVX2, glibc's _ZGVdN8v_tanhf) instead of
#: 4: the same bits for every input (checked exhaustively in the slow tests; here
#: on 65,536 patterns spread over all exponents, so another glibc whose variants
#: disagree falls back to the 4-wide loop).
#: TANHF_WIDE_BUILT: this build has the 8-wide loop and the CPU runs AVX2.
TANHF_WIDE_BUILT = bool(TSB_TANHF_WIDE) and ROW_ISA_AVAILABLE >= 1
TANHF_WIDE_AVAILABLE = TANHF_WIDE_BUILT and _tanhf_mismatches(0, 2 ** 32, 65537) == 0
TANHF_WIDE = TANHF_WIDE_AVAILABLE


cdef class _Packed:
    """The reservoir packed for the one-row path (_esn_sell.h). The units sit in
    the order ``perm`` (most CSR terms first, so that a slice's units have about
    as many terms each and the padding is small: ~6% at N=200 against 46% in
    their own order); position ``l`` holds unit ``perm[l]`` and ``inv`` is the
    inverse. The CSR terms are in SELL-16 slices of those positions (padding:
    weight -0.0 at the index ``n_pad``, a slot that holds +0.0), the biases,
    input and feedback weights position-contiguous, zero beyond N."""
    cdef public object ptr, data, index, bias, w_in, w_fb, perm, inv


def _pack_row(const floating[::1] W_data, const int[::1] W_indptr,
              const int[::1] W_indices, const floating[::1] bias,
              const floating[:, ::1] W_in, const floating[:, ::1] W_fb):
    """The :class:`_Packed` form of a reservoir: plain loops over the CSR terms
    and a counting sort of the units (~10 microseconds at N=200, so a call of one
    step, as predict_series makes, hardly pays for it)."""
    cdef Py_ssize_t N = W_indptr.shape[0] - 1, F = W_in.shape[1], n_fb = W_fb.shape[1]
    cdef Py_ssize_t n_pad = (N + CHUNK - 1) // CHUNK * CHUNK, n_slices = n_pad // CHUNK
    cdef Py_ssize_t s, i, k, q, p, width, top = 0
    dtype = np.float32 if floating is float else np.float64
    ints = np.zeros(n_slices + 1 + 2 * N + N + 2, np.int32)  # ptr, perm, inv, buckets
    cdef int[::1] iv = ints
    cdef int* ptr = &iv[0]
    cdef int* perm = ptr + n_slices + 1
    cdef int* inv = perm + N
    cdef int* start = inv + N             # (top + 2,) bucket starts, most terms first
    for i in range(N):
        top = max(top, W_indptr[i + 1] - W_indptr[i])
    for i in range(N):                    # units per count, placed from count top down
        start[top - (W_indptr[i + 1] - W_indptr[i]) + 1] += 1
    for k in range(top + 1):
        start[k + 1] += start[k]
    for i in range(N):                    # stable: ties keep the units' order
        q = start[top - (W_indptr[i + 1] - W_indptr[i])]
        start[top - (W_indptr[i + 1] - W_indptr[i])] += 1
        perm[q] = <int>i
        inv[i] = <int>q
    for s in range(n_slices):
        width = 0
        for q in range(s * CHUNK, min(N, (s + 1) * CHUNK)):
            i = perm[q]
            width = max(width, W_indptr[i + 1] - W_indptr[i])
        ptr[s + 1] = <int>(ptr[s] + width)
    data_arr = np.full(ptr[n_slices] * CHUNK, -0.0, dtype=dtype)
    index_arr = np.full(ptr[n_slices] * CHUNK, n_pad, np.int32)
    vecs = np.zeros((1 + F + n_fb, n_pad), dtype)   # bias, W_in.T, W_fb.T
    cdef floating[::1] data = data_arr
    cdef int[::1] index = index_arr
    cdef floating[:, ::1] vv = vecs
    for q in range(N):  # position q holds unit perm[q]
        i = perm[q]
        s = q // CHUNK
        for k in range(W_indptr[i + 1] - W_indptr[i]):
            p = W_indptr[i] + k
            data[(ptr[s] + k) * CHUNK + q % CHUNK] = W_data[p]
            index[(ptr[s] + k) * CHUNK + q % CHUNK] = inv[W_indices[p]]
        vv[0, q] = bias[i]
        for k in range(F):
            vv[1 + k, q] = W_in[i, k]
        for k in range(n_fb):
            vv[1 + F + k, q] = W_fb[i, k]
    packed = _Packed()
    packed.ptr, packed.data, packed.index = ints[:n_slices + 1], data_arr, index_arr
    packed.perm = ints[n_slices + 1:n_slices + 1 + N]
    packed.inv = ints[n_slices + 1 + N:n_slices + 1 + 2 * N]
    packed.bias, packed.w_in, packed.w_fb = vecs[0], vecs[1:1 + F], vecs[1 + F:]
    return packed


cdef inline void _unpermute(const floating* src, const int* inv, floating* dst,
                            Py_ssize_t n) noexcept nogil:
    """dst[i] = src[inv[i]], i < n (plain pointers: indexing the memoryviews
    inside _row kept reloading their strides from the stack)."""
    cdef Py_ssize_t i
    for i in range(n):
        dst[i] = src[inv[i]]


cdef void _row(const floating[:, :, ::1] U, const Py_ssize_t[::1] lengths,
               const floating[:, :, ::1] Y_fb, floating leak, const int[::1] ptr,
               const floating[::1] data, const int[::1] index,
               const floating[::1] bias, const floating[:, ::1] w_in,
               const floating[:, ::1] w_fb, const int[::1] inv, int isa, bint wide,
               floating[:, ::1] x, floating[:, :, ::1] states, floating[:, ::1] mean,
               bint want_states, bint want_mean, Py_ssize_t washout,
               Py_ssize_t b, floating* work) noexcept nogil:
    """Advance the single row b: 16 units at a time (a SELL-16 slice), the
    state kept in the packed order (_Packed.perm; unit i at position inv[i]).

    Each unit's pre-activation takes the batch lane's order of operations: its
    bias, the input terms in feature order, its CSR terms in CSR order
    (_esn_sell.h), the feedback terms; then the same 16-lane tanh loop as a
    chunk's. So the bits equal the row's in any batch.
    """
    cdef Py_ssize_t N = x.shape[1], n_pad = bias.shape[0], n_slices = n_pad // CHUNK
    cdef Py_ssize_t i, i0, blk, k, f, o, t, T = lengths[b]
    cdef floating* xs = work                  # (n_pad + 1,) state entering the step
    cdef floating* xn = work + n_pad + 1      # (n_pad + 1,) state after the step
    cdef floating* tot = work + 2 * n_pad + 2  # (n_pad,) sum of the kept states
    cdef floating* acc = work + 3 * n_pad + 2  # (n_pad,) pre-activations
    cdef floating* swap
    cdef floating u, keep = 1 - leak
    cdef Py_ssize_t lanes = _LANES
    for i in range(4 * n_pad + 2):
        work[i] = 0                           # xs[n_pad], xn[n_pad]: the +0.0 slot
    for i in range(N):
        xs[inv[i]] = x[b, i]
    for t in range(T):
        for i in range(n_pad):
            acc[i] = bias[i]
        for f in range(w_in.shape[0]):
            u = U[b, t, f]
            for i in range(n_pad):
                acc[i] = acc[i] + w_in[f, i] * u
        if floating is float:
            tsb_sell_f32(isa, n_slices, &ptr[0], &data[0], &index[0], xs, acc)
        else:
            tsb_sell_f64(isa, n_slices, &ptr[0], &data[0], &index[0], xs, acc)
        for o in range(w_fb.shape[0]):
            u = Y_fb[b, t, o]
            for i in range(n_pad):
                acc[i] = acc[i] + w_fb[o, i] * u
        if floating is float and wide:
            tsb_leaky_tanhf_avx2(n_pad, keep, leak, xs, acc, xn)
        else:
            for blk in range(n_slices):
                i0 = blk * CHUNK
                for k in range(lanes):
                    xn[i0 + k] = keep * xs[i0 + k] + leak * libm_tanh(acc[i0 + k])
        swap = xs
        xs = xn
        xn = swap
        if want_states:
            _unpermute(xs, &inv[0], &states[b, t, 0], N)
        if want_mean and t >= washout:
            for i in range(n_pad):
                tot[i] = tot[i] + xs[i]
    for i in range(N):
        x[b, i] = xs[inv[i]]
    if want_mean:
        f = max(T - washout, 0)  # steps in the mean
        for i in range(N):
            mean[b, i] = tot[inv[i]] / f if f > 0 else 0


cdef void _chunk(const floating[:, :, ::1] U, const Py_ssize_t[::1] lengths,
                 const floating[:, :, ::1] Y_fb, floating leak, const int[::1] ptr,
                 const floating[::1] data, const int[::1] offs,
                 const floating[::1] bias, const floating[:, ::1] w_in,
                 const floating[:, ::1] w_fb, const int[::1] inv, int isa, bint wide,
                 floating[:, ::1] x, floating[:, :, ::1] states, floating[:, ::1] mean,
                 bint want_states, bint want_mean, Py_ssize_t washout,
                 Py_ssize_t b0, Py_ssize_t nb, floating* work) noexcept nogil:
    """Advance rows b0 .. b0+nb-1 (nb >= 2) through all their steps, the state
    kept position x lane (rows of xs: the units in the packed order, _Packed).

    Each step: the inputs and fed-back values of the 16 lanes gathered into
    u / y (0 in the lanes past nb), the pre-activations of every position by
    _esn_chunk.h (bias, input terms, CSR terms, feedback terms: the scalar
    order), then the 16-lane tanh loop of the row path. The lanes past nb hold
    finite junk that is never stored. offs: the packed index times CHUNK (the
    offset of a row of xs).
    """
    cdef Py_ssize_t N = x.shape[1], n_pad = bias.shape[0], n_slices = n_pad // CHUNK
    cdef Py_ssize_t F = w_in.shape[0], n_fb = w_fb.shape[0]
    cdef Py_ssize_t i, k, f, o, t, T_chunk = 0, T_all = lengths[b0]
    cdef Py_ssize_t rows = (n_pad + 1) * CHUNK
    cdef floating* xs = work                  # (n_pad + 1, CHUNK) state entering the step
    cdef floating* xn = work + rows           # (n_pad + 1, CHUNK) state after the step,
    #                                           first its pre-activations (in place:
    #                                           a smaller working set than a 4th array)
    cdef floating* tot = work + 2 * rows      # (n_pad, CHUNK) sum of the kept states
    cdef floating* u = tot + n_pad * CHUNK    # (F, CHUNK) this step's inputs
    cdef floating* y = u + F * CHUNK          # (n_fb, CHUNK) this step's feedback
    cdef floating* swap
    cdef floating keep = 1 - leak
    for i in range(2 * rows + (n_pad + F + n_fb) * CHUNK):
        work[i] = 0                           # row n_pad of xs, xn: the +0.0 slot
    for k in range(nb):
        T_chunk = max(T_chunk, lengths[b0 + k])
        T_all = min(T_all, lengths[b0 + k])
        for i in range(N):
            xs[inv[i] * CHUNK + k] = x[b0 + k, i]
    for t in range(T_chunk):
        for k in range(nb):
            for f in range(F):
                u[f * CHUNK + k] = U[b0 + k, t, f]
            for o in range(n_fb):
                y[o * CHUNK + k] = Y_fb[b0 + k, t, o]
        _chunk_step(isa, wide, n_slices, N, &ptr[0], &data[0], &offs[0], &bias[0], F,
                    &w_in[0, 0] if F else NULL, u, n_fb, &w_fb[0, 0] if n_fb else NULL,
                    y, keep, leak, xs, xn)
        if t < T_all:  # every row still runs: the new state is xn, in every lane
            swap = xs
            xs = xn
            xn = swap
            if want_states:
                _store_states(xs, &inv[0], &states[b0, t, 0], N, nb,
                              states.shape[1] * N)
            if want_mean and t >= washout:
                for i in range(N * CHUNK):
                    tot[i] = tot[i] + xs[i]
            continue
        for k in range(nb):
            if t < lengths[b0 + k]:  # past a row's end its state stays
                _take_lane(xn, xs, tot, &inv[0], N, k, want_mean and t >= washout,
                           &states[b0 + k, t, 0] if want_states else NULL)
    for k in range(nb):
        for i in range(N):
            x[b0 + k, i] = xs[inv[i] * CHUNK + k]
        if want_mean:
            f = max(lengths[b0 + k] - washout, 0)  # steps in the mean
            for i in range(N):
                mean[b0 + k, i] = tot[inv[i] * CHUNK + k] / f if f > 0 else 0


cdef inline void _chunk_step(int isa, bint wide, Py_ssize_t n_slices, Py_ssize_t N,
                             const int* ptr, const floating* data, const int* offs,
                             const floating* bias, Py_ssize_t F, const floating* w_in,
                             const floating* u, Py_ssize_t n_fb, const floating* w_fb,
                             const floating* y, floating keep, floating leak,
                             const floating* xs, floating* xn) noexcept nogil:
    """One step of a chunk: the pre-activations of every position into xn
    (_esn_chunk.h), then xn = keep * xs + leak * tanh(xn) over N x CHUNK lanes
    (8 float32 at a time where ``wide``, else the 16-lane loop of the row path)."""
    cdef Py_ssize_t q, k, lanes = _LANES
    if floating is float:
        tsb_chunk_float(isa, n_slices, ptr, data, offs, bias, F, w_in, u, n_fb, w_fb, y,
                        xs, xn)
    else:
        tsb_chunk_double(isa, n_slices, ptr, data, offs, bias, F, w_in, u, n_fb, w_fb, y,
                         xs, xn)
    if floating is float and wide:
        tsb_leaky_tanhf_avx2(N * CHUNK, keep, leak, xs, xn, xn)
    else:
        for q in range(N):
            for k in range(lanes):
                xn[q * CHUNK + k] = keep * xs[q * CHUNK + k] + leak * libm_tanh(xn[q * CHUNK + k])


cdef inline void _take_lane(const floating* xn, floating* xs, floating* tot,
                            const int* inv, Py_ssize_t N, Py_ssize_t k, bint add_mean,
                            floating* state_row) noexcept nogil:
    """Lane k's new state into xs (the other lanes keep theirs), its row of
    ``states`` (units in their order; NULL: none) and its sum ``tot``."""
    cdef Py_ssize_t i, q
    for q in range(N):
        xs[q * CHUNK + k] = xn[q * CHUNK + k]
    if state_row != NULL:
        for i in range(N):
            state_row[i] = xn[inv[i] * CHUNK + k]
    if add_mean:
        for q in range(N):
            tot[q * CHUNK + k] = tot[q * CHUNK + k] + xn[q * CHUNK + k]


cdef inline void _store_states(const floating* xs, const int* inv, floating* dst,
                               Py_ssize_t N, Py_ssize_t nb,
                               Py_ssize_t row_stride) noexcept nogil:
    """dst[k * row_stride + i] = xs[inv[i] * CHUNK + k], i < N, k < nb: the
    state of step t of every lane, in the units' order."""
    cdef Py_ssize_t i, k
    cdef const floating* src
    for i in range(N):
        src = xs + inv[i] * CHUNK
        for k in range(nb):
            dst[k * row_stride + i] = src[k]


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
    cdef Py_ssize_t B = U.shape[0], N = W_in.shape[0], c, nb
    cdef Py_ssize_t n_chunks = (B + CHUNK - 1) // CHUNK
    cdef Py_ssize_t n_pad = (N + CHUNK - 1) // CHUNK * CHUNK
    cdef int threads = <int>max(1, min(n_threads, n_chunks))
    cdef bint want_states = states is not None, want_mean = mean is not None
    dtype = np.float32 if floating is float else np.float64
    cdef Py_ssize_t F = W_in.shape[1], n_fb = W_fb.shape[1]
    # one thread's scratch: the chunk path's (_chunk), which holds the row path's
    work_arr = np.zeros((threads, (4 * n_pad + 2 + F + n_fb) * CHUNK), dtype=dtype)
    cdef floating[:, ::1] work = work_arr
    cdef floating lk = <floating>leak
    if B == 0:
        return
    # Both paths run on the packed reservoir (_Packed): ~15 us at N=200.
    packed = _pack_row(W_data, W_indptr, W_indices, bias, W_in, W_fb)
    cdef const int[::1] p_ptr = packed.ptr, p_index = packed.index
    cdef const int[::1] p_rows = packed.index * CHUNK  # rows of the chunk's state
    cdef const floating[::1] p_data = packed.data, p_bias = packed.bias
    cdef const floating[:, ::1] p_in = packed.w_in, p_fb = packed.w_fb
    cdef const int[::1] p_inv = packed.inv
    # the settings are clamped to what this CPU runs: an AVX-512 path on a CPU
    # without it would kill the interpreter (SIGILL)
    cdef int isa = max(0, min(ROW_ISA, ROW_ISA_AVAILABLE))
    cdef int chunk_isa = max(0, min(CHUNK_ISA, ROW_ISA_AVAILABLE))
    cdef bint wide = TANHF_WIDE and TANHF_WIDE_AVAILABLE
    with nogil:
        for c in prange(n_chunks, num_threads=threads, schedule='dynamic'):
            nb = min(CHUNK, B - c * CHUNK)
            if nb == 1:
                _row(U, lengths, Y_fb, lk, p_ptr, p_data, p_index, p_bias, p_in, p_fb,
                     p_inv, isa, wide, x, states, mean, want_states, want_mean, washout,
                     c * CHUNK, &work[omp_get_thread_num(), 0])
            else:
                _chunk(U, lengths, Y_fb, lk, p_ptr, p_data, p_rows, p_bias, p_in, p_fb,
                       p_inv, chunk_isa, wide, x, states, mean, want_states, want_mean,
                       washout, c * CHUNK, nb, &work[omp_get_thread_num(), 0])


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


def tridiagonal_reflect(const double[:, :] c not None, const double[::1] tau not None,
                        double[:, ::1] X not None, bint transpose):
    """Apply the orthogonal factor of LAPACK's ``dsytrd(uplo='L')`` to columns.

    ``G = Q T Q'`` with ``Q = H_0 H_1 ... H_{p-2}``, ``H_i = I - tau_i v_i v_i'``,
    ``v_i`` zero above position i + 1, 1 there and ``c[i+2:, i]`` below. X (p, k)
    is overwritten with ``Q' X`` (``transpose``) or ``Q X``: the readout needs Q
    on two vectors only, O(p^2) each, instead of forming Q V (2 p^3) as ``eigh``
    does. A fixed order of float64 operations (same bits on every run).

    Parameters
    ----------
    c : (p, p) the matrix ``dsytrd`` returned (its reflectors below the diagonal).
    tau : (p - 1,) their scalars.  X : (p, k) IN/OUT.  transpose : bool.
    """
    cdef Py_ssize_t p = X.shape[0], k = X.shape[1], n_refl = tau.shape[0]
    if c.shape[0] != p or c.shape[1] != p or n_refl != max(p - 1, 0):
        raise ValueError(f"c must be ({p}, {p}) and tau ({max(p - 1, 0)},), got "
                         f"{(c.shape[0], c.shape[1])} and ({n_refl},)")
    cdef Py_ssize_t i, j, r, step
    cdef double dot
    with nogil:
        for step in range(n_refl):
            i = step if transpose else n_refl - 1 - step
            if tau[i] == 0:
                continue
            for r in range(k):
                dot = X[i + 1, r]
                for j in range(i + 2, p):
                    dot = dot + c[j, i] * X[j, r]
                dot = dot * tau[i]
                X[i + 1, r] = X[i + 1, r] - dot
                for j in range(i + 2, p):
                    X[j, r] = X[j, r] - dot * c[j, i]


def _row_layout(A, Py_ssize_t itemsize, str name):
    """Row stride of the array ``name`` in elements; its rows must be contiguous."""
    if A.shape[1] > 1 and A.strides[1] != itemsize or A.strides[0] % itemsize:
        raise ValueError(f"{name}'s rows must be contiguous, got strides {tuple(A.strides)}")
    return A.strides[0] // itemsize


def column_means(const floating[:, :] P not None, double[::1] out not None):
    """``out[j]`` = the float64 mean of column j of P (n >= 1 rows, each row
    contiguous): each column summed in float64 in row order, then divided by n,
    as NumPy's ``P.mean(axis=0, dtype=np.float64)`` does (the same bits), in one
    pass without NumPy's casting buffers (_esn_panel.h; the ESN readout's means).
    """
    cdef Py_ssize_t n = P.shape[0], m = P.shape[1], j
    if n < 1 or out.shape[0] != m:
        raise ValueError(f"need P with >= 1 row and out of shape ({m},); got {n} rows "
                         f"and out of shape ({out.shape[0]},)")
    cdef Py_ssize_t ld = _row_layout(P, sizeof(floating), "P")
    cdef int isa = max(0, min(ROW_ISA, ROW_ISA_AVAILABLE))
    if m == 0:
        return
    with nogil:
        for j in range(m):
            out[j] = 0.0
        if floating is float:
            tsb_colsum_rows_f32(isa, &P[0, 0], n, m, ld, &out[0])
        else:
            tsb_colsum_rows_f64(isa, &P[0, 0], n, m, ld, &out[0])
        for j in range(m):
            out[j] = out[j] / n


def centre_rows(const floating[:, :] P not None, Py_ssize_t r0,
                const double[::1] shift not None, double[:, :] out not None,
                Py_ssize_t c0):
    """``out[r, c0 + j] = float64(P[r0 + r, j]) - shift[j]`` for ``r < len(out)``,
    ``j < P.shape[1]``: a panel of the ESN readout's centred design matrix, the
    cast and the subtraction in one pass (_esn_panel.h): the bits of NumPy's
    ``np.subtract(P[rows], shift, out=...)``, without its casting buffers. The
    rows of P and of out must be contiguous.
    """
    cdef Py_ssize_t R = out.shape[0], m = P.shape[1]
    if not (0 <= r0 and r0 + R <= P.shape[0] and shift.shape[0] == m and 0 <= c0
            and c0 + m <= out.shape[1]):
        raise ValueError(f"rows {r0} .. {r0 + R} of P {(P.shape[0], m)} into columns "
                         f"{c0} .. {c0 + m} of out {(R, out.shape[1])} with "
                         f"{shift.shape[0]} shifts do not fit")
    if R == 0 or m == 0:
        return
    cdef Py_ssize_t ld = _row_layout(P, sizeof(floating), "P")
    cdef Py_ssize_t ldd = _row_layout(out, sizeof(double), "out")
    cdef int isa = max(0, min(ROW_ISA, ROW_ISA_AVAILABLE))
    with nogil:
        if floating is float:
            tsb_centre_rows_f32(isa, &P[r0, 0], R, m, ld, &shift[0], &out[0, c0], ldd)
        else:
            tsb_centre_rows_f64(isa, &P[r0, 0], R, m, ld, &shift[0], &out[0, c0], ldd)
