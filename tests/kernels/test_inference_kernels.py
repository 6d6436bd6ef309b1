"""The forward-only kernels behind predict (``<cell>_infer``, ``run_infer``).

They keep no training caches, and must give the training forward's bits.
"""
import tracemalloc

import numpy as np
import pytest

from tsbptt import LSTMRegressor
from tsbptt._kernels import cell_kernels, isa_usable
from tsbptt.engine import _cells
from tsbptt.engine.layers import Bidirectional, RecurrentLayer

ISAS = [pytest.param(isa, marks=pytest.mark.skipif(
    not isa_usable(isa), reason=f"no {isa} CPU or build"))
    for isa in ("baseline", "avx2", "avx512")]


def ragged(rng, B, T, F, dtype):
    X = rng.standard_normal((B, T, F)).astype(dtype)
    lengths = rng.integers(1, T + 1, B).astype(np.intp)
    lengths[0] = T
    return X, lengths


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_infer_gives_the_training_forwards_bits(cell, isa, dtype, monkeypatch):
    monkeypatch.setattr(_cells, "cell_kernels", lambda name: cell_kernels(name, isa))
    rng = np.random.default_rng(0)
    B, T, F, H = 37, 11, 3, 19   # several chunks; H = 19: column tails
    X, lengths = ragged(rng, B, T, F, dtype)
    layer = RecurrentLayer(cell, F, H, dtype=dtype, random_state=1)
    state0 = tuple(rng.standard_normal((B, H)).astype(dtype)
                   for _ in range(2 if cell == "lstm" else 1))
    for n_threads in (1, 2):
        Y, state, _ = layer.run_forward(X, lengths, state0, n_threads)
        Y_i, state_i = layer.run_infer(X, lengths, state0, n_threads)
        np.testing.assert_array_equal(Y_i, Y)
        assert np.all(Y[np.arange(T)[None, :] >= lengths[:, None]] == 0)
        for a, b in zip(state_i, state):
            np.testing.assert_array_equal(a, b)
        none, state_n = layer.run_infer(X, lengths, state0, n_threads, keep_outputs=False)
        assert none is None
        for a, b in zip(state_n, state):
            np.testing.assert_array_equal(a, b)


def test_bidirectional_infer_gives_the_forwards_bits():
    rng = np.random.default_rng(2)
    X, lengths = ragged(rng, 9, 7, 2, np.float32)
    layer = Bidirectional("gru", 2, 5, dtype="float32", random_state=0)
    Y, (s_f, s_b), _ = layer.run_forward(X, lengths)
    Y_i, (i_f, i_b) = layer.run_infer(X, lengths)
    np.testing.assert_array_equal(Y_i, Y)
    np.testing.assert_array_equal(i_f[0], s_f[0])
    np.testing.assert_array_equal(i_b[0], s_b[0])


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_infer_checks_its_arguments(cell):
    layer = RecurrentLayer(cell, 2, 3, dtype="float64", random_state=0)
    X = np.zeros((4, 5, 2))
    lengths = np.full(4, 5, np.intp)
    with pytest.raises(ValueError, match=r"lengths\[1\] = 6 is outside \[0, 5\]"):
        layer.run_infer(X, np.array([5, 6, 5, 5], np.intp))
    bad = dict(layer.params)
    bad["W"] = np.zeros((7, bad["W"].shape[1]))
    layer.params = bad
    with pytest.raises(ValueError, match=r"W has shape \(7, \d+\), expected \(6, \d+\)"):
        layer.run_infer(X, lengths)


def test_predicting_a_long_sequence_keeps_no_training_caches():
    rng = np.random.default_rng(3)
    Xw = rng.standard_normal((64, 12, 1))
    model = LSTMRegressor(16, max_iter=1, random_state=0).fit(Xw, Xw.sum((1, 2)))
    x = rng.standard_normal((1, 200_000, 1))
    model.predict(x[:, :100])
    tracemalloc.start()
    try:
        pred = model.predict(x)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert pred.shape == (1,) and np.isfinite(pred).all()
    # the input alone is 1.6 MB (float64) and 0.8 MB as float32; the training
    # forward's caches would be (T, 4H + H + F + H + 1) floats, about 90 MB
    assert peak < 50e6, f"predict allocated {peak / 1e6:.1f} MB at its peak"
