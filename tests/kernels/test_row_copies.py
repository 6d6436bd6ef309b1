"""The kernels' inline row copies (``_rowcopy.h``, ``copy_row`` in ``_common.pxd``).

The kernels copy rows of F, H and F + H + 1 elements per sample and step: X into
the input rows ``xh``, h into Y and into the next step's input row, the input rows
into the weight-gradient block, dx and dh out of the step product. The AVX2 and
AVX-512 builds copy in vector registers with a masked tail, so every width from 1
to past two vectors is tried in each build; a copy must move the bits unchanged.
"""
import numpy as np
import pytest

from tsbptt._kernels import cell_kernels, isa_usable
from tsbptt._kernels import reference as ref
from tsbptt.engine import _cells
from tsbptt.engine._caches import batch_major
from tsbptt.engine.layers import RecurrentLayer

ISAS = [pytest.param(isa, marks=pytest.mark.skipif(
    not isa_usable(isa), reason=f"no {isa} CPU or build"))
    for isa in ("baseline", "avx2", "avx512")]
# Widths around the vector lengths (4, 8 and 16 elements): F, H and K = F + H + 1
# each land on and next to a multiple, and past two vectors.
SHAPES = [(1, 1), (1, 16), (2, 5), (3, 4), (7, 8), (8, 7), (9, 15), (16, 17), (17, 33)]


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("F, H", SHAPES)
def test_forward_rows_are_exact_copies(cell, isa, dtype, F, H, monkeypatch):
    """xh[b, t] = [x_t, h_{t-1}, 1] and the kept Y hold exactly the copied bits."""
    monkeypatch.setattr(_cells, "cell_kernels", lambda name: cell_kernels(name, isa))
    rng = np.random.default_rng(F * 100 + H)
    B, T = 19, 5  # two chunks, the second a short one
    X = rng.standard_normal((B, T, F)).astype(dtype)
    lengths = np.full(B, T, dtype=np.intp)
    layer = RecurrentLayer(cell, F, H, dtype=dtype, random_state=0)
    state0 = tuple(rng.standard_normal((B, H)).astype(dtype)
                   for _ in layer.cell.state_names)
    Y, state, cache = layer.run_forward(X, lengths, state0, 1)
    xh = batch_major(cache.xh, cache.chunk)
    np.testing.assert_array_equal(xh[:, :, :F], X)
    np.testing.assert_array_equal(xh[:, 0, F:F + H], state0[0])
    np.testing.assert_array_equal(xh[:, 1:, F:F + H], Y[:, :-1])
    np.testing.assert_array_equal(xh[:, :, -1], 1)
    np.testing.assert_array_equal(state[0], Y[:, -1])
    Y_i, state_i = layer.run_infer(X, lengths, state0, 1)  # rows reused in place
    np.testing.assert_array_equal(Y_i, Y)
    np.testing.assert_array_equal(state_i[0], state[0])


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("dtype, tol", [(np.float32, 1e-5), (np.float64, 1e-12)])
@pytest.mark.parametrize("F, H", SHAPES)
def test_lstm_backward_copies_match_the_reference(isa, dtype, tol, F, H, monkeypatch):
    """dx and dh leave the step product's rows (dx by dot products at F <= 2 in the
    vector builds), and the input rows enter the weight-gradient block, at every
    width: the gradients equal the NumPy reference."""
    monkeypatch.setattr(_cells, "cell_kernels", lambda name: cell_kernels(name, isa))
    rng = np.random.default_rng(7 * F + H)
    B, T = 19, 18  # two chunks; 18 steps: a full block of 16 and a partial one
    X = rng.standard_normal((B, T, F)).astype(dtype)
    lengths = rng.integers(1, T + 1, B).astype(np.intp)
    layer = RecurrentLayer("lstm", F, H, dtype=dtype, random_state=3)
    h0, c0 = (rng.standard_normal((B, H)).astype(dtype) for _ in range(2))
    dY = rng.standard_normal((B, T, H)).astype(dtype)
    d_state = tuple(rng.standard_normal((B, H)).astype(dtype) for _ in range(2))
    _, _, cache = layer.run_forward(X, lengths, (h0, c0), 1)
    dX, (dh0, dc0), grads = layer.run_backward(cache, dY, d_state, 1)

    W = layer.params["W"].astype(np.float64)
    f = ref.lstm_forward(X.astype(np.float64), W, h0.astype(np.float64),
                         c0.astype(np.float64), lengths)
    g = ref.lstm_backward(X.astype(np.float64), W, f, dY.astype(np.float64),
                          d_state[0].astype(np.float64), d_state[1].astype(np.float64),
                          lengths)
    for got, want in [(dX, g["dX"]), (dh0, g["dh0"]), (dc0, g["dc0"]), (grads["W"], g["dW"])]:
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol * np.abs(want).max())
    # steps past a sequence's end pass the state gradient through: no copy of dh there
    past = np.arange(T)[None, :] >= lengths[:, None]
    assert past.any()
    assert np.all(dX[past] == 0)
