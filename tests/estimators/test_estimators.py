"""The scikit-learn estimators beyond scikit-learn's own checks: the 3D and ragged
input paths, determinism, fitted attributes, scikit-learn tools, bad input."""

import io
import pickle
import re
import warnings

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.compose import TransformedTargetRegressor
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, TimeSeriesSplit
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError

from tsbptt import (
    ESNClassifier,
    ESNRegressor,
    GRUClassifier,
    GRURegressor,
    LSTMClassifier,
    LSTMRegressor,
    RNNClassifier,
    RNNRegressor,
)
from tsbptt._kernels._openmp_helpers import openmp_enabled
from tsbptt.engine._threads import available_cores
from tsbptt.estimators._inputs import to_sequences

REGRESSORS = (LSTMRegressor, GRURegressor, RNNRegressor)
CLASSIFIERS = (LSTMClassifier, GRUClassifier, RNNClassifier)
ALL = REGRESSORS + CLASSIFIERS

# Most tests stop at max_iter on purpose: the warning is tested once, explicitly.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _small(cls, **kw):
    params = {"hidden_size": 4, "max_iter": 3, "learning_rate": 0.01, "batch_size": 16,
              "dtype": "float64", "random_state": 0}
    params.update(kw)
    return cls(**params)


def _windows(n=40, width=6, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, width))
    return X, X @ np.linspace(-1, 1, width) + 0.1 * rng.standard_normal(n)


def _seq3d(n=30, T=5, F=3, seed=1):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, T, F))
    return X, X.sum(axis=(1, 2))


def _ragged(n=20, F=2, seed=2, max_len=9):
    rng = np.random.default_rng(seed)
    seqs = [rng.standard_normal((int(t), F)) for t in rng.integers(1, max_len, size=n)]
    return seqs, np.array([s.sum() for s in seqs])


def _labels(n, seed=3, names=("cat", "dog", "eel")):
    return np.array(names)[np.random.default_rng(seed).integers(0, len(names), n)]


def _params_equal(a, b):
    pa, pb = a.network_.params, b.network_.params
    return pa.keys() == pb.keys() and all(np.array_equal(pa[k], pb[k]) for k in pa)


# ---------------------------------------------------------------------------------------
# 1. Input forms
# ---------------------------------------------------------------------------------------
def test_2d_windows_n_features_in_is_the_width():
    X, y = _windows(width=7)
    m = _small(LSTMRegressor).fit(X, y)
    assert m.n_features_in_ == 7
    assert not hasattr(m, "feature_names_in_")
    assert m.predict(X).shape == (len(X),)


def test_dataframe_keeps_feature_names():
    X, y = _windows(width=5)
    cols = [f"lag_{i}" for i in range(5)]
    m = _small(GRURegressor).fit(pd.DataFrame(X, columns=cols), y)
    assert m.n_features_in_ == 5
    np.testing.assert_array_equal(m.feature_names_in_, cols)
    # a DataFrame and its values predict the same
    pred_df = m.predict(pd.DataFrame(X, columns=cols))
    with warnings.catch_warnings():
        # "X does not have valid feature names"
        warnings.simplefilter("ignore", UserWarning)
        np.testing.assert_array_equal(pred_df, m.predict(X))
    with pytest.raises(ValueError, match="feature names"):
        m.predict(pd.DataFrame(X, columns=cols[::-1]))
    # a later 3D fit forgets the names
    X3, y3 = _seq3d()
    m.fit(X3, y3)
    assert not hasattr(m, "feature_names_in_")


def test_a_list_of_dataframes_keeps_its_feature_names():
    # a list of DataFrames kept no names: predicting with the columns swapped was
    # accepted and gave other numbers
    X3, y = _seq3d(n=30, T=4, F=2)
    frames = [pd.DataFrame(x, columns=["temp", "load"]) for x in X3]
    m = _small(GRURegressor).fit(frames, y)
    np.testing.assert_array_equal(m.feature_names_in_, ["temp", "load"])
    with pytest.warns(UserWarning, match="X does not have valid feature names, but "
                                         "GRURegressor was fitted with feature names"):
        plain = m.predict(list(X3[:3]))
    np.testing.assert_array_equal(m.predict(frames[:3]), plain)
    with pytest.raises(ValueError, match=r"The feature names should match those that were "
                                         r"passed during fit: X's sequences have the "
                                         r"columns \['load', 'temp'\]"):
        m.predict([f[["load", "temp"]] for f in frames[:3]])
    with pytest.raises(ValueError, match=r"X\[1\]'s columns \['load', 'temp'\] are not "
                                         r"X\[0\]'s"):
        m.predict([frames[0], frames[1][["load", "temp"]]])
    assert not hasattr(_small(GRURegressor).fit(list(X3), y), "feature_names_in_")


@pytest.mark.parametrize("cls", [LSTMRegressor, GRUClassifier])
def test_n_channels_2d_time_major_equals_3d(cls):
    T, C = 4, 3
    X3, y = _seq3d(n=40, T=T, F=C)
    if cls in CLASSIFIERS:
        y = (y > 0).astype(int)
    X2 = X3.reshape(len(X3), T * C)           # column t * C + c
    a = _small(cls, n_channels=C).fit(X2, y)
    b = _small(cls).fit(X3, y)
    assert a.n_features_in_ == T * C and b.n_features_in_ == C
    assert _params_equal(a, b)
    pa = a.predict_proba(X2) if cls in CLASSIFIERS else a.predict(X2)
    pb = b.predict_proba(X3) if cls in CLASSIFIERS else b.predict(X3)
    np.testing.assert_array_equal(pa, pb)


def test_width_not_multiple_of_n_channels_is_an_error():
    X, y = _windows(width=7)
    with pytest.raises(ValueError, match="not a multiple of n_channels=2"):
        _small(LSTMRegressor, n_channels=2).fit(X, y)


