"""Work arrays kept between kernel calls (tsbptt.engine._cells._WorkSpec).

A kept set holds the previous call's values: results must not depend on them
(bitwise equal to a run that allocates every set afresh), a set in use is never
handed to a second caller, and large sets are not kept.
"""
import numpy as np
import pytest
from numpy.testing import assert_array_equal

from tsbptt.engine import RecurrentLayer, _cells

CELLS = ["lstm", "gru", "rnn"]
KEPT_BYTES = _cells.SCRATCH_MAX_BYTES


def run_all(layer, X, dY, lengths):
    """Forward, backward and inference of one layer: every output, flattened."""
    Y, state, cache = layer.forward(X, lengths, n_threads=1)
    dX, d_state, grads = layer.backward(cache, dY, n_threads=1)
    Y_inf, state_inf = layer.run_infer(X, np.asarray(lengths, np.intp), n_threads=1)
    return [Y, *state, dX, *d_state, *grads.values(), Y_inf, *state_inf]


def fresh_pool(monkeypatch, keep):
    monkeypatch.setattr(_cells, "SCRATCH_MAX_BYTES", KEPT_BYTES if keep else -1)
    monkeypatch.setattr(_cells, "_specs", {})
    monkeypatch.setattr(_cells, "_scratch", {})


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_kept_work_arrays_do_not_change_results(cell, dtype, monkeypatch):
    rng = np.random.default_rng(3)
    layer = RecurrentLayer(cell, 3, 5, dtype=dtype, random_state=0)
    B, T = 37, 21  # several chunks, a partial last one, a partial gradient block
    lengths = rng.integers(1, T + 1, B)
    data = [(rng.standard_normal((B, T, 3)).astype(dtype),
             rng.standard_normal((B, T, 5)).astype(dtype)) for _ in range(2)]
    fresh_pool(monkeypatch, keep=False)
    expected = run_all(layer, *data[1], lengths)
    assert not _cells._scratch
    fresh_pool(monkeypatch, keep=True)
    run_all(layer, *data[0], lengths)  # leaves its values in the kept arrays
    kept = {spec: [a.copy() for a in arrays] for spec, arrays in _cells._scratch.items()}
    assert {spec.shapes[0][0] for spec in kept} == {-(-B // _cells.chunk_rows(B))}
    got = run_all(layer, *data[1], lengths)
    for g, e in zip(got, expected):
        assert_array_equal(g, e)
    # the second run reused the first run's arrays (their values changed)
    for spec, old in kept.items():
        assert any(not np.array_equal(a, b) for a, b in zip(old, _cells._scratch[spec]))


def test_a_set_in_use_is_not_shared_and_large_sets_are_not_kept(monkeypatch):
    fresh_pool(monkeypatch, keep=True)
    f32 = np.dtype(np.float32)
    spec = _cells._work_spec("lstm", "forward", 64, (("row", 128),), f32)
    assert spec is _cells._work_spec("lstm", "forward", 64, (("row", 128),), f32)
    assert spec.shapes == ((64 // spec.chunk, spec.chunk, 128),)
    first = spec.take()
    second = spec.take()  # the first set is out of the pool: a new one
    assert not np.shares_memory(first[0], second[0])
    spec.give(first)
    assert spec.take()[0] is first[0]
    # SCRATCH_MAX_BYTES is the limit: one float32 more is allocated per call
    width = _cells.SCRATCH_MAX_BYTES // 4 + 1
    big = _cells._work_spec("lstm", "forward", 1, (("row", width),), f32)
    arrays = big.take()
    big.give(arrays)
    assert big not in _cells._scratch
    assert big.take()[0] is not arrays[0]
