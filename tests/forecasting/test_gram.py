"""A plain Ridge on a panel is fitted from the normal equations of its windows
(tsbptt/forecasting/_gram.py): the same model as Ridge.fit on the whole design
matrix, to rounding."""
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import Ridge

from tsbptt.forecasting import Forecaster
from tsbptt.forecasting._gram import (CHUNK_ROWS, fits_by_chunks, gram_of_chunks,
                                      ridge_from_gram, run_sums)


class _WholeMatrixRidge(Ridge):
    """A subclass: the Forecaster fits it with Ridge.fit on every window at once."""


def _panel(n_series=12, steps=90, seed=0, ragged=True):
    rng = np.random.default_rng(seed)
    parts = []
    for k in range(n_series):
        n = steps - (k % 7 if ragged else 0)
        t = np.arange(n)
        v = 30 + 5 * k + 3 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 1, n)
        parts.append(pd.Series(v, index=pd.MultiIndex.from_arrays(
            [np.full(n, f"s{k}"), pd.date_range("2024-01-01", periods=n, freq="h")],
            names=["unique_id", "ds"])))
    return pd.concat(parts).rename("y")


@pytest.mark.parametrize("horizon", [1, 6])
@pytest.mark.parametrize("params", [{}, {"fit_intercept": False}, {"alpha": 30.0},
                                    {"solver": "cholesky"}])
@pytest.mark.parametrize("with_X", [False, True])
def test_chunked_ridge_equals_ridge_fit(horizon, params, with_X):
    y = _panel()
    X = None
    if with_X:  # a covariate far from zero: the shifted sums must keep their digits
        X = pd.DataFrame({"x": 1e3 + np.random.default_rng(1).normal(size=len(y))},
                         index=y.index)
    fast = Forecaster(Ridge(**params), lags=8, horizon=horizon).fit(y, X)
    slow = Forecaster(_WholeMatrixRidge(**params), lags=8, horizon=horizon).fit(y, X)
    a, b = fast.estimator_, slow.estimator_
    assert type(a) is Ridge and fits_by_chunks(a)
    assert np.shape(a.coef_) == np.shape(b.coef_)
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(a.intercept_, b.intercept_, rtol=1e-9, atol=1e-11)
    assert type(a.intercept_) is type(b.intercept_)
    assert a.n_features_in_ == b.n_features_in_
    assert list(a.feature_names_in_) == list(b.feature_names_in_)
    assert a.solver_ == b.solver_ == "cholesky"
    np.testing.assert_allclose(fast.predict().to_numpy(), slow.predict().to_numpy(),
                               rtol=1e-9)


def test_gram_of_chunks_against_numpy():
    rng = np.random.default_rng(2)
    Z = rng.normal(size=(2 * CHUNK_ROWS + 17, 5))
    G, s, n = gram_of_chunks((Z[a:a + CHUNK_ROWS] for a in range(0, len(Z), CHUNK_ROWS)),
                             5)
    np.testing.assert_allclose(G, Z.T @ Z, rtol=1e-12)
    np.testing.assert_allclose(s, Z.sum(axis=0), rtol=1e-12)
    assert n == len(Z)


def test_run_sums_against_the_windows_themselves():
    rng = np.random.default_rng(3)
    values = rng.normal(size=500) + 7
    # three runs of consecutive starts, and a lone one
    starts = np.r_[np.arange(0, 40), np.arange(100, 101), np.arange(200, 380), 450]
    windows = np.stack([values[u:u + 9] for u in starts])
    np.testing.assert_allclose(run_sums(values, starts, 9), windows.sum(axis=0),
                               rtol=1e-12)
    G, s, n = gram_of_chunks([windows[:100], windows[100:]], 9, sums=False)
    assert not s.any() and n == len(windows)
    np.testing.assert_allclose(G, windows.T @ windows, rtol=1e-12)


def test_ridge_from_gram_validates_like_fit():
    with pytest.raises(ValueError, match="alpha"):
        ridge_from_gram(Ridge(alpha="big"), np.eye(3), np.zeros(3), 10, np.zeros(3),
                        ["a", "b"], True)
    with pytest.raises(ValueError, match="no window"):
        ridge_from_gram(Ridge(), np.eye(3), np.zeros(3), 0, np.zeros(3), ["a", "b"], True)


@pytest.mark.parametrize("est,expected", [
    (Ridge(), True), (Ridge(alpha=0.0), False), (Ridge(solver="svd"), False),
    (Ridge(positive=True), False), (_WholeMatrixRidge(), False),
    (Ridge(alpha=np.array([1.0, 2.0])), False)])
def test_only_plain_ridge_takes_the_chunked_path(est, expected):
    assert fits_by_chunks(est) is expected


def test_chunked_ridge_is_bitwise_the_same_for_any_blas_thread_count():
    from threadpoolctl import threadpool_limits
    rng = np.random.default_rng(4)
    n, T = 1000, 200  # 167,000 windows: three chunks
    index = pd.MultiIndex.from_arrays(
        [np.repeat(np.arange(n), T),
         np.tile(pd.date_range("2024-01-01", periods=T, freq="h"), n)])
    y = pd.Series((rng.normal(size=(n, T)) + rng.uniform(0, 9, (n, 1))).ravel(), index=index)
    coefs = []
    for threads in (1, 2):
        with threadpool_limits(threads):
            f = Forecaster(Ridge(), lags=24, horizon=24).fit(y)
        coefs.append((f.estimator_.coef_.copy(), f.estimator_.intercept_.copy()))
    np.testing.assert_array_equal(coefs[0][0], coefs[1][0])
    np.testing.assert_array_equal(coefs[0][1], coefs[1][1])
