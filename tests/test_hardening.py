"""Regressions of the fuzzing pass of issue #17: bad or extreme inputs, hostile model
files and concurrent fits, each refused clearly before any work, or handled."""
import io
import json
import os
import sys
import threading
import time
import tracemalloc
import warnings
import zipfile

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import Ridge

from tsbptt import Forecaster, LSTMRegressor, RNNRegressor, cli, load_model
from tsbptt.engine import _threads
from tsbptt.persistence import _checksum
from tsbptt.forecasting.windowing import make_windows

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def data():
    X = np.random.default_rng(0).normal(size=(64, 8))
    return X, X[:, -3:].sum(1)


@pytest.fixture(scope="module")
def good_file(tmp_path_factory, data):
    X, y = data
    path = tmp_path_factory.mktemp("models") / "good.npz"
    RNNRegressor(4, max_iter=2, dtype="float64", random_state=0).fit(X, y).save(path)
    return path


def _series(n=400, value=None):
    t = np.arange(n)
    v = np.sin(t / 5.0) if value is None else np.full(n, value)
    return pd.Series(v, index=pd.date_range("2024-01-01", periods=n, freq="h"), name="y")


def _peak_mib(fn):
    """Peak traced allocation (MiB) of ``fn()``, which must raise ValueError."""
    tracemalloc.start()
    try:
        with pytest.raises(ValueError) as info:
            fn()
        return tracemalloc.get_traced_memory()[1] / 2**20, str(info.value)
    finally:
        tracemalloc.stop()


# -- 1. lags far beyond the series: refused before anything sized by lags --------------

def test_huge_lags_are_refused_before_any_allocation():
    y = _series()
    peak, msg = _peak_mib(lambda: Forecaster(Ridge(), lags=10**9).fit(y))
    assert "y has 400 steps, too short for lags=1000000000 and horizon=1" in msg
    assert peak < 20
    peak, msg = _peak_mib(lambda: make_windows(y, 10**9))
    assert "too short for lags=1000000000, gap=0 and horizon=1" in msg
    assert peak < 20


def test_cli_huge_lags_exit_2_with_one_line(tmp_path, capsys):
    path = tmp_path / "s.csv"
    _series(100).rename_axis("time").reset_index().to_csv(path, index=False)
    code = cli.main(["forecast", str(path), "--time-col", "time", "--target", "y",
                     "--horizon", "2", "--lags", "1000000000", "--model", "ridge"])
    err = capsys.readouterr().err
    assert code == 2
    # refused by the flag's own check or by the library's, naming lags and the value
    assert "lags" in err and "1000000000" in err and len(err.strip().splitlines()) == 1


# -- 2. concurrent BLAS limits ----------------------------------------------------------

def _blas_threads():
    from threadpoolctl import threadpool_info
    return {i["filepath"]: i["num_threads"] for i in threadpool_info()
            if i["user_api"] == "blas"}


def test_interleaved_blas_holds_restore_each_library_once():
    from threadpoolctl import threadpool_limits

    # two holds over overlapping sets of libraries share one count per library
    one = _threads._BlasHold(lambda: _threads._every_blas()[:1])
    every = _threads.all_blas_single_threaded()
    with threadpool_limits(2, user_api="blas"):
        before = _blas_threads()
        assert set(before.values()) == {2}
        # overlapping from two threads, in the order that left a library at 1
        # thread before the holds were counted
        one.__enter__()
        every.__enter__()
        one.__exit__(None, None, None)
        assert set(_blas_threads().values()) == {1}  # the second hold still holds
        every.__exit__(None, None, None)
        assert _blas_threads() == before
        every.__enter__()
        one.__enter__()
        every.__exit__(None, None, None)
        first = _threads._every_blas()[0].filepath
        assert _blas_threads()[first] == 1
        one.__exit__(None, None, None)
        assert _blas_threads() == before


