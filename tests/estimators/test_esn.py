"""ESNRegressor: values against the NumPy reservoir, determinism, input forms,
the stateful mode, errors by message, and scikit-learn's estimator checks."""
import re

import numpy as np
import pandas as pd
import pytest
import scipy
import scipy.sparse as sp
from sklearn.linear_model import Ridge
from sklearn.utils.estimator_checks import (check_dataframe_column_names_consistency,
                                            check_param_validation,
                                            parametrize_with_checks)

from tsbptt import ESNRegressor, load_model, save_model
from tsbptt._kernels import reference
from tsbptt.datasets import make_mackey_glass
from tsbptt.estimators._esn import DEFAULT_ALPHAS, ridge_gcv

SMALL = dict(n_reservoir=40, dtype="float64", random_state=0)


def _windows(n=120, T=12, seed=0):
    rs = np.random.RandomState(seed)
    s = np.cumsum(rs.randn(n + T + 1)) * 0.3 + np.sin(np.arange(n + T + 1) / 3)
    X = s[np.arange(n)[:, None] + np.arange(T)]
    return X, s[T:T + n]


# -- scikit-learn ----------------------------------------------------------------------
def _expected_failures(est):
    if est.alpha is DEFAULT_ALPHAS:
        return {"check_sample_weight_equivalence_on_dense_data":
                "on the check's few rows (fewer than the readout's 40 features) GCV "
                "picks a tiny penalty (1e-10 .. 1e-8) and the float64 solve is "
                "ill-conditioned: weights and repetitions agree to ~1e-5, not 1e-7 "
                "(they pass with alpha >= 1e-6, and the GCV choice itself is exactly "
                "weight-equivariant: test_alpha_is_chosen_by_generalized_cross_val...)"}
    return {}


CHECKED = [ESNRegressor(n_reservoir=30, random_state=0),
           ESNRegressor(n_reservoir=60, alpha=1e-3, dtype="float32", random_state=0)]


@parametrize_with_checks(CHECKED, expected_failed_checks=_expected_failures)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.mark.parametrize("check", [check_param_validation,
                                   check_dataframe_column_names_consistency])
def test_checks_that_check_estimator_leaves_out(check):
    check("ESNRegressor", ESNRegressor(n_reservoir=20, random_state=0))


# -- values ----------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("state", ["final", "mean"])
def test_predictions_are_a_ridge_over_the_numpy_reservoir(dtype, state):
    X, y = _windows()
    est = ESNRegressor(**{**SMALL, "dtype": dtype}, alpha=1e-4, leak_rate=0.6, washout=3,
                       state=state, include_inputs=True).fit(X, y)
    U = ((X - X.mean()) / X.std())[:, :, None].astype(dtype)
    _, final, mean = reference.esn_forward(U, est.W_in_, est.W_, est.bias_, 0.6,
                                           washout=3)
    Phi = np.hstack([final if state == "final" else mean, U[:, -1]]).astype(np.float64)
    want = Ridge(alpha=1e-4).fit(Phi, y).predict(Phi)
    tol = 1e-9 if dtype == "float64" else 2e-3
    np.testing.assert_allclose(est.predict(X), want, rtol=tol, atol=tol)
    assert est.alpha_ == 1e-4 and est.coef_.shape == (1, 41)


def test_include_inputs_window_reads_the_whole_window():
    X, y = _windows()
    est = ESNRegressor(**SMALL, alpha=1e-4).fit(X, y)  # 'auto': 2D windows
    U = ((X - X.mean()) / X.std())[:, :, None]
    _, final, _ = reference.esn_forward(U, est.W_in_, est.W_, est.bias_, 1.0)
    Phi = np.hstack([final, U[:, :, 0]])
    np.testing.assert_allclose(est.predict(X), Ridge(alpha=1e-4).fit(Phi, y).predict(Phi),
                               rtol=1e-9, atol=1e-9)
    assert est.coef_.shape == (1, 40 + 12)
    # 'auto' on a list is the last step's inputs; 'window' refuses ragged lists
    seqs = [X[i, :6 + i % 5, None] for i in range(len(X))]
    assert ESNRegressor(**SMALL).fit(seqs, y).coef_.shape == (1, 41)
    with pytest.raises(ValueError, match=r"include_inputs='window' needs sequences of "
                                         r"the 10 steps of the training data"):
        ESNRegressor(**SMALL, include_inputs="window").fit(seqs, y)
    est3 = ESNRegressor(**SMALL, include_inputs="window").fit(X[:, :, None], y)
    with pytest.raises(ValueError, match="needs sequences of the 12 steps"):
        est3.predict(X[:, :8, None])


def test_reservoir_has_the_asked_spectral_radius_and_sparsity():
    est = ESNRegressor(n_reservoir=200, spectral_radius=0.7, sparsity=0.95,
                       random_state=1).fit(*_windows())
    W = est.W_.toarray()
    # above DENSE_EIGEN_MAX units the radius is a power-iteration estimate
    assert np.max(np.abs(np.linalg.eigvals(W))) == pytest.approx(0.7, rel=0.03)
    small = ESNRegressor(n_reservoir=40, spectral_radius=0.7, sparsity=0.8,
                         random_state=1).fit(*_windows())
    assert np.max(np.abs(np.linalg.eigvals(small.W_.toarray()))) == pytest.approx(
        0.7, rel=1e-5)  # exact (float32 weights)
    assert np.mean(W != 0) == pytest.approx(0.05, abs=0.005)
    assert np.abs(est.W_in_).max() <= 0.3 and np.abs(est.bias_).max() <= 0.5


