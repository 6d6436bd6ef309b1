"""The compiled stepper (``tsbptt._kernels._stream.Stepper``) against the kernels.

Each instruction-set build's stepper must give, step by step, the bits of that
build's forward-only kernel run over the whole sequence, and of its head product;
and the estimators must pick the build the kernels use.
"""
import numpy as np
import pytest

from tsbptt._kernels import cell_kernels, isa_usable, kernel_isa
from tsbptt._kernels._stream import Stepper
from tsbptt._kernels import reference as ref

ISAS = [pytest.param(isa, marks=pytest.mark.skipif(
    not isa_usable(isa), reason=f"no {isa} CPU or build"))
    for isa in ("baseline", "avx2", "avx512")]
GATES = {"lstm": 4, "gru": 3, "rnn": 1}
RTOL = {np.float32: 1e-5, np.float64: 1e-12}


def _layers(rng, cell, F, sizes, dtype):
    out, f = [], F
    for H in sizes:
        W = (rng.standard_normal((f + H + 1, GATES[cell] * H)) * 0.4).astype(dtype)
        b_hn = (rng.standard_normal(H) * 0.1).astype(dtype) if cell == "gru" else None
        out.append((W, b_hn))
        f = H
    return out


def _infer(cell, isa, layers, X, dtype):
    """The whole sequence through that build's <cell>_infer, layer by layer: the
    last layer's outputs (B, T, H) and every layer's final (h, c)."""
    mod = cell_kernels(cell, isa)
    B, T, _ = X.shape
    lengths = np.full(B, T, dtype=np.intp)
    Y, finals = X, []
    for W, b_hn in layers:
        H = W.shape[1] // GATES[cell]
        F = Y.shape[2]
        out, h_T = np.empty((B, T, H), dtype), np.empty((B, H), dtype)
        xh = np.empty((1, B, F + H + 1), dtype)
        pre = np.empty((1, B, H if cell == "rnn" else 4 * H), dtype)
        h0 = np.zeros((B, H), dtype)
        if cell == "lstm":
            c_T = np.empty((B, H), dtype)
            mod.lstm_infer(Y, W, h0, h0, lengths, out, h_T, c_T, xh, pre,
                           np.empty((1, 5 * H), dtype), B, 1)
            finals.append((h_T, c_T))
        elif cell == "gru":
            mod.gru_infer(Y, W, b_hn, h0, lengths, out, h_T, xh, pre,
                          np.empty((1, 4 * H), dtype), B, 1)
            finals.append((h_T,))
        else:
            mod.rnn_infer(Y, W, h0, lengths, out, h_T, xh, pre, B, 1)
            finals.append((h_T,))
        Y = out
    return Y, finals


def _stepper(cell, isa, layers, head_W, head_b, mean, scale, **kw):
    return Stepper(cell_kernels(cell, isa), cell_kernels("lstm", isa), layers, head_W,
                   head_b, mean, scale, lstm=cell == "lstm", **kw)


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_steps_give_each_builds_kernel_bits(cell, isa, dtype):
    rng = np.random.default_rng(0)
    B, T, F, sizes, n_out = 70, 6, 3, (19, 5), 2   # two chunks of rows, column tails
    layers = _layers(rng, cell, F, sizes, dtype)
    head_W = rng.standard_normal((sizes[-1], n_out)).astype(dtype)
    head_b = rng.standard_normal(n_out).astype(dtype)
    X = rng.standard_normal((B, T, F)) * 2 + 1
    mean, scale = np.array([1.0, 0.5, -2.0]), np.array([2.0, 1.5, 0.25])
    Xs = ((X - mean) / scale).astype(dtype)  # standardised, then in the dtype
    Y, finals = _infer(cell, isa, layers, Xs, dtype)
    # the head as predict computes it: that build's microkernel, then the bias
    head = np.empty((B * T, n_out), dtype)
    cell_kernels("lstm", isa).microkernel_gemm(Y.reshape(B * T, -1), head_W, head)
    expected = (head + head_b).reshape(B, T, n_out).astype(np.float64)
    raw = _stepper(cell, isa, layers, head_W, head_b, mean, scale, n_streams=B)
    t_mean, t_scale = np.array([3.0, -1.0]), np.array([0.5, 4.0])
    unscaled = _stepper(cell, isa, layers, head_W, head_b, mean, scale, target_mean=t_mean,
                        target_scale=t_scale, n_streams=B)
    for t in range(T):
        np.testing.assert_array_equal(raw.step(X[:, t]), expected[:, t])
        np.testing.assert_array_equal(unscaled.step(X[:, t]),
                                      expected[:, t] * t_scale + t_mean)
    h, c = raw.get_state()
    for i, final in enumerate(finals):
        np.testing.assert_array_equal(h[i], final[0])
        if cell == "lstm":
            np.testing.assert_array_equal(c[i], final[1])
    assert c is None or cell == "lstm"


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_step_against_numpy_reference(cell, dtype):
    """One layer and the head against the plain-NumPy reference (per-dtype rtol)."""
    rng = np.random.default_rng(3)
    B, F, H = 4, 2, 7
    ((W, b_hn),) = _layers(rng, cell, F, (H,), dtype)
    head_W, head_b = rng.standard_normal((H, 1)).astype(dtype), np.array([0.3], dtype)
    X = rng.standard_normal((B, 3, F))
    step = Stepper(cell_kernels(cell), cell_kernels("lstm"), [(W, b_hn)], head_W, head_b,
                   np.zeros(F), np.ones(F), lstm=cell == "lstm", n_streams=B)
    for t in range(3):
        got = step.step(X[:, t])
    xs = X.astype(dtype)
    out = (ref.gru_forward(xs, W, b_hn) if cell == "gru"
           else getattr(ref, f"{cell}_forward")(xs, W))
    np.testing.assert_allclose(got[:, 0], (out["h_T"] @ head_W + head_b)[:, 0].astype(float),
                               rtol=RTOL[dtype] * 10, atol=RTOL[dtype])


