"""The compiled kernels against the NumPy reference (``tsbptt._reference``).

(a) Through :class:`tsbptt.engine.RecurrentLayer`: outputs, final states and every
    gradient of the compiled LSTM, GRU and RNN equal the reference to the per-dtype
    tolerance, over edge shapes (batch, time, hidden or features of 1), batches of
    several chunks, with and without ``lengths``, non-zero initial states and
    final-state gradients.
(b) The raw kernels reject bad arguments with ValueError and never crash.
"""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from tsbptt import _reference as ref
from tsbptt._kernels import _gru, _lstm, _rnn
from tsbptt.engine import RecurrentLayer
from tsbptt.engine import _cells

CELLS = ["lstm", "gru", "rnn"]
N_GATES = {"lstm": 4, "gru": 3, "rnn": 1}
N_STATES = {"lstm": 2, "gru": 1, "rnn": 1}


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------
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


def reference(cell, params, X, state0, lengths, dY, d_state):
    """(Y, states, dX, d_state0, grads) from the NumPy reference."""
    W = params["W"]
    if cell == "lstm":
        f = ref.lstm_forward(X, W, state0[0], state0[1], lengths)
        g = ref.lstm_backward(X, W, f, dY, d_state[0], d_state[1], lengths)
        return (f["Y"], (f["h_T"], f["c_T"]), g["dX"], (g["dh0"], g["dc0"]),
                {"W": g["dW"]})
    if cell == "gru":
        f = ref.gru_forward(X, W, params["b_hn"], state0[0], lengths)
        g = ref.gru_backward(X, W, params["b_hn"], f, dY, d_state[0], lengths)
        return (f["Y"], (f["h_T"],), g["dX"], (g["dh0"],),
                {"W": g["dW"], "b_hn": g["db_hn"]})
    f = ref.rnn_forward(X, W, state0[0], lengths)
    g = ref.rnn_backward(X, W, f, dY, d_state[0], lengths)
    return f["Y"], (f["h_T"],), g["dX"], (g["dh0"],), {"W": g["dW"]}


def compiled(layer, X, state0, lengths, dY, d_state, n_threads=1):
    Y, states, cache = layer.forward(X, lengths, state0, n_threads=n_threads)
    dX, d0, grads = layer.backward(cache, dY, d_state, n_threads=n_threads)
    return Y, states, dX, d0, grads


def check_against_reference(cell, B, T, F, H, dtype, tol, rng, with_lengths,
                            n_threads=1):
    layer = make_layer(cell, F, H, dtype, rng)
    X, state0, dY, d_state = make_data(cell, B, T, F, H, dtype, rng)
    lengths = make_lengths(B, T, rng) if with_lengths else None

    got = compiled(layer, X, state0, lengths, dY, d_state, n_threads)
    want = reference(cell, layer.params, X, state0, lengths, dY, d_state)
    Y, states, dX, d0, grads = got
    rY, rstates, rdX, rd0, rgrads = want

    assert Y.dtype == dtype and Y.shape == (B, T, H)
    assert_allclose(Y, rY, err_msg="Y", **tol)
    assert len(states) == len(rstates) == N_STATES[cell]
    for k, (s, r) in enumerate(zip(states, rstates)):
        assert s.dtype == dtype
        assert_allclose(s, r, err_msg=f"final state {k}", **tol)
    assert dX.dtype == dtype and dX.shape == X.shape
    assert_allclose(dX, rdX, err_msg="dX", **tol)
    assert len(d0) == N_STATES[cell]
    for k, (s, r) in enumerate(zip(d0, rd0)):
        assert_allclose(s, r, err_msg=f"d initial state {k}", **tol)
    assert set(grads) == set(layer.params) == set(rgrads)
    for name in grads:
        assert grads[name].dtype == dtype
        assert grads[name].shape == layer.params[name].shape
        assert_allclose(grads[name], rgrads[name], err_msg=f"d{name}", **tol)

    # the kernel semantics of padding, exactly
    if lengths is not None:
        for b, L in enumerate(lengths):
            assert_array_equal(Y[b, L:], 0)
            assert_array_equal(dX[b, L:], 0)
            assert_array_equal(states[0][b], Y[b, L - 1])
    # non-vacuous: everything moved away from zero
    assert np.abs(Y).max() > 1e-2
    assert np.abs(dX).max() > 1e-3
    for name in grads:
        assert np.any(grads[name] != 0), name


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
]


@pytest.mark.parametrize("with_lengths", [False, True], ids=["full", "lengths"])
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "B{}T{}F{}H{}".format(*s))
@pytest.mark.parametrize("cell", CELLS)
def test_layer_matches_reference(cell, shape, with_lengths, dtype, tol, rng):
    check_against_reference(cell, *shape, dtype, tol, rng, with_lengths)


@pytest.mark.parametrize("chunk", [1, 5, 16, 69])
@pytest.mark.parametrize("cell", CELLS)
def test_matches_reference_for_any_chunking(cell, chunk, dtype, tol, rng, monkeypatch):
    # Force the batch into many chunks (with a short last one) whatever the core count.
    monkeypatch.setattr(_cells, "chunk_rows", lambda B: chunk)
    check_against_reference(cell, 70, 5, 2, 3, dtype, tol, rng, True, n_threads=2)


