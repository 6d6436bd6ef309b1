/* The kernels' own matrix products: register-tiled micro-kernels, no BLAS.
 *
 * Three products per recurrent step (docs/kernel_layout.md):
 *   tsb_gemm_<t>     C (m, n)  = A (m, k) @ B (k, n), B packed by tsb_pack_<t>
 *                    (forward xh_t @ W, backward dA_t @ W_T);
 *   tsb_gemm_tn_<t>  C (m, n) += A^T @ B with A (k, m), B (k, n), B packed into a
 *                    caller's work buffer as it goes, A too except in the AVX-512
 *                    build, which reads it in place (the weight gradients
 *                    xh_blk^T @ dA_blk); with m = 1 (the GRU's bias rows) the
 *                    vector builds read B in place, 8 vectors of C's row a pass.
 * <t> is f32 or f64. Rows of A and B are addressed through their row strides, so
 * the rows of one time step inside a (batch, time, features) array need no copy.
 *
 * Bitwise by construction: every output element is accumulated in one register,
 * starting from 0, in the order p = 0, 1, ..., k - 1, then stored (tsb_gemm) or
 * added once to C (tsb_gemm_tn). Nothing is split over k, so an element's bits
 * depend on k and its operands alone: not on the row's position, the number of
 * rows, the tile it falls in or the thread that computes it. Row tails run the
 * same code with fewer rows: m % MR in the portable build; in the vector builds a
 * tail of 1-3 rows and the whole tile before it become two near-even tiles
 * (tsb_tile_rows_at), and the AVX2 step product's one-vector column tail runs tiles
 * of up to 2 MR rows (tsb_narrow_rows_at). Column tails use masked loads and stores
 * (AVX-512, AVX2) or the same scalar loop (portable), so every element sees the
 * same sequence of operations as in a full tile.
 *
 * One source, three builds, chosen by the compiler flags of the module that
 * includes it (setup.py):
 *   AVX-512F        fused multiply-add, MR x NR = 8 x 32 floats / 8 x 16 doubles;
 *   AVX2 + FMA      fused multiply-add, 6 x 16 floats / 6 x 8 doubles;
 *   portable        multiply, then add (separately rounded: the baseline build is
 *                   compiled with -ffp-contract=off so no compiler fuses them),
 *                   4 x 4 of either.
 * The builds differ in the last bits (fused or not), never within a build.
 *
 * Packing (tsb_pack): B (k, n) is copied once per kernel call into panels of NR
 * columns, each contiguous along k (panel q holds B[:, q*NR : (q+1)*NR], zero
 * padded to NR columns), and reused for all T steps. tsb_gemm_tn packs a block of
 * steps' dA rows per call (and their xh rows, except in AVX-512) with vector copies:
 * a memcpy of one 128-byte panel row compiled to a slow `rep movs`.
 *
 * Narrow column tails (nc <= one vector, e.g. n = F + H = 33) run a tile of one
 * vector per row instead of NV: half the multiply-adds, same per-element order; in
 * the AVX2 build that one-vector tile takes up to 2 MR rows, so that enough
 * accumulators are in flight to cover an FMA's latency (tsb_narrow_rows_at). In
 * the AVX-512 build a tail of at most half a vector (n = F + H = 72 leaves 8 floats)
 * runs a tile of one 256-bit half vector per row: as many FMA instructions as the
 * one-vector tile, but half as wide, which pays where a 512-bit FMA costs two
 * 256-bit ones (Zen 4). These tail tiles are the step product's (tsb_gemm); the
 * weight-gradient tile always runs NV vectors, masked in a tail.
 */
#ifndef TSBPTT_MICROKERNELS_H
#define TSBPTT_MICROKERNELS_H

#include <stddef.h>
#include <string.h>

#if defined(__GNUC__) || defined(__clang__)
#define TSB_INLINE static inline __attribute__((always_inline))
#define TSB_PREFETCH_L1(p) __builtin_prefetch((p), 0, 3) /* prefetcht0 */
#else
#define TSB_INLINE static inline
#define TSB_PREFETCH_L1(p) ((void)0)
#endif
/* Bytes in a cache line (prefetch granularity). */
#define TSB_LINE 64

