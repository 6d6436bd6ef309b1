"""The Python layer API: tsbptt.engine.RecurrentLayer, Bidirectional, RecurrentStack.

(a) Bidirectional equals its construction from RecurrentLayer and the reference.
(b) RecurrentStack equals chaining its layers by hand.
(c) Initialisation: seeding, orthogonal recurrent blocks, Glorot input blocks, biases.
(d) Determinism: repeated calls and any thread count give bitwise identical results.
(e) Bad input raises the right exception with a useful message; unusual but valid
    input (non-contiguous, Fortran-order, read-only) is accepted and never modified.
"""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from tsbptt._kernels import reference as ref
from tsbptt.engine import Bidirectional, RecurrentLayer, RecurrentStack
from tsbptt.engine import _cells

CELLS = ["lstm", "gru", "rnn"]
N_GATES = {"lstm": 4, "gru": 3, "rnn": 1}
N_STATES = {"lstm": 2, "gru": 1, "rnn": 1}


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------
def randomize(model, rng, scale=0.5):
    for p in model.params.values():
        p[...] = scale * rng.standard_normal(p.shape)
    return model


def rand_state(cell, B, H, dtype, rng, scale=0.5):
    return tuple((scale * rng.standard_normal((B, H))).astype(dtype)
                 for _ in range(N_STATES[cell]))


def ref_forward_backward(cell, params, X, state0, dY, d_state):
    """Reference (Y, final state, dX, d initial state, grads) for one layer."""
    W = params["W"]
    if cell == "lstm":
        f = ref.lstm_forward(X, W, *state0)
        g = ref.lstm_backward(X, W, f, dY, *d_state)
        return (f["Y"], (f["h_T"], f["c_T"]), g["dX"], (g["dh0"], g["dc0"]),
                {"W": g["dW"]})
    if cell == "gru":
        f = ref.gru_forward(X, W, params["b_hn"], *state0)
        g = ref.gru_backward(X, W, params["b_hn"], f, dY, *d_state)
        return (f["Y"], (f["h_T"],), g["dX"], (g["dh0"],),
                {"W": g["dW"], "b_hn": g["db_hn"]})
    f = ref.rnn_forward(X, W, *state0)
    g = ref.rnn_backward(X, W, f, dY, *d_state)
    return f["Y"], (f["h_T"],), g["dX"], (g["dh0"],), {"W": g["dW"]}


def flat(nested):
    """Every array of a nested tuple/list/dict structure, in a fixed order."""
    if isinstance(nested, np.ndarray):
        return [nested]
    if isinstance(nested, dict):
        return [a for k in sorted(nested) for a in flat(nested[k])]
    return [a for item in nested for a in flat(item)]


def assert_all_equal(a, b):
    fa, fb = flat(a), flat(b)
    assert len(fa) == len(fb)
    for x, y in zip(fa, fb):
        assert x.dtype == y.dtype and x.shape == y.shape
        assert np.array_equal(x, y)


