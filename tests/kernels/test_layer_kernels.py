"""The compiled LSTM, GRU and RNN kernels against the NumPy reference
(``tsbptt._kernels.reference``), through :class:`tsbptt.engine.RecurrentLayer`.

Outputs, final states and every gradient equal the reference to the per-dtype
tolerance, over edge shapes (batch, time, hidden or features of 1), batches of
several chunks (any forced chunking, short last chunks included), with and
without ``lengths``, non-zero initial states and final-state gradients, padding,
saturated gates and an LSTM output gate that underflows. The harness (random
layers, both computations, the comparisons) is in conftest.py.
"""

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from tsbptt.engine import _cells
from tsbptt.engine._caches import batch_major

CELLS = ["lstm", "gru", "rnn"]


SHAPES = [  # B, T, F, H
    (1, 1, 1, 1),
    (1, 6, 2, 3),
    (3, 1, 2, 4),
    (4, 5, 1, 2),
    (5, 4, 3, 1),
    (2, 7, 4, 5),
    (70, 6, 3, 4),   # several chunks (chunk_rows is at most 64, >= 2 chunks anywhere)
    (33, 3, 2, 6),
    (3, 35, 2, 3),   # three weight-gradient blocks, the last one short
]


@pytest.mark.parametrize("with_lengths", [False, True], ids=["full", "lengths"])
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "B{}T{}F{}H{}".format(*s))
@pytest.mark.parametrize("cell", CELLS)
def test_layer_matches_reference(cell, shape, with_lengths, dtype, tol, rng,
                                 check_against_reference):
    check_against_reference(cell, *shape, dtype, tol, rng, with_lengths)


@pytest.mark.parametrize("chunk", [1, 5, 16, 69])
@pytest.mark.parametrize("cell", CELLS)
def test_matches_reference_for_any_chunking(cell, chunk, dtype, tol, rng, monkeypatch,
                                            threads_for_any_work, check_against_reference):
    # Force the batch into many chunks (with a short last one) whatever the core count.
    monkeypatch.setattr(_cells, "chunk_rows", lambda B: chunk)
    check_against_reference(cell, 70, 5, 2, 3, dtype, tol, rng, True, n_threads=2)


def test_editing_the_returned_state_leaves_the_gradients_alone(dtype, rng, make_layer, make_data,
                                                               assert_all_equal):
    # The LSTM backward reads the last step's h from the cache: a caller who resets
    # the state the forward returned, in place, must not change the gradients.
    B, T, F, H = 4, 5, 2, 6
    layer = make_layer("lstm", F, H, dtype, rng)
    X, state0, dY, d_state = make_data("lstm", B, T, F, H, dtype, rng)
    _, _, cache = layer.forward(X, None, state0)
    want = layer.backward(cache, dY, d_state)
    _, state, cache = layer.forward(X, None, state0)
    for s in state:
        s[...] = 0.0
    assert_all_equal(layer.backward(cache, dY, d_state), want)


@pytest.mark.parametrize("gate", ["o-tiny", "o-zero"])
def test_lstm_output_gate_that_underflows(gate, dtype, tol, rng, make_layer, make_lengths,
                                          make_data, reference, compiled, assert_matches):
    # The backward recovers tanh(c_t) as h_t / o_t. An output gate below the dtype's
    # smallest normal number (bias -88 in float32, -709 in float64) or exactly 0
    # (bias -1000) must still give finite gradients that match the reference, which
    # uses tanh(c_t) itself.
    o_bias = -1000.0 if gate == "o-zero" else (-88.0 if dtype == np.float32 else -709.0)
    B, T, F, H = 5, 6, 2, 17
    layer = make_layer("lstm", F, H, dtype, rng)
    layer.params["W"][-1, 3 * H:] = o_bias      # the o gate's bias (last row of W)
    X, state0, dY, d_state = make_data("lstm", B, T, F, H, dtype, rng)
    lengths = make_lengths(B, T, rng)
    got = compiled(layer, X, state0, lengths, dY, d_state)
    cache = layer.forward(X, lengths, state0)[2]
    o = batch_major(cache.gates, cache.chunk)[np.arange(T) < lengths[:, None]]
    o = o[:, 3 * H:]                            # o at every valid step
    if gate == "o-zero":
        assert (o == 0).all()
    else:                                       # subnormal ones among them
        assert 0 < o.max() < 1e-36
        assert ((o > 0) & (o < np.finfo(dtype).tiny)).any()
    for grad in (got[2], *got[3], *got[4].values()):
        assert np.isfinite(grad).all()
    assert_matches("lstm", got, reference("lstm", layer.params, X, state0, lengths, dY,
                                          d_state), tol)


