"""RTRL: forward-mode gradients equal full BPTT's; the online trainer's updates."""
import numpy as np
import pytest

from tsbptt.engine.bptt import full_bptt
from tsbptt.engine.losses import MSE
from tsbptt.engine.network import Network
from tsbptt.engine.optimizers import build_optimizer
from tsbptt.engine.rtrl import RTRL, RTRLTrainer, check_rtrl_network, rtrl_gradients

CELLS = ["rnn", "gru", "lstm"]
# (B, T, F, H, P outputs)
SHAPES = [(1, 1, 1, 1, 1), (3, 9, 2, 5, 2), (4, 17, 3, 7, 1), (2, 30, 1, 12, 3)]
# float32 gradients against float64 ones, relative to the largest entry
RTOL = {np.float64: 1e-10, np.float32: 2e-4}


def _net(cell, F, H, P, many_to_many, dtype="float64", seed=1):
    net = Network(cell, F, H, P, many_to_many=many_to_many, dtype=dtype, random_state=seed)
    rng = np.random.default_rng(seed)
    for p in net.params.values():  # non-zero biases, b_hn and less regular weights
        p += rng.normal(0, 0.3, p.shape).astype(p.dtype)
    return net


def _data(B, T, F, P, many_to_many, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((B, T, F))
    Y = rng.standard_normal((B, T, P) if many_to_many else (B, P))
    lengths = np.maximum(1, T - rng.integers(0, T, B) * (B > 1)).astype(np.intp)
    lengths[0] = T
    return X, Y, lengths


def _losses(Y, lengths, steps=None):
    """The same squared-error loss as a whole-output function (for full BPTT) and
    per step (for RTRL); ``steps``: where a many-to-many loss applies (None: all)."""
    T = Y.shape[1] if Y.ndim == 3 else None
    steps = np.ones(T, bool) if steps is None and T else steps

    def whole(out):
        if out.ndim == 3:
            keep = ((np.arange(T)[None, :] < lengths[:, None]) & steps[None, :])[..., None]
            r = (out - Y) * keep
        else:
            r = out - Y
        return 0.5 * float(np.sum(r * r)), r

    def per_step(out_t, t=None):
        if t is None:
            return whole(out_t)
        if not steps[t]:
            return None
        r = (out_t - Y[:, t]) * (t < lengths)[:, None]
        return 0.5 * float(np.sum(r * r)), r
    return whole, per_step


def _assert_grads_close(g, g_ref, rtol):
    assert sorted(g) == sorted(g_ref)
    for k in g_ref:
        assert g[k].shape == g_ref[k].shape and g[k].dtype == g_ref[k].dtype, k
        scale = max(np.max(np.abs(g_ref[k])), 1e-300)
        np.testing.assert_allclose(g[k], g_ref[k], rtol=rtol, atol=rtol * scale, err_msg=k)


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("many_to_many", [True, False], ids=["every_step", "last_step"])
def test_rtrl_equals_full_bptt_float64(cell, shape, many_to_many):
    B, T, F, H, P = shape
    net = _net(cell, F, H, P, many_to_many)
    X, Y, lengths = _data(B, T, F, P, many_to_many)
    whole, per_step = _losses(Y, lengths)
    v_ref, g_ref, _ = full_bptt(net, X, lengths, whole)
    v, g, state = rtrl_gradients(net, X, per_step, lengths=lengths)
    assert v == pytest.approx(v_ref, rel=1e-12)
    _assert_grads_close(g, g_ref, 1e-10)
    # the final state is the network's
    _, states, _ = net.forward(X, lengths)
    for a, b in zip(state, states[0]):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("cell", CELLS)
def test_rtrl_many_to_many_loss_at_some_steps_only(cell):
    B, T, F, H, P = 3, 12, 2, 6, 2
    net = _net(cell, F, H, P, True)
    X, Y, lengths = _data(B, T, F, P, True, seed=4)
    for steps in (np.arange(T) == T - 1, np.arange(T) % 5 == 2):
        whole, per_step = _losses(Y, lengths, steps)
        _, g_ref, _ = full_bptt(net, X, lengths, whole)
        _, g, _ = rtrl_gradients(net, X, per_step, lengths=lengths)
        _assert_grads_close(g, g_ref, 1e-10)


@pytest.mark.parametrize("cell", CELLS)
def test_rtrl_from_a_given_initial_state(cell):
    B, T, F, H, P = 2, 8, 2, 4, 1
    net = _net(cell, F, H, P, True)
    X, Y, lengths = _data(B, T, F, P, True, seed=2)
    rng = np.random.default_rng(5)
    state0 = tuple(rng.uniform(-0.5, 0.5, (B, H)) for _ in net.stack.layers[0].cell.state_names)
    whole, per_step = _losses(Y, lengths)
    _, g_ref, _ = full_bptt(net, X, lengths, whole, initial_states=[state0])
    _, g, _ = rtrl_gradients(net, X, per_step, lengths=lengths, initial_state=state0)
    _assert_grads_close(g, g_ref, 1e-10)


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("many_to_many", [True, False], ids=["every_step", "last_step"])
def test_rtrl_float32_matches_float64_to_its_tolerance(cell, many_to_many):
    B, T, F, H, P = 3, 15, 2, 6, 2
    net64 = _net(cell, F, H, P, many_to_many)
    net32 = _net(cell, F, H, P, many_to_many, dtype="float32")
    for k, p in net32.params.items():
        p[...] = net64.params[k]
    X, Y, lengths = _data(B, T, F, P, many_to_many, seed=3)
    _, g_ref, _ = rtrl_gradients(net64, X, _losses(Y, lengths)[1], lengths=lengths)
    Y32 = Y.astype(np.float32)
    _, g32, _ = rtrl_gradients(net32, X.astype(np.float32), _losses(Y32, lengths)[1],
                               lengths=lengths)
    for k in g_ref:
        assert g32[k].dtype == np.float32, k
    _assert_grads_close({k: v.astype(np.float64) for k, v in g32.items()}, g_ref,
                        RTOL[np.float32])


def test_rtrl_gradient_against_finite_differences():
    """Independent of BPTT: central differences of the loss, GRU (b_hn included)."""
    B, T, F, H, P = 2, 6, 2, 3, 1
    net = _net("gru", F, H, P, True)
    X, Y, lengths = _data(B, T, F, P, True, seed=7)
    per_step = _losses(Y, lengths)[1]
    _, g, _ = rtrl_gradients(net, X, per_step, lengths=lengths)
    eps = 1e-6
    for name, idx in [("rnn.0.W", (0, 1)), ("rnn.0.W", (F + 1, 7)), ("rnn.0.W", (F + H, 8)),
                      ("rnn.0.b_hn", (2,)), ("head.W", (1, 0)), ("head.b", (0,))]:
        p = net.params[name]
        old = p[idx]
        vals = []
        for delta in (eps, -eps):
            p[idx] = old + delta
            vals.append(rtrl_gradients(net, X, per_step, lengths=lengths)[0])
        p[idx] = old
        assert g[name][idx] == pytest.approx((vals[0] - vals[1]) / (2 * eps), rel=1e-6,
                                             abs=1e-9), (name, idx)


def test_a_sequence_that_has_ended_keeps_its_state_and_sensitivities():
    net = _net("lstm", 1, 3, 1, True)
    tracker = RTRL(net, batch=2)
    rng = np.random.default_rng(0)
    tracker.step(rng.standard_normal((2, 1)))
    h, c, S, S_c = (a.copy() for a in (tracker.h, tracker.c, tracker.S, tracker.S_c))
    tracker.step(rng.standard_normal((2, 1)), valid=np.array([True, False]))
    for now, before in [(tracker.h, h), (tracker.c, c), (tracker.S, S), (tracker.S_c, S_c)]:
        np.testing.assert_array_equal(now[1], before[1])
        assert not np.array_equal(now[0], before[0])


@pytest.mark.parametrize("kwargs, match", [
    (dict(num_layers=2), "RTRL supports one recurrent layer, the network has 2"),
    (dict(bidirectional=True), "cannot train a bidirectional layer"),
    (dict(dropout=0.2), r"without dropout, got dropout=0.2, input_dropout=0.0"),
    (dict(input_dropout=0.1), r"without dropout, got dropout=0.0, input_dropout=0.1"),
])
def test_unsupported_networks_are_refused(kwargs, match):
    net = Network("gru", 2, 4, 1, random_state=0, **kwargs)
    with pytest.raises(ValueError, match=match):
        check_rtrl_network(net)
    with pytest.raises(ValueError, match=match):
        rtrl_gradients(net, np.zeros((1, 3, 2)), lambda out: (0.0, out))


def test_bad_input_is_refused_before_any_step():
    net = Network("gru", 2, 3, 1, many_to_many=True, random_state=0)
    with pytest.raises(ValueError, match="X has 3 features, but the layer expects 2"):
        rtrl_gradients(net, np.zeros((1, 4, 3)), lambda out, t: None)
    with pytest.raises(ValueError, match=r"lengths\[0\] = 5 is outside \[1, 4\]"):
        rtrl_gradients(net, np.zeros((1, 4, 2)), lambda out, t: None, lengths=[5])
    with pytest.raises(TypeError, match="X has dtype float32, but the layer computes in "
                                        "float64"):
        rtrl_gradients(net, np.zeros((1, 4, 2), np.float32), lambda out, t: None)


def test_sensitivities_too_large_for_memory_are_refused_before_allocating():
    net = Network("rnn", 1, 4, 1, random_state=0)
    with pytest.raises(ValueError, match=r"RTRL with batch=10000000000, hidden_size=4 "
                                         r"needs .* GiB for its sensitivities, more"):
        RTRL(net, batch=10**10)


@pytest.mark.parametrize("cell", CELLS)
def test_online_trainer_first_update_is_sgd_on_the_exact_gradient(cell):
    F, H, P, lr = 2, 4, 1, 0.05
    net, ref = _net(cell, F, H, P, True), _net(cell, F, H, P, True)
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((1, 1, F)), rng.standard_normal((1, 1, P))
    trainer = RTRLTrainer(net, build_optimizer("sgd", net.params, lr, momentum=0.0), MSE())
    out, value = trainer.learn(X[:, 0], Y[:, 0])
    mse = MSE()

    def loss_fn(out):
        v, d = mse(out[:, 0], Y[:, 0])
        return v, d[:, None]
    v_ref, g_ref, _ = full_bptt(ref, X, np.ones(1, np.intp), loss_fn)
    assert value == pytest.approx(v_ref, rel=1e-12)
    np.testing.assert_allclose(out, ref.forward(X)[0][:, 0], rtol=1e-12)
    for k, p in ref.params.items():
        np.testing.assert_allclose(net.params[k], p - lr * g_ref[k], rtol=1e-12,
                                   atol=1e-15, err_msg=k)


def test_online_trainer_refuses_non_finite_and_leaves_the_weights():
    net = _net("rnn", 1, 3, 1, True)
    before = {k: v.copy() for k, v in net.params.items()}
    trainer = RTRLTrainer(net, build_optimizer("adam", net.params, 0.1), MSE())
    with pytest.raises(FloatingPointError, match="online RTRL step 1 gave a non-finite"):
        trainer.learn(np.zeros((1, 1)), np.full((1, 1), np.inf))
    for k, v in net.params.items():
        np.testing.assert_array_equal(v, before[k], err_msg=k)


def test_online_trainer_undoes_an_update_that_overflows_the_weights():
    # finite gradients, but a step so large that the weights overflow: the weights
    # and the optimizer (step count, momentum) are as before it
    net = _net("rnn", 1, 3, 1, True)
    trainer = RTRLTrainer(net, build_optimizer("sgd", net.params, 0.1, momentum=0.9),
                          MSE())
    trainer.learn(np.ones((1, 1)), np.full((1, 1), 2.0))
    before = {k: v.copy() for k, v in net.params.items()}
    t, moments = trainer.optimizer.snapshot()
    trainer.optimizer.learning_rate = 1e308
    with pytest.raises(FloatingPointError, match="online RTRL step 2 made the weights "
                       "non-finite; the weights and the optimizer are back"):
        trainer.learn(np.ones((1, 1)), np.full((1, 1), 2.0))
    for k, v in net.params.items():
        np.testing.assert_array_equal(v, before[k], err_msg=k)
    assert trainer.optimizer.t == t == 1
    for now, then in zip(trainer.optimizer._state, moments):
        assert now.keys() == then.keys()
        for k in then:
            np.testing.assert_array_equal(now[k], then[k], err_msg=k)


@pytest.mark.parametrize("bad", [0.0, -1.0, np.inf, np.nan, True])
def test_online_trainer_checks_clip_norm_when_it_is_set(bad):
    # checked in clipping's helper, mid-step: every learn() failed after the state
    # had read the observation, the stream drifting one step a call
    net = _net("rnn", 1, 3, 1, True)
    with pytest.raises(ValueError, match="clip_norm must be a number > 0"):
        RTRLTrainer(net, build_optimizer("sgd", net.params, 0.1), MSE(), clip_norm=bad)
    trainer = RTRLTrainer(net, build_optimizer("sgd", net.params, 0.1), MSE())
    with pytest.raises(ValueError, match="clip_norm must be a number > 0"):
        trainer.clip_norm = bad
    assert trainer.clip_norm is None
    trainer.clip_norm = 2
    assert trainer.clip_norm == 2.0
    # one pickled before it was a property held it as a plain attribute
    import pickle
    old = trainer.__dict__.copy()
    old["clip_norm"] = old.pop("_clip_norm")
    copy = RTRLTrainer.__new__(RTRLTrainer)
    copy.__setstate__(old)
    assert copy.clip_norm == 2.0 and pickle.loads(pickle.dumps(trainer)).clip_norm == 2.0


def test_online_trainer_needs_a_many_to_many_network():
    net = Network("rnn", 1, 3, 1, random_state=0)
    with pytest.raises(ValueError, match="online RTRL needs a many-to-many network"):
        RTRLTrainer(net, build_optimizer("sgd", net.params, 0.1), MSE())
