"""Safe model files: round trips, damaged and tampered files, no pickle."""
import json
import zipfile

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError

from tsbptt import GRUClassifier, LSTMRegressor, RNNRegressor, load_model, save_model
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

    def meta_edit(key, value):
        def change(name, blob):
            if name != "meta.json.npy":
                return blob
            header_end = blob.index(b"\n") + 1
            meta = json.loads(blob[header_end:].decode())
            meta[key] = value
            body = json.dumps(meta).encode()
            arr = np.frombuffer(body, dtype=np.uint8)
            import io
            buf = io.BytesIO()
            np.save(buf, arr)
            return buf.getvalue()
        return change
    _rewrite(good, tmp_path / "future.npz", meta_edit("format_version", FORMAT_VERSION + 1))
    with pytest.raises(ValueError, match="has model format"):
        load_model(tmp_path / "future.npz")
    _rewrite(good, tmp_path / "class.npz", meta_edit("class", "os.system"))
    with pytest.raises(ValueError, match="unknown estimator class 'os.system'"):
        load_model(tmp_path / "class.npz")
    with pytest.raises(FileNotFoundError):
        load_model(tmp_path / "missing.npz")


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
