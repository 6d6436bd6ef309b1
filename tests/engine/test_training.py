"""The training loop end to end: learning, truncation, clipping, stopping, safety."""

import re

import numpy as np
import pytest

from tsbptt.engine.diagnostics import gradient_flow
from tsbptt.engine.losses import MSE, Objective
from tsbptt.engine.network import Network
from tsbptt.engine.optimizers import SGD, Adam, bias_free_mask
from tsbptt.engine.schedules import Constant
from tsbptt.engine.trainer import TrainOptions, evaluate, train


def _fit(net, X, y, lr=0.01, opt_cls=Adam, seed=0, validation=None, **opts):
    params = net.params
    optimizer = opt_cls(list(params.values()), lr,
                        decay_masks=[bias_free_mask(k, v) for k, v in params.items()])
    lengths = np.full(X.shape[0], X.shape[1], dtype=np.intp)
    data = (np.ascontiguousarray(X), y, lengths, None)
    history = train(net, Objective(MSE()), optimizer, Constant(lr), data,
                    TrainOptions(**opts), validation=validation,
                    rng=np.random.RandomState(seed))
    return history, data


def _sine(n=600, T=24, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n + T + 1)
    s = np.sin(2 * np.pi * t / 17) + 0.1 * rng.standard_normal(t.size)
    X = np.stack([s[i:i + T] for i in range(n)])[..., None]
    y = s[T:T + n][:, None]
    return X, y


def test_lstm_learns_a_noisy_sine_well_below_the_mean_predictor():
    X, y = _sine()
    X_tr, y_tr, X_te, y_te = X[:500], y[:500], X[500:], y[500:]
    net = Network("lstm", 1, 16, 1, random_state=0)
    _fit(net, X_tr, y_tr, lr=0.01, batch_size=32, max_iter=30)
    pred = net.forward(X_te)[0]
    mse = np.mean((pred - y_te) ** 2)
    baseline = np.mean((y_te - y_tr.mean()) ** 2)
    assert mse < 0.1 * baseline, (mse, baseline)


def _recall_task(n, T, seed):
    """Remember the value shown at step 0 (flagged by a second channel) for T steps."""
    rng = np.random.default_rng(seed)
    values = rng.uniform(-1, 1, (n, T))
    flag = np.zeros((n, T))
    flag[:, 0] = 1
    return np.stack([values, flag], axis=2), values[:, :1]


def test_long_memory_needs_the_gradient_to_reach_back_far_enough():
    T = 20
    X, y = _recall_task(1000, T, seed=0)
    X_te, y_te = _recall_task(300, T, seed=1)
    baseline = np.mean((y_te - y.mean()) ** 2)
    results = {}
    for name, steps in (("full", None), ("truncated", 10)):
        net = Network("lstm", 2, 16, 1, random_state=0)
        _fit(net, X, y, lr=0.01, batch_size=32, max_iter=20, bptt_steps=steps)
        results[name] = np.mean((net.forward(X_te)[0] - y_te) ** 2) / baseline
    # full BPTT learns to carry the value 20 steps; TBPTT with k2 = 10 never sees
    # the step that matters, so it does no better than predicting the mean
    assert results["full"] < 0.05, results
    assert results["truncated"] > 0.9, results


def test_same_seed_gives_bitwise_identical_weights_for_any_thread_count(threads_for_any_work):
    X, y = _sine(200)
    weights = []
    for n_threads in (1, 2, 1):
        net = Network("gru", 1, 8, 1, dropout=0.1, random_state=3)
        _fit(net, X, y, batch_size=40, max_iter=3, n_threads=n_threads, seed=5)
        weights.append({k: v.copy() for k, v in net.params.items()})
    for w in weights[1:]:
        for k in w:
            np.testing.assert_array_equal(w[k], weights[0][k])


def test_clip_norm_bounds_every_applied_update():
    X, y = _sine(100)
    net = Network("rnn", 1, 8, 1, random_state=0)
    updates = []
    before = {k: v.copy() for k, v in net.params.items()}

    def record(_):
        pass

    class Spy(SGD):
        def step(self, grads, learning_rate=None):
            old = [p.copy() for p in self.params]
            super().step(grads, learning_rate)
            updates.append(np.sqrt(sum(np.sum((p - o) ** 2) for p, o in zip(self.params, old))))

    history, _ = _fit(net, X, y * 100, lr=1.0, opt_cls=Spy, batch_size=20, max_iter=2,
                      clip_norm=0.5, callback=record)
    assert len(updates) == 10
    assert max(updates) <= 0.5 * (1 + 1e-9)
    assert history[0]["clipped_norm"] > 0 and history[0]["grad_norm"] > 0.5
    assert any(not np.array_equal(before[k], net.params[k]) for k in before)