#if defined(__AVX512F__)
#include <immintrin.h>
#define TSB_ISA "avx512"
#define TSB_MR 8
#define TSB_VEC 1
/* float */
typedef __m512 tsb_vf;
typedef __mmask16 tsb_mf;
#define TSB_WF 16
#define TSB_NVF 2
#define vf_zero() _mm512_setzero_ps()
#define vf_load(p) _mm512_loadu_ps(p)
#define vf_bcast(x) _mm512_set1_ps(x)
#define vf_fma(a, b, c) _mm512_fmadd_ps((a), (b), (c))
#define vf_add(a, b) _mm512_add_ps((a), (b))
#define vf_store(p, v) _mm512_storeu_ps((p), (v))
#define vf_mask(n) ((tsb_mf)((n) >= 16 ? 0xFFFF : (n) <= 0 ? 0 : ((1u << (n)) - 1u)))
#define vf_mload(p, m) _mm512_maskz_loadu_ps((m), (p))
#define vf_mstore(p, m, v) _mm512_mask_storeu_ps((p), (m), (v))
/* double */
typedef __m512d tsb_vd;
typedef __mmask8 tsb_md;
#define TSB_WD 8
#define TSB_NVD 2
#define vd_zero() _mm512_setzero_pd()
#define vd_load(p) _mm512_loadu_pd(p)
#define vd_bcast(x) _mm512_set1_pd(x)
#define vd_fma(a, b, c) _mm512_fmadd_pd((a), (b), (c))
#define vd_add(a, b) _mm512_add_pd((a), (b))
#define vd_store(p, v) _mm512_storeu_pd((p), (v))
#define vd_mask(n) ((tsb_md)((n) >= 8 ? 0xFF : (n) <= 0 ? 0 : ((1u << (n)) - 1u)))
#define vd_mload(p, m) _mm512_maskz_loadu_pd((m), (p))
#define vd_mstore(p, m, v) _mm512_mask_storeu_pd((p), (m), (v))
/* Half vectors (256 bits, AVX-512VL masks) for column tails of at most half a
 * vector: the same fused multiply-add per element on half the lanes. */
#define TSB_HALF 1
typedef __m256 tsb_hf;
typedef __mmask8 tsb_hmf;
#define TSB_HWF 8
#define hf_zero() _mm256_setzero_ps()
#define hf_load(p) _mm256_loadu_ps(p)
#define hf_bcast(x) _mm256_set1_ps(x)
#define hf_fma(a, b, c) _mm256_fmadd_ps((a), (b), (c))
#define hf_mask(n) ((tsb_hmf)((n) >= 8 ? 0xFF : (n) <= 0 ? 0 : ((1u << (n)) - 1u)))
#define hf_mstore(p, m, v) _mm256_mask_storeu_ps((p), (m), (v))
typedef __m256d tsb_hd;
typedef __mmask8 tsb_hmd;
#define TSB_HWD 4
#define hd_zero() _mm256_setzero_pd()
#define hd_load(p) _mm256_loadu_pd(p)
#define hd_bcast(x) _mm256_set1_pd(x)
#define hd_fma(a, b, c) _mm256_fmadd_pd((a), (b), (c))
#define hd_mask(n) ((tsb_hmd)((n) >= 4 ? 0xF : (n) <= 0 ? 0 : ((1u << (n)) - 1u)))
#define hd_mstore(p, m, v) _mm256_mask_storeu_pd((p), (m), (v))
/* The weight-gradient product reads A's rows where they lie (see tsb_gemm_tn). */
#define TSB_TN_DIRECT_A 1

#elif defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define TSB_ISA "avx2"
#define TSB_MR 6
#define TSB_VEC 1
typedef __m256 tsb_vf;
typedef __m256i tsb_mf;
#define TSB_WF 8
#define TSB_NVF 2
#define vf_zero() _mm256_setzero_ps()
#define vf_load(p) _mm256_loadu_ps(p)
#define vf_bcast(x) _mm256_set1_ps(x)
#define vf_fma(a, b, c) _mm256_fmadd_ps((a), (b), (c))
#define vf_add(a, b) _mm256_add_ps((a), (b))
#define vf_store(p, v) _mm256_storeu_ps((p), (v))
#define vf_mask(n) _mm256_cmpgt_epi32(_mm256_set1_epi32(n), \
                                      _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7))
#define vf_mload(p, m) _mm256_maskload_ps((p), (m))
#define vf_mstore(p, m, v) _mm256_maskstore_ps((p), (m), (v))
typedef __m256d tsb_vd;
typedef __m256i tsb_md;
#define TSB_WD 4
#define TSB_NVD 2
#define vd_zero() _mm256_setzero_pd()
#define vd_load(p) _mm256_loadu_pd(p)
#define vd_bcast(x) _mm256_set1_pd(x)
#define vd_fma(a, b, c) _mm256_fmadd_pd((a), (b), (c))
#define vd_add(a, b) _mm256_add_pd((a), (b))
#define vd_store(p, v) _mm256_storeu_pd((p), (v))
#define vd_mask(n) _mm256_cmpgt_epi64(_mm256_set1_epi64x(n), _mm256_setr_epi64x(0, 1, 2, 3))
#define vd_mload(p, m) _mm256_maskload_pd((p), (m))
#define vd_mstore(p, m, v) _mm256_maskstore_pd((p), (m), (v))

