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


def test_per_step_targets_sequence_labelling():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 20, 1))
    Y = 0.3 * np.cumsum(X, axis=1)  # the running sum, at every step
    model = LSTMRegressor(16, max_iter=40, learning_rate=0.01, random_state=0)
    model.fit(X[:250], Y[:250])
    assert model.per_step_ and model.n_outputs_ == 1
    pred = model.predict(X[250:])
    assert pred.shape == (50, 20)
    assert model.score(X[250:], Y[250:]) > 0.95
    seqs = [rng.standard_normal((int(n), 1)) for n in rng.integers(5, 20, 200)]
    targets = [0.3 * np.cumsum(s[:, 0]) for s in seqs]
    model.fit(seqs[:150], targets[:150])
    out = model.predict(seqs[150:])
    assert [len(p) for p in out] == [len(s) for s in seqs[150:]]
    assert model.score(seqs[150:], targets[150:]) > 0.9
    with pytest.raises(ValueError, match="the targets of sequence 0 have shape"):
        model.fit(seqs[:3], [t[:-1] for t in targets[:3]])


def test_per_step_labels_sequence_classification():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 20, 1))
    labels = np.where(np.cumsum(X[..., 0], axis=1) > 0, "pos", "neg")
    model = GRUClassifier(16, max_iter=30, learning_rate=0.01, random_state=0)
    model.fit(X[:250], labels[:250])
    assert model.per_step_ and list(model.classes_) == ["neg", "pos"]
    assert model.predict(X[250:]).shape == (50, 20)
    proba = model.predict_proba(X[250:])
    assert proba.shape == (50, 20, 2)
    np.testing.assert_allclose(proba.sum(axis=-1), 1.0)
    assert model.score(X[250:], labels[250:]) > 0.95
    seqs = [rng.standard_normal((int(n), 1)) for n in rng.integers(5, 20, 200)]
    step_labels = [np.cumsum(s[:, 0]) > 0 for s in seqs]
    model.fit(seqs[:150], step_labels[:150])
    out = model.predict(seqs[150:])
    assert [len(p) for p in out] == [len(s) for s in seqs[150:]]
    assert model.score(seqs[150:], step_labels[150:]) > 0.95


def test_scaling_uses_the_training_part_only_and_conflicts_are_refused():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((100, 8))
    y = X.sum(axis=1)
    y_tail = y.copy()
    y_tail[90:] += 1000.0  # the validation tail, only
    kw = dict(max_iter=2, early_stopping=True, validation_fraction=0.1, random_state=0)
    a = LSTMRegressor(4, **kw).fit(X, y)
    b = LSTMRegressor(4, **kw).fit(X, y_tail)
    np.testing.assert_array_equal(a.target_mean_, b.target_mean_)
    np.testing.assert_array_equal(a.input_mean_, b.input_mean_)
    np.testing.assert_array_equal(a.loss_curve_, b.loss_curve_)
    with pytest.raises(ValueError, match=r"names 2 layers but num_layers=3"):
        LSTMRegressor((4, 4), num_layers=3, max_iter=1).fit(X, y)
    with pytest.raises(ValueError, match=r"X\[1\] has 0 time steps"):
        LSTMRegressor(4, max_iter=1).fit([X[:3, :2], X[:0, :2]], [1.0, 2.0])
    with pytest.raises(ValueError, match="X is an empty list"):
        LSTMRegressor(4, max_iter=1).fit([], [])


def test_keyboard_interrupt_during_fit_leaves_a_usable_model(monkeypatch):
    from tsbptt.engine import optimizers

    rng = np.random.default_rng(0)
    X = rng.standard_normal((120, 8))
    y = X.sum(axis=1)
    calls = {"n": 0}
    step = optimizers.Adam.step

    def interrupting_step(self, grads, learning_rate=None):
        calls["n"] += 1
        if calls["n"] == 9:  # in the third epoch
            raise KeyboardInterrupt
        step(self, grads, learning_rate)

    monkeypatch.setattr(optimizers.Adam, "step", interrupting_step)
    with pytest.warns(RuntimeWarning, match="interrupted"):
        model = LSTMRegressor(4, max_iter=10, batch_size=30, random_state=0).fit(X, y)
    assert model.history_[-1]["stopped"] == "interrupted"
    assert model.n_iter_ == 2 and len(model.loss_curve_) == 2  # the cut epoch: no
    assert np.isfinite(model.loss_) and np.isfinite(model.predict(X)).all()


def test_target_shapes_follow_one_rule():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 6, 2))
    kw = dict(max_iter=1, random_state=0)
    with pytest.warns(UserWarning, match="read as one target per time step"):
        assert LSTMRegressor(4, **kw).fit(X, rng.standard_normal((40, 6))).per_step_
    multi = LSTMRegressor(4, **kw).fit(X, rng.standard_normal((40, 3)))
    assert not multi.per_step_ and multi.predict(X).shape == (40, 3)
    assert not GRUClassifier(4, **kw).fit(X, (X[:, :1, 0] > 0)).per_step_  # a column
    seqs = [rng.standard_normal((int(n), 2)) for n in rng.integers(3, 9, 40)]
    nested = rng.standard_normal((40, 2)).tolist()  # two outputs, as nested lists
    assert LSTMRegressor(4, **kw).fit(seqs, nested).predict(seqs).shape == (40, 2)
    with pytest.raises(ValueError, match=r"the targets of sequence 0 have shape \(9, 1\)"):
        LSTMRegressor(4, **kw).fit(X, rng.standard_normal((40, 9, 1)))
    too_long = [np.zeros(len(s) + 1) for s in seqs]
    with pytest.raises(ValueError, match="the targets of sequence 0 have shape"):
        LSTMRegressor(4, **kw).fit(seqs, too_long)
    with pytest.raises(ValueError, match="the labels of sequence 0 have shape"):
        GRUClassifier(4, **kw).fit(seqs, [np.zeros(len(s) + 1) > 0 for s in seqs])


def test_weights_and_classes_are_checked_across_calls():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 5))
    w = np.zeros(40)
    w[-4:] = 1.0  # weight only in the validation tail
    with pytest.raises(ValueError, match="sample_weight is 0 for every training sample"):
        LSTMRegressor(4, max_iter=1, early_stopping=True).fit(X, X.sum(1), sample_weight=w)
    clf = GRUClassifier(4, random_state=0)
    clf.partial_fit(X, X[:, 0] > 0, classes=[False, True])
    with pytest.raises(ValueError, match="is not the same as classes_"):
        clf.partial_fit(X, X[:, 0] > 0, classes=[0, 1, 2])
    seqs = tuple(rng.standard_normal((int(n), 1)) for n in rng.integers(3, 9, 20))
    model = LSTMRegressor(4, max_iter=1, random_state=0).fit(
        seqs, tuple(np.cumsum(s[:, 0]) for s in seqs))
    out = model.predict(seqs)
    assert isinstance(out, list) and [len(o) for o in out] == [len(s) for s in seqs]