def test_alpha_is_chosen_by_generalized_cross_validation():
    rs = np.random.RandomState(0)
    Phi, w = rs.randn(60, 8), rs.uniform(0.5, 2, 60)
    y = Phi @ rs.randn(8) + 0.3 * rs.randn(60) + 4.0
    alphas = [1e-3, 0.1, 3.0, 30.0, 300.0]
    coef, intercept, chosen = ridge_gcv(Phi, y, w, alphas)
    # brute force: the weighted hat matrix of ridge with an unpenalised intercept
    D = np.c_[np.ones(60), Phi] * np.sqrt(w)[:, None]
    b = y * np.sqrt(w)
    scores = []
    for a in alphas:
        H = D @ np.linalg.solve(D.T @ D + a * np.diag([0] + [1] * 8), D.T)
        r = b - H @ b
        scores.append(w.sum() * (r @ r) / (w.sum() - np.trace(H)) ** 2)
    assert chosen == alphas[int(np.argmin(scores))]
    want = Ridge(alpha=chosen).fit(Phi, y, sample_weight=w)
    np.testing.assert_allclose(coef[:, 0], want.coef_, rtol=1e-9)
    np.testing.assert_allclose(intercept, want.intercept_, rtol=1e-9)
    # a weight of 2 is a repeated row, exactly in the choice
    twice = np.r_[Phi, Phi[:10]], np.r_[y, y[:10]]
    w2 = np.r_[w, w[:10]]
    w_rep = w.copy()
    w_rep[:10] *= 2
    assert ridge_gcv(*twice, w2, alphas)[2] == ridge_gcv(Phi, y, w_rep, alphas)[2]
    X, y = _windows()
    est = ESNRegressor(**SMALL, alpha=(1e-6, 1e-2, 10.0)).fit(X, y)
    fixed = ESNRegressor(**SMALL, alpha=est.alpha_).fit(X, y)
    np.testing.assert_allclose(est.predict(X), fixed.predict(X), rtol=1e-9)


def test_gcv_spends_at_most_half_the_samples_degrees_of_freedom():
    # few samples beside the features: GCV chose 90.6 degrees of freedom of 105,
    # and a stateful forecast that fed the readout's own forecasts back reached
    # 75,163 for weekly counts below 2,757 (an epidemiologist's trial)
    rs = np.random.RandomState(1)
    Phi = np.tanh(rs.randn(40, 80) @ rs.randn(80, 80) * 0.2)
    y = Phi[:, 0] + 0.05 * rs.randn(40)
    alphas = [10.0 ** k for k in range(-10, 3)]
    _, _, chosen = ridge_gcv(Phi, y, None, alphas)
    A = Phi - Phi.mean(axis=0)
    s = np.linalg.svd(A, compute_uv=False) ** 2
    dof = {a: 1 + np.sum(s / (s + a)) for a in alphas}
    allowed = [a for a in alphas if dof[a] <= 20]
    assert chosen in allowed
    scores = {}
    for a in allowed:  # brute force, as above, over the allowed ones
        D = np.c_[np.ones(40), Phi]
        H = D @ np.linalg.solve(D.T @ D + a * np.diag([0] + [1] * 80), D.T)
        r = y - H @ y
        scores[a] = 40 * (r @ r) / (40 - np.trace(H)) ** 2
    assert chosen == min(scores, key=scores.get)
    assert min(alphas, key=lambda a: dof[a] if dof[a] > 20 else np.inf) < chosen
    # none allowed: the largest penalty
    assert ridge_gcv(Phi[:3], y[:3], None, [1e-10, 1e-8])[2] == 1e-8


def test_a_stateful_forecast_of_a_short_series_stays_in_its_range():
    from tsbptt import Forecaster
    rng = np.random.default_rng(0)
    t = np.arange(208)
    mu = 900 * np.exp(2 * np.cos(2 * np.pi * t / 52.18)) / np.exp(2)
    idx = pd.date_range("2018-01-06", periods=208, freq="W-SAT")
    y = pd.Series(rng.negative_binomial(3, 3 / (3 + mu)).astype(float), index=idx)
    f = Forecaster(ESNRegressor(random_state=0), horizon=4, strategy="stateful").fit(y)
    assert np.abs(f.predict().to_numpy()).max() < 2 * y.max()


