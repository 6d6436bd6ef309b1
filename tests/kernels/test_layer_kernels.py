"""The compiled kernels against the NumPy reference (``tsbptt._kernels.reference``).

(a) Through :class:`tsbptt.engine.RecurrentLayer`: outputs, final states and every
    gradient of the compiled LSTM, GRU and RNN equal the reference to the per-dtype
    tolerance, over edge shapes (batch, time, hidden or features of 1), batches of
    several chunks (any forced chunking, short last chunks included), with and
    without ``lengths``, non-zero initial states and final-state gradients.
(b) Step clipping and delta norms (``clip_step``, ``stats``) equal the reference.
(c) The accumulator design: a backward run piece by piece (gradient checkpointing)
    into the same per-chunk accumulators is bitwise the one-piece backward; both
    instruction-set builds match the reference and are bitwise deterministic
    across thread counts.
(d) The raw kernels reject bad arguments with ValueError/TypeError naming the
    argument, and never crash.
"""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from tsbptt._kernels import reference as ref
from tsbptt._kernels import _reduce, cell_kernels, isa_usable
from tsbptt.engine import RecurrentLayer
from tsbptt.engine import _cells

CELLS = ["lstm", "gru", "rnn"]
N_GATES = {"lstm": 4, "gru": 3, "rnn": 1}
N_STATES = {"lstm": 2, "gru": 1, "rnn": 1}
BLOCK_STEPS = _reduce.BLOCK_STEPS


def _isa_param(isa):
    return pytest.param(isa, marks=pytest.mark.skipif(
        not isa_usable(isa), reason=f"no {isa} CPU or build"))


ISAS = [_isa_param(isa) for isa in ("baseline", "avx2", "avx512")]


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------
def assert_sum_close(actual, desired, tol, name=""):
    """assert_allclose for quantities that are sums of many terms (gradients).

    The rounding error of a sum is bounded by eps * sum|terms|, not by
    eps * |sum|: where the terms cancel, an entry ends up small while its error
    stays at the size set by the large summands, and a purely relative test fails
    although both computations are right (float32 dW entries of 1e-2 next to
    entries of 10 differ by 1e-6). So the absolute tolerance is scaled by the
    magnitude of the summands, estimated by the largest entry of the array
    (the same kind of terms summed the same number of times): atol = rtol *
    max|desired|. A real bug still shows as an O(1) error on the large entries.
    """
    atol = max(tol["atol"], tol["rtol"] * float(np.abs(desired).max(initial=0)))
    assert_allclose(actual, desired, rtol=tol["rtol"], atol=atol, err_msg=name)


def make_layer(cell, F, H, dtype, rng, scale=0.5):
    """A layer whose parameters are random of a reasonable scale (b_hn too)."""
    layer = RecurrentLayer(cell, F, H, dtype=dtype, random_state=0)
    for name, p in layer.params.items():
        p[...] = scale * rng.standard_normal(p.shape)
    return layer


def make_lengths(B, T, rng):
    """Random lengths in [1, T], with a full-length and a length-1 sample."""
    lengths = rng.integers(1, T + 1, size=B).astype(np.intp)
    lengths[0] = T
    if B > 1:
        lengths[-1] = 1
    return lengths


def make_data(cell, B, T, F, H, dtype, rng):
    X = rng.standard_normal((B, T, F)).astype(dtype)
    state0 = tuple(0.5 * rng.standard_normal((B, H)).astype(dtype)
                   for _ in range(N_STATES[cell]))
    dY = rng.standard_normal((B, T, H)).astype(dtype)
    d_state = tuple(rng.standard_normal((B, H)).astype(dtype)
                    for _ in range(N_STATES[cell]))
    return X, state0, dY, d_state


