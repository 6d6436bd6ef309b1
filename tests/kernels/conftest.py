"""The harness of the kernel tests, shared as fixtures.

Random layers and data, one forward and backward through the compiled kernels
(:class:`tsbptt.engine.RecurrentLayer`) and through the NumPy reference
(``tsbptt._kernels.reference``), and the comparisons between them; random
reservoirs for the ESN kernel's tests. pytest runs
with ``--import-mode=importlib``, so a test module cannot import these: each
helper below is handed to the tests by the fixture of the same name (bottom of
the file).
"""

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal

from tsbptt._kernels import reference as ref
from tsbptt.engine import RecurrentLayer

N_STATES = {"lstm": 2, "gru": 1, "rnn": 1}


def assert_sum_close(actual, desired, tol, name=""):
    """assert_allclose for quantities that are sums of many terms (gradients).

    The rounding error of a sum is bounded by eps * sum|terms|, not by
    eps * |sum|: where the terms cancel, an entry ends up small while its error
    stays at the size set by the large summands, and a purely relative test fails
    although both computations are right (float32 dW entries of 1e-2 next to
    entries of 10 differ by 1e-6). So the absolute tolerance is scaled by the
    magnitude of the summands, estimated by the largest entry of the array
    (the same kind of terms summed the same number of times): atol = rtol *
    max|desired|. A real bug still shows as an O(1) error on the large entries.
    """
    atol = max(tol["atol"], tol["rtol"] * float(np.abs(desired).max(initial=0)))
    assert_allclose(actual, desired, rtol=tol["rtol"], atol=atol, err_msg=name)


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


def reference(cell, params, X, state0, lengths, dY, d_state, clip_step=None):
    """(Y, states, dX, d_state0, grads, stats) from the NumPy reference."""
    W = params["W"]
    if cell == "lstm":
        f = ref.lstm_forward(X, W, state0[0], state0[1], lengths)
        g = ref.lstm_backward(X, W, f, dY, d_state[0], d_state[1], lengths, clip_step)
        out = (f["Y"], (f["h_T"], f["c_T"]), g["dX"], (g["dh0"], g["dc0"]),
               {"W": g["dW"]})
    elif cell == "gru":
        f = ref.gru_forward(X, W, params["b_hn"], state0[0], lengths)
        g = ref.gru_backward(X, W, params["b_hn"], f, dY, d_state[0], lengths,
                             clip_step)
        out = (f["Y"], (f["h_T"],), g["dX"], (g["dh0"],),
               {"W": g["dW"], "b_hn": g["db_hn"]})
    else:
        f = ref.rnn_forward(X, W, state0[0], lengths)
        g = ref.rnn_backward(X, W, f, dY, d_state[0], lengths, clip_step)
        out = f["Y"], (f["h_T"],), g["dX"], (g["dh0"],), {"W": g["dW"]}
    return out + ({"delta_sq": g["delta_sq"], "n_clipped": g["n_clipped"]},)


def compiled(layer, X, state0, lengths, dY, d_state, n_threads=1, clip_step=None):
    """(Y, states, dX, d_state0, grads, stats) from the compiled kernels."""
    Y, states, cache = layer.forward(X, lengths, state0, n_threads=n_threads)
    stats = {}
    dX, d0, grads = layer.backward(cache, dY, d_state, n_threads=n_threads,
                                   clip_step=clip_step, stats=stats)
    return Y, states, dX, d0, grads, stats


def assert_matches(cell, got, want, tol, shapes=None):
    """Compiled results equal the reference: outputs, states, gradients and delta
    norms as sums (:func:`assert_sum_close`: every one of them is an activation of,
    or a product with, a sum whose terms can cancel), clip counts exactly."""
    Y, states, dX, d0, grads, stats = got
    rY, rstates, rdX, rd0, rgrads, rstats = want
    assert_sum_close(Y, rY, tol, "Y")
    assert len(states) == len(rstates) == N_STATES[cell]
    for k, (s, r) in enumerate(zip(states, rstates)):
        assert_sum_close(s, r, tol, f"final state {k}")
    assert_sum_close(dX, rdX, tol, "dX")
    assert len(d0) == len(rd0) == N_STATES[cell]
    for k, (s, r) in enumerate(zip(d0, rd0)):
        assert_sum_close(s, r, tol, f"d initial state {k}")
    assert set(grads) == set(rgrads)
    for name in grads:
        assert_sum_close(grads[name], rgrads[name], tol, f"d{name}")
    assert_sum_close(stats["delta_sq"], rstats["delta_sq"], tol, "delta_sq")
    assert_array_equal(stats["n_clipped"], rstats["n_clipped"], err_msg="n_clipped")


