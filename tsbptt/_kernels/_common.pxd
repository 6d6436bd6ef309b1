# Pieces shared by the LSTM, GRU and RNN kernels.
#
# Lengths: steps t >= lengths[b] leave sample b's state unchanged; a length of 0
# (a piece of a sequence that ended earlier, in gradient checkpointing) passes the
# state, and its gradient, straight through.
#
# Layout (docs/kernel_layout.md): W is packed (F + H + 1, G) as [W_x; W_h; b] with
# G = gates * H, and the forward keeps `xh` (B * T rows of F + H + 1) whose row for
# (b, t) is [x_t, h_{t-1}, 1]. One product xh[rows of step t] @ W then gives every
# gate's pre-activation, bias included, for all rows of a chunk at step t.
#
# The training caches (xh, gates, cell, hn) are laid out chunk by chunk, time-major
# inside a chunk (step_row): the rows of one step are consecutive and the next
# step's follow them, so a step's product reads its rows with a row stride of one
# row and a block of steps' xh rows is the weight-gradient product's operand as it
# stands. They keep the shape (B, T, width); only the caches' owner (the engine's
# cell, state_at) reads them. X, Y, dY, dX and the states stay batch-major.
#
# Products: the kernels' own micro-kernels (_microkernels.h), no BLAS. The weights
# are packed once per kernel call and every output element is summed over k in a
# fixed order from 0, so a row's results never depend on the other rows.
#
# Chunks: the batch is split into chunks of rows whose size depends on the batch,
# never on the thread count; one OpenMP thread runs the whole time loop of a chunk.
# Weight gradients go into a per-chunk accumulator,
# added block by block of BLOCK_STEPS steps, latest block first; the caller sums
# the accumulators in chunk order (sum_chunks). So results are bitwise identical for
# any number of threads, and for a sequence cut into pieces whose lengths are
# multiples of BLOCK_STEPS (gradient checkpointing), since every product is called
# with exactly the same operands either way.
from cython cimport floating
from libc.stddef cimport ptrdiff_t
from libc.string cimport memset


#: Steps per weight-gradient product in the backward (k = BLOCK_STEPS * chunk rows).
#: Most bytes of a cache row prefetch_row names (a whole gates row up to H = 256).
cdef enum:
    BLOCK_STEPS = 16
    PREFETCH_BYTES = 4096


cdef inline int check_dims(str name, const Py_ssize_t* shape, int ndim, Py_ssize_t d0,
                           Py_ssize_t d1, Py_ssize_t d2) except -1:
    """Raise ValueError unless an argument's shape is (d0, d1, d2)[:ndim].

    Compares C integers: building Python tuples of every argument's shape cost a
    small batch's call more than a microsecond."""
    cdef Py_ssize_t want[3]
    cdef int i
    want[0], want[1], want[2] = d0, d1, d2
    for i in range(ndim):
        if shape[i] != want[i]:
            raise ValueError(f"{name} has shape {tuple([shape[j] for j in range(ndim)])}, "
                             f"expected {tuple([want[j] for j in range(ndim)])}")
    return 0


cdef inline int check_common(Py_ssize_t B, Py_ssize_t T, Py_ssize_t F, Py_ssize_t G,
                             Py_ssize_t chunk_size, int n_threads,
                             const Py_ssize_t[::1] lengths) except -1:
    """Validate the scalar arguments and lengths before any work starts."""
    cdef Py_ssize_t b
    if B < 1 or T < 1:
        raise ValueError(f"need at least one sample and one time step, got B={B}, T={T}")
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
    if n_threads < 1:
        raise ValueError(f"n_threads must be >= 1, got {n_threads}")
    check_dims("lengths", lengths.shape, 1, B, 0, 0)
    for b in range(B):
        if lengths[b] < 0 or lengths[b] > T:
            raise ValueError(
                f"lengths[{b}] = {lengths[b]} is outside [0, {T}] (T = time steps)")
    if B * T >= 2 ** 31 or T * (F + G + 1) >= 2 ** 31:
        raise ValueError(f"B={B}, T={T} is too large for 32-bit indexing; "
                         "split the batch or the sequence")
    return 0


cdef inline Py_ssize_t n_chunks_of(Py_ssize_t B, Py_ssize_t chunk_size) noexcept nogil:
    return (B + chunk_size - 1) // chunk_size