def reference(cell, params, X, state0, lengths, dY, d_state, clip_step=None):
    """(Y, states, dX, d_state0, grads, stats) from the NumPy reference."""
    W = params["W"]
    if cell == "lstm":
        f = ref.lstm_forward(X, W, state0[0], state0[1], lengths)
        g = ref.lstm_backward(X, W, f, dY, d_state[0], d_state[1], lengths, clip_step)
        out = (f["Y"], (f["h_T"], f["c_T"]), g["dX"], (g["dh0"], g["dc0"]),
               {"W": g["dW"]})
    elif cell == "gru":
        f = ref.gru_forward(X, W, params["b_hn"], state0[0], lengths)
        g = ref.gru_backward(X, W, params["b_hn"], f, dY, d_state[0], lengths,
                             clip_step)
        out = (f["Y"], (f["h_T"],), g["dX"], (g["dh0"],),
               {"W": g["dW"], "b_hn": g["db_hn"]})
    else:
        f = ref.rnn_forward(X, W, state0[0], lengths)
        g = ref.rnn_backward(X, W, f, dY, d_state[0], lengths, clip_step)
        out = f["Y"], (f["h_T"],), g["dX"], (g["dh0"],), {"W": g["dW"]}
    return out + ({"delta_sq": g["delta_sq"], "n_clipped": g["n_clipped"]},)


def compiled(layer, X, state0, lengths, dY, d_state, n_threads=1, clip_step=None):
    """(Y, states, dX, d_state0, grads, stats) from the compiled kernels."""
    Y, states, cache = layer.forward(X, lengths, state0, n_threads=n_threads)
    stats = {}
    dX, d0, grads = layer.backward(cache, dY, d_state, n_threads=n_threads,
                                   clip_step=clip_step, stats=stats)
    return Y, states, dX, d0, grads, stats


def assert_matches(cell, got, want, tol, shapes=None):
    """Compiled results equal the reference: outputs, states, gradients and delta
    norms as sums (:func:`assert_sum_close`: every one of them is an activation of,
    or a product with, a sum whose terms can cancel), clip counts exactly."""
    Y, states, dX, d0, grads, stats = got
    rY, rstates, rdX, rd0, rgrads, rstats = want
    assert_sum_close(Y, rY, tol, "Y")
    assert len(states) == len(rstates) == N_STATES[cell]
    for k, (s, r) in enumerate(zip(states, rstates)):
        assert_sum_close(s, r, tol, f"final state {k}")
    assert_sum_close(dX, rdX, tol, "dX")
    assert len(d0) == len(rd0) == N_STATES[cell]
    for k, (s, r) in enumerate(zip(d0, rd0)):
        assert_sum_close(s, r, tol, f"d initial state {k}")
    assert set(grads) == set(rgrads)
    for name in grads:
        assert_sum_close(grads[name], rgrads[name], tol, f"d{name}")
    assert_sum_close(stats["delta_sq"], rstats["delta_sq"], tol, "delta_sq")
    assert_array_equal(stats["n_clipped"], rstats["n_clipped"], err_msg="n_clipped")


def assert_all_equal(a, b):
    """Two (nested) results are bitwise equal."""
    fa, fb = flat(a), flat(b)
    assert len(fa) == len(fb)
    for x, y in zip(fa, fb):
        assert x.dtype == y.dtype
        assert_array_equal(x, y, strict=True)


def flat(nested):
    if isinstance(nested, np.ndarray):
        return [nested]
    if isinstance(nested, dict):
        return [a for k in sorted(nested) for a in flat(nested[k])]
    return [a for item in nested for a in flat(item)]


def check_against_reference(cell, B, T, F, H, dtype, tol, rng, with_lengths,
                            n_threads=1):
    layer = make_layer(cell, F, H, dtype, rng)
    X, state0, dY, d_state = make_data(cell, B, T, F, H, dtype, rng)
    lengths = make_lengths(B, T, rng) if with_lengths else None

    got = compiled(layer, X, state0, lengths, dY, d_state, n_threads)
    want = reference(cell, layer.params, X, state0, lengths, dY, d_state)
    Y, states, dX, d0, grads, stats = got

    assert Y.dtype == dtype and Y.shape == (B, T, H)
    for s in states + d0:
        assert s.dtype == dtype and s.shape == (B, H)
    assert dX.dtype == dtype and dX.shape == X.shape
    assert set(grads) == set(layer.params)
    for name in grads:
        assert grads[name].dtype == dtype
        assert grads[name].shape == layer.params[name].shape
    assert stats["delta_sq"].shape == (B, T) and stats["delta_sq"].dtype == dtype
    assert_array_equal(stats["n_clipped"], 0)
    assert_matches(cell, got, want, tol)

    # the kernel semantics of padding, exactly
    if lengths is not None:
        for b, L in enumerate(lengths):
            assert_array_equal(Y[b, L:], 0)
            assert_array_equal(dX[b, L:], 0)
            assert_array_equal(stats["delta_sq"][b, L:], 0)
            assert_array_equal(states[0][b], Y[b, L - 1])
    # non-vacuous: everything moved away from zero
    assert np.abs(Y).max() > 1e-2
    assert np.abs(dX).max() > 1e-3
    for name in grads:
        assert np.any(grads[name] != 0), name
    return layer


