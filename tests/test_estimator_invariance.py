"""A sample's prediction does not depend on the batch it is predicted in, bitwise."""
import numpy as np
import pytest

from tsbptt import GRUClassifier, LSTMRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_prediction_alone_equals_prediction_in_any_batch(dtype):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((150, 10))
    model = LSTMRegressor(8, max_iter=2, dtype=dtype, random_state=0).fit(X, X.sum(1))
    full = model.predict(X)
    alone = np.array([model.predict(X[i:i + 1])[0] for i in range(len(X))])
    np.testing.assert_array_equal(alone, full)
    np.testing.assert_array_equal(model.predict(X[37:101]), full[37:101])
    np.testing.assert_array_equal(model.predict(X[::-1]), full[::-1])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_ragged_sequences_alone_equal_the_batch(dtype):
    rng = np.random.default_rng(1)
    seqs = [rng.standard_normal((int(n), 2)) for n in rng.integers(3, 12, 40)]
    labels = np.array([s[:, 0].sum() > 0 for s in seqs])
    model = GRUClassifier(6, max_iter=2, dtype=dtype, random_state=0).fit(seqs, labels)
    batch = model.predict_proba(seqs)
    alone = np.vstack([model.predict_proba([s]) for s in seqs])
    np.testing.assert_array_equal(alone, batch)