cdef inline Py_ssize_t step_row(Py_ssize_t r0, Py_ssize_t nb, Py_ssize_t t,
                                Py_ssize_t T) noexcept nogil:
    """Index of step t's first row in the training caches of the chunk [r0, r0 + nb):
    chunk by chunk, time-major inside a chunk, so (r, t) is row step_row + r - r0."""
    return r0 * T + t * nb


cdef inline void fill_xh_step(const floating* X, const floating* h0, floating* xh_t,
                              Py_ssize_t r0, Py_ssize_t r1, Py_ssize_t t, Py_ssize_t T,
                              Py_ssize_t F, Py_ssize_t H) noexcept nogil:
    """Step t's xh rows of a chunk (xh_t: the step's first row): [x_t, ., 1], and
    h0 at t = 0; a later step's h is written by the step before. Filled step by step,
    just before the step's product reads them: a fill of the whole chunk up front
    would have left the cache by then."""
    cdef Py_ssize_t r, K = F + H + 1
    cdef floating* row
    for r in range(r0, r1):
        row = xh_t + (r - r0) * K
        copy_row(row, X + (r * T + t) * F, F)
        row[F + H] = 1
        if t == 0:
            copy_row(row + F, h0 + r * H, H)


cdef extern from "_microkernels.h" nogil:
    const char* TSB_ISA
    enum: TSB_VEC  # 1 in the AVX2 and AVX-512 builds, 0 in the portable one
    const int tsb_tile_rows, tsb_tile_cols_f32, tsb_tile_cols_f64
    ptrdiff_t tsb_packed_size_f32(int k, int n)
    ptrdiff_t tsb_packed_size_f64(int k, int n)
    ptrdiff_t tsb_tn_work_size_f32(int m, int k)
    ptrdiff_t tsb_tn_work_size_f64(int m, int k)
    void tsb_pack_f32(int k, int n, const float* b, ptrdiff_t ldb, float* packed)
    void tsb_pack_f64(int k, int n, const double* b, ptrdiff_t ldb, double* packed)
    void tsb_pack_t_f32(int k, int n, const float* bt, ptrdiff_t ldbt, float* packed)
    void tsb_pack_t_f64(int k, int n, const double* bt, ptrdiff_t ldbt, double* packed)
    void tsb_gemm_f32(int m, int n, int k, const float* a, ptrdiff_t lda,
                      const float* packed, float* c, ptrdiff_t ldc)
    void tsb_gemm_f64(int m, int n, int k, const double* a, ptrdiff_t lda,
                      const double* packed, double* c, ptrdiff_t ldc)
    void tsb_gemm_tn_f32(int m, int n, int k, const float* a, ptrdiff_t lda,
                         const float* b, ptrdiff_t ldb, float* c, ptrdiff_t ldc,
                         float* work)
    void tsb_gemm_tn_f64(int m, int n, int k, const double* a, ptrdiff_t lda,
                         const double* b, ptrdiff_t ldb, double* c, ptrdiff_t ldc,
                         double* work)


cdef inline Py_ssize_t packed_size(floating* like, Py_ssize_t k, Py_ssize_t n) noexcept nogil:
    """Elements of B (k, n) packed by pack_b (``like`` only picks the dtype)."""
    if floating is float:
        return tsb_packed_size_f32(<int>k, <int>n)
    else:
        return tsb_packed_size_f64(<int>k, <int>n)


cdef inline Py_ssize_t tn_work_size(floating* like, Py_ssize_t m,
                                    Py_ssize_t k) noexcept nogil:
    """Elements of the work buffer gemm_tn_add needs for C (m, .) over k rows."""
    if floating is float:
        return tsb_tn_work_size_f32(<int>m, <int>k)
    else:
        return tsb_tn_work_size_f64(<int>m, <int>k)


cdef inline void pack_b(Py_ssize_t k, Py_ssize_t n, const floating* b, Py_ssize_t ldb,
                        floating* packed) noexcept nogil:
    """Copy B (k, n), row stride ldb, into the micro-kernels' panels (once per call)."""
    if floating is float:
        tsb_pack_f32(<int>k, <int>n, b, ldb, packed)
    else:
        tsb_pack_f64(<int>k, <int>n, b, ldb, packed)