def test_history_records_each_epoch():
    X, y = _sine(120)
    net = Network("lstm", 1, 6, 1, random_state=0)
    history, data = _fit(net, X[:100], y[:100], batch_size=25, max_iter=3, clip_step=0.01,
                         validation=(X[100:], y[100:], np.full(20, 24, np.intp), None))
    assert [h["epoch"] for h in history] == [1, 2, 3]
    for h in history:
        assert h["n_updates"] == 4 and h["learning_rate"] == 0.01
        assert np.isfinite(h["train_loss"]) and np.isfinite(h["val_loss"])
        assert h["grad_norm_max"] >= h["grad_norm"] > 0 and h["wall_time"] > 0
        assert h["clipped_step"] > 0
    assert evaluate(net, Objective(MSE()), data) == pytest.approx(
        np.mean((net.forward(X[:100])[0] - y[:100]) ** 2))


def test_early_stopping_restores_the_best_validation_weights():
    X, y = _sine(200)
    net = Network("gru", 1, 8, 1, random_state=0)
    val = (X[150:], y[150:], np.full(50, 24, np.intp), None)
    snapshots = []
    history, _ = _fit(net, X[:150], y[:150], lr=0.05, batch_size=16, max_iter=15,
                      validation=val, early_stopping=True, n_iter_no_change=3, tol=0.0,
                      callback=lambda rec: snapshots.append(
                          {k: v.copy() for k, v in net.params.items()}))
    best = int(np.argmin([h["val_loss"] for h in history]))
    for k, v in net.params.items():
        np.testing.assert_array_equal(v, snapshots[best][k])


def test_non_finite_training_stops_with_finite_weights_and_a_warning():
    X, y = _sine(100)
    net = Network("rnn", 1, 8, 1, random_state=0)
    with pytest.warns(RuntimeWarning, match="lower learning_rate"), \
            np.errstate(over="ignore", invalid="ignore"):
        history, _ = _fit(net, X, y * 1e200, lr=1e10, opt_cls=SGD, batch_size=20,
                          max_iter=5)
    assert all(np.isfinite(v).all() for v in net.params.values())
    assert len(history) < 5


def test_keyboard_interrupt_leaves_a_usable_model():
    X, y = _sine(100)
    net = Network("lstm", 1, 8, 1, random_state=0)
    calls = []

    def interrupt(record):
        calls.append(record)
        if len(calls) == 2:
            raise KeyboardInterrupt

    with pytest.warns(RuntimeWarning, match="interrupted at epoch 2"):
        history, _ = _fit(net, X, y, batch_size=20, max_iter=5, callback=interrupt)
    assert len(history) == 2 and history[-1]["stopped"] == "interrupted"
    # interrupts inside an epoch's updates are caught too
    net2 = Network("lstm", 1, 8, 1, random_state=0)

    class Interrupting(Adam):
        n = 0

        def step(self, grads, learning_rate=None):
            Interrupting.n += 1
            if Interrupting.n == 7:
                raise KeyboardInterrupt
            super().step(grads, learning_rate)

    with pytest.warns(RuntimeWarning, match="interrupted"):
        history, _ = _fit(net2, X, y, opt_cls=Interrupting, batch_size=20, max_iter=5)
    assert history[-1]["stopped"] == "interrupted"
    assert np.isfinite(net2.forward(X)[0]).all()


def test_gradient_reaches_further_back_in_an_lstm_than_in_a_tanh_rnn():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((64, 60, 1))
    y = rng.standard_normal((64, 1))
    lengths = np.full(64, 60, dtype=np.intp)
    reach = {}
    for cell in ("rnn", "lstm"):
        net = Network(cell, 1, 32, 1, random_state=0)
        flow = gradient_flow(net, X, lengths, Objective(MSE()).batch_fn(net, y, lengths, None))
        assert flow["ratio"][0] == 1.0 and flow["steps_back"][-1] == 59
        reach[cell] = flow["ratio"]
    # per step back, the tanh RNN's gradient shrinks by a constant factor (about
    # 0.87 here); the LSTM's cell state carries it much further
    decay = {cell: r[59] / r[10] for cell, r in reach.items()}
    assert decay["rnn"] < 0.1 * decay["lstm"], decay
    assert reach["rnn"][59] < 0.1 * reach["lstm"][59]


