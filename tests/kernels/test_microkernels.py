"""The kernels' own matrix products (tsbptt/_kernels/_microkernels.h).

(a) every instruction-set build this CPU runs against NumPy, on shapes that hit
every row and column tail; (b) the exact operation sequence of each element, so
a float32 result is known bit for bit; (c) a sample's outputs alone equal its
outputs at any position in any batch, for 1 and 2 threads; (d) the bitwise tests
of the suite under every OpenBLAS kernel choice, in subprocesses.
"""
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tsbptt._kernels import cell_kernels, isa_usable
from tsbptt.engine import _cells
from tsbptt.engine.layers import RecurrentLayer

ISAS = [pytest.param(isa, marks=pytest.mark.skipif(
    not isa_usable(isa), reason=f"no {isa} CPU or build"))
    for isa in ("baseline", "avx2", "avx512")]
#: Bound on |C - A @ B| as a multiple of |A| @ |B| (the usual summation bound).
RTOL = {np.float32: 1e-5, np.float64: 1e-12}
#: The suite's bitwise tests, run under each OpenBLAS kernel choice by (d).
BITWISE_TESTS = ["tests/estimators/test_estimator_invariance.py",
                 "tests/estimators/test_estimators.py::test_per_step_list_alone_vs_in_batch_bitwise",
                 "tests/estimators/test_estimators.py::test_same_random_state_bitwise_for_any_n_threads",
                 "tests/estimators/test_estimators.py::test_sample_alone_vs_in_batch_bitwise"]
ROOT = Path(__file__).resolve().parents[2]