@pytest.mark.parametrize("cls", REGRESSORS)
def test_3d_input_other_timesteps_at_predict(cls):
    X3, y = _seq3d(T=5, F=3)
    m = _small(cls).fit(X3, y)
    assert m.n_features_in_ == 3
    rng = np.random.default_rng(7)
    for T in (1, 2, 11):
        Xp = rng.standard_normal((6, T, 3))
        p = m.predict(Xp)
        assert p.shape == (6,) and np.isfinite(p).all()
        # a 3D batch of T steps equals each of its rows alone
        alone = np.array([m.predict(Xp[i:i + 1])[0] for i in range(6)])
        np.testing.assert_allclose(p, alone, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("cls", ALL)
def test_ragged_list_equals_each_sequence_alone(cls, bidirectional):
    seqs, y = _ragged()
    if cls in CLASSIFIERS:
        y = (y > 0).astype(int)
    m = _small(cls, bidirectional=bidirectional).fit(seqs, y)
    assert m.n_features_in_ == 2
    method = "predict_proba" if cls in CLASSIFIERS else "predict"
    batch = getattr(m, method)(seqs)
    alone = np.concatenate([getattr(m, method)([s]) for s in seqs])
    np.testing.assert_allclose(batch, alone, rtol=1e-12, atol=1e-12)
    for i in range(3):   # a 1-element list is a 1-sample 3D array
        np.testing.assert_array_equal(getattr(m, method)(seqs[i][None]), alone[i:i + 1])
    # and the padded steps did not leak in: the longest-padded rows differ from
    # what zero-padding them to the max length as real steps gives
    T = max(len(s) for s in seqs)
    short = int(np.argmin([len(s) for s in seqs]))
    padded = np.zeros((1, T, 2))
    padded[0, :len(seqs[short])] = seqs[short]
    assert not np.allclose(getattr(m, method)(padded), batch[short:short + 1])


def test_list_padding_is_internal_zero_and_masked():
    """No parameter sets the padding; the list path pads with exact zeros, and the
    network masks padding: garbage past each length changes neither the outputs
    nor the gradients."""
    seqs, y = _ragged(n=12)
    m = _small(LSTMRegressor, bidirectional=True).fit(seqs, y)
    assert not any("pad" in name for name in m.get_params())
    X3, lengths, kind = to_sequences(m, seqs, reset=False)
    assert kind == "list"
    np.testing.assert_array_equal(lengths, [len(s) for s in seqs])
    past_end = np.arange(X3.shape[1])[None, :] >= lengths[:, None]
    assert past_end.any() and np.all(X3[past_end] == 0)

    net = m.network_
    garbage = X3.copy()
    garbage[past_end] = np.random.default_rng(0).standard_normal((past_end.sum(), 2)) * 1e3
    out0, _, cache0 = net.forward(X3, lengths)
    out1, _, cache1 = net.forward(garbage, lengths)
    np.testing.assert_array_equal(out0, out1)
    d_out = np.ones_like(out0)
    g0, _ = net.backward(cache0, d_out)
    g1, _ = net.backward(cache1, d_out)
    for k in g0:
        np.testing.assert_array_equal(g0[k], g1[k], err_msg=k)


def test_list_equals_padded_3d_cut_to_length():
    rng = np.random.default_rng(5)
    n, T, F = 10, 8, 2
    padded = rng.standard_normal((n, T, F))          # garbage beyond each length
    lengths = rng.integers(1, T + 1, size=n)
    seqs = [padded[i, :lengths[i]] for i in range(n)]
    m = _small(GRURegressor).fit(seqs, rng.standard_normal(n))
    cut_one_by_one = np.array([m.predict(padded[i:i + 1, :lengths[i]])[0]
                               for i in range(n)])
    np.testing.assert_allclose(m.predict(seqs), cut_one_by_one, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("form", ["2d", "3d", "list"])
def test_read_only_fortran_float32_inputs_and_never_modified(form):
    if form == "2d":
        X, y = _windows()
    elif form == "3d":
        X, y = _seq3d()
    else:
        X, y = _ragged()
    copy = [a.copy() for a in X] if form == "list" else X.copy()
    y_copy = y.copy()
    ref = _small(LSTMRegressor).fit(X, y)
    p_ref = ref.predict(X)

    def frozen(a):
        a = np.asfortranarray(a)
        a.setflags(write=False)
        return a

    Xf = [frozen(a) for a in X] if form == "list" else frozen(X)
    yf = y.copy()
    yf.setflags(write=False)
    m = _small(LSTMRegressor).fit(Xf, yf)
    assert _params_equal(m, ref)
    np.testing.assert_array_equal(m.predict(Xf), p_ref)

    # float32 X to a float64 model: the same as the float64 values of those float32
    X32 = [a.astype(np.float32) for a in X] if form == "list" else X.astype(np.float32)
    X32_as64 = ([a.astype(np.float64) for a in X32] if form == "list"
                else X32.astype(np.float64))
    a = _small(LSTMRegressor).fit(X32, y)
    b = _small(LSTMRegressor).fit(X32_as64, y)
    assert _params_equal(a, b)
    np.testing.assert_array_equal(a.predict(X32), b.predict(X32_as64))

    # inputs never modified (nor their dtype / layout)
    if form == "list":
        for s, c in zip(X, copy):
            np.testing.assert_array_equal(s, c)
        assert all(s.dtype == np.float32 for s in X32)
    else:
        np.testing.assert_array_equal(X, copy)
        assert X32.dtype == np.float32
    np.testing.assert_array_equal(y, y_copy)


def test_predict_stores_nothing():
    X, y = _ragged()
    m = _small(LSTMClassifier).fit(X, y > 0)
    before = {k: (id(v), v) for k, v in vars(m).items()}
    m.predict(X), m.predict_proba(X), m.predict_log_proba(X), m.score(X, y > 0)
    assert vars(m).keys() == before.keys()
    assert all(id(v) == before[k][0] for k, v in vars(m).items())


def test_per_step_targets_3d():
    X3, _ = _seq3d(n=30, T=5)
    Y = np.cumsum(X3[..., :1], axis=1)            # (n, T, 1): running sum, per step
    m = _small(LSTMRegressor).fit(X3, Y)
    assert m.per_step_ and m.n_outputs_ == 1
    p = m.predict(X3)
    assert p.shape == (30, 5) and np.isfinite(m.score(X3, Y))
    # a unidirectional model is causal: the first steps do not see the later ones
    np.testing.assert_array_equal(m.predict(X3[:, :3]), p[:, :3])
    m2 = _small(LSTMRegressor).fit(X3, np.concatenate([Y, -Y], axis=2))
    assert m2.n_outputs_ == 2 and m2.predict(X3).shape == (30, 5, 2)


def test_per_step_targets_list():
    seqs, _ = _ragged(n=12)
    ys = [np.cumsum(s[:, 0]) for s in seqs]
    m = _small(GRURegressor).fit(seqs, ys)
    pred = m.predict(seqs)
    assert isinstance(pred, list)
    assert [p.shape for p in pred] == [(len(s),) for s in seqs]
    for p, s in zip(pred, seqs):
        np.testing.assert_allclose(p, m.predict([s])[0], rtol=1e-12, atol=1e-12)
    bad = ys[:-1] + [np.ones(len(seqs[-1]) + 1)]
    with pytest.raises(ValueError, match="the targets of sequence 11 have shape"):
        _small(GRURegressor).fit(seqs, bad)


def test_a_continued_fit_reads_per_step_targets_by_this_calls_form_of_x():
    # predict takes a list where the model was fitted on a 3D array, and the other
    # way round; partial_fit read y by the fitted form and refused (or crashed in
    # NumPy on) the same per-step targets in the other form
    seqs, _ = _ragged(n=12)
    ys = [np.cumsum(s[:, 0]) for s in seqs]
    X3, _ = _seq3d(n=12, T=5, F=2)
    Y3 = np.cumsum(X3[..., 0], axis=1)
    for first, then in [((seqs, ys), (X3, Y3)), ((X3, Y3[..., None]), (seqs, ys))]:
        m = _small(LSTMRegressor, max_iter=1, per_step="auto").fit(*first)
        m.set_params(per_step=True)  # (a 2D y as wide as X has steps warns on 'auto')
        m.partial_fit(*then)
        assert m.n_iter_ == 2 and m.per_step_
        assert np.isfinite(m.score(*then))
    labels = [(s[:, 0] > 0).astype(int) for s in seqs]
    c = _small(GRUClassifier, max_iter=1).fit(seqs, labels)
    c.partial_fit(X3, (X3[..., 0] > 0).astype(int))
    assert c.n_iter_ == 2 and c.per_step_
    # a per-sequence y is still refused for a per-step model, in either form
    with pytest.raises(ValueError, match="fitted with per-step labels"):
        c.partial_fit(X3, (X3[:, 0, 0] > 0).astype(int))


def test_per_step_classifier_score_counts_an_unseen_label_as_a_miss():
    # a per-sequence model's score (accuracy_score) counts it wrong; the per-step
    # score raised "y contains labels not in classes"
    X3, _ = _seq3d(n=30, T=6, F=2)
    Y = (X3[..., 0] > 0).astype(int)
    m = _small(GRUClassifier, max_iter=2).fit(X3, Y)
    pred = m.predict(X3)
    unseen = Y.copy()
    unseen[0, 0] = 7
    expected = ((pred == unseen).sum()) / unseen.size
    assert m.score(X3, unseen) == pytest.approx(expected, abs=0)
    assert m.score(X3, unseen) == pytest.approx(m.score(X3, Y) - (pred[0, 0] == Y[0, 0])
                                                / Y.size)


def test_a_refused_optimizer_change_keeps_the_record_of_the_optimizer_kept():
    # the record of what the optimizer was built from took the refused settings:
    # setting them back then threw Adam's moments away for a new Adam
    X, y = _windows()
    m = _small(LSTMRegressor, max_iter=1, warm_start=True).fit(X, y)
    adam, record = m._optimizer, dict(m._optimizer_params)
    m.set_params(optimizer="sgd", nesterov=True, momentum=0.0)
    with pytest.raises(ValueError, match="nesterov"):
        m.fit(X, y)
    assert m._optimizer is adam and m._optimizer_params == record and m.n_iter_ == 1
    m.set_params(optimizer="adam", nesterov=False, momentum=0.9).fit(X, y)
    assert m._optimizer is adam and m.n_iter_ == 2


def test_a_continued_fit_refused_before_an_epoch_keeps_the_best_validation_score():
    X, y = _windows(n=50)
    m = _small(LSTMRegressor, early_stopping=True, n_iter_no_change=100).fit(X, y)
    best, scores = m.best_validation_score_, list(m.validation_scores_)
    assert best is not None
    m.set_params(warm_start=True, early_stopping=False, bptt_steps=4, checkpoint_every=2)
    with pytest.raises(ValueError, match="checkpoint_every"):  # the trainer's checks
        m.fit(X, y)
    assert m.n_iter_ == 3 and m.best_validation_score_ == best and m.validation_scores_ == scores


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_per_step_list_alone_vs_in_batch_bitwise(dtype):
    seqs, _ = _ragged(n=40, max_len=12)
    ys = [np.cumsum(s[:, 0]) for s in seqs]
    m = _small(LSTMRegressor, hidden_size=8, dtype=dtype).fit(seqs, ys)
    for p, s in zip(m.predict(seqs), seqs):
        np.testing.assert_array_equal(p, m.predict([s])[0])


# ---------------------------------------------------------------------------------------
# 2. Determinism
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("cls", [LSTMRegressor, GRURegressor, RNNRegressor, LSTMClassifier])
def test_same_random_state_bitwise_for_any_n_threads(cls, dtype, threads_for_any_work):
    # batch_size 64 on 70 samples: several row chunks per batch, a short last batch
    X3, y = _seq3d(n=70, T=6, F=2)
    if cls in CLASSIFIERS:
        y = _labels(len(y))
    fits = [_small(cls, dtype=dtype, batch_size=64, n_threads=n).fit(X3, y)
            for n in (1, 2, 1)]
    for other in fits[1:]:
        assert _params_equal(fits[0], other)
        assert other.loss_curve_ == fits[0].loss_curve_
    preds = [m.predict_proba(X3) if cls in CLASSIFIERS else m.predict(X3) for m in fits]
    for p in preds[1:]:
        np.testing.assert_array_equal(preds[0], p)
    # and a different seed changes them
    assert not _params_equal(fits[0], _small(cls, dtype=dtype, batch_size=64,
                                             random_state=1).fit(X3, y))


@pytest.mark.parametrize("form", ["3d", "list"])
@pytest.mark.parametrize("cls", [LSTMRegressor, GRUClassifier])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sample_alone_vs_in_batch_bitwise(dtype, cls, form):
    # 70 samples: several kernel chunks (the rows a thread runs together)
    X, y = _seq3d(n=70, T=6, F=2) if form == "3d" else _ragged(n=70, max_len=10)
    if cls in CLASSIFIERS:
        y = _labels(len(y))
    m = _small(cls, hidden_size=8, dtype=dtype).fit(X, y)
    method = getattr(m, "predict_proba" if cls in CLASSIFIERS else "predict")
    batch = method(X)
    rows = [0, 1, 17, 33, 50, 63, 64, 69]    # both prediction batches, both ends
    alone = np.concatenate([method(X[i:i + 1]) for i in rows])
    np.testing.assert_array_equal(alone, batch[rows])
    perm = np.random.default_rng(0).permutation(len(X))
    shuffled = method(X[perm] if form == "3d" else [X[i] for i in perm])
    np.testing.assert_array_equal(shuffled, batch[perm])


# ---------------------------------------------------------------------------------------
# 3. Fitted attributes
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("cls", ALL)
def test_fitted_attributes(cls):
    X, y = _windows(n=37)
    if cls in CLASSIFIERS:
        y = _labels(len(y))
    m = _small(cls, max_iter=4, tol=0.0)
    assert m.fit(X, y) is m
    assert m.n_iter_ == 4
    assert len(m.loss_curve_) == m.n_iter_ and len(m.history_) == m.n_iter_
    assert m.loss_ == m.loss_curve_[-1]
    assert m.best_loss_ == min(m.loss_curve_)
    assert [h["epoch"] for h in m.history_] == [1, 2, 3, 4]
    assert [h["train_loss"] for h in m.history_] == m.loss_curve_
    assert all(h["n_updates"] == 3 for h in m.history_)   # ceil(37 / 16)
    assert m.t_ == 4 * 37
    assert m.validation_scores_ is None and m.best_validation_score_ is None  # as MLP
    assert m.n_outputs_ == 1
    if cls in CLASSIFIERS:
        np.testing.assert_array_equal(m.classes_, ["cat", "dog", "eel"])
        assert set(m.predict(X)) <= {"cat", "dog", "eel"}
        proba = m.predict_proba(X)
        assert proba.shape == (len(X), 3)
        np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-12)
        np.testing.assert_allclose(m.predict_log_proba(X), np.log(proba),
                                   rtol=1e-12, atol=1e-14)
        np.testing.assert_array_equal(m.predict(X), m.classes_[proba.argmax(axis=1)])


def test_multi_output_regression_shapes():
    X, y = _windows()
    Y = np.column_stack([y, -y, 2 * y])
    m = _small(GRURegressor).fit(X, Y)
    assert m.n_outputs_ == 3 and m.predict(X).shape == (len(X), 3)
    m1 = _small(GRURegressor).fit(X, y[:, None])
    assert m1.n_outputs_ == 1 and m1.predict(X).shape == (len(X),)
    p = _small(GRURegressor)
    p.partial_fit(X, Y)
    p.partial_fit(X, Y)
    assert p.n_iter_ == 2 and p.predict(X).shape == (len(X), 3)
    with pytest.raises(ValueError, match="y has 2 outputs per sequence, the model was "
                                         "fitted with 3 outputs per sequence"):
        p.partial_fit(X, Y[:, :2])


def test_a_y_as_wide_as_the_sequences_are_long_is_read_as_said():
    # a (n, T, F) window with its next T values as y was silently a per-step model
    # (y[:, t] read from steps 0..t only), whose predict had the expected shape
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 3, 2))
    Y = np.cumsum(X[..., 0], axis=1)
    with pytest.warns(UserWarning, match=r"y of shape \(40, 3\), as wide as X has time "
                      r"steps \(3\), is read as one target per time step \(per_step="
                      r"'auto'\); if it holds that many outputs per sequence, pass "
                      r"per_step=False") as said:
        auto = _small(LSTMRegressor, max_iter=2).fit(X, Y)
    # it names the caller's line, not the library's
    assert [w.filename for w in said if "per_step" in str(w.message)] == [__file__]
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)  # (a UserWarning too)
        steps = _small(LSTMRegressor, max_iter=2, per_step=True).fit(X, Y)
        rows = _small(LSTMRegressor, max_iter=2, per_step=False).fit(X, Y)
        # a 3D y is per step whatever its last axis: no warning
        _small(LSTMRegressor, max_iter=2).fit(X, Y[..., None])
    assert auto.per_step_ and steps.per_step_ and _params_equal(auto, steps)
    assert not rows.per_step_ and rows.n_outputs_ == 3
    assert rows.predict(X[:2]).shape == (2, 3)
    # per step, each output reads the steps up to its own; per sequence, all three
    Xc = X[:2].copy()
    Xc[:, 2] += 1.0
    assert np.array_equal(steps.predict(Xc)[:, :2], steps.predict(X[:2])[:, :2])
    assert not np.array_equal(rows.predict(Xc)[:, 0], rows.predict(X[:2])[:, 0])
    # a list X whose targets are as long as its (equal) sequences: the same
    with pytest.warns(UserWarning, match="a list of targets of length 3 as long as every "
                                         "sequence, is read as one target per time step"):
        _small(LSTMRegressor, max_iter=1).fit(list(X), list(Y))
    assert _small(LSTMRegressor, max_iter=1, per_step=False).fit(
        list(X), list(Y)).n_outputs_ == 3
    with pytest.raises(ValueError, match=r"per_step=True needs 3D X"):
        _small(LSTMRegressor, per_step=True).fit(X[:, :, 0], Y)
    with pytest.raises(ValueError, match="y has 3 outputs per sequence, the model was "
                                         "fitted with 1 output per time step"):
        steps.set_params(per_step=False).partial_fit(X, Y)
    # a y that cannot be read as per_step says is refused in per_step's words
    with pytest.raises(ValueError, match=r"per_step=True, but y of shape \(40,\) holds "
                                         r"no target per time step"):
        _small(LSTMRegressor, per_step=True).fit(X, Y[:, 0])
    with pytest.raises(ValueError, match=r"per_step=True, but y of shape \(40,\)"):
        _small(LSTMClassifier, per_step=True).fit(X, Y[:, 0] > 0)
    ragged = [x[:n] for x, n in zip(X, [2, 3] * 20)]
    with pytest.raises(ValueError, match="per_step=False, but y holds a sequence of "
                                         "targets for each sample"):
        _small(LSTMRegressor, per_step=False).fit(ragged, [x[:, 0] for x in ragged])
    # a classifier has no outputs to confuse: (n, T) labels are per step, no warning
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        assert _small(LSTMClassifier, max_iter=1).fit(X, (Y > 0).astype(int)).per_step_


