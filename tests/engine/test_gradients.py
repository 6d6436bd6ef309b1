"""Gradients of the COMPILED layers against central finite differences (float64).

The loss is L = sum(Y * R) + sum over final-state arrays s_i of sum(s_i * R_i), with
fixed random R; its gradient with respect to X, every initial-state array and every
element of every parameter (bias row and GRU ``b_hn`` included) is compared with a
4th-order central difference. Covered: each cell as a RecurrentLayer (with and
without lengths), a 2-layer RecurrentStack, a Bidirectional layer with lengths and a
bidirectional stack.
"""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from tsbptt.engine import Bidirectional, RecurrentLayer, RecurrentStack

CELLS = ["lstm", "gru", "rnn"]
N_STATES = {"lstm": 2, "gru": 1, "rnn": 1}
EPS = 1e-4


# --------------------------------------------------------------------------
# one calling convention for layers, bidirectional layers and stacks
# --------------------------------------------------------------------------
def randomize_params(model, rng, scale=0.5):
    """Random parameters of a reasonable scale (init's are small; b_hn is 0)."""
    for p in model.params.values():
        p[...] = scale * rng.standard_normal(p.shape)


def random_state0(model, cell, B, rng):
    """A random initial state, nested as the model's ``forward`` takes it."""
    if isinstance(model, RecurrentStack):
        return [random_state0(layer, cell, B, rng) for layer in model.layers]
    if isinstance(model, Bidirectional):
        return (random_state0(model.forward_layer, cell, B, rng),
                random_state0(model.backward_layer, cell, B, rng))
    return tuple(0.5 * rng.standard_normal((B, model.hidden_size))
                 for _ in range(N_STATES[cell]))


def random_like(nested, rng):
    if isinstance(nested, np.ndarray):
        return rng.standard_normal(nested.shape)
    return type(nested)(random_like(x, rng) for x in nested)


def leaves(nested):
    if isinstance(nested, np.ndarray):
        return [nested]
    return [a for item in nested for a in leaves(item)]


def run_forward(model, X, lengths, state0):
    return model.forward(X, lengths, state0, n_threads=1)


def loss(model, X, lengths, state0, R):
    Y, states, _ = run_forward(model, X, lengths, state0)
    total = float(np.sum(Y * R["Y"]))
    for s, r in zip(leaves(states), leaves(R["state"]), strict=True):
        total += float(np.sum(s * r))
    return total


def numerical_grad(f, A, eps=EPS):
    """d f / d A by a 4th-order central difference, A perturbed in place."""
    grad = np.zeros_like(A)
    for idx in np.ndindex(A.shape):
        v = A[idx]

        def at(delta):
            A[idx] = v + delta
            return f()
        grad[idx] = (8 * (at(eps) - at(-eps)) - (at(2 * eps) - at(-2 * eps))) / (12 * eps)
        A[idx] = v
    return grad


def check_gradients(model, cell, B, T, F, lengths, rng):
    randomize_params(model, rng)
    H = model.output_size
    X = rng.standard_normal((B, T, F))
    state0 = random_state0(model, cell, B, rng)
    Y, states, cache = run_forward(model, X, lengths, state0)
    assert Y.shape == (B, T, H)
    R = {"Y": rng.standard_normal(Y.shape), "state": random_like(states, rng)}
    dX, d_state0, grads = model.backward(cache, R["Y"], R["state"], n_threads=1)

    def f():
        return loss(model, X, lengths, state0, R)

    targets = [("X", X, dX)]
    for k, (s, ds) in enumerate(zip(leaves(state0), leaves(d_state0), strict=True)):
        targets.append((f"initial state leaf {k}", s, ds))
    params = model.params
    assert set(grads) == set(params)
    for name, p in params.items():
        targets.append((name, p, grads[name]))
    if cell == "gru":
        assert any(name.endswith("b_hn") for name in params)

    for name, A, analytic in targets:
        assert analytic.shape == A.shape, name
        numeric = numerical_grad(f, A)
        assert np.abs(numeric).max() > 1e-5, f"vacuous check of d{name}"
        assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-9, err_msg=f"{cell} d{name}")

    if lengths is not None:  # padding of X has no effect at all
        for b, L in enumerate(lengths):
            assert_array_equal(dX[b, L:], 0)
            assert_array_equal(Y[b, L:], 0)
    return dX


# --------------------------------------------------------------------------
# the tests
# --------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(3, 4, 2, 2), (1, 1, 1, 1), (2, 3, 1, 3)],
                         ids=lambda s: "B{}T{}F{}H{}".format(*s))
@pytest.mark.parametrize("with_lengths", [False, True], ids=["full", "lengths"])
@pytest.mark.parametrize("cell", CELLS)
def test_layer_gradients(cell, with_lengths, shape, rng):
    B, T, F, H = shape
    layer = RecurrentLayer(cell, F, H, random_state=0)
    lengths = None
    if with_lengths:
        lengths = np.array([T, 1, max(1, T - 1)][:B], dtype=np.intp)
    check_gradients(layer, cell, B, T, F, lengths, rng)


@pytest.mark.parametrize("cell", CELLS)
def test_stack_gradients(cell, rng):
    B, T, F = 3, 4, 2
    stack = RecurrentStack(cell, F, (2, 3), random_state=0)
    assert len(stack.layers) == 2
    check_gradients(stack, cell, B, T, F, np.array([4, 1, 2]), rng)


@pytest.mark.parametrize("cell", CELLS)
def test_bidirectional_gradients(cell, rng):
    B, T, F, H = 3, 4, 2, 2
    layer = Bidirectional(cell, F, H, random_state=0)
    check_gradients(layer, cell, B, T, F, np.array([2, 4, 1]), rng)


@pytest.mark.parametrize("cell", CELLS)
def test_bidirectional_stack_gradients(cell, rng):
    B, T, F, H = 2, 3, 2, 2
    stack = RecurrentStack(cell, F, H, num_layers=2, bidirectional=True, random_state=0)
    assert all(isinstance(layer, Bidirectional) for layer in stack.layers)
    check_gradients(stack, cell, B, T, F, np.array([3, 2]), rng)
