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
    # the lower triangle is filled in blocks of 256 rows: widths across the blocks
    for width in (255, 256, 257, 600):
        Z = rng.normal(size=(300, width))
        G, _, _ = gram_of_chunks([Z[:100], Z[100:]], width)
        np.testing.assert_array_equal(G, G.T)
        np.testing.assert_allclose(G, Z.T @ Z, rtol=1e-12, atol=1e-12)


def test_chunks_hold_at_most_25_mb_of_windows():
    # 200 covariates x 48 lags once came in chunks of 65,536 rows, 5 GB each
    from tsbptt.forecasting._gram import CHUNK_BYTES, chunk_rows
    assert chunk_rows(48) == CHUNK_ROWS and chunk_rows(10) == CHUNK_ROWS
    assert chunk_rows(9648 + 1) == CHUNK_BYTES // (8 * 9649) == 326
    assert chunk_rows(10**9) == 1


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


def test_wide_windows_take_ridge_fit_and_oversized_ones_are_refused_by_lags(monkeypatch):
    # with more features than windows the normal equations are the larger: 200
    # covariates x 48 lags on 5,000 steps took 3.1 GB and 30 s by them, 1.5 GB and
    # 9 s by Ridge.fit; and a request beyond the machine met NumPy's MemoryError
    from tsbptt.forecasting import _strategies
    from tsbptt.utils import _validation

    class PlainRidge(Ridge):  # the same model, through Ridge.fit on the windows
        pass

    rng = np.random.default_rng(0)
    idx = pd.date_range("2024-01-01", periods=60, freq="h")
    y = pd.Series(rng.standard_normal(60), index=idx, name="y")
    X = pd.DataFrame(rng.standard_normal((60, 12)), index=idx,
                     columns=[f"x{i}" for i in range(12)])
    calls = []
    chunks = _strategies._Strategies._ridge_by_chunks
    monkeypatch.setattr(_strategies._Strategies, "_ridge_by_chunks",
                        lambda *a: calls.append(1) or chunks(*a))
    wide = Forecaster(Ridge(), lags=8, horizon=2).fit(y, X)  # 104 features, 51 windows
    assert calls == []
    pd.testing.assert_series_equal(wide.predict(),
                                   Forecaster(PlainRidge(), lags=8, horizon=2).fit(y, X).predict())
    Forecaster(Ridge(), lags=8, horizon=2).fit(y)  # 8 features: the normal equations
    assert calls == [1]
    monkeypatch.setattr(_validation, "physical_memory", lambda: 1000)
    with pytest.raises(ValueError, match=r"lags=8 needs .* GiB for the normal equations "
                                         r"of its windows, more than this machine's"):
        Forecaster(Ridge(), lags=8).fit(y)
    with pytest.raises(ValueError, match=r"lags=8 with 13 channels needs .* GiB for its "
                                         r"51 windows"):
        Forecaster(PlainRidge(), lags=8, horizon=2).fit(y, X)


def test_the_ridge_solve_gives_the_same_bits_for_any_blas_thread_count():
    # LAPACK's blocked Cholesky sums in an order that follows the BLAS thread count:
    # with two threads (a backtest's parent) and one (its loky workers) the forecasts
    # of lags=168 differed by ~1e-11, so backtest(n_jobs=2) was not n_jobs=1's
    from threadpoolctl import threadpool_limits

    from tsbptt import datasets
    y = datasets.load_electricity_load()
    forecasts = []
    for n in (1, 2):
        with threadpool_limits(n, user_api="blas"):
            forecasts.append(Forecaster(Ridge(), lags=168, horizon=24).fit(y).predict())
    pd.testing.assert_series_equal(forecasts[0], forecasts[1], rtol=0, atol=0)



def test_the_gram_matrix_is_summed_on_one_blas_thread(monkeypatch):
    # OpenBLAS's threaded syrk crashed the interpreter on a 24,072-column Gram matrix
    # (4.6 GB; a panel of 500 series with series_id, 48 lags), and ran ~5x slower
    # than one thread on a busy 2-core machine
    from threadpoolctl import threadpool_info

    import tsbptt.forecasting._gram as gram
    threads, syrk = [], gram.dsyrk

    def counted(*args, **kwargs):
        threads.append(max(p["num_threads"] for p in threadpool_info()
                           if p["user_api"] == "blas"))
        return syrk(*args, **kwargs)

    monkeypatch.setattr(gram, "dsyrk", counted)
    Z = np.random.default_rng(0).normal(size=(50, 6))
    G, s, n = gram_of_chunks([Z[:20], Z[20:]], 6)
    assert threads == [1, 1] and n == 50
    np.testing.assert_allclose(G, Z.T @ Z, rtol=1e-12)