cdef inline void pack_bt(Py_ssize_t k, Py_ssize_t n, const floating* bt, Py_ssize_t ldbt,
                         floating* packed) noexcept nogil:
    """pack_b of B = Bt^T, from Bt (n, k) with row stride ldbt: the backward's
    W[:F+H]^T, packed from W itself (once per call)."""
    if floating is float:
        tsb_pack_t_f32(<int>k, <int>n, bt, ldbt, packed)
    else:
        tsb_pack_t_f64(<int>k, <int>n, bt, ldbt, packed)


cdef inline void gemm_step(Py_ssize_t m, Py_ssize_t n, Py_ssize_t k, const floating* a,
                           Py_ssize_t lda, const floating* packed, floating* c,
                           Py_ssize_t ldc) noexcept nogil:
    """C (m, n) = A (m, k) @ B (k, n), B packed by pack_b: one step's product for
    the rows of a chunk. Each C[i, j] is summed over k in order from 0, so its bits
    depend on its operands alone (_microkernels.h)."""
    if floating is float:
        tsb_gemm_f32(<int>m, <int>n, <int>k, a, lda, packed, c, ldc)
    else:
        tsb_gemm_f64(<int>m, <int>n, <int>k, a, lda, packed, c, ldc)


cdef inline void gemm_tn_add(Py_ssize_t m, Py_ssize_t n, Py_ssize_t k, const floating* a,
                             Py_ssize_t lda, const floating* b, Py_ssize_t ldb, floating* c,
                             Py_ssize_t ldc, floating* work) noexcept nogil:
    """C (m, n) += A^T @ B with A (k, m), B (k, n): a block's weight gradients,
    each element summed over k in order from 0 and then added to C once. work:
    tn_work_size(m, k) elements."""
    if floating is float:
        tsb_gemm_tn_f32(<int>m, <int>n, <int>k, a, lda, b, ldb, c, ldc, work)
    else:
        tsb_gemm_tn_f64(<int>m, <int>n, <int>k, a, lda, b, ldb, c, ldc, work)


cdef inline void infer_rows(const floating* X, const floating* h0, floating* xh,
                            Py_ssize_t r0, Py_ssize_t r1, Py_ssize_t t, Py_ssize_t T,
                            Py_ssize_t F, Py_ssize_t H) noexcept nogil:
    """The forward-only kernels' xh (chunk rows, F + H + 1): at t = 0 every row
    becomes [x_0, h0, 1]; later only x_t is copied in (h was written in place)."""
    cdef Py_ssize_t r, K = F + H + 1
    cdef floating* row
    for r in range(r0, r1):
        row = xh + (r - r0) * K
        copy_row(row, X + (r * T + t) * F, F)
        if t == 0:
            copy_row(row + F, h0 + r * H, H)
            row[F + H] = 1


cdef inline Py_ssize_t add_clip_norm(floating* dh, const floating* dy, Py_ssize_t H,
                                     floating clip, floating* sq_norm) noexcept nogil:
    """dh += dy (the full dL/dh_t), store its squared norm, then clip it to
    [-clip, clip] if clip > 0. Returns how many entries were clipped.

    The norm is summed in 8 interleaved partial sums (a fixed order, so still
    deterministic) that the compiler keeps in one vector register."""
    cdef Py_ssize_t j = 0, k, n_clipped = 0
    cdef floating v, s
    cdef floating acc[8]
    for k in range(8):
        acc[k] = 0
    while j + 8 <= H:
        for k in range(8):
            v = dh[j + k] + dy[j + k]
            dh[j + k] = v
            acc[k] = acc[k] + v * v
        j += 8
    s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]))
    while j < H:
        v = dh[j] + dy[j]
        dh[j] = v
        s = s + v * v
        j += 1
    sq_norm[0] = s
    if clip > 0:
        for j in range(H):
            if dh[j] > clip:
                dh[j] = clip
                n_clipped += 1
            elif dh[j] < -clip:
                dh[j] = -clip
                n_clipped += 1
    return n_clipped