@pytest.mark.parametrize("cell", CELLS)
def test_all_lengths_one_and_all_full(cell, dtype, tol, rng):
    B, T, F, H = 6, 4, 2, 3
    layer = make_layer(cell, F, H, dtype, rng)
    X, state0, dY, d_state = make_data(cell, B, T, F, H, dtype, rng)
    for lengths in (np.ones(B, np.intp), np.full(B, T, np.intp)):
        got = compiled(layer, X, state0, lengths, dY, d_state)
        want = reference(cell, layer.params, X, state0, lengths, dY, d_state)
        for g, w in zip(got, want):
            if isinstance(g, dict):
                for k in g:
                    assert_allclose(g[k], w[k], err_msg=k, **tol)
            elif isinstance(g, tuple):
                for a, b in zip(g, w):
                    assert_allclose(a, b, **tol)
            else:
                assert_allclose(g, w, **tol)
    # lengths == T everywhere is the same as no lengths, bitwise
    a = compiled(layer, X, state0, np.full(B, T), dY, d_state)
    b = compiled(layer, X, state0, None, dY, d_state)
    assert_array_equal(a[0], b[0])
    assert_array_equal(a[2], b[2])
    for k in a[4]:
        assert_array_equal(a[4][k], b[4][k])


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
    assert_array_equal(dX1, dX2)
    for a, b in zip(d01, d02):
        assert_array_equal(a, b)
    for k in g1:
        assert_array_equal(g1[k], g2[k])


