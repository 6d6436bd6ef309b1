"""The typed caches: each cell reads its own cache back (``state_at``)."""
import numpy as np
import pytest

from tsbptt._kernels import reference as ref
from tsbptt.engine import Network, RecurrentLayer, _cells
from tsbptt.engine._caches import GRUCache, LSTMCache, RNNCache, batch_major, step_rows
from tsbptt.engine.bptt import states_at


@pytest.mark.parametrize("cell, kind", [("lstm", LSTMCache), ("gru", GRUCache),
                                        ("rnn", RNNCache)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_state_at_is_the_state_after_that_many_steps(cell, kind, dtype):
    rng = np.random.default_rng(0)
    B, T, F, H = 5, 9, 3, 7
    layer = RecurrentLayer(cell, F, H, dtype=dtype, random_state=0)
    X = rng.standard_normal((B, T, F)).astype(dtype)
    state0 = tuple(rng.standard_normal((B, H)).astype(dtype)
                   for _ in range(2 if cell == "lstm" else 1))
    _, _, cache = layer.forward(X, None, state0, n_threads=1)
    assert type(cache) is kind
    for k in range(T):
        got = layer.state_at(cache, k)
        if k == 0:
            want = state0
        else:
            _, want, _ = layer.forward(np.ascontiguousarray(X[:, :k]), None, state0,
                                       n_threads=1)
        assert len(got) == len(want)
        for g, w in zip(got, want):
            assert g.flags.c_contiguous
            np.testing.assert_array_equal(g, w)


def test_states_at_asks_every_layer_and_ends_with_the_final_states():
    rng = np.random.default_rng(1)
    net = Network("lstm", 2, (4, 3), 1, random_state=0)
    X = rng.standard_normal((3, 6, 2))
    _, final, cache = net.forward(X, n_threads=1)
    assert states_at(net, cache, 6, final) is final
    _, at4, _ = net.forward(np.ascontiguousarray(X[:, :4]), n_threads=1)
    for got, want in zip(states_at(net, cache, 4, final), at4):
        for g, w in zip(got, want):
            np.testing.assert_array_equal(g, w)


# The training caches are chunk by chunk, time-major inside a chunk (docs/kernel_layout.md):
# shapes with a short last chunk, a single sample, a single step and one row per chunk.
LAYOUTS = [(9, 7, 4), (1, 5, 16), (6, 1, 4), (5, 3, 1), (16, 4, 16)]


def _run(cell, B, T, chunk, dtype, monkeypatch, seed=0):
    monkeypatch.setattr(_cells, "chunk_rows", lambda batch: chunk)
    rng = np.random.default_rng(seed)
    F, H = 3, 5
    layer = RecurrentLayer(cell, F, H, dtype=dtype, random_state=seed)
    X = rng.standard_normal((B, T, F)).astype(dtype)
    lengths = rng.integers(1, T + 1, B).astype(np.intp)
    lengths[0] = T
    state0 = tuple(rng.standard_normal((B, H)).astype(dtype)
                   for _ in range(2 if cell == "lstm" else 1))
    _, _, cache = layer.forward(X, lengths, state0, n_threads=2)
    assert cache.chunk == chunk
    return layer, X, lengths, state0, cache


@pytest.mark.parametrize("B, T, chunk", LAYOUTS)
@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_state_at_every_offset_in_chunk_time_major_caches(cell, B, T, chunk, monkeypatch):
    """state_at(k) is bitwise the final state of a plain forward over the first k
    steps, whatever chunk a sample's row falls in (lengths < T carry states)."""
    layer, X, lengths, state0, cache = _run(cell, B, T, chunk, np.float64, monkeypatch)
    for k in range(T):
        got = layer.state_at(cache, k)
        if k == 0:
            want = state0
        else:
            _, want, _ = layer.forward(np.ascontiguousarray(X[:, :k]),
                                       np.minimum(lengths, k), state0, n_threads=1)
        for g, w in zip(got, want):
            assert g.flags.c_contiguous and g.shape == w.shape
            np.testing.assert_array_equal(g, w)


@pytest.mark.parametrize("B, T, chunk", LAYOUTS)
@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_cache_rows_follow_the_layout_and_match_the_reference(cell, B, T, chunk, dtype, tol,
                                                              monkeypatch):
    """Sample r's row at step t sits at flat row r0 * T + t * nb + (r - r0) of its
    chunk [r0, r0 + nb), and the rows, read back in batch-major order, are the
    NumPy reference's (gates and hn at valid steps: elsewhere unspecified)."""
    layer, X, lengths, state0, cache = _run(cell, B, T, chunk, dtype, monkeypatch)
    F, H = X.shape[2], state0[0].shape[1]
    W = layer.params["W"]
    if cell == "lstm":
        r = ref.lstm_forward(X, W, *state0, lengths)
    elif cell == "gru":
        r = ref.gru_forward(X, W, layer.params["b_hn"], *state0, lengths)
    else:
        r = ref.rnn_forward(X, W, *state0, lengths)
    arrays = {"xh": cache.xh, "gates": cache.gates}
    arrays.update({name: getattr(cache, name) for name in ("cell", "hn")
                   if hasattr(cache, name)})
    valid = np.arange(T) < lengths[:, None]
    for name, a in arrays.items():
        bm = batch_major(a, chunk)
        # the layout's formula written out, independently of batch_major's slicing
        flat = a.reshape(B * T, -1)
        for r0 in range(0, B, chunk):
            nb = min(chunk, B - r0)
            for t in range(T):
                np.testing.assert_array_equal(flat[r0 * T + t * nb:r0 * T + (t + 1) * nb],
                                              bm[r0:r0 + nb, t])
        for t in range(T):
            np.testing.assert_array_equal(step_rows(a, chunk, t), bm[:, t])
        if name == "xh":
            np.testing.assert_array_equal(bm[:, :, :F], X)
            np.testing.assert_allclose(bm[:, :, F:F + H], r["h_prev"], **tol)
            np.testing.assert_array_equal(bm[:, :, -1], 1)
        elif name == "cell":
            np.testing.assert_allclose(bm, r["cell"], **tol)
        else:
            np.testing.assert_allclose(bm[valid], r[name][valid], **tol)


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_a_backward_uses_its_caches_chunk(cell, monkeypatch):
    """The backward lays its work out in the chunks its cache was filled with, even
    when chunk_rows has changed in between: the gradients stay the reference's."""
    layer, X, lengths, state0, cache = _run(cell, 9, 6, 4, np.float64, monkeypatch)
    monkeypatch.setattr(_cells, "chunk_rows", lambda batch: 16)
    dY = np.random.default_rng(3).standard_normal((9, 6, 5))
    dX, _, grads = layer.backward(cache, dY, n_threads=2)
    W = layer.params["W"]
    if cell == "lstm":
        rg = ref.lstm_backward(X, W, ref.lstm_forward(X, W, *state0, lengths), dY,
                               lengths=lengths)
    elif cell == "gru":
        b_hn = layer.params["b_hn"]
        rg = ref.gru_backward(X, W, b_hn, ref.gru_forward(X, W, b_hn, *state0, lengths),
                              dY, lengths=lengths)
        np.testing.assert_allclose(grads["b_hn"], rg["db_hn"], rtol=1e-10, atol=1e-12)
    else:
        rg = ref.rnn_backward(X, W, ref.rnn_forward(X, W, *state0, lengths), dY,
                              lengths=lengths)
    np.testing.assert_allclose(dX, rg["dX"], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(grads["W"], rg["dW"], rtol=1e-10, atol=1e-12)
