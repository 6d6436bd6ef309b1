"""The streaming step: predict_step / predict_proba_step, streams and RecurrentState."""
import os
import pickle
import subprocess
import sys
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning, NotFittedError

from tsbptt import (GRUClassifier, GRURegressor, LSTMClassifier, LSTMRegressor,
                    RecurrentState, RecurrentStream, RNNRegressor)
from tsbptt._kernels import reference as ref

REGRESSORS = [LSTMRegressor, GRURegressor, RNNRegressor]
DTYPES = ["float32", "float64"]
RTOL = {"float32": 1e-5, "float64": 1e-12}


def _fit(cls, X, y, **kw):
    if np.ndim(X) == 3 and np.ndim(y) == 2 and np.shape(y)[1] == np.shape(X)[1]:
        kw = {"per_step": True, **kw}  # per-step targets, said (no warning)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return cls(**{"hidden_size": 6, "max_iter": 3, "random_state": 0, **kw}).fit(X, y)


def _per_step_data(seed=0, n=6, T=25, F=2):
    rng = np.random.RandomState(seed)
    X = rng.randn(n, T, F) * 3 + 5  # far from standardised: the scaling matters
    return X, np.cumsum(X[..., 0], axis=1) * 0.1 + 7


def _stream(est, X, method="predict_step"):
    """Feed X (n, T, F) one step at a time; the outputs stacked on axis 1."""
    state, outs = None, []
    for t in range(X.shape[1]):
        y, state = getattr(est, method)(X[:, t], state)
        outs.append(y)
    return np.stack(outs, axis=1), state


@pytest.mark.parametrize("cls", REGRESSORS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("hidden", [7, (8, 5)])
def test_stream_equals_predict_sequence_bitwise(cls, dtype, hidden):
    X, Y = _per_step_data()
    est = _fit(cls, X, Y, hidden_size=hidden, dtype=dtype)
    Xq = np.random.RandomState(1).randn(3, 17, 2) * 3 + 5
    expected, states = est.predict_sequence(Xq)
    got, state = _stream(est, Xq)
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got, expected)
    for a, b in zip(state.to_states(), states):
        for u, v in zip(a, b):
            np.testing.assert_array_equal(u, v)
    # one stream alone, by 1D observations (a row alone against the same row alone:
    # whether a row's bits depend on its batch is the kernels' promise, not this one)
    alone, _ = est.predict_sequence(Xq[1:2])
    one, state = None, None
    for t in range(Xq.shape[1]):
        one, state = est.predict_step(Xq[1, t], state)
        assert np.ndim(one) == 0 and one == alone[0, t]
    np.testing.assert_allclose(alone[0], expected[1], rtol=RTOL[dtype])


@pytest.mark.parametrize("cls", REGRESSORS)
def test_stream_continues_predict_sequence(cls):
    """Half the series by predict_sequence, the rest step by step, from its states."""
    X, Y = _per_step_data()
    est = _fit(cls, X, Y, hidden_size=(5, 4))
    expected, _ = est.predict_sequence(X)
    _, states = est.predict_sequence(X[:, :10])
    state, outs = RecurrentState.from_states(states), []
    for t in range(10, X.shape[1]):
        y, state = est.predict_step(X[:, t], state)
        outs.append(y)
    np.testing.assert_array_equal(np.stack(outs, 1), expected[:, 10:])


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_step_against_numpy_reference(cell, dtype):
    cls = {"lstm": LSTMRegressor, "gru": GRURegressor, "rnn": RNNRegressor}[cell]
    X, Y = _per_step_data(F=3)
    est = _fit(cls, X, Y, dtype=dtype)
    x = np.random.RandomState(2).randn(4, 3)
    y_hat, state = est.predict_step(x)
    xs = ((x - est.input_mean_) / est.input_scale_).astype(dtype)[:, None, :]
    p = est.params_
    if cell == "gru":
        out = ref.gru_forward(xs, p["rnn.0.W"], p["rnn.0.b_hn"])
    else:
        out = getattr(ref, f"{cell}_forward")(xs, p["rnn.0.W"])
    z = out["h_T"] @ p["head.W"] + p["head.b"]
    expected = z[:, 0] * est.target_scale_[0] + est.target_mean_[0]
    np.testing.assert_allclose(y_hat, expected, rtol=RTOL[dtype] * 10)
    np.testing.assert_allclose(state.h[0], out["h_T"], rtol=RTOL[dtype] * 10,
                               atol=RTOL[dtype])
    if cell == "lstm":
        np.testing.assert_allclose(state.c[0], out["c_T"], rtol=RTOL[dtype] * 10,
                                   atol=RTOL[dtype])
    else:
        assert state.c is None