def assert_all_equal(a, b):
    """Two (nested) results are bitwise equal."""
    fa, fb = flat(a), flat(b)
    assert len(fa) == len(fb)
    for x, y in zip(fa, fb):
        assert x.dtype == y.dtype
        assert_array_equal(x, y, strict=True)


def flat(nested):
    """The arrays of a nested result (tuples, lists, dicts in key order), in order."""
    if isinstance(nested, np.ndarray):
        return [nested]
    if isinstance(nested, dict):
        return [a for k in sorted(nested) for a in flat(nested[k])]
    return [a for item in nested for a in flat(item)]


def check_against_reference(cell, B, T, F, H, dtype, tol, rng, with_lengths,
                            n_threads=1):
    """A random layer of shape (B, T, F, H) run both ways: the compiled results equal
    the reference, have the right shapes and dtypes, keep padding at zero and are not
    trivially zero. Returns the layer."""
    layer = make_layer(cell, F, H, dtype, rng)
    X, state0, dY, d_state = make_data(cell, B, T, F, H, dtype, rng)
    lengths = make_lengths(B, T, rng) if with_lengths else None

    got = compiled(layer, X, state0, lengths, dY, d_state, n_threads)
    want = reference(cell, layer.params, X, state0, lengths, dY, d_state)
    Y, states, dX, d0, grads, stats = got

    assert Y.dtype == dtype and Y.shape == (B, T, H)
    for s in states + d0:
        assert s.dtype == dtype and s.shape == (B, H)
    assert dX.dtype == dtype and dX.shape == X.shape
    assert set(grads) == set(layer.params)
    for name in grads:
        assert grads[name].dtype == dtype
        assert grads[name].shape == layer.params[name].shape
    assert stats["delta_sq"].shape == (B, T) and stats["delta_sq"].dtype == dtype
    assert_array_equal(stats["n_clipped"], 0)
    assert_matches(cell, got, want, tol)

    # the kernel semantics of padding, exactly
    if lengths is not None:
        for b, L in enumerate(lengths):
            assert_array_equal(Y[b, L:], 0)
            assert_array_equal(dX[b, L:], 0)
            assert_array_equal(stats["delta_sq"][b, L:], 0)
            assert_array_equal(states[0][b], Y[b, L - 1])
    # non-vacuous: everything moved away from zero
    assert np.abs(Y).max() > 1e-2
    assert np.abs(dX).max() > 1e-3
    for name in grads:
        assert np.any(grads[name] != 0), name
    return layer


def pick_clip(cell, params, X, state0, lengths, dY, d_state, H):
    """A clip_step that clips some but not all valid entries of dL/dh_t, with no
    entry within 0.02% of it (the reference's clip counts do not change when the
    threshold moves by that much, far more than float32 rounding moves dL/dh_t),
    so both computations count the same entries."""
    total = int(np.sum(lengths)) * H
    for c in np.geomspace(0.5, 2.0, 13)[[6, 5, 7, 4, 8, 3, 9, 2, 10, 1, 11, 0, 12]]:
        counts = [reference(cell, params, X, state0, lengths, dY, d_state,
                            c * s)[5]["n_clipped"] for s in (1 - 2e-4, 1, 1 + 2e-4)]
        n = int(counts[1].sum())
        if (0.05 * total < n < 0.95 * total
                and all(np.array_equal(counts[1], k) for k in counts)):
            return c
    raise AssertionError("no clip value clips a stable fraction of the entries")


