"""Parallel backtests, one model per series, grid searches on a Dask cluster, and
training on the partitions of a panel larger than memory."""
import numpy as np
import pandas as pd
import pytest
from joblib import parallel_config
from sklearn.linear_model import LinearRegression, Ridge, SGDRegressor
from sklearn.model_selection import GridSearchCV

from tsbptt import Forecaster, GRURegressor, backtest
from tsbptt.forecasting.local import LocalModels, backtest_series
from tsbptt.forecasting.partitioned import fit_partitions, partition_windows

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _series(seed, n=80, season=6):
    rng = np.random.RandomState(seed)
    t = np.arange(n)
    values = 5 + np.sin(2 * np.pi * t / season) * (1 + seed % 3) + 0.1 * rng.randn(n)
    return pd.Series(values, index=pd.date_range("2024-01-01", periods=n, freq="h"),
                     name="load")


def _panel(n_series=4):
    return {f"s{k}": _series(k) for k in range(n_series)}


def _gru():
    return GRURegressor(hidden_size=4, max_iter=3, random_state=0)


# -- backtest n_jobs ---------------------------------------------------------------------
@pytest.mark.slow  # starts loky's worker processes
def test_backtest_n_jobs_loky_is_bitwise_serial():
    y = _series(1)
    f = Forecaster(_gru(), lags=6, horizon=2, linear=False)
    serial = backtest(f, y, initial=60, step=4, horizon=2)
    parallel = backtest(f, y, initial=60, step=4, horizon=2, n_jobs=2)
    pd.testing.assert_frame_equal(serial.forecasts, parallel.forecasts, check_exact=True)
    assert serial.metrics == parallel.metrics
    # the rows are in origin order, one block of horizon rows per origin
    assert list(parallel.forecasts["origin"].unique()) == list(y.index[[59, 63, 67, 71, 75]])


@pytest.mark.slow  # starts loky's worker processes
def test_local_models_with_the_linear_part_are_bitwise_serial():
    # the linear part's SVD and its sums over all the windows run on one BLAS thread:
    # a worker runs one, this process may run more (2.3e-13 apart before)
    from tsbptt import datasets
    load = datasets.load_electricity_load().iloc[-900:]
    panel = {"a": load, "b": load * 1.5 + 10}
    f = Forecaster(GRURegressor(4, max_iter=1, random_state=0), lags=48, horizon=24)
    serial = LocalModels(f, n_jobs=1).fit(panel).predict()
    parallel = LocalModels(f, n_jobs=2).fit(panel).predict()
    pd.testing.assert_series_equal(serial, parallel, check_exact=True)


@pytest.mark.slow  # starts worker processes
def test_the_multiprocessing_backend_runs_the_jobs():
    # parallel_map asked every backend for results as a generator, which joblib's
    # multiprocessing backend refuses: every call failed under it
    f = Forecaster(Ridge(), lags=6, horizon=2)
    serial = LocalModels(f, n_jobs=1).fit(_panel()).predict()
    with parallel_config(backend="multiprocessing", n_jobs=2):
        parallel = LocalModels(f).fit(_panel()).predict()
    pd.testing.assert_series_equal(serial, parallel, check_exact=True)


def test_a_jobs_warnings_name_the_callers_line_and_come_once():
    # warnings from jobs named joblib's line; in joblib's threads, a small-spread
    # note came once per series, not once per call
    import warnings

    panel = _panel(6)
    X = {k: pd.DataFrame({"c": 1e-14 * np.random.default_rng(0).standard_normal(len(s))},
                         index=s.index) for k, s in panel.items()}
    f = Forecaster(Ridge(), lags=6, horizon=2)
    for config in ({"backend": "sequential"}, {"backend": "threading", "n_jobs": 2}):
        with warnings.catch_warnings(record=True) as seen, parallel_config(**config):
            warnings.simplefilter("always")
            LocalModels(f).fit(panel, X)
        said = [w for w in seen if "vary by at most" in str(w.message)]
        assert len(said) == 1, (config, [str(w.message) for w in seen])
        if config["backend"] == "sequential":  # (a worker thread has no line of yours)
            assert said[0].filename == __file__