def test_early_stopping_validates_on_the_last_fraction():
    n, n_val, gap = 50, 10, 3
    X, y = _windows(n=n)
    kw = {"early_stopping": True, "validation_fraction": n_val / n,
          "validation_gap": gap, "n_iter_no_change": 100, "max_iter": 5,
          "scale_target": False}
    m = _small(LSTMRegressor, **kw).fit(X, y)
    assert m.n_iter_ == 5 and len(m.validation_scores_) == 5
    # regression: the lowest validation loss is the highest R^2, the kept epoch
    assert m.best_validation_score_ == max(m.validation_scores_)
    assert m.t_ == 5 * (n - n_val - gap)
    assert all(h["val_loss"] is not None for h in m.history_)
    # with the best weights restored the score on the tail is the best validation score
    np.testing.assert_allclose(m.score(X[-n_val:], y[-n_val:]), m.best_validation_score_,
                               rtol=1e-10)
    assert not np.isclose(m.score(X[:n_val], y[:n_val]), m.best_validation_score_)

    def changed(idx):
        y2 = y.copy()
        y2[idx] += 100.0
        return _small(LSTMRegressor, **kw).fit(X, y2)

    tail = changed(slice(n - n_val, n))       # training never saw it, validation did
    assert tail.loss_curve_ == m.loss_curve_
    assert max(tail.validation_scores_) < -100
    in_gap = changed(slice(n - n_val - gap, n - n_val))   # neither saw the gap
    assert in_gap.loss_curve_ == m.loss_curve_
    assert in_gap.validation_scores_ == m.validation_scores_
    last_train = changed(n - n_val - gap - 1)
    assert last_train.loss_curve_ != m.loss_curve_


