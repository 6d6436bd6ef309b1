"""Step clipping and delta norms of the compiled kernels (``clip_step``,
``stats``) against the NumPy reference: the same entries clipped, the same
gradients, delta norms taken before clipping and zero past each sequence's end.
"""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from tsbptt.engine import _cells

CELLS = ["lstm", "gru", "rnn"]


@pytest.mark.parametrize("cell", CELLS)
def test_clipping_matches_reference(cell, dtype, tol, rng, monkeypatch, make_layer, make_lengths,
                                    make_data, reference, compiled, assert_matches, pick_clip):
    monkeypatch.setattr(_cells, "chunk_rows", lambda B: 3)   # chunks 3, 3, 1
    B, T, F, H = 7, 20, 3, 4
    layer = make_layer(cell, F, H, dtype, rng)
    X, state0, dY, d_state = make_data(cell, B, T, F, H, dtype, rng)
    lengths = make_lengths(B, T, rng)
    clip = pick_clip(cell, layer.params, X, state0, lengths, dY, d_state, H)
    got = compiled(layer, X, state0, lengths, dY, d_state, 2, clip)
    want = reference(cell, layer.params, X, state0, lengths, dY, d_state, clip)
    assert_matches(cell, got, want, tol)
    stats = got[5]
    assert stats["n_clipped"].dtype == np.intp
    assert stats["n_clipped"].sum() > 0 and np.any(stats["n_clipped"] > 0)
    # clipping really changed the gradients
    unclipped = reference(cell, layer.params, X, state0, lengths, dY, d_state)
    assert not np.allclose(got[2], unclipped[2], **tol)
    # delta norms are taken before clipping: some exceed clip^2 ...
    assert stats["delta_sq"].max() > clip ** 2
    # ... and are 0 past each sequence's end
    for b, L in enumerate(lengths):
        assert_array_equal(stats["delta_sq"][b, L:], 0)
        assert np.all(stats["delta_sq"][b, :L] > 0)


@pytest.mark.parametrize("cell", CELLS)
def test_delta_sq_matches_reference(cell, dtype, tol, rng, assert_sum_close, make_layer,
                                    make_lengths, make_data, reference, compiled):
    B, T, F, H = 5, 18, 2, 3
    layer = make_layer(cell, F, H, dtype, rng)
    X, state0, dY, d_state = make_data(cell, B, T, F, H, dtype, rng)
    lengths = make_lengths(B, T, rng)
    got = compiled(layer, X, state0, lengths, dY, d_state)
    want = reference(cell, layer.params, X, state0, lengths, dY, d_state)
    assert_sum_close(got[5]["delta_sq"], want[5]["delta_sq"], tol, "delta_sq")
    # the last valid step's dL/dh is dY there plus the final-state gradient
    for b, L in enumerate(lengths):
        last = dY[b, L - 1] + d_state[0][b]
        assert_allclose(got[5]["delta_sq"][b, L - 1], np.sum(last * last), **tol)


@pytest.mark.parametrize("cell", CELLS)
def test_huge_clip_step_changes_nothing(cell, dtype, rng, make_layer, make_lengths, make_data,
                                        reference, compiled, assert_all_equal):
    B, T, F, H = 6, 20, 3, 4
    layer = make_layer(cell, F, H, dtype, rng)
    X, state0, dY, d_state = make_data(cell, B, T, F, H, dtype, rng)
    lengths = make_lengths(B, T, rng)
    a = compiled(layer, X, state0, lengths, dY, d_state, 2, None)
    b = compiled(layer, X, state0, lengths, dY, d_state, 2, 1e30)
    assert_array_equal(b[5]["n_clipped"], 0)
    assert_all_equal(a, b)
    # the reference agrees: a huge clip_step is no clipping, and clip_step=None
    # keeps the unclipped result
    r0 = reference(cell, layer.params, X, state0, lengths, dY, d_state)
    r1 = reference(cell, layer.params, X, state0, lengths, dY, d_state, 1e30)
    assert_all_equal(r0, r1)