#else
/* Portable: one "vector" is one scalar; multiply then add, never fused. */
#define TSB_ISA "baseline"
#define TSB_MR 4
#define TSB_VEC 0
typedef float tsb_vf;
typedef int tsb_mf;
#define TSB_WF 1
#define TSB_NVF 4
#define vf_zero() 0.0f
#define vf_load(p) (*(p))
#define vf_bcast(x) (x)
#define vf_fma(a, b, c) ((c) + (a) * (b))
#define vf_add(a, b) ((a) + (b))
#define vf_store(p, v) (*(p) = (v))
#define vf_mask(n) ((n) > 0)
#define vf_mload(p, m) ((m) ? *(p) : 0.0f)
#define vf_mstore(p, m, v) do { if (m) *(p) = (v); } while (0)
typedef double tsb_vd;
typedef int tsb_md;
#define TSB_WD 1
#define TSB_NVD 4
#define vd_zero() 0.0
#define vd_load(p) (*(p))
#define vd_bcast(x) (x)
#define vd_fma(a, b, c) ((c) + (a) * (b))
#define vd_add(a, b) ((a) + (b))
#define vd_store(p, v) (*(p) = (v))
#define vd_mask(n) ((n) > 0)
#define vd_mload(p, m) ((m) ? *(p) : 0.0)
#define vd_mstore(p, m, v) do { if (m) *(p) = (v); } while (0)
#endif

#ifndef TSB_HALF
/* No half-vector tile in this build: the names alias the full vectors so the one
 * kernel source compiles; `TSB_HALF && ...` never takes that branch. */
#define TSB_HALF 0
typedef tsb_vf tsb_hf;
typedef tsb_mf tsb_hmf;
#define TSB_HWF TSB_WF
#define hf_zero vf_zero
#define hf_load vf_load
#define hf_bcast vf_bcast
#define hf_fma vf_fma
#define hf_mask vf_mask
#define hf_mstore vf_mstore
typedef tsb_vd tsb_hd;
typedef tsb_md tsb_hmd;
#define TSB_HWD TSB_WD
#define hd_zero vd_zero
#define hd_load vd_load
#define hd_bcast vd_bcast
#define hd_fma vd_fma
#define hd_mask vd_mask
#define hd_mstore vd_mstore
#endif
#ifndef TSB_TN_DIRECT_A
#define TSB_TN_DIRECT_A 0
#endif

/* Rows a tile needs to keep the FMA units busy in the vector builds: a tile row is
 * NV = 2 vectors, so 4 rows give 8 independent accumulators, an FMA's latency (4
 * cycles) times the units that run it (2). A tile of fewer rows waits on that latency
 * and takes as long per k step as one of TSB_FULL_ROWS rows. */
#define TSB_FULL_ROWS 4

/* The rows of the tile that starts at row i of m, for tiles of at most max_rows
 * rows that need full_rows to keep the FMA units busy: max_rows, but where the rows
 * left are a whole tile and a tail of fewer than full_rows, the two tiles are split
 * as evenly as they go instead. With (MR, TSB_FULL_ROWS), tsb_tile_rows_at: m = 32
 * on AVX2 runs 6+6+6+6+4+4 rows, not 6+6+6+6+6+2, whose 2-row tile takes as long per
 * k step as 4 rows. The split only ever replaces the last two tiles by two, so m rows
 * take ceil(m / max_rows) tiles, as without it (tsb_tn_a_size counts on that). Which
 * tile a row falls in does not change its bits (each element's sum is its own),
 * only the time. */
static inline int tsb_split_rows_at(int i, int m, int max_rows, int full_rows) {
    int left = m - i;
    if (TSB_VEC && left > max_rows && left - max_rows < full_rows)
        return (left + 1) / 2;
    return left < max_rows ? left : max_rows;
}

static inline int tsb_tile_rows_at(int i, int m) {
    return tsb_split_rows_at(i, m, TSB_MR, TSB_FULL_ROWS);
}

/* The step product's narrow column tails (at most one vector: n = F + H = 72 or
 * 136 leaves 8 floats) run tiles of one vector a row. At MR rows that is MR
 * accumulators, too few for the FMA latency in the AVX2 build (6 of 8); there the
 * narrow tile takes up to twice as many rows, the last two split evenly where a
 * 2 MR tile would leave fewer than TSB_NARROW_FULL_ROWS (m = 16: 8+8, not 12+4;
 * m = 13: 7+6, not 12+1). The AVX-512 build's MR = 8 rows already hold 8, so it
 * keeps MR-row tiles there (TSB_NARROW is 0; not measured with taller ones). */
#define TSB_NARROW_FULL_ROWS 8
#define TSB_NARROW (TSB_VEC && TSB_MR < TSB_NARROW_FULL_ROWS)
#define TSB_NARROW_MR (2 * TSB_MR)
#if TSB_MR > 8 || TSB_NARROW_MR > 16
#error "TSB_SWITCH_ROWS takes at most 8 rows and TSB_SWITCH_NARROW_ROWS 16"
#endif

