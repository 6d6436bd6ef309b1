"""The accumulator design of the compiled kernels: per-chunk gradient
accumulators summed in chunk order give the same bits on every path (NumPy's adds
or the compiled sum, any thread count); a backward run piece by piece (gradient
checkpointing) into the same accumulators is bitwise the one-piece backward; every
instruction-set build matches the reference and is bitwise deterministic across
thread counts.
"""

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from tsbptt._kernels import _reduce, cell_kernels, isa_usable
from tsbptt.engine import _cells

CELLS = ["lstm", "gru", "rnn"]
BLOCK_STEPS = _reduce.BLOCK_STEPS


def _isa_param(isa):
    return pytest.param(isa, marks=pytest.mark.skipif(
        not isa_usable(isa), reason=f"no {isa} CPU or build"))


ISAS = [_isa_param(isa) for isa in ("baseline", "avx2", "avx512")]


@pytest.mark.parametrize("n_chunks", [1, 2, 5, _cells.NUMPY_SUM_MAX_CHUNKS,
                                      _cells.NUMPY_SUM_MAX_CHUNKS + 1])
@pytest.mark.parametrize("size", [7, 1 << 16])
def test_chunk_sums_are_the_same_bits_on_every_path(n_chunks, size, dtype, rng, monkeypatch):
    # the threshold lowered so that the parallel sum runs on arrays of test size
    monkeypatch.setattr(_cells, "PARALLEL_SUM_MIN", 1 << 16)
    # NumPy's adds for few chunks and small arrays, the compiled sum otherwise: both
    # add the chunks in order 0, 1, ..., so every path gives the same bits
    acc = {"W": (rng.standard_normal((n_chunks, size)) * 10.0 ** rng.integers(
        -8, 8, (n_chunks, size))).astype(dtype)}
    want = acc["W"][0].copy()
    for k in range(1, n_chunks):
        want = want + acc["W"][k]
    for n_threads in (1, 2):
        got = _cells.LSTMCell.reduce_accumulators(acc, n_threads)["W"]
        assert got.dtype == dtype
        assert_array_equal(got, want)
        compiled_sum = np.empty(size, dtype)
        _reduce.sum_chunks(acc["W"], compiled_sum, n_threads)
        assert_array_equal(compiled_sum, want)


def run_pieces(cell, params, X, state0, lengths, dY, d_state, cuts, n, clip):
    """Forward piece by piece, then backward piece by piece (latest first) into
    one set of accumulators, as gradient checkpointing does."""
    bounds = [0] + list(cuts) + [X.shape[1]]
    c = _cells.CELLS[cell]
    Ys, caches, state = [], [], state0
    for t0, t1 in zip(bounds[:-1], bounds[1:]):
        Lp = np.clip(lengths - t0, 1, t1 - t0).astype(np.intp)
        Y, state, cache = c.forward(np.ascontiguousarray(X[:, t0:t1]), params, state,
                                    Lp, n)
        Ys.append(Y)
        caches.append(cache)
    acc = c.new_accumulators(X.shape[0], params)
    dXs, deltas, n_clipped, ds = [], [], 0, d_state
    for (t0, t1), cache in reversed(list(zip(zip(bounds[:-1], bounds[1:]), caches))):
        dX, ds, grads, stats = c.backward(cache, np.ascontiguousarray(dY[:, t0:t1]), ds,
                                          n, clip, acc=acc)
        assert grads is None
        dXs.insert(0, dX)
        deltas.insert(0, stats["delta_sq"])
        n_clipped = n_clipped + stats["n_clipped"]
    fwd = (np.concatenate(Ys, axis=1), state)
    bwd = (np.concatenate(dXs, axis=1), ds, c.reduce_accumulators(acc, n),
           {"delta_sq": np.concatenate(deltas, axis=1), "n_clipped": n_clipped})
    return fwd, bwd


@pytest.mark.parametrize("clip", [0.0, 0.8], ids=["noclip", "clip"])
@pytest.mark.parametrize("cuts", [(16,), (32,), (16, 32)], ids=str)
@pytest.mark.parametrize("cell", CELLS)
def test_pieces_equal_one_backward_bitwise(cell, cuts, clip, dtype, tol, rng, monkeypatch,
                                           assert_sum_close, make_layer, make_data, reference,
                                           assert_all_equal):
    # Pieces whose lengths are multiples of BLOCK_STEPS call every GEMM with the
    # same operands, in the same order, as one backward over the whole sequence.
    assert all(c % BLOCK_STEPS == 0 for c in cuts)
    monkeypatch.setattr(_cells, "chunk_rows", lambda B: 4)   # chunks 4, 4, 1
    B, T, F, H = 9, 40, 3, 5
    layer = make_layer(cell, F, H, dtype, rng)
    X, state0, dY, d_state = make_data(cell, B, T, F, H, dtype, rng)
    lengths = rng.integers(max(cuts) + 1, T + 1, size=B).astype(np.intp)
    lengths[0] = T
    c = _cells.CELLS[cell]
    Y, state, cache = c.forward(X, layer.params, state0, lengths, 2)
    dX, d0, grads, stats = c.backward(cache, dY, d_state, 2, clip)
    fwd, bwd = run_pieces(cell, layer.params, X, state0, lengths, dY, d_state, cuts,
                          2, clip)
    assert_all_equal(fwd, (Y, state))
    assert_all_equal(bwd, (dX, d0, grads, stats))
    if clip:
        assert 0 < stats["n_clipped"].sum() < np.sum(lengths) * H
    # and the one-piece result is right
    want = reference(cell, layer.params, X, state0, lengths, dY, d_state, clip or None)
    assert_sum_close(dX, want[2], tol, "dX")
    for name in grads:
        assert_sum_close(grads[name], want[4][name], tol, name)


# the LSTM at F = 1 and 2 too: its dx by dot products (AVX2, AVX-512); F = 3: by the product
@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("cell, F", [(cell, 3) for cell in CELLS] + [("lstm", 1), ("lstm", 2)])
def test_isa_matches_reference_and_is_thread_deterministic(cell, isa, F, dtype, tol, rng,
                                                           monkeypatch,
                                                           make_layer, make_lengths, make_data,
                                                           reference, compiled, assert_matches,
                                                           assert_all_equal, pick_clip):
    module = cell_kernels(cell, isa)
    assert module.__name__ == f"tsbptt._kernels._{cell}" + ("" if isa == "baseline" else f"_{isa}")
    monkeypatch.setattr(_cells, "cell_kernels", lambda name: cell_kernels(name, isa))
    monkeypatch.setattr(_cells, "chunk_rows", lambda B: 4)   # chunks 4, 4, 3
    B, T, H = 11, 21, 17  # H = 17: 4-, 8- and 16-wide vector loops and a remainder
    layer = make_layer(cell, F, H, dtype, rng)
    X, state0, dY, d_state = make_data(cell, B, T, F, H, dtype, rng)
    lengths = make_lengths(B, T, rng)
    clip = pick_clip(cell, layer.params, X, state0, lengths, dY, d_state, H)
    want = reference(cell, layer.params, X, state0, lengths, dY, d_state, clip)
    runs = [compiled(layer, X, state0, lengths, dY, d_state, n, clip) for n in (1, 2, 3)]
    assert_matches(cell, runs[0], want, tol)
    assert runs[0][5]["n_clipped"].sum() > 0
    for other in runs[1:]:
        assert_all_equal(runs[0], other)