# --------------------------------------------------------------------------
# (a) Bidirectional by construction
# --------------------------------------------------------------------------
@pytest.mark.parametrize("cell", CELLS)
def test_bidirectional_by_construction(cell, dtype, tol, rng):
    B, T, F, H = 5, 6, 3, 4
    bi = randomize(Bidirectional(cell, F, H, dtype=dtype, random_state=1), rng)
    X = rng.standard_normal((B, T, F)).astype(dtype)
    lengths = np.array([6, 1, 3, 5, 2])
    s_f, s_b = rand_state(cell, B, H, dtype, rng), rand_state(cell, B, H, dtype, rng)
    dY = rng.standard_normal((B, T, 2 * H)).astype(dtype)
    ds_f, ds_b = rand_state(cell, B, H, dtype, rng), rand_state(cell, B, H, dtype, rng)

    Y, (fin_f, fin_b), cache = bi.forward(X, lengths, (s_f, s_b))
    dX, (d0_f, d0_b), grads = bi.backward(cache, dY, (ds_f, ds_b))
    assert Y.shape == (B, T, 2 * H) and Y.dtype == dtype
    assert set(grads) == set(bi.params) == (
        {f"forward.{k}" for k in bi.forward_layer.params}
        | {f"backward.{k}" for k in bi.backward_layer.params})

    # forward half: exactly the forward layer on X
    Yf, sf, cf = bi.forward_layer.forward(X, lengths, s_f)
    dXf, d0f, gf = bi.forward_layer.backward(cf, dY[:, :, :H], ds_f)
    assert_array_equal(Y[:, :, :H], Yf)
    assert_all_equal(fin_f, sf)
    assert_all_equal(d0_f, d0f)
    for k in gf:
        assert_array_equal(grads[f"forward.{k}"], gf[k])

    # backward half: the backward layer's params on each sequence reversed within
    # its length (reference), re-reversed
    p_b = bi.backward_layer.params
    dX_b = np.zeros_like(X)
    g_b = {k: np.zeros_like(v) for k, v in p_b.items()}
    for b, L in enumerate(lengths):
        Xb = X[b:b + 1, :L][:, ::-1]
        s0 = tuple(s[b:b + 1] for s in s_b)
        dYb = dY[b:b + 1, :L, H:][:, ::-1]
        ds = tuple(s[b:b + 1] for s in ds_b)
        rY, rs, rdX, rd0, rg = ref_forward_backward(cell, p_b, Xb, s0, dYb, ds)
        assert_allclose(Y[b, :L, H:], rY[0, ::-1], err_msg=f"Y backward, b={b}", **tol)
        for got, want in zip(fin_b, rs):
            assert_allclose(got[b], want[0], err_msg="backward final state", **tol)
        for got, want in zip(d0_b, rd0):
            assert_allclose(got[b], want[0], err_msg="backward d initial state", **tol)
        dX_b[b, :L] = rdX[0, ::-1]
        for k in g_b:
            g_b[k] += rg[k]
        # padding steps are 0 in both halves, and get no gradient
        assert_array_equal(Y[b, L:], 0)
        assert_array_equal(dX[b, L:], 0)
    for k in g_b:
        assert_allclose(grads[f"backward.{k}"], g_b[k], err_msg=k, **tol)
    assert_allclose(dX, dXf + dX_b, **tol)


@pytest.mark.parametrize("cell", CELLS)
def test_bidirectional_ignores_padding_values(cell, rng):
    B, T, F, H = 3, 5, 2, 3
    bi = randomize(Bidirectional(cell, F, H, random_state=0), rng)
    X = rng.standard_normal((B, T, F))
    lengths = np.array([2, 5, 1])
    X2 = X.copy()
    for b, L in enumerate(lengths):
        X2[b, L:] = 100.0
    Y1, s1, _ = bi.forward(X, lengths)
    Y2, s2, _ = bi.forward(X2, lengths)
    assert_array_equal(Y1, Y2)
    assert_all_equal(s1, s2)
    # but a valid step does matter to the backward half's first output
    X3 = X.copy()
    X3[0, 1] += 1.0
    Y3, _, _ = bi.forward(X3, lengths)
    assert not np.array_equal(Y3[0, 0, H:], Y1[0, 0, H:])
    assert_array_equal(Y3[0, 0, :H], Y1[0, 0, :H])