def test_backtest_refit_false_parallel_matches_serial():
    y = _series(2)
    f = Forecaster(Ridge(), lags=6, horizon=3)
    serial = backtest(f, y, initial=50, step=3, horizon=3, refit=False)
    parallel = backtest(f, y, initial=50, step=3, horizon=3, refit=False, n_jobs=2)
    pd.testing.assert_frame_equal(serial.forecasts, parallel.forecasts, check_exact=True)
    # by hand: the first origin's model, moved along by its history
    model = Forecaster(Ridge(), lags=6, horizon=3).fit(y.iloc[:50])
    expected = model.predict(3, history=y.iloc[:53]).to_numpy()
    got = parallel.forecasts.query("step > 0").iloc[3:6]["forecast"].to_numpy()
    np.testing.assert_array_equal(got, expected)


def _thread_id():
    import threading
    return threading.get_ident()


def test_n_jobs_1_runs_here_even_under_a_parallel_config():
    # a job that is itself one of many parallel jobs (each series' backtest in
    # backtest_series) must not send its own jobs out again: under Dask a task
    # waiting on tasks holds its worker
    from tsbptt.forecasting._parallel import parallel_map

    here = _thread_id()
    with parallel_config(backend="threading", n_jobs=2):
        assert parallel_map(_thread_id, [()] * 4, 1) == [here] * 4
        assert here not in parallel_map(_thread_id, [()] * 4, None)


def _tagged(k):
    import threading
    return k, threading.get_ident()


@pytest.mark.parametrize("n_jobs_total, n_workers", [(100, 2), (7, 2), (3, 4), (1, 1)])
def test_jobs_travel_in_contiguous_chunks(n_jobs_total, n_workers):
    from tsbptt.forecasting._parallel import CHUNKS_PER_WORKER, _chunks

    chunks = _chunks(n_jobs_total, n_workers)
    assert len(chunks) == min(n_jobs_total, CHUNKS_PER_WORKER * n_workers)
    assert chunks[0][0] == 0 and chunks[-1][1] == n_jobs_total
    assert all(a[1] == b[0] for a, b in zip(chunks[:-1], chunks[1:]))  # no gap, no overlap
    sizes = [b - a for a, b in chunks]
    assert min(sizes) >= 1 and max(sizes) - min(sizes) <= 1


def test_parallel_map_chunks_keep_job_order():
    # 20 jobs on 2 threads: 8 chunks of 2-3 jobs, each chunk's jobs on one thread
    from tsbptt.forecasting._parallel import _chunks, parallel_map

    with parallel_config(backend="threading", n_jobs=2):
        got = parallel_map(_tagged, [(k,) for k in range(20)], -1)
    assert [k for k, _ in got] == list(range(20))
    for a, b in _chunks(20, 2):
        assert len({thread for _, thread in got[a:b]}) == 1


def test_panel_backtest_cutoffs_in_parallel_are_bitwise_serial():
    panel = _panel(3)
    f = Forecaster(Ridge(), lags=6, horizon=2)
    serial = backtest(f, panel, initial=60, step=5, horizon=2)
    with parallel_config(backend="threading"):
        parallel = backtest(f, panel, initial=60, step=5, horizon=2, n_jobs=2)
    pd.testing.assert_frame_equal(serial.forecasts, parallel.forecasts, check_exact=True)
    assert serial.metrics == parallel.metrics
    # refit=False moves one model through the cutoffs in order, whatever n_jobs
    moved = backtest(f, panel, initial=60, step=5, horizon=2, refit=False, n_jobs=2)
    pd.testing.assert_frame_equal(
        moved.forecasts, backtest(f, panel, initial=60, step=5, horizon=2,
                                  refit=False).forecasts, check_exact=True)


@pytest.mark.parametrize("bad", [0, 1.5, "2", True])
def test_backtest_bad_n_jobs(bad):
    with pytest.raises(ValueError, match=r"n_jobs must be None or a non-zero integer, "
                                         rf"got {bad!r}"):
        backtest(Forecaster(Ridge(), lags=4), _series(0), initial=60, n_jobs=bad)


