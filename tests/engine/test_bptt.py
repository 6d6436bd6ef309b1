"""BPTT schedules: checkpointing, truncation windows, stateful truncated BPTT."""
import numpy as np
import pytest

from tsbptt.engine.bptt import full_bptt, truncated_bptt, truncation_windows
from tsbptt.engine.losses import MSE, Objective
from tsbptt.engine.network import Network


def _data(many_to_many, B=5, T=40, F=2, n_out=2, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((B, T, F))
    y = rng.standard_normal((B, T, n_out) if many_to_many else (B, n_out))
    return X, y


def _loss_fn(net, y, lengths):
    mse = MSE()

    def loss_fn(out):
        if net.many_to_many:
            valid = np.arange(out.shape[1])[None, :] < lengths[:, None]
            value, d = mse(out[valid], y[valid])
            d_out = np.zeros_like(out)
            d_out[valid] = d
            return value, d_out
        return mse(out, y)
    return loss_fn


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
@pytest.mark.parametrize("many_to_many", [False, True])
@pytest.mark.parametrize("with_lengths", [False, True])
def test_checkpointing_gives_bitwise_identical_gradients(cell, many_to_many, with_lengths):
    X, y = _data(many_to_many)
    lengths = np.array([40, 7, 16, 33, 1]) if with_lengths else np.full(5, 40)
    lengths = lengths.astype(np.intp)
    net = Network(cell, 2, (6, 5), 2, many_to_many=many_to_many, random_state=0)
    loss_fn = _loss_fn(net, y, lengths)
    v0, g0, s0 = full_bptt(net, X, lengths, loss_fn)
    for c in (16, 32):
        v1, g1, s1 = full_bptt(net, X, lengths, loss_fn, checkpoint_every=c)
        assert v1 == v0
        assert set(g1) == set(g0)
        for k in g0:
            np.testing.assert_array_equal(g1[k], g0[k], err_msg=f"{k} (c={c})")
        for a, b in zip(s1["delta_sq"], s0["delta_sq"]):
            np.testing.assert_array_equal(a, b)
    # a piece length that is not a multiple of 16 is still exact to rounding
    _, g2, _ = full_bptt(net, X, lengths, loss_fn, checkpoint_every=10)
    for k in g0:
        np.testing.assert_allclose(g2[k], g0[k], rtol=1e-10, atol=1e-13, err_msg=k)


def test_checkpointing_with_dropout_replays_the_same_masks():
    X, y = _data(False)
    lengths = np.full(5, 40, dtype=np.intp)
    net = Network("lstm", 2, (6, 5), 2, dropout=0.3, input_dropout=0.2, random_state=0)
    loss_fn = _loss_fn(net, y, lengths)
    v, g, _ = full_bptt(net, X, lengths, loss_fn, checkpoint_every=16, training=True,
                        rng=np.random.RandomState(3))
    # finite differences of the same (seeded) dropout network agree with the gradient
    p, eps = net.params["rnn.0.W"], 1e-6
    for idx in [(0, 1), (4, 7)]:
        old = p[idx]
        vals = []
        for delta in (eps, -eps):
            p[idx] = old + delta
            vals.append(full_bptt(net, X, lengths, loss_fn, checkpoint_every=16,
                                  training=True, rng=np.random.RandomState(3))[0])
        p[idx] = old
        assert g["rnn.0.W"][idx] == pytest.approx((vals[0] - vals[1]) / (2 * eps), rel=1e-5)


def test_truncation_windows():
    # every window reaches k2 steps back, the last too (it reached back only its
    # own new steps: (8, 8, 10) and (7, 9, 10))
    assert list(truncation_windows(10, 4, 4)) == [(0, 0, 4), (4, 4, 8), (6, 8, 10)]
    assert list(truncation_windows(10, 3, 5)) == [(0, 0, 3), (1, 3, 6), (4, 6, 9),
                                                  (5, 9, 10)]
    assert list(truncation_windows(3, 2, 5)) == [(0, 0, 2), (0, 2, 3)]
    with pytest.raises(ValueError, match=r"1 <= bptt_stride \(k1\) <= bptt_steps \(k2\)"):
        list(truncation_windows(10, 5, 3))


def _window_loss(net, y):
    mse = MSE()

    def loss_fn(out, start, loss_start, stop):
        d_out = np.zeros_like(out)
        a = loss_start - start
        value, d = mse(out[:, a:].reshape(-1, out.shape[2]),
                       y[:, loss_start:stop].reshape(-1, out.shape[2]))
        d_out[:, a:] = d.reshape(out[:, a:].shape)
        return value, d_out
    return loss_fn


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
def test_truncated_with_one_window_equals_full_bptt(cell):
    X, y = _data(True, T=20)
    net = Network(cell, 2, 5, 2, many_to_many=True, random_state=1)
    lengths = np.full(5, 20, dtype=np.intp)
    _, g_full, _ = full_bptt(net, X, lengths, _loss_fn(net, y, lengths))
    ((_, g_tbptt, _),) = list(truncated_bptt(net, X, _window_loss(net, y), 20, 20))
    for k in g_full:
        np.testing.assert_array_equal(g_tbptt[k], g_full[k], err_msg=k)


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
@pytest.mark.parametrize("k1,k2", [(8, 8), (5, 12)])
def test_stateful_windows_reproduce_one_uninterrupted_forward(cell, k1, k2):
    X, y = _data(True, T=41)
    net = Network(cell, 2, (5, 4), 2, many_to_many=True, random_state=2)
    full_out, full_states, _ = net.forward(X)
    seen = np.full(full_out.shape, np.nan)

    def record(out, start, loss_start, stop):
        seen[:, loss_start:stop] = out[:, loss_start - start:]
        return None  # no update: the weights stay as they are

    gen = truncated_bptt(net, X, record, k1, k2)
    with pytest.raises(StopIteration) as stop:
        next(gen)
    # the head is a NumPy matmul whose last bit may depend on the batch shape;
    # the recurrent states, computed by the kernels step by step, are bitwise equal
    np.testing.assert_allclose(seen, full_out, rtol=1e-14, atol=1e-15)
    for got, want in zip(stop.value.value, full_states):
        for a, b in zip(got, want):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
@pytest.mark.parametrize("T,k1,k2", [(10, 4, 4), (10, 3, 5), (10, 3, 3), (12, 4, 4)])
def test_a_many_to_one_loss_backpropagates_through_the_last_k2_steps(cell, T, k1, k2):
    # the loss at the last step once reached back only the last window's new steps
    # ((T - 1) % k1 + 1 + k2 - k1): bptt_steps=3 over 10 steps trained on 1 step
    X, y = _data(False, T=T)
    net = Network(cell, 2, 5, 2, random_state=3)
    windows = list(truncated_bptt(net, X, Objective(MSE()).window_fn(net, y, None, T),
                                  k1, k2))
    assert len(windows) == 1  # many-to-one: only the last window has a loss
    _, grads, _ = windows[0]
    # the reference: full BPTT over the last k2 steps, from the state the steps
    # before them leave (the gradient stops there)
    _, states, _ = net.forward(X[:, :T - k2])
    lengths = np.full(len(X), k2, dtype=np.intp)
    _, want, _ = full_bptt(net, np.ascontiguousarray(X[:, T - k2:]), lengths,
                           _loss_fn(net, y, lengths), initial_states=states)
    for k in want:
        np.testing.assert_allclose(grads[k], want[k], rtol=1e-12, atol=1e-14, err_msg=k)


def test_bidirectional_is_refused_where_it_cannot_work():
    net = Network("lstm", 2, 4, 1, bidirectional=True)
    X, y = _data(False)
    lengths = np.full(5, 40, dtype=np.intp)
    with pytest.raises(ValueError, match="bidirectional"):
        full_bptt(net, X, lengths, _loss_fn(net, y, lengths), checkpoint_every=16)
    with pytest.raises(ValueError, match="bidirectional"):
        next(truncated_bptt(net, X, lambda *a: None, 4, 4))


def test_checkpointing_keeps_one_variational_mask_for_the_whole_sequence():
    X, y = _data(False)
    lengths = np.full(5, 40, dtype=np.intp)
    net = Network("gru", 2, (6, 5), 2, input_dropout=0.3, random_state=0)
    loss_fn = _loss_fn(net, y, lengths)
    v0, g0, _ = full_bptt(net, X, lengths, loss_fn, training=True,
                          rng=np.random.RandomState(4))
    v1, g1, _ = full_bptt(net, X, lengths, loss_fn, checkpoint_every=16, training=True,
                          rng=np.random.RandomState(4))
    assert v1 == v0
    for k in g0:
        np.testing.assert_array_equal(g1[k], g0[k], err_msg=k)


def test_bad_checkpoint_and_network_arguments():
    X, y = _data(False)
    lengths = np.full(5, 40, dtype=np.intp)
    net = Network("lstm", 2, 4, 2, random_state=0)
    for bad in (0, -16, 2.5):
        with pytest.raises(ValueError, match="checkpoint_every must be a positive"):
            full_bptt(net, X, lengths, _loss_fn(net, y, lengths), checkpoint_every=bad)
    with pytest.raises(ValueError, match="output_size must be a positive integer"):
        Network("lstm", 2, 4, 0)
    with pytest.raises(ValueError, match="initial_states must be a list of 1 states"):
        net.forward(X, initial_states=[None, None])
    with pytest.raises(ValueError, match=r"\(c\) has shape"):
        net.forward(X, initial_states=[(np.zeros((5, 4)), np.zeros((5, 3)))])
    with pytest.raises(ValueError, match="must be a tuple of 2 arrays"):
        net.forward(X, initial_states=[(np.zeros((5, 4)),)])


@pytest.mark.parametrize("checkpoint_every", [None, 16])
def test_checkpointing_checks_its_inputs_as_the_plain_path_does(checkpoint_every):
    # the pieces of a checkpointed pass run the layers unchecked: the same checks
    # must come first (bad lengths once trained silently on zero outputs)
    X, y = _data(False)
    lengths = np.full(5, 40, dtype=np.intp)
    net = Network("lstm", 2, 4, 2, random_state=0)
    fn = _loss_fn(net, y, lengths)
    kw = dict(checkpoint_every=checkpoint_every)
    with pytest.raises(ValueError, match=r"lengths\[0\] = 41 is outside \[1, 40\]"):
        full_bptt(net, X, np.array([41, 40, 40, 40, 0]), fn, **kw)
    with pytest.raises(ValueError, match=r"lengths\[4\] = 0 is outside"):
        full_bptt(net, X, np.array([40, 40, 40, 40, 0]), fn, **kw)
    with pytest.raises(ValueError, match="X contains NaN"):
        full_bptt(net, np.where(X > 2, np.nan, X), lengths, fn, **kw)
    with pytest.raises(ValueError, match=r"initial_state \(h\) has shape \(5, 9\)"):
        full_bptt(net, X, lengths, fn, initial_states=[(np.zeros((5, 9)),) * 2], **kw)
    with pytest.raises(ValueError, match=r"initial_state \(c\) contains NaN"):
        full_bptt(net, X, lengths, fn,
                  initial_states=[(np.zeros((5, 4)), np.full((5, 4), np.nan))], **kw)
    with pytest.raises(ValueError, match="initial_states must be a list of 1 states"):
        full_bptt(net, X, lengths, fn, initial_states=np.zeros((5, 4)), **kw)
    # None means every sequence is T long, as in the plain path
    v_none, g_none, _ = full_bptt(net, X, None, fn, **kw)
    v_full, g_full, _ = full_bptt(net, X, lengths, fn, **kw)
    assert v_none == v_full
    assert g_none.keys() == g_full.keys()
    for name in g_full:
        np.testing.assert_array_equal(g_none[name], g_full[name])


@pytest.mark.parametrize("bad", [-1.0, 0, np.nan, np.inf, True, "0.1"])
def test_clip_step_is_checked_at_every_entry_point(bad):
    # -1, 0, nan and inf switched clipping off silently, True clipped at 1.0: only
    # RecurrentLayer.backward refused them
    X, y = _data(False, T=8)
    lengths = np.full(5, 8, dtype=np.intp)
    net = Network("rnn", 2, 3, 2, random_state=0)
    msg = f"^clip_step must be a positive finite number or None, got {bad!r}$"
    for kw in ({}, {"checkpoint_every": 4}):
        with pytest.raises(ValueError, match=msg):
            full_bptt(net, X, lengths, _loss_fn(net, y, lengths), clip_step=bad, **kw)
    out, _, cache = net.forward(X, lengths)
    with pytest.raises(ValueError, match=msg):
        net.backward(cache, np.ones_like(out), clip_step=bad)
    with pytest.raises(ValueError, match=msg):
        next(truncated_bptt(net, X, lambda *a: None, 2, 4, clip_step=bad))
    with pytest.raises(ValueError, match=msg):
        net.stack.layers[0].backward(net.stack.layers[0].forward(X)[2], np.ones((5, 8, 3)),
                                     clip_step=bad)


@pytest.mark.parametrize("k1, k2, msg", [
    (2.5, 3, "k1 must be a positive integer, got 2.5"),
    (True, 3, "k1 must be a positive integer, got True"),
    (0, 3, "k1 must be a positive integer, got 0"),
    (2, 3.0, "k2 must be a positive integer, got 3.0"),
    (2, False, "k2 must be a positive integer, got False"),
])
def test_truncation_lengths_must_be_integers(k1, k2, msg):
    # k1=2.5 gave "slice indices must be integers", k1=True was taken as 1
    X, y = _data(True, T=8)
    net = Network("rnn", 2, 3, 2, many_to_many=True, random_state=0)
    with pytest.raises(ValueError, match=f"^{msg}$"):
        next(truncated_bptt(net, X, _window_loss(net, y), k1, k2))
    with pytest.raises(ValueError, match=f"^{msg}$"):
        list(truncation_windows(8, k1, k2))


def test_truncation_longer_than_the_sequences_reaches_back_to_their_start():
    # k2 > T is kept (documented): a window never reaches before step 0, as k2 = T
    assert list(truncation_windows(6, 2, 100)) == list(truncation_windows(6, 2, 6))
    assert list(truncation_windows(6, 50, 100)) == [(0, 0, 6)]
    X, y = _data(True, T=6)
    net = Network("gru", 2, 3, 2, many_to_many=True, random_state=0)
    for (v1, g1, _), (v2, g2, _) in zip(truncated_bptt(net, X, _window_loss(net, y), 2, 100),
                                        truncated_bptt(net, X, _window_loss(net, y), 2, 6)):
        assert v1 == v2
        for k in g1:
            np.testing.assert_array_equal(g1[k], g2[k])