def _long_series_peak(T, k):
    """Peak traced memory of one epoch of truncated BPTT over one T-step series."""
    import tracemalloc
    rng = np.random.default_rng(0)
    s = np.sin(np.arange(T + 1) / 7.0) + 0.1 * rng.standard_normal(T + 1)
    X, y = s[None, :-1, None].copy(), s[None, 1:, None].copy()
    net = Network("lstm", 1, 16, 1, many_to_many=True, random_state=0)
    params = net.params
    optimizer = Adam(list(params.values()), 0.01)
    data = (X, y, np.array([T], dtype=np.intp), None)
    tracemalloc.start()
    tracemalloc.reset_peak()
    history = train(net, Objective(MSE()), optimizer, Constant(0.01), data,
                    TrainOptions(batch_size=1, max_iter=1, bptt_steps=k),
                    rng=np.random.RandomState(0))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert history[0]["n_updates"] == -(-T // k)
    return peak


@pytest.mark.slow
def test_truncated_bptt_memory_does_not_grow_with_the_series_length():
    short, long_ = _long_series_peak(2_000, 32), _long_series_peak(40_000, 32)
    # 20 times the series, same memory: only one window of k2 steps is ever cached
    assert long_ < 1.2 * short, (short, long_)


def test_time_ordered_split_keeps_the_tail_for_validation():
    from tsbptt.engine import time_ordered_split
    tr, va = time_ordered_split(10, 0.3, gap=2)
    np.testing.assert_array_equal(tr, np.arange(5))
    np.testing.assert_array_equal(va, [7, 8, 9])
    with pytest.raises(ValueError, match="leave no training data"):
        time_ordered_split(4, 0.5, gap=2)
    with pytest.raises(ValueError, match=r"validation_fraction must be in \(0, 1\)"):
        time_ordered_split(10, 1.0)


def test_early_stopping_keeps_every_improvement_even_below_tol():
    X, y = _sine(200)
    net = Network("gru", 1, 8, 1, random_state=0)
    val = (X[150:], y[150:], np.full(50, 24, np.intp), None)
    snapshots = []
    history, _ = _fit(net, X[:150], y[:150], lr=0.02, batch_size=16, max_iter=6,
                      validation=val, early_stopping=True, n_iter_no_change=100,
                      tol=10.0, callback=lambda rec: snapshots.append(
                          {k: v.copy() for k, v in net.params.items()}))
    best = int(np.argmin([h["val_loss"] for h in history]))
    assert best > 0  # it improved after the first epoch, by less than tol
    for k, v in net.params.items():
        np.testing.assert_array_equal(v, snapshots[best][k])


def test_bad_options_are_refused_before_training():
    X, y = _sine(40)
    net = Network("lstm", 1, 4, 1, random_state=0)
    for opts, msg in [(dict(batch_size=0), "batch_size must be a positive integer"),
                      (dict(clip_norm=-1.0), "clip_norm must be a positive number"),
                      (dict(clip_value=0), "clip_value must be a positive number"),
                      (dict(clip_norm=True), "clip_norm must be a positive number or "
                                             "None, got True"),
                      (dict(shuffle="no"), "shuffle must be True or False, got 'no'"),
                      (dict(early_stopping=1), "early_stopping must be True or False"),
                      (dict(bptt_stride=3), "bptt_stride needs bptt_steps"),
                      (dict(bptt_steps=4, bptt_stride=5), r"bptt_stride \(5\) must not"),
                      (dict(bptt_steps=99), r"bptt_steps \(99\) is larger than"),
                      (dict(checkpoint_every=0), "checkpoint_every must be a positive"),
                      (dict(tol=-1), "tol must be a number >= 0")]:
        with pytest.raises(ValueError, match=msg):
            _fit(net, X, y, max_iter=1, **opts)
    lengths = np.full(40, 24, np.intp)
    lengths[0] = 10
    with pytest.raises(ValueError, match="needs sequences of equal length"):
        train(net, Objective(MSE()), Adam(list(net.params.values())), Constant(0.01),
              (X, y, lengths, None), TrainOptions(bptt_steps=8, max_iter=1))


def test_batches_without_weight_are_skipped_and_losses_do_not_depend_on_batching():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((6, 7, 1))
    y = rng.standard_normal((6, 7, 1))
    lengths = np.array([7, 3, 5, 7, 2, 6], dtype=np.intp)
    w = np.array([0.0, 0.0, 1.0, 2.0, 1.0, 0.5])
    net = Network("gru", 1, 4, 1, many_to_many=True, random_state=0)
    obj = Objective(MSE())
    data = (X, y, lengths, w)
    values = [evaluate(net, obj, data, batch_size=b) for b in (1, 2, 3, 6)]
    np.testing.assert_allclose(values, values[-1], rtol=1e-12)
    out = net.forward(X, lengths)[0]
    valid = np.arange(7)[None, :] < lengths[:, None]
    rows_w = np.broadcast_to(w[:, None], valid.shape)[valid]
    expected = np.sum(rows_w * ((out - y)[valid][:, 0] ** 2)) / rows_w.sum()
    assert values[-1] == pytest.approx(expected, rel=1e-12)
    history = train(net, obj, Adam(list(net.params.values())), Constant(0.01), data,
                    TrainOptions(batch_size=2, max_iter=1, shuffle=False),
                    rng=np.random.RandomState(0))
    assert history[0]["n_updates"] == 2  # the first batch has no weight


def test_a_minibatch_weighs_its_samples_against_the_whole_training_set():
    # Each batch's loss is sum(w * l) over its rows / (its rows * the set's mean row
    # weight): one epoch of plain SGD must be the batches' own weighted-mean
    # gradients, each scaled by its rows' mean relative weight. Normalised by its own
    # weight sum (before), a batch of light samples made a full-weight step.
    from tsbptt.engine.bptt import full_bptt
    rng = np.random.default_rng(0)
    X = rng.standard_normal((6, 7, 1))
    y = rng.standard_normal((6, 7, 1))
    lengths = np.array([7, 3, 5, 7, 2, 6], dtype=np.intp)
    w = np.array([0.0, 0.0, 1.0, 2.0, 0.01, 0.01])
    net = Network("gru", 1, 4, 1, many_to_many=True, random_state=0)
    ref = Network("gru", 1, 4, 1, many_to_many=True, random_state=0)
    obj, lr = Objective(MSE()), 0.1
    mean_row_weight = np.sum(w * lengths) / lengths.sum()
    losses = []
    for b in (slice(0, 2), slice(2, 4), slice(4, 6)):
        if not w[b].sum() > 0:
            losses.append(0.0)
            continue
        value, grads, _ = full_bptt(ref, X[b], lengths[b],
                                    obj.batch_fn(ref, y[b], lengths[b], w[b]))
        share = np.sum(w[b] * lengths[b]) / (lengths[b].sum() * mean_row_weight)
        for k, g in grads.items():
            ref.params[k][...] -= lr * share * g
        losses.append(value * share * lengths[b].sum())
    history = train(net, obj, SGD(list(net.params.values()), lr), Constant(lr),
                    (X, y, lengths, w), TrainOptions(batch_size=2, max_iter=1,
                                                     shuffle=False),
                    rng=np.random.RandomState(0))
    for k in net.params:
        np.testing.assert_allclose(net.params[k], ref.params[k], rtol=1e-12, atol=1e-15)
    assert history[0]["n_updates"] == 2
    # the epoch's loss: the weighted mean over every row, the weightless batch's too
    assert history[0]["train_loss"] == pytest.approx(sum(losses) / lengths.sum(),
                                                     rel=1e-12)


def test_sample_weights_count_whatever_the_batch_size():
    # identical inputs, so the fit can only learn the weighted mean of y; unshuffled
    # batches of 32 each hold one weight level, and normalised per batch (before)
    # the weights did not count at all (5.0 against 0.099)
    from tsbptt import GRURegressor
    X = np.ones((256, 4))
    y = np.r_[np.full(128, 10.0), np.zeros(128)]
    w = np.r_[np.full(128, 0.01), np.ones(128)]
    fit = GRURegressor(4, batch_size=32, shuffle=False, max_iter=80, learning_rate=1e-2,
                       tol=0, random_state=0).fit(X, y, sample_weight=w)
    assert fit.predict(X[:1])[0] == pytest.approx(np.average(y, weights=w), abs=0.05)


@pytest.mark.parametrize("gap", [-3, 2.5, True, "1"])
def test_time_ordered_split_refuses_a_gap_that_is_not_a_count(gap):
    # gap=-3 once gave training rows 0..10 of 10, overlapping the validation tail
    from tsbptt.engine import time_ordered_split
    with pytest.raises(ValueError, match=rf"gap must be an integer >= 0, got {gap!r}"):
        time_ordered_split(10, 0.2, gap=gap)


def _small_problem(many_to_many=False, n_out=1):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((8, 5, 2))
    y = rng.standard_normal((8, 5, n_out) if many_to_many else (8, n_out))
    net = Network("gru", 2, 4, n_out, many_to_many=many_to_many, random_state=0)
    return net, X, y


def _train_args(net, X, y, w=None):
    opt = Adam(list(net.params.values()), 0.01)
    return (net, Objective(MSE()), opt, Constant(0.01),
            (X, y, np.full(X.shape[0], X.shape[1], dtype=np.intp), w))


@pytest.mark.parametrize("many_to_many, n_out, bad_shape, expected", [
    (False, 1, (8, 2), r"\(8, 1\) or \(8,\)"),
    (False, 1, (5, 1), r"\(8, 1\) or \(8,\)"),
    (False, 2, (8,), r"\(8, 2\)"),
    (True, 1, (8, 1), r"\(8, 5, 1\) or \(8, 5\)"),
])
def test_train_refuses_targets_of_the_wrong_shape_before_any_update(
        many_to_many, n_out, bad_shape, expected):
    net, X, _ = _small_problem(many_to_many, n_out)
    before = {k: v.copy() for k, v in net.params.items()}
    y = np.zeros(bad_shape)
    with pytest.raises(ValueError, match=rf"y has shape {re.escape(str(bad_shape))}, "
                                         rf"expected {expected}"):
        train(*_train_args(net, X, y), TrainOptions(batch_size=4, max_iter=1))
    net2, X2, y2 = _small_problem(many_to_many, n_out)
    with pytest.raises(ValueError, match="the validation data's y has shape"):
        train(*_train_args(net2, X2, y2), TrainOptions(batch_size=4, max_iter=1),
              validation=(X2, y, np.full(8, 5, dtype=np.intp), None))
    for k, v in net.params.items():
        np.testing.assert_array_equal(v, before[k])


def test_zero_weights_are_refused_before_training_and_in_evaluate():
    net, X, y = _small_problem()
    before = {k: v.copy() for k, v in net.params.items()}
    lengths = np.full(8, 5, dtype=np.intp)
    with pytest.raises(ValueError, match="no training sample has a positive weight"):
        train(*_train_args(net, X, y, np.zeros(8)), TrainOptions(batch_size=4, max_iter=1))
    with pytest.raises(ValueError, match="no validation sample has a positive weight"):
        train(*_train_args(net, X, y), TrainOptions(batch_size=4, max_iter=1),
              validation=(X, y, lengths, np.zeros(8)))
    for k, v in net.params.items():  # refused before the first update
        np.testing.assert_array_equal(v, before[k])
    with pytest.raises(ValueError, match="no sample of data has a positive weight"):
        evaluate(net, Objective(MSE()), (X, y, lengths, np.zeros(8)))


def test_non_finite_validation_x_and_evaluate_data_are_refused_up_front():
    # the validation data's NaN came out of its first forward, after a whole
    # epoch of training, as "X contains NaN"; evaluate averaged a NaN target
    net, X, y = _small_problem()
    before = {k: v.copy() for k, v in net.params.items()}
    lengths = np.full(8, 5, dtype=np.intp)
    epochs = []
    bad_X = X.copy()
    bad_X[3, 2, 0] = np.inf
    with pytest.raises(ValueError, match="^the validation data's X contains NaN or "
                                         "infinity; every value must be finite"):
        train(*_train_args(net, X, y),
              TrainOptions(batch_size=4, max_iter=2, callback=epochs.append),
              validation=(bad_X, y, lengths, None))
    assert epochs == []
    for k, v in net.params.items():
        np.testing.assert_array_equal(v, before[k])
    bad_y = y.copy()
    bad_y[5] = np.nan
    with pytest.raises(ValueError, match=r"^y contains NaN or infinity \(sample 5\)"):
        evaluate(net, Objective(MSE()), (X, bad_y, lengths, None))
    with pytest.raises(ValueError, match="^X contains NaN or infinity"):
        evaluate(net, Objective(MSE()), (bad_X, y, lengths, None))
    # lengths of None read every sequence whole, as train does
    assert evaluate(net, Objective(MSE()), (X, y, None, None)) == \
        evaluate(net, Objective(MSE()), (X, y, np.full(8, X.shape[1]), None))


def test_early_stopping_on_a_zero_weight_tail_is_a_clear_error():
    # the estimators' validation tail of all-zero weights once raised a bare
    # ZeroDivisionError, after an epoch had changed the weights
    from tsbptt import GRURegressor
    rng = np.random.default_rng(0)
    X = rng.standard_normal((100, 8))
    w = np.ones(100)
    w[-15:] = 0
    est = GRURegressor(4, max_iter=2, early_stopping=True, validation_fraction=0.1,
                       random_state=0)
    with pytest.raises(ValueError, match="no validation sample has a positive weight"):
        est.fit(X, X[:, -1], sample_weight=w)


def test_a_diverging_fit_keeps_weights_whose_outputs_are_finite():
    # the update that failed was undone, but the weights it started from can be
    # finite and overflow the float32 outputs: once kept, they predicted inf
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 8, 1)).astype(np.float32)
    y = X[:, -1].copy()
    net = Network("rnn", 1, 32, 1, dtype="float32", random_state=0)
    start = {k: v.copy() for k, v in net.params.items()}
    with pytest.warns(RuntimeWarning, match="The weights of the best epoch so far "
                                            r"\(with no validation data, those it started "
                                            r"from; or this epoch's start\) were restored"):
        history, _ = _fit(net, X, y, lr=1e38, opt_cls=SGD, batch_size=64, max_iter=3)
    assert history[-1]["stopped"] == "non-finite" and len(history) == 1
    for k, v in start.items():  # diverged in the first epoch: its start is kept
        np.testing.assert_array_equal(net.params[k], v)
    assert np.isfinite(net.forward(X)[0]).all()


