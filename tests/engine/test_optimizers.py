"""Optimizers against hand-written reference updates (float64, 1e-12) and torch.optim."""
import math

import numpy as np
import pytest

from tsbptt.engine.optimizers import (OPTIMIZERS, SGD, Adadelta, Adagrad, Adam, AdamW,
                                      RMSprop, bias_free_mask)

N_STEPS = 5


def _problem(seed=0):
    rng = np.random.default_rng(seed)
    params = [rng.standard_normal((3, 4)), rng.standard_normal(5)]
    grads = [[rng.standard_normal(p.shape) for p in params] for _ in range(N_STEPS)]
    return params, grads


def _reference(kind, p0, grads, lr, **hp):
    """Scalar-by-scalar reference of each update rule, written from the papers."""
    out = []
    for k in range(p0.size):
        p = float(p0.flat[k])
        m = v = u = s = 0.0
        buf = None
        for t, g_all in enumerate(grads, start=1):
            g = float(g_all.flat[k])
            wd, l1 = hp.get("weight_decay", 0.0), hp.get("l1", 0.0)
            if kind != "adamw":
                g += wd * p
            g += l1 * (1.0 if p > 0 else -1.0 if p < 0 else 0.0)
            if kind == "sgd":
                mom = hp.get("momentum", 0.0)
                if mom:
                    buf = g if buf is None else mom * buf + g
                    g = g + mom * buf if hp.get("nesterov") else buf
                p -= lr * g
            elif kind in ("adam", "adamw"):
                if kind == "adamw":
                    p -= lr * wd * p
                b1, b2, eps = 0.9, 0.999, 1e-8
                m = b1 * m + (1 - b1) * g
                v = b2 * v + (1 - b2) * g * g
                p -= lr * (m / (1 - b1 ** t)) / (math.sqrt(v / (1 - b2 ** t)) + eps)
            elif kind == "rmsprop":
                v = 0.99 * v + 0.01 * g * g
                step = g / (math.sqrt(v) + 1e-8)
                mom = hp.get("momentum", 0.0)
                if mom:
                    buf = step if buf is None else mom * buf + step
                    step = buf
                p -= lr * step
            elif kind == "adagrad":
                s += g * g
                p -= lr * g / (math.sqrt(s) + 1e-10)
            elif kind == "adadelta":
                v = 0.9 * v + 0.1 * g * g
                delta = math.sqrt(u + 1e-6) / math.sqrt(v + 1e-6) * g
                u = 0.9 * u + 0.1 * delta * delta
                p -= lr * delta
        out.append(p)
    return np.array(out).reshape(p0.shape)


CASES = [
    ("sgd", dict()),
    ("sgd", dict(momentum=0.9)),
    ("sgd", dict(momentum=0.9, nesterov=True)),
    ("sgd", dict(momentum=0.5, weight_decay=0.1, l1=0.01)),
    ("adam", dict()),
    ("adam", dict(weight_decay=0.1)),
    ("adamw", dict(weight_decay=0.1)),
    ("rmsprop", dict()),
    ("rmsprop", dict(momentum=0.9)),
    ("adagrad", dict(l1=0.05)),
    ("adadelta", dict(weight_decay=0.01)),
]


@pytest.mark.parametrize("kind,hp", CASES, ids=[f"{k}-{h}" for k, h in CASES])
def test_matches_reference_update(kind, hp):
    params, grads = _problem()
    start = [p.copy() for p in params]
    lr = 1.0 if kind == "adadelta" else 0.05
    opt = OPTIMIZERS[kind](params, lr, **hp)
    for g in grads:
        snapshot = [x.copy() for x in g]
        opt.step(g)
        for a, b in zip(g, snapshot):
            np.testing.assert_array_equal(a, b)  # gradients are never modified
    assert opt.t == N_STEPS
    for i, p in enumerate(params):
        expected = _reference(kind, start[i], [g[i] for g in grads], lr, **hp)
        np.testing.assert_allclose(p, expected, rtol=1e-12, atol=1e-14)
        assert not np.allclose(p, start[i])