static inline int tsb_narrow_rows_at(int i, int m) {
    return tsb_split_rows_at(i, m, TSB_NARROW_MR, TSB_NARROW_FULL_ROWS);
}

/* Vectors of C's row per pass of tsb_tn_row: 8 accumulators. */
#define TSB_ROW_VECS 8
/* One case of tsb_tn_row's last pass: v whole vectors of W lanes. */
#define TSB_ROW_CASE(S, W, v)                                                         \
    case v: tsb_tn_row_group_##S(v, k, a, lda, b + j, ldb, c + j, (v) * (W)); break;

#define TSB_NRF (TSB_WF * TSB_NVF)
#define TSB_NRD (TSB_WD * TSB_NVD)

/* TILE(r, ...) with r the constant row count mr (1 <= mr <= MR): each row count
 * gets its own unrolled code (the r > MR cases are never taken). */
#define TSB_SWITCH_ROWS(mr, TILE, ...)                                                \
    switch (mr) {                                                                     \
    case 1: TILE(1, __VA_ARGS__); break;                                              \
    case 2: TILE(2, __VA_ARGS__); break;                                              \
    case 3: TILE(3, __VA_ARGS__); break;                                              \
    case 4: TILE(4, __VA_ARGS__); break;                                              \
    case 5: TILE(TSB_MR > 4 ? 5 : 1, __VA_ARGS__); break;                             \
    case 6: TILE(TSB_MR > 5 ? 6 : 1, __VA_ARGS__); break;                             \
    case 7: TILE(TSB_MR > 6 ? 7 : 1, __VA_ARGS__); break;                             \
    default: TILE(TSB_MR > 7 ? 8 : 1, __VA_ARGS__); break;                            \
    }

/* TSB_SWITCH_ROWS for the narrow tile's 1 <= mr <= TSB_NARROW_MR rows. */
#define TSB_NARROW_CASE(r, TILE, ...)                                                 \
    case r: TILE(TSB_NARROW_MR >= r ? r : 1, __VA_ARGS__); break;
#define TSB_SWITCH_NARROW_ROWS(mr, TILE, ...)                                         \
    switch (mr) {                                                                     \
    TSB_NARROW_CASE(1, TILE, __VA_ARGS__) TSB_NARROW_CASE(2, TILE, __VA_ARGS__)       \
    TSB_NARROW_CASE(3, TILE, __VA_ARGS__) TSB_NARROW_CASE(4, TILE, __VA_ARGS__)       \
    TSB_NARROW_CASE(5, TILE, __VA_ARGS__) TSB_NARROW_CASE(6, TILE, __VA_ARGS__)       \
    TSB_NARROW_CASE(7, TILE, __VA_ARGS__) TSB_NARROW_CASE(8, TILE, __VA_ARGS__)       \
    TSB_NARROW_CASE(9, TILE, __VA_ARGS__) TSB_NARROW_CASE(10, TILE, __VA_ARGS__)      \
    TSB_NARROW_CASE(11, TILE, __VA_ARGS__) TSB_NARROW_CASE(12, TILE, __VA_ARGS__)     \
    TSB_NARROW_CASE(13, TILE, __VA_ARGS__) TSB_NARROW_CASE(14, TILE, __VA_ARGS__)     \
    TSB_NARROW_CASE(15, TILE, __VA_ARGS__)                                            \
    default: TILE(TSB_NARROW_MR >= 16 ? 16 : 1, __VA_ARGS__); break;                  \
    }

/* The kernels for one dtype, from the v<x>_ and h<x>_ operations above.
 *   T: scalar type; S: f32/f64 suffix; V, M: vector and mask types; W: lanes;
 *   NV: vectors per tile row; X: vf or vd; HV, HM, HW, HX: the same for half
 *   vectors (hf or hd). */
#define TSB_DEFINE_KERNELS(T, S, V, M, W, NV, X, HV, HM, HW, HX)                      \
                                                                                      \
/* Elements of B (k, n) packed: whole panels of NV * W columns. */                    \
static inline ptrdiff_t tsb_packed_size_##S(int k, int n) {                           \
    return (ptrdiff_t)((n + NV * W - 1) / (NV * W)) * (NV * W) * (k > 0 ? k : 1);     \
}                                                                                     \
                                                                                      \
/* packed[q][p][c] = B[p, q * NR + c], 0 beyond column n. Vector copies: the   \
 * backward packs a block's dA (one panel row of NR elements per step row) for   \
 * every weight-gradient product, where a memcpy of 128 bytes became a slow      \
 * `rep movs` and cost more than the product's own loads. */                      \
