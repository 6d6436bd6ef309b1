"""Fuzz tests (hypothesis): the estimators' inputs, the Forecaster's inputs and model
files. Every example must end in a clear ValueError/TypeError that names what is
wrong, or in a correct, finite result; each in bounded time (the deadline) and
memory (traced). Derandomized, so a run is reproducible; about 20 s in all."""
import contextlib
import io
import json
import signal
import threading
import tracemalloc
import warnings
import zipfile

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st
from sklearn.linear_model import Ridge

from tsbptt import Forecaster, RNNRegressor, load_model
from tsbptt.persistence import _checksum
from tsbptt.forecasting.windowing import make_windows

FUZZ = settings(max_examples=100, deadline=2000, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow,
                                       HealthCheck.function_scoped_fixture])

#: Values that broke something once: non-finite, near the float64 limit, tiny.
EXTREMES = [0.0, -0.0, 1.0, -1.0, 1e-300, 5e-324, 1e300, -1e300, 1.7e308, -1.7e308,
            3.5e38, np.nan, np.inf, -np.inf]

values = st.one_of(st.sampled_from(EXTREMES),
                   st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False))


def _column(draw, n, kinds=("f8", "f4", "i8", "c16", "b", "U")):
    """n values of a drawn kind: mostly ordinary numbers, sometimes extremes."""
    kind = draw(st.sampled_from(kinds))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    base = rng.normal(size=n) * draw(st.sampled_from([1.0, 1e-300, 1e300]))
    for i in draw(st.lists(st.integers(0, max(n - 1, 0)), max_size=3 if n else 0)):
        base[i] = draw(values)
    with np.errstate(all="ignore"):
        if kind == "c16":
            return base + 1j
        if kind in ("i8", "b"):
            return np.nan_to_num(base).clip(-1e9, 1e9).astype(kind)
        if kind == "U":
            return base.astype(str)
        return base.astype(kind)


@contextlib.contextmanager
def _time_limit(seconds):
    """Fail (not hang) if the body runs longer than ``seconds``: hypothesis'
    deadline only reports a slow example once it has ended."""
    if not hasattr(signal, "setitimer") or \
            threading.current_thread() is not threading.main_thread():
        yield
        return

    def fail(signum, frame):
        raise TimeoutError(f"an example ran longer than {seconds} s")
    old = signal.signal(signal.SIGALRM, fail)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def _clear(exc, *words):
    """A message of substance that names one of ``words``."""
    msg = str(exc)
    event(f"refused: {type(exc).__name__}")
    assert len(msg) > 15, msg
    assert any(w.lower() in msg.lower() for w in words), msg


# -- estimators -------------------------------------------------------------------------

@st.composite
def estimator_data(draw):
    n = draw(st.integers(0, 12))
    w = draw(st.integers(1, 4))
    X = np.column_stack([_column(draw, n) for _ in range(w)]) if n else np.empty((0, w))
    y = _column(draw, n)
    if draw(st.booleans()):
        y = np.column_stack([y, _column(draw, n, ("f8",))])
    if draw(st.integers(0, 4)) == 0:  # a wrong number of targets
        y = y[: max(n - 1, 0)]
    return X, y


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")  # sklearn's
@FUZZ
@given(data=estimator_data(), dtype=st.sampled_from(["float32", "float64"]),
       n_threads=st.sampled_from([None, 1, -1, 0, 2**31, 10**20, True]))
def test_fuzz_estimator_inputs(data, dtype, n_threads):
    X, y = data
    est = RNNRegressor(2, max_iter=1, batch_size=4, dtype=dtype, n_threads=n_threads,
                       random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=UserWarning)  # ConvergenceWarning
        warnings.simplefilter("error", category=np.exceptions.ComplexWarning)
        try:
            est.fit(X, y)
        except (ValueError, TypeError) as exc:
            _clear(exc, "X", "y", "n_threads", "sample", "complex", "label", "dtype")
            return
    # fitted: only from finite real numbers, and every prediction finite
    event("fitted")
    # numeric strings are read as numbers, as scikit-learn's check_array does
    assert X.dtype.kind in "fiubU" and np.asarray(y).dtype.kind in "fiubU"
    assert np.isfinite(X.astype(np.float64)).all()
    assert np.isfinite(y.astype(np.float64)).all()
    assert all(np.isfinite(p).all() for p in est.network_.params.values())
    assert np.isfinite(est.target_scale_).all() and np.isfinite(est.target_mean_).all()
    assert np.isfinite(est.predict(X)).all()


