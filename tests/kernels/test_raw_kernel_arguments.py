"""The raw compiled kernels (``lstm_forward``, ``gru_backward``, ...) called
directly: on valid arguments they match the NumPy reference around the
micro-kernels' tiles and add into their accumulators; on bad ones they raise
ValueError/TypeError naming the argument, and never crash.
"""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from tsbptt._kernels import reference as ref
from tsbptt._kernels import _reduce, cell_kernels, isa_usable
from tsbptt.engine._caches import batch_major

CELLS = ["lstm", "gru", "rnn"]
N_GATES = {"lstm": 4, "gru": 3, "rnn": 1}
BLOCK_STEPS = _reduce.BLOCK_STEPS


def _isa_param(isa):
    return pytest.param(isa, marks=pytest.mark.skipif(
        not isa_usable(isa), reason=f"no {isa} CPU or build"))


ISAS = [_isa_param(isa) for isa in ("baseline", "avx2", "avx512")]

# Arguments that fix B, T, F (and H) in a raw call: changing their shape makes the
# other arguments wrong, so the message names those instead.
DEFINING = {"X", "xh"}
# The argument each raw call takes H from, by direction and cell.
H_SOURCE = {"forward": {"lstm": "h0", "gru": "h0", "rnn": "h0"},
            "backward": {"lstm": "c0", "gru": "dh_T", "rnn": "dh_T"}}
# Read-only (const) inputs; everything else is written.
INPUTS = {"forward": {"X", "W", "b_hn", "h0", "c0", "lengths"},
          "backward": {"W", "c0", "h_T", "lengths", "xh", "gates", "cell", "hn", "dY",
                       "dh_T", "dc_T"}}