# --------------------------------------------------------------------------
# (b) RecurrentStack equals chaining by hand
# --------------------------------------------------------------------------
@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
@pytest.mark.parametrize("cell", CELLS)
def test_stack_equals_chained_layers(cell, bidirectional, dtype, rng):
    B, T, F = 4, 5, 3
    stack = randomize(RecurrentStack(cell, F, (3, 2), bidirectional=bidirectional,
                                     dtype=dtype, random_state=0), rng)
    assert len(stack.layers) == 2
    k = 2 if bidirectional else 1
    assert stack.layers[1].input_size == k * 3
    assert stack.output_size == k * 2
    X = rng.standard_normal((B, T, F)).astype(dtype)
    lengths = np.array([5, 1, 4, 2])

    def state(H):
        s = rand_state(cell, B, H, dtype, rng)
        return (s, rand_state(cell, B, H, dtype, rng)) if bidirectional else s

    s0 = [state(3), state(2)]
    ds = [state(3), state(2)]
    dY = rng.standard_normal((B, T, k * 2)).astype(dtype)

    Y, states, caches = stack.forward(X, lengths, s0)
    dX, d0, grads = stack.backward(caches, dY, ds)

    l0, l1 = stack.layers
    Y1, st1, c1 = l0.forward(X, lengths, s0[0])
    Y2, st2, c2 = l1.forward(Y1, lengths, s0[1])
    dY1, d01, g1 = l1.backward(c2, dY, ds[1])
    dX0, d00, g0 = l0.backward(c1, dY1, ds[0])

    assert_array_equal(Y, Y2)
    assert_all_equal(states, [st1, st2])
    assert_array_equal(dX, dX0)
    assert_all_equal(d0, [d00, d01])
    expected = {f"0.{n}": v for n, v in g0.items()}
    expected.update({f"1.{n}": v for n, v in g1.items()})
    assert set(grads) == set(expected) == set(stack.params)
    for n in grads:
        assert_array_equal(grads[n], expected[n], err_msg=n)
    # the stack's params are the layers' arrays, not copies
    for i, layer in enumerate(stack.layers):
        for n, v in layer.params.items():
            assert stack.params[f"{i}.{n}"] is v


def test_stack_sizes():
    s = RecurrentStack("gru", 2, 4, num_layers=3)
    assert [layer.hidden_size for layer in s.layers] == [4, 4, 4]
    assert [layer.input_size for layer in s.layers] == [2, 4, 4]
    s = RecurrentStack("lstm", 2, [5, 3], num_layers=7, bidirectional=True)
    assert [layer.input_size for layer in s.layers] == [2, 10]
    assert s.output_size == 6


# --------------------------------------------------------------------------
# (c) initialisation
# --------------------------------------------------------------------------
@pytest.mark.parametrize("cell", CELLS)
def test_init_seeding(cell):
    for kind in (lambda **kw: RecurrentLayer(cell, 3, 5, **kw),
                 lambda **kw: Bidirectional(cell, 3, 5, **kw),
                 lambda **kw: RecurrentStack(cell, 3, (5, 4), bidirectional=True, **kw)):
        a, b, c = kind(random_state=7), kind(random_state=7), kind(random_state=8)
        assert_all_equal(a.params, b.params)
        d = kind(random_state=np.random.RandomState(7))
        assert_all_equal(a.params, d.params)
        assert not np.array_equal(a.params[sorted(a.params)[0]],
                                  c.params[sorted(c.params)[0]])
    bi = Bidirectional(cell, 3, 5, random_state=0)
    assert not np.array_equal(bi.forward_layer.params["W"], bi.backward_layer.params["W"])
    # None gives fresh random parameters
    assert not np.array_equal(RecurrentLayer(cell, 3, 5).params["W"],
                              RecurrentLayer(cell, 3, 5).params["W"])


@pytest.mark.parametrize("F, H", [(3, 5), (1, 1), (6, 2), (2, 9)])
@pytest.mark.parametrize("cell", CELLS)
def test_init_structure(cell, F, H):
    layer = RecurrentLayer(cell, F, H, random_state=3)
    G = N_GATES[cell]
    W = layer.params["W"]
    assert W.shape == (F + H + 1, G * H) and W.dtype == np.float64
    assert W.flags.c_contiguous
    bound = np.sqrt(6.0 / (F + H))
    W_x, W_h, bias = W[:F], W[F:F + H], W[F + H]
    assert np.all(np.abs(W_x) <= bound)
    assert np.all(W_x != 0)
    for k in range(G):
        Q = W_h[:, k * H:(k + 1) * H]
        assert_allclose(Q.T @ Q, np.eye(H), rtol=0, atol=1e-12)
        assert_allclose(Q @ Q.T, np.eye(H), rtol=0, atol=1e-12)
    if G > 1 and H > 1:
        assert not np.array_equal(W_h[:, :H], W_h[:, H:2 * H])
        assert not np.array_equal(W_x[:, :H], W_x[:, H:2 * H])
    expected_bias = np.zeros(G * H)
    if cell == "lstm":
        expected_bias[H:2 * H] = 1.0
    assert_array_equal(bias, expected_bias)
    if cell == "gru":
        assert set(layer.params) == {"W", "b_hn"}
        assert layer.params["b_hn"].shape == (H,)
        assert_array_equal(layer.params["b_hn"], 0)
    else:
        assert set(layer.params) == {"W"}