def test_a_fit_diverging_over_epochs_keeps_the_weights_its_best_loss_was_read_on():
    # without validation an epoch's loss is read along the way from its start: SGD at
    # learning_rate=100 had epoch losses of 8e82, 5e185, 1e294, then inf, and the
    # "best" epoch's end (|w| ~ 1e46, predictions ~ 1e44 on targets within 1.3) was
    # restored; the weights that loss was read from are that epoch's start
    from tsbptt import LSTMRegressor
    rng = np.random.default_rng(0)
    s = np.sin(np.arange(700) / 5) + 0.1 * rng.standard_normal(700)
    X = np.lib.stride_tricks.sliding_window_view(s[:-1], 24)[:600].copy()
    y = s[24:624]
    with pytest.warns(RuntimeWarning, match="Training stopped at epoch"):
        m = LSTMRegressor(8, max_iter=5, optimizer="sgd", learning_rate=100.0,
                          random_state=0, dtype="float64").fit(X, y)
    assert m.history_[-1]["stopped"] == "non-finite" and len(m.history_) > 2
    assert max(np.abs(v).max() for v in m.params_.values()) <= 1.0  # the initial scale
    assert np.abs(m.predict(X)).max() < 2 * np.abs(y).max()
    # early stopping with no validation data (the engine's train, partial_fit) once
    # put the best epoch's end back after the stop had chosen
    net = Network("lstm", 1, 8, 1, dtype="float64", random_state=0)
    start = {k: v.copy() for k, v in net.params.items()}
    with pytest.warns(RuntimeWarning, match="Training stopped at epoch"):
        history, _ = _fit(net, X[:, :, None], y, lr=100.0, opt_cls=SGD, batch_size=64,
                          max_iter=8, early_stopping=True, n_iter_no_change=100)
    assert history[-1]["stopped"] == "non-finite" and len(history) > 2
    for k, v in start.items():  # the best (first) epoch's start: the initial weights
        np.testing.assert_array_equal(net.params[k], v)