def test_decay_mask_spares_biases():
    W = np.ones((4, 3))
    b_hn = np.ones(3)
    masks = [bias_free_mask("rnn.0.W", W), bias_free_mask("rnn.0.b_hn", b_hn)]
    assert masks[0][:-1].all() and not masks[0][-1].any()
    assert not masks[1].any()
    # a stack's and a bidirectional layer's packed W too (their bias rows were decayed)
    for name in ("W", "0.W", "forward.W", "backward.W", "1.backward.W"):
        assert not bias_free_mask(name, W)[-1].any() and bias_free_mask(name, W)[:-1].all()
    # the head's W holds no bias row: all of it is decayed; its b is all bias
    assert bias_free_mask("head.W", W).all()
    assert not bias_free_mask("head.b", b_hn).any()
    opt = SGD([W, b_hn], 0.1, weight_decay=1.0, decay_masks=masks)
    opt.step([np.zeros_like(W), np.zeros_like(b_hn)])
    np.testing.assert_allclose(W[:-1], 0.9)   # decayed
    np.testing.assert_array_equal(W[-1], 1.0)  # bias row untouched
    np.testing.assert_array_equal(b_hn, 1.0)


def test_adamw_decay_is_decoupled_and_masked():
    W = np.full((2, 2), 2.0)
    mask = np.array([[True, True], [False, False]])
    opt = AdamW([W], 0.1, weight_decay=0.5, decay_masks=[mask])
    opt.step([np.zeros_like(W)])  # zero gradient: only the decay moves W
    np.testing.assert_allclose(W, [[2.0 - 0.1 * 0.5 * 2.0] * 2, [2.0, 2.0]])


def test_learning_rate_override_and_errors():
    p = [np.zeros(2)]
    opt = SGD(p, 1.0)
    opt.step([np.ones(2)], learning_rate=0.25)
    np.testing.assert_allclose(p[0], -0.25)
    with pytest.raises(ValueError, match="got 2 gradients for 1 parameters"):
        opt.step([np.ones(2), np.ones(2)])
    # a step's learning rate is checked as the constructor's is, before any update
    for bad in (-1.0, float("nan"), float("inf"), True):
        with pytest.raises(ValueError, match=r"learning_rate must be a number >= 0, got "
                                             + repr(bad).replace("(", r"\(")):
            opt.step([np.ones(2)], learning_rate=bad)
    np.testing.assert_allclose(p[0], -0.25)
    assert opt.t == 1
    with pytest.raises(ValueError, match="nesterov=True needs momentum > 0"):
        SGD([np.zeros(1)], 0.1, nesterov=True)


@pytest.mark.parametrize("cls,setting,value,msg", [
    (SGD, "learning_rate", -0.01, "learning_rate must be a number >= 0, got -0.01"),
    (SGD, "learning_rate", float("nan"), "learning_rate must be a number >= 0, got nan"),
    (SGD, "momentum", -0.5, r"momentum must be a number in \[0, 1\), got -0.5"),
    (SGD, "momentum", 1.5, r"momentum must be a number in \[0, 1\), got 1.5"),
    (SGD, "weight_decay", -1e-4, "weight_decay must be a number >= 0, got -0.0001"),
    (SGD, "l1", True, "l1 must be a number >= 0, got True"),
    (Adam, "beta_1", 1.0, r"beta_1 must be a number in \[0, 1\), got 1.0"),
    (Adam, "beta_2", -0.5, r"beta_2 must be a number in \[0, 1\), got -0.5"),
    (Adam, "epsilon", -1, "epsilon must be a number >= 0, got -1"),
    (AdamW, "weight_decay", float("inf"), "weight_decay must be a number >= 0, got inf"),
    (RMSprop, "alpha", 1.5, r"alpha must be a number in \[0, 1\), got 1.5"),
    # v stayed 0: every step was lr * g / eps, 1e6 times the gradient
    (RMSprop, "alpha", 1.0, r"alpha must be a number in \[0, 1\), got 1.0"),
    (RMSprop, "momentum", 1.0, r"momentum must be a number in \[0, 1\), got 1.0"),
    (Adagrad, "epsilon", -1e-10, "epsilon must be a number >= 0, got -1e-10"),
    (Adadelta, "rho", 2, r"rho must be a number in \[0, 1\], got 2"),
    (Adadelta, "epsilon", 0.0, "epsilon must be a number > 0, got 0.0"),
])
def test_settings_out_of_range_are_refused_by_name(cls, setting, value, msg):
    # accepted before: beta_1=1 gave NaN at the first step (and a stop message
    # blaming the learning rate), a negative rate climbed the loss as "converged"
    p = [np.zeros(2)]
    kw = {"learning_rate": 0.1}
    kw[setting] = value
    with pytest.raises(ValueError, match=f"^{msg}$"):
        cls(p, **kw)
    np.testing.assert_array_equal(p[0], 0.0)