cdef extern from *:
    """
    #if defined(__GNUC__) || defined(__clang__)
    #define TSBPTT_PREFETCH(p, w) __builtin_prefetch((p), (w), 3)
    #define TSBPTT_PREFETCH_L2(p) __builtin_prefetch((p), 0, 2)
    #else
    #define TSBPTT_PREFETCH(p, w) ((void)0)
    #define TSBPTT_PREFETCH_L2(p) ((void)0)
    #endif
    """
    void TSBPTT_PREFETCH(const void* p, int w) nogil
    void TSBPTT_PREFETCH_L2(const void* p) nogil


#: How prefetch_row asks for a row: to read it from L1 (prefetcht0), to write it
#: (prefetchw where the build enables PRFCHW, else prefetcht0), or to read it from L2
#: (prefetcht1, L2 only on Zen 4 and Intel; older Zen treat it as t0). The LSTM and
#: GRU backwards name a whole step's rows one step ahead, hundreds of KB at H = 128:
#: into L1 they evicted the rows of the step at work; into L2 the LSTM's step took
#: 2-5% less time at the larger rows, the GRU's 0-3%, within 2% either way at the
#: small ones (measured on Zen 4, 2026-12-04 "malloc"). The RNN's, a quarter as wide,
#: measured 2% slower at (256, 48, 4, 64) and 4% faster at (128, 100, 8, 128): it
#: keeps L1, as before.
cdef enum:
    PREFETCH_READ = 0
    PREFETCH_WRITE = 1
    PREFETCH_READ_L2 = 2


cdef inline void prefetch_row(const floating* p, Py_ssize_t n, int how) noexcept nogil:
    """Ask for the cache lines of p[0:n] early, ``how`` one of PREFETCH_READ,
    PREFETCH_WRITE, PREFETCH_READ_L2 (a constant: the branch folds).

    The user's arrays (Y, dY) are batch-major, so the rows a step needs sit T rows
    apart, too far for the hardware prefetcher to guess; the kernels name them one
    step ahead. The caches' rows of a step are consecutive (see step_row), but the
    backward still names their rows of step t - 1: it walks them downwards, and
    without the names it waited on the gates rows (measured, tmajor).
    Up to PREFETCH_BYTES of a row: naming only its first 512 bytes left the LSTM
    backward stalled on the last gates of each row (o, at byte 3H * 4)."""
    cdef Py_ssize_t off
    cdef const char* c = <const char*>p
    for off in range(0, min(n * <Py_ssize_t>sizeof(floating), PREFETCH_BYTES), 64):
        # literal arguments: __builtin_prefetch takes constants only (clang, -O0)
        if how == PREFETCH_WRITE:
            TSBPTT_PREFETCH(c + off, 1)
        elif how == PREFETCH_READ_L2:
            TSBPTT_PREFETCH_L2(c + off)
        else:
            TSBPTT_PREFETCH(c + off, 0)


cdef inline floating dot_row(const floating* a, const floating* b,
                             Py_ssize_t n) noexcept nogil:
    """sum_j a[j] * b[j] in a fixed order that depends on n alone: 16 interleaved
    partial sums (one to four vector registers), a fixed tree, then the tail."""
    cdef Py_ssize_t j = 0, k
    cdef floating s
    cdef floating acc[16]
    for k in range(16):
        acc[k] = 0
    while j + 16 <= n:
        for k in range(16):
            acc[k] = acc[k] + a[j + k] * b[j + k]
        j += 16
    s = (((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]))
         + (((acc[8] + acc[9]) + (acc[10] + acc[11]))
            + ((acc[12] + acc[13]) + (acc[14] + acc[15]))))
    while j < n:
        s = s + a[j] * b[j]
        j += 1
    return s

cdef extern from "_rowcopy.h" nogil:
    void tsb_copy_f32(float* dst, const float* src, ptrdiff_t n)
    void tsb_copy_f64(double* dst, const double* src, ptrdiff_t n)


cdef inline void copy_row(floating* dst, const floating* src, Py_ssize_t n) noexcept nogil:
    """dst[0:n] = src[0:n] (no overlap), inline: no libc call per row (_rowcopy.h)."""
    if floating is float:
        tsb_copy_f32(dst, src, n)
    else:
        tsb_copy_f64(dst, src, n)


cdef inline void zero_row(floating* dst, Py_ssize_t n) noexcept nogil:
    memset(dst, 0, n * sizeof(floating))
