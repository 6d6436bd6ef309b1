"""The compiled echo-state reservoir against its NumPy twin, and its determinism."""
import numpy as np
import pytest
import scipy.sparse as sp

from tsbptt._kernels import reference
from tsbptt._kernels._esn import ROWS_PER_CHUNK, esn_states, power_log_norms

TOL = {np.float32: 2e-5, np.float64: 1e-12}


def _problem(dtype, B=37, T=9, F=3, N=24, n_fb=0, seed=0, ragged=True):
    rs = np.random.RandomState(seed)
    W = sp.random(N, N, density=0.2, random_state=rs, format="csr", dtype=np.float64)
    W.data = rs.uniform(-1, 1, W.nnz)
    W = (W * (0.9 / np.max(np.abs(np.linalg.eigvals(W.toarray()))))).tocsr().astype(dtype)
    lengths = rs.randint(1, T + 1, B).astype(np.intp) if ragged else np.full(B, T, np.intp)
    return dict(U=rs.randn(B, T, F).astype(dtype), lengths=lengths,
                W_in=rs.uniform(-1, 1, (N, F)).astype(dtype), W=W,
                bias=rs.uniform(-0.5, 0.5, N).astype(dtype),
                W_fb=rs.uniform(-1, 1, (N, n_fb)).astype(dtype),
                Y_fb=rs.randn(B, T, n_fb).astype(dtype), x0=rs.randn(B, N).astype(dtype) * .1)


def _run(p, leak=0.7, washout=2, n_threads=1, rows=None):
    rows = np.arange(len(p["U"])) if rows is None else rows
    B, T, N = len(rows), p["U"].shape[1], p["W_in"].shape[0]
    dtype = p["U"].dtype
    x = p["x0"][rows].copy()
    states, mean = np.zeros((B, T, N), dtype), np.zeros((B, N), dtype)
    W = p["W"]
    esn_states(np.ascontiguousarray(p["U"][rows]), np.ascontiguousarray(p["lengths"][rows]),
               p["W_in"], W.data, W.indices.astype(np.int32), W.indptr.astype(np.int32),
               p["bias"], p["W_fb"], np.ascontiguousarray(p["Y_fb"][rows]), leak, x,
               states=states, mean=mean, washout=washout, n_threads=n_threads)
    return states, x, mean


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_fb", [0, 2])
@pytest.mark.parametrize("N", [24, 23])
def test_matches_numpy_twin(dtype, n_fb, N):
    p = _problem(dtype, n_fb=n_fb, N=N)
    got = _run(p)
    want = reference.esn_forward(p["U"], p["W_in"], p["W"], p["bias"], 0.7,
                                 lengths=p["lengths"], W_fb=p["W_fb"] if n_fb else None,
                                 Y_fb=p["Y_fb"] if n_fb else None, x0=p["x0"], washout=2)
    for g, w in zip(got, want):
        assert g.dtype == dtype
        np.testing.assert_allclose(g, w, rtol=TOL[dtype], atol=TOL[dtype])


def test_one_step_by_hand():
    """x_1 = (1-a) x_0 + a tanh(W_in u + W x_0 + b + W_fb y), written out."""
    p = _problem(np.float64, B=2, T=1, n_fb=1, ragged=False)
    _, x, _ = _run(p, leak=0.25, washout=0)
    pre = (p["U"][:, 0] @ p["W_in"].T + p["x0"] @ p["W"].toarray().T + p["bias"]
           + p["Y_fb"][:, 0] @ p["W_fb"].T)
    np.testing.assert_allclose(x, 0.75 * p["x0"] + 0.25 * np.tanh(pre), rtol=1e-13)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("N", [24, 23])  # 23: the one-row path's single-unit tail too
def test_bitwise_any_thread_count_and_batch(dtype, N):
    p = _problem(dtype, B=3 * ROWS_PER_CHUNK + 5, n_fb=1, N=N)
    base = _run(p, n_threads=1)
    for n_threads in (2, 3, 8):
        for a, b in zip(base, _run(p, n_threads=n_threads)):
            assert np.array_equal(a, b)
    # a row alone, or at another place of another batch, gives the same bits
    for i in (0, 17, len(p["U"]) - 1):
        alone = _run(p, rows=np.array([i]))
        for a, b in zip(base, alone):
            assert np.array_equal(a[i], b[0])
    rows = np.array([5, 40, 2, 19, 33, 1])
    for a, b in zip(base, _run(p, rows=rows)):
        assert np.array_equal(a[rows], b)


def test_washout_and_ragged_rows():
    p = _problem(np.float64, B=4, T=6)
    p["lengths"] = np.array([6, 3, 2, 1], dtype=np.intp)
    states, x, mean = _run(p, washout=2)
    np.testing.assert_array_equal(mean[0], states[0, 2:].mean(axis=0))
    np.testing.assert_allclose(mean[1], states[1, 2], rtol=0)
    assert np.all(mean[2:] == 0)  # no step past the washout
    for b, n in enumerate(p["lengths"]):
        assert np.array_equal(x[b], states[b, n - 1])
        assert np.all(states[b, n:] == 0)