def test_adadelta_rho_of_1_is_plain_sgd():
    # rho = 1 stays allowed: u and v stay 0, sqrt(eps) / sqrt(eps) = 1, the step lr * g
    p = [np.array([1.0, -2.0, 0.5])]
    opt = Adadelta(p, 0.1, rho=1.0)
    want = p[0].copy()
    for g in (np.array([0.5, -1.0, 2.0]), np.array([3.0, 0.25, -4.0])):
        opt.step([g])
        want -= 0.1 * g
        np.testing.assert_array_equal(p[0], want)


@pytest.mark.parametrize("bad", ["no", 0, 1, None])
def test_nesterov_must_be_a_bool(bad):
    # "no" was truthy: Nesterov on
    with pytest.raises(ValueError, match=f"^nesterov must be True or False, got {bad!r}$"):
        SGD([np.zeros(2)], 0.1, momentum=0.5, nesterov=bad)


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_step_checks_every_gradient_shape_before_any_update(name):
    # a (4,) gradient broadcast over a (3, 4) parameter silently; a wrong last one
    # raised NumPy's error after t and the first parameters had been updated
    p = [np.ones((3, 4)), np.ones(4)]
    opt = OPTIMIZERS[name](p, 0.1)
    for grads, msg in (([np.ones(4), np.ones(4)],
                        r"^grads\[0\] has shape \(4,\), expected params\[0\]'s shape "
                        r"\(3, 4\)$"),
                       ([np.ones((3, 4)), np.ones(5)],
                        r"^grads\[1\] has shape \(5,\), expected params\[1\]'s shape "
                        r"\(4,\)$")):
        snap = opt.snapshot()
        with pytest.raises(ValueError, match=msg):
            opt.step(grads)
        assert opt.t == 0
        for a in p:
            np.testing.assert_array_equal(a, 1.0)
        for before, after in zip(snap[1], opt.snapshot()[1]):
            for k in before:
                np.testing.assert_array_equal(after[k], before[k])