def test_init_glorot_fills_its_range():
    layer = RecurrentLayer("lstm", 20, 10, random_state=0)
    bound = np.sqrt(6.0 / 30)
    W_x = layer.params["W"][:20]
    assert np.abs(W_x).max() > 0.95 * bound
    assert abs(W_x.mean()) < 0.1 * bound


@pytest.mark.parametrize("n", [1, 2, 31, 32, 33, 64, 65, 130])
def test_householder_qr_is_lapacks_qr_in_the_kernels_products(n):
    # the initialisation's QR runs in the kernels' products (BLAS's bits vary with
    # its kernel); n crosses the 32-column blocks and their tails
    from tsbptt.engine.init import QR_BLOCK, householder_qr, orthogonal
    assert QR_BLOCK == 32
    A = np.random.default_rng(n).standard_normal((n, n))
    Q, r_diag = householder_qr(A.copy())
    R = np.triu(Q.T @ A)
    assert_allclose(Q.T @ Q, np.eye(n), atol=1e-13)
    assert_allclose(Q @ R, A, atol=1e-12)
    assert_allclose(np.diag(R), r_diag, atol=1e-12)
    q, r = np.linalg.qr(A)  # unique once R's diagonal is made positive
    assert_allclose(Q * np.sign(r_diag), q * np.sign(np.diag(r)), atol=1e-12)
    haar = orthogonal(np.random.RandomState(n), n)
    assert_allclose(haar.T @ haar, np.eye(n), atol=1e-13)
    assert_array_equal(haar, orthogonal(np.random.RandomState(n), n))


@pytest.mark.parametrize("cell", CELLS)
def test_init_float32_is_float64_rounded(cell):
    a = RecurrentStack(cell, 3, (4, 2), bidirectional=True, dtype="float32",
                       random_state=11)
    b = RecurrentStack(cell, 3, (4, 2), bidirectional=True, dtype="float64",
                       random_state=11)
    assert set(a.params) == set(b.params)
    for k in a.params:
        assert a.params[k].dtype == np.float32 and b.params[k].dtype == np.float64
        assert_array_equal(a.params[k], b.params[k].astype(np.float32), err_msg=k)


# --------------------------------------------------------------------------
# (d) determinism
# --------------------------------------------------------------------------
def _run(model, X, lengths, s0, dY, ds, n_threads):
    Y, st, cache = model.forward(X, lengths, s0, n_threads=n_threads)
    dX, d0, g = model.backward(cache, dY, ds, n_threads=n_threads)
    # a second backward on the same cache gives the same (the cache is not consumed)
    dX2, d02, g2 = model.backward(cache, dY, ds, n_threads=n_threads)
    assert_all_equal((dX, d0, g), (dX2, d02, g2))
    return Y, st, dX, d0, g


# F = 1 and 2: the LSTM's dx by dot products (AVX2, AVX-512); F = 3: by the product
@pytest.mark.parametrize("F", [1, 2, 3])
@pytest.mark.parametrize("chunk", [None, 16], ids=["default-chunks", "chunk16"])
@pytest.mark.parametrize("cell", CELLS)
def test_bitwise_deterministic_for_any_thread_count(cell, chunk, F, dtype, rng, monkeypatch,
                                                    threads_for_any_work):
    if chunk is not None:  # 7 chunks of 16 rows whatever the machine
        monkeypatch.setattr(_cells, "chunk_rows", lambda B: chunk)
    B, T, H = 100, 13, 17
    layer = randomize(RecurrentLayer(cell, F, H, dtype=dtype, random_state=0), rng)
    X = rng.standard_normal((B, T, F)).astype(dtype)
    lengths = rng.integers(1, T + 1, size=B)
    lengths[:2] = (T, 1)
    s0 = rand_state(cell, B, H, dtype, rng)
    dY = rng.standard_normal((B, T, H)).astype(dtype)
    ds = rand_state(cell, B, H, dtype, rng)

    first = _run(layer, X, lengths, s0, dY, ds, 1)
    assert_all_equal(first, _run(layer, X, lengths, s0, dY, ds, 1))
    for n in (2, 3, None, 2):
        assert_all_equal(first, _run(layer, X, lengths, s0, dY, ds, n))