# -- LocalModels ---------------------------------------------------------------------------
def test_local_models_equal_one_forecaster_per_series():
    panel = _panel(3)
    template = Forecaster(Ridge(alpha=0.5), lags=6, horizon=3)
    local = LocalModels(template, n_jobs=2).fit(panel)
    pred = local.predict()
    # the layout of a global forecaster's forecasts
    assert pred.index.equals(Forecaster(Ridge(), lags=6, horizon=3).fit(panel).predict().index)
    assert list(pred.index.get_level_values(0).unique()) == ["s0", "s1", "s2"]
    for key, y in panel.items():
        alone = Forecaster(Ridge(alpha=0.5), lags=6, horizon=3).fit(y).predict()
        np.testing.assert_array_equal(pred.loc[key].to_numpy(), alone.to_numpy())
        assert pred.loc[key].index.equals(alone.index)
        np.testing.assert_array_equal(local.forecasters_[key].estimator_.coef_,
                                      Forecaster(Ridge(alpha=0.5), lags=6, horizon=3)
                                      .fit(y).estimator_.coef_)


def test_local_models_long_layout_and_score():
    panel = _panel(2)
    long = pd.concat(panel, names=["id", "time"])
    train = long.groupby(level=0).head(70)
    test = long.groupby(level=0).tail(10)
    local = LocalModels(Forecaster(LinearRegression(), lags=6, horizon=10)).fit(train)
    pred = local.predict()
    assert pred.index.equals(test.index)
    assert local.score(test) == pytest.approx(
        -np.mean(np.abs(test.to_numpy() - pred.to_numpy())), rel=1e-12)
    with pytest.raises(ValueError, match="y must hold the fitted series"):
        local.score(test.loc[["s1"]])


def test_local_models_bad_input():
    with pytest.raises(TypeError, match=r"y\['b'\] must be a pandas Series, got list"):
        LocalModels(Forecaster(Ridge())).fit({"a": _series(0), "b": [1, 2, 3]})
    with pytest.raises(ValueError, match="n_jobs must be None or a non-zero integer"):
        LocalModels(Forecaster(Ridge()), n_jobs=0).fit(_panel(2))


def test_backtest_series_is_each_series_backtest():
    panel = _panel(3)
    f = Forecaster(Ridge(), lags=6, horizon=2)
    results, table = backtest_series(f, panel, initial=60, step=5, horizon=2, n_jobs=2)
    assert list(results) == ["s0", "s1", "s2"]
    for key, y in panel.items():
        alone = backtest(f, y, initial=60, step=5, horizon=2)
        pd.testing.assert_frame_equal(results[key].forecasts, alone.forecasts,
                                      check_exact=True)
        assert results[key].metrics == alone.metrics
    assert table.columns[0] == "series" and len(table) == 3 * len(alone.forecasts)


# -- on a real LocalCluster ------------------------------------------------------------
@pytest.mark.slow
def test_dask_workers_cap_openmp_threads(client):
    # A local function, so that it is shipped by value: pytest names this module
    # tests.forecasting.test_dask, which the workers cannot import.
    def worker_limits():
        from tsbptt._kernels._openmp_helpers import openmp_max_threads
        from tsbptt.engine._workers import worker_cores, worker_thread_limits

        with worker_thread_limits():
            return worker_cores(), openmp_max_threads()

    # threads_per_worker=1: every job runs with one OpenMP thread
    assert client.submit(worker_limits, pure=False).result(timeout=120) == (1, 1)


@pytest.mark.slow
def test_dask_backtest_and_local_models_bitwise_local(client):
    y, panel = _series(3), _panel(4)
    f = Forecaster(_gru(), lags=6, horizon=2, linear=False)
    serial = backtest(f, y, initial=64, step=5, horizon=2)
    local = LocalModels(Forecaster(_gru(), lags=6, horizon=2, linear=False)).fit(panel)
    with parallel_config(backend="dask"):
        remote = backtest(f, y, initial=64, step=5, horizon=2, n_jobs=-1)
        models = LocalModels(Forecaster(_gru(), lags=6, horizon=2, linear=False),
                             n_jobs=-1).fit(panel)
        pred = models.predict()
    pd.testing.assert_frame_equal(serial.forecasts, remote.forecasts, check_exact=True)
    pd.testing.assert_series_equal(local.predict(), pred, check_exact=True)
    for key in panel:
        a = local.forecasters_[key].estimator_.estimator_  # the WindowModel's network
        b = models.forecasters_[key].estimator_.estimator_
        for name in a.params_:
            np.testing.assert_array_equal(a.params_[name], b.params_[name])