@pytest.mark.parametrize("when", ["taking", "giving back"])
def test_a_ctrl_c_between_two_libraries_leaves_every_count_as_it_was(monkeypatch, when):
    # a Ctrl-C that landed between the thread counts of two libraries left one held
    # at one thread for the rest of the process (its hold count never went to 0);
    # while the hold is taken, a with-statement whose __enter__ raises never calls
    # __exit__, so the hold must undo itself
    import signal

    from threadpoolctl import threadpool_limits

    libs = _threads._every_blas()
    if len(libs) < 2:
        pytest.skip("one BLAS loaded: no second library to leave held")
    real = _threads._set_num_threads
    calls, body = [], []

    def ctrl_c_after_setting(lib, n):
        real(lib, n)
        calls.append(n)
        if len(calls) == 1:  # right after the first library's count: Ctrl-C
            signal.raise_signal(signal.SIGINT)

    def arm():
        calls.clear()
        monkeypatch.setattr(_threads, "_set_num_threads", ctrl_c_after_setting)

    # Python's own handler, as at a terminal (a background shell ignores SIGINT)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with threadpool_limits(2, user_api="blas"):
            before = _blas_threads()
            if when == "taking":
                arm()
            with pytest.raises(KeyboardInterrupt):
                with _threads.all_blas_single_threaded():
                    body.append(set(_blas_threads().values()))
                    if when == "giving back":
                        arm()
            monkeypatch.setattr(_threads, "_set_num_threads", real)
            # every library's count set (both ways when taking), then the Ctrl-C
            assert len(calls) == (2 if when == "taking" else 1) * len(libs)
            assert body == ([] if when == "taking" else [{1}])
            assert not _threads._BlasHold._holds
            assert _blas_threads() == before
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    finally:
        signal.signal(signal.SIGINT, previous)


@pytest.fixture
def two_blas_threads():
    """Every BLAS at 2 threads (OMP_NUM_THREADS=1 loads OpenBLAS at 1), set as the
    holds set them; the counts as they were after."""
    libs = _threads._every_blas()
    saved = [lib.get_num_threads() for lib in libs]
    try:
        for lib in libs:
            _threads._set_num_threads(lib, 2)
        if set(_blas_threads().values()) != {2}:
            pytest.skip("this BLAS takes no second thread here")
        yield _blas_threads()
    finally:
        for lib, n in zip(libs, saved):
            _threads._set_num_threads(lib, n)


def test_holds_in_worker_threads_take_effect_and_give_the_count_back(two_blas_threads):
    # threadpoolctl 3.8 lets only the thread that first set a pthreads OpenBLAS's
    # count set it again: after one hold in the main thread, a worker's hold did
    # nothing (its LAPACK solves ran on 2 threads: other bits than the same fit in
    # the main thread), and a worker ending the last hold left the count at 1 for
    # the rest of the process
    before, hold = two_blas_threads, _threads.all_blas_single_threaded()
    with hold:  # the main thread sets (and gives back) first
        pass
    seen, worker_in, main_out = [], threading.Event(), threading.Event()

    def worker():
        with hold:
            worker_in.set()
            main_out.wait(30)
            seen.append(set(_blas_threads().values()))

    alone = threading.Thread(target=worker)
    main_out.set()
    alone.start()
    alone.join()
    assert seen == [{1}] and _blas_threads() == before
    # the main thread's hold ends first, the worker's last
    main_out.clear()
    worker_in.clear()
    hold.__enter__()
    overlapping = threading.Thread(target=worker)
    overlapping.start()
    worker_in.wait(30)
    hold.__exit__(None, None, None)
    main_out.set()
    overlapping.join()
    assert seen == [{1}, {1}]
    assert _blas_threads() == before
    assert not _threads._BlasHold._holds


def test_an_esn_fitted_in_a_worker_thread_has_the_main_threads_bits(two_blas_threads):
    # its readout's LAPACK solve ran on several BLAS threads there (see above)
    from tsbptt import ESNRegressor

    rng = np.random.default_rng(0)
    s = np.sin(np.arange(1548) / 6) + 0.1 * rng.standard_normal(1548)
    X = np.lib.stride_tricks.sliding_window_view(s[:-1], 48)[:1500].copy()
    y = s[48:][:1500]
    fit = lambda: ESNRegressor(random_state=0, n_threads=1).fit(X, y).coef_  # noqa: E731
    in_main, in_worker = fit(), []
    worker = threading.Thread(target=lambda: in_worker.append(fit()))
    worker.start()
    worker.join()
    np.testing.assert_array_equal(in_worker[0], in_main)


def test_concurrent_fits_leave_the_blas_threads_as_they_were(data, two_blas_threads):
    # (not under threadpool_limits: its thread holds threadpoolctl's control of the
    # BLAS while it lasts, so the fits' holds in other threads would do nothing)
    X, y = data
    errors = []

    def fit(seed):
        try:
            for _ in range(3):
                LSTMRegressor(8, max_iter=3, batch_size=8, random_state=seed,
                              n_threads=1).fit(X, y).predict(X)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=fit, args=(s,)) for s in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert _blas_threads() == two_blas_threads
    assert not _threads._BlasHold._holds