def tile_shapes(isa, dtype):
    """(m, n) pairs around the build's tile: 1, one less, equal, one more, several;
    columns also around one vector (a tile's two vectors in the AVX builds), where
    a narrow column tail switches to its one-vector tile, and around half a vector,
    where the AVX-512 build switches to its half-vector tile."""
    tiles = cell_kernels("lstm", isa).microkernel_tiles()
    mr, nr = tiles["rows"], tiles[f"cols_{np.dtype(dtype).name}"]
    w = 1 if isa == "baseline" else nr // 2
    hw = max(1, w // 2)
    # every row count up to 2 mr + 8: every tile height, the split of a whole tile
    # and a 1-3 row tail (tsb_tile_rows_at), and the AVX2 narrow tile's 2 mr rows
    # with 1-7 left over (split) and 8 (not); then a few taller ones
    ms = sorted(set(range(1, 2 * mr + 9)) | {4 * mr + 1, 5 * mr + 2, 64})
    ns = sorted({1, max(1, nr - 1), nr, nr + 1, 2 * nr + 5, 37,
                 max(1, w - 1), w, w + 1, nr + w, nr + w + 1,
                 max(1, hw - 1), hw, hw + 1, nr + hw, nr + hw + 1})
    return [(m, n) for m in ms for n in ns]


def strided(rng, rows, cols, dtype, pad=3):
    """A (rows, cols) view whose row stride is cols + pad: the kernels read rows
    through their stride, as they read one time step's rows of a batch."""
    return (rng.standard_normal((rows, cols + pad)).astype(dtype))[:, pad:]


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("b_layout", ["rows", "columns"])
def test_step_product_matches_numpy_on_every_tail(isa, dtype, b_layout):
    # "columns": B is a transposed view, packed by the transposing pack, as the
    # backward packs W[:F+H]^T straight from W; it must give the panels, and so
    # every bit, of the same B copied row-major first.
    mod = cell_kernels("lstm", isa)
    rng = np.random.default_rng(0)
    for m, n in tile_shapes(isa, dtype):
        for k in (1, 3, 40):
            A = strided(rng, m, k, dtype)
            B = strided(rng, k, n, dtype) if b_layout == "rows" else \
                strided(rng, n, k, dtype).T
            out = np.full((m, n + 2), 7, dtype)
            mod.microkernel_gemm(A, B, out[:, :n])
            A64, B64 = A.astype(np.float64), B.astype(np.float64)
            err = np.abs(out[:, :n] - A64 @ B64)
            assert np.all(err <= RTOL[dtype] * (np.abs(A64) @ np.abs(B64))), (m, n, k)
            assert np.all(out[:, n:] == 7), f"wrote past column {n} (m={m}, k={k})"
            if b_layout == "columns":
                assert B.strides[0] == B.itemsize  # the transposing pack's case
                via_rows = np.empty((m, n), dtype)
                mod.microkernel_gemm(A, np.ascontiguousarray(B), via_rows)
                np.testing.assert_array_equal(out[:, :n], via_rows, err_msg=f"{(m, n, k)}")


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_gradient_product_matches_numpy_on_every_tail(isa, dtype):
    mod = cell_kernels("lstm", isa)
    rng = np.random.default_rng(1)
    for m, n in tile_shapes(isa, dtype):
        for k in (1, 5, 70, 300):
            A, B = strided(rng, k, m, dtype), strided(rng, k, n, dtype)
            C0 = rng.standard_normal((m, n + 2)).astype(dtype)
            out = C0.copy()
            mod.microkernel_gemm_tn_add(A, B, out[:, :n])
            A64, B64 = A.astype(np.float64), B.astype(np.float64)
            err = np.abs(out[:, :n] - (C0[:, :n] + A64.T @ B64))
            bound = np.abs(C0[:, :n]) + np.abs(A64.T) @ np.abs(B64)
            assert np.all(err <= RTOL[dtype] * bound), (m, n, k)
            np.testing.assert_array_equal(out[:, n:], C0[:, n:])


def sequential_products(A, B, fused):
    """float32 A (m, k) @ B (k, n), each element summed from 0 over k in order, in
    float32: fused multiply-adds (one rounding: the float64 product of two float32
    values is exact) or a rounded product, then a rounded add."""
    acc = np.zeros((A.shape[0], B.shape[1]), np.float32)
    for p in range(A.shape[1]):
        a, b = A[:, p:p + 1], B[p:p + 1, :]
        if fused:
            acc = (acc.astype(np.float64) + a.astype(np.float64) * b).astype(np.float32)
        else:
            acc = acc + a * b
    return acc


@pytest.mark.parametrize("isa", ISAS)
def test_every_element_is_one_sequential_sum_bit_for_bit(isa):
    """The FMA builds fuse every multiply-add, the baseline build none (built with
    -ffp-contract=off), in full tiles and in tails alike."""
    mod = cell_kernels("lstm", isa)
    fused = isa != "baseline"
    rng = np.random.default_rng(2)
    n_fused_differs = 0
    for m, n in tile_shapes(isa, np.float32):
        k = 23
        A, B = strided(rng, m, k, np.float32), strided(rng, k, n, np.float32)
        C = np.empty((m, n), np.float32)
        mod.microkernel_gemm(A, B, C)
        np.testing.assert_array_equal(C, sequential_products(A, B, fused))
        n_fused_differs += np.sum(C != sequential_products(A, B, not fused))
        At = strided(rng, k, m, np.float32)  # read in place by the AVX-512 build
        C0 = rng.standard_normal((m, n)).astype(np.float32)
        C2 = C0.copy()
        mod.microkernel_gemm_tn_add(At, B, C2)
        np.testing.assert_array_equal(C2, C0 + sequential_products(At.T, B, fused))
    assert n_fused_differs > 0  # the two sequences are told apart by these data


@pytest.mark.parametrize("isa", ISAS)
def test_gradient_product_of_one_row_on_every_column_group(isa):
    """C (1, n) += A^T @ B for one column of A (the GRU's bias rows), which the vector
    builds run in passes of 8 vectors of C's row, one pass over the 1-7 whole vectors
    left and a masked one: widths around each, every element the sequential sum,
    added to C once."""
    mod = cell_kernels("lstm", isa)
    fused = isa != "baseline"
    w = 1 if isa == "baseline" else mod.microkernel_tiles()["cols_float32"] // 2
    rng = np.random.default_rng(4)
    for n in sorted({1, max(1, w - 1), w, w + 1, 3 * w, 5 * w + 2, 8 * w - 1, 8 * w,
                     8 * w + 1, 9 * w + 3, 15 * w + 1, 16 * w + 5, 384}):
        for k in (1, 5, 70, 300):
            A, B = strided(rng, k, 1, np.float32), strided(rng, k, n, np.float32)
            C0 = rng.standard_normal((1, n + 2)).astype(np.float32)
            out = C0.copy()
            mod.microkernel_gemm_tn_add(A, B, out[:, :n])
            # fused: the float64 product of two float32 values is exact, so one
            # rounding per step either way; then one rounded add into C
            want = C0[:, :n] + sequential_products(A.T, B, fused)
            np.testing.assert_array_equal(out[:, :n], want, err_msg=f"n={n}, k={k}")
            np.testing.assert_array_equal(out[:, n:], C0[:, n:])
            ones = np.ones((k, 1), np.float32)  # the bias rows' A: column sums
            out64 = np.zeros((1, n), np.float64)
            mod.microkernel_gemm_tn_add(ones.astype(np.float64), B.astype(np.float64), out64)
            np.testing.assert_allclose(out64, B.astype(np.float64).sum(0, keepdims=True),
                                       rtol=1e-12, atol=1e-12 * np.abs(B).sum())


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_an_elements_bits_do_not_depend_on_the_tile_it_falls_in(isa, dtype):
    """Both dtypes: the first n columns (and m rows) of a product, computed alone,
    are bitwise those of a wider (taller) product, whether they fall in a full
    tile, a one-vector or a half-vector column tail, or a row tail."""
    mod = cell_kernels("lstm", isa)
    rng = np.random.default_rng(4)
    shapes = tile_shapes(isa, dtype)
    m_all = max(m for m, _ in shapes)
    n_all = max(n for _, n in shapes)
    for k in (1, 23):
        A, B = strided(rng, m_all, k, dtype), strided(rng, k, n_all, dtype)
        At = strided(rng, k, m_all, dtype)
        C_all = np.empty((m_all, n_all), dtype)
        mod.microkernel_gemm(A, B, C_all)
        G_all = np.zeros((m_all, n_all), dtype)
        mod.microkernel_gemm_tn_add(At, B, G_all)
        for m, n in shapes:
            C = np.empty((m, n), dtype)
            mod.microkernel_gemm(A[:m], B[:, :n], C)
            np.testing.assert_array_equal(C, C_all[:m, :n], err_msg=f"{m, n, k}")
            G = np.zeros((m, n), dtype)
            mod.microkernel_gemm_tn_add(At[:, :m], B[:, :n], G)
            np.testing.assert_array_equal(G, G_all[:m, :n], err_msg=f"{m, n, k}")


def layer_outputs(cell, X, H, dtype, n_threads):
    """Y, final state, dX and d_initial_state of one layer on X (B, T, F)."""
    layer = RecurrentLayer(cell, X.shape[2], H, dtype=dtype, random_state=0)
    rng = np.random.default_rng(5)
    dY = rng.standard_normal((1, X.shape[1], H)).astype(dtype) * np.ones((len(X), 1, 1),
                                                                         dtype)
    Y, state, cache = layer.forward(X, n_threads=n_threads)
    dX, d_state, _ = layer.backward(cache, dY, n_threads=n_threads)
    return [Y, *state, dX, *d_state]


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_sample_alone_equals_it_at_any_position_for_any_thread_count(
        cell, isa, dtype, monkeypatch):
    monkeypatch.setattr(_cells, "cell_kernels", lambda name: cell_kernels(name, isa))
    rng = np.random.default_rng(3)
    B, T, F, H = 70, 9, 3, 21   # 70 rows: several chunks; H = 21: column tails
    X = rng.standard_normal((B, T, F)).astype(dtype)
    perm = rng.permutation(B)
    for n_threads in (1, 2):
        batch = layer_outputs(cell, X, H, dtype, n_threads)
        shuffled = layer_outputs(cell, X[perm], H, dtype, n_threads)
        for got, want in zip(shuffled, batch):
            np.testing.assert_array_equal(got, want[perm])
        for i in (0, 5, 17, 69):
            alone = layer_outputs(cell, X[i:i + 1], H, dtype, n_threads)
            for got, want in zip(alone, batch):
                np.testing.assert_array_equal(got[0], want[i])


def openblas_settings():
    """OPENBLAS_CORETYPE values to run under: unset, Haswell, and SkylakeX where
    the CPU has AVX-512F (OpenBLAS's SkylakeX kernels need it)."""
    settings = [None, "Haswell"]
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        flags = ""
    if re.search(r"\bavx512f\b", flags):
        settings.append("SkylakeX")
    return settings


@pytest.mark.parametrize("coretype", openblas_settings(), ids=str)
def test_bitwise_tests_pass_under_every_openblas_kernel(coretype, tmp_path):
    env = {k: v for k, v in os.environ.items()
           if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    if coretype is not None:
        env["OPENBLAS_CORETYPE"] = coretype
    # Run from an empty folder: `python -m pytest` puts its working folder first on
    # sys.path, and the checkout's tsbptt/ has no compiled kernels unless built in
    # place. The subprocess imports the installed tsbptt, as this process does.
    tests = [str(ROOT / t) for t in BITWISE_TESTS]
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider",
                          "--rootdir", str(ROOT), "-c", str(ROOT / "pyproject.toml"),
                          *tests], cwd=tmp_path, env=env, capture_output=True,
                         text=True, timeout=1800)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert re.search(r"\b\d+ passed", run.stdout), run.stdout[-2000:]