static inline void tsb_pack_##S(int k, int n, const T* b, ptrdiff_t ldb, T* packed) { \
    const int nr = NV * W;                                                            \
    int q, p, v;                                                                      \
    for (q = 0; q * nr < n; q++) {                                                    \
        int nc = n - q * nr < nr ? n - q * nr : nr;                                   \
        const T* src = b + q * nr;                                                    \
        T* dst = packed + (ptrdiff_t)q * k * nr;                                      \
        if (nc == nr) {                                                               \
            for (p = 0; p < k; p++)                                                   \
                for (v = 0; v < NV; v++)                                              \
                    X##_store(dst + (ptrdiff_t)p * nr + v * W,                        \
                              X##_load(src + p * ldb + v * W));                       \
        } else {                                                                      \
            for (v = 0; v < NV; v++) {                                                \
                M m = X##_mask(nc - v * W);                                           \
                for (p = 0; p < k; p++)                                               \
                    X##_store(dst + (ptrdiff_t)p * nr + v * W,                        \
                              X##_mload(src + p * ldb + v * W, m));                   \
            }                                                                         \
        }                                                                             \
    }                                                                                 \
}                                                                                     \
                                                                                      \
/* tsb_pack's panels of B = Bt^T, from Bt (n, k) with row stride ldbt:           \
 * packed[q][p][c] = Bt[q * NR + c, p], 0 beyond column n. The backward packs    \
 * W[:F+H]^T straight from W this way, once per call; each Bt row is read along.  */ \
static inline void tsb_pack_t_##S(int k, int n, const T* bt, ptrdiff_t ldbt,          \
                                  T* packed) {                                        \
    const int nr = NV * W;                                                            \
    int q, p, c;                                                                      \
    for (q = 0; q * nr < n; q++) {                                                    \
        T* dst = packed + (ptrdiff_t)q * k * nr;                                      \
        for (c = 0; c < nr; c++) {                                                    \
            if (q * nr + c < n) {                                                     \
                const T* src = bt + (ptrdiff_t)(q * nr + c) * ldbt;                   \
                for (p = 0; p < k; p++)                                               \
                    dst[(ptrdiff_t)p * nr + c] = src[p];                              \
            } else {                                                                  \
                for (p = 0; p < k; p++)                                               \
                    dst[(ptrdiff_t)p * nr + c] = 0;                                   \
            }                                                                         \
        }                                                                             \
    }                                                                                 \
}                                                                                     \
                                                                                      \
/* C[0:mr, 0:nc] = A[0:mr, 0:k] @ panel, from the first nv vectors of each panel   \
 * row (nv * W >= nc); mr and nv constants after inlining. */                       \
TSB_INLINE void tsb_tile_##S(const int mr, const int nv, int k, const T* a,          \
                             ptrdiff_t lda, const T* panel, T* c, ptrdiff_t ldc,      \
                             int nc) {                                                \
    V acc[TSB_MR][NV], bv[NV];                                                        \
    int r, v, p;                                                                      \
    for (r = 0; r < mr; r++)                                                          \
        for (v = 0; v < nv; v++) acc[r][v] = X##_zero();                              \
    for (p = 0; p < k; p++) {                                                         \
        for (v = 0; v < nv; v++) bv[v] = X##_load(panel + (ptrdiff_t)p * NV * W + v * W); \
        for (r = 0; r < mr; r++) {                                                    \
            V ar = X##_bcast(a[r * lda + p]);                                         \
            for (v = 0; v < nv; v++) acc[r][v] = X##_fma(ar, bv[v], acc[r][v]);       \
        }                                                                             \
    }                                                                                 \
    if (nc == NV * W) {                                                               \
        for (r = 0; r < mr; r++)                                                      \
            for (v = 0; v < nv; v++) X##_store(c + r * ldc + v * W, acc[r][v]);       \
    } else {                                                                          \
        for (v = 0; v < nv; v++) {                                                    \
            M m = X##_mask(nc - v * W);                                               \
            for (r = 0; r < mr; r++) X##_mstore(c + r * ldc + v * W, m, acc[r][v]);   \
        }                                                                             \
    }                                                                                 \
}                                                                                     \
                                                                                      \
/* As tsb_tile for nc <= HW, in half vectors: the first HW elements of each panel  \
 * row, each element the same fused multiply-adds in the same order. */            \
TSB_INLINE void tsb_tile_half_##S(const int mr, int k, const T* a, ptrdiff_t lda,     \
                                  const T* panel, T* c, ptrdiff_t ldc, int nc) {      \
    HV acc[TSB_MR], bv;                                                               \
    HM m = HX##_mask(nc);                                                             \
    int r, p;                                                                         \
    for (r = 0; r < mr; r++) acc[r] = HX##_zero();                                    \
    for (p = 0; p < k; p++) {                                                         \
        bv = HX##_load(panel + (ptrdiff_t)p * NV * W);                                \
        for (r = 0; r < mr; r++)                                                      \
            acc[r] = HX##_fma(HX##_bcast(a[r * lda + p]), bv, acc[r]);                \
    }                                                                                 \
    for (r = 0; r < mr; r++) HX##_mstore(c + r * ldc, m, acc[r]);                     \
}                                                                                     \
                                                                                      \