# --------------------------------------------------------------------------
# (b) the raw kernels' argument checks
# --------------------------------------------------------------------------
def raw_calls(cell, dtype, B=3, T=4, F=2, H=3, chunk=2):
    """Valid argument lists for the raw forward and backward kernels.

    Returns (forward function, list of (name, value)), (backward function, list).
    """
    rng = np.random.default_rng(0)
    G = N_GATES[cell] * H
    n_chunks = -(-B // chunk)

    def a(*shape):
        return (0.3 * rng.standard_normal(shape)).astype(dtype)

    X, W, L = a(B, T, F), a(F + H + 1, G), np.full(B, T, dtype=np.intp)
    if cell == "lstm":
        fwd = [("X", X), ("W", W), ("h0", a(B, H)), ("c0", a(B, H)), ("lengths", L),
               ("gates", a(B, T, G)), ("h_prev", a(B, T, H)), ("cell", a(B, T, H)),
               ("Y", a(B, T, H)), ("h_T", a(B, H)), ("c_T", a(B, H))]
        bwd = [("X", X), ("W", W), ("c0", fwd[3][1]), ("lengths", L),
               ("gates", a(B, T, G)), ("h_prev", a(B, T, H)), ("cell", a(B, T, H)),
               ("dY", a(B, T, H)), ("dh_T", a(B, H)), ("dc_T", a(B, H)),
               ("dX", a(B, T, F)), ("dh0", a(B, H)), ("dc0", a(B, H)),
               ("dW", a(F + H + 1, G)), ("dgates", a(B, T, G)), ("work", a(B, H)),
               ("partial", a(n_chunks, F + H + 1, G))]
        funcs = _lstm.lstm_forward, _lstm.lstm_backward
    elif cell == "gru":
        fwd = [("X", X), ("W", W), ("b_hn", a(H)), ("h0", a(B, H)), ("lengths", L),
               ("gates", a(B, T, G)), ("h_prev", a(B, T, H)), ("hn", a(B, T, H)),
               ("Y", a(B, T, H)), ("h_T", a(B, H)), ("rec", a(B, G))]
        bwd = [("X", X), ("W", W), ("lengths", L), ("gates", a(B, T, G)),
               ("h_prev", a(B, T, H)), ("hn", a(B, T, H)), ("dY", a(B, T, H)),
               ("dh_T", a(B, H)), ("dX", a(B, T, F)), ("dh0", a(B, H)),
               ("dW", a(F + H + 1, G)), ("db_hn", a(H)), ("dgx", a(B, T, G)),
               ("dgh", a(B, T, G)), ("work", a(B, H)),
               ("partial", a(n_chunks, F + H + 1, G)), ("partial_bhn", a(n_chunks, H))]
        funcs = _gru.gru_forward, _gru.gru_backward
    else:
        fwd = [("X", X), ("W", W), ("h0", a(B, H)), ("lengths", L),
               ("gates", a(B, T, G)), ("h_prev", a(B, T, H)), ("Y", a(B, T, H)),
               ("h_T", a(B, H))]
        bwd = [("X", X), ("W", W), ("lengths", L), ("gates", a(B, T, G)),
               ("h_prev", a(B, T, H)), ("dY", a(B, T, H)), ("dh_T", a(B, H)),
               ("dX", a(B, T, F)), ("dh0", a(B, H)), ("dW", a(F + H + 1, G)),
               ("dgates", a(B, T, G)), ("work", a(B, H)),
               ("partial", a(n_chunks, F + H + 1, G))]
        funcs = _rnn.rnn_forward, _rnn.rnn_backward
    tail = [("chunk_size", chunk), ("n_threads", 2)]
    return (funcs[0], fwd + tail), (funcs[1], bwd + tail)


def call(func, args, **replace):
    return func(*[replace.get(name, value) for name, value in args])


def both_directions(cell, dtype):
    (f, fa), (b, ba) = raw_calls(cell, dtype)
    return [(f, fa), (b, ba)]


@pytest.mark.parametrize("cell", CELLS)
def test_raw_kernels_run_with_valid_arguments(cell, dtype, tol):
    # the harness itself is right: valid arguments run, and the forward matches
    # the reference (so the checks below fail for the reason they name)
    (f, fa), (b, ba) = raw_calls(cell, dtype)
    call(f, fa)
    call(b, ba)
    d = dict(fa)
    if cell == "lstm":
        r = ref.lstm_forward(d["X"], d["W"], d["h0"], d["c0"], d["lengths"])
    elif cell == "gru":
        r = ref.gru_forward(d["X"], d["W"], d["b_hn"], d["h0"], d["lengths"])
    else:
        r = ref.rnn_forward(d["X"], d["W"], d["h0"], d["lengths"])
    assert_allclose(d["Y"], r["Y"], **tol)
    assert_allclose(d["h_T"], r["h_T"], **tol)


@pytest.mark.parametrize("cell", CELLS)
def test_raw_kernels_reject_non_contiguous(cell, dtype):
    for func, args in both_directions(cell, dtype):
        for name, value in args:
            if not isinstance(value, np.ndarray):
                continue
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
        for name, value in args:
            if not isinstance(value, np.ndarray):
                continue
            if name == "lengths":
                bad = value.astype(np.int32)
            else:
                bad = value.astype(other)
            with pytest.raises(ValueError, match="dtype mismatch"):
                call(func, args, **{name: bad})


@pytest.mark.parametrize("cell", CELLS)
def test_raw_kernels_reject_wrong_shapes_by_name(cell, dtype):
    for func, args in both_directions(cell, dtype):
        for name, value in args:
            if not isinstance(value, np.ndarray) or name == "X":
                continue
            bad = np.zeros((value.shape[0] + 1,) + value.shape[1:], value.dtype)
            with pytest.raises(ValueError, match=rf"^{name} has shape"):
                call(func, args, **{name: bad})


@pytest.mark.parametrize("cell", CELLS)
def test_raw_kernels_reject_bad_scalars_and_lengths(cell, dtype):
    for func, args in both_directions(cell, dtype):
        T = dict(args)["X"].shape[1]
        for bad in ([T, 0, T], [T, T + 1, T], [-1, T, T]):
            with pytest.raises(ValueError, match=r"lengths\[\d\] = -?\d+ is outside"):
                call(func, args, lengths=np.array(bad, dtype=np.intp))
        for n in (0, -1):
            with pytest.raises(ValueError, match="n_threads must be >= 1"):
                call(func, args, n_threads=n)
        with pytest.raises(ValueError, match="chunk_size must be >= 1"):
            call(func, args, chunk_size=0)
        X = dict(args)["X"]
        with pytest.raises(ValueError, match="at least one sample"):
            call(func, args, X=X[:, :0])
        # outputs may not be read-only
        for name, value in args[::-1]:
            if isinstance(value, np.ndarray) and name not in ("X", "W", "lengths"):
                ro = value.copy()
                ro.setflags(write=False)
                break
        with pytest.raises(ValueError, match="read-only"):
            call(func, args, **{name: ro})
    # and after all of that the kernels still run correctly
    test_raw_kernels_run_with_valid_arguments(cell, dtype, {"rtol": 1e-5, "atol": 1e-6})


@pytest.mark.parametrize("cell", CELLS)
def test_raw_kernels_reject_wrong_ndim_and_garbage(cell, dtype):
    for func, args in both_directions(cell, dtype):
        for name, value in args:
            if not isinstance(value, np.ndarray) or name == "X":
                continue
            with pytest.raises(ValueError, match="wrong number of dimensions"):
                call(func, args, **{name: value[..., None]})
            # None is refused before any work starts (AttributeError from the shape
            # check for most arguments: the signatures do not say `not None`)
            with pytest.raises((ValueError, TypeError, AttributeError)):
                call(func, args, **{name: None})
        # X picks the dtype specialisation: a wrong X is refused too
        X = dict(args)["X"]
        for bad in (X[0], X[..., None], None, X.astype(np.int64), X.astype(complex)):
            with pytest.raises((ValueError, TypeError)):
                call(func, args, X=bad)
    test_raw_kernels_run_with_valid_arguments(cell, dtype, {"rtol": 1e-5, "atol": 1e-6})


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
    for g, w in zip(flat(got), flat(want)):
        assert np.all(np.isfinite(g))
        assert_allclose(g, w, **tol)


def flat(nested):
    if isinstance(nested, np.ndarray):
        return [nested]
    if isinstance(nested, dict):
        return [a for k in sorted(nested) for a in flat(nested[k])]
    return [a for item in nested for a in flat(item)]