# --------------------------------------------------------------------------
# (a) against the reference
# --------------------------------------------------------------------------
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
def test_layer_matches_reference(cell, shape, with_lengths, dtype, tol, rng):
    check_against_reference(cell, *shape, dtype, tol, rng, with_lengths)


@pytest.mark.parametrize("chunk", [1, 5, 16, 69])
@pytest.mark.parametrize("cell", CELLS)
def test_matches_reference_for_any_chunking(cell, chunk, dtype, tol, rng, monkeypatch,
                                            threads_for_any_work):
    # Force the batch into many chunks (with a short last one) whatever the core count.
    monkeypatch.setattr(_cells, "chunk_rows", lambda B: chunk)
    check_against_reference(cell, 70, 5, 2, 3, dtype, tol, rng, True, n_threads=2)


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


def test_editing_the_returned_state_leaves_the_gradients_alone(dtype, rng):
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
def test_lstm_output_gate_that_underflows(gate, dtype, tol, rng):
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
    o = layer.forward(X, lengths, state0)[2].gates[np.arange(T) < lengths[:, None]]
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
def test_all_lengths_one_and_all_full(cell, dtype, tol, rng):
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
def test_state_passes_through_padding(cell, dtype, rng):
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
def test_saturated_activations(cell, dtype, tol, rng):
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


# --------------------------------------------------------------------------
# (b) step clipping and delta norms
# --------------------------------------------------------------------------
def pick_clip(cell, params, X, state0, lengths, dY, d_state, H):
    """A clip_step that clips some but not all valid entries of dL/dh_t, with no
    entry within 0.02% of it (the reference's clip counts do not change when the
    threshold moves by that much, far more than float32 rounding moves dL/dh_t),
    so both computations count the same entries."""
    total = int(np.sum(lengths)) * H
    for c in np.geomspace(0.5, 2.0, 13)[[6, 5, 7, 4, 8, 3, 9, 2, 10, 1, 11, 0, 12]]:
        counts = [reference(cell, params, X, state0, lengths, dY, d_state,
                            c * s)[5]["n_clipped"] for s in (1 - 2e-4, 1, 1 + 2e-4)]
        n = int(counts[1].sum())
        if (0.05 * total < n < 0.95 * total
                and all(np.array_equal(counts[1], k) for k in counts)):
            return c
    raise AssertionError("no clip value clips a stable fraction of the entries")


@pytest.mark.parametrize("cell", CELLS)
def test_clipping_matches_reference(cell, dtype, tol, rng, monkeypatch):
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
def test_delta_sq_matches_reference(cell, dtype, tol, rng):
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
def test_huge_clip_step_changes_nothing(cell, dtype, rng):
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


# --------------------------------------------------------------------------
# (c) the accumulator design: checkpointed pieces, instruction sets, threads
# --------------------------------------------------------------------------
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
def test_pieces_equal_one_backward_bitwise(cell, cuts, clip, dtype, tol, rng,
                                           monkeypatch):
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


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("cell", CELLS)
def test_isa_matches_reference_and_is_thread_deterministic(cell, isa, dtype, tol, rng,
                                                           monkeypatch):
    module = cell_kernels(cell, isa)
    assert module.__name__ == f"tsbptt._kernels._{cell}" + ("" if isa == "baseline" else f"_{isa}")
    monkeypatch.setattr(_cells, "cell_kernels", lambda name: cell_kernels(name, isa))
    monkeypatch.setattr(_cells, "chunk_rows", lambda B: 4)   # chunks 4, 4, 3
    B, T, F, H = 11, 21, 3, 17  # H = 17: 4-, 8- and 16-wide vector loops and a remainder
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


