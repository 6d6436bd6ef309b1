"""The reservoir kernel's one-row path (SELL-16 slices, _esn_sell.h): against the
NumPy twin, bitwise against the batch lanes, and the same bits for every
instruction set this CPU runs."""
import numpy as np
import pytest

from tsbptt._kernels import _esn, reference
from tsbptt._kernels._esn import ROWS_PER_CHUNK, _pack_row

TOL = {np.float32: 1e-5, np.float64: 1e-12}
#: The instruction sets of the one-row product this CPU runs (0 portable C,
#: 1 AVX2, 2 AVX-512F).
ISAS = list(range(_esn.ROW_ISA_AVAILABLE + 1))


def _inputs(res, B, T, seed=1):
    rs = np.random.RandomState(seed)
    dtype = res["W_in"].dtype
    N, F = res["W_in"].shape
    return dict(U=rs.randn(B, T, F).astype(dtype),
                Y_fb=rs.randn(B, T, res["W_fb"].shape[1]).astype(dtype),
                x0=(0.3 * rs.randn(B, N)).astype(dtype),
                lengths=np.full(B, T, np.intp))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("N", [1, 5, 37, 203])  # none a multiple of 16
@pytest.mark.parametrize("isa", ISAS)
def test_one_row_matches_numpy_twin(dtype, N, isa, monkeypatch, make_reservoir, run_esn):
    monkeypatch.setattr(_esn, "ROW_ISA", isa)
    res = make_reservoir(N, dtype)
    inp = _inputs(res, 1, 40)
    got = run_esn(res, inp)
    want = reference.esn_forward(inp["U"], res["W_in"], res["W"], res["bias"], 0.6,
                                 W_fb=res["W_fb"], Y_fb=inp["Y_fb"], x0=inp["x0"],
                                 washout=3)
    for g, w in zip(got, want):
        assert g.dtype == dtype
        np.testing.assert_allclose(g, w, rtol=TOL[dtype], atol=TOL[dtype])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("N", [5, 37, 203])
def test_one_row_bitwise_as_in_a_batch_for_every_isa(dtype, N, monkeypatch, make_reservoir,
                                                     run_esn):
    """A row alone (the one-row path) gives the bits of its lane in a batch of
    2 .. 16 rows (the chunk path), on every instruction set; so does the lone
    last row of a batch of 2 chunks + 1."""
    res = make_reservoir(N, dtype)
    B = 2 * ROWS_PER_CHUNK + 1
    inp = _inputs(res, B, 25)
    batch = run_esn(res, inp, n_threads=2)
    for isa in ISAS:
        monkeypatch.setattr(_esn, "ROW_ISA", isa)
        for i in (0, 7, B - 1):
            for a, b in zip(batch, run_esn(res, inp, rows=[i])):
                assert np.array_equal(a[i], b[0])
        for a, b in zip(batch, run_esn(res, inp)):  # its last chunk is one row
            assert np.array_equal(a, b)


@pytest.mark.parametrize("isa", ISAS)
def test_unsorted_csr_keeps_its_order(isa, monkeypatch, make_reservoir, run_esn):
    """The terms are added in CSR order as stored, sorted or not: the one-row
    path follows the batch lanes there too."""
    monkeypatch.setattr(_esn, "ROW_ISA", isa)
    res = make_reservoir(37, np.float32)
    W = res["W"]
    rs = np.random.RandomState(3)
    for i in range(37):  # shuffle each row's terms
        lo, hi = W.indptr[i], W.indptr[i + 1]
        order = lo + rs.permutation(hi - lo)
        W.data[lo:hi], W.indices[lo:hi] = W.data[order].copy(), W.indices[order].copy()
    inp = _inputs(res, 3, 20)
    batch = run_esn(res, inp)
    alone = run_esn(res, inp, rows=[1])
    for a, b in zip(batch, alone):
        assert np.array_equal(a[1], b[0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_padding_keeps_negative_zero(dtype, make_reservoir, run_esn):
    """A unit with no reservoir terms and the pre-activation -0.0 (bias -0.0,
    input and feedback weights -0.0 times positive values) keeps it through the
    padded -0.0 terms: tanh(-0.0) = -0.0, the state -0.0, as in a batch lane
    (a padding of +0.0 would turn it into +0.0)."""
    res = make_reservoir(37, dtype)
    assert res["W"].indptr[2] == res["W"].indptr[1]  # unit 1 has no terms
    res["bias"][1] = -0.0
    res["W_in"][1] = -0.0
    res["W_fb"][1] = -0.0
    inp = _inputs(res, 2, 4)
    inp["x0"][:, 1] = -0.0
    inp["U"][:] = np.abs(inp["U"]) + 0.1
    inp["Y_fb"][:] = np.abs(inp["Y_fb"]) + 0.1
    alone = run_esn(res, inp, rows=[0], leak=1.0)[0][0]
    assert (alone[:, 1] == 0).all() and np.signbit(alone[:, 1]).all()
    batch = run_esn(res, inp, leak=1.0)[0][0]
    assert np.array_equal(alone, batch)
    assert np.array_equal(np.signbit(alone), np.signbit(batch))


def test_packed_layout(make_reservoir):
    """Every CSR term once, in its unit's lane, in CSR order; the padding is
    -0.0 at the +0.0 slot n_pad; units sorted by their number of terms."""
    res = make_reservoir(37, np.float64)
    W = res["W"]
    p = _pack_row(W.data, W.indptr.astype(np.int32), W.indices.astype(np.int32),
                  res["bias"], res["W_in"], res["W_fb"])
    n_pad = 48
    counts = np.diff(W.indptr)
    assert np.all(np.diff(counts[p.perm]) <= 0)
    assert np.array_equal(p.inv[p.perm], np.arange(37))
    data = p.data.reshape(-1, 16)
    index = p.index.reshape(-1, 16)
    for pos in range(37):
        unit = p.perm[pos]
        s, lane = divmod(pos, 16)
        rows = slice(p.ptr[s], p.ptr[s + 1])
        terms = slice(W.indptr[unit], W.indptr[unit + 1])
        k = counts[unit]
        assert np.array_equal(data[rows, lane][:k], W.data[terms])
        assert np.array_equal(p.perm[index[rows, lane][:k]], W.indices[terms])
        pad_d, pad_i = data[rows, lane][k:], index[rows, lane][k:]
        assert np.all(pad_d == 0) and np.all(np.signbit(pad_d)) and np.all(pad_i == n_pad)
    assert np.array_equal(p.bias[:37], res["bias"][p.perm]) and not p.bias[37:].any()
    assert np.array_equal(p.w_in[:, :37], res["W_in"][p.perm].T)
    assert np.array_equal(p.w_fb[:, :37], res["W_fb"][p.perm].T)
    # the padding is what sorting by count saves: at most one slice's spread
    assert len(p.data) <= 1.1 * W.nnz + 16 * 3 * (counts.max() - counts.min())
