"""The ESN readout's compiled design-matrix passes (_esn_panel.h): column means and
centred float64 panels with NumPy's bits, on every instruction set."""
import numpy as np
import pytest

from tsbptt._kernels import _esn
from tsbptt._kernels._esn import centre_rows, column_means

ISAS = list(range(_esn.ROW_ISA_AVAILABLE + 1))


def _bits(a):
    return np.ascontiguousarray(a).view(np.int64)


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(1, 2), (5, 3), (37, 17), (900, 200), (3, 9)])
def test_column_means_are_numpys_bits(shape, dtype, isa, monkeypatch):
    monkeypatch.setattr(_esn, "ROW_ISA", isa)
    rs = np.random.RandomState(shape[0])
    P = (rs.randn(*shape) * 30 + 7).astype(dtype)
    for Q in (P, P[1:], P[:, 1:]):  # contiguous rows with a row stride above m
        if not len(Q) or not Q.shape[1]:
            continue
        got = np.full(Q.shape[1], np.nan)
        column_means(Q, got)
        np.testing.assert_array_equal(_bits(got), _bits(Q.mean(axis=0, dtype=np.float64)))


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("m", [1, 7, 8, 17, 200])
def test_centre_rows_is_numpys_subtract(m, dtype, isa, monkeypatch):
    monkeypatch.setattr(_esn, "ROW_ISA", isa)
    rs = np.random.RandomState(m)
    P = (rs.randn(50, m) * 3).astype(dtype)
    P[0, 0], P[1, -1] = -0.0, np.inf
    shift = rs.randn(m)
    out, want = np.full((20, m + 5), 9.0), np.full((20, m + 5), 9.0)
    centre_rows(P, 13, shift, out, 2)
    np.subtract(P[13:33], shift, out=want[:, 2:2 + m])
    np.testing.assert_array_equal(_bits(out), _bits(want))  # columns outside untouched


def test_bad_shapes_are_refused():
    P = np.ones((10, 4), np.float32)
    with pytest.raises(ValueError, match=r"rows 8 \.\. 12 of P \(10, 4\)"):
        centre_rows(P, 8, np.zeros(4), np.empty((4, 4)), 0)
    with pytest.raises(ValueError, match="into columns 1 .. 5"):
        centre_rows(P, 0, np.zeros(4), np.empty((4, 4)), 1)
    with pytest.raises(ValueError, match="P's rows must be contiguous"):
        centre_rows(P[:, ::2], 0, np.zeros(2), np.empty((4, 2)), 0)
    with pytest.raises(ValueError, match="out's rows must be contiguous"):
        centre_rows(P, 0, np.zeros(4), np.empty((4, 8))[:, ::2], 0)
    with pytest.raises(ValueError, match="out of shape \\(4,\\)"):
        column_means(P, np.empty(3))
    with pytest.raises(ValueError, match="need P with >= 1 row"):
        column_means(P[:0], np.empty(4))