/* As tsb_tile for nc <= W, one vector a row, up to TSB_NARROW_MR rows: each      \
 * element the same fused multiply-adds in the same order. */                      \
TSB_INLINE void tsb_tile_narrow_##S(const int mr, int k, const T* a, ptrdiff_t lda,   \
                                    const T* panel, T* c, ptrdiff_t ldc, int nc) {    \
    V acc[TSB_NARROW_MR], bv;                                                         \
    int r, p;                                                                         \
    for (r = 0; r < mr; r++) acc[r] = X##_zero();                                     \
    for (p = 0; p < k; p++) {                                                         \
        bv = X##_load(panel + (ptrdiff_t)p * NV * W);                                 \
        for (r = 0; r < mr; r++)                                                      \
            acc[r] = X##_fma(X##_bcast(a[r * lda + p]), bv, acc[r]);                  \
    }                                                                                 \
    if (nc == W) {                                                                    \
        for (r = 0; r < mr; r++) X##_store(c + r * ldc, acc[r]);                      \
    } else {                                                                          \
        M m = X##_mask(nc);                                                           \
        for (r = 0; r < mr; r++) X##_mstore(c + r * ldc, m, acc[r]);                  \
    }                                                                                 \
}                                                                                     \
                                                                                      \
static void tsb_rows_narrow_##S(int mr, int k, const T* a, ptrdiff_t lda,             \
                                const T* panel, T* c, ptrdiff_t ldc, int nc) {        \
    TSB_SWITCH_NARROW_ROWS(mr, tsb_tile_narrow_##S, k, a, lda, panel, c, ldc, nc);    \
}                                                                                     \
                                                                                      \
/* Row tails (mr < MR) and narrow column tails (nc <= HW in the AVX-512 build: one \
 * half vector, a quarter of a full tile's multiply-adds; nc <= W otherwise, one     \
 * vector, except the AVX2 build's, which go to tsb_rows_narrow) get                \
 * their own unrolled code; every element still sees the same operations as in a    \
 * full tile. */                                                                     \
static void tsb_rows_##S(int mr, int k, const T* a, ptrdiff_t lda, const T* panel,    \
                         T* c, ptrdiff_t ldc, int nc) {                               \
    if (TSB_HALF && nc <= HW) {                                                       \
        TSB_SWITCH_ROWS(mr, tsb_tile_half_##S, k, a, lda, panel, c, ldc, nc);         \
        return;                                                                       \
    }                                                                                 \
    if (nc <= W && NV > 1) {                                                          \
        TSB_SWITCH_ROWS(mr, tsb_tile_##S, 1, k, a, lda, panel, c, ldc, nc);           \
        return;                                                                       \
    }                                                                                 \
    TSB_SWITCH_ROWS(mr, tsb_tile_##S, NV, k, a, lda, panel, c, ldc, nc);              \
}                                                                                     \
                                                                                      \
/* C (m, n) = A (m, k) @ B (k, n), B packed by tsb_pack. k = 0 gives zeros. */        \
static inline void tsb_gemm_##S(int m, int n, int k, const T* a, ptrdiff_t lda,       \
                                const T* packed, T* c, ptrdiff_t ldc) {               \
    const int nr = NV * W;                                                            \
    int i, q, mr;                                                                     \
    for (q = 0; q * nr < n; q++) {                                                    \
        int nc = n - q * nr < nr ? n - q * nr : nr;                                   \
        const T* panel = packed + (ptrdiff_t)q * k * nr;                              \
        if (TSB_NARROW && nc <= W && !(TSB_HALF && nc <= HW)) {                       \
            for (i = 0; i < m; i += mr) {                                             \
                mr = tsb_narrow_rows_at(i, m);                                        \
                tsb_rows_narrow_##S(mr, k, a + i * lda, lda, panel, c + i * ldc + q * nr, \
                                    ldc, nc);                                         \
            }                                                                         \
            continue;                                                                 \
        }                                                                             \
        for (i = 0; i < m; i += mr) {                                                 \
            mr = tsb_tile_rows_at(i, m);                                              \
            tsb_rows_##S(mr, k, a + i * lda, lda, panel, c + i * ldc + q * nr, ldc, nc); \
        }                                                                             \
    }                                                                                 \
}                                                                                     \
                                                                                      \
/* Elements of tsb_gemm_tn's packed A (none where it reads A in place). */         \
static inline ptrdiff_t tsb_tn_a_size_##S(int m, int k) {                             \
    return TSB_TN_DIRECT_A ? 0 : (ptrdiff_t)(m + TSB_MR - 1) / TSB_MR * TSB_MR * k;   \
}                                                                                     \
                                                                                      \
