"""The reservoir kernel's batch path (16 rows as lanes, _esn_chunk.h): against
the NumPy twin, and the same bits for every instruction set, both float32 tanh
widths, alone vs in a batch and for any thread count."""
import itertools

import numpy as np
import pytest

from tsbptt._kernels import _esn, reference
from tsbptt._kernels._esn import ROWS_PER_CHUNK

TOL = {np.float32: 1e-5, np.float64: 1e-12}
#: The instruction sets of the batch path this CPU runs (0 portable C, 1 AVX2,
#: 2 AVX-512F) and the float32 tanh widths (False: 4 lanes, True: 8, AVX2).
ISAS = list(range(_esn.ROW_ISA_AVAILABLE + 1))
WIDES = [False, True] if _esn.TANHF_WIDE_AVAILABLE else [False]
VARIANTS = list(itertools.product(ISAS, WIDES))


def _inputs(res, B, T, seed=1, ragged=True):
    rs = np.random.RandomState(seed)
    dtype = res["W_in"].dtype
    N, F = res["W_in"].shape
    lengths = rs.randint(1, T + 1, B) if ragged else np.full(B, T)
    return dict(U=rs.randn(B, T, F).astype(dtype),
                Y_fb=rs.randn(B, T, res["W_fb"].shape[1]).astype(dtype),
                x0=(0.3 * rs.randn(B, N)).astype(dtype),
                lengths=lengths.astype(np.intp))


def _variant(monkeypatch, isa, wide):
    monkeypatch.setattr(_esn, "CHUNK_ISA", isa)
    monkeypatch.setattr(_esn, "ROW_ISA", isa)
    monkeypatch.setattr(_esn, "TANHF_WIDE", wide)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("N", [1, 5, 37, 203])  # none a multiple of 16
@pytest.mark.parametrize("isa, wide", VARIANTS)
def test_batch_matches_numpy_twin(dtype, N, isa, wide, monkeypatch, make_reservoir, run_esn):
    """Ragged lengths, a partial last chunk (B = 16 + 3), inputs and feedback."""
    _variant(monkeypatch, isa, wide)
    res = make_reservoir(N, dtype)
    inp = _inputs(res, ROWS_PER_CHUNK + 3, 30)
    got = run_esn(res, inp)
    want = reference.esn_forward(inp["U"], res["W_in"], res["W"], res["bias"], 0.6,
                                 lengths=inp["lengths"], W_fb=res["W_fb"],
                                 Y_fb=inp["Y_fb"], x0=inp["x0"], washout=3)
    for g, w in zip(got, want):
        assert g.dtype == dtype
        np.testing.assert_allclose(g, w, rtol=TOL[dtype], atol=TOL[dtype])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("N", [5, 37, 203])
@pytest.mark.parametrize("ragged", [False, True])
def test_every_variant_gives_the_same_bits(dtype, N, ragged, monkeypatch, make_reservoir, run_esn):
    """Every instruction set and tanh width, 1 or 3 threads, against the portable
    C path with the 4-wide tanh (the scalar batch path's bits): states, final
    states and means bitwise, in batches of 2, 16 + 1 and 2 x 16 + 5 rows."""
    res = make_reservoir(N, dtype, seed=N)
    inp = _inputs(res, 2 * ROWS_PER_CHUNK + 5, 25, seed=N, ragged=ragged)
    _variant(monkeypatch, 0, False)
    base = {B: run_esn(res, inp, rows=range(B)) for B in (2, ROWS_PER_CHUNK + 1, len(inp["U"]))}
    for (isa, wide), n_threads in itertools.product(VARIANTS, (1, 3)):
        _variant(monkeypatch, isa, wide)
        for B, want in base.items():
            got = run_esn(res, inp, rows=range(B), n_threads=n_threads)
            for g, w in zip(got, want):
                assert np.array_equal(g.view(np.uint8), w.view(np.uint8)), \
                    (isa, wide, n_threads, B)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("isa, wide", VARIANTS)
def test_a_row_alone_has_its_lanes_bits(dtype, isa, wide, monkeypatch, make_reservoir, run_esn):
    """A row alone (the one-row path) and the same row in any lane of a chunk,
    any batch size, give the same bits."""
    _variant(monkeypatch, isa, wide)
    res = make_reservoir(37, dtype)
    inp = _inputs(res, 2 * ROWS_PER_CHUNK + 2, 20)
    batch = run_esn(res, inp, n_threads=2)
    for i in (0, 5, ROWS_PER_CHUNK - 1, ROWS_PER_CHUNK, len(inp["U"]) - 1):
        for rows in ([i], [i, 0], list(range(i + 1))):
            got = run_esn(res, inp, rows=rows)
            for a, b in zip(batch, got):
                assert np.array_equal(a[i].view(np.uint8), b[rows.index(i)].view(np.uint8))