@pytest.mark.slow
def test_dask_grid_search_over_forecaster_parameters(client):
    # a period-12 series: 12 lags see the whole season, 2 lags cannot
    t = np.arange(240)
    y = pd.Series(np.sin(2 * np.pi * t / 12) + 0.05 * np.random.RandomState(0).randn(240))
    from tsbptt import RollingOrigin
    grid = {"lags": [2, 12], "estimator__alpha": [0.1, 10.0]}
    search = GridSearchCV(Forecaster(Ridge(), horizon=3), grid,
                          cv=RollingOrigin(initial=180, step=20, horizon=3), n_jobs=-1)
    serial = GridSearchCV(Forecaster(Ridge(), horizon=3), grid,
                          cv=RollingOrigin(initial=180, step=20, horizon=3)).fit(y)
    with parallel_config(backend="dask"):
        search.fit(y)
    np.testing.assert_array_equal(search.cv_results_["mean_test_score"],
                                  serial.cv_results_["mean_test_score"])
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    assert search.best_params_["lags"] == 12


# -- partitions of a panel larger than memory -------------------------------------------
def _long_panel():
    rng = np.random.RandomState(0)
    sizes = {"a": 30, "b": 5, "c": 40, "d": 9}
    return pd.DataFrame({
        "unique_id": np.repeat(list(sizes), list(sizes.values())),
        "ds": np.concatenate([np.arange(n) for n in sizes.values()]),
        "y": rng.randn(sum(sizes.values())) * 3 + 1})


def _pieces(df, cuts):
    dask = pytest.importorskip("dask")
    return [dask.delayed(df.iloc[a:b]) for a, b in zip(cuts[:-1], cuts[1:])]


@pytest.mark.parametrize("cuts", [[0, 84], [0, 7, 12, 33, 34, 34, 60, 84],
                                  [0, 31, 32, 33, 34, 35, 36, 84]])
def test_partition_windows_are_the_whole_panels(cuts):
    df, lags, horizon = _long_panel(), 4, 2
    mean = df.groupby("unique_id")["y"].mean().to_dict()
    std = df.groupby("unique_id")["y"].std(ddof=0).to_dict()
    got = list(partition_windows(_pieces(df, cuts), lags, horizon,
                                 ("unique_id", "ds", "y"), mean, std))
    assert len(got) == len(cuts) - 1
    X = np.concatenate([g[0] for g in got])
    Y = np.concatenate([g[1] for g in got])
    want = []
    for key, g in df.groupby("unique_id", sort=False):
        z = (g["y"].to_numpy() - mean[key]) / std[key]
        want += [z[i:i + lags + horizon] for i in range(len(z) - lags - horizon + 1)]
    want = np.array(want)
    np.testing.assert_allclose(X, want[:, :lags], rtol=0, atol=1e-15)
    np.testing.assert_allclose(Y, want[:, lags:], rtol=0, atol=1e-15)


def test_fit_partitions_is_partial_fit_per_partition():
    df = _long_panel()
    cuts = [0, 20, 50, 84]
    model = fit_partitions(SGDRegressor(random_state=0, shuffle=False), _pieces(df, cuts),
                           lags=3, epochs=2)
    assert model.n_windows_ == (30 - 3) + (5 - 3) + (40 - 3) + (9 - 3)
    mean, std = model.mean_, model.std_
    assert std["a"] == pytest.approx(df.query("unique_id == 'a'")["y"].std(ddof=0),
                                     rel=1e-12)
    by_hand = SGDRegressor(random_state=0, shuffle=False)
    parts = list(partition_windows(_pieces(df, cuts), 3, 1, ("unique_id", "ds", "y"),
                                   mean, std))
    for _ in range(2):
        for X, Y in parts:
            by_hand.partial_fit(X, Y[:, 0])
    np.testing.assert_array_equal(model.estimator_.coef_, by_hand.coef_)
    out = model.predict(df.groupby("unique_id").tail(3))
    assert list(out["ds"]) == [30, 5, 40, 9]
    last = df.groupby("unique_id").tail(3)
    z = (last.query("unique_id == 'c'")["y"].to_numpy() - mean["c"]) / std["c"]
    expected = by_hand.predict(z[None])[0] * std["c"] + mean["c"]
    assert out.query("unique_id == 'c'")["forecast"].item() == pytest.approx(expected,
                                                                             rel=1e-12)


