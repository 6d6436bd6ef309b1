"""Safe model files: round trips, damaged and tampered files, no pickle."""
import io
import json
import zipfile

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError

from tsbptt import (ESNClassifier, GRUClassifier, LSTMRegressor, RNNRegressor, RTRLRegressor,
                    load_model, save_model)
from tsbptt.persistence import FORMAT_VERSION

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 12))
    y = np.column_stack([X[:, -3:].sum(axis=1), X[:, 0]])
    return X, y


def _fitted_regressor(data, **kw):
    X, y = data
    return LSTMRegressor(hidden_size=(6, 4), max_iter=3, random_state=0, **kw).fit(
        pd.DataFrame(X, columns=[f"lag{i}" for i in range(12)]), y)


def test_regressor_round_trip_is_bitwise(tmp_path, data):
    X, _ = data
    model = _fitted_regressor(data)
    path = tmp_path / "model.npz"
    model.save(path)
    loaded = LSTMRegressor.load(path)
    Xdf = pd.DataFrame(X, columns=model.feature_names_in_)
    np.testing.assert_array_equal(loaded.predict(Xdf), model.predict(Xdf))
    assert loaded.get_params() == model.get_params()
    assert list(loaded.feature_names_in_) == list(model.feature_names_in_)
    assert loaded.loss_curve_ == model.loss_curve_ and loaded.n_iter_ == model.n_iter_
    for k, v in model.network_.params.items():
        np.testing.assert_array_equal(loaded.network_.params[k], v)


def test_classifier_with_string_labels_round_trip(tmp_path, data):
    X, y = data
    labels = np.where(y[:, 0] > 0, "up", "down")
    model = GRUClassifier(hidden_size=5, max_iter=3, dtype="float64", random_state=0)
    model.fit(X.reshape(60, 6, 2), labels)
    save_model(model, tmp_path / "clf.npz")
    loaded = load_model(tmp_path / "clf.npz")
    assert isinstance(loaded, GRUClassifier)
    np.testing.assert_array_equal(loaded.classes_, model.classes_)
    np.testing.assert_array_equal(loaded.predict_proba(X.reshape(60, 6, 2)),
                                  model.predict_proba(X.reshape(60, 6, 2)))
    np.testing.assert_array_equal(loaded.predict(X.reshape(60, 6, 2)),
                                  model.predict(X.reshape(60, 6, 2)))


def _rewrite(path, out, change):
    """Copy a model file, letting ``change(name, bytes)`` alter its members."""
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            dst.writestr(item, change(item.filename, src.read(item.filename)))


def test_damaged_tampered_and_foreign_files_are_refused(tmp_path, data):
    model = _fitted_regressor(data)
    good = tmp_path / "good.npz"
    model.save(good)
    raw = good.read_bytes()
    (tmp_path / "truncated.npz").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(ValueError, match="damaged or truncated"):
        load_model(tmp_path / "truncated.npz")
    (tmp_path / "text.npz").write_text("hello")
    with pytest.raises(ValueError, match="not a readable tsbptt model file"):
        load_model(tmp_path / "text.npz")

    def flip_weight(name, blob):
        if name.startswith("param/"):
            b = bytearray(blob)
            b[-1] ^= 0x01
            return bytes(b)
        return blob
    _rewrite(good, tmp_path / "tampered.npz", flip_weight)
    with pytest.raises(ValueError, match="failed its checksum"):
        load_model(tmp_path / "tampered.npz")

    _rewrite(good, tmp_path / "future.npz", _meta_edit(good, "format_version",
                                                       FORMAT_VERSION + 1))
    with pytest.raises(ValueError, match="has model format"):
        load_model(tmp_path / "future.npz")
    # editing the metadata without re-signing it breaks the checksum
    _rewrite(good, tmp_path / "meta.npz", _meta_edit(good, "class", "GRURegressor",
                                                     resign=False))
    with pytest.raises(ValueError, match="failed its checksum"):
        load_model(tmp_path / "meta.npz")
    with pytest.raises(FileNotFoundError):
        load_model(tmp_path / "missing.npz")


