"""The typed caches: each cell reads its own cache back (``state_at``)."""
import numpy as np
import pytest

from tsbptt.engine import Network, RecurrentLayer
from tsbptt.engine._caches import GRUCache, LSTMCache, RNNCache
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