def test_fit_partitions_gru_horizon_two_and_errors():
    df = _long_panel()
    model = fit_partitions(GRURegressor(hidden_size=4, random_state=0), df, lags=4,
                           horizon=2)
    assert model.estimator_.n_iter_ == 1
    assert model.predict(df.groupby("unique_id").tail(4)).shape == (8, 4)
    with pytest.raises(TypeError, match="Ridge has no partial_fit"):
        fit_partitions(Ridge(), df, lags=3)
    with pytest.raises(ValueError, match="lags must be a positive integer, got 0"):
        fit_partitions(SGDRegressor(), df, lags=0)
    shuffled = df.iloc[np.r_[0:10, 40:50, 10:40, 50:84]]
    with pytest.raises(ValueError, match="series 'a' appears again in partition 0"):
        fit_partitions(SGDRegressor(), shuffled, lags=3)
    with pytest.raises(ValueError, match="partition 0 lacks the columns \\['y'\\]"):
        fit_partitions(SGDRegressor(), df.rename(columns={"y": "v"}), lags=3)


@pytest.mark.parametrize("dated", [False, True], ids=["integer-times", "datetimes"])
def test_fit_partitions_refuses_times_out_of_order(dated):
    # datetime64 times too: NumPy 1.x compares no datetime64 difference with 0
    df = _long_panel()
    if dated:
        df["ds"] = pd.Timestamp("2024-01-01") + pd.to_timedelta(df["ds"], unit="h")
    model = fit_partitions(SGDRegressor(random_state=0), df, lags=3)
    assert model.n_windows_ == (30 - 3) + (5 - 3) + (40 - 3) + (9 - 3)
    swapped = df.copy()
    swapped.loc[[40, 41], "ds"] = swapped.loc[[41, 40], "ds"].to_numpy()  # series c
    with pytest.raises(ValueError, match="series 'c' is not in increasing time order "
                                         "in partition 0"):
        fit_partitions(SGDRegressor(), swapped, lags=3)
    repeated = df.copy()
    repeated.loc[80, "ds"] = repeated.loc[79, "ds"]  # series d
    with pytest.raises(ValueError, match="series 'd' is not in increasing time order"):
        fit_partitions(SGDRegressor(), repeated, lags=3)
    # across partitions: series c (rows 35-74) continues in the next piece, after an
    # empty one, with a time not after its last
    pieces = [df.iloc[:50], df.iloc[50:50], df.iloc[50:]]
    assert fit_partitions(SGDRegressor(random_state=0), pieces, lags=3).n_windows_ \
        == model.n_windows_
    back = df.copy()
    back.loc[50, "ds"] = back.loc[49, "ds"]
    pieces = [back.iloc[:50], back.iloc[50:50], back.iloc[50:]]
    with pytest.raises(ValueError, match="series 'c' is not in increasing time order: "
                                         "partition 2 begins it at"):
        fit_partitions(SGDRegressor(), pieces, lags=3)
    missing = df.copy()
    missing["ds"] = missing["ds"].astype("float64" if not dated else missing["ds"].dtype)
    missing.loc[60, "ds"] = None
    with pytest.raises(ValueError, match="partition 0: column 'ds' holds missing times"):
        fit_partitions(SGDRegressor(), missing, lags=3)


@pytest.mark.slow
def test_fit_partitions_of_a_dask_dataframe(client):
    dd = pytest.importorskip("dask.dataframe")  # needs pyarrow
    df = _long_panel()
    ddf = dd.from_pandas(df, npartitions=3, sort=False)
    a = fit_partitions(SGDRegressor(random_state=0, shuffle=False), ddf, lags=3)
    b = fit_partitions(SGDRegressor(random_state=0, shuffle=False),
                       [ddf.get_partition(i).compute() for i in range(3)], lags=3)
    np.testing.assert_array_equal(a.estimator_.coef_, b.estimator_.coef_)


@pytest.mark.parametrize("dates, expected", [
    (pd.date_range("2020-01-01", periods=24, freq="MS"), ["2022-01-01", "2022-02-01"]),
    # a tail of Wednesday to Friday shows days; the training data, business days
    (pd.bdate_range("2024-01-01", periods=20), ["2024-01-29", "2024-01-30"]),
    (pd.date_range("2024-01-31", periods=24, freq="ME"), ["2026-01-31", "2026-02-28"]),
])
def test_partitioned_forecasts_are_dated_by_the_series_frequency(dates, expected):
    # the last difference as a fixed step dated a month start's successor the 31st
    # and a Friday's the Saturday
    df = pd.DataFrame({"unique_id": "a", "ds": dates, "y": np.arange(float(len(dates)))})
    m = fit_partitions(SGDRegressor(random_state=0), [df.iloc[:12], df.iloc[12:]], lags=3)
    assert m.freqs_["a"] == pd.infer_freq(dates)
    first = m.predict(df.tail(3))["ds"].iloc[0]
    assert first == pd.Timestamp(expected[0])
    m2 = fit_partitions(SGDRegressor(random_state=0), df, lags=2)
    got = m2.predict(df.tail(2))  # two rows show no frequency: the training data's
    assert got["ds"].iloc[0] == pd.Timestamp(expected[0])
    ints = df.assign(ds=np.arange(len(df)) * 5)
    assert fit_partitions(SGDRegressor(random_state=0), ints, lags=3).predict(
        ints.tail(3))["ds"].iloc[0] == 5 * len(df)