def raw_calls(cell, dtype, isa="baseline", B=3, T=4, F=2, H=3, chunk=2,
              clip_step=0.0):
    """Valid argument lists for the raw forward and backward kernels.

    The batch is split into chunks of ``chunk`` rows (a short last one with the
    defaults); lengths cycle through T, 1, 3 and 2. The forward is run once so
    that the backward's inputs are its real outputs. Returns (forward function,
    list of (name, value)), (backward function, list).
    """
    rng = np.random.default_rng(0)
    mod = cell_kernels(cell, isa)
    G, K = N_GATES[cell] * H, F + H + 1
    n_chunks, rows = -(-B // chunk), min(chunk, B)
    blk = BLOCK_STEPS * rows

    def a(*shape):
        return (0.3 * rng.standard_normal(shape)).astype(dtype)

    def e(*shape):
        return np.zeros(shape, dtype)

    X, W = a(B, T, F), a(F + H + 1, G)
    L = np.resize(np.array([T, 1, min(3, T), min(2, T)], dtype=np.intp), B)
    xh, gates, Y, dY, dX = e(B, T, K), e(B, T, G), e(B, T, H), a(B, T, H), e(B, T, F)
    common_bwd = [("dX", dX), ("dh0", e(B, H))]
    clip = [("clip_step", clip_step), ("n_clipped", np.zeros(B, np.intp)),
            ("delta_sq", e(B, T))]
    if cell == "lstm":
        fwd = [("X", X), ("W", W), ("h0", a(B, H)), ("c0", a(B, H)), ("lengths", L),
               ("xh", xh), ("gates", gates), ("cell", e(B, T, H)), ("Y", Y),
               ("h_T", e(B, H)), ("c_T", e(B, H)), ("pre", e(n_chunks, rows, G))]
        d = dict(fwd)
        bwd = [("W", W), ("c0", d["c0"]), ("h_T", d["h_T"]), ("lengths", L), ("xh", xh),
               ("gates", gates), ("cell", d["cell"]), ("dY", dY), ("dh_T", a(B, H)),
               ("dc_T", a(B, H))] + common_bwd + [
               ("dc0", e(B, H)), ("dW_acc", e(n_chunks, K, G)),
               ("blk_da", e(n_chunks, blk, G)),
               ("work", e(n_chunks, rows, F + H))] + clip
        funcs = mod.lstm_forward, mod.lstm_backward
    elif cell == "gru":
        fwd = [("X", X), ("W", W), ("b_hn", a(H)), ("h0", a(B, H)), ("lengths", L),
               ("xh", xh), ("gates", gates), ("hn", e(B, T, H)), ("Y", Y),
               ("h_T", e(B, H)), ("pre", e(n_chunks, rows, G))]
        d = dict(fwd)
        bwd = [("W", W), ("lengths", L), ("xh", xh), ("gates", gates),
               ("hn", d["hn"]), ("dY", dY), ("dh_T", a(B, H))] + common_bwd + [
               ("dW_acc", e(n_chunks, K, G)), ("db_hn_acc", e(n_chunks, H)),
               ("blk_dgx", e(n_chunks, blk, G)),
               ("blk_dgh", e(n_chunks, blk, G)), ("work", e(n_chunks, rows, H))] + clip
        funcs = mod.gru_forward, mod.gru_backward
    else:
        fwd = [("X", X), ("W", W), ("h0", a(B, H)), ("lengths", L), ("xh", xh),
               ("gates", gates), ("Y", Y), ("h_T", e(B, H)), ("pre", e(n_chunks, rows, G))]
        bwd = [("W", W), ("lengths", L), ("xh", xh), ("gates", gates), ("dY", dY),
               ("dh_T", a(B, H))] + common_bwd + [
               ("dW_acc", e(n_chunks, K, G)), ("blk_da", e(n_chunks, blk, G)),
               ("work", e(n_chunks, rows, F + H))] + clip
        funcs = mod.rnn_forward, mod.rnn_backward
    tail = [("chunk_size", chunk), ("n_threads", 2)]
    fwd, bwd = fwd + tail, bwd + tail
    call(funcs[0], fwd)
    return (funcs[0], fwd), (funcs[1], bwd)


def call(func, args, **replace):
    return func(*[replace.get(name, value) for name, value in args])


def both_directions(cell, dtype, isa="baseline"):
    (f, fa), (b, ba) = raw_calls(cell, dtype, isa)
    return [(f, fa), (b, ba)]


def arrays(args):
    return [(name, v) for name, v in args if isinstance(v, np.ndarray)]


def check_raw_against_reference(cell, dtype, tol, assert_sum_close, isa="baseline",
                                clip_step=0.0, **shape):
    """Run the raw forward and backward on valid arguments; compare with the
    reference (the harness is right, so the checks below fail for the reason
    they name). ``tol``: the per-dtype tolerance (the issue's bar: 1e-5 relative
    in float32, 1e-12 in float64); ``assert_sum_close``: the conftest fixture;
    ``shape``: raw_calls' B, T, F, H and chunk."""
    (f, fa), (b, ba) = raw_calls(cell, dtype, isa, clip_step=clip_step, **shape)
    d, g = dict(fa), dict(ba)
    call(b, ba)
    X, W, L = d["X"], d["W"], d["lengths"]
    clip = clip_step if clip_step > 0 else None
    if cell == "lstm":
        r = ref.lstm_forward(X, W, d["h0"], d["c0"], L)
        rg = ref.lstm_backward(X, W, r, g["dY"], g["dh_T"], g["dc_T"], L, clip)
        assert_allclose(d["c_T"], r["c_T"], **tol)
        assert_allclose(batch_major(d["cell"], d["chunk_size"]), r["cell"], **tol)
        assert_sum_close(g["dc0"], rg["dc0"], tol, "dc0")
    elif cell == "gru":
        r = ref.gru_forward(X, W, d["b_hn"], d["h0"], L)
        rg = ref.gru_backward(X, W, d["b_hn"], r, g["dY"], g["dh_T"], L, clip)
        db_hn = np.empty(d["b_hn"].shape, dtype)
        _reduce.sum_chunks(g["db_hn_acc"], db_hn, 2)
        assert_sum_close(db_hn, rg["db_hn"], tol, "db_hn")
    else:
        r = ref.rnn_forward(X, W, d["h0"], L)
        rg = ref.rnn_backward(X, W, r, g["dY"], g["dh_T"], L, clip)
    H, F = d["h0"].shape[1], X.shape[2]
    assert_allclose(d["Y"], r["Y"], **tol)
    assert_allclose(d["h_T"], r["h_T"], **tol)
    # xh = [x_t, h_{t-1}, 1], chunk-time-major like every training cache
    xh = batch_major(d["xh"], d["chunk_size"])
    assert_array_equal(xh[:, :, :F], X)
    assert_allclose(xh[:, :, F:F + H], r["h_prev"], **tol)
    assert_array_equal(xh[:, :, F + H], 1)
    dW_acc = g["dW_acc"]
    dW = np.empty(dW_acc.shape[1:], dtype)
    _reduce.sum_chunks(dW_acc.reshape(dW_acc.shape[0], -1), dW.reshape(-1), 2)
    assert_sum_close(dW, rg["dW"], tol, "dW")
    assert_sum_close(g["dX"], rg["dX"], tol, "dX")
    assert_sum_close(g["dh0"], rg["dh0"], tol, "dh0")
    assert_sum_close(g["delta_sq"], rg["delta_sq"], tol, "delta_sq")
    assert_array_equal(g["n_clipped"], rg["n_clipped"])
    return g


@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("cell", CELLS)
def test_raw_kernels_run_with_valid_arguments(cell, isa, dtype, tol, assert_sum_close):
    check_raw_against_reference(cell, dtype, tol, assert_sum_close, isa)
    g = check_raw_against_reference(cell, dtype, tol, assert_sum_close, isa, clip_step=0.25)
    assert g["n_clipped"].sum() > 0


# Shapes around the micro-kernels' tiles (_microkernels.h: 8, 6 or 4 rows by 32,
# 16, 8 or 4 columns): chunks of 19 and 18 rows and H = 20 leave row and column
# tails in every product; B = H = 1 is one row and one column; T = 18 gives the
# weight gradients a full block of 16 steps and a short one (H = 9 keeps the
# recurrence's gain below 1, so float32 rounding is not amplified over the steps).
@pytest.mark.parametrize("shape", [dict(B=37, T=5, F=3, H=20, chunk=19),
                                   dict(B=1, T=3, F=1, H=1, chunk=1),
                                   dict(B=9, T=18, F=2, H=9, chunk=9)],
                         ids=["tails", "one-row", "two-blocks"])
@pytest.mark.parametrize("isa", ISAS)
@pytest.mark.parametrize("cell", CELLS)
def test_raw_kernels_match_reference_around_the_tiles(cell, isa, shape, dtype, tol,
                                                      assert_sum_close):
    check_raw_against_reference(cell, dtype, tol, assert_sum_close, isa, **shape)


@pytest.mark.parametrize("cell", CELLS)
def test_raw_backward_adds_into_accumulators(cell, dtype):
    # dW_acc (and db_hn_acc) are added to, n_clipped too; every other output is
    # overwritten
    (f, fa), (b, ba) = raw_calls(cell, dtype, clip_step=0.25)
    g = dict(ba)
    call(b, ba)
    first = {k: v.copy() for k, v in arrays(ba)}
    call(b, ba)
    for name in ("dW_acc", "db_hn_acc", "n_clipped"):
        if name in g:
            assert_array_equal(g[name], 2 * first[name], err_msg=name)
    for name in ("dX", "dh0", "dc0", "delta_sq"):
        if name in g:
            assert_array_equal(g[name], first[name], err_msg=name)


@pytest.mark.parametrize("cell", CELLS)
def test_raw_kernels_reject_non_contiguous(cell, dtype):
    for func, args in both_directions(cell, dtype):
        for name, value in arrays(args):
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
        for name, value in arrays(args):
            if value.dtype == np.intp:
                bad = value.astype(np.int32)
            else:
                bad = value.astype(other)
            with pytest.raises(ValueError, match="dtype mismatch"):
                call(func, args, **{name: bad})


# The GRU and RNN backward take H from dh_T and never check its batch size by
# name: a wrong one fails later, in the copy to dh0, with a message that names no
# argument. See test_raw_backward_names_wrong_dh_T_shape.
UNNAMED = {("gru_backward", "dh_T"), ("rnn_backward", "dh_T")}


@pytest.mark.parametrize("cell", CELLS)
def test_raw_kernels_reject_wrong_shapes_by_name(cell, dtype):
    for func, args in both_directions(cell, dtype):
        for name, value in arrays(args):
            if name in DEFINING or (func.__name__, name) in UNNAMED:
                continue
            # one more along the first axis, then along the last
            for axis in {0, value.ndim - 1}:
                shape = list(value.shape)
                shape[axis] += 1
                bad = np.zeros(shape, value.dtype)
                with pytest.raises(ValueError, match=rf"^{name} has shape"):
                    call(func, args, **{name: bad})
                cell_name, direction = func.__name__.split("_")
                if name == H_SOURCE[direction][cell_name]:
                    break   # it fixes H: a wrong last axis is reported elsewhere


@pytest.mark.parametrize("cell", ["gru", "rnn"])
def test_raw_backward_names_wrong_dh_T_shape(cell):
    (_, _), (b, ba) = raw_calls(cell, np.float64)
    dh_T = dict(ba)["dh_T"]
    with pytest.raises(ValueError, match=r"^dh_T has shape"):
        call(b, ba, dh_T=np.zeros((dh_T.shape[0] + 1, dh_T.shape[1])))


@pytest.mark.parametrize("cell", CELLS)
def test_raw_kernels_reject_bad_scalars_and_lengths(cell, dtype, tol, assert_sum_close):
    for func, args in both_directions(cell, dtype):
        d = dict(args)
        first = "X" if "X" in d else "xh"
        T = d[first].shape[1]
        for bad in ([T, T + 1, T], [-1, T, T]):
            with pytest.raises(ValueError, match=r"lengths\[\d\] = -?\d+ is outside"):
                call(func, args, lengths=np.array(bad, dtype=np.intp))
        for n in (0, -1):
            with pytest.raises(ValueError, match="n_threads must be >= 1"):
                call(func, args, n_threads=n)
        for c in (0, -3):
            with pytest.raises(ValueError, match="chunk_size must be >= 1"):
                call(func, args, chunk_size=c)
        for name, bad in (("chunk_size", "2"), ("chunk_size", 2.0), ("chunk_size", None),
                          ("n_threads", "1"), ("n_threads", None), ("clip_step", "1"),
                          ("clip_step", None)):
            if name in d:
                with pytest.raises(TypeError):
                    call(func, args, **{name: bad})
        with pytest.raises(ValueError, match="at least one sample"):
            call(func, args, **{first: d[first][:, :0]})
        with pytest.raises(ValueError, match="at least one sample"):
            call(func, args, **{first: d[first][:0]})
        # outputs and work arrays may not be read-only; inputs may
        for name, value in arrays(args):
            ro = value.copy()
            ro.setflags(write=False)
            if name in INPUTS[func.__name__.split("_")[1]]:   # forward or backward
                call(func, args, **{name: ro})
            else:
                with pytest.raises(ValueError, match="read-only"):
                    call(func, args, **{name: ro})
    # and after all of that the kernels still run correctly
    check_raw_against_reference(cell, dtype, tol, assert_sum_close)


@pytest.mark.parametrize("cell", CELLS)
def test_raw_kernels_reject_wrong_ndim_and_garbage(cell, dtype, tol, assert_sum_close):
    for func, args in both_directions(cell, dtype):
        for name, value in arrays(args):
            if name == args[0][0]:   # it picks the dtype specialisation (below)
                continue
            with pytest.raises(ValueError, match="wrong number of dimensions"):
                call(func, args, **{name: value[..., None]})
            # None is refused before any work starts, naming the argument (the
            # one that picks the dtype specialisation finds no signature)
            with pytest.raises(TypeError, match=rf"'{name}' must not be None"):
                call(func, args, **{name: None})
        # the dispatching array picks the specialisation: a wrong one is refused too
        first, v = args[0]
        for bad in (v[0], v[..., None], None, v.astype(np.int64), v.astype(complex),
                    v.tolist()):
            with pytest.raises((ValueError, TypeError),
                               match="No matching signature|dimensions|dtype"):
                call(func, args, **{first: bad})
    check_raw_against_reference(cell, dtype, tol, assert_sum_close)


@pytest.mark.parametrize("cell", CELLS)
def test_raw_forward_without_features_is_the_recurrence_alone(cell):
    # F = 0 gives the GRU an empty input product (k = 0): it must give zeros, and
    # the result equals a run with one all-zero feature, bit for bit (its terms
    # are exact zeros added first).
    (f, fa), _ = raw_calls(cell, np.float64)
    d = dict(fa)
    B, T, F = d["X"].shape
    H = d["h0"].shape[1]
    Y0, Y1 = np.zeros((B, T, H)), np.zeros((B, T, H))
    call(f, fa, X=np.zeros((B, T, 0)), xh=np.zeros((B, T, H + 1)),
         W=np.ascontiguousarray(d["W"][F:]), Y=Y0)
    call(f, fa, X=np.zeros((B, T, 1)), xh=np.zeros((B, T, H + 2)),
         W=np.ascontiguousarray(d["W"][F - 1:]), Y=Y1)
    assert np.abs(Y0).sum() > 0
    np.testing.assert_array_equal(Y0, Y1)