def _meta_edit(good, key, value, resign=True):
    """A change for _rewrite that sets meta[key] (key 'a.b' for nested), optionally
    re-signing the file as a forger who knows the format would."""
    from tsbptt.persistence import _checksum

    with np.load(good) as npz:
        arrays = {k: npz[k] for k in npz.files if k != "meta.json"}

    def change(name, blob):
        if name != "meta.json.npy":
            return blob
        meta = json.loads(blob[blob.index(b"\n") + 1:].decode())
        target = meta
        *parents, last = key.split(".")
        for p in parents:
            target = target[p]
        target[last] = value
        if resign:
            meta["checksum"] = _checksum(arrays, meta)
        buf = io.BytesIO()
        np.save(buf, np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8))
        return buf.getvalue()
    return change


@pytest.mark.parametrize("key,value,message", [
    ("class", "os.system", "unknown estimator class 'os.system'"),
    ("params.learning_rate", -5, "saved parameters are not valid"),
    ("params.no_such_param", 1, "saved parameters are not valid"),
    ("params.hidden_size", 6000, "the arrays do not match"),
    ("fitted.predict", "gotcha", "bad fitted value predict"),
    ("fitted.n_features_in_", 20, "bad feature_names_in_"),
    ("fitted.input_kind_", "4d", "bad fitted value input_kind_"),
])
def test_forged_consistent_files_are_still_checked(tmp_path, data, key, value, message):
    good = tmp_path / "good.npz"
    _fitted_regressor(data).save(good)
    _rewrite(good, tmp_path / "forged.npz", _meta_edit(good, key, value))
    with pytest.raises(ValueError, match=message):
        load_model(tmp_path / "forged.npz")


def test_unknown_or_compressed_members_are_refused(tmp_path, data):
    good = tmp_path / "good.npz"
    _fitted_regressor(data).save(good)
    with zipfile.ZipFile(good, "a", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("bomb.npy", b"\0" * 1000)
    with pytest.raises(ValueError, match="unexpected member 'bomb.npy'"):
        load_model(good)


@pytest.mark.parametrize("labels", [False, True])
def test_per_step_and_channel_models_round_trip(tmp_path, labels):
    from tsbptt import GRUClassifier, LSTMRegressor
    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 6, 2))
    Y = np.cumsum(X[..., :1], axis=1)
    model = (GRUClassifier(4, max_iter=2, random_state=0).fit(X, Y[..., 0] > 0) if labels
             else LSTMRegressor(4, max_iter=2, random_state=0).fit(X, Y))
    model.save(tmp_path / "m.npz")
    loaded = load_model(tmp_path / "m.npz")
    assert loaded.per_step_ and loaded.predict(X).shape == (30, 6)
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    flat = LSTMRegressor(4, n_channels=2, max_iter=2, random_state=0).fit(
        X.reshape(30, 12), Y[:, -1, 0])
    flat.save(tmp_path / "flat.npz")
    again = load_model(tmp_path / "flat.npz")
    again.set_params(n_channels=1)  # the fitted n_channels_ is what predict uses
    np.testing.assert_array_equal(again.predict(X.reshape(30, 12)),
                                  flat.predict(X.reshape(30, 12)))


def test_loading_never_unpickles(tmp_path):
    evil = tmp_path / "evil.npz"
    np.savez(evil, **{"meta.json": np.array([{"x": 1}], dtype=object)})
    with pytest.raises(ValueError, match="damaged or truncated|allow_pickle"):
        load_model(evil)


def test_saving_needs_a_fitted_model_and_load_checks_the_class(tmp_path, data):
    with pytest.raises(NotFittedError):
        LSTMRegressor().save(tmp_path / "x.npz")
    _fitted_regressor(data).save(tmp_path / "m.npz")
    with pytest.raises(TypeError, match="holds a LSTMRegressor, not a RNNRegressor"):
        RNNRegressor.load(tmp_path / "m.npz")