@pytest.mark.parametrize("solver", ["dstevd", "eigh_tridiagonal"])
@pytest.mark.parametrize("p, k", [(1, 1), (2, 1), (3, 2), (60, 1)])
@pytest.mark.parametrize("alpha", [0.0, 1e-6, None])
def test_ridge_gcv_matches_the_eigh_path(p, k, alpha, solver, monkeypatch):
    """The readout's LAPACK steps (dsytrd, dstevd, Q on two vectors) give what
    numpy's eigh of the same Gram matrix gives: the same GCV choice and the
    solution to 1e-10; so does the tridiagonal step SciPy before 1.16 takes
    (no dstevd wrapper there: eigh_tridiagonal's stemr, forced on any SciPy)."""
    from tsbptt.estimators import _esn_readout
    from tsbptt.estimators._esn_readout import _centred_gram, _gcv_choice
    if solver == "dstevd" and _esn_readout._DSTEVD is None:
        pytest.skip("this SciPy wraps no dstevd (before 1.16)")
    if solver == "eigh_tridiagonal":
        monkeypatch.setattr(_esn_readout, "_DSTEVD", None)
    rs = np.random.RandomState(p + k)
    Phi = rs.randn(200, p) + 3.0
    Y = Phi @ rs.randn(p, k) + 0.1 * rs.randn(200, k)
    w = rs.uniform(0.5, 2, 200)
    alphas = list(DEFAULT_ALPHAS) if alpha is None else [alpha]
    coef, intercept, chosen = ridge_gcv(Phi, Y, w, alphas)
    n = w.sum()
    x_mean, y_mean = w @ Phi / n, w @ Y / n
    b = (Y - y_mean) * np.sqrt(w)[:, None]
    G, q = _centred_gram([Phi], x_mean, np.sqrt(w), b)
    s, V = np.linalg.eigh(G)
    s = np.maximum(s, 0.0)
    Q = V.T @ q
    assert chosen == _gcv_choice(s, Q, float(np.sum(b * b)), n, alphas)
    if chosen > 0:
        gain = 1.0 / (s + chosen)
    else:
        gain = np.where(s > s.max() * len(s) * np.finfo(float).eps, 1.0 / s, 0.0)
    want = V @ (Q * gain[:, None])
    np.testing.assert_allclose(coef, want, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(intercept, y_mean - x_mean @ want, rtol=1e-10,
                               atol=1e-12)


def _ridge_gcv_by_svd(Phi, y, w, alphas):
    """The readout through an SVD of the centred, weighted design matrix, the
    residuals of every candidate formed explicitly: the reference of ridge_gcv."""
    w = np.ones(len(Phi)) if w is None else w
    n, sw = w.sum(), np.sqrt(w)
    x_mean, y_mean = w @ Phi / n, w @ y / n
    U, sig, Vt = np.linalg.svd((Phi - x_mean) * sw[:, None], full_matrices=False)
    b = (y - y_mean) * sw
    Ub = U.T @ b
    scores = []
    for a in alphas:
        r = b - U @ (sig ** 2 / (sig ** 2 + a) * Ub)
        dof = 1 + np.sum(sig ** 2 / (sig ** 2 + a))
        scores.append(n * (r @ r) / (n - dof) ** 2)
    a = alphas[int(np.argmin(scores))]
    coef = Vt.T @ (sig / (sig ** 2 + a) * Ub)
    return coef, y_mean - x_mean @ coef, a


@pytest.mark.parametrize("weighted", [False, True])
def test_gram_readout_matches_the_svd_path(weighted):
    from tsbptt.estimators._esn_readout import GRAM_ROWS
    rs = np.random.RandomState(3)
    n, p = 2 * GRAM_ROWS + 77, 30  # two full panels and a partial one
    Phi = np.tanh(rs.randn(n, p) @ rs.randn(p, p) * 0.4 + rs.uniform(-1, 1, p))
    Phi[:, 20:] = Phi[:, :10] + 1e-3 * rs.randn(n, 10)  # nearly collinear: cond ~2.5e3
    y = Phi @ rs.randn(p) + 0.3 * np.sin(3 * Phi[:, 0]) + 0.01 * rs.randn(n) + 2.0
    w = rs.uniform(0.2, 3.0, n) if weighted else None
    alphas = list(DEFAULT_ALPHAS)
    want_coef, want_icpt, want_a = _ridge_gcv_by_svd(Phi, y, w, alphas)
    assert 1e-10 < want_a < 100  # an interior choice, not an end of the grid
    coef, icpt, a = ridge_gcv(Phi, y, w, alphas)
    assert a == want_a
    np.testing.assert_allclose(coef[:, 0], want_coef, rtol=1e-8,
                               atol=1e-8 * np.abs(want_coef).max())
    np.testing.assert_allclose(icpt, [want_icpt], rtol=1e-8)
    # column blocks: the same bits as the whole matrix (weighted: the means are
    # BLAS products over the blocks, summed in a blocking of their own; ~1e-16 in
    # the mean, times the conditioning)
    split = ridge_gcv([Phi[:, :7], Phi[:, 7:]], y, w, alphas)
    tol = 1e-9 if weighted else 0.0
    np.testing.assert_allclose(split[0], coef, rtol=0, atol=tol * np.abs(coef).max())
    np.testing.assert_allclose(split[1], icpt, rtol=tol)
    # float32 features: the Gram is accumulated in float64 from the float32 values
    P32 = Phi.astype(np.float32)
    c32, i32, a32 = ridge_gcv([P32[:, :7], P32[:, 7:]], y, w, alphas)
    ref32 = _ridge_gcv_by_svd(P32.astype(np.float64), y, w, alphas)
    assert a32 == ref32[2]
    np.testing.assert_allclose(c32[:, 0], ref32[0], rtol=1e-8,
                               atol=1e-8 * np.abs(ref32[0]).max())
    np.testing.assert_allclose(i32, [ref32[1]], rtol=1e-8)


def test_bitwise_for_any_thread_count_and_batch():
    X, y = _windows(n=70)
    runs = [ESNRegressor(**SMALL, n_threads=n).fit(X, y) for n in (1, 2, 3)]
    for est in runs[1:]:
        assert np.array_equal(est.coef_, runs[0].coef_)
        assert np.array_equal(est.predict(X), runs[0].predict(X))
    alone = np.concatenate([runs[0].predict(X[i:i + 1]) for i in range(len(X))])
    assert np.array_equal(alone, runs[0].predict(X))
    other = ESNRegressor(n_reservoir=40, random_state=1).fit(X, y)
    assert not np.array_equal(other.W_in_, runs[0].W_in_)


def test_input_forms_agree():
    X, y = _windows()
    Y = np.c_[y, 2 * y]
    est2d = ESNRegressor(**SMALL, alpha=1e-3).fit(X, Y)  # 'auto' is 'window' here
    est3d = ESNRegressor(**SMALL, alpha=1e-3, include_inputs="window").fit(X[:, :, None], Y)
    assert est2d.predict(X).shape == (len(X), 2)
    np.testing.assert_allclose(est3d.predict(X[:, :, None]), est2d.predict(X), rtol=1e-12)
    # ragged: each sequence predicts as it would alone, padding changes nothing
    seqs = [X[i, :6 + i % 5, None] for i in range(len(X))]
    est = ESNRegressor(**SMALL, alpha=1e-3).fit(seqs, y)
    batch = est.predict(seqs)
    for i in (0, 3, 9):
        np.testing.assert_allclose(est.predict([seqs[i]]), batch[i:i + 1], rtol=1e-12)


def test_multichannel_windows_are_time_major():
    rs = np.random.RandomState(0)
    X3 = rs.randn(80, 7, 2)
    y = X3[:, -1, 0] - X3[:, -2, 1]
    flat = ESNRegressor(**SMALL, n_channels=2).fit(X3.reshape(80, 14), y)
    seq = ESNRegressor(**SMALL, include_inputs="window").fit(X3, y)
    np.testing.assert_allclose(flat.predict(X3.reshape(80, 14)), seq.predict(X3),
                               rtol=1e-12)


# -- the stateful mode -------------------------------------------------------------------
def test_fit_series_is_teacher_forced_on_the_numpy_reservoir():
    s = make_mackey_glass(600)
    est = ESNRegressor(**SMALL, output_feedback=True, washout=50, alpha=1e-6)
    est.fit_series(s[:400])
    ys = ((s[:400] - s[:400].mean()) / s[:400].std())[:, None]
    fb = np.r_[np.zeros((1, 1)), ys[:-1]][None]
    states, final, _ = reference.esn_forward(np.zeros((1, 400, 0)), est.W_in_, est.W_,
                                             est.bias_, 1.0, W_fb=est.W_fb_, Y_fb=fb)
    np.testing.assert_allclose(est.reservoir_state_, final[0], rtol=1e-10, atol=1e-12)
    want = Ridge(alpha=1e-6).fit(states[0, 50:], s[50:400])
    S = states[0, 50:]
    np.testing.assert_allclose(S @ est.coef_[0] + est.intercept_, want.predict(S),
                               rtol=0, atol=1e-8)
    # update_series continues the run: two updates give the bits of one
    other = ESNRegressor(**SMALL, output_feedback=True, washout=50, alpha=1e-6)
    other.fit_series(s[:400])
    pred = est.update_series(s[400:500])
    assert np.sqrt(np.mean((pred - s[400:500]) ** 2)) / s.std() < 1e-2
    np.testing.assert_array_equal(np.r_[other.update_series(s[400:430]),
                                        other.update_series(s[430:500])], pred)
    np.testing.assert_array_equal(est.reservoir_state_, other.reservoir_state_)
    fb = np.r_[np.zeros((1, 1)), ((s[:499] - s[:400].mean()) / s[:400].std())[:, None]]
    _, final, _ = reference.esn_forward(np.zeros((1, 500, 0)), est.W_in_, est.W_,
                                        est.bias_, 1.0, W_fb=est.W_fb_, Y_fb=fb[None])
    np.testing.assert_allclose(est.reservoir_state_, final[0], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_stateful_fit_is_bitwise_the_same_on_every_instruction_set(dtype, monkeypatch):
    """The one-row kernel path picks AVX-512F, AVX2 or plain C at run time; the
    fitted readout, the state and the forecasts are the same bits with each."""
    from tsbptt._kernels import _esn as kernel
    s = make_mackey_glass(500)
    fits = []
    for isa in range(kernel.ROW_ISA_AVAILABLE + 1):
        monkeypatch.setattr(kernel, "ROW_ISA", isa)
        est = ESNRegressor(n_reservoir=50, dtype=dtype, random_state=1,
                           output_feedback=True, washout=20).fit_series(s[:400])
        fits.append((est.coef_, est.intercept_, est.reservoir_state_,
                     est.predict_series(10), est.update_series(s[400:450])))
    for other in fits[1:]:
        for a, b in zip(fits[0], other):
            assert np.array_equal(a, b)


def test_predict_series_feeds_its_predictions_back():
    s = make_mackey_glass(700)
    est = ESNRegressor(**SMALL, output_feedback=True, washout=50).fit_series(s[:600])
    state = est.reservoir_state_.copy()
    f = est.predict_series(5)
    np.testing.assert_array_equal(est.reservoir_state_, state)  # forecasting keeps it
    first = est.update_series(s[600:601])  # one step ahead = the first forecast
    assert f[0] == pytest.approx(first[0], rel=1e-12)
    assert np.abs(f - s[600:605]).max() < 0.05


def test_fit_series_with_exogenous_inputs():
    rs = np.random.RandomState(0)
    X = rs.randn(500, 2)
    y = 0.5 * X[:, 0] - X[:, 1]  # X[t] drives y[t]: the readout's input part
    est = ESNRegressor(**SMALL, alpha=1e-10).fit_series(y[:400], X[:400])
    pred = est.predict_series(X=X[400:])
    assert pred.shape == (100,)
    assert np.abs(pred - y[400:]).max() < 1e-4
    with pytest.raises(ValueError, match="fitted with 2 exogenous input columns; X gives 0"):
        est.predict_series(3)


def test_an_input_beyond_float32_is_refused_and_the_state_kept():
    # a glitch of 1e39 (finite in float64) became inf in float32: update_series
    # returned NaN and kept a NaN state, so every later forecast was NaN
    t = np.arange(400)
    y, X = np.sin(t / 7), np.c_[np.cos(t / 7), np.sin(t / 5)]
    est = ESNRegressor(30, random_state=0, output_feedback=True).fit_series(y[:390], X[:390])
    state = est.reservoir_state_.copy()
    expected = est.predict_series(X=X[390:393])
    glitch = X[390:391].copy()
    glitch[0] = [1e39, 1e39]
    with pytest.raises(ValueError, match=r"X has values beyond the float32 range once "
                                         r"standardised \(largest magnitude 1\.\d+e\+39"):
        est.update_series(y[390:391], glitch)
    with pytest.raises(ValueError, match="y has values beyond the float32 range"):
        est.update_series(np.array([1e39]), X[390:391])
    np.testing.assert_array_equal(est.reservoir_state_, state)
    np.testing.assert_array_equal(est.predict_series(X=X[390:393]), expected)


@pytest.mark.parametrize("method", ["fit_series", "update_series"])
def test_the_last_value_fed_back_is_the_models_own_copy(method):
    # with output_feedback the last observed y starts predict_series; the model kept
    # a view of the caller's array, so reusing that buffer changed the forecasts
    y = np.sin(np.arange(300) / 7)
    est = ESNRegressor(**SMALL, output_feedback=True, washout=20).fit_series(y[:250])
    buffer = y[250:260].copy()
    if method == "fit_series":
        buffer = y[:250].copy()
        est = ESNRegressor(**SMALL, output_feedback=True, washout=20).fit_series(buffer)
    else:
        est.update_series(buffer)
    expected = est.predict_series(5)
    buffer[:] = 100.0
    np.testing.assert_array_equal(est.predict_series(5), expected)


# -- errors ----------------------------------------------------------------------------
@pytest.mark.parametrize("params, match", [
    (dict(leak_rate=0.0), r"'leak_rate' parameter of ESNRegressor must be a float in "
                          r"the range \(0.0, 1.0\]"),
    (dict(sparsity=1.0), "'sparsity' parameter"),
    (dict(n_reservoir=0), "'n_reservoir' parameter"),
    (dict(n_reservoir=True), "'n_reservoir' parameter of ESNRegressor must be"),
    (dict(alpha=[1.0, -1.0]), "'alpha' parameter of ESNRegressor must be a float >= 0 "
                              "or a non-empty 1D sequence of finite floats > 0"),
    (dict(state="all"), "'state' parameter"),
    (dict(output_feedback=True), "output_feedback=True feeds the previous target back"),
    (dict(state="mean", washout=12), r"washout=12 leaves no step of the shortest "
                                     r"sequence \(12 steps\)"),
    # scalings beyond float32 once made inf weights, NaN predictions and a file
    # that load_model refused
    # (1e39 itself: the largest weight of a radius-1e39 reservoir is ~3e38 in some
    # draws, below float32's 3.4e38, and the test passed or failed with the draw)
    (dict(spectral_radius=1e41), r"spectral_radius=1e\+41 overflows the reservoir's "
                                 r"float32 weights"),
    (dict(input_scaling=1e300), r"input_scaling=1e\+300 overflows"),
    (dict(bias_scaling=1e39), r"bias_scaling=1e\+39 overflows"),
    (dict(n_reservoir=10**6),
     r"n_reservoir=1000000 needs [\d.e+]+ GiB for the draw of its reservoir"),
])
def test_bad_parameters_are_refused_by_name(params, match):
    with pytest.raises(ValueError, match=match):
        ESNRegressor(**params).fit(*_windows())


def test_bad_sample_weights_leave_no_model():
    X, y = _windows()
    est = ESNRegressor(**SMALL, scale_inputs=False)
    # scikit-learn 1.8+ refuses all-zero weights itself; before, the readout does
    with pytest.raises(ValueError, match="at least one non-zero|sample_weight must be "
                                         ">= 0 with a positive sum, got weights from 0 to 0"):
        est.fit(X, y, sample_weight=np.zeros(len(X)))
    w = np.ones(len(X))
    w[3] = -1.0
    with pytest.raises(ValueError, match="sample_weight must be >= 0, got -1.0 for sample 3"):
        est.fit(X, y, sample_weight=w)
    with pytest.raises(ValueError, match="sample_weight sums to more than the float64 "
                                         "range"):
        est.fit(X, y, sample_weight=np.full(len(X), 1e308))
    assert not hasattr(est, "coef_")


def test_mode_errors():
    X, y = _windows()
    with pytest.raises(ValueError, match="fit_series without X needs output_feedback"):
        ESNRegressor().fit_series(y)
    with pytest.raises(ValueError, match="washout=200 leaves none of the 120 steps"):
        ESNRegressor(output_feedback=True, washout=200).fit_series(y)
    est = ESNRegressor(**SMALL).fit(X, y)
    with pytest.raises(ValueError, match="fitted on windows; call fit_series"):
        est.predict_series(3)
    est = ESNRegressor(**SMALL, output_feedback=True).fit_series(y)
    with pytest.raises(ValueError, match="fitted with fit_series; use predict_series"):
        est.predict(X)
    with pytest.raises(ValueError, match="n_steps must be a positive int, got 0"):
        est.predict_series(0)
    with pytest.raises(ValueError, match="X has 3 rows but y has 4 steps"):
        ESNRegressor(**SMALL).fit_series(y[:4], np.ones((3, 1)))


def test_saving_a_ridge_is_refused_before_a_file_is_written(tmp_path):
    from tsbptt import save_model
    X = np.random.default_rng(0).normal(size=(30, 6))
    with pytest.raises(TypeError, match="estimator: save_model writes tsbptt's recurrent "
                                        "estimators; a Ridge has no saved form"):
        save_model(Ridge().fit(X, X[:, -1]), tmp_path / "r.npz")
    assert not list(tmp_path.iterdir())  # ESNs are saved: test_esn_saving.py


@pytest.mark.parametrize("N", [100, 300])
def test_power_iteration_estimates_the_spectral_radius(N):
    import scipy.sparse as sp

    from tsbptt.estimators._esn_spectral import spectral_radius
    for seed in range(3):
        rs = np.random.RandomState(seed)
        W = sp.random(N, N, density=0.1, format="csr", random_state=rs,
                      data_rvs=lambda k: rs.uniform(-1, 1, k))
        exact = np.max(np.abs(np.linalg.eigvals(W.toarray())))
        est = spectral_radius(W)
        assert est == pytest.approx(exact, rel=0.03)
        assert spectral_radius(W.copy()) == est  # a fixed sequence of products
    assert spectral_radius(sp.csr_matrix(np.triu(np.ones((80, 80)), 1))) == 0.0


# -- per-step targets (sequence to sequence) --------------------------------------------
def _per_step_problem(seed=0, B=3, T=40, F=2):
    rs = np.random.RandomState(seed)
    X = rs.randn(B, T, F)
    Y = 0.5 * X[..., 0] + 0.3 * np.concatenate([np.zeros((B, 1)), X[:, :-1, 1]], axis=1)
    return X, Y


def test_per_step_fit_is_a_ridge_on_every_steps_state():
    X, Y = _per_step_problem()
    est = ESNRegressor(**SMALL, washout=4, alpha=1e-3, per_step=True).fit(X, Y)
    assert est.per_step_ and est.coef_.shape == (1, 40 + 2)
    U = (X - est.input_mean_) / est.input_scale_
    states = reference.esn_forward(U, est.W_in_, est.W_, est.bias_, 1.0)[0]
    Phi = np.concatenate([states, U], axis=2)[:, 4:].reshape(-1, 42)
    want = Ridge(1e-3).fit(Phi, Y[:, 4:].ravel())
    np.testing.assert_allclose(est.coef_[0], want.coef_, rtol=1e-6, atol=1e-8)
    pred = est.predict(X)
    assert pred.shape == Y.shape
    np.testing.assert_allclose(pred[:, 4:].ravel(), want.predict(Phi), atol=1e-8)
    assert np.sqrt(np.mean((pred[:, 4:] - Y[:, 4:]) ** 2)) < 0.1 * Y.std()


def test_predict_sequence_in_pieces_equals_one_run_bitwise():
    X, Y = _per_step_problem()
    est = ESNRegressor(n_reservoir=40, random_state=0, per_step=True).fit(X, Y)
    whole = est.predict(X)
    p1, states = est.predict_sequence(X[:, :13])
    p2, _ = est.predict_sequence(X[:, 13:], states)
    assert np.array_equal(np.concatenate([p1, p2], axis=1), whole)
    alone, _ = est.predict_sequence(X[2:3])  # the one-row kernel path
    assert np.array_equal(alone[0], whole[2])
    with pytest.raises(ValueError, match=r"initial_states must be \[\(x,\)\]"):
        est.predict_sequence(X[:, :3], [(np.zeros((2, 40)),)])
    x = states[0][0]
    with pytest.raises(ValueError, match=r"got \[\(\(\d+, 40\), \(3,\)\)\]"):
        est.predict_sequence(X[:, 13:], [(x, np.zeros(3))])
    with pytest.raises(ValueError, match="initial_states contains NaN or infinity"):
        est.predict_sequence(X[:, 13:], [(np.where(np.arange(40) == 3, np.nan, x),)])
    twin = ESNRegressor(n_reservoir=40, random_state=0, per_step=True).fit(X, Y)  # same reservoir
    np.testing.assert_array_equal(twin.predict_sequence(X[:, 13:], states)[0], p2)
    est.fit(X[:, ::-1] * 2, Y)  # the same draws, another input scaling
    with pytest.raises(ValueError, match="initial_states was computed by another network"):
        est.predict_sequence(X[:, 13:], states)
    windows = ESNRegressor(**SMALL).fit(*_windows())
    with pytest.raises(ValueError, match="needs a model fitted with per-step targets"):
        windows.predict_sequence(X)
    with pytest.raises(ValueError, match="washout=40 leaves no step"):
        ESNRegressor(**SMALL, washout=40).fit(X, Y)


def test_mackey_glass_targets_of_the_issue():
    """Issue #19: tau=17, 48-step windows, 3,000 for training, one step ahead:
    NRMSE <= 3e-4 and <= a third of a ridge on the same windows (defaults; the
    reservoir's radius from the power iteration)."""
    y = make_mackey_glass(3000 + 500 + 48)
    X = np.lib.stride_tricks.sliding_window_view(y[:-1], 48)
    t = y[48:]
    est = ESNRegressor(random_state=0, n_threads=1).fit(X[:3000], t[:3000])
    nrmse = np.sqrt(np.mean((est.predict(X[3000:]) - t[3000:]) ** 2)) / np.std(t[3000:])
    from sklearn.linear_model import RidgeCV
    ridge = RidgeCV(alphas=DEFAULT_ALPHAS).fit(X[:3000], t[:3000])
    ridge_nrmse = np.sqrt(np.mean((ridge.predict(X[3000:]) - t[3000:]) ** 2)) / np.std(
        t[3000:])
    assert nrmse <= 3e-4 and nrmse <= ridge_nrmse / 3, (nrmse, ridge_nrmse)


@pytest.mark.parametrize("n", [1, 2, 17, 65, 200])
@pytest.mark.parametrize("density", [0.0, 0.01, 0.1, 0.5, 1.0])
def test_random_reservoir_is_scipys_draw_bit_for_bit(n, density):
    from tsbptt.estimators._esn_spectral import random_reservoir
    for seed in range(3):
        rs_scipy, rs_ours = np.random.RandomState(seed), np.random.RandomState(seed)
        want = sp.random(n, n, density=density, format="csr", random_state=rs_scipy,
                         data_rvs=lambda k: rs_scipy.uniform(-1.0, 1.0, k))
        got = random_reservoir(n, density, rs_ours)
        np.testing.assert_array_equal(got.data.view(np.int64), want.data.view(np.int64))
        np.testing.assert_array_equal(got.indices, want.indices)
        np.testing.assert_array_equal(got.indptr, want.indptr)
        assert got.indices.dtype == np.int32 and got.shape == (n, n)
        assert rs_ours.randint(2 ** 30) == rs_scipy.randint(2 ** 30)  # same state after


def test_parameter_names_are_each_class_own():
    from sklearn.base import BaseEstimator, clone

    class Wider(ESNRegressor):
        def __init__(self, n_reservoir=200, extra=1, **kwargs):
            super().__init__(n_reservoir=n_reservoir, **kwargs)
            self.extra = extra

    ESNRegressor().get_params()                    # the parent's names read first
    assert "extra" in Wider().get_params() and "extra" not in ESNRegressor().get_params()
    est = clone(Wider(extra=5).set_params(n_reservoir=7))
    assert (est.extra, est.n_reservoir) == (5, 7)
    for cls in (ESNRegressor, Wider):               # sklearn's own reading, each
        assert cls._get_param_names() == BaseEstimator._get_param_names.__func__(cls)


@pytest.mark.parametrize(("n", "sparsity"), [(350, 0.001), (175, 0.004)])
def test_random_reservoir_rounds_its_count_as_scipy_1_17(n, sparsity):
    # Pairs where density * n * n and density * (n * n) round apart: the count is
    # the latter's, whatever SciPy is installed; SciPy >= 1.17 draws the same.
    from tsbptt.estimators._esn_spectral import random_reservoir
    density = 1.0 - sparsity                       # as ESNRegressor passes it
    assert round(density * n * n) != round(density * (n * n))
    got = random_reservoir(n, density, np.random.RandomState(0))
    assert got.nnz == round(density * (n * n))
    if tuple(int(v) for v in scipy.__version__.split(".")[:2]) >= (1, 17):
        rs = np.random.RandomState(0)
        want = sp.random(n, n, density=density, format="csr", random_state=rs,
                         data_rvs=lambda k: rs.uniform(-1.0, 1.0, k))
        np.testing.assert_array_equal(got.indices, want.indices)
        np.testing.assert_array_equal(got.data, want.data)


def test_state_mean_refuses_sequences_the_washout_leaves_empty_at_predict_too():
    # fit refused them, predict read a zero mean state: the intercept alone
    rng = np.random.RandomState(0)
    X = [rng.standard_normal((12, 1)) for _ in range(60)]
    y = np.array([x[-3:, 0].sum() for x in X])
    est = ESNRegressor(20, state="mean", washout=5, random_state=0).fit(X, y)
    with pytest.raises(ValueError, match=r"washout=5 leaves no step of the shortest "
                                         r"sequence \(3 steps\) for state='mean'"):
        est.predict([rng.standard_normal((n, 1)) for n in (8, 3, 6)])
    assert est.predict([rng.standard_normal((n, 1)) for n in (6, 9)]).shape == (2,)


@pytest.mark.parametrize("change", [dict(state="mean"), dict(leak_rate=0.2),
                                    dict(include_inputs=True), dict(n_reservoir=50)])
def test_set_params_after_fit_is_refused_by_name_at_predict_and_save(change, tmp_path):
    # predict read these from the parameters: other predictions (state, leak_rate)
    # or NumPy's shape errors, and save wrote a file that predicted otherwise
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 8, 1))
    y = X[:, -1, 0]
    est = ESNRegressor(30, include_inputs=False, random_state=0).fit(X, y)
    before = est.predict(X)
    name, value = next(iter(change.items()))
    est.set_params(**change)
    for act in (lambda: est.predict(X), lambda: save_model(est, tmp_path / "m.npz")):
        with pytest.raises(ValueError, match=re.escape(
                f"{name}={value!r} differs from the fitted model's {name}=")):
            act()
    est.set_params(**{name: ESNRegressor(30, include_inputs=False).get_params()[name]})
    np.testing.assert_array_equal(est.predict(X), before)
    save_model(est, tmp_path / "m.npz")
    loaded = load_model(tmp_path / "m.npz")
    loaded.set_params(**change)  # a loaded model is checked alike
    with pytest.raises(ValueError, match="differs from the fitted model's"):
        loaded.predict(X)
    series = ESNRegressor(30, output_feedback=True, random_state=0).fit_series(y)
    series.set_params(**change)
    with pytest.raises(ValueError, match="differs from the fitted model's"):
        series.predict_series(3)