def test_bidirectional_stack_deterministic_for_any_thread_count(rng, threads_for_any_work):
    B, T, F = 100, 7, 3
    stack = randomize(RecurrentStack("gru", F, (5, 4), bidirectional=True,
                                     random_state=0), rng)
    X = rng.standard_normal((B, T, F))
    lengths = rng.integers(1, T + 1, size=B)
    dY = rng.standard_normal((B, T, 8))
    first = _run(stack, X, lengths, None, dY, None, 1)
    for n in (2, 3):
        assert_all_equal(first, _run(stack, X, lengths, None, dY, None, n))


# --------------------------------------------------------------------------
# (e) bad input, unusual valid input
# --------------------------------------------------------------------------
def _layer(cell="lstm", dtype="float64"):
    return RecurrentLayer(cell, 3, 4, dtype=dtype, random_state=0)


X0 = np.random.default_rng(0).standard_normal((2, 5, 3))


def _with(value, index):
    X = X0.copy()
    X[index] = value
    return X


BAD_FORWARD = [  # (kwargs of forward, exception, match)
    (dict(X=X0[0]), ValueError, r"X must be a 3D array .* got shape \(5, 3\)"),
    (dict(X=X0[None]), ValueError, r"X must be a 3D array .* got shape \(1, 2, 5, 3\)"),
    (dict(X=np.zeros((2, 5, 5))), ValueError, "X has 5 features, but the layer expects 3"),
    (dict(X=np.zeros((2, 5, 3), dtype=np.int64)), TypeError, "X must be a float32 or float64"),
    (dict(X=np.zeros((2, 5, 3), dtype=complex)), TypeError, "X must be a float32 or float64"),
    (dict(X=np.zeros((2, 5, 3), dtype=object)), TypeError, "X must be a float32 or float64"),
    (dict(X=np.zeros((2, 5, 3), dtype=np.float16)), TypeError,
     "X must be a float32 or float64"),
    (dict(X=X0.astype(np.float32)), TypeError,
     "X has dtype float32, but the layer computes in float64"),
    (dict(X=_with(np.nan, (1, 2, 0))), ValueError, "X contains NaN or infinity"),
    (dict(X=_with(np.inf, (0, 0, 2))), ValueError, "X contains NaN or infinity"),
    (dict(X=_with(-np.inf, (0, 4, 1))), ValueError, "X contains NaN or infinity"),
    # NaN in padding (past lengths[1] = 2) is still refused
    (dict(X=_with(np.nan, (1, 4, 0)), lengths=[5, 2]), ValueError,
     "X contains NaN or infinity"),
    (dict(X=np.zeros((0, 5, 3))), ValueError, "at least one sequence of at least one step"),
    (dict(X=np.zeros((2, 0, 3))), ValueError, "at least one sequence of at least one step"),
    (dict(X=X0, lengths=[5, 5, 5]), ValueError, r"lengths must have shape \(2,\)"),
    (dict(X=X0, lengths=[[5, 5]]), ValueError, r"lengths must have shape \(2,\)"),
    (dict(X=X0, lengths=5), ValueError, r"lengths must have shape \(2,\)"),
    (dict(X=X0, lengths=[5, 0]), ValueError, r"lengths\[1\] = 0 is outside \[1, 5\]"),
    (dict(X=X0, lengths=[-1, 2]), ValueError, r"lengths\[0\] = -1 is outside \[1, 5\]"),
    (dict(X=X0, lengths=[6, 2]), ValueError, r"lengths\[0\] = 6 is outside \[1, 5\]"),
    (dict(X=X0, lengths=[2.5, 2]), TypeError, "lengths must be integers"),
    (dict(X=X0, lengths=[np.nan, 2]), TypeError, "lengths must be integers"),
    (dict(X=X0, lengths=["a", "b"]), TypeError, "lengths must be integers"),
    (dict(X=X0, initial_state=(np.zeros((2, 4)),)), ValueError,
     r"initial_state must be a tuple of 2 arrays \(h, c\)"),
    (dict(X=X0, initial_state=np.zeros((2, 4))), ValueError,
     "initial_state must be a tuple of 2 arrays"),
    (dict(X=X0, initial_state=(np.zeros((2, 4)),) * 3), ValueError,
     "initial_state must be a tuple of 2 arrays"),
    (dict(X=X0, initial_state=(np.zeros((2, 4)), np.zeros((2, 3)))), ValueError,
     r"initial_state \(c\) has shape \(2, 3\), expected \(2, 4\)"),
    (dict(X=X0, initial_state=(np.zeros((3, 4)), np.zeros((2, 4)))), ValueError,
     r"initial_state \(h\) has shape \(3, 4\), expected \(2, 4\)"),
    (dict(X=X0, initial_state=(np.zeros((2, 4), np.float32), np.zeros((2, 4)))),
     TypeError, r"initial_state \(h\) has dtype float32"),
    (dict(X=X0, initial_state=(np.zeros((2, 4)), np.full((2, 4), np.nan))), ValueError,
     r"initial_state \(c\) contains NaN"),
    (dict(X=X0, n_threads=0), ValueError, "n_threads must be None or a non-zero integer"),
    (dict(X=X0, n_threads=1.5), ValueError, "n_threads must be None or a non-zero integer"),
    (dict(X=X0, n_threads=True), ValueError, "n_threads must be None or a non-zero integer"),
]