def test_set_params_after_fit_does_not_change_the_fitted_network(tmp_path, data):
    # predict and save read the network's shape and the meaning of its outputs as
    # fitted: a later set_params once made predict return another quantile, and
    # save write a file whose parameters did not match its arrays
    X, y = data
    q = LSTMRegressor(4, loss="quantile", quantiles=(0.1, 0.5, 0.9), max_iter=2,
                      random_state=0).fit(X, y[:, 0])
    point, band = q.predict(X[:5]), q.predict_quantiles(X[:5])
    q.set_params(quantiles=(0.5, 0.7, 0.9, 0.95), hidden_size=8, loss="squared_error")
    np.testing.assert_array_equal(q.predict(X[:5]), point)
    np.testing.assert_array_equal(q.predict_quantiles(X[:5]), band)
    q.save(tmp_path / "q.npz")
    back = load_model(tmp_path / "q.npz")
    assert back.hidden_size == 4 and back.quantiles == (0.1, 0.5, 0.9)
    np.testing.assert_array_equal(back.predict_quantiles(X[:5]), band)
    # continuing the fitted network with another shape is refused, by name
    with pytest.raises(ValueError, match="hidden_size=8 differs from the fitted "
                                         "network's hidden_size=4"):
        q.partial_fit(X, y[:, 0])
    c = GRUClassifier(4, max_iter=1, warm_start=True, random_state=0).fit(X, y[:, 0] > 0)
    c.set_params(num_layers=2)
    with pytest.raises(ValueError, match="num_layers=2 differs"):
        c.fit(X, y[:, 0] > 0)
    # a fresh fit builds the network the parameters now describe
    q.set_params(quantiles=(0.1, 0.5, 0.9)).fit(X, y[:, 0])
    assert q.network_.params["head.W"].shape == (8, 1)
    c.set_params(warm_start=False).fit(X, y[:, 0] > 0)
    assert "rnn.1.W" in c.network_.params


def test_a_continued_fit_takes_a_new_dropout_and_refuses_a_new_dtype_or_n_channels(
        tmp_path, data):
    # a warm start or partial_fit once trained on with the dropout, dtype and
    # n_channels of the first fit, silently, whatever set_params said since
    X, y = data
    def warm(**changes):
        m = LSTMRegressor(4, max_iter=2, tol=0.0, warm_start=True, random_state=0)
        return m.fit(X, y[:, 0]).set_params(**changes).fit(X, y[:, 0])

    same, dropped = warm(), warm(dropout=0.5)
    assert dropped.network_.dropout == 0.5
    assert not np.array_equal(dropped.predict(X), same.predict(X))
    p = GRUClassifier(4, random_state=0).partial_fit(X, y[:, 0] > 0, classes=[False, True])
    with pytest.raises(ValueError, match="checkpoint_every applies to full BPTT"):
        p.set_params(dropout=0.25, bptt_steps=4, checkpoint_every=2).partial_fit(
            X, y[:, 0] > 0)  # refused by the trainer, before any update
    assert p.network_.dropout == 0.0
    p.set_params(bptt_steps=None, checkpoint_every=None).partial_fit(X, y[:, 0] > 0)
    assert p.network_.dropout == 0.25
    with pytest.raises(ValueError, match="dtype='float64' differs from the fitted "
                                         "network's dtype='float32'"):
        warm(dtype="float64")
    with pytest.raises(ValueError, match="n_channels=2 differs from the fitted "
                                         "network's n_channels=1"):
        warm(n_channels=2)
    # 3D sequences do not read n_channels; the file keeps the fitted dtype
    seq = LSTMRegressor(4, max_iter=1, warm_start=True, random_state=0).fit(
        X[:, :, None], y[:, 0])
    seq.set_params(n_channels=3).fit(X[:, :, None], y[:, 0])
    assert seq.n_iter_ == 2
    seq.set_params(dtype="float64").save(tmp_path / "s.npz")
    assert load_model(tmp_path / "s.npz").dtype == "float32"


