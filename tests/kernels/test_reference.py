"""Tests of the executable spec ``tsbptt/_kernels/reference.py`` itself.

(a) every backward gradient against finite differences of a scalar loss,
(b) the variable-length semantics of docs/kernel_layout.md,
(c) the formulas against a hand-computed GRU step and against PyTorch.

The module is loaded from its file, so these tests run whether or not the
compiled part of the package has been built.
"""

import importlib.util
import math
import pathlib
from functools import partial

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

_PATH = pathlib.Path(__file__).resolve().parents[2] / "tsbptt" / "_kernels" / "reference.py"
_spec = importlib.util.spec_from_file_location("_tsbptt_reference_spec", _PATH)
ref = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ref)

CELLS = ["lstm", "gru", "rnn"]
N_GATES = {"lstm": 4, "gru": 3, "rnn": 1}
STATES = {"lstm": ("h_T", "c_T"), "gru": ("h_T",), "rnn": ("h_T",)}


# --------------------------------------------------------------------------
# one calling convention for the three cells
# --------------------------------------------------------------------------
def make_params(cell, B, T, F, H, rng, dtype=np.float64):
    """Random inputs and parameters, named as the gradients are."""
    p = dict(
        X=rng.standard_normal((B, T, F)),
        W=0.6 * rng.standard_normal((F + H + 1, N_GATES[cell] * H)),
        h0=0.5 * rng.standard_normal((B, H)),
    )
    if cell == "lstm":
        p["c0"] = 0.5 * rng.standard_normal((B, H))
    if cell == "gru":
        p["b_hn"] = 0.5 * rng.standard_normal(H)
    return {k: v.astype(dtype) for k, v in p.items()}


def forward(cell, p, lengths=None):
    if cell == "lstm":
        return ref.lstm_forward(p["X"], p["W"], p["h0"], p["c0"], lengths)
    if cell == "gru":
        return ref.gru_forward(p["X"], p["W"], p["b_hn"], p["h0"], lengths)
    return ref.rnn_forward(p["X"], p["W"], p["h0"], lengths)


def backward(cell, p, fwd, R, lengths=None):
    """Reference gradients of loss(fwd, R), keyed like ``p``."""
    if cell == "lstm":
        g = ref.lstm_backward(p["X"], p["W"], fwd, R["Y"], R["h_T"], R["c_T"],
                              lengths)
        return dict(X=g["dX"], W=g["dW"], h0=g["dh0"], c0=g["dc0"])
    if cell == "gru":
        g = ref.gru_backward(p["X"], p["W"], p["b_hn"], fwd, R["Y"], R["h_T"],
                             lengths)
        return dict(X=g["dX"], W=g["dW"], h0=g["dh0"], b_hn=g["db_hn"])
    g = ref.rnn_backward(p["X"], p["W"], fwd, R["Y"], R["h_T"], lengths)
    return dict(X=g["dX"], W=g["dW"], h0=g["dh0"])


def make_R(cell, fwd, rng):
    """Fixed random weights of the loss, one per output."""
    return {k: rng.standard_normal(fwd[k].shape).astype(fwd[k].dtype)
            for k in ("Y",) + STATES[cell]}


def loss(fwd, R):
    """L = sum(Y * R_Y) + sum(h_T * R_h) (+ sum(c_T * R_c))."""
    return sum(float(np.sum(fwd[k] * R[k])) for k in R)


def numerical_grad(cell, p, R, lengths, name, eps=1e-4):
    """Fourth-order central differences of the loss w.r.t. ``p[name]``.

    Truncation error O(eps**4) ~ 1e-16 and rounding ~ 1e-16 |L| / eps, both
    far below the 1e-6 relative tolerance.
    """
    grad = np.zeros_like(p[name])
    for idx in np.ndindex(grad.shape):
        def L(delta):
            q = dict(p)
            q[name] = p[name].copy()
            q[name][idx] += delta
            return loss(forward(cell, q, lengths), R)
        grad[idx] = (8 * (L(eps) - L(-eps)) - (L(2 * eps) - L(-2 * eps))) / (12 * eps)
    return grad