def test_batches_whose_caches_pass_the_memory_are_refused_before_any_update(monkeypatch):
    # a long batch once failed with NumPy's own MemoryError at the first forward (a
    # (64, 50000, 1) LSTM batch at H = 512 asked for 24 GiB), or swapped
    from tsbptt import LSTMRegressor
    from tsbptt.utils import _validation
    monkeypatch.setattr(_validation, "physical_memory", lambda: 16 * 2**20)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((64, 500, 1))
    y = X[:, -1].copy()
    net = Network("lstm", 1, 32, 1, random_state=0)
    before = {k: v.copy() for k, v in net.params.items()}
    # 64 * 500 * ((1 + 32 + 1) + 6 * 32) float64 values: xh, gates, cells, outputs
    with pytest.raises(ValueError, match=re.escape(
            "training on batches of 64 sequences of 500 steps (batch_size=64) needs "
            "0.0539 GiB for the caches of 500 steps at least, more than this machine's "
            "0.0156 GiB of memory; lower batch_size, or cache fewer steps with bptt_steps "
            "(truncated BPTT) or checkpoint_every")):
        train(*_train_args(net, X, y), TrainOptions(batch_size=64, max_iter=1))
    for k, v in net.params.items():
        np.testing.assert_array_equal(v, before[k])
    # the same batches, caching 50 steps at a time, fit in this memory
    for opts in (dict(bptt_steps=50), dict(checkpoint_every=50)):
        history = train(*_train_args(net, X, y), TrainOptions(batch_size=64, max_iter=1,
                                                              **opts))
        assert history[-1]["n_updates"] >= 1
    est = LSTMRegressor(32, batch_size=64, max_iter=1, random_state=0)
    with pytest.raises(ValueError, match=r"\(batch_size=64\) needs 0.0269 GiB"):  # float32
        est.fit(X, y)
    assert not hasattr(est, "network_")
    # a truncated many-to-many pass holds one window's outputs, not the series'
    # (all T steps were counted, refusing a long series whose windows fit)
    monkeypatch.setattr(_validation, "physical_memory", lambda: 2 * 2**20)
    long_x = rng.standard_normal((1, 200_000, 1))  # outputs: 3.2 MB; a window: 0.8 in all
    net = Network("rnn", 1, 2, 1, many_to_many=True, random_state=0)
    train(*_train_args(net, long_x, long_x.copy()), TrainOptions(batch_size=1, max_iter=1,
                                                                   bptt_steps=10_000))