@pytest.mark.parametrize("make", [lambda: LSTMRegressor(4, max_iter=1),
                                  lambda: GRUClassifier(4, max_iter=1)])
def test_negative_or_overflowing_sample_weights_are_named(make, data):
    # all-negative weights were once reported as "sample_weight is 0 for every
    # training sample", and weights of 1e308 as X spanning the float64 range
    X, y = data
    target = y[:, 0] > 0 if isinstance(make(), GRUClassifier) else y[:, 0]
    w = np.ones(len(X))
    w[7] = -0.5
    with pytest.raises(ValueError, match="sample_weight must be >= 0, got -0.5 for sample 7"):
        make().fit(X, target, sample_weight=w)
    with pytest.raises(ValueError, match="sample_weight must be >= 0, got -1.0 for sample 0"):
        make().fit(X, target, sample_weight=-np.ones(len(X)))
    with pytest.raises(ValueError, match=r"sample_weight sums to more than the float64 "
                                         r"range \(largest weight 1e\+308\)"):
        make().fit(X, target, sample_weight=np.full(len(X), 1e308))


def test_a_failed_cold_fit_leaves_the_estimator_as_it_was(data):
    # the trainer's checks run after the network is built: a refit they refused
    # once left fresh random weights under a model that passed check_is_fitted
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted
    X, y = data
    labels = y[:, 0] > 0
    m = GRUClassifier(4, max_iter=3, random_state=0).fit(X, labels)
    before = m.predict_proba(X)
    with pytest.raises(ValueError, match="checkpoint_every applies to full BPTT"):
        m.set_params(bptt_steps=4, checkpoint_every=2).fit(X, labels)
    np.testing.assert_array_equal(m.predict_proba(X), before)
    assert m.n_iter_ == 3
    ragged = [np.ones((5, 1)), np.ones((8, 1))] * 10
    fresh = GRUClassifier(4, bptt_steps=4, random_state=0)
    with pytest.raises(ValueError, match="truncated BPTT .* needs sequences of equal length"):
        fresh.fit(ragged, [0, 1] * 10)
    with pytest.raises(NotFittedError):
        check_is_fitted(fresh)
    reg = LSTMRegressor(4, max_iter=1, random_state=0)
    w = np.ones(len(X))
    w[-12:] = 0  # the validation tail has no weight
    with pytest.raises(ValueError, match="no validation sample has a positive weight"):
        reg.set_params(early_stopping=True).fit(X, y[:, 0], sample_weight=w)
    with pytest.raises(NotFittedError):
        check_is_fitted(reg)


class _Stdout:
    """A stdout whose writes raise ``error`` after ``n`` of them."""

    def __init__(self, n, error):
        self.n, self.error = n, error

    def write(self, text):
        self.n -= 1
        if self.n < 0:
            raise self.error
        return len(text)

    def flush(self):
        pass

    def isatty(self):
        return False