# -- the Forecaster -----------------------------------------------------------------------

@st.composite
def forecaster_data(draw):
    n = draw(st.integers(1, 40))
    kinds = ("f8", "f8", "f8", "c16", "i8", "b", "U")
    y = pd.Series(_column(draw, n, kinds), name="y",
                  index=pd.date_range("2024-01-01", periods=n, freq="h"))
    X = None
    if draw(st.booleans()):
        X = pd.DataFrame({"x": _column(draw, n, kinds)}, index=y.index)
    if draw(st.integers(0, 5)) == 0:  # a gap in the index
        keep = np.ones(n, bool)
        keep[n // 2] = False
        y = y[keep]
        X = None if X is None else X[keep]
    lags = draw(st.one_of(st.integers(1, 8), st.sampled_from([10**6, 10**9, 10**12,
                                                               0, -3, True])))
    horizon = draw(st.one_of(st.integers(1, 4), st.sampled_from([10**9, 0, True])))
    return y, X, lags, horizon


@FUZZ
@given(case=forecaster_data())
def test_fuzz_forecaster_inputs(case):
    y, X, lags, horizon = case
    tracemalloc.start()
    try:
        with warnings.catch_warnings(), _time_limit(5):
            warnings.simplefilter("error", category=np.exceptions.ComplexWarning)
            try:
                f = Forecaster(Ridge(), lags=lags, horizon=horizon).fit(y, X)
                pred = f.predict() if X is None else None
            except (ValueError, TypeError) as exc:
                _clear(exc, "lags", "horizon", "y", "column", "series", "index",
                       "frequency", "steps")
                return
            finally:
                peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 50 * 2**20, peak  # nothing sized by a huge lags or horizon
    event("fitted")
    assert not isinstance(lags, bool) and not isinstance(horizon, bool)
    assert np.isfinite(y.to_numpy(np.float64)).all()
    assert y.dtype.kind in "fiu" and y.dtype.kind != "c"
    if pred is not None:
        assert len(pred) == horizon and np.isfinite(pred.to_numpy()).all()
        # a constant series, however large, forecasts itself
        if np.all(y.to_numpy() == y.iloc[0]):
            np.testing.assert_allclose(pred.to_numpy(), y.iloc[0], rtol=1e-9)


@FUZZ
@given(n=st.integers(1, 30), lags=st.one_of(st.integers(-2, 12),
                                             st.sampled_from([10**9, 10**15, True])),
       horizon=st.integers(1, 5), gap=st.integers(0, 3),
       kind=st.sampled_from(["f8", "c16", "i8"]))
def test_fuzz_make_windows(n, lags, horizon, gap, kind):
    s = pd.Series(np.arange(n, dtype=kind), name="v")
    with warnings.catch_warnings():
        warnings.simplefilter("error", category=np.exceptions.ComplexWarning)
        try:
            w = make_windows(s, lags, horizon=horizon, gap=gap)
        except ValueError as exc:
            _clear(exc, "lags", "too short", "complex")
            return
    assert kind != "c16" and not isinstance(lags, bool)
    event("windowed")
    # the window ending at origin i holds i - lags + 1 .. i and targets after the gap
    origins = np.asarray(w.origins)
    np.testing.assert_array_equal(w.X.to_numpy()[:, -1], origins)
    np.testing.assert_array_equal(w.X.to_numpy()[:, 0], origins - lags + 1)
    np.testing.assert_array_equal(w.y.to_numpy()[:, 0], origins + gap + 1)


# -- model files ----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    X = np.random.default_rng(0).normal(size=(40, 6))
    est = RNNRegressor(3, max_iter=2, dtype="float64", random_state=0).fit(
        X, X[:, -2:].sum(1))
    path = tmp_path_factory.mktemp("fuzz") / "good.npz"
    est.save(path)
    return path, X


def _load_bounded(path, X):
    """Load, and predict if it loads; returns the traced peak memory."""
    tracemalloc.start()
    try:
        try:
            est = load_model(path)
        except ValueError as exc:
            _clear(exc, str(path))
            return tracemalloc.get_traced_memory()[1]
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert np.isfinite(est.predict(X)).all()
    event("loaded")
    return peak


@FUZZ
@given(edits=st.lists(st.tuples(st.floats(0, 1, exclude_max=True),
                                st.integers(0, 255)), min_size=1, max_size=4),
       cut=st.one_of(st.none(), st.floats(0, 1)),
       flags=st.sampled_from([0, 0x01, 0x08, 0x20, 0x40, 0x800, 0x2000]))
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_fuzz_mutated_model_bytes(tmp_path_factory, model_file, edits, cut, flags):
    good, X = model_file
    raw = bytearray(good.read_bytes())
    for where, byte in edits:
        raw[int(where * len(raw))] = byte
    if flags:
        at = raw.find(b"PK\x01\x02")
        while at >= 0:
            raw[at + 8] |= flags & 0xFF
            raw[at + 9] |= flags >> 8
            at = raw.find(b"PK\x01\x02", at + 4)
    if cut is not None:
        raw = raw[:int(cut * len(raw))]
    path = tmp_path_factory.mktemp("m") / "mutated.npz"
    path.write_bytes(bytes(raw))
    assert _load_bounded(path, X) < 4 * len(raw) + 2**20


@st.composite
def forged_members(draw, members):
    """Members of a model file with some arrays replaced: other values, dtypes, shapes."""
    out = dict(members)
    for name in draw(st.lists(st.sampled_from(sorted(members)), min_size=1,
                              max_size=3, unique=True)):
        a = members[name]
        shape = draw(st.sampled_from([a.shape, (0,), (2,) + a.shape, a.shape[:1]]))
        dtype = draw(st.sampled_from(["f8", "f4", "i4", "U3", "M8[s]", "b"]))
        fill = draw(st.sampled_from([np.nan, np.inf, -np.inf, 0.0, -1.0, 2.0]))
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            b = np.resize(a, shape).astype("f8")
            if b.size:
                b.flat[draw(st.integers(0, b.size - 1))] = fill
            out[name] = b.astype(dtype) if dtype not in ("M8[s]", "U3") else (
                np.zeros(shape, dtype) if dtype == "M8[s]" else b.astype(str))
    return out


@FUZZ
@given(data=st.data())
def test_fuzz_forged_and_resigned_model_files(tmp_path_factory, model_file, data):
    good, X = model_file
    with np.load(good) as npz:
        members = {k: npz[k] for k in npz.files if k != "meta.json"}
        meta = json.loads(npz["meta.json"].tobytes())
    forged = data.draw(forged_members(members))
    meta["checksum"] = _checksum(forged, meta)
    path = tmp_path_factory.mktemp("f") / "forged.npz"
    np.savez(path, **forged, **{"meta.json": np.frombuffer(json.dumps(meta).encode(),
                                                             np.uint8)})
    assume(path.stat().st_size < 2**20)
    assert _load_bounded(path, X) < 4 * path.stat().st_size + 2**20


@FUZZ
@given(shape=st.lists(st.integers(0, 2**40), min_size=1, max_size=3),
       descr=st.sampled_from(["<f8", "<f4", "|u1", "<U4", "|O", "<M8[s]", "|V8"]),
       member=st.sampled_from(["input_mean_.npy", "meta.json.npy", "param/head.W.npy"]))
def test_fuzz_declared_npy_headers(tmp_path_factory, model_file, shape, descr, member):
    good, X = model_file
    out = tmp_path_factory.mktemp("h") / "header.npz"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            blob = src.read(item)
            if item.filename == member or (member.startswith("param/")
                                           and item.filename.startswith("param/")):
                buf = io.BytesIO()
                np.lib.format.write_array_header_1_0(
                    buf, {"shape": tuple(shape), "fortran_order": False,
                          "descr": descr})
                old = blob[:blob.index(b"\n") + 1]
                blob = buf.getvalue() + blob[len(old):]
            dst.writestr(item.filename, blob)
    assert _load_bounded(out, X) < 4 * out.stat().st_size + 2**20