def test_quantile_point_is_the_sorted_outputs_kth():
    rng = np.random.default_rng(1)
    layers = _layers(rng, "rnn", 1, (6,), np.float64)
    head_W = rng.standard_normal((6, 6))          # 2 targets x 3 quantiles
    head_b = np.zeros(6)
    raw = _stepper("rnn", kernel_isa(), layers, head_W, head_b, np.zeros(1), np.ones(1))
    point = _stepper("rnn", kernel_isa(), layers, head_W, head_b, np.zeros(1), np.ones(1),
                     target_mean=np.array([1.0, 2.0]), target_scale=np.array([3.0, 4.0]),
                     n_quantiles=3, point_index=1)
    for x in (0.5, -1.0, 2.0):
        q = raw.step(x).reshape(2, 3)
        np.testing.assert_array_equal(point.step(x),
                                      np.sort(q, axis=1)[:, 1] * [3.0, 4.0] + [1.0, 2.0])


def test_step_from_leaves_the_callers_state():
    rng = np.random.default_rng(2)
    layers = _layers(rng, "lstm", 2, (4, 3), np.float32)
    head_W, head_b = rng.standard_normal((3, 1)).astype(np.float32), np.zeros(1, np.float32)
    s = _stepper("lstm", kernel_isa(), layers, head_W, head_b, np.zeros(2), np.ones(2),
                 target_mean=np.zeros(1), target_scale=np.ones(1), n_streams=3)
    X = rng.standard_normal((4, 3, 2))
    y0, h, c = s.step_from(X[0], None, None, False)
    kept = [a.copy() for a in h + c]
    for t in range(1, 4):
        y_s = s.step(X[t - 1])
        y, h2, c2 = s.step_from(X[t], h, c, True)
        for a, b in zip(h + c, kept):
            np.testing.assert_array_equal(a, b)
        h, c, kept = h2, c2, [a.copy() for a in h2 + c2]
    np.testing.assert_array_equal(y0, s.__class__.step_from(s, X[0], None, None, False)[0])
    assert y_s.shape == (3,) and y.shape == (3,)
    # a non-contiguous state is read as its values
    hT = tuple(np.asfortranarray(a) for a in h)
    np.testing.assert_array_equal(s.step_from(X[0], hT, c, True)[0],
                                  s.step_from(X[0], h, c, True)[0])


def test_construction_errors():
    rng = np.random.default_rng(0)
    layers = _layers(rng, "lstm", 2, (4,), np.float32)
    hw, hb = np.ones((4, 1), np.float32), np.zeros(1, np.float32)
    other = [isa for isa in ("baseline", "avx2", "avx512")
             if isa != kernel_isa() and isa_usable(isa)]
    if other:
        with pytest.raises(ValueError, match="are different builds"):
            Stepper(cell_kernels("lstm"), cell_kernels("lstm", other[0]), layers, hw, hb,
                    np.zeros(2), np.ones(2), lstm=True)
    with pytest.raises(ValueError, match=r"head_W has shape \(3, 1\), expected \(4, "):
        _stepper("lstm", kernel_isa(), layers, np.ones((3, 1), np.float32), hb,
                 np.zeros(2), np.ones(2))
    with pytest.raises(ValueError, match="input_scale must be 2 finite values"):
        _stepper("lstm", kernel_isa(), layers, hw, hb, np.zeros(2), np.array([1, np.inf]))
    bad = [(layers[0][0].copy(), None)]
    bad[0][0][0, 0] = np.nan
    with pytest.raises(ValueError, match="layer 0's W contains NaN"):
        _stepper("lstm", kernel_isa(), bad, hw, hb, np.zeros(2), np.ones(2))
    with pytest.raises(ValueError, match="n_quantiles <= 64 and 0 <= point_index"):
        _stepper("lstm", kernel_isa(), layers, hw, hb, np.zeros(2), np.ones(2),
                 target_mean=np.zeros(1), target_scale=np.ones(1), n_quantiles=2,
                 point_index=2)
    s = _stepper("lstm", kernel_isa(), layers, hw, hb, np.zeros(2), np.ones(2))
    with pytest.raises(ValueError, match="n_streams must be >= 1, got 0"):
        s.reset(0)