#: Fits whose weights and predictions must not depend on the BLAS kernel: the
#: orthogonal initialisation, the recurrent kernels and the dense head.
_FIT_HASHES = """
import hashlib, warnings
import numpy as np
from tsbptt import GRUClassifier, LSTMRegressor, RNNRegressor
from tsbptt.engine.network import Network
warnings.simplefilter("ignore")
def digest(*arrays):
    return hashlib.sha1(b"".join(np.ascontiguousarray(a).tobytes() for a in arrays)).hexdigest()
rng = np.random.default_rng(0)
s = np.sin(np.arange(400) / 5) + 0.1 * rng.standard_normal(400)
X = np.lib.stride_tricks.sliding_window_view(s[:-1], 12)[:300].copy()
y = s[12:312]
r = LSTMRegressor(40, max_iter=2, dtype="float64", random_state=0).fit(X, y)
c = GRUClassifier(8, max_iter=2, random_state=0).fit(X, y > 0)
m = RNNRegressor(6, max_iter=2, random_state=0).fit(X[:, :, None], np.repeat(y[:, None], 12, 1))
print(digest(*Network("lstm", 2, 70, 1, random_state=0).params.values()),
      digest(*r.params_.values(), r.predict(X)), digest(*c.params_.values(), c.predict_proba(X)),
      digest(*m.params_.values(), m.predict(X[:, :, None])))
"""


def test_fits_give_the_same_bits_under_every_openblas_kernel(tmp_path):
    # the bitwise tests above run under each kernel but never compared across them:
    # the orthogonal initialisation (np.linalg.qr) and the head's backward (BLAS
    # products) made every fit's last bits depend on OpenBLAS's kernel. Sandybridge
    # and Prescott run on any x86-64; without OpenBLAS the setting changes nothing.
    runs = {}
    for coretype in openblas_settings() + ["Sandybridge", "Prescott"]:
        env = {k: v for k, v in os.environ.items()
               if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
        if coretype is not None:
            env["OPENBLAS_CORETYPE"] = coretype
        run = subprocess.run([sys.executable, "-c", _FIT_HASHES], cwd=tmp_path, env=env,
                             capture_output=True, text=True, timeout=600)
        assert run.returncode == 0, run.stderr[-2000:]
        runs[coretype] = run.stdout.split()
    first = runs[None]
    assert len(first) == 4
    for coretype, hashes in runs.items():
        assert hashes == first, f"OPENBLAS_CORETYPE={coretype}: {hashes} != unset {first}"