def test_feedback_enters_every_step():
    p = _problem(np.float64, B=2, T=5, n_fb=1, ragged=False)
    states, _, _ = _run(p)
    p["Y_fb"][:, 3] += 1.0
    moved, _, _ = _run(p)
    assert np.array_equal(states[:, :3], moved[:, :3])
    assert np.all(np.abs(moved[:, 3:] - states[:, 3:]).max(axis=2) > 1e-6)


def test_bad_shapes_are_refused():
    p = _problem(np.float64, B=2, T=3)
    W = p["W"]
    args = [p["U"], p["lengths"], p["W_in"], W.data, W.indices.astype(np.int32),
            W.indptr.astype(np.int32), p["bias"], p["W_fb"], p["Y_fb"], 0.5]
    with pytest.raises(ValueError, match=r"x has shape \(2, 5\), expected \(2, 24\)"):
        esn_states(*args, np.zeros((2, 5)))
    bad = list(args)
    bad[1] = np.array([0, 3], dtype=np.intp)
    with pytest.raises(ValueError, match=r"lengths must lie in \[1, 3\]"):
        esn_states(*bad, np.zeros((2, 24)))
    bad = list(args)
    bad[4] = np.full_like(bad[4], 99)
    with pytest.raises(ValueError, match=r"W_indices must lie in \[0, 24\)"):
        esn_states(*bad, np.zeros((2, 24)))
    with pytest.raises(ValueError, match="n_threads >= 1"):
        esn_states(*args, np.zeros((2, 24)), n_threads=0)


def _power_reference(W, steps):
    """The power iteration of power_log_norms in plain NumPy."""
    v, logs = np.full(W.shape[0], 1 / np.sqrt(W.shape[0])), np.full(steps, -np.inf)
    for k in range(steps):
        u = W @ v
        norm = np.sqrt(u @ u)
        if norm == 0:
            break
        logs[k], v = np.log(norm), u / norm
    return logs


def _csr_args(W):
    return W.data, W.indices.astype(np.int32), W.indptr.astype(np.int32)


def test_power_log_norms_against_numpy():
    rs = np.random.RandomState(4)
    W = sp.random(50, 50, density=0.15, random_state=rs, format="csr")
    W.data = rs.uniform(-1, 1, W.nnz)
    got = power_log_norms(*_csr_args(W), 60)
    np.testing.assert_allclose(got, _power_reference(W, 60), rtol=1e-12, atol=1e-12)
    assert np.array_equal(power_log_norms(*_csr_args(W.copy()), 60), got)  # fixed order
    # nilpotent (strictly upper triangular): the norm reaches 0, the rest stays -inf
    N = sp.csr_matrix(np.triu(np.ones((6, 6)), 1))
    logs = power_log_norms(*_csr_args(N), 10)
    want = _power_reference(N, 10)
    assert np.isneginf(logs[5:]).all() and np.isneginf(want[5:]).all()
    np.testing.assert_allclose(logs[:5], want[:5], rtol=1e-12)
    assert power_log_norms(*_csr_args(W), 0).shape == (0,)


def test_power_log_norms_refuses_a_broken_csr():
    W = sp.csr_matrix(np.eye(4))
    data, indices, indptr = _csr_args(W)
    with pytest.raises(ValueError, match="not one square CSR matrix"):
        power_log_norms(data[:3], indices, indptr, 5)
    with pytest.raises(ValueError, match="not one square CSR matrix"):
        power_log_norms(data, indices, indptr, -1)
    with pytest.raises(ValueError, match=r"W_indices must lie in \[0, 4\)"):
        power_log_norms(data, np.full_like(indices, 4), indptr, 5)
    with pytest.raises(ValueError, match="W_indptr must be non-decreasing"):
        power_log_norms(data, indices, np.array([0, 2, 1, 3, 4], np.int32), 5)


@pytest.mark.parametrize("p", [1, 2, 5, 40])
def test_tridiagonal_reflect_is_the_q_of_dsytrd(p):
    """Q X and Q' X against Q formed column by column: G = Q T Q', Q'Q = I."""
    from scipy.linalg import lapack

    from tsbptt._kernels._esn import tridiagonal_reflect
    rs = np.random.RandomState(p)
    A = rs.randn(3 * p + 4, p)
    G = A.T @ A
    c, d, e, tau, _ = lapack.dsytrd(G, lower=1)
    Q = np.eye(p)
    tridiagonal_reflect(c, tau, Q, False)
    T = np.diag(d) + np.diag(e, 1) + np.diag(e, -1)
    np.testing.assert_allclose(Q @ T @ Q.T, G, rtol=0, atol=1e-12 * np.abs(G).max())
    np.testing.assert_allclose(Q.T @ Q, np.eye(p), rtol=0, atol=1e-14)
    X = rs.randn(p, 3)
    Y = X.copy()
    tridiagonal_reflect(c, tau, Y, True)
    np.testing.assert_allclose(Y, Q.T @ X, rtol=0, atol=1e-13)
    with pytest.raises(ValueError, match=r"c must be"):
        tridiagonal_reflect(c, tau[:0] if p > 1 else np.zeros(1), Y, True)