@pytest.mark.parametrize("cls", REGRESSORS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_window_model_step_ends_at_predict(cls, dtype):
    """A model fitted on 2D windows: stepping through a window ends at predict's
    value, bitwise (both run the forward-only kernels and the same head)."""
    rng = np.random.RandomState(0)
    X = rng.randn(40, 12).cumsum(axis=1)
    est = _fit(cls, X, X[:, -1] * 0.5 + 1, dtype=dtype)
    Xq = rng.randn(5, 12)
    state = None
    for t in range(12):  # univariate: one column per step
        y_hat, state = est.predict_step(Xq[:, t:t + 1], state)
    np.testing.assert_array_equal(y_hat, est.predict(Xq))
    state = None
    for t in range(12):  # a scalar is one observation of a univariate model
        y0, state = est.predict_step(Xq[0, t], state)
    assert np.ndim(y0) == 0
    assert y0 == est.predict(Xq[:1])[0]
    stream = est.stream(n_streams=5)
    for t in range(12):
        y_s = stream.step(Xq[:, t:t + 1])
    np.testing.assert_array_equal(y_s, est.predict(Xq))


def test_several_outputs_and_quantiles():
    X, Y = _per_step_data()
    Y2 = np.stack([Y, -Y], axis=-1)
    est = _fit(LSTMRegressor, X, Y2, dtype="float64")
    expected, _ = est.predict_sequence(X[:2])
    got, _ = _stream(est, X[:2])
    assert got.shape == (2, X.shape[1], 2)
    np.testing.assert_array_equal(got, expected)
    y1, _ = est.predict_step(X[0, 0])
    assert y1.shape == (2,)
    np.testing.assert_array_equal(y1, expected[0, 0])
    q = _fit(GRURegressor, X, Y, loss="quantile", quantiles=(0.1, 0.5, 0.9))
    np.testing.assert_array_equal(_stream(q, X[:2])[0], q.predict_sequence(X[:2])[0])


def test_any_thread_count_same_bits():
    X, Y = _per_step_data(n=40)
    one = _fit(LSTMRegressor, X, Y, n_threads=1)
    two = _fit(LSTMRegressor, X, Y, n_threads=2)
    np.testing.assert_array_equal(_stream(one, X)[0], _stream(two, X)[0])


def test_a_step_that_finds_the_shared_stepper_busy_steps_its_own():
    # predict_step shares one compiled stepper (and its input buffers) per
    # estimator, and holds its lock from scaling the input to running: between the
    # two an allocation may run the garbage collector, whose finalizers may let
    # another thread in (or step the same estimator themselves). A call that finds
    # the lock held steps a stepper of its own, and never reads another's input.
    X, Y = _per_step_data(n=8)
    est = _fit(LSTMRegressor, X, Y)
    inputs = [X[2 * k:2 * k + 2, k] for k in range(4)]
    expected = [est.predict_step(x)[0] for x in inputs]
    from tsbptt.estimators import _streaming

    stepper, lock = _streaming.shared_stepper(est, "predict_step")
    made = []
    real_new = _streaming.new_stepper

    def counted(*args):
        made.append(real_new(*args))
        return made[-1]

    with lock:  # as if another thread were mid-step
        _streaming.new_stepper = counted
        try:
            y, state = est.predict_step(inputs[1])
            y2, _ = est.predict_step(inputs[2], state)
        finally:
            _streaming.new_stepper = real_new
    assert len(made) == 2
    np.testing.assert_array_equal(y, expected[1])
    np.testing.assert_array_equal(y2, est.predict_step(inputs[2], state)[0])
    assert _streaming.shared_stepper(est, "predict_step") == (stepper, lock)


def test_state_is_new_arrays_never_the_models():
    X, Y = _per_step_data()
    est = _fit(LSTMRegressor, X, Y, hidden_size=(4, 3))
    params = {k: v.copy() for k, v in est.params_.items()}
    y1, s1 = est.predict_step(X[:2, 0])
    y2, s2 = est.predict_step(X[:2, 1], s1)
    kept = s1.copy()
    y2_again, _ = est.predict_step(X[:2, 1], s1)  # a state can be reused: not mutated
    np.testing.assert_array_equal(y2, y2_again)
    for a, b in zip(s1.h + s1.c, kept.h + kept.c):
        np.testing.assert_array_equal(a, b)
        assert not np.shares_memory(a, b)
    for arr in s2.h + s2.c:
        assert not any(np.shares_memory(arr, p) for p in est.params_.values())
        arr[...] = 1e3  # editing a returned state changes nothing of the model
    for k, v in est.params_.items():
        np.testing.assert_array_equal(v, params[k])
    assert s2.n_sequences == 2 and len(s2.h) == 2 and s2.h[1].shape == (2, 3)
    np.testing.assert_array_equal(est.predict_step(X[:2, 0])[0], y1)


def test_per_step_classifier_proba_step():
    X, Y = _per_step_data(n=8)
    labels = (Y > np.median(Y)).astype(int)
    clf = _fit(GRUClassifier, X, labels, dtype="float64")
    got, _ = _stream(clf, X[:3], "predict_proba_step")
    np.testing.assert_allclose(got, clf.predict_proba(X[:3]), rtol=1e-12)
    np.testing.assert_allclose(got.sum(-1), 1.0, rtol=1e-12)
    p, state = clf.predict_proba_step(X[0, 0])
    assert p.shape == (2,) and isinstance(state, RecurrentState)


def test_window_classifier_proba_step():
    rng = np.random.RandomState(0)
    X = rng.randn(30, 8)
    clf = _fit(LSTMClassifier, X, (X.sum(1) > 0).astype(int), dtype="float64")
    state = None
    for t in range(8):
        p, state = clf.predict_proba_step(X[:4, t:t + 1], state)
    np.testing.assert_allclose(p, clf.predict_proba(X[:4]), rtol=1e-12)


# -- streams -----------------------------------------------------------------------------
@pytest.mark.parametrize("cls", REGRESSORS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("hidden", [7, (8, 5)])
def test_stream_object_equals_predict_sequence_bitwise(cls, dtype, hidden):
    X, Y = _per_step_data()
    est = _fit(cls, X, Y, hidden_size=hidden, dtype=dtype)
    Xq = np.random.RandomState(1).randn(3, 17, 2) * 3 + 5
    expected, states = est.predict_sequence(Xq)
    stream = est.stream(n_streams=3)
    assert isinstance(stream, RecurrentStream) and stream.n_features == 2
    got = np.stack([stream.step(Xq[:, t]) for t in range(Xq.shape[1])], axis=1)
    np.testing.assert_array_equal(got, expected)
    for a, b in zip(stream.state.to_states(), states):
        for u, v in zip(a, b):
            np.testing.assert_array_equal(u, v)
    alone, _ = est.predict_sequence(Xq[1:2])
    one = est.stream()
    for t in range(Xq.shape[1]):  # 1D observations: one float back
        y = one.step(Xq[1, t])
        assert type(y) is float and y == alone[0, t]


@pytest.mark.parametrize("cls", REGRESSORS)
def test_state_round_trips(cls):
    """predict_step -> stream -> stream.state -> predict_step: one series, the bits
    of predict_sequence over all of it."""
    X, Y = _per_step_data()
    est = _fit(cls, X, Y, hidden_size=(5, 4))
    expected, _ = est.predict_sequence(X[:2])
    y, state = est.predict_step(X[:2, 0])
    outs = [y]
    stream = est.stream(state)
    assert stream.n_streams == 2
    outs += [stream.step(X[:2, t]) for t in range(1, 9)]
    copy = est.stream(stream.state)      # a second stream from the first one's state
    branch = stream.state
    outs.append(stream.step(X[:2, 9]))
    np.testing.assert_array_equal(copy.step(X[:2, 9]), outs[-1])
    state = stream.state
    for t in range(10, X.shape[1]):
        y, state = est.predict_step(X[:2, t], state)
        outs.append(y)
    np.testing.assert_array_equal(np.stack(outs, 1), expected)
    stream.state = branch                # assigning a state goes back to it
    np.testing.assert_array_equal(stream.step(X[:2, 9]), expected[:, 9])
    stream.reset(n_streams=4)
    assert stream.n_streams == 4
    np.testing.assert_array_equal(stream.step(X[:4, 0]), est.predict_step(X[:4, 0])[0])


def test_stream_state_is_a_copy():
    X, Y = _per_step_data()
    est = _fit(LSTMRegressor, X, Y, hidden_size=(4, 3))
    stream = est.stream(n_streams=2)
    stream.step(X[:2, 0])
    s = stream.state
    for a in s.h + s.c:
        a[...] = 1e3
    expected, _ = est.predict_sequence(X[:2, :2])
    np.testing.assert_array_equal(stream.step(X[:2, 1]), expected[:, 1])


def test_stream_pickles_and_copies_with_its_state():
    import copy
    import pickle
    X, Y = _per_step_data()
    est = _fit(GRURegressor, X, Y, hidden_size=(4, 3))
    stream = est.stream(n_streams=2)
    stream.step(X[:2, 0])
    again = pickle.loads(pickle.dumps(stream))
    twin = copy.copy(stream)
    assert twin.estimator is est and again.n_streams == 2
    expected = stream.step(X[:2, 1])
    np.testing.assert_array_equal(again.step(X[:2, 1]), expected)
    np.testing.assert_array_equal(twin.step(X[:2, 1]), expected)
    assert "RecurrentStream(GRURegressor, n_streams=2, n_features=2)" == repr(stream)


def test_stream_follows_refits_and_keeps_its_state():
    X, Y = _per_step_data(n=8)
    est = _fit(GRURegressor, X, Y, hidden_size=5, dtype="float64")
    stream = est.stream(n_streams=2)
    for t in range(5):
        stream.step(X[:2, t])
    before = stream.state
    old, _ = est.predict_step(X[:2, 5], before)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.partial_fit(X, Y)
    y = stream.step(X[:2, 5])           # the new weights, from the state it had
    np.testing.assert_array_equal(y, est.predict_step(X[:2, 5], before)[0])
    assert not np.array_equal(y, old)
    fresh = est.stream(stream.state)
    np.testing.assert_array_equal(fresh.step(X[:2, 6]), stream.step(X[:2, 6]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.set_params(warm_start=True, max_iter=2).fit(X, Y)  # the same network goes on
    state = stream.state
    np.testing.assert_array_equal(stream.step(X[:2, 7]),
                                  est.predict_step(X[:2, 7], state)[0])


@pytest.mark.parametrize("hidden", [5, 3])
def test_stream_refuses_its_state_after_a_cold_refit(hidden):
    """A cold fit makes a new network: the stream's state was computed by the old one
    (same shapes or not), so a step is refused until the stream is reset."""
    X, Y = _per_step_data(n=8)
    est = _fit(GRURegressor, X, Y, hidden_size=5, dtype="float64")
    stream = est.stream(n_streams=2)
    for t in range(5):
        stream.step(X[:2, t])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.set_params(hidden_size=hidden, random_state=1).fit(X[::-1], Y[::-1])
    with pytest.raises(ValueError, match="fitted anew since this stream's state was made"):
        stream.step(X[:2, 5])
    _, state = est.predict_sequence(X[:2, :5])
    stream.reset(RecurrentState.from_states(state))  # a state of the new network
    expected, _ = est.predict_sequence(X[:2, :7])
    np.testing.assert_array_equal(stream.step(X[:2, 5]), expected[:, 5])
    stream.reset()
    np.testing.assert_array_equal(stream.step(X[:2, 0]), expected[:, 0])


def test_several_outputs_quantiles_and_classifier_streams():
    X, Y = _per_step_data()
    est = _fit(LSTMRegressor, X, np.stack([Y, -Y], axis=-1), dtype="float64")
    expected, _ = est.predict_sequence(X[:2])
    stream = est.stream(n_streams=2)
    got = np.stack([stream.step(X[:2, t]) for t in range(X.shape[1])], axis=1)
    np.testing.assert_array_equal(got, expected)
    assert est.stream().step(X[0, 0]).shape == (2,)
    q = _fit(GRURegressor, X, Y, loss="quantile", quantiles=(0.1, 0.5, 0.9))
    qs = q.stream(n_streams=2)
    got = np.stack([qs.step(X[:2, t]) for t in range(X.shape[1])], axis=1)
    np.testing.assert_array_equal(got, q.predict_sequence(X[:2])[0])
    labels = (Y > np.median(Y)).astype(int)
    clf = _fit(GRUClassifier, X, labels, dtype="float64")
    cs = clf.stream(n_streams=3)
    got = np.stack([cs.step(X[:3, t]) for t in range(X.shape[1])], axis=1)
    np.testing.assert_array_equal(got, _stream(clf, X[:3], "predict_proba_step")[0])
    np.testing.assert_allclose(got, clf.predict_proba(X[:3]), rtol=1e-12)
    assert clf.stream().step(X[0, 0]).shape == (2,)


def test_stream_errors(lstm):
    with pytest.raises(NotFittedError, match="not fitted yet"):
        LSTMRegressor().stream()
    stream = lstm.stream(n_streams=2)
    with pytest.raises(ValueError, match=r"x_t has 3 rows, but the stream holds 2 streams: "
                                         r"give x_t of shape \(2, 2\)"):
        stream.step(np.zeros((3, 2)))
    with pytest.raises(ValueError, match="x_t has one observation, but the stream holds 2"):
        stream.step(np.zeros(2))
    with pytest.raises(ValueError, match=r"x_t must have shape \(2,\).*got shape \(\)"):
        stream.step(1.0)
    x = np.array([[1.0, 2.0], [3.0, np.nan]])
    with pytest.raises(ValueError, match=r"x_t\[1, 1\] = nan"):
        stream.step(x)
    # nothing moved: the next step is the first one
    x[1, 1] = 0.5
    np.testing.assert_array_equal(stream.step(x), lstm.predict_step(x)[0])
    with pytest.raises(ValueError, match="n_streams must be a positive int, got 0"):
        lstm.stream(n_streams=0)
    with pytest.raises(ValueError, match="n_streams must be a positive int, got True"):
        lstm.stream(n_streams=True)
    _, state = lstm.predict_step(x)
    with pytest.raises(ValueError, match="n_streams=3 but the state holds 2 sequence"):
        lstm.stream(state, n_streams=3)
    with pytest.raises(TypeError, match="state must be None or a RecurrentState, got list"):
        lstm.stream(state.to_states())
    with pytest.raises(TypeError, match=r"state.h\[0\] must be a float32 ndarray"):
        lstm.stream(state._replace(h=(state.h[0].astype(float), state.h[1])))
    with pytest.raises(ValueError, match="state.c is None, but an LSTM's state needs"):
        stream.state = state._replace(c=None)
    X, Y = _per_step_data()
    bi = _fit(GRURegressor, X, Y, bidirectional=True)
    with pytest.raises(ValueError, match="stream needs a unidirectional model"):
        bi.stream()


_DISPATCH_CHECK = """
import warnings
import numpy as np
from tsbptt import LSTMRegressor
from tsbptt._kernels import cell_kernels, kernel_isa
warnings.simplefilter("ignore")
rng = np.random.RandomState(0)
X = rng.randn(6, 9, 2)
est = LSTMRegressor(5, max_iter=2, random_state=0).fit(X, X[..., 0].cumsum(1))
stream = est.stream(n_streams=6)
got = np.stack([stream.step(X[:, t]) for t in range(9)], 1)
assert np.array_equal(got, est.predict_sequence(X)[0])
assert stream._stepper.isa == cell_kernels("lstm").microkernel_tiles()["isa"]
print(kernel_isa())
"""


@pytest.mark.slow
@pytest.mark.parametrize("variable, allowed", [("TSBPTT_DISABLE_AVX512", {"avx2", "baseline"}),
                                               ("TSBPTT_DISABLE_AVX2", {"baseline"})])
def test_streams_run_the_build_the_kernels_use(variable, allowed, tmp_path):
    """The stepper takes the instruction-set build the other kernels use (chosen once
    per process): a step stays bitwise predict_sequence's under each setting."""
    # Outside the checkout, so that `python -c` imports the installed package (CI
    # installs it; the checkout itself has no compiled kernels there).
    run = subprocess.run([sys.executable, "-c", _DISPATCH_CHECK], capture_output=True,
                         text=True, env={**os.environ, variable: "1"}, timeout=300,
                         cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() in allowed


# -- errors ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def lstm():
    X, Y = _per_step_data()
    return _fit(LSTMRegressor, X, Y, hidden_size=(4, 3))


def test_not_fitted_and_bidirectional():
    with pytest.raises(NotFittedError, match="not fitted yet"):
        LSTMRegressor().predict_step([1.0])
    X, Y = _per_step_data()
    bi = _fit(GRURegressor, X, Y, bidirectional=True)
    with pytest.raises(ValueError, match="predict_step needs a unidirectional model"):
        bi.predict_step(X[0, 0])


@pytest.mark.parametrize("x, err, msg", [
    (np.zeros(3), ValueError, r"x_t must have shape \(2,\).*got shape \(3,\)"),
    (np.zeros((2, 2, 2)), ValueError, r"or \(n_sequences, 2\), got shape \(2, 2, 2\)"),
    (np.zeros((0, 2)), ValueError, r"got shape \(0, 2\)"),
    (1.0, ValueError, r"x_t must have shape \(2,\).*got shape \(\)"),
    (np.array(["a", "b"]), TypeError, "x_t must hold numbers, got an array of dtype <U1"),
    (np.array([1.0, np.nan]), ValueError, r"x_t must be finite.*x_t\[0, 1\] = (np\.float64\()?nan"),
    (np.array([[0, 1], [np.inf, 0]]), ValueError, r"x_t\[1, 0\] = (np\.float64\()?inf"),
    (np.array([1e45, 0.0]), ValueError, r"finite in the model's dtype \(float32\).*1e\+45"),

    ([[1.0, 2.0], [3.0]], ValueError, "x_t cannot be read as an array of numbers: setting"),
])
@pytest.mark.filterwarnings("ignore:overflow encountered in cast:RuntimeWarning")
def test_bad_x_t(lstm, x, err, msg):
    with pytest.raises(err, match=msg):
        lstm.predict_step(x)


def test_an_integer_beyond_float64_is_refused_by_name():
    X, Y = _per_step_data(F=1)
    est = _fit(GRURegressor, X, Y)
    with pytest.raises(ValueError, match=r"x_t is an integer beyond the float64 range"):
        est.predict_step(10 ** 400)
    with pytest.raises(ValueError, match=r"x_t cannot be read as an array of numbers: int"):
        est.predict_step([10 ** 400])
    np.testing.assert_array_equal(est.predict_step([2 ** 64])[0], est.predict_step(2.0 ** 64)[0])


def test_bad_state(lstm):
    x = np.zeros((2, 2))
    _, good = lstm.predict_step(x)
    with pytest.raises(TypeError, match="state must be None or the RecurrentState.*"
                                        "got list.*RecurrentState.from_states"):
        lstm.predict_step(x, good.to_states())
    with pytest.raises(ValueError, match=r"state.h\[0\] has shape \(2, 4\), expected "
                                         r"\(3, 4\) for 3 sequence"):
        lstm.predict_step(np.zeros((3, 2)), good)
    with pytest.raises(ValueError, match="state.h must be a tuple of 2 arrays"):
        lstm.predict_step(x, good._replace(h=good.h[:1]))
    with pytest.raises(TypeError, match=r"state.c\[1\] must be a float32 ndarray.*"
                                        "got float64"):
        lstm.predict_step(x, good._replace(c=(good.c[0], good.c[1].astype(np.float64))))
    bad = good.copy()
    bad.h[1][0, 2] = np.nan
    with pytest.raises(ValueError, match=r"state.h\[1\] contains NaN or infinity"):
        lstm.predict_step(x, bad)
    with pytest.raises(ValueError, match="state.c is None, but an LSTM's state needs"):
        lstm.predict_step(x, good._replace(c=None))
    X, Y = _per_step_data()
    gru = _fit(GRURegressor, X, Y, hidden_size=(4, 3))
    with pytest.raises(ValueError, match="state was computed by another network"):
        gru.predict_step(x, good)  # the LSTM's own state
    by_hand = RecurrentState(tuple(h.copy() for h in good.h), good.c)  # origin unknown
    with pytest.raises(ValueError, match="state.c must be None: only an LSTM"):
        gru.predict_step(x, by_hand)


def test_integer_and_float32_inputs_match_float64(lstm):
    a, _ = lstm.predict_step(np.array([[3, -2]]))
    b, _ = lstm.predict_step(np.array([[3.0, -2.0]]))
    c, _ = lstm.predict_step(np.array([[3.0, -2.0]], dtype=np.float32))
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(b, c)


# -- predict's shortcut for plain arrays (tsbptt.estimators._inputs._checked_plain) --------
def test_plain_array_predict_checks_as_scikit_learn_does():
    import pandas as pd
    rng = np.random.RandomState(0)
    X = rng.randn(30, 6)
    est = _fit(GRURegressor, X, X[:, -1], dtype="float64")
    # a list takes scikit-learn's full path: the same numbers
    np.testing.assert_array_equal(est.predict(X[:3]), est.predict(X[:3].tolist()))
    np.testing.assert_array_equal(est.predict(X[:3].astype(np.float32)),
                                  est.predict(X[:3].astype(np.float32).tolist()))
    bad = X[:2].copy()
    bad[1, 3] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        est.predict(bad)
    bad[1, 3] = np.inf
    with pytest.raises(ValueError, match="Input X contains infinity"):
        est.predict(bad)
    with pytest.raises(ValueError, match="X has 5 features, but GRURegressor is "
                                         "expecting 6 features as input"):
        est.predict(X[:2, :5])
    with pytest.raises(ValueError, match="Found array with 0 sample"):
        est.predict(X[:0])
    frame = pd.DataFrame(X, columns=[f"lag{k}" for k in range(6)])
    named = _fit(GRURegressor, frame, X[:, -1], dtype="float64")
    with pytest.warns(UserWarning, match="X does not have valid feature names"):
        named.predict(X[:2])
    seq = _fit(GRURegressor, X[:, :, None], X[:, -1], dtype="float64")
    bad3 = X[:2, :, None].copy()
    bad3[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):  # named, as 2D X is
        seq.predict(bad3)
    np.testing.assert_array_equal(seq.predict(X[:2, :, None]),
                                  seq.predict(list(X[:2, :, None])))


def test_a_recurrent_state_given_to_from_states_comes_back_as_it_is():
    # a RecurrentState is a tuple: read as a list of layers, (h, c) of a 2-layer LSTM
    # became h = (h0, c0), c = (h1, c1), passed every check, and forecast otherwise
    X, Y = _per_step_data()
    lstm = _fit(LSTMRegressor, X, Y, hidden_size=4, num_layers=2)
    _, state = lstm.predict_step(X[0, 0])
    again = RecurrentState.from_states(state)
    for a, b in zip(again.h + again.c, state.h + state.c):
        np.testing.assert_array_equal(a, b)
        assert a is not b  # a copy, as from a list
    assert lstm.predict_step(X[0, 1], again)[0] == lstm.predict_step(X[0, 1], state)[0]


def test_step_messages_name_the_mistake():
    X, Y = _per_step_data()
    gru = _fit(GRURegressor, X, Y)
    _, three = gru.predict_step(X[:3, 0])
    with pytest.raises(ValueError, match=r"state.h\[0\] has shape \(3, 6\), expected "
                                         r"\(1, 6\) for 1 sequence\(s\) \(x_t has 1 "
                                         r"row\(s\), one per sequence\)"):
        gru.predict_step(X[0, 0], three)
    bi = _fit(GRURegressor, X, Y, bidirectional=True)
    with pytest.raises(ValueError, match="this one was fitted with bidirectional=True"):
        bi.predict_sequence(X)
    with pytest.raises(ValueError, match=r"fitted with bidirectional=True\)"):
        bi.stream()
    windows = _fit(GRURegressor, X, Y[:, -1])
    with pytest.raises(ValueError, match="this one was fitted on one target per sequence"):
        windows.predict_sequence(X)


def test_a_reset_keeps_the_number_of_streams():
    X, Y = _per_step_data()
    stream = _fit(GRURegressor, X, Y).stream(n_streams=3)
    first = stream.step(X[:3, 0])
    stream.state = None  # both went back to 1 stream, and the next 3-row step failed
    assert stream.n_streams == 3
    np.testing.assert_array_equal(stream.step(X[:3, 0]), first)
    stream.reset()
    assert stream.n_streams == 3 and stream.reset(n_streams=2).n_streams == 2


def test_a_reset_after_a_cold_refit_keeps_the_number_of_streams():
    # the refused step says to reset; reset() then built the new network's
    # stepper first and read its count, 1, and the next 3-row step failed
    X, Y = _per_step_data(n=8)
    est = _fit(GRURegressor, X, Y, hidden_size=4, dtype="float64")
    stream = est.stream(n_streams=3)
    stream.step(X[:3, 0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.set_params(random_state=1).fit(X, Y)
    with pytest.raises(ValueError, match="fitted anew since this stream's state was made"):
        stream.step(X[:3, 1])
    assert stream.reset().n_streams == 3
    expected, _ = est.predict_sequence(X[:3, :2])
    np.testing.assert_array_equal(stream.step(X[:3, 0]), expected[:, 0])
    with pytest.raises(ValueError, match="n_streams must be a positive int, got 0"):
        stream.reset(n_streams=0)
    assert stream.n_streams == 3


def test_more_quantiles_than_a_stepper_holds_are_refused_by_name():
    rng = np.random.RandomState(0)
    X = rng.randn(8, 4)
    q = _fit(LSTMRegressor, X, X[:, -1], hidden_size=3, loss="quantile",
             quantiles=tuple(np.linspace(0.01, 0.99, 70)), max_iter=1)
    assert q.predict(X).shape == (8,)  # predict serves them
    with pytest.raises(ValueError, match="predict_step steps models of at most 64 "
                                         r"quantiles; this one was fitted with 70"):
        q.predict_step(X[0])


@pytest.mark.parametrize("cls", [LSTMRegressor, GRURegressor])
@pytest.mark.parametrize("dtype", DTYPES)
def test_big_endian_inputs_and_states_are_read_as_their_values(cls, dtype):
    """Readings decoded from network byte order ('>f8') have float64's type number;
    read in place, their bytes gave a different forecast with no error."""
    X, Y = _per_step_data()
    est = _fit(cls, X, Y, dtype=dtype)
    expected, _ = est.predict_sequence(X[:2, :2])

    def swapped(a):
        return np.ascontiguousarray(a, dtype=a.dtype.newbyteorder(">"))

    y0, state = est.predict_step(swapped(X[:2, 0]))
    np.testing.assert_array_equal(y0, expected[:, 0])
    state = RecurrentState(tuple(swapped(h) for h in state.h),
                           None if state.c is None else tuple(swapped(c) for c in state.c))
    y1, _ = est.predict_step(X[:2, 1], state)
    np.testing.assert_array_equal(y1, expected[:, 1])
    stream = est.stream()
    np.testing.assert_array_equal(stream.step(swapped(X[:1, 0])), expected[:1, 0])


@pytest.mark.parametrize("cls", [LSTMRegressor, GRURegressor])
def test_a_state_from_before_a_cold_refit_is_refused(cls):
    """A cold fit makes a new network; a state the old one computed means nothing to
    it. A partial_fit, a warm start or a copy of the model (same network or same
    weights) keeps its states usable."""
    X, Y = _per_step_data(n=8)
    est = _fit(cls, X, Y, hidden_size=5, dtype="float64")
    _, state = est.predict_step(X[:2, 0])
    _, states = est.predict_sequence(X[:2, :3])
    kept = state.copy()
    stream = est.stream(n_streams=2)
    stream.step(X[:2, 0])
    streamed = stream.state  # its getter made new arrays, unmarked until this fix
    twin = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(twin.predict_step(X[:2, 1], state)[0],
                                  est.predict_step(X[:2, 1], state)[0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.partial_fit(X, Y)
        est.predict_step(X[:2, 1], state)  # the same network, learning on
        est.set_params(warm_start=True, max_iter=2).fit(X, Y)
        est.predict_sequence(X[:2, 3:], states)
        est.set_params(warm_start=False, random_state=3).fit(X, Y)
    for call in (lambda: est.predict_step(X[:2, 1], state),
                 lambda: est.predict_step(X[:2, 1], kept),
                 lambda: est.predict_step(X[:2, 1], streamed)):
        with pytest.raises(ValueError, match="state was computed by another network"):
            call()
    with pytest.raises(ValueError, match="initial_states was computed by another network"):
        est.predict_sequence(X[:2, 3:], states)
    with pytest.raises(ValueError, match="state was computed by another network"):
        est.predict_step(X[:2, 3], RecurrentState.from_states(states))  # a copy of it
    for make in (lambda: est.stream(state), lambda: setattr(est.stream(), "state", kept)):
        with pytest.raises(ValueError, match="state was computed by another network"):
            make()
    _, fresh = est.predict_step(X[:2, 0])
    est.predict_step(X[:2, 1], fresh)  # the new fit's own state
    est.stream(fresh).step(X[:2, 1])