def make_lengths(B, T, rng):
    """Lengths with a full-length sample first and a length-1 sample last."""
    if B == 1:
        return np.array([(T + 1) // 2], dtype=np.intp)
    lengths = rng.integers(1, T + 1, size=B).astype(np.intp)
    lengths[0], lengths[-1] = T, 1
    return lengths


# --------------------------------------------------------------------------
# (a) gradients against finite differences
# --------------------------------------------------------------------------
SHAPES = [  # B, T, F, H
    (3, 4, 2, 3),
    (1, 1, 1, 1),
    (1, 3, 1, 2),
    (2, 1, 3, 1),
    (2, 5, 1, 1),
]


@pytest.mark.parametrize("with_lengths", [False, True], ids=["full", "lengths"])
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "B{}T{}F{}H{}".format(*s))
@pytest.mark.parametrize("cell", CELLS)
def test_gradients_match_finite_differences(cell, shape, with_lengths, rng):
    B, T, F, H = shape
    p = make_params(cell, B, T, F, H, rng)
    lengths = make_lengths(B, T, rng) if with_lengths else None
    fwd = forward(cell, p, lengths)
    R = make_R(cell, fwd, rng)
    analytic = backward(cell, p, fwd, R, lengths)

    assert set(analytic) == set(p)
    for name in p:
        numeric = numerical_grad(cell, p, R, lengths, name)
        assert analytic[name].shape == p[name].shape, name
        assert np.abs(numeric).max() > 1e-3, f"vacuous check of d{name}"
        assert_allclose(analytic[name], numeric, rtol=1e-6, atol=1e-9,
                        err_msg=f"{cell} d{name}")


@pytest.mark.parametrize("cell", CELLS)
def test_bias_gradient_is_weight_gradient_of_a_constant_input(cell, rng):
    # Second, independent route to the bias row: a feature that is always 1
    # has W_x row == bias, so their gradients must coincide.
    p = make_params(cell, 2, 3, 2, 2, rng)
    p["X"][:, :, -1] = 1.0
    fwd = forward(cell, p)
    g = backward(cell, p, fwd, make_R(cell, fwd, rng))
    assert_allclose(g["W"][1], g["W"][-1], rtol=1e-12)


# --------------------------------------------------------------------------
# (b) variable-length semantics
# --------------------------------------------------------------------------
LENGTHS = np.array([5, 1, 3, 2], dtype=np.intp)  # B = 4, T = 5


@pytest.mark.parametrize("cell", CELLS)
def test_padded_outputs_and_final_state(cell, dtype, rng):
    p = make_params(cell, 4, 5, 2, 3, rng, dtype)
    fwd = forward(cell, p, LENGTHS)
    for b, L in enumerate(LENGTHS):
        assert_array_equal(fwd["Y"][b, L:], 0)
        assert np.all(fwd["Y"][b, :L] != 0)
        # final state = state after step L-1, carried unchanged afterwards
        assert_array_equal(fwd["h_T"][b], fwd["Y"][b, L - 1])
        assert_array_equal(fwd["h_prev"][b, 0], p["h0"][b])
        assert_array_equal(fwd["h_prev"][b, L:], np.broadcast_to(
            fwd["h_T"][b], fwd["h_prev"][b, L:].shape))
        if cell == "lstm":
            assert_array_equal(fwd["c_T"][b], fwd["cell"][b, L - 1])
            assert_array_equal(fwd["cell"][b, L:], np.broadcast_to(
                fwd["c_T"][b], fwd["cell"][b, L:].shape))


@pytest.mark.parametrize("cell", CELLS)
def test_padding_has_no_effect(cell, dtype, tol, rng):
    p = make_params(cell, 4, 5, 2, 3, rng, dtype)
    fwd = forward(cell, p, LENGTHS)
    R = make_R(cell, fwd, rng)
    g = backward(cell, p, fwd, R, LENGTHS)

    # garbage in X and dY at every padded position
    q, R2 = dict(p), dict(R)
    q["X"], R2["Y"] = p["X"].copy(), R["Y"].copy()
    for b, L in enumerate(LENGTHS):
        q["X"][b, L:] = 50 * rng.standard_normal(q["X"][b, L:].shape)
        R2["Y"][b, L:] = 50 * rng.standard_normal(R2["Y"][b, L:].shape)
    fwd2 = forward(cell, q, LENGTHS)
    g2 = backward(cell, q, fwd2, R2, LENGTHS)

    for k in ("Y",) + STATES[cell]:
        assert_array_equal(fwd2[k], fwd[k], err_msg=k)
    for name in g:
        assert_allclose(g2[name], g[name], err_msg=name, **tol)
    for b, L in enumerate(LENGTHS):
        assert_array_equal(g["X"][b, L:], 0)
        assert np.any(g["X"][b, :L] != 0)


@pytest.mark.parametrize("cell", CELLS)
def test_lengths_match_truncated_sequences(cell, dtype, tol, rng):
    p = make_params(cell, 4, 5, 2, 3, rng, dtype)
    fwd = forward(cell, p, LENGTHS)
    R = make_R(cell, fwd, rng)
    g = backward(cell, p, fwd, R, LENGTHS)

    summed = {k: np.zeros_like(p[k]) for k in ("W", "b_hn") if k in p}
    for b, L in enumerate(LENGTHS):
        pb = dict(p, X=p["X"][b:b + 1, :L], h0=p["h0"][b:b + 1])
        if cell == "lstm":
            pb["c0"] = p["c0"][b:b + 1]
        fb = forward(cell, pb)
        Rb = {k: (v[b:b + 1, :L] if k == "Y" else v[b:b + 1]) for k, v in R.items()}
        gb = backward(cell, pb, fb, Rb)
        assert_allclose(fwd["Y"][b, :L], fb["Y"][0], **tol)
        for k in STATES[cell]:
            assert_allclose(fwd[k][b], fb[k][0], err_msg=k, **tol)
        assert_allclose(g["X"][b, :L], gb["X"][0], **tol)
        for k in ("h0", "c0"):
            if k in p:
                assert_allclose(g[k][b], gb[k][0], err_msg=k, **tol)
        for k in summed:
            summed[k] += gb[k]
    for k in summed:
        assert_allclose(g[k], summed[k], err_msg=k, **tol)


@pytest.mark.parametrize("cell", CELLS)
def test_dtype_follows_input(cell, dtype, rng):
    p = make_params(cell, 2, 3, 2, 2, rng, dtype)
    fwd = forward(cell, p, np.array([3, 1]))
    g = backward(cell, p, fwd, make_R(cell, fwd, rng), np.array([3, 1]))
    for name, arr in list(fwd.items()) + list(g.items()):
        assert arr.dtype == dtype, name


@pytest.mark.parametrize("cell", CELLS)
def test_float32_close_to_float64(cell, rng):
    p32 = make_params(cell, 3, 5, 2, 3, rng, np.float32)
    p64 = {k: v.astype(np.float64) for k, v in p32.items()}
    f32, f64 = forward(cell, p32, LENGTHS[:3]), forward(cell, p64, LENGTHS[:3])
    R = make_R(cell, f64, rng)
    g32 = backward(cell, p32, f32, {k: v.astype(np.float32) for k, v in R.items()},
                   LENGTHS[:3])
    g64 = backward(cell, p64, f64, R, LENGTHS[:3])
    for k in ("Y",) + STATES[cell]:
        assert_allclose(f32[k], f64[k], rtol=1e-5, atol=1e-6, err_msg=k)
    for k in g64:
        assert_allclose(g32[k], g64[k], rtol=1e-5, atol=1e-5, err_msg=k)


@pytest.mark.parametrize("bad", [[0, 2], [2, 4], [[1, 2]]])
@pytest.mark.parametrize("cell", CELLS)
def test_invalid_lengths_raise(cell, bad, rng):
    p = make_params(cell, 2, 3, 1, 2, rng)
    with pytest.raises(ValueError, match="lengths"):
        forward(cell, p, np.array(bad))


def test_bad_W_shape_raises(rng):
    p = make_params("lstm", 2, 3, 1, 2, rng)
    with pytest.raises(ValueError, match="W must have shape"):
        ref.lstm_forward(p["X"], p["W"][:-1], p["h0"], p["c0"])


def test_inputs_not_modified(rng):
    p = make_params("lstm", 2, 3, 2, 2, rng)
    saved = {k: v.copy() for k, v in p.items()}
    fwd = forward("lstm", p, np.array([3, 2]))
    R = make_R("lstm", fwd, rng)
    R_saved = {k: v.copy() for k, v in R.items()}
    backward("lstm", p, fwd, R, np.array([3, 2]))
    for k in p:
        assert_array_equal(p[k], saved[k])
    for k in R:
        assert_array_equal(R[k], R_saved[k])


# --------------------------------------------------------------------------
# (c) formulas: one hand-computed GRU step, then PyTorch
# --------------------------------------------------------------------------
def test_gru_single_step_by_hand():
    # F = H = 1; columns r, z, n; rows W_x, W_h, b
    W = np.array([[0.2, -0.4, 0.6],
                  [0.3, 0.1, -0.5],
                  [0.1, 0.0, -0.2]])
    b_hn, x, h = np.array([0.4]), 1.0, 0.5

    def sig(a):
        return 1.0 / (1.0 + math.exp(-a))
    r = sig(0.2 * x + 0.3 * h + 0.1)           # sig(0.45)
    z = sig(-0.4 * x + 0.1 * h + 0.0)          # sig(-0.35)
    hn = -0.5 * h + 0.4                        # 0.15
    n = math.tanh(0.6 * x - 0.2 + r * hn)      # reset AFTER the matmul
    h_new = (1 - z) * n + z * h
    assert h_new == pytest.approx(0.47388504547674326, rel=1e-15)
    # reset BEFORE the matmul (the original GRU paper) differs: 0.54099...
    n_before = math.tanh(0.6 * x - 0.2 + (r * h) * -0.5 + 0.4)
    assert (1 - z) * n_before + z * h == pytest.approx(0.5409908876179247)

    out = ref.gru_forward(np.array([[[x]]]), W, b_hn, np.array([[h]]))
    assert_allclose(out["Y"][0, 0, 0], h_new, rtol=1e-14)
    assert_allclose(out["h_T"], [[h_new]], rtol=1e-14)
    assert_allclose(out["gates"][0, 0], [r, z, n], rtol=1e-14)
    assert_allclose(out["hn"][0, 0], [hn], rtol=1e-14)
    assert_array_equal(out["h_prev"][0, 0], [h])


def _torch_run(torch, cell, m, p, R, segments):
    """Run ``m`` on each (sample, length) segment; accumulate loss gradients.

    Returns outputs and gradients in the reference's packed layout.
    """
    B, T, _ = p["X"].shape
    H = m.hidden_size
    Y = np.zeros((B, T, H))
    out = {k: np.zeros((B, H)) for k in STATES[cell]}
    g = {k: np.zeros_like(v) for k, v in p.items() if k != "W"}
    m.zero_grad()
    for rows, L in segments:
        X = torch.tensor(p["X"][rows, :L], requires_grad=True)
        h0 = torch.tensor(p["h0"][rows][None], requires_grad=True)
        if cell == "lstm":
            c0 = torch.tensor(p["c0"][rows][None], requires_grad=True)
            y, (hT, cT) = m(X, (h0, c0))
            finals = dict(h_T=hT[0], c_T=cT[0])
        else:
            y, hT = m(X, h0)
            finals = dict(h_T=hT[0])
        Ly = (y * torch.tensor(R["Y"][rows, :L])).sum()
        Ls = sum((v * torch.tensor(R[k][rows])).sum() for k, v in finals.items())
        (Ly + Ls).backward()
        Y[rows, :L] = y.detach().numpy()
        for k, v in finals.items():
            out[k][rows] = v.detach().numpy()
        g["X"][rows, :L] = X.grad.numpy()
        g["h0"][rows] = h0.grad[0].numpy()
        if cell == "lstm":
            g["c0"][rows] = c0.grad[0].numpy()
    g["W"] = np.vstack([m.weight_ih_l0.grad.numpy().T, m.weight_hh_l0.grad.numpy().T,
                        m.bias_ih_l0.grad.numpy()[None]])
    if cell == "gru":
        g["b_hn"] = m.bias_hh_l0.grad.numpy()[2 * H:]
    return dict(Y=Y, **out), g


def _torch_module(torch, cell, F, H):
    torch.manual_seed(0)
    cls = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU,
           "rnn": partial(torch.nn.RNN, nonlinearity="tanh")}[cell]
    m = cls(F, H, batch_first=True).double()
    with torch.no_grad():  # larger than the default init, to leave the linear regime
        for prm in m.parameters():
            prm.uniform_(-0.8, 0.8)
    return m