def test_a_stride_within_windows_as_long_as_the_sequences_is_kept():
    # bptt_steps equal to the length once switched truncation off, stride and all:
    # one update per batch where bptt_stride=4 over 12 steps asks for three
    rng = np.random.default_rng(0)
    X = rng.standard_normal((4, 12, 2))
    y = rng.standard_normal((4, 12, 1))
    counts = {}
    for k2 in (12, 11):
        net = Network("rnn", 2, 3, 1, many_to_many=True, random_state=0)
        history = train(*_train_args(net, X, y),
                        TrainOptions(batch_size=4, max_iter=1, bptt_steps=k2, bptt_stride=4))
        counts[k2] = history[-1]["n_updates"]
    assert counts == {12: 3, 11: 3}
    # without a stride, bptt_steps as long as the sequences is full BPTT
    net = Network("rnn", 2, 3, 1, many_to_many=True, random_state=0)
    assert train(*_train_args(net, X, y), TrainOptions(
        batch_size=4, max_iter=1, bptt_steps=12))[-1]["n_updates"] == 1


def test_read_only_weights_are_refused_before_any_update():
    # a model loaded with joblib.load(mmap_mode='r') holds read-only weights: the
    # first update failed half-way and its undo raised "assignment destination is
    # read-only", hiding why
    net, X, y = _small_problem()
    for v in net.params.values():
        v.flags.writeable = False
    with pytest.raises(ValueError, match=r"the network's weights are read-only \(rnn\.0\.W, "
                                         r"e\.g\. a model loaded with joblib\.load"):
        train(*_train_args(net, X, y), TrainOptions(batch_size=4, max_iter=1))


