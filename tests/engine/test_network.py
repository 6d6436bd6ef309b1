"""Network (recurrent stack + dense head): gradients against finite differences."""
import re

import numpy as np
import pytest

from tsbptt.engine.network import Network


def _loss(net, X, lengths, R, **kw):
    out, _, cache = net.forward(X, lengths, **kw)
    return float(np.sum(out * R)), out, cache


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
@pytest.mark.parametrize("many_to_many,bidirectional", [(False, False), (True, False),
                                                        (False, True), (True, True)])
def test_gradients_match_finite_differences(cell, many_to_many, bidirectional):
    rng = np.random.default_rng(1)
    B, T, F = 3, 5, 2
    net = Network(cell, F, (4, 3), 2, bidirectional=bidirectional,
                  many_to_many=many_to_many, random_state=0)
    X = rng.standard_normal((B, T, F))
    lengths = np.array([5, 2, 4])
    _, out, cache = _loss(net, X, lengths, 0)
    R = rng.standard_normal(out.shape)
    grads, _ = net.backward(cache, R)
    eps = 1e-6
    for name, p in net.params.items():
        fd = np.zeros_like(p)
        for idx in np.ndindex(p.shape):
            old = p[idx]
            p[idx] = old + eps
            lp = _loss(net, X, lengths, R)[0]
            p[idx] = old - eps
            lm = _loss(net, X, lengths, R)[0]
            p[idx] = old
            fd[idx] = (lp - lm) / (2 * eps)
        np.testing.assert_allclose(grads[name], fd, rtol=1e-6, atol=1e-8, err_msg=name)
    assert set(grads) == set(net.params)


def test_many_to_many_output_is_zero_past_each_sequence():
    net = Network("gru", 1, 4, 2, many_to_many=True, random_state=0)
    out, _, _ = net.forward(np.ones((2, 4, 1)), np.array([4, 2]))
    assert np.all(out[1, 2:] == 0) and np.all(out[0] != 0)


def test_many_to_one_reads_the_last_valid_step():
    net = Network("lstm", 1, 4, 1, random_state=0)
    X = np.random.default_rng(0).standard_normal((1, 6, 1))
    short, _, _ = net.forward(X[:, :3])
    padded, _, _ = net.forward(np.concatenate([X[:, :3], np.zeros((1, 3, 1))], axis=1),
                               lengths=[3])
    np.testing.assert_allclose(short, padded, rtol=1e-12)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_dropout_masks_are_used_consistently_in_backward(cell):
    rng = np.random.default_rng(2)
    net = Network(cell, 2, (4, 4), 1, dropout=0.3, input_dropout=0.2, random_state=0)
    X = rng.standard_normal((4, 5, 2))
    R = rng.standard_normal((4, 1))

    def loss(seed):
        out, _, cache = net.forward(X, training=True, rng=np.random.RandomState(seed))
        return float(np.sum(out * R)), cache

    base, cache = loss(7)
    grads, _ = net.backward(cache, R)
    p = net.params["rnn.0.W"]
    eps = 1e-6
    for idx in [(0, 0), (3, 5), (6, 11)]:
        old = p[idx]
        p[idx] = old + eps
        lp = loss(7)[0]
        p[idx] = old - eps
        lm = loss(7)[0]
        p[idx] = old
        assert grads["rnn.0.W"][idx] == pytest.approx((lp - lm) / (2 * eps), rel=1e-6, abs=1e-9)
    # dropout is off outside training, and on (random) inside it
    eval_out = net.forward(X)[0]
    np.testing.assert_array_equal(eval_out, net.forward(X)[0])
    assert not np.allclose(net.forward(X, training=True, rng=np.random.RandomState(1))[0],
                           eval_out)


def test_bad_arguments():
    with pytest.raises(ValueError, match=r"dropout must be in \[0, 1\)"):
        Network("lstm", 1, 4, 1, dropout=1.0)
    net = Network("lstm", 1, 4, 1, dropout=0.5)
    with pytest.raises(ValueError, match="needs a random generator"):
        net.forward(np.zeros((1, 2, 1)), training=True)


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_param_shapes_match_a_built_network(cell, bidirectional):
    from tsbptt.engine.network import param_shapes
    net = Network(cell, 3, (5, 4), 2, bidirectional=bidirectional)
    assert param_shapes(cell, 3, (5, 4), 2, bidirectional=bidirectional) == \
        {k: v.shape for k, v in net.params.items()}


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
@pytest.mark.parametrize("many_to_many", [False, True])
def test_prediction_in_pieces_of_time_gives_one_passes_bits(cell, many_to_many, monkeypatch):
    # a long sequence is predicted in pieces of time, each layer's state carried
    # (its hidden outputs held 51 MB for a (1, 200000, 1) sequence of H = 32);
    # ragged lengths end inside, at and before a piece's edge
    from tsbptt.engine import network
    net = Network(cell, 2, (5, 3), 2, many_to_many=many_to_many, dtype="float64",
                  random_state=0)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((4, 23, 2))
    lengths = np.array([23, 7, 14, 1], dtype=np.intp)
    X[np.arange(23)[None, :] >= lengths[:, None]] = 0
    states = [(rng.standard_normal((4, 5)),) * (2 if cell == "lstm" else 1),
              (rng.standard_normal((4, 3)),) * (2 if cell == "lstm" else 1)]
    whole = net.predict_outputs(X, lengths)
    whole_s, finals = net.predict_with_states(X, lengths, states)
    training, _, _ = net.forward(X, lengths)
    np.testing.assert_array_equal(whole, training)
    monkeypatch.setattr(network, "PREDICT_PIECE_MIN_STEPS", 1)
    for values in (4 * 5 * 7, 4 * 5, 1):  # pieces of 7 steps, 1 step, 1 step
        monkeypatch.setattr(network, "PREDICT_PIECE_VALUES", values)
        np.testing.assert_array_equal(net.predict_outputs(X, lengths), whole)
        out, got = net.predict_with_states(X, lengths, states)
        np.testing.assert_array_equal(out, whole_s)
        for a, b in zip(got, finals):
            for u, v in zip(a, b):
                np.testing.assert_array_equal(u, v)


@pytest.mark.parametrize("many_to_many, shape", [
    (False, (4,)), (False, (1, 1)), (False, (8, 1)), (False, (4, 2)),
    (True, (4, 5, 1)), (True, (4, 4, 2)), (True, (4, 10)),
    # would broadcast over the batch (accepted before, as if every sequence had it)
    (True, (1, 5, 2)),
])
def test_backward_checks_d_out_against_the_outputs_shape(many_to_many, shape):
    # a wrong d_out gave kernel-internal messages ("B has shape ..."), or was
    # broadcast over the batch
    net = Network("gru", 2, 3, 2 if many_to_many else 1, many_to_many=many_to_many,
                  random_state=0)
    out, _, cache = net.forward(np.random.default_rng(0).standard_normal((4, 5, 2)))
    with pytest.raises(ValueError, match=rf"^d_out has shape {re.escape(str(shape))}, "
                                         rf"expected the outputs' shape "
                                         rf"{re.escape(str(out.shape))}$"):
        net.backward(cache, np.ones(shape))
