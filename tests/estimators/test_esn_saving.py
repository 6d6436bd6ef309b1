"""Saving and loading echo-state networks: bitwise predictions after a round trip in
every mode, and damaged files refused by name."""
import numpy as np
import pytest

from tsbptt import ESNRegressor, load_model, save_model
from tsbptt.persistence import read_model_file, write_model_file

SMALL = dict(n_reservoir=70, random_state=0)  # > 64 units: a power-iteration radius


def _data(seed=0):
    rs = np.random.RandomState(seed)
    X = rs.randn(60, 12)
    return X, X[:, -3:].sum(1) + 0.1 * rs.randn(60), rs


def _fitted():
    X, y, rs = _data()
    X3 = X.reshape(60, 4, 3)
    lists = [X3[i, : 2 + i % 3] for i in range(60)]
    series = np.sin(np.arange(200) / 4)
    return [
        (ESNRegressor(**SMALL).fit(X, y), lambda e: e.predict(X)),
        (ESNRegressor(**SMALL, dtype="float64", state="mean", washout=1,
                      include_inputs=True).fit(X3, np.c_[y, -y]), lambda e: e.predict(X3)),
        (ESNRegressor(**SMALL, include_inputs=False).fit(lists, y),
         lambda e: e.predict(lists)),
        (ESNRegressor(**SMALL, washout=1, per_step=True).fit(X3, rs.randn(60, 4)),
         lambda e: e.predict_sequence(X3)[0]),
        (ESNRegressor(**SMALL, output_feedback=True, washout=10).fit_series(series),
         lambda e: np.r_[e.update_series(series[:5]), e.predict_series(7)]),
        (ESNRegressor(**SMALL, alpha=0.1).fit_series(series, X=np.c_[series, series ** 2]),
         lambda e: e.predict_series(X=np.c_[series[:4], series[:4] ** 2])),
    ]


@pytest.mark.parametrize("case", range(6))
def test_round_trip_predicts_the_same_bits(case, tmp_path):
    est, predict = _fitted()[case]
    path = tmp_path / "esn.npz"
    save_model(est, path)
    loaded = load_model(path)
    assert type(loaded) is ESNRegressor and loaded.get_params() == est.get_params()
    assert loaded.alpha_ == est.alpha_ and loaded.W_.dtype == est.W_.dtype
    assert (loaded.W_ != est.W_).nnz == 0
    want = predict(est)  # the stateful calls move the state: the copy moves alike
    got = predict(loaded)
    assert np.array_equal(got, want)
    if est.mode_ == "series":
        assert np.array_equal(loaded.reservoir_state_, est.reservoir_state_)


def _tampered(tmp_path, change):
    est, _ = _fitted()[0]
    save_model(est, tmp_path / "ok.npz")
    arrays, meta = read_model_file(tmp_path / "ok.npz", lambda n: True)
    meta = {k: v for k, v in meta.items() if k in ("class", "params", "fitted",
                                                    "feature_names_in_")}
    change(arrays, meta)
    write_model_file(tmp_path / "bad.npz", arrays, meta)
    return tmp_path / "bad.npz"


def _set(name, value):
    def change(arrays, meta):
        arrays[name] = value(arrays[name])
    return change


@pytest.mark.parametrize("change, message", [
    (_set("esn/W_indices", lambda a: a + 70), "CSR structure is damaged"),
    (_set("esn/W_in", lambda a: np.where(a == a.flat[0], np.nan, a)), "esn/W_in holds NaN"),
    (_set("esn/coef", lambda a: a[:, :-1]), "the arrays do not match a ESNRegressor"),
    (_set("esn/bias", lambda a: a.astype(np.float64)), "esn/bias is float64, expected "
                                                       "float32"),
    (_set("input_scale_", lambda a: -a), "input_scale_ holds a scale <= 0"),
    (lambda a, m: m["fitted"].update(mode_="stream"), "bad fitted value mode_"),
    (lambda a, m: m["fitted"].pop("n_steps_"), "lacks the fitted value n_steps_"),
    (lambda a, m: m["params"].update(n_reservoir=71), "the arrays do not match"),
    (lambda a, m: m["params"].update(leak_rate=2.0), "the saved parameters are not valid"),
])
def test_damaged_files_are_refused_by_name(tmp_path, change, message):
    with pytest.raises(ValueError, match=message):
        load_model(_tampered(tmp_path, change))


def test_unfitted_esn_is_refused_before_writing(tmp_path):
    from sklearn.exceptions import NotFittedError
    with pytest.raises(NotFittedError):
        save_model(ESNRegressor(), tmp_path / "m.npz")
    assert not (tmp_path / "m.npz").exists()