@pytest.mark.parametrize("isa, wide", VARIANTS)
def test_unsorted_csr_and_no_inputs(isa, wide, monkeypatch, make_reservoir, run_esn):
    """The terms are added in CSR order as stored (shuffled rows); no input and no
    feedback columns (F = n_fb = 0): the batch path still matches its rows."""
    _variant(monkeypatch, isa, wide)
    res = make_reservoir(37, np.float32, F=0, n_fb=0)
    W = res["W"]
    rs = np.random.RandomState(3)
    for i in range(37):
        lo, hi = W.indptr[i], W.indptr[i + 1]
        order = lo + rs.permutation(hi - lo)
        W.data[lo:hi], W.indices[lo:hi] = W.data[order].copy(), W.indices[order].copy()
    inp = _inputs(res, 5, 20)
    batch = run_esn(res, inp)
    want = reference.esn_forward(inp["U"], res["W_in"], res["W"], res["bias"], 0.6,
                                 lengths=inp["lengths"], x0=inp["x0"], washout=3)
    for g, w in zip(batch, want):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-5)
    for a, b in zip(batch, run_esn(res, inp, rows=[3])):
        assert np.array_equal(a[3].view(np.uint8), b[0].view(np.uint8))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_batch_keeps_negative_zero(dtype, monkeypatch, make_reservoir, run_esn):
    """A unit with no reservoir terms and the pre-activation -0.0 keeps it in every
    lane through the padded -0.0 terms, on every variant."""
    res = make_reservoir(37, dtype)
    assert res["W"].indptr[2] == res["W"].indptr[1]  # unit 1 has no terms
    res["bias"][1] = -0.0
    res["W_in"][1] = -0.0
    res["W_fb"][1] = -0.0
    inp = _inputs(res, 3, 4, ragged=False)
    inp["x0"][:, 1] = -0.0
    inp["U"][:] = np.abs(inp["U"]) + 0.1
    inp["Y_fb"][:] = np.abs(inp["Y_fb"]) + 0.1
    for isa, wide in VARIANTS:
        _variant(monkeypatch, isa, wide)
        states = run_esn(res, inp, leak=1.0)[0]
        assert (states[:, :, 1] == 0).all() and np.signbit(states[:, :, 1]).all()


def test_tanhf_widths_agree_on_a_sample():
    """The 8-wide tanhf gives the 4-wide one's bits on ~1 M patterns spread over
    every exponent, NaNs and infinities included (the import-time check uses
    65,536)."""
    if not _esn.TANHF_WIDE_BUILT:
        pytest.skip("no 8-wide tanhf in this build or CPU")
    if not _esn.TANHF_WIDE_AVAILABLE:  # the import-time check found a disagreement
        assert _esn._tanhf_mismatches(0, 2 ** 32, 65537) > 0
        pytest.skip("glibc's 8-wide tanhf disagrees with its 4-wide one here: the "
                    "batch path runs the 4-wide loop")
    assert _esn._tanhf_mismatches(0, 2 ** 32, 4099) == 0
    assert _esn._tanhf_mismatches(0x7F800000, 0x80000000, 97) == 0  # +inf, NaNs


@pytest.mark.slow
def test_tanhf_widths_agree_on_every_float32():
    """Exhaustive: all 2^32 float32 bit patterns (~30-45 s)."""
    if not _esn.TANHF_WIDE_BUILT:
        pytest.skip("no 8-wide tanhf in this build or CPU")
    mismatches = _esn._tanhf_mismatches(0, 2 ** 32, 1)
    if not _esn.TANHF_WIDE_AVAILABLE:
        assert mismatches > 0
        pytest.skip(f"glibc's 8-wide tanhf disagrees with its 4-wide one on {mismatches} "
                    "inputs here: the batch path runs the 4-wide loop")
    # in use: a disagreement the import-time sample missed would change results
    assert mismatches == 0


def test_tanhf_mismatches_refuses_bad_ranges():
    with pytest.raises(ValueError, match=r"stop <= 2\*\*32.*got 0, 4294967297, 1"):
        _esn._tanhf_mismatches(0, 2 ** 32 + 1, 1)
    with pytest.raises(ValueError, match=r"step >= 1; got 0, 10, 0"):
        _esn._tanhf_mismatches(0, 10, 0)


@pytest.mark.parametrize("setting, runs_as", [(99, _esn.ROW_ISA_AVAILABLE), (-1, 0)])
def test_isa_settings_are_clamped_to_the_cpu(setting, runs_as, monkeypatch, make_reservoir,
                                             run_esn):
    """An instruction set above what the CPU runs (which would raise SIGILL) or below
    the portable C falls back to the nearest one: the same bits as that one."""
    res = make_reservoir(37, np.float32)
    inp = _inputs(res, ROWS_PER_CHUNK + 1, 12)  # a batch chunk and a lone row
    _variant(monkeypatch, runs_as, False)
    want = run_esn(res, inp)
    _variant(monkeypatch, setting, False)
    for g, w in zip(run_esn(res, inp), want):
        assert np.array_equal(g.view(np.uint8), w.view(np.uint8))