# --------------------------------------------------------------------------
# (d) the raw kernels' argument checks
# --------------------------------------------------------------------------
# Arguments that fix B, T, F (and H) in a raw call: changing their shape makes the
# other arguments wrong, so the message names those instead.
DEFINING = {"X", "xh"}
# The argument each raw call takes H from, by direction and cell.
H_SOURCE = {"forward": {"lstm": "h0", "gru": "h0", "rnn": "h0"},
            "backward": {"lstm": "c0", "gru": "dh_T", "rnn": "dh_T"}}
# Read-only (const) inputs; everything else is written.
INPUTS = {"forward": {"X", "W", "b_hn", "h0", "c0", "lengths"},
          "backward": {"W_T", "c0", "h_T", "lengths", "xh", "gates", "cell", "hn", "dY",
                       "dh_T", "dc_T"}}
# The argument that picks the float32/float64 specialisation.
DISPATCH = {"X", "W_T"}


def raw_calls(cell, dtype, isa="baseline", B=3, T=4, F=2, H=3, chunk=2,
              clip_step=0.0):
    """Valid argument lists for the raw forward and backward kernels.

    The batch is split into chunks of ``chunk`` rows (a short last one with the
    defaults); lengths cycle through T, 1, 3 and 2. The forward is run once so
    that the backward's inputs are its real outputs. Returns (forward function,
    list of (name, value)), (backward function, list).
    """
    rng = np.random.default_rng(0)
    mod = cell_kernels(cell, isa)
    G, K = N_GATES[cell] * H, F + H + 1
    n_chunks, rows = -(-B // chunk), min(chunk, B)
    blk = BLOCK_STEPS * rows

    def a(*shape):
        return (0.3 * rng.standard_normal(shape)).astype(dtype)

    def e(*shape):
        return np.zeros(shape, dtype)

    X, W = a(B, T, F), a(F + H + 1, G)
    L = np.resize(np.array([T, 1, min(3, T), min(2, T)], dtype=np.intp), B)
    W_T = np.ascontiguousarray(W[:F + H].T)
    xh, gates, Y, dY, dX = e(B, T, K), e(B, T, G), e(B, T, H), a(B, T, H), e(B, T, F)
    common_bwd = [("dX", dX), ("dh0", e(B, H))]
    clip = [("clip_step", clip_step), ("n_clipped", np.zeros(B, np.intp)),
            ("delta_sq", e(B, T))]
    if cell == "lstm":
        fwd = [("X", X), ("W", W), ("h0", a(B, H)), ("c0", a(B, H)), ("lengths", L),
               ("xh", xh), ("gates", gates), ("cell", e(B, T, H)), ("Y", Y),
               ("h_T", e(B, H)), ("c_T", e(B, H)), ("pre", e(n_chunks, rows, G))]
        d = dict(fwd)
        bwd = [("W_T", W_T), ("c0", d["c0"]), ("h_T", d["h_T"]), ("lengths", L), ("xh", xh),
               ("gates", gates), ("cell", d["cell"]), ("dY", dY), ("dh_T", a(B, H)),
               ("dc_T", a(B, H))] + common_bwd + [
               ("dc0", e(B, H)), ("dW_acc", e(n_chunks, K, G)),
               ("blk_xh", e(n_chunks, blk, K)), ("blk_da", e(n_chunks, blk, G)),
               ("work", e(n_chunks, rows, F + H))] + clip
        funcs = mod.lstm_forward, mod.lstm_backward
    elif cell == "gru":
        fwd = [("X", X), ("W", W), ("b_hn", a(H)), ("h0", a(B, H)), ("lengths", L),
               ("xh", xh), ("gates", gates), ("hn", e(B, T, H)), ("Y", Y),
               ("h_T", e(B, H)), ("pre", e(n_chunks, rows, G))]
        d = dict(fwd)
        bwd = [("W_T", W_T), ("lengths", L), ("xh", xh), ("gates", gates),
               ("hn", d["hn"]), ("dY", dY), ("dh_T", a(B, H))] + common_bwd + [
               ("dW_acc", e(n_chunks, K, G)), ("db_hn_acc", e(n_chunks, H)),
               ("blk_xh", e(n_chunks, blk, K)), ("blk_dgx", e(n_chunks, blk, G)),
               ("blk_dgh", e(n_chunks, blk, G)), ("work", e(n_chunks, rows, H))] + clip
        funcs = mod.gru_forward, mod.gru_backward
    else:
        fwd = [("X", X), ("W", W), ("h0", a(B, H)), ("lengths", L), ("xh", xh),
               ("gates", gates), ("Y", Y), ("h_T", e(B, H)), ("pre", e(n_chunks, rows, G))]
        bwd = [("W_T", W_T), ("lengths", L), ("xh", xh), ("gates", gates), ("dY", dY),
               ("dh_T", a(B, H))] + common_bwd + [
               ("dW_acc", e(n_chunks, K, G)), ("blk_xh", e(n_chunks, blk, K)),
               ("blk_da", e(n_chunks, blk, G)), ("work", e(n_chunks, rows, F + H))] + clip
        funcs = mod.rnn_forward, mod.rnn_backward
    tail = [("chunk_size", chunk), ("n_threads", 2)]
    fwd, bwd = fwd + tail, bwd + tail
    call(funcs[0], fwd)
    return (funcs[0], fwd), (funcs[1], bwd)


def call(func, args, **replace):
    return func(*[replace.get(name, value) for name, value in args])


def both_directions(cell, dtype, isa="baseline"):
    (f, fa), (b, ba) = raw_calls(cell, dtype, isa)
    return [(f, fa), (b, ba)]


def arrays(args):
    return [(name, v) for name, v in args if isinstance(v, np.ndarray)]


def raw_tolerance(dtype):
    """The issue's bar against the reference: 1e-5 relative in float32, 1e-12 in float64."""
    return ({"rtol": 1e-5, "atol": 1e-6} if dtype == np.float32 else
            {"rtol": 1e-12, "atol": 1e-14})


def check_raw_against_reference(cell, dtype, isa="baseline", clip_step=0.0, **shape):
    """Run the raw forward and backward on valid arguments; compare with the
    reference (the harness is right, so the checks below fail for the reason
    they name). ``shape``: raw_calls' B, T, F, H and chunk."""
    tol = raw_tolerance(dtype)
    (f, fa), (b, ba) = raw_calls(cell, dtype, isa, clip_step=clip_step, **shape)
    d, g = dict(fa), dict(ba)
    call(b, ba)
    X, W, L = d["X"], d["W"], d["lengths"]
    clip = clip_step if clip_step > 0 else None
    if cell == "lstm":
        r = ref.lstm_forward(X, W, d["h0"], d["c0"], L)
        rg = ref.lstm_backward(X, W, r, g["dY"], g["dh_T"], g["dc_T"], L, clip)
        assert_allclose(d["c_T"], r["c_T"], **tol)
        assert_allclose(d["cell"], r["cell"], **tol)
        assert_sum_close(g["dc0"], rg["dc0"], tol, "dc0")
    elif cell == "gru":
        r = ref.gru_forward(X, W, d["b_hn"], d["h0"], L)
        rg = ref.gru_backward(X, W, d["b_hn"], r, g["dY"], g["dh_T"], L, clip)
        db_hn = np.empty(d["b_hn"].shape, dtype)
        _reduce.sum_chunks(g["db_hn_acc"], db_hn, 2)
        assert_sum_close(db_hn, rg["db_hn"], tol, "db_hn")
    else:
        r = ref.rnn_forward(X, W, d["h0"], L)
        rg = ref.rnn_backward(X, W, r, g["dY"], g["dh_T"], L, clip)
    H, F = d["h0"].shape[1], X.shape[2]
    assert_allclose(d["Y"], r["Y"], **tol)
    assert_allclose(d["h_T"], r["h_T"], **tol)
    # xh = [x_t, h_{t-1}, 1]
    assert_array_equal(d["xh"][:, :, :F], X)
    assert_allclose(d["xh"][:, :, F:F + H], r["h_prev"], **tol)
    assert_array_equal(d["xh"][:, :, F + H], 1)
    dW_acc = g["dW_acc"]
    dW = np.empty(dW_acc.shape[1:], dtype)
    _reduce.sum_chunks(dW_acc.reshape(dW_acc.shape[0], -1), dW.reshape(-1), 2)
    assert_sum_close(dW, rg["dW"], tol, "dW")
    assert_sum_close(g["dX"], rg["dX"], tol, "dX")
    assert_sum_close(g["dh0"], rg["dh0"], tol, "dh0")
    assert_sum_close(g["delta_sq"], rg["delta_sq"], tol, "delta_sq")
    assert_array_equal(g["n_clipped"], rg["n_clipped"])
    return g


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("cell", CELLS)
def test_raw_kernels_run_with_valid_arguments(cell, isa, dtype):
    check_raw_against_reference(cell, dtype, isa)
    g = check_raw_against_reference(cell, dtype, isa, clip_step=0.25)
    assert g["n_clipped"].sum() > 0


# Shapes around the micro-kernels' tiles (_microkernels.h: 8, 6 or 4 rows by 32,
# 16, 8 or 4 columns): chunks of 19 and 18 rows and H = 20 leave row and column
# tails in every product; B = H = 1 is one row and one column; T = 18 gives the
# weight gradients a full block of 16 steps and a short one (H = 9 keeps the
# recurrence's gain below 1, so float32 rounding is not amplified over the steps).
@pytest.mark.parametrize("shape", [dict(B=37, T=5, F=3, H=20, chunk=19),
                                   dict(B=1, T=3, F=1, H=1, chunk=1),
                                   dict(B=9, T=18, F=2, H=9, chunk=9)],
                         ids=["tails", "one-row", "two-blocks"])
@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("cell", CELLS)
def test_raw_kernels_match_reference_around_the_tiles(cell, isa, shape, dtype):
    check_raw_against_reference(cell, dtype, isa, **shape)


@pytest.mark.parametrize("cell", CELLS)
def test_raw_backward_adds_into_accumulators(cell, dtype):
    # dW_acc (and db_hn_acc) are added to, n_clipped too; every other output is
    # overwritten
    (f, fa), (b, ba) = raw_calls(cell, dtype, clip_step=0.25)
    g = dict(ba)
    call(b, ba)
    first = {k: v.copy() for k, v in arrays(ba)}
    call(b, ba)
    for name in ("dW_acc", "db_hn_acc", "n_clipped"):
        if name in g:
            assert_array_equal(g[name], 2 * first[name], err_msg=name)
    for name in ("dX", "dh0", "dc0", "delta_sq"):
        if name in g:
            assert_array_equal(g[name], first[name], err_msg=name)


@pytest.mark.parametrize("cell", CELLS)
def test_raw_kernels_reject_non_contiguous(cell, dtype):
    for func, args in both_directions(cell, dtype):
        for name, value in arrays(args):
            # a Fortran-order or strided view of the right shape and dtype
            if value.ndim >= 2:
                bad = np.asfortranarray(value)
            else:
                bad = np.repeat(value, 2)[::2]
            assert bad.shape == value.shape and not bad.flags.c_contiguous
            with pytest.raises(ValueError, match="contiguous"):
                call(func, args, **{name: bad})


@pytest.mark.parametrize("cell", CELLS)
def test_raw_kernels_reject_mixed_dtypes(cell, dtype):
    other = np.float64 if dtype == np.float32 else np.float32
    for func, args in both_directions(cell, dtype):
        for name, value in arrays(args):
            if value.dtype == np.intp:
                bad = value.astype(np.int32)
            else:
                bad = value.astype(other)
            with pytest.raises(ValueError, match="dtype mismatch"):
                call(func, args, **{name: bad})


# The GRU and RNN backward take H from dh_T and never check its batch size by
# name: a wrong one fails later, in the copy to dh0, with a message that names no
# argument. See test_raw_backward_names_wrong_dh_T_shape.
UNNAMED = {("gru_backward", "dh_T"), ("rnn_backward", "dh_T")}


@pytest.mark.parametrize("cell", CELLS)
def test_raw_kernels_reject_wrong_shapes_by_name(cell, dtype):
    for func, args in both_directions(cell, dtype):
        for name, value in arrays(args):
            if name in DEFINING or (func.__name__, name) in UNNAMED:
                continue
            # one more along the first axis, then along the last
            for axis in {0, value.ndim - 1}:
                shape = list(value.shape)
                shape[axis] += 1
                bad = np.zeros(shape, value.dtype)
                with pytest.raises(ValueError, match=rf"^{name} has shape"):
                    call(func, args, **{name: bad})
                cell_name, direction = func.__name__.split("_")
                if name == H_SOURCE[direction][cell_name]:
                    break   # it fixes H: a wrong last axis is reported elsewhere


@pytest.mark.parametrize("cell", ["gru", "rnn"])
def test_raw_backward_names_wrong_dh_T_shape(cell):
    (_, _), (b, ba) = raw_calls(cell, np.float64)
    dh_T = dict(ba)["dh_T"]
    with pytest.raises(ValueError, match=r"^dh_T has shape"):
        call(b, ba, dh_T=np.zeros((dh_T.shape[0] + 1, dh_T.shape[1])))


@pytest.mark.parametrize("cell", CELLS)
def test_raw_kernels_reject_bad_scalars_and_lengths(cell, dtype):
    for func, args in both_directions(cell, dtype):
        d = dict(args)
        first = "X" if "X" in d else "xh"
        T = d[first].shape[1]
        for bad in ([T, T + 1, T], [-1, T, T]):
            with pytest.raises(ValueError, match=r"lengths\[\d\] = -?\d+ is outside"):
                call(func, args, lengths=np.array(bad, dtype=np.intp))
        for n in (0, -1):
            with pytest.raises(ValueError, match="n_threads must be >= 1"):
                call(func, args, n_threads=n)
        for c in (0, -3):
            with pytest.raises(ValueError, match="chunk_size must be >= 1"):
                call(func, args, chunk_size=c)
        for name, bad in (("chunk_size", "2"), ("chunk_size", 2.0), ("chunk_size", None),
                          ("n_threads", "1"), ("n_threads", None), ("clip_step", "1"),
                          ("clip_step", None)):
            if name in d:
                with pytest.raises(TypeError):
                    call(func, args, **{name: bad})
        with pytest.raises(ValueError, match="at least one sample"):
            call(func, args, **{first: d[first][:, :0]})
        with pytest.raises(ValueError, match="at least one sample"):
            call(func, args, **{first: d[first][:0]})
        # outputs and work arrays may not be read-only; inputs may
        for name, value in arrays(args):
            ro = value.copy()
            ro.setflags(write=False)
            if name in INPUTS[func.__name__.split("_")[1]]:   # forward or backward
                call(func, args, **{name: ro})
            else:
                with pytest.raises(ValueError, match="read-only"):
                    call(func, args, **{name: ro})
    # and after all of that the kernels still run correctly
    check_raw_against_reference(cell, dtype)


@pytest.mark.parametrize("cell", CELLS)
def test_raw_kernels_reject_wrong_ndim_and_garbage(cell, dtype):
    for func, args in both_directions(cell, dtype):
        for name, value in arrays(args):
            if name in DISPATCH:   # no specialisation takes it (checked below)
                continue
            with pytest.raises(ValueError, match="wrong number of dimensions"):
                call(func, args, **{name: value[..., None]})
            # None is refused before any work starts, naming the argument (the
            # one that picks the dtype specialisation finds no signature)
            with pytest.raises(TypeError, match=rf"'{name}' must not be None"):
                call(func, args, **{name: None})
        # the dispatching array picks the specialisation: a wrong one is refused too
        first = "X" if "X" in dict(args) else "W_T"
        v = dict(args)[first]
        for bad in (v[0], v[..., None], None, v.astype(np.int64), v.astype(complex),
                    v.tolist()):
            with pytest.raises((ValueError, TypeError),
                               match="No matching signature|dimensions|dtype"):
                call(func, args, **{first: bad})
    check_raw_against_reference(cell, dtype)


@pytest.mark.parametrize("cell", CELLS)
def test_raw_forward_without_features_is_the_recurrence_alone(cell):
    # F = 0 gives the GRU an empty input product (k = 0): it must give zeros, and
    # the result equals a run with one all-zero feature, bit for bit (its terms
    # are exact zeros added first).
    (f, fa), _ = raw_calls(cell, np.float64)
    d = dict(fa)
    B, T, F = d["X"].shape
    H = d["h0"].shape[1]
    Y0, Y1 = np.zeros((B, T, H)), np.zeros((B, T, H))
    call(f, fa, X=np.zeros((B, T, 0)), xh=np.zeros((B, T, H + 1)),
         W=np.ascontiguousarray(d["W"][F:]), Y=Y0)
    call(f, fa, X=np.zeros((B, T, 1)), xh=np.zeros((B, T, H + 2)),
         W=np.ascontiguousarray(d["W"][F - 1:]), Y=Y1)
    assert np.abs(Y0).sum() > 0
    np.testing.assert_array_equal(Y0, Y1)