# --------------------------------------------------------------------------
# the helpers as fixtures
# --------------------------------------------------------------------------
def make_reservoir(N, dtype, seed=0, density=0.15, F=2, n_fb=1):
    """A random reservoir of ``N`` units for the ESN kernel tests, radius 0.9.

    With ``N > 3`` unit 1 has no reservoir terms and unit 2 has all ``N``: the
    extremes of the SELL-16 padding. Returns a dict with the CSR matrix ``W`` (sorted
    indices), ``W_in`` (N, F), ``bias`` (N,) and ``W_fb`` (N, n_fb), all of ``dtype``.
    """
    rs = np.random.RandomState(seed)
    W = sp.random(N, N, density=density, random_state=rs, format="csr")
    W.data = rs.uniform(-1, 1, W.nnz)
    W = W.tocsr()
    if N > 3:
        W = W.tolil()
        W[1, :] = 0
        W[2, :] = rs.uniform(-1, 1, N)
        W = W.tocsr()
    W.eliminate_zeros()
    radius = np.max(np.abs(np.linalg.eigvals(W.toarray()))) if W.nnz else 1.0
    W = (W * (0.9 / radius)).tocsr().astype(dtype)
    W.sort_indices()
    return dict(W=W, W_in=rs.uniform(-1, 1, (N, F)).astype(dtype),
                bias=rs.uniform(-0.5, 0.5, N).astype(dtype),
                W_fb=rs.uniform(-1, 1, (N, n_fb)).astype(dtype))


def run_esn(res, inp, rows=None, leak=0.6, washout=3, indices=None, n_threads=1):
    """The reservoir kernel (``_esn.esn_states``) on the rows ``rows`` of ``inp``.

    ``res`` is a :func:`make_reservoir` dict, ``inp`` a dict of ``U`` (B, T, F),
    ``Y_fb`` (B, T, n_fb), ``x0`` (B, N) and ``lengths`` (B,); ``indices`` replaces the
    CSR column indices. Returns the states (b, T, N), the final states (b, N) and the
    mean states (b, N) of the b rows.
    """
    from tsbptt._kernels._esn import esn_states

    rows = np.arange(len(inp["U"])) if rows is None else np.asarray(rows)
    W = res["W"]
    dtype = W.dtype
    B, T = len(rows), inp["U"].shape[1]
    N = W.shape[0]
    x = inp["x0"][rows].copy()
    states, mean = np.zeros((B, T, N), dtype), np.zeros((B, N), dtype)
    esn_states(np.ascontiguousarray(inp["U"][rows]),
               np.ascontiguousarray(inp["lengths"][rows]), res["W_in"], W.data,
               (W.indices if indices is None else indices).astype(np.int32),
               W.indptr.astype(np.int32), res["bias"], res["W_fb"],
               np.ascontiguousarray(inp["Y_fb"][rows]), leak, x, states=states,
               mean=mean, washout=washout, n_threads=n_threads)
    return states, x, mean


@pytest.fixture(name="assert_sum_close")
def assert_sum_close_fixture():
    """The helper :func:`assert_sum_close` above."""
    return assert_sum_close


@pytest.fixture(name="make_layer")
def make_layer_fixture():
    """The helper :func:`make_layer` above."""
    return make_layer


@pytest.fixture(name="make_lengths")
def make_lengths_fixture():
    """The helper :func:`make_lengths` above."""
    return make_lengths


@pytest.fixture(name="make_data")
def make_data_fixture():
    """The helper :func:`make_data` above."""
    return make_data


@pytest.fixture(name="reference")
def reference_fixture():
    """The helper :func:`reference` above."""
    return reference


@pytest.fixture(name="compiled")
def compiled_fixture():
    """The helper :func:`compiled` above."""
    return compiled


@pytest.fixture(name="assert_matches")
def assert_matches_fixture():
    """The helper :func:`assert_matches` above."""
    return assert_matches


@pytest.fixture(name="assert_all_equal")
def assert_all_equal_fixture():
    """The helper :func:`assert_all_equal` above."""
    return assert_all_equal


@pytest.fixture(name="flat")
def flat_fixture():
    """The helper :func:`flat` above."""
    return flat


@pytest.fixture(name="check_against_reference")
def check_against_reference_fixture():
    """The helper :func:`check_against_reference` above."""
    return check_against_reference


@pytest.fixture(name="pick_clip")
def pick_clip_fixture():
    """The helper :func:`pick_clip` above."""
    return pick_clip


@pytest.fixture(name="make_reservoir")
def make_reservoir_fixture():
    """The helper :func:`make_reservoir` above."""
    return make_reservoir


@pytest.fixture(name="run_esn")
def run_esn_fixture():
    """The helper :func:`run_esn` above."""
    return run_esn