def test_a_dask_job_thread_leaves_no_blas_control_behind(monkeypatch, two_blas_threads):
    # worker_thread_limits restored every library its threadpoolctl limiter held,
    # BLAS too: the job's thread kept threadpoolctl's control of OpenBLAS, and the
    # next job in another thread ran its LAPACK solves on every core (other bits)
    import threadpoolctl

    from tsbptt.engine import _workers

    monkeypatch.setattr(_workers, "worker_cores", lambda: 1)
    seen = []

    def job():
        with _workers.worker_thread_limits():
            seen.append(set(_blas_threads().values()))

    for _ in range(2):  # two jobs, each in a thread of its own
        worker = threading.Thread(target=job)
        worker.start()
        worker.join()
    assert seen == [{1}, {1}] and _blas_threads() == two_blas_threads
    state = getattr(threadpoolctl.OpenBLASController, "_SHARED_STATE", None)
    assert getattr(state, "controlling_thread", None) is None


_FORK_AFTER_THREADS = """
import os, sys, warnings
import numpy as np
from tsbptt import LSTMRegressor
warnings.simplefilter("ignore")
rng = np.random.default_rng(0)
X, y = rng.standard_normal((2000, 24, 1)), rng.standard_normal(2000)
est = LSTMRegressor(8, max_iter=1, batch_size=500, random_state=0, n_threads=2).fit(X, y)
Xb = np.repeat(X, 10, axis=0)  # enough work for 2 threads (engine._threads.GRAIN_MACS)
expected = est.predict(Xb)  # a parallel region of 2 threads ran here
pid = os.fork()
if pid == 0:  # the child: its first parallel region waited for threads it lacks
    import signal
    signal.alarm(50)  # hung, it must not outlive the test (the parent is killed at 60 s)
    ok = np.array_equal(est.predict(Xb), expected)
    again = LSTMRegressor(8, max_iter=1, batch_size=500, random_state=0, n_threads=2)
    ok = ok and np.array_equal(again.fit(X, y).predict(Xb), expected)
    os._exit(0 if ok else 3)
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork here")
def test_a_child_forked_after_parallel_kernels_runs_them(tmp_path):
    # libgomp's threads do not survive a fork; a forked child's parallel region
    # waited for them forever (multiprocessing's default start method on Linux)
    import subprocess

    script = tmp_path / "fork.py"
    script.write_text(_FORK_AFTER_THREADS)
    try:
        done = subprocess.run([sys.executable, str(script)], timeout=60,
                              capture_output=True, text=True)
    except subprocess.TimeoutExpired:
        pytest.fail("the forked child hung in its kernels")
    assert done.returncode == 0, done.stderr[-2000:]


# -- 3, 4, 6. hostile model files --------------------------------------------------------

@pytest.mark.parametrize("kind", ["device", "fifo", "folder"])
def test_non_regular_files_are_refused_before_reading(tmp_path, kind):
    if kind == "device":
        path = "/dev/zero"
        if not os.path.exists(path):
            pytest.skip("no /dev/zero")
    elif kind == "fifo":
        path = tmp_path / "pipe.npz"
        os.mkfifo(path)
    else:
        path = tmp_path
    start = time.perf_counter()
    with pytest.raises(ValueError, match="is not a regular file"):
        load_model(path)
    assert time.perf_counter() - start < 5


def _patch_flags(raw, bits):
    """Set zip flag ``bits`` in every local and central header of ``raw``."""
    b = bytearray(raw)
    for sig, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = b.find(sig)
        while at >= 0:
            flags = int.from_bytes(b[at + offset:at + offset + 2], "little") | bits
            b[at + offset:at + offset + 2] = flags.to_bytes(2, "little")
            at = b.find(sig, at + 4)
    return bytes(b)


@pytest.mark.parametrize("bits", [0x01, 0x20, 0x40])
def test_zip_flag_bits_are_a_value_error(tmp_path, good_file, bits):
    path = tmp_path / "flagged.npz"
    path.write_bytes(_patch_flags(good_file.read_bytes(), bits))
    with pytest.raises(ValueError, match=f"flag bits {bits:#x}"):
        load_model(path)


def test_a_zip_of_many_members_is_refused_before_its_directory_is_read(tmp_path):
    import tracemalloc
    import zipfile

    path = tmp_path / "many.npz"
    with zipfile.ZipFile(path, "w") as zf:
        for i in range(20_000):
            zf.writestr(f"param/{i}.npy", b"")
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match="declares 20000 members; a model file has "
                                             "at most 4096"):
            load_model(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < path.stat().st_size  # zipfile's per-entry objects were never built


def _forge(good, out, arrays=None, meta=None):
    """Rewrite a model file with changed arrays and metadata, re-signed as a forger
    who knows the format would."""
    with np.load(good) as npz:
        members = {k: npz[k] for k in npz.files}
    doc = json.loads(members.pop("meta.json").tobytes())
    if arrays:
        members.update(arrays)
    if meta:
        meta(doc)
    doc["checksum"] = _checksum(members, doc)
    members["meta.json"] = np.frombuffer(json.dumps(doc).encode(), np.uint8)
    np.savez(out, **members)
    return out


@pytest.mark.parametrize("name,value,message", [
    ("param/head.W", np.nan, "param/head.W holds NaN or infinite values"),
    ("target_mean_", np.inf, "target_mean_ holds NaN or infinite values"),
    ("target_scale_", np.nan, "target_scale_ holds NaN or infinite values"),
    ("target_scale_", 0.0, "target_scale_ holds a scale <= 0"),
    ("input_mean_", "a", "input_mean_ is <U1, expected floating point"),
])
def test_non_finite_or_mistyped_fitted_arrays_are_refused(tmp_path, good_file, name,
                                                          value, message):
    with np.load(good_file) as npz:
        if name not in npz.files:
            name = next(k for k in npz.files if k.startswith("param/"))
            message = f"{name} holds NaN"
        a = npz[name].copy()
    a = np.full(a.shape, value) if isinstance(value, str) else a
    a.flat[0] = value if not isinstance(value, str) else a.flat[0]
    path = _forge(good_file, tmp_path / "f.npz", arrays={name: a})
    with pytest.raises(ValueError, match=message):
        load_model(path)


def test_datetime_and_object_members_are_refused_at_the_header(tmp_path, good_file):
    with np.load(good_file) as npz:
        n = len(npz["input_mean_"])
    path = _forge(good_file, tmp_path / "d.npz",
                  arrays={"input_mean_": np.zeros(n, dtype="datetime64[s]")})
    with pytest.raises(ValueError, match="'input_mean_.npy' has dtype datetime64"):
        load_model(path)


def test_declared_npy_shape_is_checked_before_allocation(tmp_path, good_file):
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buf, {"shape": (2**39,), "fortran_order": False, "descr": "<f8"})
    header = buf.getvalue()
    src = zipfile.ZipFile(good_file)
    out = tmp_path / "huge.npz"
    with zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            blob = src.read(item)
            if item.filename == "input_mean_.npy":
                blob = header + blob[len(header):]
            dst.writestr(item.filename, blob)
    src.close()
    peak, msg = _peak_mib(lambda: load_model(out))
    assert "declares shape (549755813888,) of float64" in msg
    assert peak < 10 * out.stat().st_size / 2**20 + 5


def test_deep_nesting_and_huge_integers_name_the_file(tmp_path, good_file):
    def deep(doc):
        nested = 0
        for _ in range(900):
            nested = [nested]
        doc["fitted"]["history_"] = [{"x": nested}]
    path = _forge(good_file, tmp_path / "deep.npz", meta=deep)
    with pytest.raises(ValueError, match="deep.npz.*nested more than 16 levels"):
        load_model(path)

    def huge(doc):
        doc["fitted"]["n_iter_"] = 10**5000
    import sys
    if hasattr(sys, "set_int_max_str_digits"):
        old = sys.get_int_max_str_digits()
        sys.set_int_max_str_digits(0)
    try:
        path = _forge(good_file, tmp_path / "huge_int.npz", meta=huge)
    finally:
        if hasattr(sys, "set_int_max_str_digits"):
            sys.set_int_max_str_digits(old)
    with pytest.raises(ValueError, match="huge_int.npz.*an integer of 5001 digits"):
        load_model(path)


# -- 5. overflow in the target scaling --------------------------------------------------

def test_targets_near_the_float64_limit_give_a_finite_model(tmp_path, data):
    X, y = data
    kw = dict(hidden_size=4, max_iter=3, dtype="float64", random_state=0)
    small = RNNRegressor(**kw).fit(X, y)
    big = RNNRegressor(**kw).fit(X, y * 1e300)
    assert np.isfinite(big.target_scale_).all() and np.isfinite(big.target_mean_).all()
    np.testing.assert_allclose(big.target_scale_ / 1e300, small.target_scale_,
                               rtol=1e-12)
    pred = big.predict(X)
    assert np.isfinite(pred).all()
    np.testing.assert_allclose(pred / 1e300, small.predict(X), rtol=1e-9, atol=1e-12)
    big.save(tmp_path / "big.npz")
    np.testing.assert_array_equal(load_model(tmp_path / "big.npz").predict(X), pred)


def test_targets_whose_spread_overflows_are_refused(data):
    X, _ = data
    y = np.where(np.arange(64) < 16, 1.7e308, -1.7e308)  # y - mean overflows
    with pytest.raises(ValueError, match="y spans more than the float64 range"):
        RNNRegressor(4, max_iter=1).fit(X, y)


def test_finite_huge_inputs_fit_in_either_dtype_and_are_explained_beyond_it(data):
    X, y = data
    pred = RNNRegressor(4, max_iter=2, dtype="float64", random_state=0).fit(
        X * 1e300, y).predict(X * 1e300)
    assert np.isfinite(pred).all()
    # float32 inputs are standardised before they are rounded to float32, so their
    # unit does not matter (1e300 overflowed, and 1e9 + x lost x)
    small = RNNRegressor(4, max_iter=2, random_state=0).fit(X, y)
    for unit, offset in ((1e300, 0.0), (1.0, 1e9)):
        big = RNNRegressor(4, max_iter=2, random_state=0).fit(X * unit + offset, y)
        np.testing.assert_allclose(big.predict(X * unit + offset), small.predict(X),
                                   rtol=1e-4, atol=1e-5)
    # beyond float32 once standardised by the training data: refused, explained
    with pytest.raises(ValueError, match="X has values beyond the float32 range once "
                                         "standardised"):
        small.predict(X * 1e39)


# -- 7. saving onto a folder ------------------------------------------------------------

def test_save_to_a_folder_is_refused_without_a_stray_file(tmp_path, data):
    X, y = data
    model = RNNRegressor(3, max_iter=1, random_state=0).fit(X, y)
    (tmp_path / "models").mkdir()
    with pytest.raises(ValueError, match="is a folder; give a file name"):
        model.save(tmp_path / "models")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["models"]
    assert not list((tmp_path / "models").iterdir())


# -- 8. a constant series near the float64 limit ------------------------------------------

def test_constant_1e300_series_forecasts_itself():
    f = Forecaster(Ridge(), lags=4, horizon=3).fit(_series(50, 1e300))
    np.testing.assert_array_equal(f.predict().to_numpy(), np.full(3, 1e300))


# -- 9. complex values -----------------------------------------------------------------

def test_complex_values_are_refused_everywhere(data):
    X, y = data
    with pytest.raises(ValueError, match="y has complex values"):
        RNNRegressor(3, max_iter=1).fit(X, y + 1j)
    X3 = X.reshape(64, 4, 2)
    with pytest.raises(ValueError, match=r"y\[0\] has complex values"):
        RNNRegressor(3, max_iter=1, per_step=True).fit(list(X3), [x[:, 0] + 1j for x in X3])
    s = _series(60)
    with pytest.raises(ValueError, match="column 'y' of y has complex values"):
        Forecaster(Ridge(), lags=4).fit(s + 1j)
    exog = pd.DataFrame({"z": s.to_numpy() * 1j}, index=s.index)
    with pytest.raises(ValueError, match="column 'z' of X has complex values"):
        Forecaster(Ridge(), lags=4).fit(s, exog)
    with pytest.raises(ValueError, match="column 'y' of data has complex values"):
        make_windows(s + 1j, 3)
    # future-known covariates given at predict time
    X = pd.DataFrame({"z": np.cos(np.arange(60) / 3)}, index=s.index)
    f = Forecaster(Ridge(), lags=4, horizon=2, future_exog=["z"]).fit(s, X)
    future = pd.DataFrame({"z": [1 + 1j, 2]}, index=pd.date_range(
        s.index[-1] + pd.Timedelta("1h"), periods=2, freq="h"))
    with pytest.raises(ValueError, match="column 'z' of X has complex values"):
        f.predict(X=future)
    # X too, in the estimators' words (it was scikit-learn's "Complex data not
    # supported" with the whole array printed)
    with pytest.raises(ValueError, match="X has complex values"):
        RNNRegressor(3, max_iter=1).fit(data[0] + 1j, y)
    with pytest.raises(ValueError, match=r"X\[1\] has complex values"):
        RNNRegressor(3, max_iter=1).fit([X3[0], X3[1] + 1j], y[:2])
    with pytest.raises(ValueError, match="sample_weight has complex values"):
        RNNRegressor(3, max_iter=1).fit(data[0], y, sample_weight=np.ones(64) + 1j)
    # pandas' nullable dtypes are real numbers: read, not refused (np.dtype() of a
    # Float64Dtype raised TypeError in the complex check)
    frame = pd.DataFrame(data[0]).astype("Float64")
    RNNRegressor(3, max_iter=1).fit(frame, y, sample_weight=pd.Series(np.ones(64),
                                                                     dtype="Float64"))
    RNNRegressor(3, max_iter=1).fit([frame.iloc[:4], frame.iloc[4:8]], y[:2])
    # a list of 3D arrays (scikit-learn said "dim <= 2 is required", though 3D works)
    with pytest.raises(ValueError, match=r"X\[0\] has shape \(64, 4, 2\); a list holds one "
                                         r"2D array .* pass a 3D array itself"):
        RNNRegressor(3, max_iter=1).fit([X3, X3], y[:2])


def test_masked_values_are_refused_not_read(data):
    # NumPy and scikit-learn read the values behind a mask: one masked fill value of
    # 9.97e36 became the inputs' scale and an R^2 of 0.94 fell to 0
    from tsbptt import ESNRegressor
    X, y = data
    masked = np.ma.masked_array(X.copy(), mask=np.arange(X.size).reshape(X.shape) == 19)
    masked.data[2, 3] = 9.97e36
    hint = r"the values behind a mask would be read as data: fill them"
    model = RNNRegressor(3, max_iter=1, random_state=0).fit(X, y)
    for call, what in [(lambda: RNNRegressor(3, max_iter=1).fit(masked, y), r"X .* \(2, 3\)"),
                       (lambda: model.predict(masked), r"X .* \(2, 3\)"),
                       (lambda: model.predict_step(masked[2]), r"x_t .* \(3,\)"),
                       (lambda: RNNRegressor(3, max_iter=1).fit(
                           list(masked.reshape(64, 4, 2)), y), r"X\[2\] .* \(1, 1\)"),
                       (lambda: RNNRegressor(3, max_iter=1).fit(
                           X, np.ma.masked_array(y, mask=np.arange(64) == 5)), r"y .* \(5,\)"),
                       (lambda: RNNRegressor(3, max_iter=1).fit(X, y, sample_weight=(
                           np.ma.masked_array(np.ones(64), mask=np.arange(64) == 5))),
                        r"sample_weight .* \(5,\)"),
                       (lambda: ESNRegressor(10).fit_series(
                           np.ma.masked_array(y, mask=np.arange(64) == 5), X), r"y .* \(5,\)")]:
        with pytest.raises(ValueError, match=what.replace(" .* ", r" has masked values "
                                                          r"\(the first at ") + ".*" + hint):
            call()
    # a masked array with nothing masked is read as its values
    np.testing.assert_array_equal(model.predict(np.ma.masked_array(X)), model.predict(X))


# -- 10. thread counts beyond any machine -------------------------------------------------

@pytest.mark.parametrize("n", [2**31, 10**20, -(2**31)])
def test_huge_n_threads_is_refused_in_parameter_validation(data, n):
    X, y = data
    with pytest.raises(ValueError, match=r"'n_threads' parameter .* range \[1, 4096\]"):
        RNNRegressor(3, max_iter=1, n_threads=n).fit(X, y)
    with pytest.raises(ValueError, match=r"non-zero integer in \[-4096, 4096\]"):
        _threads.resolve_n_threads(n)


def test_cli_huge_threads_exit_2_with_one_line(tmp_path, capsys):
    path = tmp_path / "s.csv"
    _series(100).rename_axis("time").reset_index().to_csv(path, index=False)
    code = cli.main(["forecast", str(path), "--time-col", "time", "--target", "y",
                     "--horizon", "2", "--lags", "4", "--model", "rnn", "--threads",
                     str(10**20)])
    err = capsys.readouterr().err
    assert code == 2 and "threads" in err and str(10**20) in err
    assert len(err.strip().splitlines()) == 1


# -- 13. booleans are not numbers --------------------------------------------------------

def test_boolean_numeric_parameters_are_refused(data):
    X, y = data
    with pytest.raises(ValueError, match="'horizon' parameter of Forecaster must be a "
                                         "number, not a boolean; got True"):
        Forecaster(Ridge(), lags=4, horizon=True).fit(_series(50))
    with pytest.raises(ValueError, match="'batch_size' parameter of RNNRegressor must "
                                         "be a number, not a boolean"):
        RNNRegressor(3, max_iter=1, batch_size=True).fit(X, y)
    # a real boolean parameter stays one
    assert RNNRegressor(3, max_iter=1, shuffle=False, random_state=0).fit(X, y).n_iter_ == 1
    # the baselines and AutoForecaster once took True for 1 (one origin, one model)
    from tsbptt import AutoForecaster, SeasonalNaive
    windows = np.arange(40.0).reshape(10, 4)
    for make, name in [(lambda: SeasonalNaive(season=True), "season"),
                       (lambda: SeasonalNaive(n_channels=True), "n_channels")]:
        with pytest.raises(ValueError, match=f"'{name}' parameter of SeasonalNaive must be a "
                                             "number, not a boolean; got True"):
            make().fit(windows, windows[:, 0])
    with pytest.raises(ValueError, match="'n_origins' parameter of AutoForecaster must be "
                                         "a number, not a boolean"):
        AutoForecaster(n_origins=True).fit(_series(50))


def test_integer_parameters_take_numpy_integers_and_n_threads_reads_alike():
    # LocalModels refused n_jobs=np.int64(1); AutoForecaster's check of n_threads
    # refused -1, which its networks take, and passed 5000, which they refused
    # mid-backtest (the candidates here fit no network: the check is what is tested)
    from sklearn.base import clone
    from tsbptt import AutoForecaster, LocalModels
    panel = {k: _series(40) + i for i, k in enumerate("ab")}
    local = LocalModels(Forecaster(Ridge(), lags=4), n_jobs=np.int64(1)).fit(panel)
    assert local.predict().shape == (2,)
    auto = AutoForecaster(horizon=2, lags=4, n_threads=-1,
                          candidates=("naive", "ridge")).fit(_series(60))
    assert auto.predict().shape == (2,)
    with pytest.raises(ValueError, match="'n_threads' parameter of AutoForecaster must be"):
        clone(auto).set_params(n_threads=5000).fit(_series(60))


# -- 11. a network too large for the machine ----------------------------------------------

def test_a_network_larger_than_memory_is_refused_before_allocating(data):
    X, y = data
    peak, msg = _peak_mib(lambda: RNNRegressor(10**6, max_iter=1).fit(X, y))
    assert msg.startswith("hidden_size=1000000 with num_layers=1 and 1 inputs needs "
                          "1.49e+04 GiB for 4 copies of its weights (weights, gradients, "
                          "optimizer state), more than this machine")
    assert peak < 20


@pytest.mark.parametrize("name,body,message", [
    # 100,000 deep: past every CPython's limit on nested JSON (the interpreter's
    # recursion limit up to 3.11, a C recursion limit in 3.12 (8,000 on Linux) and
    # 3.13, the C stack from 3.14), so json raises RecursionError, whose text differs
    ("c.json", "[" * 100_000 + "]" * 100_000, "is not valid JSON: nested too deeply to read"),
    pytest.param("c.toml", "a = " + "[" * 100_000 + "]" * 100_000,
                 "is not valid TOML: nested too deeply to read",
                 marks=pytest.mark.skipif(sys.version_info < (3, 11),
                                          reason="tomllib is Python 3.11+")),
    ("c.json", '{"hidden_size": 1000000}', "hidden_size=1000000 with num_layers=1"),
], ids=["json-nested-100000-deep", "toml-nested-100000-deep", "network-too-large"])
def test_cli_bad_configs_exit_2_with_one_line(tmp_path, capsys, name, body, message):
    path = tmp_path / "s.csv"
    _series(100).rename_axis("time").reset_index().to_csv(path, index=False)
    (tmp_path / name).write_text(body)
    code = cli.main(["forecast", str(path), "--time-col", "time", "--target", "y",
                     "--horizon", "2", "--lags", "4", "--model", "rnn", "--config",
                     str(tmp_path / name)])
    err = capsys.readouterr().err
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err


# -- 14. gaps in a DatetimeIndex ----------------------------------------------------------

def test_make_windows_refuses_a_gap_in_a_datetime_index():
    s = pd.Series(np.arange(10.0), index=pd.date_range("2024-01-01", periods=10, freq="D"))
    gappy = s.drop(s.index[4])
    with pytest.raises(ValueError, match=r"not regular: Timestamp\('2024-01-06 00:00:00'\) "
                                         r"follows Timestamp\('2024-01-04"):
        make_windows(gappy, 2)
    # regular indexes, with or without a set freq, calendar months included
    np.testing.assert_array_equal(make_windows(s, 2).y.to_numpy()[:, 0], np.arange(2, 10))
    monthly = pd.Series(np.arange(6.0), index=pd.DatetimeIndex(
        ["2024-01-01", "2024-02-01", "2024-03-01", "2024-04-01", "2024-05-01",
         "2024-06-01"]))
    np.testing.assert_array_equal(make_windows(monthly, 3).y.to_numpy()[:, 0], [3, 4, 5])


def test_targets_in_tiny_units_are_standardised_and_tiny_inputs_said_to_be_noise(data):
    # an absolute 1e-12 took a target's spread of 1e-13 for a constant: y in such
    # units was left unscaled (R^2 of -5e14)
    X, y = data
    ref = RNNRegressor(4, max_iter=2, dtype="float64", random_state=0).fit(X, y)
    for unit in (1e-13, 1e-40):
        tiny = RNNRegressor(4, max_iter=2, dtype="float64", random_state=0).fit(X, y * unit)
        np.testing.assert_allclose(tiny.predict(X), ref.predict(X) * unit, rtol=1e-7)
    # inputs keep the floor (rounding noise around 0 is not a signal), and say so
    with pytest.warns(UserWarning, match=r"X column\(s\) \[0\] vary by at most 1e-12 "
                                         r"\(standard deviation [\d.]+e-1[34]\): taken for "
                                         "rounding noise and left unscaled"):
        RNNRegressor(4, max_iter=1, dtype="float64", random_state=0).fit(X * 1e-13, y)
    from sklearn.linear_model import Ridge

    from tsbptt import Forecaster
    from tsbptt.utils._validation import SmallSpreadWarning
    rng = np.random.default_rng(0)
    idx = pd.date_range("2024-01-01", periods=306, freq="h")
    temp = pd.Series(rng.standard_normal(306), idx)
    load = pd.Series(5 * temp.iloc[:300].to_numpy() + 0.1 * rng.standard_normal(300),
                     idx[:300])
    forecasts = []
    for unit in (1.0, 1e-9):
        X = (temp * unit).to_frame("temp")
        f = Forecaster(Ridge(), lags=8, horizon=6, future_exog=["temp"],
                       scaling="global").fit(load, X.iloc[:300])
        forecasts.append(f.predict(X=X.iloc[300:]).to_numpy())
    np.testing.assert_allclose(forecasts[1], forecasts[0], rtol=1e-9)
    # a covariate of rounding noise around 0 (sin(2 pi k) over many days) is read as
    # the zeros it stands for, and said to be
    k = np.arange(306.0)
    noise = pd.DataFrame({"hour_sin": np.sin(2 * np.pi * 24 * k / 24)}, index=idx)
    assert 0 < noise["hour_sin"].abs().max() < 1e-12
    zeros = noise * 0.0
    with pytest.warns(SmallSpreadWarning, match=r"covariate\(s\) \['hour_sin'\] vary by "
                                                r"at most 1e-12: taken for rounding noise"):
        f = Forecaster(Ridge(), lags=8, horizon=6, future_exog=["hour_sin"]).fit(
            load, noise.iloc[:300])
    g = Forecaster(Ridge(), lags=8, horizon=6, future_exog=["hour_sin"]).fit(
        load, zeros.iloc[:300])
    np.testing.assert_array_equal(f.predict(X=noise.iloc[300:]),
                                  g.predict(X=zeros.iloc[300:]))
    # once in a backtest, not once an origin (nor again by the network inside)
    from tsbptt import backtest
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        backtest(Forecaster(Ridge(), lags=8, horizon=6, future_exog=["hour_sin"],
                            interval="conformal"), load, noise.iloc[:300], initial=240,
                 step=6)
    notes = [w for w in caught if issubclass(w.category, SmallSpreadWarning)]
    assert len(notes) == 1 and "covariate(s) ['hour_sin']" in str(notes[0].message)