def test_a_refit_in_the_other_mode_saves_a_file_that_loads(tmp_path):
    # fit after fit_series kept the series' state and feedback scaling (and the
    # other way round, the windows' settings): save_model wrote them, and
    # load_model refused the file as not matching the model
    rng = np.random.default_rng(0)
    series, exog = rng.standard_normal(40), rng.standard_normal((40, 2))
    windows, targets = rng.standard_normal((20, 5, 2)), rng.standard_normal(20)
    est = ESNRegressor(8, output_feedback=True, random_state=0)
    est.fit_series(series, exog).set_params(output_feedback=False).fit(windows, targets)
    save_model(est, tmp_path / "w.npz")
    np.testing.assert_array_equal(load_model(tmp_path / "w.npz").predict(windows),
                                  est.predict(windows))
    est = ESNRegressor(8, random_state=0).fit(windows, targets).fit_series(series, exog)
    save_model(est, tmp_path / "s.npz")
    np.testing.assert_array_equal(load_model(tmp_path / "s.npz").predict_series(X=exog[:3]),
                                  est.predict_series(X=exog[:3]))


# -- failed refits and misnamed inputs ------------------------------------------------
def test_a_refused_refit_keeps_the_previous_fit():
    """Each mode cleared the earlier fit before checking y, weights or washout: a
    refused refit used to leave an unfitted model."""
    from tsbptt import ESNClassifier
    X, y = _windows()
    est = ESNRegressor(**SMALL).fit(X, y)
    before = est.predict(X[:3])
    with pytest.raises(ValueError, match=r"y must have shape \(120,\)"):
        est.fit(X, y[:-1])
    np.testing.assert_array_equal(est.predict(X[:3]), before)
    with pytest.raises(ValueError, match="Input y contains NaN"):
        est.fit_series(np.where(np.arange(60) == 5, np.nan, 1.0), X[:60, :2])
    np.testing.assert_array_equal(est.predict(X[:3]), before)
    series = ESNRegressor(**SMALL).fit_series(y[:80], X[:80, :2])
    forecast = series.predict_series(X=X[80:83, :2])
    with pytest.raises(ValueError, match="washout=100 leaves none"):
        series.set_params(washout=100).fit_series(y[:80], X[:80, :2])
    np.testing.assert_array_equal(series.set_params(washout=0).predict_series(
        X=X[80:83, :2]), forecast)
    clf = ESNClassifier(**SMALL).fit(X, y > 0)
    classes = clf.classes_
    with pytest.raises(ValueError, match="sample_weight must be >= 0"):
        clf.fit(X, np.where(y > 0, "up", "down"), sample_weight=-np.ones(len(y)))
    assert clf.classes_ is classes