def test_a_continued_fit_cut_short_records_the_epochs_its_weights_had(data, monkeypatch):
    # a broken pipe in the progress line (`script.py | head`) ended a warm start with
    # the weights 3 epochs on and n_iter_, loss_curve_ and history_ where they were;
    # a Ctrl-C in the progress line counted an epoch whose weights were undone, and
    # the optimizer kept the moments of the undone updates
    import sys
    X, y = data
    def warm(**kw):
        return GRUClassifier(4, max_iter=2, tol=0.0, random_state=0).fit(
            X, y[:, 0] > 0).set_params(warm_start=True, **kw)

    cut = warm(max_iter=5, verbose=2)
    monkeypatch.setattr(sys, "stdout", _Stdout(3, BrokenPipeError(32, "Broken pipe")))
    with pytest.raises(BrokenPipeError):
        cut.fit(X, y[:, 0] > 0)
    monkeypatch.undo()
    assert cut.n_iter_ == len(cut.loss_curve_) == len(cut.history_) > 2
    clean = warm(max_iter=cut.n_iter_ - 2).fit(X, y[:, 0] > 0)
    for k, v in clean.params_.items():
        np.testing.assert_array_equal(cut.params_[k], v, err_msg=k)
    assert cut._optimizer.t == clean._optimizer.t
    np.testing.assert_array_equal(cut.predict_proba(X), clean.predict_proba(X))

    m = LSTMRegressor(4, random_state=0).partial_fit(X, y[:, 0])
    before, t = {k: v.copy() for k, v in m.params_.items()}, m._optimizer.t
    monkeypatch.setattr(sys, "stdout", _Stdout(0, KeyboardInterrupt()))
    with pytest.warns(RuntimeWarning, match="Training interrupted at epoch 2"):
        m.set_params(verbose=2).partial_fit(X, y[:, 0])
    monkeypatch.undo()
    assert m.n_iter_ == len(m.loss_curve_) == 1 and m.history_[-1]["stopped"] == "interrupted"
    assert m._optimizer.t == t
    for k, v in before.items():
        np.testing.assert_array_equal(m.params_[k], v, err_msg=k)


def test_loss_is_nan_when_no_epoch_completed_and_survives_a_round_trip(tmp_path):
    # a fit stopped in its first epoch (here a diverging one; Ctrl-C alike) once had
    # no loss_ at all, an attribute the docs list
    rng = np.random.RandomState(0)
    X = rng.standard_normal((200, 8))
    with pytest.warns(RuntimeWarning, match="Training stopped at epoch 1"):
        m = LSTMRegressor(8, optimizer="sgd", learning_rate=1e38, max_iter=3, batch_size=64,
                          dtype="float32", random_state=0).fit(X, X[:, 0])
    assert m.n_iter_ == 0 and np.isnan(m.loss_) and m.loss_curve_ == []
    m.save(tmp_path / "m.npz")
    assert np.isnan(load_model(tmp_path / "m.npz").loss_)


def test_a_classifier_file_without_its_classes_is_refused_naming_it(tmp_path, data):
    # an AttributeError about _network_outputs once
    from tsbptt.persistence import read_model_file, write_model_file
    X, y = data
    GRUClassifier(4, max_iter=1).fit(X, y[:, 0] > 0).save(tmp_path / "c.npz")
    arrays, meta = read_model_file(tmp_path / "c.npz", lambda n: True)
    for k in ("format", "format_version", "tsbptt_version", "checksum"):
        meta.pop(k)
    arrays.pop("classes_")
    write_model_file(tmp_path / "edited.npz", arrays, meta)
    with pytest.raises(ValueError, match="edited.npz': a GRUClassifier file without its "
                                         "classes_"):
        load_model(tmp_path / "edited.npz")


def test_the_architecture_check_reads_shapes_not_spellings(data):
    # a list or a tuple of the same sizes is the same network, a point loss may
    # change under warm start, and predict_sequence reads the fitted direction
    X, y = data
    m = LSTMRegressor(hidden_size=(4, 3), max_iter=1, warm_start=True,
                      random_state=0).fit(X, y[:, 0])
    m.set_params(hidden_size=[4, 3], loss="huber").fit(X, y[:, 0])
    assert m.n_iter_ == 2 and m._fitted_param("loss") == "huber"
    quantiles = [0.1, 0.5, 0.9]
    q = LSTMRegressor(4, loss="quantile", quantiles=quantiles, max_iter=1,
                      random_state=0).fit(X, y[:, 0])
    band = q.predict_quantiles(X[:3])
    quantiles[1] = 0.6  # the caller's list, changed in place after fit
    np.testing.assert_array_equal(q.predict(X[:3]), band[:, 1])
    seq = LSTMRegressor(4, max_iter=1, random_state=0, per_step=True).fit(
        X[:, :, None], np.repeat(y[:, :1], 12, axis=1))
    out, _ = seq.predict_sequence(X[:2, :, None])
    seq.set_params(bidirectional=True)
    np.testing.assert_array_equal(seq.predict_sequence(X[:2, :, None])[0], out)