@pytest.mark.parametrize("kwargs, exc, match", BAD_FORWARD,
                         ids=[f"bad{i}" for i in range(len(BAD_FORWARD))])
def test_layer_forward_rejects(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        _layer().forward(**kwargs)


def test_layer_backward_rejects():
    layer = _layer()
    Y, state, cache = layer.forward(X0, [5, 2])
    good = np.zeros_like(Y)
    cases = [
        (dict(dY=np.zeros((2, 5, 3))), ValueError,
         r"dY has shape \(2, 5, 3\), expected \(2, 5, 4\)"),
        (dict(dY=np.zeros((2, 4, 4))), ValueError, r"dY has shape \(2, 4, 4\)"),
        (dict(dY=np.zeros((2, 5, 4), np.float32)), TypeError, "dY has dtype float32"),
        (dict(dY=np.zeros((2, 5, 4), int)), TypeError, "dY must be a float32 or float64"),
        (dict(dY=np.full((2, 5, 4), np.nan)), ValueError, "dY contains NaN"),
        (dict(dY=good, d_state=(np.zeros((2, 4)),)), ValueError,
         "d_state must be a tuple of 2 arrays"),
        (dict(dY=good, d_state=(np.zeros((2, 4)), np.zeros((2, 5)))), ValueError,
         r"d_state \(c\) has shape \(2, 5\)"),
        (dict(dY=good, n_threads=0), ValueError, "n_threads must be None"),
    ]
    for kwargs, exc, match in cases:
        with pytest.raises(exc, match=match):
            layer.backward(cache, **kwargs)


@pytest.mark.parametrize("kind", [RecurrentLayer, Bidirectional])
def test_constructor_rejects(kind):
    with pytest.raises(ValueError, match=r"cell must be one of \['gru', 'lstm', 'rnn'\]"):
        kind("transformer", 3, 4)
    with pytest.raises(ValueError, match="hidden_size must be a positive integer, got 0"):
        kind("lstm", 3, 0)
    with pytest.raises(ValueError, match="hidden_size must be a positive integer"):
        kind("lstm", 3, 2.0)
    with pytest.raises(ValueError, match="input_size must be a positive integer, got -1"):
        kind("gru", -1, 4)
    with pytest.raises(ValueError, match="dtype must be 'float32' or 'float64', got 'float16'"):
        kind("rnn", 3, 4, dtype="float16")
    with pytest.raises(ValueError, match="dtype must be 'float32' or 'float64'"):
        kind("rnn", 3, 4, dtype=np.int64)


def test_stack_and_bidirectional_reject():
    with pytest.raises(ValueError, match="hidden_size must name at least one layer"):
        RecurrentStack("lstm", 3, ())
    with pytest.raises(ValueError, match="num_layers must be a positive integer, got 0"):
        RecurrentStack("lstm", 3, 4, num_layers=0)
    with pytest.raises(ValueError, match="hidden_size must be a positive integer, got 0"):
        RecurrentStack("lstm", 3, (4, 0))
    stack = RecurrentStack("gru", 3, (4, 2))
    with pytest.raises(ValueError, match="initial_states must hold 2 states, got 1"):
        stack.forward(X0, initial_states=[None])
    with pytest.raises(ValueError, match="X has 5 features, but the layer expects 3"):
        stack.forward(np.zeros((2, 5, 5)))
    with pytest.raises(TypeError, match="X has dtype float32"):
        stack.forward(X0.astype(np.float32))
    Y, _, caches = stack.forward(X0)
    with pytest.raises(ValueError, match=r"dY has shape \(2, 5, 4\), expected \(2, 5, 2\)"):
        stack.backward(caches, np.zeros((2, 5, 4)))

    bi = Bidirectional("lstm", 3, 4)
    with pytest.raises(ValueError, match="must be a pair"):
        bi.forward(X0, initial_state=(None,))
    with pytest.raises(ValueError, match=r"lengths\[1\] = 9 is outside"):
        bi.forward(X0, lengths=[1, 9])
    with pytest.raises(ValueError, match="X contains NaN"):
        bi.forward(_with(np.nan, (1, 4, 2)), lengths=[5, 1])
    Y, _, cache = bi.forward(X0)
    with pytest.raises(ValueError, match=r"dY must have shape \(B, T, 8\)"):
        bi.backward(cache, np.zeros((2, 5, 4)))
    with pytest.raises(ValueError, match=r"dY has shape \(3, 5, 4\)"):
        bi.backward(cache, np.zeros((3, 5, 8)))


def _views_of(X):
    """Non-contiguous / Fortran views with the values of X (B, T, F)."""
    B, T, F = X.shape
    transposed = np.ascontiguousarray(X.transpose(2, 1, 0)).transpose(2, 1, 0)
    wide = np.zeros((B, 2 * T, F), X.dtype)
    wide[:, ::2] = X
    strided = wide[:, ::2]
    padded = np.zeros((B, T, 2 * F), X.dtype)
    padded[:, :, ::2] = X
    views = {"transposed": transposed, "X[:, ::2]": strided, "fortran": np.asfortranarray(X),
             "features strided": padded[:, :, ::2], "negative strides": X[::-1, ::-1][::-1, ::-1]}
    for v in views.values():
        assert_array_equal(v, X)
    assert not views["transposed"].flags.c_contiguous
    assert not views["X[:, ::2]"].flags.c_contiguous
    assert views["fortran"].flags.f_contiguous and not views["fortran"].flags.c_contiguous
    return views


@pytest.mark.parametrize("kind", ["layer", "bidirectional", "stack"])
@pytest.mark.parametrize("cell", CELLS)
def test_non_contiguous_and_read_only_input(cell, kind, dtype, rng):
    B, T, F, H = 3, 4, 3, 2
    if kind == "layer":
        model = RecurrentLayer(cell, F, H, dtype=dtype, random_state=0)
        out = H
    elif kind == "bidirectional":
        model = Bidirectional(cell, F, H, dtype=dtype, random_state=0)
        out = 2 * H
    else:
        model = RecurrentStack(cell, F, (H, 3), dtype=dtype, random_state=0)
        out = 3
    randomize(model, rng)
    X = rng.standard_normal((B, T, F)).astype(dtype)
    lengths = np.array([4, 1, 3])
    dY = rng.standard_normal((B, T, out)).astype(dtype)
    base = _run(model, X, lengths, None, dY, None, 1)

    for name, V in _views_of(X).items():
        got = _run(model, V, lengths, None, dY, None, 1)
        assert_all_equal(base, got)
    # dY non-contiguous too
    got = _run(model, X, lengths, None, np.asfortranarray(dY), None, 1)
    assert_all_equal(base, got)

    # read-only arrays everywhere are accepted, and no input is modified
    Xr, Lr, dYr = X.copy(), lengths.astype(np.intp), dY.copy()
    for a in (Xr, Lr, dYr):
        a.setflags(write=False)
    got = _run(model, Xr, Lr, None, dYr, None, 1)
    assert_all_equal(base, got)
    # nested lists are accepted as well (they are float64, so only there)
    if dtype == np.float64:
        got = _run(model, X.tolist(), lengths.tolist(), None, dY.tolist(), None, 1)
        assert_all_equal(base, got)


@pytest.mark.parametrize("cell", CELLS)
def test_inputs_never_modified(cell, rng):
    B, T, F, H = 3, 4, 2, 3
    models = [RecurrentLayer(cell, F, H, random_state=0),
              Bidirectional(cell, F, H, random_state=0),
              RecurrentStack(cell, F, (H, H), random_state=0)]
    for model in models:
        randomize(model, rng)
        X = rng.standard_normal((B, T, F))
        lengths = np.array([4, 2, 1])
        if isinstance(model, RecurrentLayer):
            s0, ds = rand_state(cell, B, H, X.dtype, rng), rand_state(cell, B, H, X.dtype, rng)
        elif isinstance(model, Bidirectional):
            s0 = (rand_state(cell, B, H, X.dtype, rng), rand_state(cell, B, H, X.dtype, rng))
            ds = (rand_state(cell, B, H, X.dtype, rng), rand_state(cell, B, H, X.dtype, rng))
        else:
            s0 = [rand_state(cell, B, H, X.dtype, rng) for _ in range(2)]
            ds = [rand_state(cell, B, H, X.dtype, rng) for _ in range(2)]
        dY = rng.standard_normal((B, T, model.output_size))
        params = {k: v.copy() for k, v in model.params.items()}
        saved = [a.copy() for a in flat([X, lengths, s0, ds, dY])]
        # read-only params prove the kernels never write to them either
        for v in model.params.values():
            v.setflags(write=False)
        try:
            _run(model, X, lengths, s0, dY, ds, 2)
        finally:
            for v in model.params.values():
                v.setflags(write=True)
        for a, b in zip(flat([X, lengths, s0, ds, dY]), saved):
            assert_array_equal(a, b)
        assert_all_equal(model.params, params)


@pytest.mark.parametrize("cell", CELLS)
def test_lengths_of_any_integer_dtype(cell, rng):
    layer = randomize(RecurrentLayer(cell, 3, 2, random_state=0), rng)
    X = rng.standard_normal((4, 5, 3))
    dY = rng.standard_normal((4, 5, 2))
    lengths = np.array([5, 1, 3, 2])
    base = _run(layer, X, lengths, None, dY, None, 1)
    for L in (lengths.astype(np.int32), lengths.astype(np.uint8), lengths.astype(np.int16),
              lengths.astype(float), lengths.tolist(), tuple(lengths.tolist()),
              np.repeat(lengths, 2)[::2]):
        assert_all_equal(base, _run(layer, X, L, None, dY, None, 1))
    # no lengths is the same as full lengths
    full = np.full(4, 5)
    assert_all_equal(_run(layer, X, None, None, dY, None, 1),
                     _run(layer, X, full, None, dY, None, 1))
    # and different lengths do change the result
    assert not np.array_equal(base[0], _run(layer, X, full, None, dY, None, 1)[0])