@pytest.mark.parametrize("cell", CELLS)
def test_all_lengths_one_and_all_full(cell, dtype, tol, rng, make_layer, make_data, reference,
                                      compiled, assert_matches, assert_all_equal):
    B, T, F, H = 6, 4, 2, 3
    layer = make_layer(cell, F, H, dtype, rng)
    X, state0, dY, d_state = make_data(cell, B, T, F, H, dtype, rng)
    for lengths in (np.ones(B, np.intp), np.full(B, T, np.intp)):
        got = compiled(layer, X, state0, lengths, dY, d_state)
        want = reference(cell, layer.params, X, state0, lengths, dY, d_state)
        assert_matches(cell, got, want, tol)
    # lengths == T everywhere is the same as no lengths, bitwise
    a = compiled(layer, X, state0, np.full(B, T), dY, d_state)
    b = compiled(layer, X, state0, None, dY, d_state)
    assert_all_equal(a, b)


@pytest.mark.parametrize("cell", CELLS)
def test_state_passes_through_padding(cell, dtype, rng, make_layer, make_data, assert_all_equal):
    # d_state of a length-1 sample goes straight into step 0's gradient and the
    # padded steps add nothing: zero dY and zero d_state give zero gradients.
    B, T, F, H = 3, 5, 2, 3
    layer = make_layer(cell, F, H, dtype, rng)
    X, state0, dY, d_state = make_data(cell, B, T, F, H, dtype, rng)
    lengths = np.array([5, 1, 3])
    zero_dY = np.zeros_like(dY)
    zero_ds = tuple(np.zeros_like(s) for s in d_state)
    Y, states, cache = layer.forward(X, lengths, state0)
    dX, d0, grads = layer.backward(cache, zero_dY, zero_ds)
    assert_array_equal(dX, 0)
    for s in d0:
        assert_array_equal(s, 0)
    for k in grads:
        assert_array_equal(grads[k], 0)
    # padding values of dY are ignored, bitwise
    dX1, d01, g1 = layer.backward(cache, dY, d_state)
    dY2 = dY.copy()
    for b, L in enumerate(lengths):
        dY2[b, L:] = 1e3
    dX2, d02, g2 = layer.backward(cache, dY2, d_state)
    assert_all_equal((dX1, d01, g1), (dX2, d02, g2))


@pytest.mark.parametrize("cell", CELLS)
def test_saturated_activations(cell, dtype, tol, rng, make_layer, make_data, reference, compiled,
                               assert_matches, flat):
    # large weights and inputs drive every gate into saturation: still finite and
    # still equal to the reference
    B, T, F, H = 4, 6, 3, 5
    layer = make_layer(cell, F, H, dtype, rng, scale=20.0)
    X, state0, dY, d_state = make_data(cell, B, T, F, H, dtype, rng)
    X = (50 * X).astype(dtype)
    lengths = np.array([6, 1, 3, 2])
    got = compiled(layer, X, state0, lengths, dY, d_state)
    want = reference(cell, layer.params, X, state0, lengths, dY, d_state)
    assert all(np.all(np.isfinite(g)) for g in flat(got))
    assert_matches(cell, got, want, tol)