def _packed_from_torch(cell, m):
    """The PyTorch mapping of docs/kernel_layout.md."""
    H = m.hidden_size
    b_ih, b_hh = m.bias_ih_l0.detach().numpy(), m.bias_hh_l0.detach().numpy()
    p = {}
    if cell == "gru":
        b = b_ih + np.concatenate([b_hh[:2 * H], np.zeros(H)])
        p["b_hn"] = b_hh[2 * H:].copy()
    else:
        b = b_ih + b_hh
    p["W"] = np.vstack([m.weight_ih_l0.detach().numpy().T,
                        m.weight_hh_l0.detach().numpy().T, b[None]])
    return p


@pytest.mark.parametrize("with_lengths", [False, True], ids=["full", "lengths"])
@pytest.mark.parametrize("cell", CELLS)
def test_matches_torch(cell, with_lengths, rng):
    torch = pytest.importorskip("torch")
    B, T, F, H = 3, 5, 2, 4
    m = _torch_module(torch, cell, F, H)
    p = make_params(cell, B, T, F, H, rng)
    p.update(_packed_from_torch(cell, m))
    if with_lengths:
        lengths = np.array([5, 1, 3], dtype=np.intp)
        segments = [(slice(b, b + 1), L) for b, L in enumerate(lengths)]
    else:
        lengths, segments = None, [(slice(None), T)]

    fwd = forward(cell, p, lengths)
    R = make_R(cell, fwd, rng)
    g = backward(cell, p, fwd, R, lengths)
    t_out, t_grad = _torch_run(torch, cell, m, p, R, segments)

    for k in t_out:
        assert_allclose(fwd[k], t_out[k], rtol=1e-10, atol=1e-12, err_msg=k)
    assert set(t_grad) == set(g)
    for k in t_grad:
        assert_allclose(g[k], t_grad[k], rtol=1e-10, atol=1e-12, err_msg=f"d{k}")