/* Elements of the work buffer tsb_gemm_tn needs for m columns of A and k rows. */   \
static inline ptrdiff_t tsb_tn_work_size_##S(int m, int k) {                          \
    return tsb_tn_a_size_##S(m, k) + (ptrdiff_t)NV * W * (k > 0 ? k : 1);             \
}                                                                                     \
                                                                                      \
/* C[0:mr, 0:NR] += acc of A^T rows and bp (k, NR) packed B; A's element (p, r) is  \
 * ap[p * sa + r] (sa = MR packed, lda in place). */                                 \
TSB_INLINE void tsb_tile_tn_##S(const int mr, int k, const T* ap, ptrdiff_t sa,       \
                                const T* bp, T* c, ptrdiff_t ldc, int nc) {           \
    V acc[TSB_MR][NV], bv[NV];                                                        \
    int r, v, p;                                                                      \
    /* C's rows are 4H elements apart (a new page each at H >= 256): no hardware      \
     * prefetch reaches them, so ask for them now, a whole k loop ahead. */           \
    for (r = 0; r < mr; r++)                                                          \
        for (v = 0; v < nc; v += TSB_LINE / (int)sizeof(T))                           \
            TSB_PREFETCH_L1(c + r * ldc + v);                                         \
    for (r = 0; r < mr; r++)                                                          \
        for (v = 0; v < NV; v++) acc[r][v] = X##_zero();                              \
    for (p = 0; p < k; p++) {                                                         \
        for (v = 0; v < NV; v++) bv[v] = X##_load(bp + (ptrdiff_t)p * NV * W + v * W); \
        for (r = 0; r < mr; r++) {                                                    \
            V ar = X##_bcast(ap[(ptrdiff_t)p * sa + r]);                              \
            for (v = 0; v < NV; v++) acc[r][v] = X##_fma(ar, bv[v], acc[r][v]);       \
        }                                                                             \
    }                                                                                 \
    if (nc == NV * W) {                                                               \
        for (r = 0; r < mr; r++)                                                      \
            for (v = 0; v < NV; v++) {                                                \
                T* cp = c + r * ldc + v * W;                                          \
                X##_store(cp, X##_add(X##_load(cp), acc[r][v]));                      \
            }                                                                         \
    } else {                                                                          \
        for (v = 0; v < NV; v++) {                                                    \
            M m = X##_mask(nc - v * W);                                               \
            for (r = 0; r < mr; r++) {                                                \
                T* cp = c + r * ldc + v * W;                                          \
                X##_mstore(cp, m, X##_add(X##_mload(cp, m), acc[r][v]));              \
            }                                                                         \
        }                                                                             \
    }                                                                                 \
}                                                                                     \
                                                                                      \
static void tsb_rows_tn_##S(int mr, int k, const T* ap, ptrdiff_t lda, const T* bp, \
                            T* c, ptrdiff_t ldc, int nc) {                            \
    /* A constant stride where A is packed, so the tile's addressing folds. */       \
    const ptrdiff_t sa = TSB_TN_DIRECT_A ? lda : TSB_MR;                             \
    TSB_SWITCH_ROWS(mr, tsb_tile_tn_##S, k, ap, sa, bp, c, ldc, nc);                  \
}                                                                                     \
                                                                                      \
/* C[0, 0:n] += A[:, 0]^T @ B for one column of A (the GRU's bias rows: A is the     \
 * ones column): B read in place, TSB_ROW_VECS vectors of a row at a time. A 1-row   \
 * tile holds NV accumulators, too few for the FMA latency, and packing B for it     \
 * cost as much as its multiply-adds; each element is still one register from 0     \
 * over p in order, added to C once, as in the tile. */                               \
TSB_INLINE void tsb_tn_row_group_##S(const int nv, int k, const T* a, ptrdiff_t lda,  \
                                     const T* b, ptrdiff_t ldb, T* c, int nc) {       \
    V acc[TSB_ROW_VECS];                                                              \
    int v, p;                                                                         \
    for (v = 0; v < nv; v++) acc[v] = X##_zero();                                     \
    if (nc == nv * W) {                                                               \
        for (p = 0; p < k; p++) {                                                     \
            V ap = X##_bcast(a[p * lda]);                                             \
            for (v = 0; v < nv; v++)                                                  \
                acc[v] = X##_fma(ap, X##_load(b + p * ldb + v * W), acc[v]);          \
        }                                                                             \
        for (v = 0; v < nv; v++)                                                      \
            X##_store(c + v * W, X##_add(X##_load(c + v * W), acc[v]));               \
    } else {                                                                          \
        M m = X##_mask(nc);                                                           \
        for (p = 0; p < k; p++)                                                       \
            acc[0] = X##_fma(X##_bcast(a[p * lda]), X##_mload(b + p * ldb, m), acc[0]); \
        X##_mstore(c, m, X##_add(X##_mload(c, m), acc[0]));                           \
    }                                                                                 \
}                                                                                     \
                                                                                      \
