"""scikit-learn's own estimator checks on every tsbptt estimator."""
import pytest
from sklearn.utils.estimator_checks import (check_dataframe_column_names_consistency,
                                            check_inplace_ensure_writeable,
                                            check_param_validation,
                                            parametrize_with_checks)

from tsbptt import (GRUClassifier, GRURegressor, LSTMClassifier, LSTMRegressor,
                    RNNClassifier, RNNRegressor)

CLASSES = (LSTMRegressor, GRURegressor, RNNRegressor, LSTMClassifier, GRUClassifier,
           RNNClassifier)
# Small instances. float64 because some checks compare two fits to 1e-7 (weights
# against repeated samples), finer than float32's rounding; a learning rate of 0.01
# so that 100 epochs reach the checks' score thresholds on their tiny data sets.
ESTIMATORS = [cls(hidden_size=8, max_iter=100, learning_rate=0.01, dtype="float64",
                  random_state=0) for cls in CLASSES]
# An instance that trains with early stopping on a validation tail. (A regressor
# with early stopping is left out: check_regressors_train scores on the training set,
# and on its 200 random, structureless samples the validation loss is lowest after
# ~10 epochs, so the restored weights fit the training set with R^2 ~0.26 < 0.5.)
EARLY = [GRUClassifier(hidden_size=8, max_iter=100, learning_rate=0.01, dtype="float64",
                       early_stopping=True, random_state=0)]


def _expected_failures(estimator):
    if estimator.early_stopping:
        return {"check_sample_weight_equivalence_on_dense_data":
                "the validation tail is the last samples; repeating samples moves which "
                "samples fall in it, so weights cannot equal repetitions"}
    return {}


@parametrize_with_checks(ESTIMATORS + EARLY, expected_failed_checks=_expected_failures)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: type(e).__name__)
@pytest.mark.parametrize("check", [check_param_validation,
                                   check_dataframe_column_names_consistency,
                                   check_inplace_ensure_writeable])
def test_checks_that_check_estimator_leaves_out(estimator, check):
    check(type(estimator).__name__, estimator)