def test_a_partitioned_model_pickled_before_freqs_still_predicts():
    import pickle
    dates = pd.date_range("2020-01-01", periods=24, freq="MS")
    df = pd.DataFrame({"unique_id": "a", "ds": dates, "y": np.arange(24.0)})
    m = fit_partitions(SGDRegressor(random_state=0), df, lags=3)
    del m.freqs_  # as a model saved by an earlier version
    old = pickle.loads(pickle.dumps(m))
    assert old.predict(df.tail(3))["ds"].iloc[0] == pd.Timestamp("2022-01-01")


def test_fit_partitions_and_predict_name_what_they_refuse():
    df = _long_panel()
    words = df.assign(y=df["y"].astype(str).str.cat(["x"] * len(df)))
    with pytest.raises(TypeError, match=r"partition 0: column 'y' holds values that are not "
                                        r"numbers \(dtype (object|str)\), e.g. '"):
        fit_partitions(SGDRegressor(), words, lags=3)
    model = fit_partitions(SGDRegressor(random_state=0), df, lags=3)
    last = df.groupby("unique_id").tail(3)
    with pytest.raises(ValueError, match=r"last lacks the columns \['y'\]"):
        model.predict(last.rename(columns={"y": "v"}))
    with pytest.raises(ValueError, match=r"series 'b': its last 3 values of 'y' hold NaN"):
        model.predict(last.assign(y=last["y"].where(last["unique_id"] != "b")))
    with pytest.raises(TypeError, match="last must be a DataFrame .*got ndarray"):
        model.predict(last.to_numpy())


def test_fit_partitions_predict_takes_the_dask_tail_its_docstring_shows():
    dd = pytest.importorskip("dask.dataframe")
    df = _long_panel()
    ddf = dd.from_pandas(df, npartitions=3, sort=False)
    model = fit_partitions(SGDRegressor(random_state=0), ddf, lags=3)
    expected = model.predict(df.groupby("unique_id").tail(3))
    try:
        tail = ddf.groupby("unique_id").tail(3)
    except AttributeError:  # the oldest dask CI installs (2024.1) has no groupby tail
        tail = dd.from_pandas(df.groupby("unique_id").tail(3), npartitions=2)
    got = model.predict(tail)  # a KeyError before
    pd.testing.assert_frame_equal(got.sort_values("unique_id", ignore_index=True),
                                  expected.sort_values("unique_id", ignore_index=True))


@pytest.mark.parametrize("dated", [False, True], ids=["integer-times", "datetimes"])
def test_fit_partitions_refuses_gaps_and_predict_too(dated):
    """A gap joined steps that are not neighbours into training windows (a 12-hour
    outage read as consecutive hours), with no error; and missing rows in ``last``
    shifted the window under the same dates."""
    df = _long_panel()
    if dated:
        df["ds"] = pd.Timestamp("2024-01-01") + pd.to_timedelta(df["ds"], unit="h")
    gap = df.drop(index=[50, 51])  # series c
    after = "2024-01-01 14:00:00" if dated else "14"
    with pytest.raises(ValueError, match=rf"series 'c' .* in partition 0: after {after} "
                                         r"comes"):
        fit_partitions(SGDRegressor(), gap, lags=3)
    with pytest.raises(ValueError, match=r"series 'c' .* in partition 1: after"):
        fit_partitions(SGDRegressor(), [gap.iloc[:49], gap.iloc[49:]], lags=3)
    model = fit_partitions(SGDRegressor(random_state=0), df, lags=3)
    last = df.groupby("unique_id").tail(4)
    with pytest.raises(ValueError, match=r"series 'a' .* in last: after"):
        model.predict(last.drop(index=[27]))
    with pytest.raises(ValueError, match="last: series 'd' is not in increasing time "
                                         "order"):
        model.predict(last.iloc[::-1])  # newest first, as ORDER BY ds DESC gives
    forecast = model.predict(last)
    assert forecast["ds"].iloc[0] == df["ds"].iloc[29] + (df["ds"].iloc[1] - df["ds"].iloc[0])