def test_validation_tail_is_run_once_per_epoch(monkeypatch):
    # one forward-only pass gives both the validation loss and validation_scores_
    from tsbptt.engine import Network
    calls = {"predict": 0, "eval_forward": 0}
    predict, forward = Network.predict_outputs, Network.forward

    def counted_predict(self, *args, **kwargs):
        calls["predict"] += 1
        return predict(self, *args, **kwargs)

    def counted_forward(self, X, *args, **kwargs):
        calls["eval_forward"] += len(X) == 10  # the tail (training batches: 16, 16, 8)
        return forward(self, X, *args, **kwargs)

    monkeypatch.setattr(Network, "predict_outputs", counted_predict)
    monkeypatch.setattr(Network, "forward", counted_forward)
    X, y = _windows(n=50)
    m = _small(LSTMRegressor, early_stopping=True, validation_fraction=0.2,
               n_iter_no_change=100, max_iter=4, batch_size=16).fit(X, y)
    assert len(m.validation_scores_) == 4
    assert calls == {"predict": 4, "eval_forward": 0}
    # each score is the R^2 of that pass: the kept epoch's equals a fresh score
    kept = int(np.argmin([h["val_loss"] for h in m.history_]))
    assert m.best_validation_score_ == m.validation_scores_[kept]



