"""ESNClassifier: a ridge classifier over the reservoir, against scikit-learn's
RidgeClassifier on the NumPy reservoir's states; input forms, saving, errors and
scikit-learn's estimator checks."""
import numpy as np
import pytest
from sklearn.linear_model import RidgeClassifier
from sklearn.utils.estimator_checks import (check_dataframe_column_names_consistency,
                                            check_param_validation,
                                            parametrize_with_checks)

from tsbptt import ESNClassifier, load_model, save_model
from tsbptt._kernels import reference

SMALL = dict(n_reservoir=40, dtype="float64", random_state=0)


def _windows(n=150, T=10, seed=0, k=3):
    rs = np.random.RandomState(seed)
    X = rs.randn(n, T)
    score = X[:, -4:].sum(1) - 0.5 * X[:, :3].sum(1)
    edges = np.quantile(score, np.linspace(0, 1, k + 1)[1:-1])
    return X, np.array(["a", "b", "c", "d"][:k])[np.searchsorted(edges, score)]


def _expected_failures(est):
    return {"check_sample_weight_equivalence_on_dense_data":
            "as ESNRegressor's: on the check's few rows GCV picks a tiny penalty and "
            "the solve is ill-conditioned (weights agree with repetitions to ~1e-5)"} \
        if est.alpha is ESNClassifier().alpha else {}


CHECKED = [ESNClassifier(n_reservoir=30, random_state=0),
           ESNClassifier(n_reservoir=60, alpha=1e-3, random_state=0)]


@parametrize_with_checks(CHECKED, expected_failed_checks=_expected_failures)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.mark.parametrize("check", [check_param_validation,
                                   check_dataframe_column_names_consistency])
def test_checks_that_check_estimator_leaves_out(check):
    check("ESNClassifier", ESNClassifier(n_reservoir=20, random_state=0))


@pytest.mark.parametrize("k", [2, 3])
def test_decisions_are_a_ridge_classifier_over_the_numpy_reservoir(k):
    X, y = _windows(k=k)
    w = np.random.RandomState(1).uniform(0.5, 2, len(y))
    clf = ESNClassifier(**SMALL, alpha=0.3, leak_rate=0.7, include_inputs=True).fit(
        X, y, sample_weight=w)
    U = ((X - clf.input_mean_) / clf.input_scale_)[:, :, None]  # weighted scaling
    assert clf.input_mean_[0] == pytest.approx(np.average(X.ravel(), weights=np.repeat(w, 10)))
    final = reference.esn_forward(U, clf.W_in_, clf.W_, clf.bias_, 0.7)[1]
    Phi = np.hstack([final, U[:, -1]])
    want = RidgeClassifier(alpha=0.3).fit(Phi, y, sample_weight=w)
    np.testing.assert_allclose(clf.decision_function(X), want.decision_function(Phi),
                               rtol=1e-8, atol=1e-8)
    assert np.array_equal(clf.predict(X), want.predict(Phi))
    assert list(clf.classes_) == list(want.classes_)
    assert clf.coef_.shape == (1 if k == 2 else k, 41)
    assert clf.score(X, y) > (0.8 if k == 2 else 0.6)  # chance: 0.5, 0.33


def test_input_forms_and_saving(tmp_path):
    X, y = _windows(k=3)
    X3 = X.reshape(len(X), 5, 2)
    lists = [X3[i, : 3 + i % 3] for i in range(len(X))]
    for data in (X, X3, lists):
        clf = ESNClassifier(n_reservoir=70, random_state=0).fit(data, y)
        save_model(clf, tmp_path / "c.npz")
        loaded = load_model(tmp_path / "c.npz")
        assert type(loaded) is ESNClassifier and list(loaded.classes_) == ["a", "b", "c"]
        assert np.array_equal(loaded.decision_function(data), clf.decision_function(data))
        assert np.array_equal(loaded.predict(data), clf.predict(data))


def test_bad_labels_and_settings_are_refused_by_name():
    X, y = _windows()
    with pytest.raises(ValueError, match="needs samples of at least 2 classes.*'a'"):
        ESNClassifier(**SMALL).fit(X, np.full(len(X), "a"))
    with pytest.raises(ValueError, match="Unknown label type"):
        ESNClassifier(**SMALL).fit(X, np.linspace(0, 1, len(X)))
    with pytest.raises(ValueError, match="y has 3 labels for 150 samples"):
        ESNClassifier(**SMALL).fit(X, y[:3])
    with pytest.raises(ValueError, match="output_feedback=True feeds the previous"):
        ESNClassifier(**SMALL, output_feedback=True).fit(X, y)
    with pytest.raises(ValueError, match="per_step=True: ESNClassifier labels whole "
                                         "sequences"):
        ESNClassifier(**SMALL, per_step=True).fit(X, y)