def test_partitioned_forecasts_keep_every_series_id_as_it_is():
    """A None id's series was dropped from the forecast, and ids 1 and '1' came back
    as two series '1'."""
    df = _long_panel()
    ids = {"a": 1, "b": "1", "c": None, "d": 2}
    mixed = df.assign(unique_id=pd.Series([ids[k] for k in df["unique_id"]], dtype=object))
    model = fit_partitions(SGDRegressor(random_state=0), mixed, lags=3)
    got = model.predict(mixed.groupby("unique_id", dropna=False).tail(3))
    keys = list(got["unique_id"])  # one step: one row per series
    assert len(keys) == 4 and keys[0] == 1 and type(keys[0]) is not str
    assert keys[1] == "1" and pd.isna(keys[2]) and keys[3] == 2 and type(keys[3]) is not str
    alone = model.predict(mixed[mixed["unique_id"].isna()].tail(3))
    np.testing.assert_array_equal(alone["forecast"], got["forecast"].iloc[2:3])


def test_fit_partitions_takes_a_holiday_calendar_as_freq():
    """Business days with a holiday show 'B' and then a gap: refused, naming freq=;
    with the calendar as freq the series trains, and forecasts skip the holidays."""
    from pandas.tseries.holiday import USFederalHolidayCalendar
    cbd = pd.offsets.CustomBusinessDay(calendar=USFederalHolidayCalendar())
    dates = pd.date_range("2024-06-20", periods=40, freq=cbd)  # crosses July 4
    df = pd.DataFrame({"unique_id": "s", "ds": dates, "y": np.arange(40.0)})
    with pytest.raises(ValueError, match=r"after 2024-07-03 00:00:00 comes 2024-07-05 .*"
                                         r"give the step as freq="):
        fit_partitions(SGDRegressor(random_state=0), df, lags=3)
    m = fit_partitions(SGDRegressor(random_state=0), [df.iloc[:10], df.iloc[10:]], lags=3,
                       freq=cbd)
    assert m.n_windows_ == 40 - 3
    nov = pd.date_range("2024-11-20", periods=6, freq=cbd)  # ends Nov 27; Nov 28 a holiday
    got = m.predict(pd.DataFrame({"unique_id": "s", "ds": nov, "y": np.arange(6.0)}))
    assert got["ds"].iloc[0] == pd.Timestamp("2024-11-29")
    with pytest.raises(ValueError, match="freq must be a pandas frequency, got 'weekly'"):
        fit_partitions(SGDRegressor(), df, lags=3, freq="weekly")


def test_fit_partitions_regular_times_of_every_kind_pass():
    """What the gap check must not refuse: periods, float epoch seconds, a short
    business-day series (whose five weekdays show days, which its weekend in
    predict's rows then broke), and integer ids (which came back as objects)."""
    periods = pd.DataFrame({"unique_id": 7, "ds": pd.period_range("2020-01", periods=12,
                                                                   freq="M"),
                            "y": np.arange(12.0)})
    m = fit_partitions(SGDRegressor(random_state=0), periods, lags=3)
    got = m.predict(periods.tail(3))
    assert got["ds"].iloc[0] == pd.Period("2021-01", "M")
    assert got["unique_id"].dtype == np.int64
    epoch = periods.assign(ds=1.7e9 + 0.1 * np.arange(12))
    assert fit_partitions(SGDRegressor(random_state=0), epoch, lags=3).n_windows_ == 9
    week = pd.DataFrame({"unique_id": "new", "ds": pd.bdate_range("2024-03-18", periods=5),
                         "y": np.arange(5.0)})
    m = fit_partitions(SGDRegressor(random_state=0), week, lags=3)
    last = pd.DataFrame({"unique_id": "new", "ds": pd.to_datetime(
        ["2024-03-22", "2024-03-25", "2024-03-26"]), "y": [4.0, 5.0, 6.0]})
    assert m.predict(last)["ds"].iloc[0] == pd.Timestamp("2024-03-27")