def test_an_optimizer_of_other_parameters_is_refused():
    # built over another network's parameters, it updated arrays this network does
    # not read: every epoch's loss stayed the same, with no word
    net, X, y = _small_problem()
    other, _, _ = _small_problem()
    args = list(_train_args(net, X, y))
    args[2] = Adam(list(other.params.values()), 0.01)
    with pytest.raises(ValueError, match=r"the optimizer was not built on this network's "
                                         r"parameters: build it on list\(net\.params"):
        train(*args, TrainOptions(batch_size=4, max_iter=1))


def test_weights_that_overflow_per_step_are_refused():
    # the weights' own sum is finite, but weighed by each sequence's 3 steps it
    # overflows: every relative weight became 0, and training did nothing, silently
    rng = np.random.default_rng(0)
    X = rng.standard_normal((2, 3, 1))
    net = Network("gru", 1, 2, 1, many_to_many=True, random_state=0)
    with pytest.raises(ValueError, match="sample_weight times the sequences' valid steps "
                                         "overflows float64"):
        train(net, Objective(MSE()), Adam(list(net.params.values())), Constant(0.01),
              (X, rng.standard_normal((2, 3, 1)), np.full(2, 3, dtype=np.intp),
               np.array([8e307, 8e307])), TrainOptions(max_iter=1))


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_targets_are_refused_by_name_before_training(bad):
    # training y with NaN gave only "the loss is not finite"; validation y with NaN
    # a NaN val_loss every epoch and a silent "converged" without best weights
    net, X, y = _small_problem()
    before = {k: v.copy() for k, v in net.params.items()}
    y_bad = y.copy()
    y_bad[5] = bad
    with pytest.raises(ValueError, match=r"^y contains NaN or infinity \(sample 5\)"):
        train(*_train_args(net, X, y_bad), TrainOptions(batch_size=4, max_iter=1))
    with pytest.raises(ValueError, match=r"^the validation data's y contains NaN or "
                                         r"infinity \(sample 5\)"):
        train(*_train_args(net, X, y), TrainOptions(batch_size=4, max_iter=3,
                                                    early_stopping=True),
              validation=(X, y_bad, np.full(8, 5, dtype=np.intp), None))
    for k, v in net.params.items():
        np.testing.assert_array_equal(v, before[k])


def test_many_to_many_targets_past_a_sequence_end_are_not_read_so_may_be_nan():
    net, X, y = _small_problem(many_to_many=True)
    lengths = np.full(8, 5, dtype=np.intp)
    lengths[2] = 3
    X[2, 3:] = 0
    y[2, 3:] = np.nan  # padding: the loss never reads it
    opt = Adam(list(net.params.values()), 0.01)
    history = train(net, Objective(MSE()), opt, Constant(0.01), (X, y, lengths, None),
                    TrainOptions(batch_size=4, max_iter=1))
    assert np.isfinite(history[-1]["train_loss"])
    y[2, 2, 0] = np.nan  # within the sequence
    with pytest.raises(ValueError, match=r"y contains NaN or infinity \(sample 2\)"):
        train(net, Objective(MSE()), opt, Constant(0.01), (X, y, lengths, None),
              TrainOptions(batch_size=4, max_iter=1))