def test_validation_scores_follow_warm_starts_that_switch_early_stopping():
    # they stayed None when a warm start switched early stopping on (its epochs
    # were validated and the best weights kept), and kept the previous call's
    # best score when one switched it off
    X, y = _windows(n=50)
    m = _small(LSTMRegressor, max_iter=2).fit(X, y)
    m.set_params(warm_start=True, early_stopping=True, n_iter_no_change=100, max_iter=3)
    m.fit(X, y)
    scores = list(m.validation_scores_)
    assert m.n_iter_ == 5 and len(scores) == 5
    assert np.isnan(scores[:2]).all() and np.isfinite(scores[2:]).all()
    kept = 2 + int(np.argmin([h["val_loss"] for h in m.history_[2:]]))
    assert m.best_validation_score_ == scores[kept]
    m.set_params(early_stopping=False, max_iter=2).fit(X, y)
    assert m.n_iter_ == 7
    np.testing.assert_array_equal(m.validation_scores_[:5], scores)
    assert np.isnan(m.validation_scores_[5:]).all() and len(m.validation_scores_) == 7
    assert m.best_validation_score_ is None  # the last call validated nothing

def test_early_stopping_classifier_scores_are_accuracies():
    X, _ = _windows(n=40)
    y = _labels(40)
    m = _small(GRUClassifier, early_stopping=True, validation_fraction=0.25,
               n_iter_no_change=100, max_iter=4).fit(X, y)
    assert len(m.validation_scores_) == 4
    assert all(s * 10 == round(s * 10) for s in m.validation_scores_)  # k / 10 samples
    # the score of the epoch early stopping keeps: the lowest validation loss
    kept = int(np.argmin([h["val_loss"] for h in m.history_]))
    assert m.best_validation_score_ == m.validation_scores_[kept]
    assert m.t_ == 4 * 30


def test_convergence_warning_when_max_iter_is_reached():
    X, y = _windows()
    with pytest.warns(ConvergenceWarning, match=r"max_iter \(3\) reached"):
        _small(LSTMRegressor, max_iter=3).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        # a huge tol: no epoch after the first counts as an improvement
        m = _small(LSTMRegressor, max_iter=5, tol=1e9, n_iter_no_change=1).fit(X, y)
    assert m.n_iter_ == 2 and m.history_[-1]["stopped"] == "converged"


@pytest.mark.parametrize("cls", [LSTMRegressor, RNNClassifier])
def test_warm_start_continues(cls):
    X, y = _windows()
    if cls in CLASSIFIERS:
        y = _labels(len(y))
    once = _small(cls, max_iter=6, tol=0.0).fit(X, y)
    warm = _small(cls, max_iter=3, tol=0.0, warm_start=True).fit(X, y)
    warm.fit(X, y)
    assert warm.n_iter_ == 6 and len(warm.loss_curve_) == 6 and warm.t_ == 6 * len(X)
    assert [h["epoch"] for h in warm.history_] == list(range(1, 7))
    # 3 + 3 epochs continue exactly where 3 left off: weights, optimizer, shuffling
    assert warm.loss_curve_ == once.loss_curve_ and _params_equal(warm, once)
    cold = _small(cls, max_iter=3, tol=0.0).fit(X, y)
    cold.fit(X, y)
    assert cold.n_iter_ == 3