def test_series_inputs_are_read_by_their_column_names():
    """A DataFrame given to update_series or predict_series was read by position: its
    columns reordered drove the reservoir with the wrong inputs, with no error."""
    import pandas as pd
    rs = np.random.RandomState(0)
    ex = pd.DataFrame({"temp": rs.randn(90), "load": 5 + 3 * rs.randn(90)})
    y = 2 * ex["temp"] - 0.5 * ex["load"]
    est = ESNRegressor(include_inputs=True, **SMALL).fit_series(y[:80], ex[:80])
    swapped = ex[["load", "temp"]]
    with pytest.raises(ValueError, match=r"X has the columns \['load', 'temp'\], but "
                                         r"fit_series saw \['temp', 'load'\]"):
        est.predict_series(X=swapped[80:85])
    state = est.reservoir_state_.copy()
    with pytest.raises(ValueError, match="give the same columns, in that order"):
        est.update_series(y[80:85], swapped[80:85])
    np.testing.assert_array_equal(est.reservoir_state_, state)
    np.testing.assert_array_equal(est.predict_series(X=ex[80:85]),
                                  est.predict_series(X=ex[80:85].to_numpy()))


def test_series_column_names_survive_a_model_file(tmp_path):
    import pandas as pd
    rs = np.random.RandomState(0)
    ex = pd.DataFrame({"temp": rs.randn(90), "load": 5 + 3 * rs.randn(90)})
    y = 2 * ex["temp"] - 0.5 * ex["load"]
    est = ESNRegressor(include_inputs=True, **SMALL).fit_series(y[:80], ex[:80])
    save_model(est, tmp_path / "esn.tsbptt")
    loaded = load_model(tmp_path / "esn.tsbptt")
    np.testing.assert_array_equal(loaded.predict_series(X=ex[80:85]),
                                  est.predict_series(X=ex[80:85]))
    with pytest.raises(ValueError, match="but fit_series saw"):
        loaded.predict_series(X=ex[["load", "temp"]][80:85])
    mixed = ex.set_axis([0, "load"], axis=1)  # names of two types: not checked, as sklearn
    ESNRegressor(include_inputs=True, **SMALL).fit_series(y[:80], mixed[:80])


def test_a_reservoir_without_a_cycle_is_said_to_ignore_spectral_radius():
    # its spectral radius is 0: spectral_radius was ignored, silently
    X = np.random.default_rng(0).standard_normal((40, 6))
    with pytest.warns(UserWarning, match=r"the drawn reservoir \(n_reservoir=5, "
                                         r"sparsity=0.9\) has no cycle of connections"):
        m = ESNRegressor(n_reservoir=5, sparsity=0.9, random_state=0).fit(X, X[:, -1])
    assert m.W_.nnz == 0 or np.max(np.abs(np.linalg.eigvals(m.W_.toarray()))) < 1e-12