@pytest.mark.parametrize("make, method", [
    (lambda: LSTMRegressor(4, max_iter=2, random_state=0), "predict"),
    (lambda: GRUClassifier(4, max_iter=2, random_state=0), "predict_proba"),
    (lambda: RTRLRegressor(hidden_size=3, random_state=0), "predict"),
], ids=["regressor", "classifier", "rtrl"])
def test_a_model_copied_by_joblib_keeps_learning_as_the_original(make, method):
    # joblib writes each array apart: the optimizer came back holding copies of the
    # weights, so partial_fit and warm starts updated arrays predict never read
    import joblib
    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 5))
    y = X[:, -1] if method == "predict" else (X[:, -1] > 0).astype(int)
    est = make().fit(X, y)
    buf = io.BytesIO()
    joblib.dump(est, buf)
    buf.seek(0)
    copy = joblib.load(buf)
    before = getattr(copy, method)(X)
    for model in (est, copy):
        model.partial_fit(X, y)
    after = getattr(copy, method)(X)
    assert not np.array_equal(after, before)
    np.testing.assert_array_equal(after, getattr(est, method)(X))


def test_numpy_scalar_parameters_are_saved_as_their_values(tmp_path):
    # np.bool_ parameters (accepted by the parameter checks) failed the save with a
    # JSON TypeError, and an np.int64 random_state was written as None
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((20, 4, 1)), rng.standard_normal(20)
    est = LSTMRegressor(3, bidirectional=np.True_, max_iter=1,
                        random_state=np.int64(7)).fit(X, y)
    save_model(est, tmp_path / "m.npz")
    back = load_model(tmp_path / "m.npz")
    assert back.bidirectional is True and back.random_state == 7
    np.testing.assert_array_equal(back.predict(X), est.predict(X))


@pytest.mark.parametrize("make", [lambda: GRUClassifier(3, max_iter=1, random_state=0),
                                  lambda: ESNClassifier(10, random_state=0)])
def test_object_string_labels_come_back_as_objects(make, tmp_path):
    # written as fixed-width strings, they came back so: predictions of dtype <U4,
    # into which a longer label was silently truncated
    rng = np.random.default_rng(0)
    X = rng.standard_normal((30, 4, 1))
    labels = np.array(["cat", "dog", "bird"], dtype=object)[np.arange(30) % 3]
    est = make().fit(X, labels)
    save_model(est, tmp_path / "m.npz")
    back = load_model(tmp_path / "m.npz")
    assert back.classes_.dtype == object and back.predict(X).dtype == object
    np.testing.assert_array_equal(back.predict(X), est.predict(X))
    pred = back.predict(X)
    pred[0] = "elephant"
    assert pred[0] == "elephant"
    plain = make().fit(X, labels.astype(str))  # fixed-width labels stay so
    save_model(plain, tmp_path / "p.npz")
    assert load_model(tmp_path / "p.npz").classes_.dtype.kind == "U"


def test_a_users_subclass_is_refused_at_save_not_at_load(tmp_path):
    # load_model rebuilds tsbptt's classes by name: a subclass's file was written
    # and then refused ("unknown estimator class 'MyLSTM'")
    class MyLSTM(LSTMRegressor):
        pass

    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((10, 3, 1)), rng.standard_normal(10)
    with pytest.raises(TypeError, match="MyLSTM is a subclass of LSTMRegressor: save a "
                                        "LSTMRegressor with its parameters, or pickle it"):
        save_model(MyLSTM(2, max_iter=1).fit(X, y), tmp_path / "m.npz")
    assert not (tmp_path / "m.npz").exists()
    from tsbptt.estimators._state import MODEL_CLASSES
    assert "ESNState" not in MODEL_CLASSES and "MyLSTM" not in MODEL_CLASSES