def test_a_continued_fit_takes_the_optimizer_settings_as_set_now():
    # a warm start kept the optimizer it had: set_params(optimizer=, weight_decay=,
    # momentum=) between fits was silently ignored (learning_rate was not)
    X, y = _windows()
    m = _small(GRURegressor, max_iter=1, tol=0.0, warm_start=True).fit(X, y)
    adam = m._optimizer
    per_epoch = adam.t
    m.fit(X, y)  # nothing changed: the same optimizer, its moments carried on
    assert m._optimizer is adam and adam.t == 2 * per_epoch
    bad = X.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError):  # refused data: the optimizer and its moments stay
        m.set_params(optimizer="sgd").fit(bad, y)
    assert m._optimizer is adam
    m.set_params(early_stopping=True, validation_fraction=0.25)
    w = np.ones(len(y))
    w[-len(y) // 4:] = 0  # refused by the engine's own checks, before any update
    with pytest.raises(ValueError, match="no validation sample has a positive weight"):
        m.fit(X, y, sample_weight=w)
    assert m._optimizer is adam
    m.set_params(early_stopping=False)
    m.set_params(optimizer="sgd", momentum=0.5, weight_decay=0.1).fit(X, y)
    sgd = m._optimizer
    assert type(sgd).__name__ == "SGD" and (sgd.momentum, sgd.weight_decay) == (0.5, 0.1)
    assert sgd.t == per_epoch  # a new optimizer, one epoch old
    m.set_params(weight_decay=0.2).partial_fit(X, y)
    assert m._optimizer is not sgd and m._optimizer.weight_decay == 0.2


@pytest.mark.parametrize("cls", [GRURegressor, LSTMClassifier])
def test_partial_fit_is_one_epoch_per_call(cls):
    X, y = _windows()
    if cls in CLASSIFIERS:
        y = _labels(len(y))
    kw = {"classes": ["cat", "dog", "eel"]} if cls in CLASSIFIERS else {}
    m = _small(cls, tol=0.0)
    for i in range(3):
        assert m.partial_fit(X, y, **kw) is m
        assert m.n_iter_ == i + 1 and m.t_ == (i + 1) * len(X)
    full = _small(cls, max_iter=3, tol=0.0).fit(X, y)
    assert m.loss_curve_ == full.loss_curve_ and _params_equal(m, full)


def test_classifier_partial_fit_needs_classes_first():
    X, _ = _windows()
    y = _labels(len(X))
    m = _small(LSTMClassifier)
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        m.partial_fit(X, y)
    # classes may hold labels absent from the first batch
    m.partial_fit(X[:5], y[:5], classes=["cat", "dog", "eel", "fox"])
    np.testing.assert_array_equal(m.classes_, ["cat", "dog", "eel", "fox"])
    assert m.predict_proba(X).shape == (len(X), 4)
    m.partial_fit(X, y)
    assert m.n_iter_ == 2
    with pytest.raises(ValueError, match="labels not in classes"):
        m.partial_fit(X[:3], ["cat", "dog", "gnu"])


def test_a_continued_fit_refuses_a_changed_scaling_as_it_refuses_a_changed_shape():
    # set_params(scale_target=False) then a warm fit kept the old scaling, while
    # get_params said False
    X, y = _windows()
    for name in ("scale_target", "scale_inputs"):
        m = _small(LSTMRegressor, max_iter=1, warm_start=True).fit(X, 100 * y)
        scale = m.target_scale_.copy()
        m.set_params(**{name: False})
        for again in (m.fit, m.partial_fit):
            with pytest.raises(ValueError, match=f"{name}=False differs from the fitted "
                                                 f"network's {name}=True"):
                again(X, 100 * y)
        assert m.n_iter_ == 1 and np.array_equal(m.target_scale_, scale)
        m.set_params(warm_start=False).fit(X, 100 * y)  # a new fit takes it
        assert name != "scale_target" or np.all(m.target_scale_ == 1.0)


def test_a_warm_started_classifier_fit_needs_every_class_as_mlp_does():
    # a warm start is a whole fit: it trained on a subset of classes_ without a word,
    # where MLPClassifier refuses; partial_fit takes such a batch
    X, _ = _windows()
    y = _labels(len(X))
    m = _small(LSTMClassifier, max_iter=1, warm_start=True).fit(X, y)
    before = {k: v.copy() for k, v in m.network_.params.items()}
    few = y != "cat"
    with pytest.raises(ValueError, match=r"same classes as in the previous call to "
                       r"fit: y lacks \['cat'\] of classes_="):
        m.fit(X[few], y[few])
    assert all(np.array_equal(before[k], v) for k, v in m.network_.params.items())
    assert m.n_iter_ == 1
    m.partial_fit(X[few], y[few])  # a batch of some classes stays welcome
    assert m.n_iter_ == 2
    m.fit(X, y)
    assert m.n_iter_ == 3


# ---------------------------------------------------------------------------------------
# 4. scikit-learn tools
# ---------------------------------------------------------------------------------------
def test_clone_and_nested_params_in_a_pipeline():
    est = _small(LSTMRegressor, hidden_size=(4, 3), n_channels=2)
    c = clone(est)
    assert c is not est and c.get_params() == est.get_params()
    pipe = make_pipeline(StandardScaler(), est)
    params = pipe.get_params()
    assert params["lstmregressor__hidden_size"] == (4, 3)
    assert params["lstmregressor__n_channels"] == 2
    pipe.set_params(lstmregressor__hidden_size=5, lstmregressor__learning_rate=0.05)
    assert est.hidden_size == 5 and est.learning_rate == 0.05
    X, y = _windows()
    pipe.fit(X, y)
    assert not hasattr(clone(pipe)[-1], "network_")
    assert pipe[-1].network_.params["rnn.0.W"].shape[-1] == 4 * 5   # 4 gates x 5 units


@pytest.mark.parametrize("cls", ALL)
def test_pickle_and_joblib_round_trips(cls, tmp_path):
    X, y = _ragged()
    if cls in CLASSIFIERS:
        y = _labels(len(y))
    m = _small(cls).fit(X, y)
    method = "predict_proba" if cls in CLASSIFIERS else "predict"
    expected = getattr(m, method)(X)
    p = pickle.loads(pickle.dumps(m))
    joblib.dump(m, tmp_path / "m.joblib")
    j = joblib.load(tmp_path / "m.joblib")
    buf = io.BytesIO()
    joblib.dump(m, buf, compress=3)
    buf.seek(0)
    jc = joblib.load(buf)
    for loaded in (p, j, jc):
        np.testing.assert_array_equal(getattr(loaded, method)(X), expected)
        assert _params_equal(loaded, m)
    # a loaded model can keep training like the original
    m.partial_fit(X, y)
    p.partial_fit(X, y)
    assert _params_equal(m, p)


def test_pipeline_with_standard_scaler_on_2d_windows():
    X, y = _windows()
    pipe = Pipeline([("scale", StandardScaler()),
                     ("lstm", _small(LSTMRegressor, scale_inputs=False))]).fit(X, y)
    manual = _small(LSTMRegressor, scale_inputs=False).fit(
        StandardScaler().fit_transform(X), y)
    np.testing.assert_array_equal(pipe.predict(X),
                                  manual.predict(StandardScaler().fit(X).transform(X)))
    assert np.isfinite(pipe.score(X, y))


def test_transformed_target_regressor():
    X, y = _windows()
    y = np.abs(y)
    ttr = TransformedTargetRegressor(regressor=_small(GRURegressor), func=np.log1p,
                                     inverse_func=np.expm1).fit(X, y)
    inner = _small(GRURegressor).fit(X, np.log1p(y))
    np.testing.assert_allclose(ttr.predict(X), np.expm1(inner.predict(X)), rtol=1e-12)
    assert ttr.predict(X).shape == (len(X),)


def _series_windows(n=70, width=6):
    rng = np.random.default_rng(0)
    s = np.sin(np.arange(n + width) * 2 * np.pi / 12) + 0.1 * rng.standard_normal(n + width)
    X = np.lib.stride_tricks.sliding_window_view(s, width)[:n]
    return X, s[width:width + n]


@pytest.mark.slow  # starts joblib workers
def test_grid_search_time_series_split_n_jobs_1_and_2():
    X, y = _series_windows()
    grid = {"hidden_size": [4, 6], "learning_rate": [0.003, 0.03]}
    searches = []
    for n_jobs in (1, 2):
        gs = GridSearchCV(_small(LSTMRegressor, max_iter=8), grid,
                          cv=TimeSeriesSplit(n_splits=3, gap=2), n_jobs=n_jobs)
        searches.append(gs.fit(X, y))
    one, two = searches
    assert one.best_params_ == two.best_params_
    # thread counts differ (parent vs worker), the arithmetic does not
    np.testing.assert_array_equal(one.cv_results_["mean_test_score"],
                                  two.cv_results_["mean_test_score"])
    assert np.isfinite(one.cv_results_["mean_test_score"]).all()
    np.testing.assert_array_equal(one.predict(X), two.predict(X))


def test_openmp_threads_are_limited_in_joblib_workers(monkeypatch):
    # loky limits its workers' thread pools unless the user set OMP_NUM_THREADS
    # (an explicit choice it, and tsbptt, respect)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)

    def probe():
        from threadpoolctl import threadpool_info

        from tsbptt.engine._threads import resolve_n_threads as resolve
        return resolve(None), [i["num_threads"] for i in threadpool_info()
                               if i["user_api"] == "openmp"]

    def threads_scorer(estimator, X, y):
        from tsbptt.engine._threads import resolve_n_threads as resolve
        return float(resolve(None))

    # loky's limit for n_jobs workers: cpu_count // n_jobs (1 on a 2-core machine);
    # a serial build of tsbptt runs one thread whatever the limit
    limit = max(joblib.cpu_count() // 2, 1)
    expected = limit if openmp_enabled() else 1
    workers = joblib.Parallel(n_jobs=2)(joblib.delayed(probe)() for _ in range(4))
    for n, openmp in workers:
        assert n == expected
        assert openmp and all(t == limit for t in openmp)  # tsbptt's, sklearn's libgomp
    X, y = _series_windows(n=40)
    gs = GridSearchCV(_small(LSTMRegressor, max_iter=1), {"hidden_size": [4, 5]},
                      cv=TimeSeriesSplit(n_splits=2), scoring=threads_scorer, n_jobs=2)
    gs.fit(X, y)
    assert np.all(gs.cv_results_["mean_test_score"] == expected)
    if available_cores() >= 2:
        # the limit comes from the workers: this process may use every core (unless
        # OMP_NUM_THREADS was set before it started, which libgomp read at load)
        assert workers[0][0] < available_cores()


# ---------------------------------------------------------------------------------------
# 5. Bad input
# ---------------------------------------------------------------------------------------
def _nan_inf_cases():
    X, _ = _windows(n=6)
    X3, _ = _seq3d(n=6)
    seqs, _ = _ragged(n=6)
    for value, word in ((np.nan, "NaN"), (np.inf, "infinity"), (-np.inf, "infinity")):
        a = X.copy()
        a[2, 3] = value
        b = X3.copy()
        b[4, 1, 2] = value
        c = [s.copy() for s in seqs]
        c[3][0, 1] = value
        yield pytest.param(a, word, id=f"2d-{value}")
        yield pytest.param(b, word, id=f"3d-{value}")
        yield pytest.param(c, word, id=f"list-{value}")


@pytest.mark.parametrize("X, word", list(_nan_inf_cases()))
def test_nan_inf_in_X(X, word):
    y = np.arange(6.0)
    for m in (_small(LSTMRegressor), _small(GRUClassifier)):
        with pytest.raises(ValueError, match=f"Input .*contains {word}"):
            m.fit(X, y)
    # and at predict time
    Xok = [np.zeros_like(s) for s in X] if isinstance(X, list) else np.zeros_like(X)
    m = _small(LSTMRegressor).fit(Xok, y + np.arange(6.0) ** 2)
    with pytest.raises(ValueError, match=f"Input .*contains {word}"):
        m.predict(X)


@pytest.mark.parametrize("X", [np.empty((0, 5)), np.empty((0, 4, 3))], ids=["2d", "3d"])
def test_empty_X(X):
    with pytest.raises(ValueError, match=r"Found array with 0 sample\(s\)"):
        _small(LSTMRegressor).fit(X, [])


def test_1d_X():
    with pytest.raises(ValueError, match="Reshape your data"):
        _small(LSTMRegressor).fit(np.arange(10.0), np.arange(10.0))


def test_wrong_feature_count_at_predict():
    X, y = _windows(width=5)
    m = _small(LSTMRegressor).fit(X, y)
    with pytest.raises(ValueError, match="X has 3 features, but LSTMRegressor is "
                       "expecting 5 features as input"):
        m.predict(X[:, :3])
    X3, y3 = _seq3d(F=5)
    m3 = _small(GRUClassifier).fit(X3, y3 > 0)
    with pytest.raises(ValueError, match="X has 3 features, but GRUClassifier is "
                       "expecting 5 features as input"):
        m3.predict(X3[:, :, :3])
    with pytest.raises(ValueError, match="X has 3 features, but GRUClassifier is "
                       "expecting 5 features as input"):
        m3.predict([x[:, :3] for x in X3])


@pytest.mark.parametrize("cls", [LSTMRegressor, LSTMClassifier])
def test_y_none(cls):
    X, _ = _windows()
    with pytest.raises(ValueError, match="requires y to be passed|Expected array-like"):
        _small(cls).fit(X, None)


def test_continuous_y_to_a_classifier():
    X, y = _windows()
    with pytest.raises(ValueError, match="Unknown label type"):
        _small(RNNClassifier).fit(X, y)


@pytest.mark.parametrize("cls", [LSTMClassifier, ESNClassifier])
def test_labels_of_mixed_or_other_types_are_refused_by_what_they_hold(cls):
    # "Unknown label type: unknown", or a TypeError from NumPy's sort (None beside
    # strings), where the docstrings promised "any hashable values"
    X, _ = _windows()
    n = len(X)
    cases = [(np.array([1, "a"] * (n // 2), dtype=object), "['int', 'str']"),
             (np.array(["a", None] * (n // 2), dtype=object), "['NoneType', 'str']"),
             ([pd.Timestamp("2020"), pd.Timestamp("2021")] * (n // 2), "['Timestamp']")]
    est = cls(random_state=0) if cls is ESNClassifier else _small(cls)
    for y, types in cases:
        with pytest.raises(ValueError, match=re.escape(
                "Unknown label type: unknown. The labels must be numbers, booleans or "
                f"strings, all of one type; got values of the types {types}")):
            est.fit(X, y)
    assert not hasattr(est, "classes_")


def test_a_single_class():
    X, _ = _windows()
    with pytest.raises(ValueError, match="only one class"):
        _small(LSTMClassifier).fit(X, ["cat"] * len(X))
    # classes= naming one class is blamed, not the data (which held two)
    with pytest.raises(ValueError, match=r"but classes=\['cat'\] names only one class"):
        _small(LSTMClassifier).partial_fit(X, ["cat", "dog"] * (len(X) // 2), classes=["cat"])
    # a NaN label is named as y's, as scikit-learn names it
    with pytest.raises(ValueError, match="Input y contains NaN"):
        _small(LSTMClassifier).fit(X, np.where(np.arange(len(X)) % 2, 1.0, np.nan))


def test_inconsistent_feature_counts_in_a_list():
    seqs = [np.ones((3, 2)), np.ones((4, 3)), np.ones((2, 2))]
    with pytest.raises(ValueError, match=r"different numbers of features: \[2, 3\]"):
        _small(LSTMRegressor).fit(seqs, [1.0, 2.0, 3.0])


def test_a_list_sequence_with_zero_steps():
    seqs = [np.ones((3, 2)), np.ones((0, 2))]
    with pytest.raises(ValueError, match=r"X\[\d+\] has 0 time steps"):
        _small(LSTMRegressor).fit(seqs, [1.0, 2.0])
    with pytest.raises(ValueError, match="at least one time step"):
        _small(LSTMRegressor).fit(np.ones((2, 0, 2)), [1.0, 2.0])


def test_bptt_steps_larger_than_the_sequence():
    X, y = _windows(width=5)
    with pytest.raises(ValueError, match=r"bptt_steps=6 is larger than the sequences "
                       r"\(5 time steps\)"):
        _small(LSTMRegressor, bptt_steps=6).fit(X, y)
    X3, y3 = _seq3d(T=4)
    with pytest.raises(ValueError, match="bptt_steps=5 is larger"):
        _small(GRUClassifier, bptt_steps=5).fit(X3, y3 > 0)
    # equal is fine
    assert _small(LSTMRegressor, bptt_steps=5, max_iter=1).fit(X, y).n_iter_ == 1


def test_bptt_stride_larger_than_bptt_steps():
    X, y = _windows()
    with pytest.raises(ValueError, match="bptt_stride=3 needs bptt_steps >= it, got "
                       "bptt_steps=2"):
        _small(LSTMRegressor, bptt_steps=2, bptt_stride=3).fit(X, y)
    with pytest.raises(ValueError, match="bptt_stride=3 needs bptt_steps"):
        _small(LSTMRegressor, bptt_stride=3).fit(X, y)


def test_batch_size_zero():
    X, y = _windows()
    with pytest.raises(InvalidParameterError, match="The 'batch_size' parameter of "
                       r"LSTMRegressor must be an int in the range \[1, inf\). Got 0"):
        _small(LSTMRegressor, batch_size=0).fit(X, y)


@pytest.mark.parametrize("hidden_size", [(4, 0), (), 0, (4, -1)])
def test_bad_hidden_size(hidden_size):
    X, y = _windows()
    m = _small(LSTMRegressor, hidden_size=hidden_size)   # __init__ validates nothing
    assert m.hidden_size == hidden_size
    with pytest.raises(ValueError, match="'hidden_size' parameter of LSTMRegressor"):
        m.fit(X, y)


def test_predict_3d_on_a_2d_model_and_vice_versa():
    X, y = _windows(width=5)
    m2 = _small(LSTMRegressor).fit(X, y)
    with pytest.raises(ValueError, match="fitted on 2D windows"):
        m2.predict(X[:, :, None])
    with pytest.raises(ValueError, match="fitted on 2D windows"):
        m2.predict([x[:, None] for x in X])
    X3, y3 = _seq3d(F=5)
    m3 = _small(LSTMRegressor).fit(X3, y3)
    with pytest.raises(ValueError, match="fitted on sequences with 5 features"):
        m3.predict(X3[:, :, 0])



@pytest.mark.parametrize("make", [lambda: GRURegressor(4, max_iter=1),
                                  lambda: ESNRegressor(20)])
def test_unsupported_input_forms_are_refused_in_the_estimators_words(make):
    # NumPy's "inhomogeneous shape" and scikit-learn's "dim <= 2 is required" (though
    # 3D works) were all a user read
    rng = np.random.default_rng(0)
    ragged = [rng.standard_normal(n) for n in (3, 6, 4)]
    with pytest.raises(ValueError, match=r"X is a list of 1D sequences of different "
                                         r"lengths \(3 to 6\); give each sequence as a 2D "
                                         r"array \(n_steps_i, n_features\)"):
        make().fit(ragged, [0.0, 1.0, 2.0])
    with pytest.raises(ValueError, match=r"X has shape \(4, 3, 2, 1\) \(4 dimensions\); "
                                         r"give a 2D array of windows"):
        make().fit(rng.standard_normal((4, 3, 2, 1)), np.zeros(4))
    # the same sequences as 2D arrays are taken; equal-length 1D rows are a 2D table
    make().fit([x.reshape(-1, 1) for x in ragged], [0.0, 1.0, 2.0])
    make().fit([x[:3] for x in ragged], [0.0, 1.0, 2.0])
    assert make().__sklearn_tags__().input_tags.three_d_array


@pytest.mark.parametrize("cls", [LSTMRegressor, GRUClassifier])
def test_a_sparse_y_is_refused_as_scikit_learn_refuses_it(cls):
    # the regressors called a sparse y "not numeric, dtype object" (np.asarray made
    # it an object array); scikit-learn's estimators, and tsbptt's classifiers, say
    # sparse data is not taken
    import scipy.sparse as sp

    X = np.random.default_rng(0).standard_normal((12, 4))
    y = sp.csr_matrix(np.arange(12.0)[:, None] % 2)
    with pytest.raises(TypeError, match="Sparse data was passed .* dense data is required"):
        cls(4, max_iter=1).fit(X, y)