/* The whole vectors left after the full passes, 1 to 7, in one pass (a constant     \
 * count each, so the accumulators stay in registers). */                            \
static void tsb_tn_row_##S(int n, int k, const T* a, ptrdiff_t lda, const T* b,       \
                           ptrdiff_t ldb, T* c) {                                     \
    int j = 0;                                                                        \
    for (; j + TSB_ROW_VECS * W <= n; j += TSB_ROW_VECS * W)                          \
        tsb_tn_row_group_##S(TSB_ROW_VECS, k, a, lda, b + j, ldb, c + j,              \
                             TSB_ROW_VECS * W);                                       \
    switch ((n - j) / W) {                                                            \
    TSB_ROW_CASE(S, W, 1) TSB_ROW_CASE(S, W, 2) TSB_ROW_CASE(S, W, 3)                 \
    TSB_ROW_CASE(S, W, 4) TSB_ROW_CASE(S, W, 5) TSB_ROW_CASE(S, W, 6)                 \
    TSB_ROW_CASE(S, W, 7)                                                             \
    default: break;                                                                   \
    }                                                                                 \
    j += (n - j) / W * W;                                                             \
    if (j < n)                                                                        \
        tsb_tn_row_group_##S(1, k, a, lda, b + j, ldb, c + j, n - j);                 \
}                                                                                     \
                                                                                      \
/* C (m, n) += A^T @ B, A (k, m), B (k, n); work: tsb_tn_work_size elements.          \
 * B is packed one NR-column panel at a time, contiguous along k. A is read where     \
 * it lies in the AVX-512 build (TSB_TN_DIRECT_A: its rows are a block of steps' xh   \
 * rows, mr contiguous elements per k, which the tile broadcasts from memory); the    \
 * other builds pack it once into MR-column panels, which measured faster there.      \
 * Either way a plain copy or none: the sums do not change.                           \
 */                                                                                   \
static inline void tsb_gemm_tn_##S(int m, int n, int k, const T* a, ptrdiff_t lda,    \
                                   const T* b, ptrdiff_t ldb, T* c, ptrdiff_t ldc,    \
                                   T* work) {                                         \
    const int nr = NV * W;                                                            \
    int i, j, p, r, t, mr;                                                            \
    T* pa = work;                                                                     \
    T* pb = work + tsb_tn_a_size_##S(m, k);                                           \
    if (TSB_VEC && m == 1) {                                                          \
        tsb_tn_row_##S(n, k, a, lda, b, ldb, c);                                      \
        return;                                                                       \
    }                                                                                 \
    /* Panel by panel: the writes are sequential (row by row, they went to m / MR \
     * streams k * MR elements apart, a power of two that thrashes one L1 set).   \
     * Tile t's panel is at t * MR * k, MR wide whatever its rows. */               \
    for (i = 0, t = 0; !TSB_TN_DIRECT_A && i < m; i += mr, t++) {                     \
        T* dst = pa + (ptrdiff_t)t * TSB_MR * k;                                      \
        mr = tsb_tile_rows_at(i, m);                                                  \
        if (mr == TSB_MR) {                                                           \
            for (p = 0; p < k; p++)                                                   \
                for (r = 0; r < TSB_MR; r++)                                          \
                    dst[(ptrdiff_t)p * TSB_MR + r] = a[p * lda + i + r];              \
        } else {                                                                      \
            for (p = 0; p < k; p++)                                                   \
                for (r = 0; r < mr; r++) dst[(ptrdiff_t)p * TSB_MR + r] = a[p * lda + i + r]; \
        }                                                                             \
    }                                                                                 \
    for (j = 0; j < n; j += nr) {                                                     \
        int nc = n - j < nr ? n - j : nr;                                             \
        tsb_pack_##S(k, nc, b + j, ldb, pb);                                          \
        for (i = 0, t = 0; i < m; i += mr, t++) {                                     \
            mr = tsb_tile_rows_at(i, m);                                              \
            tsb_rows_tn_##S(mr, k, TSB_TN_DIRECT_A ? a + i : pa + (ptrdiff_t)t * TSB_MR * k, \
                            lda, pb, c + i * ldc + j, ldc, nc);                       \
        }                                                                             \
    }                                                                                 \
}

TSB_DEFINE_KERNELS(float, f32, tsb_vf, tsb_mf, TSB_WF, TSB_NVF, vf, tsb_hf, tsb_hmf, TSB_HWF, hf)
TSB_DEFINE_KERNELS(double, f64, tsb_vd, tsb_md, TSB_WD, TSB_NVD, vd, tsb_hd, tsb_hmd, TSB_HWD, hd)

/* Panel width of each dtype in this build (for tests and show_config). */
static const int tsb_tile_rows = TSB_MR;
static const int tsb_tile_cols_f32 = TSB_NRF;
static const int tsb_tile_cols_f64 = TSB_NRD;

#endif /* TSBPTT_MICROKERNELS_H */