@pytest.mark.parametrize("kind", sorted(OPTIMIZERS))
def test_matches_torch_optim(kind):
    torch = pytest.importorskip("torch")
    params, grads = _problem(1)
    t_params = [torch.tensor(p.copy(), requires_grad=True) for p in params]
    lr, hp, t_hp = 0.05, {}, {}
    if kind == "sgd":
        hp = t_hp = dict(momentum=0.9, nesterov=True, weight_decay=0.01)
        cls = torch.optim.SGD
    elif kind == "adam":
        hp = t_hp = dict(weight_decay=0.01)
        cls = torch.optim.Adam
    elif kind == "adamw":
        hp = t_hp = dict(weight_decay=0.01)
        cls = torch.optim.AdamW
    elif kind == "rmsprop":
        hp = t_hp = dict(momentum=0.5)
        cls = torch.optim.RMSprop
    elif kind == "adagrad":
        cls = torch.optim.Adagrad
    else:
        lr, cls = 1.0, torch.optim.Adadelta
    ours = OPTIMIZERS[kind](params, lr, **hp)
    theirs = cls(t_params, lr=lr, **t_hp)
    for g in grads:
        ours.step(g)
        for tp, gi in zip(t_params, g):
            tp.grad = torch.tensor(gi)
        theirs.step()
    for p, tp in zip(params, t_params):
        np.testing.assert_allclose(p, tp.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_all_classes_registered():
    assert set(OPTIMIZERS.values()) == {SGD, Adam, AdamW, RMSprop, Adagrad, Adadelta}


def test_build_optimizer_spares_biases_unless_asked():
    from tsbptt.engine.network import Network
    from tsbptt.engine.optimizers import build_optimizer

    net = Network("lstm", 2, 3, 1, random_state=0)
    params = net.params
    before = {k: v.copy() for k, v in params.items()}
    opt = build_optimizer("sgd", params, 0.1, weight_decay=1.0)
    opt.step([np.zeros_like(v) for v in params.values()])
    W = params["rnn.0.W"]
    np.testing.assert_allclose(W[:-1], 0.9 * before["rnn.0.W"][:-1])
    np.testing.assert_array_equal(W[-1], before["rnn.0.W"][-1])       # the bias row
    np.testing.assert_allclose(params["head.W"], 0.9 * before["head.W"])
    opt = build_optimizer("sgd", params, 0.1, weight_decay=1.0, decay_biases=True)
    opt.step([np.zeros_like(v) for v in params.values()])
    np.testing.assert_allclose(params["rnn.0.W"][-1], 0.9 * before["rnn.0.W"][-1])
    with pytest.raises(ValueError, match="optimizer must be one of"):
        build_optimizer("lbfgs", params, 0.1)


def test_rebind_moves_the_updates_to_new_arrays_and_keeps_the_state():
    p = [np.ones(3), np.ones((2, 2))]
    opt, twin = Adam(p, 0.1), Adam([a.copy() for a in p], 0.1)
    grads = [np.full(3, 0.5), np.full((2, 2), -1.0)]
    opt.step(grads)
    twin.step(grads)
    live = [a.copy() for a in p]
    opt.rebind(live)  # the moments carry on: two steps, as the twin's
    opt.step(grads)
    twin.step(grads)
    for a, b in zip(live, twin.params):
        np.testing.assert_array_equal(a, b)
    assert opt.params[0] is live[0] and not np.array_equal(p[0], live[0])
    with pytest.raises(ValueError, match=r"rebind needs arrays of the shapes \[\(3,\), "
                                         r"\(2, 2\)\], got \[\(3,\)\]"):
        opt.rebind(live[:1])


@pytest.mark.parametrize("name", ["sgd", "adam", "rmsprop", "adagrad", "adadelta"])
def test_restore_puts_the_state_back_as_snapshot_copied_it(name):
    # the trainer undoes an epoch cut short: its updates must leave no trace in the
    # moments, the lazily made momentum buffer or the step count
    from tsbptt.engine.optimizers import build_optimizer
    rng = np.random.default_rng(0)
    grads = [rng.standard_normal((3, 2)) for _ in range(3)]

    def run(undo):
        p = {"W": np.ones((3, 2))}
        opt = build_optimizer(name, p, 0.1, **({"momentum": 0.9} if name == "sgd" else {}))
        snap = opt.snapshot()
        if undo:
            opt.step([grads[0]])
            opt.step([grads[1]])
            opt.restore(snap)
            p["W"][...] = 1.0
        opt.step([grads[2]])
        return p["W"], opt.t

    (undone, t_undone), (fresh, t_fresh) = run(True), run(False)
    np.testing.assert_array_equal(undone, fresh)
    assert t_undone == t_fresh == 1


def test_a_gradient_that_is_no_array_of_numbers_changes_nothing():
    # np.shape passed a list or text of the right shape; the update then failed
    # after the parameters before it had moved and t had advanced
    from tsbptt.engine.optimizers import Adam

    p = [np.zeros((3, 4)), np.zeros(4)]
    opt = Adam(p, 0.1)
    with pytest.raises(TypeError, match=r"grads\[1\] must hold numbers, got dtype <U1"):
        opt.step([np.ones((3, 4)), ["a"] * 4])
    assert opt.t == 0 and not p[0].any()
    opt.step([np.ones((3, 4)), [1.0] * 4])  # a list of numbers is taken as an array
    assert opt.t == 1 and p[1].all()