@pytest.mark.parametrize("shuffle", [False, True])
def test_bad_lengths_are_named_by_the_samples_own_index(shuffle):
    # checked per minibatch, the message named the place in a shuffled batch
    # ("lengths[2] = 9" for sample 5)
    net, X, y = _small_problem()
    lengths = np.full(8, 5, dtype=np.intp)
    lengths[5] = 9
    args = list(_train_args(net, X, y))
    with pytest.raises(ValueError, match=r"^lengths\[5\] = 9 is outside \[1, 5\]"):
        train(*args[:4], (X, y, lengths, None),
              TrainOptions(batch_size=4, max_iter=1, shuffle=shuffle))
    with pytest.raises(ValueError, match=r"^the validation data's lengths\[5\] = 9 is "
                                         r"outside \[1, 5\]"):
        train(*args, TrainOptions(batch_size=4, max_iter=1, shuffle=shuffle),
              validation=(X, y, lengths, None))


@pytest.mark.parametrize("w, msg", [
    (np.ones(7), r"^sample_weight must have shape \(8,\), got \(7,\)$"),
    (np.r_[1.0, np.nan, np.ones(6)], "^sample_weight must be finite and non-negative, "
                                     "got nan for sample 1$"),
    (np.r_[np.ones(7), np.inf], "^sample_weight must be finite and non-negative, "
                                "got inf for sample 7$"),
])
def test_sample_weights_are_checked_by_name_before_training(w, msg):
    # a wrong length gave a raw broadcast error, a NaN weight "no training sample
    # has a positive weight"
    net, X, y = _small_problem()
    before = {k: v.copy() for k, v in net.params.items()}
    with pytest.raises(ValueError, match=msg):
        train(*_train_args(net, X, y, w), TrainOptions(batch_size=4, max_iter=1))
    with pytest.raises(ValueError, match="^the validation data's " + msg[1:]):
        train(*_train_args(net, X, y), TrainOptions(batch_size=4, max_iter=1),
              validation=(X, y, np.full(8, 5, dtype=np.intp), w))
    for k, v in net.params.items():
        np.testing.assert_array_equal(v, before[k])


def test_quantile_outputs_that_do_not_fit_the_quantiles_are_refused():
    # output_size 4 for 3 quantiles passed check_targets (4 // 3 = 1 column), then
    # failed with a raw broadcast error in the loss
    from tsbptt.engine.losses import Quantile
    rng = np.random.default_rng(0)
    X = rng.standard_normal((8, 5, 2))
    net = Network("gru", 2, 3, 4, random_state=0)
    with pytest.raises(ValueError, match=r"^the network's output_size \(4\) must be a "
                                         r"multiple of the loss's 3 outputs per target"):
        train(net, Objective(Quantile((0.1, 0.5, 0.9))), Adam(list(net.params.values())),
              Constant(0.01), (X, np.zeros((8, 1)), np.full(8, 5, dtype=np.intp), None),
              TrainOptions(batch_size=4, max_iter=1))


def test_train_reads_lengths_and_weights_as_it_checked_them():
    # checked up front, then the originals were read: lengths=None ("every
    # sequence whole") failed inside the first epoch, lists failed as lists
    net, X, y = _small_problem()
    whole = Network("gru", 2, 4, 1, random_state=0)
    opts = TrainOptions(batch_size=4, max_iter=2, shuffle=False)
    a = train(*_train_args(whole, X, y, w=np.ones(8)), opts)
    opt = Adam(list(net.params.values()), 0.01)
    b = train(net, Objective(MSE()), opt, Constant(0.01), (X, y, None, [1.0] * 8), opts,
              validation=(X, y, [5] * 8, None))
    assert [h["train_loss"] for h in a] == [h["train_loss"] for h in b]
    for k, v in whole.params.items():
        np.testing.assert_array_equal(net.params[k], v)


def test_non_finite_targets_held_as_objects_are_refused_too():
    net, X, y = _small_problem()
    y_obj = y.astype(object)
    y_obj[3, 0] = np.nan
    with pytest.raises(ValueError, match=r"^y contains NaN or infinity \(sample 3\)"):
        train(*_train_args(net, X, y_obj), TrainOptions(batch_size=4, max_iter=1))
